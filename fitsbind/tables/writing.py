"""fitsbind.write_table: a table as a FITS binary table HDU, on numpy alone, through the
direct tier (which checks every value before the file changes and writes a new file under a
temporary name, renamed into place only when complete)."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from fitsbind.direct import FITS, ColumnSpec, TableHDU, parse_tform, spec_for
from fitsbind.errors import FITSFileExistsError
from fitsbind.tables.masking import free_null
from fitsbind.tables.reading import COMPRESSION_KEYWORD, STRUCTURAL_KEYWORDS, is_column_keyword
from fitsbind.tables.table import ColumnMeta, Table
from fitsbind.tables.tdisp import python_to_tdisp
from fitsbind.tables.timecols import TimeColumn, TimeFrame, encode_time, time_frame
from fitsbind.tables.timekeys import OBSGEO_LBH, OBSGEO_XYZ, WRITTEN_TIME_FRAME

__all__ = ["as_table", "write_table"]

# the frame keywords that decide how a time column's stored values read back
_FRAME_KEYWORDS = ("TIMESYS", "MJDREF", "MJDREFI", "MJDREFF", "JDREF", "JDREFI", "JDREFF",
                   "DATEREF", "TIMEUNIT", "TIMEZERO", "TIMEOFFS", "TREFPOS")
_STORED_TYPES = {"B": np.uint8, "I": np.int16, "J": np.int32, "K": np.int64}


def as_table(data: Any) -> Table:
    """``data`` as a :class:`Table`: a Table itself, a mapping of columns, a structured
    array, or a pandas DataFrame, pyarrow Table or astropy Table (converted)."""
    if isinstance(data, Table):
        return data
    if isinstance(data, Mapping) or (isinstance(data, np.ndarray) and data.dtype.names):
        return Table(data)
    kind = type(data).__module__.split(".")[0]
    if kind == "pandas":
        return Table.from_pandas(data)
    if kind == "pyarrow":
        return Table.from_arrow(data)
    if kind == "astropy":
        return Table.from_astropy(data)
    raise TypeError(f"write_table writes a fitsbind.Table, a dict of columns, a structured "
                    f"array, or a pandas, pyarrow or astropy table; not {type(data).__name__}")


@contextlib.contextmanager
def _target(target: Any, overwrite: bool, append: bool) -> Iterator[FITS]:
    """The open file the new HDU goes into."""
    if isinstance(target, FITS):
        yield target
        return
    if not isinstance(target, (str, os.PathLike)):
        raise TypeError(f"write_table writes to a path or a fitsbind.FITS open for writing, "
                        f"not {type(target).__name__}")
    exists = os.path.exists(target)
    if exists and not (overwrite or append):
        raise FITSFileExistsError(f"{os.fspath(target)} exists; pass overwrite=True to replace "
                                  "it or append=True to add the table to it",
                                  filename=os.fspath(target))
    with FITS(target, "r+" if exists and append else "w+") as fits:
        yield fits


class _Plan:
    """The columns, values and header cards of the HDU being written."""

    def __init__(self, table: Table, target: str) -> None:
        self.table = table
        self.target = target
        self.specs: list[ColumnSpec] = []
        self.values: dict[str, Any] = {}
        self.cards: list[tuple[str, Any, str | None]] = []
        self.descriptions: dict[int, str] = {}
        self.frame: TimeFrame | None = None
        self.location: tuple[Any, Any, Any] | None = None

    def add(self, name: str, values: Any, info: ColumnMeta) -> None:
        where = f"{self.target}, column {name!r}"
        number = len(self.specs) + 1
        if isinstance(values, TimeColumn):
            values = self._time(values, number, where)
            spec = spec_for(name, values)
            spec.unit = "d"
        else:
            values, spec = _stored(name, values, info, where)
        if info.unit is not None and spec.unit is None:
            spec.unit = info.unit
        if info.format is not None and spec.disp is None:
            spec.disp = python_to_tdisp(info.format, values.dtype.kind == "b")
        if info.description:
            self.descriptions[number] = info.description
        self.specs.append(spec)
        self.values[name] = values

    def _time(self, column: TimeColumn, number: int, where: str) -> np.ndarray:
        if self.frame is None:
            self.frame = _frame(self.table.meta, where)
        self.cards += [(f"TCTYP{number}", column.scale.upper(), "time scale of the column"),
                       (f"TCUNI{number}", "d", "time unit: days")]
        if column.location is not None:
            self.cards.append((f"TRPOS{number}", "TOPOCENTER", "time reference position"))
            if self.location is None:
                self.location = column.location
            elif not all(np.array_equal(a, b) for a, b in zip(self.location, column.location)):
                raise ValueError(f"{where}: time columns at different observatory locations; "
                                 "a FITS table has one")
        return encode_time(column, self.frame)

    def header(self, extname: str | None) -> list[tuple[str, Any, str | None]]:
        """The cards of ``meta`` (less what the columns and the time frame decide), the time
        frame's, and the columns' time keywords."""
        entries: list[tuple[str, Any, str | None]] = []
        skip = set(STRUCTURAL_KEYWORDS)
        if extname is not None:
            skip.add("EXTNAME")
            entries.append(("EXTNAME", extname, "extension name"))
        if self.frame is not None and self.location is not None:
            skip.update(OBSGEO_XYZ + OBSGEO_LBH)   # the columns' location replaces them
        for key, value in self.table.meta.items():
            key = str(key).strip().upper()
            if key in skip or is_column_keyword(key) or COMPRESSION_KEYWORD.match(key):
                continue
            if isinstance(value, list) and key not in ("COMMENT", "HISTORY"):
                if len(value) > 1:
                    warnings.warn(f"{self.target}: meta[{key!r}] holds {len(value)} values; "
                                  "a header card keeps the first", UserWarning, stacklevel=4)
                value = value[:1]
            for item in value if isinstance(value, list) else [value]:
                entries.append((key, item, None))
        if self.frame is not None:
            present = {key for key, _, _ in entries}
            entries += [(key, value, comment) for key, value, comment in WRITTEN_TIME_FRAME
                        if key not in present and not (key == "JDREF" and _has_reference(present))]
            if self.location is not None:
                entries += _location_cards(self.location)
        return entries + self.cards


def _has_reference(keys: set[str]) -> bool:
    return bool(keys & {"MJDREF", "MJDREFI", "MJDREFF", "JDREF", "JDREFI", "JDREFF", "DATEREF"})


def _frame(meta: Mapping[str, Any], where: str) -> TimeFrame:
    """The time frame time columns are written in: the one ``meta`` states, so its other
    times (DATE-OBS, TSTART, ...) keep their meaning; else JD 0 in UTC."""
    keywords = {str(k).upper(): v for k, v in meta.items() if str(k).upper() in _FRAME_KEYWORDS}
    if not _has_reference(set(keywords)):
        keywords["JDREF"] = 0.0
    try:
        return time_frame(keywords)
    except ValueError as exc:
        raise ValueError(f"{where}: the table's meta states a time frame that cannot be "
                         f"written: {exc}") from None


def _location_cards(location: tuple[Any, Any, Any]) -> list[tuple[str, Any, str | None]]:
    if np.ndim(location[0]):
        raise ValueError("time columns with an observatory location per row are not written "
                         "by write_table; give one location (x, y, z)")
    return [(key, float(value), "[m] observatory position, geocentric")
            for key, value in zip(OBSGEO_XYZ, location)]


def _stored(name: str, values: Any, info: ColumnMeta, where: str
            ) -> tuple[Any, ColumnSpec]:
    """The values to write for a column and its ColumnSpec: the stored form ``info`` keeps
    (TFORM with TSCAL/TZERO) when there is one, masked cells as the column's null."""
    mask = np.ma.getmask(values) if np.ma.isMaskedArray(values) else np.ma.nomask
    data = np.ma.getdata(values)
    masked = mask is not np.ma.nomask and bool(np.any(mask))
    if info.tform is not None and (info.scale is not None or info.zero is not None) \
            and data.dtype.kind in "biuf":
        code = parse_tform(info.tform).code
        spec = spec_for(name, data)
        spec.format, spec.scale, spec.zero = info.tform, info.scale, info.zero
        if code in _STORED_TYPES and (masked or info.null is not None):
            stored = np.rint((np.asarray(data, np.float64) - (info.zero or 0.0))
                             / (info.scale or 1.0))
            spec.null = free_null(stored, mask if masked else np.zeros(stored.shape, bool),
                                  np.dtype(_STORED_TYPES[code]), info.null, where)
        return values, spec
    if data.dtype.kind == "O" and masked:
        raise ValueError(f"{where}: variable-length cells have no null in FITS; give the "
                         "masked ones as empty arrays")
    if data.dtype.kind in "SU" and masked:
        return np.where(mask, data.dtype.type(), data), spec_for(name, data)
    if data.dtype.kind in "iu" and (masked or info.null is not None):
        spec = spec_for(name, data)
        offset = int(spec.zero or 0)
        null = free_null(data, mask if masked else np.zeros(data.shape, bool), data.dtype,
                         None if info.null is None else info.null + offset, where)
        spec.null = null - offset   # TNULL is the stored value: physical - TZERO
        return values, spec
    return values, spec_for(name, data)


