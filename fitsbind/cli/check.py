"""``fitsbind check``: verify, add or refresh CHECKSUM/DATASUM, as astropy's ``fitscheck``
(same options); the exit status counts the problems found (at most 255)."""

from __future__ import annotations

import argparse

from fitsbind.cli.progress import iterate
from fitsbind.scripts import fitscheck

NAME = "check"
HELP = ("Verify the CHECKSUM and DATASUM cards of FITS files; --write/--force add or refresh "
        "them, --compliance also checks the standard; exit status: the number of problems.")


def configure(parser: argparse.ArgumentParser) -> None:
    fitscheck.add_arguments(parser)


def run(options: argparse.Namespace) -> int:
    files = iterate(options.fits_files, "checking")
    return min(fitscheck.check_files(files, fitscheck.as_options(options)), 255)
