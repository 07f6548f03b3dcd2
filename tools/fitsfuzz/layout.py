"""Where things are in raw FITS bytes: HDUs, header cards, data units, rows, heaps, descriptors.

The fuzzer mutates bytes, so it reads the structure itself, tolerantly: a value it cannot parse
is kept as text, and a data unit the header sizes wrongly is clipped to the file. It is never
used to read data, only to aim mutations (a card to patch, a descriptor to corrupt).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

BLOCK = 2880
CARD = 80

#: bytes of one element of each binary-table TFORM code (X is bits, counted separately)
TFORM_BYTES = {"L": 1, "B": 1, "I": 2, "J": 4, "K": 8, "A": 1, "E": 4, "D": 8, "C": 8,
               "M": 16, "P": 8, "Q": 16}
_TFORM = re.compile(r"^\s*(\d*)\s*([LXBIJKAEDCMPQ])")


@dataclass
class CardAt:
    """One 80-byte card: its byte ``offset`` in the file, ``keyword`` and raw value ``text``
    (None when the card has no value indicator)."""

    offset: int
    keyword: str
    text: str | None


@dataclass
class Descriptor:
    """A variable-length array descriptor in a table row: ``offset`` in the file and
    ``kind`` "P" (two big-endian int32) or "Q" (two int64)."""

    offset: int
    kind: str
    row: int
    column: int


@dataclass
class HDUAt:
    """One HDU: where its header and data are, its cards and their parsed values."""

    index: int
    header_start: int
    cards: list[CardAt]
    end: CardAt | None            # the END card, None when the header has none
    data_start: int
    data_end: int                 # unpadded end of the data unit, clipped to the file
    values: dict[str, object] = field(default_factory=dict)
    descriptors: list[Descriptor] = field(default_factory=list)
    heap: tuple[int, int] | None = None   # (start, end) in the file of a binary table's heap

    def card(self, keyword: str) -> CardAt | None:
        return next((c for c in self.cards if c.keyword == keyword), None)

    @property
    def compressed(self) -> bool:
        return self.values.get("ZIMAGE") is True or self.values.get("ZTABLE") is True


def parse_value(text: str | None) -> object:
    """A card's value text as Python: str, bool, int, float, or the stripped text itself."""
    if text is None:
        return None
    value = text.strip()
    if value.startswith("'"):
        end = value.find("'", 1)
        while end != -1 and value[end + 1:end + 2] == "'":
            end = value.find("'", end + 2)
        return value[1:end if end != -1 else None].replace("''", "'").rstrip()
    value = value.split("/", 1)[0].strip()
    if value in ("T", "F"):
        return value == "T"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _int(values: dict[str, object], key: str, default: int = 0) -> int:
    value = values.get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def data_size(values: dict[str, object], primary: bool) -> int:
    """Bytes of the data unit the header describes (unpadded), by the FITS standard's formula;
    0 for any header too broken to size."""
    bitpix = abs(_int(values, "BITPIX"))
    naxis = _int(values, "NAXIS")
    if not 0 < naxis <= 999:
        return 0
    axes = [_int(values, f"NAXIS{i}") for i in range(1, naxis + 1)]
    groups = primary and values.get("GROUPS") is True and axes[0] == 0
    if groups:
        axes = axes[1:]
    pcount = 0 if primary and not groups else _int(values, "PCOUNT")
    gcount = 1 if primary and not groups else _int(values, "GCOUNT", 1)
    return max(0, bitpix // 8 * gcount * (pcount + math.prod(axes)))


def table_columns(values: dict[str, object]) -> list[tuple[int, int, str]]:
    """(byte offset in the row, repeat, code) of each binary-table column, while TFORMs parse."""
    columns, at = [], 0
    for i in range(1, min(_int(values, "TFIELDS"), 999) + 1):
        match = _TFORM.match(str(values.get(f"TFORM{i}", "")))
        if match is None:
            break
        repeat = int(match.group(1) or 1)
        code = match.group(2)
        columns.append((at, repeat, code))
        at += (repeat + 7) // 8 if code == "X" else repeat * TFORM_BYTES[code]
    return columns


def _descriptors(hdu: HDUAt, limit: int) -> list[Descriptor]:
    rowsize, nrows = _int(hdu.values, "NAXIS1"), _int(hdu.values, "NAXIS2")
    found = []
    vla = [(i, at, code) for i, (at, repeat, code) in enumerate(table_columns(hdu.values))
           if code in "PQ" and repeat > 0]
    for row in range(min(nrows, limit)):
        for column, at, code in vla:
            offset = hdu.data_start + row * rowsize + at
            if offset + TFORM_BYTES[code] <= hdu.data_end:
                found.append(Descriptor(offset, code, row, column + 1))
    return found


def parse_hdus(data: bytes, max_hdus: int = 50, max_rows: int = 64) -> list[HDUAt]:
    """The HDUs of ``data`` as far as they can be found (a header without END ends the walk)."""
    hdus: list[HDUAt] = []
    start = 0
    while start + CARD <= len(data) and len(hdus) < max_hdus:
        cards, end, pos = [], None, start
        while pos + CARD <= len(data):
            raw = data[pos:pos + CARD].decode("ascii", "replace")
            keyword = raw[:8].rstrip()
            if keyword == "END" and not raw[8:].strip():
                end = CardAt(pos, "END", None)
                break
            text = raw[10:] if raw[8:10] == "= " else None
            cards.append(CardAt(pos, keyword, text))
            pos += CARD
        if end is None:
            hdus.append(HDUAt(len(hdus), start, cards, None, len(data), len(data)))
            break
        data_start = (end.offset // BLOCK + 1) * BLOCK
        values = {c.keyword: parse_value(c.text) for c in cards if c.text is not None}
        size = data_size(values, primary=not hdus)
        hdu = HDUAt(len(hdus), start, cards, end, min(data_start, len(data)),
                    min(data_start + size, len(data)), values)
        if values.get("XTENSION") == "BINTABLE":
            rows_end = hdu.data_start + _int(values, "NAXIS1") * _int(values, "NAXIS2")
            heap_start = hdu.data_start + _int(values, "THEAP", rows_end - hdu.data_start)
            if heap_start < hdu.data_end:
                hdu.heap = (heap_start, hdu.data_end)
            hdu.descriptors = _descriptors(hdu, max_rows)
        hdus.append(hdu)
        start = data_start + (size + BLOCK - 1) // BLOCK * BLOCK
    return hdus
