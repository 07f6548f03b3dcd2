"""How binary-table cells convert between their stored form and what users read and write.

Raw row I/O moves *records*: packed structured arrays whose fields have the stored size of each
column, in native byte order (the TZERO integer conventions already sign-flipped). Reading
then decodes them (logicals, bits, strings, scaling, variable-length arrays); writing encodes
user values into them, checking everything before the file changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fitsbind.direct.columns import BINARY_TYPES, SWAP_SIZE, ColumnInfo
from fitsbind.direct.pixels import check_float_range, check_range, to_scaled
from fitsbind.errors import FITSTypeError, FITSValueError

_T = ord("T")

#: how variable-length columns are returned by reads
VLA_MODES = ("object", "padded", "masked")


def field_names(columns: Sequence[ColumnInfo]) -> list[str]:
    """Unique record field names: the column names, ``col{n}`` for unnamed or repeated ones."""
    names, seen = [], set()
    for c in columns:
        name = c.name if c.name and c.name not in seen else f"col{c.index + 1}"
        seen.add(name)
        names.append(name)
    return names


def record(columns: Sequence[ColumnInfo], names: Sequence[str], logicals: bool = True
           ) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """The packed record dtype of ``columns`` and the raw-I/O field list for it.

    With ``logicals``, L cells are bool and the raw I/O converts them ('T' ↔ 1, 'F' ↔ 0, the
    null byte ↔ 2 on writes); otherwise they are the stored bytes (uint8). Strings are read
    with trailing blanks removed. Fields: ``(offset in stored row, offset in record, items,
    item size, flip, logical, string width)``.
    """
    formats, offsets, fields = [], [], []
    at = 0
    for c in columns:
        stored = c.stored
        logical = c.code == "L" and not c.vla and logicals
        if logical:
            stored = np.dtype((np.bool_, c.shape))
        unit = SWAP_SIZE.get(c.vla or c.code, 1)
        strip = c.string_width if c.code == "A" and not c.vla else 0
        fields.append((c.offset, at, c.nbytes // unit, unit, int(c.offset_type is not None),
                       int(logical), strip))
        formats.append(stored)
        offsets.append(at)
        at += stored.itemsize
    dtype = np.dtype({"names": list(names), "formats": formats, "offsets": offsets,
                      "itemsize": at})
    return dtype, fields


# -- reading --------------------------------------------------------------------------------------

HeapReader = Callable[[ColumnInfo, np.ndarray], list]


def decode(records: np.ndarray, columns: Sequence[ColumnInfo], names: Sequence[str], *,
           scale: bool, mask_null: bool, vla: str, heap: HeapReader,
           split: bool = False) -> Any:
    """The user-facing table (structured array, or masked array with ``mask_null``) from
    ``records`` (read with :func:`record`). Decodes in place where the dtype stays the same.
    With ``split``, a dict of field name -> column (array, or masked array with
    ``mask_null``) instead, with no copy into one structured array."""
    values, masks, same = [], [], True
    for c, name in zip(columns, names):
        field = records[name]
        value, mask = decode_cell(field, c, scale=scale, mask_null=mask_null, vla=vla,
                                  heap=heap)
        if split:
            values.append(value if not mask_null else np.ma.MaskedArray(
                value, mask=np.zeros(value.shape, bool) if mask is None else mask, copy=False))
            continue
        values.append(value if value is not field else None)
        masks.append(mask)
        same = same and value.dtype == field.dtype and value.shape == field.shape
    if split:
        return dict(zip(names, values))
    if same:
        # every column keeps its dtype: decode in place and hand the records over uncopied
        result = records
        for name, value in zip(names, values):
            if value is not None:
                result[name] = value
    else:
        result = np.empty(len(records), np.dtype(
            [(n, (v if v is not None else records[n]).dtype,
              (v if v is not None else records[n]).shape[1:]) for n, v in zip(names, values)]))
        for name, value in zip(names, values):
            result[name] = value if value is not None else records[name]
    if not (mask_null or any(m is not None for m in masks)):
        return result
    mask = np.zeros(len(records), np.dtype([(n, bool, result.dtype[n].shape) for n in names]))
    for name, m in zip(names, masks):
        if m is not None:
            mask[name] = m
    return np.ma.MaskedArray(result, mask=mask)


def decode_cell(stored: np.ndarray, c: ColumnInfo, *, scale: bool, mask_null: bool, vla: str,
                heap: HeapReader) -> tuple[np.ndarray, np.ndarray | None]:
    """One column's values (first axis rows) and, with ``mask_null``, its null mask."""
    mask = None
    if c.vla:
        cells = heap(c, stored)
        return _vla_result(cells, c, vla)
    if c.code == "L":
        if stored.dtype == np.bool_:
            return stored, None   # decoded by the raw I/O
        return np.equal(stored, _T), (stored == 0 if mask_null else None)
    if c.code == "X":
        bits = np.unpackbits(stored, axis=-1, count=c.form.repeat)
        return bits.view(np.bool_), None
    if c.code == "A":
        return stored, None       # trailing blanks removed by the raw I/O
    if mask_null:
        if c.null is not None and c.code in "BIJK" and isinstance(c.null, int):
            mask = _equals_null(stored, c)
        elif c.code in "EDCM":
            mask = np.isnan(stored)
    if scale and c.scaled:
        value = stored.astype(np.float64) * c.scale + c.zero
        if mask_null and c.code in "ED":
            mask = np.isnan(value)
        return value, mask
    return stored, mask