def write_table(table: Any, target: Any, *, extname: str | None = None,
                overwrite: bool = False, append: bool = False) -> TableHDU | None:
    """Write ``table`` as a binary table HDU.

    ``table``: a :class:`fitsbind.Table`, a dict of columns, a structured array, or a
    pandas DataFrame, pyarrow Table or astropy Table. ``target``: a path (a new file; an
    existing one is an error unless ``overwrite`` replaces it or ``append`` adds the HDU at
    its end) or a :class:`fitsbind.FITS` open for writing (the HDU is appended; it is
    returned). ``extname``: EXTNAME (else ``meta["EXTNAME"]`` if there is one).

    Masked cells are stored as FITS nulls: NaN in float columns, the undefined logical,
    empty strings, and in integer columns TNULLn (the column's own null if it has one and no
    valid cell holds it, else the type's minimum, maximum or smallest free value; ValueError
    when every value of the type is taken). Columns read from a scaled column are stored
    scaled again (TSCALn / TZEROn; values rounded, and a ValueError when one does not fit).
    Units go to TUNITn, Python formats to TDISPn, descriptions to the TTYPEn comments, time
    columns to (jd1, jd2) pairs in the FITS time standard, ``meta`` to header cards.
    """
    plan = _Plan(as_table(table), target.filename if isinstance(target, FITS) else
                 os.fspath(target) if isinstance(target, (str, os.PathLike)) else "table")
    for name in plan.table.colnames:
        plan.add(name, plan.table[name], plan.table.info[name])
    cards = plan.header(extname)
    with _target(target, overwrite, append) as fits:
        hdu = fits.write_table(plan.values, columns=plan.specs, header=cards)
        for number, text in plan.descriptions.items():
            hdu.header.set_comment(f"TTYPE{number}", text)
        return hdu if isinstance(target, FITS) else None
