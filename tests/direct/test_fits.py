"""fitsbind.FITS as a container: modes, HDU lookup, lifetime, and bad files."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import numpy as np
import pytest

import fitsbind
from fitsbind.direct import ImageHDU, TableHDU


@pytest.fixture
def three(tmp_path: Path) -> Path:
    """Primary, SCI (extver 1 and 2) images and a CAT table, written by fitsbind."""
    path = tmp_path / "three.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.arange(6, dtype=np.int16).reshape(2, 3))
        f.write_image(np.ones((4, 5), np.float32), extname="SCI", extver=1)
        f.write_image(np.full((2, 2), 7, np.int32), extname="SCI", extver=2)
        f.create_table_hdu([("A", "J"), ("B", "10A")], nrows=3, extname="CAT")
    return path


def test_container_protocol(three: Path, fitsverify) -> None:
    fitsverify(three)
    with fitsbind.FITS(str(three)) as f:
        assert len(f) == 4
        kinds = [type(h) for h in f]
        assert kinds == [ImageHDU, ImageHDU, ImageHDU, TableHDU]
        assert [h.index for h in f] == [0, 1, 2, 3]
        assert f[-1] is f[3] and f[0] is f["PRIMARY"]
        assert f["sci"].extver == 1 and f["SCI", 2].extver == 2
        assert f["Sci", 2].read().tolist() == [[7, 7], [7, 7]]
        assert f["CAT"].nrows == 3 and f["CAT"].colnames == ["A", "B"]
        assert f["CAT"].formats == ["J", "10A"]
        assert f[0].extname is None and f[0].extver == 1
        assert f.filename == str(three) and f.mode == "r" and not f.closed
    assert f.closed


def test_lookup_errors_name_the_file(three: Path) -> None:
    with fitsbind.FITS(three) as f:
        with pytest.raises(KeyError, match=r"three\.fits.*NOPE"):
            f["NOPE"]
        with pytest.raises(KeyError, match="EXTVER 3"):
            f["SCI", 3]
        with pytest.raises(IndexError, match=r"three\.fits"):
            f[4]
        with pytest.raises(IndexError):
            f[-5]
        with pytest.raises(TypeError):
            f[1.5]
        # a failed lookup leaves the file usable
        assert f[1].shape == (4, 5)


def test_closed_file_refuses_every_call(three: Path) -> None:
    f = fitsbind.FITS(three)
    hdu = f[1]
    f.close()
    f.close()   # idempotent
    for call in (lambda: len(f), lambda: f[0], hdu.read, lambda: hdu.header["NAXIS"], f.flush):
        with pytest.raises(ValueError, match="closed"):
            call()


def test_a_file_left_open_is_closed_with_a_resource_warning(three: Path) -> None:
    """As Python's own file objects: collected while open, the file is closed (edits reach
    the disk) and one ResourceWarning names it."""
    f = fitsbind.FITS(three, "r+")
    f[1].header["LEFT"] = "open"
    with pytest.warns(ResourceWarning) as caught:
        del f
        gc.collect()
    assert [str(w.message) for w in caught] == [f"unclosed file <fitsbind.FITS {str(three)!r} (r+)>"]
    with fitsbind.FITS(three) as f:
        assert f[1].header["LEFT"] == "open"


def test_modes(three: Path, tmp_path: Path, afits) -> None:
    with pytest.raises(ValueError, match="mode"):
        fitsbind.FITS(three, "a")
    with pytest.raises(FileNotFoundError):
        fitsbind.FITS(tmp_path / "missing.fits")
    before = three.read_bytes()
    with fitsbind.FITS(three, "r") as f:
        with pytest.raises(PermissionError, match="read-only"):
            f[1][0, 0] = 1.0
        with pytest.raises(PermissionError):
            f[1].header["OBJECT"] = "x"
        with pytest.raises(PermissionError):
            f.write_image(np.zeros(3))
        with pytest.raises(PermissionError):
            f[1].add_checksum()
    assert three.read_bytes() == before
    # w+ replaces an existing file
    with fitsbind.FITS(three, "w+") as f:
        assert len(f) == 0
        f.write_image(np.zeros(3, np.uint8))
    assert afits.getdata(three).tolist() == [0, 0, 0]


def test_new_file_without_hdus_is_valid(tmp_path: Path, fitsverify, afits) -> None:
    path = tmp_path / "empty.fits"
    with fitsbind.FITS(path, "w+") as f:
        assert len(f) == 0
    fitsverify(path)
    with afits.open(path) as hdul:
        assert len(hdul) == 1 and hdul[0].data is None


def test_first_table_gets_a_primary(tmp_path: Path, fitsverify) -> None:
    path = tmp_path / "t.fits"
    with fitsbind.FITS(path, "w+") as f:
        t = f.create_table_hdu([("X", "E")], nrows=2, extname="T")
        assert t.index == 1 and len(f) == 2
        assert not f[0].has_data and t.has_data
    fitsverify(path)


def test_write_dispatch(tmp_path: Path) -> None:
    with fitsbind.FITS(tmp_path / "w.fits", "w+") as f:
        hdu = f.write(np.arange(4, dtype=np.float64))
        assert isinstance(hdu, ImageHDU) and hdu.read().tolist() == [0, 1, 2, 3]
        with pytest.raises(TypeError, match="integer or float"):
            f.write(np.array(["a", "b"]))
        with pytest.raises(TypeError):
            f.write(np.zeros(3, bool))
        with pytest.raises(fitsbind.FITSValueError, match="at least one axis"):
            f.write_image(np.float32(3))
        assert len(f) == 1


def test_hdu_objects_follow_their_hdu_when_earlier_ones_grow(three: Path, afits) -> None:
    with fitsbind.FITS(three, "r+") as f:
        sci2, cat = f["SCI", 2], f["CAT"]
        f[0].extend(np.ones((5000, 3), np.int16))   # moves every later HDU
        for i in range(60):   # grows the primary header past its block
            f[0].header[f"K{i}"] = i
        assert sci2.read().tolist() == [[7, 7], [7, 7]]
        assert cat.nrows == 3 and sci2.index == 2
    with afits.open(three) as hdul:
        assert hdul[0].data.shape == (5002, 3) and hdul[0].header["K59"] == 59
        assert hdul[2].data.tolist() == [[7, 7], [7, 7]]


def test_two_threads_two_hdus(three: Path) -> None:
    errors = []

    def work(index: int, expected: float) -> None:
        try:
            with fitsbind.FITS(three) as f:
                for _ in range(200):
                    assert float(f[index].read().flat[0]) == expected
        except BaseException as exc:   # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(1, 1.0)),
               threading.Thread(target=work, args=(2, 7.0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def _replace_card(path: Path, old: str, new: str) -> None:
    raw = path.read_bytes()
    assert raw.count(old.encode()) == 1
    path.write_bytes(raw.replace(old.encode(), new.ljust(len(old)).encode()))


def test_missing_end_card(three: Path) -> None:
    raw = bytearray(three.read_bytes())
    # blank the first HDU's END card: its header then runs into the next HDU's
    end = raw.index(b"END" + b" " * 77)
    raw[end:end + 3] = b"   "
    three.write_bytes(bytes(raw))
    # the primary header is vetted as the file opens
    with pytest.raises(fitsbind.FITSError, match=r"three.fits, HDU 0: .*no END card"):
        with fitsbind.FITS(three) as f:
            f[0]


@pytest.mark.parametrize("which", ["last", "only"])
@pytest.mark.parametrize("mode", ["r", "r+"])
def test_missing_end_card_in_last_hdu(tmp_path: Path, which: str, mode: str, afits) -> None:
    """CFITSIO would count the HDUs before the broken one and stop; fitsbind says why, and an
    r+ handle never gets to append over the unreadable HDU."""
    path = tmp_path / "noend.fits"
    hdus = [afits.PrimaryHDU(np.arange(4, dtype=np.int16))]
    if which == "last":
        hdus.append(afits.ImageHDU(np.arange(3.0), name="X"))
    afits.HDUList(hdus).writeto(path)
    raw = bytearray(path.read_bytes())
    end = raw.rindex(b"END" + b" " * 77)
    raw[end:end + 3] = b"   "
    path.write_bytes(bytes(raw))
    with pytest.raises(fitsbind.FITSError, match="no END card"):
        with fitsbind.FITS(path, mode) as f:
            len(f)
    assert path.read_bytes() == bytes(raw)


def test_truncated_data(tmp_path: Path) -> None:
    path = tmp_path / "cut.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.arange(6, dtype=np.int16))
        f.write_image(np.ones((100, 100)), extname="SCI")
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size - 40000)   # cuts the last image's data in half
    with fitsbind.FITS(path) as f:
        with pytest.raises(fitsbind.FITSError, match=r"cut.fits, HDU 1: file is truncated"):
            f["SCI"].read()
        with pytest.raises(fitsbind.FITSError, match="truncated"):
            f["SCI"][0:2, 0:2]
        assert f[0].read().tolist() == list(range(6))   # HDUs before the cut still read


def test_petabyte_header_is_refused_without_allocating(tmp_path: Path, afits) -> None:
    path = tmp_path / "huge.fits"
    afits.PrimaryHDU(np.zeros((2, 2), np.float64)).writeto(path)
    _replace_card(path, "NAXIS1  =                    2", "NAXIS1  =           1000000000")
    _replace_card(path, "NAXIS2  =                    2", "NAXIS2  =           1000000000")
    with fitsbind.FITS(path) as f:
        hdu = f[0]
        assert hdu.shape == (10**9, 10**9)
        with pytest.raises(fitsbind.FITSError, match="truncated"):
            hdu.read()
        with pytest.raises(fitsbind.FITSError, match="truncated"):
            hdu[0, :]


def test_petabyte_image_cannot_be_created(tmp_path: Path, fitsverify) -> None:
    path = tmp_path / "pb.fits"
    # in place, so the file's size can be watched while it is open
    with fitsbind.FITS(path, "w+", in_place=True) as f:
        f.write_image(np.zeros(3))
        before = os.path.getsize(path)
        with pytest.raises(fitsbind.FITSValueError, match="cannot grow"):
            f.create_image_hdu(np.float64, (10**8, 10**8))
        assert len(f) == 1 and os.path.getsize(path) == before
    fitsverify(path)


def test_flush_makes_data_visible_to_other_readers(tmp_path: Path, afits) -> None:
    path = tmp_path / "flush.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.zeros(10, dtype=np.int32))
    with fitsbind.FITS(path, "r+") as f:
        f[0].write(np.arange(10, dtype=np.int32))
        f.flush()
        assert afits.getdata(path).tolist() == list(range(10))


@pytest.mark.parametrize("dtype", [np.float64, np.uint16, np.int8, np.int32])
def test_large_boxes_use_two_threads_and_agree_with_astropy(tmp_path: Path, dtype, afits) -> None:
    """Boxes past 8 MiB are moved by fitsbind's two I/O threads; every layout must agree."""
    path = tmp_path / "threads.fits"
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    data = (rng.integers(info.min, info.max, (1500, 1400), endpoint=True).astype(dtype)
            if info else rng.standard_normal((1500, 1400)).astype(dtype))
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.zeros(3, np.int16))
        hdu = f.write_image(data, extname="BIG")
        f.write_image(np.arange(5, dtype=np.int16), extname="AFTER")
        np.testing.assert_array_equal(hdu.read(), data)
        hdu[100:1400, 7:1307] = data[:1300, :1300]
        expected = data.copy()
        expected[100:1400, 7:1307] = data[:1300, :1300]
        np.testing.assert_array_equal(hdu[::-1, 3:], expected[::-1, 3:])
    with afits.open(path) as hdul:
        np.testing.assert_array_equal(hdul["BIG"].data, expected)
        assert hdul["AFTER"].data.tolist() == list(range(5))


