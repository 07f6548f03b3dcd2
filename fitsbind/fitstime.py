"""FITS time columns and astropy ``Time``, both ways (the FITS time standard, Rots et al. 2015).

Writing (:func:`time_to_fits`): a ``Time`` column becomes float64 cells of shape (..., 2)
holding (jd1, jd2) in days, jd = jd1 + jd2 in the column's scale, declared by TCTYPn = the
scale, TCUNIn = 'd' and the global frame TIMESYS / JDREF = 0 / TREFPOS; its observatory
location becomes OBSGEO-X/Y/Z (metres) cards, or columns when it varies per row.

Reading (:func:`fits_to_time`): columns the header declares as time coordinates (TCTYPn,
TCUNIn, TRPOSn), or a column named TIME with a time unit, become ``Time``: ISO-8601 strings
as they are, (jd1, jd2) pairs and numbers relative to the reference time (MJDREF, or
MJDREFI + MJDREFF / JDREF / DATEREF) in the scale TCTYPn or TIMESYS names, counted in TUNITn,
else TCUNIn, else TIMEUNIT, else days (as astropy assumes), plus TIMEZERO and TIMEOFFS (in
TIMEUNIT). The Julian dates are summed in numpy by the table facade's double-double helpers
(:mod:`fitsbind.tables.timecols`) and become one ``Time`` with the format, scale and location
astropy's own reader gives. DATE-* and MJD-* cards become ``Time`` values in the table's meta;
TREFDIR stays there as it is. What astropy cannot represent (the GPS and LOCAL scales,
incomplete observatory positions) is read with a warning saying what was assumed.

This module is for astropy users and imports astropy; ``import fitsbind`` does not import it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from astropy import units
from astropy.coordinates import EarthLocation
from astropy.table import Column, MaskedColumn
from astropy.table.column import col_copy
from astropy.time import Time, TimeDelta

from fitsbind.header import Header
from fitsbind.tables.timecols import DAYS_PER_UNIT, add_days, stored_days, time_frame
from fitsbind.tables.timekeys import (
    DEPRECATED_SCALES,
    OBSGEO_LBH,
    OBSGEO_XYZ,
    TIME_UNITS,
    WRITTEN_TIME_FRAME,
    is_spatial_ctype,
    is_time_column_keyword,
    linear_axes,
    reference_time,
    split_time_keywords,
)
from fitsbind.verify import FITSUserWarning

__all__ = ["GLOBAL_TIME_INFO", "fits_to_time", "is_time_column_keyword", "time_to_fits"]

#: the global time frame :func:`time_to_fits` writes: keyword -> (value, comment)
GLOBAL_TIME_INFO = {key: (value, comment) for key, value, comment in WRITTEN_TIME_FRAME}

# scales in which a position on the Earth has no meaning: they are defined at the barycentre
_BARYCENTRIC_SCALES = ("tcb", "tdb")

_GPS_NOTE = ('value "GPS". In Astropy, "GPS" is a time from epoch format which runs '
             "synchronously with TAI; GPS runs ahead of TAI approximately by 19 s. Hence, this "
             "format will be used.")
_LOCAL_NOTE = ('value "LOCAL". However, the standard states that "LOCAL" should be tied to one '
               "of the existing scales because it is intrinsically unreliable and/or "
               "ill-defined.")


def _warn(message: str) -> None:
    warnings.warn(message, FITSUserWarning, stacklevel=4)


# -- writing -------------------------------------------------------------------------------------

def _without_indices(table: Any) -> Any:
    """A shallow copy of ``table`` whose columns share the data but carry no table index (an
    index would follow the copy and be rebuilt over columns that are about to be replaced)."""
    columns = [col.copy(copy_data=False) if isinstance(col, Column)
               else col_copy(col, copy_indices=False) if col.info.indices else col
               for col in table.itercols()]
    encoded = table.__class__(columns, copy=False)
    encoded.meta = table.meta
    return encoded


def _jd_pairs(time: Time) -> np.ndarray:
    """float64 (..., 2): jd1 and jd2 of every element, masked where ``time`` is."""
    # filled element by element: stacking would drop a masked array's mask
    pairs = np.empty_like(time.jd1, shape=(*time.jd1.shape, 2))
    pairs[..., 0] = time.jd1
    pairs[..., 1] = time.jd2
    return pairs


def _store_location(location: EarthLocation, table: Any, header: Header) -> None:
    """OBSGEO-X/Y/Z in metres: header cards for one position, columns for one per row (the
    Green Bank convention)."""
    for axis, keyword in zip(("x", "y", "z"), OBSGEO_XYZ):
        metres = getattr(location, axis).to_value(units.m)
        if location.size > 1:
            table.add_column(Column(metres), name=keyword)
        else:
            header.append((keyword, float(np.reshape(metres, -1)[0])))


def time_to_fits(table: Any) -> tuple[Any, Header]:
    """``table`` (astropy Table or QTable) with its ``Time`` columns replaced by what FITS
    stores, and a :class:`Header` of their global time frame.

    A ``Time`` column becomes float64 (jd1, jd2) pairs with unit 'd', its TCTYPn / TCUNIn /
    TRPOSn kept in ``meta['__coordinate_columns__']`` for the HDU writer; with
    ``serialize_method['fits'] == 'formatted_value'`` it becomes its formatted values instead.
    The table's meta is shared with ``table``, its columns' data too. ValueError when two
    columns are at different observatory locations: FITS has one per table."""
    encoded = _without_indices(table)
    header = Header([(key, value, comment) for key, (value, comment) in GLOBAL_TIME_INFO.items()])
    coordinates: dict[str, dict[str, Any]] = {}
    encoded.meta["__coordinate_columns__"] = coordinates
    location = None
    for col in table.columns.isinstance(Time):
        name = col.info.name
        kind = MaskedColumn if col.masked else Column
        if col.info.serialize_method["fits"] == "formatted_value":
            encoded.replace_column(name, kind(col.value))
            continue
        encoded.replace_column(name, kind(_jd_pairs(col), unit="d"))
        coordinates[name] = {"coord_type": col.scale.upper(), "coord_unit": "d",
                             "time_ref_pos": None if col.location is None else "TOPOCENTER"}
        if col.location is None:
            if location is not None:
                _warn(f'Time Column "{name}" has no specified location, but global Time '
                      "Position is present, which will be the default for this column in FITS "
                      "specification.")
            continue
        if col.scale in _BARYCENTRIC_SCALES:
            _warn(f'Earth Location "TOPOCENTER" for Time Column "{name}" is incompatible with '
                  f'scale "{col.scale.upper()}".')
        if location is None:
            location = col.location
            _store_location(location, encoded, header)
        elif np.any(location != col.location):
            raise ValueError(f"Multiple Time Columns with different geocentric observatory "
                             f"locations ({location}, {col.location}) encountered. This is not "
                             "supported by the FITS standard.")
    return encoded, header


# -- reading -------------------------------------------------------------------------------------

def _frame_scale(timesys: str) -> tuple[str, str | None]:
    """The astropy scale and, where astropy has the FITS scale as a format, that format, of a
    TIMESYS value; ValueError for a value the standard does not know."""
    timesys = str(timesys)
    scale = DEPRECATED_SCALES.get(timesys, timesys.lower())
    if scale in Time.SCALES:
        return scale, None
    if scale == "gps":
        _warn(f"Global time scale (TIMESYS) has a FITS recognized time scale {_GPS_NOTE}")
        return "tai", "gps"
    raise ValueError(f"Global time scale (TIMESYS) should have a FITS recognized time scale value "
                     f"(got {timesys!r}). The FITS standard states that the use of local time "
                     "scales should be restricted to alternate coordinates.")


def _frame_location(frame: dict[str, Any]) -> EarthLocation | None:
    """The observatory position of the frame: geocentric X/Y/Z (metres) when all three are
    given, else geodetic L/B (degrees) and H (metres); None, with a warning for a partial one,
    when neither is complete."""
    for keywords, build, what in ((OBSGEO_XYZ, _geocentric, "geocentric observatory location"),
                                  (OBSGEO_LBH, _geodetic, "geodetic observatory location")):
        given = [frame[key] for key in keywords if key in frame]
        if len(given) == 3:
            return build(given)
        if given:
            axes = "(X, Y, Z)" if keywords is OBSGEO_XYZ else "(lon, lat, alt)"
            _warn(f"The {what} {given} is not completely specified {axes} and will be ignored.")
    return None


def _geocentric(xyz: list) -> EarthLocation:
    return EarthLocation.from_geocentric(*xyz, unit=units.m)


def _geodetic(lbh: list) -> EarthLocation:
    return EarthLocation.from_geodetic(lbh[0], lbh[1], lbh[2])


class _Frame:
    """The table's global time frame, as astropy objects."""

    def __init__(self, keywords: dict[str, Any]) -> None:
        self.keywords = keywords
        if keywords["TIMESYS"] == "LOCAL":
            _warn(f"Global time scale (TIMESYS) has a FITS recognized time scale {_LOCAL_NOTE} "
                  'Astropy will thus use the default global time scale "UTC" instead of "LOCAL".')
            self.scale, self.format = "utc", None
        else:
            self.scale, self.format = _frame_scale(keywords["TIMESYS"])
        self.location = _frame_location(keywords)
        self.reference = reference_time(keywords)
        self.offset = _offset(keywords)
        self.topocentric = keywords["TREFPOS"] == "TOPOCENTER"


