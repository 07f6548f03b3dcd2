# Part of fitsbind/_fitsfile.pyx.
# ---------------------------------------------------------------------------------------------
# Text conversions between Python and header cards.

# structural keywords CFITSIO maintains: the data layout (and fitsbind's reading of the HDU)
# depends on them, so callers must not set them directly
_STRUCTURAL_FIXED = frozenset([
    "SIMPLE", "XTENSION", "BITPIX", "NAXIS", "PCOUNT", "GCOUNT", "GROUPS", "EXTEND",
    "TFIELDS", "THEAP", "END", "CONTINUE",
])
_STRUCTURAL_INDEXED = ("NAXIS", "TFORM", "TBCOL")


cdef bytes _ascii(object text, str what):
    """``text`` as printable-ASCII bytes (what a header card may hold), else ValueError."""
    if isinstance(text, bytes):
        raw = text
    else:
        try:
            raw = str(text).encode("ascii")
        except UnicodeEncodeError:
            raise ValueError(f"{what} {text!r} contains non-ASCII characters; "
                             "FITS headers hold printable ASCII only") from None
    for c in raw:
        if c < 32 or c > 126:
            raise ValueError(f"{what} {text!r} contains the non-printable character {chr(c)!r}; "
                             "FITS headers hold printable ASCII only")
    return raw


cdef bytes _header_bytes(object cards, str filename):
    """Header text (card images, END excluded) as bytes, refused with the card named when it
    holds a character a header may not (a round trip of a damaged file may carry one)."""
    raw = cards if isinstance(cards, bytes) else str(cards).encode("latin-1", "replace")
    for i, c in enumerate(raw):
        if c < 32 or c > 126:
            raise FITSValueError(f"{filename}: card {i // 80 + 1} of the header holds the "
                                 f"character {chr(c)!r}; FITS headers hold printable ASCII only",
                                 filename=filename)
    if len(raw) % 80:
        raise FITSValueError(f"{filename}: header text is {len(raw)} characters, not a "
                             "multiple of 80", filename=filename)
    return raw


# the characters of a standard keyword name (FITS 4.0, section 4.1.2.1)
_KEYWORD_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"


cdef bytes _keyname(object name, bint writing=False):
    """``name`` as CFITSIO takes it. Names to be written must be FITS keywords (or HIERARCH
    names); names looked up may be anything a file holds."""
    raw = _ascii(name, "keyword name")
    if not raw.strip():
        raise ValueError("keyword name is empty")
    for c in b"*?#":
        if c in raw:
            # CFITSIO reads these as wildcards
            raise ValueError(f"keyword name {name!r} contains {chr(c)!r}, which is not allowed")
    stripped = raw.strip()
    if stripped.upper().startswith(b"HIERARCH "):
        return raw                       # the caller asked for a HIERARCH card by name
    bad = stripped.upper().translate(None, _KEYWORD_CHARS + b" ")
    if bad and writing:
        # CFITSIO would quietly turn the name into a HIERARCH card
        raise ValueError(f"keyword name {name!r} contains {chr(bad[0])!r}; keywords hold "
                         "letters, digits, '-' and '_' (and spaces between the words of a "
                         "HIERARCH name)")
    if len(stripped) > 8 or b" " in stripped:
        # explicit: CFITSIO's implicit HIERARCH drops characters of CONTINUE'd strings
        return b"HIERARCH " + stripped
    return raw


cdef int _check_tform(bytes form, bint ascii, int column) except -1:
    """Raise ValueError unless CFITSIO can parse ``form`` as a TFORM of this table kind."""
    cdef int status = 0, datacode = 0, decim = 0
    cdef long width = 0
    cdef LONGLONG repeat = 0
    if ascii:
        ffasfm(form, &datacode, &width, &decim, &status)
    else:
        ffbnfmll(form, &datacode, &repeat, &width, &status)
    if status:
        messages = _pop_messages()
        kind = "an ASCII" if ascii else "a binary"
        raise FITSValueError(
            f"column {column}: {form.decode()!r} is not a valid TFORM for {kind} table"
            + ("".join(f"\n  CFITSIO: {m}" for m in messages)),
            status=status, messages=messages)
    return 0


def is_structural(name) -> bool:
    """True for keywords that describe the data layout (BITPIX, NAXISn, TFORMn, END, ...)."""
    key = str(name).strip().upper()
    if key in _STRUCTURAL_FIXED:
        return True
    for stem in _STRUCTURAL_INDEXED:
        if key.startswith(stem) and key[len(stem):].isdigit():
            return True
    return False


cdef tuple _split_card(str card):
    """(keyword, raw value field, comment) of one 80-character card; raw value None for
    commentary cards (COMMENT, HISTORY, blank keyword, or no value indicator)."""
    cdef char name[FLEN_KEYWORD]
    cdef char value[FLEN_VALUE]
    cdef char comment[FLEN_COMMENT]
    cdef int length = 0, status = 0
    if card.startswith("CONTINUE  "):
        # ffpsvc treats CONTINUE as commentary; parse its value field as a keyword's
        _, value_text, comment_text = _split_card("VALUE   = " + card[10:])
        return "CONTINUE", value_text, comment_text
    raw = card.encode("latin-1")
    is_hierarch = card[:9].upper() == "HIERARCH "
    if not is_hierarch and card[8:10] != "= ":
        return card[:8].rstrip(), None, card[8:].rstrip()
    ffgknm(raw, name, &length, &status)
    if status == 0:
        ffpsvc(raw, value, comment, &status)
    if status:
        messages = _pop_messages()
        raise FITSValueError(f"cannot parse header card {card.rstrip()!r}"
                             + "".join(f"\n  CFITSIO: {m}" for m in messages),
                             status=status, messages=messages)
    keyword = name.decode("latin-1").strip()
    if is_hierarch and keyword.upper().startswith("HIERARCH "):
        keyword = keyword[9:].strip()
    return keyword, value.decode("latin-1").strip(), comment.decode("latin-1").rstrip()


