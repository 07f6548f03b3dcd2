"""``fitsheader``: print the header(s) of one or more FITS files.

As astropy's script. By default every header card of every HDU, each HDU after a
``# HDU <n> in <file>:`` line. Options:

- ``-e/--extension HDU`` (repeatable): an HDU by number, by EXTNAME, or as ``EXTNAME,EXTVER``;
- ``-k/--keyword KEYWORD`` (repeatable): only these cards; wildcards (``NAXIS*``) and HIERARCH
  keywords in dotted or spaced form (``ESO.DET.ID``, ``"ESO DET ID"``) are accepted;
- ``-c/--compressed``: for a tile-compressed image, the header of the binary table that
  holds it instead of the image's;
- ``-t/--table [FORMAT]``: one row per card (filename, hdu, keyword, value), written by an
  astropy Table in FORMAT (default ``ascii.fixed_width``); needs astropy;
- ``-f/--fitsort``: one row per file, one column per keyword (ESO's dfits | fitsort layout);
  ``-s/--sort KEYWORD`` (repeatable) orders the rows.

A missing HDU or keyword is a ``WARNING:`` line on stderr, a file that cannot be read an
``ERROR:`` line; the other files are still printed and the exit status is 0, as astropy's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Union

import fitsbind
from fitsbind.scripts._common import new_parser, script_logger

DESCRIPTION = """
Show the header cards of FITS files: of every HDU, or of the HDUs chosen with
-e, limited to the keywords chosen with -k, as 80-column cards (default), as a
table of cards (-t) or as one row per file (-f). A tile-compressed image shows
its image header unless -c is given.

