"""HDUFile maps files itself (hdu.file.map_file): the array must be the numpy.memmap that
numpy's own constructor makes, in every mode."""

import os

import numpy as np
import pytest

import fitsbind as fits
from fitsbind.hdu.file import _map_view, map_file


@pytest.fixture
def path(tmp_path):
    name = tmp_path / "data.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.arange(100, dtype=">f4"))]).writeto(name)
    return str(name)


@pytest.mark.parametrize("mode", ["r", "c", "r+"])
def test_map_file_is_numpys_memmap(path, mode):
    ours, numpys = map_file(path, mode), np.memmap(path, dtype=np.uint8, mode=mode)
    assert type(ours) is type(numpys)
    for attribute in ("filename", "offset", "mode", "shape", "dtype", "strides"):
        assert getattr(ours, attribute) == getattr(numpys, attribute)
    assert ours.flags.writeable == numpys.flags.writeable
    assert type(ours._mmap) is type(numpys._mmap)
    assert np.array_equal(ours, numpys)
    view = ours[2880:2900]
    assert type(view) is np.memmap and view._mmap is ours._mmap and view.filename == path


def test_map_file_writes_reach_the_file_only_when_shared(path):
    copied = map_file(path, "c")
    copied[0] = ord("X")
    shared = map_file(path, "r+")
    assert shared[0] == ord("S")
    shared[1] = ord("Y")
    shared.flush()
    with open(path, "rb") as f:
        assert f.read(2) == b"SY"
    with pytest.raises(FileNotFoundError):
        map_file(path + ".missing", "r")


def test_open_gives_data_of_the_map(path):
    with fits.open(path) as hdul:
        data = hdul[1].data
        assert type(data) is np.memmap and data.filename == path and data.mode == "c"
        assert np.array_equal(data, np.arange(100, dtype="f4"))


@pytest.mark.parametrize("junk", [None, b"X", b"\0"])
def test_header_padding_after_end_decides_the_reading(path, junk):
    # CFITSIO's header text is taken as it is only when blanks follow END; anything else
    # there is left to astropy's reading
    if junk is not None:
        with open(path, "r+b") as f:
            f.seek(2880 - 1)
            f.write(junk)
    hdufile = fits.open(path)._file
    text, _ = hdufile._locate_native(0)
    assert (text is None) == (junk is not None)
    assert text is None or text.startswith("SIMPLE")
    hdufile.close()


@pytest.mark.parametrize("mode", ["r", "c", "r+"])
@pytest.mark.parametrize("dtype, shape", [(">f4", (10, 10)), (">i2", (7,)), ("u1", (2, 3, 5))])
def test_map_view_is_the_slice_view_reshape_of_the_map(path, mode, dtype, shape):
    # _map_view makes in one step what slicing, viewing and reshaping the map makes
    mapped = map_file(path, mode)
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    ours = _map_view(mapped, 2880, np.dtype(dtype), shape)
    general = mapped[2880:2880 + nbytes].view(dtype).reshape(shape)
    assert type(ours) is type(general) is np.memmap
    for attribute in ("filename", "offset", "mode", "shape", "dtype", "strides", "_mmap"):
        assert getattr(ours, attribute) == getattr(general, attribute)
    assert ours.base is general.base is mapped
    assert ours.flags.writeable == general.flags.writeable
    assert ours.flags.c_contiguous and np.shares_memory(ours, general)
    assert np.array_equal(ours, general)


def test_read_only_open_measures_the_file_once(path):
    # the length cached on open is the one the file system gives; a writable mode asks anew
    with fits.open(path) as hdul:
        assert hdul._file._length == os.path.getsize(path) == hdul._file.length()
    with fits.open(path, mode="update") as hdul:
        assert hdul._file._length is None
        assert hdul._file.length() == os.path.getsize(path)


def test_open_errors_name_the_file(path, tmp_path):
    missing = str(tmp_path / "missing.fits")
    with pytest.raises(FileNotFoundError, match=r"No such file or directory: .*missing\.fits"):
        fits.open(missing)
    with pytest.raises(IsADirectoryError):
        fits.open(str(tmp_path))
    os.chmod(path, 0o444)
    try:
        if os.access(path, os.W_OK):
            pytest.skip("running as a user who may write any file")
        with pytest.raises(PermissionError):
            fits.open(path, mode="update")
        with fits.open(path) as hdul:
            assert hdul[1].data[3] == 3
    finally:
        os.chmod(path, 0o644)
