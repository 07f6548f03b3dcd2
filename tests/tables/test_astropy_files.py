"""Every FITS file the installed astropy ships, read as a Table and as a QTable by astropy's own
``fits`` format and by fitsbind's ``fitsbind`` format: the same columns (class, dtype, values, masks, units,
display formats, descriptions, Time scale, format and location) and the same ``meta``, with and
without ``astropy_native``.

Each table HDU of a file is one case (``hdu=`` its index); files without a table, and files
fitsbind cannot open, must make both readers raise. Warnings are recorded and not compared:
the two libraries word them differently, and a file's defects may warn in one reader only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# astropy's files and reader are what this module compares with: skipped as a whole without it
pytest.importorskip("astropy")
import astropy
from astropy import units
from astropy.table import QTable, Table
from astropy.time import Time, TimeDelta

import fitsbind.connect  # noqa: F401  (registers the "fitsbind" format)
from fitsbind.hdu.hdulist import fitsopen

ASTROPY_ROOT = Path(astropy.__file__).parent
# what a FITS file's name ends with (lower case), plain or compressed as astropy opens it
_ENDINGS = tuple(f"{ext}{packed}" for ext in (".fits", ".fit", ".fts")
                 for packed in ("", ".gz", ".bz2", ".zip", ".z", ".xz"))
# how close two Time values must be to count as equal: 1 ns, in days
_TIME_TOLERANCE = 1e-9 / 86400
_TABLE_CLASSES = ("TableHDU", "BinTableHDU", "GroupsHDU")

# Differences from astropy kept on purpose: case id -> reason (docs/astropy_tables.md lists them
# for users). Keep this as short as possible.
_TIME_FRAME = ("fitsbind.fitstime applies the FITS time standard's MJDREFI/MJDREFF and TIMEZERO "
               "and takes them out of meta; astropy ignores them (its times are off by the "
               "reference) and leaves them in meta")
DELIBERATE: dict[str, str] = {
    "io/fits/tests/data/chandra_time.fits[1]-native": _TIME_FRAME,
    "io/fits/tests/data/checksum.fits[1]-native": _TIME_FRAME,
    "io/fits/tests/data/checksum_false.fits[1]-native": _TIME_FRAME,
    "io/fits/tests/data/memtest.fits[1]-native": _TIME_FRAME,
}


def _fits_files() -> list[Path]:
    return sorted(path for path in ASTROPY_ROOT.rglob("*")
                  if path.is_file() and path.name.lower().endswith(_ENDINGS))


def _table_hdus(path: Path) -> list[int] | None:
    """Indices of the table HDUs of ``path`` (astropy reads random groups as tables too), by
    fitsbind's reading of the headers; None when fitsbind cannot open the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fitsopen(path) as hdulist:
                return [i for i, hdu in enumerate(hdulist)
                        if type(hdu).__name__ in _TABLE_CLASSES]
    except Exception:  # any failure puts the file among the unreadable
        return None


def _survey() -> tuple[list[tuple[str, int]], list[str]]:
    """(relative path, HDU index) of every table HDU, and the files without a readable table."""
    tables: list[tuple[str, int]] = []
    others: list[str] = []
    for path in _fits_files():
        relative = path.relative_to(ASTROPY_ROOT).as_posix()
        indices = _table_hdus(path)
        if indices:
            tables.extend((relative, index) for index in indices)
        else:
            others.append(relative)
    return tables, others


TABLES, NO_TABLES = _survey()


def _read(path: Path, fmt: str, cls: type[Table] = Table,
          **kwargs: Any) -> tuple[Table | None, BaseException | None]:
    """The ``cls`` (Table or QTable) read by format ``fmt``, or the exception that stopped it;
    warnings are recorded and dropped."""
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            return cls.read(path, format=fmt, **kwargs), None
        except Exception as exc:  # the outcome is what is compared
            return None, exc


# -- comparing -----------------------------------------------------------------------------------

def _same_values(expected: Any, actual: Any) -> bool:
    """Arrays equal cell by cell, NaN equal to NaN; object cells (variable-length arrays)
    compared one by one."""
    if expected is None or actual is None:
        return expected is actual
    expected, actual = np.asarray(expected), np.asarray(actual)
    if expected.shape != actual.shape or expected.dtype.kind != actual.dtype.kind:
        return False
    if expected.dtype.kind == "O":
        return all(_same_values(e, a) if isinstance(e, np.ndarray) else e == a
                   for e, a in zip(expected.ravel(), actual.ravel(), strict=True))
    if expected.dtype.kind in "fc":
        return bool(np.array_equal(expected, actual, equal_nan=True))
    return bool(np.array_equal(expected, actual))


