"""Structure-aware mutations: one mutant from ``(seed, index)``, deterministically.

A mutant is a corpus file with one to three mutations applied in turn, each aimed by
:mod:`fitsfuzz.layout` at the structure the readers rely on: the value of a structural card,
a missing or duplicated card, a missing END, bit flips and byte runs in a header or data unit,
truncation at a block, card or random boundary, a variable-length-array descriptor pointing
anywhere, corrupted tile bytes; sometimes the result is gzip-wrapped. Every random choice
comes from one ``random.Random`` seeded with the string ``"{seed}:{index}"`` (string seeds are
hashed with SHA-512, so the stream does not depend on PYTHONHASHSEED or the platform).
"""

from __future__ import annotations

import gzip
import random
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fitsfuzz.corpus import Seed
from fitsfuzz.layout import BLOCK, CARD, HDUAt, parse_hdus

#: values every numeric card is tried with; None is a card without a value indicator, "" a
#: card with "= " and nothing after it
INTS = ["0", "-1", "1", "2", "2147483647", "2147483648", "-2147483648", "4294967296",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "1000000000000000000", "99999999999999999999999"]
ODD = ["", None, "'STRING  '", "1.5", "-0.0", "1E300", "1D5", "NaN", "T", "F", "garbage",
       "'", "''", "(1, 2)", "#$%^&*"]
STRINGS = ["''", "'        '", "'" + "X" * 68 + "'", "'it''s'", "'\x7f\x01bad'", "'unterminated",
           "0", "T"]

_N = r"(\d+)"
#: structural keywords (a regex each, n for the numbered ones) and their extra values
FAMILIES: list[tuple[str, list[str]]] = [
    ("SIMPLE", ["T", "F", "'T'", "1"]),
    ("BITPIX", ["8", "16", "32", "64", "-32", "-64", "7", "24", "-16", "-8", "128"]),
    ("NAXIS", ["3", "4", "9", "999", "1000"]),
    ("NAXIS" + _N, ["3", "100", "65536", "1048576", "46341"]),
    ("PCOUNT", ["8", "100", "1048576", "2880"]),
    ("GCOUNT", ["3", "1000000"]),
    ("EXTEND", ["T", "F"]),
    ("GROUPS", ["T", "F"]),
    ("XTENSION", ["'IMAGE   '", "'BINTABLE'", "'TABLE   '", "'A3DTABLE'", "'FOREIGN '",
                  "'image'", "'BINTABLE  extra'"]),
    ("TFIELDS", ["3", "999", "1000", "100000"]),
    ("TFORM" + _N, ["'J'", "'0J'", "'1PJ(5)'", "'PJ()'", "'QD(10)'", "'1PB(2147483647)'",
                    "'2147483647E'", "'999999999999A'", "'Z'", "'-1J'", "'1QB'", "'8X'",
                    "'A'", "'10A3'", "'I12'", "'F12.4'", "'E1.0'", "'D25.17'", "'0P'",
                    "'3PE(2)'", "'C'", "'M'", "'PQ'", "''"]),
    ("TTYPE" + _N, ["'X'", "''", "'A B'", "'ZSCALE'", "'COMPRESSED_DATA'"]),
    ("TBCOL" + _N, ["2", "70", "100000"]),
    ("TDIM" + _N, ["'(2,3)'", "'(0)'", "'(1000000,1000000)'", "'(-1)'", "'('", "'(2,3'",
                   "'()'", "'(a,b)'", "'(1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)'",
                   "'(4294967297)'"]),
    ("THEAP", ["8", "2880", "1048576"]),
    ("TSCAL" + _N, ["1E-300", "1E300", "NaN", "'1.0'"]),
    ("TZERO" + _N, ["32768", "2147483648", "9223372036854775808", "-128", "0.5", "1E300"]),
    ("TNULL" + _N, ["'*'", "255", "-32768", "1.5"]),
    ("BSCALE", ["1E-300", "1E300", "NaN", "'1.0'", "0.0"]),
    ("BZERO", ["32768", "2147483648", "9223372036854775808", "-128", "0.5", "1E300"]),
    ("BLANK", ["-32768", "255", "1.5"]),
    ("ZIMAGE", ["T", "F"]),
    ("ZTABLE", ["T", "F"]),
    ("ZBITPIX", ["8", "16", "32", "64", "-32", "-64", "7"]),
    ("ZNAXIS", ["3", "999"]),
    ("ZNAXIS" + _N, ["3", "65536", "1048576"]),
    ("ZTILE" + _N, ["3", "65536", "1048576"]),
    ("ZCMPTYPE", ["'RICE_1  '", "'GZIP_1  '", "'GZIP_2  '", "'PLIO_1  '", "'HCOMPRESS_1'",
                  "'NOCOMPRESS'", "'RICE_ONE'", "'BOGUS   '", "'rice_1'"]),
    ("ZNAME" + _N, ["'BLOCKSIZE'", "'BYTEPIX '", "'SCALE   '", "'SMOOTH  '", "'NOISEBIT'",
                    "'BOGUS   '"]),
    ("ZVAL" + _N, ["3", "8", "16", "32", "64", "4", "1E30", "-5"]),
    ("ZQUANTIZ", ["'NO_DITHER'", "'SUBTRACTIVE_DITHER_1'", "'SUBTRACTIVE_DITHER_2'",
                  "'NONE    '", "'BOGUS   '"]),
    ("ZDITHER0", ["10000", "10001"]),
    ("ZSCALE", ["1E-300", "1E300", "NaN"]),
    ("ZZERO", ["1E300", "NaN"]),
    ("ZTILELEN", ["3", "65536"]),
    ("ZFORM" + _N, ["'1PB'", "'1QB'", "'J'", "'1PJ(5)'"]),
    ("ZCTYP" + _N, ["'RICE_1'", "'GZIP_2'", "'BOGUS'"]),
    ("CHECKSUM", ["'0000000000000000'", "'hcHjjc9ghcEghc9g'", "'short'", "'" + "\x7f" * 16 + "'"]),
    ("DATASUM", ["'0'", "'4294967295'", "'4294967296'", "'-1'", "'abc'"]),
    ("EXTNAME", ["'SCI'", "'PRIMARY'", "'COMPRESSED_IMAGE'"]),
    ("EXTVER", ["2", "0"]),
]
_COMPILED = [(re.compile(f"^{pattern}$"), extra) for pattern, extra in FAMILIES]
_STRINGY = {"XTENSION", "EXTNAME", "ZCMPTYPE", "ZQUANTIZ", "CHECKSUM", "DATASUM", "TFORM",
            "TTYPE", "TDIM", "ZNAME", "ZFORM", "ZCTYP"}


