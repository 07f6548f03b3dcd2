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
import errno
import gzip
import http.client
import io
import lzma
import math
import mmap
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
from fitsbind.header import Header, _is_os_file
from fitsbind.util import is_integer
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


def _unpack_zip(source: str | zipfile.ZipFile, out: BinaryIO) -> None:
    """Copy the one member of the zip archive ``source`` (a path, or an open ``ZipFile``,
    which stays open) into ``out``; FITSError for an archive of more members."""
    if not isinstance(source, zipfile.ZipFile):
        with zipfile.ZipFile(source) as archive:
            _unpack_zip(archive, out)
        return
    names = source.namelist()
    name = str(source.filename)
    if len(names) != 1:
        raise FITSError(f"{name}: a zipped FITS file must hold one file, not {len(names)}",
                        filename=name)
    with source.open(names[0]) as member:
        shutil.copyfileobj(member, out, 1 << 24)


def _copy_from(fileobj: Any, out: BinaryIO) -> None:
    """Copy the bytes of the file object ``fileobj`` (from its start, when it can seek) into
    ``out``."""
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    shutil.copyfileobj(fileobj, out)


# Python's openers of the compressed streams it can read and write, by astropy's name for
# the compression
OPENERS: dict[str, Callable[..., Any]] = {"gzip": gzip.open, "bzip2": bz2.open, "lzma": lzma.open}

# compressed files CFITSIO reads: (leading bytes, astropy's name for the compression, how
# Python decompresses them into a binary file; None when it cannot, so such a file is read
# through CFITSIO only)
_COMPRESSIONS: tuple[tuple[bytes, str, Callable[[str, BinaryIO], None] | None], ...] = (
    (b"\x1f\x8b", "gzip", _unpacker(OPENERS["gzip"])),
    (b"BZh", "bzip2", _unpacker(OPENERS["bzip2"])),
    (b"\xfd7zXZ\x00", "lzma", _unpacker(OPENERS["lzma"])),
    (b"PK\x03\x04", "zip", _unpack_zip),
    (b"\x1f\x9d", "lzw", None),
)
# Python's decompressing file objects, by the compression name astropy reports for them
_COMPRESSED_OBJECTS = ((gzip.GzipFile, "gzip"), (bz2.BZ2File, "bzip2"), (lzma.LZMAFile, "lzma"),
                       (zipfile.ZipFile, "zip"))

# the astropy mode of a file object, by the mode it was opened in ("+" last)
_HANDLE_MODES = {"rb": "readonly", "rb+": "update", "wb": "ostream", "wb+": "update",
                 "ab": "ostream", "ab+": "append"}
_TEXT_MODE = re.compile(r"^[rwa](t?\+?|\+?t?)$")


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


