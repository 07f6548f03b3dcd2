"""Table data of the astropy-compatible interface: :class:`FITS_rec` (a ``numpy.recarray``
over the table's stored rows) and :class:`FITS_record` (one row).

A FITS_rec's own dtype is the stored layout: big-endian fields read from a file (usually a
view of the file's memory map), native fields for tables built in memory; ASCII tables are
rows of text fields. ``data[name]`` / ``data.field(name)`` give *physical* values: TSCAL /
TZERO applied (float64, or unsigned integers for the TZERO = 2**(n-1) convention), logical
columns as bool, strings as ``str`` (``numpy.char.chararray``, trailing blanks dropped on
access), bit columns as bool arrays, ASCII numbers parsed, and variable-length columns as
object arrays of arrays read from the heap. Fields that need no conversion are views of the
stored rows, so assignments to them go straight to the data (and to the file when it is
memory-mapped in update mode). Converted fields are kept, and assignments to them are
written back to the stored rows by :meth:`FITS_rec._scale_back`, which the table HDU runs
before writing or flushing.
"""

from __future__ import annotations

import copy as _copy
import warnings
import weakref
from collections.abc import Iterator
from concurrent.futures import wait
from typing import Any

import numpy as np

from fitsbind._workers import executor
from fitsbind.column import (
    _VLF,
    ASCII2STR,
    ASCIITNULL,
    ColDefs,
    Delayed,
    _AsciiColDefs,
    _chararray,
    _FormatP,
    _FormatX,
    _get_index,
    _scaled,
    chararray,
)
from fitsbind.errors import FITSError, FITSValueError
from fitsbind.util import is_integer
from fitsbind.verify import FITSUserWarning

__all__ = ["FITS_rec", "FITS_record"]

# _coldefs value of a FITS_rec made by viewing a plain structured array: the columns are
# derived from the dtype when first needed
_FROM_DTYPE = object()

# how to see the undefined values of logical columns (the warning astropy gives)
_NULL_HINT = ("To preserve NULL information, reopen the file with logical_as_bytes=True and "
              "check for bytes values of b'\\x00' (NULL), b'T' (True), and b'F' (False).")

_UINT_OF = {"I": (np.uint16, 1 << 15), "J": (np.uint32, 1 << 31), "K": (np.uint64, 1 << 63)}


class FITS_record:
    """One row of a :class:`FITS_rec`: ``record[name]`` / ``record[i]`` read (and assign)
    the physical value of a field in that row; slicing gives a record over some fields."""

    def __init__(self, input: FITS_rec, row: int = 0, start: int | None = None,
                 end: int | None = None, step: int | None = None,
                 base: FITS_record | None = None, **kwargs: Any) -> None:
        self.array = input
        self.row = row
        width = len(base) if base else input._nfields
        self.start, self.end, self.step = slice(start, end, step).indices(width)
        self.base = base

    def _resolve(self, key: Any) -> int:
        if isinstance(key, str):
            index = _get_index(self.array.names, key)
            if not self.start <= index < self.end:
                raise KeyError(f"Key '{key}' does not exist.")
            return index
        index = self._get_index(key)
        if index > self.array._nfields - 1:
            raise IndexError("Index out of bounds")
        return index

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return type(self)(self.array, self.row, key.start, key.stop, key.step, self)
        return self.array.field(self._resolve(key))[self.row]

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, slice):
            positions = range(*key.indices(len(self)))
            values = list(value)
            if len(values) != len(positions):
                raise ValueError(f"{len(values)} values given for {len(positions)} fields")
            for i, item in zip(positions, values):
                self.array.field(self._get_index(i))[self.row] = item
            return
        self.array.field(self._resolve(key))[self.row] = value

    def __len__(self) -> int:
        return len(range(self.start, self.end, self.step))

    def __repr__(self) -> str:
        return "(" + ", ".join(repr(self[i]) for i in range(len(self))) + ")"

    def field(self, field: Any) -> Any:
        """The value of one field (name or index) in this row."""
        return self.__getitem__(field)

    def setfield(self, field: Any, value: Any) -> None:
        """Assign the value of one field in this row."""
        self.__setitem__(field, value)

    def _get_index(self, index: int) -> int:
        """Position in the table of field ``index`` of this (possibly sliced) record."""
        chain = []
        record: FITS_record | None = self
        while record is not None:
            chain.append(record)
            record = record.base
        positions = np.arange(self.array._nfields)
        for record in reversed(chain):
            stop = None if record.step < 1 else record.end
            positions = positions[record.start:stop:record.step]
        return int(positions[index])


