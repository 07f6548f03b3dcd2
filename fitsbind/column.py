"""Table column definitions of the astropy-compatible interface: :class:`Column`,
:class:`ColDefs`, and the translation between FITS TFORMs and numpy record formats.

A binary-table column format is a :class:`_ColumnFormat` (a ``str`` subclass keeping the text
as given, with ``repeat``, ``format`` (the type letter), ``option``, ``canonical`` and
``recformat``, the numpy format of the stored cell: ``'i4'``, ``'10f4'``, ``'S20'``, a
:class:`_FormatX` for bits or a :class:`_FormatP` / :class:`_FormatQ` for array
descriptors). ASCII-table formats are :class:`_AsciiColumnFormat` (``format``, ``width``,
``precision``). The TFORM grammar itself is :func:`fitsbind.direct.columns.parse_tform`; this
module adds astropy's leniencies around it (``'A10'`` for ``'10A'``, numpy codes such as
``'i4'``, default ASCII widths).
"""

from __future__ import annotations

import copy as _copy
import numbers
import re
import sys
import warnings
import weakref
from collections.abc import Iterable
from typing import Any

import numpy as np

from fitsbind.direct import parse_tform
from fitsbind.errors import FITSValueError
from fitsbind.tables import tdisp
from fitsbind.tables.reading import COLUMN_KEYWORDS
from fitsbind.util import is_integer
from fitsbind.verify import AstropyDeprecationWarning, FITSUserWarning, VerifyError, VerifyWarning

__all__ = ["ColDefs", "Column", "ColumnAttribute", "Delayed"]

#: header keyword roots describing a column, and the Column attribute of each, in the
#: order astropy writes them
KEYWORD_NAMES = COLUMN_KEYWORDS
KEYWORD_ATTRIBUTES = ("name", "format", "unit", "null", "bscale", "bzero", "disp", "start",
                      "dim", "coord_type", "coord_unit", "coord_ref_point", "coord_ref_value",
                      "coord_inc", "time_ref_pos")
KEYWORD_TO_ATTRIBUTE = dict(zip(KEYWORD_NAMES, KEYWORD_ATTRIBUTES))
ATTRIBUTE_TO_KEYWORD = dict(zip(KEYWORD_ATTRIBUTES, KEYWORD_NAMES))

#: binary type letter -> numpy code of one stored element (L is stored as int8 'T'/'F')
FITS2NUMPY = {"L": "i1", "B": "u1", "I": "i2", "J": "i4", "K": "i8", "E": "f4", "D": "f8",
              "C": "c8", "M": "c16", "A": "S"}
#: numpy code -> binary type letter (unsigned integers go through TZERO, f2 widens to E)
NUMPY2FITS = {code: letter for letter, code in FITS2NUMPY.items()}
NUMPY2FITS.update({"b1": "L", "u2": "I", "u4": "J", "u8": "K", "f2": "E"})

#: ASCII-table type letter -> numpy code of the value; J is a non-standard 64-bit integer
ASCII2NUMPY = {"A": "S", "I": "i4", "J": "i8", "F": "f8", "E": "f8", "D": "f8"}
#: (width, decimals) used for an ASCII format given without them
ASCII_DEFAULT_WIDTHS = {"A": (1, 0), "I": (10, 0), "J": (15, 0), "E": (15, 7), "F": (16, 7),
                        "D": (25, 17)}
#: Python format type of each ASCII-table letter (A is plain text)
ASCII2STR = {"A": "", "I": "d", "J": "d", "F": "f", "E": "E", "D": "E"}

#: what an ASCII-table numeric cell equal to TNULL reads as (integers; floats give NaN)
ASCIITNULL = 0
#: TNULL given to ASCII columns made from binary columns that had one
DEFAULT_ASCII_TNULL = "---"

#: a column keyword: root letters then the column number
TDEF_RE = re.compile(r"(?P<label>^T[A-Z]*)(?P<num>[1-9][0-9 ]*$)")

# A binary TFORM as astropy splits it: repeat digits, the type letter, and whatever printable
# text follows ("option": the width of rAw, the element type of P/Q, or tolerated junk).
_TFORM_SPLIT = re.compile(r"^(\d*)([LXBIJKAEDCMPQ])([!-~]*)", re.IGNORECASE)
# An ASCII TFORM: the letter (upper case), the width, and for floats the decimals.
_ASCII_SPLIT = re.compile(r"^([AIJFED])(\d+)?(?:\.(\d+))?")
_TDIM_TEXT = re.compile(r"^\(\s*(\d+\s*(?:,\s*\d+\s*)*)\)")
# Column names the standard recommends: letters, digits and underscores
_RECOMMENDED_NAME = re.compile(r"[0-9a-zA-Z_]+")

_UINT_ZEROS = {2: 1 << 15, 4: 1 << 31, 8: 1 << 63}



# numpy.char.chararray's string methods, which numpy deprecates (np.strings replaces them)
_CHARARRAY_METHODS = frozenset((
    "capitalize", "center", "count", "decode", "encode", "endswith", "expandtabs", "find",
    "index", "isalnum", "isalpha", "isdecimal", "isdigit", "islower", "isnumeric", "isspace",
    "istitle", "isupper", "join", "ljust", "lower", "lstrip", "replace", "rfind", "rindex",
    "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip",
    "swapcase", "title", "translate", "upper", "zfill"))


class chararray(np.char.chararray):  # lower case: the name reprs show, as astropy's
    """The text fields of tables: a numpy chararray whose string methods (``.encode``,
    ``.rstrip``, ...) give an AstropyDeprecationWarning, as astropy's do, since text fields
    will become plain arrays (use ``np.strings`` functions instead)."""

    def __getattribute__(self, name: str) -> Any:
        if name in _CHARARRAY_METHODS:
            warnings.warn("chararray is deprecated: text fields will become plain arrays, "
                          f"without chararray methods such as .{name}(); use the np.strings "
                          "functions instead.", AstropyDeprecationWarning, stacklevel=2)
        return super().__getattribute__(name)

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(value, np.ndarray) and value.dtype.kind == "S" and self.dtype.kind == "U":
            # bytes into str decoded by fitsrec's ASCII widening, many times faster than
            # numpy's cast, with its error (imported here: fitsrec imports this module)
            from fitsbind.fitsrec import _decode_ascii

            value = _decode_ascii(value)
        super().__setitem__(key, value)


def _chararray(values: Any, itemsize: int | None = None) -> np.char.chararray:
    """``values`` as a numpy chararray (its elements read with trailing blanks removed),
    strings of ``itemsize`` characters when given (longer strings are cut)."""
    array = np.asarray(values)
    if array.dtype.kind not in "SU":
        array = array.astype("S" if itemsize is None else f"S{itemsize}")
    elif itemsize is not None:
        array = array.astype(f"{array.dtype.kind}{max(int(itemsize), 1)}", copy=False)
    return array.view(chararray)


# -- listeners ---------------------------------------------------------------------------------

class _Notifier:
    """Objects that tell their listeners about changes: ``_notify("event", ...)`` calls
    ``listener._update_event(...)`` on every live listener that defines it."""

    _listeners: weakref.WeakValueDictionary | None = None

    def _add_listener(self, listener: Any) -> None:
        if self._listeners is None:
            self._listeners = weakref.WeakValueDictionary()
        self._listeners[id(listener)] = listener

    def _remove_listener(self, listener: Any) -> None:
        if self._listeners is not None:
            self._listeners.pop(id(listener), None)

    def _notify(self, event: str, *args: Any) -> None:
        if not self._listeners:
            return
        for listener in list(self._listeners.values()):
            method = getattr(listener, f"_update_{event}", None)
            if method is not None:
                method(*args)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_listeners", None)
        return state


