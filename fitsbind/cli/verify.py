"""``fitsbind verify``: check that FITS files follow the standard, in the spirit of NASA's
fitsverify; the checks themselves are in :mod:`fitsbind.cli.standard`.

Warnings do not fail a file unless ``--strict`` is given: they are about conventions
(repeated keywords, column names) and checksums, which a file can break and still be read
exactly as written. fitsverify's exit status counts its warnings with its errors; here the exit
status counts errors only, so scripts can gate on the standard itself.
"""

from __future__ import annotations

import argparse
import os

from fitsbind.cli.progress import progress
from fitsbind.cli.standard import ERROR, Finding, compression, verify_file

NAME = "verify"
HELP = ("Check that FITS files follow the FITS standard, reading their bytes directly: "
        "mandatory keywords and their order, value formats, END and fill, table formats, heap "
        "descriptors, CHECKSUM/DATASUM, truncation, as NASA's fitsverify does. Exit status: the "
        "number of errors (at most 255; with --strict warnings count too), 0 only when no file "
        "has one.")

#: uncompressed files at least this large show a progress bar (on a terminal, with tqdm)
LARGE = 64 << 20


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print one line per file: verification OK or FAILED")
    parser.add_argument("-e", "--errors-only", action="store_true",
                        help="report errors only, not warnings")
    parser.add_argument("--strict", action="store_true", help="warnings fail a file too")


def run(options: argparse.Namespace) -> int:
    failures = 0
    for i, path in enumerate(options.files):
        findings = _verify(path, options.quiet)
        if options.errors_only:
            findings = [f for f in findings if f.severity == ERROR]
        errors = sum(f.severity == ERROR for f in findings)
        warnings = len(findings) - errors
        counted = errors + (warnings if options.strict else 0)
        failures += counted
        verdict = "FAILED" if counted else "OK"
        tally = f"{warnings} warning(s) and {errors} error(s)"
        if options.quiet:
            print(f"verification {verdict}: {path}" + (f", {tally}" if findings else ""))
            continue
        lines = [f"File: {path}", *map(_line, findings), f"verification {verdict}: {tally}"]
        print(("\n" if i else "") + "\n".join(lines))
    return min(failures, 255)


def _verify(path: str, quiet: bool) -> list[Finding]:
    """The findings of the file at ``path``, with a progress bar for a large one (not for a
    compressed file: its decompressed size is not known before it is read)."""
    try:
        size = os.path.getsize(path) if compression(path) is None else 0
    except OSError:
        size = 0        # verify_file reports why the file cannot be read
    with progress(size, os.path.basename(path), quiet=quiet or size < LARGE) as bar:
        return verify_file(path, bar.update)


def _line(finding: Finding) -> str:
    where = "file" if finding.hdu is None else f"HDU {finding.hdu}"
    label = "Error:  " if finding.severity == ERROR else "Warning:"
    return f"*** {label} {where}: {finding.message}"
