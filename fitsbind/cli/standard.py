"""The structural rules of the FITS standard (4.0), checked on a file's own bytes: what
``fitsbind verify`` reports, in the spirit of NASA's fitsverify.

:func:`verify_file` walks the file HDU by HDU, reading its 2880-byte blocks itself, and
returns :class:`Finding` objects; it never prints and never raises for a broken file (a file
that cannot be read is a finding too). It does not go through CFITSIO's header parser, which
accepts headers the standard forbids (GCOUNT = 0 or PCOUNT > 0 on an IMAGE extension, an
unknown XTENSION, a header cut mid-card) and refuses others before they can be described.

What counts as an error and what as a warning follows fitsverify: breaking a rule of the
standard is an error; duplicated keywords, a CHECKSUM or DATASUM that does not match the
bytes, SIMPLE = F, deprecated keywords and column names with unusual characters are warnings.
"""

from __future__ import annotations

import bz2
import gzip
import os
import re
from collections.abc import Callable, Iterator
from typing import IO, NamedTuple

import numpy as np

from fitsbind.checksum import BLOCK, ones_complement_sum, padded_length
from fitsbind.cli.cardsyntax import COMMENTARY, Card, parse_card
from fitsbind.direct import TForm, data_unit_size, parse_tform

__all__ = ["ERROR", "WARNING", "Finding", "compression", "verify_file"]

ERROR = "error"
WARNING = "warning"
CARD = 80
CHUNK = 1 << 22                     # bytes read at a time from a data unit
MAX_UNENDED = 1000 * BLOCK          # bytes of a header without END whose cards are checked
LEGAL_BITPIX = (8, 16, 32, 64, -32, -64)
EXTENSIONS = ("IMAGE", "TABLE", "BINTABLE")
COMPRESSION_TYPES = ("RICE_1", "RICE_ONE", "GZIP_1", "GZIP_2", "PLIO_1", "HCOMPRESS_1",
                     "NOCOMPRESS")
#: reserved keywords → the value kinds the standard allows them
RESERVED_KINDS = {
    "EXTEND": ("logical",), "GROUPS": ("logical",), "BSCALE": ("integer", "real"),
    "BZERO": ("integer", "real"), "BLANK": ("integer",), "BUNIT": ("string",),
    "DATAMAX": ("integer", "real"), "DATAMIN": ("integer", "real"), "EXTNAME": ("string",),
    "EXTVER": ("integer",), "EXTLEVEL": ("integer",), "THEAP": ("integer",),
    "DATE": ("string",), "CHECKSUM": ("string",), "DATASUM": ("string",),
    "ZIMAGE": ("logical",), "ZBITPIX": ("integer",), "ZNAXIS": ("integer",),
    "ZCMPTYPE": ("string",), "WCSAXES": ("integer",),
}
#: indexed column keywords → the value kinds allowed (TNULL: see _check_columns)
COLUMN_KINDS = {
    "TTYPE": ("string",), "TFORM": ("string",), "TUNIT": ("string",), "TDISP": ("string",),
    "TDIM": ("string",), "TBCOL": ("integer",), "TSCAL": ("integer", "real"),
    "TZERO": ("integer", "real"), "TNULL": ("integer", "string"),
}
IMAGE_ONLY = ("BSCALE", "BZERO", "BUNIT", "BLANK", "DATAMAX", "DATAMIN")
DEPRECATED = {"EPOCH": "use EQUINOX", "BLOCKED": "it has no meaning"}
_COLUMN = re.compile(r"(TTYPE|TFORM|TUNIT|TDISP|TDIM|TBCOL|TSCAL|TZERO|TNULL)([0-9]+)")
_WCS = re.compile(r"(?:(?:CRPIX|CRVAL|CDELT|CTYPE|CUNIT|CROTA|CRDER|CSYER)(?P<axis>[0-9]+)|"
                  r"(?:PC|CD)(?P<i>[0-9]+)_(?P<j>[0-9]+)|(?:PV|PS)(?P<pi>[0-9]+)_[0-9]+)[A-Z]?")
_TDIM = re.compile(r"\( *[0-9]+ *(?:, *[0-9]+ *)*\)")


class Finding(NamedTuple):
    """One problem found: ``hdu`` is the 0-based HDU index (None for the file as a whole),
    ``severity`` ``"error"`` or ``"warning"``."""

    hdu: int | None
    severity: str
    message: str


