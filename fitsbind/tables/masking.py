"""Which stored values stand for "no value" in a FITS table column, both ways.

FITS has one null convention per kind of column: integers name theirs in TNULLn, floating
point cells hold NaN (IEEE), and character cells an empty string. A reader turns these into a
mask; a writer fills masked cells with them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["NullMask", "free_null", "null_fill_value", "null_mask"]


class NullMask(NamedTuple):
    """The null cells of a column as read: ``mask`` (bool, the column's shape, or the scalar
    False when nothing is null), whether to keep the column masked even with no null cell (a
    declared TNULLn, so the null survives a round trip), and the value a masked cell is written
    back as (None for the writer's default)."""
    mask: Any
    masked: bool
    fill_value: Any


def _element_type(dtype: np.dtype) -> type:
    return (dtype.subdtype[0] if dtype.subdtype else dtype).type


def null_mask(values: np.ndarray, tnull: Any = None, mask_invalid: bool = True) -> NullMask:
    """The null cells of a column's ``values`` (any dtype and shape): cells equal to ``tnull``
    when the column declares one; otherwise, when ``mask_invalid``, NaN cells of float and
    complex columns and empty cells of character columns."""
    kind = _element_type(values.dtype)
    if tnull is not None:
        return NullMask(values == tnull, True, tnull)
    if mask_invalid and issubclass(kind, np.inexact):
        return NullMask(np.isnan(values), False, np.nan)
    if mask_invalid and issubclass(kind, np.character):
        empty = kind(b"" if issubclass(kind, np.bytes_) else "")
        return NullMask(values == empty, False, empty)
    return NullMask(False, False, None)


def null_fill_value(dtype: np.dtype) -> Any:
    """The value masked cells of a column of ``dtype`` are written as when the user chose none:
    NaN for float, NaN+NaNj for complex, '' for characters; None for integers and booleans,
    whose null is the column's own fill value stored as TNULLn."""
    kind = _element_type(dtype)
    if issubclass(kind, np.complexfloating):
        return complex(np.nan, np.nan)
    if issubclass(kind, np.inexact):
        return np.nan
    if issubclass(kind, np.character):
        return ""
    return None


def free_null(values: np.ndarray, mask: np.ndarray, dtype: np.dtype, preferred: Any = None,
              where: str = "column") -> int:
    """An integer of ``dtype`` that no unmasked cell of ``values`` holds, to store masked
    cells as (TNULLn): ``preferred`` when it is free and fits, else the type's minimum, its
    maximum, or the smallest free value. ValueError, saying what to do, when every value of
    the type is taken."""
    info = np.iinfo(dtype)
    valid = np.asarray(values)[~np.asarray(mask, bool)] if np.any(mask) else np.asarray(values)
    for candidate in (preferred, info.min, info.max):
        if candidate is not None and info.min <= int(candidate) <= info.max and \
                not np.any(valid == candidate):
            return int(candidate)
    # distance of each used value from the type's minimum, as uint64 (no overflow)
    used = np.unique(valid).astype(np.int64 if dtype.kind == "i" else np.uint64)
    rank = used.view(np.uint64) - np.uint64(info.min % 2 ** 64)
    gaps = np.flatnonzero(rank != np.arange(len(used), dtype=np.uint64))
    if gaps.size:
        return int(info.min + int(gaps[0]))
    if len(used) < int(info.max) - int(info.min) + 1:
        return int(info.min + len(used))
    raise ValueError(f"{where}: every {dtype} value is used by a cell that is not masked, so "
                     "no TNULL can mark the masked ones; store the column as a wider integer "
                     "or as float (masked cells become NaN)")
