"""``fitsbind decompress``: restore tile-compressed images and tables, as ``funpack`` does
and with its options.

Images are decoded in bands of whole tile rows (:data:`_fz.BAND_BYTES` of pixels at a time,
the tiles of a band on every core) and written as they come, so a file larger than memory is
never held whole. A primary image that fpack moved into the first extension (ZSIMPLE = T)
becomes the primary HDU again.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

import fitsbind
from fitsbind.cli import _fz
from fitsbind.direct import CompressedImageHDU, CompressedTableHDU, stored_chunks

NAME = "decompress"
HELP = ("Restore tile-compressed FITS files, as funpack: FILE.fits.fz becomes FILE.fits "
        "(kept beside the input). Exit status 1 if any file failed (its input and any "
        "existing output are left as they were).")

# cards of the compressed table that describe the table, or the image in Z form
_TABLE_LAYOUT = re.compile(r"SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|TFIELDS|THEAP|"
                           r"T(TYPE|FORM|UNIT|DIM|SCAL|ZERO|NULL|DISP)\d+|CHECKSUM|DATASUM|"
                           r"Z(IMAGE|SIMPLE|TENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|EXTEND|TILE\d+|"
                           r"CMPTYPE|NAME\d+|VAL\d+|QUANTIZ|DITHER0|BLANK|HECKSUM|DATASUM)")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", dest="verbose", action="store_true",
                        help="name each file written on stderr")
    _fz.add_common_options(parser, "decompress")


def output_name(path: str) -> str:
    """Where ``fitsbind decompress`` writes ``path`` restored by default: the name without
    its ``.fz``; ValueError for other names (as funpack, which needs -O, -F or -S then)."""
    if not path.endswith(".fz") or len(path) == 3:
        raise ValueError(f"{path}: the name does not end in .fz; name the output with -O, or "
                         "use -F or -S")
    return path[:-3]


def run(options: argparse.Namespace) -> int:
    return _fz.run_jobs(options, output_name, _convert, "decompressing")


def _convert(source: fitsbind.FITS, output: fitsbind.FITS, options: argparse.Namespace,
             bar: Any) -> None:
    first = 1 if _moved_primary(source) else 0
    if first:
        bar.update(source.locate(0).data_end)
    for index in range(first, len(source)):
        hdu = source[index]
        if isinstance(hdu, CompressedImageHDU):
            _restore_image(source, output, index, index == first == 1, options.checksum, bar)
        elif isinstance(hdu, CompressedTableHDU):
            header, chunks = hdu.funpacked()
            images = [header[i:i + 80] for i in range(0, len(header), 80)]
            _append(output, images, chunks, options.checksum)
            bar.update(source.locate(index).data_end - source.locate(index).header_start)
        else:
            _fz.copy_hdu(source, output, index, bar)
    if options.verbose:
        print(f"{source.filename} -> {output.filename}", file=sys.stderr)


def _moved_primary(source: fitsbind.FITS) -> bool:
    """True when HDU 1 is a primary image that fpack moved there (ZSIMPLE = T) behind a
    primary HDU without data: it becomes the primary HDU again."""
    return (len(source) > 1 and not source[0].has_data
            and isinstance(source[1], CompressedImageHDU)
            and source[1].header.get("ZSIMPLE") is True)


def image_cards(hdu: CompressedImageHDU, primary: bool) -> list[str]:
    """The header of the image ``hdu`` holds, as funpack restores it: the structure from the
    Z cards, then every other card of the table but its own layout (and the name
    COMPRESSED_IMAGE, which fpack gives a primary image it moves)."""
    h = hdu.header
    naxis = int(h["ZNAXIS"])
    cards = [_fz.card("SIMPLE", True, "file does conform to FITS standard") if primary else
             _fz.card("XTENSION", "IMAGE", "IMAGE extension"),
             _fz.card("BITPIX", hdu.bitpix, "number of bits per data pixel"),
             _fz.card("NAXIS", naxis, "number of data axes")]
    cards += [_fz.card(f"NAXIS{i}", int(h[f"ZNAXIS{i}"]), "length of data axis")
              for i in range(1, naxis + 1)]
    if primary:
        cards.append(_fz.card("EXTEND", True, "FITS dataset may contain extensions"))
    else:
        cards += [_fz.card("PCOUNT", 0, "required keyword; must = 0"),
                  _fz.card("GCOUNT", 1, "required keyword; must = 1")]
    unnamed = str(h.get("EXTNAME", "")).strip() == "COMPRESSED_IMAGE"
    cards += _fz.without(_fz.cards_of(h), lambda name: bool(_TABLE_LAYOUT.fullmatch(name))
                         or (unnamed and name == "EXTNAME"))
    # old files give the BLANK of an integer image as ZBLANK
    zblank = h.get("ZBLANK")
    if hdu.bitpix > 0 and isinstance(zblank, int) and "BLANK" not in h:
        cards.append(_fz.card("BLANK", zblank, "value of undefined pixels"))
    return cards


def _restore_image(source: fitsbind.FITS, output: fitsbind.FITS, index: int, primary: bool,
                   checksum: bool, bar: Any) -> None:
    hdu = source[index]
    assert isinstance(hdu, CompressedImageHDU)
    hdu.set_tile_cache_size(0)      # every tile is decoded once
    shape = hdu.shape
    extent = source.locate(index)

    def chunks() -> Iterator[Any]:
        if not hdu.size:
            return
        done = 0
        for stop, band in _fz.bands(hdu, int(hdu.header.get(f"ZTILE{len(shape)}", 1))):
            yield from stored_chunks(band)
            reached = extent.header_size + extent.data_size * stop // shape[0]
            bar.update(reached - done)
            done = reached

    _append(output, image_cards(hdu, primary), chunks(), checksum)


def _append(output: fitsbind.FITS, images: list[str], chunks: Iterator[np.ndarray],
            checksum: bool) -> None:
    """Append an HDU of these cards and data chunks; with ``checksum``, room for CHECKSUM and
    DATASUM is made first, so filling them in later never moves the data, and the data is
    summed as it is written."""
    if not checksum:
        output.append_hdu("".join(images), chunks)
        return
    images = [*images, _fz.card("CHECKSUM", "0" * 16), _fz.card("DATASUM", "0")]
    datasum = _fz.DataSum()

    def summed() -> Iterator[np.ndarray]:
        for chunk in chunks:
            datasum.update(chunk)
            yield chunk

    index = output.append_hdu("".join(images), summed())
    _fz.finish_header(output, index, images, checksum, datasum.value)
