"""Tile-compressed images through the drop-in CompImageHDU: one test body run against
astropy.io.fits (the oracle) and fitsbind (the ``fits`` fixture).

Reading: files are compressed by astropy; the edge cases of the table-header -> image-header
mapping are made by rewriting the compressed table's header card by card around the same tile
bytes. Writing: what the library under test writes is read back by astropy and fitsbind,
unpacked by CFITSIO's funpack and checked by fitsverify, and compared with the file astropy
writes from the same arguments (table header card for card, pixel values).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np
import pytest
from astropy.io import fits as afits
from astropy.io.fits.hdu import compressed as acompressed

import fitsbind

# cards of a compressed table header written by astropy for an int16 image of numpy shape
# (6, 8) in 2 x 4 tiles (see ``table_file``), up to the last card it writes (EXTNAME)
TILE_CARDS = 26


def compressed_file(path: Path, data: np.ndarray, **options) -> Path:
    """``path``: an empty primary HDU and ``data`` compressed by astropy with ``options``."""
    afits.HDUList([afits.PrimaryHDU(), afits.CompImageHDU(data, **options)]).writeto(path)
    return path


def rewrite_table_header(source: Path, target: Path, edit: Callable[[list], list]) -> Path:
    """``target``: ``source`` with the compressed table header's cards replaced by
    ``edit(cards)``; cards are 80-character strings, and ``edit`` may return (keyword, value,
    comment) tuples as well. The tile bytes are copied unchanged."""
    with afits.open(source, disable_image_compression=True) as hdul:
        cards = [str(card) for card in hdul[1].header.cards]
        where = hdul[1].fileinfo()
    raw = source.read_bytes()
    images = [card.ljust(80) if isinstance(card, str) else str(afits.Card(*card)) for card in edit(cards)]
    text = "".join(images) + "END".ljust(80)
    text = text.ljust(-(-len(text) // 2880) * 2880)
    target.write_bytes(raw[: where["hdrLoc"]] + text.encode("ascii") + raw[where["datLoc"] :])
    return target


@pytest.fixture
def pixels() -> np.ndarray:
    return np.arange(48, dtype=np.int16).reshape(6, 8) - 10


@pytest.fixture
def table_file(tmp_path: Path, pixels: np.ndarray) -> Path:
    """``pixels`` RICE-compressed in 2 x 4 tiles, table header as astropy writes it."""
    path = compressed_file(tmp_path / "tiles.fits", pixels, tile_shape=(2, 4))
    with afits.open(path, disable_image_compression=True) as hdul:
        assert len(hdul[1].header) == TILE_CARDS
        assert hdul[1].header.cards[-1].keyword == "EXTNAME"
    return path


def without(cards: list, *keywords: str) -> list:
    return [card for card in cards if card[:8].rstrip() not in keywords]


def card_tuples(header) -> list[tuple]:
    return [(card.keyword, card.value, card.comment) for card in header.cards]


STRUCTURE = [
    ("XTENSION", "IMAGE", "Image extension"),
    ("BITPIX", 16, "array data type"),
    ("NAXIS", 2, "number of array dimensions"),
    ("NAXIS1", 8, ""),
    ("NAXIS2", 6, ""),
    ("PCOUNT", 0, "number of parameters"),
    ("GCOUNT", 1, "number of groups"),
]


def test_extension_header_renamed_and_reserved_cards(fits, tmp_path, table_file, pixels):
    """Z cards come back under their image names with their comments, CHECKSUM/DATASUM
    from ZHECKSUM/ZDATASUM after the last ordinary card, reserved and table-only cards go. A
    reserved stem counts up to its letters' end: ZVAL_X and ZNAME-Q are reserved, ZTILEX not."""
    extra = [
        ("EXTNAME", "SCI", "science"),
        ("OBJECT", "M31", "target"),
        ("ZHECKSUM", "AbCdEfGh", "sum of the image HDU"),
        ("ZDATASUM", "12345", "sum of the image data"),
        ("CHECKSUM", "0000000000000000", "the table's own"),
        ("DATASUM", "1", "the table's own"),
        ("ZVAL_X", 1),
        ("ZNAME-Q", "q"),
        ("ZTILEX", 3),
        ("NAXIS3", 7, "left over"),
        ("THEAP", 48),
        ("HISTORY", "made by a test"),
    ]
    path = rewrite_table_header(table_file, tmp_path / "ext.fits",
                                lambda cards: without(cards, "EXTNAME") + extra)
    with fits.open(path) as hdul:
        hdu = hdul[1]
        assert type(hdu).__name__ == "CompImageHDU"
        assert card_tuples(hdu.header) == [
            *STRUCTURE,
            ("EXTNAME", "SCI", "science"),
            ("OBJECT", "M31", "target"),
            ("ZTILEX", 3, ""),
            ("CHECKSUM", "AbCdEfGh", "sum of the image HDU"),
            ("DATASUM", "12345", "sum of the image data"),
            ("HISTORY", "made by a test", ""),
        ]
        assert (hdu.name, hdu.ver, hdu.is_image) == ("SCI", 1, True)
        assert hdul.info(output=False)[1] == (1, "SCI", 1, "CompImageHDU", 13, (8, 6), "int16", "")
        np.testing.assert_array_equal(hdu.data, pixels)


