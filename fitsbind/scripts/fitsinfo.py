"""``fitsinfo``: print the summary of the HDUs of one or more FITS files.

As astropy's script: the table :func:`fitsbind.info` prints (the one implementation behind
``HDUList.info`` and ``fitsbind info``) for each file, a blank line between files. A file that
cannot be read is an ``ERROR:`` line on stderr and the others are still listed; the exit status
is 0 either way, as astropy's.

Usage::

    python -m fitsbind.scripts.fitsinfo FILE [FILE ...]
"""

from __future__ import annotations

import sys

import fitsbind
from fitsbind.scripts._common import new_parser, script_logger

DESCRIPTION = """
List the HDUs of each FITS file given: number, name, version, type, number of
header cards, dimensions and data format.

fitsbind's counterpart of astropy's fitsinfo script.
""".strip()

log = script_logger("fitsinfo")


def fitsinfo(filename: str) -> bool:
    """Print the HDU summary of ``filename``; log why not if it cannot be read. Returns
    whether it was printed."""
    try:
        fitsbind.info(filename, output=sys.stdout)
    except Exception as exc:  # any unreadable file is one message, and the next file follows
        log.error(str(exc))
        return False
    return True


def main(args: list[str] | None = None) -> int:
    """Entry point: summarise each file named in ``args`` (default: the command line)."""
    parser = new_parser("fitsinfo", DESCRIPTION)
    parser.add_argument("filename", nargs="+",
                        help="the FITS files to list (the shell expands wildcards)")
    options = parser.parse_args(args)
    for index, filename in enumerate(options.filename):
        if index:
            print()
        fitsinfo(filename)
    return 0


if __name__ == "__main__":
    sys.exit(main())