def _offset(keywords: dict[str, Any]) -> tuple[float, float]:
    """TIMEZERO + TIMEOFFS (in TIMEUNIT, by default seconds) as days (double-double), by the
    table facade's rule; (0, 0), with a warning, when one of them is not a number."""
    # an unknown TIMEUNIT is ignored here as for the columns: the offsets count in seconds
    stated = {key: keywords[key] for key in ("TIMEZERO", "TIMEOFFS", "TIMEUNIT")
              if key in keywords and (key != "TIMEUNIT" or keywords[key] in TIME_UNITS)}
    try:
        return time_frame(stated).offset
    except ValueError as exc:
        _warn(f"{exc}; times are read without it.")
        return 0.0, 0.0


class _ColumnTime:
    """How one column's values become a Time: its scale, format (None, or 'gps'), location and
    the frame's reference time and offset."""

    def __init__(self, scale: str, format: str | None, location: EarthLocation | None,
                 frame: _Frame, unit: str | None = None,
                 linear: tuple[float, float, float] | None = None) -> None:
        self.scale, self.format, self.location = scale, format, location
        # (TCRVLn, TCRPXn, TCDLTn) of the column, None when it has none of them
        self.linear = linear
        self.reference = frame.reference
        self.offset = frame.offset
        # the unit of a column without TUNITn: TCUNIn, else TIMEUNIT; None leaves astropy's
        # assumption, days (seconds for GPS)
        unit = unit if unit is not None else frame.keywords.get("TIMEUNIT")
        self.unit = unit if unit in TIME_UNITS else None


