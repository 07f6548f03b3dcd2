"""Shared fixtures: files made by tests/fitsgen.py, the fitsverify and astropy oracles, and the
memory-map check."""

from __future__ import annotations

import mmap
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fitsgen


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A fresh copy of the example file (5 HDUs, checksums), safe to modify."""
    return fitsgen.write_example(tmp_path / "example.fits")


def run_fitsverify(path: Path) -> str:
    result = subprocess.run(["fitsverify", str(path)], capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


@pytest.fixture
def fitsverify_report() -> Callable[[Path], str]:
    """``report(path)``: NASA's fitsverify's whole report on ``path``, for checks that allow
    some of its warnings."""
    if shutil.which("fitsverify") is None:
        pytest.skip("fitsverify is not installed (Debian package 'fitsverify')")
    return run_fitsverify


@pytest.fixture
def fitsverify():
    """``check(path)``: assert NASA's fitsverify finds 0 warnings and 0 errors in ``path``."""
    if shutil.which("fitsverify") is None:
        pytest.skip("fitsverify is not installed (Debian package 'fitsverify')")

    def check(path: Path) -> None:
        report = run_fitsverify(path)
        assert "0 warning(s) and 0 error(s)" in report, report

    return check


@pytest.fixture
def funpack() -> Callable[[Path, Path], None]:
    """``unpack(path, out)``: CFITSIO's funpack writes ``path`` decompressed to ``out``."""
    if shutil.which("funpack") is None:
        pytest.skip("funpack is not installed (Debian package libcfitsio-bin)")

    def unpack(path: Path, out: Path) -> None:
        subprocess.run(["funpack", "-O", str(out), str(path)], check=True, capture_output=True)

    return unpack


@pytest.fixture
def afits():
    """astropy.io.fits, the oracle some tests compare with. astropy is optional: those tests skip
    without it, so the rest run in CI's environment that has numpy alone."""
    return pytest.importorskip("astropy.io.fits")


def memmap_backed(array: np.ndarray) -> bool:
    """True when ``array`` (or an array it views) is backed by a memory map of the file."""
    base = array
    while base is not None:
        if isinstance(base, (np.memmap, mmap.mmap)):
            return True
        base = getattr(base, "base", None)
    return False


@pytest.fixture
def is_memmap() -> Callable[[np.ndarray], bool]:
    """``is_memmap(array)``: whether the array's memory is a map of the file (see :func:`memmap_backed`)."""
    return memmap_backed
