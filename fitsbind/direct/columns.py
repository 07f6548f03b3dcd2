"""Table columns: TFORM parsing, where each column sits in a row, and the dtypes it is stored
as and read as.

:class:`ColumnInfo` describes one column of a table on disk (from its header);
:class:`ColumnSpec` describes one column of a table to be created; :func:`spec_for` derives a
spec from the values a user wants to store.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from fitsbind.errors import FITSTypeError, FITSValueError

#: binary-table element code → numpy type of one stored element (native order)
BINARY_TYPES = {
    "L": np.dtype(np.uint8), "X": np.dtype(np.uint8), "B": np.dtype(np.uint8),
    "I": np.dtype(np.int16), "J": np.dtype(np.int32), "K": np.dtype(np.int64),
    "A": np.dtype("S1"), "E": np.dtype(np.float32), "D": np.dtype(np.float64),
    "C": np.dtype(np.complex64), "M": np.dtype(np.complex128),
}

#: element code → bytes swapped as one unit (complex numbers swap each half)
SWAP_SIZE = {"I": 2, "J": 4, "K": 8, "E": 4, "D": 8, "C": 4, "M": 8, "P": 4, "Q": 8}

#: (element code, TZERO) of the integer conventions → the dtype they read as
OFFSET_CONVENTIONS = {("B", -128): np.dtype(np.int8), ("I", 1 << 15): np.dtype(np.uint16),
                      ("J", 1 << 31): np.dtype(np.uint32), ("K", 1 << 63): np.dtype(np.uint64)}

#: numpy dtype → (element code, TZERO) that stores it in a binary table
CODE_OF = {np.dtype(np.bool_): ("L", None), np.dtype(np.uint8): ("B", None),
           np.dtype(np.int16): ("I", None), np.dtype(np.int32): ("J", None),
           np.dtype(np.int64): ("K", None), np.dtype(np.float32): ("E", None),
           np.dtype(np.float64): ("D", None), np.dtype(np.complex64): ("C", None),
           np.dtype(np.complex128): ("M", None)}
CODE_OF.update({dtype: (code, zero) for (code, zero), dtype in OFFSET_CONVENTIONS.items()})

_BINARY = re.compile(r"^(\d*)([LXBIJKAEDCM])(\d*)$")
_VARIABLE = re.compile(r"^(\d*)([PQ])([LXBIJKAEDCM])(?:\((\d*)\))?$")
_ASCII = re.compile(r"^([AIFED])(\d+)(?:\.(\d+))?$")
_TDIM = re.compile(r"^\(\s*(\d+(?:\s*,\s*\d+)*)\s*\)$")


@dataclass(frozen=True)
class TForm:
    """A parsed TFORM: ``code`` the element type, ``repeat`` elements per row (bits for X,
    characters for A), ``vla`` "P"/"Q" for a variable-length array (``maxlen`` its declared
    maximum), and for ASCII tables the field ``width`` and ``decimals``."""

    code: str
    repeat: int = 1
    vla: str | None = None
    maxlen: int = 0
    width: int = 0
    decimals: int = 0

    @property
    def nbytes(self) -> int:
        """Bytes per row (binary tables)."""
        if self.vla:
            return 0 if self.repeat == 0 else 8 if self.vla == "P" else 16
        if self.code == "X":
            return (self.repeat + 7) // 8
        return self.repeat * BINARY_TYPES[self.code].itemsize


def parse_tform(tform: str, ascii: bool = False) -> TForm:
    """Parse a binary-table TFORM (``rT``, ``rPT(max)``, ``rQT(max)``) or, with ``ascii``, an
    ASCII-table one (``Aw``, ``Iw``, ``Fw.d``, ``Ew.d``, ``Dw.d``). ValueError if malformed."""
    text = str(tform).strip().upper()
    if ascii:
        m = _ASCII.match(text)
        if m is None or int(m.group(2)) == 0:
            raise FITSValueError(f"TFORM {tform!r} is not an ASCII-table format (Aw, Iw, Fw.d, "
                             "Ew.d, Dw.d)")
        return TForm(m.group(1), 1, width=int(m.group(2)), decimals=int(m.group(3) or 0))
    m = _BINARY.match(text)
    if m is not None:
        # a trailing number is only meaningful for A (rAw: substrings of w characters)
        if m.group(3) and m.group(2) != "A":
            raise FITSValueError(f"TFORM {tform!r} is not a binary-table format")
        return TForm(m.group(2), int(m.group(1) or 1))
    m = _VARIABLE.match(text)
    if m is not None and int(m.group(1) or 1) in (0, 1):
        return TForm(m.group(3), int(m.group(1) or 1), vla=m.group(2),
                     maxlen=int(m.group(4) or 0))
    raise FITSValueError(f"TFORM {tform!r} is not a binary-table format (rL, rX, rB, rI, rJ, rK, "
                     "rA, rE, rD, rC, rM, or rPt(max) / rQt(max))")


def parse_tdim(tdim: str, repeat: int, code: str) -> tuple[int, ...] | None:
    """TDIM ``(a,b,c)`` → numpy cell shape ``(c, b, a)``; for strings the first axis is the
    string length, so ``(5,4)`` on 20A → ``(4,)`` strings of 5. None (with a warning, as
    astropy) when it does not match the repeat count."""
    m = _TDIM.match(str(tdim).strip())
    dims = [int(n) for n in m.group(1).split(",")] if m else None
    if dims is None or int(np.prod(dims)) != repeat:
        warnings.warn(f"TDIM {tdim!r} does not describe {repeat} elements; ignored",
                      stacklevel=4)
        return None
    shape = tuple(reversed(dims))
    return shape[:-1] if code == "A" else shape


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a table as stored (from the header). ``offset`` is the byte offset of
    the column in a row (TBCOL - 1 in ASCII tables); ``shape`` the numpy shape of one cell."""

    index: int
    name: str
    form: TForm
    tform: str
    offset: int
    shape: tuple[int, ...]
    scale: float = 1.0
    zero: float | int = 0
    null: Any = None
    unit: str | None = None
    disp: str | None = None
    dim: str | None = None
    ascii: bool = False

    @property
    def code(self) -> str:
        return self.form.code

    @property
    def vla(self) -> str | None:
        return self.form.vla

    @property
    def nbytes(self) -> int:
        return self.form.width if self.ascii else self.form.nbytes

    @property
    def offset_type(self) -> np.dtype | None:
        """The unsigned (or int8) dtype of a TZERO integer convention, else None."""
        if self.scale != 1 or self.vla:
            return None
        return OFFSET_CONVENTIONS.get((self.code, self.zero))

    @property
    def scaled(self) -> bool:
        """True when reading converts to float64 through TSCAL/TZERO."""
        return (self.scale != 1 or self.zero != 0) and self.offset_type is None \
            and self.code in "BIJKED"

    @property
    def stored(self) -> np.dtype:
        """The cell as raw fitsbind reads it, native order: descriptors (count, offset) for
        a VLA, packed bytes for X, the byte code for L, else the stored element type."""
        if self.vla:
            return np.dtype((np.int32 if self.vla == "P" else np.int64, (2,)))
        if self.code == "X":
            return np.dtype((np.uint8, (self.nbytes,)))
        if self.code == "A":
            return np.dtype((f"S{self.string_width}", self.shape))
        base = self.offset_type if self.offset_type is not None else BINARY_TYPES[self.code]
        return np.dtype((base, self.shape))

    @property
    def string_width(self) -> int:
        """Characters per string of an A column (the first TDIM axis for string arrays)."""
        if self.ascii:
            return self.form.width
        count = int(np.prod(self.shape)) if self.shape else 1
        return self.form.repeat // count if count else 0

    @property
    def element_dtype(self) -> np.dtype:
        """dtype of one element as read with scaling (bool for L and X)."""
        if self.ascii:
            return _ascii_dtype(self.form)
        if self.code in "LX":
            return np.dtype(np.bool_)
        if self.scaled:
            return np.dtype(np.float64)
        if self.code == "A":
            return np.dtype(f"S{self.string_width}")
        if self.offset_type is not None:
            return self.offset_type
        return BINARY_TYPES[self.code]

    def dtype(self, scale: bool = True) -> np.dtype:
        """The cell's dtype as read (object for a VLA)."""
        if self.vla:
            return np.dtype(object)
        if self.ascii:
            return self.element_dtype
        if self.code == "X":
            return np.dtype((np.bool_, (self.form.repeat,)))
        if not scale and self.scaled:
            return self.stored
        if self.code == "A":
            return self.stored
        return np.dtype((self.element_dtype, self.shape))

    def where(self, filename: str, hdu: int) -> str:
        return f"{filename}, HDU {hdu}, column {self.name!r}"