def _equals_null(stored: np.ndarray, c: ColumnInfo) -> np.ndarray:
    """Cells holding TNULL (compared as stored, before any TZERO convention)."""
    if c.offset_type is not None:
        size = stored.dtype.itemsize
        bits = stored.view(f"u{size}") ^ np.array(1 << (8 * size - 1), dtype=f"u{size}")
        return (bits if c.code == "B" else bits.view(f"i{size}")) == c.null
    info = np.iinfo(stored.dtype)
    if not info.min <= c.null <= info.max:
        return np.zeros(stored.shape, bool)
    return stored == c.null


def _vla_result(cells: list, c: ColumnInfo, vla: str) -> tuple[np.ndarray, np.ndarray | None]:
    if vla == "object" or c.code == "A":
        result = np.empty(len(cells), dtype=object)
        for i, cell in enumerate(cells):
            result[i] = cell
        return result, None
    longest = max((len(cell) for cell in cells), default=0)
    padded = np.zeros((len(cells), longest), dtype=_vla_element(c))
    mask = np.ones((len(cells), longest), dtype=bool)
    for i, cell in enumerate(cells):
        padded[i, :len(cell)] = cell
        mask[i, :len(cell)] = False
    return padded, (mask if vla == "masked" else None)


def _vla_element(c: ColumnInfo) -> np.dtype:
    if c.code in "LX":
        return np.dtype(np.bool_)
    if c.scaled:
        return np.dtype(np.float64)
    return BINARY_TYPES[c.code]


def heap_cells(c: ColumnInfo, descriptors: np.ndarray, heap: bytes | memoryview,
               heap_start: int, where: str, scale: bool = True) -> list:
    """The cells of a variable-length column from its ``(count, offset)`` descriptors and the
    heap bytes ``heap`` (which begin at heap offset ``heap_start``): numpy arrays in native
    order (bool for L and X, float64 when scaled), or bytes for A."""
    element = BINARY_TYPES[c.code]
    stored = element.newbyteorder(">") if element.itemsize > 1 else element
    cells: list = []
    for count, offset in descriptors.tolist():
        nbytes = (count + 7) // 8 if c.code == "X" else count * element.itemsize
        lo = offset - heap_start if nbytes else 0
        if c.code == "A":
            cells.append(bytes(heap[lo:lo + nbytes]).rstrip(b"\0 ").rstrip(b" "))
            continue
        raw = np.frombuffer(heap, dtype=np.uint8 if c.code == "X" else stored,
                            count=nbytes if c.code == "X" else count, offset=lo)
        if c.code == "L":
            # old writers stored variable-length logicals as bytes 1/0; astropy reads 1 as True
            cells.append((raw == _T) | (raw == 1))
        elif c.code == "X":
            cells.append(np.unpackbits(raw, count=count).view(np.bool_))
        elif scale and c.scaled:
            cells.append(raw.astype(np.float64) * c.scale + c.zero)
        else:
            cells.append(raw.astype(element))
    return cells


