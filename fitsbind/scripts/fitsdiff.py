"""``fitsdiff``: compare two FITS files, or the like-named files of two directories or wildcard
patterns, and report the differences of their headers and data.

As astropy's script: the report is :class:`fitsbind.FITSDiff`'s; the exit status is 0 when every
compared pair is identical (within the tolerances), 1 when one differs or cannot be opened,
2 for a usage error (not two arguments, a pattern matching nothing). The ``FITSDIFF_SETTINGS``
environment variable holds options put before the command line's (so the command line wins
where they clash; ``--exact`` overrides both).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import sys
from collections.abc import Callable, Iterable
from typing import NoReturn, TextIO

import fitsbind
from fitsbind.scripts._common import new_parser, script_logger

DESCRIPTION = """
Compare two FITS files and report how their headers and data differ.

Either argument may also be a directory or a quoted wildcard pattern (all its
matches in one directory): then the files of the same name on both sides are
compared, e.g. fitsdiff "*.fits" /archive/run1 compares each FITS file here
with its namesake in /archive/run1.

Exit status: 0 when everything compared is identical (within the tolerances),
1 when something differs or a file cannot be opened, 2 for a usage error.

fitsbind's counterpart of astropy's fitsdiff script.
""".strip()

EPILOG = """
The lists of -u, -k, -c and -f are comma-separated names, or @FILE for a text
file with one name a line.