def test_primary_style_header(fits, tmp_path, table_file, pixels):
    """ZSIMPLE makes a primary header: SIMPLE first, no PCOUNT/GCOUNT (and verification does
    not ask for them), EXTEND from ZEXTEND after the last ordinary card; the default EXTNAME
    is not shown and the name falls back to it."""

    def edit(cards):
        cards = without(cards, "ZTENSION", "ZPCOUNT", "ZGCOUNT")
        return [*cards[:11], ("ZSIMPLE", True, "from a primary HDU"), *cards[11:],
                ("ZEXTEND", True, "may have extensions"), ("OBSERVER", "Edwin"), ("COMMENT", "a note")]

    path = rewrite_table_header(table_file, tmp_path / "primary.fits", edit)
    with fits.open(path) as hdul:
        hdu = hdul[1]
        assert card_tuples(hdu.header) == [
            ("SIMPLE", True, "from a primary HDU"),
            *STRUCTURE[1:5],
            ("OBSERVER", "Edwin", ""),
            ("EXTEND", True, "may have extensions"),
            ("COMMENT", "a note", ""),
        ]
        assert hdu.name == "COMPRESSED_IMAGE"
        assert hdu.is_image
        hdul.verify("exception")
        np.testing.assert_array_equal(hdu.data, pixels)


def test_missing_optional_cards_and_odd_ztension(fits, tmp_path, table_file):
    """Without ZPCOUNT/ZGCOUNT the image gets PCOUNT 0 and GCOUNT 1 without comments; a
    ZTENSION other than IMAGE is reported and the image is an IMAGE extension anyway."""

    def edit(cards):
        cards = without(cards, "ZPCOUNT", "ZGCOUNT")
        odd = ("ZTENSION", "BINTABLE", "odd")
        return [odd if card.startswith("ZTENSION") else card for card in cards]

    path = rewrite_table_header(table_file, tmp_path / "odd.fits", edit)
    with pytest.warns(UserWarning, match="ZTENSION keyword in compressed extension != 'IMAGE'"):
        with fits.open(path) as hdul:
            header = hdul[1].header
    assert card_tuples(header)[:7] == [("XTENSION", "IMAGE", "odd"), *STRUCTURE[1:5],
                                       ("PCOUNT", 0, ""), ("GCOUNT", 1, "")]


def test_duplicate_default_extname(fits, tmp_path, table_file):
    """A second EXTNAME next to the default one names the HDU; the default card is dropped from
    the table header too, so a copy of the file keeps only the real name."""
    path = rewrite_table_header(table_file, tmp_path / "names.fits",
                                lambda cards: [*cards, ("OBJECT", "x"), ("EXTNAME", "ccd07", "chip")])
    with fits.open(path) as hdul:
        assert hdul[1].name == "ccd07"
        assert [card for card in card_tuples(hdul[1].header) if card[0] == "EXTNAME"] == [
            ("EXTNAME", "ccd07", "chip")
        ]
        hdul.writeto(tmp_path / "copy.fits")
    with afits.open(tmp_path / "copy.fits", disable_image_compression=True) as copy:
        assert copy[1].header.count("EXTNAME") == 1


def test_trailing_blank_cards_kept(fits, tmp_path, table_file):
    """The image header ends in as many blank cards as the table header (they count in info())."""
    path = rewrite_table_header(table_file, tmp_path / "blanks.fits",
                                lambda cards: [*cards, ("OBJECT", "x")] + [" " * 80] * 3)
    with fits.open(path) as hdul:
        cards = hdul[1].header.cards
        assert [card.keyword for card in cards][-5:] == ["GCOUNT", "OBJECT", "", "", ""]
        assert hdul.info(output=False)[1][4] == len(STRUCTURE) + 4


def test_table_scaling_cards_and_float_data(fits, tmp_path, table_file, pixels):
    """The table's BSCALE/BZERO go after the last ordinary card without comments; the data are
    float32, and reading them turns the scaling cards into blanks and BITPIX into -32."""

    def edit(cards):
        return [*cards[:8], ("BSCALE", 2.5, "table scale"), ("BZERO", 10.0, "table zero"), *cards[8:],
                ("OBJECT", "x"), ("HISTORY", "h")]

    path = rewrite_table_header(table_file, tmp_path / "scaled.fits", edit)
    with fits.open(path) as hdul:
        hdu = hdul[1]
        assert card_tuples(hdu.header) == [*STRUCTURE, ("OBJECT", "x", ""), ("BSCALE", 2.5, ""),
                                           ("BZERO", 10.0, ""), ("HISTORY", "h", "")]
        assert hdul.info(output=False)[1][6] == "int16 (rescales to float32)"
        data = hdu.data
        assert data.dtype == np.float32
        np.testing.assert_array_equal(data, pixels * np.float32(2.5) + np.float32(10))
        np.testing.assert_array_equal(hdu.section[1:3, ::3], data[1:3, ::3])
        assert card_tuples(hdu.header) == [("XTENSION", "IMAGE", "Image extension"),
                                           ("BITPIX", -32, "array data type"), *STRUCTURE[2:],
                                           ("OBJECT", "x", ""), ("HISTORY", "h", ""), ("", "", ""),
                                           ("", "", "")]


def test_uint16_through_bzero(fits, tmp_path):
    values = np.array([[0, 1, 40000], [65535, 7, 32768]], dtype=np.uint16)
    path = compressed_file(tmp_path / "u16.fits", values, compression_type="GZIP_1")
    with fits.open(path) as hdul:
        hdu = hdul[1]
        assert [(k, v) for k, v, _ in card_tuples(hdu.header)][-2:] == [("BSCALE", 1), ("BZERO", 32768)]
        assert hdu.data.dtype == np.uint16
        np.testing.assert_array_equal(hdu.data, values)
        assert card_tuples(hdu.header)[-2:] == [("BSCALE", 1, ""), ("BZERO", 32768, "")]
    with fits.open(path, uint=False) as hdul:
        assert hdul[1].data.dtype == np.float32
        np.testing.assert_array_equal(hdul[1].data, values.astype(np.float32))
    with fits.open(path, do_not_scale_image_data=True) as hdul:
        np.testing.assert_array_equal(hdul[1].data, (values.astype(np.int32) - 32768).astype(np.int16))


