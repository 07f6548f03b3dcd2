"""The ``fitsbind`` command."""

from __future__ import annotations

import argparse
import sys

import fitsbind
from fitsbind.summary import format_summary, summarize


def _info(args: argparse.Namespace) -> int:
    status = 0
    for i, path in enumerate(args.files):
        try:
            text = format_summary(path, summarize(path))
        except (OSError, ValueError) as exc:
            print(f"fitsbind: error: {exc}", file=sys.stderr)
            status = 1
            continue
        print(("\n" if i else "") + text)
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