def _empty_groups(header: Header) -> int:
    """The data bytes of a random-groups header with no axes beyond NAXIS1 = 0 by the FITS
    standard's formula, |BITPIX|/8 x GCOUNT x (PCOUNT + 1), an empty product being 1, as
    CFITSIO writes them; 0 for any other header. astropy counts such a data unit as empty
    and writes none, so a reader must accept both layouts."""
    first = header.cards[0] if len(header) else None
    if first is None or first.keyword != "SIMPLE" or header.get("GROUPS") is not True or \
            header.get("NAXIS") != 1:
        return 0
    bitpix, gcount, pcount = (header.get(k, d) for k, d in (("BITPIX", 8), ("GCOUNT", 1),
                                                             ("PCOUNT", 0)))
    if not all(is_integer(v) for v in (bitpix, gcount, pcount)):
        return 0
    return max(abs(bitpix) * gcount * (pcount + 1) // 8, 0)



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


def _handle_mode(handle: Any) -> str:
    """The astropy mode that an operating-system file object's own mode ("rb", "ab+", ...)
    stands for. ValueError for a text-mode file, or a mode astropy has no counterpart of."""
    raw = getattr(handle, "mode", None)
    if not isinstance(raw, str):
        raw = getattr(getattr(handle, "fp", None), "mode", "")   # urllib's response objects
    if "+" in raw:
        raw = raw.replace("+", "") + "+"
    if _TEXT_MODE.match(raw):
        raise ValueError(f"the file object is open in text mode '{raw}': FITS files must be "
                         "opened in binary mode")
    if raw not in _HANDLE_MODES:
        raise ValueError(f"Mode '{raw}' not recognized")
    return _HANDLE_MODES[raw]


def open_mode(target: Any, mode: str | None) -> str:
    """The mode to open ``target`` (a path or a file object) in, as astropy chooses it:
    ``mode`` if given (ValueError unless it is one of :data:`MODES`), which must agree with
    the mode an open operating-system file was opened in (ValueError otherwise); else that
    file's mode, else "readonly"."""
    if mode is not None and mode not in MODES:
        raise ValueError(f"Mode '{mode}' not recognized")
    if _is_os_file(target):
        own = _handle_mode(target)
        if mode is not None and mode != own:
            raise ValueError(f"mode '{mode}' does not agree with the mode the file object is "
                             f"open in (which means '{own}')")
        mode = own
    if isinstance(target, http.client.HTTPResponse) and mode in WRITABLE_MODES:
        raise ValueError(f"Mode {mode} not supported for HTTPResponse")
    return mode or "readonly"


def _refuse_writing(name: str, compression: str, mode: str) -> None:
    """OSError (astropy's words) when a file compressed with ``compression`` cannot be opened
    in ``mode``: only gzip files may be updated (they are written back whole, compressed)."""
    if compression is None or mode not in ("update", "append"):
        return
    if compression == "gzip" and mode == "update":
        return
    if compression == "gzip":
        reason = "a gzip file cannot be opened in 'append' mode ('update' rewrites it whole)"
    elif compression in ("bzip2", "lzma"):
        reason = f"update and append modes are not supported with {compression} files"
    elif compression == "zip":
        reason = f"zip archives are only read: mode '{mode}' would write one"
    else:
        reason = f"{mode} mode not supported with LZW files"
    raise OSError(f"{name}: {reason}")


# numpy.memmap's modes: how the file is opened, and how it is mapped
_MAPPINGS = {"r": (os.O_RDONLY, mmap.ACCESS_READ), "c": (os.O_RDONLY, mmap.ACCESS_COPY),
             "r+": (os.O_RDWR, mmap.ACCESS_WRITE)}


def map_file(path: str, mode: str) -> np.memmap:
    """The whole non-empty file at ``path`` as a uint8 ``numpy.memmap`` in numpy's ``mode``
    ("r", "c" or "r+"), with the attributes ``numpy.memmap(path, np.uint8, mode)`` gives it
    (``_mmap``, ``filename``, ``offset``, ``mode``). Made here because numpy's constructor
    costs as much in Python as reading a small file's headers. OSError as numpy's."""
    flags, access = _MAPPINGS[mode]
    fd = os.open(path, flags)
    try:
        mapping = mmap.mmap(fd, os.fstat(fd).st_size, access=access)
    finally:
        os.close(fd)    # (the mapping holds a descriptor of its own)
    array = np.ndarray.__new__(np.memmap, (len(mapping),), np.uint8, mapping)
    array._mmap = mapping
    array.offset = 0
    array.mode = mode
    array.filename = os.path.abspath(path)
    return array


def _map_view(mapped: np.memmap, start: int, dtype: np.dtype, shape: tuple[int, ...]) -> np.memmap:
    """The ``dtype``/``shape`` memmap at byte ``start`` of the whole-file map ``mapped``, as
    ``mapped[start:start + nbytes].view(dtype).reshape(shape)`` makes it (the same base and
    memmap attributes) in one step: each of those three views runs numpy.memmap's
    Python-level ``__array_finalize__``, which costs more than the rest of a small read."""
    view = np.ndarray.__new__(np.memmap, shape, dtype, mapped, start)
    view._mmap = mapped._mmap
    view.offset = mapped.offset
    view.mode = mapped.mode
    view.filename = mapped.filename
    return view


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

    def __init__(self, target: Any, mode: str | None = "readonly", memmap: bool | None = None,
                 overwrite: bool = False) -> None:
        self.mode = open_mode(target, mode)
        self.memmap = memmap is None or bool(memmap)
        # memmap=True asked for explicitly: scaled images refuse to load instead of copying
        self.strict_memmap = memmap is True
        self.fileobj: Any = None        # the caller's file-like object, if any
        self._temp: str | None = None   # our copy of a file-like object's bytes
        self._copied: tuple[int, int, int] | None = None   # the copy's version last copied back
        self._map: np.memmap | None = None
        self._head = b""    # the first 80 bytes of the file at ``name`` (as stored)
        self._length: int | None = None     # see length()
        self.fits: FITS | None = None
        self.refusal: FITSError | None = None  # why CFITSIO would not open the file
        self.extents: list[tuple[int, int, int]] = []
        self._native_limit: int | None = None   # HDUs from this index on are not native
        self._why_not_native = ""
        self._lock = threading.RLock()
        self._unpacked: str | None = None       # decompressed copy of a compressed file
        self._compression: str | None = None    # how the file at ``name`` is compressed
        # how the caller's file object was compressed (its bytes are copied out decompressed)
        self._source_compression: str | None = None
        self._closed = True     # until the file is open
        # the file is fitsbind's own copy of bytes in memory (HDUList.fromstring): collected
        # open, it is closed without a ResourceWarning, as nothing of the caller's is held
        self.owned = False
        self.name = ""
        try:
            self.name = self._resolve(target)
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
        if mode == "ostream":
            return
        if mode == "append" and not os.path.exists(self.name):
            open(self.name, "ab").close()   # as astropy: append mode creates the file
        self._compression = self._sniff()
        if self.writable:
            _refuse_writing(self.name, self.compression, mode)
        if self.writable and os.path.getsize(self.name) == 0:
            return      # an empty file: written whole by the first flush, as an ostream file
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
        if isinstance(target, bytes):
            target = os.fsdecode(target)
        if isinstance(target, (str, os.PathLike)):
            # (a missing file raises FileNotFoundError when _sniff opens it)
            return os.path.expanduser(os.fspath(target))
        for kind, compression in _COMPRESSED_OBJECTS:
            if isinstance(target, kind):
                self._source_compression = compression
        name = getattr(target, "name", None)
        if self._source_compression is None and isinstance(name, str) and os.path.isfile(name):
            # a file on disk is opened by its name (what the caller wrote must be there first)
            if hasattr(target, "flush") and not getattr(target, "closed", False):
                try:
                    target.flush()
                except (OSError, ValueError):
                    pass
            return name
        if isinstance(target, zipfile.ZipFile):
            _refuse_writing(str(target.filename), "zip", self.mode)
            return self._copy_in(target, lambda out: _unpack_zip(target, out))
        self._check_file_like(target)
        return self._copy_in(target, lambda out: _copy_from(target, out))

    def _check_file_like(self, target: Any) -> None:
        """As astropy: a file-like object that can neither read nor seek can only be written
        to (mode ostream), and each mode needs its methods (OSError). (astropy makes every
        object without seek and tell an output stream; one that can read is read here,
        its bytes copied out from where it stands.)"""
        if not hasattr(target, "read") and not hasattr(target, "write"):
            raise TypeError(f"cannot open {target!r}: a path or a file object is required")
        if getattr(target, "closed", False):
            raise OSError(f"cannot open {target!r}: the file-like object is closed")
        seekable = hasattr(target, "seek") and hasattr(target, "tell")
        if not seekable and not hasattr(target, "read"):
            self.mode = "ostream"
        if self.writable and not hasattr(target, "write"):
            raise OSError(f"cannot open {target!r} in mode '{self.mode}': the file-like object "
                          "has no 'write' method")
        if self.mode != "ostream" and not hasattr(target, "read"):
            raise OSError(f"cannot open {target!r} in mode '{self.mode}': the file-like object "
                          "has no 'read' method")

    def _copy_in(self, target: Any, copy: Callable[[BinaryIO], None]) -> str:
        """A temporary file standing for the file object ``target``, holding its bytes (what
        ``copy`` writes) unless the mode is ostream."""
        self.fileobj = target
        fd, self._temp = tempfile.mkstemp(suffix=".fits", prefix="fitsbind-")
        with os.fdopen(fd, "wb") as out:
            if self.mode != "ostream":
                copy(out)
        if self.mode == "ostream":
            os.remove(self._temp)
        return self._temp

    def _sniff(self) -> str | None:
        """The compression of the file at ``name`` (astropy's name for it: "gzip", "bzip2",
        "lzma", "zip", "lzw"), or None for a plain file. Its first bytes are kept in
        ``_head``, for :meth:`check_signature`, and a plain file's length in a read-only mode
        (see :meth:`length`). OSError as the system's when the file cannot be opened."""
        # a bare descriptor: a Python file object costs more than the read. In a writable
        # mode it is opened for writing, so a permission problem shows now, on open
        flags = os.O_RDWR if self.writable else os.O_RDONLY
        fd = os.open(self.name, flags | getattr(os, "O_BINARY", 0))
        try:
            self._head = os.read(fd, 80)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        for magic, name, _ in _COMPRESSIONS:
            if self._head.startswith(magic):
                return name
        if not self.writable:
            self._length = size
        return None

    # -- state --------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        if self._closed:
            return True
        return self.fits is not None and self.fits.closed

    @property
    def writable(self) -> bool:
        return self.mode in WRITABLE_MODES

    @property
    def compressed(self) -> bool:
        """Whether the file at ``name`` is compressed (read decompressed)."""
        return self._compression is not None

    @property
    def compression(self) -> str | None:
        """astropy's name of the file's compression ("gzip", "bzip2", "lzma", "zip", "lzw"),
        also for a compressed file object given (a ``gzip.GzipFile``, a ``zipfile.ZipFile``,
        ...); None for a plain file."""
        return self._compression or self._source_compression

    @property
    def unwritten(self) -> bool:
        """Whether the file is still to be written whole by the first flush (mode ostream, or
        an empty file opened in update or append mode)."""
        return self.fits is None and self.refusal is None and not self._closed

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

    def create(self) -> None:
        """Create the file of an unwritten file (see :attr:`unwritten`) empty, open read-write
        for HDUs to be appended to it one by one (``writer().append_hdu``)."""
        if not self.unwritten:
            raise ValueError(f"{self.name}: the file is already written")
        self.fits = FITS(self.name, "w+", in_place=True)

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
            self._compression = self._sniff()
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
                    if self.compressed or self.length() <= start:
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
                size = self.length() - data
            elif size == 0 and _empty_groups(header) and self._holds_data(data):
                size = _empty_groups(header)
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
                length = self.length()
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
        # (counting the blanks after END copies none of them, as stripping them would)
        if stop is None or raw[stop:stop + 80] != _CLEAN_END or \
                raw.count(b" ", stop + 80) != len(raw) - stop - 80 or \
                raw[:stop].translate(None, _PRINTABLE):
            return None, (head, data, end)
        return raw[:stop].decode("ascii"), (head, data, end)

    def _holds_data(self, start: int) -> bool:
        """Whether a block at byte ``start`` follows and is not the start of a header."""
        if start + BLOCK > self.length():
            return False
        with open(self._plain_path(), "rb") as reader:
            reader.seek(start)
            return reader.read(8) not in (b"XTENSION", b"SIMPLE  ")

    def _scan(self, start: int, ignore_missing_end: bool) -> tuple[str, Header, int, int] | None:
        """Read the header at byte ``start`` by astropy's rules: (header text, header, header
        start, data start); None at the end of the file.

        As astropy, whole ASCII blocks are read up to one holding an exact END card; failing
        that (a partial block, other bytes, no such card), the header is read again by
        :meth:`Header.fromfile`, which accepts a damaged END card and warns about what it
        finds."""
        if start >= self.length():
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
        unpack = {name: unpack for _, name, unpack in _COMPRESSIONS}[self._compression]
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

    def length(self) -> int:
        """Length of the file's plain bytes (decompressed, for a compressed file). A file
        opened only to be read is measured once: locating each HDU asks for its length."""
        if self._length is not None:
            return self._length
        length = os.path.getsize(self._plain_path())
        if not self.writable:
            self._length = length
        return length

    def check_signature(self) -> None:
        """As astropy on open: a non-empty file must start with a SIMPLE card (FITSError, an
        OSError, if not; a VerifyWarning if it is there but not in the standard's fixed
        format). As astropy, a compressed file is not checked: astropy does not know its
        length, and checks only files it knows to be non-empty."""
        if self.compressed:
            return
        first = self._head
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
            self._map = self._new_map()
        return self._map

    def _new_map(self) -> np.memmap | None:
        """Map the file as the mode asks; where the system refuses, fall back as astropy does
        (with a warning): to a read-only map when a copy-on-write one runs out of address
        space, else to reading without a map, unless memmap=True was asked for explicitly
        (the system's OSError then). A shared map whose flush fails is given up too: changes
        to its arrays would not be sure to reach the file."""
        mode = _MAP_MODE[self.mode]
        try:
            mapped = map_file(self.name, mode)
        except OSError as exc:
            return self._unmapped(exc)
        if mode == "r+":
            try:
                mapped.flush()
            except OSError as exc:
                warnings.warn(f"{self.name}: mmap.flush is unavailable on this platform ({exc}); "
                              "the file is read and written without a memory map",
                              FITSUserWarning, stacklevel=5)
                self.memmap = False
                return None
        return mapped

    def _unmapped(self, exc: OSError) -> np.memmap | None:
        """What to read through when the system refuses to map the file (see _new_map)."""
        if exc.errno == errno.ENOMEM and self.mode == "readonly":
            warnings.warn(f"{self.name}: Could not memory map array with mode='readonly' (no "
                          "address space for a copy-on-write map); falling back to "
                          "mode='denywrite': the arrays are read-only", FITSUserWarning,
                          stacklevel=6)
            return map_file(self.name, "r")
        if self.strict_memmap:
            raise exc
        warnings.warn(f"{self.name}: Could not memory map array ({exc}); the data is read "
                      "without a map instead (memmap=False skips the attempt)", FITSUserWarning,
                      stacklevel=6)
        self.memmap = False
        return None

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
            return _map_view(mapped, start, dtype, shape)
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
            length = self.length()
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
        if holds_file and not self.owned:
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
            self.copy_back()
            _remove(self._temp)
            self._temp = None

    def copy_back(self, start: int = 0, stop: int | None = None) -> None:
        """Copy the temporary file standing for the caller's file object back into it (in a
        writable mode, once the file was written): whole, or only bytes ``start`` to ``stop``
        when only those changed since the last copy (the object then already holds the
        rest)."""
        if self._temp is None or not self.writable or not os.path.exists(self._temp):
            return
        stat = os.stat(self._temp)
        version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if version == self._copied:
            return      # copied already (a stream that cannot seek must not get it twice)
        self._copied = version
        whole = start == 0 and stop is None
        if hasattr(self.fileobj, "seek"):
            self.fileobj.seek(start)
        with open(self._temp, "rb") as copy:
            copy.seek(start)
            if whole:
                shutil.copyfileobj(copy, self.fileobj)
            else:
                self.fileobj.write(copy.read(stop - start))
        if whole and isinstance(self.fileobj, io.IOBase) and hasattr(self.fileobj, "truncate"):
            try:
                self.fileobj.truncate()
            except (OSError, ValueError):
                pass
