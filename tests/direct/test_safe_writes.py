"""What failed writes leave on disk: "w+" writes a new file beside the target and renames it
into place on close; appends and extends that fail (a full disk, simulated with RLIMIT_FSIZE
in a child process) leave the file as it was, byte for byte."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from children import run_limited

import fitsbind
from fitsbind import _atomic


def cards(**values: object) -> str:
    """Header text (80-character cards, no END) of integer, bool and string ``values``."""
    def text(v: object) -> str:
        if isinstance(v, bool):
            return "T" if v else "F"
        return f"'{v:<8}'" if isinstance(v, str) else str(v)
    return "".join(f"{k:<8}= {text(v):>20}".ljust(80) for k, v in values.items())


def temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".fitsbind-"))


def old_file(path: Path) -> bytes:
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.arange(12, dtype=np.int16).reshape(3, 4))
    return path.read_bytes()


# -- w+ ---------------------------------------------------------------------------------------

def test_w_plus_replaces_the_file_only_on_close(tmp_path: Path, fitsverify) -> None:
    path = tmp_path / "target.fits"
    old = old_file(path)
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.ones((5, 5), np.float32))
        # the old file is there, whole, until the new one is complete
        assert path.read_bytes() == old
        [temp] = temporaries(tmp_path)
        assert temp.startswith(f".fitsbind-{_atomic._HOST}-{os.getpid()}-")
        assert temp.endswith("-target.fits.tmp")
        assert f.filename == str(path) and repr(f) == f"<fitsbind.FITS {str(path)!r} (w+)>"
        with pytest.raises(fitsbind.FITSTypeError, match=r"target\.fits: cannot write"):
            f.write(np.array(["text"]))
    assert temporaries(tmp_path) == []
    with fitsbind.FITS(path) as f:
        assert f[0].read().tolist() == np.ones((5, 5)).tolist()
    fitsverify(path)


def test_w_plus_keeps_the_old_file_when_the_block_raises(tmp_path: Path) -> None:
    path = tmp_path / "target.fits"
    old = old_file(path)
    with pytest.raises(RuntimeError, match="stop"):
        with fitsbind.FITS(path, "w+") as f:
            f.write_image(np.ones(100))
            raise RuntimeError("stop")
    assert path.read_bytes() == old and temporaries(tmp_path) == []


def test_w_plus_without_an_old_file_creates_nothing_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "new.fits"
    with pytest.raises(RuntimeError):
        with fitsbind.FITS(path, "w+"):
            raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_w_plus_keeps_permissions_and_symbolic_links(tmp_path: Path) -> None:
    real = tmp_path / "real.fits"
    old_file(real)
    real.chmod(0o640)
    link = tmp_path / "link.fits"
    link.symlink_to(real)
    with fitsbind.FITS(link, "w+") as f:
        f.write_image(np.arange(3))
    assert link.is_symlink() and real.stat().st_mode & 0o777 == 0o640
    with fitsbind.FITS(real) as f:
        assert f[0].read().tolist() == [0, 1, 2]


def test_w_plus_forgotten_without_close_discards_the_new_file(tmp_path: Path) -> None:
    path = tmp_path / "target.fits"
    old = old_file(path)
    f = fitsbind.FITS(path, "w+")
    f.write_image(np.ones(10))
    with pytest.warns(ResourceWarning, match="the new file is discarded"):
        del f
        import gc
        gc.collect()
    assert path.read_bytes() == old and temporaries(tmp_path) == []


def test_w_plus_in_place_writes_at_the_path(tmp_path: Path) -> None:
    path = tmp_path / "target.fits"
    old_file(path)
    with fitsbind.FITS(path, "w+", in_place=True) as f:
        f.write_image(np.ones(10))
        assert temporaries(tmp_path) == []
        f.flush()
        with fitsbind.FITS(path) as reader:
            assert reader[0].read().tolist() == [1.0] * 10
    with pytest.raises(ValueError, match="in_place"):
        fitsbind.FITS(path, "r+", in_place=True)


def test_w_plus_refuses_a_directory_and_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):
        fitsbind.FITS(tmp_path, "w+")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        fitsbind.FITS(tmp_path / "nowhere" / "x.fits", "w+")


def test_w_plus_new_file_has_its_own_lock_until_renamed(tmp_path: Path) -> None:
    """Readers of the old file and the writer of the new one are different files (two
    inodes), so neither waits for the other's lock; after the rename, the new file's
    handles share the writer's inode."""
    path = tmp_path / "target.fits"
    old_file(path)
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.ones(4))
        with fitsbind.FITS(path) as reader:
            assert reader[0].shape == (3, 4)
            assert reader._file.lock is not f._file.lock
        written = os.stat(f._file.path).st_ino
    assert path.stat().st_ino == written


