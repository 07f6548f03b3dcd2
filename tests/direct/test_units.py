"""The seam (fitsbind.direct.units): HDUs as byte ranges, what the drop-in layer writes through.

Every call is checked against the bytes on disk and astropy's reading of them; a call that fails
must leave the file byte for byte as it was.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

import fitsbind
from fitsbind.direct import HDUExtent
from fitsbind.errors import FITSError, FITSValueError

BLOCK = 2880


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def image_header(shape: tuple[int, ...], dtype: str = "i2", extname: str | None = None) -> str:
    """Header text (END excluded) of an image extension of numpy ``shape``, by astropy."""
    afits = pytest.importorskip("astropy.io.fits")
    hdu = afits.ImageHDU(np.zeros(shape, dtype), name=extname)
    return hdu.header.tostring(endcard=False, padding=False)


@pytest.fixture
def two(tmp_path: Path, afits) -> Path:
    """An empty primary HDU, an int16 image (100 x 30) and a table, written by astropy."""
    path = tmp_path / "two.fits"
    table = afits.BinTableHDU.from_columns([afits.Column("A", "J", array=np.arange(5))],
                                           name="CAT")
    afits.HDUList([afits.PrimaryHDU(), afits.ImageHDU(np.arange(3000, dtype=np.int16)
                                                      .reshape(100, 30), name="SCI"),
                   table]).writeto(path)
    return path


def test_locate_matches_astropy(two: Path, afits) -> None:
    with afits.open(two) as hdul:
        expected = [(h.fileinfo()["hdrLoc"], h.fileinfo()["datLoc"],
                     h.fileinfo()["datLoc"] + h.fileinfo()["datSpan"]) for h in hdul]
    with fitsbind.FITS(two) as f:
        extents = [f.locate(i) for i in range(3)]
        assert [tuple(e) for e in extents] == expected
        assert isinstance(extents[1], HDUExtent)
        assert extents[1].header_size == BLOCK and extents[1].data_size == 3 * BLOCK
        with pytest.raises(IndexError, match=r"two\.fits"):
            f.locate(3)


def test_read_bytes_plain_and_gzip(two: Path, tmp_path: Path) -> None:
    raw = two.read_bytes()
    packed = tmp_path / "two.fits.gz"
    packed.write_bytes(gzip.compress(raw))
    for path in (two, packed):
        with fitsbind.FITS(path) as f:
            assert f.read_bytes(0, 80).tobytes() == raw[:80]
            sci = f.locate(1)
            out = np.empty((100, 30), ">i2")
            assert f.read_bytes(sci.data_start, out=out) is out
            np.testing.assert_array_equal(out, np.arange(3000).reshape(100, 30))
            with pytest.raises(FITSError, match="outside the file"):
                f.read_bytes(len(raw) - 10, 20)
            with pytest.raises(TypeError):
                f.read_bytes(0)


@pytest.mark.parametrize("kind", ["array", "bytes", "chunks"])
def test_append_hdu(two: Path, kind: str, fitsverify, afits) -> None:
    values = np.arange(40 * 50, dtype=np.float32).reshape(40, 50)
    data = {"array": values, "bytes": values.astype(">f4").tobytes(),
            "chunks": (values[i:i + 7].astype(">f4").tobytes() for i in range(0, 40, 7))}[kind]
    with fitsbind.FITS(two, "r+") as f:
        index = f.append_hdu(image_header((40, 50), ">f4", "NEW"), data)
        assert index == 3 and f[3].extname == "NEW"
    fitsverify(two)
    with afits.open(two) as hdul:
        np.testing.assert_array_equal(hdul["NEW"].data, values)
        np.testing.assert_array_equal(hdul["SCI"].data, np.arange(3000).reshape(100, 30))


def test_stored_chunks_of_records_are_big_endian() -> None:
    """Records with native fields are converted chunk by chunk (the bytes between fields
    zero, every chunk but the last a multiple of 4 bytes), strided ones too; big-endian
    contiguous ones are their own bytes."""
    native = np.dtype({"names": ["A", "B", "C"], "formats": ["<i4", ("<f8", (2,)), "S3"],
                       "offsets": [0, 8, 24], "itemsize": 29})
    raw = np.full(700_000 * native.itemsize, 7, np.uint8)
    rows = raw.view(native)
    rows["A"] = np.arange(len(rows))
    rows["B"] = np.arange(2 * len(rows)).reshape(-1, 2) / 3
    rows["C"] = b"ab"
    stored = np.dtype({"names": ["A", "B", "C"], "formats": [">i4", (">f8", (2,)), "S3"],
                       "offsets": [0, 8, 24], "itemsize": 29})
    for records in (rows, rows[::3]):
        expected = np.zeros(len(records), stored)
        for name in stored.names:
            expected[name] = records[name]
        chunks = [bytes(c) for c in fitsbind.direct.stored_chunks(records)]
        assert len(chunks) > 1 and all(len(c) % 4 == 0 for c in chunks[:-1])
        assert b"".join(chunks) == expected.tobytes()
    big = expected.view(np.uint8).view(stored)
    assert [bytes(c) for c in fitsbind.direct.stored_chunks(big)] == [big.tobytes()]


def test_append_hdu_without_data_leaves_zeros(two: Path, afits) -> None:
    with fitsbind.FITS(two, "r+") as f:
        f.append_hdu(image_header((10, 10), "i4"))
    with afits.open(two) as hdul:
        assert not hdul[3].data.any() and hdul[3].data.shape == (10, 10)


@pytest.mark.parametrize("data", [np.zeros(101, np.int16), b"\0" * 5000, [b"\0" * 100] * 3,
                                  [b"\0" * 8000, b"\0" * 1000]],
                         ids=["array", "bytes", "short chunks", "long chunks"])
def test_append_hdu_that_does_not_fill_its_data_unit_changes_nothing(two: Path, data) -> None:
    before = digest(two)
    with fitsbind.FITS(two, "r+") as f:
        with pytest.raises(FITSValueError, match="data"):
            f.append_hdu(image_header((4000,)), data)   # 8000 bytes: three blocks
        assert len(f) == 3
    assert digest(two) == before


def test_append_hdu_with_failing_chunks_changes_nothing(two: Path) -> None:
    def chunks():
        yield b"\0" * 2880
        raise RuntimeError("source went away")

    before = digest(two)
    with fitsbind.FITS(two, "r+") as f:
        with pytest.raises(RuntimeError, match="went away"):
            f.append_hdu(image_header((4000,)), chunks())
        assert len(f) == 3
    assert digest(two) == before


def test_append_hdu_refuses_bad_header_text(two: Path) -> None:
    before = digest(two)
    with fitsbind.FITS(two, "r+") as f:
        with pytest.raises(FITSValueError, match="multiple of 80"):
            f.append_hdu(image_header((2, 2))[:-1])
        with pytest.raises(TypeError):
            f.append_hdu(image_header((2, 2)).encode())
    assert digest(two) == before
    with fitsbind.FITS(two) as f:
        with pytest.raises(fitsbind.FITSPermissionError):
            f.append_hdu(image_header((2, 2)))


def test_replace_header_in_place_and_growing(two: Path, fitsverify, afits) -> None:
    with afits.open(two) as hdul:
        header = hdul["SCI"].header.copy()
    header["OBSERVER"] = "Hubble"
    with fitsbind.FITS(two, "r+") as f:
        cached = f[1]
        assert cached.header.get("OBSERVER") is None
        f.replace_header(1, header.tostring(endcard=False, padding=False))
        assert cached.header["OBSERVER"] == "Hubble"    # the HDU object reads the new cards
        for i in range(60):   # past one 2880-byte block: the HDUs after it move
            header[f"HIST{i}"] = i
        f.replace_header(1, header.tostring(endcard=False, padding=False))
        assert f.locate(1).header_size == 2 * BLOCK
    fitsverify(two)
    with afits.open(two) as hdul:
        assert hdul["SCI"].header["HIST59"] == 59
        np.testing.assert_array_equal(hdul["SCI"].data, np.arange(3000).reshape(100, 30))
        np.testing.assert_array_equal(hdul["CAT"].data["A"], np.arange(5))


def test_replace_header_keeps_commentary_text_as_written(two: Path, afits) -> None:
    """A rewritten COMMENT/HISTORY card keeps its text's case, '=' in it or not (CFITSIO's
    in-place card rewrite upper-cases everything before the first '=')."""
    with afits.open(two) as hdul:
        header = hdul["SCI"].header.copy()
    header["HISTORY"] = "first"
    header["HISTORY"] = "second"
    with fitsbind.FITS(two, "r+") as f:
        f.replace_header(1, header.tostring(endcard=False, padding=False))
    header["HISTORY"][0] = "task:  in=x.fits"
    header["HISTORY"][1] = "lower case, no equals"
    with fitsbind.FITS(two, "r+") as f:
        f.replace_header(1, header.tostring(endcard=False, padding=False))
    with afits.open(two) as hdul:
        assert list(hdul["SCI"].header["HISTORY"]) == ["task:  in=x.fits", "lower case, no equals"]
        np.testing.assert_array_equal(hdul["SCI"].data, np.arange(3000).reshape(100, 30))


def test_replace_header_of_another_data_size_changes_nothing(two: Path) -> None:
    before = digest(two)
    with fitsbind.FITS(two, "r+") as f:
        with pytest.raises(FITSValueError, match="describes 12000 data bytes"):
            f.replace_header(1, image_header((200, 30), extname="SCI"))
    assert digest(two) == before


def test_write_data_in_place(two: Path, afits) -> None:
    with fitsbind.FITS(two, "r+") as f:
        f.write_data(1, np.full(30, -1, np.int16), offset=60)    # row 1 of the image
        before = digest(two)
        with pytest.raises(FITSValueError, match="outside"):
            f.write_data(1, np.zeros(3 * BLOCK // 2, np.int16), offset=2)
        with pytest.raises(FITSValueError, match="outside"):
            f.write_data(1, b"x", offset=-1)
    assert digest(two) == before
    with afits.open(two) as hdul:
        expected = np.arange(3000, dtype=np.int16).reshape(100, 30)
        expected[1] = -1
        np.testing.assert_array_equal(hdul["SCI"].data, expected)


def test_data_checksum_is_datasum(two: Path, tmp_path: Path, afits) -> None:
    summed = tmp_path / "summed.fits"
    with afits.open(two) as hdul:
        hdul.writeto(summed, checksum=True)
    with afits.open(summed) as hdul, fitsbind.FITS(summed) as f:
        for i, hdu in enumerate(hdul):
            assert f.data_checksum(i) == int(hdu.header["DATASUM"])


def test_replace_header_with_a_bad_column_format_changes_nothing(two: Path, afits) -> None:
    """CFITSIO judges TFORMn only once the cards are in the file: they are checked first."""
    with afits.open(two) as hdul:
        text = hdul["CAT"].header.tostring(endcard=False, padding=False)
    bad = text.replace("TFORM1  = 'J       '", "TFORM1  = 'QQ      '")
    before = digest(two)
    with fitsbind.FITS(two, "r+") as f:
        for write in (lambda: f.replace_header(2, bad), lambda: f.append_hdu(bad)):
            with pytest.raises(FITSValueError, match="'QQ' is not a valid TFORM"):
                write()
        assert len(f) == 3
    assert digest(two) == before
