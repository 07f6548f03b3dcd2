"""StreamingHDU: an HDU whose header is written first and whose data follows in pieces.

The header goes to the end of the file through the direct tier's ``append_hdu`` with a data
unit of zeros (a sparse region); each :meth:`StreamingHDU.write` then fills the next bytes
of it with ``write_data``, so the data never has to be in memory whole and every byte reaches
the disk through the direct tier. A stream closed before it is complete leaves the rest of
the data unit as zeros (with a warning), never a file that ends inside an HDU.
"""

from __future__ import annotations

import gzip
import warnings
from typing import Any

import numpy as np

from fitsbind.hdu.file import HDUFile, data_size
from fitsbind.hdu.image import BITPIX2DTYPE, PrimaryHDU
from fitsbind.header import Header
from fitsbind.verify import FITSUserWarning

__all__ = ["StreamingHDU"]


class StreamingHDU:
    """Stream the data of one HDU to a file: ``StreamingHDU(name, header)``, then
    :meth:`write` the data in pieces, then :meth:`close`.

    ``name`` is a path or a binary file object opened for appending ("ab+"; other modes of
    an open file raise ValueError). When the file is absent or empty, the HDU is its primary
    HDU if ``header`` starts with SIMPLE, else it follows a minimal primary HDU; in a file
    that already holds HDUs it becomes an IMAGE extension (SIMPLE replaced by XTENSION, with
    PCOUNT = 0 and GCOUNT = 1 added when missing). ``header`` itself is not changed.
    """

    def __init__(self, name: Any, header: Header) -> None:
        if isinstance(name, gzip.GzipFile):
            raise TypeError("StreamingHDU cannot write into a GzipFile object (it fills the "
                            "data unit in place): stream to a plain file and compress it after")
        self._header = header.copy()
        self._file = HDUFile(name, "append", memmap=False)
        try:
            self._index = self._start()
        except BaseException:
            self._file.close()
            raise
        self._written = 0       # bytes of the data unit written so far
        self.writecomplete = self.size == 0

    def _start(self) -> int:
        """Write the header (after a primary HDU in a new file, when it is an extension's);
        return the new HDU's index."""
        hdufile = self._file
        new = hdufile.unwritten
        if new:
            hdufile.create()
        elif "SIMPLE" in self._header:
            _as_image_extension(self._header)
        fits = hdufile.writer()
        if new and "SIMPLE" not in self._header:
            fits.append_hdu(PrimaryHDU()._written_header_text())
        index = fits.append_hdu(self._header.tostring(endcard=False, padding=False))
        self._data_start = fits.locate(index).data_start
        self._sync()
        return index

    def __enter__(self) -> StreamingHDU:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def size(self) -> int:
        """Bytes of data the header describes (padding excluded)."""
        return data_size(self._header) or 0

    def write(self, data: np.ndarray) -> bool:
        """Write ``data`` (an array of the header's BITPIX type, any byte order) as the next
        bytes of the data unit; return whether the data unit is now complete.

        OSError when ``data`` would go past the size the header gives (nothing is written),
        TypeError when its dtype is not the header's BITPIX."""
        if self.writecomplete or self._written + data.nbytes > self.size:
            raise OSError(f"{self._file.name}: {data.nbytes} more bytes would go past the "
                          f"{self.size}-byte data unit the header describes ({self._written} "
                          "written); nothing was written")
        expected = BITPIX2DTYPE[self._header["BITPIX"]]
        if expected != data.dtype.name:
            raise TypeError(f"{self._file.name}: the data are {data.dtype.name}, but BITPIX = "
                            f"{self._header['BITPIX']} in the header means {expected}")
        self._file.writer().write_data(self._index, data, self._written)
        start = self._data_start + self._written
        self._written += data.nbytes
        self.writecomplete = self._written == self.size
        self._sync(start, self._data_start + self._written)
        return self.writecomplete

    def _sync(self, start: int = 0, stop: int | None = None) -> None:
        """Make what was written visible: on disk, and in the caller's file object (whole, or
        bytes ``start`` to ``stop`` of the file, when only those changed)."""
        self._file.writer().flush()
        self._file.copy_back(start, stop)

    def close(self) -> None:
        """Close the file (a stream left incomplete keeps zeros for the data not written)."""
        if self._file.closed:
            return
        if not self.writecomplete:
            warnings.warn(f"{self._file.name}: the stream was closed after {self._written} of "
                          f"{self.size} data bytes; the rest of the data unit is zeros",
                          FITSUserWarning, stacklevel=2)
        self._file.close()


def _as_image_extension(header: Header) -> None:
    """Turn the primary header ``header`` into an IMAGE extension's, in place."""
    header.set("XTENSION", "IMAGE", "Image extension", after="SIMPLE")
    del header["SIMPLE"]
    if "PCOUNT" not in header:
        naxis = header.get("NAXIS", 0)
        header.set("PCOUNT", 0, "number of parameters", after=f"NAXIS{naxis}" if naxis else "NAXIS")
    if "GCOUNT" not in header:
        header.set("GCOUNT", 1, "number of groups", after="PCOUNT")