def _declared_scale(ctype: str, name: str, frame: _Frame) -> tuple[str, str | None] | None:
    """The scale and format TCTYPn = ``ctype`` declares; None when it is not a time axis."""
    if not isinstance(ctype, str) or is_spatial_ctype(ctype):
        return None
    if ctype.lower() in Time.SCALES:
        return ctype.lower(), None
    if ctype in DEPRECATED_SCALES:
        return DEPRECATED_SCALES[ctype], None
    if ctype == "TIME":
        return frame.scale, frame.format
    if ctype == "GPS":
        _warn(f'Table column "{name}" has a FITS recognized time scale {_GPS_NOTE}')
        return "tai", "gps"
    if ctype == "LOCAL":
        _warn(f'Table column "{name}" has a FITS recognized time scale {_LOCAL_NOTE} Astropy '
              "will thus use the global time scale (TIMESYS) as the default.")
        return frame.scale, frame.format
    return None


def _declared_time(keywords: dict[str, Any], name: str, frame: _Frame,
                   linear: tuple[float, float, float] | None) -> _ColumnTime | None:
    """The time of a column with TCTYPn / TCUNIn / TRPOSn ``keywords`` and the linear axis
    ``linear``; None when they do not make it a time coordinate."""
    ctype, unit, position = (keywords.get(k) for k in ("TCTYP", "TCUNI", "TRPOS"))
    if ctype is not None:
        declared = _declared_scale(ctype, name, frame)
        if declared is None:
            return None
    elif unit in TIME_UNITS or position is not None:
        declared = frame.scale, frame.format
    else:
        return None
    location = None
    if position == "TOPOCENTER":
        location = frame.location
        if location is None:
            _warn('Time column reference position "TRPOSn" value is "TOPOCENTER". However, the '
                  "observatory position is not properly specified. The FITS standard does not "
                  "support this and hence reference position will be ignored.")
    elif position is None and frame.topocentric and frame.location is not None:
        # TRPOSn defaults to TOPOCENTER, but only a column that says so gets the location
        _warn('Time column reference position "TRPOSn" is not specified. The default value for '
              'it is "TOPOCENTER", and the observatory position has been specified. However, for '
              "supporting column-specific location, reference position will be ignored for this "
              "column.")
    return _ColumnTime(*declared, location, frame, unit, linear)