# -- formats -----------------------------------------------------------------------------------

def _split_tform(text: str) -> tuple[int, str, str]:
    """``(repeat, letter, option)`` of a binary TFORM; VerifyError if it has no type letter."""
    m = _TFORM_SPLIT.match(text.strip())
    if m is None:
        raise VerifyError(f"Format {text!r} is not recognized.")
    return int(m.group(1) or 1), m.group(2).upper(), m.group(3)


class _BaseColumnFormat(str):
    """A column format: a string comparing equal to the formats it means (``'1J' == 'J'``)."""

    canonical: str
    recformat: Any

    def __eq__(self, other: object) -> bool:
        if not other or not isinstance(other, str):
            return False
        if not isinstance(other, type(self)):
            try:
                other = type(self)(other)
            except (ValueError, VerifyError):
                return False
        return self.canonical == other.canonical

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.canonical)

    def __reduce__(self) -> tuple:
        return (type(self), (str(self),))

    @property
    def dtype(self) -> np.dtype:
        """numpy dtype of one stored cell."""
        return np.dtype(self.recformat)

    @classmethod
    def from_column_format(cls, format: _BaseColumnFormat) -> _BaseColumnFormat:
        """The equivalent format of this class (binary <-> ASCII) through the numpy format."""
        return cls.from_recformat(format.recformat)

    @classmethod
    def from_recformat(cls, recformat: Any) -> _BaseColumnFormat:
        raise NotImplementedError


class _ColumnFormat(_BaseColumnFormat):
    """A binary-table TFORM: ``repeat``, ``format`` (type letter), ``option`` and, for
    variable-length arrays, ``p_format`` (the element letter)."""

    def __new__(cls, format: str) -> _ColumnFormat:
        text = str(format)
        repeat, letter, option = _split_tform(text)
        self = super().__new__(cls, text)
        self.repeat, self.format, self.option = repeat, letter, option
        self.p_format = None
        if letter in "PQ":
            self.p_format = _FormatP.from_tform(text).format
        return self

    @classmethod
    def from_recformat(cls, recformat: Any) -> _ColumnFormat:
        return cls(_recformat_to_tform(recformat))

    @property
    def recformat(self) -> Any:
        """numpy format of the stored cell (``'i4'``, ``'3f8'``, ``'S10'``, _FormatX, _FormatP)."""
        cached = self.__dict__.get("_recformat")
        if cached is None:
            cached = self.__dict__["_recformat"] = _tform_to_recformat(self)
        return cached

    @property
    def canonical(self) -> str:
        """The TFORM in standard ``rTa`` form, without a repeat of 1."""
        return f"{'' if self.repeat == 1 else self.repeat}{self.format}{self.option}"


class _AsciiColumnFormat(_BaseColumnFormat):
    """An ASCII-table TFORM: ``format`` (A, I, J, F, E or D), ``width``, ``precision``."""

    def __new__(cls, format: str, strict: bool = False) -> _AsciiColumnFormat:
        text = str(format)
        self = super().__new__(cls, text)
        self.format, self.width, self.precision = _parse_ascii_tform(text, strict)
        self._pseudo_logical = False
        return self

    @classmethod
    def from_column_format(cls, format: _BaseColumnFormat) -> _AsciiColumnFormat:
        result = cls.from_recformat(format.recformat)
        # binary logicals become one-character 'T'/'F' fields
        result._pseudo_logical = getattr(format, "format", None) == "L"
        return result

    @classmethod
    def from_recformat(cls, recformat: Any) -> _AsciiColumnFormat:
        return cls(_recformat_to_ascii_tform(recformat))

    @property
    def recformat(self) -> str:
        """numpy format of the value: S<width>, i2/i4/i8 by width, f8."""
        if self.format == "A":
            return f"S{self.width}"
        if str(self).strip() == self.format:
            # a bare letter gets the default type
            return ASCII2NUMPY[self.format]
        if self.format == "I":
            return "i2" if self.width <= 4 else "i8" if self.width > 9 else "i4"
        return ASCII2NUMPY[self.format]

    @property
    def canonical(self) -> str:
        if self.format in "EFD":
            return f"{self.format}{self.width}.{self.precision}"
        return f"{self.format}{self.width}"


def _default_decimals(letter: str, width: int) -> int:
    """Decimals of a float field (F, E, D) whose TFORM gives a width only: as many as the
    width holds beside the sign, leading digit, point and a 4-character exponent (E, D), or
    beside 8 characters of sign, integer digits and point, at most 7 (F); at least 1. So
    values are written with the digits the field has room for, not rounded to one."""
    room = width - 8
    return max(1, min(room, 7) if letter == "F" else room)


def _parse_ascii_tform(text: str, strict: bool = False) -> tuple[str, int, int]:
    """``(letter, width, precision)`` of an ASCII TFORM. Without ``strict`` a missing width
    (and precision) takes the defaults; with it the format must spell them out."""
    m = _ASCII_SPLIT.match(text.strip())
    if m is None:
        raise VerifyError(f"Format {text!r} is not recognized.")
    letter, width, precision = m.group(1), m.group(2), m.group(3)
    if letter in "AIJ":
        precision = None
    if width is None or (letter in "FED" and precision is None):
        if strict:
            raise VerifyError(f"Format {text!r} is not unambiguously an ASCII table format.")
        if width is None:
            width, precision = ASCII_DEFAULT_WIDTHS[letter]
        else:
            precision = _default_decimals(letter, int(width)) if letter in "FED" else 0
    width, precision = int(width), int(precision or 0)
    if width <= 0:
        raise VerifyError(f"Format {text!r} not valid--field width must be a positive integer.")
    if precision >= width:
        raise VerifyError(f"Format {text!r} not valid--the number of decimal digits must be "
                          f"less than the format's total width {width}.")
    if letter != "J":
        # J (64-bit integers) is an astropy extension outside the standard grammar
        try:
            parse_tform(f"{letter}{width}" + (f".{precision}" if letter in "FED" else ""),
                        ascii=True)
        except ValueError as exc:
            raise VerifyError(str(exc)) from None
    return letter, width, precision


class _FormatX(str):
    """numpy format of a bit column: the bytes holding ``repeat`` bits."""

    def __new__(cls, repeat: int = 1) -> _FormatX:
        nbytes = (repeat + 7) // 8
        self = super().__new__(cls, f"({nbytes},)u1")
        self.repeat = repeat
        return self

    def __getnewargs__(self) -> tuple:
        return (self.repeat,)


class _FormatP(str):
    """numpy format of a variable-length-array descriptor (two int32: count, heap offset),
    with the element letter ``format``, its numpy code ``dtype``, ``repeat`` and ``max``."""

    _format_code = "P"
    _descriptor_format = "2i4"

    def __new__(cls, dtype: str, repeat: Any = None, max: Any = None) -> _FormatP:
        self = super().__new__(cls, cls._descriptor_format)
        self.format = NUMPY2FITS[dtype]
        self.dtype = dtype
        self.repeat = repeat
        self.max = max
        return self

    def __getnewargs__(self) -> tuple:
        return (self.dtype, self.repeat, self.max)

    @classmethod
    def from_tform(cls, format: str) -> _FormatP:
        """The descriptor format of a ``rPt(max)`` / ``rQt(max)`` TFORM."""
        _, letter, option = _split_tform(str(format))
        target = _FormatQ if letter == "Q" else _FormatP
        try:
            parsed = parse_tform(f"{letter}{option}")
        except ValueError:
            parsed = None
        if parsed is None or parsed.code == "X":
            raise VerifyError(f"Invalid column format: {format}")
        m = re.search(r"\((\d*)\)", option)
        max_ = m.group(1) if m and m.group(1) else None
        text_repeat = re.match(r"^\s*(\d+)", str(format))
        return target(FITS2NUMPY[parsed.code], repeat=text_repeat.group(1) if text_repeat else None,
                      max=max_)

    @property
    def tform(self) -> str:
        repeat = "" if self.repeat is None else self.repeat
        max_ = "" if self.max is None else self.max
        return f"{repeat}{self._format_code}{self.format}({max_})"


