"""FitsHDU: a whole FITS file carried as the data of one extension (XTENSION = 'FITS').

The data unit holds the embedded file's bytes, gzip-compressed when the header's COMPRESS
card is true, padded with zeros to whole 2880-byte blocks (NAXIS1 counts the padding). XINDn
cards give the byte offset of the embedded file's extension n, counted in the uncompressed
file. :attr:`FitsHDU.hdulist` reads the embedded file back.
"""

from __future__ import annotations

import functools
import gzip
import io
import zlib
from typing import Any

import numpy as np

from fitsbind.checksum import padded_length
from fitsbind.hdu.base import DELAYED, NonstandardExtHDU, _register_builtin, xtension
from fitsbind.hdu.hdulist import HDUList, fitsopen
from fitsbind.header import Header

__all__ = ["FitsHDU"]


@_register_builtin
class FitsHDU(NonstandardExtHDU):
    """An extension holding a whole FITS file (see the module's description). Build one with
    :meth:`fromhdulist` or :meth:`fromfile`; read the file it holds with :attr:`hdulist`."""

    _extension = "FITS"

    def __init__(self, data: Any = None, header: Header | None = None, name: str | None = None,
                 ver: int | None = None, **kwargs: Any) -> None:
        super().__init__(data=data, header=header, name=name, ver=ver, **kwargs)
        if data is not DELAYED and data is not None:
            try:
                self._data = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
            except TypeError:
                raise TypeError(f"FitsHDU data must be the bytes of a FITS file (bytes or a "
                                f"numpy array), not {type(data).__name__}") from None

    @classmethod
    def match_header(cls, header: Header) -> bool:
        return xtension(header) == cls._extension

    @functools.cached_property
    def hdulist(self) -> HDUList:
        """The embedded file's HDUs, read into memory (headers and data; no file stays open).
        Raises ``OSError`` when COMPRESS is true but the bytes are no gzip stream."""
        raw = self.data.tobytes() if self.data is not None else b""
        if self._header.get("COMPRESS"):
            raw = _gunzip(raw, self._where())
        with fitsopen(io.BytesIO(raw), memmap=False, lazy_load_hdus=False) as hdul:
            for hdu in hdul:
                _ = hdu.data       # loaded now: the list outlives the buffer it was read from
            return HDUList(list(hdul))

    @classmethod
    def fromhdulist(cls, hdulist: HDUList, compress: bool = False) -> FitsHDU:
        """A FitsHDU holding ``hdulist`` as it writes to a file (``hdulist.writeto``), gzip
        compressed when ``compress``."""
        buffer = io.BytesIO()
        hdulist.writeto(buffer)
        raw = buffer.getvalue()
        offsets = _extension_offsets(raw)
        if compress:
            raw = gzip.compress(raw)
        data = np.zeros(padded_length(len(raw)), dtype=np.uint8)
        data[:len(raw)] = np.frombuffer(raw, dtype=np.uint8)
        cards = [("XTENSION", cls._extension, "a FITS file in an extension"),
                 ("BITPIX", 8, "bytes"),
                 ("NAXIS", 1, "one axis"),
                 ("NAXIS1", len(data), "bytes of the file, padded to 2880-byte blocks"),
                 ("PCOUNT", 0, "no parameters"),
                 ("GCOUNT", 1, "one group")]
        cards += [(f"XIND{n}", offset, f"where extension {n} starts in the file (bytes)")
                  for n, offset in enumerate(offsets, start=1)]
        cards.append(("COMPRESS", bool(compress), "the file is gzip-compressed"))
        return cls(data=data, header=Header(cards))

    @classmethod
    def fromfile(cls, filename: Any, compress: bool = False) -> FitsHDU:
        """A FitsHDU holding the FITS file ``filename`` (as :meth:`fromhdulist` would, from
        the file's HDUs)."""
        with fitsopen(filename) as hdulist:
            return cls.fromhdulist(hdulist, compress=compress)


def _extension_offsets(raw: bytes) -> list[int]:
    """Byte offsets of the extension headers (every HDU after the first) in the FITS file
    ``raw``."""
    with fitsopen(io.BytesIO(raw), memmap=False, lazy_load_hdus=False) as hdul:
        return [hdul.fileinfo(i)["hdrLoc"] for i in range(1, len(hdul))]


def _gunzip(raw: bytes, where: str) -> bytes:
    """The gzip stream at the start of ``raw`` decompressed (the zero padding after it
    ignored)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(raw)
    except zlib.error as exc:
        raise OSError(f"{where}: COMPRESS = T but the data is not a gzip stream ({exc})") from None
    if not inflater.eof:
        raise OSError(f"{where}: COMPRESS = T but the gzip stream in the data is cut short")
    return plain
