"""FITS checksums computed in memory (the 32-bit ones' complement sum of the FITS checksum
convention), for HDUs that are not, or not yet, in a file. Files on disk are checksummed by
CFITSIO through the direct tier."""

from __future__ import annotations

import datetime

import numpy as np

BLOCK = 2880
_CHUNK_WORDS = 1 << 28       # words summed per uint64 partial sum: cannot overflow
_EXCLUDED = frozenset(range(0x3A, 0x41)) | frozenset(range(0x5B, 0x61))


def ones_complement_sum(data: bytes | bytearray | memoryview | np.ndarray, start: int = 0) -> int:
    """The 32-bit ones' complement sum of ``data`` (its bytes, zero-padded to a multiple of 4,
    read as big-endian uint32 words), added to ``start``."""
    raw = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
    tail = len(raw) % 4
    if tail:
        raw = np.concatenate([raw, np.zeros(4 - tail, np.uint8)])
    words = raw.view(">u4")
    total = start
    for i in range(0, len(words), _CHUNK_WORDS):
        total += int(words[i:i + _CHUNK_WORDS].sum(dtype=np.uint64))
    while total >> 32:
        total = (total & 0xFFFFFFFF) + (total >> 32)
    return total


def encode(value: int, complement: bool = True) -> str:
    """The 16-character ASCII encoding of a 32-bit sum used for CHECKSUM values.

    Each byte is split over four characters from '0' upwards, avoiding punctuation, then the
    string is rotated one place right, as the checksum convention specifies.
    """
    if complement:
        value = ~value & 0xFFFFFFFF
    chars = [0] * 16
    for i in range(4):
        byte = (value >> (24 - 8 * i)) & 0xFF
        quarter, remainder = divmod(byte, 4)
        group = [quarter + 0x30] * 4
        group[0] += remainder
        moved = True
        while moved:
            moved = False
            for j in (0, 2):
                if group[j] in _EXCLUDED or group[j + 1] in _EXCLUDED:
                    group[j] += 1
                    group[j + 1] -= 1
                    moved = True
        for j in range(4):
            chars[4 * j + i] = group[j]
    text = "".join(map(chr, chars))
    return text[-1] + text[:-1]


def timestamp() -> str:
    """The local time to the second, ISO 8601 ("2007-05-30T19:05:11"), as CHECKSUM/DATASUM
    comments give it."""
    return datetime.datetime.now().isoformat(timespec="seconds")


def timestamp_comment(what: str, when: str | None = None) -> str:
    """Comment of a CHECKSUM/DATASUM card: ``"<what> updated <when>"``, ``when`` by default
    the local time to the second (:func:`timestamp`), as astropy writes it."""
    return f"{what} updated {timestamp() if when is None else when}"


def padded_length(nbytes: int) -> int:
    """``nbytes`` rounded up to whole 2880-byte FITS blocks."""
    return -(-nbytes // BLOCK) * BLOCK
