"""Every FITS file astropy ships for its own io.fits tests, read by astropy and by the library under
test (astropy itself or fitsbind, the ``fits`` fixture): the same HDUs, header cards, data arrays,
warnings and errors.

Each file is read completely (every header card, every data array, every table field) once by
each library, recording what happened at each step; the two records must agree. A step astropy
cannot do (an exception) must fail the same way in the library under test, and the warnings each
library emits while reading must carry the same messages.
"""

from __future__ import annotations

import copy
import glob
import math
import os
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import astropy
import numpy as np
import pytest
from astropy.io import fits as afits

FITS_DIR = os.path.join(os.path.dirname(astropy.__file__), "io", "fits")
SEARCHED = [
    os.path.join(FITS_DIR, "tests", "data"),
    os.path.join(FITS_DIR, "tests", "data", "invalid"),
    os.path.join(FITS_DIR, "hdu", "compressed", "tests", "data"),
]
# lzw.fits.Z is left out on purpose: whether astropy reads it depends on the optional package
# uncompresspy, not on the file.
FILES = sorted(
    path
    for folder in SEARCHED
    for pattern in ("*.fits", "*.fits.gz")
    for path in glob.glob(os.path.join(folder, pattern))
)

# Files astropy reads in a way that cannot be matched, with the reason. Every entry must be
# verified by hand against astropy's behaviour; none is needed so far.
XFAIL: dict[str, str] = {}

# exceptions are compared by the closest of these bases when the classes' names differ
ERROR_BASES = (KeyError, IndexError, FileNotFoundError, OSError, ValueError, TypeError)


@dataclass
class Reading:
    """What one library made of one file: outcomes of each step, values read, warnings emitted."""

    outcomes: dict[str, str] = field(default_factory=dict)  # step -> "ok" or exception class name
    errors: dict[str, type] = field(default_factory=dict)  # step -> exception class
    info: list[tuple] | None = None
    hdu_classes: list[str] = field(default_factory=list)
    headers: list[list[tuple[str, Any, str, str]]] = field(default_factory=list)
    data: list[dict[str, Any]] = field(default_factory=list)
    warnings: set[str] = field(default_factory=set)


def fields_of(data) -> dict[str, Any]:
    """A detached copy of an HDU's data: its class, dtype and every array a user can get from it."""
    if data is None:
        return {"class": "NoneType"}
    # the issue asks for a real numpy.memmap where astropy gives an ndarray viewing its mmap
    kind = "ndarray" if type(data) is np.memmap else type(data).__name__
    result: dict[str, Any] = {"class": kind, "dtype": data.dtype, "shape": data.shape}
    if hasattr(data, "parnames"):  # random groups: parameters by name, then the group arrays
        result["parnames"] = list(data.parnames)
        for name in data.parnames:
            result[f"par {name}"] = np.array(data.par(name))
        result["groups"] = np.array(data.data)
    elif data.dtype.names:
        for name in data.dtype.names:
            result[f"field {name}"] = copy.deepcopy(np.asarray(data[name]))
    else:
        result["array"] = np.array(data)
    return result


def read_everything(fits: ModuleType, path: str) -> Reading:
    """Open ``path`` with ``fits`` and touch every header card and data array, recording each step."""
    reading = Reading()

    def step(name: str, action):
        try:
            value = action()
        except Exception as exc:  # the exception itself is the observation
            reading.outcomes[name] = type(exc).__name__
            reading.errors[name] = type(exc)
            return None
        reading.outcomes[name] = "ok"
        return value

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        hdul = step("open", lambda: fits.open(path))
        if hdul is not None:
            with hdul:
                reading.info = step("info", lambda: hdul.info(output=False))
                for index, hdu in enumerate(hdul):
                    reading.hdu_classes.append(type(hdu).__name__)
                    cards = step(
                        f"header {index}",
                        lambda hdu=hdu: [(c.keyword, c.value, c.comment, str(c)) for c in hdu.header.cards],
                    )
                    reading.headers.append(cards)
                    reading.data.append(step(f"data {index}", lambda hdu=hdu: fields_of(hdu.data)))
    reading.warnings = {str(w.message) for w in record if issubclass(w.category, UserWarning)}
    return reading