def _ascii_dtype(form: TForm) -> np.dtype:
    if form.code == "A":
        return np.dtype(f"S{form.width}")
    if form.code == "I":
        return np.dtype(np.int16 if form.width <= 4 else np.int32 if form.width <= 9
                        else np.int64)
    return np.dtype(np.float64)


def table_columns(values: Mapping[str, Any], ascii: bool, where: str) -> list[ColumnInfo]:
    """Every column of a table from its header values (keyword → value); checks that the
    TFORMs parse and fit NAXIS1. Raises FITSValueError naming ``where``."""
    ncols = int(values.get("TFIELDS", 0) or 0)
    rowsize = int(values.get("NAXIS1", 0) or 0)
    columns = []
    offset = 0
    for i in range(1, ncols + 1):
        tform = values.get(f"TFORM{i}")
        name = str(values.get(f"TTYPE{i}", "") or "").strip()
        if tform is None:
            raise FITSValueError(f"{where}: column {i} has no TFORM{i}")
        try:
            form = parse_tform(str(tform), ascii)
        except ValueError as exc:
            raise FITSValueError(f"{where}, column {i} ({name!r}): {exc}") from None
        if ascii:
            tbcol = values.get(f"TBCOL{i}")
            if not isinstance(tbcol, int) or tbcol < 1 or tbcol - 1 + form.width > rowsize:
                raise FITSValueError(f"{where}, column {i} ({name!r}): TBCOL{i} = {tbcol!r} "
                                     f"does not place a {form.width}-character field inside "
                                     f"the {rowsize}-character row")
            start = tbcol - 1
            shape: tuple[int, ...] = ()
        else:
            start = offset
            offset += form.nbytes
            shape = _cell_shape(form, values.get(f"TDIM{i}"))
        scale = values.get(f"TSCAL{i}", 1.0)
        zero = values.get(f"TZERO{i}", 0)
        if not isinstance(scale, (int, float)) or not isinstance(zero, (int, float)) \
                or isinstance(scale, bool) or isinstance(zero, bool) or scale == 0:
            raise FITSValueError(f"{where}, column {i} ({name!r}): TSCAL{i} / TZERO{i} must "
                                 f"be numbers (TSCAL not 0), not {scale!r} / {zero!r}")
        columns.append(ColumnInfo(
            index=i - 1, name=name, form=form, tform=str(tform).strip(), offset=start,
            shape=shape, scale=float(scale), zero=zero if isinstance(zero, int) else float(zero),
            null=values.get(f"TNULL{i}"), unit=_opt(values.get(f"TUNIT{i}")),
            disp=_opt(values.get(f"TDISP{i}")), dim=_opt(values.get(f"TDIM{i}")),
            ascii=ascii))
    if not ascii and offset != rowsize:
        raise FITSValueError(f"{where}: NAXIS1 = {rowsize} but the column formats add up to "
                             f"{offset} bytes per row")
    return columns


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _cell_shape(form: TForm, tdim: Any) -> tuple[int, ...]:
    if form.vla or form.code == "X":
        return ()
    if tdim is not None:
        shape = parse_tdim(str(tdim), form.repeat, form.code)
        if shape is not None:
            return shape
    if form.code == "A":
        return ()
    return () if form.repeat == 1 else (form.repeat,)


