"""The astropy-suite runner (tools/astropy_suite.py, tools/fitssuite/): how it rewrites astropy's
imports, which names fall back to astropy's objects, and how it reads the known differences.
The run itself is a CI step of its own (.ci/run)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from fitssuite import run, shim
from fitssuite.rewrite import rewrite_source

import fitsbind


def test_imports_are_rewritten_name_by_name_on_the_same_lines() -> None:
    source = textwrap.dedent('''\
        """Doc."""
        from astropy.io import fits
        from astropy.io.fits.column import (
            Column,
            _parse_tformat as parse,
        )
        from astropy.io.fits.tests.test_table import _assert_attr_col
        import astropy.io.fits.header as header_mod
        from astropy.utils.exceptions import AstropyUserWarning


        def f():
            from astropy.io.fits import Header
            return Header
        ''')
    out = rewrite_source(source)
    ast.parse(out)
    lines = out.splitlines()
    assert len(lines) == len(source.splitlines())
    assert lines[1] == "from . import _fitsbind_shim; fits = _fitsbind_shim.module('')"
    assert lines[2] == ("from . import _fitsbind_shim; Column = _fitsbind_shim.name('column', 'Column'); "
                        "parse = _fitsbind_shim.name('column', '_parse_tformat')")
    assert lines[3:6] == ["", "", ""]
    # astropy's shared test helpers and the rest of astropy stay as they are
    assert lines[6] == "from astropy.io.fits.tests.test_table import _assert_attr_col"
    assert lines[7] == "from . import _fitsbind_shim; header_mod = _fitsbind_shim.module('header')"
    assert lines[8] == "from astropy.utils.exceptions import AstropyUserWarning"
    assert lines[12] == "    from . import _fitsbind_shim; Header = _fitsbind_shim.name('', 'Header')"


def test_public_names_resolve_to_fitsbind() -> None:
    assert shim.name("", "HDUList") is fitsbind.HDUList
    assert shim.name("header", "Header") is fitsbind.header.Header
    fits = shim.module("")
    assert fits.open is fitsbind.open
    assert fits.hdu.hdulist.HDUList is fitsbind.HDUList


def test_a_public_name_fitsbind_lacks_fails_where_used() -> None:
    missing = shim.name("", "NoSuchHDU")
    assert isinstance(missing, shim.Missing)
    with pytest.raises(ImportError, match=r"fitsbind has no astropy\.io\.fits\.NoSuchHDU"):
        missing()
    with pytest.raises(ImportError):
        class Sub(missing):  # type: ignore[misc,valid-type]
            pass
    with pytest.raises(AttributeError, match="fitsbind has no"):
        shim.module("").NoSuchHDU  # noqa: B018


def test_only_private_helpers_fall_back_to_astropy() -> None:
    pytest.importorskip("astropy")
    import importlib

    afile = importlib.import_module("astropy.io.fits.file")
    # a private module fitsbind does not have
    assert shim.name("file", "_File") is afile._File
    assert shim.module("").file is afile
    # a private name in a module fitsbind has
    aheader = importlib.import_module("astropy.io.fits.header")
    assert shim.name("header", "_DelayedHeader") is aheader._DelayedHeader
    # a public name of a public module never does
    assert isinstance(shim.name("header", "NoSuchPublicThing"), shim.Missing)


def test_attribute_writes_reach_fitsbind(monkeypatch: pytest.MonkeyPatch) -> None:
    fits = shim.module("")
    monkeypatch.setattr(fits.conf, "use_memmap", False)
    assert fitsbind.conf.use_memmap is False
    monkeypatch.setattr(fits.util, "_fitsbind_suite_probe", 1, raising=False)
    assert fitsbind.util._fitsbind_suite_probe == 1


def test_known_differences_need_a_reason(tmp_path: Path) -> None:
    good = tmp_path / "known.txt"
    good.write_text("# comment\n\npkg/test_a.py::T::test_x[a, b] # fitsbind refuses this on purpose\n")
    assert run.read_known(good) == {"pkg/test_a.py::T::test_x[a, b]": "fitsbind refuses this on purpose"}
    bad = tmp_path / "bad.txt"
    bad.write_text("pkg/test_a.py::T::test_x\n")
    with pytest.raises(ValueError, match=r"bad\.txt:1"):
        run.read_known(bad)


def test_the_shipped_known_differences_parse() -> None:
    known = run.read_known(run.KNOWN)
    assert all(test_id.startswith("fitsbind_astropy_suite/") for test_id in known)


def test_results_resume_after_a_crash(tmp_path: Path) -> None:
    records = tmp_path / "r.jsonl"
    records.write_text("\n".join([
        '{"id": "a", "when": "start", "outcome": "started"}',
        '{"id": "a", "when": "setup", "outcome": "passed"}',
        '{"id": "a", "when": "call", "outcome": "passed"}',
        '{"id": "a", "when": "teardown", "outcome": "passed"}',
        '{"id": "s", "when": "start", "outcome": "started"}',
        '{"id": "s", "when": "setup", "outcome": "skipped"}',
        '{"id": "s", "when": "teardown", "outcome": "passed"}',
        '{"id": "f", "when": "start", "outcome": "started"}',
        '{"id": "f", "when": "setup", "outcome": "passed"}',
        '{"id": "f", "when": "call", "outcome": "failed", "error": "boom"}',
        '{"id": "f", "when": "teardown", "outcome": "passed"}',
        '{"id": "c", "when": "start", "outcome": "started"}',
        '{"id": "c", "when": "setup", "outcome": "passed"}',
    ]) + "\n")
    result = run.Result()
    assert run._read_results(records, result) == "c"
    assert result.outcome == {"a": "passed", "s": "skipped", "f": "failed"}
    assert result.error == {"f": "boom"}
