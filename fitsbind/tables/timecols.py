"""Time columns on numpy alone: :class:`TimeColumn`, and the FITS time standard's rules for
turning a table column's stored values into times and back.

A time is held as two float64 Julian dates, ``jd1 + jd2`` (days), ``jd1`` a whole number
and ``|jd2| <= 0.5``: together they keep a time to well under a nanosecond for any date. The
scale (``"tt"``, ``"utc"``, ``"tdb"``, ...) says which clock the dates count; nothing here
converts between scales (that needs leap seconds and Earth rotation: use
:meth:`TimeColumn.to_astropy`).

Reading (:func:`column_time`, :func:`decode_time`): a column is a time coordinate when TCTYPn
names a time scale, TCUNIn is a time unit, TRPOSn is given, or (the older convention the
standard adopts) it is named TIME with a time unit. Its values are ISO-8601 strings, (jd1, jd2)
pairs, or numbers counted in TUNITn (else TCUNIn, else TIMEUNIT, else seconds, the standard's
default) from the reference time (MJDREF, MJDREFI + MJDREFF, JDREF or DATEREF; MJD 0 when none
is given), through the column's linear axis (TCRVLn, TCRPXn, TCDLTn), plus TIMEZERO and TIMEOFFS
(in TIMEUNIT). Times in the GPS scale become TAI (GPS = TAI - 19 s).

Writing (:func:`encode_time`): a TimeColumn becomes float64 (jd1, jd2) pairs in days counted
from the table's reference time, TCTYPn its scale, TCUNIn 'd'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from fitsbind.tables.timekeys import (
    DEPRECATED_SCALES,
    OBSGEO_LBH,
    OBSGEO_XYZ,
    TIME_UNITS,
    is_spatial_ctype,
    linear_axes,
    split_time_keywords,
)

__all__ = ["DAYS_PER_UNIT", "SCALES", "ColumnTime", "TimeColumn", "TimeFrame", "add_days",
           "column_time", "decode_time", "encode_time", "stored_days", "time_columns",
           "time_frame", "utc_between", "utc_elapsed", "utc_from_quasi_jd", "utc_to_quasi_jd"]

#: the time scales a TimeColumn may have (astropy's names)
SCALES = ("tai", "tcb", "tcg", "tdb", "tt", "ut1", "utc", "local")

_DAY_NS = 86_400_000_000_000
# the JD of 1970-01-01T00:00:00, numpy's datetime64 epoch
_UNIX_EPOCH_JD = 2440587.5
_MJD_ZERO_JD = 2400000.5
# the standard's time units (table 33; 'a' and 'yr' are Julian years, 'ta' and 'Ba' the
# tropical and Besselian year)
#: days in one of the standard's time units
DAYS_PER_UNIT = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1.0, "a": 365.25,
                  "yr": 365.25, "cy": 36525.0, "ta": 365.24219, "Ba": 365.2421988}
_GPS_BEHIND_TAI_DAYS = 19 / 86400
# UTC: the dates (MJD) from which TAI - UTC took each value (seconds), since UTC has counted
# whole leap seconds (1972-01-01); the last is the leap second at the end of 2016, the latest
# announced as this is written. Before 1972 TAI - UTC drifted; times there are counted as if
# it were constant (10 s).
_LEAP_MJD = np.array([41317, 41499, 41683, 42048, 42413, 42778, 43144, 43509, 43874, 44239,
                      44786, 45151, 45516, 46247, 47161, 47892, 48257, 48804, 49169, 49534,
                      50083, 50630, 51179, 53736, 54832, 56109, 57204, 57754], np.float64)
_TAI_MINUS_UTC = np.arange(10.0, 10.0 + len(_LEAP_MJD))
# the same steps as TAI dates (MJD): where each value starts on the TAI clock
_LEAP_TAI_MJD = _LEAP_MJD + _TAI_MINUS_UTC / 86400
# WGS84 ellipsoid: equatorial radius (m) and flattening, for OBSGEO-L/B/H
_WGS84_A = 6378137.0
_WGS84_F = 1 / 298.257223563


# -- double-double arithmetic (each time is the unevaluated sum of two float64) ------------------

def _two_sum(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """s, e with s = fl(a + b) and a + b = s + e exactly (Knuth)."""
    s = np.add(a, b)
    bb = s - a
    if np.ndim(s) == 0:
        return s, (a - (s - bb)) + (b - bb)
    err = s - bb
    # in place: these run on every time of a column, and fresh arrays cost more than the math
    np.subtract(a, err, out=err)
    np.subtract(b, bb, out=bb)
    err += bb
    return s, err


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = a * 134217729.0   # 2**27 + 1 (Dekker)
    hi = c - (c - a)
    return hi, a - hi


def _two_product(a: Any, b: float) -> tuple[np.ndarray, np.ndarray]:
    """p, e with p = fl(a * b) and a * b = p + e exactly (Dekker)."""
    a = np.asarray(a, np.float64)
    p = a * b
    ahi, alo = _split(a)
    bhi, blo = _split(np.float64(b))
    return p, ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo


def _normalized(jd1: Any, jd2: Any) -> tuple[np.ndarray, np.ndarray]:
    """The same times with jd1 the whole number nearest the sum and |jd2| <= 0.5 (NaN stays
    NaN in both)."""
    s, e = _two_sum(jd1, jd2)
    return _rounded(s, e)


def _rounded(s: np.ndarray, e: Any) -> tuple[np.ndarray, np.ndarray]:
    """(day, fraction) of the time s + e, |e| small against s: s - day is exact (the two are
    within a factor of 2, or both whole), so no error term is lost."""
    day = np.round(s + e)
    frac = s - day
    frac += e
    return day, frac


def add_days(jd: tuple[Any, Any], days: tuple[Any, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(jd1, jd2) + (d1, d2) days, normalized: jd1 whole, |jd2| <= 0.5."""
    s, e = _two_sum(jd[0], days[0])
    e += jd[1]
    e += days[1]
    return _rounded(s, e)


