"""Opening, creating and closing files."""

import gc
import os
import weakref
from pathlib import Path

import pytest

import fitsbind
from fitsbind import _fitsfile


def test_open_readonly(example):
    with _fitsfile.open_file(example) as f:
        assert not f.writable
        assert not f.closed
        assert f.filename == str(example)
        assert f.num_hdus() == 5
    assert f.closed


def test_open_accepts_str_path_and_bytes(example):
    for name in (str(example), Path(example), os.fsencode(str(example))):
        with _fitsfile.open_file(name) as f:
            assert f.num_hdus() == 5


def test_open_readwrite(example):
    with _fitsfile.open_file(example, "r+") as f:
        assert f.writable
        f.write_key("NEWKEY", 1)
    with _fitsfile.open_file(example) as f:
        assert f.read_key("NEWKEY") == (1, "")


def test_name_is_literal_not_cfitsio_extended_syntax(tmp_path, example):
    # CFITSIO would read "x.fits[1]" as "HDU 1 of x.fits"; fitsbind opens that exact file name
    odd = tmp_path / "odd[1].fits"
    odd.write_bytes(example.read_bytes())
    with _fitsfile.open_file(odd) as f:
        assert f.current_hdu == 0
        assert f.num_hdus() == 5


def test_bad_mode(example):
    with pytest.raises(ValueError, match="mode"):
        _fitsfile.open_file(example, "w")


def test_close_is_idempotent(example):
    f = _fitsfile.open_file(example)
    f.close()
    f.close()
    assert f.closed
    assert "closed" in repr(f)


def test_garbage_collection_closes(example):
    f = _fitsfile.open_file(example, "r+")
    f.write_key("GCKEY", "written before gc")
    ref = weakref.ref(f)
    with pytest.warns(ResourceWarning, match="unclosed file <fitsbind FitsFile"):
        del f
        gc.collect()
    assert ref() is None
    # the buffered edit reached the disk, and the lock registry entry is gone
    with _fitsfile.open_file(example) as g:
        assert g.read_key("GCKEY")[0] == "written before gc"
    st = os.stat(example)
    assert (st.st_dev, st.st_ino) not in _fitsfile._file_locks


def test_handles_only_from_factories():
    with pytest.raises(TypeError, match="open_file"):
        _fitsfile.FitsFile(None)


def test_create_new_file(tmp_path, fitsverify):
    path = tmp_path / "new.fits"
    with _fitsfile.create_file(path) as f:
        assert f.writable
        assert f.create_image_hdu(-32, (10, 20)) == 0
        assert f.create_image_hdu(8, (3,)) == 1
    with _fitsfile.open_file(path) as f:
        assert f.num_hdus() == 2
        assert f.image_info() == (-32, -32, (10, 20))
    fitsverify(path)


def test_create_refuses_existing(example):
    before = example.read_bytes()
    with pytest.raises(FileExistsError) as info:
        _fitsfile.create_file(example)
    assert isinstance(info.value, fitsbind.FITSError)
    assert example.read_bytes() == before


def test_create_overwrite(example):
    with _fitsfile.create_file(example, overwrite=True) as f:
        f.create_image_hdu(16, ())
    with _fitsfile.open_file(example) as f:
        assert f.num_hdus() == 1


def test_create_in_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        _fitsfile.create_file(tmp_path / "no" / "such" / "dir.fits")
    assert info.value.status == 105


def test_long_filename_rejected(tmp_path):
    with pytest.raises(ValueError, match="at most"):
        _fitsfile.open_file(tmp_path / ("x" * 2000))


def test_nul_in_filename_rejected():
    with pytest.raises(ValueError, match="NUL"):
        _fitsfile.open_file("a\0b.fits")


def test_flush_writes_through(example):
    with _fitsfile.open_file(example, "r+") as f:
        f.write_key("FLUSHED", 2.5)
        f.flush()
        with _fitsfile.open_file(example) as g:  # shares CFITSIO's file structure
            assert g.read_key("FLUSHED")[0] == 2.5