class _FormatQ(_FormatP):
    """Like :class:`_FormatP` with int64 descriptors (heaps beyond 2 GiB)."""

    _format_code = "Q"
    _descriptor_format = "2i8"


def _tform_to_recformat(fmt: _ColumnFormat) -> Any:
    letter, repeat = fmt.format, fmt.repeat
    if letter == "A":
        # 'A10' is the ASCII-table spelling of '10A'; astropy takes it in binary tables too
        if str(fmt).lstrip()[:1] == "A" and fmt.option:
            return f"S{int(fmt.option)}"
        return f"S{repeat}"
    if letter in FITS2NUMPY:
        return f"{'' if repeat == 1 else repeat}{FITS2NUMPY[letter]}"
    if letter == "X":
        return _FormatX(repeat)
    if letter in "PQ":
        return _FormatP.from_tform(str(fmt))
    raise ValueError(f"Illegal format `{fmt}`.")


def _dtype_code(dtype: Any) -> tuple[str, str, np.dtype]:
    """``(code, kind, dtype)``: the two-character numpy code ('i4', 'f8', 'S') of a dtype's
    element type."""
    dtype = np.dtype(dtype)
    kind = dtype.base.kind
    if kind in "US":
        return "S", "S", dtype
    return f"{kind}{dtype.base.itemsize}", kind, dtype


def _recformat_to_tform(recformat: Any) -> str:
    """The binary TFORM storing values of a numpy format (sub-array shapes give a repeat,
    strings their length in characters)."""
    code, kind, dtype = _dtype_code(recformat)
    count = int(np.prod(dtype.shape)) if dtype.shape else 1
    repeat = count if count > 1 else 1
    if kind == "S":
        chars = dtype.base.itemsize // (4 if dtype.base.kind == "U" else 1)
        return f"{repeat * chars}A"
    if code not in NUMPY2FITS:
        raise ValueError(f"Illegal format `{recformat}`.")
    return f"{'' if repeat == 1 else repeat}{NUMPY2FITS[code]}"


def _recformat_to_ascii_tform(recformat: Any) -> str:
    code, kind, dtype = _dtype_code(recformat)
    if kind == "S":
        return f"A{dtype.itemsize // (4 if dtype.kind == 'U' else 1)}"
    if NUMPY2FITS.get(code) == "L":
        return "A1"
    if kind == "i":
        # enough digits for the type's range plus a sign, at least the default width
        return f"I{max(1 + len(str(2 ** (dtype.itemsize * 8))), ASCII_DEFAULT_WIDTHS['I'][0])}"
    if kind == "f":
        letter = "D" if dtype.itemsize >= 8 else "E"
        width, decimals = ASCII_DEFAULT_WIDTHS[letter]
        return f"{letter}{width}.{decimals}"
    raise ValueError(f"Illegal format `{recformat}` for an ASCII table column.")


def _parse_tdim(tdim: Any) -> tuple[int, ...]:
    """TDIM text ``(a,b,c)`` -> C-order tuple ``(c, b, a)``; () when empty or malformed."""
    m = _TDIM_TEXT.match(tdim) if isinstance(tdim, str) and tdim else None
    if m is None:
        return ()
    return tuple(int(n) for n in m.group(1).split(","))[::-1]


# -- delayed data and variable-length fields -----------------------------------------------------

class Delayed:
    """Placeholder for the data of a column of a table HDU read from a file; indexing it
    reads the table."""

    def __init__(self, hdu: Any = None, field: Any = None) -> None:
        self.hdu = weakref.proxy(hdu) if hdu is not None else None
        self.field = field

    def __getitem__(self, key: Any) -> Any:
        return self.hdu.data[key][self.field]


class _VLF(np.ndarray):
    """A variable-length-array column: a 1-D object array of 1-D arrays of element type
    ``element_dtype``; ``max`` is the longest cell seen."""

    def __new__(cls, input: Iterable, dtype: Any = "S") -> _VLF:
        items = list(input)
        if dtype == "S":
            try:
                items = [_chararray(_text_cell(x), itemsize=1) for x in items]
            except Exception:
                raise ValueError(f"Inconsistent input data array: {input}") from None
        self = np.ndarray.__new__(cls, shape=(len(items),), dtype=object)
        for i, item in enumerate(items):
            np.ndarray.__setitem__(self, i, item)
        self.max = 0
        self.element_dtype = dtype
        return self

    def __array_finalize__(self, obj: Any) -> None:
        if obj is None:
            return
        self.max = getattr(obj, "max", 0)
        self.element_dtype = getattr(obj, "element_dtype", "S")

    def __setitem__(self, key: Any, value: Any) -> None:
        if is_integer(key):
            cell = self._cell(value)
            np.ndarray.__setitem__(self, key, cell)
            self.max = max(self.max, cell.size)
            return
        rows = np.arange(len(self))[key]
        values = list(value) if isinstance(value, (list, tuple, np.ndarray)) and \
            len(value) == len(rows) else [value] * len(rows)
        for row, item in zip(rows, values):
            self[int(row)] = item

    def _cell(self, value: Any) -> np.ndarray:
        if self.element_dtype == "S":
            if isinstance(value, np.char.chararray) and value.itemsize in (1, 4) \
                    and value.ndim == 1:
                return value
            return _chararray(_text_cell(value), itemsize=1)
        if isinstance(value, np.ndarray) and value.dtype == np.dtype(self.element_dtype):
            return value
        return np.array(value, dtype=self.element_dtype)

    def tolist(self) -> list:
        return [list(item) for item in np.ndarray.tolist(self)]


def _text_cell(value: Any) -> Any:
    """A string cell as an array of single characters."""
    if isinstance(value, bytes):
        return np.frombuffer(value, dtype="S1") if value else np.array([], dtype="S1")
    if isinstance(value, str):
        return np.array(list(value), dtype="U1") if value else np.array([], dtype="U1")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _text_cell(value.item())
    return value


# -- Column ------------------------------------------------------------------------------------

class ColumnAttribute:
    """A Column attribute stored in a header keyword: optional validator (raising
    AssertionError for values that cannot be written), and a change notification to the
    ColDefs (and table HDU) holding the column."""

    def __init__(self, keyword: str, validator: Any = None) -> None:
        self.keyword = keyword
        self.validator = validator
        self.slot = "_" + KEYWORD_TO_ATTRIBUTE[keyword]

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return obj.__dict__.get(self.slot)

    def __set__(self, obj: Any, value: Any) -> None:
        if self.validator is not None:
            self.validator(obj, value)
        old = obj.__dict__.get(self.slot)
        obj.__dict__[self.slot] = value
        obj._notify("column_attribute_changed", obj, self.slot[1:], old, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self.keyword}')"


