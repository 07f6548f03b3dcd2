"""Writing into quantized floating-point tiles (issue 20): a tile that is only partly written
keeps the stored integers of the pixels the caller did not touch; the touched pixels are
quantized with the tile's own ZSCALE / ZZERO and dither. Oracles: astropy.io.fits and CFITSIO's
funpack read the changed file as fitsbind does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fitsbind.direct import FITS, Gzip2, Hcompress1, Quantize, Rice1
from fitsbind.errors import FITSValueError

RNG = np.random.default_rng(2020)


def sky(shape: tuple[int, ...], dtype: str = "float32") -> np.ndarray:
    return RNG.normal(1000.0, 10.0, size=shape).astype(dtype)


def check_oracles(path: Path, expected: np.ndarray, afits, funpack, tmp_path: Path) -> None:
    """astropy and funpack read ``path``'s image HDU as ``expected``, bit for bit."""
    np.testing.assert_array_equal(afits.getdata(path, 1), expected)
    out = tmp_path / "unpacked.fits"
    funpack(path, out)
    np.testing.assert_array_equal(afits.getdata(out, 1), expected)


SETTINGS = [
    (Rice1(tile_shape=(4, 8)), Quantize(4, seed=17)),
    (Rice1(tile_shape=(4, 8)), Quantize(16, "subtractive_dither_2", seed=9999)),
    (Rice1(tile_shape=(4, 8)), Quantize(4, "no_dither")),
    (Gzip2(tile_shape=(4, 8)), Quantize(8, seed=3)),
    (Hcompress1(tile_shape=(4, 8)), Quantize(4, seed=5)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("compress", "quantize"), SETTINGS)
def test_assignment_keeps_untouched_quantized_pixels(tmp_path, afits, funpack, compress, quantize, dtype):
    path = tmp_path / "q.fits"
    with FITS(path, "w+") as f:
        hdu = f.write_image(sky((16, 24), dtype), compress=compress, quantize=quantize)
        before = hdu.read()
        # one pixel of one tile, and a block across four tiles' corners, a step inside
        hdu[5, 9] = 1234.5
        hdu[2:6:2, 6:10] = np.float32(990.25)
        touched = np.zeros(before.shape, bool)
        touched[5, 9] = True
        touched[2:6:2, 6:10] = True
        after = hdu.read()
        scale = float(hdu._field("ZSCALE", np.array([9]))[0])
    assert after[~touched].tobytes() == before[~touched].tobytes()
    assert abs(after[5, 9] - 1234.5) <= scale
    assert np.all(np.abs(after[2:6:2, 6:10] - 990.25) <= scale)
    check_oracles(path, after, afits, funpack, tmp_path)


def test_extend_keeps_the_partial_tiles_pixels(tmp_path, afits, funpack):
    path = tmp_path / "q.fits"
    with FITS(path, "w+") as f:
        hdu = f.write_image(sky((10, 32)), compress=Rice1(tile_shape=(4, 16)),
                            quantize=Quantize(4, seed=77))
        before = hdu.read()
        new = sky((5, 32))
        hdu.extend(new)
        after = hdu.read()
    # rows 8 and 9 share their tiles with the first two new rows
    assert after[:10].tobytes() == before.tobytes()
    assert np.abs(after[10:] - new).max() < 10.0
    check_oracles(path, after, afits, funpack, tmp_path)


def test_nan_into_a_quantized_tile_is_null(tmp_path, afits, funpack):
    # row tiles: funpack 4.2.0 loses the nulls of tiles of several rows, also fpack's
    path = tmp_path / "q.fits"
    with FITS(path, "w+") as f:
        hdu = f.write_image(sky((8, 8)), compress=Rice1(),
                            quantize=Quantize(4, seed=1))
        before = hdu.read()
        hdu[1, 1] = np.nan
        after = hdu.read()
    assert np.isnan(after[1, 1])
    others = np.ones(after.shape, bool)
    others[1, 1] = False
    assert after[others].tobytes() == before[others].tobytes()
    check_oracles(path, after, afits, funpack, tmp_path)


def test_value_outside_the_tiles_integer_range_is_refused(tmp_path):
    path = tmp_path / "q.fits"
    with FITS(path, "w+") as f:
        hdu = f.write_image(sky((8, 8)), compress=Rice1(tile_shape=(4, 4)),
                            quantize=Quantize(4, seed=1))
        before = hdu.read()
        heap = hdu.header["PCOUNT"]
        with pytest.raises(FITSValueError, match="ZSCALE"):
            hdu[1, 1:3] = [5.0, 1e30]
        # nothing changed; writing whole tiles quantizes them afresh
        assert hdu.header["PCOUNT"] == heap
        assert hdu.read().tobytes() == before.tobytes()
        hdu[0:4, 0:4] = 1e30
        assert np.all(hdu[0:4, 0:4] == np.float32(1e30))


def test_tile_stored_losslessly_stays_lossless(tmp_path, afits, funpack):
    """A float tile CFITSIO could not quantize (a constant one, like every tile of a new image)
    is stored as gzipped floats; writing part of it keeps it so, the other pixels exact.
    (Row tiles: funpack 4.2.0 misplaces the pixels of such tiles of several rows, also those
    fpack writes; astropy reads them right, which the last lines check.)"""
    path = tmp_path / "q.fits"
    with FITS(path, "w+") as f:
        hdu = f.create_image_hdu("float32", (8, 8), compress=Rice1())
        hdu[1, 2] = 3.14159
        hdu[5:7, 5:7] = sky((2, 2))
        after = hdu.read()
        square = f.create_image_hdu("float32", (8, 8), compress=Rice1(tile_shape=(4, 4)))
        square[1, 2] = 3.14159
        square[5:7, 5:7] = after[5:7, 5:7]
        assert square.read().tobytes() == after.tobytes()
    np.testing.assert_array_equal(afits.getdata(path, 2), after)
    expected = np.zeros((8, 8), np.float32)
    expected[1, 2] = np.float32(3.14159)
    assert after[1, 2] == np.float32(3.14159)
    mask = np.ones((8, 8), bool)
    mask[5:7, 5:7] = False
    assert after[mask].tobytes() == expected[mask].tobytes()
    check_oracles(path, after, afits, funpack, tmp_path)


def test_hcompress_scale_relative_by_default_absolute_when_negative(tmp_path, afits):
    """docs/compression.md: a positive HCOMPRESS scale is in units of the tile's noise
    (CFITSIO), a negative one absolute (the seed's meaning)."""
    image = RNG.normal(10000, 100, size=(64, 64)).astype(np.int32)
    errors = {}
    for scale in (2, -2):
        path = tmp_path / f"{scale}.fits"
        with FITS(path, "w+") as f:
            hdu = f.write_image(image, compress=Hcompress1(scale=scale))
            assert hdu.header["ZVAL1"] == scale
            data = hdu.read()
        np.testing.assert_array_equal(afits.getdata(path, 1), data)
        errors[scale] = np.abs(data.astype(np.int64) - image).max()
    # 2 x the noise (~100) discards far more than 2 counts
    assert errors[-2] <= 4 < 20 < errors[2]