# -- describing new columns ----------------------------------------------------------------------

@dataclass
class ColumnSpec:
    """A column of a table to create: ``name`` (TTYPE), ``format`` (TFORM, e.g. "E", "20A",
    "3D", "16X", "PJ()", or for ASCII tables "I10", "F12.4", "E15.7", "A8"), and optional
    ``unit`` (TUNIT), ``null`` (TNULL: the stored integer, or string in ASCII tables, marking
    undefined values), ``scale``/``zero`` (TSCAL/TZERO: physical = stored * scale + zero),
    ``disp`` (TDISP) and ``dim`` (TDIM, numpy order shape of a cell, e.g. ``(2, 3)``)."""

    name: str
    format: str
    unit: str | None = None
    null: int | str | None = None
    scale: float | None = None
    zero: float | int | None = None
    disp: str | None = None
    dim: tuple[int, ...] | None = field(default=None)

    def cards(self, i: int) -> list[tuple[str, Any, str | None]]:
        """Header cards this spec adds to column ``i`` (1-based) beyond TTYPE/TFORM/TUNIT."""
        cards: list[tuple[str, Any, str | None]] = []
        if self.null is not None:
            cards.append((f"TNULL{i}", self.null, "value of undefined cells"))
        if self.scale is not None:
            cards.append((f"TSCAL{i}", self.scale, "physical = stored * TSCAL + TZERO"))
        if self.zero is not None:
            cards.append((f"TZERO{i}", self.zero, "physical = stored * TSCAL + TZERO"))
        if self.disp is not None:
            cards.append((f"TDISP{i}", str(self.disp), "display format"))
        if self.dim is not None:
            text = "(" + ",".join(str(int(n)) for n in reversed(tuple(self.dim))) + ")"
            cards.append((f"TDIM{i}", text, "dimensions of a cell"))
        return cards


