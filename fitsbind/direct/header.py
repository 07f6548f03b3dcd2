"""FITSHeader: a live, write-through view of one HDU's header cards."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from fitsbind._fitsfile import FitsFile, is_structural, parse_cards
from fitsbind.errors import FITSKeyError, FITSTypeError, FITSValueError

if TYPE_CHECKING:
    from fitsbind.direct.hdu import HDU

#: keywords whose cards hold free text and repeat; reading one gives a list of the texts
COMMENTARY = frozenset(["COMMENT", "HISTORY", ""])


class Card(NamedTuple):
    """One header card as read from the file.

    ``value`` is typed (bool, int, float, complex, str, or None when undefined); for
    COMMENT, HISTORY and blank-keyword cards it is the card's text. ``image`` is the card as
    stored: 80 characters, or a multiple of 80 for a long string continued over CONTINUE cards.
    """

    keyword: str
    value: Any
    comment: str
    image: str


def normalize_key(key: str) -> str:
    """Keyword as fitsbind compares it: upper case, without a ``HIERARCH`` prefix."""
    if not isinstance(key, str):
        raise FITSTypeError(f"header keywords are str, not {type(key).__name__}")
    name = key.strip().upper()
    if name.startswith("HIERARCH "):
        name = name[9:].strip()
    return name


# keywords read one by one through CFITSIO before the whole header is parsed instead
_DIRECT_READS = 8
# what _value returns for an absent keyword when the caller must raise
_MISSING = object()


class FITSHeader:
    """The header of one HDU of an open :class:`~fitsbind.FITS` file.

    Reads come from cards cached in memory; every change is written to the file first and
    the cache is refreshed from the file afterwards, so the view never shows a card the file
    does not hold. Structural keywords (SIMPLE, XTENSION, BITPIX, NAXISn, PCOUNT, GCOUNT,
    TFIELDS, TFORMn, TBCOLn, THEAP, EXTEND, END) are maintained by fitsbind and CFITSIO and
    cannot be set or deleted here.

    Values are bool, int, float, complex, str, or None (an undefined value). Assigning a
    ``(value, comment)`` tuple sets both; assigning a bare value keeps the existing comment.
    Keywords longer than 8 characters, or holding spaces, are written as HIERARCH cards; string
    values longer than a card continue over CONTINUE cards. ``header["COMMENT"]`` (also
    HISTORY and ``""`` for blank cards) gives the list of those cards' texts, and assigning to
    it appends a new card.

    A blank card at the very end of a header counts as header padding when the file is read
    again (CFITSIO's convention), and the next appended card takes its place.
    """

    def __init__(self, hdu: HDU) -> None:
        self._hdu = hdu
        self._cards: list[Card] | None = None
        # keyword (upper case) -> its first card, built with the cache
        self._first: dict[str, Card] = {}
        # keys read through CFITSIO before the header was parsed
        self._direct_reads = 0

    # -- reading ----------------------------------------------------------------------------

    @property
    def cards(self) -> list[Card]:
        """Every card, in order (a copy; END is not included)."""
        return list(self._load())

    def _load(self) -> list[Card]:
        # a live view has nothing to show once the file is closed: the closed-file error, not
        # cards that may be stale
        self._hdu._fits._handle()
        if self._cards is None:
            with self._hdu._selected() as f:
                self._cards = [Card(*c) for c in parse_cards(f.header_string())]
            self._first = {}
            for card in reversed(self._cards):
                self._first[card.keyword.upper()] = card
        return self._cards

    def _invalidate(self) -> None:
        self._cards = None

    def _find(self, key: str) -> Card | None:
        self._load()
        return self._first.get(normalize_key(key))

    def __getitem__(self, key: str) -> Any:
        value = self._value(key, _MISSING)
        if value is _MISSING:
            raise FITSKeyError(f"{self._where()}: keyword {key!r} not found",
                               filename=self._hdu._fits.filename, hdu=self._hdu.index)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """Value of ``key``, or ``default`` when the header has no such card."""
        return self._value(key, default)

    def _value(self, key: str, default: Any) -> Any:
        name = normalize_key(key)
        if name in COMMENTARY:
            return [c.value for c in self._load() if c.keyword.upper() == name]
        if self._cards is None and self._direct_reads < _DIRECT_READS:
            # a few keywords from a header not parsed yet: let CFITSIO find each (more, and
            # parsing the header once to look them up in a dict costs less)
            self._direct_reads += 1
            with self._hdu._selected() as f:
                found = f.read_key(name, missing_ok=True)
            return default if found is None else found[0]
        card = self._find(name)
        return default if card is None else card.value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._find(key) is not None

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> list[str]:
        """Keywords in card order; repeated keywords (COMMENT, HISTORY) appear each time."""
        return [c.keyword for c in self._load()]

    def values(self) -> list[Any]:
        """Values in card order (see :meth:`keys`)."""
        return [c.value for c in self._load()]

    def items(self) -> list[tuple[str, Any]]:
        """``(keyword, value)`` pairs in card order (see :meth:`keys`)."""
        return [(c.keyword, c.value) for c in self._load()]

    def comment_of(self, key: str) -> str:
        """The comment of ``key``'s card (``""`` if it has none). KeyError if absent."""
        card = self._find(key)
        if card is None:
            raise FITSKeyError(f"{self._where()}: keyword {key!r} not found",
                               filename=self._hdu._fits.filename, hdu=self._hdu.index)
        return card.comment

    def to_dict(self) -> dict[str, Any]:
        """Keyword → value for the first card of each keyword; COMMENT, HISTORY and blank
        cards become lists of their texts."""
        result: dict[str, Any] = {}
        for card in self._load():
            if card.keyword.upper() in COMMENTARY:
                result.setdefault(card.keyword, []).append(card.value)
            else:
                result.setdefault(card.keyword, card.value)
        return result

    def tostring(self, *, endcard: bool = True, padding: bool = True) -> str:
        """The header as FITS text: the card images, then END, padded with blanks to a
        multiple of 2880 characters (one FITS block)."""
        text = "".join(c.image for c in self._load())
        if endcard:
            text += "END".ljust(80)
        if padding and len(text) % 2880:
            text += " " * (2880 - len(text) % 2880)
        return text

    def __repr__(self) -> str:
        return "\n".join(c.image[i:i + 80].rstrip() for c in self._load()
                         for i in range(0, len(c.image), 80))

    def _where(self) -> str:
        return f"{self._hdu._fits.filename}, HDU {self._hdu.index}"

    # -- writing ----------------------------------------------------------------------------

    def _check_settable(self, key: str) -> str:
        check_entries([(key, None, None)], self._hdu._fits.filename, self._hdu.index)
        return normalize_key(key)

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, tuple):
            if len(value) != 2:
                raise FITSValueError("assign a value or a (value, comment) tuple")
            value, comment = value
        else:
            comment = None
        self.set(key, value, comment)

    def set(self, key: str, value: Any, comment: str | None = None) -> None:
        """Set ``key`` to ``value`` (updating its first card, or appending one); ``comment``
        None keeps the current comment. COMMENT/HISTORY/blank keys append a card."""
        name = self._check_settable(key)
        self._hdu._before_header_change(name)
        try:
            with self._hdu._selected(writing=True) as f:
                write_card(f, key, value, comment)
        finally:
            self._changed(name)

    def set_comment(self, key: str, comment: str) -> None:
        """Replace the comment of ``key``'s card, keeping its value."""
        card = self._find(key)
        if card is None:
            raise FITSKeyError(f"{self._where()}: keyword {key!r} not found",
                               filename=self._hdu._fits.filename, hdu=self._hdu.index)
        self.set(key, card.value, comment)

    def __delitem__(self, key: str) -> None:
        name = self._check_settable(key)
        if self._find(name) is None:
            raise FITSKeyError(f"{self._where()}: keyword {key!r} not found",
                               filename=self._hdu._fits.filename, hdu=self._hdu.index)
        self._hdu._before_header_change(name)
        try:
            with self._hdu._selected(writing=True) as f:
                # every card of the keyword, as for a dict key
                while True:
                    try:
                        f.delete_key(key.strip())
                    except KeyError:
                        break
        finally:
            self._changed(name)

    def update(self, other: Mapping[str, Any] | FITSHeader | Iterable[tuple] = (),
               **kwargs: Any) -> None:
        """Set several keywords: from a mapping (values may be ``(value, comment)``), another
        FITSHeader (its non-structural cards with their comments; COMMENT and HISTORY cards
        are appended) or an iterable of ``(key, value)`` / ``(key, value, comment)``."""
        entries = entries_of(other) + entries_of(kwargs)
        # validate every name before writing any card
        for key, _, _ in entries:
            self._check_settable(key)
        for key, value, comment in entries:
            self.set(key, value, comment)

    def add_comment(self, text: str) -> None:
        """Append COMMENT cards holding ``text`` (split over cards of 72 characters)."""
        self._append_commentary("COMMENT", text)

    def add_history(self, text: str) -> None:
        """Append HISTORY cards holding ``text`` (split over cards of 72 characters)."""
        self._append_commentary("HISTORY", text)

    def add_blank(self, text: str = "") -> None:
        """Append a card with a blank keyword holding ``text`` (at most 72 characters)."""
        self._append_commentary("", text)

    def _append_commentary(self, name: str, text: str) -> None:
        self.set(name, text)

    def _changed(self, name: str) -> None:
        self._invalidate()
        self._hdu._after_header_change(name)


