"""HDUList.writeto writes a new file beside the target and renames it into place: a writer
SIGKILLed at a random moment (seeded) leaves the old file or the complete new one, and its
temporary file goes at the next write into the directory."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
from children import Killer

import fitsbind

TRIALS = 20

# a primary, a 32 MiB image and 40 small tables, written over an existing file
_WRITETO = """
def hdus():
    rng = np.random.default_rng(11)
    image = rng.random((2048, 4096), dtype=np.float32)
    tables = [fitsbind.BinTableHDU.from_columns(
        [fitsbind.Column("X", "E", array=rng.random(500, dtype=np.float32))], name=f"T{i}")
        for i in range(40)]
    return fitsbind.HDUList([fitsbind.PrimaryHDU(), fitsbind.ImageHDU(image, name="BIG"),
                             *tables])

def work(path):
    hdus().writeto(path, overwrite=True)
"""


def temporaries(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(".fitsbind-")]


def test_killed_writeto_leaves_the_old_file_or_the_new_one(tmp_path: Path) -> None:
    scope: dict = {"np": np, "fitsbind": fitsbind}
    exec(_WRITETO, scope)
    expected = scope["hdus"]()
    path = tmp_path / "target.fits"
    fitsbind.PrimaryHDU(np.arange(6)).writeto(path)
    old = path.read_bytes()
    outcomes = {"old": 0, "new": 0}
    with Killer(_WRITETO) as killer:
        killer.run(str(tmp_path / "timing.fits"))
        _, duration = killer.run(str(tmp_path / "timing.fits"))
        rng = random.Random(4)
        for _ in range(TRIALS):
            killer.run(str(path), kill_after=rng.uniform(0, duration))
            fitsbind.PrimaryHDU(np.zeros(1)).writeto(tmp_path / "next.fits", overwrite=True)
            assert temporaries(tmp_path) == []
            if path.read_bytes() == old:
                outcomes["old"] += 1
                continue
            with fitsbind.open(path) as hdul:
                assert len(hdul) == len(expected)
                np.testing.assert_array_equal(hdul["BIG"].data, expected["BIG"].data)
                for i in range(2, len(expected)):
                    np.testing.assert_array_equal(hdul[i].data["X"], expected[i].data["X"])
            outcomes["new"] += 1
            path.write_bytes(old)
    assert outcomes["old"] and sum(outcomes.values()) == TRIALS


def test_writeto_keeps_the_old_file_when_a_payload_fails(tmp_path: Path,
                                                          monkeypatch) -> None:
    path = tmp_path / "target.fits"
    fitsbind.PrimaryHDU(np.arange(6)).writeto(path)
    old = path.read_bytes()
    hdul = fitsbind.HDUList([fitsbind.PrimaryHDU(np.ones(10)), fitsbind.ImageHDU(np.ones(5))])

    def fail() -> None:
        raise RuntimeError("payload failed")

    monkeypatch.setattr(hdul[1], "_payload", fail)
    with pytest.raises(RuntimeError, match="payload failed"):
        hdul.writeto(path, overwrite=True)
    assert path.read_bytes() == old and temporaries(tmp_path) == []


def test_writeto_gzip_keeps_permissions_and_leaves_no_temporaries(tmp_path: Path) -> None:
    path = tmp_path / "target.fits.gz"
    fitsbind.PrimaryHDU(np.arange(6)).writeto(path)
    os.chmod(path, 0o604)
    fitsbind.PrimaryHDU(np.arange(8)).writeto(path, overwrite=True)
    assert path.stat().st_mode & 0o777 == 0o604 and temporaries(tmp_path) == []
    assert fitsbind.getdata(path).tolist() == list(range(8))