def as_spec(item: Any) -> ColumnSpec:
    """A ColumnSpec from a ColumnSpec, a mapping of its fields, or a ``(name, format[, unit])``
    tuple."""
    if isinstance(item, ColumnSpec):
        return replace(item)   # a copy: filling in the table must not change the caller's

    if isinstance(item, Mapping):
        try:
            return ColumnSpec(**item)
        except TypeError as exc:
            raise FITSTypeError(f"bad column description {dict(item)!r}: {exc}") from None
    if isinstance(item, (tuple, list)) and len(item) in (2, 3):
        return ColumnSpec(str(item[0]), str(item[1]), *(item[2:]))
    raise FITSTypeError(f"a column is described by a ColumnSpec, a dict or a (name, format"
                        f"[, unit]) tuple, not {item!r}")


def spec_for(name: str, values: Any, ascii: bool = False) -> ColumnSpec:
    """The column a binary (or ASCII) table needs to hold ``values`` (one entry per row):
    numeric and bool arrays with any cell shape (TDIM for 2 or more axes), fixed strings,
    and object arrays (or lists) of 1-D arrays as variable-length arrays."""
    array = values if isinstance(values, np.ndarray) else _as_column_array(values)
    dtype = array.dtype
    cell = array.shape[1:]
    if ascii:
        if cell:
            raise FITSTypeError(f"column {name!r}: ASCII table cells hold one value")
        return ColumnSpec(name, _ascii_format(dtype, name))
    if dtype.kind == "O":
        return _vla_spec(name, array)
    count = int(np.prod(cell)) if cell else 1
    if dtype.kind in "SU":
        width = _string_width(dtype)
        return ColumnSpec(name, f"{width * count}A", dim=(*cell, width) if cell else None)
    native = dtype.newbyteorder("=")
    if native not in CODE_OF:
        raise FITSTypeError(f"column {name!r}: {dtype} cannot be stored in a FITS table")
    code, zero = CODE_OF[native]
    return ColumnSpec(name, f"{count}{code}", zero=zero, dim=cell if len(cell) > 1 else None)


