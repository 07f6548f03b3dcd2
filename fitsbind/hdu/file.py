"""The open file behind a drop-in :class:`~fitsbind.HDUList`.

:class:`HDUFile` owns the direct-tier handle (``fitsbind.direct.FITS``) and, when memory
mapping is on, one ``numpy.memmap`` of the whole file from which every HDU's ``.data`` is a
view. astropy's mode names map onto the handle and the mapping as follows:

============  ===========  ================================================
mode          handle       memory map
============  ===========  ================================================
readonly      read-only    copy-on-write (arrays writable, file untouched)
denywrite     read-only    read-only (arrays not writable)
update        read-write   shared (assignments reach the file)
append        read-write   copy-on-write
ostream       created on   none (the file is written by flush)
              first flush
============  ===========  ================================================
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tempfile
from typing import Any

import numpy as np

from fitsbind.direct import FITS

MODES = ("readonly", "update", "append", "denywrite", "ostream", "copyonwrite")
_HANDLE_MODE = {"readonly": "r", "copyonwrite": "r", "denywrite": "r", "update": "r+",
                "append": "r+"}
_MAP_MODE = {"readonly": "c", "copyonwrite": "c", "denywrite": "r", "update": "r+",
             "append": "c"}
WRITABLE_MODES = ("update", "append", "ostream")


class HDUFile:
    """One file opened by :func:`fitsbind.open` (or written by ``HDUList.writeto``).

    ``name`` is the path on disk (a temporary copy for file-like objects that are not plain
    files: their bytes are copied in on open and back on close for writable modes).
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
        self.name = self._resolve(target)
        if mode == "ostream" and self.fileobj is None:
            if os.path.exists(self.name) and os.path.getsize(self.name) and not overwrite:
                raise OSError(f"File {self.name} already exists. If you mean to replace it "
                              'then use the argument "overwrite=True".')
            open(self.name, "wb").close()
        if mode != "ostream":
            self.fits = FITS(self.name, _HANDLE_MODE[mode])

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

    # -- state --------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.fits is None or self.fits.closed

    @property
    def writable(self) -> bool:
        return self.mode in WRITABLE_MODES

    def handle(self) -> Any:
        """The open FitsFile (the direct tier's CFITSIO handle)."""
        if self.fits is None:
            raise ValueError("I/O operation on closed or not yet written file")
        return self.fits._handle()

    def attach(self) -> None:
        """Open the handle on a file just created by an ostream flush."""
        if self.fits is None:
            self.fits = FITS(self.name, "r+")

    # -- data access --------------------------------------------------------------------------

    def mapping(self) -> np.memmap | None:
        """The whole file as a uint8 ``numpy.memmap`` (None when the file cannot be mapped:
        memmap off, gzip-compressed, or empty)."""
        if not self.memmap or self.fits is None:
            return None
        if self._map is None:
            f = self.handle()
            if f.raw_access() is None or os.path.getsize(self.name) == 0:
                return None
            self._map = np.memmap(self.name, dtype=np.uint8, mode=_MAP_MODE[self.mode])
        return self._map

    def array(self, index: int, start: int, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
        """``dtype``/``shape`` data at byte ``start`` of the file (inside HDU ``index``'s data
        unit): a view of the memory map when there is one, else read through CFITSIO."""
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        mapped = self.mapping()
        if mapped is not None and start + nbytes <= len(mapped):
            return mapped[start:start + nbytes].view(dtype).reshape(shape)
        out = np.empty(shape, dtype=dtype)
        f = self.handle()
        with f.lock:
            f.move_to(index)
            data_start = f.hdu_offsets()[1]
            f.read_data_bytes(start - data_start, out.reshape(-1).view(np.uint8))
        return out

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

    def close(self) -> None:
        """Flush and close; copy a temporary file back to the caller's file object."""
        self.flush_map()
        self._map = None
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