fitsbind's counterpart of astropy's fitsheader script.
""".strip()

log = script_logger("fitsheader")

# an HDU as the user names it: its index, its EXTNAME, or (EXTNAME, EXTVER)
HDUKey = Union[int, str, "tuple[str, int]"]

# fitsort leaves these out: they repeat, so they cannot be one column each
_REPEATING = ("COMMENT", "HISTORY")


class ExtensionNotFoundException(Exception):
    """Raised if an HDU extension requested by the user does not exist."""


def parse_extension(ext: Any) -> HDUKey:
    """The HDU key for ``ext`` as given to ``-e``: an int for a number (``"3"`` too), an
    ``(EXTNAME, EXTVER)`` pair for ``"NAME,VER"`` (the name may itself hold commas), else the
    name."""
    if isinstance(ext, int):
        return ext
    text = str(ext)
    try:
        return int(text)
    except ValueError:
        pass
    name, comma, version = text.rpartition(",")
    if comma:
        try:
            return (name, int(version))
        except ValueError:
            pass   # not a version after the comma: the whole text is the name
    return text


def _label(key: HDUKey) -> HDUKey:
    """How an HDU key is shown (in the ``# HDU`` lines and the tables): a name and version as
    the user wrote them, ``NAME,VER``."""
    return f"{key[0]},{key[1]}" if isinstance(key, tuple) else key


def select_cards(header: fitsbind.Header, keywords: Sequence[str] | None,
                 missing: Any = None) -> list[fitsbind.Card]:
    """The cards of ``header`` named by ``keywords`` (all of them when None or empty), in the
    keywords' order; a wildcard keyword brings each card it matches. ``missing(keyword)`` is
    called for a keyword that matches no card."""
    if not keywords:
        return list(header.cards)
    cards: list[fitsbind.Card] = []
    for keyword in keywords:
        try:
            found = header.cards[keyword]
        except KeyError:
            if missing is not None:
                missing(keyword)
            continue
        # a plain keyword gives one card, a wildcard a list of them
        cards.extend([found] if isinstance(found, fitsbind.Card) else found)
    return cards


class HeaderFormatter:
    """The headers of one FITS file, formatted for ``fitsheader``; essentially a wrapper
    around the file's :class:`~fitsbind.HDUList`::

        formatter = HeaderFormatter("file.fits")
        print(formatter.parse(extensions=[0, "SCI,2"], keywords=["NAXIS*"]))
        formatter.close()

    ``verbose`` logs a warning for each HDU or keyword that is not found. The file is opened
    here: a missing or unreadable file raises ``OSError``.
    """

    def __init__(self, filename: str, verbose: bool = True) -> None:
        self.filename = filename
        self.verbose = verbose
        self._hdulist = fitsbind.open(filename)
        # opened on first use by -c/--compressed: the file with tile-compressed images read
        # as the binary tables that hold them
        self._raw_hdulist: fitsbind.HDUList | None = None

    def parse(self, extensions: Iterable[Any] | None = None, keywords: Sequence[str] | None = None,
              compressed: bool = False) -> Any:
        """The headers of ``extensions`` (HDU numbers, names or ``"NAME,VER"``; all HDUs when
        None), limited to the cards of ``keywords`` when given (wildcards allowed).

        ``compressed`` shows a tile-compressed image's binary-table header instead of the
        image header. Returns the traditional 80-column text here; a table in
        :class:`TableHeaderFormatter`."""
        return self._format(self._keys(extensions), keywords, compressed)

    def _keys(self, extensions: Iterable[Any] | None) -> list[HDUKey]:
        """The keys of the HDUs ``extensions`` names; every HDU's index for None."""
        if extensions is None:
            return list(range(len(self._hdulist)))
        return [parse_extension(ext) for ext in extensions]

    def _format(self, keys: list[HDUKey], keywords: Sequence[str] | None, compressed: bool) -> Any:
        """The text of the requested headers; subclasses return other forms."""
        blocks = []
        for position, key in enumerate(keys):
            try:
                cards = self.cards(key, keywords, compressed)
            except ExtensionNotFoundException:
                continue
            # as astropy, a blank line precedes every HDU but the first asked for, shown or not
            lead = "\n" if position else ""
            lines = "".join(f"{card}\n" for card in cards)
            blocks.append(f"{lead}# HDU {_label(key)} in {self.filename}:\n{lines}")
        return "".join(blocks)

    def rows(self, extensions: Iterable[Any] | None = None, keywords: Sequence[str] | None = None,
             compressed: bool = False) -> list[tuple[str, HDUKey, str, str]]:
        """``(filename, hdu, keyword, value)`` for each card :meth:`parse` would show, the
        value as text: the rows of the ``--table`` and ``--fitsort`` outputs."""
        return self._rows(self._keys(extensions), keywords, compressed)

    def _rows(self, keys: list[HDUKey], keywords: Sequence[str] | None,
              compressed: bool) -> list[tuple[str, HDUKey, str, str]]:
        """The rows of :meth:`rows` for HDU keys already parsed."""
        rows = []
        for key in keys:
            try:
                cards = self.cards(key, keywords, compressed)
            except ExtensionNotFoundException:
                continue
            rows += [(self.filename, _label(key), card.keyword, str(card.value)) for card in cards]
        return rows

    def header(self, key: HDUKey, compressed: bool = False) -> fitsbind.Header:
        """The header of HDU ``key``; for a tile-compressed image with ``compressed``, that of
        the binary table holding it. Raises :class:`ExtensionNotFoundException`."""
        try:
            hdu = self._hdulist[key]
            if compressed and isinstance(hdu, fitsbind.CompImageHDU):
                return self._raw()[self._hdulist.index_of(key)].header
            return hdu.header
        except (IndexError, KeyError):
            message = f"{self.filename}: Extension {_label(key)} not found."
            if self.verbose:
                log.warning(message)
            raise ExtensionNotFoundException(message) from None

    def cards(self, key: HDUKey, keywords: Sequence[str] | None = None,
              compressed: bool = False) -> list[fitsbind.Card]:
        """The cards of HDU ``key`` named by ``keywords`` (all when None). Raises
        :class:`ExtensionNotFoundException` for an HDU the file does not have."""
        header = self.header(key, compressed)

        def missing(keyword: str) -> None:
            if self.verbose:
                log.warning(f"{self.filename} (HDU {_label(key)}): Keyword {keyword} not found.")

        return select_cards(header, keywords, missing)

    def _raw(self) -> fitsbind.HDUList:
        """The file opened a second time with image compression disabled (the public way to
        reach the binary table behind a CompImageHDU)."""
        if self._raw_hdulist is None:
            self._raw_hdulist = fitsbind.open(self.filename, disable_image_compression=True)
        return self._raw_hdulist

    def close(self) -> None:
        """Close the file (both openings of it)."""
        self._hdulist.close()
        if self._raw_hdulist is not None:
            self._raw_hdulist.close()

    def __enter__(self) -> HeaderFormatter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _astropy_table() -> Any:
    """astropy's ``astropy.table`` module, or ImportError saying what needs it."""
    try:
        from astropy import table
    except ImportError:
        raise ImportError("fitsheader --table needs astropy (its Table writes the table); "
                          "install astropy or use the default or --fitsort output") from None
    return table


class TableHeaderFormatter(HeaderFormatter):
    """:class:`HeaderFormatter` whose :meth:`parse` returns an astropy ``Table`` with the
    columns filename, hdu, keyword and value (None when no card was found). Needs astropy."""

    def _format(self, keys: list[HDUKey], keywords: Sequence[str] | None, compressed: bool) -> Any:
        rows = self._rows(keys, keywords, compressed)
        if not rows:
            return None
        return _astropy_table().Table(rows=rows, names=("filename", "hdu", "keyword", "value"))


def _each_file(filenames: Iterable[str], formatter: type[HeaderFormatter] = HeaderFormatter,
               verbose: bool = True) -> Iterator[HeaderFormatter]:
    """A formatter for each file that can be opened (the others are logged as errors); each is
    closed when the loop moves on."""
    for filename in filenames:
        try:
            current = formatter(filename, verbose=verbose)
        except Exception as exc:  # an unreadable file is one message, the next file follows
            log.error(str(exc))
            continue
        try:
            yield current
        finally:
            current.close()


def print_headers_traditional(options: Any) -> None:
    """Print the headers as 80-column cards, a blank line between files (unless ``-k``)."""
    for index, formatter in enumerate(_each_file(options.filename)):
        if index and not options.keyword:
            print()
        try:
            print(formatter.parse(options.extensions, options.keyword, options.compressed), end="")
        except Exception as exc:  # a header that fails to parse ends this file, not the run
            log.error(str(exc))


def print_headers_as_table(options: Any) -> int:
    """Write one table row per card, in the astropy table format ``options.table``."""
    try:
        table = _astropy_table()
    except ImportError as exc:
        log.error(str(exc))
        return 1
    tables = []
    for formatter in _each_file(options.filename, TableHeaderFormatter):
        try:
            found = formatter.parse(options.extensions, options.keyword, options.compressed)
        except Exception as exc:
            log.error(str(exc))
            continue
        if found is not None:
            tables.append(found)
    if tables:
        result = tables[0] if len(tables) == 1 else table.vstack(tables)
        result.write(sys.stdout, format=options.table)
    return 0


def fitsort_rows(options: Any) -> tuple[list[str], list[dict[str, str]]]:
    """The ``--fitsort`` table: its column names (filename, then each keyword in the order
    first met) and one row per readable file, keyword -> value. Columns are ``hdu:keyword``
    when the cards come from more than one HDU."""
    per_file = []
    for formatter in _each_file(options.filename, verbose=False):
        try:
            rows = formatter.rows(options.extensions, options.keyword, options.compressed)
        except Exception as exc:
            log.error(str(exc))
            continue
        # blank keywords and the repeating commentary cards make no column
        rows = [row for row in rows if row[2] and row[2] not in _REPEATING]
        per_file.append((formatter.filename, rows))
    several_hdus = len({row[1] for _, rows in per_file for row in rows}) > 1
    columns = ["filename"]
    table = []
    for filename, rows in per_file:
        line = {"filename": filename}
        for _, hdu, keyword, value in rows:
            name = f"{hdu}:{keyword}" if several_hdus else keyword
            if name not in line:       # a keyword repeated within an HDU: its first card
                line[name] = value
            if name not in columns:
                columns.append(name)
        table.append(line)
    return columns, table


def format_fitsort(columns: list[str], rows: list[dict[str, str]], missing: str = "--") -> list[str]:
    """Lines of the fitsort table as astropy prints a Table: names centred over their
    columns, a dashed rule, values right-aligned, ``missing`` where a file lacks a keyword."""
    cells = [[row.get(name, missing) for name in columns] for row in rows]
    widths = [max([len(name)] + [len(line[i]) for line in cells]) for i, name in enumerate(columns)]
    lines = [" ".join(name.center(width) for name, width in zip(columns, widths)),
             " ".join("-" * width for width in widths)]
    lines += [" ".join(cell.rjust(width) for cell, width in zip(line, widths)) for line in cells]
    return lines


def sort_rows(rows: list[dict[str, str]], keys: Sequence[str]) -> list[dict[str, str]]:
    """``rows`` ordered by the values of ``keys`` (text order); rows without a key go last.
    Raises KeyError for a key no row has."""
    for key in keys:
        if not any(key in row for row in rows):
            raise KeyError(key)

    def order(row: dict[str, str]) -> tuple:
        return tuple((key not in row, row.get(key, "")) for key in keys)

    return sorted(rows, key=order)


def print_headers_as_comparison(options: Any) -> int:
    """Print the ``--fitsort`` table: a row per file, a column per keyword."""
    columns, rows = fitsort_rows(options)
    if not rows:
        return 0
    if options.sort:
        try:
            rows = sort_rows(rows, options.sort)
        except KeyError as exc:
            log.error(f"Cannot sort by {exc.args[0]}: no such column (columns: {', '.join(columns)})")
            return 1
    print("\n".join(format_fitsort(columns, rows)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``fitsheader`` (astropy's options)."""
    return add_arguments(new_parser("fitsheader", DESCRIPTION))


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give ``parser`` fitsheader's options (also ``fitsbind header``'s); returns it."""
    parser.add_argument("-e", "--extension", metavar="HDU", action="append", dest="extensions",
                        help="an HDU to show, by number, EXTNAME or 'EXTNAME,EXTVER'; repeat the "
                             "option for several (default: all)")
    parser.add_argument("-k", "--keyword", metavar="KEYWORD", action="append", type=str,
                        help="a keyword to show (wildcards such as NAXIS* allowed; HIERARCH "
                             "keywords dotted or spaced); repeat the option for several")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("-t", "--table", nargs="?", default=False, metavar="FORMAT",
                      help="write one row per card (filename, hdu, keyword, value) with astropy's "
                           "Table writer in FORMAT (default ascii.fixed_width; also ascii.csv, "
                           "ascii.html, fits, ...); needs astropy")
    mode.add_argument("-f", "--fitsort", action="store_true",
                      help="write one row per file and one column per keyword, as dfits | fitsort")
    parser.add_argument("-s", "--sort", metavar="SORT_KEYWORD", action="append", type=str,
                        help="order the -f/--fitsort rows by this keyword's values; repeat the "
                             "option to break ties with further keywords")
    parser.add_argument("-c", "--compressed", action="store_true",
                        help="for a tile-compressed image, show the header of the binary table "
                             "that stores it instead of the image header")
    parser.add_argument("filename", nargs="+",
                        help="the FITS files to read (the shell expands wildcards)")
    return parser


def _spaced(keywords: list[str] | None) -> list[str] | None:
    """HIERARCH keywords given in dotted form (ESO.DET.ID) in the spaced form headers use."""
    return None if keywords is None else [keyword.replace(".", " ") for keyword in keywords]


def main(args: list[str] | None = None) -> int:
    """Entry point: print the headers ``args`` (default: the command line) ask for."""
    return run(build_parser().parse_args(args))


def run(options: argparse.Namespace) -> int:
    """Print the headers parsed ``options`` ask for; the exit status."""
    if options.table is None:          # -t without a format
        options.table = "ascii.fixed_width"
    options.keyword = _spaced(options.keyword)
    options.sort = _spaced(options.sort)
    if options.sort and not options.fitsort:
        log.error("Sorting with -s/--sort is only supported in conjunction with -f/--fitsort")
        sys.exit(2)                    # the status of a command-line syntax error
    try:
        if options.table:
            return print_headers_as_table(options)
        if options.fitsort:
            return print_headers_as_comparison(options)
        print_headers_traditional(options)
    except BrokenPipeError:
        pass                           # output piped into a command that stopped reading (head)
    return 0


if __name__ == "__main__":
    sys.exit(main())