Options in the environment variable FITSDIFF_SETTINGS are read before those of
the command line, so the command line wins where both set one; --exact cancels
the tolerances and ignore lists of both, e.g. for regression tests that set
FITSDIFF_SETTINGS globally.
""".strip()

log = script_logger("fitsdiff")


def name_list(value: str) -> list[str]:
    """The names an option such as ``-k`` gives: comma-separated, or one a line in the text
    file ``@path``."""
    if not value.startswith("@"):
        return [name.strip() for name in value.split(",")]
    path = value[1:]
    try:
        with open(path) as lines:
            return [line.strip() for line in lines if line.strip()]
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read the list file {path!r}: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``fitsdiff`` (astropy's options)."""
    return add_arguments(new_parser("fitsdiff", DESCRIPTION, EPILOG))


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give ``parser`` fitsdiff's options (also ``fitsbind diff``'s); returns it."""
    parser.add_argument("fits_files", metavar="file", nargs="+",
                        help="the two files (or directories, or quoted patterns) to compare")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print no report; only the exit status tells the outcome")
    parser.add_argument("-n", "--num-diffs", type=int, default=10, dest="numdiffs", metavar="INTEGER",
                        help="report at most this many differing pixels or table cells per HDU "
                             "(default %(default)s)")
    parser.add_argument("-r", "--rtol", "--relative-tolerance", type=float, default=0.0, dest="rtol",
                        metavar="NUMBER",
                        help="relative tolerance for floating-point data and header values "
                             "(default %(default)s)")
    parser.add_argument("-a", "--atol", "--absolute-tolerance", type=float, default=0.0, dest="atol",
                        metavar="NUMBER",
                        help="absolute tolerance for floating-point data and header values "
                             "(default %(default)s)")
    parser.add_argument("-b", "--no-ignore-blanks", action="store_false", dest="ignore_blanks",
                        help="count trailing blanks of string values (in headers and table cells) "
                             "as differences")
    parser.add_argument("--no-ignore-blank-cards", action="store_false", dest="ignore_blank_cards",
                        help="compare blank header cards too")
    parser.add_argument("--exact", action="store_true", dest="exact_comparisons",
                        help="report every difference: no tolerances, nothing ignored, whatever "
                             "other options or FITSDIFF_SETTINGS say")
    parser.add_argument("-o", "--output-file", metavar="FILE",
                        help="write the report to FILE instead of the standard output")
    parser.add_argument("-u", "--ignore-hdus", type=name_list, default=[], dest="ignore_hdus",
                        metavar="HDU_NAMES", help="HDU names (wildcards allowed) to leave out")
    header = parser.add_argument_group("header comparison")
    header.add_argument("-k", "--ignore-keywords", type=name_list, default=[], dest="ignore_keywords",
                        metavar="KEYWORDS",
                        help="keywords (wildcards allowed; '*' for all, quoted) whose values and "
                             "presence are not compared")
    header.add_argument("-c", "--ignore-comments", type=name_list, default=[], dest="ignore_comments",
                        metavar="COMMENTS",
                        help="keywords (wildcards allowed) whose comments are not compared")
    table = parser.add_argument_group("table comparison")
    table.add_argument("-f", "--ignore-fields", type=name_list, default=[], dest="ignore_fields",
                       metavar="COLUMNS", help="columns (wildcards allowed; '*' for all) not compared")
    return parser


def parse_options(args: list[str]) -> argparse.Namespace:
    """The options of the command line ``args``; exits with status 2 unless it names two
    paths. ``--exact`` resets every option that hides differences."""
    parser = build_parser()
    return checked_options(parser.parse_args(args), parser.error)


def checked_options(options: argparse.Namespace,
                    error: Callable[[str], NoReturn]) -> argparse.Namespace:
    """Parsed ``options`` checked (``error``, the parser's, exits with status 2 unless they
    name two paths) and with ``--exact`` applied."""
    if len(options.fits_files) != 2:
        error(f"expected two files, directories or patterns to compare, got {len(options.fits_files)}")
    if options.exact_comparisons:
        options.ignore_keywords, options.ignore_comments, options.ignore_fields = [], [], []
        options.rtol = options.atol = 0.0
        options.ignore_blanks = options.ignore_blank_cards = False
    return options


def _listing(path: str) -> tuple[str, list[str]]:
    """The directory and the file names ``path`` stands for: the files a wildcard pattern
    matches (all in one directory), a directory's files, or a file. Exits with status 2
    for anything else."""
    if glob.has_magic(path):
        matches = glob.glob(path)
        if not matches:
            log.error("No file matches the pattern %r.", path)
            sys.exit(2)
        directories = {os.path.dirname(match) for match in matches}
        if len(directories) > 1:
            log.error("The pattern %r matches files in several directories; it may match in one only.", path)
            sys.exit(2)
        return directories.pop(), sorted(os.path.basename(match) for match in matches)
    if os.path.isdir(path):
        return path, sorted(name for name in os.listdir(path)
                            if os.path.isfile(os.path.join(path, name)))
    if os.path.isfile(path):
        return os.path.dirname(path), [os.path.basename(path)]
    log.error("%r is neither a file, a directory nor a pattern that matches files (see fitsdiff --help).",
              path)
    sys.exit(2)


def match_files(paths: list[str]) -> list[tuple[str, str]]:
    """The pairs of files to compare for the two arguments ``paths``: the two files, or the
    files of the same name on both sides. A file named explicitly (or by a pattern) that has
    no counterpart is a warning."""
    if os.path.isfile(paths[0]) and os.path.isfile(paths[1]):
        return [(paths[0], paths[1])]
    (dir_a, names_a), (dir_b, names_b) = (_listing(path) for path in paths)
    dirs = (os.path.abspath(dir_a), os.path.abspath(dir_b))
    common = set(names_a) & set(names_b)
    # a directory's other files are not asked for by name, so their lack of a match is no news
    for side, names in enumerate((names_a, names_b)):
        if not os.path.isdir(paths[side]):
            for extra in sorted(set(names) - common):
                log.warning("%r has no match in %r", extra, dirs[1 - side])
    return [(os.path.join(dirs[0], name), os.path.join(dirs[1], name)) for name in sorted(common)]


def compare(a: str, b: str, options: argparse.Namespace, out: TextIO | None) -> bool | None:
    """Compare files ``a`` and ``b`` and write the report to ``out`` (nothing if None): whether
    they are identical, None if one could not be opened."""
    try:
        diff = fitsbind.FITSDiff(a, b, ignore_hdus=options.ignore_hdus,
                                 ignore_keywords=options.ignore_keywords,
                                 ignore_comments=options.ignore_comments,
                                 ignore_fields=options.ignore_fields, numdiffs=options.numdiffs,
                                 rtol=options.rtol, atol=options.atol,
                                 ignore_blanks=options.ignore_blanks,
                                 ignore_blank_cards=options.ignore_blank_cards)
    except OSError:
        if out is not None:
            either = "" if a == b else f" (or {b})"
            print(f"Warning: failed to open {a}{either}. Skipping.", file=sys.stderr)
        return None
    if out is not None:
        diff.report(fileobj=out)
    return diff.identical


def main(args: list[str] | None = None) -> int:
    """Entry point: compare what ``args`` (default: the command line) names; 0 if identical,
    1 if not (or a file could not be opened), 2 for a usage error."""
    args = sys.argv[1:] if args is None else list(args)
    settings = os.environ.get("FITSDIFF_SETTINGS")
    if settings:
        args = settings.split() + args
    return run(parse_options(args))


def run(options: argparse.Namespace,
        each: Callable[[list[tuple[str, str]]], Iterable[tuple[str, str]]] = iter) -> int:
    """Compare what checked ``options`` name; the exit status (0 identical, 1 not).
    ``each`` walks the pairs of files (``fitsbind diff`` shows a progress bar with it)."""
    pairs = match_files(options.fits_files)
    with contextlib.ExitStack() as stack:
        out: TextIO | None = None
        if options.quiet:
            out = None
        elif options.output_file:
            out = stack.enter_context(open(options.output_file, "w"))
        else:
            out = sys.stdout
        outcomes = [compare(a, b, options, out) for a, b in each(pairs)]
    return int(not all(outcomes))


if __name__ == "__main__":
    sys.exit(main())
