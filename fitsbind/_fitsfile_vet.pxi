# Part of fitsbind/_fitsfile.pyx.
# ---------------------------------------------------------------------------------------------
# Vetting: the structural cards of a header, checked against each other and against the file
# before CFITSIO parses the header. CFITSIO 4.2.0 divides by ZTILEn and by the Rice block size
# while merely moving to a compressed image, and trusts NAXISn, TBCOLn and THEAP in arithmetic
# whose overflow it never checks; a file is data, so none of that may reach it unchecked.

# the keywords whose values take part in the size and layout arithmetic are listed in
# fitsbind/include/fitsbind_vet.h, which picks their cards out in C
# CFITSIO reads IUEIMAGE and FITS (a whole FITS file as the data, the FitsHDU convention) as
# images: BITPIX, NAXISn, PCOUNT and GCOUNT size their data units, as any extension's
_VET_XTENSIONS = frozenset(["IMAGE", "TABLE", "BINTABLE", "A3DTABLE", "IUEIMAGE", "FITS"])
_VET_BITPIX = frozenset([8, 16, 32, 64, -32, -64])
_VET_ALGORITHMS = frozenset([
    "RICE_1", "RICE_ONE", "GZIP_1", "GZIP_2", "PLIO_1", "HCOMPRESS_1", "NOCOMPRESS",
])

# FITS limits: 999 axes, 999 columns; CFITSIO keeps compressed-image axes to 6
DEF VET_MAX_INDEX = 999
DEF VET_MAX_COMPRESS_DIM = 6
# CFITSIO computes byte offsets in 64-bit integers, rounding the data unit up to 2880 bytes
DEF VET_MAX_BYTES = 0x7FFFFFFFFFFFF000
# A tile's pixels are decoded into one buffer: bound it by the compressed bytes that exist
# (no tile codec in the convention packs more than a few thousand pixels bytes per byte) or a
# fixed allowance, whichever is larger, so a 3 KB file cannot ask for gigabytes.
DEF VET_TILE_RATIO = 4096
DEF VET_TILE_ALLOWANCE = 1 << 28