# -- stale temporary files --------------------------------------------------------------------

def dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)


def test_the_next_write_removes_temporaries_of_dead_writers_only(tmp_path: Path) -> None:
    host = _atomic._HOST
    dead = tmp_path / f".fitsbind-{host}-{dead_pid()}-0123abcd-a.fits.tmp"
    mine = tmp_path / f".fitsbind-{host}-{os.getpid()}-0123abcd-b.fits.tmp"
    other_host = tmp_path / f".fitsbind-elsewhere.example-{dead_pid()}-0123abcd-c.fits.tmp"
    unrelated = tmp_path / ".fitsbind-notes.txt"
    for p in (dead, mine, other_host, unrelated):
        p.write_bytes(b"x" * 100)
    with fitsbind.FITS(tmp_path / "new.fits", "w+") as f:
        f.write_image(np.ones(3))
    assert temporaries(tmp_path) == sorted(p.name for p in (mine, other_host, unrelated))
    assert socket.gethostname()   # the host part comes from it


def test_an_old_file_moved_aside_by_a_dead_writer_is_put_back(tmp_path: Path) -> None:
    """A writer killed between moving the old file aside and renaming the new one in leaves
    no file at the target; the next write into the directory puts the old one back."""
    path = tmp_path / "target.fits"
    old = old_file(path)
    pid = dead_pid()
    aside = tmp_path / f".fitsbind-{_atomic._HOST}-{pid}-0123abcd-target.fits.old"
    path.rename(aside)
    (tmp_path / f".fitsbind-{_atomic._HOST}-{pid}-0123abcd-target.fits.tmp").write_bytes(b"new")
    with fitsbind.FITS(tmp_path / "other.fits", "w+") as f:
        f.write_image(np.ones(3))
    assert path.read_bytes() == old and temporaries(tmp_path) == []


def test_a_name_too_long_for_the_target_suffix_still_works(tmp_path: Path) -> None:
    path = tmp_path / ("n" * 240 + ".fits")
    old_file(path)
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.arange(5))
        [temp] = temporaries(tmp_path)
        assert temp.endswith("-.tmp")
    with fitsbind.FITS(path) as f:
        assert f[0].read().tolist() == list(range(5))
    assert temporaries(tmp_path) == []


# -- appends that fail ------------------------------------------------------------------------

def test_a_failed_first_hdu_leaves_an_empty_file_for_the_next(tmp_path: Path) -> None:
    path = tmp_path / "first.fits"
    text = cards(SIMPLE=True, BITPIX=8, NAXIS=1, NAXIS1=5000)
    with fitsbind.FITS(path, "w+") as f:
        with pytest.raises(fitsbind.FITSValueError, match="HDU 0"):
            f.append_hdu(text, [b"12345"])   # 5 bytes of 5000
        assert len(f) == 0
        assert f.append_hdu(text, b"0123456789" * 500) == 0
    with fitsbind.FITS(path) as f:
        assert f[0].read().tobytes() == b"0123456789" * 500


def test_a_failed_append_is_cut_off_without_writing_zeros(tmp_path: Path) -> None:
    path = tmp_path / "cut.fits"
    old = old_file(path)
    header = cards(XTENSION="IMAGE", BITPIX=8, NAXIS=1, NAXIS1=10**7, PCOUNT=0, GCOUNT=1)
    with fitsbind.FITS(path, "r+") as f:
        with pytest.raises(fitsbind.FITSValueError):
            f.append_hdu(header, iter([b"x" * 100, b"y" * (2 * 10**7)]))   # too long
        assert len(f) == 1
    assert path.read_bytes() == old
    assert os.stat(path).st_blocks * 512 < 10**6   # no zeros written in the cut range


def limited(path: Path, growth: int) -> int:
    """A file size limit that lets ``path`` grow by ``growth`` bytes only."""
    return path.stat().st_size + growth


def test_disk_full_image_extend_keeps_the_image(tmp_path: Path, fitsverify) -> None:
    path = tmp_path / "image.fits"
    rng = np.random.default_rng(1)
    data = rng.random((50, 1000), dtype=np.float32)
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(data[:7])
    old = path.read_bytes()
    error = run_limited(f"""
        with fitsbind.FITS({str(path)!r}, "r+") as f:
            f[0].extend(np.random.default_rng(1).random((50, 1000), dtype=np.float32)[7:])
    """, limited(path, 60_000))
    assert error.startswith("FITSError: ") and "image.fits, HDU 0" in error
    assert "File too large" in error and "keeps its old shape (7, 1000)" in error
    assert path.read_bytes() == old
    fitsverify(path)