class Layout(NamedTuple):
    """What a header says its data unit holds, as far as the checks of the data need it."""

    kind: str                       # "primary", "IMAGE", "TABLE", "BINTABLE" or another
    size: int                       # bytes of data, padding excluded
    row_bytes: int = 0
    rows: int = 0
    heap_start: int = 0             # from the start of the data unit
    columns: tuple[tuple[int, TForm, int], ...] = ()    # (number, form, offset in the row)


def verify_file(path: str | os.PathLike, advance: Callable[[int], object] | None = None
                ) -> list[Finding]:
    """Check the FITS file at ``path`` (gzip and bzip2 files are read decompressed) and return
    what is wrong with it, in file order. ``advance`` is called with the number of bytes read
    as the data units are read (a progress bar's ``update``)."""
    try:
        packed = compression(path)
        opener = {"gzip": gzip.open, "bzip2": bz2.open}.get(packed, open)
        with opener(path, "rb") as stream:
            size = os.path.getsize(path) if packed is None else _stream_size(stream)
            return _Walk(stream, size, advance or (lambda n: None)).run()
    except (OSError, EOFError) as exc:      # EOFError: a compressed stream cut short
        return [Finding(None, ERROR, f"cannot read the file: {exc}")]


def compression(path: str | os.PathLike) -> str | None:
    """"gzip" or "bzip2" when the file at ``path`` starts with that format's signature, else
    None. OSError when it cannot be read."""
    with open(path, "rb") as f:
        magic = f.read(3)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    return "bzip2" if magic == b"BZh" else None



def _stream_size(stream: IO[bytes]) -> int:
    """Bytes in the decompressed ``stream``, read through without keeping them."""
    size = 0
    while piece := stream.read(CHUNK):
        size += len(piece)
    return size