def _check_name(col: Column, name: Any) -> None:
    if name is None:
        return
    if isinstance(name, str) and not _RECOMMENDED_NAME.match(name):
        warnings.warn("It is strongly recommended that column names contain only upper and "
                      "lower-case ASCII letters, digits, or underscores for maximum "
                      f"compatibility with other software (got {name!r}).", VerifyWarning,
                      stacklevel=3)
    # the quoted name has to fit on one card: 80 - len("TTYPEn  = ''") characters
    if not isinstance(name, str) or not _fits_on_card(name):
        raise AssertionError("Column name must be a string able to fit in a single FITS card--"
                             "typically this means a maximum of 68 characters, though it may "
                             "be fewer if the string contains special characters like quotes.")


def _fits_on_card(text: str) -> bool:
    return all(32 <= ord(c) <= 126 for c in text) and len(text.replace("'", "''")) <= 68


def _check_coord_type(col: Column, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or len(value) > 8):
        raise AssertionError("Coordinate/axis type must be a string of at most 8 characters.")


def _check_str(what: str) -> Any:
    def check(col: Column, value: Any) -> None:
        if value is not None and not isinstance(value, str):
            raise AssertionError(f"{what} must be a string.")
    return check


def _check_real(what: str) -> Any:
    def check(col: Column, value: Any) -> None:
        if value is not None and not isinstance(value, numbers.Real):
            raise AssertionError(f"{what} must be real floating type.")
    return check