# -- writing --------------------------------------------------------------------------------------

def encode(values: Any, c: ColumnInfo, nrows: int, where: str, truncate: bool = False
           ) -> np.ndarray:
    """The record form (``c.stored``, L as uint8 1/0/2 for true/false/null, shape ``(nrows,)
    + cell``) of one fixed-size column's ``values``; raises before anything is written if
    they do not fit.
    Variable-length columns encode as zero descriptors (their cells go through
    :func:`vla_cells`)."""
    where = f"{where}, column {c.name!r}"
    mask = None
    if isinstance(values, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(values)
        values = values.data
    if c.vla:
        return np.zeros((nrows, 2), dtype=c.stored.base)
    array = np.asarray(values)
    cell = c.stored.shape if c.code != "X" else (c.form.repeat,)
    if c.code == "A":
        return _encode_strings(array, c, nrows, where, truncate, cell)
    array = _fit_shape(array, nrows, cell, where)
    if mask is not None:
        mask = np.broadcast_to(mask, array.shape)
    if c.code == "L":
        out = array.astype(bool, copy=False).view(np.uint8)
        if mask is not None:
            out = np.where(mask, np.uint8(2), out)
        return out
    if c.code == "X":
        if array.dtype.kind not in "biu":
            raise FITSTypeError(f"{where}: bit columns take bool (or 0/1) values, not "
                                f"{array.dtype}")
        return np.packbits(array.astype(bool, copy=False), axis=-1)
    return encode_numbers(array, mask, c, where)


def encode_numbers(array: np.ndarray, mask: np.ndarray | None, c: ColumnInfo,
                   where: str) -> np.ndarray:
    """Stored numbers of a numeric column (B I J K E D C M), scaled and range-checked."""
    kind = array.dtype.kind
    stored = c.stored.base
    if kind not in "biufc":
        raise FITSTypeError(f"{where}: cannot store {array.dtype} values in a {c.tform} column")
    if kind == "c" and c.code not in "CM":
        raise FITSTypeError(f"{where}: complex values need a C or M column, not {c.tform}")
    if c.scaled and not (kind in "biu" and c.scale == 1 and c.zero == 0):
        if c.code in "ED":
            return ((array.astype(np.float64) - c.zero) / c.scale).astype(stored)
        return to_scaled(array, mask, stored, c.scale, c.zero,
                         c.null if isinstance(c.null, int) else None, where)
    if stored.kind in "iu":
        if kind in "fc":
            raise FITSTypeError(f"{where}: cannot write {array.dtype} values into an integer "
                                f"column ({c.tform}) without TSCAL/TZERO; convert them first")
        check_range(array, stored, where)
        if mask is not None and mask.any():
            if not isinstance(c.null, int):
                raise FITSValueError(f"{where}: masked values need a TNULL for the column: "
                                     "give one (ColumnSpec(..., null=...)), or write with "
                                     "fitsbind.write_table, which picks a free one")
            out = array.astype(stored)
            fill = c.null if c.offset_type is None else _offset_null(c, stored)
            out[mask] = fill
            return out
    elif kind == "f":
        check_float_range(array, stored, where)
    if mask is not None and mask.any() and stored.kind in "fc":
        out = array.astype(stored)
        out[mask] = np.nan
        return out
    # the caller copies the result into the records: no copy of its own when none is needed
    return array.astype(stored, copy=False)


def _offset_null(c: ColumnInfo, stored: np.dtype) -> Any:
    """TNULL (a stored value) as the unsigned value the record holds for it."""
    size = stored.itemsize
    raw = np.array(c.null, dtype=f"u{size}" if c.code == "B" else f"i{size}")
    bits = raw.view(f"u{size}") ^ np.array(1 << (8 * size - 1), dtype=f"u{size}")
    return bits.view(stored)[()]


def _fit_shape(array: np.ndarray, nrows: int, cell: tuple[int, ...], where: str) -> np.ndarray:
    if array.shape == (nrows, *cell):
        return array
    if array.ndim == 0 or array.shape == cell:
        return np.broadcast_to(array, (nrows, *cell))
    if array.size == nrows * int(np.prod(cell)) and array.shape[:1] == (nrows,):
        return array.reshape(nrows, *cell)
    raise FITSValueError(f"{where}: values of shape {array.shape} do not fit {nrows} rows of "
                         f"cells shaped {cell}")


def _encode_strings(array: np.ndarray, c: ColumnInfo, nrows: int, where: str, truncate: bool,
                    cell: tuple[int, ...]) -> np.ndarray:
    array = _fit_shape(to_bytes(array, where), nrows, cell, where)
    return fit_strings(array, c.string_width, where, truncate)


def fit_strings(text: np.ndarray, width: int, where: str, truncate: bool) -> np.ndarray:
    """ASCII bytes ``text`` (numpy S) as ``S{width}``, NUL-padded (FITS ends a shorter string
    at a NUL). FITSValueError for a longer string unless ``truncate``."""
    if text.dtype.itemsize > width:
        longest = int(np.strings.str_len(text).max()) if text.size else 0
        if longest > width and not truncate:
            raise FITSValueError(f"{where}: a string of {longest} characters does not fit the "
                                 f"{width}-character column; shorten it or pass truncate=True")
    return text.astype(f"S{width}", copy=False)


def to_bytes(array: np.ndarray, where: str) -> np.ndarray:
    """ASCII bytes (numpy S) of str or bytes values; FITSValueError for other characters."""
    if array.dtype.kind == "O":
        try:
            array = np.array([v.encode("ascii") if isinstance(v, str) else bytes(v)
                              for v in array.ravel()], dtype="S").reshape(array.shape)
        except (TypeError, UnicodeEncodeError):
            raise FITSValueError(f"{where}: string cells must be ASCII str or bytes") from None
    if array.dtype.kind == "U":
        try:
            array = np.strings.encode(array, "ascii")
        except UnicodeEncodeError:
            raise FITSValueError(f"{where}: FITS strings hold ASCII text only") from None
    if array.dtype.kind != "S":
        raise FITSTypeError(f"{where}: a string column takes str or bytes, not {array.dtype}")
    # the largest byte, by a reduction over a view: no copy of the column, no mask of it
    if array.size and np.ascontiguousarray(array).view(np.uint8).max() > 126:
        raise FITSValueError(f"{where}: FITS strings hold ASCII text only")
    return array


def vla_cells(values: Any, c: ColumnInfo, nrows: int, where: str) -> list:
    """The cells of a variable-length column, checked and converted for CFITSIO: a list of
    1-D native arrays (bytes for PA)."""
    where = f"{where}, column {c.name!r}"
    if len(values) != nrows:
        raise FITSValueError(f"{where}: {len(values)} cells for {nrows} rows")
    cells = []
    for value in values:
        if c.code == "A":
            text = value.encode("ascii") if isinstance(value, str) else bytes(value)
            if b"\0" in text or any(ch > 126 for ch in text):
                raise FITSValueError(f"{where}: FITS strings hold ASCII text only")
            cells.append(text)
            continue
        array = np.asarray(value)
        if array.ndim > 1:
            raise FITSValueError(f"{where}: a variable-length cell is 1-D, not {array.shape}")
        array = array.reshape(-1)
        if c.code == "X":
            raise FITSTypeError(f"{where}: writing variable-length bit arrays is not "
                                "supported; use PB (bytes) or PL (logicals)")
        if c.code == "L":
            cells.append(np.ascontiguousarray(array.astype(bool, copy=False)))
            continue
        element = BINARY_TYPES[c.code]
        if c.scaled:
            cells.append(np.ascontiguousarray(array.astype(np.float64)))
            continue
        kind = array.dtype.kind
        # an empty cell has no values to convert, whatever its dtype
        if array.size and (kind not in "biufc" or (element.kind in "iu" and kind in "fc")
                           or (kind == "c" and element.kind != "c")):
            raise FITSTypeError(f"{where}: cannot store {array.dtype} cells in a "
                                f"{c.tform} column")
        if element.kind in "iu" and array.size:
            check_range(array, element, where)
        cells.append(np.ascontiguousarray(array.astype(element)))
    return cells
