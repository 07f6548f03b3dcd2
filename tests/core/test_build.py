"""What was compiled in: versions and the CFITSIO source."""

import os
import re
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

import fitsbind
from fitsbind import _fitsfile


def test_version_matches_metadata():
    assert fitsbind.__version__ == version("fitsbind")


def test_cfitsio_version_format():
    assert re.fullmatch(r"\d+\.\d+\.\d+", fitsbind.cfitsio_version())


def test_header_and_library_agree():
    major, minor, _ = (int(p) for p in fitsbind.cfitsio_version().split("."))
    assert _fitsfile.cfitsio_library_version() == pytest.approx(major + minor / 100, abs=1e-3)


def test_source_is_known():
    assert fitsbind.cfitsio_source() in ("vendored", "system")


@pytest.mark.skipif(fitsbind.cfitsio_source() != "vendored", reason="built against a system CFITSIO")
def test_vendored_version_is_the_pinned_one():
    lock = (Path(__file__).resolve().parents[2] / "cfitsio-vendor" / "cfitsio.lock").read_text()
    pinned = re.search(r'^version = "([^"]+)"', lock, re.M).group(1)
    assert fitsbind.cfitsio_version() == pinned


@pytest.mark.skipif(fitsbind.cfitsio_source() != "system", reason="built against the vendored CFITSIO")
def test_system_version_is_pkg_configs():
    if shutil.which("pkg-config") is None:
        pytest.skip("pkg-config is not installed")
    found = subprocess.run(["pkg-config", "--modversion", "cfitsio"], capture_output=True, text=True)
    assert fitsbind.cfitsio_version() == found.stdout.strip()


def test_expected_source():
    """CI's system-CFITSIO step sets FITSBIND_EXPECT_CFITSIO=system to prove which build ran."""
    expected = os.environ.get("FITSBIND_EXPECT_CFITSIO")
    if expected is None:
        pytest.skip("FITSBIND_EXPECT_CFITSIO not set")
    assert fitsbind.cfitsio_source() == expected