def test_zblank_gives_blank_and_nan(fits, tmp_path, table_file, pixels):
    """An integer image takes BLANK from ZBLANK; its pixels read as NaN in float32 data, while
    BITPIX and BLANK stay in the header (no BSCALE/BZERO to replace)."""
    path = rewrite_table_header(table_file, tmp_path / "zblank.fits",
                                lambda cards: [*cards[:21], ("ZBLANK", -5, "null pixels"), *cards[21:]])
    with fits.open(path) as hdul:
        hdu = hdul[1]
        assert card_tuples(hdu.header) == [*STRUCTURE, ("BLANK", -5, "")]
        expected = pixels.astype(np.float32)
        expected[pixels == -5] = np.nan
        np.testing.assert_array_equal(hdu.data, expected)
        assert hdu.header["BITPIX"] == 16 and hdu.header["BLANK"] == -5
        assert np.isnan(hdu.section[0, 5])


def test_quantized_float_with_nans_and_zeros(fits, tmp_path):
    """Lossy floats decode as astropy decodes them: NaN where the input had NaN, zeros exact
    with SUBTRACTIVE_DITHER_2; sections agree with the whole image."""
    rng = np.random.default_rng(5)
    values = rng.normal(100.0, 3.0, size=(20, 30)).astype(np.float32)
    values[3, 4] = values[17, 29] = np.nan
    values[0, :5] = 0.0
    path = compressed_file(tmp_path / "float.fits", values, compression_type="GZIP_2", tile_shape=(5, 10),
                           quantize_level=8, quantize_method=2, dither_seed=42)
    oracle = afits.getdata(path, 1)
    with fits.open(path) as hdul:
        hdu = hdul[1]
        data = hdu.data
        assert data.dtype == np.float32
        np.testing.assert_array_equal(data, oracle)
        np.testing.assert_array_equal(np.isnan(data), np.isnan(values))
        assert (data[0, :5] == 0).all()
        np.testing.assert_allclose(data, values, atol=1.0)
        np.testing.assert_array_equal(hdu.section[2:18:5, -1:10:-4], data[2:18:5, -1:10:-4])
        assert (hdu.compression_type, hdu.quantize_level, hdu.quantize_method, hdu.dither_seed) == (
            "GZIP_2", 8, 2, 42)
        assert tuple(hdu.tile_shape) == (5, 10)


def test_section_keys_and_errors(fits, table_file, pixels):
    with fits.open(table_file) as hdul:
        section = hdul[1].section
        assert type(section).__name__ == "CompImageSection"
        assert (section.shape, section.dtype, section.ndim) == ((6, 8), np.dtype("int16"), 2)
        for key in [(slice(1, 5), slice(2, 7, 2)), (slice(None, None, -1), 3), (-1,), 4, (Ellipsis, -2),
                    (2, Ellipsis, 5), (slice(5, 1),), [1, 2], ()]:
            expected = pixels[tuple(key) if isinstance(key, list) else key]
            got = section[key]
            assert np.shape(got) == np.shape(expected)
            np.testing.assert_array_equal(got, expected)
        with pytest.raises(ValueError, match="dimensionality"):
            section[0, 0, 0]
        with pytest.raises(IndexError):
            section[6]
        with pytest.raises(ValueError, match="Unexpected index element"):
            section[None]
        with pytest.raises(ValueError, match="Unexpected index element"):
            section[np.array([1, 2])]
        with pytest.raises(IndexError, match="single ellipsis"):
            section[..., ...]


def test_compressed_data_and_parameters(fits, table_file):
    with fits.open(table_file) as hdul:
        hdu = hdul[1]
        assert (hdu.compression_type, hdu.hcomp_scale, hdu.hcomp_smooth) == ("RICE_1", 0, 0)
        assert (hdu.quantize_level, hdu.quantize_method, hdu.dither_seed) == (16.0, -1, 0)
        assert tuple(hdu.tile_shape) == (2, 4)
        rows = hdu.compressed_data
        assert type(rows).__name__ == "FITS_rec"
        assert rows.dtype.names == ("COMPRESSED_DATA",)
        assert rows.dtype["COMPRESSED_DATA"] == np.dtype((">i4", (2,)))
        descriptors = rows["COMPRESSED_DATA"]
        assert len(descriptors) == 6
        # (length, heap offset) pairs laying the tiles one after another
        np.testing.assert_array_equal(descriptors[1:, 1], np.cumsum(descriptors[:-1, 0]))


def test_disable_image_compression(fits, table_file):
    with fits.open(table_file, disable_image_compression=True) as hdul:
        assert type(hdul[1]).__name__ == "BinTableHDU"
        assert hdul[1].header["ZIMAGE"] is True
        assert len(hdul[1].data) == 6


def test_unchanged_hdu_copied_as_stored(fits, tmp_path, table_file, pixels):
    """Writing a compressed HDU read from a file (data not loaded) copies the table header and
    tile bytes; asked for checksums, the table header gets them."""
    with fits.open(table_file) as hdul:
        hdul.writeto(tmp_path / "copy.fits")
        hdul.writeto(tmp_path / "summed.fits", checksum=True)
    assert (tmp_path / "copy.fits").read_bytes() == table_file.read_bytes()
    with afits.open(tmp_path / "summed.fits", disable_image_compression=True, checksum=True) as check:
        assert check[1].verify_checksum() == 1 and check[1].verify_datasum() == 1
    np.testing.assert_array_equal(afits.getdata(tmp_path / "summed.fits", 1), pixels)


