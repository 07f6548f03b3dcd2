"""FITS header cards: parsing and formatting of 80-character keyword records, as astropy.io.fits.

A :class:`Card` is one keyword record: ``keyword``, ``value`` and ``comment``. Its ``image`` is
the text it occupies in a header: 80 characters, or a multiple of 80 for a long string value
continued on ``CONTINUE`` records (and for long COMMENT/HISTORY text, split over several cards).

Cards read from a file (:meth:`Card.fromstring`) are parsed lazily: the keyword on first use,
the value and comment when asked for. Nothing is checked until the image is needed again or
:meth:`Card.verify` is called; a card that breaks the standard is then fixed where that is
possible (``verify("fix")``), exactly where astropy fixes it.

Conventions supported, as in astropy: HIERARCH keywords (explicit ``"HIERARCH a b"`` or made
automatically, with a :class:`~fitsbind.verify.VerifyWarning`, for keywords longer than 8
characters or with characters the standard does not allow), the CONTINUE long-string convention,
and record-valued keyword cards (``DP1.AXIS.1``, stored as ``DP1 = 'AXIS.1: 1'``).
"""

from __future__ import annotations

import bisect
import re
import warnings
from typing import Any

import numpy as np

from fitsbind.config import conf
from fitsbind.verify import FITSUserWarning, VerifyError, VerifyWarning, _ErrList, _Verify

__all__ = ["UNDEFINED", "Card", "Undefined", "conf"]

CARD_LENGTH = 80
KEYWORD_LENGTH = 8
BLANK_CARD = " " * CARD_LENGTH
VALUE_INDICATOR = "= "
# the value of a HIERARCH card follows a bare "=" (no blank needed)
HIERARCH_VALUE_INDICATOR = "="

_COMMENTARY = frozenset(("", "COMMENT", "HISTORY", "END"))
_SPECIAL = _COMMENTARY | {"CONTINUE"}


class Undefined:
    """The value of a keyword that has none (``KEY     =`` followed by blanks or a comment)."""

    def __reduce__(self) -> str:
        # unpickle to the module's single instance, which headers test for by identity
        return "UNDEFINED"


UNDEFINED = Undefined()

# ---------------------------------------------------------------------------------------------
# The grammar of keywords and values. "Strict" follows the FITS standard to the letter and is
# what verify checks against; "lenient" is what is accepted when reading: lower-case exponent
# letters and blanks inside numbers, any text in the comment.

# "$" (not "\Z") as in astropy: a trailing newline passes, which look-ups depend on
_STANDARD_KEYWORD = re.compile(r"^[A-Z0-9_-]{0,8}$")
# any printable character but "="; IGNORECASE keeps the set identical to astropy's, which
# (through Unicode case folding) also admits a few non-ASCII letters
_HIERARCH_KEYWORD = re.compile(r"[ -<>-~]+\Z", re.IGNORECASE)
_PRINTABLE = re.compile(r"[ -~]*\Z")
# the first 10 columns of a standard value card (keyword, blanks, "= ")
_PLAIN_HEAD = re.compile(r"[A-Z0-9_-]{1,8} *= \Z")
# the first 8 columns of commentary cards
_COMMENTARY_HEADS = frozenset(("COMMENT ", "HISTORY ", "        "))

_MANTISSA = r"(?:\.\d+|\d+(?:\.\d*)?)"
_STRICT_NUMBER = rf"[+-]?{_MANTISSA}(?:[DE][+-]?\d+)?"
_LENIENT_NUMBER = rf"[+-]? *{_MANTISSA} *(?:[deDE] *[+-]? *\d+)?"
# a quoted string ends at a quote followed by the end, a blank or the comment slash; the
# shortest such match is tried first so that a quote inside the comment is not taken
_QUOTED = r"'(?P<strg>(?:[ -~]+?|''|) *?)'(?=$|/| )"
_ANY_COMMENT = r"(?P<comm_field>(?P<sepr>/ *)(?P<comm>(?s:.*)))"


def _value_grammar(number: str, comment: str) -> re.Pattern:
    value = (
        rf"{_QUOTED}"
        r"|(?P<bool>[FT])"
        rf"|(?P<numr>{number})"
        rf"|(?P<cplx>\( *(?P<real>{number}) *, *(?P<imag>{number}) *\))"
    )
    return re.compile(rf"(?P<value_field> *(?P<value>{value})? *){comment}?$")


_STRICT_VALUE = _value_grammar(_STRICT_NUMBER, r"(?P<comm_field>(?P<sepr>/ *)(?P<comm>[!-~][ -~]*)?)")
_LENIENT_VALUE = _value_grammar(_LENIENT_NUMBER, _ANY_COMMENT)
# one record of a CONTINUE sequence: an optional string, then an optional comment
_CONTINUED_PIECE = re.compile(rf"(?:{_QUOTED})? *{_ANY_COMMENT}?$")

