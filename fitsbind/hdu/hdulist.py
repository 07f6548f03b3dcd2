"""HDUList and :func:`fitsopen` (``fitsbind.open``): astropy's list of HDUs over a file.

HDUs are read lazily: indexing reads headers up to the one asked for (CFITSIO skips the data
units by their sizes); data is read when ``.data`` is first used. ``flush``/``close`` write
changes back through the direct tier: headers and data in place when every HDU keeps its
size, else the whole file is rewritten to a temporary file that then replaces it.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import sys
import tempfile
import textwrap
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from fitsbind._atomic import Replacement
from fitsbind.checksum import BLOCK
from fitsbind.config import conf
from fitsbind.direct import FITS
from fitsbind.errors import FITSError
from fitsbind.hdu.base import DELAYED, ExtensionHDU, _BaseHDU, class_for
from fitsbind.hdu.file import OPENERS, HDUFile, data_size
from fitsbind.hdu.groups import GroupsHDU
from fitsbind.hdu.image import ImageHDU, PrimaryHDU
from fitsbind.verify import FITSUserWarning, VerifyError, VerifyWarning, _ErrList, _Verify

_OVERWRITE = ('File {} already exists. If you mean to replace it then use the argument '
              '"overwrite=True".')


def fitsopen(name: Any, mode: str | None = "readonly", memmap: bool | None = None,
             save_backup: bool = False, cache: bool = True, lazy_load_hdus: bool | None = None,
             ignore_missing_simple: bool = False, *, use_fsspec: bool | None = None,
             fsspec_kwargs: dict | None = None, decompress_in_memory: bool = False,
             **kwargs: Any) -> HDUList:
    """Open a FITS file (path, ``pathlib.Path`` or file object) as an :class:`HDUList`.

    ``mode``: "readonly", "update", "append", "denywrite", "ostream" (a new file written on
    flush/close) or "copyonwrite". ``memmap`` makes unscaled image and table data views of
    the file's memory map; None means on unless ``fitsbind.conf.use_memmap`` is False, while
    an explicit True also refuses to load scaled images (as astropy). ``lazy_load_hdus=False``
    reads every header now (None: ``conf.lazy_load_hdus``). ``uint`` (default
    ``conf.enable_uint``) reads pseudo-unsigned integers as unsigned dtypes. Other keywords
    (``do_not_scale_image_data``, ``ignore_blank``, ``scale_back``, ``checksum``,
    ``ignore_missing_end``, ``character_as_bytes``) are astropy's.
    """
    # the settings are read per call, so a change to fitsbind.conf applies to the next open
    memmap = (None if conf.use_memmap else False) if memmap is None else bool(memmap)
    if lazy_load_hdus is None:
        lazy_load_hdus = conf.lazy_load_hdus
    if "uint" not in kwargs:
        kwargs["uint"] = conf.enable_uint
    if name is None:
        raise ValueError("Empty filename: None")
    if isinstance(name, str) and not name:
        raise ValueError("Empty filename: ''")
    hdufile = HDUFile(name, mode, memmap, overwrite=kwargs.pop("overwrite", False))
    hdulist = HDUList(file=hdufile)
    hdulist._open_kwargs = kwargs
    hdulist._save_backup = save_backup
    if hdufile.unwritten:
        return hdulist      # a new file, or an empty one opened to be written
    try:
        if not ignore_missing_simple:
            hdufile.check_signature()
        if not hdulist._read_past(0):
            # (astropy gives an empty list in the writable modes; CFITSIO cannot write to
            # a file without a valid primary HDU)
            raise FITSError(f"{hdufile.name}: Empty or corrupt FITS file", filename=hdufile.name)
        if not lazy_load_hdus or kwargs.get("checksum") is True:
            hdulist.readall()
    except BaseException:
        hdufile.close()
        raise
    return hdulist


def _image_as(cls: type, hdu: Any) -> Any:
    """``hdu``'s image as a new ``cls`` HDU (PrimaryHDU <-> ImageHDU) when a list moves it
    first or after the first. Data kept as stored (``do_not_scale_image_data``) keep the
    BSCALE/BZERO that give them their physical values."""
    raw = hdu._do_not_scale_image_data
    new = cls(data=hdu.data, header=hdu.header, do_not_scale_image_data=raw)
    if raw:
        for key in ("BSCALE", "BZERO"):
            if key in hdu.header:
                new.header[key] = hdu.header[key]
    return new


class HDUList(list, _Verify):
    """A list of HDUs, optionally backed by an open file."""

    def __init__(self, hdus: Any = (), file: Any = None) -> None:
        self._file: HDUFile | None = file
        self._open_kwargs: dict[str, Any] = {}
        self._read_all = file is None or file.unwritten
        self._save_backup = False   # flushes first copy the file to <name>.bak (fitsopen's)
        self._cut_short = False     # the file was closed before all its HDUs were read
        self._on_disk = 0           # HDUs (from the front) that exist in the file as listed
        # (index, located header) of an HDU whose header raised when it was made
        self._unbuilt: tuple[int, Any] | None = None
        # held while headers are read lazily (see _read_past); the list's already-read HDUs
        # are reached without it
        self._lock = threading.RLock()
        if isinstance(hdus, _BaseHDU):
            hdus = [hdus]
        super().__init__()
        for hdu in hdus:
            if not isinstance(hdu, _BaseHDU):
                raise TypeError(f"Element {len(self)} in the HDUList input is not an HDU.")
            super().append(hdu)
        if file is None:
            # as astropy: a list made of HDUs gets EXTEND = T at once (a file's is read as is)
            self.update_extend()

    # -- construction from files and bytes --------------------------------------------------------

    @classmethod
    def fromfile(cls, fileobj: Any, mode: str | None = None, memmap: bool | None = None,
                 save_backup: bool = False, cache: bool = True, lazy_load_hdus: bool = True,
                 ignore_missing_simple: bool = False, **kwargs: Any) -> HDUList:
        """Open ``fileobj`` (a path or a file object) as :func:`fitsopen` does, except that
        with no ``mode`` a file object's own mode decides it ("rb" readonly, "rb+" and "wb+"
        update, "ab+" append, "wb" and "ab" ostream)."""
        return fitsopen(fileobj, mode=mode, memmap=memmap, save_backup=save_backup,
                        cache=cache, lazy_load_hdus=lazy_load_hdus,
                        ignore_missing_simple=ignore_missing_simple, **kwargs)

    @classmethod
    def fromstring(cls, data: Any, **kwargs: Any) -> HDUList:
        """The HDUs of a whole FITS file held in memory: ``data`` is any object with the
        buffer interface (bytes, bytearray, memoryview, a numpy array). The bytes are copied
        (to a temporary file the HDUs are read from lazily), so the list does not depend on
        ``data`` afterwards, and it needs no closing. Keywords as :func:`fitsopen`'s (the
        mode is always readonly)."""
        for refused in ("mode", "memmap"):
            if refused in kwargs:
                raise TypeError(f"fromstring() does not take {refused!r}: the HDUs are read "
                                "from memory, read-only")
        try:
            view = memoryview(data)
        except TypeError:
            raise TypeError(f"HDUList.fromstring needs an object with the buffer interface "
                            f"(bytes, bytearray, memoryview, a numpy array), not "
                            f"{type(data).__name__}") from None
        hdulist = fitsopen(io.BytesIO(view.tobytes()), memmap=False, **kwargs)
        hdulist._file.owned = True
        return hdulist

    # -- lazy reading ---------------------------------------------------------------------------

    def _read_past(self, count: int) -> bool:
        """Read headers until the list holds more than ``count`` HDUs; False when the file
        has no more (see :meth:`_read_next`).

        Threads indexing one lazily read list at once take turns here: each reads on from
        where the last stopped, and the length it waits for is checked again once it has
        the lock (another thread may have read that HDU meanwhile)."""
        if self._read_all:
            return super().__len__() > count
        with self._lock:
            while super().__len__() <= count:
                if not self._read_next():
                    return False
            return True

    def _read_next(self) -> bool:
        """Read the next HDU's header from the file; False at the end of the file, and (with
        a warning, as astropy) when what follows the last HDU is not a valid header. The
        caller holds ``self._lock``."""
        if self._read_all:
            return False
        hdufile = self._file
        if hdufile.closed:
            self._read_all = True
            self._cut_short = True
            return False
        position = super().__len__()
        # an HDU located before but whose header raised is made again, as astropy reads it
        # again, rather than skipped
        index, found = self._unbuilt or (hdufile.located, None)
        try:
            if found is None:
                found = hdufile.locate(index, bool(self._open_kwargs.get("ignore_missing_end")))
            if found is None:
                self._read_all = True
                return False
            self._unbuilt = index, found
            text, header, offsets = found
            hdu = class_for(header)._from_file(hdufile, index, header, text, offsets,
                                               **self._open_kwargs)
            self._unbuilt = None
        except (VerifyError, ValueError) as exc:
            # as astropy: the list ends at a header that does not validate
            warnings.warn(f"Error validating header for HDU #{index} (note: fitsbind uses "
                          f"zero-based indexing).\n{textwrap.indent(str(exc), '    ')}\nThere "
                          "may be extra bytes after the last HDU or the file is corrupted.",
                          VerifyWarning, stacklevel=3)
            self._read_all = True
            return False
        super().append(hdu)
        if self._on_disk == position:
            self._on_disk = position + 1
        # outside the try: data that cannot be summed (a truncated file) is an error of its
        # own, not a header that ends the list
        if self._open_kwargs.get("checksum") is True:
            _check_sums(hdu, index)
        if position == 0 and isinstance(hdu, PrimaryHDU) and not _extends(hdu.header):
            # as astropy: a second HDU would make the primary need EXTEND = T
            self._read_next()
        if position == 1 and isinstance(super().__getitem__(0), PrimaryHDU):
            # as astropy, in every mode: a primary HDU followed by an extension gets EXTEND = T
            primary = super().__getitem__(0).header
            if "EXTEND" in primary:
                try:
                    if not primary["EXTEND"]:
                        primary["EXTEND"] = True
                except VerifyError:
                    pass   # an unparsable card is left for verify to report
            else:
                _set_extend(primary)
        return True

    def readall(self) -> None:
        """Read every HDU's header now."""
        if self._read_all:
            return
        with self._lock:
            while self._read_next():
                pass

    def __len__(self) -> int:
        self.readall()
        return super().__len__()

    def __iter__(self) -> Iterator[_BaseHDU]:
        i = 0
        while True:
            if i >= super().__len__() and not self._read_past(i):
                return
            yield super().__getitem__(i)
            i += 1

    def __repr__(self) -> str:
        self.readall()
        return super().__repr__()

    def __bool__(self) -> bool:
        return super().__len__() > 0 or self._read_past(0)

    # -- indexing -------------------------------------------------------------------------------

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            self.readall()
            return HDUList(super().__getitem__(key))
        index = self.index_of(key)
        return super().__getitem__(index)

    def __contains__(self, item: Any) -> bool:
        try:
            self.index_of(item)
        except (KeyError, IndexError, ValueError):   # ValueError: an HDU not in the list
            return False
        return True

    def __setitem__(self, key: Any, hdu: Any) -> None:
        index = self.index_of(key)
        if not isinstance(hdu, _BaseHDU):
            raise ValueError(f"{hdu} is not an HDU.")
        super().__setitem__(index, hdu)
        self._on_disk = min(self._on_disk, index)

    def __delitem__(self, key: Any) -> None:
        if isinstance(key, slice):
            self.readall()
            start = range(*key.indices(super().__len__()))
            super().__delitem__(key)
            if len(start):
                self._on_disk = min(self._on_disk, min(start))
            return
        index = self.index_of(key)
        super().__delitem__(index)
        self._on_disk = min(self._on_disk, index)

    def index_of(self, key: Any) -> int:
        """Position of an HDU given by index, EXTNAME, (EXTNAME, EXTVER) or the HDU itself."""
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            key = int(key)
            if key < 0:
                self.readall()
                if -key > super().__len__():
                    raise self._not_found()
                return super().__len__() + key
            if key >= super().__len__() and not self._read_past(key):
                raise self._not_found()
            return key
        if isinstance(key, _BaseHDU):
            for i, hdu in enumerate(self):
                if hdu is key:
                    return i
            raise ValueError(f"{key!r} is not in list")
        if isinstance(key, tuple):
            if len(key) != 2:
                raise ValueError(f"Invalid key {key!r}: a name or a (name, version) pair is expected")
            name, ver = key
        else:
            name, ver = key, None
        if not isinstance(name, str):
            raise KeyError(f"Key {key!r} does not exist.")
        wanted = name.strip().upper()
        found = None
        for i, hdu in enumerate(self):
            # "PRIMARY" names the first HDU whatever its EXTNAME, as in astropy
            named = hdu.name.strip().upper() == wanted or (wanted == "PRIMARY" and i == 0)
            if named and (ver is None or hdu.ver == ver):
                found = i
                break
        if found is None:
            raise KeyError(f"Extension {key!r} not found.")
        return found

    def _not_found(self) -> IndexError:
        """The IndexError for an index past the last HDU (astropy's longer message when the
        file was closed before all HDUs were read: the HDU may exist)."""
        if self._cut_short:
            return IndexError("HDU not found, possibly because the index is out of range, or "
                              "because the file was closed before all HDUs were read")
        return IndexError("list index out of range")

    # -- editing ----------------------------------------------------------------------------------

    def append(self, hdu: Any) -> None:
        """Add an HDU at the end (a PrimaryHDU becomes an ImageHDU after the first; an
        extension first in an empty list gets a primary HDU before it)."""
        if not isinstance(hdu, _BaseHDU):
            raise ValueError("HDUList can only append an HDU.")
        self.readall()
        if super().__len__() > 0:
            if isinstance(hdu, PrimaryHDU) and type(hdu).__name__ == "PrimaryHDU":
                hdu = _image_as(ImageHDU, hdu)
            elif type(hdu).__name__ == "GroupsHDU":
                raise ValueError("Can't append a GroupsHDU to a non-empty HDUList")
        elif isinstance(hdu, ImageHDU) and type(hdu) is ImageHDU:
            hdu = _image_as(PrimaryHDU, hdu)
        elif isinstance(hdu, ExtensionHDU):
            super().append(PrimaryHDU())
        super().append(hdu)
        self.update_extend()

    def insert(self, index: int, hdu: Any) -> None:
        """Insert an HDU before ``index``, keeping a valid primary HDU first: inserted first,
        an ImageHDU becomes the PrimaryHDU (another extension gets a blank one before it) and
        the current primary becomes an ImageHDU; inserted later, a PrimaryHDU becomes an
        ImageHDU. ValueError for a GroupsHDU anywhere but first, and for any HDU before a
        GroupsHDU (random groups have no extension form)."""
        if not isinstance(hdu, _BaseHDU):
            raise ValueError(f"{hdu} is not an HDU.")
        self.readall()
        n = super().__len__()
        index = max(0, index + n if index < 0 else index)
        if index > 0 and n > 0:
            if isinstance(hdu, GroupsHDU):
                raise ValueError("A GroupsHDU must be inserted as the primary HDU (index 0).")
            if index >= n:
                self.append(hdu)
                return
            if type(hdu) is PrimaryHDU:
                hdu = _image_as(ImageHDU, hdu)
        elif n > 0:
            old = super().__getitem__(0)
            if isinstance(old, GroupsHDU):
                raise ValueError("The primary HDU is a GroupsHDU, which cannot be made an "
                                 "extension: no HDU can be inserted before it.")
            if type(old) is PrimaryHDU:
                super().__setitem__(0, _image_as(ImageHDU, old))
            hdu = self._as_primary(hdu)
        else:
            hdu = self._as_primary(hdu)
        if index == 0 and isinstance(hdu, ExtensionHDU):
            super().insert(0, PrimaryHDU())
            index = 1
        super().insert(index, hdu)
        self._on_disk = min(self._on_disk, index)
        self.update_extend()

    @staticmethod
    def _as_primary(hdu: _BaseHDU) -> _BaseHDU:
        """``hdu`` as it goes first: a plain ImageHDU becomes a PrimaryHDU."""
        if type(hdu) is ImageHDU:
            return _image_as(PrimaryHDU, hdu)
        return hdu

    def pop(self, index: Any = -1) -> _BaseHDU:
        i = self.index_of(index)
        hdu = super().__getitem__(i)
        del self[i]
        return hdu

    def copy(self) -> HDUList:
        """A new HDUList holding the same HDU objects."""
        return HDUList(list(self))

    def __copy__(self) -> HDUList:
        return self.copy()

    def __deepcopy__(self, memo: Any = None) -> HDUList:
        return HDUList([hdu.copy() for hdu in self])

    def update_extend(self) -> None:
        """Give the primary header EXTEND = T when there are extensions."""
        if super().__len__() == 0 and not self._read_past(0):
            return
        primary = super().__getitem__(0)
        hdr = primary.header
        # a second HDU is enough to know; len() would read every header of the file
        extended = super().__len__() > 1 or self._read_past(1)
        if not extended or isinstance(primary, ExtensionHDU):
            return
        try:
            extend = hdr.get("EXTEND")
        except VerifyError:
            return       # an unparsable card is left for verify to report (and fix)
        if extend is not True:
            _set_extend(hdr)

    # -- information -------------------------------------------------------------------------------

    def info(self, output: Any = None) -> list | None:
        """Print a summary of the HDUs to ``output`` (stdout); ``output=False`` returns the
        rows as tuples instead."""
        if output is None:
            output = sys.stdout
        fill = ("", "", "", 0, (), "", "")
        rows = [(i, *summary, *fill[len(summary):])
                for i, summary in enumerate(hdu._summary() for hdu in self)]
        if not output:
            return rows
        name = "(No file associated with this HDUList)" if self._file is None else self._file.name
        output.write("\n".join(format_info(name, rows)))
        output.write("\n")
        output.flush()
        return None

    def filename(self) -> str | None:
        """The file's name, or None when the list has no file."""
        if self._file is None:
            return None
        if self._file.fileobj is not None:
            name = getattr(self._file.fileobj, "name", None)
            return name if isinstance(name, str) else None
        return self._file.name

    def fileinfo(self, index: int) -> dict[str, Any] | None:
        """Where HDU ``index`` is in the file (``file``, ``filemode``, ``hdrLoc``,
        ``datLoc``, ``datSpan``; locations None for an HDU not yet written there), plus
        ``filename`` and ``resized``; None when the list has no file."""
        if self._file is None:
            return None
        info = self[index].fileinfo()
        if info is None:
            info = {"file": self._file, "filemode": self._file.mode, "hdrLoc": None,
                    "datLoc": None, "datSpan": None}
        info["filename"] = self.filename()
        info["resized"] = self._resized()
        return info

    def _resized(self) -> bool:
        """Whether flushing would have to move HDUs in the file (one was added, removed,
        replaced, or changed size)."""
        if self._on_disk != super().__len__():
            return True
        return any(self._needs_rewrite_for(i, *entry)
                   for i, entry in enumerate(self._on_disk_state()))

    # -- verification ------------------------------------------------------------------------------

    def _verify(self, option: str = "warn") -> _ErrList:
        errs = _ErrList([], unit="HDU")
        if super().__len__() > 0 and not isinstance(super().__getitem__(0), PrimaryHDU) and \
                type(super().__getitem__(0)).__name__ not in ("GroupsHDU", "PrimaryHDU", "_NonstandardHDU"):
            text = "HDUList's 0th element is not a primary HDU."
            fix_text = "Fixed by inserting one as 0th HDU."

            def fix() -> None:
                list.insert(self, 0, PrimaryHDU())
            errs.append(self.run_option(option, err_text=text, fix_text=fix_text, fix=fix))
        if len(self) > 1 and _extend_value(self[0].header) is not True:
            primary = self[0].header
            errs.append(self.run_option(
                option, err_text="Primary HDU does not contain an EXTEND keyword equal to T even "
                "though there are extension HDUs.",
                fix_text="Fixed by inserting or updating the EXTEND keyword.",
                fix=lambda: _set_extend(primary)))
        for i, hdu in enumerate(self):
            if i > 0 and not isinstance(hdu, ExtensionHDU):
                text = f"HDUList's element {i} is not an extension HDU."
                errs.append(self.run_option(option, err_text=text, fixable=False))
            else:
                result = hdu._verify(option)
                if result:
                    errs.append(result)
        return errs

    # -- writing ---------------------------------------------------------------------------------

    def writeto(self, fileobj: Any, output_verify: str = "exception", overwrite: bool = False,
                checksum: bool = False) -> None:
        """Write every HDU to a new file (a path or a writable file object)."""
        if len(self) == 0:
            warnings.warn("There is nothing to write.", FITSUserWarning, stacklevel=2)
            return
        self.verify(option=output_verify)
        self.update_extend()
        for hdu in self:
            # as astropy: the argument decides each HDU's checksum cards, now and on later writes
            hdu._output_checksum = checksum
        if fileobj is None:
            # as astropy: no file simulates the write (verified, data units built, nothing kept)
            for hdu in self:
                hdu._payload()
            return
        if isinstance(fileobj, (str, bytes, os.PathLike)):
            path = os.path.expanduser(os.fsdecode(fileobj))
            if os.path.exists(path) and not overwrite:
                raise OSError(_OVERWRITE.format(path))
            self._write_file(path, compression=_COMPRESSION_OF_EXTENSION.get(
                os.path.splitext(path)[1]))
            return
        if isinstance(fileobj, io.TextIOBase):
            fileobj = _binary_stream(fileobj)
        name = getattr(fileobj, "name", None)
        mode = getattr(fileobj, "mode", "wb")
        if isinstance(name, str) and os.path.isfile(name) and "b" in str(mode) \
                and not hasattr(fileobj, "getvalue"):
            fileobj.flush()
            if os.path.getsize(name) and not overwrite and "a" not in str(mode):
                raise OSError(_OVERWRITE.format(name))
            self._write_file(name, append="a" in str(mode))
            if hasattr(fileobj, "seek"):
                fileobj.seek(0, os.SEEK_END)
            return
        fd, temp = tempfile.mkstemp(suffix=".fits", prefix="fitsbind-")
        os.close(fd)
        try:
            self._write_file(temp)
            with open(temp, "rb") as source:
                while True:
                    chunk = source.read(1 << 24)
                    if not chunk:
                        break
                    fileobj.write(chunk)
        finally:
            os.remove(temp)
        if hasattr(fileobj, "flush"):
            fileobj.flush()

    def _write_file(self, path: str, append: bool = False, compression: str | None = None,
                    payloads: dict[int, np.ndarray | None] | None = None) -> None:
        """Write the HDUs to ``path`` through a new file beside it (:mod:`fitsbind._atomic`),
        so an existing file (perhaps the one being read) is replaced only once the write
        worked, and a failed or killed write leaves it as it was.

        ``append`` adds them after the HDUs already in ``path``. ``compression`` ("gzip",
        "bzip2" or "lzma") compresses the new file. ``payloads`` holds data units already
        built by a flush, by HDU position: those HDUs' checksum cards are current too."""
        opener = None if compression is None else OPENERS.get(compression)
        if compression is not None and opener is None:
            raise OSError(f"{path}: writing {compression}-compressed FITS files is not supported")
        payloads = payloads or {}
        new = Replacement(path)
        try:
            if append and os.path.getsize(path):
                shutil.copyfile(path, new.path)
                fits = FITS(new.path, "r+")
            else:
                # the file is already a new one beside the target: no second temporary
                fits = FITS(new.path, "w+", in_place=True)
            with fits:
                self._check_first_cards(path, len(fits))
                for i, hdu in enumerate(self):
                    if i in payloads:
                        payload = payloads[i]
                    else:
                        payload = hdu._payload()
                        hdu._refresh_checksums(payload)
                    hdu._write_to(fits, payload)
            if opener is not None:
                new = _compress(new, opener)
            new.commit()
        except OSError as exc:
            new.discard()
            _check_free_space(exc, path, self)
            raise
        except BaseException:
            new.discard()
            raise

    def _check_first_cards(self, name: str, position: int, skip: int = 0) -> None:
        """Refuse, before any is written, HDUs (from number ``skip`` on) whose headers cannot
        begin an HDU at their place in ``name``, the first of them going at ``position``:
        SIMPLE first in the file, XTENSION after. astropy writes such headers as they are
        when not verifying (output_verify="ignore"), but what it writes is no FITS file,
        and CFITSIO cannot write it."""
        for offset, hdu in enumerate(super().__getitem__(slice(skip, None))):
            where = position + offset
            first = hdu._first_keyword
            wanted = "XTENSION" if where else "SIMPLE"
            if first != wanted:
                found = f"with {first}" if first else "with no card"
                raise VerifyError(f"{name}, HDU {where}: the header begins {found}, but an HDU "
                                  f"there must begin with {wanted} (verify with 'fix' repairs "
                                  "the header); the HDU is not written")

    def _on_disk_state(self, refresh_checksums: bool = False,
                       ) -> list[tuple[_BaseHDU, str, np.ndarray | None]]:
        """(HDU, header text, payload) of each HDU already in the file: what a flush would
        write there (payloads only for HDUs whose data was loaded). ``refresh_checksums``
        first brings their checksum cards up to date (a flush is about to write them)."""
        state = []
        for i in range(self._on_disk):
            hdu = super().__getitem__(i)
            hdu._keep_disk_size()
            loaded = hdu._data_loaded
            payload = hdu._payload() if loaded else None
            if refresh_checksums:
                hdu._refresh_checksums(payload)
            text = hdu._disk_header_text()
            if hdu._data_loaded and not loaded:
                # summing or rebuilding it loaded the data (a compressed image whose tiles
                # cannot be kept is compressed again): that is the data unit that goes out,
                # not "no data"
                payload = hdu._payload()
            state.append((hdu, text, payload))
        return state

    def _needs_rewrite_for(self, index: int, hdu: _BaseHDU, text: str,
                           payload: np.ndarray | None) -> bool:
        """Whether HDU ``index`` of the file, with header ``text`` and data ``payload``, no
        longer fits where it is."""
        if hdu._file is not self._file or hdu._index != index or hdu._offsets is None:
            return True
        head, data, end = hdu._offsets
        cards = len(text) // 80
        if -(-(cards + 1) // 36) * BLOCK != data - head:
            return True
        if hdu._data_loaded:
            nbytes = 0 if payload is None else payload.nbytes
            if nbytes != end - data:
                return True
        # data not loaded: _keep_disk_size has put back the cards that size it
        return False

    def flush(self, output_verify: str = "fix", verbose: bool = False) -> None:
        """Write changes to the file (modes update, append and ostream)."""
        hdufile = self._file
        if hdufile is None:
            return
        if hdufile.mode not in ("update", "append", "ostream"):
            warnings.warn(f"Flush for '{hdufile.mode}' mode is not supported.", FITSUserWarning,
                          stacklevel=2)
            return
        # (a file object's bytes have no file of theirs to keep a copy beside)
        if self._save_backup and hdufile.mode in ("update", "append") and hdufile.fileobj is None:
            _save_backup(hdufile.name)
        self.verify(option=output_verify)
        try:
            self._flush(hdufile, verbose)
        finally:
            hdufile.copy_back()

    def _flush(self, hdufile: HDUFile, verbose: bool) -> None:
        if hdufile.unwritten:
            if super().__len__() == 0:
                return
            self.update_extend()
            self._write_file(hdufile.name)
            hdufile.attach()
            self._on_disk = super().__len__()
            return
        self.update_extend()
        if hdufile.mode == "update":
            # HDUs of the file not read yet must be known: they move if one before them does
            self.readall()
            state = self._on_disk_state(refresh_checksums=True)
            # fewer HDUs kept in place than the file holds: one was deleted, replaced or inserted
            rewrite = self._on_disk < hdufile.located or \
                any(self._needs_rewrite_for(i, *entry) for i, entry in enumerate(state))
            native = not hdufile.compressed and all(hdufile.native(i)
                                                    for i in range(hdufile.located))
            if not native:
                # a compressed file, or one CFITSIO does not read as astropy does, is written
                # back only as a whole
                rewrite = rewrite or self._on_disk < super().__len__() or \
                    any(_changed(*entry) for entry in state)
            if rewrite:
                self._rewrite(state)
                return
            if not native:
                hdufile.flush_map()
                return
            self._flush_in_place(state, verbose)
        fits = hdufile.writer()
        self._check_first_cards(hdufile.name, self._on_disk, skip=self._on_disk)
        for i in range(self._on_disk, super().__len__()):
            hdu = super().__getitem__(i)
            if verbose:
                print(f"append HDU {i}")
            payload = hdu._payload()
            hdu._refresh_checksums(payload)
            try:
                hdu._write_to(fits, payload)
            except OSError as exc:
                _check_free_space(exc, hdufile.name, [hdu])
                raise
        self._on_disk = super().__len__()
        hdufile.forget_map()
        fits.flush()

    def _flush_in_place(self, state: list[tuple[_BaseHDU, str, np.ndarray | None]],
                        verbose: bool) -> None:
        hdufile = self._file
        headers = {i: hdu._written_header_text(text)
                   for i, (hdu, text, _) in enumerate(state) if text != hdu._header_text}
        # CFITSIO judges a header only once its cards are in the file, so a refused header
        # would leave the file half rewritten: it reads them in a scratch file first, unless
        # it would read them as it read the header they replace
        _check_headers(hdufile.name, {i: text for i, text in headers.items()
                                      if _judged_anew(state[i][0]._header_text, text)})
        hdufile.flush_map()
        fits = hdufile.writer()
        for i, (hdu, text, payload) in enumerate(state):
            if i in headers:
                if verbose:
                    print(f"update header in place: HDU {i}")
                fits.replace_header(i, headers[i])
                hdu._header_text = text
            if payload is not None and payload.nbytes and not hdu._is_mapped(payload):
                if verbose:
                    print(f"update data in place: HDU {i}")
                fits.write_data(i, payload)
        fits.flush()

    def _rewrite(self, state: list[tuple[_BaseHDU, str, np.ndarray | None]]) -> None:
        """Rewrite the whole file (an HDU changed size, or the list no longer matches the
        file): every HDU is read first, the new file replaces the old one, and the HDUs are
        bound to the new file. ``state`` is :meth:`_on_disk_state`'s, checksums refreshed:
        the data units it built are written as they are."""
        hdufile = self._file
        hdus = list(self)
        payloads = {i: payload for i, (hdu, _, payload) in enumerate(state) if hdu._data_loaded}
        for hdu in hdus:
            if not hdu._data_loaded and hdu._file is not None:
                hdu.data  # noqa: B018 - loading it now, the old file is about to go
        self._write_file(hdufile.name, compression=hdufile.compression, payloads=payloads)
        hdufile.reopen()
        for i, hdu in enumerate(hdus):
            hdu._file = hdufile
            hdu._index = i
            hdu._offsets = hdufile.extents[i]
            # the header now in the file is the text just written
            hdu._header_text = hdu._disk_header_text()
        self._on_disk = len(hdus)

    def close(self, output_verify: str = "exception", verbose: bool = False,
              closed: bool = True) -> None:
        """Flush (writable modes) and close the file."""
        hdufile = self._file
        if hdufile is None:
            return
        try:
            # as astropy: an ostream list is written by flush() only
            if hdufile.mode in ("update", "append") and not hdufile.closed:
                self.flush(output_verify=output_verify, verbose=verbose)
        finally:
            if closed:
                for hdu in super().__iter__():
                    if hdu._file is hdufile and not hdu._data_loaded:
                        hdu._data = None
                hdufile.close()

    def __enter__(self) -> HDUList:
        return self

    def __exit__(self, *exc_info: object) -> None:
        output_verify = self._open_kwargs.get("output_verify", "exception")
        self.close(output_verify=output_verify)


def format_info(filename: str, rows: list[tuple]) -> list[str]:
    """The lines :meth:`HDUList.info` prints (as astropy prints them, trailing blanks
    included) for ``rows``, the tuples ``info(output=False)`` returns."""
    lines = [f"Filename: {filename}",
             "No.    Name      Ver    Type      Cards   Dimensions   Format"]
    lines += ["{:3d}  {:10}  {:3} {:11}  {:5d}   {}   {}   {}".format(*row) for row in rows]
    return lines


_SCRATCH_PRIMARY = PrimaryHDU(header=None)._disk_header_text()


def _check_headers(name: str, headers: dict[int, str]) -> None:
    """Have CFITSIO read each header text of ``headers`` (by HDU index in the file ``name``)
    as the header of a new HDU in a scratch file: the FITSError it raises for one it refuses
    (an invalid TFORM, NAXIS1 not the columns' width, ...) comes before the file changes.

    The scratch HDUs get no data: the file is grown over their data units sparsely."""
    if not headers:
        return
    fd, scratch = tempfile.mkstemp(suffix=".fits", prefix="fitsbind-check-")
    os.close(fd)
    os.remove(scratch)
    try:
        with FITS(scratch, "w+", in_place=True) as fits:
            for index, text in headers.items():
                if index > 0 and len(fits) == 0:
                    fits.append_hdu(_SCRATCH_PRIMARY)
                try:
                    fits.append_hdu(text)
                except FITSError as exc:
                    # the reason, without the scratch file's name or CFITSIO's message stack
                    reason = exc.status_text or str(exc).splitlines()[0].rpartition(
                        "malformed header: ")[2]
                    raise FITSError(f"{name}, HDU {index}: CFITSIO refuses the new header "
                                    f"({reason}); the file is unchanged",
                                    status=exc.status, status_text=exc.status_text,
                                    messages=exc.messages, filename=name, hdu=index) from None
    finally:
        if os.path.exists(scratch):
            os.remove(scratch)


# the keywords CFITSIO interprets when it reads a header (the structure, scaling, table and
# tile-compression keywords; T... and Z... cover every column and compression keyword), by
# how their records begin
_CFITSIO_READS = ("SIMPLE", "XTENSION", "BITPIX", "NAXIS", "PCOUNT", "GCOUNT", "GROUPS",
                  "EXTEND", "BSCALE", "BZERO", "BLANK", "T", "Z", "END", "CONTINUE")


def _judged_anew(old: str, new: str) -> bool:
    """Whether CFITSIO might judge the header text ``new``, replacing ``old`` (a header it
    read), otherwise than ``old``: unless every record that differs is, in both, one whose
    keyword it does not interpret, it reads the same cards at the same places."""
    for at in range(0, max(len(old), len(new)), 80):
        before = old[at:at + 80]
        after = new[at:at + 80]
        if before != after and (before.startswith(_CFITSIO_READS) or
                                after.startswith(_CFITSIO_READS)):
            return True
    return False


def _changed(hdu: _BaseHDU, text: str, payload: np.ndarray | None) -> bool:
    """Whether a flush has to write HDU ``hdu`` (header ``text``, data unit ``payload``):
    its header differs from the file's, or its data is loaded and not the file's own map."""
    return text != hdu._header_text or (
        payload is not None and payload.nbytes > 0 and not hdu._is_mapped(payload))


# the compression astropy gives a file it writes, by the file name's extension
_COMPRESSION_OF_EXTENSION = {".gz": "gzip", ".bz2": "bzip2", ".xz": "lzma", ".zip": "zip"}


#: CFITSIO's status for a write to the file that failed (WRITE_ERROR in fitsio.h)
_CFITSIO_WRITE_ERROR = 106


def _check_free_space(exc: OSError, path: str, hdus: Any) -> None:
    """After ``exc``, a failure to write ``hdus`` to ``path``: as astropy, when the disk has
    less room than their data units need, raise an OSError that says so first ("Not enough
    space on disk: requested <bytes>, available <bytes>. <exc>"); else return."""
    if isinstance(exc, FITSError):
        # fitsbind's own refusals (a header that claims more data than the file holds, ...)
        # are not a full disk; a write CFITSIO could not make may be
        if exc.status != _CFITSIO_WRITE_ERROR:
            return
    elif exc.errno not in (None, errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return
    try:
        free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
        requested = sum(data_size(hdu.header) or 0 for hdu in hdus)
    except (OSError, KeyError, TypeError, VerifyError):
        return      # the original failure says more than a size that cannot be known
    if free < requested:
        raise OSError(f"Not enough space on disk: requested {requested}, available {free}. "
                      f"{exc}") from exc


def _binary_stream(text: io.TextIOBase) -> Any:
    """The binary stream under the text stream ``text`` (``sys.stdout.buffer`` for
    ``sys.stdout``), with the text written so far flushed to it first: FITS bytes are not
    text. TypeError when ``text`` has none (a ``StringIO``)."""
    binary = getattr(text, "buffer", None)
    if binary is None:
        raise TypeError(f"cannot write FITS bytes to the text stream {text!r}: a binary file "
                        "object is required")
    text.flush()
    return binary


def _save_backup(filename: str) -> None:
    """Copy ``filename`` to ``<filename>.bak`` (``.bak.1``, ``.bak.2``, ... when that exists)
    before a flush changes it, with a warning naming the copy, as astropy's ``save_backup``."""
    if not os.path.exists(filename):
        return
    backup = filename + ".bak"
    number = 0
    while os.path.exists(backup):
        number += 1
        backup = f"{filename}.bak.{number}"
    warnings.warn(f"Saving a backup of {filename} to {backup}.", FITSUserWarning, stacklevel=4)
    try:
        shutil.copy(filename, backup)
    except OSError as exc:
        raise OSError(f"{filename}: failed to save a backup to {backup}: {exc}") from exc


def _compress(plain: Replacement, opener: Callable[..., Any]) -> Replacement:
    """The compressed form of the new FITS file ``plain``, written through ``opener`` into a
    new file for the same target; ``plain`` is removed."""
    packed = Replacement(plain.target)
    try:
        with open(plain.path, "rb") as source, opener(packed.path, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 24)
    except BaseException:
        packed.discard()
        raise
    plain.discard()
    return packed


def _check_sums(hdu: _BaseHDU, index: int) -> None:
    """Check the CHECKSUM and DATASUM cards of ``hdu`` as read (a warning for each that does
    not match), and keep their values and results on it (``_checksum``, ``_checksum_valid``,
    ``_datasum``, ``_datasum_valid``: what fitscheck-style tools look at)."""
    for keyword, verify in (("CHECKSUM", hdu.verify_checksum), ("DATASUM", hdu.verify_datasum)):
        if keyword not in hdu.header:
            continue
        attribute = f"_{keyword.lower()}"
        setattr(hdu, attribute, hdu.header[keyword])
        valid = verify()
        setattr(hdu, f"{attribute}_valid", valid)
        if valid == 0:
            warnings.warn(f"{keyword.capitalize()} verification failed for HDU "
                          f"{(hdu.name, hdu.ver)}.\n", FITSUserWarning, stacklevel=4)


__all__ = ["DELAYED", "HDUList", "VerifyWarning", "fitsopen", "format_info"]


def _set_extend(header: Any) -> None:
    """EXTEND = T in a primary header: in place, or after the last NAXISn (NAXIS when there
    are no axes)."""
    if "EXTEND" in header:
        header["EXTEND"] = True
        return
    naxis = header.get("NAXIS", 0)
    after = f"NAXIS{naxis}" if naxis and f"NAXIS{naxis}" in header else "NAXIS"
    header.set("EXTEND", True, after=after if after in header else None)


def _extend_value(header: Any) -> Any:
    """The primary header's EXTEND value (None when absent or unparsable: such a card is
    replaced by a fix, and reported by verify)."""
    try:
        return header.get("EXTEND")
    except VerifyError:
        return None


def _extends(header: Any) -> bool:
    """The primary header's EXTEND, an unparsable card counting as false (the HDUs after it
    are read all the same, and the card is left for verify to report)."""
    try:
        return bool(header.get("EXTEND"))
    except VerifyError:
        return False
