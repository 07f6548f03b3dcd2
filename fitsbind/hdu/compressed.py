"""CompImageHDU: a tile-compressed image (a BINTABLE with ZIMAGE = T) seen as the image it holds.

Reading follows astropy.io.fits: ``.header`` is the image header rebuilt from the table header
(:func:`image_header_from_table`), ``.data`` and ``.section`` decompress through CFITSIO (a
section only the tiles it touches), ``.compressed_data`` is the table's rows as stored (each
cell a heap descriptor).

Writing builds the table the way astropy 8 does: :func:`table_header_for` lays out the table
header (structure, Z keywords, then the image's own cards), the tiles are encoded by
:mod:`fitsbind._tiles` (CFITSIO's codecs, bit for bit) and the rows and heap form the data unit
the HDU base writes through the direct tier. An HDU read from a file keeps its tile bytes when
its pixels and layout did not change: unchanged, it is written back as stored; with only its
ordinary cards edited, the table header is rebuilt around the same tiles.

The tiled-image convention moves the image's structural keywords into the table under other
names (BITPIX -> ZBITPIX, ...) and reserves a set of Z keywords and the table's own column
keywords. :data:`IMAGE_TO_TABLE`, :func:`is_reserved_keyword`, :func:`drop_default_extnames`
and :func:`compression_setting` hold those rules for both directions of the mapping.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import re
import warnings
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from fitsbind.card import Card
from fitsbind.checksum import padded_length
from fitsbind.column import KEYWORD_NAMES, TDEF_RE, column_numbers
from fitsbind.direct import CompressedImageHDU as TileReader
from fitsbind.direct import Gzip1, Gzip2, Hcompress1, Plio1, Quantize, Rice1, encode_table, z_cards
from fitsbind.errors import FITSError, FITSValueError
from fitsbind.hdu.base import DELAYED, _register_builtin, _ValidHDU, xtension
from fitsbind.hdu.image import BITPIX2DTYPE, ImageHDU, Section, to_stored
from fitsbind.header import Header
from fitsbind.util import is_integer
from fitsbind.verify import FITSUserWarning, VerifyWarning

if TYPE_CHECKING:
    from fitsbind.direct import Compression

__all__ = ["COMPRESSION_KEYWORDS", "COMPRESSION_TYPES", "DEFAULT_COMPRESSION_TYPE",
           "DITHER_METHODS", "DITHER_SEED_CHECKSUM", "DITHER_SEED_CLOCK", "IMAGE_TO_TABLE",
           "NO_DITHER", "QUANTIZE_METHOD_NAMES", "SUBTRACTIVE_DITHER_1", "SUBTRACTIVE_DITHER_2",
           "TABLE_TO_IMAGE", "CompImageHDU", "CompImageSection", "compression_setting",
           "drop_default_extnames", "image_header_from_table", "is_reserved_keyword",
           "table_header_for", "tile_shape_of", "validate_tile_shape"]

# -- the header mapping ---------------------------------------------------------------------------

# image keyword -> the table keyword that carries it in a compressed HDU
IMAGE_TO_TABLE = {"SIMPLE": "ZSIMPLE", "XTENSION": "ZTENSION", "BITPIX": "ZBITPIX",
                  "NAXIS": "ZNAXIS", "EXTEND": "ZEXTEND", "BLOCKED": "ZBLOCKED",
                  "PCOUNT": "ZPCOUNT", "GCOUNT": "ZGCOUNT", "CHECKSUM": "ZHECKSUM",
                  "DATASUM": "ZDATASUM"}
TABLE_TO_IMAGE = {table: image for image, table in IMAGE_TO_TABLE.items()}
# the convention's own table keywords: never part of the image header
COMPRESSION_KEYWORDS = frozenset(TABLE_TO_IMAGE) | {
    "ZIMAGE", "ZCMPTYPE", "ZMASKCMP", "ZQUANTIZ", "ZDITHER0", "ZBLANK", "ZSCALE", "ZZERO"}
# keyword stems reserved with any suffix: ZNAXISn, ZTILEn, ZNAMEi, ZVALi
_INDEXED_STEMS = frozenset({"ZNAXIS", "ZTILE", "ZNAME", "ZVAL"})
_Z_STEM = re.compile(r"^[Zz][A-Za-z]*")
# structural cards the image takes from the table under its own name, after NAXISn
_MOVED_AFTER_AXES = ("PCOUNT", "GCOUNT")
_MOVED_TO_END = ("EXTEND", "BLOCKED", "CHECKSUM", "DATASUM")

COMPRESSION_TYPES = ("NOCOMPRESS", "RICE_1", "GZIP_1", "GZIP_2", "PLIO_1", "HCOMPRESS_1")
DEFAULT_COMPRESSION_TYPE = "RICE_1"
_COMPRESSION_ALIASES = {"RICE_ONE": "RICE_1"}
# quantize_method codes (CFITSIO's, as astropy takes them) and dither_seed choices
NO_DITHER = -1
SUBTRACTIVE_DITHER_1 = 1
SUBTRACTIVE_DITHER_2 = 2
QUANTIZE_METHOD_NAMES = {NO_DITHER: "NO_DITHER", SUBTRACTIVE_DITHER_1: "SUBTRACTIVE_DITHER_1",
                         SUBTRACTIVE_DITHER_2: "SUBTRACTIVE_DITHER_2"}
DITHER_SEED_CLOCK = 0
DITHER_SEED_CHECKSUM = -1
DEFAULT_QUANTIZE_LEVEL = 16.0
DEFAULT_QUANTIZE_METHOD = NO_DITHER
DEFAULT_DITHER_SEED = DITHER_SEED_CLOCK
DEFAULT_HCOMP_SCALE = 0
DEFAULT_HCOMP_SMOOTH = 0
DEFAULT_BLOCK_SIZE = 32
# ZQUANTIZ value -> astropy's quantize_method code
DITHER_METHODS = {"NONE": 0, "NO_DITHER": -1, "SUBTRACTIVE_DITHER_1": 1,
                  "SUBTRACTIVE_DITHER_2": 2}
_DEFAULT_NAME = "COMPRESSED_IMAGE"


def is_reserved_keyword(keyword: str) -> bool:
    """Whether ``keyword`` belongs to the compressed table's structure (its column keywords,
    TFIELDS, THEAP) or to the compression convention (ZIMAGE, ZBITPIX, ZTILEn, ...), so it
    cannot be an image keyword."""
    if keyword in ("TFIELDS", "THEAP") or keyword in COMPRESSION_KEYWORDS:
        return True
    column = TDEF_RE.match(keyword)
    if column is not None and column.group("label").upper() in KEYWORD_NAMES:
        return True
    stem = _Z_STEM.match(keyword)
    return stem is not None and stem.group().upper() in _INDEXED_STEMS


def drop_default_extnames(table: Header, default: str = _DEFAULT_NAME) -> None:
    """Remove, in place, EXTNAME cards holding the default name when the table has several
    EXTNAME cards (some writers add the default next to the real name); if every one holds
    the default, the first stays."""
    positions = [i for i, card in enumerate(table.cards) if card.keyword == "EXTNAME"]
    if len(positions) < 2:
        return
    defaults = [i for i in positions if table[i] == default]
    if len(defaults) == len(positions):
        defaults = defaults[1:]
    for index in reversed(defaults):
        del table[index]


def compression_setting(table: Header, name: str, default: Any) -> Any:
    """The ZVALi paired with the ZNAMEi equal to ``name`` (case-insensitive), or ``default``.
    Every setting is a number (block size, bytes per pixel, noise bits, scale, smoothing);
    anything else raises FITSValueError."""
    i = 1
    while f"ZNAME{i}" in table:
        if str(table[f"ZNAME{i}"]).lower() == name.lower():
            value = table.get(f"ZVAL{i}", default)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise FITSValueError(f"ZVAL{i} ({name}) = {value!r} is not a number")
            return value
        i += 1
    return default


# integers taken from a header must fit numpy's int64 (axis and tile lengths, null values)
_INT64 = (-(1 << 63), (1 << 63) - 1)


def _fault(table: Header) -> str | None:
    """What makes the tile-compression keywords of ``table`` unusable, or None. Keywords
    that are missing are left to the readers (KeyError, as in astropy)."""
    zbitpix = table.get("ZBITPIX")
    if "ZBITPIX" in table and not (is_integer(zbitpix) and zbitpix in BITPIX2DTYPE):
        return f"ZBITPIX = {zbitpix!r} is not a FITS BITPIX ({', '.join(map(str, BITPIX2DTYPE))})"
    ranges = [("ZNAXIS", 0, 999)]
    naxis = table.get("ZNAXIS", 0)
    if is_integer(naxis) and 0 <= naxis <= 999:
        axes = range(1, naxis + 1)
        ranges += [(f"ZNAXIS{i}", 0, _INT64[1]) for i in axes]
        ranges += [(f"ZTILE{i}", 1, _INT64[1]) for i in axes]
    ranges += [("ZBLANK", *_INT64), ("ZDITHER0", *_INT64)]
    for keyword, low, high in ranges:
        value = table.get(keyword)
        if keyword in table and not (is_integer(value) and low <= value <= high):
            return f"{keyword} = {value!r} is not an integer from {low} to {high}"
    method = table.get("ZQUANTIZ")
    if "ZQUANTIZ" in table and not (isinstance(method, str) and method in DITHER_METHODS):
        return (f"unknown quantization method ZQUANTIZ = {method!r} (known: "
                f"{', '.join(DITHER_METHODS)})")
    if not isinstance(table.get("ZCMPTYPE", ""), str):
        return f"ZCMPTYPE = {table['ZCMPTYPE']!r} is not the name of an algorithm"
    return None


def _check_tile_header(table: Header, where: str, filename: str | None = None,
                      index: int | None = None) -> None:
    """FITSError naming ``where`` (the file and HDU) when the tile-compression keywords of
    the compressed-image table header ``table`` hold values no image can have (ZBITPIX not a
    FITS type; ZNAXIS, ZNAXISn, ZTILEn, ZBLANK, ZDITHER0 not integers in range; ZQUANTIZ not
    a known method; ZCMPTYPE not text). The image header and the compression settings are
    made from these keywords, so they are checked once, as the HDU is read."""
    fault = _fault(table)
    if fault is not None:
        raise FITSError(f"{where}: malformed compressed-image header: {fault}",
                        filename=filename, hdu=index)


def tile_shape_of(table: Header) -> tuple:
    """Tile shape in numpy order (slowest axis first) from ZTILEn, as numpy ints; a missing
    ZTILEn takes the convention's default (whole rows: ZNAXIS1 on axis 1, 1 elsewhere)."""
    naxis = table["ZNAXIS"]
    tiles = [table.get(f"ZTILE{i}", table[f"ZNAXIS{i}"] if i == 1 else 1)
             for i in range(naxis, 0, -1)]
    return tuple(np.array(tiles, dtype=int))