def _conventional_time(col: Any, frame: _Frame) -> _ColumnTime | None:
    """The time of a column with no time keywords that is one by convention: named TIME
    (any case) with a time unit."""
    if col.info.name.upper() != "TIME" or col.info.unit not in TIME_UNITS:
        return None
    location = frame.location if frame.topocentric else None
    if frame.topocentric and location is None:
        _warn(f'Time column "{col.info.name}" reference position will be ignored due to '
              "unspecified observatory position.")
    return _ColumnTime(frame.scale, frame.format, location, frame)


def _to_time(col: Any, how: _ColumnTime) -> Any:
    """``col`` as a Time: ISO-8601 strings, or numbers. A column astropy cannot convert is
    returned unchanged, with a warning naming the error."""
    try:
        if col.info.dtype.kind in "SU":
            return _iso_time(col, how)
        return _numeric_time(col, how)
    except Exception as exc:    # astropy's errors for values it cannot take are of many classes
        _warn(f'The exception "{exc}" was encountered while trying to convert the time column '
              f'"{col.info.name}" to Astropy Time.')
        return col


def _iso_time(col: Any, how: _ColumnTime) -> Time:
    """The Time of a column of ISO-8601 strings, shown with as many digits of the seconds as
    the cells have room for."""
    characters = col.info.dtype.itemsize // (4 if col.info.dtype.kind == "U" else 1)
    # the digits after the seconds' point: 'YYYY-MM-DDThh:mm:ss.' is 20 characters
    return Time(col, format="fits", scale=how.scale, precision=max(characters - 20, 0),
                location=how.location)


def _numeric_time(col: Any, how: _ColumnTime) -> Time:
    """The Time of GPS seconds, (jd1, jd2) pairs or numbers relative to the reference time,
    plus TIMEZERO + TIMEOFFS, in the format astropy's own reader gives it.

    The Julian dates are summed here, in numpy, with the table facade's exact double-double
    helpers, and handed to astropy once: ``Time + TimeDelta`` does the same sums several
    times slower."""
    start, form = _start(how)
    values, mask = _unmasked(col)
    days: tuple[np.ndarray, np.ndarray] | None = _days(values, col.info.unit, how)
    if how.reference[0] == (0, 0) and form in ("jd", "mjd"):
        # counted from JD or MJD 0 the numbers are dates, as astropy reads them, not elapsed
        # time
        start, days = add_days(start, days), None
    time = _dated(start, days, how)
    time.format = form
    if mask is not None:
        # a pair is missing when either half is
        time[mask if mask.shape == time.shape else mask.any(axis=-1)] = np.ma.masked
    return time


def _dated(dates: tuple[Any, Any], days: tuple[np.ndarray, np.ndarray] | None,
           how: _ColumnTime) -> Time:
    """The Time ``dates`` + TIMEZERO + TIMEOFFS + ``days`` (each (jd1, jd2) days; ``days``
    elapsed days, None for none) in the column's scale and location. Elapsed time is added
    where astropy adds a TimeDelta: in the scale itself, but for UTC (whose days with a leap
    second are longer) in TAI."""
    scale = how.scale
    offset = how.offset != (0.0, 0.0)
    if scale not in TimeDelta.SCALES and (offset or days is not None):
        scale = "tai"
        dates = _julian(Time(*dates, format="jd", scale=how.scale).tai)
    # the offset first: with dates one reference time, only one sum is over the arrays
    if offset:
        dates = add_days(dates, how.offset)
    jd1, jd2 = dates if days is None else add_days(dates, days)
    # astropy refuses NaN in the first part only: a NaN cell that is not masked stays a NaN time
    nan = np.isnan(jd1)
    if nan.any():
        jd1 = np.where(nan, 0.0, jd1)
    time = Time(jd1, jd2, format="jd", scale=scale, location=how.location)
    return time if scale == how.scale else getattr(time, how.scale)


def _julian(time: Time) -> tuple[Any, Any]:
    """(jd1, jd2) of ``time``: floats for one time, float64 arrays for several."""
    if time.isscalar:
        return float(time.jd1), float(time.jd2)
    return time.jd1, time.jd2


