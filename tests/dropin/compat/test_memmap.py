"""Memory-map semantics of ``open``: one test body run against astropy.io.fits and fitsbind (the
``fits`` fixture)."""

from __future__ import annotations

import mmap
import re

import numpy as np
import pytest
from astropy.io import fits as afits

SCALED_MEMMAP_ERROR = re.escape(
    "Cannot load a memory-mapped image: BZERO/BSCALE/BLANK header keywords present. Set memmap=False."
)


def test_default_open_maps_unscaled_data(fits, sample, is_memmap):
    with fits.open(sample.path) as hdul:
        image = hdul[1].data
        assert is_memmap(image)
        assert image.dtype == np.dtype(">f4")
        assert is_memmap(hdul[0].data)
        table = hdul[3].data
        assert is_memmap(table)
        # numeric columns are views of the map
        assert is_memmap(table["ID"])
        assert is_memmap(table["FLUX"])


def test_get_array_mmap_supports_madvise(fits, sample):
    with fits.open(sample.path, memmap=True) as hdul:
        data = hdul[1].data
        mm = fits.util._get_array_mmap(data)
        assert mm is not None
        assert mm.madvise(mmap.MADV_SEQUENTIAL) is None
        assert fits.util._get_array_mmap(data[1:]) is not None
        assert fits.util._get_array_mmap(hdul[3].data) is not None
    assert fits.util._get_array_mmap(np.zeros(3)) is None


def test_memmap_false_reads_into_memory(fits, sample, is_memmap):
    with fits.open(sample.path, memmap=False) as hdul:
        data = hdul[1].data
        assert not is_memmap(data)
        assert fits.util._get_array_mmap(data) is None
        assert data.flags.writeable
        np.testing.assert_array_equal(data, sample.sci1)


def test_scaled_data_is_converted_not_mapped(fits, scaled_file, uint16_file, is_memmap):
    with fits.open(scaled_file.path) as hdul:
        assert not is_memmap(hdul[0].data)
    with fits.open(uint16_file.path) as hdul:
        data = hdul[0].data
        assert data.dtype == np.uint16
        assert not is_memmap(data)


def test_explicit_memmap_refuses_scaled_data(fits, scaled_file, uint16_file):
    with fits.open(scaled_file.path, memmap=True) as hdul:
        with pytest.raises(ValueError, match=SCALED_MEMMAP_ERROR):
            _ = hdul[0].data
    with fits.open(uint16_file.path, memmap=True) as hdul:
        with pytest.raises(ValueError, match=SCALED_MEMMAP_ERROR):
            _ = hdul[0].data


def test_explicit_memmap_raw_scaled_data(fits, scaled_file, is_memmap):
    with fits.open(scaled_file.path, memmap=True, do_not_scale_image_data=True) as hdul:
        data = hdul[0].data
        assert is_memmap(data)
        np.testing.assert_array_equal(data, scaled_file.raw)


def test_readonly_memmap_is_copy_on_write(fits, sample, is_memmap):
    before = sample.path.read_bytes()
    with fits.open(sample.path, memmap=True) as hdul:
        data = hdul[1].data
        assert data.flags.writeable
        data[:] = 7.0
        hdul[3].data["ID"][:] = -1
        assert (hdul[1].data == 7.0).all()
        assert is_memmap(data)
        with fits.open(sample.path, memmap=True) as other:
            np.testing.assert_array_equal(other[1].data, sample.sci1)
    assert sample.path.read_bytes() == before


def test_denywrite_is_read_only_map(fits, sample, is_memmap):
    with fits.open(sample.path, mode="denywrite", memmap=True) as hdul:
        data = hdul[1].data
        assert is_memmap(data)
        assert not data.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            data[0, 0] = 1.0
        table = hdul[3].data
        with pytest.raises(ValueError, match="read-only"):
            table["ID"][0] = 1


def test_update_assignments_reach_file_on_flush(fits, sample, is_memmap):
    with fits.open(sample.path, mode="update", memmap=True) as hdul:
        data = hdul[1].data
        assert is_memmap(data)
        assert data.flags.writeable
        data[0, :] = [9.0, 8.0, 7.0]
        hdul.flush()
        expected = sample.sci1.copy()
        expected[0] = [9.0, 8.0, 7.0]
        with afits.open(sample.path, memmap=False) as check:
            np.testing.assert_array_equal(check[1].data, expected)
        data[1, 1] = -1.0
    expected[1, 1] = -1.0
    np.testing.assert_array_equal(afits.getdata(sample.path, 1), expected)


def test_update_in_place_changes_only_data_bytes(fits, sample):
    before = bytearray(sample.path.read_bytes())
    with fits.open(sample.path, mode="update", memmap=True) as hdul:
        hdul[2].data[1, 2] = 123.0
    after = sample.path.read_bytes()
    assert len(after) == len(before)
    # SCI ver 2 data start at block 5; element (1, 2) is the sixth float32
    offset = 5 * 2880 + 5 * 4
    before[offset : offset + 4] = np.array([123.0], dtype=">f4").tobytes()
    assert after == bytes(before)


def test_update_replacing_data_array(fits, sample, fitsverify):
    with fits.open(sample.path, mode="update") as hdul:
        hdul[1].data = np.full((2, 3), 3, dtype=np.float32)
    np.testing.assert_array_equal(afits.getdata(sample.path, 1), np.full((2, 3), 3))
    assert sample.path.stat().st_size == 10 * 2880
    fitsverify(sample.path)


def test_update_replacing_data_with_new_shape_resizes_file(fits, sample, fitsverify):
    with fits.open(sample.path, mode="update") as hdul:
        hdul[1].data = np.arange(2000, dtype=np.float64)
    with afits.open(sample.path) as check:
        np.testing.assert_array_equal(check[1].data, np.arange(2000))
        assert check[1].header["NAXIS"] == 1
        assert check[1].header["BITPIX"] == -64
        np.testing.assert_array_equal(check[2].data, sample.sci2)
        np.testing.assert_array_equal(check[3].data["NAME"], sample.names)
    assert sample.path.stat().st_size == 15 * 2880
    fitsverify(sample.path)


def test_update_table_assignments(fits, sample):
    with fits.open(sample.path, mode="update", memmap=True) as hdul:
        table = hdul[3].data
        table["ID"] = [5, 6, 7]
        table["NAME"][1] = "zz"
        table[2]["FLUX"] = -1.0
    with afits.open(sample.path) as check:
        data = check[3].data
        np.testing.assert_array_equal(data["ID"], [5, 6, 7])
        np.testing.assert_array_equal(data["NAME"], ["a", "zz", "ccc"])
        np.testing.assert_array_equal(data["FLUX"], [1.5, 2.5, -1.0])


def test_data_survives_close(fits, sample):
    hdul = fits.open(sample.path, memmap=True)
    image = hdul[1].data
    ids = hdul[3].data["ID"]
    hdul.close()
    np.testing.assert_array_equal(image, sample.sci1)
    np.testing.assert_array_equal(ids, sample.ids)


def test_memmap_large_offsets(fits, tmpfile, is_memmap):
    # an image that starts past the first few megabytes of the file
    path = tmpfile("big.fits")
    first = np.zeros((1024, 1024), dtype=np.float32)
    second = np.arange(3000, dtype=np.int32)
    afits.HDUList([afits.PrimaryHDU(first), afits.ImageHDU(second)]).writeto(path)
    with fits.open(path, mode="update", memmap=True) as hdul:
        data = hdul[1].data
        assert is_memmap(data)
        np.testing.assert_array_equal(data, second)
        data[-1] = -5
    assert afits.getdata(path, 1)[-1] == -5
