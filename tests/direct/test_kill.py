"""Writers SIGKILLed at random moments (seeded): afterwards the file is the old one or a
complete, truthful new one, and the next write into the directory leaves no temporary files.

Each test first lets two writes finish to learn how long one takes (the first warms the
page cache), then kills 20 writes at moments spread over that time."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from children import Killer

import fitsbind

TRIALS = 20

# the w+ writer: a small primary, a 32 MiB image computed block by block, a table
_W_PLUS = """
def work(path):
    rng = np.random.default_rng(7)
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.arange(10, dtype=np.int16))
        hdu = f.create_image_hdu(np.float32, (2048, 4096), extname="BIG")
        for i in range(0, 2048, 256):
            hdu[i:i + 256] = rng.random((256, 4096), dtype=np.float32)
        f.write_table({"ID": np.arange(1000), "X": rng.random(1000)}, extname="T")
"""


def expected_w_plus() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    big = np.concatenate([rng.random((256, 4096), dtype=np.float32) for _ in range(8)])
    return big, rng.random(1000)


def temporaries(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(".fitsbind-")]


def next_write(directory: Path) -> None:
    with fitsbind.FITS(directory / "next.fits", "w+") as f:
        f.write_image(np.zeros(1))


def delays(seed: int, killer: Killer, arg: str) -> list[float]:
    """Seeded kill moments over the time ``work(arg)`` takes (measured: run twice)."""
    killer.run(arg)
    _, duration = killer.run(arg)
    rng = random.Random(seed)
    return [rng.uniform(0, duration) for _ in range(TRIALS)]


def test_killed_w_plus_leaves_the_old_file_or_the_new_one(tmp_path: Path) -> None:
    path = tmp_path / "target.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.arange(6, dtype=np.int32))
    old = path.read_bytes()
    big, column = expected_w_plus()
    outcomes = {"old": 0, "new": 0}
    with Killer(_W_PLUS) as killer:
        for delay in delays(1, killer, str(tmp_path / "timing.fits")):
            killer.run(str(path), kill_after=delay)
            next_write(tmp_path)
            assert temporaries(tmp_path) == []
            if path.read_bytes() == old:
                outcomes["old"] += 1
                continue
            with fitsbind.FITS(path) as f:
                assert len(f) == 3
                assert f[0].read().tolist() == list(range(10))
                np.testing.assert_array_equal(f["BIG"].read(), big)
                np.testing.assert_array_equal(f["T"].read()["X"], column)
            outcomes["new"] += 1
            # the next trial replaces the old file again
            path.write_bytes(old)
    assert outcomes["old"] and sum(outcomes.values()) == TRIALS


# the image extender: 16 blocks of 256 x 2048 float32 (2 MiB each), computed as they go
_EXTEND_IMAGE = """
def work(path):
    rng = np.random.default_rng(3)
    with fitsbind.FITS(path, "r+") as f:
        for _ in range(16):
            f[0].extend(rng.random((256, 2048), dtype=np.float32))
"""


def test_killed_image_extend_claims_only_written_planes(tmp_path: Path) -> None:
    path = tmp_path / "image.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.create_image_hdu(np.float32, (0, 2048))
    base = path.read_bytes()
    rng = np.random.default_rng(3)
    expected = np.concatenate([rng.random((256, 2048), dtype=np.float32) for _ in range(16)])
    lengths = set()
    with Killer(_EXTEND_IMAGE) as killer:
        for delay in delays(2, killer, str(path)):
            path.write_bytes(base)
            killer.run(str(path), kill_after=delay)
            with fitsbind.FITS(path) as f:
                image = f[0].read()
            n = image.shape[0]
            assert n % 256 == 0 and image.shape[1:] == (2048,)
            # every plane the header claims holds what was written: no zero tail
            np.testing.assert_array_equal(image, expected[:n])
            lengths.add(n)
    next_write(tmp_path)
    assert temporaries(tmp_path) == []
    assert len(lengths) > 2   # the kills landed at different stages


_APPEND_ROWS = """
def rows(rng, n):
    return {"ID": rng.integers(1, 2**40, n), "X": rng.random(n),
            "V": rng.random((n, 3)).astype(np.float32), "NAME": rng.choice(["ab", "cdef"], n)}

def work(path):
    rng = np.random.default_rng(5)
    with fitsbind.FITS(path, "r+") as f:
        for _ in range(16):
            f["T"].append(rows(rng, 20_000))
"""


def test_killed_table_append_claims_only_written_rows(tmp_path: Path) -> None:
    path = tmp_path / "table.fits"
    scope: dict = {"np": np}
    exec(_APPEND_ROWS, scope)
    with fitsbind.FITS(path, "w+") as f:
        f.create_table_hdu([("ID", "K"), ("X", "D"), ("V", "3E"), ("NAME", "4A")], 0,
                           extname="T")
    base = path.read_bytes()
    rng = np.random.default_rng(5)
    blocks = [scope["rows"](rng, 20_000) for _ in range(16)]
    expected = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}
    counts = set()
    with Killer(_APPEND_ROWS) as killer:
        for delay in delays(3, killer, str(path)):
            path.write_bytes(base)
            killer.run(str(path), kill_after=delay)
            with fitsbind.FITS(path) as f:
                table = f["T"].read()
            n = len(table)
            assert n % 20_000 == 0
            for name in ("ID", "X", "V"):
                np.testing.assert_array_equal(table[name], expected[name][:n])
            assert table["NAME"].astype(str).tolist() == expected["NAME"][:n].tolist()
            counts.add(n)
    next_write(tmp_path)
    assert temporaries(tmp_path) == []
    assert len(counts) > 2
