"""FitsHDU: a FITS file carried in an extension (XTENSION = 'FITS'), optionally gzip-compressed.
fitsbind builds one from an HDUList or a file, writes it, reads the file back from it, and
reads the FitsHDUs astropy writes."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits as afits

import fitsbind


def _sample(path):
    a = np.arange(100, dtype=np.int32)
    hdul = fitsbind.HDUList([fitsbind.PrimaryHDU(a), fitsbind.ImageHDU(a + 1, name="SCI"),
                             fitsbind.BinTableHDU.from_columns(
                                 [fitsbind.Column("X", "E", array=np.arange(3.0))])])
    hdul.writeto(path)
    return hdul


@pytest.mark.parametrize("compress", [False, True])
def test_fromhdulist_and_back(tmp_path, compress):
    hdul = _sample(tmp_path / "in.fits")
    hdu = fitsbind.FitsHDU.fromhdulist(hdul, compress=compress)
    assert hdu.header["XTENSION"] == "FITS" and hdu.header["COMPRESS"] is compress
    assert hdu.header["NAXIS1"] % 2880 == 0 and hdu.data.dtype == np.uint8
    # XIND1, XIND2: where the extensions start in the (uncompressed) file
    assert [hdu.header["XIND1"], hdu.header["XIND2"]] == [5760, 11520]
    wrapped = hdu.hdulist
    assert wrapped.info(output=False) == hdul.info(output=False)
    np.testing.assert_array_equal(wrapped["SCI"].data, np.arange(100) + 1)
    np.testing.assert_array_equal(wrapped[2].data["X"], [0, 1, 2])
    assert hdu._summary()[2] == "FitsHDU"


@pytest.mark.parametrize("compress", [False, True])
def test_written_and_read_back(tmp_path, compress):
    inner = _sample(tmp_path / "in.fits")
    outer = fitsbind.HDUList([fitsbind.PrimaryHDU(), fitsbind.FitsHDU.fromhdulist(inner, compress=compress),
                              fitsbind.ImageHDU(np.arange(3.0), name="AFTER")])
    outer.writeto(tmp_path / "outer.fits")
    with afits.open(tmp_path / "outer.fits") as check:
        assert isinstance(check[1], afits.FitsHDU)
        np.testing.assert_array_equal(check[1].hdulist["SCI"].data, np.arange(100) + 1)
        np.testing.assert_array_equal(check["AFTER"].data, [0, 1, 2])
    with fitsbind.open(tmp_path / "outer.fits") as hdul:
        assert isinstance(hdul[1], fitsbind.FitsHDU)
        assert hdul[1].hdulist.info(output=False) == inner.info(output=False)
        np.testing.assert_array_equal(hdul["AFTER"].data, [0, 1, 2])


def test_fromfile(tmp_path):
    hdul = _sample(tmp_path / "in.fits")
    wrapped = fitsbind.FitsHDU.fromfile(tmp_path / "in.fits").hdulist
    assert fitsbind.FITSDiff(hdul, wrapped).identical


@pytest.mark.parametrize("compress", [False, True])
def test_reads_the_fitshdu_astropy_writes(tmp_path, compress):
    inner = afits.HDUList([afits.PrimaryHDU(np.arange(10, dtype=np.int16)), afits.ImageHDU(np.ones(4))])
    outer = afits.HDUList([afits.PrimaryHDU(), afits.FitsHDU.fromhdulist(inner, compress=compress)])
    outer.writeto(tmp_path / "outer.fits")
    with fitsbind.open(tmp_path / "outer.fits") as hdul:
        assert isinstance(hdul[1], fitsbind.FitsHDU)
        wrapped = hdul[1].hdulist
        np.testing.assert_array_equal(wrapped[0].data, np.arange(10))
        np.testing.assert_array_equal(wrapped[1].data, np.ones(4))


def test_compress_flag_without_gzip_data_is_a_clear_error():
    hdu = fitsbind.FitsHDU.fromhdulist(fitsbind.HDUList([fitsbind.PrimaryHDU()]))
    hdu.header["COMPRESS"] = True
    with pytest.raises(OSError, match="COMPRESS = T but the data is not a gzip stream"):
        _ = hdu.hdulist


def test_data_must_be_bytes():
    with pytest.raises(TypeError, match="FitsHDU data must be the bytes of a FITS file"):
        fitsbind.FitsHDU(data=object())
    raw = fitsbind.FitsHDU.fromhdulist(fitsbind.HDUList([fitsbind.PrimaryHDU()])).data.tobytes()
    hdu = fitsbind.FitsHDU(data=raw, header=fitsbind.Header([("XTENSION", "FITS"), ("COMPRESS", False)]))
    assert len(hdu.hdulist) == 1
