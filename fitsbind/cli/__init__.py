"""The ``fitsbind`` command: ``fitsbind CMD ...`` or ``python -m fitsbind CMD ...``.

One module per command, each with ``NAME``, ``HELP``, ``configure(parser)`` (its options) and
``run(options) -> int`` (the exit status); the parser is assembled here, in one place. The
commands use fitsbind's public API only.
"""

from __future__ import annotations

import argparse
import sys

import fitsbind
from fitsbind.cli import check, compress, decompress, diff, header, info, verify

__all__ = ["COMMANDS", "build_parser", "main"]

#: the commands, in the order ``fitsbind --help`` lists them
COMMANDS = (info, header, check, diff, verify, compress, decompress)


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``fitsbind`` command and all its subcommands."""
    parser = argparse.ArgumentParser(prog="fitsbind", description="Work with FITS files.")
    parser.add_argument(
        "--version",
        action="version",
        version=f"fitsbind {fitsbind.__version__} (CFITSIO {fitsbind.cfitsio_version()}, "
        f"{fitsbind.cfitsio_source()})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.NAME, help=command.HELP, description=command.HELP,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        command.configure(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fitsbind`` console script; returns the exit status."""
    options = build_parser().parse_args(argv)
    try:
        return options.run(options)
    except KeyboardInterrupt:
        print("fitsbind: interrupted", file=sys.stderr)
        return 130     # the shell's status for a process ended by SIGINT
