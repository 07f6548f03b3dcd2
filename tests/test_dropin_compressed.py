"""Reading tile-compressed images through the drop-in CompImageHDU: one test body run against
astropy.io.fits (the oracle) and fitsbind (the ``fits`` fixture).

Files are compressed by astropy; the edge cases of the table-header -> image-header mapping are
made by rewriting the compressed table's header card by card around the same tile bytes.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np
import pytest
from astropy.io import fits as afits

# cards of a compressed table header written by astropy for an int16 image of numpy shape
# (6, 8) in 2 x 4 tiles (see ``table_file``), up to the last card it writes (EXTNAME)
TILE_CARDS = 26


@pytest.fixture(scope="module", params=["astropy", "fitsbind"])
def fits(request: pytest.FixtureRequest) -> ModuleType:
    """The module under test: ``astropy.io.fits`` or ``fitsbind``."""
    return importlib.import_module("astropy.io.fits" if request.param == "astropy" else "fitsbind")


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
