"""TDISPn display formats (FITS standard, section 7.3.4) and Python format strings.

A TDISP value is a Fortran edit descriptor: a letter code, a width and, for some codes, the
number of digits (``F8.3``, ``E12.5E3``, ``EN10.2``, ``I6.4``, ``A20``, ``L1``). Python formats
are the ``str.format`` fields astropy's ``info.format`` uses (``'{:8.3f}'``), or ``%``-style
(``'%8.3f'``) and bare specifications (``'8.3f'``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["TdispForm", "parse_tdisp", "python_to_tdisp", "tdisp_to_python"]

# One pattern per family of codes: the width is required everywhere, the digits only where the
# code needs them (F, E, D, G, EN, ES); I/B/O/Z take an optional minimum digit count and E/D/G
# an optional exponent width.
_FORMS = {
    "A": re.compile(r"(?P<code>[AL])(?P<width>\d+)$"),
    "I": re.compile(r"(?P<code>[IBOZ])(?P<width>\d+)(?:\.?(?P<digits>\d+))?$"),
    "F": re.compile(r"(?P<code>F)(?P<width>\d+)\.(?P<digits>\d+)$"),
    "E": re.compile(r"(?P<code>[EDG])(?P<width>\d+)\.(?P<digits>\d+)(?:E?(?P<exponent>\d+))?$"),
    "EN": re.compile(r"(?P<code>E[NS])(?P<width>\d+)\.(?P<digits>\d+)$"),
}
_FAMILY = {"A": "A", "L": "A", "I": "I", "B": "I", "O": "I", "Z": "I", "F": "F", "E": "E",
           "D": "E", "G": "E", "EN": "EN", "ES": "EN"}

# TDISP code -> the str.format type that displays the same way. Integer codes ignore the
# minimum digit count: Python cannot zero-pad to a count without knowing the value's width.
_PYTHON_TYPE = {"I": "d", "B": "b", "O": "o", "Z": "x", "F": "f", "G": "g", "E": "e", "D": "e",
                "EN": "e", "ES": "e"}
# str.format type -> TDISP code
_TDISP_CODE = {"a": "A", "s": "A", "d": "I", "b": "B", "o": "O", "x": "Z", "X": "Z", "f": "F",
               "F": "F", "g": "G", "G": "G", "e": "E", "E": "E"}
# Width given to a Python format with digits but no width ('.4f'): the digits plus room for a
# sign, 8 integer digits and the point (F), or for a sign, one digit, the point and a 4-character
# exponent (E); the widths of astropy's ASCII-table defaults, F16.7 and E15.7.
_EXTRA_WIDTH = {"F": 9, "G": 9, "E": 8}


class TdispForm(NamedTuple):
    """The parts of a TDISP value, as the text found in it (None where absent)."""
    code: str
    width: str
    digits: str | None
    exponent: str | None


def parse_tdisp(tdisp: str) -> TdispForm:
    """Split a TDISP value (``'E10.5E3'`` -> ``('E', '10', '5', '3')``); ValueError naming the
    value when it is not a TDISP edit descriptor."""
    text = tdisp.strip()
    key = text[:2] if text[:2] in ("EN", "ES") else text[:1]
    pattern = _FORMS.get(_FAMILY.get(key, ""))
    match = pattern.match(text) if pattern is not None else None
    if match is None:
        raise ValueError(f"Format {text} is not recognized.")
    groups = match.groupdict()
    return TdispForm(groups["code"], groups["width"], groups.get("digits"), groups.get("exponent"))


def tdisp_to_python(tdisp: str) -> str:
    """The ``str.format`` field that displays values as TDISP ``tdisp`` does (``'F8.3'`` ->
    ``'{:8.3f}'``, ``'A10'`` and ``'L1'`` -> right-aligned ``'{:>10}'``); ValueError for a value
    that is not a TDISP edit descriptor."""
    form = parse_tdisp(tdisp)
    if form.code in ("A", "L"):
        return f"{{:>{form.width}}}"
    kind = _PYTHON_TYPE[form.code]
    if kind in "dbox":
        return f"{{:{form.width}{kind}}}"
    return f"{{:{form.width}.{form.digits}{kind}}}"


def _specification(format_string: str) -> str:
    """The format specification inside a Python format: ``'{:8.3f}'``, ``'%8.3f'`` -> ``'8.3f'``."""
    if format_string.startswith("{"):
        return format_string.strip("{}").lstrip(":")
    return format_string.lstrip("%")


def python_to_tdisp(format_string: str | None, logical_dtype: bool = False) -> str | None:
    """The TDISP value of a Python format (``'{:8.3f}'`` -> ``'F8.3'``, ``'%10s'`` -> ``'A10'``,
    ``'{:>4}'`` -> ``'A4'``), ``'L<width>'`` for a boolean column; None when there is no format
    or TDISP cannot express it (no width, fill characters, zero padding, an unknown type)."""
    if format_string in (None, "", "{}"):
        return None
    spec = _specification(format_string)
    if spec[:1] == ">" and spec[1:].isdigit() and spec[1:2] != "0":
        code, width, digits = "A", spec[1:], ""
    elif spec[-1:] in _TDISP_CODE and len(spec) > 1 and spec[0] != "0":
        code = _TDISP_CODE[spec[-1]]
        width, _, digits = spec[:-1].partition(".")
        if code == "A":
            width, digits = width.lstrip("0"), ""
        elif digits and not width and code in _EXTRA_WIDTH:
            width = str(int(digits) + _EXTRA_WIDTH[code]) if digits.isdigit() else ""
        digits = f".{digits}" if digits else ""
    else:
        return None
    if not width.isdigit() or (digits and not digits[1:].isdigit()):
        return None
    return f"{'L' if logical_dtype else code}{width}{digits}"
