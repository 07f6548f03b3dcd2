"""Header values and table cells no file should hold, through the drop-in: each raises the class
astropy.io.fits raises at the same point (the ``fits`` fixture runs both), or, where astropy's own
failure is an accident (a TypeError from numpy, a KeyError from a dict), a FITSError naming the
file, the HDU and the card. Files are written by astropy, then one card or cell is changed.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits as afits

import fitsbind
from fitsbind import FITSError, FITSValueError


def set_card(path: Path, hdu: int, keyword: str, value: str) -> None:
    """Rewrite the card of ``keyword`` in header ``hdu`` of ``path`` as ``KEYWORD = value``
    (the value as it is written in the card, e.g. "T", "1E300", "''")."""
    raw = bytearray(path.read_bytes())
    starts = [i for i in range(0, len(raw), 2880) if raw[i:i + 8] in (b"SIMPLE  ", b"XTENSION")]
    for at in range(starts[hdu], len(raw), 80):
        if raw[at:at + 8].decode().rstrip() == keyword:
            raw[at:at + 80] = f"{keyword:8}= {value:>20}".ljust(80).encode()
            path.write_bytes(bytes(raw))
            return
    raise AssertionError(f"no {keyword} in HDU {hdu}")


def written(path: Path, *hdus: afits.hdu.base._BaseHDU) -> Path:
    afits.HDUList([afits.PrimaryHDU(), *hdus]).writeto(path)
    return path


@pytest.fixture
def compressed(tmp_path: Path) -> Path:
    image = np.arange(48, dtype=np.int16).reshape(6, 8)
    return written(tmp_path / "c.fits", afits.CompImageHDU(image, tile_shape=(2, 4)))


def quietly_open(path: Path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fitsbind.open(path, **kwargs)


# -- compressed images ---------------------------------------------------------------------------

@pytest.mark.parametrize(("keyword", "value", "problem"), [
    ("ZBITPIX", "-16", "ZBITPIX = -16 is not a FITS BITPIX"),
    ("ZNAXIS", "F", "ZNAXIS = False is not an integer"),
    ("ZNAXIS2", "''", "ZNAXIS2 = '' is not an integer"),
    ("ZTILE1", "1E300", "ZTILE1 = 1e+300 is not an integer"),
    ("ZTILE2", "0", "ZTILE2 = 0 is not an integer from 1"),
])
def test_compressed_header_values_name_the_card(compressed, keyword, value, problem):
    set_card(compressed, 1, keyword, value)
    with quietly_open(compressed) as hdul:
        for _ in range(2):
            # the HDU is not skipped the second time: a write cannot drop it silently
            with pytest.raises(FITSError, match=rf"c\.fits, HDU 1: .*{re.escape(problem)}"):
                len(hdul)
        with pytest.raises(FITSError, match=re.escape(problem)):
            hdul.writeto(compressed.with_name("out.fits"))


def test_unknown_quantization_method(tmp_path):
    image = np.linspace(0, 1, 48, dtype=np.float32).reshape(6, 8)
    path = written(tmp_path / "q.fits", afits.CompImageHDU(image, quantize_method=1))
    set_card(path, 1, "ZQUANTIZ", "T")
    with quietly_open(path) as hdul, pytest.raises(FITSError, match="ZQUANTIZ = True"):
        hdul[1]


def test_zimage_true_but_not_logical_reads_as_astropy(compressed):
    set_card(compressed, 1, "ZIMAGE", "1D5")
    with quietly_open(compressed) as hdul, afits.open(compressed) as reference:
        assert isinstance(hdul[1], fitsbind.CompImageHDU)
        np.testing.assert_array_equal(hdul[1].data, reference[1].data)
        np.testing.assert_array_equal(hdul[1].section[1:3, 2:5], reference[1].data[1:3, 2:5])


def test_plio_refuses_values_it_cannot_code(fits, tmp_path):
    hdu = fits.CompImageHDU(np.arange(-10, 10, dtype=np.int16).reshape(4, 5),
                            compression_type="PLIO_1")
    with pytest.raises(ValueError, match="out of range for PLIO compression"):
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp_path / "p.fits")


# -- images and random groups --------------------------------------------------------------------

@pytest.fixture
def scaled(tmp_path: Path) -> Path:
    hdu = afits.ImageHDU(np.arange(12, dtype=np.int16).reshape(3, 4))
    hdu.header["BSCALE"] = 2.0
    hdu.header["BZERO"] = 7.0
    return written(tmp_path / "s.fits", hdu)


@pytest.mark.parametrize(("keyword", "value", "problem"), [
    ("NAXIS2", "T", "NAXIS2 = True is not an integer"),
    ("BITPIX", "12", "BITPIX = 12 is not a FITS data type"),
    ("BSCALE", "'x'", "BSCALE = 'x' is not a real number"),
])
def test_image_header_values_fail_when_data_is_read(scaled, keyword, value, problem):
    set_card(scaled, 1, keyword, value)
    with quietly_open(scaled) as hdul:
        header = hdul[1].header
        assert keyword in header
        with pytest.raises(FITSError, match=rf"s\.fits, HDU 1: {problem}"):
            hdul[1].data  # noqa: B018


def test_scaling_card_without_value_is_passed_over(fits, scaled):
    raw = bytearray(scaled.read_bytes())
    at = raw.index(b"BSCALE  =")
    raw[at:at + 80] = b"BSCALE".ljust(80)          # no value indicator: no value
    scaled.write_bytes(bytes(raw))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(scaled) as hdul:
            np.testing.assert_array_equal(hdul[1].data, np.arange(12).reshape(3, 4) + 7.0)


def test_random_groups_header_values(tmp_path):
    data = afits.GroupData(np.zeros((3, 2, 2), np.float32), parnames=["A"],
                           pardata=[np.arange(3.0)], bitpix=-32)
    path = tmp_path / "g.fits"
    afits.GroupsHDU(data).writeto(path)
    set_card(path, 0, "NAXIS3", "-1")
    with quietly_open(path) as hdul, pytest.raises(FITSError, match="NAXIS3 = -1 is not"):
        hdul[0].data  # noqa: B018


def test_unparsable_checksum_fails_the_hdu(fits, tmp_path):
    path = tmp_path / "k.fits"
    afits.PrimaryHDU(np.zeros(4, np.int16)).writeto(path, checksum=True)
    set_card(path, 0, "CHECKSUM", "NaN")
    with pytest.warns(UserWarning, match="Error validating header for HDU #0"):
        with pytest.raises(OSError, match="Empty or corrupt FITS file"):
            fits.open(path)


# -- tables --------------------------------------------------------------------------------------

@pytest.fixture
def table(tmp_path: Path) -> Path:
    # written by fitsbind: astropy cannot write a scaled integer column built from floats
    columns = [fitsbind.Column("S", "J", bscale=2.0, bzero=1.0, array=np.arange(3.0)),
               fitsbind.Column("V", "PJ()", array=[np.arange(n) for n in (1, 2, 3)])]
    path = tmp_path / "t.fits"
    fitsbind.BinTableHDU.from_columns(columns).writeto(path)
    return path


def test_scale_that_is_not_a_number(table):
    set_card(table, 1, "TZERO1", "'x'")
    with quietly_open(table) as hdul, pytest.raises(FITSError, match="TZERO = 'x' is not a real"):
        hdul[1].data["S"]


@pytest.mark.parametrize(("count", "offset"), [(8, -1), (2**31 - 1, 0), (-1, 0)])
def test_descriptor_outside_the_heap(table, count, offset):
    raw = bytearray(table.read_bytes())
    row = 2880 * 2 + 4                        # second HDU's data, column V of the first row
    raw[row:row + 8] = np.array([count, offset], ">i4").tobytes()
    table.write_bytes(bytes(raw))
    with quietly_open(table) as hdul:
        with pytest.raises(FITSValueError, match="'V' points outside the 24-byte heap"):
            hdul[1].data["V"]


def test_empty_cell_offset_is_not_used(table):
    raw = bytearray(table.read_bytes())
    row = 2880 * 2 + 4
    raw[row:row + 8] = np.array([0, -1], ">i4").tobytes()
    table.write_bytes(bytes(raw))
    with quietly_open(table) as hdul:
        assert len(hdul[1].data["V"][0]) == 0


def test_table_narrower_than_its_columns(table):
    set_card(table, 1, "NAXIS1", "10")
    with quietly_open(table) as hdul:
        with pytest.raises(FITSValueError, match=r"t\.fits, HDU 1: NAXIS1 = 10 is smaller"):
            hdul[1].data  # noqa: B018


def test_column_without_name(fits, table):
    set_card(table, 1, "TTYPE1", "''")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(table) as hdul, pytest.raises(ValueError, match="field names must be"):
            hdul[1].data  # noqa: B018


def test_ascii_field_that_does_not_parse(fits, tmp_path):
    hdu = afits.TableHDU.from_columns([afits.Column("N", "I6", array=np.arange(3))])
    path = written(tmp_path / "a.fits", hdu)
    raw = bytearray(path.read_bytes())
    raw[2880 * 2:2880 * 2 + 6] = b"  12<3"
    path.write_bytes(bytes(raw))
    with fits.open(path) as hdul, pytest.raises(ValueError, match="invalid literal"):
        hdul[1].data["N"]
