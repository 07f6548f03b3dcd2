"""Shared fixtures: files made by tests/fitsgen.py, and the fitsverify oracle."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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
def fitsverify():
    """``check(path)``: assert NASA's fitsverify finds 0 warnings and 0 errors in ``path``."""
    if shutil.which("fitsverify") is None:
        pytest.skip("fitsverify is not installed (Debian package 'fitsverify')")

    def check(path: Path) -> None:
        report = run_fitsverify(path)
        assert "0 warning(s) and 0 error(s)" in report, report

    return check
