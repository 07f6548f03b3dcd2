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
import textwrap
from typing import TextIO

import fitsbind
from fitsbind.scripts._common import new_parser, script_logger

DESCRIPTION = """
Compare two FITS image files and report the differences in header keywords and
data.

    fitsdiff [options] filename1 filename2

where filename1 filename2 are the two files to be compared.  They may also be
wild cards, in such cases, they must be enclosed by double or single quotes, or
they may be directory names.  If both are directory names, all files in each of
the directories will be included; if only one is a directory name, then the
directory name will be prefixed to the file name(s) specified by the other
argument.  for example::

    fitsdiff "*.fits" "/machine/data1"

will compare all FITS files in the current directory to the corresponding files
in the directory /machine/data1.

Part of fitsbind's drop-in for astropy.io.fits (astropy's fitsdiff script).
""".strip()

EPILOG = "\n\n".join(textwrap.fill(paragraph, width=80) for paragraph in (
    "If the two files are identical within the specified conditions, it will report "
    '"No difference is found." If the value(s) of -c and -k takes the form \'@filename\', '
    "list is in the text file 'filename', and each line in that text file contains one "
    "keyword.",
    "Example: fitsdiff -k filename,filtnam1 -n 5 -r 1.e-6 test1.fits test2 compares "
    "test1.fits and test2.fits, reports at most 5 different pixel values per extension, "
    "only reports data values more than 1.e-6 apart relative to each other, and ignores the "
    "values of keywords FILENAME and FILTNAM1 (or their very existence).",
    "fitsdiff command-line arguments can also be set using the environment variable "
    "FITSDIFF_SETTINGS.  If the FITSDIFF_SETTINGS environment variable is present, each "
    "argument present will override the corresponding argument on the command-line unless "
    "the --exact option is specified.",
))

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
    """The argument parser of ``fitsdiff`` (astropy's options and help texts)."""
    parser = new_parser("fitsdiff", DESCRIPTION, EPILOG)
    parser.add_argument("fits_files", metavar="file", nargs="+", help=".fits files to process.")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="Produce no output and just return a status code.")
    parser.add_argument("-n", "--num-diffs", type=int, default=10, dest="numdiffs", metavar="INTEGER",
                        help="Max number of data differences (image pixel or table element) to "
                             "report per extension (default %(default)s).")
    tolerance = ("specifically two floating point numbers.  This applies to data in both images and "
                 "tables, and to floating point keyword values in headers (default %(default)s).")
    parser.add_argument("-r", "--rtol", "--relative-tolerance", type=float, default=0.0, dest="rtol",
                        metavar="NUMBER",
                        help=f"The relative tolerance for comparison of two numbers, {tolerance}")
    parser.add_argument("-a", "--atol", "--absolute-tolerance", type=float, default=0.0, dest="atol",
                        metavar="NUMBER",
                        help=f"The absolute tolerance for comparison of two numbers, {tolerance}")
    parser.add_argument("-b", "--no-ignore-blanks", action="store_false", dest="ignore_blanks",
                        help="Don't ignore trailing blanks (whitespace) in string values.  Otherwise "
                             "trailing blanks both in header keywords/values and in table column "
                             "values) are not treated as significant i.e., without this option "
                             "'ABCDEF   ' and 'ABCDEF' are considered equivalent. ")
    parser.add_argument("--no-ignore-blank-cards", action="store_false", dest="ignore_blank_cards",
                        help="Don't ignore entirely blank cards in headers.  Normally fitsdiff does "
                             "not consider blank cards when comparing headers, but this will ensure "
                             "that even blank cards match up. ")
    parser.add_argument("--exact", action="store_true", dest="exact_comparisons",
                        help="Report ALL differences, overriding command-line options and "
                             "FITSDIFF_SETTINGS. ")
    parser.add_argument("-o", "--output-file", metavar="FILE",
                        help="Output results to this file; otherwise results are printed to stdout.")
    parser.add_argument("-u", "--ignore-hdus", type=name_list, default=[], dest="ignore_hdus",
                        metavar="HDU_NAMES",
                        help="Comma-separated list of HDU names not to be compared.  HDU names may "
                             "contain wildcard patterns.")
    header = parser.add_argument_group("Header Comparison Options")
    header.add_argument("-k", "--ignore-keywords", type=name_list, default=[], dest="ignore_keywords",
                        metavar="KEYWORDS",
                        help="Comma-separated list of keywords not to be compared.  Keywords may "
                             'contain wildcard patterns.  To exclude all keywords, use "*"; make '
                             "sure to have double or single quotes around the asterisk on the "
                             "command-line.")
    header.add_argument("-c", "--ignore-comments", type=name_list, default=[], dest="ignore_comments",
                        metavar="COMMENTS",
                        help="Comma-separated list of keywords whose comments will not be "
                             "compared.  Wildcards may be used as with --ignore-keywords.")
    table = parser.add_argument_group("Table Comparison Options")
    table.add_argument("-f", "--ignore-fields", type=name_list, default=[], dest="ignore_fields",
                       metavar="COLUMNS",
                       help="Comma-separated list of fields (i.e. columns) not to be compared.  All "
                            'columns may be excluded using "*" as with --ignore-keywords.')
    return parser


def parse_options(args: list[str]) -> argparse.Namespace:
    """The options of the command line ``args``; exits with status 2 unless it names two
    paths. ``--exact`` resets every option that hides differences."""
    parser = build_parser()
    options = parser.parse_args(args)
    if len(options.fits_files) != 2:
        parser.error("\nfitsdiff requires two arguments; see `fitsdiff --help` for more details.")
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
            log.error("Wildcard pattern %r did not match any files.", path)
            sys.exit(2)
        directories = {os.path.dirname(match) for match in matches}
        if len(directories) > 1:
            log.error("Wildcard pattern %r should match only one directory.", path)
            sys.exit(2)
        return directories.pop(), sorted(os.path.basename(match) for match in matches)
    if os.path.isdir(path):
        return path, sorted(name for name in os.listdir(path)
                            if os.path.isfile(os.path.join(path, name)))
    if os.path.isfile(path):
        return os.path.dirname(path), [os.path.basename(path)]
    log.error("%r is not an existing file, directory, or wildcard pattern; see `fitsdiff --help` "
              "for more usage help.", path)
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
    options = parse_options(args)
    pairs = match_files(options.fits_files)
    with contextlib.ExitStack() as stack:
        out: TextIO | None = None
        if options.quiet:
            out = None
        elif options.output_file:
            out = stack.enter_context(open(options.output_file, "w"))
        else:
            out = sys.stdout
        outcomes = [compare(a, b, options, out) for a, b in pairs]
    return int(not all(outcomes))


if __name__ == "__main__":
    sys.exit(main())