def test_bad_key_in_table_header(fits, tmp_path, table_file):
    """A compressed table without ZBITPIX cannot describe an image: KeyError, as astropy."""
    path = rewrite_table_header(table_file, tmp_path / "bad.fits", lambda cards: without(cards, "ZBITPIX"))
    with pytest.raises(KeyError):
        with fits.open(path) as hdul:
            hdul[1].header  # noqa: B018 - reading the HDU is the test


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------

SHAPE = (20, 30)


def sample(dtype: str, seed: int = 7) -> np.ndarray:
    """Pixels of ``SHAPE``: integers PLIO can code too (0 .. 2**24), uint16 beyond 32767, or
    noisy floats (mean 100, sigma 3)."""
    rng = np.random.default_rng(seed)
    if dtype == "float32":
        return rng.normal(100.0, 3.0, SHAPE).astype(np.float32)
    high = {"int16": 3000, "int32": 1 << 24, "uint16": 65536}[dtype]
    return rng.integers(0, high, SHAPE).astype(dtype)


def write(lib: ModuleType, path: Path, data: np.ndarray | None, header=None, **options) -> Path:
    """``path``: an empty primary HDU and ``data`` compressed by ``lib`` with ``options``."""
    lib.HDUList([lib.PrimaryHDU(), lib.CompImageHDU(data, header=header, **options)]).writeto(path)
    return path


def table_cards(path: Path, index: int = 1, sizes: bool = True) -> list[str]:
    """Card images of compressed table ``index`` as stored, without checksums and blank cards;
    ``sizes=False`` also leaves out the cards that depend on the compressed size (PCOUNT,
    TFORMn)."""
    skip = {"CHECKSUM", "DATASUM"} | (set() if sizes else {"PCOUNT", "TFORM1", "TFORM2"})
    with afits.open(path, disable_image_compression=True) as hdul:
        return [str(card) for card in hdul[index].header.cards
                if card.keyword not in skip and not card.is_blank]


def unpacked(path: Path, index: int = 1) -> np.ndarray:
    """HDU ``index`` of ``path`` as CFITSIO's funpack decompresses it."""
    if shutil.which("funpack") is None:
        pytest.skip("funpack is not installed (Debian package 'libcfitsio-bin')")
    result = subprocess.run(["funpack", "-S", str(path)], capture_output=True, check=True)
    return afits.getdata(io.BytesIO(result.stdout), index)


def check_written(path: Path, fitsverify: Callable[[Path], None], index: int = 1,
                  unpacked_index: int | None = None) -> np.ndarray:
    """The pixels of HDU ``index``, after checking that astropy, fitsbind and funpack read the
    same values and that fitsverify accepts the file. funpack's HDU is ``unpacked_index``
    (default ``index``; a compressed primary image unpacks into HDU 0)."""
    ours = fitsbind.getdata(path, index)
    theirs = afits.getdata(path, index)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(unpacked(path, index if unpacked_index is None else unpacked_index),
                                  theirs)
    fitsverify(path)
    return theirs


ROUND_TRIPS = [pytest.param(kind, dtype, id=f"{kind}-{dtype}")
               for kind in ("RICE_1", "GZIP_1", "GZIP_2", "PLIO_1", "HCOMPRESS_1")
               for dtype in ("int16", "int32", "uint16", "float32")
               if not (kind == "PLIO_1" and dtype in ("uint16", "float32"))]


@pytest.mark.parametrize("tile_shape", [None, (5, 12)], ids=["rows", "tiles"])
@pytest.mark.parametrize(("compression_type", "dtype"), ROUND_TRIPS)
def test_write_round_trip(fits, tmp_path, fitsverify, compression_type, dtype, tile_shape):
    """Every algorithm and pixel type: integers come back exactly, floats within the
    quantization step; the table header is astropy's card for card; quantized floats in row
    tiles have astropy's pixel values for the same dither seed (multi-row tiles do not: there
    CFITSIO, whose codec fitsbind uses, estimates the noise per row and astropy per tile)."""
    data = sample(dtype)
    if compression_type == "PLIO_1":
        # astropy's PLIO encoder corrupts its heap on values beyond a few 10**4
        data %= 3000
    options = {"compression_type": compression_type, "tile_shape": tile_shape,
               "quantize_method": acompressed.SUBTRACTIVE_DITHER_1, "dither_seed": 77}
    path = write(fits, tmp_path / "ours.fits", data, **options)
    oracle = write(afits, tmp_path / "oracle.fits", data, **options)
    pixels = check_written(path, fitsverify)
    assert pixels.dtype == data.dtype
    if dtype == "float32":
        np.testing.assert_allclose(pixels, data, atol=0.5)
        if tile_shape is None and compression_type != "HCOMPRESS_1":
            np.testing.assert_array_equal(pixels, afits.getdata(oracle, 1))
    else:
        np.testing.assert_array_equal(pixels, data)
    assert table_cards(path, sizes=False) == table_cards(oracle, sizes=False)
    with fits.open(path) as hdul, afits.open(oracle) as expected:
        hdu = hdul[1]
        assert (hdu.compression_type, hdu.name) == (compression_type, "COMPRESSED_IMAGE")
        assert tuple(hdu.tile_shape) == tuple(expected[1].tile_shape)


def test_astropy_writers_match_when_lossless(fits, tmp_path):
    """Lossless integer and float images: the file is astropy's byte for byte (Rice and PLIO
    are deterministic; CFITSIO's gzip level differs from astropy's, so GZIP is not)."""
    for i, (data, options) in enumerate([
        (sample("int16"), {"tile_shape": (4, 10)}),
        (sample("uint16"), {}),
        (sample("int32") % 3000, {"compression_type": "PLIO_1"}),
        (np.arange(-60, 60, dtype=np.int8).reshape(10, 12), {}),
        (sample("float32"), {"quantize_method": 2, "dither_seed": 5}),
    ]):
        path = write(fits, tmp_path / f"ours{i}.fits", data, **options)
        oracle = write(afits, tmp_path / f"oracle{i}.fits", data, **options)
        assert path.read_bytes() == oracle.read_bytes()