class _Walk:
    """One pass over a file: its HDUs in turn, the findings collected on the way."""

    def __init__(self, stream: IO[bytes], size: int, advance: Callable[[int], object]) -> None:
        self.stream = stream
        self.advance = advance
        self.size = size
        self.findings: list[Finding] = []
        self.hdu: int | None = None
        self.names: dict[tuple, int] = {}      # (type, EXTNAME, EXTVER, EXTLEVEL) → HDU

    def error(self, message: str) -> None:
        self.findings.append(Finding(self.hdu, ERROR, message))

    def warn(self, message: str) -> None:
        self.findings.append(Finding(self.hdu, WARNING, message))

    def read(self, position: int, nbytes: int) -> bytes:
        self.stream.seek(position)
        return self.stream.read(nbytes)

    def run(self) -> list[Finding]:
        if self.size == 0:
            self.error("the file is empty")
            return self.findings
        position, index = 0, 0
        while position < self.size:
            first = self.read(position, 8)
            if index and first != b"XTENSION":
                self.hdu = None
                self.error(f"{self.size - position} extra bytes after the last HDU, from byte "
                           f"{position} (they do not start a header with XTENSION)")
                break
            self.hdu = index
            position = self.check_hdu(index, position)
            if position is None:
                break
            index += 1
        return self.findings

    # -- one HDU -------------------------------------------------------------------------------

    def check_hdu(self, index: int, start: int) -> int | None:
        """Check the HDU whose header starts at byte ``start``; return where the next one
        starts, or None when the walk cannot go on."""
        cards, data_start = self.read_header(index, start)
        if data_start is None:
            return None
        layout = _HeaderCheck(self, index, cards).run()
        if layout is None:
            return None
        data_end = data_start + padded_length(layout.size)
        if data_end > self.size:
            self.error(f"the file is truncated: the data unit needs {data_end - data_start} bytes "
                       f"from byte {data_start} (to byte {data_end}), the file ends at byte "
                       f"{self.size}")
            return None
        values = {card.keyword: card.value for card in cards if card.value is not None}
        self.check_name(layout.kind, values)
        self.check_data(layout, data_start, values, start)
        return data_end

    def read_header(self, index: int, start: int) -> tuple[list[Card], int | None]:
        """The cards of the header starting at byte ``start`` (END excluded) and where its data
        unit starts; None for the latter when the header is broken beyond walking on."""
        first = self.read(start, 8)
        if index == 0 and first != b"SIMPLE  ":
            self.error("not a FITS file: it does not start with the keyword SIMPLE")
            return [], None
        end, stop = self.find_end(start)
        # a header without END is checked on its first cards only: it may be the whole file
        raw = self.read(start, stop - start if end is not None else
                        min(stop - start, MAX_UNENDED))
        cards = [parse_card(i + 1, raw[p:p + CARD].decode("latin-1"))
                 for i, p in enumerate(range(0, len(raw) - len(raw) % CARD, CARD))]
        if end is None:
            count, cut = divmod(stop - start, CARD)
            if cut:
                self.error(f"the header is cut mid-card: the file ends {cut} bytes into card "
                           f"{count + 1}, at byte {self.size}")
            elif stop == self.size:
                self.error(f"the header has no END card: the file ends after its {count} "
                           f"cards, at byte {self.size}")
            else:
                self.error(f"the header has no END card: its {count} cards run into bytes "
                           f"that are not header text at byte {stop}")
            if self.size % BLOCK:
                self.error(f"the file size, {self.size} bytes, is not a multiple of {BLOCK}")
            _HeaderCheck(self, index, cards).run()
            return cards, None
        end_card = self.read(end, CARD).decode("latin-1")
        if end_card[3:].strip(" "):
            self.error("the END card is not filled with blanks in columns 9-80")
        data_start = padded_length(end + CARD)
        fill = self.read(end + CARD, data_start - end - CARD)
        if len(fill) < data_start - end - CARD:
            self.error(f"the file ends inside the header's last block, at byte {self.size}")
            _HeaderCheck(self, index, cards).run()
            return cards, None
        if fill.strip(b" "):
            self.error("the header's fill after the END card is not all blanks")
        return cards, data_start

    def find_end(self, start: int) -> tuple[int | None, int]:
        """(where the END card of the header starting at ``start`` is, or None when it has
        none; where the header's text stops). Read block by block, so a header without END is
        not kept in memory while it is searched. A block that does not look like header text
        (most bytes outside 32-126) ends the search: the header has run into data."""
        position = start
        while position < self.size:
            block = self.read(position, BLOCK)
            for offset in range(0, len(block) - CARD + 1, CARD):
                if block[offset:offset + 8] == b"END     ":
                    return position + offset, position + offset
            if sum(not 32 <= b <= 126 for b in block) > len(block) // 2:
                return None, position
            position += len(block)
        return None, self.size

    def check_name(self, kind: str, values: dict) -> None:
        """Two HDUs of one type with the same EXTNAME, EXTVER and EXTLEVEL cannot be told
        apart by name: a warning."""
        if "EXTNAME" not in values:
            return
        key = (kind, *(getattr(values.get(k), "value", 1) for k in ("EXTNAME", "EXTVER",
                                                                      "EXTLEVEL")))
        other = self.names.setdefault(key, self.hdu)
        if other != self.hdu:
            self.warn(f"HDU {other} has the same type, EXTNAME, EXTVER and EXTLEVEL")

    # -- the data unit -------------------------------------------------------------------------

    def check_data(self, layout: Layout, data_start: int, values: dict, header_start: int) -> None:
        """Fill bytes, CHECKSUM/DATASUM, and what the data of a binary table must hold."""
        data_end = data_start + padded_length(layout.size)
        checksummed = "CHECKSUM" in values or "DATASUM" in values
        if checksummed:
            data_sum = 0
            for piece in self.chunks(data_start, data_end):
                data_sum = ones_complement_sum(piece, data_sum)
            self.check_sums(values, header_start, data_start, data_sum)
        else:
            self.advance(data_end - data_start)     # nothing to read: the progress moves on
        fill = self.read(data_start + layout.size, data_end - data_start - layout.size)
        blank = b" " if layout.kind == "TABLE" else b"\0"
        if fill.strip(blank):
            what = "blanks (an ASCII table)" if layout.kind == "TABLE" else "zeros"
            self.error(f"the data unit's fill after its {layout.size} bytes is not all {what}")
        if layout.kind == "BINTABLE" and layout.rows and layout.columns:
            _TableData(self, layout, data_start).run()

    def chunks(self, start: int, end: int) -> Iterator[bytes]:
        """The bytes from ``start`` to ``end`` in pieces of at most CHUNK, reported to the
        progress callback as they are read."""
        self.stream.seek(start)
        position = start
        while position < end:
            piece = self.stream.read(min(CHUNK, end - position))
            if not piece:
                return
            position += len(piece)
            self.advance(len(piece))
            yield piece

    def check_sums(self, values: dict, header_start: int, data_start: int, data_sum: int) -> None:
        datasum = values.get("DATASUM")
        if datasum is not None and datasum.kind == "string" and datasum.value.strip():
            if not datasum.value.strip().isdigit():
                self.error(f"DATASUM = {datasum.value!r} is not an unsigned integer string")
            elif int(datasum.value) != data_sum:
                self.warn(f"DATASUM = {datasum.value!r} does not match the data unit (its sum "
                          f"is {data_sum})")
        checksum = values.get("CHECKSUM")
        if checksum is not None and checksum.kind == "string" and checksum.value.strip():
            header_sum = 0
            for piece in self.chunks_quiet(header_start, data_start):
                header_sum = ones_complement_sum(piece, header_sum)
            if ones_complement_sum(b"", header_sum + data_sum) != 0xFFFFFFFF:
                self.warn(f"CHECKSUM = {checksum.value!r} does not match the HDU's bytes")

    def chunks_quiet(self, start: int, end: int) -> Iterator[bytes]:
        for position in range(start, end, CHUNK):
            yield self.read(position, min(CHUNK, end - position))


