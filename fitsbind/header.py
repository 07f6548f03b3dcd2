"""FITS headers as astropy.io.fits has them: an ordered list of cards that is also a dict.

A :class:`Header` is looked up like a dict (``header["NAXIS"]``, case-insensitive; the first card
wins when a keyword repeats), like a list (``header[0]``, slices), by ``(keyword, n)`` for the
n-th repeat of a keyword, and by wildcard patterns (``header["NAXIS*"]``, ``?`` and ``...`` too,
giving a new header of copies). ``header["HISTORY"]`` and ``header["COMMENT"]`` give a list-like
view of all those cards; ``header.comments[key]`` reads and sets comments; ``header.cards``
exposes the :class:`~fitsbind.card.Card` objects.

Reading a header (:meth:`Header.fromstring`) only finds each card's keyword; values and comments
are parsed on first access, and keywords are indexed so that a look-up costs O(1).
"""

from __future__ import annotations

import bz2
import collections.abc
import copy
import gzip
import io
import itertools
import lzma
import numbers
import os
import re
import warnings

import numpy as np

from fitsbind.card import (
    _COMMENTARY,
    _COMMENTARY_HEADS,
    _STANDARD_KEYWORD,
    CARD_LENGTH,
    KEYWORD_LENGTH,
    UNDEFINED,
    Card,
    _pad,
)
from fitsbind.errors import FITSError
from fitsbind.verify import FITSUserWarning

__all__ = ["Header"]

BLOCK_SIZE = 2880
END_CARD = "END" + " " * 77
# the characters a header record may hold
_RECORD_CHARS = frozenset(map(chr, range(0x20, 0x7F)))
# A valid END card, or an END keyword followed by junk (not by more keyword characters, which
# would make it another keyword such as ENDX); the junk is reported and cleaned when read.
_END_RE = re.compile(rb"(?:(?P<valid>END {77}) *)|(?P<invalid>END$|END {0,76}[^A-Z0-9_-])")
_NOT_OVERWRITING = 'File {} already exists. If you mean to replace it then use the argument "overwrite=True".'
# structural keywords that only make sense in the HDU they were written for
_TABLE_KEYWORDS = ("TFORM", "TSCAL", "TZERO", "TNULL", "TTYPE", "TUNIT", "TDISP", "TDIM", "THEAP",
                   "TBCOL")
_STRUCTURE_KEYWORDS = ("SIMPLE", "XTENSION", "BITPIX", "NAXIS", "EXTEND", "PCOUNT", "GCOUNT",
                       "GROUPS", "BSCALE", "BZERO", "TFIELDS")

# Records of 80 characters each of which Header.fromstring's loop would find a plain keyword
# in: a value card ("= " in columns 9-10, no "=" before) that cannot be record-valued (no
# quote followed by ": "; the look-ahead may look past the record's end, which only sends a
# header to the loop needlessly), or a COMMENT, HISTORY or blank-keyword card without "= ".
# No END record (the loop stops there); fromstring also requires that no CONTINUE appears
# (records after one are joined to it).
_PLAIN_RECORDS = re.compile(r"(?:(?=[^=]{8}= (?!.{0,70}'.{0,69}: )|(?:COMMENT |HISTORY | {8})"
                            r"(?!= )).{80})*", re.S)
_NUMBERED = re.compile(r"([A-Z]+)([0-9]+)")
# a keyword as the index holds standard keywords
_PLAIN_KEYWORD = re.compile(r"[A-Z0-9_-]{1,8}")
# what Header._indexed finds: no such card; the general look-up must decide
_ABSENT = object()
_LOOK_FURTHER = object()