_RVKC_NAME = r"[a-zA-Z_]\w*"
_RVKC_FIELD = rf"{_RVKC_NAME}(?:\.\d+)?"
_RVKC_SPECIFIER = rf"{_RVKC_FIELD}(?:\.{_RVKC_FIELD})*"
_RVKC_SPEC_VALUE = rf"(?P<keyword>{_RVKC_SPECIFIER}): +(?P<val>{_STRICT_NUMBER})"
# "AXIS.1: 2" as a value given by the caller
_RVKC_SPEC_VALUE_RE = re.compile(_RVKC_SPEC_VALUE + "$")
# "DP1.AXIS.1" as a keyword given by the caller
_RVKC_KEYWORD_RE = re.compile(rf"(?P<keyword>{_RVKC_NAME})\.(?P<field_specifier>{_RVKC_SPECIFIER})$")
# "'AXIS.1: 2' / comment" after the value indicator of a card image
_RVKC_IMAGE_RE = re.compile(rf" *'(?P<rawval>{_RVKC_SPEC_VALUE})' *(?:/ *(?P<comm>[ -~]*))?$")

# the value fields _plain_value reads: a string without quotes inside (an empty one only
# when no quote follows, which the grammar would take for its end), T or F, a number
# without blanks; then blanks, and a comment or nothing
_PLAIN_FIELD = re.compile(
    r"(?:'(?P<strg>[ -&(-~]+|(?=' *(?:/[^']*)?\Z))'|(?P<bool>[FT])|(?P<int>[+-]?[0-9]+)"
    r"|(?P<real>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?P<exp>[deDE][+-]?[0-9]+)?))"
    r"(?P<pad> *)(?:/|\Z)", re.S)

_TO_PYTHON_EXPONENT = str.maketrans({"d": "e", "D": "E", " ": None})
_TO_FITS_EXPONENT = str.maketrans({"d": "D", "e": "E", " ": None})

_FLOAT_TYPES = (float, np.floating, complex, np.complexfloating)
_VALUE_TYPES = (str, int, float, complex, bool, Undefined, np.floating, np.integer,
                np.complexfloating, np.bool_)

_CONTINUE_VALUE_WIDTH = 67
_CONTINUE_COMMENT_WIDTH = 64