class _HeaderCheck:
    """The checks of one header's cards; :meth:`run` returns the data layout the header
    describes, or None when it describes none the walk could step over."""

    def __init__(self, walk: _Walk, index: int, cards: list[Card]) -> None:
        self.walk = walk
        self.index = index
        self.cards = cards
        self.error = walk.error
        self.warn = walk.warn
        # the first card of each keyword: the one whose value counts
        self.first: dict[str, Card] = {}
        for card in cards:
            self.first.setdefault(card.keyword, card)

    def value(self, keyword: str, default: object = None) -> object:
        card = self.first.get(keyword)
        return default if card is None or card.value is None else card.value.value

    def run(self) -> Layout | None:
        for card in self.cards:
            for problem in card.problems:
                self.error(f"card {card.number} ({card.keyword or 'blank keyword'}) {problem}")
        kind = "primary" if self.index == 0 else str(self.value("XTENSION", "")).strip()
        mandatory = self.check_mandatory(kind)
        self.check_duplicates(mandatory)
        self.check_reserved(kind)
        if mandatory is None:
            return None
        numbers = self.integers(kind, mandatory)
        groups = kind == "primary" and self.value("GROUPS") is True and numbers.get("NAXIS1") == 0
        self.check_groups(kind, groups, numbers)
        size = data_unit_size(numbers, groups)
        if kind in ("TABLE", "BINTABLE"):
            return self.check_table(kind, size, numbers)
        if kind in ("primary", "IMAGE"):
            self.check_image()
        return Layout(kind, size)

    # -- mandatory keywords --------------------------------------------------------------------

    def check_mandatory(self, kind: str) -> list[str] | None:
        """Check the mandatory keywords are the first cards, in order, in fixed format; return
        them, or None when they are too broken to size the data unit."""
        expected = ["SIMPLE" if kind == "primary" else "XTENSION", "BITPIX", "NAXIS"]
        naxis = self.mandatory_integer(expected, 2)
        if naxis is None:
            return None
        if not 0 <= naxis <= 999:
            self.error(f"NAXIS = {naxis} is outside 0-999")
            return None
        expected += [f"NAXIS{n}" for n in range(1, naxis + 1)]
        if kind != "primary":
            expected += ["PCOUNT", "GCOUNT"]
            if kind in ("TABLE", "BINTABLE"):
                expected.append("TFIELDS")
        for position, keyword in enumerate(expected):
            if keyword == "NAXIS":
                continue
            if keyword in ("SIMPLE", "XTENSION"):
                if not self.check_first(keyword, kind):
                    return None
            elif self.mandatory_integer(expected, position) is None:
                return None
        return expected

    def place(self, expected: list[str], position: int) -> Card | None:
        """The card that must be mandatory keyword ``expected[position]``, when it is; an
        error naming what is there (or missing) otherwise."""
        keyword = expected[position]
        card = self.cards[position] if position < len(self.cards) else None
        if card is not None and card.keyword == keyword:
            return card
        where = self.first.get(keyword)
        found = f"card {position + 1} is {card.keyword or 'blank'!r}" if card else \
            f"the header ends after {len(self.cards)} cards"
        if where is None:
            self.error(f"mandatory keyword {keyword} is missing ({found})")
        else:
            self.error(f"mandatory keyword {keyword} is card {where.number}, it must be card "
                       f"{position + 1} ({found}); the mandatory keywords come first, in order")
        return None

    def check_first(self, keyword: str, kind: str) -> bool:
        card = self.place([keyword], 0)
        if card is None:
            return False
        value = card.value
        if keyword == "SIMPLE":
            if value is None or value.kind != "logical" or value.end != 30:
                self.error("SIMPLE must be the logical T or F in column 30 (fixed format)")
            elif value.value is False:
                self.warn("SIMPLE = F: the file says it does not conform to the standard")
            return True
        if value is None or value.kind != "string" or value.start != 10:
            self.error("XTENSION must be a string starting in column 11 (fixed format)")
            return False
        if kind != value.value.strip() or not kind:
            self.error(f"XTENSION = {value.value!r} has leading blanks")
        if kind not in EXTENSIONS:
            self.error(f"XTENSION = {value.value!r} is not a standard extension type "
                       f"({', '.join(EXTENSIONS)})")
        return True

    def mandatory_integer(self, expected: list[str], position: int) -> int | None:
        card = self.place(expected, position)
        if card is None:
            return None
        value = card.value
        if value is None or value.kind != "integer":
            self.error(f"{card.keyword} must be an integer (card {card.number})")
            return None
        if value.end != 30:
            self.error(f"{card.keyword} = {value.value} is not in fixed format (an integer "
                       "right-justified to column 30)")
        return value.value

    def integers(self, kind: str, mandatory: list[str]) -> dict[str, int]:
        """The mandatory integers, their values checked against what the HDU type allows."""
        numbers = {k: self.value(k) for k in mandatory[1:]}
        if kind == "primary":
            for keyword in ("PCOUNT", "GCOUNT"):
                if isinstance(self.value(keyword), int):
                    numbers[keyword] = self.value(keyword)
        bitpix = numbers["BITPIX"]
        if bitpix not in LEGAL_BITPIX:
            self.error(f"BITPIX = {bitpix} is not a legal value "
                       f"({', '.join(map(str, LEGAL_BITPIX))})")
            numbers["BITPIX"] = 8   # the walk goes on as if bytes
        for n in range(1, numbers["NAXIS"] + 1):
            if numbers[f"NAXIS{n}"] < 0:
                self.error(f"NAXIS{n} = {numbers[f'NAXIS{n}']} is negative")
        rules = {"IMAGE": {"PCOUNT": 0, "GCOUNT": 1},
                 "TABLE": {"BITPIX": 8, "NAXIS": 2, "PCOUNT": 0, "GCOUNT": 1},
                 "BINTABLE": {"BITPIX": 8, "NAXIS": 2, "GCOUNT": 1}}.get(kind, {})
        for keyword, required in rules.items():
            if numbers.get(keyword) != required:
                self.error(f"{keyword} = {numbers.get(keyword)} in an {kind} extension; it "
                           f"must be {required}")
        for keyword in ("PCOUNT", "GCOUNT"):
            if numbers.get(keyword, 0) < 0:
                self.error(f"{keyword} = {numbers[keyword]} is negative")
                numbers[keyword] = 0
        return numbers

    def check_groups(self, kind: str, groups: bool, numbers: dict[str, int]) -> None:
        """Random groups (GROUPS = T, NAXIS1 = 0 in the primary HDU) take PCOUNT, GCOUNT and
        PTYPEn/PSCALn/PZEROn up to PCOUNT; other primary HDUs none of them."""
        if kind != "primary":
            return
        for keyword in ("PCOUNT", "GCOUNT"):
            card = self.first.get(keyword)
            if card and not groups:
                self.error(f"{keyword} (card {card.number}) is not allowed in a primary array "
                           "that is not random groups (GROUPS = T, NAXIS1 = 0)")
        if groups:
            pcount = numbers.get("PCOUNT", 0)
            for card in self.cards:
                m = re.fullmatch(r"(PTYPE|PSCAL|PZERO)([0-9]+)", card.keyword)
                if m and not 1 <= int(m.group(2)) <= pcount:
                    self.error(f"{card.keyword} (card {card.number}): index out of 1-{pcount} "
                               "(PCOUNT)")

    # -- other keywords ------------------------------------------------------------------------

    def check_duplicates(self, mandatory: list[str] | None) -> None:
        seen: dict[str, Card] = {}
        for card in self.cards:
            if card.keyword in COMMENTARY or card.value is None:
                continue
            first = seen.setdefault(card.keyword, card)
            if first is card:
                continue
            if mandatory and card.keyword in mandatory:
                self.error(f"mandatory keyword {card.keyword} is repeated in card {card.number} "
                           f"(first in card {first.number})")
            else:
                self.warn(f"keyword {card.keyword} is repeated in card {card.number} (first in "
                          f"card {first.number})")

    def check_reserved(self, kind: str) -> None:
        """Value kinds of reserved keywords, and keywords the HDU type does not allow."""
        # a tile-compressed image keeps the image's keywords in its table's header
        table = kind in ("TABLE", "BINTABLE") and self.value("ZIMAGE") is not True
        image = kind in ("primary", "IMAGE")
        for card in self.cards:
            keyword, value = card.keyword, card.value
            allowed = RESERVED_KINDS.get(keyword)
            if allowed and value is not None and value.kind not in (*allowed, "undefined"):
                self.error(f"{keyword} (card {card.number}) must be {' or '.join(allowed)}, not "
                           f"{value.kind}")
            if keyword in DEPRECATED:
                self.warn(f"{keyword} (card {card.number}) is deprecated: {DEPRECATED[keyword]}")
            if kind == "primary" and keyword == "XTENSION":
                self.error(f"XTENSION (card {card.number}) is not allowed in the primary HDU")
            if kind != "primary" and keyword in ("SIMPLE", "EXTEND", "BLOCKED"):
                self.error(f"{keyword} (card {card.number}) is only allowed in the primary HDU")
            if table and keyword in IMAGE_ONLY:
                self.error(f"{keyword} (card {card.number}) is not allowed in a table")
            if image and (keyword in ("TFIELDS", "THEAP") or _COLUMN.fullmatch(keyword)):
                self.error(f"{keyword} (card {card.number}) is a table keyword, not allowed in "
                           "an image")

    def check_image(self) -> None:
        bitpix = self.value("BITPIX")
        card = self.first.get("BLANK")
        if card is not None and isinstance(bitpix, int) and bitpix < 0:
            self.error(f"BLANK (card {card.number}) is not allowed in a floating-point image")
        wcsaxes = self.first.get("WCSAXES")
        if wcsaxes is None or not isinstance(self.value("WCSAXES"), int):
            return
        limit = self.value("WCSAXES")
        for card in self.cards:
            m = _WCS.fullmatch(card.keyword)
            if m is None:
                continue
            if card.number < wcsaxes.number:
                self.error(f"WCSAXES (card {wcsaxes.number}) comes after the WCS keyword "
                           f"{card.keyword} (card {card.number}); it must precede them")
                return
            indexes = [int(i) for i in m.group("axis", "i", "j", "pi") if i is not None]
            if any(i > limit for i in indexes):
                self.error(f"{card.keyword} (card {card.number}): axis index greater than "
                           f"WCSAXES = {limit}")

    # -- tables --------------------------------------------------------------------------------

    def check_table(self, kind: str, size: int, numbers: dict[str, int]) -> Layout:
        tfields = numbers["TFIELDS"]
        if not 0 <= tfields <= 999:
            self.error(f"TFIELDS = {tfields} is outside 0-999")
            return Layout(kind, size)
        row_bytes, rows = numbers["NAXIS1"], numbers["NAXIS2"]
        ascii = kind == "TABLE"
        for card in self.cards:
            m = _COLUMN.fullmatch(card.keyword)
            if m is None:
                continue
            stem, n = m.group(1), int(m.group(2))
            if not 1 <= n <= tfields:
                self.error(f"{card.keyword} (card {card.number}): column index out of 1-{tfields} "
                           "(TFIELDS)")
            elif card.value is not None and card.value.kind not in (*COLUMN_KINDS[stem],
                                                                      "undefined"):
                self.error(f"{card.keyword} (card {card.number}) must be "
                           f"{' or '.join(COLUMN_KINDS[stem])}, not {card.value.kind}")
            elif stem in ("TFORM", "TDISP", "TDIM") and card.value is not None and \
                    card.value.kind == "string" and card.text[card.value.start + 1] == " ":
                self.error(f"{card.keyword} (card {card.number}) = {card.value.value!r} has "
                           "leading blanks")
            if (ascii and stem == "TDIM") or (not ascii and stem == "TBCOL"):
                self.error(f"{card.keyword} (card {card.number}) is not allowed in a "
                           f"{kind} extension")
        columns = []
        offset = 0
        for n in range(1, tfields + 1):
            form = self.column_form(n, ascii)
            if form is None:
                return Layout(kind, size)
            if ascii:
                start = self.value(f"TBCOL{n}")
                if not isinstance(start, int):
                    self.error(f"TBCOL{n} is missing or not an integer (ASCII table column {n})")
                elif not 1 <= start or start - 1 + form.width > row_bytes:
                    self.error(f"TBCOL{n} = {start}: column {n} ({form.width} characters) "
                               f"does not fit in the {row_bytes}-character row (NAXIS1)")
                self.check_column_scaling(n, form, ascii)
                continue
            columns.append((n, form, offset))
            offset += form.nbytes
            self.check_column_binary(n, form)
        if ascii:
            self.check_ascii_heap()
            return Layout(kind, size)
        if offset != row_bytes:
            self.error(f"NAXIS1 = {row_bytes}, but the columns' TFORMn add up to {offset} bytes "
                       "per row")
            return Layout(kind, size)
        heap_start = self.check_theap(numbers)
        if self.value("ZIMAGE") is True:
            self.check_compressed_image()
        return Layout(kind, size, row_bytes, rows, heap_start, tuple(columns))

    def column_form(self, n: int, ascii: bool) -> TForm | None:
        tform = self.value(f"TFORM{n}")
        if not isinstance(tform, str):
            self.error(f"TFORM{n} is missing or not a string (column {n})")
            return None
        try:
            form = parse_tform(tform, ascii)
        except ValueError:
            allowed = "Aw, Iw, Fw.d, Ew.d or Dw.d" if ascii else \
                "rL, rX, rB, rI, rJ, rK, rA, rE, rD, rC, rM, rPt(max) or rQt(max)"
            self.error(f"TFORM{n} = {tform!r} is not a valid format ({allowed})")
            return None
        if not ascii and form.code == "A" and re.fullmatch(r"\s*[0-9]+A[0-9]+\s*", tform):
            width = int(tform.strip().split("A")[1])
            if width and form.repeat % width:
                self.warn(f"TFORM{n} = {tform!r}: the repeat count is not a multiple of the "
                          "substring width")
        return form

    def check_column_binary(self, n: int, form: TForm) -> None:
        self.check_column_scaling(n, form, False)
        name = self.value(f"TTYPE{n}")
        if isinstance(name, str) and name.strip() and not re.fullmatch(r"[A-Za-z0-9_]+",
                                                                        name.strip()):
            self.warn(f"TTYPE{n} = {name!r}: column names should hold only letters, digits and "
                      "'_'")
        if form.code in ("E", "D", "C", "M") and f"TNULL{n}" in self.first:
            self.error(f"TNULL{n} is not allowed for a floating-point column (TFORM{n} = "
                       f"{self.value(f'TFORM{n}')!r})")
        tdim = self.value(f"TDIM{n}")
        if isinstance(tdim, str):
            if not _TDIM.fullmatch(tdim.strip()):
                self.error(f"TDIM{n} = {tdim!r} is not of the form (n1,n2,...)")
            elif not form.vla:
                count = int(np.prod([int(d) for d in tdim.strip()[1:-1].split(",")],
                                    dtype=object))
                if count > form.repeat:
                    self.error(f"TDIM{n} = {tdim!r} describes {count} elements, more than "
                               f"the {form.repeat} of TFORM{n} = {self.value(f'TFORM{n}')!r}")

    def check_column_scaling(self, n: int, form: TForm, ascii: bool) -> None:
        plain = form.code == "A" or (not ascii and form.code in ("L", "X"))
        for stem in ("TSCAL", "TZERO"):
            if plain and f"{stem}{n}" in self.first:
                self.error(f"{stem}{n} is not allowed for column {n} (TFORM{n} = "
                           f"{self.value(f'TFORM{n}')!r})")
        if self.value(f"TSCAL{n}") == 0:
            self.warn(f"TSCAL{n} = 0")

    def check_ascii_heap(self) -> None:
        card = self.first.get("THEAP")
        if card is not None:
            self.error(f"THEAP (card {card.number}) is not allowed in a TABLE extension")

    def check_theap(self, numbers: dict[str, int]) -> int:
        main = numbers["NAXIS1"] * numbers["NAXIS2"]
        card = self.first.get("THEAP")
        if card is None:
            return main
        theap = self.value("THEAP")
        if numbers["PCOUNT"] == 0:
            self.error(f"THEAP (card {card.number}) is not allowed when PCOUNT = 0 (no heap)")
        elif isinstance(theap, int) and not main <= theap <= main + numbers["PCOUNT"]:
            self.error(f"THEAP = {theap} is outside the data after the table ({main}-"
                       f"{main + numbers['PCOUNT']})")
        return theap if isinstance(theap, int) and main <= theap else main

    def check_compressed_image(self) -> None:
        """The Z keywords a tile-compressed image (ZIMAGE = T) must have."""
        zbitpix = self.value("ZBITPIX")
        if zbitpix not in LEGAL_BITPIX:
            self.error(f"ZBITPIX = {zbitpix!r} is missing or not a legal BITPIX value "
                       "(tile-compressed image)")
        znaxis = self.value("ZNAXIS")
        if not isinstance(znaxis, int) or not 0 <= znaxis <= 999:
            self.error(f"ZNAXIS = {znaxis!r} is missing or not an integer 0-999 "
                       "(tile-compressed image)")
        else:
            for n in range(1, znaxis + 1):
                axis = self.value(f"ZNAXIS{n}")
                if not isinstance(axis, int) or axis < 0:
                    self.error(f"ZNAXIS{n} = {axis!r} is missing or not a non-negative integer "
                               "(tile-compressed image)")
        ztype = self.value("ZCMPTYPE")
        if not isinstance(ztype, str) or ztype.strip() not in COMPRESSION_TYPES:
            self.error(f"ZCMPTYPE = {ztype!r} is missing or not a known compression "
                       f"({', '.join(COMPRESSION_TYPES)})")
        names = {str(self.value(f"TTYPE{n}", "")).strip().upper()
                 for n in range(1, int(self.value("TFIELDS", 0)) + 1)}
        if "COMPRESSED_DATA" not in names:
            self.error("a tile-compressed image needs a COMPRESSED_DATA column")


