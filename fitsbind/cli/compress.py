"""``fitsbind compress``: tile-compress the images (and, on request, binary tables) of FITS
files, as ``fpack`` does and with its options; ``funpack`` restores what it writes.

Images are read and compressed in bands of whole tile rows (:data:`_fz.BAND_BYTES` of
pixels at a time), so a file larger than memory is never held whole; the tiles of a band are
encoded on every core by the direct tier's codecs.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

import fitsbind
from fitsbind.cli import _fz
from fitsbind.direct import (
    CompressedImageHDU,
    CompressedTableHDU,
    Compression,
    Gzip1,
    Gzip2,
    Hcompress1,
    ImageHDU,
    Plio1,
    Quantize,
    Rice1,
    TableHDU,
    compress_table,
)

NAME = "compress"
HELP = ("Tile-compress the images of FITS files, as fpack: FILE.fits becomes FILE.fits.fz "
        "(kept beside the input), funpack and 'fitsbind decompress' restore it. Rice by "
        "default; floats quantized (-q) unless -q 0 with gzip. Exit status 1 if any file "
        "failed (its input and any existing output are left as they were).")

#: the algorithm options, as fpack spells them where the fitsbind command allows
_ALGORITHMS = {"rice": Rice1, "gzip1": Gzip1, "gzip2": Gzip2, "hcompress": Hcompress1,
               "plio": Plio1}

#: BITPIX -> numpy dtype of the stored values (native order), which are compressed as they are
_STORED = {8: "u1", 16: "i2", 32: "i4", 64: "i8", -32: "f4", -64: "f8"}

# cards of an image header that the compressed table describes in its own terms (Z cards)
_IMAGE_LAYOUT = re.compile(r"SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|CHECKSUM|"
                           r"DATASUM|Z(IMAGE|SIMPLE|TENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|EXTEND|"
                           r"TILE\d+|CMPTYPE|NAME\d+|VAL\d+|QUANTIZ|DITHER0|BLANK|HECKSUM|DATASUM)")

# cards reserved in a new compressed header for what the finished one adds to the source's
# (ZSIMPLE and ZEXTEND, EXTNAME, CHECKSUM, DATASUM), so finishing it never moves the heap
_SPARE_CARDS = 6


def configure(parser: argparse.ArgumentParser) -> None:
    algorithm = parser.add_mutually_exclusive_group()
    for flags, name, text in (
            (("-r", "--rice"), "rice", "Rice compression (the default)"),
            (("-g", "-g1", "--gzip1"), "gzip1", "GZIP_1: gzip of each tile"),
            (("-g2", "--gzip2"), "gzip2", "GZIP_2: gzip of each tile, bytes shuffled"),
            (("--hcompress",), "hcompress", "HCOMPRESS_1 (fpack's -h; -h is help here)"),
            (("-p", "--plio"), "plio", "PLIO_1, for masks: integers 0 .. 2**24 - 1")):
        algorithm.add_argument(*flags, dest="algorithm", action="store_const", const=name,
                               help=text)
    parser.set_defaults(algorithm="rice")
    tiles = parser.add_mutually_exclusive_group()
    tiles.add_argument("-t", dest="tile", metavar="AXES",
                       help="tile dimensions, comma separated, NAXIS1 first as fpack takes "
                            "them (e.g. 100,100); missing slower axes are 1. Default: one "
                            "image row per tile (HCOMPRESS: 16 rows)")
    tiles.add_argument("-w", dest="whole", action="store_true",
                       help="the whole image as one tile")
    quantize = parser.add_mutually_exclusive_group()
    quantize.add_argument("-q", dest="q_dither1", type=float, metavar="LEVEL",
                          help="quantization of float images: positive, the step as a fraction "
                               "of each tile's noise (default 4; larger keeps more); negative, "
                               "the absolute step; 0: lossless (with -g1/-g2 only). Dithered "
                               "with SUBTRACTIVE_DITHER_1")
    quantize.add_argument("-qz", dest="q_dither2", type=float, metavar="LEVEL",
                          help="as -q, with SUBTRACTIVE_DITHER_2 (pixels equal to 0 stay 0)")
    quantize.add_argument("-q0", dest="q_none", type=float, metavar="LEVEL",
                          help="as -q, without dithering (NO_DITHER)")
    parser.add_argument("--seed", type=int, metavar="N",
                        help="dithering seed ZDITHER0, 1..10000 (default: from the clock)")
    parser.add_argument("-s", dest="scale", type=float, default=0.0, metavar="SCALE",
                        help="HCOMPRESS scale: 0 lossless (default); positive, in units of "
                             "each tile's noise; negative, absolute")
    parser.add_argument("--smooth", action="store_true",
                        help="HCOMPRESS: smooth the image when it is decompressed")
    tables = parser.add_mutually_exclusive_group()
    tables.add_argument("-table", "--table", dest="tables", action="store_const", const="also",
                        help="compress binary tables too (FZTILELN / FZALGOR cards of a table "
                             "choose rows per tile and algorithms, as for fpack)")
    tables.add_argument("-tableonly", "--table-only", dest="tables", action="store_const",
                        const="only", help="compress binary tables only; copy the images")
    parser.add_argument("-v", dest="verbose", action="store_true",
                        help="name each file written, with its size, on stderr")
    _fz.add_common_options(parser, "compress")


def output_name(path: str) -> str:
    """Where ``fitsbind compress`` writes the compressed ``path`` by default."""
    return path + ".fz"


def run(options: argparse.Namespace) -> int:
    return _fz.run_jobs(options, output_name, _convert, "compressing")


def _convert(source: fitsbind.FITS, output: fitsbind.FITS, options: argparse.Namespace,
             bar: Any) -> None:
    for index in range(len(source)):
        hdu = source[index]
        if _compresses_image(hdu, options):
            if index == 0:
                _empty_primary(output, hdu, options.checksum)
            _compress_image(source, output, index, options, bar)
        elif index and options.tables and _compresses_table(hdu):
            table = compress_table(hdu, output)
            _fz.finish_header(output, table.index, _fz.cards_of(table.header), options.checksum)
            bar.update(source.locate(index).data_end - source.locate(index).header_start)
        else:
            _fz.copy_hdu(source, output, index, bar)
    if options.verbose:
        print(f"{source.filename} -> {output.filename}", file=sys.stderr)


def _compresses_image(hdu: Any, options: argparse.Namespace) -> bool:
    return (options.tables != "only" and isinstance(hdu, ImageHDU)
            and not isinstance(hdu, CompressedImageHDU) and hdu.size > 0)


def _compresses_table(hdu: Any) -> bool:
    # ASCII tables have no tile-compressed form; fpack copies them too
    return (isinstance(hdu, TableHDU) and not isinstance(hdu, CompressedTableHDU)
            and not hdu.ascii and hdu.nrows > 0)


def settings(options: argparse.Namespace, shape: tuple[int, ...],
             floating: bool) -> tuple[Compression, Quantize | None]:
    """The algorithm (with its tiling) and quantization the options ask for, for an image of
    ``shape`` (numpy order); ValueError for a combination fpack refuses too."""
    if options.whole:
        tile: tuple[int, ...] | None = shape
    elif options.tile:
        try:
            axes = [int(n) for n in options.tile.split(",")]
        except ValueError:
            raise ValueError(f"-t {options.tile!r}: give tile lengths as integers, e.g. "
                             "-t 100,100") from None
        if len(axes) > len(shape):
            raise ValueError(f"-t {options.tile}: {len(axes)} tile axes for an image of "
                             f"{len(shape)}")
        tile = tuple(reversed(axes + [1] * (len(shape) - len(axes))))
    else:
        tile = None
    kind = _ALGORITHMS[options.algorithm]
    if kind is Hcompress1:
        compression: Compression = Hcompress1(options.scale, options.smooth, tile_shape=tile)
    else:
        compression = kind(tile_shape=tile)
    if not floating:
        return compression, None
    chosen = [(level, method) for level, method in (
        (options.q_dither1, "subtractive_dither_1"), (options.q_dither2, "subtractive_dither_2"),
        (options.q_none, "no_dither")) if level is not None]
    level, method = chosen[0] if chosen else (4.0, "subtractive_dither_1")
    if level == 0:
        if kind not in (Gzip1, Gzip2):
            raise ValueError("lossless float compression (-q 0) works with -g1 or -g2 only, "
                             "as in fpack")
        return compression, None
    return compression, Quantize(level, method, options.seed)


def _empty_primary(output: fitsbind.FITS, image: ImageHDU, checksum: bool) -> None:
    """The primary HDU left when the primary image moves into the first extension: no data,
    EXTEND = T, the image's BITPIX (as fpack writes it)."""
    header = [_fz.card("SIMPLE", True, "file does conform to FITS standard"),
              _fz.card("BITPIX", image.bitpix, "number of bits per data pixel"),
              _fz.card("NAXIS", 0, "number of data axes"),
              _fz.card("EXTEND", True, "FITS dataset may contain extensions")]
    index = output.append_hdu("".join(header))
    _fz.finish_header(output, index, header, checksum)