class Card(_Verify):
    """One header record: ``Card(keyword=None, value=None, comment=None)``.

    ``keyword`` is case-insensitive and stored upper case when it is a standard (<= 8 character)
    keyword; longer keywords or ones with other printable characters become HIERARCH cards
    (with a :class:`~fitsbind.verify.VerifyWarning` unless given as ``"HIERARCH name"``).
    ``value`` may be ``str`` (printable ASCII), ``bool``, ``int``, ``float``, ``complex``, the
    numpy scalars of those kinds, ``None`` or :data:`UNDEFINED` (no value). ``comment`` is
    printable ASCII. Invalid input raises ``ValueError``.

    ``str(card)`` and ``card.image`` give the record text; ``repr(card)`` the
    ``(keyword, value, comment)`` triple, which ``card[i]`` and ``len(card)`` also expose.
    """

    length = CARD_LENGTH
    _commentary_keywords = _COMMENTARY
    _special_keywords = _SPECIAL

    # Defaults for the per-card state, kept on the class so that the thousands of cards built
    # when a header is read only store their image and keyword.
    _keyword: str | None = None
    _value = None
    _comment: str | None = None
    # the value as written in the image, reused when the card is re-formatted so that a float
    # read from a file keeps its digits
    _valuestring: str | None = None
    _image: str | None = None
    # False for a card built from an image whose content has not been checked yet
    _verified = True
    _hierarch = False
    # set when the keyword cannot be parsed by any known convention
    _invalid = False
    _field_specifier: str | None = None
    _rawkeyword: str | None = None
    _rawvalue: str | None = None
    # the image must be rebuilt from keyword, value and comment
    _modified = False
    _valuemodified = False
    _value_indicator = VALUE_INDICATOR

    def __init__(self, keyword=None, value=None, comment=None, **kwargs) -> None:
        # pyfits spelled the first argument "key"
        if keyword is None and "key" in kwargs:
            keyword = kwargs["key"]
        if keyword is None or value is None or not self._check_if_rvkc(keyword, value):
            if keyword is not None:
                self.keyword = keyword
            if value is not None:
                self.value = value
        if comment is not None:
            self.comment = comment
        # building the card is not a modification (the class defaults are False)
        if self._modified:
            self._modified = False
        if self._valuemodified:
            self._valuemodified = False

    def __repr__(self) -> str:
        return repr((self.keyword, self.value, self.comment))

    def __str__(self) -> str:
        return self.image

    def __len__(self) -> int:
        return 3

    def __copy__(self) -> Card:
        # what copy.copy does by default, without its generic machinery (headers copy many cards)
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __getitem__(self, index):
        return (self.keyword, self.value, self.comment)[index]

    # ---------------------------------------------------------------------------- keyword

    @property
    def keyword(self) -> str:
        """The keyword: upper case for standard keywords, as given for HIERARCH ones; for a
        record-valued keyword card, ``"DP1.AXIS.1"``. Set once only."""
        keyword = self._keyword
        if keyword is None:
            if self._image:
                keyword = self._keyword = self._parse_keyword()
            else:
                self.keyword = keyword = ""
        return keyword

    @keyword.setter
    def keyword(self, keyword: str) -> None:
        if self._keyword is not None:
            raise AttributeError("Once set, the Card keyword may not be modified")
        if not isinstance(keyword, str):
            raise ValueError(f"Keyword name {keyword!r} is not a string.")
        # trailing blanks are padding; leading ones are not allowed in standard keywords
        keyword = keyword.rstrip()
        upper = keyword.upper()
        if len(keyword) <= KEYWORD_LENGTH and _STANDARD_KEYWORD.match(upper):
            if upper == "END":
                raise ValueError("Keyword 'END' not allowed.")
            keyword = upper
        elif _HIERARCH_KEYWORD.match(keyword):
            self._hierarch = True
            self._value_indicator = HIERARCH_VALUE_INDICATOR
            if upper[:9] == "HIERARCH ":
                keyword = keyword[9:].strip()
            else:
                warnings.warn(
                    f"Keyword name {keyword!r} is greater than 8 characters or contains characters "
                    "not allowed by the FITS standard; a HIERARCH card will be created.",
                    VerifyWarning,
                    stacklevel=3,
                )
        else:
            raise ValueError(f"Illegal keyword name: {keyword!r}.")
        self._keyword = keyword
        self._modified = True

    @classmethod
    def normalize_keyword(cls, keyword: str) -> str:
        """The form of ``keyword`` used for look-ups: upper case, without a ``HIERARCH ``
        prefix; the field specifier of a record-valued keyword keeps its case."""
        if len(keyword) <= KEYWORD_LENGTH and _STANDARD_KEYWORD.match(keyword):
            return keyword
        match = _RVKC_KEYWORD_RE.match(keyword)
        if match:
            return f"{match.group('keyword').strip().upper()}.{match.group('field_specifier')}"
        if len(keyword) > 9 and keyword[:9].upper() == "HIERARCH ":
            return keyword[9:].strip().upper()
        return keyword.strip().upper()

    # ---------------------------------------------------------------------------- value

    @property
    def value(self):
        """The value: ``str``, ``bool``, ``int``, ``float``, ``complex`` or :data:`UNDEFINED`
        (a numpy scalar stays one). Always ``float`` on record-valued keyword cards. Raises
        :class:`~fitsbind.verify.VerifyError` if the image holds no readable value."""
        keyword = self._keyword
        if keyword is None:
            keyword = self.keyword
        if keyword and self._field_specifier:
            return float(self._value)
        value = self._value
        if value is None:
            if self._valuestring is not None or self._image:
                value = self._value = self._parse_value()
            elif self._keyword == "":
                value = self._value = ""
            else:
                value = self._value = UNDEFINED
        if isinstance(value, str) and conf.strip_header_whitespace:
            return value.rstrip()
        return value

    @value.setter
    def value(self, value) -> None:
        if self._invalid:
            raise ValueError(
                "The value of invalid/unparsable cards cannot set.  Either delete this card "
                "from the header or replace it."
            )
        if value is None:
            value = UNDEFINED
        try:
            old = self.value
        except VerifyError:
            # the image is unreadable (this happens while verify fixes it)
            old = self._value
        if old is None:
            old = UNDEFINED

        if not isinstance(value, _VALUE_TYPES):
            raise ValueError(f"Illegal value: {value!r}.")
        if isinstance(value, (float, np.float32)) and not np.isfinite(value):
            raise ValueError(f"Floating point {value!r} values are not allowed in FITS headers.")
        if isinstance(value, str):
            if not _PRINTABLE.match(value):
                raise ValueError(
                    "FITS header values must contain standard printable ASCII characters; "
                    f"{value!r} contains characters not representable in ASCII or "
                    "non-printable characters."
                )
        elif isinstance(value, np.bool_):
            value = bool(value)

        if conf.strip_header_whitespace and isinstance(old, str) and isinstance(value, str):
            changed = old.rstrip() != value.rstrip()
        elif isinstance(old, bool) or isinstance(value, bool):
            changed = old is not value
        else:
            changed = old != value or not isinstance(value, type(old))
        if not changed:
            return
        self._value = value
        self._rawvalue = None
        self._valuestring = None
        self._modified = True
        self._valuemodified = True
        if self.field_specifier:
            try:
                self._value = _int_or_float(value)
            except ValueError:
                raise ValueError(f"value {value} is not a float") from None

    @value.deleter
    def value(self) -> None:
        if self._invalid:
            raise ValueError(
                "The value of invalid/unparsable cards cannot deleted.  Either delete this card "
                "from the header or replace it."
            )
        if self.field_specifier:
            raise AttributeError("Values cannot be deleted from record-valued keyword cards")
        self.value = ""

    @property
    def rawkeyword(self) -> str:
        """The keyword as stored in the file: ``"DP1"`` for the record-valued ``DP1.AXIS.1``,
        else the same as ``keyword``."""
        if self._rawkeyword is not None:
            return self._rawkeyword
        if self.field_specifier is not None:
            self._rawkeyword = self.keyword.split(".", 1)[0]
            return self._rawkeyword
        return self.keyword

    @property
    def rawvalue(self):
        """The value as stored in the file: ``"AXIS.1: 1"`` for a record-valued keyword card,
        else the same as ``value``."""
        if self._rawvalue is not None:
            return self._rawvalue
        if self.field_specifier is not None:
            self._rawvalue = f"{self.field_specifier}: {self.value}"
            return self._rawvalue
        return self.value

    @property
    def comment(self) -> str:
        """The comment, ``""`` if there is none."""
        comment = self._comment
        if comment is None:
            comment = self._comment = self._parse_comment() if self._image else ""
        if conf.strip_header_whitespace and isinstance(comment, str):
            return comment.rstrip()
        return comment

    @comment.setter
    def comment(self, comment: str | None) -> None:
        if self._invalid:
            raise ValueError(
                "The comment of invalid/unparsable cards cannot set.  Either delete this card "
                "from the header or replace it."
            )
        if comment is None:
            comment = ""
        try:
            old = self.comment
        except VerifyError:
            old = self._comment
        if old is None:
            old = ""
        if comment == old:
            return       # nothing changes: a comment read from a file is not judged again
        if isinstance(comment, str) and not _PRINTABLE.match(comment):
            raise ValueError(
                "FITS header comments must contain standard printable ASCII characters; "
                f"{comment!r} contains characters not representable in ASCII or "
                "non-printable characters."
            )
        if comment != old:
            self._comment = comment
            self._modified = True

    @comment.deleter
    def comment(self) -> None:
        if self._invalid:
            raise ValueError(
                "The comment of invalid/unparsable cards cannot deleted.  Either delete this card "
                "from the header or replace it."
            )
        self.comment = ""

    @property
    def field_specifier(self) -> str | None:
        """``"AXIS.1"`` on the record-valued keyword card ``DP1.AXIS.1``; ``None`` otherwise."""
        if self.keyword:
            return self._field_specifier
        return None

    @field_specifier.setter
    def field_specifier(self, field_specifier: str) -> None:
        if not field_specifier:
            raise ValueError("The field-specifier may not be blank in record-valued keyword cards.")
        if not self.field_specifier:
            raise AttributeError(
                "Cannot coerce cards to be record-valued keyword cards by setting the "
                "field_specifier attribute"
            )
        if field_specifier != self.field_specifier:
            self._field_specifier = field_specifier
            self._keyword = f"{self._keyword.split('.', 1)[0]}.{field_specifier}"
            self._modified = True

    @field_specifier.deleter
    def field_specifier(self) -> None:
        raise AttributeError(
            "The field_specifier attribute may not be deleted from record-valued keyword cards."
        )

    # ---------------------------------------------------------------------------- image

    @property
    def image(self) -> str:
        """The record text: 80 characters (a multiple of 80 for CONTINUE'd and long commentary
        cards). A card read from text is checked first, with ``verify("fix+warn")``."""
        if self._image and not self._verified:
            if self._plainly_valid():
                self._verified = True
            else:
                try:
                    self.verify("fix+warn")
                except ValueError:
                    # the fix itself refused the text (an unprintable value): the card stays
                    # the record it was read as, which is what the file holds
                    self._verified = True
        if self._image is None or self._modified:
            self._image = self._format_image()
        return self._image

    def _plainly_valid(self) -> bool:
        """A cheap test passed by most cards read from files, on which verify finds nothing:
        an 80-character standard card, or a commentary card of printable text."""
        image = self._image
        if len(image) != CARD_LENGTH:
            return False
        if image[8:10] == VALUE_INDICATOR:
            return bool(
                _PLAIN_HEAD.match(image[:10])
                and self.keyword not in _SPECIAL
                and _STRICT_VALUE.match(image[10:].strip())
            )
        return image[:8] in _COMMENTARY_HEADS and bool(_PRINTABLE.match(image))

    @property
    def is_blank(self) -> bool:
        """True for a card of 80 blanks (no keyword, value or comment)."""
        if not self._verified:
            return self._image == BLANK_CARD
        if self.keyword:
            return False
        value = self.value
        return isinstance(value, str) and not value and not self.comment

    @classmethod
    def fromstring(cls, image: str | bytes) -> Card:
        """A card from its record text, padded with blanks to a multiple of 80 characters; text
        longer than 80 characters holds CONTINUE records. ``bytes`` are read as latin-1 (so
        that stray bytes survive to be reported by verify). Parsing is deferred to first use.
        """
        card = cls()
        if isinstance(image, bytes):
            image = image.decode("latin1")
        card._image = _pad(image)
        card._verified = False
        return card

    # ---------------------------------------------------------------------------- parsing

    def _check_if_rvkc(self, *args) -> bool:
        """Make this a record-valued keyword card if the arguments describe one.

        One argument: a whole card image. Two: the keyword (``"DP1.AXIS.1"`` with a number, or
        ``"DP1"`` with a ``"AXIS.1: 2"`` string value) and the value.
        """
        if not conf.enable_record_valued_keyword_cards:
            return False
        if len(args) == 1:
            return self._check_if_rvkc_image(*args)
        keyword, value = args
        if not isinstance(keyword, str) or keyword in _COMMENTARY:
            return False
        match = _RVKC_KEYWORD_RE.match(keyword)
        if match and isinstance(value, (int, float)):
            self._init_rvkc(match.group("keyword"), match.group("field_specifier"), None, value)
            return True
        # nearly every string lacks ": ", so skip the full pattern for those
        if isinstance(value, str) and value.find(": ") > 0:
            match = _RVKC_SPEC_VALUE_RE.match(value)
            if match and _STANDARD_KEYWORD.match(keyword):
                self._init_rvkc(keyword, match.group("keyword"), value, match.group("val"))
                return True
        return False

    def _check_if_rvkc_image(self, *args) -> bool:
        """The image form of :meth:`_check_if_rvkc`: a whole image, or the keyword and the text
        after the value indicator."""
        if len(args) == 1:
            image = args[0]
            position = image.find(VALUE_INDICATOR)
            if position < 0 or position > 9:
                return False
            keyword = image[:position]
            rest = image[position + 2:]
        else:
            keyword, rest = args
        rest = rest.lstrip()
        # cheap tests first: a record value is a quoted "name: number"
        if not rest or rest[0] != "'" or rest.find(": ") < 2:
            return False
        match = _RVKC_IMAGE_RE.match(rest)
        if not match:
            return False
        self._init_rvkc(keyword, match.group("keyword"), match.group("rawval"), match.group("val"))
        return True

    def _init_rvkc(self, keyword: str, field_specifier: str, field: str | None, value) -> None:
        upper = keyword.upper()
        self._keyword = f"{upper}.{field_specifier}"
        self._rawkeyword = upper
        self._field_specifier = field_specifier
        self._value = _int_or_float(value)
        self._rawvalue = field

    def _parse_keyword(self) -> str:
        image = self._image
        keyword = image[:KEYWORD_LENGTH].strip()
        upper = keyword.upper()
        if upper in _SPECIAL:
            return upper
        if upper == "HIERARCH" and image[8] == " " and HIERARCH_VALUE_INDICATOR in image:
            self._hierarch = True
            self._value_indicator = HIERARCH_VALUE_INDICATOR
            return image.split(HIERARCH_VALUE_INDICATOR, 1)[0][9:].strip()
        position = image.find(VALUE_INDICATOR)
        if 0 <= position <= KEYWORD_LENGTH:
            # "=" belongs in column 9, but an earlier one is accepted (verify fixes it)
            if position < KEYWORD_LENGTH:
                keyword = keyword[:position]
                upper = upper[:position]
            if self._check_if_rvkc_image(keyword, image[position + 2:]):
                return self._keyword
            return upper
        warnings.warn(
            "The following header keyword is invalid or follows an unrecognized non-standard "
            f"convention:\n{image}",
            FITSUserWarning,
            stacklevel=3,
        )
        self._invalid = True
        return keyword

    def _parse_value(self):
        if self.keyword.upper() in _COMMENTARY or self._invalid:
            return self._image[KEYWORD_LENGTH:].rstrip()
        image = self._image
        if len(image) == CARD_LENGTH and image[8:10] == VALUE_INDICATOR and \
                "=" not in image[:KEYWORD_LENGTH] and self._keyword not in _SPECIAL:
            # the value field is image[10:], as _split finds it; unless it may be a record
            # value (a quoted "name: number"), it is most often in one of the fixed forms
            # _plain_value reads without the full grammar
            field = image[10:].strip()
            if field[:1] != "'" or field.find(": ") < 2:
                plain = _plain_value(field)
                if plain is not None:
                    value, text = plain
                    if not self._valuestring:
                        self._valuestring = text
                    return value
        if self._check_if_rvkc(image):
            return self._value
        match = _LENIENT_VALUE.match(self._split()[1])
        if match is None:
            raise VerifyError(f"Unparsable card ({self.keyword}), fix it first with .verify('fix').")
        value = grammar_value(match)
        if not self._valuestring:
            self._valuestring = match.group("value")
        return value

    def _parse_comment(self) -> str:
        if self.keyword in _COMMENTARY or self._invalid:
            return ""
        rest = self._split()[1]
        match = _LENIENT_VALUE.match(rest)
        if match is not None:
            return (match.group("comm") or "").rstrip()
        # not a value we understand: guess that the comment follows the first slash
        if "/" in rest:
            return rest.split("/", 1)[1].strip()
        return ""

    def _split(self) -> tuple[str, str]:
        """Split the image into the keyword text and the text after the value indicator (for a
        CONTINUE'd card, a rebuilt single ``'value' / comment``)."""
        image = self._image if self._image is not None else self.image
        if len(image) > CARD_LENGTH:
            return self._split_long()
        if self.keyword in _SPECIAL:
            keyword, rest = image.split(" ", 1)
        else:
            position = image.find(self._value_indicator)
            # an "=" past column 11 is part of the value (unless HIERARCH), not the indicator
            if position < 0 or (position > 10 and image[:9] != "HIERARCH "):
                keyword, rest = image[:KEYWORD_LENGTH], image[KEYWORD_LENGTH:]
            else:
                keyword, rest = image.split(self._value_indicator, 1)
        return keyword.strip(), rest.strip()

    def _split_long(self) -> tuple[str, str]:
        pieces = []
        comments = []
        keyword = None
        for sub in self._itersubcards():
            sub_keyword, rest = sub._split()
            if keyword is None:
                keyword = sub_keyword
            if keyword in _COMMENTARY:
                pieces.append(rest)
                continue
            match = _CONTINUED_PIECE.match(rest)
            if not match:
                return sub_keyword, rest
            piece = (match.group("strg") or "").rstrip()
            if piece.endswith("&"):
                piece = piece[:-1]
            pieces.append(piece)
            if match.group("comm"):
                comments.append(match.group("comm").rstrip())
        if keyword in _COMMENTARY:
            return keyword, "".join(pieces)
        return keyword, f"'{''.join(pieces)}' / {' '.join(comments)}"

    def _itersubcards(self):
        """The 80-character cards a long image is made of (a card then CONTINUE cards, or
        consecutive commentary cards)."""
        image = self._image
        for start in range(0, len(image) // CARD_LENGTH * CARD_LENGTH, CARD_LENGTH):
            sub = Card.fromstring(image[start:start + CARD_LENGTH])
            if start and sub.keyword.upper() not in _SPECIAL:
                raise VerifyError(
                    "Long card images must have CONTINUE cards after the first card or have "
                    "commentary keywords like HISTORY or COMMENT."
                )
            if not isinstance(sub.value, str):
                raise VerifyError("CONTINUE cards must have string values.")
            yield sub

    # ---------------------------------------------------------------------------- fixing

    def _fix_keyword(self) -> None:
        if self.field_specifier:
            name, specifier = self._keyword.split(".", 1)
            self._keyword = f"{name.upper()}.{specifier}"
        else:
            self._keyword = self._keyword.upper()
        self._modified = True

    def _fix_value(self) -> None:
        rest = self._split()[1]
        match = _LENIENT_VALUE.match(rest)
        if match is None:
            # unreadable: take the text before the first slash as a string value
            try:
                value, comment = rest.split("/", 1)
                self.value = value.strip()
                self.comment = comment.strip()
            except (ValueError, IndexError):
                self.value = rest
            self._valuestring = self._value
            return
        if match.group("numr") is not None:
            text = _fits_number_text(match.group("numr"))
        elif match.group("cplx") is not None:
            real = _fits_number_text(match.group("real"))
            imag = _fits_number_text(match.group("imag"))
            text = f"({real}, {imag})"
        else:
            text = None
        # the value is unchanged but its written form is not: the image must be rebuilt
        self._valuestring = text
        self._modified = True

    # ---------------------------------------------------------------------------- formatting

    def _format_keyword(self) -> str:
        keyword = self.keyword
        if not keyword:
            return " " * KEYWORD_LENGTH
        if self.field_specifier:
            return keyword.split(".", 1)[0].ljust(KEYWORD_LENGTH)
        if self._hierarch:
            return f"HIERARCH {keyword} "
        return keyword.ljust(KEYWORD_LENGTH)

    def _format_value(self) -> str:
        value = self.value  # parses the image if needed
        value = self._value  # unstripped
        if self.keyword in _COMMENTARY:
            text = str(value)
        elif self._valuestring and not self._valuemodified and isinstance(self.value, _FLOAT_TYPES):
            # a number read from a file keeps the digits it was written with
            text = f"{self._valuestring:>20}"
        elif self.field_specifier:
            text = f"'{self.field_specifier}: {_format_value(value).strip()}'"
        else:
            text = _format_value(value)
        if not self.field_specifier and len(self.keyword) > KEYWORD_LENGTH:
            # HIERARCH cards have no room for the fixed-format alignment
            text = text.strip()
        return text

    def _format_comment(self) -> str:
        if not self.comment:
            return ""
        return f" / {self._comment}"

    def _format_image(self) -> str:
        keyword = self._format_keyword()
        value = self._format_value()
        if keyword.strip() in _COMMENTARY:
            indicator = comment = ""
        else:
            indicator = VALUE_INDICATOR
            comment = self._format_comment()
        head = keyword
        if (
            len(keyword) + len(indicator) + len(value) == CARD_LENGTH + 1
            and keyword.startswith("HIERARCH")
            and keyword[-1] == " "
        ):
            # one character too long: a HIERARCH card may drop the blank before "="
            head = keyword[:-1]
        image = f"{head}{indicator}{value}{comment}"
        if len(image) <= CARD_LENGTH:
            return image.ljust(CARD_LENGTH)
        if isinstance(self.value, str) and len(value) > CARD_LENGTH - len(keyword) - 2:
            return self._format_long_image()
        warnings.warn("Card is too long, comment will be truncated.", VerifyWarning, stacklevel=4)
        return image[:CARD_LENGTH]

    def _format_long_image(self) -> str:
        """A long string value over CONTINUE cards, ``&`` ending each continued piece; the
        comment follows on its own CONTINUE cards."""
        if self.keyword in _COMMENTARY:
            return self._format_long_commentary_image()
        head = self._format_keyword() + VALUE_INDICATOR
        first_width = _CONTINUE_VALUE_WIDTH + KEYWORD_LENGTH + 2 - len(head)
        pieces = _words_group(self._value.replace("'", "''"), _CONTINUE_VALUE_WIDTH, first_width)
        comment = self.comment
        records = []
        for index, piece in enumerate(pieces):
            if index:
                head = "CONTINUE  "
            closing = "'" if not comment and index == len(pieces) - 1 else "&'"
            records.append(f"{head}'{piece}{closing}".ljust(CARD_LENGTH))
        if comment:
            pieces = _words_group(comment, _CONTINUE_COMMENT_WIDTH)
            for index, piece in enumerate(pieces):
                value = "''" if index == len(pieces) - 1 else "'&'"
                records.append(f"CONTINUE  {value} / {piece}".ljust(CARD_LENGTH))
        return "".join(records)

    def _format_long_commentary_image(self) -> str:
        """Commentary text too long for one card, over consecutive cards of the same keyword."""
        width = CARD_LENGTH - KEYWORD_LENGTH
        text = self._format_value()
        return "".join(
            str(Card(self.keyword, text[start:start + width])) for start in range(0, len(text), width)
        )

    # ---------------------------------------------------------------------------- verify

    def _verify(self, option: str = "warn") -> _ErrList:
        if self._image is None and not self._modified:
            self.image  # noqa: B018 - a card made here is formatted, as the checks below do
        if self._image is not None and not self._modified and self._plainly_valid():
            # the record as read, or as made, passes every check below
            self._verified = True
            return _ErrList([])
        errs = []
        fix_text = f"Fixed {self.keyword!r} card to meet the FITS standard."
        if self._invalid:
            # follows no known convention: nothing sensible to check
            return _ErrList(errs)
        image = self._image

        if (
            self.keyword not in _COMMENTARY
            and image
            and image[:9].upper() != "HIERARCH "
            and image.find("=") != KEYWORD_LENGTH
        ):
            errs.append({
                "err_text": f"Card {self.keyword!r} is not FITS standard (equal sign not at column 8).",
                "fix_text": fix_text,
                "fix": self._fix_value,
            })

        if not ((image and image[:8].upper() == "HIERARCH") or self._hierarch):
            if image:
                written = self._split()[0]
                if written != written.upper():
                    errs.append({
                        "err_text": f"Card keyword {written!r} is not upper case.",
                        "fix_text": fix_text,
                        "fix": self._fix_keyword,
                    })
            keyword = self.keyword
            if self.field_specifier:
                keyword = keyword.split(".", 1)[0]
            if not _STANDARD_KEYWORD.match(keyword):
                errs.append({"err_text": f"Illegal keyword name {keyword!r}", "fixable": False})

        rest = self._split()[1]
        if self.keyword in _COMMENTARY:
            if not _PRINTABLE.match(rest):
                errs.append({
                    "err_text": f"Unprintable string {rest!r}; commentary cards may only contain "
                                "printable ASCII characters",
                    "fixable": False,
                })
        elif not self._valuemodified and not _STRICT_VALUE.match(rest):
            # a value replaced before the card was ever checked is valid by construction
            errs.append({
                "err_text": f"Card {self.keyword!r} is not FITS standard (invalid value string: "
                            f"{rest!r}).",
                "fix_text": fix_text,
                "fix": self._fix_value,
            })

        match = _LENIENT_VALUE.match(rest)
        if match is not None:
            comment = match.group("comm")
            if comment is not None and not _PRINTABLE.match(comment):
                errs.append({
                    "err_text": f"Unprintable string {comment!r}; header comments may only "
                                "contain printable ASCII characters",
                    "fixable": False,
                })

        result = _ErrList([self.run_option(option, **err) for err in errs])
        self._verified = True
        return result


# --------------------------------------------------------------------------------- helpers


def _number(text: str) -> int | float:
    """The int (if it is one) or float written as ``text`` in a header (blanks and Fortran
    ``D`` exponents allowed)."""
    text = text.translate(_TO_PYTHON_EXPONENT)
    try:
        return int(text)
    except ValueError:
        return float(text)


def grammar_value(match: re.Match) -> Any:
    """The value a match of the lenient value grammar (``_LENIENT_VALUE``) stands for."""
    if match.group("bool") is not None:
        return match.group("bool") == "T"
    if match.group("strg") is not None:
        return match.group("strg").replace("''", "'")
    if match.group("numr") is not None:
        return _number(match.group("numr"))
    if match.group("cplx") is not None:
        return _number(match.group("real")) + _number(match.group("imag")) * 1j
    return UNDEFINED


def _plain_value(field: str) -> tuple | None:
    """(value, its text as the grammar captures it) of the value field ``field`` (the
    stripped text after the value indicator) when it holds nothing, a string without
    embedded quotes, T or F, or a number without blanks, followed only by blanks and a
    comment: there ``_LENIENT_VALUE`` reads the same, and this costs a fraction of it. None
    otherwise (the grammar decides)."""
    if not field or field[0] == "/":
        return UNDEFINED, None
    match = _PLAIN_FIELD.match(field)
    if match is None:
        return None
    strg, boolean, integer, real, exponent, pad = match.groups()
    if strg is not None:
        return strg, f"'{strg}'"
    if boolean is not None:
        return boolean == "T", boolean
    # the grammar's number takes the blanks after a mantissa along
    if integer is not None:
        return int(integer), integer + pad
    return float(real.translate(_TO_PYTHON_EXPONENT)), real if exponent else real + pad


def _fits_number_text(text: str) -> str:
    """``text`` as the standard writes numbers: no blanks, upper-case exponent letter."""
    return text.translate(_TO_FITS_EXPONENT)


def _int_or_float(value):
    """``value`` (a number or its text) as an int if it is one, else a float."""
    if isinstance(value, float):
        return value
    try:
        return int(value)
    except (ValueError, TypeError):
        try:
            return float(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(str(exc)) from None


def _format_float(value) -> str:
    """``value`` as Python prints it, upper-case ``E``, cut to at most 20 characters (fewer
    mantissa digits, never a shorter exponent)."""
    text = str(value).replace("e", "E")
    if len(text) > 20:
        exponent = text.find("E")
        if exponent < 0:
            text = text[:20]
        else:
            text = text[:20 - (len(text) - exponent)] + text[exponent:]
    return text


def _format_value(value) -> str:
    """The fixed-format text of a value: strings quoted and left-aligned (at least 8 characters
    inside the quotes), everything else right-aligned in 20 columns."""
    if isinstance(value, str):
        if value == "":
            return "''"
        quoted = "'" + value.replace("'", "''").ljust(8) + "'"
        return quoted.ljust(20)
    # bool before int: bool is an int
    if isinstance(value, (bool, np.bool_)):
        return repr(value)[0].rjust(20)
    if isinstance(value, (int, np.integer)):
        return f"{value:>20d}"
    if isinstance(value, (float, np.floating)):
        return _format_float(value).rjust(20)
    if isinstance(value, (complex, np.complexfloating)):
        return f"({_format_float(value.real)}, {_format_float(value.imag)})".rjust(20)
    return ""


def _words_group(text: str, width: int, first_width: int | None = None) -> list[str]:
    """Cut ``text`` into pieces of at most ``width`` characters (``first_width`` for the first),
    breaking after blanks; a word longer than the width is cut where the width ends."""
    size = len(text)
    # blank positions as byte offsets of the UTF-8 text, plus one past the end
    blanks = [m.start() for m in re.finditer(b" ", text.encode("utf8") + b" ")]
    pieces = []
    current = width if first_width is None else first_width
    end = start = 0
    while True:
        # the last blank before the limit closes this piece
        after = bisect.bisect_left(blanks, current + end)
        end = blanks[after - 1] + 1 if after > 0 else -1
        if end <= start:
            end = min(start + current, size)
        pieces.append(text[start:end])
        if end >= size:
            return pieces
        start = end
        current = width


def _pad(text: str) -> str:
    """``text`` padded with blanks to a non-zero multiple of 80 characters."""
    size = len(text)
    if size and size % CARD_LENGTH == 0:
        return text
    return text + " " * (CARD_LENGTH - size % CARD_LENGTH)