QUANTIZE = [
    (16.0, -1, 0),           # astropy's defaults: no dithering, no ZQUANTIZ / ZDITHER0
    (4, 1, 1234),
    (8.0, 2, 10000),
    (-0.05, 1, 17),          # negative: the absolute step
    (16.0, 1, -1),           # DITHER_SEED_CHECKSUM
]


@pytest.mark.parametrize(("level", "method", "seed"), QUANTIZE)
def test_quantize_settings(fits, tmp_path, fitsverify, level, method, seed):
    data = sample("float32")
    data[0, :6] = 0.0
    path = write(fits, tmp_path / "ours.fits", data, quantize_level=level, quantize_method=method,
                 dither_seed=seed)
    oracle = write(afits, tmp_path / "oracle.fits", data, quantize_level=level,
                   quantize_method=method, dither_seed=seed)
    pixels = check_written(path, fitsverify)
    np.testing.assert_array_equal(pixels, afits.getdata(oracle, 1))
    assert table_cards(path) == table_cards(oracle)
    with afits.open(path, disable_image_compression=True) as hdul:
        table = hdul[1].header
        assert (table["ZNAME1"], table["ZNAME3"], table["ZVAL3"]) == ("BLOCKSIZE", "NOISEBIT", level)
        assert table.get("ZQUANTIZ") == {-1: None, 1: "SUBTRACTIVE_DITHER_1",
                                         2: "SUBTRACTIVE_DITHER_2"}[method]
        if seed == -1:
            # the byte sum of the first tile (one image row), as CFITSIO computes it
            assert table["ZDITHER0"] == int(data[:1].view(np.uint8).sum()) % 10000 + 1
        elif method != -1:
            assert table["ZDITHER0"] == seed
    if method == 2:
        assert (pixels[0, :6] == 0).all()
    with fits.open(path) as hdul:
        hdu = hdul[1]
        assert (hdu.quantize_level, hdu.quantize_method) == (level, method)
        assert hdu.dither_seed == (0 if method == -1 else table["ZDITHER0"])


def test_clock_dither_seed(fits, tmp_path, fitsverify):
    data = sample("float32")
    path = write(fits, tmp_path / "clock.fits", data,
                 quantize_method=acompressed.SUBTRACTIVE_DITHER_1, dither_seed=acompressed.DITHER_SEED_CLOCK)
    np.testing.assert_allclose(check_written(path, fitsverify), data, atol=0.5)
    assert 1 <= afits.getval(path, "ZDITHER0", 1, disable_image_compression=True) <= 10000


def test_nan_in_floats(fits, tmp_path, fitsverify):
    """NaN pixels (scattered, and a whole row) come back as NaN, with ZBLANK in the table;
    the other pixels within the quantization step. (The values need not be astropy's: CFITSIO
    leaves nulls out of the noise estimate, astropy counts them as the tile's minimum.)"""
    data = sample("float32")
    data[2, 3] = data[11, 29] = np.nan
    data[7] = np.nan
    path = write(fits, tmp_path / "nan.fits", data, quantize_method=1, dither_seed=5,
                 tile_shape=(1, 15))
    pixels = check_written(path, fitsverify)
    np.testing.assert_array_equal(np.isnan(pixels), np.isnan(data))
    np.testing.assert_allclose(pixels, data, atol=0.5)
    assert afits.getval(path, "ZBLANK", 1, disable_image_compression=True) < 0


