"""``fitscheck``: verify, and optionally rewrite, the CHECKSUM and DATASUM keywords of FITS
files; optionally check (and fix) their compliance with the FITS standard.

As astropy's script. Each problem is one line on stderr:

- ``MISSING 'f.fits' .. Checksum not found in HDU #0`` (and ``Datasum``), unless
  ``--ignore-missing``;
- ``BAD 'f.fits' Checksum verification failed for HDU 1`` (and ``Datasum``);
- ``NONCOMPLIANT 'f.fits' .. <verify report>`` with ``--compliance``;
- ``EXCEPTION 'f.fits' .. <reason>`` for a file that cannot be read (it counts one);

then ``<n> errors``; ``-v`` adds ``OK 'f.fits'`` for a file without problems. The exit status
is 1 if anything was found, else 0.

``--write`` rewrites the checksums (and with ``--compliance`` fixes what verify can fix) of the
files whose checksums passed; ``--force`` of every file. ``--checksum remove`` removes the
keywords (it implies ``--write --force``); ``--checksum none`` leaves them alone. With either,
the checksums are not verified, so they count as missing (as in astropy) unless
``--ignore-missing``.

Examples::

    python -m fitsbind.scripts.fitscheck *.fits                  # verify
    python -m fitsbind.scripts.fitscheck --write *.fits          # add checksums
    python -m fitsbind.scripts.fitscheck --write --force *.fits  # replace bad or missing ones
    python -m fitsbind.scripts.fitscheck --checksum remove *.fits
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import fitsbind
from fitsbind.scripts._common import new_parser, script_logger

DESCRIPTION = """
Check the CHECKSUM and DATASUM keywords of every HDU of FITS files; with -w,
write them anew; with -c, also check the files against the FITS standard (and
with -w fix what can be fixed). Exit status: 0 when nothing was found, else 1.

