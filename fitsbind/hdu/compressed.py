"""CompImageHDU: a tile-compressed image (a BINTABLE with ZIMAGE = T) seen as the image.

``.header`` is the image header rebuilt from the table's Z keywords, ``.data`` and
``.section`` decompress through CFITSIO. Such an HDU is copied unchanged when its list is
written; compressing new data is not supported yet and raises NotImplementedError.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fitsbind.direct.sections import select
from fitsbind.hdu.base import DELAYED, _register_builtin
from fitsbind.hdu.image import BITPIX2DTYPE, ImageHDU
from fitsbind.header import Header

# table keywords that carry an image keyword under another name
_RENAMED = {"ZSIMPLE": "SIMPLE", "ZTENSION": "XTENSION", "ZBITPIX": "BITPIX", "ZNAXIS": "NAXIS",
            "ZEXTEND": "EXTEND", "ZBLOCKED": "BLOCKED", "ZPCOUNT": "PCOUNT",
            "ZGCOUNT": "GCOUNT", "ZHECKSUM": "CHECKSUM", "ZDATASUM": "DATASUM"}
_TABLE_ONLY = {"XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT", "TFIELDS",
               "THEAP", "ZIMAGE", "ZCMPTYPE", "ZQUANTIZ", "ZDITHER0", "ZMASKCMP", "EXTEND",
               "CHECKSUM", "DATASUM", "SIMPLE"}
_COLUMN_PREFIXES = ("TTYPE", "TFORM", "TUNIT", "TNULL", "TSCAL", "TZERO", "TDISP", "TDIM",
                    "ZTILE", "ZNAME", "ZVAL", "ZNAXIS")


def image_header(table: Header) -> Header:
    """The header of the image a compressed-image table header describes."""
    cards: list[tuple] = []
    if table.get("ZSIMPLE") is True:
        cards.append(("SIMPLE", True, "conforms to FITS standard"))
    else:
        cards.append(("XTENSION", table.get("ZTENSION", "IMAGE"), "Image extension"))
    cards.append(("BITPIX", table["ZBITPIX"], "array data type"))
    naxis = table["ZNAXIS"]
    cards.append(("NAXIS", naxis, "number of array dimensions"))
    for i in range(1, naxis + 1):
        cards.append((f"NAXIS{i}", table[f"ZNAXIS{i}"]))
    if table.get("ZSIMPLE") is True:
        if "ZEXTEND" in table:
            cards.append(("EXTEND", table["ZEXTEND"]))
    else:
        cards.append(("PCOUNT", table.get("ZPCOUNT", 0), "number of parameters"))
        cards.append(("GCOUNT", table.get("ZGCOUNT", 1), "number of groups"))
    header = Header(cards)
    for card in table.cards:
        key = card.keyword
        if key in _RENAMED:
            if _RENAMED[key] in ("CHECKSUM", "DATASUM"):
                header.set(_RENAMED[key], card.value, card.comment)
            continue
        if key in _TABLE_ONLY or (key.startswith(_COLUMN_PREFIXES) and key[5:].isdigit()) or (
                key.startswith(_COLUMN_PREFIXES) and key[4:].isdigit()):
            continue
        header.append(card, useblanks=False, bottom=True)
    return header


@_register_builtin
class CompImageHDU(ImageHDU):
    """A tile-compressed image HDU."""

    def __init__(self, data: Any = None, header: Header | None = None, name: str | None = None,
                 compression_type: str = "RICE_1", tile_shape: Any = None, hcomp_scale: float = 0,
                 hcomp_smooth: int = 0, quantize_level: float = 16.0, quantize_method: int = -1,
                 dither_seed: int = 0, do_not_scale_image_data: bool = False, uint: bool = True,
                 scale_back: bool | None = None, bintable: Any = None) -> None:
        self._table_header: Header | None = None
        if data is DELAYED:
            self._table_header = header
            header = image_header(header)
        elif bintable is not None:
            raise NotImplementedError("building a CompImageHDU from a BinTableHDU is not "
                                      "supported yet")
        self.compression_type = compression_type
        self.tile_shape = tile_shape
        super().__init__(data=data, header=header, name=name,
                         do_not_scale_image_data=do_not_scale_image_data, uint=uint,
                         scale_back=scale_back)

    @classmethod
    def match_header(cls, header: Header) -> bool:
        cards = header.cards
        return (bool(cards) and cards[0].keyword == "XTENSION"
                and str(cards[0].value).rstrip() == "BINTABLE" and header.get("ZIMAGE") is True)

    @property
    def compressed_header(self) -> Header | None:
        """The BINTABLE header as stored in the file."""
        return self._table_header

    def _read_stored(self, key: Any) -> np.ndarray:
        """Stored pixels ``key`` selects: CFITSIO decompresses only the tiles they touch."""
        f = self._file.handle()
        shape = self.shape
        sel = select(key, shape, f"{self._file.name}, HDU {self._index}")
        stored = np.dtype(BITPIX2DTYPE[self._orig_bitpix])
        box = np.empty(sel.box_shape, dtype=stored)
        if not sel.empty:
            with f.lock:
                f.move_to(self._index)
                f.read_pixels(box, *sel.fits_box())
        return sel.to_result(box)

    def _load_data(self) -> np.ndarray | None:
        shape = self.shape
        if not shape or 0 in shape:
            return None
        raw = self._read_stored(Ellipsis)
        if not self._scaled:
            return raw
        data = self._scale(raw)
        self._after_scaling(data.dtype)
        return data

    def _payload(self) -> np.ndarray | None:
        """The compressed table bytes as read (the HDU is copied, not recompressed)."""
        if self._file is None or self._data_replaced or self._table_header is None:
            raise NotImplementedError("writing new tile-compressed images is not supported yet")
        _, start, end = self._offsets
        return self._file_array(0, np.uint8, (end - start,))

    def _disk_header_text(self) -> str:
        if self._table_header is None:
            raise NotImplementedError("writing new tile-compressed images is not supported yet")
        return self._table_header.tostring(endcard=False, padding=False)
