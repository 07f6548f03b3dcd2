"""``fitsbind info``: the HDUs of FITS files, as astropy's ``fitsinfo`` lists them."""

from __future__ import annotations

import argparse
import sys
import warnings

import fitsbind
from fitsbind.column import column_numbers
from fitsbind.hdu.hdulist import format_info

NAME = "info"
HELP = ("List the HDUs of FITS files (also gzip, bzip2, zip): number, name, version, type, "
        "cards, dimensions, format. Exit status 1 when a file cannot be read or reads with "
        "warnings (a truncated file, say).")


def summary(path: str) -> list[tuple]:
    """The rows ``fitsbind info`` shows for the file at ``path``: those of the drop-in's
    ``HDUList.info(output=False)``, except that a tile-compressed table (ZTABLE = T, which
    astropy shows as its table of compressed tiles) shows the table it holds: ZNAXIS2 rows,
    its ZFORMn list, marked ``tile-compressed``."""
    with fitsbind.open(path) as hdul:
        rows = hdul.info(output=False)
        for i, row in enumerate(rows):
            header = hdul[i].header
            if row[3] == "BinTableHDU" and header.get("ZTABLE") is True:
                ncols = header.get("TFIELDS", 0)
                forms = ", ".join(str(header.get(f"ZFORM{k}", "?")) for k in column_numbers(header))
                rows[i] = (*row[:5], f"{header.get('ZNAXIS2', '?')}R x {ncols}C",
                           f"[{forms}] tile-compressed", *row[7:])
    return rows


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE")


def run(options: argparse.Namespace) -> int:
    status = 0
    for i, path in enumerate(options.files):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                lines = format_info(path, summary(path))
        except Exception as exc:   # any file that cannot be read is a line here, not a traceback
            print(f"fitsbind: error: {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            status = 1
            continue
        print(("\n" if i else "") + "\n".join(line.rstrip() for line in lines))
        for warning in caught:
            print(f"fitsbind: warning: {path}: {warning.message}", file=sys.stderr)
            status = 1
    return status