def test_gzip_compressed_file_reads_through_cfitsio(tmp_path: Path, afits) -> None:
    import gzip

    plain = tmp_path / "plain.fits"
    data = np.arange(600, dtype=np.uint16).reshape(20, 30) * 100
    afits.HDUList([afits.PrimaryHDU(), afits.ImageHDU(data, name="SCI")]).writeto(plain)
    packed = tmp_path / "packed.fits.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    with fitsbind.FITS(packed) as f:
        np.testing.assert_array_equal(f["SCI"].read(), data)
        np.testing.assert_array_equal(f["SCI"][3:9:2, ::-4], data[3:9:2, ::-4])
        assert f["SCI"].read(scale=False).dtype == np.int16


def test_extend_before_other_hdus_needs_real_disk_space(three: Path, monkeypatch) -> None:
    """Growing an HDU that is not the last writes every inserted byte: refused up front when
    the disk cannot take them, leaving the file as it was."""
    import shutil

    from fitsbind.direct import storage

    before = three.read_bytes()
    usage = shutil.disk_usage(three.parent)
    monkeypatch.setattr(storage.shutil, "disk_usage",
                        lambda path: usage._replace(free=1 << 20))
    with fitsbind.FITS(three, "r+") as f:
        with pytest.raises(fitsbind.FITSValueError, match="only 1048576 bytes free"):
            f[0].extend(np.ones((100_000, 3), np.int16))
        assert f[0].shape == (2, 3)
    assert three.read_bytes() == before


def test_non_integer_blank_is_refused(tmp_path: Path, afits) -> None:
    path = tmp_path / "blank.fits"
    hdu = afits.PrimaryHDU(np.arange(4, dtype=np.int16))
    hdu.header["BLANK"] = 1.5
    hdu.writeto(path, output_verify="ignore")
    with fitsbind.FITS(path) as f, pytest.raises(fitsbind.FITSError, match=r"BLANK 1\.5"):
        f[0].read()


def test_zero_step_is_refused(three: Path) -> None:
    with fitsbind.FITS(three) as f, pytest.raises(fitsbind.FITSValueError, match="step"):
        f[1][::0]