def _string_width(dtype: np.dtype) -> int:
    """Characters per string of a numpy S or U dtype (at least 1)."""
    return max(dtype.itemsize // (4 if dtype.kind == "U" else 1), 1)


def _ascii_format(dtype: np.dtype, name: str) -> str:
    if dtype.kind in "SU":
        return f"A{_string_width(dtype)}"
    if dtype.kind in "iu" and dtype.itemsize <= 4 and dtype != np.uint32:
        return "I11"
    if dtype.kind in "iu":
        return "I20"
    if dtype == np.float32:
        return "E15.7"
    if dtype.kind == "f":
        return "D25.17"
    raise FITSTypeError(f"column {name!r}: {dtype} cannot be stored in an ASCII table "
                        "(integers, floats and strings only)")


def _vla_spec(name: str, array: np.ndarray) -> ColumnSpec:
    cells = [np.asarray(v) for v in array]
    def kinds_of(group: list) -> set:
        return {c.dtype.newbyteorder("=") if c.dtype.kind not in "SU" else c.dtype.kind
                for c in group}

    if any(c.ndim > 1 for c in cells):
        raise FITSTypeError(f"column {name!r}: variable-length cells must be 1-D arrays")
    # the type comes from the cells holding values; when all are empty, from the empty ones
    kinds = kinds_of([c for c in cells if c.size]) or kinds_of(cells) or \
        {np.dtype(np.float64)}
    if len(kinds) > 1:
        raise FITSTypeError(f"column {name!r}: variable-length cells mix types {kinds}")
    kind = kinds.pop()
    if kind in ("S", "U"):
        code, nbytes = "A", 1
        longest = max((len(bytes(_cell_text(c))) for c in cells), default=0)
    else:
        if kind not in CODE_OF:
            raise FITSTypeError(f"column {name!r}: {kind} cannot be stored in a FITS table")
        code, zero = CODE_OF[kind]
        if zero is not None:
            raise FITSTypeError(f"column {name!r}: variable-length arrays of {kind} are not "
                                "supported; use a signed type")
        nbytes = BINARY_TYPES[code].itemsize
        longest = max((c.size for c in cells), default=0)
    heap = sum(c.size for c in cells) * nbytes
    return ColumnSpec(name, f"{'Q' if heap >= 1 << 31 else 'P'}{code}({longest})")


def _cell_text(cell: np.ndarray) -> bytes:
    value = cell.item() if cell.ndim == 0 else "".join(str(x) for x in cell.tolist())
    return value.encode("ascii") if isinstance(value, str) else bytes(value)


def _as_column_array(values: Any) -> np.ndarray:
    """A column from a list: ragged lists (or lists of arrays) become object arrays."""
    if isinstance(values, np.ma.MaskedArray):
        return values
    try:
        array = np.asarray(values)
    except ValueError:
        array = None
    if array is None or array.dtype.kind == "O":
        array = np.empty(len(values), dtype=object)
        for i, v in enumerate(values):
            array[i] = v if isinstance(v, (str, bytes)) else np.asarray(v)
    return array


def check_specs(specs: Sequence[ColumnSpec], ascii: bool, where: str) -> list[TForm]:
    """Parse every spec's format and check names, TDIM and nulls; FITSValueError if wrong."""
    forms = []
    seen: set[str] = set()
    for i, spec in enumerate(specs, 1):
        name = str(spec.name)
        if name.upper() in seen and name:
            raise FITSValueError(f"{where}: column name {name!r} given twice")
        seen.add(name.upper())
        try:
            form = parse_tform(spec.format, ascii)
        except ValueError as exc:
            raise FITSValueError(f"{where}, column {i} ({name!r}): {exc}") from None
        if spec.dim is not None:
            dims = tuple(int(n) for n in spec.dim)
            if ascii or form.vla or int(np.prod(dims)) != form.repeat or any(n < 1 for n in dims):
                raise FITSValueError(f"{where}, column {name!r}: dim {dims} does not fit "
                                     f"format {spec.format!r}")
        if spec.null is not None and not ascii and (form.code not in "BIJK" or form.vla
                                                    or not isinstance(spec.null, int)):
            raise FITSValueError(f"{where}, column {name!r}: TNULL applies to integer columns "
                                 "(B, I, J, K) of binary tables and takes an integer")
        if (spec.scale is not None or spec.zero is not None) and form.code not in "BIJKEDFI":
            raise FITSValueError(f"{where}, column {name!r}: TSCAL/TZERO apply to numeric "
                                 "columns only")
        if spec.scale == 0:
            raise FITSValueError(f"{where}, column {name!r}: TSCAL must not be 0")
        forms.append(form)
    return forms