class _TableData:
    """The checks of a binary table's rows: variable-length array descriptors inside the heap
    and within their TFORM maximum, logical values T, F or 0. Each problem is reported once
    per column, as fitsverify does."""

    def __init__(self, walk: _Walk, layout: Layout, data_start: int) -> None:
        self.walk = walk
        self.layout = layout
        self.data_start = data_start
        self.heap_size = layout.size - layout.heap_start
        self.reported: set[tuple[int, str]] = set()

    def once(self, column: int, what: str, message: str) -> None:
        if (column, what) not in self.reported:
            self.reported.add((column, what))
            self.walk.error(message + " (reported once per column)")

    def run(self) -> None:
        layout = self.layout
        wanted = [c for c in layout.columns if c[1].vla or c[1].code == "L"]
        if not wanted or not layout.row_bytes:
            return
        rows_per_chunk = max(1, CHUNK // layout.row_bytes)
        end = self.data_start + layout.row_bytes * layout.rows
        first_row = 0
        for position in range(self.data_start, end, rows_per_chunk * layout.row_bytes):
            raw = self.walk.read(position, min(rows_per_chunk * layout.row_bytes, end - position))
            block = np.frombuffer(raw, np.uint8).reshape(-1, layout.row_bytes)
            for number, form, offset in wanted:
                cells = block[:, offset:offset + form.nbytes]
                if form.vla:
                    self.check_descriptors(number, form, cells, first_row)
                elif form.code == "L":
                    self.check_logicals(number, cells.ravel(), f"row {first_row + 1} on")
            first_row += len(block)

    def check_descriptors(self, number: int, form: TForm, cells: np.ndarray, first_row: int
                          ) -> None:
        if not cells.shape[1]:
            return
        pairs = np.ascontiguousarray(cells).view(">i4" if form.vla == "P" else ">i8")
        counts = pairs[:, 0].astype(np.int64)
        offsets = pairs[:, 1].astype(np.int64)
        if form.vla == "P":          # 32-bit descriptors hold unsigned values
            counts &= 0xFFFFFFFF
            offsets &= 0xFFFFFFFF
        element = TForm(form.code, 1).nbytes
        nbytes = (counts + 7) // 8 if form.code == "X" else counts * element
        bad = np.flatnonzero((counts < 0) | (offsets < 0) | (offsets + nbytes > self.heap_size))
        if len(bad):
            row = int(bad[0])
            self.once(number, "heap", f"column {number}, row {first_row + row + 1}: the "
                      f"variable-length array of {int(counts[row])} elements at heap offset "
                      f"{int(offsets[row])} is not within the {self.heap_size}-byte heap")
        if form.maxlen:
            long = np.flatnonzero(counts > form.maxlen)
            if len(long):
                row = int(long[0])
                self.once(number, "max", f"column {number}, row {first_row + row + 1}: a "
                          f"variable-length array of {int(counts[row])} elements, more than the "
                          f"maximum {form.maxlen} of its TFORM")
        if form.code == "L":
            heap = self.data_start + self.layout.heap_start
            for row in np.flatnonzero((counts > 0) & (offsets + nbytes <= self.heap_size)):
                if (number, "logical") in self.reported:
                    break
                values = np.frombuffer(self.walk.read(heap + int(offsets[row]),
                                                      int(nbytes[row])), np.uint8)
                self.check_logicals(number, values, f"row {first_row + row + 1}")

    def check_logicals(self, number: int, values: np.ndarray, where: str) -> None:
        if not np.isin(values, np.frombuffer(b"TF\0", np.uint8)).all():
            self.once(number, "logical", f"column {number}, {where}: a logical value that is "
                      "not 'T', 'F' or 0")