def _start(how: _ColumnTime) -> tuple[tuple[float, float], str]:
    """The time the column's numbers count from, as (jd1, jd2) days in the column's scale, and
    the Time format astropy's reader gives the column: for GPS, astropy's GPS epoch and format
    (astropy counts GPS seconds from it whatever the reference time); else the reference time
    and the format it is stated in ('mjd', 'jd' or 'fits')."""
    if how.format == "gps":
        origin, form = Time(0.0, format="gps"), "gps"
    else:
        (value, part), form = how.reference
        origin = Time(value, part, format=form, scale=how.scale) if form != "fits" else \
            Time(value, format=form, scale=how.scale)
    return _julian(origin), form


def _unmasked(col: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """The stored numbers of ``col`` (without unit or mask) and its mask (bool, shape of
    ``col``; None when no cell is masked)."""
    mask = getattr(col, "mask", None)
    # a masked Quantity (QTable) keeps its data in .unmasked, a MaskedColumn in .data
    data = col.unmasked if hasattr(col, "unmasked") else np.ma.getdata(col)
    if mask is None or not np.any(mask):
        return np.asarray(data), None
    return np.asarray(data), np.asarray(mask)


def _days(values: np.ndarray, unit: units.UnitBase | None, how: _ColumnTime
          ) -> tuple[np.ndarray, np.ndarray]:
    """``values`` (stored numbers, or (jd1, jd2) pairs on the last axis) as days, double-double:
    counted in ``unit`` (TUNITn, as astropy reads it: any time unit; UnitConversionError for
    one that is not), else in the declared unit (TCUNIn, else TIMEUNIT), else in what astropy
    assumes (days; seconds for GPS); numbers through the column's linear axis."""
    if unit is not None:
        per_unit = unit.to(units.day)
    else:
        per_unit = DAYS_PER_UNIT[how.unit or ("s" if how.format == "gps" else "d")]
    return stored_days(values, per_unit, how.linear)


def _meta_time(keyword: str, value: Any, frame: _Frame) -> Time | None:
    """A DATE-* or MJD-* card's value as a Time (DATE is always UTC); None for other keywords
    and for values astropy cannot read."""
    try:
        if keyword.startswith("DATE"):
            scale = "utc" if keyword == "DATE" else frame.scale
            precision = len(value.split(".")[-1]) if "." in value else 0
            return Time(value, format="fits", scale=scale, precision=precision)
        if keyword.startswith("MJD-"):
            return Time(value, format="mjd", scale=frame.scale)
    except (ValueError, TypeError, AttributeError):
        pass
    return None


def _linear_axes(cards: list[tuple[str, Any]]) -> dict[int, tuple[float, float, float]]:
    try:
        return linear_axes(cards)
    except ValueError as exc:
        _warn(f"{exc}; time columns are read without TCRVLn / TCRPXn / TCDLTn.")
        return {}


def _replace(table: Any, name: str, how: _ColumnTime) -> None:
    """Column ``name`` of ``table`` read as a time by ``how``, in place."""
    column = _to_time(table[name], how)
    if column is not table[name]:
        # the new column is the table's own: a copy would only cost time
        table.replace_column(name, column, copy=False)


def fits_to_time(hdr: Header, table: Any) -> Header:
    """Replace the time columns of ``table`` (astropy Table or QTable, read from a table HDU
    with header ``hdr``) by ``Time`` columns, and put DATE-* / MJD-* values into
    ``table.meta`` as ``Time``. Returns a copy of ``hdr`` without the time keywords it used."""
    cards = [(card.keyword, card.value) for card in hdr.cards]
    keywords, columns, found = split_time_keywords(cards)
    for keyword in OBSGEO_XYZ:
        # the Green Bank convention: a position per row, in columns named for the keywords
        if keyword in table.colnames:
            keywords[keyword] = table[keyword]
    frame = _Frame(keywords)
    for keyword, value in keywords.items():
        if keyword not in table.meta:
            time = _meta_time(keyword, value, frame)
            if time is not None:
                table.meta[keyword] = time
    axes = _linear_axes(cards)
    names = table.colnames
    for number, column_keywords in columns.items():
        if 1 <= number <= len(names):
            how = _declared_time(column_keywords, names[number - 1], frame, axes.get(number))
            if how is not None:
                _replace(table, names[number - 1], how)
    for number, name in enumerate(names, 1):
        if number not in columns:
            how = _conventional_time(table[name], frame)
            if how is not None:
                _replace(table, name, how)
    remaining = hdr.copy(strip=True)
    # TREFDIR names the columns holding the reference direction: nothing here applies it, so it
    # stays in meta for the user
    for keyword in found - {"TREFDIR"}:
        remaining.remove(keyword, ignore_missing=True, remove_all=True)
    return remaining