def _compress_image(source: fitsbind.FITS, output: fitsbind.FITS, index: int,
                    options: argparse.Namespace, bar: Any) -> None:
    hdu = source[index]
    assert isinstance(hdu, ImageHDU)
    shape = hdu.shape
    compression, quantize = settings(options, shape, hdu.bitpix < 0)
    keep = _fz.without(_fz.cards_of(hdu.header), lambda name: bool(_IMAGE_LAYOUT.fullmatch(name)))
    # the stored values are compressed as they are; BSCALE, BZERO and BLANK come along as
    # cards (set at the end: given now, the direct tier would scale what it is handed)
    packed = output.create_image_hdu(_STORED[hdu.bitpix], shape, compress=compression,
                                     quantize=quantize,
                                     header=[("COMMENT", "")] * (len(keep) + _SPARE_CARDS))
    packed.set_tile_cache_size(0)    # every tile is written once; none is read back
    extent = source.locate(index)
    start = done = 0
    for stop, band in _fz.bands(hdu, compression.tiles_for(shape)[0]):
        packed[start:stop] = band
        start = stop
        # progress in bytes of the input file, the HDU's share for these rows
        reached = extent.header_size + extent.data_size * stop // shape[0]
        bar.update(reached - done)
        done = reached
    table = [image for image in _fz.cards_of(packed.header) if image.rstrip() != "COMMENT"]
    if index == 0:
        table = _primary_cards(table, "EXTEND" in hdu.header)
    _fz.finish_header(output, packed.index, table + keep, options.checksum)


def _primary_cards(table: list[str], extend: bool) -> list[str]:
    """The Z cards of a compressed primary image, as fpack writes them: ZSIMPLE in place of
    ZTENSION, ZEXTEND in place of ZPCOUNT / ZGCOUNT, and EXTNAME = 'COMPRESSED_IMAGE' (the
    name funpack drops when it restores the primary HDU)."""
    cards = []
    for image in table:
        name = _fz.keyword(image)
        if name == "ZTENSION":
            cards.append(_fz.card("ZSIMPLE", True, "file does conform to FITS standard"))
        elif name == "ZPCOUNT":
            if extend:
                cards.append(_fz.card("ZEXTEND", True, "FITS dataset may contain extensions"))
        elif name != "ZGCOUNT":
            cards.append(image)
    return [*cards, _fz.card("EXTNAME", "COMPRESSED_IMAGE", "")]