@dataclass(frozen=True)
class Mutant:
    """A mutated file: ``data`` (the bytes to write), ``name`` (a file name ending in .fits
    or .fits.gz), the corpus file it came from, what was done (``steps``) and ``size``, the
    bytes of FITS it holds (before any gzip wrapping)."""

    data: bytes
    name: str
    base: str
    steps: tuple[str, ...]
    size: int

    @property
    def description(self) -> str:
        return f"{self.base}: " + "; ".join(self.steps)


def values_for(keyword: str) -> list[str | None]:
    """The candidate value texts of ``keyword`` (structural or not)."""
    for pattern, extra in _COMPILED:
        if pattern.match(keyword):
            family = re.sub(r"\d+$", "", keyword)
            if family in _STRINGY or keyword in _STRINGY:
                return [*extra, *STRINGS, *ODD, "0", "-1"]
            return [*extra, *INTS, *ODD]
    return [*INTS, *ODD, *STRINGS]


def is_structural(keyword: str) -> bool:
    return any(p.match(keyword) for p, _ in _COMPILED)


def card(keyword: str, text: str | None, comment: str = "") -> bytes:
    """An 80-byte card: ``keyword = text / comment``; ``text`` None gives a card without
    the value indicator, "" one with "= " and an empty value."""
    if text is None:
        line = f"{keyword:<8}  {comment}"
    else:
        line = f"{keyword:<8}= {text:>20}" + (f" / {comment}" if comment else "")
    return line.encode("latin-1", "replace")[:CARD].ljust(CARD)


# -- header surgery -----------------------------------------------------------------------------