def _time_mask(time: Time) -> np.ndarray:
    return np.broadcast_to(time.mask, time.shape)


def _same_time(expected: Time, actual: Time) -> bool:
    """Times equal to 1 ns (NaN equal to NaN), with the same scale, format, precision, sub-
    formats, location and mask."""
    attributes = ("scale", "format", "shape", "precision", "in_subfmt", "out_subfmt")
    if any(getattr(expected, name) != getattr(actual, name) for name in attributes):
        return False
    if not _same_values(_time_mask(expected), _time_mask(actual)):
        return False
    if (expected.location is None) != (actual.location is None):
        return False
    if expected.location is not None and not _same_values(expected.location.value,
                                                          actual.location.value):
        return False
    gap = (expected.jd1 - actual.jd1) + (expected.jd2 - actual.jd2)
    same_nan = np.isnan(expected.jd1 + expected.jd2) == np.isnan(actual.jd1 + actual.jd2)
    return bool(np.all(same_nan) and np.all(np.isnan(gap) | (np.abs(gap) <= _TIME_TOLERANCE)))


def _mask(column: Any) -> np.ndarray | None:
    mask = getattr(column, "mask", None)
    return None if mask is None else np.asarray(mask)


def _column_differences(name: str, expected: Any, actual: Any) -> list[str]:
    """What differs between two columns of the same name, as readable lines."""
    if type(expected) is not type(actual):
        return [f"{name}: class {type(expected).__name__} != {type(actual).__name__}"]
    problems: list[str] = []
    if isinstance(expected, Time):
        if not _same_time(expected, actual):
            problems.append(f"{name}: Time {expected!r} != {actual!r}")
    else:
        if expected.dtype != actual.dtype:
            problems.append(f"{name}: dtype {expected.dtype} != {actual.dtype}")
        if not _same_values(np.ma.getdata(expected), np.ma.getdata(actual)):
            problems.append(f"{name}: values differ\n{expected!r}\n{actual!r}")
        if not _same_values(_mask(expected), _mask(actual)):
            problems.append(f"{name}: masks {_mask(expected)} != {_mask(actual)}")
        if getattr(expected, "fill_value", None) is not None and not _same_values(
                expected.fill_value, actual.fill_value):
            problems.append(f"{name}: fill_value {expected.fill_value!r} != {actual.fill_value!r}")
        if expected.unit != actual.unit:
            problems.append(f"{name}: unit {expected.unit!r} != {actual.unit!r}")
    for attr in ("format", "description", "meta"):
        mine, theirs = getattr(expected.info, attr), getattr(actual.info, attr)
        if mine != theirs:
            problems.append(f"{name}: info.{attr} {mine!r} != {theirs!r}")
    return problems


def _same_meta_value(expected: Any, actual: Any) -> bool:
    if isinstance(expected, Time) or isinstance(actual, Time):
        return isinstance(expected, Time) and isinstance(actual, Time) and _same_time(expected,
                                                                                       actual)
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, float) and np.isnan(expected):
        return bool(np.isnan(actual))
    if isinstance(expected, (list, tuple)):
        return len(expected) == len(actual) and all(
            _same_meta_value(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, dict):
        return list(expected) == list(actual) and all(
            _same_meta_value(expected[key], actual[key]) for key in expected)
    return bool(expected == actual)


def _meta_differences(expected: dict, actual: dict) -> list[str]:
    if type(expected) is not type(actual):
        return [f"meta class {type(expected).__name__} != {type(actual).__name__}"]
    if list(expected) != list(actual):
        return [f"meta keys {list(expected)} != {list(actual)}"]
    return [f"meta[{key!r}] {expected[key]!r} != {actual[key]!r}"
            for key in expected if not _same_meta_value(expected[key], actual[key])]


def table_differences(expected: Table, actual: Table) -> list[str]:
    """Every difference between astropy's reading (``expected``) and fitsbind's."""
    if type(expected) is not type(actual):
        return [f"table class {type(expected).__name__} != {type(actual).__name__}"]
    if expected.colnames != actual.colnames:
        return [f"columns {expected.colnames} != {actual.colnames}"]
    problems = [problem for name in expected.colnames
                for problem in _column_differences(name, expected[name], actual[name])]
    return problems + _meta_differences(expected.meta, actual.meta)


# -- the cases -----------------------------------------------------------------------------------

def _cases() -> list[Any]:
    """(relative path, HDU index, astropy_native) of every table HDU, with or without
    ``astropy_native``; a deliberate difference is a strict xfail."""
    cases = []
    for relative, index in TABLES:
        for native, kind in ((False, "plain"), (True, "native")):
            case_id = f"{relative}[{index}]-{kind}"
            reason = DELIBERATE.get(case_id)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(relative, index, native, marks=marks, id=case_id))
    return cases


