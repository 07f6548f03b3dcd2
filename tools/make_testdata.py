"""Write the small example FITS files of ``fitsbind/testdata`` with fitsbind's direct tier.

    python tools/make_testdata.py            # (re)write the files in fitsbind/testdata
    python tools/make_testdata.py --check    # write them to a temporary directory, compare
                                             # byte for byte with the committed ones, fitsverify

The files stand in for the astropy test files of the same names that astropy's documentation
uses (``astropy/io/fits/tests/data``): the same HDU layout, column names, formats and values,
so the documentation's examples print the same results with either library. Their headers are
the ones fitsbind (CFITSIO) writes, plus our own descriptive cards. The output depends on
nothing but this script and fitsbind, so re-running it reproduces the files byte for byte (with
the same CFITSIO: the committed files come from the vendored release, and another CFITSIO may
word its standard comments differently).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

import fitsbind
from fitsbind import ColumnSpec

TESTDATA = Path(__file__).resolve().parent.parent / "fitsbind" / "testdata"


def write_btable(path: Path) -> None:
    """btable.fits: empty primary HDU, then a 3-row binary table of bright stars with the
    columns order (I), name (20A), mag (E), Sp (10A)."""
    data = {
        "order": np.array([1, 2, 3], dtype=np.int16),
        "name": np.array([b"Sirius", b"Canopus", b"Rigil Kent"], dtype="S20"),
        "mag": np.array([-1.45, -0.73, -0.1], dtype=np.float32),
        "Sp": np.array([b"A1V", b"F0Ib", b"G2V"], dtype="S10"),
    }
    specs = [ColumnSpec("order", "I"), ColumnSpec("name", "20A"), ColumnSpec("mag", "E"),
             ColumnSpec("Sp", "10A")]
    with fitsbind.FITS(path, "w+") as f:
        f.write_table(data, columns=specs)


def write_table(path: Path) -> None:
    """table.fits: empty primary HDU, then a 3-row binary table of galaxies with the columns
    target (20A) and V_mag (E)."""
    data = {
        "target": np.array([b"NGC1001", b"NGC1002", b"NGC1003"], dtype="S20"),
        "V_mag": np.array([11.1, 12.3, 15.2], dtype=np.float32),
    }
    with fitsbind.FITS(path, "w+") as f:
        f.write_table(data, columns=[ColumnSpec("target", "20A"), ColumnSpec("V_mag", "E")])


# test0.fits: a header-only primary HDU describing a (made-up) four-chip camera exposure, then
# one 40x40 int16 SCI image per chip, EXTVER 1 to 4.
_CHIP_SHAPE = (40, 40)
_PRIMARY_CARDS: list[tuple[str, Any, str]] = [
    ("NEXTEND", 4, "number of standard extensions"),
    ("ORIGIN", "fitsbind tools/make_testdata.py", "FITS file originator"),
    ("FILENAME", "test0.fits", "name of file"),
    ("TELESCOP", "SIM-2.4M", "telescope used to acquire the data"),
    ("INSTRUME", "QUADCAM", "instrument used to acquire the data"),
    ("FILETYPE", "SCI", "type of data in the extensions"),
    ("OBJECT", "NGC 4361", "name of the target"),
    ("DATE-OBS", "1994-05-19", "UT date of start of observation"),
    ("TIME-OBS", "15:41:39", "UT time of start of observation"),
    ("EXPTIME", 400.0, "[s] exposure duration"),
    ("FILTNAM1", "F673N", "first filter name"),
    ("FILTER1", 33, "first filter number"),
    ("ATODGAIN", 7.0, "[e-/DN] analog to digital gain"),
    ("SATURATE", 4095, "[DN] value at which saturation occurs"),
    ("RA_TARG", 215.5913, "[deg] right ascension of the target"),
    ("DEC_TARG", -12.7283, "[deg] declination of the target"),
    ("EQUINOX", 2000.0, "equinox of the celestial coordinates"),
]
# Per chip: background level (DN) and where a star sits on it (row, column).
_CHIPS = [(349, (12, 27)), (309, (30, 9)), (350, (21, 20)), (322, (5, 33))]


def chip_pixels(chip: int) -> np.ndarray:
    """The int16 pixels of chip ``chip`` (1 to 4): a background with a shallow gradient, a
    fixed pseudo-random ripple of a few DN, and one star. Integer arithmetic only, so the
    values are the same on every machine and numpy version."""
    level, (ys, xs) = _CHIPS[chip - 1]
    y, x = np.indices(_CHIP_SHAPE, dtype=np.int64)
    gradient = (y + 2 * x) // 16
    # multiplicative hashing of the pixel index: deterministic, noise-like, within 0..6
    index = (y * _CHIP_SHAPE[1] + x + 1000 * chip).astype(np.uint64)
    ripple = ((index * np.uint64(2654435761)) >> np.uint64(16)) % np.uint64(7)
    star = 40000 // (16 + 4 * ((y - ys) ** 2 + (x - xs) ** 2))
    return (level + gradient + ripple.astype(np.int64) - 3 + star).astype(np.int16)


def _chip_cards(chip: int, pixels: np.ndarray) -> list[tuple[str, Any, str]]:
    """Header cards of SCI extension ``chip``: a simple tangent-plane WCS per chip, the chip
    number and pixel statistics."""
    # the chips tile a 2x2 mosaic, rotated by 90 degrees from one to the next
    angle = np.deg2rad(90.0 * (chip - 1) + 23.0)
    scale = 5.5e-5  # deg per pixel
    cd = scale * np.array([[-np.cos(angle), np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    ra0, dec0 = 215.5913, -12.7283
    offset = 0.003 * np.array([(chip - 1) % 2 - 0.5, (chip - 1) // 2 - 0.5])
    return [
        ("INHERIT", True, "inherit the primary header"),
        ("BUNIT", "DN", "unit of the pixel values"),
        ("DETECTOR", chip, "chip of the mosaic (1-4)"),
        ("CTYPE1", "RA---TAN", "first coordinate type"),
        ("CTYPE2", "DEC--TAN", "second coordinate type"),
        ("CRPIX1", 20.5, "x-coordinate of reference pixel"),
        ("CRPIX2", 20.5, "y-coordinate of reference pixel"),
        ("CRVAL1", round(ra0 + float(offset[0]), 6), "[deg] RA of reference pixel"),
        ("CRVAL2", round(dec0 + float(offset[1]), 6), "[deg] Dec of reference pixel"),
        ("CD1_1", float(np.round(cd[0, 0], 10)), "partial of RA w.r.t. x"),
        ("CD1_2", float(np.round(cd[0, 1], 10)), "partial of RA w.r.t. y"),
        ("CD2_1", float(np.round(cd[1, 0], 10)), "partial of Dec w.r.t. x"),
        ("CD2_2", float(np.round(cd[1, 1], 10)), "partial of Dec w.r.t. y"),
        ("DATAMIN", int(pixels.min()), "[DN] minimum pixel value"),
        ("DATAMAX", int(pixels.max()), "[DN] maximum pixel value"),
        ("MEDIAN", float(np.median(pixels)), "[DN] median pixel value"),
    ]


def write_test0(path: Path) -> None:
    """test0.fits: header-only primary HDU, then four 40x40 int16 ImageHDUs named SCI with
    EXTVER 1 to 4."""
    with fitsbind.FITS(path, "w+") as f:
        f.create_image_hdu(np.int16, (), header=_PRIMARY_CARDS)
        for chip in range(1, 5):
            pixels = chip_pixels(chip)
            f.write_image(pixels, extname="SCI", extver=chip, header=_chip_cards(chip, pixels))


def write_compressed_image(path: Path) -> None:
    """compressed_image.fits: empty primary HDU, then a 10x10 int16 image 0..99 (row by row),
    Rice-compressed one row per tile."""
    with fitsbind.FITS(path, "w+") as f:
        f.create_image_hdu(np.int16, ())
        f.write_image(np.arange(100, dtype=np.int16).reshape(10, 10),
                      compress=fitsbind.Rice1(tile_shape=(1, 10)))


WRITERS: dict[str, Callable[[Path], None]] = {
    "btable.fits": write_btable,
    "compressed_image.fits": write_compressed_image,
    "table.fits": write_table,
    "test0.fits": write_test0,
}


def write_all(outdir: Path) -> list[Path]:
    """Write every test file into ``outdir`` (created if needed); returns their paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, writer in WRITERS.items():
        path = outdir / name
        writer(path)
        paths.append(path)
    return paths