cdef object _vet_value(str text):
    """The value of a card image's value field: int, float, str (unquoted), bool, or None when
    the card has none or it cannot be parsed (CFITSIO then reports it in its own words)."""
    text = text.strip()
    if not text:
        return None
    if text[0] == "'":
        end = text.find("'", 1)
        while end > 0 and end + 1 < len(text) and text[end + 1] == "'":
            end = text.find("'", end + 2)
        return text[1:end if end > 0 else len(text)].replace("''", "'").rstrip()
    text = text.split("/", 1)[0].strip()
    if text in ("T", "F"):
        return text == "T"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text.replace("D", "E").replace("d", "e"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


cdef dict _vet_cards(const char *block, Py_ssize_t ncards, dict found):
    """Add the structural cards among ``ncards`` card images to ``found`` (the first value of
    each; a repeat with another value is listed under ``" duplicates"``); return it.
    ``found["END"]`` is set at END."""
    cdef Py_ssize_t i, klen
    cdef const char *card
    cdef int64_t number
    for i in range(ncards):
        card = block + 80 * i
        if strncmp(card, b"END     ", 8) == 0:
            found["END"] = True
            return found
        if not fitsbind_vet_wanted(card):
            continue
        klen = 8
        while card[klen - 1] == b" ":
            klen -= 1
        key = PyUnicode_DecodeLatin1(card, klen, NULL)
        if fitsbind_vet_integer(card, &number):
            value = number
        else:
            value = _vet_value(card[10:80].decode("latin-1"))
        if key not in found:
            found[key] = value
        elif found[key] != value:
            # CFITSIO looks a keyword up from where its last lookup ended, so which copy it
            # takes depends on the order it reads keywords in: refuse the ambiguity
            found.setdefault(" duplicates", []).append((key, found[key], value))
    return found


cdef object _VET_MISSING = object()


class _VetFailure(Exception):
    """A structural card whose value is not what the size arithmetic needs."""


cdef object _vet_int(dict cards, str key, object default=None):
    """An integer card's value (a whole float counts, as CFITSIO reads it), ``default`` when
    the card is missing. A card that is there without a number (CFITSIO reads an undefined
    NAXISn as 0, silently shrinking the data unit) raises _VetFailure."""
    value = cards.get(key, _VET_MISSING)
    if value is _VET_MISSING:
        return default
    if isinstance(value, float) and value == int(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _VetFailure(f"{key} = {value!r} is not an integer" if value is not None
                      else f"{key} has no value")


cdef str _vet_problem(dict cards, LONGLONG header_end):
    """What is wrong with a header whose structural cards are ``cards``, or None.

    ``header_end`` is the byte where its data unit starts; the checks are arithmetic only,
    so vetting costs one pass over the header's cards."""
    try:
        return _vet_structure(cards, header_end)
    except _VetFailure as failure:
        return str(failure)


cdef str _vet_structure(dict cards, LONGLONG header_end):
    if " duplicates" in cards:
        key, first, other = cards[" duplicates"][0]
        return f"{key} appears more than once, with the values {first!r} and {other!r}"
    xtension = cards.get("XTENSION")
    if isinstance(xtension, str) and xtension.strip().upper() not in _VET_XTENSIONS:
        return f"unknown extension type XTENSION = {xtension!r}"
    bitpix = _vet_int(cards, "BITPIX")
    if bitpix is not None and bitpix not in _VET_BITPIX:
        return f"BITPIX = {bitpix} is not a FITS data type"
    naxis = _vet_int(cards, "NAXIS")
    if naxis is None:
        return None                      # CFITSIO reports a missing NAXIS itself
    if not 0 <= naxis <= VET_MAX_INDEX:
        return f"NAXIS = {naxis} is outside 0..{VET_MAX_INDEX}"
    axes = []
    for i in range(1, naxis + 1):
        n = _vet_int(cards, f"NAXIS{i}")
        if n is None:
            return None
        if n < 0:
            return f"NAXIS{i} = {n} is negative"
        axes.append(n)
    kind = xtension.strip().upper() if isinstance(xtension, str) else "PRIMARY"
    pcount = _vet_int(cards, "PCOUNT", 0)
    gcount = _vet_int(cards, "GCOUNT", 1)
    if kind != "PRIMARY" and pcount < 0:
        return f"PCOUNT = {pcount} is negative"
    if kind == "IMAGE" and (pcount != 0 or gcount != 1):
        return (f"an IMAGE extension must have PCOUNT = 0 and GCOUNT = 1, not "
                f"PCOUNT = {pcount}, GCOUNT = {gcount}")
    if kind in ("TABLE", "BINTABLE", "A3DTABLE") and gcount != 1:
        return f"a table must have GCOUNT = 1, not {gcount}"
    npix = 1
    for n in (axes[1:] if kind == "PRIMARY" and axes and axes[0] == 0 else axes):
        npix *= n
    if kind != "PRIMARY" or (axes and axes[0] == 0):   # random groups: PCOUNT, GCOUNT count
        nbytes = abs(bitpix or 8) // 8 * max(gcount, 0) * (pcount + npix if axes else pcount)
    else:
        nbytes = abs(bitpix or 8) // 8 * npix if axes else 0
    if header_end + nbytes > VET_MAX_BYTES:
        return f"the header describes a data unit of {nbytes} bytes, beyond any file"
    if kind in ("TABLE", "BINTABLE", "A3DTABLE"):
        problem = _vet_table(cards, kind, axes)
        if problem is None and kind != "TABLE" and cards.get("ZIMAGE") is True:
            problem = _vet_compressed(cards, axes, nbytes)
        return problem
    return None


cdef str _vet_table(dict cards, str kind, list axes):
    """TFIELDS, TBCOLn and THEAP against the row length and the data unit."""
    tfields = _vet_int(cards, "TFIELDS")
    if tfields is None:
        return None
    if not 0 <= tfields <= VET_MAX_INDEX:
        return f"TFIELDS = {tfields} is outside 0..{VET_MAX_INDEX}"
    if len(axes) != 2:
        return f"a table must have NAXIS = 2, not {len(axes)}"
    width, nrows = axes
    if kind == "TABLE":
        for i in range(1, tfields + 1):
            tbcol = _vet_int(cards, f"TBCOL{i}")
            tform = cards.get(f"TFORM{i}")
            if tbcol is None or not isinstance(tform, str):
                continue
            digits = tform.strip()[1:].split(".", 1)[0]
            field = int(digits) if digits.isdigit() else 0
            if tbcol < 1 or tbcol - 1 + field > width:
                return (f"column {i} (TBCOL{i} = {tbcol}, TFORM{i} = {tform!r}) does not fit "
                        f"in a row of NAXIS1 = {width} characters")
    theap = _vet_int(cards, "THEAP")
    pcount = _vet_int(cards, "PCOUNT", 0)
    if theap is not None and not (
            width * nrows <= theap <= width * nrows + pcount):
        return (f"THEAP = {theap} lies outside the data unit (the table ends at byte "
                f"{width * nrows}, the heap area at {width * nrows + pcount})")
    return None


cdef str _vet_compressed(dict cards, list axes, object nbytes):
    """The Z cards of a tile-compressed image: the values CFITSIO divides by, sizes tiles
    with and decodes with."""
    zbitpix = _vet_int(cards, "ZBITPIX")
    if zbitpix is not None and zbitpix not in _VET_BITPIX:
        return f"ZBITPIX = {zbitpix} is not a FITS data type"
    algorithm = cards.get("ZCMPTYPE")
    if isinstance(algorithm, str) and algorithm.strip().upper() not in _VET_ALGORITHMS:
        return f"unknown compression algorithm ZCMPTYPE = {algorithm!r}"
    zaxes = _vet_int(cards, "ZNAXIS")
    if zaxes is None:
        return None
    if not 1 <= zaxes <= VET_MAX_COMPRESS_DIM:
        return f"ZNAXIS = {zaxes} is outside 1..{VET_MAX_COMPRESS_DIM}"
    tiles = 1
    tile = 1
    for i in range(1, zaxes + 1):
        n = _vet_int(cards, f"ZNAXIS{i}")
        if n is None:
            return None
        if n < 0:
            return f"ZNAXIS{i} = {n} is negative"
        t = _vet_int(cards, f"ZTILE{i}", n if i == 1 else 1)
        if t < 1:
            return f"ZTILE{i} = {t}: a tile must be at least one pixel long"
        tiles *= max(n - 1, 0) // t + 1
        tile *= min(t, max(n, 1))
    if len(axes) == 2 and tiles != axes[1]:
        return (f"the image has {tiles} tiles (ZNAXISn / ZTILEn) but the table has "
                f"NAXIS2 = {axes[1]} rows")
    tile_bytes = tile * abs(zbitpix or 8) // 8
    if tile_bytes > max(VET_TILE_RATIO * nbytes, VET_TILE_ALLOWANCE):
        return (f"a tile of {tile} pixels cannot have been compressed into a data unit of "
                f"{nbytes} bytes")
    if isinstance(algorithm, str) and algorithm.strip().upper() in ("RICE_1", "RICE_ONE"):
        return _vet_rice(cards)
    return None


cdef str _vet_rice(dict cards):
    """The Rice block size (ZVAL1) and bytes per pixel (ZVAL2), read as CFITSIO reads them:
    very old files carry NOISEBIT in ZVAL2, and a pair below 16 / above 8 is taken swapped."""
    blocksize = _vet_int(cards, "ZVAL1")
    if blocksize is None:
        return None                      # CFITSIO reports the missing card
    old = isinstance(cards.get("ZNAME2"), str) and cards["ZNAME2"].strip() == "NOISEBIT"
    bytepix = 4 if old else _vet_int(cards, "ZVAL2", 4)
    if blocksize < 16 and bytepix > 8:
        blocksize, bytepix = bytepix, blocksize
    if not 1 <= blocksize <= 65536:
        return f"the Rice block size ZVAL1 = {blocksize} is not a positive pixel count"
    if bytepix not in (1, 2, 4, 8):
        return f"the Rice pixel size ZVAL2 = {bytepix} is not 1, 2, 4 or 8 bytes"
    return None


cdef int _vet_text(bytes cards, str filename) except -1:
    """Vet header text about to be written (80-character card images, END excluded): CFITSIO
    parses a header as soon as it is defined, so what it cannot survive must not reach it."""
    found = _vet_cards(cards, len(cards) // 80, {})
    problem = _vet_problem(found, 0)
    if problem is not None:
        raise FITSValueError(f"{filename}: refusing to write a malformed header: {problem}",
                             filename=filename)
    # CFITSIO judges the column formats only once the header is in the file
    xtension = found.get("XTENSION")
    tfields = _vet_int(found, "TFIELDS", 0) if isinstance(xtension, str) else 0
    kind = xtension.strip().upper() if isinstance(xtension, str) else ""
    if kind in ("BINTABLE", "TABLE", "A3DTABLE"):
        for i in range(1, tfields + 1):
            form = found.get(f"TFORM{i}")
            if isinstance(form, str):
                try:
                    _check_tform(form.encode("ascii", "replace"), kind == "TABLE", i)
                except FITSError as exc:
                    raise FITSValueError(f"{filename}: refusing to write a malformed header: "
                                         f"{exc}", filename=filename) from None
    return 0
