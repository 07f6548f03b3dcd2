"""Test-file generator: writes FITS files with fitsbind itself, so tests never download data.

``python tests/fitsgen.py`` regenerates the example file shipped in ``examples/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fitsbind import _fitsfile

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "example.fits"

# (keyword, value, comment) written to the example's primary header: one of every value kind
# that passes fitsverify without warnings (an undefined value draws a warning, so it is left out).
PRIMARY_KEYS = [
    ("OBSERVER", "E. Hubble", "who took the data"),
    ("TELESCOP", "Hooker 100-inch", ""),
    ("EXPTIME", 1200.5, "[s] exposure time"),
    ("AIRMASS", 1.0000000000000002, "needs all 17 digits"),
    ("TINY", 1.5e-300, ""),
    ("NCOMBINE", 7, "frames combined"),
    ("BIGINT", 2**62, ""),
    ("DONE", True, "reduction finished"),
    ("PHASE", complex(0.5, -1.25), "complex value"),
    ("QUOTED", "it's got 'quotes'", ""),
    ("NOTES", "a long note that does not fit on one card, " * 3, "CONTINUE cards"),
    ("ESO DET CHIP NAME", "CCD-42", "HIERARCH keyword"),
]


def write_example(path: str | Path, overwrite: bool = True) -> Path:
    """Write the example file: a primary header, two images and two tables, with checksums.

    HDUs: PRIMARY (no data, keys of every kind), SCI (int16, 48x64 numpy shape), DQ (uint16
    through BZERO, 48x64), CATALOG (binary table, 5 rows: J, E, D, 12A, 3I, L), NOTES (ASCII
    table, 0 rows). Pixel and row values are zero: pixel I/O is not used here.
    """
    path = Path(path)
    with _fitsfile.create_file(path, overwrite=overwrite) as f:
        f.create_image_hdu(16, ())
        for key, value, comment in PRIMARY_KEYS:
            f.write_key(key, value, comment)
        f.write_comment("Written by fitsbind's test-file generator (tests/fitsgen.py).")
        f.write_history("Created for the README's first command.")
        f.write_checksum()

        f.create_image_hdu(16, (48, 64))
        f.write_key("EXTNAME", "SCI", "science image")
        f.write_key("BUNIT", "adu", "")
        f.write_checksum()

        f.create_image_hdu(20, (48, 64))  # CFITSIO USHORT_IMG: BITPIX 16, BZERO 32768
        f.write_key("EXTNAME", "DQ", "data quality flags")
        f.write_checksum()

        f.create_table_hdu(
            ["ID", "FLUX", "RA", "NAME", "XYZ", "GOOD"],
            ["J", "E", "D", "12A", "3I", "L"],
            ["", "Jy", "deg", "", "pix", ""],
            extname="CATALOG",
            nrows=5,
        )
        f.write_checksum()

        f.create_table_hdu(["OBJECT", "MAG"], ["A16", "F8.3"], ["", "mag"], extname="NOTES", ascii=True)
        f.write_checksum()
    return path


def header_cards(path: str | Path) -> list[list[str]]:
    """Every HDU's cards, CHECKSUM and DATASUM dropped (their comments carry the time written)."""
    with _fitsfile.open_file(path) as f:
        result = []
        for i in range(f.num_hdus()):
            f.move_to(i)
            text = f.header_string()
            cards = [text[j : j + 80] for j in range(0, len(text), 80)]
            result.append([c for c in cards if not c.startswith(("CHECKSUM", "DATASUM"))])
        return result


def header_starts(data: bytes) -> list[int]:
    """Byte offsets of the headers in FITS file bytes ``data`` (found by their first card at a
    2880-byte block boundary, so corrupt sizes do not matter)."""
    return [pos for pos in range(0, len(data), 2880)
            if data[pos:pos + 9] in (b"SIMPLE  =", b"XTENSION=")]


def set_card(data: bytes, hdu: int, key: str, value: str | None) -> bytes:
    """``data`` with the card ``key`` of HDU ``hdu`` given the value text ``value`` (as it
    stands in the card, e.g. ``"0"`` or ``"'RICE_1'"``; None leaves the value field blank)."""
    start = header_starts(data)[hdu]
    name = key.ljust(8).encode()
    for pos in range(start, len(data), 80):
        if data[pos:pos + 8] == name:
            card = (key.ljust(8) + "= " + ("" if value is None else value.rjust(20))).ljust(80)
            return data[:pos] + card.encode() + data[pos + 80:]
        if data[pos:pos + 8] == b"END     ":
            break
    raise KeyError(f"HDU {hdu} has no {key} card")


if __name__ == "__main__":
    print(write_example(sys.argv[1] if len(sys.argv) > 1 else EXAMPLE))