def _trailing_blanks(header: Header) -> int:
    count = 0
    for card in reversed(header.cards):
        if not card.is_blank:
            break
        count += 1
    return count


def _comment(table: Header, keyword: str) -> str | None:
    return table.comments[keyword] if keyword in table else None


def image_header_from_table(table: Header) -> Header:
    """The header of the image that the compressed-image table header ``table`` holds, card
    for card as astropy.io.fits shows it.

    The table's structural, column and compression keywords go; the image's structural cards
    come back from their Z keywords (values and comments) in standard order; EXTEND, BLOCKED,
    CHECKSUM and DATASUM (from ZEXTEND ... ZDATASUM) and the table's BSCALE/BZERO follow the
    last ordinary card; an EXTNAME equal to the default name goes; an integer image gets BLANK
    from ZBLANK; the image ends in as many blank cards as the table. Missing ZBITPIX, ZNAXIS or
    ZNAXISn raise KeyError.
    """
    image = table.copy()
    bscale, bzero = image.get("BSCALE"), image.get("BZERO")
    image.strip()
    for keyword in {card.keyword for card in image.cards}:
        if keyword in ("CHECKSUM", "DATASUM") or is_reserved_keyword(keyword):
            image.remove(keyword, remove_all=True)
    # strip() took the scaling cards; the image keeps their values, without comments
    if bscale:
        image["BSCALE"] = bscale
    if bzero:
        image["BZERO"] = bzero

    if "ZSIMPLE" in table:
        image.set("SIMPLE", table["ZSIMPLE"], _comment(table, "ZSIMPLE"), before=0)
    else:
        if "ZTENSION" in table and table["ZTENSION"] != "IMAGE":
            warnings.warn("ZTENSION keyword in compressed extension != 'IMAGE'", FITSUserWarning,
                          stacklevel=2)
        image.set("XTENSION", "IMAGE", _comment(table, "ZTENSION"), before=0)
    image.set("BITPIX", table["ZBITPIX"], _comment(table, "ZBITPIX"), before=1)
    naxis = table["ZNAXIS"]
    image.set("NAXIS", naxis, _comment(table, "ZNAXIS"), before=2)
    last = "NAXIS"
    for axis in range(1, naxis + 1):
        image.set(f"NAXIS{axis}", table[f"ZNAXIS{axis}"], _comment(table, f"ZNAXIS{axis}"),
                  after=last)
        last = f"NAXIS{axis}"
    _drop_extra_axes(image, naxis)
    for keyword, default in zip(_MOVED_AFTER_AXES, (0, 1)):
        zkey = IMAGE_TO_TABLE[keyword]
        image.set(keyword, table.get(zkey, default), _comment(table, zkey), after=last)
        last = keyword
    for keyword in _MOVED_TO_END:
        zkey = IMAGE_TO_TABLE[keyword]
        if zkey in table:
            image.set(keyword, table[zkey], _comment(table, zkey))

    if image.get("EXTNAME") == _DEFAULT_NAME:
        image.remove("EXTNAME", remove_all=True)
    if "SIMPLE" in image:
        for keyword in _MOVED_AFTER_AXES:
            image.remove(keyword, ignore_missing=True, remove_all=True)
    _add_blank(image, table)
    for _ in range(_trailing_blanks(table) - _trailing_blanks(image)):
        image.append()
    return image


