"""``fitsbind diff``: compare two FITS files or directories, as astropy's ``fitsdiff`` (same
options and exit statuses: 0 identical, 1 different, 2 usage error)."""

from __future__ import annotations

import argparse

from fitsbind.cli.progress import iterate
from fitsbind.scripts import fitsdiff

NAME = "diff"
HELP = ("Compare two FITS files (or the same-named files of two directories): headers, "
        "keywords, data, with tolerances; exit status 0 when identical, 1 when not.")


def configure(parser: argparse.ArgumentParser) -> None:
    fitsdiff.add_arguments(parser)
    parser.set_defaults(usage_error=parser.error)


def run(options: argparse.Namespace) -> int:
    checked = fitsdiff.checked_options(options, options.usage_error)
    return fitsdiff.run(checked, lambda pairs: iterate(pairs, "comparing", quiet=checked.quiet))