def _replace_header(data: bytes, hdu: HDUAt, cards: list[bytes], with_end: bool) -> bytes:
    """``data`` with ``hdu``'s header replaced by ``cards`` (+ END), padded with blanks to
    whole blocks; at least as many blocks as before when END is dropped, so the reader runs
    on into the data as it would in a damaged file."""
    text = b"".join(cards) + (card("END", None) if with_end else b"")
    old = hdu.data_start - hdu.header_start
    size = max(-(-len(text) // BLOCK) * BLOCK, 0 if with_end else old)
    return data[:hdu.header_start] + text.ljust(size, b" ") + data[hdu.data_start:]


def _raw_cards(data: bytes, hdu: HDUAt) -> list[bytes]:
    return [data[c.offset:c.offset + CARD] for c in hdu.cards]


def _numbered(hdu: HDUAt, rng: random.Random) -> str:
    """A structural keyword to add to ``hdu``: a family, numbered near the existing ones."""
    pattern, _ = rng.choice(FAMILIES)
    if _N not in pattern:
        return pattern
    stem = pattern.replace(_N, "")
    used = [int(c.keyword[len(stem):]) for c in hdu.cards
            if c.keyword.startswith(stem) and c.keyword[len(stem):].isdigit()]
    return f"{stem}{rng.choice([*used, max(used, default=0) + 1, 999, 0])}"


def _set_card(rng: random.Random, data: bytes, hdus: list[HDUAt]) -> tuple[bytes, str]:
    hdu = rng.choice([h for h in hdus if h.end is not None] or hdus)
    structural = [c for c in hdu.cards if is_structural(c.keyword)]
    if structural and rng.random() < 0.8:
        target = rng.choice(structural)
        text = _near(rng, target.text) if rng.random() < 0.2 else rng.choice(values_for(target.keyword))
        new = card(target.keyword, text)
        return (data[:target.offset] + new + data[target.offset + CARD:],
                f"HDU {hdu.index}: {target.keyword} = {text!r}")
    keyword = _numbered(hdu, rng)
    text = rng.choice(values_for(keyword))
    cards = _raw_cards(data, hdu)
    at = rng.randrange(len(cards) + 1)
    cards.insert(at, card(keyword, text))
    return (_replace_header(data, hdu, cards, hdu.end is not None),
            f"HDU {hdu.index}: add {keyword} = {text!r} at card {at}")


def _near(rng: random.Random, text: str | None) -> str:
    """An integer near the card's own value (off by one, doubled, negated), else 0."""
    try:
        value = int(str(text).split("/", 1)[0].strip())
    except ValueError:
        return "0"
    return str(rng.choice([value - 1, value + 1, value * 2, -value, value * 1000 + 7]))


def _set_two(rng: random.Random, data: bytes, hdus: list[HDUAt]) -> tuple[bytes, str]:
    data, first = _set_card(rng, data, hdus)
    hdus = parse_hdus(data) or hdus
    data, second = _set_card(rng, data, hdus)
    return data, f"{first} and {second}"


def _remove_card(rng: random.Random, data: bytes, hdus: list[HDUAt]) -> tuple[bytes, str]:
    hdu = rng.choice([h for h in hdus if h.end is not None] or hdus)
    cards = _raw_cards(data, hdu)
    if hdu.end is not None and (not cards or rng.random() < 0.25):
        return _replace_header(data, hdu, cards, False), f"HDU {hdu.index}: remove END"
    structural = [i for i, c in enumerate(hdu.cards) if is_structural(c.keyword)]
    at = rng.choice(structural or list(range(len(cards))))
    keyword = hdu.cards[at].keyword
    del cards[at]
    return (_replace_header(data, hdu, cards, hdu.end is not None),
            f"HDU {hdu.index}: remove card {at} ({keyword})")


def _duplicate_card(rng: random.Random, data: bytes, hdus: list[HDUAt]) -> tuple[bytes, str]:
    hdu = rng.choice([h for h in hdus if h.cards and h.end is not None] or hdus)
    if not hdu.cards:
        return _set_card(rng, data, hdus)
    cards = _raw_cards(data, hdu)
    structural = [i for i, c in enumerate(hdu.cards) if is_structural(c.keyword)]
    source = rng.choice(structural or list(range(len(cards))))
    keyword = hdu.cards[source].keyword
    copy = cards[source]
    how = "copy"
    if rng.random() < 0.5:
        text = rng.choice(values_for(keyword))
        copy = card(keyword, text)
        how = f"copy with value {text!r}"
    at = rng.randrange(len(cards) + 1)
    cards.insert(at, copy)
    return (_replace_header(data, hdu, cards, hdu.end is not None),
            f"HDU {hdu.index}: {how} of card {source} ({keyword}) at card {at}")


# -- bytes --------------------------------------------------------------------------------------

def _flip(rng: random.Random, data: bytes, start: int, end: int, where: str) -> tuple[bytes, str]:
    if end <= start:
        return data, f"{where}: empty, nothing flipped"
    out = bytearray(data)
    flips = []
    for _ in range(rng.choice([1, 1, 2, 4, 16])):
        at = rng.randrange(start, end)
        bit = rng.randrange(8)
        out[at] ^= 1 << bit
        flips.append(f"{at}.{bit}")
    return bytes(out), f"{where}: flip bits {', '.join(flips)}"


_RUNS = [b"\x00", b"\xff", b" ", b"\x7f", b"9", b"'", b"="]


def _run(rng: random.Random, data: bytes, start: int, end: int, where: str) -> tuple[bytes, str]:
    if end <= start:
        return data, f"{where}: empty, no run written"
    at = rng.randrange(start, end)
    length = min(rng.choice([1, 4, 8, 80, 512, 2880]), end - at)
    if rng.random() < 0.3:
        fill = rng.randbytes(length)
        what = "random bytes"
    else:
        byte = rng.choice(_RUNS)
        fill = byte * length
        what = f"{byte!r}"
    return data[:at] + fill + data[at + length:], f"{where}: {length} x {what} at byte {at}"


def _header_bytes(rng: random.Random, data: bytes, hdus: list[HDUAt]) -> tuple[bytes, str]:
    hdu = rng.choice(hdus)
    action = rng.choice([_flip, _run])
    return action(rng, data, hdu.header_start, hdu.data_start, f"HDU {hdu.index} header")


def _data_bytes(rng: random.Random, data: bytes, hdus: list[HDUAt]) -> tuple[bytes, str]:
    with_data = [h for h in hdus if h.data_end > h.data_start] or hdus
    hdu = rng.choice(with_data)
    action = rng.choice([_flip, _run])
    return action(rng, data, hdu.data_start, hdu.data_end, f"HDU {hdu.index} data")


def _truncate(rng: random.Random, data: bytes, hdus: list[HDUAt]) -> tuple[bytes, str]:
    hdu = rng.choice(hdus)
    mode = rng.choice(["random", "block", "card", "mid-card", "data"])
    if mode == "random":
        at = rng.randrange(len(data)) if data else 0
    elif mode == "block":
        # block 0 (an empty file) at most once in a while: it tests one thing only
        blocks = len(data) // BLOCK
        at = rng.randrange(1 if blocks > 1 and rng.random() < 0.9 else 0, max(blocks, 1)) * BLOCK
    elif mode == "card":
        at = hdu.header_start + rng.randrange(max(len(hdu.cards), 1) + 1) * CARD
    elif mode == "mid-card":
        at = hdu.header_start + rng.randrange(max(len(hdu.cards), 1)) * CARD + rng.randrange(1, CARD)
    else:
        at = rng.randrange(hdu.data_start, max(hdu.data_end, hdu.data_start + 1))
    at = min(at, len(data))
    return data[:at], f"truncate ({mode}) at byte {at} of {len(data)}"


# -- heap and tiles -----------------------------------------------------------------------------

_COUNTS = [0, 1, 2**31 - 1, 2**31, 2**32 - 1, 2**63 - 1, -1, -(2**31), 10**9]


def _descriptor(rng: random.Random, data: bytes, hdus: list[HDUAt]) -> tuple[bytes, str]:
    tables = [h for h in hdus if h.descriptors]
    if not tables:
        return _data_bytes(rng, data, hdus)
    hdu = rng.choice(tables)
    d = rng.choice(hdu.descriptors)
    size, fmt = (8, ">ii") if d.kind == "P" else (16, ">qq")
    # an earlier mutation may have cut the file inside the rows, or moved them (a layout
    # parsed from damaged sizes can put a descriptor before the file's start)
    whole = [e for e in hdu.descriptors
             if e.kind == d.kind and 0 <= e.offset and e.offset + size <= len(data)]
    if d not in whole:
        return _data_bytes(rng, data, hdus)
    count, offset = struct.unpack(fmt, data[d.offset:d.offset + size])
    heap = (hdu.heap[1] - hdu.heap[0]) if hdu.heap else 0
    which = rng.choice(["count", "offset", "both", "overlap"])
    interesting = [*_COUNTS, heap, heap + 1, heap - 1, offset + 1]
    if which in ("count", "both"):
        count = rng.choice([*interesting, count * 1000 + 1])
    if which in ("offset", "both"):
        offset = rng.choice(interesting)
    if which == "overlap":
        other = rng.choice(whole)
        count, offset = struct.unpack(fmt, data[other.offset:other.offset + size])
        count += rng.choice([0, 1, 100])
    limit = 2**31 if d.kind == "P" else 2**63
    # two's complement into the field's width, so -1 and 2**32 - 1 are both expressible
    count = (count + limit) % (2 * limit) - limit
    offset = (offset + limit) % (2 * limit) - limit
    packed = struct.pack(fmt, count, offset)
    return (data[:d.offset] + packed + data[d.offset + size:],
            f"HDU {hdu.index} row {d.row} column {d.column}: {d.kind} descriptor "
            f"({which}) count={count} offset={offset}")


def _tile_bytes(rng: random.Random, data: bytes, hdus: list[HDUAt]) -> tuple[bytes, str]:
    heaps = [h for h in hdus if h.heap is not None and h.compressed] or \
            [h for h in hdus if h.heap is not None]
    if not heaps:
        return _data_bytes(rng, data, hdus)
    hdu = rng.choice(heaps)
    start, end = hdu.heap
    mode = rng.choice(["flip", "run", "zero-tile", "swap"])
    where = f"HDU {hdu.index} heap"
    if mode == "flip":
        return _flip(rng, data, start, end, where)
    if mode == "run":
        return _run(rng, data, start, end, where)
    length = min(rng.choice([16, 64, 256]), end - start)
    a = rng.randrange(start, max(end - length, start) + 1)
    if mode == "zero-tile":
        return data[:a] + bytes(length) + data[a + length:], f"{where}: {length} zero bytes at {a}"
    b = rng.randrange(start, max(end - length, start) + 1)
    out = bytearray(data)
    out[a:a + length], out[b:b + length] = data[b:b + length], data[a:a + length]
    return bytes(out), f"{where}: swap {length} bytes at {a} and {b}"


Mutation = Callable[[random.Random, bytes, list[HDUAt]], tuple[bytes, str]]

#: the mutations and their weights
MUTATIONS: list[tuple[Mutation, int]] = [
    (_set_card, 30), (_set_two, 10), (_remove_card, 8), (_duplicate_card, 6),
    (_header_bytes, 8), (_data_bytes, 8), (_truncate, 10), (_descriptor, 10), (_tile_bytes, 10),
]


def mutant(corpus: Sequence[Seed], seed: int, index: int) -> Mutant:
    """Mutant ``index`` of the run with ``seed`` over ``corpus`` (the same corpus, seed and
    index always give the same bytes)."""
    rng = random.Random(f"{seed}:{index}")
    base = corpus[rng.randrange(len(corpus))]
    data = base.data
    steps = []
    functions, weights = zip(*MUTATIONS)
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        hdus = parse_hdus(data)
        if not hdus:
            break
        mutation = rng.choices(functions, weights)[0]
        data, step = mutation(rng, data, hdus)
        steps.append(step)
    size = len(data)
    wrap = base.gz or rng.random() < 0.05
    if wrap:
        data = gzip.compress(data, compresslevel=1, mtime=0)
        if rng.random() < 0.2:
            # damage the gzip stream itself: its trailer (CRC, size) or its deflate body
            data, step = rng.choice([_truncate_bytes, _flip_bytes])(rng, data)
            steps.append(step)
    return Mutant(data, f"s{seed}-i{index}.fits" + (".gz" if wrap else ""), base.name, tuple(steps),
                  size)


def _truncate_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = rng.choice([len(data) - 4, len(data) - 8, rng.randrange(len(data))])
    return data[:at], f"gzip stream truncated at byte {at} of {len(data)}"


def _flip_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    return _flip(rng, data, 10, len(data), "gzip stream")
