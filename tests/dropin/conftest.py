"""The drop-in's tests run one body against astropy.io.fits and fitsbind: the ``fits`` fixture."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest


@pytest.fixture(scope="module", params=["astropy", "fitsbind"])
def fits(request: pytest.FixtureRequest) -> ModuleType:
    """The module under test: ``astropy.io.fits`` or ``fitsbind`` (never skipped: a missing
    name fails)."""
    return importlib.import_module("astropy.io.fits" if request.param == "astropy" else "fitsbind")
