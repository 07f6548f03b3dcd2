"""Image data of the drop-in interface, one test body run against astropy.io.fits (the
oracle) and fitsbind: scaling, unsigned conventions, sections and BLANK."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest


@pytest.mark.parametrize("bits", [16, 32, 64])
def test_scale_with_unsigned_zero_stores_modulo(fits: ModuleType, tmp_path, bits: int) -> None:
    # negative integers shifted by BZERO = 2**(bits-1) wrap around, so they read back as the
    # unsigned values with the same bits
    path = tmp_path / "u.fits"
    hdu = fits.PrimaryHDU(np.array([-3, -1, 0, 3], dtype=np.int64))
    hdu.scale(f"int{bits}", "", bzero=2 ** (bits - 1))
    hdu.writeto(path)
    with fits.open(path) as hdul:
        expected = np.array([2**bits - 3, 2**bits - 1, 0, 3], dtype=f"uint{bits}")
        assert hdul[0].data.dtype == expected.dtype
        np.testing.assert_array_equal(hdul[0].data, expected)


@pytest.mark.parametrize(("bitpix", "bzero", "dtype"), [(32, 0, "int32"), (16, 32768, "uint16"),
                                                        (16, 10, "float32"), (-64, 0, "float64")])
def test_section_dtype_is_the_type_it_returns(fits: ModuleType, tmp_path, bitpix: int, bzero: int,
                                              dtype: str) -> None:
    path = tmp_path / "s.fits"
    hdu = fits.PrimaryHDU(np.arange(6, dtype=f">{'f' if bitpix < 0 else 'i'}{abs(bitpix) // 8}")
                          .reshape(2, 3))
    if bzero:
        hdu.header["BZERO"] = bzero
    hdu.writeto(path)
    with fits.open(path) as hdul:
        section = hdul[0].section
        assert section.dtype == dtype
        assert section[1:, :2].dtype.name == dtype
        assert hdul[0].data is not None
        assert hdul[0].section.dtype == dtype


def _blank_warnings(record) -> list[str]:
    return [str(w.message) for w in record if "BLANK" in str(w.message)]


def test_blank_on_float_data_warns_on_write_and_open(fits: ModuleType, tmp_path) -> None:
    path = tmp_path / "b.fits"
    data = np.arange(5, dtype=np.float64)
    hdu = fits.PrimaryHDU(data)
    hdu.header["BLANK"] = 2
    with pytest.warns(fits.verify.VerifyWarning) as record:
        hdu.writeto(path)
    messages = _blank_warnings(record)
    assert len(messages) == 1 and messages[0].startswith("Invalid 'BLANK' keyword in header")
    with pytest.warns(fits.verify.VerifyWarning) as record:
        with fits.open(path) as hdul:
            # the BLANK value is not applied to float pixels
            np.testing.assert_array_equal(hdul[0].data, data)
    assert len(_blank_warnings(record)) == 1


def test_blank_that_is_not_an_integer_warns_twice_on_open(fits: ModuleType, tmp_path) -> None:
    path = tmp_path / "b.fits"
    hdu = fits.PrimaryHDU(np.arange(4, dtype=np.float64))
    hdu.header["BLANK"] = "nan"
    with pytest.warns(fits.verify.VerifyWarning):
        hdu.writeto(path)
    with pytest.warns(fits.verify.VerifyWarning) as record:
        with fits.open(path) as hdul:
            assert hdul[0].data is not None
    messages = _blank_warnings(record)
    assert len(messages) == 2
    assert "Invalid value for 'BLANK' keyword in header" in messages[0]
    assert "Invalid 'BLANK' keyword in header" in messages[1]


def test_writing_scaled_blanks_as_floats_drops_blank_with_a_warning(fits: ModuleType,
                                                                     tmp_path) -> None:
    path, out = tmp_path / "in.fits", tmp_path / "out.fits"
    hdu = fits.PrimaryHDU(np.array([9999, 1, 2], dtype=np.int16))
    hdu.header["BSCALE"] = 2.0
    hdu.header["BLANK"] = 9999
    hdu.writeto(path)
    with fits.open(path) as hdul:
        assert np.isnan(hdul[0].data[0])
        with pytest.warns(fits.verify.VerifyWarning, match="Invalid 'BLANK' keyword in header"):
            hdul.writeto(out)
    with fits.open(out) as hdul:
        assert "BLANK" not in hdul[0].header
        assert np.isnan(hdul[0].data[0])
        np.testing.assert_array_equal(hdul[0].data[1:], [2.0, 4.0])


def test_image_reshaped_in_place_in_update_mode_updates_the_header(fits: ModuleType,
                                                                    tmp_path) -> None:
    path = tmp_path / "r.fits"
    fits.PrimaryHDU(np.arange(12, dtype=np.float32).reshape(3, 4)).writeto(path)
    with fits.open(path, mode="update") as hdul:
        data = hdul[0].data
        # the array is a view of the file: reshaping it in place keeps the bytes
        data.shape = (4, 3)
    with fits.open(path) as hdul:
        assert (hdul[0].header["NAXIS1"], hdul[0].header["NAXIS2"]) == (3, 4)
        np.testing.assert_array_equal(hdul[0].data, np.arange(12, dtype=np.float32).reshape(4, 3))


def test_raw_image_moved_between_primary_and_extension_keeps_its_scaling(fits: ModuleType,
                                                                         tmp_path) -> None:
    path, out = tmp_path / "in.fits", tmp_path / "out.fits"
    hdu = fits.PrimaryHDU(np.array([1, 2, 3], dtype=np.int16))
    hdu.header["BSCALE"] = 2.0
    hdu.header["BZERO"] = 1500.0
    hdu.writeto(path)
    with fits.open(path, do_not_scale_image_data=True) as source:
        dest = fits.HDUList()
        dest.append(source[0])
        dest.append(source[0])
        assert (dest[1].header["BSCALE"], dest[1].header["BZERO"]) == (2.0, 1500.0)
        dest.writeto(out)
    with fits.open(out) as hdul:
        for h in hdul:
            np.testing.assert_array_equal(h.data, [1502.0, 1504.0, 1506.0])


def test_scalar_data_is_refused_with_its_repr(fits: ModuleType) -> None:
    for data in (1, np.array(1)):
        with pytest.raises(TypeError, match=r"data object array\(1\) should have at least one"):
            fits.ImageHDU(data=data)


def test_header_replaced_without_naxis_is_completed_on_flush(fits: ModuleType, tmp_path) -> None:
    path = tmp_path / "h.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.arange(6, dtype=np.int16).reshape(2, 3))]
                 ).writeto(path)
    with fits.open(path, mode="update") as hdul:
        data = hdul[1].data.copy()
        header = hdul[1].header.copy()
        del header["NAXIS*"]
        hdul[1].header = header
    with fits.open(path) as hdul:
        assert list(hdul[1].header)[:5] == ["XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2"]
        np.testing.assert_array_equal(hdul[1].data, data)
