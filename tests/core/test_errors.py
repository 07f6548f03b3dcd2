"""Bad files and misuse get clear exceptions: class from CFITSIO's status, file and HDU named."""

import pickle
import subprocess
import sys
import textwrap

import pytest

import fitsbind
from fitsbind import _fitsfile


def test_missing_file(tmp_path):
    path = tmp_path / "absent.fits"
    with pytest.raises(FileNotFoundError) as info:
        _fitsfile.open_file(path)
    exc = info.value
    assert isinstance(exc, fitsbind.FITSError) and isinstance(exc, OSError)
    assert exc.status == 104
    assert exc.filename == str(path)
    assert str(path) in str(exc) and "no such file" in str(exc)
    assert exc.status_text and exc.messages


def test_not_a_fits_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("this is plain text, not FITS\n" * 200)
    with pytest.raises(fitsbind.FITSError, match="not a FITS file") as info:
        _fitsfile.open_file(path)
    assert not isinstance(info.value, FileNotFoundError)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.fits"
    path.write_bytes(b"")
    with pytest.raises(fitsbind.FITSError, match="empty"):
        _fitsfile.open_file(path)


def test_truncated_header(tmp_path, example):
    path = tmp_path / "cut.fits"
    path.write_bytes(example.read_bytes()[:1000])
    with pytest.raises(fitsbind.FITSError, match="truncated"):
        _fitsfile.open_file(path)


def test_missing_end_card(tmp_path):
    path = tmp_path / "noend.fits"
    with _fitsfile.create_file(path) as f:
        f.create_image_hdu(8, (10,))
    data = bytearray(path.read_bytes())
    end = data.index(b"END" + b" " * 77)
    data[end : end + 80] = b" " * 80
    path.write_bytes(bytes(data))
    with pytest.raises(fitsbind.FITSError) as info:
        _fitsfile.open_file(path)
    assert str(path) in str(info.value) and "END" in str(info.value)


def test_truncated_data(tmp_path, example):
    path = tmp_path / "cut.fits"
    with _fitsfile.open_file(example) as f:
        f.move_to(1)
        _, data_start, _ = f.hdu_offsets()
    path.write_bytes(example.read_bytes()[: data_start + 100])
    with _fitsfile.open_file(path) as f:
        f.move_to(1)  # the header is whole
        with pytest.raises(fitsbind.FITSError, match=r"HDU 1: file is truncated"):
            f.move_to(2)
        assert f.current_hdu == 1


def test_directory(tmp_path):
    with pytest.raises(IsADirectoryError) as info:
        _fitsfile.open_file(tmp_path)
    assert isinstance(info.value, fitsbind.FITSError)


def test_unreadable_file(tmp_path, example):
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    example.chmod(0)
    with pytest.raises(PermissionError):
        _fitsfile.open_file(example)


CLOSED_CALLS = [
    ("num_hdus", ()),
    ("move_to", (0,)),
    ("move_to_name", ("SCI",)),
    ("is_compressed_image", ()),
    ("hdu_offsets", ()),
    ("image_info", ()),
    ("table_info", ()),
    ("num_keys", ()),
    ("header_string", ()),
    ("read_record", (0,)),
    ("read_card", ("SIMPLE",)),
    ("read_key", ("SIMPLE",)),
    ("write_key", ("A", 1)),
    ("delete_key", ("A",)),
    ("write_comment", ("x",)),
    ("write_history", ("x",)),
    ("write_checksum", ()),
    ("verify_checksum", ()),
    ("create_image_hdu", (16, ())),
    ("create_table_hdu", (["A"], ["J"])),
    ("flush", ()),
]


@pytest.mark.parametrize("method,args", CLOSED_CALLS, ids=[m for m, _ in CLOSED_CALLS])
def test_closed_handle(example, method, args):
    f = _fitsfile.open_file(example, "r+")
    f.close()
    with pytest.raises(ValueError, match="I/O operation on closed FITS file"):
        getattr(f, method)(*args)


@pytest.mark.parametrize("prop", ["current_hdu", "hdu_type"])
def test_closed_handle_properties(example, prop):
    f = _fitsfile.open_file(example)
    f.close()
    with pytest.raises(ValueError, match="closed"):
        getattr(f, prop)


def test_error_names_the_hdu(example):
    with _fitsfile.open_file(example) as f:
        f.move_to(3)
        with pytest.raises(KeyError) as info:
            f.read_key("NOSUCHKEY")
    assert info.value.hdu == 3
    assert f"{example}, HDU 3: reading keyword 'NOSUCHKEY'" in str(info.value)


def test_errors_pickle(tmp_path):
    with pytest.raises(fitsbind.FITSError) as info:
        _fitsfile.open_file(tmp_path / "absent.fits")
    clone = pickle.loads(pickle.dumps(info.value))
    assert type(clone) is type(info.value)
    assert (clone.status, clone.filename, str(clone)) == (
        info.value.status,
        info.value.filename,
        str(info.value),
    )


def test_cfitsio_never_prints(tmp_path, example):
    """Every failure above, run in a child process: nothing reaches stdout or stderr."""
    bad = tmp_path / "bad.fits"
    bad.write_bytes(b"SIMPLE  = garbage" + b" " * 3000)
    code = textwrap.dedent(
        f"""
        from fitsbind import _fitsfile
        calls = [
            lambda: _fitsfile.open_file({str(tmp_path / "absent.fits")!r}),
            lambda: _fitsfile.open_file({str(bad)!r}),
            lambda: _fitsfile.open_file({str(tmp_path)!r}),
            lambda: _fitsfile.open_file({str(example)!r}).move_to(99),
            lambda: _fitsfile.open_file({str(example)!r}).read_key("NOPE"),
            lambda: _fitsfile.open_file({str(example)!r}).move_to_name("NOPE"),
            lambda: _fitsfile.open_file({str(example)!r}).write_key("A", 1),
            lambda: _fitsfile.create_file({str(tmp_path / "no" / "x.fits")!r}),
        ]
        for call in calls:
            try:
                call()
            except Exception:
                pass
            else:
                raise SystemExit("expected an error")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
