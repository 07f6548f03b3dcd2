"""The drop-in's open file over its life: a failed open holds nothing, a forgotten one is closed
with one ResourceWarning (fitsbind only: astropy's come from its Python file objects)."""

from __future__ import annotations

import bz2
import gc
import io
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits as afits

import fitsbind


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.fits"
    afits.HDUList([afits.PrimaryHDU(np.arange(6, dtype=np.int16))]).writeto(path)
    return path


def temp_files() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("fitsbind-*")}


def test_a_failed_open_holds_nothing(small: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    packed = tmp_path / "small.fits.bz2"
    packed.write_bytes(bz2.compress(small.read_bytes()))
    # a temp folder of this test's own: other processes' files come and go in the shared one
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    before = temp_files()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(OSError, match="not supported with bzip2 files"):
            fitsbind.open(packed, mode="update")
        with pytest.raises(OSError, match="not supported with bzip2 files"):
            fitsbind.open(io.BytesIO(packed.read_bytes()), mode="update")
        # an archive of two members fails while its bytes are being copied out
        with zipfile.ZipFile(tmp_path / "two.zip", "w") as archive:
            archive.write(small, "a.fits")
            archive.write(small, "b.fits")
        with zipfile.ZipFile(tmp_path / "two.zip") as archive, \
                pytest.raises(OSError, match="must hold one file"):
            fitsbind.open(archive)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert temp_files() == before == set()


def test_a_forgotten_file_object_in_update_mode_gets_its_bytes_back(small: Path) -> None:
    buffer = io.BytesIO(small.read_bytes())
    hdul = fitsbind.open(buffer, mode="update")
    hdul[0].data[0] = 99
    with pytest.warns(ResourceWarning) as caught:
        del hdul
        gc.collect()
    assert len([w for w in caught if issubclass(w.category, ResourceWarning)]) == 1
    buffer.seek(0)
    with afits.open(buffer) as hdul:
        assert hdul[0].data[0] == 99     # the memory map was shared: the change is in the bytes