def _drop_extra_axes(image: Header, naxis: int) -> None:
    """Remove NAXISn cards beyond the image's NAXIS (left over from the table)."""
    for keyword in {card.keyword for card in image.cards}:
        suffix = keyword[5:]
        if keyword.startswith("NAXIS") and suffix.isdigit() and int(suffix) > naxis:
            image.remove(keyword, remove_all=True)


def _add_blank(image: Header, table: Header) -> None:
    """An integer image's BLANK: ZBLANK's value, or (when tiles carry their own null value in
    a ZBLANK column) the type's most negative value, with a warning."""
    bitpix = image["BITPIX"]
    if bitpix <= 0 or "BLANK" in image:
        return
    if "ZBLANK" in table:
        image["BLANK"] = table["ZBLANK"]
        return
    if any(table.get(f"TTYPE{i}") == "ZBLANK" for i in column_numbers(table)):
        image["BLANK"] = -(1 << (bitpix - 1))
        warnings.warn(f"Setting default value {image['BLANK']} for missing BLANK keyword in "
                      "compressed extension", FITSUserWarning, stacklevel=3)


# -- the table a compressed image is written as ---------------------------------------------------

# the binary table's own structural cards (its columns and Z cards are reserved keywords)
_TABLE_STRUCTURE = frozenset({"XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT",
                              "GCOUNT"})
# image cards the table carries under Z names after EXTNAME (the other renamed ones sit in
# the Z block, where they describe the tiles)
_CARRIED_AFTER_NAME = ("EXTEND", "BLOCKED", "CHECKSUM", "DATASUM")
_COMMENTARY = frozenset({"COMMENT", "HISTORY"})
# ZBLANK of quantized images with null pixels: the value the quantizer codes NaN as
_NULL_ZBLANK = -2147483647
# astropy's choice of rows per default HCOMPRESS tile for images of more than 30 rows: the
# first that divides the rows or leaves a last tile of at least 4 rows, else 17
_HCOMPRESS_ROWS = (16, 24, 20, 30, 28, 26, 22, 18, 14)


def validate_tile_shape(tile_shape: Any, compression_type: str, header: Header) -> tuple[int, ...]:
    """The tile shape (numpy order, ints) astropy compresses an image with ``header`` in.

    ``tile_shape`` needs one length per axis (otherwise a warning, and the default); the default
    is one image row per tile, and for HCOMPRESS_1 2-D tiles of whole rows: all rows up to 30
    (astropy takes NAXIS1 rows then, and so does this), else 16 or a nearby count that leaves
    no last tile under 4 rows. HCOMPRESS_1 images and tiles under 4 pixels a side, tiles with
    more than two axes longer than 1, and last tiles under 4 pixels raise ValueError.
    """
    naxis = header["NAXIS"]
    tiles = [] if tile_shape is None else [int(n) for n in tile_shape]
    if tiles and len(tiles) != naxis:
        warnings.warn("Provided tile size not appropriate for the data.  Default tile size will "
                      "be used.", FITSUserWarning, stacklevel=3)
        tiles = []
    if compression_type == "HCOMPRESS_1":
        width, height = header["NAXIS1"], header["NAXIS2"]
        if width < 4 or height < 4:
            raise ValueError("Hcompress minimum image dimension is 4 pixels")
        if tiles:
            if tiles[-1] < 4 or tiles[-2] < 4:
                raise ValueError("Hcompress minimum tile dimension is 4 pixels")
            if sum(n > 1 for n in tiles) > 2:
                raise ValueError("HCOMPRESS can only support 2-dimensional tile sizes.All but two "
                                 "of the tile_shape dimensions must be set to 1.")
        else:
            rows = width if height <= 30 else next(
                (n for n in _HCOMPRESS_ROWS if height % n == 0 or height % n > 3), 17)
            tiles = [1] * (naxis - 2) + [rows, width]
        if 0 < width % tiles[-1] < 4:
            raise ValueError("Last tile along 1st dimension has less than 4 pixels")
        if 0 < height % tiles[-2] < 4:
            raise ValueError("Last tile along 2nd dimension has less than 4 pixels")
    if not tiles and naxis > 0:
        tiles = [1] * (naxis - 1) + [header["NAXIS1"]]
    return tuple(tiles)


class _Encoding(NamedTuple):
    """How an image is compressed: the Z keywords' values and what the codec needs."""

    compression: Compression                # the codec's settings; tile_shape is the tiling
    zbitpix: int
    settings: list[tuple[str, Any, str, str]]  # ZNAMEi value, ZVALi value, their comments
    quantize: Quantize | None               # floats quantized (ZSCALE/ZZERO columns)
    zquantiz: str | None                    # None: NO_DITHER, the keyword is left out
    zdither0: int | None


