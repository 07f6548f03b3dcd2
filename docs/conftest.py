"""The documentation's examples are doctests; each file runs in an empty directory."""

import pytest


@pytest.fixture(autouse=True)
def _empty_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
