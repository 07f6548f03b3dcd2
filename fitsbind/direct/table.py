"""TableHDU: a binary or ASCII table HDU of an open file: reading columns and rows (also
through CFITSIO row filters), writing, appending, inserting and deleting rows and columns."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from fitsbind._fitsfile import FitsFile
from fitsbind.direct import rawio
from fitsbind.direct.cells import (
    VLA_MODES,
    decode,
    encode,
    field_names,
    fit_strings,
    heap_cells,
    record,
    to_bytes,
    vla_cells,
)
from fitsbind.direct.columns import (
    BINARY_TYPES,
    ColumnInfo,
    ColumnSpec,
    as_spec,
    check_specs,
    spec_for,
    table_columns,
)
from fitsbind.direct.hdu import HDU
from fitsbind.direct.rows import RowIO, TableLayout, row_span
from fitsbind.errors import FITSError, FITSIndexError, FITSKeyError, FITSTypeError, FITSValueError

# header keywords that define columns: changing one changes how the table reads
_COLUMN_KEYS = ("TTYPE", "TFORM", "TSCAL", "TZERO", "TNULL", "TDIM", "TBCOL", "THEAP",
                "NAXIS", "PCOUNT", "TFIELDS")


class TableHDU(HDU):
    """A table HDU (BINTABLE, or TABLE when :attr:`ascii`) of an open :class:`~fitsbind.FITS`
    file. Its layout comes from the header: NAXIS2 rows of NAXIS1 bytes, TFIELDS columns
    named by TTYPEn, stored as TFORMn.

    Reads give numpy structured arrays in native byte order: ``read(columns, rows, where=)``,
    ``read_column(name)``, ``hdu["NAME"][a:b]``, ``hdu[a:b]``. Only the bytes of the rows and
    columns asked for are read. Writes are checked completely before the file changes.
    """

    def __init__(self, fits: Any, index: int, ascii: bool) -> None:
        super().__init__(fits, index)
        self._ascii = ascii
        self._cached: TableLayout | None = None

    # -- layout -------------------------------------------------------------------------------

    def _layout(self) -> TableLayout:
        if self._cached is None:
            values = self.header.to_dict()
            where = self._where()
            columns = table_columns(values, self._ascii, where)
            rowsize = int(values.get("NAXIS1", 0))
            nrows = int(values.get("NAXIS2", 0))
            pcount = int(values.get("PCOUNT", 0) or 0)
            theap = values.get("THEAP", rowsize * nrows)
            if not isinstance(theap, int) or not rowsize * nrows <= theap <= rowsize * nrows \
                    + pcount:
                raise FITSValueError(f"{where}: THEAP = {theap!r} is outside the data "
                                     f"(rows end at byte {rowsize * nrows}, PCOUNT {pcount})",
                                     filename=self._fits.filename, hdu=self._index)
            self._cached = TableLayout(tuple(columns), tuple(field_names(columns)), rowsize,
                                   nrows, theap, rowsize * nrows + pcount - theap)
        return self._cached

    def _invalidate(self) -> None:
        self._cached = None
        self.header._invalidate()

    def _after_header_change(self, name: str) -> None:
        if name.startswith(_COLUMN_KEYS):
            self._cached = None
            if self._fits.writable:
                with self._selected(writing=True) as f:
                    f.finish_hdu()   # CFITSIO re-reads the column definitions

    @property
    def ascii(self) -> bool:
        """True for an ASCII table (XTENSION = 'TABLE')."""
        return self._ascii

    @property
    def nrows(self) -> int:
        """Number of rows (NAXIS2)."""
        return self._layout().nrows

    @property
    def ncols(self) -> int:
        """Number of columns (TFIELDS)."""
        return len(self._layout().columns)

    @property
    def rowsize(self) -> int:
        """Bytes (characters for ASCII tables) per stored row (NAXIS1)."""
        return self._layout().rowsize

    @property
    def columns(self) -> tuple[ColumnInfo, ...]:
        """Every column: name, TFORM, offset in the row, cell shape, scaling, null, unit."""
        return self._layout().columns

    @property
    def colnames(self) -> list[str]:
        """Column names (TTYPEn; ``""`` for an unnamed column)."""
        return [c.name for c in self._layout().columns]

    @property
    def formats(self) -> list[str]:
        """Column storage formats (TFORMn)."""
        return [c.tform for c in self._layout().columns]

    @property
    def dtype(self) -> np.dtype:
        """The dtype :meth:`read` gives (with scaling; object for variable-length columns)."""
        layout = self._layout()
        return np.dtype([(n, c.dtype()) for n, c in zip(layout.names, layout.columns)])

    def column(self, key: str | int) -> ColumnInfo:
        """The column named ``key`` (exact name first, then case-insensitive) or at index
        ``key``; FITSKeyError if there is none."""
        return self._layout().columns[self._column_index(key)]

    def _column_index(self, key: str | int) -> int:
        layout = self._layout()
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if not -len(layout.columns) <= key < len(layout.columns):
                raise FITSKeyError(f"{self._where()}: no column {key} ({len(layout.columns)} "
                                   "columns)", filename=self._fits.filename, hdu=self._index)
            return int(key) % len(layout.columns)
        if not isinstance(key, str):
            raise FITSTypeError(f"columns are selected by name or index, not {key!r}")
        for names in (layout.names, [c.name for c in layout.columns]):
            if key in names:
                return list(names).index(key)
        matches = [i for i, c in enumerate(layout.columns)
                   if c.name.upper() == key.strip().upper()]
        if not matches:
            raise FITSKeyError(f"{self._where()}: no column named {key!r}; columns are "
                               f"{list(layout.names)}", filename=self._fits.filename,
                               hdu=self._index)
        return matches[0]

    # -- reading ------------------------------------------------------------------------------

    def read(self, columns: Sequence[str | int] | str | None = None, rows: Any = None, *,
             where: str | None = None, scale: bool = True, mask_null: bool = False,
             vla: str = "object") -> np.ndarray:
        """Read rows of the table as a structured array (native byte order; fields named as
        the columns, ``col{n}`` for unnamed or repeated names).

        ``columns``: names or indices (default all). ``rows``: a slice, a sequence of row
        indices (any order, repeats allowed, negative from the end) or a boolean mask of
        ``nrows``; default all. ``where``: a CFITSIO row-filter expression (e.g. ``"mag < 20
        && flag == 0"``) that the rows must also satisfy.

        Types: L → bool, X → bool arrays of the bit count, A → bytes (trailing blanks
        removed; TDIM gives arrays of strings), B/I/J/K/E/D/C/M → their numpy types,
        the TZERO conventions → uint16/uint32/uint64/int8; other TSCAL/TZERO → float64
        unless ``scale=False``. Variable-length columns (P/Q) give an object array of 1-D
        arrays (``vla="object"``), or arrays zero-padded to the longest cell
        (``vla="padded"``, also ``"masked"``, masking the padding). ``mask_null`` returns
        a masked array: TNULL integers, NaN floats and undefined logicals masked.
        """
        return self._read(columns, rows, where, scale, mask_null, vla, split=False)

    def read_columns(self, columns: Sequence[str | int] | str | None = None, rows: Any = None,
                     *, where: str | None = None, scale: bool = True, mask_null: bool = False,
                     vla: str = "object") -> dict[str, np.ndarray]:
        """:meth:`read`, giving a dict of field name -> column (first axis rows; a
        ``numpy.ma.MaskedArray`` for every column with ``mask_null``) instead of one
        structured array, which saves copying every column into it."""
        return self._read(columns, rows, where, scale, mask_null, vla, split=True)

    def _read(self, columns: Sequence[str | int] | str | None, rows: Any, where: str | None,
              scale: bool, mask_null: bool, vla: str, split: bool) -> Any:
        layout, cols, names, selection = self._read_plan(columns, rows, where, vla)
        if self._ascii:
            table = self._read_ascii(cols, names, selection, scale=scale, mask_null=mask_null)
            return {name: table[name] for name in names} if split else table
        with self._selected() as f:
            io = RowIO(f, writing=False)
            records = self._read_records(io, layout, cols, names, selection, not mask_null)
            return decode(records, cols, names, scale=scale, mask_null=mask_null, vla=vla,
                          heap=lambda c, d: self._heap(io, layout, c, d, scale), split=split)

    def _read_plan(self, columns: Sequence[str | int] | str | None, rows: Any,
                   where: str | None, vla: str
                   ) -> tuple[TableLayout, list[ColumnInfo], list[str], slice | np.ndarray]:
        """What a :meth:`read` reads, its arguments checked: (layout, columns, their field
        names, the row selection after the ``where`` filter)."""
        if vla not in VLA_MODES:
            raise FITSValueError(f"vla must be one of {VLA_MODES}, not {vla!r}")
        layout = self._layout()
        if columns is None:
            indices = list(range(len(layout.columns)))
        else:
            indices = [self._column_index(k) for k in
                       ([columns] if isinstance(columns, (str, int)) else columns)]
        selection = self._select_rows(rows, layout.nrows)
        if where is not None:
            selection = self._filter(selection, where, layout.nrows)
        return (layout, [layout.columns[i] for i in indices], [layout.names[i] for i in indices],
                selection)

    def read_column(self, name: str | int, rows: Any = None, *, where: str | None = None,
                    scale: bool = True, mask_null: bool = False,
                    vla: str = "object") -> np.ndarray:
        """One column as an array (first axis rows), with :meth:`read`'s arguments."""
        result = self.read([name], rows, where=where, scale=scale, mask_null=mask_null, vla=vla)
        field = result.dtype.names[0]
        return result[field] if not isinstance(result, np.ma.MaskedArray) else \
            np.ma.MaskedArray(result.data[field], mask=result.mask[field])

    def where(self, expr: str, rows: Any = None) -> np.ndarray:
        """Indices (int64, ascending) of the rows where the CFITSIO row-filter expression
        ``expr`` holds, e.g. ``"mag < 20 && flag == 0"``, ``"NAME == 'M31'"``,
        ``"sqrt(X**2 + Y**2) < 5"`` (see CFITSIO's "Row Filtering Specification");
        ``rows`` restricts the search as in :meth:`read`."""
        layout = self._layout()
        return _indices(self._filter(self._select_rows(rows, layout.nrows), expr, layout.nrows))

    def _filter(self, selection: slice | np.ndarray, expr: str, nrows: int) -> np.ndarray:
        if not isinstance(expr, str):
            raise FITSTypeError(f"a row filter is a str expression, not {expr!r}")
        first, count = row_span(selection)
        if count == 0:
            return _indices(selection)
        with self._selected() as f:
            hits = f.find_rows(expr, first, count)
        if isinstance(selection, slice):
            return np.flatnonzero(hits).astype(np.int64) + first
        return selection[hits[selection - first]]

    def __getitem__(self, key: Any) -> Any:
        """``hdu["NAME"]`` / ``hdu[["A", "B"]]``: a :class:`TableColumn` view (index it to
        read, assign to it to write); ``hdu[i]``: one row; ``hdu[a:b]``, ``hdu[rows]``: rows
        as a structured array."""
        if isinstance(key, str) or (isinstance(key, list) and key and
                                    all(isinstance(k, str) for k in key)):
            names = [key] if isinstance(key, str) else key
            return TableColumn(self, [self._column_index(n) for n in names])
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            return self.read(rows=[key])[0]
        return self.read(rows=key)

    def __setitem__(self, key: Any, value: Any) -> None:
        """``hdu["NAME"] = values`` writes the whole column."""
        if not isinstance(key, str):
            raise FITSTypeError("assign to a column by name: hdu['NAME'] = values, or "
                            "hdu['NAME'][rows] = values")
        self.write_column(key, value)

    def _select_rows(self, rows: Any, nrows: int) -> slice | np.ndarray:
        """A contiguous slice (start, stop), or an int64 array of row indices."""
        if rows is None:
            return slice(0, nrows)
        if isinstance(rows, slice):
            start, stop, step = rows.indices(nrows)
            if step == 1:
                return slice(start, max(start, stop))
            return np.arange(start, stop, step, dtype=np.int64)
        if isinstance(rows, (int, np.integer)) and not isinstance(rows, bool):
            rows = [rows]
        array = np.asarray(rows)
        if array.dtype == bool:
            if array.shape != (nrows,):
                raise FITSIndexError(f"{self._where()}: a boolean row mask needs {nrows} entries, "
                                 f"not {array.shape}")
            return np.flatnonzero(array).astype(np.int64)
        if array.size == 0:
            return np.zeros(0, np.int64)
        if array.dtype.kind not in "iu" or array.ndim != 1:
            raise FITSIndexError(f"{self._where()}: rows are selected by a slice, a 1-D sequence of "
                             "integers or a boolean mask")
        array = array.astype(np.int64)
        bad = (array < -nrows) | (array >= nrows)
        if bad.any():
            raise FITSIndexError(f"{self._where()}: row {int(array[bad][0])} out of range "
                             f"({nrows} rows)")
        return np.where(array < 0, array + nrows, array)

    def _read_records(self, io: RowIO, layout: TableLayout, cols: list[ColumnInfo],
                      names: list[str], selection: slice | np.ndarray,
                      logicals: bool) -> np.ndarray:
        dtype, fields = record(cols, names, logicals)
        first, count = row_span(selection)
        self._require_data(layout.rowsize * (first + count))
        if isinstance(selection, slice):
            records = np.empty(selection.stop - selection.start, dtype)
            io.read(layout.rowsize, selection.start, len(records), fields, records, 0)
            return records
        unique, inverse = np.unique(selection, return_inverse=True)
        records = np.empty(len(unique), dtype)
        if not len(unique):
            return records
        breaks = np.flatnonzero(np.diff(unique) != 1) + 1
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(unique)]):
            io.read(layout.rowsize, int(unique[lo]), int(hi - lo), fields, records, int(lo))
        if len(unique) == len(selection) and (len(unique) < 2 or np.all(np.diff(selection) > 0)):
            return records
        return records[inverse]

    def _heap(self, io: RowIO, layout: TableLayout, c: ColumnInfo, descriptors: np.ndarray,
              scale: bool) -> list:
        """The cells of variable-length column ``c`` for rows with these descriptors."""
        counts, offsets = descriptors[:, 0].astype(np.int64), descriptors[:, 1].astype(np.int64)
        size = 1 if c.code in "LXAB" else BINARY_TYPES[c.code].itemsize
        limit = layout.heap_size
        # descriptors are data: compare before adding or multiplying, which could overflow
        bad = (counts < 0) | (offsets < 0) | (offsets > limit) | (
            counts > (limit * 8 if c.code == "X" else limit // size))
        nbytes = np.where(bad, 0, (counts + 7) // 8 if c.code == "X" else counts * size)
        bad |= offsets + nbytes > limit
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise FITSValueError(
                f"{c.where(self._fits.filename, self._index)}: a variable-length descriptor "
                f"(count {counts[i]}, offset {offsets[i]}) points outside the "
                f"{layout.heap_size}-byte heap", filename=self._fits.filename, hdu=self._index)
        used = nbytes > 0
        lo = int(offsets[used].min()) if used.any() else 0
        hi = int((offsets + nbytes)[used].max()) if used.any() else 0
        self._require_data(layout.heap_start + hi)
        heap = np.empty(hi - lo, np.uint8)
        io.read_bytes(layout.heap_start + lo, heap)
        return heap_cells(c, descriptors, heap.data, lo, self._where(), scale)

    def _read_ascii(self, cols: list[ColumnInfo], names: list[str],
                    selection: slice | np.ndarray, *, scale: bool,
                    mask_null: bool) -> np.ndarray:
        """ASCII tables: CFITSIO parses each field (implied decimals, D exponents, TNULL)."""
        first, count = row_span(selection)
        self._require_data(self._layout().rowsize * (first + count))
        take = None if isinstance(selection, slice) or not count else selection - first
        values, masks = [], []
        with self._selected() as f:
            for c in cols:
                if c.code == "A":
                    value = np.strings.rstrip(
                        f.read_string_column(c.index, first, count, c.form.width), b" ")
                    mask = None
                elif c.code == "I" and c.form.width > 15 and not c.scaled:
                    # CFITSIO parses integers through a double: read the digits instead
                    text = np.strings.strip(f.read_string_column(c.index, first, count,
                                                                 c.form.width))
                    mask = text == b""
                    value = np.where(mask, b"0", text).astype(np.int64)
                else:
                    # CFITSIO applies TSCAL/TZERO while parsing the field
                    dtype = np.dtype(np.float64) if c.scaled else c.element_dtype
                    value = np.empty(count, np.int64 if dtype.kind == "i" else np.float64)
                    mask = f.read_column(c.index, first, value, nulls=True)
                    if dtype.kind == "f":
                        # blank fields are undefined too (CFITSIO reads them as 0)
                        mask |= np.strings.strip(f.read_string_column(
                            c.index, first, count, c.form.width)) == b""
                    # undefined fields read as NaN, or 0 in integer columns (as astropy)
                    value[mask] = np.nan if dtype.kind == "f" else 0
                    value = value.astype(dtype, copy=False)
                values.append(value if take is None else value[take])
                masks.append(None if mask is None else (mask if take is None else mask[take]))
        result = np.empty(len(values[0]) if values else 0,
                          [(n, v.dtype) for n, v in zip(names, values)])
        for n, v in zip(names, values):
            result[n] = v
        if not mask_null:
            return result
        mask = np.zeros(len(result), [(n, bool) for n in names])
        for n, m in zip(names, masks):
            if m is not None:
                mask[n] = m
        return np.ma.MaskedArray(result, mask=mask)

    # -- writing ------------------------------------------------------------------------------

    def write(self, data: Any, start: int = 0, *, truncate: bool = False) -> None:
        """Write whole rows from ``start`` on (a structured array, a dict of columns, or an
        astropy Table, holding every column); rows past the end grow the table. Strings too
        long for their column raise unless ``truncate``.

        Growing the last HDU of the file, a binary table without a heap (and rows without
        variable-length cells), writes the new rows past the old end first and NAXIS2 grows
        only once they are in the file: when writing fails (a full disk, say) the table keeps
        its old rows and the file is cut back, and a process killed part-way leaves the old
        table, with bytes past its end that no header claims (readers ignore them). Otherwise
        the table grows first, and a failure removes the new rows again."""
        layout = self._layout()
        start = int(start)
        if not 0 <= start <= layout.nrows:
            raise FITSIndexError(f"{self._where()}: start row {start} is outside 0..{layout.nrows}")
        fields, nrows = table_fields(data, None, self._where())
        payload = encode_payload(layout.columns, fields, nrows, self._where(), truncate,
                                 self._ascii, source=data)
        self._require_data_complete(layout)
        if start + nrows > layout.nrows:
            self._grow(layout, start, payload)
            return
        self._store(layout, start, payload)

    def _grow(self, layout: TableLayout, start: int, payload: _Payload) -> None:
        """:meth:`write` of rows reaching past the last one."""
        old = layout.nrows
        added = start + payload.nrows - old
        # a heap follows the rows: new rows move it (CFITSIO does that)
        heapless = layout.heap_start + layout.heap_size == layout.rowsize * old
        last = self._index == len(self._fits) - 1
        try:
            with self._selected(writing=True) as f:
                try:
                    access = None
                    if last and heapless and not self._ascii and not payload.vla \
                            and payload.records is not None:
                        access = f.raw_access(writing=True)
                    if access is not None:
                        # the rows first, then the header that claims them
                        _, fields = record(list(layout.columns),
                                           [f"c{i}" for i in range(len(layout.columns))])
                        rawio.write_rows(*access, layout.rowsize, start, fields,
                                         payload.records)
                        f.grow_table(added)
                    else:
                        f.grow_table(added)
                        self._invalidate()
                        self._store(self._layout(), start, payload)
                    f.flush()
                except BaseException as failure:
                    # CFITSIO grows a binary table at the end of the file by its header
                    # alone; other growth it does by inserting rows
                    self._undo_growth(f, old, last and heapless and not self._ascii, failure)
        finally:
            self._invalidate()

    def _undo_growth(self, f: FitsFile, nrows: int, cut: bool, failure: BaseException) -> None:
        """Give the table its old ``nrows`` rows again after ``failure`` while growing it (the
        handle locked, on this HDU): by cutting the file back when ``cut`` (a binary table
        without heap, the last HDU), else by deleting the rows inserted (none when inserting
        them failed). Raise the failure, naming the file when it did not."""
        try:
            if cut:
                f.shrink_last_hdu({"NAXIS2": nrows, "PCOUNT": 0})
            else:
                now = f.table_info()[0]
                if now > nrows:
                    f.delete_rows(np.arange(nrows, now, dtype=np.int64))
        except Exception as undoing:
            raise failure from undoing
        self._raise_undone(failure, f"adding rows failed; the table keeps its {nrows} rows")

    def append(self, data: Any, *, truncate: bool = False) -> None:
        """Add rows at the end (as :meth:`write` past the last row). Everything is checked
        before the table grows; memory use is that of one batch, so appending in batches
        builds tables of any size. On the last HDU of the file the new rows are a sparse
        extension of the file; elsewhere the heap and the later HDUs move."""
        self.write(data, self._layout().nrows, truncate=truncate)

    def write_column(self, name: str | int, values: Any, rows: Any = None, *,
                     truncate: bool = False) -> None:
        """Write ``values`` into column ``name`` at ``rows`` (as in :meth:`read`; default all
        rows); a scalar or a single cell is broadcast. Other columns' bytes are untouched."""
        layout = self._layout()
        index = self._column_index(name)
        c = layout.columns[index]
        targets = _indices(self._select_rows(rows, layout.nrows))
        if len(np.unique(targets)) != len(targets):
            raise FITSIndexError(f"{self._where()}: a row is given twice")
        n = len(targets)
        payload = encode_payload([c], {c.name: values}, n, self._where(), truncate,
                                 self._ascii, broadcast=not c.vla)
        self._require_data_complete(layout)
        order = np.argsort(targets, kind="stable")
        sorted_rows = targets[order]
        breaks = np.flatnonzero(np.diff(sorted_rows) != 1) + 1
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, n]):
            part = order[lo:hi]
            self._store(layout, int(sorted_rows[lo]), payload.take(part), [c])

    def insert_rows(self, at: int, nrows: int) -> None:
        """Insert ``nrows`` rows of zeros (empty variable-length cells) before row ``at``
        (``at == nrows`` appends). Later rows, the heap and later HDUs move."""
        layout = self._layout()
        if not 0 <= at <= layout.nrows:
            raise FITSIndexError(f"{self._where()}: row {at} is outside 0..{layout.nrows}")
        if nrows < 0:
            raise FITSValueError(f"{self._where()}: negative row count {nrows}")
        if nrows == 0:
            return
        with self._selected(writing=True) as f:
            try:
                f.insert_rows(int(at), int(nrows))
            finally:
                self._invalidate()

    def delete_rows(self, rows: Any) -> None:
        """Delete ``rows`` (a slice, indices or a boolean mask, as in :meth:`read`). Later rows
        move up; the file shrinks when the table is the last HDU."""
        layout = self._layout()
        selection = np.unique(_indices(self._select_rows(rows, layout.nrows)))
        if selection.size == 0:
            return
        with self._selected(writing=True) as f:
            try:
                f.delete_rows(selection)
            finally:
                self._invalidate()

    def insert_column(self, name: str, data: Any = None, position: int | None = None, *,
                      format: str | ColumnSpec | None = None, truncate: bool = False) -> None:
        """Insert a column ``name`` at ``position`` (default: last) holding ``data`` (one cell
        per row; the format follows from its dtype unless ``format`` — a TFORM or a
        :class:`ColumnSpec` — is given). Without data the cells are zero. Every row of the
        table is rewritten."""
        layout = self._layout()
        if name.strip().upper() in (c.name.upper() for c in layout.columns):
            raise FITSValueError(f"{self._where()}: a column named {name!r} exists already")
        if format is None and data is None:
            raise FITSValueError(f"{self._where()}: give the new column's data or format")
        if isinstance(format, ColumnSpec):
            spec = replace(format, name=name)
        elif format is not None:
            spec = ColumnSpec(name, str(format))
        else:
            spec = spec_for(name, data, self._ascii)
        position = len(layout.columns) if position is None else int(position)
        if not 0 <= position <= len(layout.columns):
            raise FITSIndexError(f"{self._where()}: column position {position} is outside "
                             f"0..{len(layout.columns)}")
        probe = _spec_columns([spec], self._ascii, self._where())[0]
        payload = None
        if data is not None:
            payload = encode_payload([probe], {name: data}, layout.nrows, self._where(),
                                     truncate, self._ascii)
        extra = spec.cards(position + 1)
        if spec.unit:
            extra.append((f"TUNIT{position + 1}", spec.unit, "physical unit"))
        self._require_data_complete(layout)
        with self._selected(writing=True) as f:
            try:
                f.insert_column(position, name, spec.format)
                for key, value, comment in extra:
                    f.write_key(key, value, comment)
                f.finish_hdu()
            finally:
                self._invalidate()
        if payload is not None:
            layout = self._layout()
            self._store(layout, 0, payload, [layout.columns[position]])

    def delete_column(self, name: str | int) -> None:
        """Delete a column; every row of the table is rewritten without it."""
        index = self._column_index(name)
        with self._selected(writing=True) as f:
            try:
                f.delete_column(index)
            finally:
                self._invalidate()

    def _require_data_complete(self, layout: TableLayout) -> None:
        self._require_data(layout.rowsize * layout.nrows)

    def _require_data(self, nbytes: int) -> None:
        """Raise unless the file holds the first ``nbytes`` bytes of the data unit: checked
        before a read allocates, so what a header claims never sizes memory by itself."""
        with self._selected() as f:
            missing = f.data_missing(nbytes)
        if missing:
            raise FITSError(f"{self._where()}: file is truncated: the data unit's bytes "
                            f"{nbytes - missing} to {nbytes} are missing",
                            filename=self._fits.filename, hdu=self._index)

    def _store(self, layout: TableLayout, start: int, payload: _Payload,
               cols: Sequence[ColumnInfo] | None = None) -> None:
        """Write encoded rows from row ``start`` on (``cols``: only these columns)."""
        cols = list(layout.columns if cols is None else cols)
        try:
            with self._selected(writing=True) as f:
                if self._ascii:
                    payload.store_ascii(f, cols, start)
                    return
                if payload.records is not None and len(payload.records):
                    _, fields = record(cols, [f"c{i}" for i in range(len(cols))])
                    RowIO(f, writing=True).write(layout.rowsize, start, fields,
                                                   payload.records)
                for c in cols:
                    for i, cell in enumerate(payload.vla.get(c.name, ())):
                        if isinstance(cell, bytes):
                            f.write_string_column(c.index, start + i, [cell])
                        elif cell.size:
                            f.write_column(c.index, start + i, cell)
                for c in cols:
                    longest = max(map(len, payload.vla.get(c.name, ())), default=0)
                    if longest > c.form.maxlen:
                        # the declared maximum (CFITSIO also fixes it when the file closes)
                        f.write_key(f"TFORM{c.index + 1}", f"{c.vla}{c.code}({longest})",
                                    "variable-length array, maximum length")
                if payload.vla:
                    f.finish_hdu()   # CFITSIO writes the new heap size into PCOUNT
        finally:
            if payload.vla or self._ascii:
                self._invalidate()   # PCOUNT may have changed


def _indices(selection: slice | np.ndarray) -> np.ndarray:
    """Row indices (int64) of a selection made by ``TableHDU._select_rows``."""
    if isinstance(selection, slice):
        return np.arange(selection.start, selection.stop, dtype=np.int64)
    return selection





class TableColumn:
    """Columns of a table, made by ``hdu["NAME"]`` (or ``hdu[["A", "B"]]``): ``[rows]`` reads,
    ``[rows] = values`` writes (one column), ``read()`` reads every row."""

    def __init__(self, hdu: TableHDU, indices: list[int]) -> None:
        self._hdu = hdu
        self._indices = indices

    def __repr__(self) -> str:
        return f"<fitsbind TableColumn {self.names} of {self._hdu!r}>"

    @property
    def names(self) -> list[str]:
        layout = self._hdu._layout()
        return [layout.names[i] for i in self._indices]

    def __len__(self) -> int:
        return self._hdu.nrows

    def read(self, rows: Any = None, **kwargs: Any) -> np.ndarray:
        """The column (or, for several, a structured array) at ``rows``; keyword arguments as
        :meth:`TableHDU.read`."""
        if len(self._indices) == 1:
            return self._hdu.read_column(self._indices[0], rows, **kwargs)
        return self._hdu.read(self._indices, rows, **kwargs)

    def __getitem__(self, rows: Any) -> Any:
        if isinstance(rows, (int, np.integer)) and not isinstance(rows, bool):
            return self.read([rows])[0]
        return self.read(rows)

    def __setitem__(self, rows: Any, values: Any) -> None:
        if len(self._indices) != 1:
            raise FITSTypeError("write columns one at a time: hdu['NAME'][rows] = values")
        self._hdu.write_column(self._indices[0], values, rows)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        data = self.read()
        return data if dtype is None else data.astype(dtype)


# -- encoding tables ------------------------------------------------------------------------------

@dataclass
class _Payload:
    """Rows checked and converted for writing: packed records of the fixed-size cells (binary
    tables), variable-length cells per column name, or per-column values for ASCII tables."""

    records: np.ndarray | None
    vla: dict[str, list]
    ascii: dict[str, tuple[Any, np.ndarray | None]]
    nrows: int

    def take(self, index: np.ndarray) -> _Payload:
        return _Payload(None if self.records is None else self.records[index],
                        {k: [v[i] for i in index] for k, v in self.vla.items()},
                        {k: (v[index] if isinstance(v, np.ndarray) else [v[i] for i in index],
                             None if m is None else m[index])
                         for k, (v, m) in self.ascii.items()}, len(index))

    def store_ascii(self, f: FitsFile, cols: Sequence[ColumnInfo], start: int) -> None:
        for c in cols:
            values, mask = self.ascii[c.name]
            if isinstance(values, list):
                if values:
                    f.write_string_column(c.index, start, values)
            elif values.size:
                f.write_column(c.index, start, values)
            if mask is not None and mask.any():
                f.write_nulls(c.index, (np.flatnonzero(mask) + start).tolist())


def table_fields(data: Any, names: Sequence[str] | None, where: str) -> tuple[dict, int]:
    """``{name: column values}`` and the row count of a structured array (or masked one), a
    mapping of columns, an astropy Table, or a list of arrays with ``names``. FITSValueError
    if the columns differ in length."""
    if names is not None:
        if isinstance(data, Mapping) or (isinstance(data, np.ndarray) and data.dtype.names):
            raise FITSTypeError(f"{where}: names= goes with a list of arrays only")
        if len(names) != len(data):
            raise FITSValueError(f"{where}: {len(names)} names for {len(data)} arrays")
        fields = dict(zip(map(str, names), data))
    elif isinstance(data, np.ndarray) and data.dtype.names:
        if isinstance(data, np.ma.MaskedArray):
            fields = {n: data[n] for n in data.dtype.names}
        else:
            fields = {n: data[n] for n in data.dtype.names}
    elif isinstance(data, Mapping):
        fields = dict(data)
    elif hasattr(data, "colnames") and hasattr(data, "columns"):   # astropy Table
        _warn_dropped(data, where)
        fields = {n: _table_column(data[n]) for n in data.colnames}
    else:
        raise FITSTypeError(f"{where}: table data is a structured array, a dict of columns, an "
                            f"astropy Table, or a list of arrays with names=; not "
                            f"{type(data).__name__}")
    lengths = {n: len(v) if not np.isscalar(v) else None for n, v in fields.items()}
    sizes = {n for n in lengths.values() if n is not None}
    if len(sizes) > 1:
        raise FITSValueError(f"{where}: columns have different lengths: {lengths}")
    return fields, (sizes.pop() if sizes else 0)


def _warn_dropped(table: Any, where: str) -> None:
    """Warn when an astropy table carries what this writer does not store (it writes values
    and masks); fitsbind.write_table, which writes through it, stores all of it."""
    dropped = ["meta"] if table.meta else []
    for name in table.colnames:
        column = table[name]
        info = column.info
        kept = [attr for attr in ("unit", "format", "description")
                if getattr(info, attr, None) not in (None, "")]
        if type(column).__name__ not in ("Column", "MaskedColumn", "Quantity"):
            kept.append(type(column).__name__)
        dropped += [f"{name}.{attr}" for attr in kept]
    if dropped:
        warnings.warn(f"{where}: FITS.write_table stores an astropy table's values and masks "
                      f"only; not written: {', '.join(dropped)}. fitsbind.write_table(table, "
                      "fits) stores units, formats, descriptions, times and meta as well",
                      UserWarning, stacklevel=4)


def _table_column(column: Any) -> Any:
    mask = getattr(column, "mask", None)
    values = np.asarray(getattr(column, "value", column))
    if mask is not None and np.any(mask):
        return np.ma.MaskedArray(values, mask=np.asarray(mask))
    return values


def encode_payload(cols: Sequence[ColumnInfo], fields: Mapping[str, Any], nrows: int,
                   where: str, truncate: bool, ascii: bool, broadcast: bool = False,
                   source: Any = None) -> _Payload:
    """Check and convert ``fields`` (every column of ``cols``, by name, case-insensitively)
    for writing ``nrows`` rows. Nothing is written; any problem raises here. ``source``: the
    structured array the fields come from, used as is when it has the stored layout."""
    by_name = {str(k).strip().upper(): v for k, v in fields.items()}
    wanted = {c.name.upper() for c in cols}
    unknown = [k for k in fields if str(k).strip().upper() not in wanted]
    if unknown:
        raise FITSKeyError(f"{where}: no column named {unknown[0]!r}; columns are "
                           f"{[c.name for c in cols]}")
    missing = [c.name for c in cols if c.name.upper() not in by_name]
    if missing:
        raise FITSValueError(f"{where}: no values given for column(s) {missing}")
    if ascii:
        return _Payload(None, {}, {c.name: _encode_ascii(by_name[c.name.upper()], c, nrows,
                                                         where, truncate) for c in cols}, nrows)
    dtype, _ = record(cols, [f"c{i}" for i in range(len(cols))])
    wire = _writable_record(dtype)
    ready = _as_records(source, wire, nrows)
    if ready is not None:
        for i, c in enumerate(cols):
            if c.code == "A":
                to_bytes(ready[f"c{i}"], f"{where}, column {c.name!r}")   # ASCII check
        return _Payload(ready, {}, {}, nrows)
    records = np.empty(nrows, wire)
    vla: dict[str, list] = {}
    for i, c in enumerate(cols):
        values = by_name[c.name.upper()]
        if not broadcast and not np.isscalar(values) and len(values) != nrows:
            raise FITSValueError(f"{where}, column {c.name!r}: {len(values)} values for "
                                 f"{nrows} rows")
        if c.vla:
            vla[c.name] = vla_cells(values, c, nrows, where)
        records[f"c{i}"] = encode(values, c, nrows, where, truncate)
    return _Payload(records, vla, {}, nrows)


def _writable_record(dtype: np.dtype) -> np.dtype:
    """``dtype`` with its bool (logical) fields as uint8, which may hold 2 for a null."""
    return np.dtype({"names": list(dtype.names),
                     "formats": [np.dtype((np.uint8, dtype[n].shape)) if dtype[n].base == np.bool_
                                 else dtype[n] for n in dtype.names],
                     "offsets": [dtype.fields[n][1] for n in dtype.names],
                     "itemsize": dtype.itemsize})


def _as_records(source: Any, wire: np.dtype, nrows: int) -> np.ndarray | None:
    """``source`` itself (viewed as ``wire``) when it is a structured array that already has
    the stored layout in native order, in C order and unmasked: nothing to copy."""
    if not (type(source) is np.ndarray and source.dtype.names and len(source) == nrows
            and source.flags.c_contiguous and source.dtype.itemsize == wire.itemsize
            and len(source.dtype.names) == len(wire.names)):
        return None
    for name, ours in zip(source.dtype.names, wire.names):
        theirs, offset = source.dtype.fields[name][:2]
        want, at = wire.fields[ours][:2]
        if offset != at or not theirs.base.isnative or not (
                theirs == want or (theirs.base == np.bool_ and want.base == np.uint8
                                   and theirs.shape == want.shape)):
            return None
    return source.view(wire)


def _encode_ascii(values: Any, c: ColumnInfo, nrows: int, where: str,
                  truncate: bool) -> tuple[Any, np.ndarray | None]:
    where = f"{where}, column {c.name!r}"
    mask = None
    if isinstance(values, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(values)
        values = values.data
    array = np.asarray(values)
    if array.ndim == 0:
        array = np.broadcast_to(array, (nrows,))
    if array.shape != (nrows,):
        raise FITSValueError(f"{where}: {array.shape} values for {nrows} one-value cells")
    if mask is not None and mask.any() and c.null is None:
        raise FITSValueError(f"{where}: masked values need a TNULL for the column")
    if c.code == "A":
        text = fit_strings(to_bytes(array, where), c.form.width, where, truncate)
        return text.tolist(), mask
    if array.dtype.kind not in "biuf":
        raise FITSTypeError(f"{where}: cannot store {array.dtype} values in a {c.tform} field")
    if c.code == "I":
        if array.dtype.kind == "f":
            raise FITSTypeError(f"{where}: cannot write {array.dtype} values into an integer "
                                f"field ({c.tform}); convert them first")
        ints = array.astype(np.int64)
        if ints.size:
            widest = max(len(str(int(ints.min()))), len(str(int(ints.max()))))
            if widest > c.form.width:
                raise FITSValueError(f"{where}: {int(ints.min())}..{int(ints.max())} do not fit "
                                     f"the {c.form.width}-character field")
        return np.ascontiguousarray(ints), mask
    floats = np.ascontiguousarray(array, dtype=np.float64)
    if c.code == "F" and floats.size:
        finite = np.abs(floats[np.isfinite(floats)])
        limit = 10.0 ** (c.form.width - c.form.decimals - 2)
        if finite.size and finite.max() >= limit:
            raise FITSValueError(f"{where}: {finite.max():g} does not fit the {c.tform} field")
    return floats, mask


def _spec_columns(specs: Sequence[ColumnSpec], ascii: bool, where: str) -> list[ColumnInfo]:
    """The columns a table created from ``specs`` will have (for checking data before the
    table exists)."""
    forms = check_specs(specs, ascii, where)
    values: dict[str, Any] = {"TFIELDS": len(specs)}
    rowsize = 0
    for i, (spec, form) in enumerate(zip(specs, forms), 1):
        values[f"TTYPE{i}"] = spec.name
        values[f"TFORM{i}"] = spec.format
        if ascii:
            values[f"TBCOL{i}"] = rowsize + 1
            rowsize += form.width + 1
        else:
            rowsize += form.nbytes
        for key, value, _ in spec.cards(i):
            values[key] = value
    values["NAXIS1"] = rowsize
    return table_columns(values, ascii, where)


def spec_columns(specs: Sequence[Any], ascii: bool, where: str) -> tuple[list[ColumnSpec],
                                                                          list[ColumnInfo]]:
    """Specs (from ColumnSpecs, dicts, tuples) and the columns they describe."""
    checked = [as_spec(s) for s in specs]
    columns = _spec_columns(checked, ascii, where)
    for spec, c in zip(checked, columns):
        if c.vla:
            # "PJ()" leaves the maximum length open; the header needs a number
            spec.format = f"{c.vla}{c.code}({c.form.maxlen})"
    return checked, columns