@pytest.mark.parametrize("compression_type", ["GZIP_1", "GZIP_2"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lossless_floats(fits, tmp_path, fitsverify, compression_type, dtype):
    data = sample("float32").astype(dtype)
    data[4, 4] = np.nan
    path = write(fits, tmp_path / "exact.fits", data, compression_type=compression_type,
                 quantize_level=0)
    np.testing.assert_array_equal(check_written(path, fitsverify), data)
    with afits.open(path, disable_image_compression=True) as hdul:
        assert hdul[1].columns.names == ["COMPRESSED_DATA"]


def test_hcompress_scale(fits, tmp_path, fitsverify):
    """A lossy HCOMPRESS scale is applied as astropy applies it (the integer part, as an
    absolute step): same pixels as astropy's file; ZVAL1 keeps the value given."""
    data = np.random.default_rng(3).normal(1000, 30, (40, 30)).astype(np.int32)
    options = {"compression_type": "HCOMPRESS_1", "hcomp_scale": 2.5, "hcomp_smooth": 0,
               "tile_shape": (10, 30)}
    path = write(fits, tmp_path / "hcomp.fits", data, **options)
    oracle = write(afits, tmp_path / "oracle.fits", data, **options)
    pixels = check_written(path, fitsverify)
    np.testing.assert_array_equal(pixels, afits.getdata(oracle, 1))
    assert not np.array_equal(pixels, data)
    np.testing.assert_allclose(pixels, data, atol=8)
    assert table_cards(path) == table_cards(oracle)
    with fits.open(path) as hdul:
        assert (hdul[1].hcomp_scale, hdul[1].hcomp_smooth) == (2, 0)


def header_with_cards(fits: ModuleType):
    header = fits.Header([("OBJECT", "M31", "target"), ("EXPTIME", 1.5, "seconds"),
                          ("DATE-OBS", "2020-01-01T00:00:00"), ("LONGSTRN", "OGIP 1.0"),
                          ("LONGSTR", "word " * 30),
                          ("HIERARCH ESO DET CHIP NAME", "ccd7"), ("EXTVER", 2),
                          ("BSCALE", 1), ("CHECKSUM", "kA3ZmA3YkA3YkA3Y", "image sum")])
    header["HISTORY"] = "written by a test"
    header["COMMENT"] = "a note"
    return header


def test_header_cards_round_trip(fits, tmp_path, fitsverify):
    """The image header's cards go to the table after the Z cards (CHECKSUM as ZHECKSUM) and
    come back as astropy reads astropy's file; reserved keywords are dropped with a warning."""
    data = sample("uint16")
    header = header_with_cards(fits)
    header["ZTILE1"] = 5
    header["TFORM1"] = "1J"
    with pytest.warns(UserWarning, match="is reserved for use by the FITS Tiled Image") as record:
        path = write(fits, tmp_path / "cards.fits", data, header=header, name="sci")
    # reported when the HDU is made and again when it is written
    assert sorted(str(w.message).split("'")[1] for w in record) == ["TFORM1", "TFORM1", "ZTILE1",
                                                                   "ZTILE1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = write(afits, tmp_path / "oracle.fits", data, header=header_with_cards(afits) +
                       afits.Header([("ZTILE1", 5), ("TFORM1", "1J")]), name="sci")
    check_written(path, fitsverify)
    assert table_cards(path) == table_cards(oracle)
    with fits.open(path) as ours, afits.open(oracle) as theirs:
        assert [str(c) for c in ours[1].header.cards] == [str(c) for c in theirs[1].header.cards]
        assert (ours[1].name, ours[1].ver) == ("SCI", 2)
        assert ours[1].header["CHECKSUM"] == "kA3ZmA3YkA3YkA3Y"


def test_write_primary_style_header(fits, tmp_path, fitsverify):
    """A header with SIMPLE keeps it (as ZSIMPLE): the image reads back with a primary-style
    header, and funpack makes it the primary HDU."""
    header = fits.Header([("SIMPLE", True), ("BITPIX", 16), ("NAXIS", 0), ("OBSERVER", "Edwin")])
    data = sample("int16")
    path = write(fits, tmp_path / "primary.fits", data, header=header)
    oracle = write(afits, tmp_path / "oracle.fits", data,
                   header=afits.Header([("SIMPLE", True), ("BITPIX", 16), ("NAXIS", 0),
                                        ("OBSERVER", "Edwin")]))
    check_written(path, fitsverify, unpacked_index=0)
    assert table_cards(path) == table_cards(oracle)
    with fits.open(path) as hdul:
        assert [c.keyword for c in hdul[1].header.cards][:2] == ["SIMPLE", "BITPIX"]


def test_edited_header_and_new_data(fits, tmp_path, fitsverify):
    """A compressed HDU read from a file, its header edited (COMMENT in the middle) and its
    data replaced: compressed again with the file's settings, cards placed as astropy does."""
    source = write(afits, tmp_path / "source.fits", sample("int16"), header=afits.Header(
        [("OBJECT", "M31"), ("FILTER", "r")]), tile_shape=(4, 10), compression_type="GZIP_2")

    def edit(lib: ModuleType, target: Path) -> None:
        with lib.open(source) as hdul:
            hdu = hdul[1]
            hdu.header.add_comment("about the object", after="OBJECT")
            hdu.header["AIRMASS"] = (1.2, "at start")
            hdu.data = hdu.data[:, :20] * 2
            hdul.writeto(target)

    edit(fits, tmp_path / "ours.fits")
    edit(afits, tmp_path / "oracle.fits")
    pixels = check_written(tmp_path / "ours.fits", fitsverify)
    np.testing.assert_array_equal(pixels, sample("int16")[:, :20] * 2)
    assert table_cards(tmp_path / "ours.fits", sizes=False) == table_cards(tmp_path / "oracle.fits",
                                                                          sizes=False)


def test_writeto_checksum(fits, tmp_path, fitsverify):
    """checksum=True puts CHECKSUM and DATASUM in the compressed table, valid for astropy,
    for a new HDU and for one read from a file and changed."""
    path = write(fits, tmp_path / "new.fits", sample("float32"), quantize_method=1, dither_seed=3)
    path.unlink()
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(sample("int32"), name="A"),
                         fits.CompImageHDU(sample("float32"), quantize_method=1, dither_seed=3)])
    hdul.writeto(path, checksum=True)
    with fits.open(path) as source:
        source[1].data = source[1].data + 1
        source.writeto(tmp_path / "changed.fits", checksum=True)
    for name in ("new.fits", "changed.fits"):
        with afits.open(tmp_path / name, disable_image_compression=True, checksum=True) as check:
            for hdu in check:
                assert (hdu.verify_checksum(), hdu.verify_datasum()) == (1, 1)
            assert "ZHECKSUM" not in check[1].header
        fitsverify(tmp_path / name)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with fits.open(tmp_path / name, checksum=True) as again:
                again[2].data  # noqa: B018 - reading it is the test
    np.testing.assert_array_equal(afits.getdata(tmp_path / "changed.fits", 1), sample("int32") + 1)


def two_image_file(path: Path) -> Path:
    """An int16 image (tiles 5 x 10, named SCI) and a dithered float image, written by astropy."""
    afits.HDUList([afits.PrimaryHDU(),
                   afits.CompImageHDU(sample("int16"), name="SCI", tile_shape=(5, 10)),
                   afits.CompImageHDU(sample("float32"), quantize_method=1, dither_seed=9)]).writeto(path)
    return path


