"""The keywords of the FITS time standard (Rots et al. 2015, A&A 574, A36; FITS 4.0 section 9),
sorted out of a table header without astropy.

A table header states one global time frame (TIMESYS, the reference time MJDREF / MJDREFI +
MJDREFF / JDREF / DATEREF, TREFPOS, the observatory OBSGEO-X/Y/Z or -L/B/H) and the time of
observation (DATE-*, MJD-*). A column is a time coordinate when TCTYPn names a time scale (or
'TIME'), or TCUNIn is a time unit, or TRPOSn is given; a column named TIME with a time unit is
one by convention. TCRVLn, TCRPXn and TCDLTn make a time column's stored values a linear scale
(value = TCRVLn + TCDLTn * (stored - TCRPXn)), and TIMEZERO is added to every numeric time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["COLUMN_TIME_KEYWORDS", "DEPRECATED_SCALES", "GLOBAL_TIME_KEYWORDS", "OBSGEO_LBH",
           "OBSGEO_XYZ", "TIME_UNITS", "WRITTEN_TIME_FRAME", "is_spatial_ctype",
           "is_time_column_keyword", "linear_axes", "reference_time", "split_time_keywords"]

#: units a time coordinate may be given in (the standard's table 33)
TIME_UNITS = ("s", "d", "a", "cy", "min", "h", "yr", "ta", "Ba")
#: observatory position: geocentric X, Y, Z in metres; geodetic longitude, latitude (degrees)
#: and height (metres)
OBSGEO_XYZ = ("OBSGEO-X", "OBSGEO-Y", "OBSGEO-Z")
OBSGEO_LBH = ("OBSGEO-L", "OBSGEO-B", "OBSGEO-H")
#: header keywords describing the table's time frame and times of observation
GLOBAL_TIME_KEYWORDS = ("DATE", "DATE-AVG", "DATE-BEG", "DATE-END", "DATE-OBS", "DATEREF",
                        "JDREF", "MJDREFI", "MJDREFF", "MJD-AVG", "MJD-BEG", "MJD-END", "MJD-OBS", "MJDREF",
                        "TIMEOFFS", "TIMESYS", "TIMEUNIT", "TIMEZERO", "TREFDIR", "TREFPOS",
                        *OBSGEO_LBH, *OBSGEO_XYZ)
#: roots of the per-column time keywords: TCTYPn (time scale), TCUNIn (unit), TRPOSn (position)
COLUMN_TIME_KEYWORDS = ("TCTYP", "TCUNI", "TRPOS")
#: time scale names the standard deprecates, and the scale each stands for
DEPRECATED_SCALES = {"TDT": "tt", "ET": "tt", "GMT": "utc", "UT": "utc", "IAT": "tai"}
#: the time frame a writer states for columns of (jd1, jd2) pairs: (keyword, value, comment)
WRITTEN_TIME_FRAME = (("TIMESYS", "UTC", "Default time scale"),
                      ("JDREF", 0.0, "Time columns are jd = jd1 + jd2"),
                      ("TREFPOS", "TOPOCENTER", "Time reference position"))

_COLUMN_KEYWORD = re.compile(r"(TCTYP|TCUNI|TRPOS)([0-9]+)")
_LINEAR_KEYWORD = re.compile(r"(TCRVL|TCRPX|TCDLT)([0-9]+)$")
# a spatial coordinate type of the standard's 4-3 form: 'RA---TAN', 'GLON-CAR'
_SPATIAL_CTYPE = re.compile(r"[A-Z]+-+")
_ALGORITHM = re.compile(r"[A-Z]+")
# the reference time keywords by precedence, with the Time format each value is in
_REFERENCES = (("MJDREF", "mjd"), ("JDREF", "jd"), ("DATEREF", "fits"))


def is_time_column_keyword(keyword: str) -> bool:
    """Whether ``keyword`` is a per-column time keyword (TCTYPn, TCUNIn, TRPOSn with a column
    number): 'TRPOS12' is, 'TRPOS' and 'TIMESYS' are not."""
    return _COLUMN_KEYWORD.match(keyword) is not None


def is_spatial_ctype(ctype: str) -> bool:
    """Whether a TCTYPn value names a spatial (world coordinate) axis, not a time scale."""
    # the first four characters name the axis, padded with '-', the last three the projection
    return _SPATIAL_CTYPE.match(ctype[:5]) is not None and _ALGORITHM.match(ctype[5:]) is not None


def split_time_keywords(cards: Iterable[tuple[str, Any]]
                        ) -> tuple[dict[str, Any], dict[int, dict[str, Any]], set[str]]:
    """The time keywords among header ``cards`` (keyword, value pairs):

    - the global ones, ``{'TIMESYS': 'TT', 'MJDREF': 50814.0, ...}``, TIMESYS and TREFPOS
      defaulting to the standard's 'UTC' and 'TOPOCENTER';
    - the per-column ones by column number (from 1), ``{3: {'TCTYP': 'TT', 'TCUNI': 's'}}``;
    - the set of keywords found, which a reader that turns them into Time objects drops from
      the table's metadata.
    """
    frame: dict[str, Any] = {"TIMESYS": "UTC", "TREFPOS": "TOPOCENTER"}
    columns: dict[int, dict[str, Any]] = {}
    found: set[str] = set()
    for keyword, value in cards:
        match = _COLUMN_KEYWORD.match(keyword)
        if keyword in GLOBAL_TIME_KEYWORDS:
            frame[keyword] = value
        elif match is not None:
            columns.setdefault(int(match.group(2)), {})[match.group(1)] = value
        else:
            continue
        found.add(keyword)
    return frame, columns, found


def linear_axes(cards: Iterable[tuple[str, Any]]) -> dict[int, tuple[float, float, float]]:
    """The linear coordinate of each column (from 1) that has TCRVLn, TCRPXn or TCDLTn:
    (reference value, reference pixel, increment), defaulting to (0, 0, 1), so a stored value v
    stands for ``value + increment * (v - pixel)``. Values that are not numbers are a
    ValueError naming the keyword."""
    found: dict[int, dict[str, float]] = {}
    for keyword, value in cards:
        match = _LINEAR_KEYWORD.match(keyword)
        if match is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{keyword} = {value!r} is not a number")
        found.setdefault(int(match.group(2)), {})[match.group(1)] = float(value)
    return {number: (parts.get("TCRVL", 0.0), parts.get("TCRPX", 0.0), parts.get("TCDLT", 1.0))
            for number, parts in found.items()}


def reference_time(frame: dict[str, Any]) -> tuple[tuple[Any, Any], str]:
    """The reference time of a time frame as the two parts of an astropy Time value (the
    second 0 but for MJDREFI + MJDREFF, kept apart so no precision is lost) and the Time
    format they are in: MJDREF or MJDREFI + MJDREFF in MJD, JDREF in JD, DATEREF in
    ISO-8601; the standard's default, MJD 0, when the header states none."""
    for keyword, form in _REFERENCES:
        if keyword in frame:
            return (frame[keyword], 0.0), form
        if keyword == "MJDREF" and ("MJDREFI" in frame or "MJDREFF" in frame):
            return (frame.get("MJDREFI", 0), frame.get("MJDREFF", 0.0)), "mjd"
    return (0, 0.0), "mjd"