class Column(_Notifier):
    """One table column: its FITS attributes (``name`` TTYPE, ``format`` TFORM, ``unit``,
    ``null``, ``bscale``, ``bzero``, ``disp``, ``start`` (ASCII TBCOL), ``dim`` (TDIM),
    ``coord_*``, ``time_ref_pos``) and optionally its values ``array`` (physical values: for
    scaled columns the values before TSCAL/TZERO are undone)."""

    name = ColumnAttribute("TTYPE", _check_name)
    format = ColumnAttribute("TFORM")
    unit = ColumnAttribute("TUNIT")
    null = ColumnAttribute("TNULL")
    bscale = ColumnAttribute("TSCAL")
    bzero = ColumnAttribute("TZERO")
    disp = ColumnAttribute("TDISP")
    start = ColumnAttribute("TBCOL")
    dim = ColumnAttribute("TDIM")
    coord_type = ColumnAttribute("TCTYP", _check_coord_type)
    coord_unit = ColumnAttribute("TCUNI", _check_str("Coordinate/axis unit"))
    coord_ref_point = ColumnAttribute("TCRPX",
                                       _check_real("Pixel coordinate of the reference point"))
    coord_ref_value = ColumnAttribute("TCRVL",
                                       _check_real("Coordinate value at reference point"))
    coord_inc = ColumnAttribute("TCDLT", _check_real("Coordinate increment"))
    time_ref_pos = ColumnAttribute("TRPOS", _check_str("Time reference position"))

    def __init__(self, name: str | None = None, format: Any = None, unit: str | None = None,
                 null: Any = None, bscale: Any = None, bzero: Any = None, disp: str | None = None,
                 start: Any = None, dim: Any = None, array: Any = None, ascii: bool | None = None,
                 coord_type: str | None = None, coord_unit: str | None = None,
                 coord_ref_point: Any = None, coord_ref_value: Any = None, coord_inc: Any = None,
                 time_ref_pos: str | None = None) -> None:
        if format is None:
            raise ValueError("Must specify format to construct Column.")
        given = {"name": name, "format": format, "unit": unit, "null": null, "bscale": bscale,
                 "bzero": bzero, "disp": disp, "start": start, "dim": dim,
                 "coord_type": coord_type, "coord_unit": coord_unit,
                 "coord_ref_point": coord_ref_point, "coord_ref_value": coord_ref_value,
                 "coord_inc": coord_inc, "time_ref_pos": time_ref_pos}
        given = {key: _card_value(value) for key, value in given.items()}
        valid, invalid = self._verify_keywords(ascii=ascii, **given)
        if invalid:
            lines = ["The following keyword arguments to Column were invalid:"]
            lines += ["    " + message.replace("\n", "\n    ") for _, message in invalid.values()]
            raise VerifyError("\n".join(lines))
        for attr in KEYWORD_ATTRIBUTES:
            setattr(self, attr, valid.get(attr))
        recformat = valid["recformat"]
        # .dim keeps the value as given; ._dims the C-order shape it describes
        self._dims = self.dim
        self.dim = given["dim"]
        self._pseudo_unsigned_ints = False
        if array is not None and not isinstance(array, (np.ndarray, Delayed)):
            array = self._as_array(array, recformat)
        array = self._convert_to_valid_data_type(array)
        # arrays given to the constructor hold physical values (before scaling is undone)
        self._physical_values = isinstance(array, np.ndarray)
        self._parent_fits_rec: weakref.ref | None = None
        self.array = array

    def _as_array(self, array: Any, recformat: Any) -> Any:
        try:
            return np.array(array)
        except Exception:
            pass
        if isinstance(recformat, _FormatP):
            return _VLF(array, dtype=recformat.dtype)
        try:
            return _chararray(array, itemsize=int(str(recformat)[1:]))
        except (TypeError, ValueError):
            raise ValueError(f"Data is inconsistent with the format `{self.format}`.") from None

    def __repr__(self) -> str:
        return "; ".join(f"{attr} = {getattr(self, attr)!r}" for attr in KEYWORD_ATTRIBUTES
                         if getattr(self, attr) is not None)

    def __eq__(self, other: object) -> bool:
        """Columns are equal when their names (case-insensitively) and formats are."""
        if not isinstance(other, Column):
            return NotImplemented
        return (str(self.name).lower(), self.format) == (str(other.name).lower(), other.format)

    def __hash__(self) -> int:
        return hash((str(self.name).lower(), self.format))

    # the column's values: its own array, or its field of the FITS_rec it belongs to (held
    # weakly, since the FITS_rec holds this column)
    @property
    def array(self) -> Any:
        if "array" in self.__dict__:
            return self.__dict__["array"]
        parent = self._parent_fits_rec() if self._parent_fits_rec is not None else None
        if parent is not None:
            return parent[self.name]
        return None

    @array.setter
    def array(self, array: Any) -> None:
        base = array
        while base is not None:
            # the table's own record (not its property, which may derive columns lazily)
            coldefs = getattr(base, "__dict__", {}).get("_coldefs")
            if isinstance(coldefs, ColDefs) and any(c is self for c in coldefs.columns):
                self._parent_fits_rec = weakref.ref(base)
                self.__dict__.pop("array", None)
                return
            base = getattr(base, "base", None)
        self.__dict__["array"] = array

    @array.deleter
    def array(self) -> None:
        self.__dict__.pop("array", None)
        self._parent_fits_rec = None

    @property
    def ascii(self) -> bool:
        """Whether this is a column of an ASCII table."""
        return isinstance(self.format, _AsciiColumnFormat)

    @property
    def dtype(self) -> np.dtype:
        """numpy dtype of one stored cell."""
        return self.format.dtype

    def copy(self) -> Column:
        """A shallow copy (sharing the array)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.pop("_listeners", None)
        return new

    def __deepcopy__(self, memo: dict) -> Column:
        new = object.__new__(type(self))
        memo[id(self)] = new
        new.__dict__.update(_copy.deepcopy(self.__getstate__(), memo))
        return new

    def __getstate__(self) -> dict:
        # the values, not the (unpicklable, weak) link to a table
        state = {k: v for k, v in self.__dict__.items()
                 if k not in ("_listeners", "_parent_fits_rec")}
        state["array"] = self.array
        state["_parent_fits_rec"] = None
        return state

    # -- validation -----------------------------------------------------------------------------

    @classmethod
    def _determine_formats(cls, format: Any, start: Any, dim: Any,
                           ascii: bool | None) -> tuple[_BaseColumnFormat, Any]:
        """The format object of a column and its numpy record format. With ``ascii`` None the
        kind of table is guessed: a ``start`` means ASCII, a ``dim`` binary, and a strict
        ASCII format (``I5``, ``A10``, ``F8.3``) ASCII."""
        if isinstance(format, np.dtype):
            format = _dtype_code(format)[0]
        if isinstance(format, _BaseColumnFormat):
            # format objects are taken as they are (ColDefs converts between table kinds)
            return format, format.recformat
        if ascii is None:
            return cls._guess_format(format, start, dim)
        kind = _AsciiColumnFormat if ascii else _ColumnFormat
        return cls._convert_format(format, kind)

    @classmethod
    def _guess_format(cls, format: Any, start: Any, dim: Any) -> tuple[_BaseColumnFormat, Any]:
        if start and dim:
            raise ValueError("Columns cannot have both a start (TBCOLn) and dim (TDIMn) "
                             "option: the former applies to ASCII tables only, the latter to "
                             "binary tables only.")
        if start:
            first: type = _AsciiColumnFormat
        elif dim:
            first = _ColumnFormat
        else:
            first = _ColumnFormat
            try:
                format = _AsciiColumnFormat(format, strict=True)
            except (VerifyError, TypeError, AttributeError):
                pass
        try:
            return cls._convert_format(format, first)
        except VerifyError:
            other = _AsciiColumnFormat if first is _ColumnFormat else _ColumnFormat
            return cls._convert_format(format, other)

    @staticmethod
    def _convert_format(format: Any, kind: type) -> tuple[_BaseColumnFormat, Any]:
        if isinstance(format, _BaseColumnFormat):
            return format, format.recformat
        if isinstance(format, str) and format in NUMPY2FITS:
            try:
                converted = kind.from_recformat(format)
                return converted, converted.recformat
            except (VerifyError, ValueError):
                pass
        try:
            converted = kind(format)
            return converted, converted.recformat
        except (VerifyError, ValueError):
            raise VerifyError(f"Illegal format `{format}`.") from None

    @classmethod
    def _verify_keywords(cls, name: Any = None, format: Any = None, unit: Any = None,
                         null: Any = None, bscale: Any = None, bzero: Any = None,
                         disp: Any = None, start: Any = None, dim: Any = None,
                         ascii: bool | None = None, coord_type: Any = None,
                         coord_unit: Any = None, coord_ref_point: Any = None,
                         coord_ref_value: Any = None, coord_inc: Any = None,
                         time_ref_pos: Any = None) -> tuple[dict, dict]:
        """Check the column keyword values: ``(valid, invalid)``, the first mapping attribute
        -> value (plus ``recformat``; ``dim`` as a C-order tuple), the second attribute ->
        ``(value, reason)``."""
        valid: dict[str, Any] = {}
        invalid: dict[str, tuple[Any, str]] = {}
        ignored = "The invalid value will be ignored for the purpose of formatting the data " \
                  "in this column."
        recformat = None
        try:
            format, recformat = cls._determine_formats(format, start, dim, ascii)
            valid.update(format=format, recformat=recformat)
        except (ValueError, VerifyError) as exc:
            invalid["format"] = (format, "Column format option (TFORMn) failed verification: "
                                         f"{exc} {ignored}")
        except (AttributeError, TypeError) as exc:
            invalid["format"] = (format, "Column format option (TFORMn) must be a string with "
                                         f"a valid FITS table format (got {format!s}: {exc}). "
                                         f"{ignored}")
        is_ascii = isinstance(format, _AsciiColumnFormat)
        for key, value in (("name", name), ("unit", unit), ("bscale", bscale),
                           ("bzero", bzero)):
            if _given(value):
                valid[key] = value

        if _given(null):
            problem = None
            if is_ascii:
                null = str(null)
                if len(null) > format.width:
                    problem = ("ASCII table null option (TNULLn) is longer than the column's "
                               f"character width and will be truncated (got {null!r}).")
            elif not is_integer(null):
                problem = ("Column null option (TNULLn) must be an integer for binary table "
                           f"columns (got {null!r}).  {ignored}")
            elif "format" in valid and not (format.format in "BIJK" or (
                    format.format in "PQ" and format.p_format in "BIJK")):
                problem = ("Column null option (TNULLn) is invalid for binary table columns of "
                           f"type {format!r} (got {null!r}).  {ignored}")
            _sort(valid, invalid, "null", null, problem)

        if _given(disp):
            problem = None
            if not isinstance(disp, str):
                problem = f"Column disp option (TDISPn) must be a string (got {disp!r}). {ignored}"
            elif is_ascii and disp.strip()[:1].upper() == "L":
                problem = ("Column disp option (TDISPn) may not use the 'L' format with ASCII "
                           f"table columns.  {ignored}")
            else:
                try:
                    tdisp.parse_tdisp(disp)
                except ValueError as exc:
                    problem = f"Column disp option (TDISPn) failed verification: {exc} {ignored}"
            _sort(valid, invalid, "disp", disp, problem)

        if _given(start):
            problem = None
            if not is_ascii:
                problem = ("Column start option (TBCOLn) is not allowed for binary table "
                           f"columns (got {start!r}).  The invalid keyword will be ignored for "
                           "the purpose of formatting the data in this column.")
            else:
                try:
                    start = int(start)
                except (TypeError, ValueError):
                    pass
                if not is_integer(start) or start < 1:
                    problem = ("Column start option (TBCOLn) must be a positive integer (got "
                               f"{start!r}).  {ignored}")
            _sort(valid, invalid, "start", start, problem)

        if _given(dim):
            problem = None
            shape: tuple = ()
            dim_ignored = "The invalid TDIMn value will be ignored for the purpose of " \
                          "formatting this column."
            if is_ascii:
                problem = ("Column dim option (TDIMn) is not allowed for ASCII table columns "
                           f"(got {dim!r}).  The invalid keyword will be ignored for the "
                           "purpose of formatting this column.")
            elif isinstance(dim, str):
                shape = _parse_tdim(dim)
            elif isinstance(dim, tuple):
                shape = tuple(int(n) for n in dim)
            else:
                problem = ("`dim` argument must be a string containing a valid value for the "
                           "TDIMn header keyword associated with this column, or a tuple "
                           "containing the C-order dimensions for the column.  The invalid "
                           "value will be ignored for the purpose of formatting this column.")
            if shape and problem is None and not isinstance(recformat, _FormatP) \
                    and "format" in valid and int(np.prod(shape)) > _element_count(format):
                problem = (f"The repeat count of the column format {name!r} for column "
                           f"{format!r} is fewer than the number of elements per the TDIM "
                           f"argument {dim!r}.  {dim_ignored}")
            _sort(valid, invalid, "dim", shape, problem, dim)

        if _given(coord_type):
            problem = None
            if not isinstance(coord_type, str):
                problem = ("Coordinate/axis type option (TCTYPn) must be a string (got "
                           f"{coord_type!r}). The invalid keyword will be ignored for the "
                           "purpose of formatting this column.")
            elif len(coord_type) > 8:
                problem = ("Coordinate/axis type option (TCTYPn) must be a string of at most 8 "
                           f"characters (got {coord_type!r}). The invalid keyword will be "
                           "ignored for the purpose of formatting this column.")
            _sort(valid, invalid, "coord_type", coord_type, problem)

        if _given(coord_unit):
            problem = None
            if not isinstance(coord_unit, str):
                problem = ("Coordinate/axis unit option (TCUNIn) must be a string (got "
                           f"{coord_unit!r}). The invalid keyword will be ignored for the "
                           "purpose of formatting this column.")
            _sort(valid, invalid, "coord_unit", coord_unit, problem)

        for key, value in (("coord_ref_point", coord_ref_point),
                           ("coord_ref_value", coord_ref_value), ("coord_inc", coord_inc)):
            if _given(value):
                problem = None
                if not isinstance(value, numbers.Real):
                    problem = (f"Column {key} option ({ATTRIBUTE_TO_KEYWORD[key]}n) must be a "
                               f"real floating type (got {value!r}). {ignored}")
                _sort(valid, invalid, key, value, problem)

        if _given(time_ref_pos):
            problem = None
            if not isinstance(time_ref_pos, str):
                problem = ("Time coordinate reference position option (TRPOSn) must be a "
                           f"string (got {time_ref_pos!r}). The invalid keyword will be "
                           "ignored for the purpose of formatting this column.")
            _sort(valid, invalid, "time_ref_pos", time_ref_pos, problem)
        return valid, invalid

    # -- array conversion -----------------------------------------------------------------------

    def _convert_to_valid_data_type(self, array: Any) -> Any:
        """The column's array in the form its format stores: strings as chararrays of the
        field width, logicals as ord('T')/ord('F'), bits as uint8, numbers in the format's
        type (unsigned integers with their TZERO kept unsigned, and float values of scaled
        integer columns kept as floats)."""
        if array is None or isinstance(array, Delayed):
            return array
        fmt = self.format
        dims = self._dims
        letter = fmt.format
        if dims and letter not in "PQ":
            cell = dims[:-1] if letter == "A" else dims
            array = np.asarray(array).reshape((len(array), *cell))
        if letter in "PQ":
            return array
        if letter == "A":
            if array.dtype.kind in "SU":
                width = dims[-1] if dims else np.dtype(fmt.recformat).itemsize
                return _chararray(array, itemsize=width)
            return _convert_array(array, np.dtype(fmt.recformat))
        if letter == "L" and not self.ascii:
            if array.dtype == np.bool_:
                return np.where(array == np.False_, ord("F"), ord("T"))
            if array.dtype.kind == "S":
                return array.view(np.int8)
            return np.where(array == 0, ord("F"), ord("T"))
        if letter == "X":
            return _convert_array(array, np.dtype(np.uint8))
        if self.ascii and getattr(fmt, "_pseudo_logical", False):
            return array
        target = np.dtype(fmt.recformat).base
        kind = array.dtype.kind
        zero = _UINT_ZEROS.get(array.dtype.itemsize)
        if kind == "u" and zero is not None and self.bscale in (1, None, "") \
                and self.bzero == zero and not self.ascii:
            self._pseudo_unsigned_ints = True
            target = np.dtype(f"u{array.dtype.itemsize}")
        elif _scaled(self.bscale, self.bzero) and kind == "f" and target.kind in "iu":
            # physical values of a scaled integer column: keep their fractions
            return array.astype(np.float64, copy=False)
        if array.dtype.byteorder in "<>" and target.itemsize > 1:
            target = target.newbyteorder(array.dtype.byteorder)
        return _convert_array(array, target)


def _element_count(fmt: _BaseColumnFormat) -> int:
    """Elements per cell that a TDIM may describe (characters for strings)."""
    if isinstance(fmt, _AsciiColumnFormat):
        return 1
    if fmt.format == "A":
        return np.dtype(fmt.recformat).itemsize
    return fmt.repeat


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value == "")


def _sort(valid: dict, invalid: dict, key: str, value: Any, problem: str | None,
          shown: Any = None) -> None:
    if problem is None:
        valid[key] = value
    else:
        invalid[key] = (value if shown is None else shown, problem)


def _scaled(bscale: Any, bzero: Any) -> bool:
    return bscale not in ("", None, 1) or bzero not in ("", None, 0)


def _card_value(value: Any) -> Any:
    """The value of a header Card given in place of a plain value."""
    card_type = sys.modules.get("fitsbind.card")
    if card_type is not None and isinstance(value, getattr(card_type, "Card", ())):
        return value.value
    return value


def _convert_array(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``array`` as ``dtype``: itself if it already is, a view for same-size non-numeric
    reinterpretations (bool -> uint8, S -> S), else a converted copy."""
    if array.dtype == dtype:
        return array
    numeric = np.issubdtype(array.dtype, np.number) and np.issubdtype(dtype, np.number)
    if array.dtype.itemsize == dtype.itemsize and not numeric and array.dtype.kind != "O":
        return array.view(dtype)
    return array.astype(dtype)


