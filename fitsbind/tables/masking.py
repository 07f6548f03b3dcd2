"""Which stored values stand for "no value" in a FITS table column, both ways.

FITS has one null convention per kind of column: integers name theirs in TNULLn, floating
point cells hold NaN (IEEE), and character cells an empty string. A reader turns these into a
mask; a writer fills masked cells with them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["NullMask", "null_fill_value", "null_mask"]


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
