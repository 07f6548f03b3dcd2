"""Compare FITS files, HDUs, headers and data the way ``astropy.io.fits.diff`` does.

Every class runs its comparison when constructed and exposes the findings as ``diff_*``
attributes; ``identical`` is true when all of them are empty, and ``report()`` renders them as
the same text astropy's classes write (only the ``fitsdiff:`` banner names fitsbind instead).

The classes work on the public HDUList / HDU / Header / FITS_rec interface only, so they accept
fitsbind objects and astropy objects alike. File names given to :class:`FITSDiff` are opened with
:func:`fitsbind.open`.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
import io
import math
import os
import re
import textwrap
from collections import defaultdict
from itertools import islice
from typing import Any, TextIO

import numpy as np

from fitsbind._version import __version__

__all__ = [
    "FITSDiff",
    "HDUDiff",
    "HeaderDiff",
    "ImageDataDiff",
    "RawDataDiff",
    "TableDataDiff",
    "report_diff_keyword_attr",
]

# Column attributes compared between common table columns, with the wording used in reports.
_COLUMN_ATTRIBUTES = {
    "unit": "units",
    "null": "null values",
    "bscale": "bscales",
    "bzero": "bzeros",
    "disp": "display formats",
    "dim": "dimensions",
}

# Keywords whose header lookup yields a list of values rather than one value.
_COMMENTARY_KEYWORDS = ("", "COMMENT", "HISTORY", "END")

_BLANK_CARD_IMAGE = " " * 80

_REPEAT_PREFIX = re.compile(r"^\s*(\d*)(.*?)\s*$")

_PATH_TYPES = (str, bytes, os.PathLike)


def _is_pattern(name: str) -> bool:
    """True if ``name`` holds shell-wildcard characters (a lone ``*`` is not a pattern)."""
    return name != "*" and any(ch in name for ch in "*?[")


def _split_patterns(names: set[str]) -> tuple[set[str], set[str]]:
    """Split upper-cased names into (exact names, wildcard patterns)."""
    patterns = {name for name in names if _is_pattern(name)}
    return names - patterns, patterns


def _matches_any(name: str, patterns: set[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def _values_differ(a: Any, b: Any, rtol: float = 0.0, atol: float = 0.0) -> bool:
    """Compare two scalars; floats within ``atol + rtol * |b|``, two NaNs count as equal."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isfinite(b):
            return not abs(a - b) <= atol + rtol * abs(b)
        if math.isnan(a) and math.isnan(b):
            return False
    return bool(a != b)