class FITS_rec(np.recarray):
    """The data of a table HDU (a ``numpy.recarray`` subclass) giving physical values by
    field: see the module documentation. ``FITS_rec(array)`` wraps an existing record
    array as is; :meth:`from_columns` builds a table from column definitions."""

    _record_type = FITS_record
    _character_as_bytes = False
    _logical_as_bytes = False
    _load_variable_length_data = True

    def __new__(cls, input: np.ndarray) -> FITS_rec:
        self = np.asarray(input).view(cls)
        self._init()
        if self.dtype.fields:
            self._nfields = len(self.dtype.fields)
        return self

    def _init(self) -> None:
        self.__dict__["_coldefs"] = None
        self._nfields = 0
        self._converted: dict[str, Any] = {}
        # text fields of a new table not yet decoded: see from_columns
        self._text_to_share: tuple[int, ...] = ()
        self._heapoffset = 0
        self._heapsize = 0
        self._tbsize = 0
        self._gap = 0
        self._uint = False
        self._heap: np.ndarray | None = None
        self._heap_rebuilt: np.ndarray | None = None
        self._col_weakrefs: weakref.WeakSet = weakref.WeakSet()
        self._views: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    def __array_finalize__(self, obj: Any) -> None:
        np.recarray.__array_finalize__(self, obj)
        # fields that need no conversion, as views of this record's own memory (never shared
        # with the record it derives from: a slice's views are of other bytes). Held weakly: a
        # view's base is this record, and a strong cache would make a cycle that keeps the
        # record, its converted fields and the file's map alive until the garbage collector runs
        self._views = weakref.WeakValueDictionary()
        if obj is None:
            self._init()
            return
        if isinstance(obj, FITS_rec):
            self._character_as_bytes = obj._character_as_bytes
            self._logical_as_bytes = obj._logical_as_bytes
        if isinstance(obj, FITS_rec) and obj.dtype == self.dtype:
            for attr in ("_converted", "_heapoffset", "_heapsize", "_tbsize", "_gap", "_uint",
                         "_heap", "_heap_rebuilt", "_col_weakrefs", "_nfields",
                         "_text_to_share"):
                setattr(self, attr, getattr(obj, attr))
            self.__dict__["_coldefs"] = obj.__dict__.get("_coldefs")
        elif self.dtype.fields is not None:
            self._init()
            self._nfields = len(self.dtype.fields)
            for attr in ("_heapoffset", "_heapsize", "_tbsize", "_gap", "_uint"):
                setattr(self, attr, getattr(obj, attr, getattr(self, attr)))
            self.__dict__["_coldefs"] = _FROM_DTYPE
        else:
            self._init()

    def __reduce__(self) -> tuple:
        rebuild, args, state = super().__reduce__()
        extra = {"_converted": self._converted, "_heapoffset": self._heapoffset,
                 "_heapsize": self._heapsize, "_tbsize": self._tbsize, "_gap": self._gap,
                 "_uint": self._uint, "_nfields": self._nfields, "_heap": self._heap,
                 "_heap_rebuilt": self._heap_rebuilt, "_text_to_share": self._text_to_share,
                 "_character_as_bytes": self._character_as_bytes,
                 "_coldefs": _copy.deepcopy(self._coldefs)}
        return rebuild, args, (*state, extra)

    def __setstate__(self, state: tuple) -> None:
        extra = state[-1]
        super().__setstate__(state[:-1])
        self._col_weakrefs = weakref.WeakSet()
        coldefs = extra.pop("_coldefs")
        for key, value in extra.items():
            setattr(self, key, value)
        self._coldefs = coldefs
        self._adopt_columns()

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def from_columns(cls, columns: Any, nrows: int = 0, fill: bool = False,
                     character_as_bytes: bool = False,
                     logical_as_bytes: bool = False) -> FITS_rec:
        """A new table with ``columns`` (Columns, a ColDefs, or anything ColDefs accepts)
        and ``nrows`` rows (default: the longest column array). The column arrays, taken as
        physical values, fill the rows unless ``fill``; cells without values are zero,
        blank, False or empty. ``character_as_bytes`` / ``logical_as_bytes`` make text and
        logical columns read as their stored bytes (``b'T'``, ``b'F'``, ``b'\\x00'`` for
        logicals) instead of str and bool."""
        if not isinstance(columns, ColDefs):
            columns = ColDefs(columns)
        ascii = isinstance(columns, _AsciiColDefs)
        arrays = [_column_values(column, ascii) for column in columns]
        if nrows == 0:
            nrows = max((len(a) for a in arrays if a is not None), default=0)
        dtype = columns.dtype
        if dtype.itemsize and columns._padding_byte != "\0":
            raw = np.empty(dtype.itemsize * nrows, dtype=np.uint8)
            raw.fill(ord(columns._padding_byte))
            data = raw.view(dtype).view(cls)
        else:
            # zeroed pages come from the kernel as the fields are filled: no pass of our own
            data = np.zeros(nrows, dtype=dtype).view(cls)
        data._character_as_bytes = character_as_bytes
        data._logical_as_bytes = logical_as_bytes
        data._coldefs = columns
        copies: list = []
        for index, (column, array) in enumerate(zip(columns, arrays)):
            if ascii:
                data._fill_ascii_field(index, column, None if fill else array, nrows)
            else:
                data._fill_field(index, column, None if fill else array, nrows, copies)
        _fill_rows(copies)
        # convert every field now, as astropy does, so slices taken later share the
        # converted values with this table; but text is decoded on first use (or before the
        # first slice is taken, to the same effect), as the str values are four times the
        # size of the bytes and a table that is only written never needs them
        text = [] if ascii else [i for i, column in enumerate(columns)
                                 if column.format.format == "A"]
        data._text_to_share = tuple(text)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Column .* contains NULL", FITSUserWarning)
            for index in range(len(columns)):
                if index not in text:
                    data.field(index)
        if not ascii:
            # a heap 'P' descriptors cannot address fails now, not when the table is written
            data._heap_layout()
        return data

    def _fill_field(self, index: int, column: Any, array: Any, nrows: int,
                    copies: list) -> None:
        """Put a column's physical values into field ``index`` of a new binary table; plain
        copies into the rows are added to ``copies`` (for :func:`_fill_rows`) instead."""
        raw = self._raw_field(index)
        fmt = column.format
        letter = fmt.format
        recformat = fmt.recformat
        if letter in "PQ":
            cells = array if array is not None else []
            self._converted[column.name] = _make_vla(cells, recformat, nrows)
            self._heap_rebuilt = None
            return
        if letter == "L":
            # cells without a value are False
            stored = np.full(raw.shape, ord("F"), dtype=raw.dtype)
            copies.append((raw, stored))
            if array is None:
                return
            values = np.asarray(array)
            count = min(len(values), nrows)
            if values.dtype == np.bool_:
                converted = np.zeros(raw.shape, dtype=bool)
                converted[:count] = values[:count]
                self._converted[column.name] = converted
                stored[:count] = np.where(values[:count], ord("T"), ord("F"))
            else:
                stored[:count] = values[:count].view(np.int8) if values.dtype.kind == "S" \
                    else values[:count]
            return
        if array is None:
            return
        values = array if isinstance(array, _VLF) else np.asarray(array)
        count = min(len(values), nrows)
        if isinstance(recformat, _FormatX):
            if values.ndim == 1 and recformat.repeat == 1:
                values = values.reshape(-1, 1)
            if values.shape[-1:] == (recformat.repeat,) or values.dtype == np.bool_:
                bits = np.zeros((nrows, recformat.repeat), dtype=bool)
                bits[:count] = values[:count].reshape(count, -1)[:, :recformat.repeat] != 0
                self._converted[column.name] = bits
                raw[...] = np.packbits(bits, axis=-1)[:, :raw.shape[-1]]
            else:
                raw[:count] = values[:count]
            return
        if letter == "A":
            _copy_cells(raw, values, count, copies)
            return
        scaled = _scaled(column.bscale, column.bzero)
        if scaled or column._pseudo_unsigned_ints:
            physical = np.zeros(raw.shape, dtype=_physical_dtype(values.dtype, raw.dtype))
            _copy_cells(physical, values, count)
            self._converted[column.name] = physical
            if column._pseudo_unsigned_ints:
                copies.append((raw, self._stored_of(column, physical, raw.dtype)))
            else:
                # until written back, the stored field holds the physical values as astropy
                # does (only their display in repr depends on it)
                with np.errstate(all="ignore"):
                    copies.append((raw, physical.astype(raw.dtype, casting="unsafe")))
            return
        _copy_cells(raw, values, count, copies)

    def _fill_ascii_field(self, index: int, column: Any, array: Any, nrows: int) -> None:
        """Put a column's values into text field ``index`` of a new ASCII table."""
        raw = self._raw_field(index)
        fmt = column.format
        if fmt._pseudo_logical:
            values = np.asarray(array) if array is not None else np.zeros(nrows, dtype=bool)
            flags = np.zeros(nrows, dtype=bool)
            count = min(len(values), nrows)
            flags[:count] = values[:count] if values.dtype == np.bool_ else \
                values[:count] == ord("T")
            raw[...] = np.where(flags, b"T", b"F")
            return
        if fmt.format == "A":
            if array is not None:
                values = np.asarray(array)
                count = min(len(values), nrows)
                raw[:count] = values[:count]
            return
        physical = np.zeros(nrows, dtype=np.dtype(fmt.recformat))
        if array is not None:
            values = np.asarray(array)
            if values.dtype.kind in "SU":
                # text already in the table's notation
                count = min(len(values), nrows)
                raw[:count] = values[:count]
                return
            physical = np.zeros(nrows, dtype=values.dtype)
            count = min(len(values), nrows)
            physical[:count] = values[:count]
        self._converted[column.name] = physical

    # -- representation ----------------------------------------------------------------------------

    def __repr__(self) -> str:
        prefix = "FITS_rec("
        if self.size > 0 or self.shape == (0,):
            body = np.array2string(self, separator=", ", prefix=prefix, suffix=",",
                                   formatter={"int": str})
        else:
            body = f"[], shape={self.shape!r}"
        return f"{prefix}{body},\n{' ' * len(prefix)}dtype={self.dtype!s})"

    def __str__(self) -> str:
        try:
            return super().__str__()
        except (TypeError, ValueError):
            # numpy picks integer formatting from the stored field, which fails on the float
            # values of a scaled integer column
            return np.array2string(self, formatter={"int": str})

    # -- column access -------------------------------------------------------------------------

    def __getattribute__(self, attr: str) -> Any:
        try:
            return object.__getattribute__(self, attr)
        except AttributeError:
            pass
        coldefs = self._coldefs
        if coldefs is not None and attr in coldefs.names:
            return self.field(attr)
        return super().__getattribute__(attr)

    def __getitem__(self, key: Any) -> Any:
        if self._coldefs is None:
            return super().__getitem__(key)
        if isinstance(key, str):
            return self.field(key)
        if is_integer(key):
            if self.ndim != 1 or not -len(self) <= key < len(self):
                # also ends iteration over the rows
                raise IndexError(f"index {key} is out of bounds for axis 0 with size "
                                 f"{len(self) if self.ndim else 0}")
            return self._record_type(self, int(key))
        out = np.ndarray.__getitem__(self, key)
        if not isinstance(out, np.ndarray):
            return self._record_type(self, key)
        if not isinstance(out, FITS_rec) or out.dtype.names != self.dtype.names:
            return out
        for index in self._text_to_share:
            self.field(index)
        out._text_to_share = ()
        out._converted = {}
        for name, values in self._converted.items():
            out._converted[name] = np.ndarray.__getitem__(values, key)
        out._coldefs = ColDefs(self._coldefs)
        out._adopt_columns()
        return out

    def __setitem__(self, key: Any, value: Any) -> None:
        if self._coldefs is None:
            super().__setitem__(key, value)
            return
        if isinstance(key, str):
            self[key][:] = value
            return
        if isinstance(key, slice):
            rows = range(*key.indices(len(self)))
            values = list(value)
            if len(values) != len(rows):
                raise ValueError(f"{len(values)} rows given for {len(rows)} rows of the slice")
            for row, item in zip(rows, values):
                self.__setitem__(row, item)
            return
        if isinstance(value, FITS_record):
            for name in self.names:
                self.field(name)[key] = value.field(name)
        elif isinstance(value, (tuple, list, np.void)):
            if len(value) != self._nfields:
                raise ValueError(f"Input tuple or list required to have {self._nfields} "
                                 "elements.")
            for index in range(self._nfields):
                self.field(index)[key] = value[index]
        else:
            raise TypeError("Assignment requires a FITS_record, tuple, or list as input.")

    def _ipython_key_completions_(self) -> list:
        return self.names

    def copy(self, order: str = "C") -> FITS_rec:
        """An independent copy: stored rows, converted fields, heap and columns."""
        new = super().copy(order=order)
        new._converted = _copy.deepcopy(self._converted)
        new._heap = None if self._heap is None else np.array(self._heap)
        new._heap_rebuilt = None if self._heap_rebuilt is None else np.array(self._heap_rebuilt)
        new._col_weakrefs = weakref.WeakSet()
        coldefs = self._coldefs
        new.__dict__["_coldefs"] = None
        if coldefs is not None:
            new._coldefs = _copy.deepcopy(coldefs)
            new._adopt_columns()
        return new

    @property
    def columns(self) -> ColDefs | None:
        """The :class:`ColDefs` describing the fields."""
        return self._coldefs

    @property
    def _coldefs(self) -> ColDefs | None:
        coldefs = self.__dict__.get("_coldefs")
        if coldefs is _FROM_DTYPE:
            coldefs = ColDefs(self.view(np.ndarray))
            self._coldefs = coldefs
            self._adopt_columns()
        return coldefs

    @_coldefs.setter
    def _coldefs(self, coldefs: ColDefs | None) -> None:
        self.__dict__["_coldefs"] = coldefs
        if isinstance(coldefs, ColDefs):
            for column in coldefs.columns:
                self._col_weakrefs.add(column)

    @_coldefs.deleter
    def _coldefs(self) -> None:
        self.__dict__.pop("_coldefs", None)

    def _adopt_columns(self) -> None:
        """Make each column's ``.array`` read this table's field."""
        coldefs = self.__dict__.get("_coldefs")
        if isinstance(coldefs, ColDefs):
            for column in coldefs.columns:
                column.__dict__.pop("array", None)
                column._parent_fits_rec = weakref.ref(self)

    def __del__(self) -> None:
        # Columns held elsewhere keep their values as a copy once this table is gone. Drop
        # our reference first so that only those columns remain in the weak set.
        try:
            heir = self._heir(self.__dict__.pop("_coldefs", None))
            if self.dtype.fields is None:
                return
            for column in list(self._col_weakrefs):
                parent = column._parent_fits_rec() if column._parent_fits_rec else None
                if parent is not self:
                    continue
                if heir is not None:
                    # the fields read the same through the table this one views (an HDU's
                    # view of the table it was given): no copy of the column is needed
                    column._parent_fits_rec = weakref.ref(heir)
                    continue
                column.__dict__["array"] = self._orphan_values(column.name)
        except Exception:   # interpreter shutdown, half-built arrays
            pass

    def _heir(self, coldefs: Any) -> FITS_rec | None:
        """The table this one is a whole view of, when it has the same columns (``coldefs``,
        this table's own) and converted values: every field of this table reads the same
        through it."""
        base = self.base
        if not isinstance(base, FITS_rec) or base.__dict__.get("_coldefs") is not coldefs \
                or base._converted is not self._converted or base.dtype != self.dtype:
            return None
        mine, theirs = self.__array_interface__, base.__array_interface__
        same = (mine["data"], mine["shape"], mine["strides"]) == \
            (theirs["data"], theirs["shape"], theirs["strides"])
        return base if same else None

    def _orphan_values(self, name: str) -> Any:
        """A copy of the values field ``name`` gives (None when there is no such field), for
        a column to keep once this table is gone (when its ColDefs is already dropped)."""
        if name in self._converted:
            return self._converted[name].copy()
        names = self.dtype.names or ()
        if name not in names:
            return None
        index = names.index(name)
        if index in self._text_to_share:
            try:
                return _decode_ascii(self._raw_field(index)).view(chararray)
            except UnicodeDecodeError:
                pass
        return self.view(np.ndarray)[name].copy()

    @property
    def names(self) -> list[str] | None:
        """The column names."""
        if self.dtype.fields:
            return list(self.dtype.names)
        coldefs = self.__dict__.get("_coldefs")
        return coldefs.names if isinstance(coldefs, ColDefs) else None

    @property
    def formats(self) -> list | None:
        """The columns' FITS formats."""
        coldefs = self._coldefs
        return None if coldefs is None else coldefs.formats

    @property
    def _raw_itemsize(self) -> int:
        """Bytes per row as written (text fields held as unicode count one byte a character)."""
        fields = [entry[0] for entry in self.dtype.fields.values()]
        if not any(dtype.base.kind == "U" for dtype in fields):
            return self.itemsize
        return sum(d.itemsize // 4 if d.base.kind == "U" else d.itemsize for d in fields)

    def tolist(self) -> list:
        columns = [self[name].tolist() for name in self.columns.names]
        return [list(row) for row in zip(*columns)]

    # -- fields -------------------------------------------------------------------------------

    def _raw_field(self, index: int) -> np.ndarray:
        """The stored values of field ``index`` (a view), chararrays for text."""
        field = self.view(np.ndarray)[self.dtype.names[index]]
        if field.dtype.kind in "SU":
            field = field.view(chararray)
        return field

    def field(self, key: Any) -> Any:
        """The physical values of a column (by name or index): a view of the stored field
        when no conversion is needed, else the converted (and kept) array."""
        coldefs = self.columns
        if coldefs is None:
            return np.recarray.field(self, key)
        index = _get_index(coldefs.names, key)
        column = coldefs.columns[index]
        converted = self._converted.get(column.name)
        if converted is not None:
            return converted
        names = self.dtype.names
        if len(names) != len(coldefs) and column.name in names:
            # the ColDefs gained or lost a column and the table is being rebuilt from this
            # one: its stored fields are still where they were
            index = names.index(column.name)
        view = self._views.get((column.name, index))
        if view is not None:
            # the same object each time, as astropy gives (column.array is table[name])
            return view
        raw = self._raw_field(index)
        values, is_copy = self._convert(column, raw, index)
        if is_copy:
            self._converted[column.name] = values
        else:
            self._views[(column.name, index)] = values
        return values

    def _undecoded_text(self, key: Any) -> np.ndarray | None:
        """The stored bytes of text field ``key`` (name or index) of a binary table while
        its str values are not made; None for other fields."""
        coldefs = self._coldefs
        if coldefs is None or isinstance(coldefs, _AsciiColDefs) or \
                len(coldefs) != len(self.dtype.names or ()):
            return None
        index = _get_index(coldefs.names, key)
        column = coldefs.columns[index]
        if column.format.format != "A" or column.name in self._converted:
            return None
        raw = self._raw_field(index)
        return raw if raw.dtype.kind == "S" else None

    def _convert(self, column: Any, raw: np.ndarray, index: int) -> tuple[Any, bool]:
        """``(physical values, whether they are a separate array)`` of a stored field."""
        fmt = column.format
        if isinstance(self._coldefs, _AsciiColDefs):
            values, is_copy = self._convert_ascii(column, raw)
            if fmt.format != "A" and not fmt._pseudo_logical and _scaled(column.bscale,
                                                                          column.bzero):
                bscale, bzero = _scale_factors(column)
                values = np.asarray(values, dtype=np.float64) * bscale + bzero
            return values, is_copy
        letter = fmt.format
        if letter in "PQ" and self._load_variable_length_data:
            return self._convert_vla(column, raw), True
        if letter == "X":
            if raw.dtype == np.bool_:
                return raw, False
            repeat = fmt.recformat.repeat
            return np.unpackbits(raw, axis=-1)[..., :repeat].astype(bool), True
        if letter == "L":
            if raw.dtype == np.bool_:
                return raw, False
            if self._logical_as_bytes:
                return raw.view("S1"), False
            # the bytes gathered out of the rows once, then tested where they lie together
            raw = np.ascontiguousarray(raw)
            if np.any(raw == 0):
                warnings.warn(f"Column '{column.name}' contains NULL (undefined) values which "
                              f"will be converted to False. {_NULL_HINT}", FITSUserWarning,
                              stacklevel=4)
            return np.equal(raw, ord("T")), True
        if letter == "A":
            if raw.dtype.kind == "U" or self._character_as_bytes:
                return raw, False
            try:
                return _decode_ascii(raw).view(chararray), True
            except UnicodeDecodeError:
                return raw, False
        if not _scaled(column.bscale, column.bzero):
            return raw, False
        if (raw.dtype.kind == "u" and letter in "IJK") or (raw.dtype.kind == "f"
                                                           and letter in "BIJK"):
            # a plain array viewed as a table: the field already holds physical values
            return raw, False
        return self._unscale(column, raw, letter), True

    def _unscale(self, column: Any, raw: np.ndarray, letter: str) -> np.ndarray:
        """Physical values ``raw * TSCAL + TZERO`` (unsigned integers for the offset
        convention when the table reads unsigned integers)."""
        bscale, bzero = _scale_factors(column)
        uint = _UINT_OF.get(letter)
        if self._uint and bscale == 1 and uint is not None and bzero == uint[1]:
            # flipping the sign bit adds 2**(n-1) exactly; done in place on the values
            # gathered out of the rows (faster than on the strided field)
            values = raw.view(raw.dtype.str.replace("i", "u")).astype(uint[0])
            values ^= uint[0](uint[1])
            return values
        values = np.array(raw, dtype=np.float64)
        if bscale != 1:
            values *= bscale
        if bzero != 0:
            values += bzero
        return values

    def _convert_ascii(self, column: Any, raw: np.ndarray) -> tuple[Any, bool]:
        fmt = column.format
        if fmt.format == "A" or fmt._pseudo_logical:
            if self._character_as_bytes:
                return raw, False
            try:
                return _decode_ascii(raw).view(chararray), True
            except UnicodeDecodeError:
                return raw, False
        width = fmt.width
        text = np.char.ljust(np.asarray(raw, dtype=f"S{raw.dtype.itemsize}"), width)
        text = np.char.replace(text, b"D", b"E")
        null = str(column.null).strip().encode("ascii", "replace")[:width]
        fill = (b"nan" if fmt.format in "DEF" else str(ASCIITNULL).encode()).rjust(width)
        stripped = np.char.strip(text)
        text = np.where(stripped == null, fill, text)
        if null != b"":
            text = np.where(stripped == b"", fill, text)
        try:
            return np.array(text, dtype=fmt.recformat), True
        except ValueError as exc:
            number = self._coldefs.names.index(column.name) + 1
            raise FITSValueError(f"{exc}; the header may be missing the necessary "
                                 f"TNULL{number} keyword or the table contains invalid data"
                                 ) from None

    def _convert_vla(self, column: Any, raw: np.ndarray) -> _VLF:
        """The cells of a variable-length column read from the heap."""
        recformat = column.format.recformat
        code = recformat.dtype
        logical = recformat.format == "L"
        element = "S1" if logical and self._logical_as_bytes else "b1" if logical else code
        heap = self._heap
        counts = np.asarray(raw[:, 0], dtype=np.int64) if len(raw) else np.zeros(0, np.int64)
        offsets = np.asarray(raw[:, 1], dtype=np.int64) if len(raw) else np.zeros(0, np.int64)
        stored = np.dtype("S1" if code == "S" else ">" + code if code not in ("i1", "u1")
                          else code)
        if counts.size and counts.max() > 0:
            if heap is None:
                raise FITSError(f"Could not find heap data for the {column.name!r} "
                                "variable-length array column.")
            _check_descriptors(column.name, counts, offsets, len(heap), stored.itemsize)
        legacy = False
        if logical and counts.size and counts.max() > 0:
            used = np.concatenate([heap[o:o + c] for o, c in zip(offsets, counts) if c])
            present = np.unique(used)
            # astropy <= 7.2 wrote logical arrays as bytes 0/1 rather than 'T'/'F'
            legacy = bool(np.all(present <= 1)) and 1 in present
            if legacy:
                warnings.warn(f"Logical variable-length array column {column.name!r} appears "
                              "to have been written by an older astropy version (<= 7.2.0) "
                              "that stored boolean values as 0x00/0x01 bytes instead of the "
                              "FITS L wire format ord('T')/ord('F'). Reading 0x01 as True and "
                              "0x00 as False.", FITSUserWarning, stacklevel=5)
            elif not self._logical_as_bytes and 0 in present and (
                    ord("T") in present or ord("F") in present):
                warnings.warn(f"Variable-length array column {column.name!r} contains NULL "
                              f"(undefined) values which will be converted to False. {_NULL_HINT}",
                              FITSUserWarning, stacklevel=5)
        shape = _vla_shape(column.dim)
        cells = _VLF([None] * len(raw), dtype=element)
        scaled = _scaled(column.bscale, column.bzero) and code not in ("S", "i1")
        for row in range(len(raw)):
            start, count = int(offsets[row]), int(counts[row])
            chunk = heap[start:start + count * stored.itemsize] if count else \
                np.zeros(0, dtype=np.uint8)
            if code == "S":
                text = chunk.view("S1")
                try:
                    cell = text.astype("U1").view(chararray)
                except UnicodeDecodeError:
                    cell = text.view(chararray)
            elif logical:
                cell = chunk.view("S1").copy() if self._logical_as_bytes else \
                    chunk != 0 if legacy else chunk == ord("T")
            else:
                cell = _shaped_vla_cell(np.array(chunk.view(stored), dtype=code), shape,
                                        column.name, row)
                if scaled:
                    cell = self._unscale(column, cell, recformat.format)
            np.ndarray.__setitem__(cells, row, cell)
        cells.max = int(counts.max()) if counts.size else 0
        return cells

    # -- writing back -------------------------------------------------------------------------

    def _scale_back(self, update_heap_pointers: bool = True) -> None:
        """Write the converted (physical) fields back into the stored rows; rebuild the
        heap and the array descriptors of variable-length columns that were read."""
        coldefs = self._coldefs
        if coldefs is None or self.dtype.names is None:
            return
        ascii = isinstance(coldefs, _AsciiColDefs)
        vla_loaded = False
        for index, name in enumerate(self.dtype.names):
            column = coldefs.columns[index]
            fmt = column.format
            raw = self._raw_field(index)
            values = self._converted.get(name)
            if ascii:
                if values is not None or fmt.format == "A" or fmt._pseudo_logical:
                    self._store_ascii(column, values, raw)
                continue
            if fmt.format in "PQ":
                vla_loaded = vla_loaded or values is not None
                continue
            if fmt.format == "A" and raw.dtype.kind == "S" and (values is None or values is raw):
                _nul_trailing_blanks(raw)
                continue
            if values is None:
                if fmt.format == "L":
                    _check_logical(np.ascontiguousarray(raw), name)
                continue
            if raw.dtype.kind in "bU" or values is raw:
                continue
            if isinstance(fmt.recformat, _FormatX):
                raw[...] = np.packbits(np.asarray(values, dtype=bool), axis=-1)[..., :raw.shape[-1]]
            elif fmt.format == "L":
                # the bytes gathered out of the rows once; only cells whose truth changed are
                # rewritten (a NULL read as False stays NULL)
                stored = np.ascontiguousarray(raw)
                truth = np.asarray(values, dtype=bool)
                changed = truth != (stored == ord("T"))
                if changed.any():
                    new = np.where(truth[changed], np.int8(ord("T")), np.int8(ord("F")))
                    raw[changed] = new
                    stored[changed] = new
                _check_logical(stored, name)
            elif fmt.format == "A":
                if values.dtype.kind == "U":
                    _store_text(raw, values, name)
            else:
                self._store_scaled(column, values, raw)
        if update_heap_pointers and vla_loaded:
            self._rebuild_heap()

    def _store_scaled(self, column: Any, values: np.ndarray, raw: np.ndarray) -> None:
        """Write a scaled column's physical values back into its stored field."""
        _store_changed(raw, self._stored_of(column, values, raw.dtype))

    def _stored_of(self, column: Any, values: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """The stored values (``dtype``) of a scaled column's physical ones."""
        bscale, bzero = _scale_factors(column)
        values = np.asarray(values)
        uint = _UINT_OF.get(column.format.format)
        if values.dtype.kind == "u" and uint is not None and bscale == 1 and bzero == uint[1]:
            stored = values.astype(uint[0], copy=False) ^ uint[0](uint[1])
            stored = stored.view(stored.dtype.str.replace("u", "i"))
        elif values.dtype.kind in "iu" and bscale == 1 and is_integer(bzero):
            stored = values.astype(np.int64) - int(bzero)
        else:
            stored = _stored_values(values, bscale, bzero, dtype.kind in "iu")
        return stored.astype(dtype, casting="unsafe", copy=False)

    def _store_ascii(self, column: Any, values: Any, raw: np.ndarray) -> None:
        """Write values into an ASCII table's text field, in the column's format (text
        padded with blanks: NULs are not allowed in ASCII tables)."""
        fmt = column.format
        if fmt.format == "A" or fmt._pseudo_logical:
            if values is not None and values.dtype.kind == "U":
                _store_text(raw, values, column.name, strip=False)
            raw[...] = np.char.ljust(np.asarray(raw), raw.dtype.itemsize)
            return
        width = raw.dtype.itemsize
        values = np.asarray(values)
        if _scaled(column.bscale, column.bzero):
            # the text holds stored values: (physical - TZERO) / TSCAL
            bscale, bzero = _scale_factors(column)
            integer = fmt.format in "IJ"
            values = _stored_values(values, bscale, bzero, integer)
            if integer:
                values = values.astype(np.int64)
        # rewrite only the cells whose value changed: the others keep their own notation
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                current = self._convert_ascii(column, raw)[0]
            except ValueError:
                current = None
        if current is not None and current.shape == values.shape:
            same = (current == values) | ((current != current) & (values != values))
            rows = np.flatnonzero(~same)
        else:
            rows = np.arange(len(values))
        if rows.size == 0:
            return
        if fmt.format in "FED":
            spec = f"{{:>{fmt.width}.{fmt.precision}{ASCII2STR[fmt.format]}}}"
        else:
            spec = f"{{:>{fmt.width}d}}"
        point = fmt.precision == 0 and fmt.format in "FED"
        null = None if column.null is None else str(column.null)
        texts = []
        for value in values[rows].tolist():
            if null is not None and isinstance(value, float) and value != value:
                # NaN is written as the column's null string ('NAN' is not a FITS number)
                texts.append(null[:fmt.width].ljust(width))
                continue
            text = spec.format(value)
            if len(text) > fmt.width:
                raise ValueError(f"Value {text!r} does not fit into the output's itemsize of "
                                 f"{fmt.width}.")
            if point and text[:1] == " ":
                # the standard prefers a decimal point in floating-point fields
                text = text[1:] + "."
            texts.append(text.ljust(width))
        encoded = np.array(texts, dtype=f"S{width}") if texts else np.zeros(0, f"S{width}")
        if fmt.format == "D":
            encoded = np.char.replace(encoded, b"E", b"D")
        raw[rows] = encoded

    def _vla_columns(self) -> Iterator[tuple[int, Any, np.dtype, bool]]:
        """(index, column, stored element dtype, is logical) of each variable-length column,
        in heap order."""
        for index, column in enumerate(self._coldefs.columns):
            fmt = column.format
            if fmt.format not in "PQ":
                continue
            code = fmt.recformat.dtype
            stored = np.dtype("S1" if code == "S" else code if code in ("i1", "u1")
                              else ">" + code)
            yield index, column, stored, fmt.recformat.format == "L"

    def _heap_layout(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(heap offsets, byte sizes) of every variable-length column's cells, int64 per
        row, for a heap laid out one column after another in row order. ValueError when a
        'P' column's descriptors (32-bit) cannot reach its cells."""
        layout = []
        offset = 0
        for index, column, stored, logical in self._vla_columns():
            sizes = np.array([_vla_nbytes(cell, stored, logical) for cell in self.field(index)],
                             dtype=np.int64)
            offsets = offset + np.cumsum(sizes) - sizes
            offset += int(sizes.sum())
            if self._raw_field(index).dtype.itemsize == 4 and offset >= 1 << 31:
                raise ValueError(f"The heap of column {column.name!r} reaches {offset} bytes, "
                                 "past the heapsize limit for the 'P' format (2**31 - 1). "
                                 "Please consider using the 'Q' format for your file.")
            layout.append((offsets, sizes))
        return layout

    def _rebuild_heap(self) -> None:
        """Lay out a new heap from every variable-length column's cells (one column after
        another, row order) and point the descriptors at it."""
        layout = self._heap_layout()
        total = sum(int(sizes.sum()) for _, sizes in layout)
        # one allocation for the whole heap: a heap of GiBs is not held twice while building
        heap = np.empty(total, dtype=np.uint8)
        for (index, column, stored, logical), (offsets, sizes) in zip(self._vla_columns(), layout):
            raw = self._raw_field(index)
            cells = self.field(index)
            raw[:, 0] = sizes // stored.itemsize
            raw[:, 1] = offsets
            for row, cell in enumerate(cells):
                if sizes[row]:
                    heap[offsets[row]:offsets[row] + sizes[row]] = \
                        _vla_bytes(cell, stored, logical, column)
            cells.max = int(raw[:, 0].max()) if len(raw) else 0
        self._heap_rebuilt = heap
        self._heapsize = total

    def _get_heap_data(self) -> np.ndarray:
        """The heap bytes (uint8) the array descriptors point into."""
        if self._heap_rebuilt is not None:
            return self._heap_rebuilt
        if self._heap is not None:
            return self._heap
        vla = [c for c in (self._coldefs or []) if c.format.format in "PQ"]
        if vla:
            self._rebuild_heap()
            return self._heap_rebuilt
        return np.zeros(0, dtype=np.uint8)

    def _update_column_attribute_changed(self, column: Any, index: int, attr: str, old: Any,
                                         new: Any) -> None:
        # a view taken under the old attributes may no longer be the field's values
        self._views.clear()
        if attr == "name" and self.dtype.names is not None and new is not None:
            names = list(self.dtype.names)
            names[index] = new
            self.dtype.names = tuple(names)
            if old in self._converted:
                self._converted[new] = self._converted.pop(old)


# -- helpers --------------------------------------------------------------------------------------

def _column_values(column: Any, ascii: bool) -> Any:
    """The values ``column`` gives a new table (a binary one unless ``ascii``): its array,
    or its field of the table it reads. A text field of a binary table not decoded yet
    gives its stored bytes: its str values would only be encoded back to the same bytes."""
    array = column.__dict__.get("array")
    if isinstance(array, Delayed):
        table, key = array.hdu.data, array.field
    elif array is None and column._parent_fits_rec is not None:
        table, key = column._parent_fits_rec(), column.name
    else:
        return array
    if table is None:
        return None
    if not ascii and isinstance(table, FITS_rec):
        stored = table._undecoded_text(key)
        if stored is not None:
            return stored
    return table.field(key)


def _stored_values(values: Any, bscale: Any, bzero: Any, integer: bool) -> np.ndarray:
    """Stored values (float64) of physical ``values``: ``(values - bzero) / bscale``,
    rounded when they are stored as integers."""
    stored = np.asarray(values, dtype=np.float64)
    if bzero != 0:
        stored = stored - bzero
    if bscale != 1:
        stored = stored / bscale
    return np.around(stored) if integer else stored


def _scale_factors(column: Any) -> tuple[Any, Any]:
    """(TSCAL, TZERO) of ``column``, 1 and 0 where unset; FITSError naming the column when
    either is not a real number (a header card holding text, a logical, a complex)."""
    bscale = column.bscale if column.bscale not in ("", None) else 1
    bzero = column.bzero if column.bzero not in ("", None) else 0
    for keyword, value in (("TSCAL", bscale), ("TZERO", bzero)):
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(
                value, (bool, np.bool_)):
            raise FITSError(f"column {column.name!r}: {keyword} = {value!r} is not a real "
                            "number to scale the column by")
    return bscale, bzero


def _check_descriptors(name: str, counts: np.ndarray, offsets: np.ndarray, heap: int,
                       itemsize: int) -> None:
    """FITSValueError unless every (count, offset) descriptor of variable-length column
    ``name`` selects elements of ``itemsize`` bytes inside a heap of ``heap`` bytes. astropy
    reads what an offset before the heap or past it selects in the rows or the padding (or
    nothing); those bytes are no cell's, so they are refused. The offset of an empty cell is
    not used. Compared without forming count x itemsize, which a count of 2**63 - 1 would
    overflow."""
    used = counts != 0
    counts, offsets = counts[used], offsets[used]
    room = (heap - offsets) // itemsize
    if counts.min(initial=0) < 0 or offsets.min(initial=0) < 0 or \
            offsets.max(initial=0) > heap or np.any(counts > room):
        raise FITSValueError(f"Variable-length array column {name!r} points outside the "
                             f"{heap}-byte heap (a descriptor's count or offset is negative, or "
                             "its elements end past the heap).")

def _physical_dtype(given: np.dtype, stored: np.dtype) -> np.dtype:
    """dtype to keep the physical values of a scaled column in."""
    if given.kind in "iufc" or given.kind == "b":
        return given.newbyteorder("=")
    return np.dtype(np.float64)


def _copy_cells(out: np.ndarray, values: np.ndarray, count: int,
                copies: list | None = None) -> None:
    """Copy the first ``count`` cells of ``values`` into ``out``, reshaping cells when the
    field's shape (from TDIM) differs from the input's; a copy of cells of the same shape
    is added to ``copies`` when given (see :func:`_fill_rows`)."""
    if count == 0:
        return
    source = values[:count]
    target = out[:count]
    if source.shape == target.shape:
        if copies is None:
            _fill_rows([(target, source)])
        else:
            copies.append((target, source))
        return
    if target.ndim > 1:
        flat = np.asarray(source).reshape(count, -1)
        target.reshape(count, -1)[:, :flat.shape[1]] = flat
    else:
        target[...] = np.asarray(source).reshape(count, -1)[:, 0] if np.asarray(source).ndim > 1 \
            else source


# targets at least this large are filled by two threads
_PARALLEL_BYTES = 8 << 20
# bytes of the targets filled per block of rows: about a CPU's L2 cache
_BLOCK_BYTES = 1 << 20


def _fill_rows(copies: list[tuple[np.ndarray, Any]]) -> None:
    """``target[...] = source`` for each pair of ``copies`` (arrays of the same shape; text
    sources of str for targets of bytes are encoded), a block of rows at a time: the fields
    of one table's rows are filled together while those rows are in the CPU cache, not in
    one pass over all the rows per field. Large targets are filled in two halves by two
    threads, as numpy copies without the GIL; most of the time is the first touch of the
    targets' new pages, which then goes twice as fast too."""
    copies = [(t, s) for t, s in copies if len(t)]
    if not copies:
        return
    nrows = max(len(t) for t, _ in copies)
    rowbytes = sum(t.nbytes // len(t) for t, _ in copies)
    step = max(1, _BLOCK_BYTES // max(rowbytes, 1))

    def fill(start: int, stop: int) -> None:
        for i in range(start, stop, step):
            j = min(i + step, stop)
            for target, source in copies:
                if i < len(target):
                    _assign(target[i:j], source[i:j])

    if rowbytes * nrows < _PARALLEL_BYTES or nrows < 2:
        fill(0, nrows)
        return
    half = nrows // 2
    second = executor("fill", 2).submit(fill, half, nrows)
    try:
        fill(0, half)
    finally:
        wait([second])
    second.result()


def _assign(target: np.ndarray, source: np.ndarray) -> None:
    """``target[...] = source``, str strings for a bytes target encoded, and bytes strings
    for a (contiguous) str target decoded, by the ASCII codecs here (numpy's casts go string
    by string, many times slower); UnicodeError as numpy gives for a string not ASCII."""
    kinds = target.dtype.kind + source.dtype.kind
    if kinds == "SU":
        target[...] = _encode_ascii(source)
    elif kinds == "US":
        # each byte widened to its code point straight into the str array
        np.copyto(target.view(np.uint32), _ascii_codes(source))
    else:
        target[...] = source


def _store_text(raw: np.ndarray, text: np.ndarray, name: str, strip: bool = True) -> None:
    """ASCII-encode unicode strings into a bytes field (ValueError naming the column and
    the cell for other characters, before anything is stored); binary-table strings lose
    their trailing blanks (the field is padded with NULs instead)."""
    text = np.asarray(text)
    if not _is_ascii(text):
        bad = next(i for i, s in np.ndenumerate(text) if not str(s).isascii())
        raise ValueError(f"Could not save column '{name}': Contains characters that cannot be "
                         "encoded as ASCII as required by FITS, starting at the index "
                         f"{bad[0] if len(bad) == 1 else bad!r} of the column.")
    if raw.ndim and text.shape == raw.shape and text.dtype.itemsize == 4 * raw.dtype.itemsize:
        # block by block while in the CPU cache: no encoded copy of the whole column
        for i in range(0, len(raw), _COMPARED_ROWS):
            _store_changed(raw[i:i + _COMPARED_ROWS], _encode_ascii(text[i:i + _COMPARED_ROWS]))
    else:
        _store_changed(raw, _encode_ascii(text))
    if strip:
        _nul_trailing_blanks(raw)


def _is_ascii(text: np.ndarray) -> bool:
    """Whether every character of the str strings ``text`` (numpy U) is ASCII."""
    if text.size == 0 or text.dtype.itemsize == 0:
        return True
    # the characters' code points along a new last axis: a view, strided or not
    return int(text[..., np.newaxis].view(np.uint32).max()) <= 127


def _decode_ascii(raw: np.ndarray) -> np.ndarray:
    """Byte strings (numpy S, any strides) as str (U of the same width), a block of rows at
    a time (:func:`_assign`); UnicodeDecodeError for a byte that is not ASCII."""
    width = raw.dtype.itemsize
    if width == 0 or raw.size == 0:
        return raw.astype(f"U{max(width, 1)}")
    text = np.empty(raw.shape, f"U{width}")
    _fill_rows([(np.atleast_1d(text), np.atleast_1d(raw))])
    return text


def _ascii_codes(raw: np.ndarray) -> np.ndarray:
    """The bytes of byte strings (numpy S, any strides) as uint8, contiguous (gathered out
    of a field strided in its rows first: widened in place, it would go a dozen bytes per
    step), the strings' bytes along the last axis; UnicodeDecodeError, as Python's ASCII
    codec words it, for the first string holding a byte that is not ASCII."""
    width = raw.dtype.itemsize
    codes = np.ascontiguousarray(raw).view(np.uint8)
    if codes.max() > 127:
        rows = codes.reshape(-1, width)
        first = int(np.flatnonzero((rows > 127).any(axis=1))[0])
        at = int(np.flatnonzero(rows[first] > 127)[0])
        raise UnicodeDecodeError("ascii", rows[first].tobytes(), at, at + 1,
                                 "ordinal not in range(128)")
    return codes


def _encode_ascii(text: np.ndarray) -> np.ndarray:
    """str strings (numpy U) as byte strings (S of the same width), each code point narrowed
    to its byte (see :func:`_ascii_codes`); UnicodeEncodeError, as Python's ASCII codec words
    it, for the first string holding a character that is not ASCII."""
    width = text.dtype.itemsize // 4
    if width == 0 or text.size == 0:
        return text.astype(f"S{max(width, 1)}")
    codes = np.ascontiguousarray(text).view(np.uint32)
    if codes.max() > 127:
        rows = codes.reshape(-1, width)
        first = int(np.flatnonzero((rows > 127).any(axis=1))[0])
        at = int(np.flatnonzero(rows[first] > 127)[0])
        raise UnicodeEncodeError("ascii", str(text.reshape(-1)[first]), at, at + 1,
                                 "ordinal not in range(128)")
    return codes.astype(np.uint8).view(f"S{width}").reshape(text.shape)


def _store_changed(raw: np.ndarray, values: np.ndarray) -> None:
    """Assign ``values`` to the cells of ``raw`` holding something else (a memory-mapped
    file is only touched where the data changed)."""
    values = np.asarray(values).astype(raw.dtype, casting="unsafe", copy=False)
    if values.shape != raw.shape:
        values = np.broadcast_to(values, raw.shape)
    if _same_bytes(values, raw):
        # what writing back usually finds (the values were not modified): nothing changes
        return
    changed = values != np.asarray(raw)
    if changed.all():
        raw[...] = values
    elif changed.any():
        raw[changed] = values[changed]


# rows compared per step by _same_bytes: small enough for the CPU cache
_COMPARED_ROWS = 1 << 16


def _same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether arrays of the same shape and dtype hold the same bytes, compared a block of
    rows at a time (no whole-array temporaries: faster than comparing values)."""
    if a.ndim == 0:
        return a.tobytes() == b.tobytes()
    return all(a[i:i + _COMPARED_ROWS].tobytes() == b[i:i + _COMPARED_ROWS].tobytes()
               for i in range(0, len(a), _COMPARED_ROWS))


def _nul_trailing_blanks(raw: np.ndarray) -> None:
    """Replace the trailing blanks of every string in a bytes field by NULs, in place
    (binary-table strings end at the first NUL)."""
    width = raw.dtype.itemsize
    if raw.size == 0 or width == 0:
        return
    plain = raw.view(np.ndarray)
    for i in range(0, len(plain) if plain.ndim else 1, _COMPARED_ROWS):
        block = plain[i:i + _COMPARED_ROWS] if plain.ndim else plain
        # a block of strings without a blank (the usual case) is passed over at the cost of
        # gathering its bytes: numpy's endswith goes string by string
        if not (np.ascontiguousarray(block).view(np.uint8) == ord(" ")).any():
            continue
        # numpy bytes strings end before their trailing NULs: only those ending in a blank
        # change
        ending = np.strings.endswith(block, b" ")
        if not ending.any():
            continue
        stripped = np.strings.rstrip(block[ending], b" ")
        # as astropy, the first character of an all-blank string stays a blank
        stripped[stripped == b""] = b" "
        block[ending] = stripped


# the bytes a logical field may hold: b'T', b'F' and NUL (undefined)
_LOGICAL_BYTES = np.zeros(256, dtype=bool)
_LOGICAL_BYTES[[0, ord("T"), ord("F")]] = True


def _check_logical(stored: np.ndarray, name: str) -> None:
    """ValueError naming the column unless every byte of a logical field (its bytes
    gathered out of the rows: ``stored``) is b'T', b'F' or NUL."""
    bad = ~_LOGICAL_BYTES[stored.view(np.uint8)]
    if bad.any():
        values = ", ".join(repr(bytes([int(b) & 0xFF])) for b in np.unique(stored[bad]))
        raise ValueError(f"FITS logical ('L') column {name!r} contains invalid byte(s) "
                         f"{values}; only b'T', b'F', and b'\\x00' are allowed.")


def _vla_shape(dim: Any) -> tuple[int, ...]:
    if not isinstance(dim, str) or not dim.strip():
        return ()
    try:
        return tuple(int(n) for n in dim.strip().strip("()").split(","))[::-1]
    except ValueError:
        return ()


def _shaped_vla_cell(cell: np.ndarray, shape: tuple[int, ...], name: str, row: int) -> np.ndarray:
    """A variable-length cell (1-d) in the shape its column's TDIM gives (numpy order
    ``shape``, the largest a cell may be): the slowest axis varies in length, except that a
    slowest axis of length 1 (TDIM '(7,1)') makes the cell one row of any length."""
    if len(shape) < 2:
        return cell
    if shape[0] == 1:
        return cell.reshape(1, -1)
    inner = int(np.prod(shape[1:]))
    if cell.size % inner:
        raise ValueError(f"Column {name!r}, row {row}: {cell.size} elements do not fill whole "
                         f"rows of TDIM shape {shape[::-1]} ({inner} elements each)")
    return cell.reshape((-1, *shape[1:]))


def _vla_nbytes(cell: Any, stored: np.dtype, logical: bool) -> int:
    """The size in bytes of ``_vla_bytes(cell, ...)``, without converting the cell."""
    values = np.asarray(cell)
    if stored.kind == "S" and values.dtype.kind in "SU" and values.dtype.itemsize != 1:
        return len(_vla_bytes(values, stored, logical, None))
    return values.size * (1 if logical else stored.itemsize)


def _vla_bytes(cell: Any, stored: np.dtype, logical: bool, column: Any) -> np.ndarray:
    """The heap bytes of one variable-length cell."""
    if stored.kind == "S":
        values = np.asarray(cell)
        if values.dtype.kind == "U":
            values = values.astype("S")
        data = b"".join(values.ravel().tolist()) if values.dtype.itemsize != 1 else \
            values.ravel().tobytes()
        return np.frombuffer(data, dtype=np.uint8).copy()
    values = np.asarray(cell)
    if logical:
        if values.dtype.kind == "S":
            return values.ravel().view(np.uint8).copy()
        return np.where(values.ravel().astype(bool), ord("T"), ord("F")).astype(np.uint8)
    if _scaled(column.bscale, column.bzero):
        bscale, bzero = _scale_factors(column)
        values = (np.asarray(values, dtype=np.float64) - bzero) / bscale
        if stored.kind in "iu":
            values = np.around(values)
    return np.ascontiguousarray(values.ravel(), dtype=stored).view(np.uint8)


def _make_vla(cells: Any, recformat: _FormatP, nrows: int) -> _VLF:
    """A variable-length column of ``nrows`` cells from the given ones (rows beyond them
    repeat zeros, as many as the longest cell so far)."""
    code = recformat.dtype
    logical = recformat.format == "L"
    element = "b1" if logical else code
    column = _VLF([None] * nrows, dtype=element)
    longest = 0
    for row in range(nrows):
        if row < len(cells):
            value = cells[row]
        elif code == "S":
            value = " " * longest
        else:
            value = np.zeros(longest, dtype=element)
        if code == "S":
            if isinstance(value, str):
                value = value.encode("ascii")
            cell = _chararray(_text_of(value), itemsize=1)
        elif logical:
            cell = _logical_vla_cell(value)
        else:
            cell = np.array(value, dtype=code)
        np.ndarray.__setitem__(column, row, cell)
        longest = max(longest, cell.size)
    column.max = longest
    return column


def _logical_vla_cell(value: Any) -> np.ndarray:
    """A cell of a logical variable-length column: bool, or bytes (b'T', b'F', b'\\x00' for
    undefined) kept as given so they are stored verbatim."""
    if isinstance(value, np.ndarray) and (value.dtype.kind == "b" or value.dtype == "S1"):
        return value
    return np.asarray(np.array(value, dtype=np.int8), dtype=bool)


def _text_of(value: Any) -> np.ndarray:
    if isinstance(value, bytes):
        return np.frombuffer(value, dtype="S1") if value else np.zeros(0, dtype="S1")
    array = np.asarray(value)
    if array.ndim == 0:
        return _text_of(array.item() if isinstance(array.item(), bytes)
                        else str(array.item()).encode("ascii"))
    return array
