"""One-line-per-HDU summaries of a FITS file (what ``fitsbind info`` prints)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from fitsbind import _fitsfile
from fitsbind.errors import FITSKeyError

__all__ = ["HDUSummary", "format_summary", "summarize"]

# equivalent BITPIX (CFITSIO image type code) -> numpy dtype name
_IMAGE_DTYPES = {
    8: "uint8",
    10: "int8",
    16: "int16",
    20: "uint16",
    32: "int32",
    40: "uint32",
    64: "int64",
    80: "uint64",
    -32: "float32",
    -64: "float64",
}


@dataclass(frozen=True)
class HDUSummary:
    """What ``info`` shows of one HDU.

    ``dimensions`` is in FITS axis order (NAXIS1 first), as astropy prints it, or
    ``"<rows>R x <cols>C"`` for tables; ``format`` is a numpy dtype name for images and the
    TFORM list for tables. A tile-compressed table (ZTABLE = T) shows the table it holds:
    ZNAXIS2 rows and its ZFORMn list, marked ``tile-compressed``.
    """

    index: int
    name: str
    ver: int
    type: str
    cards: int
    dimensions: str
    format: str


def _key(handle: _fitsfile.FitsFile, name: str, default=None):
    try:
        return handle.read_key(name)[0]
    except FITSKeyError:
        return default


def _summarize_current(handle: _fitsfile.FitsFile, index: int) -> HDUSummary:
    hdutype = handle.hdu_type
    compressed = hdutype == _fitsfile.HDU_BINARY_TABLE and handle.is_compressed_image()
    name = _key(handle, "EXTNAME", "PRIMARY" if index == 0 else "")
    ver = _key(handle, "EXTVER", 1)
    if hdutype == _fitsfile.HDU_IMAGE or compressed:
        bitpix, equiv, shape = handle.image_info()
        if compressed:
            kind = "CompImageHDU"
        elif index == 0:
            kind = "GroupsHDU" if _key(handle, "GROUPS", False) is True else "PrimaryHDU"
        else:
            kind = "ImageHDU"
        dims = f"({', '.join(str(n) for n in reversed(shape))})" if len(shape) != 1 else f"({shape[0]},)"
        fmt = _IMAGE_DTYPES.get(bitpix, str(bitpix)) if shape else ""
        if shape and equiv != bitpix:
            fmt += f" (rescales to {_IMAGE_DTYPES.get(equiv, equiv)})"
    elif hdutype == _fitsfile.HDU_BINARY_TABLE and _key(handle, "ZTABLE") is True:
        # a tile-compressed table: the table it holds, not the table of compressed tiles
        kind = "BinTableHDU"
        ncols = handle.table_info()[1]
        dims = f"{_key(handle, 'ZNAXIS2', '?')}R x {ncols}C"
        forms = ", ".join(str(_key(handle, f"ZFORM{i}", "?")) for i in range(1, ncols + 1))
        fmt = f"[{forms}] tile-compressed"
    else:
        kind = "TableHDU" if hdutype == _fitsfile.HDU_ASCII_TABLE else "BinTableHDU"
        nrows, ncols = handle.table_info()
        dims = f"{nrows}R x {ncols}C"
        fmt = "[" + ", ".join(str(_key(handle, f"TFORM{i}", "?")) for i in range(1, ncols + 1)) + "]"
    # a keyword continued over CONTINUE cards counts once, as astropy counts it
    header = handle.header_string()
    continued = sum(header.startswith("CONTINUE  ", i) for i in range(0, len(header), 80))
    return HDUSummary(index, str(name), int(ver), kind, handle.num_keys() - continued, dims, fmt)


def summarize(path: str | os.PathLike) -> list[HDUSummary]:
    """Summaries of every HDU of the FITS file at ``path``, in file order."""
    with _fitsfile.open_file(path) as handle:
        rows = []
        for index in range(handle.num_hdus()):
            handle.move_to(index)
            rows.append(_summarize_current(handle, index))
        return rows


def format_summary(filename: str, rows: list[HDUSummary]) -> str:
    """The table astropy's ``HDUList.info()`` prints, for these summaries."""
    lines = [f"Filename: {filename}", "No.    Name      Ver    Type      Cards   Dimensions   Format"]
    for r in rows:
        lines.append(
            f"{r.index:3d}  {r.name:10}  {r.ver:3d} {r.type:11}  {r.cards:5d}   {r.dimensions}   {r.format}"
        )
    return "\n".join(line.rstrip() for line in lines)