# -- ColDefs ------------------------------------------------------------------------------------

class ColDefs(_Notifier):
    """The columns of a table: built from a list of :class:`Column`, another ColDefs, a
    numpy structured array / recarray / FITS_rec (formats derived from the dtypes), or a table
    HDU (from its header). ``ascii=True`` makes ASCII-table columns.

    Per-attribute lists are available as plurals: ``names``, ``formats``, ``units``,
    ``nulls``, ``bscales``, ``bzeros``, ``disps``, ``starts``, ``dims``, ... (``''`` where a
    column has no value)."""

    _padding_byte = "\x00"
    _col_format_cls: type = _ColumnFormat

    def __new__(cls, input: Any = None, ascii: bool = False) -> ColDefs:
        klass = cls
        columns_type = getattr(input, "_columns_type", None)
        if isinstance(columns_type, type) and issubclass(columns_type, ColDefs):
            klass = columns_type
        elif isinstance(input, _AsciiColDefs):
            klass = _AsciiColDefs
        if ascii:
            klass = _AsciiColDefs
        return object.__new__(klass)

    def __getnewargs__(self) -> tuple:
        return (self.columns,)

    def __init__(self, input: Any, ascii: bool = False) -> None:
        from fitsbind.fitsrec import FITS_rec

        if isinstance(input, ColDefs):
            self.columns = [self._copy_column(c) for c in input.columns]
        elif isinstance(input, FITS_rec) and input._coldefs:
            self.columns = [self._copy_column(c) for c in input._coldefs.columns]
        elif isinstance(input, np.ndarray) and input.dtype.fields is not None:
            self._init_from_array(input)
        elif _is_table_hdu(input):
            self._init_from_table(input)
        elif np.iterable(input) and not isinstance(input, (str, bytes)):
            items = list(input)
            for i, col in enumerate(items):
                if not isinstance(col, Column):
                    raise TypeError(f"Element {i} in the ColDefs input is not a Column.")
            self.columns = [self._copy_column(c) for c in items]
        else:
            raise TypeError("Input to ColDefs must be a table HDU, a list of Columns, or a "
                            "record/field array.")
        for col in self.columns:
            col._add_listener(self)

    def _init_from_array(self, array: np.ndarray) -> None:
        if array.ndim != 1:
            raise ValueError(f"Input data with shape {array.shape} is not a valid "
                             "representation of a row-oriented table. Expected a 1D array "
                             "with rows as elements.")
        plain = array.view(np.ndarray)
        self.columns = []
        for name in array.dtype.names:
            ftype = array.dtype.fields[name][0]
            values = plain[name]
            if ftype.kind == "O":
                kinds = {np.asarray(v).dtype for v in values}
                if len(kinds) != 1 or np.dtype(object) in kinds:
                    raise TypeError(f"Column '{name}' contains unsupported object types or "
                                    f"mixed types: {kinds}")
                format: Any = f"P{self._col_format_cls.from_recformat(kinds.pop())}()"
            else:
                format = self._col_format_cls.from_recformat(ftype)
            dim = None
            shape = ftype.shape[::-1]
            if shape:
                if "A" in format:
                    chars = ftype.base.itemsize // (4 if ftype.base.kind == "U" else 1)
                    shape = (chars, *shape)
                dim = "(" + ",".join(str(n) for n in shape) + ")"
            bzero = None
            if ftype.base.kind == "u":
                letter = str(format).lstrip("0123456789")[:1]
                bzero = {"I": np.uint16(1 << 15), "J": np.uint32(1 << 31),
                         "K": np.uint64(1 << 63)}.get(letter)
            self.columns.append(Column(name=name, format=format, array=values, bzero=bzero,
                                       dim=dim))

    def _init_from_table(self, hdu: Any) -> None:
        self.columns = columns_from_header(hdu._header, ascii=self._col_format_cls
                                           is _AsciiColumnFormat, hdu=hdu)
        self._add_listener(hdu)

    def __copy__(self) -> ColDefs:
        return type(self)(self)

    def __deepcopy__(self, memo: dict) -> ColDefs:
        return type(self)([_copy.deepcopy(c, memo) for c in self.columns])

    def _copy_column(self, column: Column) -> Column:
        """A copy of ``column`` with its format converted to this kind of table."""
        if isinstance(column.format, self._col_format_cls):
            return column.copy()
        new = column.copy()
        new.__dict__["_format"] = self._col_format_cls.from_column_format(column.format)
        if not isinstance(new.format, _AsciiColumnFormat):
            new.__dict__["_start"] = None
            new.__dict__["_null"] = None
        else:
            if new.null is not None:
                new.__dict__["_null"] = DEFAULT_ASCII_TNULL
            if isinstance(new.disp, str) and new.disp.upper().startswith("L"):
                new.__dict__["_disp"] = None
            new.__dict__["_dim"] = None
            new._dims = None
        return new

    def __getattr__(self, name: str) -> Any:
        if name.endswith("s") and name[:-1] in KEYWORD_ATTRIBUTES and "columns" in self.__dict__:
            return [v if v is not None else "" for v in
                    (getattr(c, name[:-1]) for c in self.columns)]
        raise AttributeError(name)

    @property
    def names(self) -> list:
        return [c.name for c in self.columns]

    @property
    def formats(self) -> list:
        return [c.format for c in self.columns]

    @property
    def _recformats(self) -> list:
        return [f.recformat for f in self.formats]

    @property
    def _dims(self) -> list:
        return [c._dims for c in self.columns]

    @property
    def _arrays(self) -> list:
        return [c.array for c in self.columns]

    @property
    def dtype(self) -> np.dtype:
        """The record dtype of a row as stored (native byte order): each field at the offset
        its TFORM gives, shaped by TDIM."""
        names, formats, offsets = [], [], []
        offset = 0
        for number, col in enumerate(self.columns, 1):
            if not isinstance(col.name, str):
                # as astropy (numpy's "field names must be strings"): a record needs names
                raise FITSValueError(f"column {number} has no name (TTYPE{number} missing or "
                                     "empty): field names must be strings")
            fmt = col.format
            cell = fmt.dtype
            dims = col._dims
            names.append(col.name)
            offsets.append(offset)
            offset += cell.itemsize
            if dims and fmt.format not in "PQ":
                if fmt.format == "A":
                    cell = np.dtype((f"S{dims[-1]}", dims[:-1]))
                else:
                    cell = np.dtype((cell.base, dims))
            formats.append(cell)
        return np.dtype({"names": names, "formats": formats, "offsets": offsets,
                         "itemsize": offset})

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            key = _get_index(self.names, key)
        if is_integer(key):
            return self.columns[int(key)]
        if isinstance(key, slice):
            return ColDefs(self.columns[key])
        return ColDefs([self.columns[_get_index(self.names, k)] for k in key])

    def __contains__(self, key: Any) -> bool:
        if isinstance(key, str):
            wanted = key.lower().rstrip()
            return any(str(n).lower().rstrip() == wanted for n in self.names)
        if isinstance(key, Column):
            return key in self.columns
        return False

    def __len__(self) -> int:
        return len(self.columns)

    def __iter__(self) -> Any:
        return iter(self.columns)

    def __repr__(self) -> str:
        if not self.__dict__.get("columns"):
            return "ColDefs()"
        body = "\n    ".join(repr(c) for c in self.columns)
        return f"ColDefs(\n    {body}\n)"

    def __add__(self, other: Any, option: str = "left") -> ColDefs:
        if isinstance(other, Column):
            extra = [other]
        elif isinstance(other, ColDefs):
            extra = list(other.columns)
        else:
            raise TypeError("Wrong type of input.")
        columns = list(self.columns) + extra if option == "left" else extra + list(self.columns)
        return ColDefs(columns)

    def __radd__(self, other: Any) -> ColDefs:
        return self.__add__(other, "right")

    def __sub__(self, other: Any) -> ColDefs:
        keys = other if isinstance(other, (list, tuple)) else [other]
        drop = {_get_index(self.names, k) for k in keys}
        return ColDefs([c for i, c in enumerate(self.columns) if i not in drop])

    def _update_column_attribute_changed(self, column: Column, attr: str, old: Any,
                                         new: Any) -> None:
        index = next((i for i, c in enumerate(self.columns) if c is column), 0)
        self._notify("column_attribute_changed", column, index, attr, old, new)

    def add_col(self, column: Column) -> ColDefs:
        """Append ``column`` (the table HDU listening, if any, rebuilds its data)."""
        if not isinstance(column, Column):
            raise AssertionError
        self._notify("load_data")
        self.columns.append(column)
        column._add_listener(self)
        self._notify("column_added", self, column)
        return self

    def del_col(self, col_name: Any) -> ColDefs:
        """Remove the column named (or numbered) ``col_name``."""
        self._notify("load_data")
        index = _get_index(self.names, col_name)
        column = self.columns.pop(index)
        column._remove_listener(self)
        self._notify("column_removed", self, index)
        return self

    def change_attrib(self, col_name: Any, attrib: str, new_value: Any) -> None:
        """Set attribute ``attrib`` of column ``col_name`` (name or index)."""
        setattr(self[col_name], attrib, new_value)

    def change_name(self, col_name: Any, new_name: str) -> None:
        """Rename column ``col_name``; ValueError if ``new_name`` is taken."""
        if new_name != col_name and new_name in self.names:
            raise ValueError(f"New name {new_name} already exists.")
        self.change_attrib(col_name, "name", new_name)

    def change_unit(self, col_name: Any, new_unit: str) -> None:
        """Set the unit of column ``col_name``."""
        self.change_attrib(col_name, "unit", new_unit)

    def info(self, attrib: str = "all", output: Any = None) -> dict | None:
        """Print the listed attributes (comma-separated, plurals accepted; ``"all"`` for
        every one) of all the columns to ``output`` (stdout by default); with
        ``output=False`` return them as a dict instead."""
        if output is None:
            output = sys.stdout
        if attrib.strip().lower() in ("all", ""):
            wanted = list(KEYWORD_ATTRIBUTES)
        else:
            wanted = []
            for item in attrib.split(","):
                item = item.strip().lower()
                if item not in KEYWORD_ATTRIBUTES and item.endswith("s") \
                        and item[:-1] in KEYWORD_ATTRIBUTES:
                    item = item[:-1]
                wanted.append(item)
        result = {}
        for attr in wanted:
            if output:
                if attr not in KEYWORD_ATTRIBUTES:
                    output.write(f"'{attr}' is not an attribute of the column definitions.\n")
                    continue
                output.write(f"{attr}:\n    {getattr(self, attr + 's')}\n")
            elif attr in KEYWORD_ATTRIBUTES:
                result[attr] = getattr(self, attr + "s")
        return None if output else result


