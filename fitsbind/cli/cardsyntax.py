"""The syntax of one 80-character header card, as the FITS standard (4.0, section 4) defines it,
checked on the card's own characters.

``fitsbind verify`` reads cards here rather than through CFITSIO's parser, which repairs or
tolerates what the standard forbids (a keyword with a lowercase letter, a value run into its
comment); the point of verifying is to report exactly that.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["COMMENTARY", "Card", "Value", "parse_card"]

#: keywords whose cards hold text after column 8 rather than a value
COMMENTARY = frozenset({"", "COMMENT", "HISTORY", "CONTINUE", "HIERARCH"})

_KEYWORD = re.compile(r"[A-Z0-9_-]*")
_INTEGER = r"[+-]?[0-9]+"
_REAL = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[ED][+-]?[0-9]+)?"
_NUMBER = re.compile(rf" *(?:(?P<integer>{_INTEGER})(?![0-9.ED])|(?P<real>{_REAL}))")
_COMPLEX = re.compile(rf" *\( *(?:{_REAL}) *, *(?:{_REAL}) *\)")
_LOGICAL = re.compile(r" *(?P<logical>[TF])(?![^ /])")


class Value(NamedTuple):
    """A parsed value field: ``kind`` is string, logical, integer, real, complex or undefined;
    ``start`` and ``end`` are the 0-based columns of the card it spans."""

    kind: str
    value: object
    start: int
    end: int


class Card(NamedTuple):
    """One card of a header: its 1-based ``number`` in the header, its ``text`` (80 characters,
    bytes decoded as Latin-1 so none is lost), ``keyword`` (columns 1-8, trailing blanks
    dropped), its ``value`` when it has a value field, and the syntax ``problems`` found."""

    number: int
    text: str
    keyword: str
    value: Value | None
    problems: tuple[str, ...]


def parse_card(number: int, text: str) -> Card:
    """Parse card ``number`` of a header, its 80 characters ``text``."""
    problems = []
    bad = sorted({c for c in text if not " " <= c <= "~"})
    if bad:
        shown = ", ".join(f"0x{ord(c):02X}" for c in bad[:4])
        problems.append(f"contains characters that are not printable ASCII (32-126): {shown}")
    name = text[:8]
    keyword = name.rstrip(" ")
    if not _KEYWORD.fullmatch(keyword):
        problems.append(f"keyword {keyword!r} has characters other than A-Z, 0-9, '-' and '_' "
                        "(or an embedded blank)")
    value = None
    if keyword not in COMMENTARY and text[8:10] == "= ":
        value, problem = _parse_value(text)
        if problem:
            problems.append(problem)
    return Card(number, text, keyword, value, tuple(problems))


def _parse_value(text: str) -> tuple[Value | None, str | None]:
    """The value field of a card with a value indicator, and what is wrong with it, if anything:
    a value the standard does not define, or one followed by anything but blanks and a
    ``/`` comment."""
    field = text[10:]
    stripped = field.lstrip(" ")
    start = 10 + len(field) - len(stripped)
    if not stripped or stripped.startswith("/"):
        value = Value("undefined", None, start, start)
    elif stripped.startswith("'"):
        value = _parse_string(text, start)
        if value is None:
            return None, "has a string value without its closing quote"
    else:
        value = _parse_other(field)
        if value is None:
            return None, f"has a value field that is not a FITS value: {field.strip()[:40]!r}"
    rest = text[value.end:].lstrip(" ")
    if rest and not rest.startswith("/"):
        return value, "has text after its value that is not a comment (no '/' between them)"
    return value, None


def _parse_string(text: str, start: int) -> Value | None:
    """The string starting at the quote in column ``start``: quotes doubled inside it, trailing
    blanks not significant."""
    i = start + 1
    chars = []
    while i < len(text):
        if text[i] == "'":
            if text[i + 1:i + 2] == "'":
                chars.append("'")
                i += 2
                continue
            return Value("string", "".join(chars).rstrip(" "), start, i + 1)
        chars.append(text[i])
        i += 1
    return None


def _parse_other(field: str) -> Value | None:
    """A logical, integer, real or complex value at the start of ``field`` (columns 11-80)."""
    for pattern, kind in ((_LOGICAL, "logical"), (_NUMBER, None), (_COMPLEX, "complex")):
        m = pattern.match(field)
        if m is None:
            continue
        start = 10 + len(m.group(0)) - len(m.group(0).lstrip(" "))
        token = m.group(0).strip()
        if kind == "logical":
            return Value(kind, token == "T", start, 10 + m.end())
        if kind == "complex":
            return Value(kind, token, start, 10 + m.end())
        if m.group("integer") is not None:
            return Value("integer", int(token), start, 10 + m.end())
        return Value("real", float(token.replace("D", "E")), start, 10 + m.end())
    return None
