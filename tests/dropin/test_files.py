"""Opening and writing files as astropy does: file objects and their modes, compressed files,
bytes in memory, streams, backups (each test body runs against astropy and fitsbind)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import mmap
import shutil
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path
from types import ModuleType
from unittest.mock import patch

import numpy as np
import pytest

import fitsbind

DATA = np.arange(12, dtype=np.int16).reshape(3, 4)


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    path = tmp_path / "plain.fits"
    fitsbind.HDUList([fitsbind.PrimaryHDU(), fitsbind.ImageHDU(DATA, name="SCI")]).writeto(path)
    return path


def _zipped(plain: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        archive.write(plain, "plain.fits")
    return target


@pytest.mark.parametrize(("suffix", "pack", "name"), [
    (".gz", gzip.compress, "gzip"), (".bz2", bz2.compress, "bzip2"),
    (".xz", lzma.compress, "lzma")])
def test_compression_is_named_for_paths_handles_and_decompressing_objects(
        fits: ModuleType, plain: Path, suffix: str, pack, name: str) -> None:
    packed = plain.with_suffix(".other")     # found by its leading bytes, not its name
    packed.write_bytes(pack(plain.read_bytes()))
    with fits.open(packed) as hdul:
        assert hdul._file.compression == name
        assert (hdul[1].data == DATA).all()
    with open(packed, "rb") as handle, fits.open(handle) as hdul:
        assert hdul._file.compression == name
    opener = {"gzip": gzip.GzipFile, "bzip2": bz2.BZ2File, "lzma": lzma.LZMAFile}[name]
    with opener(packed) as source, fits.open(source) as hdul:
        assert hdul._file.compression == name
        assert len(hdul) == 2


def test_zip_archives_are_read_and_never_written(fits: ModuleType, plain: Path,
                                                 tmp_path: Path) -> None:
    packed = _zipped(plain, tmp_path / "plain.zip")
    with fits.open(packed) as hdul:
        assert hdul._file.compression == "zip"
        assert (hdul[1].data == DATA).all()
    with zipfile.ZipFile(packed) as archive, fits.open(archive) as hdul:
        assert hdul._file.compression == "zip"
        assert len(hdul) == 2
    for mode in ("update", "append"):
        with pytest.raises(OSError):
            fits.open(packed, mode)
        with zipfile.ZipFile(packed, "a") as archive, pytest.raises(OSError):
            fits.open(archive, mode)


def test_only_gzip_files_may_be_updated_and_stay_compressed(fits: ModuleType, plain: Path) -> None:
    packed = plain.with_suffix(".fits.gz")
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    with fits.open(packed, mode="update") as hdul:
        hdul[0].header["EXPFLAG"] = "ABNORMAL"
        hdul.append(fits.ImageHDU(np.arange(5)))
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    with fits.open(packed) as hdul:
        assert hdul[0].header["EXPFLAG"] == "ABNORMAL"
        assert list(hdul[2].data) == list(range(5))
    with pytest.raises(OSError):
        fits.open(packed, mode="append")
    squeezed = plain.with_suffix(".fits.bz2")
    squeezed.write_bytes(bz2.compress(plain.read_bytes()))
    with pytest.raises(OSError, match="update and append modes are not supported with bzip2"):
        fits.open(squeezed, mode="update")


def test_a_handle_s_own_mode_decides_and_must_agree(fits: ModuleType, plain: Path) -> None:
    with open(plain, "rb+") as handle, fits.HDUList.fromfile(handle) as hdul:
        assert hdul.fileinfo(0)["filemode"] == "update"
    with open(plain, "ab+") as handle, fits.HDUList.fromfile(handle) as hdul:
        assert hdul.fileinfo(0)["filemode"] == "append"
    with open(plain, "rb") as handle, pytest.raises(ValueError):
        fits.open(handle, mode="ostream")
    with open(plain) as handle, pytest.raises(ValueError):
        fits.open(handle)
    with pytest.raises(ValueError, match="not recognized"):
        fits.open(plain, mode="sideways")


def test_append_mode_creates_a_missing_file(fits: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "new.fits"
    with pytest.raises(OSError, match="No such file or directory"):
        fits.open(path)
    with fits.open(path, mode="append") as hdul:
        assert len(hdul) == 0
        hdul.append(fits.PrimaryHDU(DATA))
    with fits.open(path) as hdul:
        assert (hdul[0].data == DATA).all()


def test_bytes_paths_and_bytes_in_memory(fits: ModuleType, plain: Path) -> None:
    with fits.open(str(plain).encode()) as hdul:
        assert hdul[1].name == "SCI"
    raw = plain.read_bytes()
    hdul = fits.HDUList.fromstring(raw)
    assert [hdu.name for hdu in hdul] == ["PRIMARY", "SCI"]
    assert (hdul[1].data == DATA).all()
    with pytest.raises(TypeError):
        fits.HDUList.fromstring(42)
    with fits.open(plain) as opened:
        start = opened[1]._data_offset - len(str(opened[1].header))
        span = len(str(opened[1].header)) + opened[1]._data_size
    hdu = fits.ImageHDU.fromstring(raw[start:start + span])
    assert isinstance(hdu, fits.ImageHDU)
    assert (hdu.data == DATA).all()


def test_update_of_a_file_like_object_reaches_it_at_flush(fits: ModuleType) -> None:
    buffer = io.BytesIO()
    fits.PrimaryHDU(np.zeros((10, 10))).writeto(buffer)
    buffer.seek(0)
    hdul = fits.open(buffer, mode="update")
    hdul[0].data = np.ones((20, 20))
    hdul.flush()
    assert fits.HDUList.fromstring(buffer.getvalue())[0].data.shape == (20, 20)
    hdul.close()


def test_no_file_only_simulates_the_write(fits: ModuleType, plain: Path) -> None:
    with fits.open(plain) as hdul:
        hdul.writeto(None)
        hdul[0].writeto(None)
        hdul[0].header.tofile(None)


def test_a_list_closed_before_all_its_hdus_were_read(fits: ModuleType, plain: Path) -> None:
    hdul = fits.open(plain)
    hdul.close()
    with pytest.raises(IndexError, match="HDU not found, possibly because the index is out of"):
        hdul[1]
    with fits.open(plain) as whole:
        len(whole)
        with pytest.raises(IndexError, match="list index out of range"):
            whole[5]


def test_save_backup_keeps_each_version_before_a_flush(fits: ModuleType, plain: Path) -> None:
    original = plain.read_bytes()
    for expected in ("plain.fits.bak", "plain.fits.bak.1"):
        with pytest.warns(UserWarning, match="Saving a backup"):
            with fits.open(plain, mode="update", save_backup=True) as hdul:
                hdul[0].header["TEST"] = expected
        assert (plain.parent / expected).exists()
    assert (plain.parent / "plain.fits.bak").read_bytes() == original
    buffer = io.BytesIO(original)
    with fits.open(buffer, mode="update", save_backup=True) as hdul:
        hdul[0].header["TEST"] = "in memory"
    assert not list(Path(tempfile.gettempdir()).glob("fitsbind-*.bak*"))


def test_an_integer_extname_fails_verification_or_is_made_a_string(fits: ModuleType,
                                                                   tmp_path: Path) -> None:
    image = fits.ImageHDU()
    image.header["EXTNAME"] = 12345678
    hdul = fits.HDUList([fits.PrimaryHDU(), image])
    with pytest.raises(fits.VerifyError):
        hdul.writeto(tmp_path / "a.fits")
    with pytest.warns(fits.verify.VerifyWarning):
        hdul.writeto(tmp_path / "b.fits", output_verify="fix")
    assert image.header["EXTNAME"] == "12345678"


def test_a_refused_copy_on_write_map_falls_back_to_a_read_only_one(fits: ModuleType,
                                                                   plain: Path) -> None:
    real = mmap.mmap

    def no_copies(*args, **kwargs):
        if kwargs.get("access") == mmap.ACCESS_COPY:
            raise OSError(12, "Cannot allocate memory")
        return real(*args, **kwargs)

    with fits.open(plain, memmap=True) as hdul, patch.object(mmap, "mmap", no_copies):
        with pytest.warns(UserWarning, match="falling back to mode='denywrite'"):
            data = hdul[1].data
        assert not data.flags.writeable
        assert (data == DATA).all()


def _primary_header(fits: ModuleType) -> object:
    header = fits.Header()
    for keyword, value in (("SIMPLE", True), ("BITPIX", 16), ("NAXIS", 2), ("NAXIS1", 4),
                           ("NAXIS2", 3)):
        header[keyword] = value
    return header


def test_streaming_writes_the_header_then_the_data_in_pieces(fits: ModuleType,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "stream.fits"
    stream = fits.StreamingHDU(path, _primary_header(fits))
    assert stream.size == DATA.nbytes
    assert stream.write(DATA[:1]) is False
    with pytest.raises(TypeError):
        stream.write(DATA[1:2].astype(np.int32))
    assert stream.write(DATA[1:]) is True
    with pytest.raises(OSError):
        stream.write(DATA[:1])
    stream.close()
    # a second stream into a file that has HDUs becomes an image extension
    with fits.StreamingHDU(path, _primary_header(fits)) as second:
        second.write(DATA.byteswap().view(DATA.dtype.newbyteorder()))
    with fits.open(path) as hdul:
        assert len(hdul) == 2
        assert (hdul[0].data == DATA).all() and (hdul[1].data == DATA).all()
    assert path.stat().st_size == 4 * 2880


def test_streaming_into_file_objects(fits: ModuleType, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    stream = fits.StreamingHDU(buffer, _primary_header(fits))
    for row in DATA:
        stream.write(row)
    assert len(buffer.getvalue()) == 2 * 2880
    assert (fits.HDUList.fromstring(buffer.getvalue())[0].data == DATA).all()
    stream.close()
    with open(tmp_path / "handle.fits", "wb") as handle, pytest.raises(ValueError):
        fits.StreamingHDU(handle, _primary_header(fits))
    with gzip.GzipFile(tmp_path / "z.fits.gz", "wb") as packed, pytest.raises(TypeError):
        fits.StreamingHDU(packed, _primary_header(fits))


def test_an_unfinished_stream_leaves_zeros_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "short.fits"
    stream = fitsbind.StreamingHDU(path, _primary_header(fitsbind))
    stream.write(DATA[:1])
    with pytest.warns(UserWarning, match="closed after 8 of 24 data bytes"):
        stream.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fitsbind.open(path) as hdul:
            assert (hdul[0].data[0] == DATA[0]).all() and not hdul[0].data[1:].any()


def test_writing_to_stdout(fits: ModuleType, capfdbinary: pytest.CaptureFixture) -> None:
    fits.HDUList([fits.PrimaryHDU()]).writeto(sys.stdout)
    sys.stdout.flush()
    assert capfdbinary.readouterr().out.startswith(b"SIMPLE  =")


def _with_first_card(plain: Path, target: Path, first: bytes) -> Path:
    raw = plain.read_bytes()
    target.write_bytes(first + raw[80:2880])    # the primary header alone
    return target


def test_a_primary_header_with_simple_false_or_without_simple_is_read(fits: ModuleType,
                                                                     plain: Path,
                                                                     tmp_path: Path) -> None:
    nonstandard = _with_first_card(plain, tmp_path / "f.fits", b"SIMPLE  =                    F"
                                   + b" " * 50)
    with fits.open(nonstandard) as hdul:
        assert type(hdul[0]).__name__ == "_NonstandardHDU"
        assert hdul[0].header["BITPIX"] == 8
        assert hdul.info(output=False)[0][3] == "NonstandardHDU"
    headless = _with_first_card(plain, tmp_path / "none.fits", b" " * 80)
    with fits.open(headless, ignore_missing_simple=True) as hdul:
        assert type(hdul[0]).__name__ == "_ValidHDU"
        assert hdul[0].header["BITPIX"] == 8
    # a header of no known kind, given with data, leaves the kind to the data (an image)
    header = fits.Header([("OBSERVER", "me")])
    fits.writeto(tmp_path / "img.fits", DATA, header)
    with fits.open(tmp_path / "img.fits") as hdul:
        assert (hdul[0].data == DATA).all()


def test_a_write_failing_on_a_full_disk_says_so(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fitsbind.FITS, "append_hdu", no_room)
    monkeypatch.setattr("shutil.disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9, 0))
    target = tmp_path / "full.fits"
    with pytest.raises(OSError, match=r"Not enough space on disk: requested 80, available 0\. "
                                      r"\[Errno 28\] No space left"):
        fitsbind.PrimaryHDU(np.zeros(10, np.int64)).writeto(target)
    assert not target.exists()


class _ReadOnlyStream:
    """A stream that can only read (a pipe's reading end, say): no seek, tell or write."""

    def __init__(self, raw: bytes) -> None:
        self._source = io.BytesIO(raw)

    def read(self, size: int = -1) -> bytes:
        return self._source.read(size)


def test_a_stream_that_cannot_seek_is_read_from_where_it_stands(plain: Path) -> None:
    # fitsbind only: astropy makes every object without seek and tell an output stream
    with fitsbind.open(_ReadOnlyStream(plain.read_bytes())) as hdul:
        assert (hdul[1].data == DATA).all()


def test_readfrom_gives_the_first_hdu_of_a_path_or_a_file_object(fits: ModuleType,
                                                                 tmp_path: Path) -> None:
    path = tmp_path / "first.fits"
    fits.HDUList([fits.PrimaryHDU(DATA), fits.ImageHDU(DATA * 2)]).writeto(path)
    hdu = fits.PrimaryHDU.readfrom(path)
    assert (hdu.data == DATA).all()
    with open(path, "rb") as handle:
        assert (fits.PrimaryHDU.readfrom(handle).data == DATA).all()