def write_card(f: FitsFile, key: str, value: Any, comment: str | None = None) -> None:
    """Write one keyword to the current HDU of handle ``f``: COMMENT, HISTORY and blank
    keywords append a card with the text ``value``; others are set (updated in place, or
    appended when new)."""
    name = normalize_key(key)
    if name in COMMENTARY:
        text = "" if value is None else str(value)
        if name == "COMMENT":
            f.write_comment(text)
        elif name == "HISTORY":
            f.write_history(text)
        elif len(text) > 72:
            raise FITSValueError(f"blank-keyword card text is {len(text)} characters; at most 72")
        else:
            f.write_record(" " * 8 + text)
    else:
        f.write_key(key.strip(), value, comment)


def check_entries(entries: list[tuple[str, Any, str | None]], filename: str,
                  hdu: int | None) -> None:
    """Raise before anything is written if an entry names a structural keyword."""
    for key, _, _ in entries:
        name = normalize_key(key)
        if is_structural(name):
            where = filename if hdu is None else f"{filename}, HDU {hdu}"
            raise FITSValueError(
                f"{where}: {name} is a structural keyword; fitsbind keeps it in step with the "
                "data (create the HDU with the shape and dtype you need, or extend it) and it "
                "cannot be set or deleted through the header", filename=filename, hdu=hdu)


def entries_of(other: Any) -> list[tuple[str, Any, str | None]]:
    """``(key, value, comment)`` entries of a mapping, a FITSHeader (its non-structural cards)
    or an iterable of ``(key, value)`` / ``(key, value, comment)``; mapping values may be
    ``(value, comment)`` tuples."""
    return [(k, v[0], v[1]) if isinstance(v, tuple) and c is None and len(v) == 2 else (k, v, c)
            for k, v, c in _entries(other)]


def _entries(other: Any) -> list[tuple[str, Any, str | None]]:
    if isinstance(other, FITSHeader):
        return [(c.keyword, c.value, c.comment) for c in other._load()
                if not is_structural(c.keyword)]
    if isinstance(other, Mapping):
        return [(k, v, None) for k, v in other.items()]
    entries = []
    for item in other:
        if not isinstance(item, tuple) or len(item) not in (2, 3):
            raise FITSTypeError("header entries are (key, value) or (key, value, comment) tuples")
        entries.append((item[0], item[1], item[2] if len(item) == 3 else None))
    return entries
