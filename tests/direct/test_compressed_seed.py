"""CompressedImageHDU against the behaviour of the reference CompressedImageHDU (issue 20):
settings given at creation are the ones encoding uses, ``compression`` describes the layout on
disk, and a closed file's HDU refuses to answer instead of misreporting its header."""

from __future__ import annotations

import numpy as np
import pytest

from fitsbind.direct import FITS, Gzip1, Gzip2, Hcompress1, Rice1
from fitsbind.errors import FITSValueError

RNG = np.random.default_rng(20261208)


def noise(shape: tuple[int, ...]) -> np.ndarray:
    return RNG.integers(0, 60, size=shape).astype(np.int32)


@pytest.mark.parametrize("algorithm", [Gzip1, Gzip2])
def test_gzip_level_is_used_for_writing(tmp_path, algorithm, afits):
    data = noise((200, 300))
    sizes = {}
    for level in (1, 9):
        path = tmp_path / f"{level}.fits"
        with FITS(path, "w+") as f:
            hdu = f.write_image(data, compress=algorithm(level=level))
            # and for later changes through the same object
            hdu[5:7, 10:20] = 3
            data[5:7, 10:20] = 3
            hdu.extend(data[:10])
            hdu.repack()
            sizes[level] = hdu.header["PCOUNT"]     # the heap: the tiles' bytes
        np.testing.assert_array_equal(afits.getdata(path), np.concatenate([data, data[:10]]))
    assert sizes[9] < sizes[1]


def test_gzip_level_of_a_reopened_file_is_cfitsios(tmp_path):
    # the level is not on disk: a reopened image is changed at level 1, as CFITSIO writes
    data = noise((100, 300))
    paths = [tmp_path / "a.fits", tmp_path / "b.fits"]
    for path, level in zip(paths, (1, 9)):
        with FITS(path, "w+") as f:
            f.write_image(data, compress=Gzip1(level=level))
        with FITS(path, "r+") as f:
            assert f[1].compression.level is None
            f[1].write(data)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_tile_shape_is_the_one_on_disk(tmp_path):
    with FITS(tmp_path / "t.fits", "w+") as f:
        row = f.write_image(noise((3, 64)), compress=Rice1())
        assert row.compression.tile_shape == (1, 64)
        assert row.compression == Rice1(tile_shape=(1, 64))
        clipped = f.write_image(noise((10, 20)), compress=Gzip1(level=9, tile_shape=(16, 16)))
        assert clipped.compression == Gzip1(level=9, tile_shape=(10, 16))
        hc = f.write_image(noise((40, 40)), compress=Hcompress1())
        assert hc.compression.tile_shape == (16, 40)
        assert (hc.header["ZTILE2"], hc.header["ZTILE1"]) == (16, 40)
    with FITS(tmp_path / "t.fits") as f:
        assert [f[i].compression.tile_shape for i in (1, 2, 3)] == [(1, 64), (10, 16), (16, 40)]


@pytest.mark.parametrize("tile", [(16, 16), (5, 100)])
def test_empty_image_keeps_the_requested_tile_shape(tmp_path, tile, afits, fitsverify, funpack):
    path = tmp_path / "e.fits"
    data = noise((40, 100))
    with FITS(path, "w+") as f:
        hdu = f.create_image_hdu("int32", (0, 100), compress=Rice1(tile_shape=tile))
        assert hdu.compression.tile_shape == tile
        hdu.extend(data[:7])
        hdu.extend(data[7:])
        assert (hdu.header["ZTILE2"], hdu.header["ZTILE1"]) == tile
        assert hdu.compression.tile_shape == tile
        assert hdu.n_tiles == -(-40 // tile[0]) * -(-100 // tile[1])
    np.testing.assert_array_equal(afits.getdata(path), data)
    fitsverify(path)
    out = tmp_path / "u.fits"
    funpack(path, out)
    np.testing.assert_array_equal(afits.getdata(out), data)


def test_empty_hcompress_image_is_refused(tmp_path):
    with FITS(tmp_path / "h.fits", "w+") as f:
        with pytest.raises(FITSValueError, match="HCOMPRESS_1"):
            f.create_image_hdu("int32", (0, 100), compress=Hcompress1(tile_shape=(16, 16)))


@pytest.mark.parametrize("fresh", [True, False], ids=["after-write", "reopened"])
def test_closed_file_properties_raise_the_closed_file_error(tmp_path, fresh):
    path = tmp_path / "c.fits"
    f = FITS(path, "w+")
    hdu = f.write_image(noise((8, 8)), compress=Gzip1(level=9))
    if not fresh:
        f.close()
        f = FITS(path)
        hdu = f[1]
        assert hdu.shape == (8, 8)     # cached before closing: must not be served after
    f.close()
    for name in ("shape", "ndim", "size", "bitpix", "dtype", "compression", "quantize",
                 "n_tiles", "has_data", "extname"):
        with pytest.raises(FITSValueError, match="closed FITS file"):
            getattr(hdu, name)
    for call in (hdu.read, lambda: hdu.header["ZBITPIX"], lambda: hdu[0, 0]):
        with pytest.raises(FITSValueError, match="closed FITS file"):
            call()


def test_create_image_hdu_takes_dims(tmp_path):
    with FITS(tmp_path / "d.fits", "w+") as f:
        a = f.create_image_hdu("int16", dims=(4, 6), compress=Rice1())
        b = f.create_image_hdu("int16", shape=(4, 6), dims=[4, 6])
        c = f.create_image_hdu("int16", (0, 6), compress=Rice1())
        assert a.shape == b.shape == (4, 6) and c.shape == (0, 6)
        with pytest.raises(TypeError, match="dims"):
            f.create_image_hdu("int16", (4, 6), dims=(4, 7))
        with pytest.raises(TypeError, match="dims"):
            f.create_image_hdu("int16")
        assert len(f) == 4


def test_integer_blank_is_written_as_fpack_writes_it(tmp_path, afits, funpack):
    # CFITSIO and fpack keep an integer image's BLANK card (ZBLANK is for quantized floats),
    # and every reader falls back on it: fitsbind writes the same
    data = np.arange(100, dtype=np.int16).reshape(10, 10)
    data[3, 3] = -99
    path = tmp_path / "b.fits"
    with FITS(path, "w+") as f:
        hdu = f.write_image(data, blank=-99, compress=Rice1())
        assert hdu.header.get("BLANK") == -99 and "ZBLANK" not in hdu.header
    with FITS(path) as f:
        masked = f[1].read(mask_blank=True)
        assert masked.mask.sum() == 1 and masked.mask[3, 3]
    with afits.open(path) as hdul:
        assert np.isnan(hdul[1].data[3, 3])
    out = tmp_path / "u.fits"
    funpack(path, out)
    with FITS(out) as f:
        assert f[1].header["BLANK"] == -99
        np.testing.assert_array_equal(f[1].read(scale=False), data)
