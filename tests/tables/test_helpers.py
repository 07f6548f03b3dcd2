"""The astropy-free helpers of fitsbind/tables/: TDISP conversion, null masks, time keywords."""

from __future__ import annotations

import numpy as np
import pytest

from fitsbind.tables.masking import null_fill_value, null_mask
from fitsbind.tables.tdisp import parse_tdisp, python_to_tdisp, tdisp_to_python
from fitsbind.tables.timekeys import (
    is_spatial_ctype,
    is_time_column_keyword,
    linear_axes,
    reference_time,
    split_time_keywords,
)


@pytest.mark.parametrize(("tdisp", "parts", "python"), [
    ("F8.3", ("F", "8", "3", None), "{:8.3f}"),
    ("E10.5E3", ("E", "10", "5", "3"), "{:10.5e}"),
    ("EN12.4", ("EN", "12", "4", None), "{:12.4e}"),
    ("ES9.2", ("ES", "9", "2", None), "{:9.2e}"),
    ("D25.17", ("D", "25", "17", None), "{:25.17e}"),
    ("G15.4E2", ("G", "15", "4", "2"), "{:15.4g}"),
    ("I6.5", ("I", "6", "5", None), "{:6d}"),
    ("Z8", ("Z", "8", None, None), "{:8x}"),
    ("O4", ("O", "4", None, None), "{:4o}"),
    ("B16", ("B", "16", None, None), "{:16b}"),
    ("A21", ("A", "21", None, None), "{:>21}"),
    ("L1", ("L", "1", None, None), "{:>1}"),
    (" F6.2 ", ("F", "6", "2", None), "{:6.2f}"),
])
def test_tdisp_to_python(tdisp: str, parts: tuple, python: str) -> None:
    assert tuple(parse_tdisp(tdisp)) == parts
    assert tdisp_to_python(tdisp) == python
    # what displays the same way converts back, except where Python has no counterpart:
    # integer minimum digits, exponent widths, EN/ES/D (all shown as E), and L (shown as A)
    if tdisp.strip() in ("F8.3", "Z8", "O4", "B16", "A21"):
        assert python_to_tdisp(python) == tdisp.strip()


@pytest.mark.parametrize("tdisp", ["", "F8", "X5", "A", "I", "E10", "F8.3.2", "Q3.2"])
def test_malformed_tdisp_is_a_value_error_naming_it(tdisp: str) -> None:
    with pytest.raises(ValueError, match="is not recognized"):
        tdisp_to_python(tdisp)


@pytest.mark.parametrize(("python", "tdisp"), [
    ("{:3d}", "I3"), ("3d", "I3"), ("%5.3g", "G5.3"), ("%10s", "A10"), ("{:>4}", "A4"),
    ("{:7.4f}", "F7.4"), ("%.4f", "F13.4"), ("{:.2e}", "E10.2"), ("{:12X}", "Z12"),
])
def test_python_to_tdisp(python: str, tdisp: str) -> None:
    assert python_to_tdisp(python) == tdisp


@pytest.mark.parametrize("python", [None, "", "{}", "{:}", "{:d}", "{:05d}", "{:x<5}", "{:10.3}",
                                    "{:^8}", "%-8s"])
def test_python_formats_tdisp_cannot_express(python: str | None) -> None:
    assert python_to_tdisp(python) is None


def test_boolean_columns_display_as_logical() -> None:
    assert python_to_tdisp("{:>7}", logical_dtype=True) == "L7"


def test_null_mask_follows_the_column_kind() -> None:
    tnull = null_mask(np.array([1, -99, 3]), tnull=-99)
    assert tnull.mask.tolist() == [False, True, False] and tnull.masked and tnull.fill_value == -99
    # a declared TNULL keeps the column masked with nothing null, so the TNULL survives
    assert null_mask(np.array([1, 2]), tnull=0).masked
    floats = null_mask(np.array([[1.0, np.nan]], dtype=">f4"))
    assert floats.mask.tolist() == [[False, True]] and not floats.masked
    assert np.isnan(floats.fill_value)
    strings = null_mask(np.array([b"a", b"", b" "]))
    assert strings.mask.tolist() == [False, True, False] and strings.fill_value == b""
    assert null_mask(np.array(["", "x"])).mask.tolist() == [True, False]
    assert null_mask(np.array([1.0, np.nan]), mask_invalid=False).mask is False
    assert null_mask(np.array([True, False])).mask is False


def test_null_fill_values_for_writing() -> None:
    assert np.isnan(null_fill_value(np.dtype("f4")))
    assert np.isnan(null_fill_value(np.dtype(("f8", (2,)))))
    assert np.isnan(null_fill_value(np.dtype("c16")).imag)
    assert null_fill_value(np.dtype("S5")) == ""
    # integers take the column's own fill value, written as TNULLn
    assert null_fill_value(np.dtype("i4")) is None
    assert null_fill_value(np.dtype(bool)) is None


def test_time_keywords_are_sorted_out_of_a_header() -> None:
    cards = [("TTYPE1", "time"), ("TCTYP1", "TT"), ("TCUNI1", "s"), ("TRPOS12", "GEOCENTER"),
             ("MJDREF", 50814.0), ("DATE-OBS", "2000-01-01"), ("OBSGEO-X", 1.0), ("OBJECT", "M31"),
             ("TCTYP", "TT")]
    frame, columns, found = split_time_keywords(cards)
    assert frame == {"TIMESYS": "UTC", "TREFPOS": "TOPOCENTER", "MJDREF": 50814.0,
                     "DATE-OBS": "2000-01-01", "OBSGEO-X": 1.0}
    assert columns == {1: {"TCTYP": "TT", "TCUNI": "s"}, 12: {"TRPOS": "GEOCENTER"}}
    assert found == {"TCTYP1", "TCUNI1", "TRPOS12", "MJDREF", "DATE-OBS", "OBSGEO-X"}
    assert is_time_column_keyword("TCUNI3") and not is_time_column_keyword("TCUNI")
    assert not is_time_column_keyword("TIMESYS")


def test_reference_time_precedence() -> None:
    assert reference_time({}) == ((0, 0.0), "mjd")
    assert reference_time({"MJDREFI": 50814, "MJDREFF": 0.5}) == ((50814, 0.5), "mjd")
    assert reference_time({"MJDREF": 1.0, "JDREF": 2.0}) == ((1.0, 0.0), "mjd")
    assert reference_time({"JDREF": 2.0, "DATEREF": "2000-01-01"}) == ((2.0, 0.0), "jd")
    assert reference_time({"DATEREF": "2000-01-01"}) == (("2000-01-01", 0.0), "fits")


@pytest.mark.parametrize(("ctype", "spatial"), [("RA---TAN", True), ("GLON-CAR", True),
                                                ("TT", False), ("TIME", False), ("GPS", False),
                                                ("UTC", False)])
def test_spatial_axes_are_not_time(ctype: str, spatial: bool) -> None:
    assert is_spatial_ctype(ctype) is spatial


def test_linear_axes_default_and_refuse_non_numbers() -> None:
    assert linear_axes([("TCRVL2", 5), ("TCDLT2", 0.5), ("TCRPX3", 1.0), ("TCRVL", 9.0)]) == \
        {2: (5.0, 0.0, 0.5), 3: (0.0, 1.0, 1.0)}
    with pytest.raises(ValueError, match="TCRVL1 = 'soon' is not a number"):
        linear_axes([("TCRVL1", "soon")])