def _table_layout(image: Header, encoding: _Encoding, columns: list[tuple[str, str]],
                  nrows: int, rowsize: int, heap: int) -> list[Card]:
    """The cards of a new compressed table up to its last Z keyword, in astropy's order: the
    BINTABLE structure with ``columns`` (TTYPE, TFORM), ZIMAGE, ZSIMPLE or ZTENSION, ZBITPIX,
    ZNAXIS and ZNAXISn, ZPCOUNT and ZGCOUNT (with the image's comments), ZTILEn, ZCMPTYPE, the
    ZNAMEi/ZVALi settings, ZQUANTIZ and ZDITHER0."""
    cards = [Card("XTENSION", "BINTABLE", "binary table extension"),
             Card("BITPIX", 8, "array data type"), Card("NAXIS", 2, "number of array dimensions"),
             Card("NAXIS1", rowsize, "width of table in bytes"),
             Card("NAXIS2", nrows, "number of rows in table"),
             Card("PCOUNT", heap, "number of group parameters"), Card("GCOUNT", 1, "number of groups"),
             Card("TFIELDS", len(columns), "number of fields in each row")]
    for i, (ttype, tform) in enumerate(columns, 1):
        cards += [Card(f"TTYPE{i}", ttype), Card(f"TFORM{i}", tform)]
    naxis = image["NAXIS"]
    shape = tuple(image[f"NAXIS{i}"] for i in range(naxis, 0, -1))
    carried = {keyword: (image[keyword], image.comments[keyword]) for keyword in
               ("SIMPLE", "XTENSION", "BITPIX", "NAXIS", *(f"NAXIS{i}" for i in range(1, naxis + 1)),
                *_MOVED_AFTER_AXES) if keyword in image}
    quantizing = None if encoding.zquantiz is None else (encoding.zquantiz, encoding.zdither0)
    compression = encoding.compression
    cards += [Card(*card) for card in z_cards(encoding.zbitpix, shape, compression.tile_shape,
                                                compression.zcmptype, encoding.settings,
                                                quantizing, carried)]
    return cards


def _images(card: Card) -> int:
    """How many 80-character records ``card`` takes (more than one for CONTINUE cards)."""
    return len(str(card)) // 80


def table_header_for(image: Header, name: str, layout: list[Card],
                     zblank: int | None = None) -> Header:
    """The header of the compressed table that carries the image header ``image``, card for
    card as astropy writes it.

    ``layout`` is the table's own part (structure, columns, Z keywords, in order). Then come
    EXTNAME ``name``, the image's BSCALE/BZERO (when not 1/0), EXTEND, BLOCKED, CHECKSUM and
    DATASUM as ZEXTEND ... ZDATASUM, and the image's other cards in order: structural cards
    and NAXIS* are left out, a keyword already present is not repeated, reserved keywords are
    dropped with a VerifyWarning, COMMENT/HISTORY cards follow the card they followed in the
    image. ``zblank`` adds ZBLANK after the last ordinary card. The table ends in as many
    blank cards as the image, or as astropy's header bookkeeping leaves over from blank
    cards inside it.
    """
    cards = list(layout)
    cards.append(Card("EXTNAME", name, "name of this binary table extension"))
    bscale, bzero = image.get("BSCALE", 1.0), image.get("BZERO", 0.0)
    if bscale != 1:
        cards.append(Card("BSCALE", bscale))
    if bzero != 0:
        cards.append(Card("BZERO", bzero))
    cards += [Card(IMAGE_TO_TABLE[keyword], image[keyword], image.comments[keyword])
              for keyword in _CARRIED_AFTER_NAME if keyword in image]
    present = {card.keyword for card in cards}
    following: dict[str, list[Card]] = {}
    anchor = cards[-1].keyword
    # a blank card goes to the end; each ordinary or commentary card placed before the
    # trailing blanks uses one up, as in astropy's Header
    blanks = 0
    for card in image.cards:
        keyword = card.keyword
        if not keyword:
            blanks += 1
        elif is_reserved_keyword(keyword):
            warnings.warn(f"Keyword {keyword!r} is reserved for use by the FITS Tiled Image "
                          "Convention so will be ignored", VerifyWarning, stacklevel=4)
        elif keyword in _COMMENTARY:
            following.setdefault(anchor, []).append(copy.copy(card))
        elif keyword not in IMAGE_TO_TABLE and keyword not in present \
                and not keyword.startswith("NAXIS"):
            cards.append(copy.copy(card))
            present.add(keyword)
            anchor = keyword
            blanks = max(0, blanks - _images(card))
    placed: list[Card] = []
    for card in cards:
        placed.append(card)
        extra = following.pop(card.keyword, ())
        placed += extra
        blanks = max(0, blanks - sum(_images(c) for c in extra))
    if zblank is not None:
        at = len(placed)
        while at and placed[at - 1].keyword in _COMMENTARY:
            at -= 1
        placed.insert(at, Card("ZBLANK", zblank))
        blanks = max(0, blanks - 1)
    table = Header(placed)
    for _ in range(max(blanks, _trailing_blanks(image))):
        table.append(end=True)
    return table


def _pixel_layout(image: Header) -> tuple:
    """What an image header says about how its pixels are stored (primary or extension,
    BITPIX, axes, BSCALE, BZERO, BLANK): tiles stay valid while this is unchanged."""
    naxis = image.get("NAXIS", 0)
    return ("SIMPLE" in image, image.get("BITPIX"),
            tuple(image.get(f"NAXIS{i}") for i in range(1, naxis + 1)),
            image.get("BSCALE", 1), image.get("BZERO", 0), image.get("BLANK"))


def _table_owned(keyword: str) -> bool:
    """Whether a card of a compressed table belongs to the table (structure, columns, Z
    keywords describing the tiles) rather than to the image it carries."""
    return keyword in _TABLE_STRUCTURE or (
        is_reserved_keyword(keyword)
        and keyword not in {IMAGE_TO_TABLE[k] for k in _CARRIED_AFTER_NAME})


def _fingerprint(data: Any) -> tuple | None:
    """A digest of an array (dtype, shape, bytes): tells whether loaded pixels were changed in
    place since."""
    if data is None:
        return None
    array = np.ascontiguousarray(data)
    digest = hashlib.sha1(memoryview(array.reshape(-1)).cast("B"), usedforsecurity=False)
    return array.dtype.str, array.shape, digest.digest()


