"""The ``fitsbind`` command."""

from __future__ import annotations

import argparse
import sys

import fitsbind
from fitsbind.column import column_numbers
from fitsbind.hdu.hdulist import format_info


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


def _info(args: argparse.Namespace) -> int:
    status = 0
    for i, path in enumerate(args.files):
        try:
            lines = format_info(path, summary(path))
        except Exception as exc:   # any file that cannot be read is a line here, not a traceback
            print(f"fitsbind: error: {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            status = 1
            continue
        print(("\n" if i else "") + "\n".join(line.rstrip() for line in lines))
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fitsbind", description="Inspect FITS files.")
    parser.add_argument(
        "--version",
        action="version",
        version=f"fitsbind {fitsbind.__version__} (CFITSIO {fitsbind.cfitsio_version()}, "
        f"{fitsbind.cfitsio_source()})",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="list the HDUs of FITS files")
    info.add_argument("files", nargs="+", metavar="FILE")
    info.set_defaults(run=_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fitsbind`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