def _times(values: Any, days_per_unit: float) -> tuple[np.ndarray, np.ndarray]:
    """``values`` (float) in a unit as days, double-double: exact for seconds as well."""
    values = np.asarray(values, np.float64)
    if days_per_unit == 1.0:
        return values, np.zeros_like(values)
    units_per_day = 1.0 / days_per_unit
    if units_per_day == round(units_per_day):
        # a whole number of units per day: whole days, and the remainder (exact: the
        # difference of two floats within a factor of 2) as a fraction of a day
        if values.ndim == 0:
            days = np.floor(values / units_per_day)
            return days, (values - days * units_per_day) / units_per_day
        days = values / units_per_day
        np.floor(days, out=days)
        rest = days * units_per_day
        np.subtract(values, rest, out=rest)
        rest /= units_per_day
        return days, rest
    return _two_product(values, days_per_unit)


def _is_normalized(jd1: np.ndarray, jd2: np.ndarray) -> bool:
    """Whether every jd1 is whole and |jd2| <= 0.5 (NaN counts as normalized)."""
    with np.errstate(invalid="ignore"):
        return not (np.any(np.abs(jd2) > 0.5) or np.any(np.round(jd1) != jd1))


def stored_days(values: Any, days_per_unit: float,
                linear: tuple[float, float, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """A time column's stored ``values`` as days (double-double): float (jd1, jd2) pairs on
    the last axis, each counted in the unit; or numbers, first through the column's linear
    axis ``linear`` (TCRVLn + TCDLTn * (v - TCRPXn)) when it has one."""
    values = np.asarray(values, np.float64)
    if values.ndim > 1 and values.shape[-1] == 2:
        return add_days(_times(values[..., 0], days_per_unit),
                        _times(values[..., 1], days_per_unit))
    if linear is not None:
        value, pixel, increment = linear
        values = value + increment * (values - pixel)
    return _times(values, days_per_unit)


def _mjd_day(jd1: np.ndarray, jd2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(MJD of the day at its midnight, fraction of the day) of normalized Julian dates."""
    start = jd1 - _MJD_ZERO_JD            # whole days and a half: exact
    day = np.floor(start + jd2)
    return day, (start - day) + jd2


def _leap_days(day: np.ndarray) -> np.ndarray:
    """Whether each UTC day (MJD) ends with a leap second (86401 s long)."""
    return np.isin(day + 1, _LEAP_MJD[1:])


def utc_from_quasi_jd(jd1: Any, jd2: Any) -> tuple[np.ndarray, np.ndarray]:
    """UTC Julian dates as astropy and ERFA hold them (a leap-second day's fraction counts
    86401 s) as this module holds them (every day 86400 s: the leap second itself reads as
    the first second of the next day)."""
    jd1, jd2 = _normalized(jd1, jd2)
    day, fraction = _mjd_day(jd1, jd2)
    return add_days((jd1, jd2), (np.where(_leap_days(day), fraction / 86400, 0.0), 0.0))


def utc_to_quasi_jd(jd1: Any, jd2: Any) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of :func:`utc_from_quasi_jd`."""
    day, fraction = _mjd_day(jd1, jd2)
    return add_days((jd1, jd2), (np.where(_leap_days(day), -fraction / 86401, 0.0), 0.0))


def _tai_minus_utc(jd1: np.ndarray, jd2: np.ndarray, on_tai: bool) -> np.ndarray:
    """TAI - UTC in days at these times, given on the UTC clock or (``on_tai``) the TAI one."""
    mjd = (jd1 - _MJD_ZERO_JD) + jd2
    steps = _LEAP_TAI_MJD if on_tai else _LEAP_MJD
    index = np.clip(np.searchsorted(steps, mjd, side="right") - 1, 0, None)
    return _TAI_MINUS_UTC[index] / 86400


def utc_elapsed(start: tuple[Any, Any], days: tuple[Any, Any]) -> tuple[np.ndarray, np.ndarray]:
    """UTC ``start`` plus ``days`` of elapsed time (SI seconds / 86400): counted on TAI, so
    leap seconds in between are counted as the time standard requires."""
    start = tuple(np.asarray(part, np.float64) for part in start)
    tai = add_days(start, (_tai_minus_utc(*start, on_tai=False), 0.0))
    tai = add_days(tai, days)
    return add_days(tai, (-_tai_minus_utc(*tai, on_tai=True), 0.0))


def utc_between(start: tuple[Any, Any], end: tuple[Any, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Days of elapsed time from UTC ``start`` to UTC ``end`` (the inverse of
    :func:`utc_elapsed`)."""
    start = tuple(np.asarray(part, np.float64) for part in start)
    end = tuple(np.asarray(part, np.float64) for part in end)
    begin = add_days(start, (_tai_minus_utc(*start, on_tai=False), 0.0))
    finish = add_days(end, (_tai_minus_utc(*end, on_tai=False), 0.0))
    return add_days(finish, (-begin[0], -begin[1]))


# -- the column type -----------------------------------------------------------------------------

class TimeColumn:
    """A column of times: ``jd1 + jd2`` Julian dates (float64 arrays of one shape, first axis
    rows) on the time ``scale`` (one of :data:`SCALES`), the representation the times came
    in (``format``: ``"jd"``, ``"mjd"`` or ``"isot"``; only display), the observatory
    ``location`` (geocentric x, y, z in metres: floats, or arrays of one per row; None when
    not stated) and a ``mask`` (bool, True where there is no time; None when every time is
    there).

    >>> t = TimeColumn.from_mjd([50814.0, 50814.5], scale="tt")
    >>> t.jd
    array([2450814.5, 2450815. ])
    >>> t.to_datetime64()
    array(['1998-01-01T00:00:00.000000000', '1998-01-01T12:00:00.000000000'],
          dtype='datetime64[ns]')
    """

    def __init__(self, jd1: Any, jd2: Any = 0.0, *, scale: str = "utc", format: str = "jd",
                 location: tuple[Any, Any, Any] | None = None, mask: Any = None) -> None:
        if scale not in SCALES:
            raise ValueError(f"time scale {scale!r} is not one of {SCALES}")
        jd1, jd2 = np.broadcast_arrays(np.asarray(jd1, np.float64), np.asarray(jd2, np.float64))
        if not _is_normalized(jd1, jd2):
            jd1, jd2 = _normalized(jd1, jd2)
        self.jd1, self.jd2 = jd1, jd2
        self.scale = scale
        self.format = format
        self.location = None if location is None else tuple(location)
        missing = ~(np.isfinite(self.jd1) & np.isfinite(self.jd2))
        if mask is not None:
            missing = missing | np.broadcast_to(np.asarray(mask, bool), self.jd1.shape)
        self.mask = missing if missing.any() else None

    # constructors

    @classmethod
    def from_mjd(cls, mjd: Any, scale: str = "utc", **kwargs: Any) -> TimeColumn:
        """Times given as Modified Julian Dates (days, float)."""
        return cls(_MJD_ZERO_JD, mjd, scale=scale, format="mjd", **kwargs)

    @classmethod
    def from_datetime64(cls, values: Any, scale: str = "utc", **kwargs: Any) -> TimeColumn:
        """Times given as numpy datetime64 of any unit and range (NaT is masked)."""
        stamps = np.asarray(values)
        if stamps.dtype.kind != "M":
            raise TypeError(f"from_datetime64 takes datetime64 values, not {stamps.dtype}")
        unit = np.datetime_data(stamps.dtype)[0]
        if unit in ("Y", "M", "generic"):
            stamps = stamps.astype("datetime64[D]")   # months and years: days, exactly
            unit = "D"
        per_day = int(np.timedelta64(1, "D") // np.timedelta64(1, unit))
        missing = np.isnat(stamps)
        days, rest = np.divmod(np.where(missing, 0, stamps.view(np.int64)), per_day)
        jd2 = np.where(missing, np.nan, rest / per_day)
        return cls(days + _UNIX_EPOCH_JD, jd2, scale=scale, format="isot", **kwargs)

    @classmethod
    def from_iso(cls, text: Any, scale: str = "utc", **kwargs: Any) -> TimeColumn:
        """Times given as ISO-8601 strings (``'2024-03-01'``, ``'2024-03-01T12:00:00.5'``,
        ``'+12020-01-01'``; bytes or str; any number of fraction digits). Empty strings are
        masked; a leap second (``23:59:60``) reads as the first second of the next day;
        ValueError for text that is not a date."""
        strings = np.char.strip(np.asarray(text).astype("U"))
        strings = np.char.rstrip(strings, "Z")   # 'Z' (UTC) adds nothing: the scale says it
        empty = strings == ""
        parts = np.char.partition(np.where(empty, "1970-01-01", strings), ".")
        whole, fraction = parts[..., 0], parts[..., 2]
        leap = np.char.endswith(whole, ":60")
        whole = np.where(leap, np.char.add(np.char.rstrip(whole, "60"), "59"), whole)
        try:
            seconds = whole.astype("datetime64[s]")
            subsecond = np.char.add("0.", fraction).astype(np.float64)
        except ValueError as exc:
            raise ValueError(f"not an ISO-8601 date and time: {exc}") from None
        days, rest = np.divmod(seconds.view(np.int64), 86400)
        jd2 = np.where(empty, np.nan, (rest + leap + subsecond) / 86400)
        return cls(days + _UNIX_EPOCH_JD, jd2, scale=scale, format="isot", **kwargs)

    @classmethod
    def from_astropy(cls, time: Any) -> TimeColumn:
        """An astropy ``Time`` (scale, location and mask kept)."""
        location = None
        if time.location is not None:
            geocentric = time.location.geocentric
            location = tuple(np.asarray(axis.to_value("m")) for axis in geocentric)
        mask = np.ma.getmask(time.jd1) if time.masked else None
        fmt = time.format if time.format in ("jd", "mjd") else "isot"
        jd = np.ma.getdata(time.jd1), np.ma.getdata(time.jd2)
        if time.scale == "utc":
            jd = utc_from_quasi_jd(*jd)
        return cls(*jd, scale=time.scale, format=fmt, location=location, mask=mask)

    # views

    @property
    def shape(self) -> tuple[int, ...]:
        return self.jd1.shape

    def __len__(self) -> int:
        return len(self.jd1)

    def __getitem__(self, index: Any) -> TimeColumn:
        location = self.location
        if location is not None and np.ndim(location[0]):
            location = tuple(np.asarray(axis)[index] for axis in location)
        mask = None if self.mask is None else self.mask[index]
        return TimeColumn(self.jd1[index], self.jd2[index], scale=self.scale,
                          format=self.format, location=location, mask=mask)

    def __repr__(self) -> str:
        return (f"<TimeColumn scale={self.scale!r} format={self.format!r} "
                f"shape={self.shape}>")

    def __eq__(self, other: object) -> Any:
        if not isinstance(other, TimeColumn):
            return NotImplemented
        if other.scale != self.scale:
            return False
        return (self.jd1 == other.jd1) & (self.jd2 == other.jd2)

    __hash__ = None   # type: ignore[assignment]  # elementwise ==, as numpy arrays

    @property
    def jd(self) -> np.ndarray:
        """Julian dates (float64; rounds to about 20 microseconds)."""
        return self._filled(self.jd1 + self.jd2)

    @property
    def mjd(self) -> np.ndarray:
        """Modified Julian Dates (float64; rounds to about 1 microsecond)."""
        return self._filled((self.jd1 - _MJD_ZERO_JD) + self.jd2)

    def _filled(self, values: np.ndarray) -> np.ndarray:
        if self.mask is not None:
            values = np.where(self.mask, np.nan, values)
        return values

    def to_datetime64(self) -> np.ndarray:
        """The times as ``datetime64[ns]`` counted on the column's own scale (as astropy's
        ``Time.datetime64``: a TT time stays TT); NaT where masked. ValueError for times
        outside datetime64[ns]'s years 1678-2261."""
        # JD days start at noon: count whole days from the epoch's noon before, then the
        # nanoseconds since that noon (jd2 + 0.5 is in [0, 1]: exact to well under 1 ns)
        days = self.jd1 - (_UNIX_EPOCH_JD + 0.5)
        ns_in_day = np.round((self.jd2 + 0.5) * _DAY_NS)
        bad = self.mask if self.mask is not None else np.zeros(self.shape, bool)
        finite = np.where(bad, 0.0, days)
        limit = np.iinfo(np.int64).max // _DAY_NS - 1
        if np.any(np.abs(finite) > limit):
            raise ValueError("times outside the years 1678-2261 do not fit datetime64[ns]")
        ns = finite.astype(np.int64) * _DAY_NS + np.where(bad, 0, ns_in_day).astype(np.int64)
        stamps = ns.view("datetime64[ns]")
        if self.mask is not None:
            stamps = np.where(self.mask, np.datetime64("NaT"), stamps)
        return stamps

    def to_astropy(self) -> Any:
        """An astropy ``Time`` of the same instants, scale, location and mask (needs
        astropy)."""
        from astropy.coordinates import EarthLocation
        from astropy.time import Time

        location = None
        if self.location is not None:
            location = EarthLocation.from_geocentric(*self.location, unit="m")
        jd1 = self.jd1 if self.mask is None else np.where(self.mask, _UNIX_EPOCH_JD, self.jd1)
        jd2 = self.jd2 if self.mask is None else np.where(self.mask, 0.0, self.jd2)
        if self.scale == "utc":
            jd1, jd2 = utc_to_quasi_jd(jd1, jd2)
        time = Time(jd1, jd2, format="jd", scale=self.scale, location=location)
        time.format = self.format if self.format in ("jd", "mjd") else "isot"
        if self.mask is not None:
            time[self.mask] = np.ma.masked
        return time


# -- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TimeFrame:
    """A table's global time frame: the scale TIMESYS names (GPS as TAI), the reference time
    as (jd1, jd2), TIMEZERO + TIMEOFFS in days, TIMEUNIT, TREFPOS, TREFDIR (the reference
    direction, kept for the user) and the observatory location (x, y, z metres) or None.
    ``dated``: the reference is JD 0 or MJD 0, so stored values are dates rather than time
    elapsed (for UTC the difference is the leap seconds)."""
    scale: str
    gps: bool
    dated: bool
    reference: tuple[float, float]
    offset: tuple[float, float]
    unit: str | None
    position: str
    direction: str | None
    location: tuple[Any, Any, Any] | None


@dataclass(frozen=True)
class ColumnTime:
    """How one column's stored values become times: its scale (GPS as TAI, ``gps`` True),
    the unit of numbers, the linear axis (TCRVLn, TCRPXn, TCDLTn) or None, and the
    location."""
    scale: str
    gps: bool
    unit: str
    linear: tuple[float, float, float] | None
    location: tuple[Any, Any, Any] | None


def _scale(value: Any) -> tuple[str, bool] | None:
    """The scale a TIMESYS / TCTYPn value names and whether it is GPS; None if none."""
    text = str(value).strip()
    if text.upper() == "GPS":
        return "tai", True
    name = DEPRECATED_SCALES.get(text.upper(), text.lower())
    return (name, False) if name in SCALES else None


def _reference(keywords: Mapping[str, Any]) -> tuple[float, float]:
    """The reference time as (jd1, jd2): MJDREF, MJDREFI + MJDREFF, JDREF or DATEREF, in
    that order; MJD 0 when none is stated."""
    if "MJDREF" in keywords:
        return _normalized(_MJD_ZERO_JD, float(keywords["MJDREF"]))
    if "MJDREFI" in keywords or "MJDREFF" in keywords:
        whole = float(keywords.get("MJDREFI", 0))
        return add_days(_normalized(_MJD_ZERO_JD, whole), (float(keywords.get("MJDREFF", 0.0)), 0.0))
    if "JDREF" in keywords:
        return _normalized(float(keywords["JDREF"]), 0.0)
    if "JDREFI" in keywords or "JDREFF" in keywords:
        return _normalized(float(keywords.get("JDREFI", 0)), float(keywords.get("JDREFF", 0.0)))
    if "DATEREF" in keywords:
        stamp = TimeColumn.from_iso([keywords["DATEREF"]])
        return float(stamp.jd1[0]), float(stamp.jd2[0])
    return _MJD_ZERO_JD, 0.0


def _location(keywords: Mapping[str, Any]) -> tuple[Any, Any, Any] | None:
    """The observatory: OBSGEO-X/Y/Z (metres), else OBSGEO-L/B/H (degrees, degrees, metres
    on the WGS84 ellipsoid) as geocentric metres; None unless all three are given."""
    if all(key in keywords for key in OBSGEO_XYZ):
        return tuple(keywords[key] for key in OBSGEO_XYZ)
    if all(key in keywords for key in OBSGEO_LBH):
        lon, lat, height = (np.radians(float(keywords["OBSGEO-L"])),
                            np.radians(float(keywords["OBSGEO-B"])), float(keywords["OBSGEO-H"]))
        e2 = _WGS84_F * (2 - _WGS84_F)
        n = _WGS84_A / np.sqrt(1 - e2 * np.sin(lat) ** 2)
        return ((n + height) * np.cos(lat) * np.cos(lon), (n + height) * np.cos(lat) * np.sin(lon),
                (n * (1 - e2) + height) * np.sin(lat))
    return None


def time_frame(keywords: Mapping[str, Any]) -> TimeFrame:
    """The global time frame stated by header ``keywords`` (keyword -> value). ValueError,
    naming the keyword, for a value that is not what the standard allows."""
    named = _scale(keywords.get("TIMESYS", "UTC"))
    if named is None:
        raise ValueError(f"TIMESYS = {keywords['TIMESYS']!r} is not a time scale")
    unit = keywords.get("TIMEUNIT")
    if unit is not None and unit not in TIME_UNITS:
        raise ValueError(f"TIMEUNIT = {unit!r} is not a time unit of the standard")
    offset = (0.0, 0.0)
    for key in ("TIMEZERO", "TIMEOFFS"):
        value = keywords.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key} = {value!r} is not a number")
        offset = add_days(offset, _times(float(value), DAYS_PER_UNIT[unit or "s"]))
    try:
        reference = _reference(keywords)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the reference time (MJDREF / JDREF / DATEREF) is not a time: "
                         f"{exc}") from None
    direction = keywords.get("TREFDIR")
    reference = tuple(map(float, reference))
    dated = reference in ((0.0, 0.0), _normalized(_MJD_ZERO_JD, 0.0))
    return TimeFrame(named[0], named[1], dated, reference, tuple(map(float, offset)), unit,
                     str(keywords.get("TREFPOS", "TOPOCENTER")).strip(),
                     None if direction is None else str(direction), _location(keywords))


def column_time(frame: TimeFrame, name: str, unit: str | None, keywords: Mapping[str, Any],
                linear: tuple[float, float, float] | None = None) -> ColumnTime | None:
    """How column ``name`` (TUNITn ``unit``; TCTYPn / TCUNIn / TRPOSn in ``keywords`` as
    'TCTYP', 'TCUNI', 'TRPOS') becomes times in ``frame``; None when it is not a time
    coordinate."""
    ctype, cunit, position = (keywords.get(k) for k in ("TCTYP", "TCUNI", "TRPOS"))
    if ctype is not None:
        text = str(ctype).strip()
        if is_spatial_ctype(text):
            return None
        named = (frame.scale, frame.gps) if text.upper() == "TIME" else _scale(text)
        if named is None:
            return None
    elif cunit in TIME_UNITS or position is not None:
        named = frame.scale, frame.gps
    elif name.upper() == "TIME" and unit in TIME_UNITS:
        named, position = (frame.scale, frame.gps), frame.position
    else:
        return None
    chosen = next((u for u in (unit, cunit, frame.unit) if u in TIME_UNITS), "s")
    position = str(position if position is not None else frame.position).strip()
    location = frame.location if position == "TOPOCENTER" else None
    return ColumnTime(named[0], named[1], chosen, linear, location)


def decode_time(values: np.ndarray, how: ColumnTime, frame: TimeFrame,
                mask: Any = None) -> TimeColumn:
    """The times column ``values`` holds: ISO-8601 strings (bytes or str), float (jd1, jd2)
    pairs (last axis 2) or numbers. ``mask``: cells with no value. ValueError when strings
    are not ISO-8601 dates."""
    location = how.location
    if values.dtype.kind in "SU":
        return TimeColumn.from_iso(values, scale=how.scale, location=location, mask=mask)
    pairs = values.ndim > 1 and values.shape[-1] == 2
    days = stored_days(values, DAYS_PER_UNIT[how.unit], how.linear)
    fmt = "jd" if pairs else "mjd"
    start = add_days(frame.reference, frame.offset)
    if how.scale != "utc":
        jd = add_days(start, days)
    elif frame.dated:
        jd = utc_from_quasi_jd(*add_days(start, days))   # dates as astropy writes them
    else:
        jd = utc_elapsed(start, days)
    if how.gps:
        jd = add_days(jd, (_GPS_BEHIND_TAI_DAYS, 0.0))
    if mask is not None and np.ndim(mask) > jd[0].ndim:
        mask = np.any(mask, axis=-1)   # a pair is missing when either half is
    return TimeColumn(*jd, scale=how.scale, format=fmt, location=location, mask=mask)


def time_columns(cards: list[tuple[str, Any]], names: list[str], units: list[str | None]
                 ) -> tuple[TimeFrame | None, dict[str, ColumnTime]]:
    """The time frame of a table header (``cards``: keyword, value pairs) and which of its
    columns (``names`` and TUNITn ``units`` in order) are time coordinates. The frame is
    None, and no column a time, when the header's time keywords are not valid (ValueError
    is raised for the caller to report)."""
    keywords, per_column, _ = split_time_keywords(cards)
    frame = time_frame(keywords)
    axes = linear_axes(cards)
    found: dict[str, ColumnTime] = {}
    for number, (name, unit) in enumerate(zip(names, units), 1):
        how = column_time(frame, name, unit, per_column.get(number, {}), axes.get(number))
        if how is not None:
            found[name] = how
    return frame, found


# -- writing ------------------------------------------------------------------------------------

def encode_time(column: TimeColumn, frame: TimeFrame) -> np.ndarray:
    """float64 (..., 2): ``column``'s times as (days, days) counted from ``frame``'s
    reference time plus offset (UTC: time elapsed, leap seconds counted; or, from JD 0 or
    MJD 0, dates as astropy holds them), exactly as :func:`decode_time` with unit 'd' reads
    them back; NaN where masked."""
    start = add_days(frame.reference, frame.offset)
    times = column.jd1, column.jd2
    if column.scale == "utc" and not frame.dated:
        jd = utc_between(start, times)
    else:
        if column.scale == "utc":
            times = utc_to_quasi_jd(*times)
        jd = add_days(times, (-start[0], -start[1]))
    pairs = np.empty((*column.shape, 2), np.float64)
    pairs[..., 0], pairs[..., 1] = jd
    if column.mask is not None:
        pairs[column.mask] = np.nan
    return pairs
