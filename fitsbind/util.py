"""Small utilities of the astropy-compatible interface."""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["get_testdata_filepath"]

_TESTDATA = Path(__file__).resolve().parent / "testdata"


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer (a logical, such as a GCOUNT = T, is not one, though
    Python counts it as an int)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _get_array_mmap(array: Any) -> mmap.mmap | None:
    """The ``mmap.mmap`` at the bottom of ``array``'s chain of bases (None if the array does
    not view a memory map), e.g. to call ``madvise`` on a memory-mapped ``.data``."""
    if isinstance(array, mmap.mmap):
        return array
    base = getattr(array, "base", None)
    while base is not None:
        if isinstance(base, mmap.mmap):
            return base
        base = getattr(base, "base", None)
    return None


def get_testdata_filepath(filename: str) -> str:
    """Path of one of the small example files shipped in ``fitsbind/testdata`` (e.g.
    ``"btable.fits"``, ``"compressed_image.fits"``, ``"table.fits"``, ``"test0.fits"``)."""
    path = _TESTDATA / filename
    if not path.is_file():
        available = ", ".join(sorted(p.name for p in _TESTDATA.glob("*.fits")))
        raise FileNotFoundError(f"no test data file {filename!r} (available: {available})")
    return str(path)
