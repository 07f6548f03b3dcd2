"""The documentation's examples are doctests; each file runs in an empty directory."""

import pytest

# Pages whose examples use astropy, which is optional: they skip without it, so the other pages
# also run in CI's environment that has numpy alone.
NEEDS_ASTROPY = {"astropy_tables.md"}


@pytest.fixture(autouse=True)
def _empty_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _optional_packages(request):
    if request.node.path.name in NEEDS_ASTROPY:
        pytest.importorskip("astropy")