def test_update_mode_changed_data(fits, tmp_path, fitsverify):
    """Pixels changed in place and a card added in update mode are in the file after close;
    the compression settings are the file's; the other HDU reads as before."""
    path = two_image_file(tmp_path / "update.fits")
    floats = afits.getdata(path, 2)
    with fits.open(path, mode="update") as hdul:
        hdul[1].data[0, 0] = 2999
        hdul[1].header["OBSERVER"] = "Edwin"
    pixels = check_written(path, fitsverify)
    expected = sample("int16")
    expected[0, 0] = 2999
    np.testing.assert_array_equal(pixels, expected)
    np.testing.assert_array_equal(check_written(path, fitsverify, 2), floats)
    with afits.open(path) as check:
        assert check[1].header["OBSERVER"] == "Edwin"
        assert tuple(check[1].tile_shape) == (5, 10)


def test_update_mode_replaced_data_and_flush(fits, tmp_path, fitsverify):
    """New data of another type and shape: the file is rewritten at flush, and a change after
    it reaches the file at the next flush."""
    path = two_image_file(tmp_path / "replace.fits")
    new = np.arange(12, dtype=np.float32).reshape(3, 4) / 4
    with fits.open(path, mode="update") as hdul:
        hdul[1].data = new
        hdul.flush()
        hdul[1].data[2, 3] = -1
        hdul.flush()
    pixels = check_written(path, fitsverify)
    assert pixels.dtype == np.float32 and pixels.shape == (3, 4)
    np.testing.assert_allclose(pixels[:2], new[:2], atol=0.01)
    assert abs(pixels[2, 3] + 1) < 0.01


@pytest.mark.parametrize("mode", ["append", "update"])
def test_append_compressed_hdu(fits, tmp_path, fitsverify, mode):
    path = two_image_file(tmp_path / "append.fits")
    with fits.open(path, mode=mode) as hdul:
        hdul.append(fits.CompImageHDU(sample("uint16"), compression_type="GZIP_2", name="NEW"))
    np.testing.assert_array_equal(check_written(path, fitsverify, 3), sample("uint16"))
    with fits.open(path) as hdul:
        assert [hdu.name for hdu in hdul] == ["PRIMARY", "SCI", "COMPRESSED_IMAGE", "NEW"]
        assert type(hdul[3]).__name__ == "CompImageHDU"


def test_hdu_writeto_and_info(fits, tmp_path, fitsverify):
    hdu = fits.CompImageHDU(sample("int32"), name="SOLO", compression_type="GZIP_1")
    assert tuple(hdu.tile_shape) == (1, 30)
    hdu.writeto(tmp_path / "solo.fits")
    check_written(tmp_path / "solo.fits", fitsverify)
    with fits.open(tmp_path / "solo.fits") as hdul:
        assert hdul.info(output=False)[1][:6] == (1, "SOLO", 1, "CompImageHDU", 8, (30, 20))


def test_64_bit_integers(fits, tmp_path, fitsverify):
    """Rice cannot code 64-bit integers: values that fit are stored as 32-bit (with a
    warning), others raise; GZIP keeps 64 bits."""
    small = np.arange(600, dtype=np.int64).reshape(SHAPE)
    with pytest.warns(UserWarning, match="converted to 32 bits"):
        path = write(fits, tmp_path / "narrow.fits", small)
    np.testing.assert_array_equal(check_written(path, fitsverify), small)
    assert afits.getval(path, "ZBITPIX", 1, disable_image_compression=True) == 32
    with pytest.raises(ValueError, match="cannot be converted to 32 bits"):
        write(fits, tmp_path / "wide.fits", small << 40)
    # CFITSIO's funpack cannot decompress 64-bit tiles: only the two readers are compared
    write(fits, tmp_path / "gzip.fits", small << 40, compression_type="GZIP_1")
    fitsverify(tmp_path / "gzip.fits")
    for reader in (afits, fitsbind):
        np.testing.assert_array_equal(reader.getdata(tmp_path / "gzip.fits", 1), small << 40)
    with fitsbind.open(tmp_path / "gzip.fits") as hdul:
        np.testing.assert_array_equal(hdul[1].section[3:5, ::7], (small << 40)[3:5, ::7])


def test_settings_checked_as_astropy(fits, tmp_path):
    floats = sample("float32")
    with pytest.raises(ValueError, match="Hcompress minimum tile dimension"):
        fits.CompImageHDU(floats, compression_type="HCOMPRESS_1", tile_shape=(2, 30))
    with pytest.raises(ValueError, match="Last tile along 1st dimension"):
        fits.CompImageHDU(floats, compression_type="HCOMPRESS_1", tile_shape=(5, 28))
    with pytest.raises(ValueError, match="Seed for random dithering"):
        fits.CompImageHDU(floats, quantize_method=1, dither_seed=10001)
    with pytest.raises(TypeError, match="Seed must be an integer"):
        fits.CompImageHDU(floats, quantize_method=1, dither_seed=1.5)
    with pytest.warns(UserWarning, match="Provided tile size not appropriate"):
        hdu = fits.CompImageHDU(floats, tile_shape=(3,))
    assert tuple(hdu.tile_shape) == (1, 30)
    with pytest.warns(UserWarning, match="Unknown quantization method") as record:
        write(fits, tmp_path / "method.fits", floats, quantize_method=7)
    assert len(record) == 2
    assert "ZQUANTIZ" not in afits.getheader(tmp_path / "method.fits", 1, disable_image_compression=True)
    with pytest.raises(ValueError, match="PLIO_1 compression does not support unsigned"):
        write(fits, tmp_path / "plio.fits", sample("uint16"), compression_type="PLIO_1")
    with pytest.raises(ValueError):
        # dithered quantization gives negative values, which PLIO cannot code
        write(fits, tmp_path / "plio_float.fits", floats, compression_type="PLIO_1",
              quantize_method=1, dither_seed=5)
    # HCOMPRESS default tiles: whole rows, as many as the image is wide for small images
    assert fits.CompImageHDU(floats, compression_type="HCOMPRESS_1").tile_shape == (30, 30)
    tall = np.zeros((98, 8), dtype=np.int16)
    assert fits.CompImageHDU(tall, compression_type="HCOMPRESS_1").tile_shape == (20, 8)