class _TableOut(_ValidHDU):
    """A compressed image's table as it goes to a file: ``header`` and the data unit
    ``payload`` (rows then heap, uint8; None when empty). ``key`` and ``fingerprint`` are the
    state of the image HDU it was made from, ``layout`` the :func:`_pixel_layout` its tiles
    hold (None: none an image header can state); the base class keeps its checksum cards."""

    _extension = "BINTABLE"

    def __init__(self, header: Header, payload: np.ndarray | None, key: tuple,
                 fingerprint: tuple | None, layout: tuple | None) -> None:
        super().__init__(data=None, header=header)
        self.payload = payload
        self.key = key
        self.fingerprint = fingerprint
        self.layout = layout

    def _payload(self) -> np.ndarray | None:
        return self.payload

    def text(self) -> str:
        """The header's card images as they go to the file (no END, no padding)."""
        return self._header.tostring(endcard=False, padding=False)


# -- the HDU ------------------------------------------------------------------------------------


@functools.cache
def _table_class() -> type:
    """The class of the BINTABLE holding a compressed image's tiles. Made on first use:
    importing the table module registers BinTableHDU, which must come after CompImageHDU in
    the registry so that compressed tables read from files are claimed as images."""
    from fitsbind.hdu.table import BinTableHDU

    class _CompressedTable(BinTableHDU):
        """The tiles' table as stored: its rows are heap descriptors (variable-length cells
        are not loaded) and its data unit (rows and heap) is copied byte for byte."""

        _load_variable_length_data = False

        @classmethod
        def match_header(cls, header: Header) -> bool:
            return False

        def _payload(self) -> np.ndarray | None:
            _, start, end = self._offsets
            return self._file_array(0, np.uint8, (end - start,))

    return _CompressedTable