class _AsciiColDefs(ColDefs):
    """Columns of an ASCII table: each field's ``starts`` (TBCOL) and ``spans`` (width)."""

    _padding_byte = " "
    _col_format_cls = _AsciiColumnFormat

    def __init__(self, input: Any, ascii: bool = True) -> None:
        super().__init__(input)
        self._update_field_metrics()

    @property
    def spans(self) -> list[int]:
        """Width of each field in characters."""
        return [c.format.width for c in self.columns]

    @property
    def _width(self) -> int:
        end = 0
        for col in self.columns:
            end = (col.start or end + 1) + col.format.width - 1
        return end

    @property
    def dtype(self) -> np.dtype:
        """Row dtype: one S<width> field per column at its TBCOL."""
        return np.dtype({"names": self.names,
                         "formats": [f"S{w}" for w in self.spans],
                         "offsets": [c.start - 1 for c in self.columns],
                         "itemsize": max(self._width, 0)})

    @property
    def _recformats(self) -> list[str]:
        starts = [c.start for c in self.columns]
        ends = [*starts[1:], self._width + 1]
        return [f"S{b - a}" for a, b in zip(starts, ends)]

    def add_col(self, column: Column) -> ColDefs:
        super().add_col(column)
        self._update_field_metrics()
        return self

    def del_col(self, col_name: Any) -> ColDefs:
        super().del_col(col_name)
        self._update_field_metrics()
        return self

    def _update_field_metrics(self) -> None:
        """Give every column without a TBCOL the place just after the previous column."""
        end = 0
        for col in self.columns:
            if not col.start:
                col.__dict__["_start"] = end + 1
            end = col.start + col.format.width - 1