def test_disk_full_table_append_keeps_the_rows(tmp_path: Path, fitsverify) -> None:
    path = tmp_path / "table.fits"
    rows = {"ID": np.arange(10_000), "X": np.linspace(0, 1, 10_000), "NAME": ["abc"] * 10_000}
    with fitsbind.FITS(path, "w+") as f:
        f.write_table({k: v[:33] for k, v in rows.items()}, extname="T")
    old = path.read_bytes()
    error = run_limited(f"""
        n = 10_000
        with fitsbind.FITS({str(path)!r}, "r+") as f:
            f["T"].append({{"ID": np.arange(n)[33:], "X": np.linspace(0, 1, n)[33:],
                           "NAME": ["abc"] * (n - 33)}})
    """, limited(path, 50_000))
    assert error.startswith("FITSError: ") and "table.fits, HDU 1" in error
    assert "keeps its 33 rows" in error
    assert path.read_bytes() == old
    fitsverify(path)


def test_disk_full_ascii_table_append_keeps_the_rows(tmp_path: Path) -> None:
    """CFITSIO inserts the blank rows of an ASCII table itself; when that fails the header
    keeps the old size, though blank bytes it could write stay past the end of the HDU."""
    path = tmp_path / "ascii.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_table({"ID": np.arange(5), "X": np.arange(5.0)}, ascii=True, extname="T")
    old = path.read_bytes()
    error = run_limited(f"""
        with fitsbind.FITS({str(path)!r}, "r+") as f:
            f["T"].append({{"ID": np.arange(100_000), "X": np.arange(100_000.0)}})
    """, limited(path, 30_000))
    assert "ascii.fits, HDU 1" in error and "error writing" in error
    assert path.read_bytes()[:len(old)] == old
    with fitsbind.FITS(path) as f:
        assert f["T"].read().tolist() == [(i, float(i)) for i in range(5)]


@pytest.mark.parametrize("how", ["write_image", "write_table", "append_hdu"])
def test_disk_full_new_hdu_is_cut_off(tmp_path: Path, how: str, fitsverify) -> None:
    path = tmp_path / "append.fits"
    old = old_file(path)
    header = cards(XTENSION="IMAGE", BITPIX=-64, NAXIS=1, NAXIS1=500_000, PCOUNT=0, GCOUNT=1)
    body = {
        "write_image": "f.write_image(np.ones((500, 1000)))",
        "write_table": "f.write_table({'X': np.ones(500_000)})",
        "append_hdu": f"f.append_hdu({header!r}, np.ones(500_000))",
    }[how]
    error = run_limited(f"""
        with fitsbind.FITS({str(path)!r}, "r+") as f:
            try:
                {body}
            finally:
                assert len(f) == 1
    """, limited(path, 100_000))
    assert "File too large" in error or "refused to grow" in error
    assert path.read_bytes() == old
    fitsverify(path)


def test_disk_full_w_plus_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "target.fits"
    old = old_file(path)
    error = run_limited(f"""
        with fitsbind.FITS({str(path)!r}, "w+") as f:
            f.write_image(np.ones((1000, 1000)))
    """, 1_000_000)
    assert "refused to grow" in error and "target.fits, HDU 0" in error
    assert path.read_bytes() == old and temporaries(tmp_path) == []


def test_a_truncated_file_is_not_opened_for_update(tmp_path):
    """CFITSIO pads the data unit of an HDU it leaves in a writable file: opening a truncated
    file for update would fill the missing bytes with zeros and make it look whole."""
    path = tmp_path / "cut.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.arange(1000, dtype=np.int32))
        f.write_table({"B": np.arange(1000.0)})
    os.truncate(path, os.path.getsize(path) - 4000)
    before = path.read_bytes()
    with pytest.raises(fitsbind.FITSError, match="truncated: HDU 1's data ends at byte"):
        fitsbind.FITS(path, "r+")
    with pytest.raises(fitsbind.FITSError, match="truncated"):
        fitsbind.write_table({"C": np.arange(3)}, path, append=True)
    assert path.read_bytes() == before
    with fitsbind.FITS(path) as f:          # read-only is fine
        assert f[0].read().size == 1000