def same_value(a: Any, b: Any) -> bool:
    """Header values equal, with their Python types (True is not 1), NaN equal to NaN."""
    if type(a).__name__ != type(b).__name__:
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, complex):
        return same_value(a.real, b.real) and same_value(a.imag, b.imag)
    if type(a).__name__ == "Undefined":
        return True
    return a == b


def assert_same_array(actual: Any, expected: Any, what: str) -> None:
    """Equal dtype, shape and values; object arrays (variable-length columns) element by element."""
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if expected.dtype == object:
        for i, (x, y) in enumerate(zip(actual.ravel(), expected.ravel())):
            assert_same_array(np.asarray(x), np.asarray(y), f"{what}[{i}]")
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=what, strict=True)


def same_error(actual: type, expected: type) -> bool:
    """The same exception class by name, or both under the same documented base class."""
    if actual.__name__ == expected.__name__:
        return True
    return any(issubclass(expected, base) and issubclass(actual, base) for base in ERROR_BASES)


def file_params() -> list:
    params = []
    for path in FILES:
        name = os.path.relpath(path, FITS_DIR)
        marks = [pytest.mark.xfail(reason=XFAIL[name], strict=True)] if name in XFAIL else []
        params.append(pytest.param(path, id=name, marks=marks))
    return params


def test_files_found():
    names = {os.path.basename(path) for path in FILES}
    assert {"random_groups.fits", "comp.fits", "group_invalid.fits", "m13_rice.fits", "tdim.fits"} <= names
    assert len(FILES) >= 40


def assert_same_reading(actual: Reading, expected: Reading) -> None:
    """Assert that the library's reading of a file matches astropy's, step by step."""
    assert actual.outcomes.keys() == expected.outcomes.keys()
    for step_name, outcome in expected.outcomes.items():
        got = actual.outcomes[step_name]
        if outcome == "ok":
            assert got == "ok", f"{step_name}: astropy succeeds, the library raises {got}"
        else:
            assert step_name in actual.errors, f"{step_name}: astropy raises {outcome}, the library does not"
            assert same_error(actual.errors[step_name], expected.errors[step_name]), (
                f"{step_name}: astropy raises {outcome}, the library {got}"
            )

    assert actual.hdu_classes == expected.hdu_classes
    assert actual.info == expected.info

    for index, (got, want) in enumerate(zip(actual.headers, expected.headers)):
        if want is None:
            continue
        assert [c[0] for c in got] == [c[0] for c in want], f"HDU {index}: keywords differ"
        for (keyword, value, comment, image), (_, want_value, want_comment, want_image) in zip(got, want):
            where = f"HDU {index} card {keyword!r}"
            assert same_value(value, want_value), f"{where}: value {value!r} != {want_value!r}"
            assert comment == want_comment, f"{where}: comment {comment!r} != {want_comment!r}"
            assert image == want_image, f"{where}: card image differs"

    for index, (got, want) in enumerate(zip(actual.data, expected.data)):
        if want is None:
            continue
        assert got.keys() == want.keys(), f"HDU {index}: data exposes {sorted(got)} not {sorted(want)}"
        for key, value in want.items():
            where = f"HDU {index} {key}"
            if isinstance(value, np.ndarray):
                assert_same_array(got[key], value, where)
            else:
                assert got[key] == value, f"{where}: {got[key]!r} != {value!r}"

    assert actual.warnings == expected.warnings


@pytest.mark.parametrize("path", file_params())
def test_same_reading_as_astropy(fits, path):
    assert_same_reading(read_everything(fits, path), read_everything(afits, path))