def _is_table_hdu(obj: Any) -> bool:
    hdu_module = sys.modules.get("fitsbind.hdu.table")
    base = getattr(hdu_module, "_TableBaseHDU", None) if hdu_module else None
    return base is not None and isinstance(obj, base)


def _get_index(names: list, key: Any) -> int:
    """Position of ``key`` (an index, or a name: exact match first, then unique
    case-insensitive match, trailing blanks ignored) in ``names``; KeyError if none."""
    if is_integer(key):
        return int(key)
    if not isinstance(key, str):
        raise KeyError(f"Illegal key '{key!r}'.")
    stripped = key.rstrip()
    if stripped in names:
        return names.index(stripped)
    lowered = [str(n).lower().rstrip() for n in names]
    hits = lowered.count(stripped.lower())
    if hits == 1:
        return lowered.index(stripped.lower())
    if hits == 0:
        raise KeyError(f"Key '{key}' does not exist.")
    raise KeyError(f"Ambiguous key name '{key}'.")


# -- header <-> columns --------------------------------------------------------------------------

MAX_COLUMNS = 999   # the FITS standard's limit on TFIELDS


def column_numbers(header: Any) -> range:
    """1 .. TFIELDS, the column numbers a table header's checks go through: at most
    :data:`MAX_COLUMNS` of them (a larger TFIELDS, even 2**31, is itself reported invalid)."""
    count = header.get("TFIELDS", 0)
    if not isinstance(count, (int, np.integer)) or isinstance(count, bool):
        return range(1, 1)
    return range(1, min(int(count), MAX_COLUMNS) + 1)


def columns_from_header(header: Any, ascii: bool = False, hdu: Any = None) -> list[Column]:
    """The Columns a table header describes (TTYPE, TFORM, TUNIT, TNULL, TSCAL, TZERO,
    TDISP, TBCOL, TDIM, TCTYP, TCUNI, TCRPX, TCRVL, TCDLT, TRPOS). Invalid keyword values
    are dropped with a VerifyWarning; a malformed TFORM raises VerifyError. With ``hdu``,
    each column's array is a :class:`Delayed` read from it."""
    nfields = int(header.get("TFIELDS", 0) or 0)
    # keyed by column number: TFIELDS may claim far more columns than the header describes
    # (2**31 of them), and the first one without a TFORM ends the list
    attrs: dict[int, dict[str, Any]] = {}
    fmt_cls = _AsciiColumnFormat if ascii else _ColumnFormat
    for keyword in header.keys():
        m = TDEF_RE.match(keyword)
        if m is None or m.group("label") not in KEYWORD_TO_ATTRIBUTE:
            continue
        number = int(m.group("num"))
        if not 0 < number <= nfields:
            continue
        attr = KEYWORD_TO_ATTRIBUTE[m.group("label")]
        value = header[keyword]
        if attr == "format":
            if not isinstance(value, str):
                # a logical or a number where a format string belongs: the card is damaged
                raise FITSValueError(f"{keyword} = {value!r} is not a format string")
            value = fmt_cls(value)
        attrs.setdefault(number - 1, {})[attr] = value
    columns = []
    for i in range(nfields):
        kwargs = attrs.get(i, {})
        valid, invalid = Column._verify_keywords(**kwargs)
        for _, message in invalid.values():
            warnings.warn(f"Invalid keyword for column {i + 1}: {message}", VerifyWarning,
                          stacklevel=3)
        valid.pop("recformat", None)
        if "dim" in valid:
            valid["dim"] = kwargs["dim"]
        if "format" not in valid:
            raise VerifyError(f"Column {i + 1} has no valid TFORM{i + 1}.")
        valid["array"] = Delayed(hdu, i) if hdu is not None else None
        columns.append(Column(**valid))
    return columns


def column_cards(columns: ColDefs) -> list[tuple[str, Any]]:
    """The (keyword, value) cards describing ``columns`` in astropy's order: for each
    column TTYPE, TFORM, TUNIT, TNULL, TSCAL, TZERO, TDISP, TBCOL, TDIM, TCTYP, TCUNI,
    TCRPX, TCRVL, TCDLT, TRPOS (those set)."""
    cards = []
    for i, col in enumerate(columns, 1):
        for keyword, attr in KEYWORD_TO_ATTRIBUTE.items():
            value = getattr(col, attr)
            if value is None or (isinstance(value, str) and value == ""):
                continue
            cards.append((f"{keyword}{i}", card_value(attr, value)))
    return cards


def card_value(attr: str, value: Any) -> Any:
    """A column attribute as a header value: formats as plain text, a C-order ``dim``
    tuple as TDIM text, numpy scalars as Python numbers."""
    if attr == "format":
        if isinstance(value, _AsciiColumnFormat) and not any(c.isdigit() for c in str(value)):
            # a bare letter ('E') is no valid ASCII TFORM: write the defaults it stands for
            return value.canonical
        return str(value)
    if attr == "dim" and isinstance(value, tuple):
        return "(" + ",".join(str(int(n)) for n in value[::-1]) + ")"
    if isinstance(value, np.generic):
        return value.item()
    return value


def python_to_tdisp(format_string: str | None, logical_dtype: bool = False) -> str | None:
    """The TDISP equivalent of a Python format (``'{:8.3f}'``, ``'%10d'``, ``'8s'``): None
    (with a warning when the format has no equivalent) for formats TDISP cannot express."""
    disp = tdisp.python_to_tdisp(format_string, logical_dtype=logical_dtype)
    if disp is None and format_string not in (None, "", "{}"):
        warnings.warn(f"Format {format_string} cannot be mapped to the accepted TDISPn keyword "
                      "values.  Format will not be moved into TDISPn keyword.", FITSUserWarning,
                      stacklevel=2)
    return disp


def _fortran_to_python_format(disp: str) -> str:
    """The Python format of TDISP ``disp``; VerifyError when it is not a TDISP value."""
    try:
        return tdisp.tdisp_to_python(disp)
    except ValueError as exc:
        raise VerifyError(str(exc)) from None
