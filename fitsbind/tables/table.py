"""fitsbind.Table: a light columnar table on numpy, what :func:`fitsbind.read_table` returns
and :func:`fitsbind.write_table` takes.

A Table is an ordered mapping of column name -> values: a numpy array (first axis rows, any
cell shape), a ``numpy.ma.MaskedArray`` (True in the mask where a cell has no value) or a
:class:`~fitsbind.tables.timecols.TimeColumn`. Each column has a :class:`ColumnMeta` (unit,
Python display format, description, and how FITS stores it), and the table a ``meta`` dict of
header keywords (COMMENT and HISTORY as lists of strings).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from fitsbind.tables.timecols import TimeColumn

__all__ = ["ColumnMeta", "Table"]


@dataclass
class ColumnMeta:
    """What a column carries besides its values: ``unit`` (a FITS unit string, TUNITn),
    ``format`` (a Python format string such as ``'{:8.3f}'``, from and to TDISPn),
    ``description``, and how the column is stored in FITS, kept so a table read and written
    again is stored the same way: ``tform`` (TFORMn), ``null`` (TNULLn, the stored integer of
    a missing cell), ``scale`` and ``zero`` (TSCALn, TZEROn: value = stored * scale + zero)."""
    unit: str | None = None
    format: str | None = None
    description: str | None = None
    tform: str | None = None
    null: int | None = None
    scale: float | None = None
    zero: float | None = None


def _as_column(values: Any) -> Any:
    if isinstance(values, (TimeColumn, np.ndarray)):
        return values
    return np.asarray(values)


def _rows_of(values: Any) -> int:
    return len(values) if np.ndim(values.jd1 if isinstance(values, TimeColumn) else values) \
        else 0


class Table(Mapping):
    """Columns of equal length by name, in order, with per-column :class:`ColumnMeta` in
    ``info`` and table keywords in ``meta``.

    ``columns``: a mapping of name -> values (arrays, masked arrays, TimeColumns, sequences)
    or a numpy structured (or masked structured) array. ``len(table)`` is the number of
    columns, as for any mapping; ``table.nrows`` the number of rows. ``table["NAME"]`` is a
    column; ``table[rows]`` (slice, integer array or boolean mask) a new Table of those rows.

    >>> import numpy as np
    >>> t = Table({"id": np.arange(3), "flux": np.ma.masked_invalid([1.5, np.nan, 3.0])},
    ...           units={"flux": "mJy"}, meta={"TELESCOP": "HST"})
    >>> t
    <fitsbind.Table 3 rows: id int64, flux float64 [mJy] (masked)>
    >>> t[1:].nrows, t.info["flux"].unit
    (2, 'mJy')
    """

    def __init__(self, columns: Any = None, *, meta: Mapping[str, Any] | None = None,
                 units: Mapping[str, str | None] | None = None,
                 formats: Mapping[str, str | None] | None = None,
                 descriptions: Mapping[str, str | None] | None = None) -> None:
        self._columns: dict[str, Any] = {}
        self.info: dict[str, ColumnMeta] = {}
        self.meta: dict[str, Any] = dict(meta or {})
        if isinstance(columns, np.ndarray) and columns.dtype.names:
            columns = {name: columns[name] for name in columns.dtype.names}
        for name, values in (columns or {}).items():
            self[name] = values
        for attribute, given in (("unit", units), ("format", formats),
                                 ("description", descriptions)):
            for name, value in (given or {}).items():
                setattr(self.info[name], attribute, value)

    # the mapping

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._columns[key]
        return self.take(key)

    def __setitem__(self, name: str, values: Any) -> None:
        """Add or replace column ``name``; its length must be the table's row count."""
        if not isinstance(name, str):
            raise TypeError(f"column names are str, not {name!r}")
        column = _as_column(values)
        other = next((values for key, values in self._columns.items() if key != name), None)
        if other is not None and _rows_of(column) != _rows_of(other):
            raise ValueError(f"column {name!r} has {_rows_of(column)} rows; the table has "
                             f"{_rows_of(other)}")
        self._columns[name] = column
        self.info.setdefault(name, ColumnMeta())

    def __delitem__(self, name: str) -> None:
        del self._columns[name]
        del self.info[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    @property
    def colnames(self) -> list[str]:
        """Column names in order."""
        return list(self._columns)

    @property
    def nrows(self) -> int:
        """Number of rows (0 for a table with no columns)."""
        return _rows_of(next(iter(self._columns.values()))) if self._columns else 0

    def take(self, rows: Any) -> Table:
        """A new Table of ``rows`` (slice, integer indices or boolean mask); columns are
        views for a slice, copies otherwise."""
        taken = Table(meta=self.meta)
        for name, values in self._columns.items():
            taken[name] = values[rows]
            taken.info[name] = replace(self.info[name])
        return taken

    def __repr__(self) -> str:
        parts = []
        for name, values in self._columns.items():
            if isinstance(values, TimeColumn):
                kind = f"time ({values.scale})"
            else:
                cell = values.shape[1:]
                kind = str(values.dtype) + (f"{list(cell)}" if cell else "")
            unit = self.info[name].unit
            masked = isinstance(values, np.ma.MaskedArray) or (
                isinstance(values, TimeColumn) and values.mask is not None)
            parts.append(f"{name} {kind}" + (f" [{unit}]" if unit else "") +
                         (" (masked)" if masked else ""))
        return f"<fitsbind.Table {self.nrows} rows: {', '.join(parts)}>"

    # conversions: the other libraries' tables

    def to_pandas(self) -> Any:
        """A pandas DataFrame: masked integers and booleans as pandas' nullable dtypes
        (``Int32``, ``boolean``, ...), masked floats as NaN, byte strings as str (missing as
        None), time columns as ``datetime64[ns]`` on their own scale, cells with more than one
        value as object columns of arrays; units, formats, descriptions, time scales and
        ``meta`` in ``DataFrame.attrs["fitsbind"]``. Needs pandas."""
        from fitsbind.tables.convert import to_pandas
        return to_pandas(self)

    def to_arrow(self) -> Any:
        """A pyarrow Table: masks as nulls, byte strings as utf8, time columns as
        ``timestamp[ns]``, cells with more than one value as fixed-size lists, variable-length
        cells as lists; unit, format, description, time scale and how FITS stores the column
        (TFORM, TNULL, TSCAL, TZERO) in each field's metadata, ``meta`` as JSON in the schema
        metadata. Needs pyarrow."""
        from fitsbind.tables.convert import to_arrow
        return to_arrow(self)

    def to_astropy(self, cls: Any = None) -> Any:
        """An astropy Table (or ``cls``, e.g. QTable): MaskedColumns for masked columns, Time
        for time columns, units, formats, descriptions and meta. Needs astropy."""
        from fitsbind.tables.convert import to_astropy
        return to_astropy(self, cls)

    @classmethod
    def from_pandas(cls, frame: Any) -> Table:
        """The Table of a pandas DataFrame (nullable dtypes and NaT as masks, datetime64
        columns as UTC times, str columns as fixed-width strings)."""
        from fitsbind.tables.convert import from_pandas
        return from_pandas(frame)

    @classmethod
    def from_arrow(cls, table: Any) -> Table:
        """The Table of a pyarrow Table (nulls as masks, timestamps as UTC times unless the
        field says otherwise, fixed-size lists as cells of several values)."""
        from fitsbind.tables.convert import from_arrow
        return from_arrow(table)

    @classmethod
    def from_astropy(cls, table: Any) -> Table:
        """The Table of an astropy Table or QTable (MaskedColumn, Quantity and Time columns;
        other mixins are a TypeError: write those with ``Table.write(format="fitsbind")``)."""
        from fitsbind.tables.convert import from_astropy
        return from_astropy(table)