def test_data_of_other_dimensions_resets_tiles(fits):
    hdu = fits.CompImageHDU(np.zeros((4, 6), dtype=np.int16), tile_shape=(2, 3))
    hdu.data = np.zeros((5, 6), dtype=np.int16)
    assert tuple(hdu.tile_shape) == (2, 3)
    hdu.data = np.zeros(10, dtype=np.int16)
    assert tuple(hdu.tile_shape) == (10,)
    assert hdu.header["NAXIS"] == 1


def test_constants(fits):
    assert fits.CompImageSection.__name__ == "CompImageSection"
    for name in ("NO_DITHER", "SUBTRACTIVE_DITHER_1", "SUBTRACTIVE_DITHER_2", "DITHER_SEED_CLOCK",
                 "DITHER_SEED_CHECKSUM"):
        assert getattr(fitsbind, name) == getattr(acompressed, name)


# -- fitsbind only: tiles kept, and what CFITSIO cannot read ----------------------------------


def test_unchanged_tiles_keep_their_bytes(tmp_path):
    """In update mode, reading the pixels leaves the file as it was, and a header edit keeps
    every tile's bytes (astropy compresses again, re-quantizing floats)."""
    path = two_image_file(tmp_path / "keep.fits")
    before = path.read_bytes()
    with fitsbind.open(path, mode="update") as hdul:
        hdul[1].data  # noqa: B018 - loading is the test
        hdul[2].section[3:5]
        hdul[2].data  # noqa: B018
    assert path.read_bytes() == before
    with fitsbind.open(path, mode="update") as hdul:
        hdul[2].header["OBSERVER"] = "Edwin"
        hdul[2].data  # noqa: B018
    with afits.open(path, disable_image_compression=True) as now, \
            afits.open(io.BytesIO(before), disable_image_compression=True) as then:
        assert now[2].header["OBSERVER"] == "Edwin"
        assert bytes(now[2].data.view(np.uint8)) == bytes(then[2].data.view(np.uint8))
        assert now[2].header["PCOUNT"] == then[2].header["PCOUNT"]
        np.testing.assert_array_equal(np.concatenate(now[2].data["COMPRESSED_DATA"]),
                                      np.concatenate(then[2].data["COMPRESSED_DATA"]))


def test_hdu_follows_the_rewritten_file(tmp_path):
    """After a flush rewrote the file, the HDU reads from the new file (astropy's section
    fails there): sections, the stored rows, and no further writes while nothing changes."""
    path = two_image_file(tmp_path / "rewritten.fits")
    new = np.arange(12, dtype=np.float32).reshape(3, 4) / 4
    with fitsbind.open(path, mode="update") as hdul:
        hdul[1].data = new
        hdul.flush()
        np.testing.assert_allclose(hdul[1].section[1:, 2:], new[1:, 2:], atol=0.01)
        assert len(hdul[1].compressed_data) == 1
        after = path.read_bytes()
        hdul.flush()
    assert path.read_bytes() == after


@pytest.mark.parametrize(("data", "options", "match"), [
    (sample("int16"), {"compression_type": "NOCOMPRESS"}, "NOCOMPRESS"),
    (sample("float32"), {"quantize_level": 0}, "losslessly"),
    (sample("float32"), {"compression_type": "HCOMPRESS_1", "quantize_method": 2}, "DITHER_2"),
    (None, {}, "without pixels"),
], ids=["nocompress", "lossless-rice", "hcompress-dither-2", "empty"])
def test_files_cfitsio_cannot_read_are_refused(tmp_path, data, options, match):
    """astropy writes these, but CFITSIO (hence fitsbind's reader, funpack, fitsverify) cannot
    read them back, or they hold other values than written: fitsbind raises instead."""
    with pytest.raises(ValueError, match=match):
        write(fitsbind, tmp_path / "refused.fits", data, **options)
    assert not (tmp_path / "refused.fits").exists()


@pytest.mark.parametrize("checksum", [False, True])
def test_update_mode_keeps_the_tiles(tmp_path, checksum):
    """An edited card, or a new compression setting, on a compressed image opened for update
    (its pixels never read) leaves the pixels intact: the image header does not size the
    stored table, so the flush must not put the table's cards back into it."""
    pixels = np.arange(100 * 100, dtype=np.int16).reshape(100, 100)
    path = tmp_path / "c.fits"
    fitsbind.HDUList([fitsbind.PrimaryHDU(), fitsbind.CompImageHDU(pixels)]).writeto(path)
    with fitsbind.open(path, mode="update", checksum=checksum) as hdul:
        hdul[1].header["FOO"] = 1
    with fitsbind.open(path, checksum=checksum) as hdul:
        assert hdul[1].header["FOO"] == 1
        assert hdul[1].header["BITPIX"] == 16
        np.testing.assert_array_equal(hdul[1].data, pixels)
    with fitsbind.open(path, mode="update", checksum=checksum) as hdul:
        hdul[1].compression_type = "GZIP_1"
    with fitsbind.open(path, checksum=checksum) as hdul:
        assert hdul[1].compression_type == "GZIP_1"
        np.testing.assert_array_equal(hdul[1].data, pixels)
