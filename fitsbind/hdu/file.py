"""The open file behind a drop-in :class:`~fitsbind.HDUList`.

:class:`HDUFile` owns the direct-tier handle (``fitsbind.direct.FITS``) and, when memory
mapping is on, one ``numpy.memmap`` of the whole file from which every HDU's ``.data`` is a
view. astropy's mode names map onto the handle and the mapping as follows:

============  ===============  ================================================
mode          handle           memory map
============  ===============  ================================================
readonly      read-only        copy-on-write (arrays writable, file untouched)
denywrite     read-only        read-only (arrays not writable)
update        read-write from  shared (assignments reach the file)
              the first write
append        read-write from  copy-on-write
              the first write
ostream       created on       none (the file is written by flush)
              first flush
============  ===============  ================================================

Locating HDUs. CFITSIO finds each HDU of a valid file (:meth:`HDUFile.locate`). Files astropy
opens are not all valid, and CFITSIO refuses some of them (a header without END, the second
keyword not BITPIX, ...) or places an HDU's end elsewhere than astropy does (a heap after a
THEAP gap). For those, the HDUs are located here by astropy's rules: a header is read block
by block up to its END card (:meth:`HDUFile._scan`), and the data unit's size follows from
the header (:func:`data_size`). Every HDU's extent is computed by that one function and an
HDU stays *native* (CFITSIO's handle may work on it) only while CFITSIO places it exactly
where it is found here. Data of other HDUs is read from the memory map or with plain reads.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import math
import os
import re
import shutil
import tempfile
import threading
import warnings
import weakref
import zipfile
import zlib
from typing import Any, BinaryIO, Callable

import numpy as np

from fitsbind import checksum as _checksum
from fitsbind._lifetime import close_forgotten
from fitsbind.direct import FITS, data_unit_size
from fitsbind.errors import FITSError, FITSValueError
from fitsbind.header import Header
from fitsbind.verify import FITSUserWarning, VerifyError, VerifyWarning

MODES = ("readonly", "update", "append", "denywrite", "ostream", "copyonwrite")
_MAP_MODE = {"readonly": "c", "copyonwrite": "c", "denywrite": "r", "update": "r+",
             "append": "c"}
WRITABLE_MODES = ("update", "append", "ostream")
BLOCK = _checksum.BLOCK

# the END card: "END" at the start of a record, then blanks up to the end of the record or
# up to a character no keyword holds (astropy's rule, which accepts a damaged END card)
_END_RECORD = re.compile(rb"END(?: {77}| {0,76}[^A-Z0-9_\-])")
_PRINTABLE = bytes(range(0x20, 0x7F))
_CLEAN_END = b"END" + b" " * 77
_SIGNATURE = b"SIMPLE  =" + b" " * 20      # the first card's fixed format, up to its value
_CHUNK = BLOCK * 4096            # bytes summed at a time for a data checksum
_MAX_OFFSET = (1 << 63) - 1      # the largest file offset (off_t)


class TruncatedDataError(FITSError, TypeError, ValueError):
    """An HDU's data runs past the end of the file (the file was probably truncated).

    astropy raises ``TypeError`` here with memory mapping and ``ValueError`` without: this
    class is both, and a :class:`~fitsbind.FITSError` since the file is malformed."""


# what Python's decompressors raise on a damaged stream, besides an OSError without errno
# (gzip.BadGzipFile for a bad header or CRC, bz2's "Invalid data stream"): a truncated
# stream (EOFError), corrupt deflate or xz data (zlib.error, lzma.LZMAError), a bad archive
_DECOMPRESSION_ERRORS = (EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)


def _unpacker(opener: Callable[..., Any]) -> Callable[[str, BinaryIO], None]:
    def unpack(path: str, out: BinaryIO) -> None:
        with opener(path, "rb") as source:
            shutil.copyfileobj(source, out, 1 << 24)
    return unpack


def _decompress(unpack: Callable[[str, BinaryIO], None], path: str, out: BinaryIO) -> None:
    """Run ``unpack``; a damaged compressed stream raises FITSError naming the file (the
    decompressors' own exceptions say nothing of which file, or that it is a FITS file)."""
    try:
        unpack(path, out)
    except OSError as exc:
        # an errno is the operating system's error (e.g. a full disk for the copy), not the
        # stream's
        if exc.errno is not None or isinstance(exc, FITSError):
            raise
        raise _damaged(path, exc) from exc
    except _DECOMPRESSION_ERRORS as exc:
        raise _damaged(path, exc) from exc


def _damaged(path: str, exc: BaseException) -> FITSError:
    return FITSError(f"{path}: the compressed file is damaged and cannot be decompressed: "
                     f"{exc}", filename=path)


def _unpack_zip(path: str, out: BinaryIO) -> None:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if len(names) != 1:
            raise FITSError(f"{path}: a zipped FITS file must hold one file, not {len(names)}",
                            filename=path)
        with archive.open(names[0]) as member:
            shutil.copyfileobj(member, out, 1 << 24)


# compressed files CFITSIO reads: (leading bytes, how Python decompresses them into a binary
# file; None when it cannot, so such a file is read through CFITSIO only)
_COMPRESSIONS: tuple[tuple[bytes, Callable[[str, BinaryIO], None] | None], ...] = (
    (b"\x1f\x8b", _unpacker(gzip.open)),
    (b"BZh", _unpacker(bz2.open)),
    (b"\xfd7zXZ\x00", _unpacker(lzma.open)),
    (b"PK\x03\x04", _unpack_zip),
    (b"\x1f\x9d", None),
)


def data_size(header: Header) -> int | None:
    """Bytes in the data unit ``header`` describes, padding excluded, by astropy's rules:
    |BITPIX|/8 x GCOUNT x (PCOUNT + NAXIS1 x ... x NAXISn), with NAXIS1 left out for random
    groups (SIMPLE first, GROUPS = T), and 0 when NAXIS is 0. None for a non-standard
    primary HDU (SIMPLE = F) and one whose SIMPLE or GROUPS card cannot be parsed: their
    data runs to the end of the file.

    A missing keyword the size needs raises KeyError, a non-integer value TypeError; a
    negative size counts as 0.
    """
    first = header.cards[0] if len(header) else None
    try:
        primary = first is not None and first.keyword == "SIMPLE"
        if primary and first.value is False:
            return None
        groups = primary and header.get("GROUPS") is True
    except VerifyError:
        # astropy cannot tell what such an HDU is (a corrupted one): its data runs to the end
        return None
    return data_unit_size(header, groups)


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer (a logical, such as a GCOUNT = T, is not one, though
    Python counts it as an int)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _end_offset(raw: bytes) -> int | None:
    """Byte offset of the END record in the header bytes ``raw`` (records start every 80
    bytes), or None."""
    for match in _END_RECORD.finditer(raw):
        if match.start() % 80 == 0:
            return match.start()
    return None


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _exact_end(block: bytes) -> int | None:
    """Byte offset of an exact END card (END and 77 blanks) at a record start of ``block``."""
    at = block.find(_CLEAN_END)
    while at > 0 and at % 80:
        at = block.find(_CLEAN_END, at + 1)
    return None if at < 0 else at


class HDUFile:
    """One file opened by :func:`fitsbind.open` (or written by ``HDUList.writeto``).

    ``name`` is the path on disk (a temporary copy for file-like objects that are not plain
    files: their bytes are copied in on open and back on close for writable modes).
    ``extents`` holds (header start, data start, data end) of each HDU located so far, in
    file order; the data end is the next HDU's header start (the data unit padded to whole
    2880-byte blocks).
    """

    def __init__(self, target: Any, mode: str = "readonly", memmap: bool | None = None,
                 overwrite: bool = False) -> None:
        if mode not in MODES:
            raise ValueError(f"Mode '{mode}' not recognized")
        self.mode = mode
        self.memmap = memmap is None or bool(memmap)
        # memmap=True asked for explicitly: scaled images refuse to load instead of copying
        self.strict_memmap = memmap is True
        self.fileobj: Any = None        # the caller's file-like object, if any
        self._temp: str | None = None   # our copy of a file-like object's bytes
        self._map: np.memmap | None = None
        self.fits: FITS | None = None
        self.refusal: FITSError | None = None  # why CFITSIO would not open the file
        self.extents: list[tuple[int, int, int]] = []
        self._native_limit: int | None = None   # HDUs from this index on are not native
        self._why_not_native = ""
        self._lock = threading.RLock()
        self._unpacked: str | None = None       # decompressed copy of a compressed file
        self._compression: bytes | None = None          # leading bytes of a compressed file
        self._closed = True     # until the file is open
        self.name = self._resolve(target)
        try:
            self._open(overwrite)
        except BaseException:
            if self._temp is not None:
                _remove(self._temp)
            raise
        self._closed = False

    def _open(self, overwrite: bool) -> None:
        mode = self.mode
        if mode == "ostream" and self.fileobj is None:
            if os.path.exists(self.name) and os.path.getsize(self.name) and not overwrite:
                raise OSError(f"File {self.name} already exists. If you mean to replace it "
                              'then use the argument "overwrite=True".')
            open(self.name, "wb").close()
        if mode != "ostream":
            self._compression = self._sniff()
            if self.writable:
                if self._compression is not None:
                    raise OSError(f"{self.name}: mode {mode!r} is not supported with compressed "
                                  "files")
                open(self.name, "r+b").close()   # a permission problem must show now
            try:
                # read-only until the first write (see writer): CFITSIO pads the data unit of
                # every HDU it leaves in a file open read-write to the length it computes,
                # which would grow a file it does not read as astropy does
                self.fits = FITS(self.name, "r")
            except (PermissionError, FileNotFoundError, IsADirectoryError, MemoryError):
                raise
            except FITSError as exc:
                # the file is not one CFITSIO accepts: its HDUs are located here
                self.refusal = exc
                self._not_native(0, f"CFITSIO cannot open the file ({exc.status_text or exc})")

    def _resolve(self, target: Any) -> str:
        if isinstance(target, (str, os.PathLike)):
            path = os.path.expanduser(os.fspath(target))
            if self.mode != "ostream" and not os.path.exists(path):
                raise FileNotFoundError(f"[Errno 2] No such file or directory: {path!r}")
            return path
        name = getattr(target, "name", None)
        if isinstance(name, str) and os.path.isfile(name) and not isinstance(target, gzip.GzipFile):
            if hasattr(target, "flush") and not getattr(target, "closed", False):
                try:
                    target.flush()
                except (OSError, ValueError):
                    pass
            return name
        if not hasattr(target, "read") and not hasattr(target, "write"):
            raise TypeError(f"cannot open {target!r}: a path or a file object is required")
        self.fileobj = target
        fd, self._temp = tempfile.mkstemp(suffix=".fits", prefix="fitsbind-")
        with os.fdopen(fd, "wb") as out:
            if self.mode != "ostream":
                if hasattr(target, "seek"):
                    target.seek(0)
                shutil.copyfileobj(target, out)
        if self.mode == "ostream":
            os.remove(self._temp)
        return self._temp

    def _sniff(self) -> bytes | None:
        """The leading bytes that mark the file as compressed, or None for a plain file."""
        with open(self.name, "rb") as f:
            start = f.read(6)
        for magic, _ in _COMPRESSIONS:
            if start.startswith(magic):
                return magic
        return None

    # -- state --------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        if self._closed:
            return True
        return self.fits.closed if self.fits is not None else self.refusal is None

    @property
    def writable(self) -> bool:
        return self.mode in WRITABLE_MODES

    @property
    def compressed(self) -> bool:
        return self._compression is not None

    def writer(self) -> FITS:
        """The direct tier's file, open read-write (from the first call on), to write HDUs in
        place or append them through its seam (``append_hdu``, ``replace_header``,
        ``write_data``).

        FITSError (an OSError) when CFITSIO does not see the file's HDUs where they are (see
        :meth:`native`): writing through it could damage the file."""
        if self._native_limit is not None and not self.closed:
            raise FITSError(f"{self.name}: {self._why_not_native}; the file can be read, and "
                            "written back only as a whole", filename=self.name)
        if self.fits is None or self.fits.closed:
            raise ValueError("I/O operation on closed or not yet written file")
        if self.writable and self.fits.mode == "r":
            self.fits.close()
            self.fits = FITS(self.name, "r+")
        return self.fits

    def require_native(self, index: int) -> None:
        """FITSError (an OSError) unless CFITSIO places HDU ``index`` where it is (see
        :meth:`native`): for work on that HDU that only the direct tier does."""
        if not self.native(index):
            raise FITSError(f"{self.name}, HDU {index}: {self._why_not_native}; this operation "
                            "needs CFITSIO", filename=self.name, hdu=index)

    def native(self, index: int) -> bool:
        """Whether CFITSIO's handle places HDU ``index`` where it is (so CFITSIO may read and
        write it in place)."""
        return self.fits is not None and not self.fits.closed and (
            self._native_limit is None or index < self._native_limit)

    def _not_native(self, index: int, why: str) -> None:
        if self._native_limit is None or index < self._native_limit:
            self._native_limit = index
            self._why_not_native = why

    def attach(self) -> None:
        """Open the handle on a file just created by an ostream flush."""
        if self.fits is None:
            self.fits = FITS(self.name, "r+")

    def reopen(self) -> None:
        """Open the file again after it was replaced by a whole new file (written through the
        direct tier): the old handle, map and extents go, and every HDU is located anew."""
        with self._lock:
            self.forget_map()
            self._drop_unpacked()
            if self.fits is not None:
                self.fits.close()
            self.fits = FITS(self.name, "r")
            self.refusal = None
            self._native_limit = None
            self._why_not_native = ""
            self._compression = None
            self.extents = []
            while self.locate(len(self.extents)) is not None:
                pass

    # -- locating HDUs ----------------------------------------------------------------------

    @property
    def located(self) -> int:
        """Number of HDUs located so far (the index of the next one)."""
        return len(self.extents)

    def locate(self, index: int, ignore_missing_end: bool = False,
               ) -> tuple[str, Header, tuple[int, int, int]] | None:
        """Find HDU ``index``, the one after the last located: its header text (as in the
        file, END and padding excluded), parsed header and (header start, data start, data
        end); None past the last HDU.

        As astropy: a header without END raises ``OSError("Header missing END card.")``
        (unless ``ignore_missing_end``: the header then runs to the end of the file), a
        partial block after the last HDU ``ValueError``, blocks of zeros there end the list
        with a warning, and data running past the end of the file warns that the file may
        have been truncated (reading that data raises :class:`TruncatedDataError`).
        """
        with self._lock:
            if index != len(self.extents):
                raise ValueError(f"HDU {index} cannot be located before HDU {len(self.extents)}")
            start = self.extents[-1][2] if self.extents else 0
            seen = None          # (header text or None, CFITSIO's offsets)
            if self.native(index):
                seen = self._locate_native(index)
                if seen == ():
                    # CFITSIO sees no more HDUs: what follows its last one is astropy's to judge
                    if self.compressed or self._length() <= start:
                        return None
                    seen = None
            if seen is not None and seen[0] is not None:
                text, cfitsio_offsets = seen
                header = Header.fromstring(text)
                head, data = cfitsio_offsets[:2]
            else:
                scanned = self._scan(start, ignore_missing_end)
                if scanned is None:
                    return None
                text, header, head, data = scanned
            size = data_size(header)
            if size is None:
                size = self._length() - data
            if data + size > _MAX_OFFSET:
                # astropy cannot seek there (ValueError): its list ends before this HDU
                raise FITSValueError(f"{self.name}, HDU {index}: the header describes a data "
                                     f"unit of {size} bytes, beyond any file",
                                     filename=self.name, hdu=index)
            end = data + _checksum.padded_length(max(size, 0))
            offsets = (head, data, end)
            if seen is None:
                self._not_native(index, f"CFITSIO does not read HDU {index} as astropy does")
            elif tuple(seen[1]) != offsets:
                self._not_native(index, f"CFITSIO places HDU {index} at bytes {tuple(seen[1])}, "
                                 f"not {offsets} as astropy does")
            if not self.compressed:
                length = self._length()
                if end > length:
                    self._not_native(index, f"HDU {index} runs past the end of the file")
                    warnings.warn(f"File may have been truncated: actual file length ({length}) "
                                  f"is smaller than the expected size ({end})", FITSUserWarning,
                                  stacklevel=4)
            self.extents.append(offsets)
            return text, header, offsets

    def _locate_native(self, index: int) -> tuple | None:
        """CFITSIO's view of HDU ``index``: (header text, offsets), with the text None when
        the header needs astropy's reading (a damaged END card, bytes that are not printable
        ASCII); () past CFITSIO's last HDU; None when CFITSIO cannot read it."""
        try:
            head, data, end = self.fits.locate(index)
            raw = self.fits.read_bytes(head, data - head).tobytes()
        except IndexError:
            return ()
        except FITSError as exc:
            self._not_native(index, f"CFITSIO cannot read HDU {index} ({exc.status_text or exc})")
            return None
        stop = _end_offset(raw)
        if stop is None or raw[stop:stop + 80] != _CLEAN_END or raw[stop + 80:].strip(b" ") or \
                raw[:stop].translate(None, _PRINTABLE):
            return None, (head, data, end)
        return raw[:stop].decode("ascii"), (head, data, end)

    def _scan(self, start: int, ignore_missing_end: bool) -> tuple[str, Header, int, int] | None:
        """Read the header at byte ``start`` by astropy's rules: (header text, header, header
        start, data start); None at the end of the file.

        As astropy, whole ASCII blocks are read up to one holding an exact END card; failing
        that (a partial block, other bytes, no such card), the header is read again by
        :meth:`Header.fromfile`, which accepts a damaged END card and warns about what it
        finds."""
        if start >= self._length():
            return None
        with open(self._plain_path(), "rb") as reader:
            reader.seek(start)
            blocks = []
            while True:
                block = reader.read(BLOCK)
                if len(block) < BLOCK or not block.isascii():
                    break
                blocks.append(block)
                stop = _exact_end(block)
                if stop is not None:
                    if block.endswith(b"\0"):
                        warnings.warn("Header block contains null bytes instead of spaces for "
                                      "padding, and is not FITS-compliant. Nulls may be "
                                      "replaced with spaces upon writing.", FITSUserWarning,
                                      stacklevel=5)
                    text = b"".join(blocks)[:BLOCK * (len(blocks) - 1) + stop].decode("ascii")
                    return text, Header.fromstring(text), start, start + BLOCK * len(blocks)
            reader.seek(start)
            try:
                header = Header.fromfile(reader, endcard=not ignore_missing_end, padding=True)
            except EOFError:
                return None
            data = reader.tell()
            reader.seek(start)
            raw = reader.read(data - start)
        stop = _end_offset(raw)
        if stop is not None:
            raw = raw[:stop]
        return raw.decode("latin1"), header, start, data

    def _plain_path(self) -> str:
        """Path of the file's plain bytes: the file, or for a compressed file a temporary
        decompressed copy (made on first use, removed on close)."""
        if self._compression is None:
            return self.name
        with self._lock:
            if self._unpacked is None:
                self._unpack()
        return self._unpacked

    def _unpack(self) -> None:
        unpack = dict(_COMPRESSIONS)[self._compression]
        if unpack is None:
            raise OSError(f"{self.name}: this compressed file can be read only when CFITSIO "
                          f"accepts it ({self._why_not_native})")
        fd, path = tempfile.mkstemp(suffix=".fits", prefix="fitsbind-unpacked-")
        try:
            with os.fdopen(fd, "wb") as out:
                _decompress(unpack, self.name, out)
        except BaseException:
            os.remove(path)
            raise
        self._unpacked = path
        self._forget_unpacked = weakref.finalize(self, _remove, path)

    def _length(self) -> int:
        """Length of the file's plain bytes."""
        return os.path.getsize(self._plain_path())

    def first_bytes(self, count: int) -> bytes:
        """The first ``count`` bytes of the file (decompressed), fewer if it is shorter."""
        if self.compressed and self.native(0):
            data = self.fits.locate(0).data_start
            return self.fits.read_bytes(0, min(count, data)).tobytes()
        with open(self._plain_path(), "rb") as f:
            return f.read(count)

    def check_signature(self) -> None:
        """As astropy on open: a non-empty file must start with a SIMPLE card (FITSError, an
        OSError, if not; a VerifyWarning if it is there but not in the standard's fixed
        format). As astropy, a compressed file is not checked: astropy does not know its
        length, and checks only files it knows to be non-empty."""
        if self.compressed:
            return
        first = self.first_bytes(80)
        if not first or (first[:29] == _SIGNATURE and first[29:30] in (b"T", b"F")):
            return
        if re.match(rb"SIMPLE\s*=\s*[TF]", first):
            warnings.warn("Found a SIMPLE card but its format doesn't respect the FITS Standard",
                          VerifyWarning, stacklevel=3)
            return
        raise FITSError(f"{self.name}: No SIMPLE card found, this file does not appear to be a "
                        "valid FITS file. If this is really a FITS file, try with "
                        "ignore_missing_simple=True", filename=self.name)

    # -- data access --------------------------------------------------------------------------

    def mapping(self) -> np.memmap | None:
        """The whole file as a uint8 ``numpy.memmap`` (None when the file cannot be mapped:
        memmap off, compressed, or empty)."""
        if not self.memmap or self.closed or self.compressed:
            return None
        if self.fits is None and self.refusal is None:
            return None     # an ostream file not written yet
        if self._map is None:
            if os.path.getsize(self.name) == 0:
                return None
            self._map = np.memmap(self.name, dtype=np.uint8, mode=_MAP_MODE[self.mode])
        return self._map

    def array(self, index: int, start: int, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
        """``dtype``/``shape`` data at byte ``start`` of the file (inside HDU ``index``'s data
        unit): a view of the memory map when there is one, else read from the file.
        :class:`TruncatedDataError` when the file ends before the data does."""
        dtype = np.dtype(dtype)
        if not all(is_integer(n) for n in shape):
            raise FITSValueError(f"{self.name}, HDU {index}: the header gives the data the "
                                 f"shape {shape}: axis lengths must be integers",
                                 filename=self.name, hdu=index)
        if any(n < 0 for n in shape):
            # numpy's words, which astropy's users see
            raise FITSValueError(f"{self.name}, HDU {index}: the header gives the data the "
                                 f"shape {shape}: negative dimensions are not allowed",
                                 filename=self.name, hdu=index)
        nbytes = math.prod(shape) * dtype.itemsize
        mapped = self.mapping()
        if mapped is not None and start + nbytes <= len(mapped):
            return mapped[start:start + nbytes].view(dtype).reshape(shape)
        # before the array is allocated: a header may claim far more data than the file holds
        self._require_bytes(index, start, nbytes)
        out = np.empty(shape, dtype=dtype)
        self._read_into(index, start, out.reshape(-1).view(np.uint8))
        return out

    def _require_bytes(self, index: int, start: int, nbytes: int) -> None:
        """:class:`TruncatedDataError` unless the file's plain bytes reach ``start + nbytes``.

        A compressed file CFITSIO holds decompressed is asked for its last byte: decompressing
        it again to a temporary copy to learn its length would cost more."""
        end = start + nbytes
        if self.compressed and self.native(index):
            if nbytes == 0 or self._holds_byte(end - 1):
                return
            problem = "the decompressed file ends before that"
        else:
            length = self._length()
            if end <= length:
                return
            problem = f"the file has {length} bytes"
        raise TruncatedDataError(f"{self.name}, HDU {index}: the data needs bytes {start} to "
                                 f"{end} but {problem} (it may have been truncated)",
                                 filename=self.name, hdu=index)

    def _holds_byte(self, position: int) -> bool:
        """Whether CFITSIO's copy of the file has a byte at ``position``."""
        try:
            self.fits.read_bytes(position, 1)
        except FITSError:
            return False
        return True

    def _read_into(self, index: int, start: int, out: np.ndarray) -> None:
        """Fill the uint8 array ``out`` with the file's bytes from ``start`` (inside HDU
        ``index``)."""
        if self.native(index):
            self.fits.read_bytes(start, out=out)
            return
        with open(self._plain_path(), "rb") as reader:
            reader.seek(start)
            got = reader.readinto(memoryview(out))
        if got != len(out):
            raise TruncatedDataError(f"{self.name}, HDU {index}: the file ends at byte "
                                     f"{start + got}, inside the data (it may have been "
                                     "truncated)", filename=self.name, hdu=index)

    def datasum(self, index: int) -> int:
        """The data checksum (ones' complement sum of the data unit, padding included) of HDU
        ``index`` as it is in the file."""
        if self.native(index):
            return self.fits.data_checksum(index)
        _, data, end = self.extents[index]
        total = 0
        chunk = np.empty(min(_CHUNK, end - data), np.uint8)
        for offset in range(data, end, _CHUNK):
            piece = chunk[:min(_CHUNK, end - offset)]
            mapped = self.mapping()
            if mapped is not None and offset + len(piece) <= len(mapped):
                piece = mapped[offset:offset + len(piece)]
            else:
                self._read_into(index, offset, piece)
            total = _checksum.ones_complement_sum(piece, total)
        return total

    def flush_map(self) -> None:
        """Write the shared memory map's dirty pages to the file (update mode)."""
        if self._map is not None and self.mode == "update":
            self._map.flush()

    def forget_map(self) -> None:
        """Drop the mapping (after the file was resized or rewritten); existing views keep
        the old mapping alive until they go away."""
        if self._map is not None and self.mode == "update":
            self._map.flush()
        self._map = None

    def _drop_unpacked(self) -> None:
        if self._unpacked is not None:
            self._forget_unpacked()
            self._unpacked = None

    def __del__(self) -> None:
        # as Python's own file objects: a file left open is closed, with a ResourceWarning.
        # Its direct-tier file warns instead when the garbage collector finalized it first.
        if getattr(self, "_closed", True):
            return
        holds_file = not self.fits.closed if self.fits is not None else (
            self._map is not None or self._temp is not None)
        if holds_file:
            close_forgotten(repr(self.name), self.close)
        else:
            self.close()

    def close(self) -> None:
        """Flush and close; copy a temporary file back to the caller's file object."""
        self.flush_map()
        self._map = None
        self._closed = True
        self._drop_unpacked()
        if self.fits is not None:
            self.fits.close()
        if self._temp is not None:
            if self.writable and self.fileobj is not None and os.path.exists(self._temp):
                if hasattr(self.fileobj, "seek"):
                    self.fileobj.seek(0)
                with open(self._temp, "rb") as copy:
                    shutil.copyfileobj(copy, self.fileobj)
                if isinstance(self.fileobj, io.IOBase) and hasattr(self.fileobj, "truncate"):
                    try:
                        self.fileobj.truncate()
                    except (OSError, ValueError):
                        pass
            try:
                os.remove(self._temp)
            except OSError:
                pass
            self._temp = None