def _expect_same_outcome(read: Callable[[str], tuple[Table | None, BaseException | None]]) -> None:
    """astropy's and fitsbind's readings agree: both fail, or both give equal tables."""
    expected, astropy_error = read("fits")
    actual, fitsbind_error = read("fitsbind")
    if astropy_error is not None:
        assert fitsbind_error is not None, f"astropy raised {astropy_error!r}; fitsbind read it"
        return
    assert fitsbind_error is None, f"astropy read it; fitsbind raised {fitsbind_error!r}"
    assert not table_differences(expected, actual), "\n".join(table_differences(expected,
                                                                                actual))


def test_files_are_found() -> None:
    """The survey saw astropy's test data and found tables in it (a broken glob would make
    every other test here vanish)."""
    assert len(TABLES) >= 20, TABLES
    assert any(relative.endswith(".gz") for relative, _ in TABLES), TABLES


@pytest.mark.parametrize("cls", [Table, QTable], ids=["Table", "QTable"])
@pytest.mark.parametrize(("relative", "index", "astropy_native"), _cases())
def test_table_hdu_reads_as_in_astropy(relative: str, index: int, astropy_native: bool,
                                       cls: type[Table]) -> None:
    path = ASTROPY_ROOT / relative
    _expect_same_outcome(lambda fmt: _read(path, fmt, cls, hdu=index,
                                           astropy_native=astropy_native))


@pytest.mark.parametrize("relative", NO_TABLES)
def test_file_without_table_fails_in_both(relative: str) -> None:
    """A file with no table, or one fitsbind cannot open: astropy's reader fails on it, and so
    does fitsbind's (any exception, no crash)."""
    path = ASTROPY_ROOT / relative
    _, astropy_error = _read(path, "fits")
    _, fitsbind_error = _read(path, "fitsbind")
    assert astropy_error is not None, f"astropy read a table from {relative}"
    assert fitsbind_error is not None, f"fitsbind read a table from {relative}"


def test_groups_without_data_is_a_value_error() -> None:
    """A random-groups HDU with NAXIS1 = 0 has no array to read columns from: a ValueError
    saying so (astropy fails there too, on an attribute of None)."""
    path = ASTROPY_ROOT / "io" / "fits" / "tests" / "data" / "invalid" / "group_invalid.fits"
    if not path.exists():
        pytest.skip(f"this astropy does not ship {path.name}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="no data array"):
            Table.read(path, format="fitsbind", hdu=0)


def _with_time_frame(table: Table) -> Table:
    """astropy's native reading with the time frame keywords it ignores applied as the FITS
    time standard says: MJDREFI + MJDREFF (days; only where MJDREF is absent) and TIMEZERO (in
    TIMEUNIT, seconds by default) added to every Time column, and the three taken out of
    meta."""
    frame = table.meta
    shift = TimeDelta(frame.get("TIMEZERO", 0.0) * units.Unit(frame.get("TIMEUNIT", "s")))
    if "MJDREF" not in frame and "MJDREFI" in frame:
        shift += TimeDelta(frame["MJDREFI"], frame.get("MJDREFF", 0.0), format="jd")
    for name in table.colnames:
        if isinstance(table[name], Time):
            table[name] = table[name] + shift
    for keyword in ("MJDREFI", "MJDREFF", "TIMEZERO"):
        frame.pop(keyword, None)
    return table


@pytest.mark.parametrize("cls", [Table, QTable], ids=["Table", "QTable"])
@pytest.mark.parametrize("case_id", sorted(DELIBERATE))
def test_deliberate_difference_is_only_the_time_frame(case_id: str, cls: type[Table]) -> None:
    """Each deliberate difference above is exactly the time frame keywords astropy ignores:
    applied to astropy's reading, the two readings agree."""
    relative, index = case_id.removesuffix("]-native").rsplit("[", 1)
    read = {fmt: _read(ASTROPY_ROOT / relative, fmt, cls, hdu=int(index), astropy_native=True)
            for fmt in ("fits", "fitsbind")}
    (expected, _), (actual, _) = read["fits"], read["fitsbind"]
    differences = table_differences(_with_time_frame(expected), actual)
    assert not differences, "\n".join(differences)