def fitsverify(path: Path) -> str | None:
    """None if NASA's fitsverify finds no error and no warning in ``path``, else its report."""
    run = subprocess.run(["fitsverify", "-q", str(path)], capture_output=True, text=True)
    report = run.stdout.strip()
    # a clean file reads "verification OK: <path>"; warnings or errors are counted after it
    if run.returncode != 0 or not report.startswith("verification OK") or "warning" in report:
        return report or run.stderr.strip()
    return None


def check(outdir: Path) -> int:
    """Write the files afresh and compare them with those in ``outdir``; run fitsverify on
    each when it is on PATH. Returns the number of problems found."""
    problems = 0
    with tempfile.TemporaryDirectory() as tmp:
        for fresh in write_all(Path(tmp)):
            committed = outdir / fresh.name
            if not committed.exists():
                print(f"{committed}: missing")
                problems += 1
            elif not filecmp.cmp(fresh, committed, shallow=False):
                print(f"{committed}: differs from what this script writes now")
                problems += 1
            if shutil.which("fitsverify") is None:
                continue
            report = fitsverify(fresh)
            if report is not None:
                print(f"{fresh.name}: fitsverify: {report}")
                problems += 1
    if shutil.which("fitsverify") is None:
        print("fitsverify is not on PATH: files compared but not verified")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--outdir", type=Path, default=TESTDATA, help=f"where the files go (default {TESTDATA})")
    p.add_argument("--check", action="store_true",
                   help="do not write into OUTDIR: check that its files are what this script writes")
    args = p.parse_args(argv)
    if args.check:
        problems = check(args.outdir)
        print("ok" if not problems else f"{problems} problem(s)")
        return 1 if problems else 0
    for path in write_all(args.outdir):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