cdef str _unquote(str raw):
    """Text of a quoted FITS string value ('' inside stands for one quote)."""
    return raw.strip()[1:-1].replace("''", "'").rstrip(" ")


def parse_cards(str text) -> list:
    """Parse header text (80-character cards, END excluded) into card tuples.

    Each is ``(keyword, value, comment, image)``: keyword without a HIERARCH prefix, value
    typed as :meth:`FitsFile.read_key` gives it (the text, for commentary cards), and the
    card image(s). A long string continued over CONTINUE cards is one tuple whose image holds
    all of its cards and whose comment is the last card's.
    """
    cards = []
    cdef Py_ssize_t i, n = len(text) // 80
    cdef bint continuing = False
    for i in range(n):
        image = text[80 * i:80 * i + 80]
        keyword, raw, comment = _split_card(image)
        if continuing and keyword == "CONTINUE" and raw is not None and raw.startswith("'"):
            piece = _unquote(raw)
            prev_key, prev_value, _, prev_image = cards[-1]
            joined = prev_value[:-1] + piece
            cards[-1] = (prev_key, joined, comment.lstrip(), prev_image + image)
            continuing = piece.endswith("&")
            continue
        if raw is None:
            cards.append((keyword, comment, "", image))
            continuing = False
            continue
        if raw.startswith("'"):
            value = _unquote(raw)
            continuing = value.endswith("&")
        else:
            value = _parse_value(raw, None)
            continuing = False
        cards.append((keyword, value, comment.lstrip(), image))
    # a string ending in "&" with no CONTINUE after it keeps its "&"
    return cards


cdef bint _split_stalls(bytes value, int first_room, int commlen):
    """True if CFITSIO's CONTINUE splitting (ffpkls) would never finish for ``value``.

    ffpkls sizes each chunk as the card room less the quotes (which double) in the next 68
    characters, and shrinks the last chunks to leave room for the comment. When a chunk comes
    out empty it loops forever (CFITSIO 4.2), so fitsbind follows the same arithmetic first.
    """
    cdef int remain = max(len(value), 1), pos = 0, nquote, nchar
    nquote = value[:68].count(b"'")
    nchar = first_room - nquote
    commlen = min(commlen, 47)
    while remain > 0:
        if remain > nchar:
            nchar -= 1
        if nchar <= 0:
            return True
        remain -= nchar
        pos += nchar
        if remain > 0:
            nquote = value[pos:pos + 68].count(b"'")
            nchar = 68 - nquote
        if commlen > 0 and remain + nquote < 69 and remain + nquote + commlen > 65 and nchar > 18:
            nchar = remain - 15
    return False


cdef bint _continue_would_hang(bytes value, bytes key, int commlen):
    """Guard for :func:`_split_stalls`, under both of ffpkls's views of the keyword name."""
    name = key.strip()
    return (_split_stalls(value, 68, commlen)
            or _split_stalls(value, 80 - len(name) - 5, commlen))


cdef int _decimals(double value):
    """Precision for CFITSIO's %G formatting that reproduces ``repr(value)`` exactly.

    The significant digits of the shortest round-trip repr, but never fewer than the integer
    digits of a value repr writes without exponent (so 100.0 becomes "100." not "1.E+02").
    """
    text = repr(abs(value)).lower()
    mantissa = text.split("e")[0]
    digits = mantissa.replace(".", "").lstrip("0").rstrip("0")
    precision = len(digits)
    if "e" not in text:
        precision = max(precision, len(mantissa.split(".")[0].lstrip("0")))
    return min(max(precision, 1), 17)


cdef object _parse_value(str raw, bytes string_value):
    """Python value of a card's value field (``raw``); ``string_value`` if it is a string."""
    cdef char dtype = 0
    cdef int status = 0
    if raw == "":
        return None
    ffdtyp(raw.encode("latin-1"), &dtype, &status)
    if status:
        _pop_messages()
        raise FITSValueError(f"cannot parse keyword value {raw!r}", status=status)
    try:
        if dtype == b"C":
            return string_value.decode("latin-1")
        if dtype == b"L":
            return raw.strip() == "T"
        if dtype == b"I":
            return int(raw)
        if dtype == b"F":
            return float(raw.upper().replace("D", "E"))
        if dtype == b"X":
            re_part, im_part = raw.strip().strip("()").split(",")
            return complex(float(re_part.upper().replace("D", "E")),
                           float(im_part.upper().replace("D", "E")))
    except ValueError:
        raise FITSValueError(f"cannot parse keyword value {raw!r}") from None
    raise FITSValueError(f"unknown keyword value type for {raw!r}")

