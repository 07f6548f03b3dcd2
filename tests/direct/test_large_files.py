"""Files and HDUs larger than 4 GiB (and than memory): sparse creation, block I/O, growth."""

from __future__ import annotations

import os
import resource
import shutil
from pathlib import Path

import numpy as np
import pytest

import fitsbind

GiB = 1 << 30
ROWS, COLS = 40_000, 33_000          # float32: 5.28e9 bytes, past 4 GiB and 2**32 pixels/4
BLOCK = 1_000                        # rows per block: 132 MB


def _disk_bytes(path: Path) -> int:
    return os.stat(path).st_blocks * 512


def _build(path: Path) -> None:
    """The seed's layout: primary, a big image declared by shape, a table, a small image."""
    with fitsbind.FITS(path, "w+") as f:
        f.create_image_hdu(np.uint8, ())
        big = f.create_image_hdu(np.float32, (ROWS, COLS), extname="BIG")
        f.create_table_hdu([("ID", "K"), ("FLUX", "E")], nrows=1000, extname="CAT")
        f.write_image(np.arange(100, dtype=np.int32).reshape(10, 10), extname="SMALL")
        assert big.shape == (ROWS, COLS) and big.size * 4 > 4 * GiB


def test_sparse_image_past_4gib(tmp_path: Path, fitsverify) -> None:
    path = tmp_path / "big.fits"
    _build(path)
    assert path.stat().st_size > ROWS * COLS * 4
    assert _disk_bytes(path) < 64 << 20, "the big image must not be written out"
    with fitsbind.FITS(path, "r+") as f:
        big = f["BIG"]
        # blocks past the 4 GiB offset and past pixel 2**31
        for row in (0, 17_000, 33_000, ROWS - 3):
            block = np.full((3, COLS), row, np.float32)
            block[:, -1] = -row
            big[row:row + 3, :] = block
        assert big[33_001, 0] == 33_000 and big[ROWS - 1, -1] == -(ROWS - 3)
        assert big[ROWS - 3:, COLS - 2:].tolist() == [[ROWS - 3, -(ROWS - 3)]] * 3
        assert big[20_000:20_002, 5:7].tolist() == [[0, 0], [0, 0]]
        # grow the table's header: CFITSIO shifts the small image after it
        cat = f["CAT"]
        for i in range(80):
            cat.header[f"NOTE{i:03d}"] = ("x" * 50, "a note that fills the header")
        assert f["SMALL"].read().sum() == 4950
        assert big[33_000, 0] == 33_000
    assert _disk_bytes(path) < 64 << 20
    with fitsbind.FITS(path) as f:
        assert f["CAT"].header["NOTE079"] == "x" * 50
        assert f["SMALL"][9, 9] == 99
        assert f[1][ROWS - 1, COLS - 1] == -(ROWS - 3)
    fitsverify(path)


def test_extend_last_hdu_past_4gib_sparsely(tmp_path: Path) -> None:
    path = tmp_path / "grow.fits"
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.create_image_hdu(np.int16, (0, 50_000))
        hdu.extend(np.ones((2, 50_000), np.int16))
        # a start beyond the written rows grows the axis without writing the gap
        hdu.extend(np.full((1, 50_000), 7, np.int16), start=2)
        hdu.extend(np.full((1, 50_000), 9, np.int16), start=3)
        f.flush()
        hdu.extend(np.full((1, 50_000), 5, np.int16))
        assert hdu.shape == (5, 50_000)
    with fitsbind.FITS(path, "r+") as f:
        hdu = f[0]
        rows = 45_000   # 4.5e9 bytes in total
        hdu[...] = hdu.read()   # rewrite in place: no growth
        # grow to 4.2 GiB with one small write at the end; the gap stays a hole
        before = _disk_bytes(path)
        hdu.extend(np.full((1, 50_000), 3, np.int16), start=5)
        hdu.extend(np.full((1, 50_000), 4, np.int16), start=rows - 1)   # the gap reads 0
        assert hdu.shape == (rows, 50_000)
        assert _disk_bytes(path) - before < 16 << 20
        assert hdu[rows - 1, :3].tolist() == [4, 4, 4] and hdu[1000, 0] == 0
        assert hdu[2:6, 0].tolist() == [7, 9, 5, 3]
        with pytest.raises(IndexError):
            hdu.extend(np.ones((1, 50_000), np.int16), start=-1)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.slow
def test_real_multi_gb_write_in_bounded_memory(tmp_path: Path, fitsverify) -> None:
    """Fills a 4.4 GB image for real, block by block, with memory far below its size."""
    path = tmp_path / "real.fits"
    rows, cols, block = 33_000, 33_000, 500
    if shutil.disk_usage(tmp_path).free < 3 * rows * cols * 4:
        pytest.skip("needs 13 GB of free disk space for a real 4.4 GB file")
    try:
        _write_and_check(path, rows, cols, block, fitsverify)
    finally:
        path.unlink(missing_ok=True)   # pytest keeps old temporary directories


def _write_and_check(path: Path, rows: int, cols: int, block: int, fitsverify) -> None:
    with fitsbind.FITS(path, "w+") as f:
        f.create_image_hdu(np.uint8, ())
        hdu = f.create_image_hdu(np.float32, (rows, cols), extname="SCI")
        f.write_image(np.arange(10, dtype=np.int16), extname="AFTER")
        rss_before = _peak_rss_mb()
        ramp = np.arange(cols, dtype=np.float32)
        for start in range(0, rows, block):
            n = min(block, rows - start)
            hdu[start:start + n, :] = ramp + np.arange(start, start + n, dtype=np.float32)[:, None]
        grown = _peak_rss_mb() - rss_before
        assert grown < 400, f"peak RSS grew by {grown:.0f} MB writing a 4.4 GB image"
    assert _disk_bytes(path) > 4 * GiB
    with fitsbind.FITS(path) as f:
        hdu = f["SCI"]
        for start in (0, 16_000, rows - block):
            got = hdu[start:start + block, ::1000]
            expected = (np.arange(0, cols, 1000, dtype=np.float32)
                        + np.arange(start, start + block, dtype=np.float32)[:, None])
            np.testing.assert_array_equal(got, expected)
        assert f["AFTER"].read().tolist() == list(range(10))
    with fitsbind.FITS(path, "r+") as f:
        f["SCI"].add_checksum()
        assert f["SCI"].verify_checksum() is True
    fitsverify(path)