def _basic_index(key: Any, shape: tuple[int, ...]) -> tuple:
    """``key`` as one int (in range, non-negative) or slice per axis, checked as astropy
    checks a compressed section's key: only ints, slices and one ``...`` are allowed
    (ValueError otherwise), an int out of range raises numpy's AxisError."""
    items = list(key) if isinstance(key, (tuple, list)) else [key]
    ellipses = [i for i, item in enumerate(items) if item is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if ellipses:
        at = ellipses[0]
        items[at:at + 1] = [slice(None)] * (len(shape) - len(items) + 1)
    if len(items) > len(shape):
        raise ValueError(f"The dimensionality of the basic index {key} can not be greater than "
                         f"the dimensionality ({len(shape)}) of the data.")
    items += [slice(None)] * (len(shape) - len(items))
    result: list = []
    for item, length in zip(items, shape):
        if isinstance(item, slice):
            start, stop, step = item.indices(length)
            # a stop of -1 from indices() means "before the first pixel", not "the last one"
            result.append(slice(start, None if stop == -1 else stop, step))
        elif isinstance(item, (int, np.integer)):
            if not -length <= item < length:
                raise np.exceptions.AxisError(int(item), length)
            result.append(int(item) % length)
        else:
            raise ValueError(f"Unexpected index element in basic index: {item}")
    return tuple(result)


class CompImageSection(Section):
    """``hdu.section`` of a compressed image: ``section[key]`` (ints, slices, one ``...``)
    decompresses only the tiles the key touches, from the file (as astropy, even once
    ``hdu.data`` is loaded), and scales them like ``hdu.data``."""

    @property
    def dtype(self) -> np.dtype:
        """dtype of the pixels as the header's BITPIX describes them."""
        return np.dtype(BITPIX2DTYPE[self.hdu.header["BITPIX"]])

    @property
    def ndim(self) -> int:
        return len(self.hdu.shape)

    def __getitem__(self, key: Any) -> Any:
        hdu = self.hdu
        if hdu._table_header is None or hdu._file is None:
            return hdu.data[key]
        raw = hdu._read_stored(_basic_index(key, hdu.shape))
        return hdu._scale(raw) if hdu._scaled else raw


@_register_builtin
class CompImageHDU(ImageHDU):
    """A tile-compressed image HDU.

    Read from a file, ``.header`` is the image's header (see :func:`image_header_from_table`),
    ``.data`` the decompressed, scaled image, and the compression parameters are attributes
    (``compression_type``, ``tile_shape`` in numpy order, ``hcomp_scale``, ``hcomp_smooth``,
    ``quantize_level``, ``quantize_method``, ``dither_seed``).

    Made from data, the attributes are the arguments, as in astropy: ``compression_type``
    one of :data:`COMPRESSION_TYPES` (not NOCOMPRESS, which CFITSIO cannot read back);
    ``tile_shape`` numpy order, default one image row per tile; ``hcomp_scale`` (HCOMPRESS_1,
    truncated to an integer step, 0 lossless) and ``hcomp_smooth``; for float images
    ``quantize_level`` (noise fraction, or absolute step when negative; 0 stores floats
    losslessly, GZIP only), ``quantize_method`` (:data:`NO_DITHER`,
    :data:`SUBTRACTIVE_DITHER_1`, :data:`SUBTRACTIVE_DITHER_2`) and ``dither_seed`` (1..10000,
    :data:`DITHER_SEED_CLOCK` or :data:`DITHER_SEED_CHECKSUM`, the latter from the bytes of
    the first tile). The image is compressed whenever it is written.
    """

    _default_name = _DEFAULT_NAME

    @property
    def _primary_like(self) -> bool:
        # the image's header is a primary one (SIMPLE) when the image was a primary HDU
        return "SIMPLE" in self._header

    @property
    def _first_keyword(self) -> str | None:
        return "XTENSION"      # the file holds the tiles' table, whatever the image header

    def __init__(self, data: Any = None, header: Header | None = None, name: str | None = None,
                 compression_type: str = DEFAULT_COMPRESSION_TYPE, tile_shape: Any = None,
                 hcomp_scale: float = DEFAULT_HCOMP_SCALE, hcomp_smooth: int = DEFAULT_HCOMP_SMOOTH,
                 quantize_level: float = DEFAULT_QUANTIZE_LEVEL,
                 quantize_method: int = DEFAULT_QUANTIZE_METHOD,
                 dither_seed: int = DEFAULT_DITHER_SEED, do_not_scale_image_data: bool = False,
                 uint: bool = True, scale_back: bool | None = None, bintable: Any = None) -> None:
        self._out: _TableOut | None = None
        self._table_header: Header | None = None
        self._table: Any = None
        self._table_state: tuple | None = None
        self._image_text: str | None = None
        # what the tiles in the file hold, to tell whether they can be written as they are
        self._stored_params: tuple | None = None
        self._stored_layout: tuple | None = None
        self._stored_fingerprint: tuple | None = None
        tile_source = None
        if bintable is not None:
            if bintable._file is None or bintable._offsets is None:
                raise NotImplementedError("decompressing tiles held in memory is not supported "
                                          "yet: give a BinTableHDU read from a file")
            tile_source = bintable
            header = bintable.header
            _check_tile_header(header, bintable._where(), bintable._file.name, bintable._index)
            data = DELAYED
        if data is DELAYED:
            drop_default_extnames(header)
            self._table_header = header
            header = image_header_from_table(header)
        super().__init__(data=data, header=header, name=name,
                         do_not_scale_image_data=do_not_scale_image_data, uint=uint,
                         scale_back=scale_back)
        if self._table_header is None and header is not None and "SIMPLE" in header:
            # an image from a primary HDU keeps a primary header (stored as ZSIMPLE)
            for keyword in ("XTENSION", "PCOUNT", "GCOUNT"):
                self._header.remove(keyword, ignore_missing=True)
            self._header.insert(0, ("SIMPLE", header["SIMPLE"]))
        if tile_source is not None:
            self._file, self._index = tile_source._file, tile_source._index
            self._offsets, self._header_text = tile_source._offsets, tile_source._header_text
        if self._table_header is not None:
            self._read_compression_parameters(self._table_header)
            self._image_text = self._header.tostring()
            self._stored_params = self._compression_params()
            self._stored_layout = _pixel_layout(self._header)
        else:
            self.compression_type = compression_type
            self.tile_shape = validate_tile_shape(tile_shape, self.compression_type, self._header)
            self.hcomp_scale = hcomp_scale
            self.hcomp_smooth = hcomp_smooth
            self.quantize_level = quantize_level
            self.quantize_method = quantize_method
            self.dither_seed = dither_seed
            # as astropy, the settings and cards are checked now too (warnings included)
            self._encoding(self._data)
            table_header_for(self._header, self.name, [])

    def _read_compression_parameters(self, table: Header) -> None:
        self.compression_type = table.get("ZCMPTYPE", DEFAULT_COMPRESSION_TYPE)
        self.tile_shape = tile_shape_of(table)
        self.hcomp_scale = int(compression_setting(table, "SCALE", 0))
        self.hcomp_smooth = compression_setting(table, "SMOOTH", 0)
        self.quantize_level = compression_setting(table, "NOISEBIT", 16.0)
        self.quantize_method = DITHER_METHODS[table.get("ZQUANTIZ", "NO_DITHER")]
        self.dither_seed = table.get("ZDITHER0", 0)

    @classmethod
    def _from_file(cls, hdufile: Any, index: int, header: Header, text: str,
                   offsets: tuple[int, int, int], **kwargs: Any) -> Any:
        if kwargs.get("disable_image_compression"):
            # as astropy: the tiles' table as an ordinary binary table
            from fitsbind.hdu.table import BinTableHDU

            return BinTableHDU._from_file(hdufile, index, header, text, offsets, **kwargs)
        _check_tile_header(header, f"{hdufile.name}, HDU {index}", hdufile.name, index)
        return super()._from_file(hdufile, index, header, text, offsets, **kwargs)

    @classmethod
    def match_header(cls, header: Header) -> bool:
        return (xtension(header) in ("BINTABLE", "A3DTABLE")
                and bool(header.get("ZIMAGE", False)))

    # -- properties ---------------------------------------------------------------------------

    @property
    def compression_type(self) -> str:
        """ZCMPTYPE: 'RICE_1', 'GZIP_1', 'GZIP_2', 'PLIO_1', 'HCOMPRESS_1' or 'NOCOMPRESS'."""
        return self._compression_type

    @compression_type.setter
    def compression_type(self, value: str) -> None:
        value = _COMPRESSION_ALIASES.get(value, value)
        if value not in COMPRESSION_TYPES:
            known = ", ".join(map(repr, COMPRESSION_TYPES))
            warnings.warn(f"Unknown compression type provided (supported are {known}). Default "
                          f"({DEFAULT_COMPRESSION_TYPE}) compression will be used.",
                          FITSUserWarning, stacklevel=2)
            value = DEFAULT_COMPRESSION_TYPE
        self._compression_type = value

    @property
    def is_image(self) -> bool:
        return True

    @property
    def section(self) -> CompImageSection:
        """Read parts of the image, decompressing only the tiles they touch:
        ``hdu.section[10:20, ::2]``."""
        return CompImageSection(self)

    @property
    def _bintable(self) -> Any:
        """The table of tiles behind this HDU (None for an HDU not read from a file), bound
        to wherever the HDU currently is in its file."""
        if self._table_header is None or self._file is None or self._offsets is None:
            return self._table
        state = (self._file, self._index, self._offsets)
        if self._table is None or self._table_state != state:
            self._table = _table_class()._from_file(self._file, self._index, self._table_header,
                                                      self._header_text, self._offsets)
            self._table_state = state
        return self._table

    @property
    def compressed_data(self) -> Any:
        """The compressed table's rows (a FITS_rec whose cells are (length, offset) heap
        descriptors), or None for an HDU not read from a file."""
        table = self._bintable
        return None if table is None else table.data

    # -- data ---------------------------------------------------------------------------------

    def _read_stored(self, key: Any) -> np.ndarray:
        """Stored pixels ``key`` selects, native byte order, decoding only the tiles they
        touch (the direct tier's CompressedImageHDU). Quantized float pixels flagged null
        (ZBLANK) come back as NaN."""
        self._file.require_native(self._index)
        tiles = self._file.fits[self._index]
        if not isinstance(tiles, TileReader):
            # CFITSIO takes only ZIMAGE = T for a compressed image, astropy any true value
            # (1D5, say): the direct tier then sees a table, read here as the image it holds
            tiles = TileReader(self._file.fits, self._index)
        return tiles.read_section(key, scale=False)

    def _load_data(self) -> np.ndarray | None:
        data = self._decompressed()
        if self._file.writable:
            # a flush writes the tiles back as they are unless the pixels changed since
            self._stored_fingerprint = _fingerprint(data)
        return data

    def _decompressed(self) -> np.ndarray | None:
        shape = self.shape
        if not shape or 0 in shape or self._table_header is None:
            return None
        raw = self._read_stored(Ellipsis)
        if not self._scaled:
            return raw
        if self._file.strict_memmap:
            raise ValueError("Cannot load a memory-mapped image: BZERO/BSCALE/BLANK header "
                             "keywords present. Set memmap=False.")
        data = self._scale(raw)
        # as astropy: BLANK alone converts the pixels but leaves the header as it is
        if self._orig_bscale != 1 or self._orig_bzero != 0:
            self._after_scaling(data.dtype)
        self._image_text = self._header.tostring()
        return data

    def _set_data(self, value: Any) -> None:
        super()._set_data(value)
        tile = getattr(self, "tile_shape", None)
        if self._data is not None and tile is not None and len(tile) != self._data.ndim:
            # as astropy: data of another dimensionality gets the default tiles
            self.tile_shape = validate_tile_shape(None, self.compression_type, self._header)

    # -- writing ------------------------------------------------------------------------------

    def filebytes(self) -> int:
        """Bytes as astropy counts them: the image header, then the decompressed data once it
        is loaded, else the compressed table's data unit (each padded to 2880)."""
        if self._data_loaded:
            nbytes = 0 if self._data is None else self._data.nbytes
        else:
            nbytes = 0 if self._offsets is None else self._offsets[2] - self._offsets[1]
        return len(self._header_bytes()) + padded_length(nbytes)

    def _payload(self) -> np.ndarray | None:
        return self._output().payload

    def _keep_disk_size(self) -> None:
        # The image header sizes the pixels, not the stored table: the cards the base class
        # would put back are the table's, and copying them into the image header would make
        # the flush recompress a corrupt image (the table header is rebuilt around the stored
        # tiles by _stored_output instead).
        return

    def _disk_header_text(self) -> str:
        return self._output(check_data=False).text()

    def _refresh_checksums(self, payload: np.ndarray | None) -> None:
        # the sums written are the table's (its header and bytes are what goes to the file);
        # whether to write them is this HDU's choice, as in astropy
        out = self._output(check_data=False)
        out._output_checksum = self._output_checksum
        out._refresh_checksums(out.payload)

    @property
    def _header_text(self) -> str | None:
        """The table header text the file holds for this HDU (set when it is read, and by
        HDUList once it wrote the HDU there)."""
        return self._file_header_text

    @_header_text.setter
    def _header_text(self, text: str | None) -> None:
        self._file_header_text = text
        out = getattr(self, "_out", None)
        if out is not None and text is not None and text == out.text():
            self._adopt(out)

    def _adopt(self, out: _TableOut) -> None:
        """The file now holds ``out`` (a flush wrote it): its tiles become the stored ones."""
        self._table_header = out.header
        self._image_text, self._stored_params = out.key[0], out.key[1]
        self._stored_layout, self._stored_fingerprint = out.layout, out.fingerprint
        self._data_replaced = False
        self._table = None
        self._out = None

    def _compression_params(self) -> tuple:
        tile = None if self.tile_shape is None else tuple(int(n) for n in self.tile_shape)
        return (self.compression_type, tile, self.hcomp_scale, self.hcomp_smooth,
                self.quantize_level, self.quantize_method, self.dither_seed)

    def _state_key(self) -> tuple:
        """What the table written for this HDU depends on, besides the pixel values: the image
        header, the compression settings, which array is the data, whether the file is open."""
        file_open = self._file is not None and not self._file.closed
        return (self._header.tostring(), self._compression_params(),
                id(self._data) if self._data_loaded else None, file_open)

    def _output(self, check_data: bool = True) -> _TableOut:
        """The table this HDU is written as, made once per state of the HDU. ``check_data``
        hashes loaded pixels to catch changes made in place (the writers call this first;
        the calls that follow in the same write skip it)."""
        key = self._state_key()
        out = self._out
        if out is not None and out.key == key and not (check_data and self._data_loaded):
            return out
        fingerprint = _fingerprint(self._data) if self._data_loaded else None
        if out is not None and out.key == key and out.fingerprint == fingerprint:
            return out
        out = self._stored_output(key, fingerprint) or self._compressed_output(fingerprint)
        self._out = out
        return out

    def _stored_output(self, key: tuple, fingerprint: tuple | None) -> _TableOut | None:
        """The table as stored, when its tiles still hold this image: the HDU comes from a
        file still open, its pixels were not replaced or changed (as far as a load in a
        writable mode can tell), its pixel layout and compression settings are as stored.
        With only ordinary cards edited, the table header is rebuilt around the same tiles
        (astropy would compress again); otherwise None."""
        table = self._bintable if key[3] else None
        if table is None:
            return None
        if self._data_loaded and (self._data_replaced or fingerprint is None
                                  or fingerprint != self._stored_fingerprint):
            return None
        if key[1] != self._stored_params or _pixel_layout(self._header) != self._stored_layout:
            return None
        if key[0] == self._image_text:
            header = self._table_header.copy()
        else:
            kept = [copy.copy(card) for card in self._table_header.cards
                    if _table_owned(card.keyword)]
            header = table_header_for(self._header, self.name, kept)
        return _TableOut(header, table._payload(), key, fingerprint, self._stored_layout)

    def _compressed_output(self, fingerprint: tuple | None) -> _TableOut:
        """The image compressed afresh: the table header astropy would write for it (see
        :func:`table_header_for`), its rows and heap made by CFITSIO's codecs. ``fingerprint``
        is that of the data when it was loaded already."""
        loaded = self._data_loaded
        stored = ImageHDU._payload(self)   # also brings BITPIX / NAXISn in line with the data
        data, image = self._data, self._header
        if stored is None or stored.size == 0:
            # astropy writes a table without rows, which CFITSIO refuses to create or read
            raise FITSValueError(f"{self.name}: a CompImageHDU without pixels cannot be written "
                             "(CFITSIO, funpack and fitsverify reject compressed images without "
                             "data); write an ImageHDU instead")
        if self.compression_type == "NOCOMPRESS":
            raise ValueError("NOCOMPRESS tiles cannot be read by CFITSIO (fitsbind, funpack); "
                             "use GZIP_1 for lossless compression of any image")
        if self.compression_type == "PLIO_1" and data.dtype.kind == "u" and data.dtype.itemsize >= 2:
            raise ValueError("PLIO_1 compression does not support unsigned integers larger than "
                             "8 bits")
        encoding = self._encoding(data)
        wide_bzero = None
        if data.dtype.kind in "iu" and data.dtype.itemsize == 8 \
                and encoding.compression.zcmptype in ("RICE_1", "PLIO_1", "HCOMPRESS_1"):
            stored, wide_bzero = self._narrowed(data, encoding.compression.zcmptype)
            encoding = encoding._replace(zbitpix=32)
        if encoding.compression.zcmptype == "PLIO_1" and stored.dtype.kind in "iu" and (
                stored.min() < 0 or stored.max() >= 1 << 24):
            # checked here, before any tile is coded, for astropy's class and message
            raise FITSValueError(f"{self._where()}: data out of range for PLIO compression "
                                 "(0 - 2**24)")
        columns, rows, encoded = encode_table(stored, encoding.zbitpix, encoding.compression,
                                              encoding.quantize, wide=stored.nbytes > 1 << 32)
        payload = np.concatenate([rows.reshape(-1), encoded.data])
        cards = _table_layout(image, encoding, columns, rows.shape[0], rows.shape[1],
                              encoded.data.size)
        header = table_header_for(image, self.name, cards,
                                  _NULL_ZBLANK if encoded.has_nulls else None)
        # 64-bit integers narrowed for the codec: no image header describes those tiles
        layout = _pixel_layout(image) if encoding.zbitpix == image["BITPIX"] else None
        if wide_bzero is not None:
            header["BZERO"] = wide_bzero
        if not loaded:
            fingerprint = _fingerprint(self._data)
        return _TableOut(header, payload, self._state_key(), fingerprint, layout)

    def _narrowed(self, data: np.ndarray, zcmptype: str) -> tuple[np.ndarray, int | None]:
        """64-bit integers for a 32-bit codec, as astropy: converted (with a warning) when every
        value fits, else ValueError. Returns the stored values and the table's new BZERO
        (2**31 for unsigned data, else None)."""
        narrow = data.astype(f"{data.dtype.kind}4")
        if not np.array_equal(narrow, data):
            raise ValueError(f"{zcmptype} compression doesn't support 64 integers, but data "
                             "cannot be converted to 32 bits without overflow")
        warnings.warn(f"{zcmptype} compression doesn't support 64 integers, data has been "
                      "converted to 32 bits", FITSUserWarning, stacklevel=5)
        return to_stored(narrow), (1 << 31 if data.dtype.kind == "u" else None)

    def _encoding(self, data: np.ndarray | None) -> _Encoding:
        """The compression of this HDU's image as it stands, checked as astropy checks it when
        the HDU is made and when it is written: tiles (:func:`validate_tile_shape`), an
        unknown quantize method (warning; NO_DITHER is used), the dither seed. NOCOMPRESS
        has no codec settings: it is refused when the image is written."""
        image = self._header
        zcmptype = self.compression_type
        # no axes (no data yet): the default tiling, decided when there are pixels
        tile = validate_tile_shape(self.tile_shape, zcmptype, image) or None
        bitpix = image["BITPIX"]
        compression: Compression
        if zcmptype == "RICE_1":
            compression = Rice1(DEFAULT_BLOCK_SIZE, {8: 1, 16: 2}.get(bitpix, 4), tile_shape=tile)
            settings = compression.cards(bitpix)
        elif zcmptype == "HCOMPRESS_1":
            # astropy hands HCOMPRESS the scale truncated to an integer as the absolute step
            # (a negative scale in CFITSIO's terms), and writes the scale as given
            step = int(self.hcomp_scale)
            compression = Hcompress1(-float(step) if step > 0 else 0, bool(self.hcomp_smooth),
                                     tile_shape=tile)
            settings = [("SCALE", self.hcomp_scale, *["HCOMPRESS scale factor"] * 2),
                        ("SMOOTH", self.hcomp_smooth, *["HCOMPRESS smooth option"] * 2)]
        else:
            # NOCOMPRESS has no codec of its own; writing refuses it before encoding
            compression = {"GZIP_1": Gzip1, "GZIP_2": Gzip2, "PLIO_1": Plio1}.get(
                zcmptype, Gzip1)(tile_shape=tile)
            settings = []
        zquantiz = zdither0 = quantize = None
        if bitpix < 0:
            settings.append(("NOISEBIT", self.quantize_level,
                             *["floating point quantization level"] * 2))
            method = self.quantize_method
            if method and method not in QUANTIZE_METHOD_NAMES:
                warnings.warn("Unknown quantization method provided.  Default method "
                              f"({QUANTIZE_METHOD_NAMES[DEFAULT_QUANTIZE_METHOD]}) used.",
                              FITSUserWarning, stacklevel=4)
                method = DEFAULT_QUANTIZE_METHOD
            if method and method != NO_DITHER:
                zquantiz = QUANTIZE_METHOD_NAMES[method]
                zdither0 = self._dither_seed(data, tile)
            if self.quantize_level != 0:
                quantize = Quantize(float(self.quantize_level),
                                    (zquantiz or "NO_DITHER").lower(), zdither0 or 1)
        return _Encoding(compression, bitpix, settings, quantize, zquantiz, zdither0)

    def _dither_seed(self, data: np.ndarray | None, tile: tuple[int, ...]) -> int:
        """ZDITHER0 for ``dither_seed``: itself (1..10000), one from the clock (0), or one
        from the sum of the first tile's bytes (-1), as astropy and CFITSIO compute it."""
        seed = self.dither_seed
        if not isinstance(seed, (int, np.integer)):
            raise TypeError("Seed must be an integer")
        if not -1 <= seed <= 10000:
            raise ValueError("Seed for random dithering must be either between 1 and 10000 "
                             "inclusive, 0 for autogeneration from the system clock, or -1 for "
                             "autogeneration from a checksum of the first image tile (got "
                             f"{seed})")
        if seed == DITHER_SEED_CHECKSUM and data is not None:
            first = np.ascontiguousarray(data[tuple(slice(n) for n in tile)])
            return int(first.view(np.uint8).sum(dtype=np.uint64)) % 10000 + 1
        if seed in (DITHER_SEED_CLOCK, DITHER_SEED_CHECKSUM):
            return Quantize().dither_seed()
        return int(seed)

    # -- verification -------------------------------------------------------------------------

    def req_cards(self, keyword: str, pos: Any, test: Any, fix_value: Any, option: str,
                  errlist: list) -> None:
        # an image compressed from a primary HDU keeps a primary header: no PCOUNT/GCOUNT
        if keyword in ("PCOUNT", "GCOUNT") and "SIMPLE" in self._header:
            return
        super().req_cards(keyword, pos, test, fix_value, option, errlist)