class Header:
    """A FITS header: ``Header(cards=(), copy=False)``.

    ``cards`` may be a list of :class:`~fitsbind.card.Card`, of ``(keyword, value[, comment])``
    tuples or of keyword strings, a ``dict`` of keyword to value, or another ``Header`` (whose
    Card objects are shared unless ``copy=True``).
    """

    def __init__(self, cards=(), copy: bool = False) -> None:
        self.clear()
        if isinstance(cards, Header):
            if copy:
                cards = cards.copy()
            cards = cards.cards
        elif isinstance(cards, dict):
            cards = cards.items()
        for card in cards:
            self.append(card, end=True)
        self._edited = False

    @property
    def _modified(self) -> bool:
        """Whether the header changed since it was made or read: a card added, removed or
        moved, or a card's keyword, value or comment set to something else (or its text
        fixed when first shown). Setting a card in the place it already has, or to the value
        it already holds, is no change."""
        # (a card still unread is its text as read: unchanged)
        return self._edited or any(card._modified for card in self._records
                                   if card.__class__ is not str)

    # Cards read from a file stay their 80-character text until touched: a header is mostly
    # read for a few values. ``_records`` holds Cards and such texts (only ones whose keyword
    # fromstring found plain, see _read_card); ``_unread`` counts the texts.
    _unread = 0

    @property
    def _cards(self) -> list[Card]:
        """Every card as a Card (the texts still unread are made Cards first)."""
        if self._unread:
            self._records[:] = [_read_card(card) if card.__class__ is str else card
                                for card in self._records]
            self._unread = 0
        return self._records

    @_cards.setter
    def _cards(self, cards: list[Card]) -> None:
        self._records = cards
        self._unread = 0

    def _card(self, position: int) -> Card:
        """The card at ``position`` (an index into the list), made a Card alone if unread."""
        card = self._records[position]
        if card.__class__ is str:
            card = self._records[position] = _read_card(card)
            self._unread -= 1
        return card

    # ------------------------------------------------------------------------ container protocol

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self):
        for card in self._cards:
            yield card.keyword

    def __contains__(self, keyword) -> bool:
        if keyword in self._keyword_indices or keyword in self._rvkc_indices:
            return True
        if keyword.__class__ is str and _PLAIN_KEYWORD.fullmatch(keyword):
            return False
        # not in the plain index: it may still be "(key, n)", lower case, HIERARCH ...
        try:
            self._cardindex(keyword)
        except (KeyError, IndexError):
            return False
        return True

    def __getitem__(self, key):
        if key.__class__ is str:
            value = self._indexed(key)
            if value is _ABSENT:
                raise KeyError(f"Keyword {key!r} not found.")
            if value is not _LOOK_FURTHER:
                return value
        if isinstance(key, slice):
            return self.__class__([copy.copy(card) for card in self._cards[key]])
        if self._haswildcard(key):
            return self.__class__([copy.copy(self._cards[i]) for i in self._wildcardmatch(key)])
        if isinstance(key, str):
            key = key.strip()
            if key.upper() in _COMMENTARY:
                return _HeaderCommentaryCards(self, key.upper())
        keyword = key[0] if isinstance(key, tuple) else key
        card = self._card(self._cardindex(key))
        if card.field_specifier is not None and keyword == card.rawkeyword:
            # the bare keyword of a record-valued card names the whole "field: value" string
            return card.rawvalue
        value = card.value
        return None if value is UNDEFINED else value

    def __setitem__(self, key, value) -> None:
        if self._set_slice(key, value, self):
            return
        comment = None
        if isinstance(value, tuple):
            # (astropy fails obscurely on an empty tuple; it gets the same error as a long one)
            if not 0 < len(value) <= 2:
                raise ValueError(
                    "A Header item may be set with either a scalar value, a 1-tuple containing a "
                    "scalar value, or a 2-tuple containing a scalar value and comment string."
                )
            if len(value) == 1:
                value = value[0]
            else:
                value, comment = value
                if comment is None:
                    comment = ""
        if value is None:
            value = UNDEFINED
        if isinstance(key, numbers.Integral):
            card = self._cards[key]
        elif isinstance(key, tuple):
            card = self._card(self._cardindex(key))
        else:
            # a keyword: update it, or add it (a new commentary card is always added)
            self._update((key, value, comment))
            return
        card.value = value
        if comment is not None:
            card.comment = comment

    def __delitem__(self, key) -> None:
        if isinstance(key, slice) or self._haswildcard(key):
            if isinstance(key, slice):
                indices = range(*key.indices(len(self)))
                if key.step and key.step < 0:
                    indices = reversed(indices)
            else:
                indices = self._wildcardmatch(key)
            for index in reversed(indices):
                del self[index]
            return
        if isinstance(key, str):
            # every card with this keyword goes
            key = Card.normalize_keyword(key)
            table = self._keyword_indices if key in self._keyword_indices else self._rvkc_indices
            if key not in table:
                raise KeyError(f"Keyword '{key}' not found.")
            for index in reversed(table[key]):
                del self[index]
            return

        index = self._cardindex(key)
        card = self._cards.pop(index)
        self._edited = True
        self._unindex(self._keyword_indices, Card.normalize_keyword(card.keyword), index)
        if card.field_specifier is not None:
            self._unindex(self._rvkc_indices, card.rawkeyword, index)
        self._updateindices(index, increment=False)

    @staticmethod
    def _unindex(table: dict, keyword: str, index: int) -> None:
        positions = table[keyword]
        positions.remove(index)
        if not positions:
            del table[keyword]

    def __repr__(self) -> str:
        return self.tostring(sep="\n", endcard=False, padding=False)

    def __str__(self) -> str:
        return self.tostring()

    def __eq__(self, other) -> bool:
        # equal when the text is: a dict never equals a header, a header string may
        return str(self) == str(other)

    __hash__ = None

    def __add__(self, other) -> Header:
        result = self.copy(strip=False)
        result.extend(other)
        return result

    def __iadd__(self, other) -> Header:
        self.extend(other)
        return self

    def _ipython_key_completions_(self):
        return self.__iter__()

    @property
    def cards(self) -> _CardAccessor:
        """The :class:`~fitsbind.card.Card` objects, indexable like the header itself."""
        return _CardAccessor(self)

    @property
    def comments(self) -> _HeaderComments:
        """The comments, looked up like values: ``header.comments["NAXIS"]``; assignable."""
        return _HeaderComments(self)

    # ------------------------------------------------------------------------ reading and writing

    @classmethod
    def fromstring(cls, data: str | bytes, sep: str = "") -> Header:
        """A header from its text: 80-character records (``bytes`` are read as latin-1) up to
        an END record or the end of ``data``.

        ``sep`` is the text between records, e.g. ``"\\n"`` for a header printed one card a line;
        when it holds characters a record cannot (a newline), records are split at it and may
        be shorter than 80 characters.
        """
        if isinstance(data, bytes):
            data = data.decode("latin1")
        if not sep and not len(data) % CARD_LENGTH and "CONTINUE" not in data and \
                _PLAIN_RECORDS.fullmatch(data):
            return cls._from_plain_records(data)
        if sep:
            texts = _split_records(data, sep)
        else:
            texts = _split_raw_records(data)
        header = cls()
        records = header._records
        plain = header._keyword_indices
        new = object.__new__
        position = 0
        unread = 0
        for text in texts:
            # the keyword where that is plain (the commonest cases, tested here rather than in
            # a call per card: headers have thousands); such a card stays its text until
            # touched (see _card). Anything else becomes a Card through the keyword parser
            # now, as reading a header must (its warnings included)
            keyword = None
            if len(text) != CARD_LENGTH:
                pass
            elif text[8:10] == "= ":
                head = text[:KEYWORD_LENGTH]
                quote = text.find("'", 10)
                # a record-valued card needs a quote then ": "; anything else is a plain keyword
                if "=" not in head and (quote < 0 or text.find(": ", quote) < 0):
                    keyword = head.strip().upper()
            elif text[:KEYWORD_LENGTH] in _COMMENTARY_HEADS:
                keyword = text[:KEYWORD_LENGTH].rstrip()
            if keyword is None:
                card = new(Card)
                card._image = _pad(text)
                card._verified = False
                keyword = Card.normalize_keyword(card.keyword)
                if card.field_specifier is not None:
                    header._rvkc_indices.setdefault(card.rawkeyword, []).append(position)
                records.append(card)
            else:
                records.append(text)
                unread += 1
            positions = plain.get(keyword)
            if positions is None:
                plain[keyword] = [position]
            else:
                positions.append(position)
            position += 1
        header._unread = unread
        return header

    @classmethod
    def _from_plain_records(cls, data: str) -> Header:
        """What :meth:`fromstring` makes of ``data`` when every record in it is one whose
        keyword its loop finds plain (see _PLAIN_RECORDS): the same records left unread and
        the same index, in a pass that does no more per record than cutting the keyword."""
        header = cls()
        size = len(data)
        header._records = [data[i:i + CARD_LENGTH] for i in range(0, size, CARD_LENGTH)]
        header._unread = len(header._records)
        index = header._keyword_indices
        keywords = [data[i:i + KEYWORD_LENGTH].strip().upper() for i in range(0, size, CARD_LENGTH)]
        for position, keyword in enumerate(keywords):
            positions = index.get(keyword)
            if positions is None:
                index[keyword] = [position]
            else:
                positions.append(position)
        return header

    @classmethod
    def fromfile(cls, fileobj, sep: str = "", endcard: bool = True, padding: bool = True) -> Header:
        """A header read from a file name or an open file positioned at the header.

        ``endcard``: an END record must be found (``OSError`` otherwise); ``padding``: the header
        must fill whole 2880-byte blocks (``ValueError`` otherwise). A file with nothing left to
        read raises ``EOFError``. ``sep`` as in :meth:`fromstring`; with a separator a named file
        is read as latin-1 text.
        """
        close = False
        if isinstance(fileobj, (str, bytes, os.PathLike)):
            path = os.path.expanduser(fileobj)
            fileobj = open(path, encoding="latin1") if sep else open(path, "rb")
            close = True
        try:
            binary = _is_binary(fileobj)

            def blocks(size: int):
                while True:
                    block = fileobj.read(size)
                    if not block:
                        return
                    yield block

            return cls._from_blocks(blocks, binary, sep, endcard, padding)[1]
        finally:
            if close:
                fileobj.close()

    @classmethod
    def _from_blocks(cls, block_iter, is_binary: bool, sep: str, endcard: bool, padding: bool):
        """Read header blocks from ``block_iter(size)`` (an iterator of ``bytes``, or of ``str``
        when not ``is_binary``) until the block holding END; return the header text and the
        :class:`Header` parsed from it."""
        block_size = _block_size(sep)
        record_size = CARD_LENGTH + len(sep)
        blocks = block_iter(block_size)
        try:
            block = next(blocks)
        except StopIteration:
            raise EOFError() from None
        texts = []
        at_eof = False
        while True:
            if not is_binary:
                block = block.encode("ascii")
            found, block = cls._find_end_card(block, record_size)
            texts.append(_decode_ascii(block))
            if found:
                break
            block = next(blocks, b"")
            if not block:
                at_eof = True
                break
        text = "".join(texts)
        _check_padding(text, block_size, at_eof, check_block_size=padding)
        if not found and at_eof and endcard:
            raise FITSError("Header missing END card.")  # an OSError, as astropy raises
        return text, cls.fromstring(text, sep=sep)

    @classmethod
    def _find_end_card(cls, block: bytes, card_len: int) -> tuple[bool, bytes]:
        """Whether ``block`` holds the END record (at a record boundary), and the block with a
        malformed END record replaced by a clean one (after a warning)."""
        for match in _END_RE.finditer(block):
            offset = match.start()
            if offset % card_len:
                continue
            if match.group("invalid"):
                trailing = block[offset + 3:offset + card_len - 3].rstrip()
                if trailing:
                    warnings.warn(
                        f"Unexpected bytes trailing END keyword: {repr(trailing).lstrip('ub')}; "
                        "these bytes will be replaced with spaces on write.",
                        FITSUserWarning,
                        stacklevel=4,
                    )
                else:
                    warnings.warn(
                        "Missing padding to end of the FITS block after the END keyword; "
                        "additional spaces will be appended to the file upon writing to pad out "
                        f"to {BLOCK_SIZE} bytes.",
                        FITSUserWarning,
                        stacklevel=4,
                    )
                block = block[:offset] + END_CARD.encode("ascii") + block[offset + len(END_CARD):]
            return True, block
        return False, block

    def tostring(self, sep: str = "", endcard: bool = True, padding: bool = True) -> str:
        """The header text: each 80-character record, ``sep`` between records, then (``endcard``)
        the END record, then (``padding``) blanks to a multiple of 2880 characters."""
        records = []
        for card in self._cards:
            image = str(card)
            if len(image) == CARD_LENGTH:
                records.append(image)
            else:
                records.extend(image[i:i + CARD_LENGTH] for i in range(0, len(image), CARD_LENGTH))
        text = sep.join(records)
        if endcard:
            text += sep + END_CARD
        if padding:
            text += " " * _pad_length(len(text))
        return text

    def tofile(self, fileobj, sep: str = "", endcard: bool = True, padding: bool = True,
               overwrite: bool = False) -> None:
        """Write :meth:`tostring` to a file name (``.gz``, ``.bz2`` and ``.xz`` names are
        compressed) or to an open binary file or file-like object (None only checks that the
        header can be written). An existing non-empty file
        raises ``OSError`` unless ``overwrite``; a padded header that is not whole 2880-byte
        blocks (with ``sep``) raises ``OSError``."""
        text = self.tostring(sep=sep, endcard=endcard, padding=padding)
        block_size = _block_size(sep)
        if padding and len(text) % block_size:
            raise OSError(
                f"Header size ({len(text) - block_size + BLOCK_SIZE}) is not a multiple of "
                f"block size ({BLOCK_SIZE})."
            )
        if fileobj is None:
            return      # as astropy: no file simulates the write
        stream, close = _open_output(fileobj, overwrite)
        try:
            data = text.encode("ascii")
            if hasattr(stream, "flush"):
                stream.flush()
            stream.write(data if _is_binary(stream) else data.decode("ascii"))
            if hasattr(stream, "flush"):
                stream.flush()
        finally:
            if close:
                stream.close()

    @classmethod
    def fromtextfile(cls, fileobj, endcard: bool = False) -> Header:
        """A header from a text file of one card per line (:meth:`fromfile` with ``sep="\\n"``,
        no padding)."""
        return cls.fromfile(fileobj, sep="\n", endcard=endcard, padding=False)

    def totextfile(self, fileobj, endcard: bool = False, overwrite: bool = False) -> None:
        """Write the header one card per line (:meth:`tofile` with ``sep="\\n"``, no padding)."""
        self.tofile(fileobj, sep="\n", endcard=endcard, padding=False, overwrite=overwrite)

    # ------------------------------------------------------------------------ dict-like API

    def clear(self) -> None:
        """Remove every card."""
        self._edited = True
        self._cards = []
        # normalised keyword -> positions of its cards, ascending
        self._keyword_indices = {}
        # keyword of record-valued cards ("DP1") -> positions
        self._rvkc_indices = {}

    def copy(self, strip: bool = False) -> Header:
        """A header of copies of the cards; ``strip`` removes the HDU-structure keywords (see
        :meth:`strip`)."""
        result = self.__class__()
        # (an unread card's text is copied as it is: a str is immutable)
        result._records = [card if card.__class__ is str else copy.copy(card)
                           for card in self._records]
        result._unread = self._unread
        result._keyword_indices = {key: list(value) for key, value in self._keyword_indices.items()}
        result._rvkc_indices = {key: list(value) for key, value in self._rvkc_indices.items()}
        if strip:
            result.strip()
        return result

    def __copy__(self) -> Header:
        return self.copy()

    def __deepcopy__(self, *args, **kwargs) -> Header:
        return self.copy()

    @classmethod
    def fromkeys(cls, iterable, value=None) -> Header:
        """A header with a card for each keyword of ``iterable``, all with ``value`` (a
        ``(value, comment)`` tuple sets comments too)."""
        header = cls()
        if not isinstance(value, tuple):
            value = (value,)
        for keyword in iterable:
            header.append((keyword, *value))
        return header

    def get(self, key, default=None):
        """``header[key]``, or ``default`` when there is no such card."""
        if key.__class__ is str:
            value = self._indexed(key)
            if value is _ABSENT:
                return default
            if value is not _LOOK_FURTHER:
                return value
        try:
            return self[key]
        except (KeyError, IndexError):
            return default

    def set(self, keyword: str, value=None, comment: str | None = None, before=None, after=None) -> None:
        """Set the value and/or comment of ``keyword``, adding the card if needed, optionally
        placing it before or after another card (a keyword or index; ``before`` wins).

        ``None`` for ``value`` or ``comment`` keeps the existing one (``""`` blanks it).
        """
        if (
            len(keyword) <= KEYWORD_LENGTH
            and _STANDARD_KEYWORD.match(keyword)
            and keyword not in self._keyword_indices
        ):
            # a trial card tells whether keyword and value make a record-valued card
            new_keyword = Card(keyword, value, comment).keyword
        else:
            new_keyword = keyword
        if new_keyword not in _COMMENTARY and new_keyword in self:
            if comment is None:
                comment = self.comments[keyword]
            if value is None:
                value = self[keyword]
            self[keyword] = (value, comment)
            if before is not None or after is not None:
                card = self._cards[self._cardindex(keyword)]
                self._relativeinsert(card, before=before, after=after, replace=True)
        elif before is not None or after is not None:
            self._relativeinsert((keyword, value, comment), before=before, after=after)
        else:
            self[keyword] = (value, comment)

    def items(self):
        """``(keyword, value)`` for every card, in order (a generator, as in astropy)."""
        for card in self._cards:
            value = card.value
            yield card.keyword, None if value is UNDEFINED else value

    def keys(self):
        """The keyword of every card, in order (a generator, as in astropy)."""
        for card in self._cards:
            yield card.keyword

    def values(self):
        """The value of every card, in order (a generator, as in astropy)."""
        for card in self._cards:
            value = card.value
            yield None if value is UNDEFINED else value

    def pop(self, *args):
        """``pop()`` / ``pop(index)`` as ``list.pop``; ``pop(keyword[, default])`` as
        ``dict.pop``."""
        if len(args) > 2:
            raise TypeError(f"Header.pop expected at most 2 arguments, got {len(args)}")
        key = args[0] if args else -1
        try:
            value = self[key]
        except (KeyError, IndexError):
            if len(args) == 2:
                return args[1]
            raise
        del self[key]
        return value

    def popitem(self) -> tuple:
        """Remove the first card and return its ``(keyword, value)``."""
        try:
            keyword, value = next(self.items())
        except StopIteration:
            raise KeyError("Header is empty") from None
        del self[keyword]
        return keyword, value

    def setdefault(self, key, default=None):
        """``header[key]``, first setting it to ``default`` if absent."""
        try:
            return self[key]
        except (KeyError, IndexError):
            self[key] = default
        return default

    def update(self, *args, **kwargs) -> None:
        """Update values of existing keywords and append new ones, like ``dict.update``.

        Accepts a Header, a mapping of keyword to value or ``(value, comment)``, an iterable of
        Cards or ``(keyword, value[, comment])`` tuples, and keyword arguments.
        """
        other = args[0] if args else None

        def from_mapping(keyword, value) -> None:
            if not isinstance(value, tuple):
                card = Card(keyword, value)
            elif 0 < len(value) <= 2:
                card = Card(keyword, *value)
            else:
                raise ValueError(
                    f"Header update value for key {keyword!r} is invalid; the value must be either "
                    "a scalar, a 1-tuple containing the scalar value, or a 2-tuple containing the "
                    "value and a comment string."
                )
            self._update(card)

        if other is None:
            pass
        elif isinstance(other, Header):
            for card in other.cards:
                self._update(card)
        elif hasattr(other, "items"):
            for keyword, value in other.items():
                from_mapping(keyword, value)
        elif hasattr(other, "keys"):
            for keyword in other.keys():
                from_mapping(keyword, other[keyword])
        else:
            for index, card in enumerate(other):
                if isinstance(card, Card):
                    self._update(card)
                elif isinstance(card, tuple) and 1 < len(card) <= 3:
                    self._update(Card(*card))
                else:
                    raise ValueError(
                        f"Header update sequence item #{index} is invalid; the item must either "
                        "be a 2-tuple containing a keyword and value, or a 3-tuple containing a "
                        "keyword, value, and comment string."
                    )
        if kwargs:
            self.update(kwargs)

    # ------------------------------------------------------------------------ list-like API

    def append(self, card=None, useblanks: bool = True, bottom: bool = False, end: bool = False) -> None:
        """Add a card (a Card, a keyword, or a ``(keyword, value[, comment])`` tuple; none for a
        blank card) after the last non-commentary card (``bottom``: after the last non-blank
        card; ``end``: at the very end). ``useblanks``: consume trailing blank cards so that the
        header does not grow."""
        card = _as_card(card, "appended to")
        if not end and card.is_blank:
            end = True
        cards = self._cards
        self._edited = True
        if end:
            cards.append(card)
            index = len(cards) - 1
        else:
            index = len(cards) - 1
            while index >= 0 and cards[index].is_blank:
                index -= 1
            if not bottom and card.keyword not in _COMMENTARY:
                while index >= 0 and cards[index].keyword in _COMMENTARY:
                    index -= 1
            index += 1
            cards.insert(index, card)
            if index < len(cards) - 1:
                # (a card placed last moves no other)
                self._updateindices(index)

        keyword = Card.normalize_keyword(card.keyword)
        self._keyword_indices.setdefault(keyword, []).append(index)
        if card.field_specifier is not None:
            self._rvkc_indices.setdefault(card.rawkeyword, []).append(index)
        if not end:
            if not bottom and card.keyword in _COMMENTARY:
                # placed before other cards of its kind at the bottom: keep positions ordered
                self._keyword_indices[keyword].sort()
            if useblanks and self._countblanks():
                self._useblanks(len(str(card)) // CARD_LENGTH)

    def extend(self, cards, strip: bool = True, unique: bool = False, update: bool = False,
               update_first: bool = False, useblanks: bool = True, bottom: bool = False,
               end: bool = False) -> None:
        """Append several cards (anything :class:`Header` accepts).

        ``strip``: drop HDU-structure keywords from them first. ``unique``: skip keywords already
        present (commentary cards only when the same text is present). ``update``: update
        existing keywords instead of skipping them; with ``update_first``, a leading SIMPLE
        replaces a leading XTENSION card or vice versa. ``useblanks``, ``bottom``, ``end`` as in
        :meth:`append`.
        """
        incoming = self.__class__(cards)
        if strip:
            incoming.strip()
        first = self._cards[0].keyword if self._cards else None
        # decide on every card before adding any: duplicates within ``cards`` are kept
        to_add = []
        for index, card in enumerate(incoming.cards):
            keyword = card.keyword
            if keyword in _COMMENTARY:
                if (unique or update) and keyword in self:
                    if card.is_blank:
                        to_add.append(card)
                    elif all(value != card.value for value in self[keyword]):
                        to_add.append(card)
                else:
                    to_add.append(card)
            elif unique and not update and keyword in self:
                continue
            elif update:
                if index == 0 and update_first:
                    if (keyword, first) in (("SIMPLE", "XTENSION"), ("XTENSION", "SIMPLE")):
                        del self[0]
                        self.insert(0, card)
                    else:
                        self[keyword] = (card.value, card.comment)
                elif keyword in self:
                    self[keyword] = (card.value, card.comment)
                else:
                    to_add.append(card)
            else:
                to_add.append(card)
        for card in to_add:
            self.append(card, useblanks=useblanks, bottom=bottom, end=end)

    def count(self, keyword: str) -> int:
        """How many cards have ``keyword`` (``KeyError`` if none)."""
        keyword = Card.normalize_keyword(keyword)
        if keyword not in self._keyword_indices:
            raise KeyError(f"Keyword {keyword!r} not found.")
        return len(self._keyword_indices[keyword])

    def index(self, keyword: str, start: int | None = None, stop: int | None = None) -> int:
        """Position of the first card with ``keyword`` in ``[start, stop)`` (searched backwards
        when ``stop < start``); ``ValueError`` if there is none."""
        if start is None:
            start = 0
        if stop is None:
            stop = len(self._cards)
        step = -1 if stop < start else 1
        wanted = Card.normalize_keyword(keyword)
        for index in range(start, stop, step):
            if self._cards[index].keyword.upper() == wanted:
                return index
        raise ValueError(f"The keyword {keyword!r} is not in the  header.")

    def insert(self, key, card, useblanks: bool = True, after: bool = False) -> None:
        """Insert a card before (``after``: after) the card at ``key`` (an index, a keyword or a
        ``(keyword, n)`` pair). An index past the end appends. A repeated non-commentary
        keyword is inserted with a warning."""
        index = key if isinstance(key, numbers.Integral) else self._cardindex(key)
        if after:
            if index == -1:
                index = len(self._cards)
            else:
                index += 1
        if index >= len(self._cards):
            self.append(card, end=True)
            return
        card = _as_card(card, "inserted into", blank_if_none=False)
        self._cards.insert(index, card)
        self._edited = True
        if index < 0:
            # where list.insert put it
            index = max(index + len(self._cards) - 1, 0)
        self._updateindices(index)

        keyword = Card.normalize_keyword(card.keyword)
        positions = self._keyword_indices.setdefault(keyword, [])
        positions.append(index)
        if len(positions) > 1:
            if keyword not in _COMMENTARY:
                warnings.warn(
                    f"A {keyword!r} keyword already exists in this header.  Inserting duplicate "
                    "keyword.",
                    FITSUserWarning,
                    stacklevel=2,
                )
            positions.sort()
        if card.field_specifier is not None:
            positions = self._rvkc_indices.setdefault(card.rawkeyword, [])
            positions.append(index)
            positions.sort()
        if useblanks:
            self._useblanks(len(str(card)) // CARD_LENGTH)

    def remove(self, keyword: str, ignore_missing: bool = False, remove_all: bool = False) -> None:
        """Remove the first card with ``keyword`` (``remove_all``: every one); a missing keyword
        raises ``KeyError`` unless ``ignore_missing``."""
        keyword = Card.normalize_keyword(keyword)
        if keyword not in self._keyword_indices:
            if not ignore_missing:
                raise KeyError(f"Keyword '{keyword}' not found.")
            return
        del self[self._keyword_indices[keyword][0]]
        while remove_all and keyword in self._keyword_indices:
            del self[self._keyword_indices[keyword][0]]

    def rename_keyword(self, oldkeyword: str, newkeyword: str, force: bool = False) -> None:
        """Give the first ``oldkeyword`` card the keyword ``newkeyword`` (same value, comment and
        place). A new keyword already present raises ``ValueError`` unless ``force``; commentary
        and value keywords cannot be renamed into each other."""
        old = Card.normalize_keyword(oldkeyword)
        new = Card.normalize_keyword(newkeyword)
        if new == "CONTINUE":
            raise ValueError("Can not rename to CONTINUE")
        if new in _COMMENTARY or old in _COMMENTARY:
            if not (new in _COMMENTARY and old in _COMMENTARY):
                raise ValueError("Regular and commentary keys can not be renamed to each other.")
        elif not force and new in self:
            raise ValueError(f"Intended keyword {new} already exists in header.")
        index = self.index(old)
        card = self._cards[index]
        del self[index]
        self.insert(index, (new, card.value, card.comment))

    def add_history(self, value: str, before=None, after=None) -> None:
        """Add a HISTORY card after the last one (or before/after the given card)."""
        self._add_commentary("HISTORY", value, before=before, after=after)

    def add_comment(self, value: str, before=None, after=None) -> None:
        """Add a COMMENT card after the last one (or before/after the given card)."""
        self._add_commentary("COMMENT", value, before=before, after=after)

    def add_blank(self, value: str = "", before=None, after=None) -> None:
        """Add a blank-keyword card after the last one (or before/after the given card)."""
        self._add_commentary("", value, before=before, after=after)

    def strip(self) -> None:
        """Remove the keywords that describe one HDU's structure (SIMPLE, XTENSION, BITPIX,
        NAXISn, PCOUNT, GCOUNT, TFORMn and the other column keywords, ...), so that the rest can
        serve another HDU."""
        limits = {"NAXIS": self.get("NAXIS", 0), **dict.fromkeys(_TABLE_KEYWORDS,
                                                                   self.get("TFIELDS", 0))}
        # the cards present are looked at, not every number up to NAXIS or TFIELDS: a damaged
        # header may claim 2**31 columns
        for keyword in list(self.keys()):
            match = _NUMBERED.fullmatch(keyword)
            if match is not None and match.group(1) in limits and \
                    0 < int(match.group(2)) <= limits[match.group(1)]:
                self.remove(keyword, ignore_missing=True)
        for name in _STRUCTURE_KEYWORDS:
            self.remove(name, ignore_missing=True)

    @property
    def data_size(self) -> int:
        """Bytes of data the header describes (``|BITPIX|/8 * GCOUNT * (PCOUNT + prod(NAXISn))``),
        without block padding."""
        return _hdr_data_size(self)

    @property
    def data_size_padded(self) -> int:
        """:attr:`data_size` rounded up to whole 2880-byte blocks."""
        size = self.data_size
        return size + _pad_length(size)

    # ------------------------------------------------------------------------ internals

    def _update(self, card) -> None:
        """Set an existing keyword's value (and comment, unless None) or add the card; repeated
        keywords are only ever created for commentary cards."""
        keyword, value, comment = card
        keyword = keyword.strip().upper()
        if keyword.startswith("HIERARCH "):
            keyword = keyword[9:]
        if keyword not in _COMMENTARY and keyword in self._keyword_indices:
            existing = self._card(self._keyword_indices[keyword][0])
            existing.value = value
            if comment is not None:
                existing.comment = comment
        elif keyword in _COMMENTARY:
            pieces = self._splitcommentary(keyword, value)
            if keyword in self._keyword_indices:
                # after the last card of the same kind
                index = self.index(keyword, start=len(self) - 1, stop=-1)
                blank = not (keyword or value or comment)
                for piece in reversed(pieces):
                    self.insert(index + 1, piece, useblanks=not blank)
            else:
                for piece in pieces:
                    self.append(piece, bottom=True)
        else:
            self.append(card)

    def _cardindex(self, key) -> int:
        """Position of the card ``key`` designates (keyword, ``(keyword, n)`` or index)."""
        if isinstance(key, str):
            keyword, n = key, 0
        elif isinstance(key, numbers.Integral):
            if key < 0:
                key += len(self._cards)
            if key < 0 or key >= len(self._cards):
                raise IndexError("Header index out of range.")
            return key
        elif isinstance(key, slice):
            return key
        elif isinstance(key, tuple):
            if len(key) != 2 or not isinstance(key[0], str) or not isinstance(key[1], numbers.Integral):
                raise ValueError(
                    "Tuple indices must be 2-tuples consisting of a keyword string and an integer "
                    "index."
                )
            keyword, n = key
        else:
            raise ValueError("Header indices must be either a string, a 2-tuple, or an integer.")

        keyword = Card.normalize_keyword(keyword)
        positions = self._keyword_indices.get(keyword)
        if keyword and not positions:
            if len(keyword) > KEYWORD_LENGTH or "." in keyword:
                raise KeyError(f"Keyword {keyword!r} not found.")
            # perhaps the keyword of record-valued cards
            positions = self._rvkc_indices.get(keyword)
        if not positions:
            raise KeyError(f"Keyword {keyword!r} not found.")
        try:
            return positions[n]
        except IndexError:
            raise IndexError(f"There are only {len(positions)} {keyword!r} cards in the header.") from None

    def _relativeinsert(self, card, before=None, after=None, replace: bool = False) -> None:
        """Insert ``card`` (a Card or tuple) before or after another card; ``replace`` moves the
        existing card with its keyword there instead."""
        anchor = after if before is None else before

        def target() -> int:
            if isinstance(anchor, numbers.Integral) and anchor >= len(self._cards):
                index = anchor
            else:
                index = self._cardindex(anchor)
            if before is None:
                index += 1
            return index

        if replace:
            old = self._cardindex(card.keyword)
            new = target()
            if new >= len(self._cards) and old == len(self._cards) - 1:
                return
            if before is not None:
                if old == new - 1:
                    return
            elif after is not None and old == new:
                return
            del self[old]

        index = target()
        if card[0] in _COMMENTARY:
            cards = reversed(self._splitcommentary(card[0], card[1]))
        else:
            cards = [card]
        for each in cards:
            self.insert(index, each)

    def _indexed(self, key: str):
        """The value of the keyword ``key`` (a str) found without the general look-up, as
        that would find it: when ``key`` is written as the index holds keywords (upper case,
        no blanks) and names no commentary cards or wildcard pattern, the value of its first
        card, or _ABSENT when no card has it. _LOOK_FURTHER otherwise."""
        positions = self._keyword_indices.get(key)
        if positions:
            if key in _COMMENTARY or self._haswildcard(key):
                return _LOOK_FURTHER
            value = self._card(positions[0]).value
            return None if value is UNDEFINED else value
        if key in _COMMENTARY or key in self._rvkc_indices or not _PLAIN_KEYWORD.fullmatch(key):
            # (a record-valued card's bare keyword names its "field: value" string)
            return _LOOK_FURTHER
        return _ABSENT

    def _cards_with(self, keyword: str) -> list[Card]:
        """The cards of ``keyword`` (as the index holds it: upper case), in order."""
        return [self._card(i) for i in self._keyword_indices.get(keyword, ())]

    def _updateindices(self, index: int, increment: bool = True) -> None:
        """Shift the recorded positions at or after ``index`` by one."""
        if index > len(self._cards):
            return
        step = 1 if increment else -1
        for table in (self._keyword_indices, self._rvkc_indices):
            for positions in table.values():
                for i, position in enumerate(positions):
                    if position >= index:
                        positions[i] = position + step

    def _countblanks(self) -> int:
        """Number of blank cards at the end (0 when every card but the first is blank)."""
        for n in range(1, len(self._cards)):
            if not self._cards[-n].is_blank:
                return n - 1
        return 0

    def _useblanks(self, count: int) -> None:
        for _ in range(count):
            if not self._cards[-1].is_blank:
                return
            del self[-1]

    @staticmethod
    def _haswildcard(keyword) -> bool:
        return isinstance(keyword, str) and (keyword.endswith("...") or "*" in keyword or "?" in keyword)

    def _wildcardmatch(self, pattern: str) -> list[int]:
        """Positions of the cards whose keyword matches ``pattern``: ``*`` any characters,
        ``?`` one character, ``...`` any non-blank characters; case-insensitive."""
        regex = pattern.replace("*", r".*").replace("?", r".").replace("...", r"\S*") + "$"
        match = re.compile(regex, re.IGNORECASE).match
        return [i for i, card in enumerate(self._cards) if match(card.keyword)]

    def _set_slice(self, key, value, target) -> bool:
        """Assign ``value`` (or its items, in turn) to every card a slice or wildcard ``key``
        selects, through ``target[position] = ...``; False if ``key`` is neither."""
        if not (isinstance(key, slice) or self._haswildcard(key)):
            return False
        indices = range(*key.indices(len(target))) if isinstance(key, slice) else self._wildcardmatch(key)
        if isinstance(value, str) or not np.iterable(value):
            value = itertools.repeat(value, len(indices))
        for index, item in zip(indices, value):
            target[index] = item
        return True

    @staticmethod
    def _splitcommentary(keyword: str, value) -> list[Card]:
        """The commentary cards holding ``value``: one, or several of 72 characters each."""
        width = CARD_LENGTH - KEYWORD_LENGTH
        text = str(value)
        if len(text) <= width:
            return [Card(keyword, value)]
        return [Card(keyword, text[i:i + width]) for i in range(0, len(text), width)]

    def _add_commentary(self, keyword: str, value, before=None, after=None) -> None:
        if before is not None or after is not None:
            self._relativeinsert((keyword, value), before=before, after=after)
        else:
            self[keyword] = value


collections.abc.MutableSequence.register(Header)
collections.abc.MutableMapping.register(Header)


class _CardAccessor:
    """A header seen as its Card objects: indexed like the header, giving Cards (a slice or
    wildcard gives another accessor, over copies)."""

    def __init__(self, header: Header) -> None:
        self._header = header

    def __repr__(self) -> str:
        return "\n".join(repr(card) for card in self._header._cards)

    def __len__(self) -> int:
        # (counted without making the unread texts Cards)
        return len(self._header)

    def __iter__(self):
        return iter(self._header._cards)

    def __eq__(self, other) -> bool:
        # a lone item equals an accessor over one card
        if not np.iterable(other) or isinstance(other, str):
            if len(self) != 1:
                return False
            other = [other]
        return all(a == b for a, b in itertools.zip_longest(self, other))

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = None

    def __getitem__(self, item):
        if item.__class__ is int:
            # a position (the commonest look-up, headers.cards[0]) as _cardindex reads it
            try:
                return self._header._card(item)
            except IndexError:
                raise IndexError("Header index out of range.") from None
        if isinstance(item, slice) or self._header._haswildcard(item):
            return self.__class__(self._header[item])
        return self._header._card(self._header._cardindex(item))


class _HeaderComments(_CardAccessor):
    """``header.comments``: the comments, looked up like the header's values."""

    def __iter__(self):
        for card in self._header._cards:
            yield card.comment

    def __repr__(self) -> str:
        cards = self._header._cards
        width = max([KEYWORD_LENGTH, *(len(card.keyword) for card in cards)])
        return "\n".join(f"{card.keyword:>{width}}  {card.comment}" for card in cards)

    def __getitem__(self, item):
        found = super().__getitem__(item)
        if isinstance(found, _HeaderComments):
            return found
        return found.comment

    def __setitem__(self, item, comment: str) -> None:
        if self._header._set_slice(item, comment, self):
            return
        index = self._header._cardindex(item)
        self._header[index] = (self._header[index], comment)


class _HeaderCommentaryCards(_CardAccessor):
    """``header["HISTORY"]``: the values of every card of one commentary keyword, as a list-like
    view (indexing, slicing, assignment to an index)."""

    def __init__(self, header: Header, keyword: str = "") -> None:
        super().__init__(header)
        self._keyword = keyword
        self._count = header.count(keyword)
        self._indices = slice(self._count).indices(self._count)

    def __len__(self) -> int:
        return len(range(*self._indices))

    def __iter__(self):
        for n in range(*self._indices):
            yield self._header[(self._keyword, n)]

    def __repr__(self) -> str:
        return "\n".join(str(value) for value in self)

    def __getitem__(self, index):
        if isinstance(index, slice):
            view = self.__class__(self._header, self._keyword)
            view._indices = index.indices(self._count)
            return view
        if not isinstance(index, numbers.Integral):
            raise ValueError(f"{self._keyword} index must be an integer")
        n = range(*self._indices)[index]
        return self._header[(self._keyword, n)]

    def __setitem__(self, item, value) -> None:
        if self._header._set_slice(item, value, self):
            return
        self._header[(self._keyword, item)] = value


# ---------------------------------------------------------------------------------- helpers


def _split_raw_records(data: str) -> list[str]:
    """The card texts of ``data`` (records of 80 characters, up to the END record); a record
    followed by CONTINUE records makes one text."""
    records = [data[i:i + CARD_LENGTH] for i in range(0, len(data), CARD_LENGTH)]
    try:
        del records[records.index(END_CARD):]
    except ValueError:
        pass
    if "CONTINUE" not in data:
        return records
    texts = []
    for record in records:
        if texts and record[:8] == "CONTINUE":
            texts[-1] += record
        else:
            texts.append(record)
    return texts


def _split_records(data: str, sep: str) -> list[str]:
    """Like :func:`_split_raw_records` with ``sep`` between records. When ``sep`` holds a
    character a record cannot, records end at ``sep`` instead of every 80 characters."""
    fixed = set(sep) <= _RECORD_CHARS
    texts = []
    pieces = None
    position = 0
    while position < len(data):
        if fixed:
            stop = position + CARD_LENGTH
        else:
            stop = data.find(sep, position)
            if stop < 0:
                stop = len(data)
        record = data[position:stop]
        position = stop + len(sep)
        if pieces:
            if record[:8] == "CONTINUE":
                pieces.append(record)
                continue
            texts.append("".join(pieces))
        if (record == END_CARD) if fixed else (record.split(sep)[0].rstrip() == "END"):
            pieces = None
            break
        pieces = [record]
    if pieces:
        texts.append("".join(pieces))
    return texts


def _read_card(text: str) -> Card:
    """The Card of a header record ``text`` that :meth:`Header.fromstring` left unread: its
    keyword (a value card's or a commentary card's) is the first 8 characters, stripped."""
    card = object.__new__(Card)
    card._image = text
    card._verified = False
    card._keyword = text[:KEYWORD_LENGTH].strip().upper()
    return card


def _as_card(card, action: str, blank_if_none: bool = True) -> Card:
    """``card`` (a Card, keyword, ``(keyword, value[, comment])`` tuple, or None for a blank
    card where allowed) as a Card."""
    if isinstance(card, str):
        return Card(card)
    if isinstance(card, tuple):
        return Card(*card)
    if card is None and blank_if_none:
        return Card()
    if not isinstance(card, Card):
        raise ValueError(
            f"The value {action} a Header must be either a keyword or (keyword, value, [comment]) "
            f"tuple; got: {card!r}"
        )
    return card


def _block_size(sep: str) -> int:
    """Characters in one 2880-byte block of records when ``sep`` separates them."""
    return BLOCK_SIZE + len(sep) * (BLOCK_SIZE // CARD_LENGTH - 1)


def _pad_length(size: int) -> int:
    """Blanks needed after ``size`` characters to fill the last 2880-byte block."""
    return -size % BLOCK_SIZE


def _check_padding(text: str, block_size: int, at_eof: bool, check_block_size: bool = True) -> None:
    if text and text[-1] == "\0":
        if at_eof and text.strip("\0") == "":
            warnings.warn(
                "Unexpected extra padding at the end of the file.  This padding may not be "
                "preserved when saving changes.",
                FITSUserWarning,
                stacklevel=4,
            )
            raise EOFError()
        warnings.warn(
            "Header block contains null bytes instead of spaces for padding, and is not "
            "FITS-compliant. Nulls may be replaced with spaces upon writing.",
            FITSUserWarning,
            stacklevel=4,
        )
    if check_block_size and len(text) % block_size:
        size = len(text) - block_size + BLOCK_SIZE
        raise ValueError(f"Header size is not multiple of {BLOCK_SIZE}: {size}")


def _hdr_data_size(header) -> int:
    """Bytes of data described by the structural keywords of ``header``."""
    naxis = header.get("NAXIS", 0)
    if not naxis > 0:
        return 0
    size = 1
    for axis in range(naxis):
        size = size * header[f"NAXIS{axis + 1}"]
    bitpix = header["BITPIX"]
    return abs(bitpix) * header.get("GCOUNT", 1) * (header.get("PCOUNT", 0) + size) // 8


def _decode_ascii(data: bytes) -> str:
    """``data`` as ASCII text; other bytes become ``?`` after a warning."""
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        warnings.warn(
            'non-ASCII characters are present in the FITS file header and have been replaced by "?" '
            "characters",
            FITSUserWarning,
            stacklevel=5,
        )
        return data.decode("ascii", errors="replace").replace("\ufffd", "?")


def _is_binary(fileobj) -> bool:
    """Whether ``fileobj`` reads and writes bytes (assumed when it cannot be told)."""
    if isinstance(fileobj, io.TextIOBase):
        return False
    mode = getattr(fileobj, "mode", None)
    if isinstance(mode, str):
        return "b" in mode
    return True


def _is_os_file(fileobj) -> bool:
    """Whether ``fileobj`` is (a buffered or text wrapper around) an operating-system file."""
    while not isinstance(fileobj, io.FileIO):
        inner = getattr(fileobj, "buffer", None) or getattr(fileobj, "raw", None)
        if inner is None:
            return False
        fileobj = inner
    return True


_TEXT_MODE = re.compile(r"^[rwa]((t?\+?)|(\+?t?))$")
_MODE_NAMES = {"rb": "readonly", "rb+": "update", "wb": "ostream", "wb+": "update", "ab": "ostream",
               "ab+": "append"}
_COMPRESSED_WRITERS = {".gz": gzip.GzipFile, ".bz2": bz2.BZ2File, ".xz": lzma.LZMAFile}


def _open_output(target, overwrite: bool):
    """The stream to write a header to, and whether to close it afterwards.

    A name is created (compressed for .gz/.bz2/.xz); an existing non-empty file is replaced only
    with ``overwrite``. An open file must be binary and opened for writing ("wb" or "ab"); it is
    written from its start.
    """
    if isinstance(target, (str, bytes, os.PathLike)):
        path = os.path.expanduser(os.fspath(target))
        _refuse_existing(path, overwrite)
        extension = os.path.splitext(os.fsdecode(path))[1]
        return _COMPRESSED_WRITERS.get(extension, open)(path, "wb"), True
    if _is_os_file(target):
        mode = target.mode
        if _TEXT_MODE.match(mode):
            raise ValueError(f"Text mode '{mode}' not supported: files must be opened in binary mode")
        if "+" in mode:
            mode = mode.replace("+", "") + "+"
        if mode not in _MODE_NAMES:
            raise ValueError(f"Mode '{mode}' not recognized")
        if _MODE_NAMES[mode] != "ostream":
            raise ValueError(
                f"Requested FITS mode 'ostream' not compatible with open file handle mode "
                f"'{_MODE_NAMES[mode]}'"
            )
        if target.closed:
            _refuse_existing(target.name, overwrite)
            return open(target.name, "wb"), True
        name = target.name
        if isinstance(name, (str, bytes)) and os.path.exists(name) and os.path.getsize(name):
            if not overwrite:
                raise OSError(_NOT_OVERWRITING.format(name))
            target.truncate(0)
        target.seek(0)
        return target, False
    if getattr(target, "closed", False):
        raise OSError(f"Cannot read from/write to a closed file-like object ({target!r}).")
    if not hasattr(target, "write"):
        raise OSError("File-like object does not have a 'write' method, required for mode 'ostream'.")
    return target, False


def _refuse_existing(path, overwrite: bool) -> None:
    """Refuse (``OSError``) to replace a non-empty file unless ``overwrite``; remove it if so."""
    if isinstance(path, (str, bytes)) and os.path.exists(path) and os.path.getsize(path):
        if not overwrite:
            raise OSError(_NOT_OVERWRITING.format(path))
        os.remove(path)