fitsbind's counterpart of astropy's fitscheck script.
""".strip()

# messages alone, without a level: the first word (MISSING, BAD, OK, ...) says what it is
log = script_logger("fitscheck", "%(message)s")

# what open(checksum=...) gets for each --checksum choice: verify and write (True), write
# nothing (False), remove the keywords ("remove")
_OPEN_CHECKSUM: dict[str, bool | str] = {"standard": True, "none": False, "remove": "remove"}


@dataclass
class Options:
    """What to do with each file (the parsed command line)."""

    checksum_kind: str = "standard"    # standard, remove or none
    write: bool = False
    force: bool = False
    compliance: bool = False
    ignore_missing: bool = False
    verbose: bool = False


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``fitscheck`` (astropy's options)."""
    return add_arguments(new_parser("fitscheck", DESCRIPTION))


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give ``parser`` fitscheck's options (also ``fitsbind check``'s); returns it."""
    parser.add_argument("fits_files", metavar="file", nargs="+", help="the FITS files to check")
    parser.add_argument("-k", "--checksum", dest="checksum_kind", default="standard",
                        choices=["standard", "remove", "none"],
                        help="standard (default): verify the checksums and write standard ones; "
                             "remove: delete them (implies --write --force); none: leave them be")
    parser.add_argument("-w", "--write", dest="write", action="store_true",
                        help="rewrite the files whose checksums pass: new checksums, and the "
                             "compliance fixes with --compliance")
    parser.add_argument("-f", "--force", action="store_true",
                        help="rewrite every file, even one whose checksums are bad or missing")
    parser.add_argument("-c", "--compliance", action="store_true",
                        help="also check the files against the FITS standard (fix with --write)")
    parser.add_argument("-i", "--ignore-missing", dest="ignore_missing", action="store_true",
                        help="do not count HDUs without CHECKSUM or DATASUM")
    parser.add_argument("-v", "--verbose", action="store_true", help="also name the files that pass")
    return parser


def _sum_problem(filename: str, index: int, what: str, status: int | None,
                 options: Options) -> int:
    """Log the outcome ``status`` of verifying the ``what`` (Checksum, Datasum) of HDU
    ``index`` (1 good, 0 bad, 2 or None missing); the number of errors it is (0 or 1)."""
    if status in (2, None):
        if options.ignore_missing:
            return 0
        log.warning(f"MISSING {filename!r} .. {what} not found in HDU #{index}")
        return 1
    if status == 0:
        log.warning(f"BAD {filename!r} {what} verification failed for HDU {index}")
        return 1
    return 0


def verify_checksums(filename: str, options: Options) -> int:
    """Log each HDU of ``filename`` whose CHECKSUM or DATASUM is missing or wrong; the number
    of such problems. Only ``--checksum standard`` verifies: otherwise the keywords are
    ignored (or being removed) and count as missing."""
    verify = options.checksum_kind == "standard"
    errors = 0
    with fitsbind.open(filename) as hdulist:
        for index, hdu in enumerate(hdulist):
            checksum = hdu.verify_checksum() if verify else None
            datasum = hdu.verify_datasum() if verify else None
            errors += _sum_problem(filename, index, "Checksum", checksum, options)
            errors += _sum_problem(filename, index, "Datasum", datasum, options)
    if not errors:
        log.info(f"OK {filename!r}")
    return errors


def verify_compliance(filename: str) -> int:
    """Log ``filename`` if it breaks the FITS standard; the number of errors (0 or 1)."""
    with fitsbind.open(filename) as hdulist:
        try:
            hdulist.verify("exception")
        except fitsbind.VerifyError as exc:
            log.warning("NONCOMPLIANT %r .. %s", filename, str(exc).replace("\n", " "))
            return 1
    return 0


def update(filename: str, options: Options) -> None:
    """Rewrite ``filename`` in place: its checksums as ``--checksum`` says, and with
    ``--compliance`` the fixes verify can make."""
    # The open verifies the old checksums and warns about bad ones; the warnings are shown
    # (the filters a caller set, which may turn warnings into errors, do not apply here) so
    # that a forced rewrite says what it replaced.
    with warnings.catch_warnings():
        warnings.resetwarnings()
        with fitsbind.open(filename, mode="update", do_not_scale_image_data=True,
                           checksum=_OPEN_CHECKSUM[options.checksum_kind]) as hdulist:
            hdulist.flush(output_verify="silentfix" if options.compliance else "ignore")


def process_file(filename: str, options: Options) -> int:
    """Check (and maybe update) one file; the number of problems found. A file that cannot
    be read or written is logged and counts one."""
    try:
        errors = verify_checksums(filename, options)
        if options.compliance:
            errors += verify_compliance(filename)
        # a file is rewritten only when its checksums passed, unless forced: otherwise the
        # new checksums would hide the damage the old ones found
        if (options.write and errors == 0) or options.force:
            update(filename, options)
        return errors
    except Exception as exc:  # report the file and go on with the next
        log.error(f"EXCEPTION {filename!r} .. {exc}")
        return 1


def parse_options(args: list[str]) -> tuple[list[str], Options]:
    """The files and the options of the command line ``args`` (help for none)."""
    parsed = build_parser().parse_args(args or ["-h"])
    return parsed.fits_files, as_options(parsed)


def as_options(parsed: argparse.Namespace) -> Options:
    """The Options of parsed command-line arguments."""
    options = Options(checksum_kind=parsed.checksum_kind, write=parsed.write, force=parsed.force,
                      compliance=parsed.compliance, ignore_missing=parsed.ignore_missing,
                      verbose=parsed.verbose)
    if options.checksum_kind == "remove":   # removing is a forced rewrite
        options.write = options.force = True
    return options


def main(args: list[str] | None = None) -> int:
    """Entry point: check the files ``args`` (default: the command line) names; returns 1
    if any problem was found, else 0."""
    filenames, options = parse_options(sys.argv[1:] if args is None else args)
    return int(bool(check_files(filenames, options)))


def check_files(filenames: Iterable[str], options: Options) -> int:
    """Check (or update) every file; the number of problems found."""
    log.setLevel(logging.INFO if options.verbose else logging.WARNING)
    errors = sum(process_file(filename, options) for filename in filenames)
    if errors:
        log.warning(f"{errors} errors")
    return errors


if __name__ == "__main__":
    sys.exit(main())