def _close_mask(a: np.ndarray, b: np.ndarray, rtol: float,
                atol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elementwise comparison of two numeric arrays of one shape.

    Returns ``(differ, absolute, finite)``: ``differ`` is a boolean array, true where the
    elements differ; ``absolute`` is ``|b - a|`` in the arrays' common dtype; ``finite`` is true
    where both elements are finite. Non-finite values (NaN, +inf, -inf) all compare equal to
    each other and unequal to any finite value, as astropy treats them.
    """
    finite_a = np.isfinite(a)
    finite_b = np.isfinite(b)
    finite = finite_a & finite_b
    with np.errstate(all="ignore"):
        # Computed in the arrays' own dtype so the reported maxima match astropy's, including
        # the wrap-around of unsigned or overflowing integer subtraction.
        absolute = np.abs(b - a)
        if np.issubdtype(absolute.dtype, np.integer):
            # Integers are compared exactly: a wrapped difference can come out as the most
            # negative integer, which a "> 0" test would take for equality.
            close = a == b
        elif rtol == 0 and atol == 0:
            close = ~(absolute > 0)
        else:
            close = ~(absolute > atol + rtol * np.abs(b))
    differ = (finite_a != finite_b) | (finite & ~close)
    return differ, absolute, finite


def _max_relative(absolute: np.ndarray, magnitude: np.ndarray) -> Any:
    """Largest ``absolute / magnitude`` (1-D arrays), skipping quotients numpy.ma would mask.

    A quotient is skipped when it is not finite or its denominator is negligible next to the
    numerator (``|num| * tiny >= |den|``, numpy.ma's safe-division domain), so zeros in ``b`` do
    not make the maximum infinite. Returns a numpy scalar, or ``numpy.ma.masked`` (printed as
    ``--``) when every quotient is skipped, as astropy reports it.
    """
    with np.errstate(all="ignore"):
        relative = np.true_divide(absolute, magnitude)
        usable = np.isfinite(relative) & ~(np.abs(absolute) * np.finfo(float).tiny >= magnitude)
    return relative[usable].max() if usable.any() else np.ma.masked


def _where_not_close(a: np.ndarray, b: np.ndarray, rtol: float = 0.0, atol: float = 0.0) -> tuple:
    """Indices (as from ``numpy.nonzero``) where two same-shape numeric arrays differ."""
    differ, _, _ = _close_mask(np.asanyarray(a), np.asanyarray(b), rtol, atol)
    return np.nonzero(differ)


def _write_indented(fileobj: TextIO, text: str, indent_width: int) -> None:
    fileobj.write(textwrap.indent(text, "  " * indent_width))


def _report_values(a: Any, b: Any, fileobj: TextIO, indent_width: int = 0, rtol: float = 0.0,
                   atol: float = 0.0) -> bool:
    """Write a line diff of two values (scalars or arrays) to ``fileobj``.

    Arrays are compared elementwise and the first three differing elements are shown; other
    values are compared through their text form. Returns True if nothing differed.
    """
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.shape != b.shape:
            _write_indented(fileobj, "  Different array shapes:\n", indent_width)
            _report_values(str(a.shape), str(b.shape), fileobj, indent_width + 1)
            return False
        if np.issubdtype(a.dtype, np.floating) and np.issubdtype(b.dtype, np.floating):
            where = _where_not_close(a, b, rtol, atol)
        else:
            where = np.nonzero(a != b)
        positions = np.transpose(where)
        for position in positions[:3]:
            _write_indented(fileobj, f"  at {position.tolist()!r}:\n", indent_width)
            key = tuple(position)
            _report_values(a[key], b[key], fileobj, indent_width + 1, rtol, atol)
        if len(positions) > 3:
            _write_indented(fileobj, f"  ...and at {len(positions) - 3:d} more indices.\n", indent_width)
            return False
        return len(positions) == 0

    type_a, type_b = type(a), type(b)
    if type_a is type_b:
        pad, mark_a, mark_b = " ", "a>", "b>"
        text_a, text_b = str(a), str(b)
    else:
        # Values of different types are labelled with their type names, and a string facing a
        # non-string is quoted so that e.g. '1' and 1 stay distinguishable.
        width = max(len(type_a.__name__), len(type_b.__name__)) + 3
        pad = " " * (width + 1)
        mark_a = f"({type_a.__name__}) ".rjust(width) + "a>"
        mark_b = f"({type_b.__name__}) ".rjust(width) + "b>"
        a_is_str, b_is_str = isinstance(a, str), isinstance(b, str)
        text_a = repr(a) if a_is_str and not b_is_str else str(a)
        text_b = repr(b) if b_is_str and not a_is_str else str(b)

    same = True
    for line in difflib.ndiff(text_a.splitlines(), text_b.splitlines()):
        if line.startswith("-"):
            same = False
            line = mark_a + line[1:]
        elif line.startswith("+"):
            same = False
            line = mark_b + line[1:]
        else:
            line = pad + line
        line = line.rstrip("\n")
        _write_indented(fileobj, f"  {line}\n", indent_width)
    return same


def report_diff_keyword_attr(fileobj: TextIO, attr: str, diffs: dict, keyword: str, ind: int = 0) -> None:
    """Write the differing values (``attr="values"``) or comments of one keyword.

    ``diffs`` maps keywords to lists with one entry per occurrence of the keyword: ``None`` where
    both headers agree, else the ``(a, b)`` pair.
    """
    for occurrence, pair in enumerate(diffs.get(keyword, ())):
        if pair is None:
            continue
        dup = f"[{occurrence + 1}]" if occurrence else ""
        _write_indented(fileobj, f" Keyword {keyword:8}{dup} has different {attr}:\n", ind)
        _report_values(pair[0], pair[1], fileobj, ind + 1)


class _BaseDiff:
    """Common machinery: run ``_diff`` on construction, ``identical``, ``report``, ``fromdiff``."""

    def __init__(self, a: Any, b: Any) -> None:
        self.a = a
        self.b = b
        self._fileobj: TextIO | None = None
        self._indent = 0
        self._diff()

    def __bool__(self) -> bool:
        """True when the compared objects differ."""
        return not self.identical

    @classmethod
    def fromdiff(cls, other: _BaseDiff, a: Any, b: Any) -> _BaseDiff:
        """Diff ``a`` and ``b`` with this class, reusing every option ``other`` shares with it.

        For example ``HeaderDiff.fromdiff(fits_diff, ha, hb)`` compares two headers with the
        ``ignore_keywords``, ``rtol``, ... of an existing :class:`FITSDiff`.
        """
        options = list(inspect.signature(cls.__init__).parameters)[3:]
        kwargs = {name: getattr(other, name) for name in options if hasattr(other, name)}
        return cls(a, b, **kwargs)

    @property
    def identical(self) -> bool:
        """True if every ``diff_*`` attribute is empty (no difference was found)."""
        return not any(value for name, value in vars(self).items() if name.startswith("diff_"))

    def report(self, fileobj: str | bytes | os.PathLike | TextIO | None = None, indent: int = 0,
               overwrite: bool = False) -> str | None:
        """Describe the differences as text.

        Parameters
        ----------
        fileobj : path, file-like or None
            None returns the report as a string; a path writes it to that (new) file; any
            object with a ``write`` method receives it.
        indent : int
            Number of two-space steps every line is indented by.
        overwrite : bool
            Allow replacing an existing file when ``fileobj`` is a path; otherwise an existing
            file raises ``OSError``.
        """
        path = None
        want_string = fileobj is None
        if isinstance(fileobj, _PATH_TYPES):
            path = os.path.expanduser(fileobj)
            if os.path.exists(path) and not overwrite:
                raise OSError(
                    f"File {path} already exists. If you mean to replace it then use the argument "
                    '"overwrite=True".'
                )
            fileobj = open(path, "w")
        elif fileobj is None:
            fileobj = io.StringIO()

        self._fileobj = fileobj
        self._indent = indent
        try:
            self._report()
        finally:
            if path is not None:
                fileobj.close()
        return fileobj.getvalue() if want_string else None

    def _writeln(self, text: str) -> None:
        _write_indented(self._fileobj, text + "\n", self._indent)

    def _diff(self) -> None:
        raise NotImplementedError

    def _report(self) -> None:
        raise NotImplementedError


class FITSDiff(_BaseDiff):
    """Compare two FITS files (paths) or two HDUList objects, HDU by HDU in order.

    Attributes
    ----------
    diff_hdu_count : tuple
        ``(len(a), len(b))`` when the HDU counts differ, else ``()``.
    diff_hdus : list
        ``(index, HDUDiff, extname, extver)`` for each differing pair of HDUs; ``extname`` is
        ``""`` when the two HDUs' names or versions disagree.
    """

    def __init__(
        self,
        a: Any,
        b: Any,
        ignore_hdus: Any = (),
        ignore_keywords: Any = (),
        ignore_comments: Any = (),
        ignore_fields: Any = (),
        numdiffs: int = 10,
        rtol: float = 0.0,
        atol: float = 0.0,
        ignore_blanks: bool = True,
        ignore_blank_cards: bool = True,
    ) -> None:
        """
        Parameters
        ----------
        a, b : str, os.PathLike or HDUList
            The files to compare; paths are opened with :func:`fitsbind.open` and closed again.
        ignore_hdus : iterable of str
            Names of HDUs left out of the comparison (wildcards allowed).
        ignore_keywords : iterable of str
            Header keywords whose presence and value are not compared (wildcards allowed;
            ``"*"`` ignores every keyword difference).
        ignore_comments : iterable of str
            Keywords whose comments are not compared (wildcards allowed).
        ignore_fields : iterable of str
            Table columns not compared (case-insensitive).
        numdiffs : int
            How many differing pixels / table values to keep and report; negative for all.
        rtol, atol : float
            Relative and absolute tolerance for floating-point values: ``a`` and ``b`` differ
            when ``|a - b| > atol + rtol * |b|``.
        ignore_blanks : bool
            Ignore trailing whitespace in string values.
        ignore_blank_cards : bool
            Skip header cards that are entirely blank.
        """
        a, close_a = self._open(a, "a")
        try:
            b, close_b = self._open(b, "b")
        except BaseException:
            if close_a:
                a.close()
            raise

        self.ignore_hdus = {name.upper() for name in ignore_hdus}
        self.ignore_keywords = {key.upper() for key in ignore_keywords}
        self.ignore_comments = {key.upper() for key in ignore_comments}
        self.ignore_fields = {field.upper() for field in ignore_fields}
        self.numdiffs = numdiffs
        self.rtol = rtol
        self.atol = atol
        self.ignore_blanks = ignore_blanks
        self.ignore_blank_cards = ignore_blank_cards
        self.ignore_hdus, self.ignore_hdu_patterns = _split_patterns(self.ignore_hdus)

        self.diff_hdu_count: tuple = ()
        self.diff_hdus: list = []

        try:
            super().__init__(a, b)
        finally:
            if close_a:
                a.close()
            if close_b:
                b.close()

    @staticmethod
    def _open(source: Any, label: str) -> tuple[Any, bool]:
        """Open ``source`` if it is a path; returns the HDU list and whether we own it."""
        if isinstance(source, (str, os.PathLike)):
            import fitsbind

            try:
                return fitsbind.open(source), True
            except Exception as exc:
                raise OSError(f"error opening file {label} ({source})") from exc
        if not hasattr(source, "filename"):
            raise TypeError(
                f"FITSDiff compares file paths or HDUList objects; {label} is a {type(source).__name__}"
            )
        return source, False

    @staticmethod
    def _describe(hdulist: Any) -> str:
        name = hdulist.filename()
        return name if name else f"<{type(hdulist).__name__} object at {id(hdulist):#x}>"

    def _diff(self) -> None:
        if len(self.a) != len(self.b):
            self.diff_hdu_count = (len(self.a), len(self.b))

        self.filenamea = self._describe(self.a)
        self.filenameb = self._describe(self.b)

        if self.ignore_hdus or self.ignore_hdu_patterns:
            self.a = [hdu for hdu in self.a if not self._ignored(hdu.name)]
            self.b = [hdu for hdu in self.b if not self._ignored(hdu.name)]

        for index, (hdu_a, hdu_b) in enumerate(zip(self.a, self.b)):
            hdu_diff = HDUDiff.fromdiff(self, hdu_a, hdu_b)
            if hdu_diff.identical:
                continue
            same_id = hdu_a.name == hdu_b.name and hdu_a.ver == hdu_b.ver
            self.diff_hdus.append((index, hdu_diff, hdu_a.name if same_id else "", hdu_a.ver))

    def _ignored(self, name: str) -> bool:
        return name in self.ignore_hdus or _matches_any(name, self.ignore_hdu_patterns)

    def _report(self) -> None:
        wrapper = textwrap.TextWrapper(initial_indent="  ", subsequent_indent="  ")

        self._fileobj.write("\n")
        self._writeln(f" fitsdiff: fitsbind {__version__}")
        self._writeln(f" a: {self.filenamea}\n b: {self.filenameb}")

        option_lists = (
            (" HDU(s) not to be compared:", self.ignore_hdus),
            (" HDU(s) not to be compared:", self.ignore_hdu_patterns),
            (" Keyword(s) not to be compared:", self.ignore_keywords),
            (" Keyword(s) whose comments are not to be compared:", self.ignore_comments),
            (" Table column(s) not to be compared:", self.ignore_fields),
        )
        for title, names in option_lists:
            if names:
                self._writeln(title + "\n" + wrapper.fill(" ".join(sorted(names))))
        self._writeln(f" Maximum number of different data values to be reported: {self.numdiffs}")
        self._writeln(f" Relative tolerance: {self.rtol}, Absolute tolerance: {self.atol}")

        if self.diff_hdu_count:
            self._fileobj.write("\n")
            self._writeln("Files contain different numbers of HDUs:")
            self._writeln(f" a: {self.diff_hdu_count[0]}")
            self._writeln(f" b: {self.diff_hdu_count[1]}")
            if not self.diff_hdus:
                self._writeln("No differences found between common HDUs.")
                return
        elif not self.diff_hdus:
            self._fileobj.write("\n")
            self._writeln("No differences found.")
            return

        for index, hdu_diff, extname, extver in self.diff_hdus:
            self._fileobj.write("\n")
            if index == 0:
                self._writeln("Primary HDU:")
            elif extname:
                self._writeln(f"Extension HDU {index} ({extname}, {extver}):")
            else:
                self._writeln(f"Extension HDU {index}:")
            hdu_diff.report(self._fileobj, indent=self._indent + 1)


def _is_table_like(hdu: Any) -> bool:
    # Table HDUs (binary, ASCII, random groups) are the HDU classes with a `columns` property.
    return getattr(type(hdu), "columns", None) is not None


class HDUDiff(_BaseDiff):
    """Compare two HDUs: identity keywords, headers, and data of the same kind.

    Attributes
    ----------
    diff_extnames, diff_extvers, diff_extlevels, diff_extension_types : tuple
        ``(a, b)`` pairs of EXTNAME / EXTVER / EXTLEVEL / XTENSION when they differ, else ``()``.
    diff_headers : HeaderDiff
        Always set; check its ``identical``.
    diff_data : ImageDataDiff, TableDataDiff, RawDataDiff or None
        Set when both HDUs have data of one kind (image, table, or the same unknown extension).
    """

    def __init__(
        self,
        a: Any,
        b: Any,
        ignore_keywords: Any = (),
        ignore_comments: Any = (),
        ignore_fields: Any = (),
        numdiffs: int = 10,
        rtol: float = 0.0,
        atol: float = 0.0,
        ignore_blanks: bool = True,
        ignore_blank_cards: bool = True,
    ) -> None:
        """Options as for :class:`FITSDiff`; ``a`` and ``b`` are HDU objects."""
        self.ignore_keywords = {key.upper() for key in ignore_keywords}
        self.ignore_comments = {key.upper() for key in ignore_comments}
        self.ignore_fields = {field.upper() for field in ignore_fields}
        self.rtol = rtol
        self.atol = atol
        self.numdiffs = numdiffs
        self.ignore_blanks = ignore_blanks
        self.ignore_blank_cards = ignore_blank_cards

        self.diff_extnames: tuple = ()
        self.diff_extvers: tuple = ()
        self.diff_extlevels: tuple = ()
        self.diff_extension_types: tuple = ()
        self.diff_headers: HeaderDiff | None = None
        self.diff_data: ImageDataDiff | TableDataDiff | None = None

        super().__init__(a, b)

    def _diff(self) -> None:
        a, b = self.a, self.b
        if a.name != b.name:
            self.diff_extnames = (a.name, b.name)
        if a.ver != b.ver:
            self.diff_extvers = (a.ver, b.ver)
        if a.level != b.level:
            self.diff_extlevels = (a.level, b.level)
        xtension_a, xtension_b = a.header.get("XTENSION"), b.header.get("XTENSION")
        if xtension_a != xtension_b:
            self.diff_extension_types = (xtension_a, xtension_b)

        self.diff_headers = HeaderDiff.fromdiff(self, a.header.copy(), b.header.copy())

        data_a, data_b = a.data, b.data
        if data_a is None or data_b is None:
            return
        if a.is_image and b.is_image:
            self.diff_data = ImageDataDiff.fromdiff(self, data_a, data_b)
        elif _is_table_like(a) and _is_table_like(b):
            self.diff_data = TableDataDiff.fromdiff(self, data_a, data_b)
        elif not self.diff_extension_types:
            self.diff_data = RawDataDiff.fromdiff(self, data_a, data_b)
        else:
            return
        # Drop the data references so memory-mapped files can be closed after the diff.
        self.diff_data.a = None
        self.diff_data.b = None

    def _report(self) -> None:
        if self.identical:
            self._writeln(" No differences found.")
        for title, pair in (
            ("Extension types differ", self.diff_extension_types),
            ("Extension names differ", self.diff_extnames),
            ("Extension versions differ", self.diff_extvers),
            ("Extension levels differ", self.diff_extlevels),
        ):
            if pair:
                self._writeln(f" {title}:\n  a: {pair[0]}\n  b: {pair[1]}")

        if not self.diff_headers.identical:
            self._fileobj.write("\n")
            self._writeln(" Headers contain differences:")
            self.diff_headers.report(self._fileobj, indent=self._indent + 1)

        if self.diff_data is not None and not self.diff_data.identical:
            self._fileobj.write("\n")
            self._writeln(" Data contains differences:")
            self.diff_data.report(self._fileobj, indent=self._indent + 1)


class HeaderDiff(_BaseDiff):
    """Compare two headers keyword by keyword (card order is not compared).

    Attributes
    ----------
    common_keywords : list of str
        Sorted keywords present in both headers.
    diff_keyword_count : tuple
        ``(cards in a, cards in b)`` when the counts differ (blank cards excluded when
        ``ignore_blank_cards``), else ``()``.
    diff_keywords : tuple
        ``(only in a, only in b)`` sorted keyword lists, or ``()``.
    diff_duplicate_keywords : dict
        keyword -> ``(count in a, count in b)`` for keywords repeated a different number of times.
    diff_keyword_values, diff_keyword_comments : collections.defaultdict(list)
        keyword -> one entry per occurrence: ``None`` where equal, else the ``(a, b)`` pair.
    diff_keyword_positions : tuple
        Always ``()``: card positions are not compared (as in astropy).
    """

    def __init__(
        self,
        a: Any,
        b: Any,
        ignore_keywords: Any = (),
        ignore_comments: Any = (),
        rtol: float = 0.0,
        atol: float = 0.0,
        ignore_blanks: bool = True,
        ignore_blank_cards: bool = True,
    ) -> None:
        """``a`` and ``b`` are Header objects or strings of 80-character card images; other
        options as for :class:`FITSDiff`."""
        self.ignore_keywords = {key.upper() for key in ignore_keywords}
        self.ignore_comments = {key.upper() for key in ignore_comments}
        self.rtol = rtol
        self.atol = atol
        self.ignore_blanks = ignore_blanks
        self.ignore_blank_cards = ignore_blank_cards
        self.ignore_keywords, self.ignore_keyword_patterns = _split_patterns(self.ignore_keywords)
        self.ignore_comments, self.ignore_comment_patterns = _split_patterns(self.ignore_comments)

        self.common_keywords: list[str] = []
        self.diff_keyword_count: tuple = ()
        self.diff_keyword_positions: tuple = ()
        self.diff_keywords: tuple = ()
        self.diff_duplicate_keywords: dict[str, tuple[int, int]] = {}
        self.diff_keyword_values: defaultdict[str, list] = defaultdict(list)
        self.diff_keyword_comments: defaultdict[str, list] = defaultdict(list)

        a, b = self._as_header(a), self._as_header(b)
        super().__init__(a, b)

    @staticmethod
    def _as_header(header: Any) -> Any:
        if isinstance(header, str):
            from fitsbind.header import Header

            return Header.fromstring(header)
        if not hasattr(header, "cards"):
            raise TypeError(
                "HeaderDiff can only diff fitsbind.Header objects or strings containing FITS headers."
            )
        return header

    def _collect(self, header: Any) -> tuple[int, dict[str, list], dict[str, list], dict[str, Any]]:
        """Card count, keyword -> values, keyword -> comments, keyword -> first raw value."""
        values: dict[str, list] = {}
        comments: dict[str, list] = {}
        first: dict[str, Any] = {}
        count = 0
        for card in header.cards:
            if self.ignore_blank_cards and str(card) == _BLANK_CARD_IMAGE:
                continue
            count += 1
            keyword, value = card.keyword, card.value
            first.setdefault(keyword, value)
            if self.ignore_blanks and isinstance(value, str):
                value = value.rstrip()
            values.setdefault(keyword, []).append(value)
            comments.setdefault(keyword, []).append(card.comment)
        return count, values, comments, first

    def _keyword_ignored(self, keyword: str) -> bool:
        return keyword in self.ignore_keywords or _matches_any(keyword, self.ignore_keyword_patterns)

    def _comment_ignored(self, keyword: str) -> bool:
        return (
            "*" in self.ignore_comments
            or keyword in self.ignore_comments
            or _matches_any(keyword, self.ignore_comment_patterns)
        )

    def _diff(self) -> None:
        count_a, values_a, comments_a, self._first_a = self._collect(self.a)
        count_b, values_b, comments_b, self._first_b = self._collect(self.b)

        self.common_keywords = sorted(values_a.keys() & values_b.keys())
        # The count includes ignored keywords, exactly as astropy counts it.
        if count_a != count_b:
            self.diff_keyword_count = (count_a, count_b)
        if "*" in self.ignore_keywords:
            return

        only_a = sorted(k for k in values_a.keys() - values_b.keys() if not self._keyword_ignored(k))
        only_b = sorted(k for k in values_b.keys() - values_a.keys() if not self._keyword_ignored(k))
        if only_a or only_b:
            self.diff_keywords = (only_a, only_b)

        for keyword in self.common_keywords:
            if self._keyword_ignored(keyword):
                continue
            vals_a, vals_b = values_a[keyword], values_b[keyword]
            if len(vals_a) != len(vals_b):
                self.diff_duplicate_keywords[keyword] = (len(vals_a), len(vals_b))

            pairs = [
                (va, vb) if _values_differ(va, vb, self.rtol, self.atol) else None
                for va, vb in zip(vals_a, vals_b)
            ]
            if any(pairs):
                self.diff_keyword_values[keyword] = pairs

            if self._comment_ignored(keyword):
                continue
            pairs = [
                (ca, cb) if _values_differ(ca, cb) else None
                for ca, cb in zip(comments_a[keyword], comments_b[keyword])
            ]
            if any(pairs):
                self.diff_keyword_comments[keyword] = pairs

    def _report(self) -> None:
        if self.diff_keyword_count:
            self._writeln(" Headers have different number of cards:")
            self._writeln(f"  a: {self.diff_keyword_count[0]}")
            self._writeln(f"  b: {self.diff_keyword_count[1]}")
        if self.diff_keywords:
            for side, keywords, first in (("a", self.diff_keywords[0], self._first_a),
                                          ("b", self.diff_keywords[1], self._first_b)):
                for keyword in keywords:
                    self._writeln(f" Extra keyword {keyword!r:8} in {side}: {first[keyword]!r}")

        for keyword, counts in sorted(self.diff_duplicate_keywords.items()):
            self._writeln(f" Inconsistent duplicates of keyword {keyword!r:8}:")
            self._writeln(f"  Occurs {counts[0]} time(s) in a, {counts[1]} times in (b)")

        if self.diff_keyword_values or self.diff_keyword_comments:
            for keyword in self.common_keywords:
                report_diff_keyword_attr(self._fileobj, "values", self.diff_keyword_values, keyword,
                                         ind=self._indent)
                report_diff_keyword_attr(self._fileobj, "comments", self.diff_keyword_comments,
                                         keyword, ind=self._indent)


class ImageDataDiff(_BaseDiff):
    """Compare two image arrays pixel by pixel.

    Attributes
    ----------
    diff_dimensions : tuple
        ``(a.shape, b.shape)`` when the shapes differ (then nothing else is compared), else ``()``.
    diff_pixels : list
        ``(index, (value_a, value_b))`` for the first ``numdiffs`` differing pixels; ``index`` is
        a numpy index tuple (zero-based, slowest axis first).
    diff_total : int
        Number of differing pixels.
    diff_ratio : float
        ``diff_total / number of pixels``.
    max_absolute, max_relative :
        Largest ``|b - a|`` and ``|b - a| / |b|`` over the pixels finite in both arrays
        (``0`` when nothing differs).
    """

    def __init__(self, a: Any, b: Any, numdiffs: int = 10, rtol: float = 0.0, atol: float = 0.0) -> None:
        """``a`` and ``b`` are numpy arrays; options as for :class:`FITSDiff` (the tolerances
        apply only when either array is floating point or complex)."""
        self.numdiffs = numdiffs
        self.rtol = rtol
        self.atol = atol

        self.diff_dimensions: tuple = ()
        self.diff_pixels: list = []
        self.diff_ratio: float = 0
        self.max_absolute: Any = 0
        self.max_relative: Any = 0
        self.diff_total = 0

        super().__init__(np.asanyarray(a), np.asanyarray(b))

    def _diff(self) -> None:
        a, b = self.a, self.b
        if a.shape != b.shape:
            self.diff_dimensions = (a.shape, b.shape)
            return

        if np.issubdtype(a.dtype, np.inexact) or np.issubdtype(b.dtype, np.inexact):
            rtol, atol = self.rtol, self.atol
        else:
            rtol = atol = 0
        differ, absolute, finite = _close_mask(a, b, rtol, atol)
        where = np.nonzero(differ)
        self.diff_total = len(where[0])
        if self.diff_total == 0:
            return

        if finite.any():
            finite_absolute = absolute[finite]
            self.max_absolute = float(np.max(finite_absolute))
            self.max_relative = _max_relative(finite_absolute, np.abs(b[finite]))

        limit = self.diff_total if self.numdiffs < 0 else self.numdiffs
        self.diff_pixels = [(index, (a[index], b[index])) for index in islice(zip(*where), limit)]
        self.diff_ratio = float(self.diff_total) / float(a.size)

    def _report(self) -> None:
        if self.diff_dimensions:
            # Shapes are shown in FITS axis order (NAXIS1 first).
            dims_a = " x ".join(str(n) for n in reversed(self.diff_dimensions[0]))
            dims_b = " x ".join(str(n) for n in reversed(self.diff_dimensions[1]))
            self._writeln(" Data dimensions differ:")
            self._writeln(f"  a: {dims_a}")
            self._writeln(f"  b: {dims_b}")
            self._writeln(" No further data comparison performed.")
            return
        if not self.diff_pixels:
            return

        for index, (value_a, value_b) in self.diff_pixels:
            fits_index = [int(i) + 1 for i in reversed(index)]
            self._writeln(f" Data differs at {fits_index}:")
            _report_values(value_a, value_b, self._fileobj, self._indent + 1, self.rtol, self.atol)
        if self.diff_total > self.numdiffs:
            self._writeln(" ...")
        self._writeln(f" {self.diff_total} different pixels found ({self.diff_ratio:.2%} different).")
        self._writeln(f" Maximum relative difference: {self.max_relative}")
        self._writeln(f" Maximum absolute difference: {self.max_absolute}")


class RawDataDiff(ImageDataDiff):
    """Compare the data of unrecognised extensions as 1-D byte arrays (no tolerances).

    Attributes
    ----------
    diff_dimensions : tuple
        ``(size of a, size of b)`` in bytes when they differ, else ``()``.
    diff_bytes : list
        ``(byte offset, (value_a, value_b))`` for the first ``numdiffs`` differing bytes.
    diff_total, diff_ratio :
        As for :class:`ImageDataDiff`.
    """

    def __init__(self, a: Any, b: Any, numdiffs: int = 10) -> None:
        """``a`` and ``b`` are 1-D uint8 arrays; ``numdiffs`` as for :class:`FITSDiff`."""
        self.diff_dimensions = ()
        self.diff_bytes: list = []
        super().__init__(a, b, numdiffs=numdiffs)

    def _diff(self) -> None:
        super()._diff()
        if self.diff_dimensions:
            self.diff_dimensions = (self.diff_dimensions[0][0], self.diff_dimensions[1][0])
        self.diff_bytes = [(index[0], values) for index, values in self.diff_pixels]
        del self.diff_pixels

    def _report(self) -> None:
        if self.diff_dimensions:
            self._writeln(" Data sizes differ:")
            self._writeln(f"  a: {self.diff_dimensions[0]} bytes")
            self._writeln(f"  b: {self.diff_dimensions[1]} bytes")
            self._writeln(" No further data comparison performed.")
            return
        if not self.diff_bytes:
            return

        for offset, (value_a, value_b) in self.diff_bytes:
            self._writeln(f" Data differs at byte {offset}:")
            _report_values(value_a, value_b, self._fileobj, self._indent + 1, self.rtol, self.atol)
        self._writeln(" ...")
        self._writeln(f" {self.diff_total} different bytes found ({self.diff_ratio:.2%} different).")


def _format_key(column: Any) -> str:
    """A column's TFORM in canonical form (a repeat count of 1 dropped: ``1J`` == ``J``)."""
    fmt = column.format
    canonical = getattr(fmt, "canonical", None)
    if canonical is not None:
        return str(canonical)
    repeat, rest = _REPEAT_PREFIX.match(str(fmt).upper()).groups()
    return rest if repeat in ("", "1") else repeat + rest


def _cells_differ(row_a: Any, row_b: Any, rtol: float, atol: float) -> bool:
    """Compare two table cells that may differ in shape (VLA cells, or columns with other TDIMs)."""
    row_a, row_b = np.asanyarray(row_a), np.asanyarray(row_b)
    if row_a.shape != row_b.shape:
        return True
    if row_a.dtype.kind in "iufc" and row_b.dtype.kind in "iufc":
        return not np.allclose(row_a, row_b, rtol=rtol, atol=atol)
    return not np.array_equal(row_a, row_b)


class TableDataDiff(_BaseDiff):
    """Compare two tables (FITS_rec or anything with ``columns``, ``dtype`` and field access).

    Columns are matched by case-insensitive name and format; only matching columns have their
    attributes and values compared, and values only when the row counts agree.

    Attributes
    ----------
    common_columns : list
        Column objects present in both tables, sorted by name.
    common_column_names : set of str
        Their lower-case names.
    diff_column_count : tuple
        ``(columns in a, columns in b)`` when the counts differ, else ``()``.
    diff_columns : tuple
        ``({name: Column only in a}, {name: Column only in b})`` keyed by lower-case name, or ().
    diff_column_names : tuple
        ``([names only in a], [names only in b])`` in table order, or ``()``.
    diff_column_attributes : list
        ``((NAME, attribute), (value_a, value_b))`` for differing unit, null, bscale, bzero,
        disp or dim of common columns.
    diff_rows : tuple
        ``(rows in a, rows in b)`` when the row counts differ (values are then not compared).
    diff_values : list
        ``((column name, row), (value_a, value_b))`` for the first ``numdiffs`` differing rows.
    diff_total : int
        Number of differing (column, row) cells.
    diff_ratio : float
        ``diff_total / (rows * columns of a)``.
    """

    def __init__(self, a: Any, b: Any, ignore_fields: Any = (), numdiffs: int = 10, rtol: float = 0.0,
                 atol: float = 0.0) -> None:
        """Options as for :class:`FITSDiff` (``"*"`` in ``ignore_fields`` skips every column)."""
        self.ignore_fields = set(ignore_fields)
        self.numdiffs = numdiffs
        self.rtol = rtol
        self.atol = atol

        self.common_columns: list = []
        self.common_column_names: set[str] = set()
        self.diff_rows: tuple = ()
        self.diff_column_count: tuple = ()
        self.diff_columns: tuple = ()
        self.diff_column_attributes: list = []
        self.diff_column_names: tuple = ()
        self.diff_values: list = []
        self.diff_ratio: float = 0
        self.diff_total = 0

        super().__init__(a, b)

    def _diff(self) -> None:
        columns_a, columns_b = list(self.a.columns), list(self.b.columns)
        if len(columns_a) != len(columns_b):
            self.diff_column_count = (len(columns_a), len(columns_b))
        if "*" in self.ignore_fields:
            return

        ignored = {name.lower() for name in self.ignore_fields}
        by_name_a = {c.name.lower(): c for c in columns_a if c.name.lower() not in ignored}
        by_name_b = {c.name.lower(): c for c in columns_b if c.name.lower() not in ignored}
        keyed_a = {(name, _format_key(c)): c for name, c in by_name_a.items()}
        keyed_b = {(name, _format_key(c)): c for name, c in by_name_b.items()}

        # A column common to both tables is represented by the object from the table with
        # fewer compared columns (b's on a tie), as astropy does; it decides the name's case.
        source = keyed_a if len(keyed_a) < len(keyed_b) else keyed_b
        self.common_columns = sorted((source[key] for key in keyed_a.keys() & keyed_b.keys()),
                                     key=lambda column: column.name)
        self.common_column_names = {column.name.lower() for column in self.common_columns}

        only_a = {key[0]: keyed_a[key] for key in keyed_a.keys() - keyed_b.keys()}
        only_b = {key[0]: keyed_b[key] for key in keyed_b.keys() - keyed_a.keys()}
        if only_a or only_b:
            self.diff_columns = (only_a, only_b)
            self.diff_column_names = (
                [c.name for c in columns_a if c.name.lower() in only_a],
                [c.name for c in columns_b if c.name.lower() in only_b],
            )

        if len(self.a) != len(self.b):
            self.diff_rows = (len(self.a), len(self.b))
            return
        if len(self.a) == 0:
            return

        for column in self.common_columns:
            name = column.name.lower()
            column_a, column_b = by_name_a[name], by_name_b[name]
            for attr in _COLUMN_ATTRIBUTES:
                value_a, value_b = getattr(column_a, attr, None), getattr(column_b, attr, None)
                if _values_differ(value_a, value_b):
                    self.diff_column_attributes.append(((column.name.upper(), attr), (value_a, value_b)))

            data_a, data_b = self.a[column.name], self.b[column.name]
            rows = self._differing_rows(column, data_a, data_b)
            self.diff_total += len(np.unique(rows))

            if self.numdiffs >= 0:
                if len(self.diff_values) >= self.numdiffs:
                    continue
                budget = self.numdiffs - len(self.diff_values)
            else:
                budget = len(rows)
            # Multi-element cells yield one index per differing element; the budget counts them
            # all but each row is recorded once, as astropy does.
            previous = None
            for row in islice(rows, budget):
                if row == previous:
                    continue
                previous = row
                self.diff_values.append(((column.name, row), (data_a[row], data_b[row])))

        self.diff_ratio = float(self.diff_total) / float(len(self.a) * len(self.a.dtype.fields))

    def _differing_rows(self, column: Any, data_a: Any, data_b: Any) -> Any:
        """Row index of every differing element (repeated for multi-element cells), in order."""
        tform = str(column.format).upper()
        if "P" in tform or "Q" in tform or np.shape(data_a)[1:] != np.shape(data_b)[1:]:
            # One index per differing row; cells of unequal shape are different.
            return [row for row, (cell_a, cell_b) in enumerate(zip(data_a, data_b))
                    if _cells_differ(cell_a, cell_b, self.rtol, self.atol)]
        if np.issubdtype(data_a.dtype, np.floating) and np.issubdtype(data_b.dtype, np.floating):
            return _where_not_close(data_a, data_b, self.rtol, self.atol)[0]
        return np.nonzero(data_a != data_b)[0]

    def _report(self) -> None:
        if self.diff_column_count:
            self._writeln(" Tables have different number of columns:")
            self._writeln(f"  a: {self.diff_column_count[0]}")
            self._writeln(f"  b: {self.diff_column_count[1]}")

        if self.diff_column_names:
            for side, names, columns in (("a", self.diff_column_names[0], self.diff_columns[0]),
                                         ("b", self.diff_column_names[1], self.diff_columns[1])):
                for name in names:
                    self._writeln(f" Extra column {name} of format {columns[name.lower()].format} in {side}")

        for (name, attr), (value_a, value_b) in self.diff_column_attributes:
            self._writeln(f" Column {name} has different {_COLUMN_ATTRIBUTES[attr]}:")
            _report_values(value_a, value_b, self._fileobj, self._indent + 1, self.rtol, self.atol)

        if self.diff_rows:
            self._writeln(" Table rows differ:")
            self._writeln(f"  a: {self.diff_rows[0]}")
            self._writeln(f"  b: {self.diff_rows[1]}")
            self._writeln(" No further data comparison performed.")
            return
        if not self.diff_values:
            return

        for (name, row), (value_a, value_b) in self.diff_values:
            self._writeln(f" Column {name} data differs in row {row}:")
            _report_values(value_a, value_b, self._fileobj, self._indent + 1, self.rtol, self.atol)
        if self.numdiffs < self.diff_total:
            self._writeln(f" ...{self.diff_total - self.numdiffs} additional difference(s) found.")
            self._writeln(" ...")
        self._writeln(
            f" {self.diff_total} different table data element(s) found ({self.diff_ratio:.2%} different)."
        )
