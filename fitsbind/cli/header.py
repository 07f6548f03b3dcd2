"""``fitsbind header``: print headers, as astropy's ``fitsheader`` (same options)."""

from __future__ import annotations

import argparse

from fitsbind.scripts import fitsheader

NAME = "header"
HELP = ("Print the headers of FITS files: all HDUs or some (-e), some keywords (-k, wildcards), "
        "as a table (-t) or one row per file (-f, sorted with -s).")


def configure(parser: argparse.ArgumentParser) -> None:
    fitsheader.add_arguments(parser)


def run(options: argparse.Namespace) -> int:
    return fitsheader.run(options)
