# Part of fitsbind/_fitsfile.pyx.
# ---------------------------------------------------------------------------------------------
# Deferred opening. CFITSIO's open of a file costs more than the rest of a small file's read:
# two open()s, seven stat()s, a seek to the end, a 115 KB zeroed buffer and the primary header
# parsed keyword by keyword, about 40 us here, where rustfits opens a file, reads one key and a
# 32x32 corner in 60 us. So a read-only handle on a plain FITS file starts without CFITSIO: it
# reads image headers itself and answers the calls the common read paths make on them (moving
# between image HDUs, keywords, the header text, where the pixels are for fitsbind's own pread
# path). Those headers must have a stricter form than CFITSIO's: the mandatory keywords in
# their places with plain integer values; printable ASCII; keywords of A-Z 0-9 - _ only, no
# HIERARCH cards; END followed by blanks; BSCALE/BZERO/BLANK numeric; no random groups; and
# they must pass the vetting CFITSIO's headers get. Any other header, and every other call,
# opens CFITSIO there and then (FitsFile._materialize) at the HDU the handle is on, so callers
# see one handle whichever way a call is answered, and a file that is not plain meets
# CFITSIO's own checks and messages.

# header blocks read per pread while looking for END
DEF LIGHT_BLOCKS = 2


cdef bint _light_chars(const char *text, Py_ssize_t ncards):
    """True if every card is printable ASCII and its keyword field holds only A-Z, 0-9, '-',
    '_' and blanks (so a lookup needs no case folding and no HIERARCH rules)."""
    cdef Py_ssize_t i, j
    cdef char c
    for i in range(ncards * 80):
        c = text[i]
        if c < 32 or c > 126:
            return False
    for i in range(ncards):
        for j in range(8):
            c = text[80 * i + j]
            if not (b"A" <= c <= b"Z" or b"0" <= c <= b"9" or c == b"-" or c == b"_"
                    or c == b" "):
                return False
    return True


cdef Py_ssize_t _light_find(const char *text, Py_ssize_t ncards, const char *key8):
    """Index of the first card whose keyword is the 8-character blank-padded ``key8``, or
    -1."""
    cdef Py_ssize_t i
    for i in range(ncards):
        if memcmp(text + 80 * i, key8, 8) == 0:
            return i
    return -1


cdef bint _light_int(const char *card, const char *key8, int64_t *out):
    """1 with ``*out`` set if ``card`` is ``key8 = <plain integer>``, else 0."""
    if memcmp(card, key8, 8) != 0 or card[8] != b"=":
        return 0
    return fitsbind_vet_integer(card, out)


@cython.final
cdef class _LightHDU:
    """One image HDU as deferred opening read it."""
    cdef LONGLONG head, data, end     # header start, data start, data end (next header)
    cdef int bitpix
    cdef tuple shape                  # numpy order
    cdef bytes cards                  # card images before END, trailing blank cards excluded
    cdef Py_ssize_t ncards
    cdef bint scaled                  # BSCALE or BZERO present
    cdef dict layout                  # BITPIX and those of BSCALE, BZERO, BLANK present

    cdef tuple value(self, object name):
        """``(value, comment)`` of keyword ``name``'s first card as :meth:`FitsFile.read_key`
        gives it, ``()`` when there is none, or None when CFITSIO must look ``name`` up (not a
        plain keyword, or a card only its parser can judge)."""
        # ASCII checked before upper(): a few other letters upper-case to ASCII ones, and
        # CFITSIO's lookup refuses them
        if not isinstance(name, str) or not name.isascii():
            return None
        key = name.strip().upper().encode("ascii")
        if not key or len(key) > 8 or key.translate(None, _KEYWORD_CHARS):
            return None
        key8 = key.ljust(8)
        cdef Py_ssize_t i = _light_find(self.cards, self.ncards, key8)
        if i < 0:
            return ()
        if self.cards[80 * i + 8:80 * i + 10] != b"= ":
            return None                    # no value indicator: CFITSIO's reading of it
        cdef Py_ssize_t j = i + 1
        # a long string continues on the CONTINUE cards right after it
        while j < self.ncards and self.cards[80 * j:80 * j + 8] == b"CONTINUE":
            j += 1
        try:
            keyword, value, comment, _ = parse_cards(
                self.cards[80 * i:80 * j].decode("latin-1"))[0]
        except FITSValueError:
            return None
        return value, comment


_LIGHT_SCALING = (("BSCALE", b"BSCALE  "), ("BZERO", b"BZERO   "), ("BLANK", b"BLANK   "))


cdef _LightHDU _light_scan(int fd, LONGLONG size, LONGLONG head, int index):
    """The image HDU whose header starts at byte ``head``, or None when the header is not in
    the form deferred opening serves (CFITSIO reads it then)."""
    cdef LONGLONG pos = head, data
    cdef Py_ssize_t nblocks, used, ncards = -1, i, k, naxis
    cdef int64_t value = 0, total = 1
    cdef const char *text
    cdef _LightHDU hdu
    parts = []
    while ncards < 0:
        if pos + 2880 > size:
            return None                    # a header cut short: CFITSIO reports it
        chunk = os.pread(fd, 2880 * LIGHT_BLOCKS, pos)
        nblocks = min(len(chunk), size - pos) // 2880
        if nblocks == 0:
            return None
        text = chunk
        used = nblocks
        for k in range(nblocks):
            if (pos > head or k > 0) and memcmp(text + 2880 * k, b"XTENSION=", 9) == 0:
                return None                # no END before the next header
            for i in range(36):
                if memcmp(text + 2880 * k + 80 * i, b"END     ", 8) == 0:
                    ncards = (pos - head) // 80 + 36 * k + i
                    break
            if ncards >= 0:
                used = k + 1
                break
        parts.append(chunk[:2880 * used])
        pos += 2880 * used
    block = b"".join(parts) if len(parts) > 1 else parts[0]
    text = block
    data = pos
    if (block[80 * ncards:80 * ncards + 80].rstrip(b" ") != b"END"
            or not _light_chars(text, ncards) or _light_find(text, ncards, b"HIERARCH") >= 0):
        return None
    # the mandatory keywords, in their places
    if index == 0:
        if block[:30] != b"SIMPLE  =                    T":
            return None
    elif block[:20] != b"XTENSION= 'IMAGE   '":
        return None
    if ncards < 3 or not _light_int(text + 80, b"BITPIX  ", &value) or \
            value not in (8, 16, 32, 64, -32, -64):
        return None
    bitpix = value
    if not _light_int(text + 160, b"NAXIS   ", &value) or not 0 <= value <= 999:
        return None
    naxis = value
    if ncards < 3 + naxis + (2 if index else 0):
        return None
    shape = []
    for k in range(naxis):
        key8 = f"NAXIS{k + 1}".ljust(8).encode()
        if not _light_int(text + 80 * (3 + k), key8, &value) or value < 0:
            return None
        shape.append(value)
    if index == 0 and naxis and shape[0] == 0:
        return None                        # random groups: CFITSIO's own reading
    if index:
        if not (_light_int(text + 80 * (3 + naxis), b"PCOUNT  ", &value) and value == 0
                and _light_int(text + 80 * (4 + naxis), b"GCOUNT  ", &value) and value == 1):
            return None
    # What vetting (_fitsfile_vet.pxi) checks of an image header beyond the above: that no
    # structural keyword comes again, and the size. A header with any keyword vetting reads
    # after the mandatory ones goes to CFITSIO and vetting whole, as do sizes beyond a file.
    for i in range(3 + naxis + (2 if index else 0), ncards):
        if fitsbind_vet_wanted(text + 80 * i):
            return None
    nbytes = abs(bitpix) // 8 * math.prod(shape) if naxis else 0
    if data + nbytes > VET_MAX_BYTES:
        return None
    hdu = _LightHDU.__new__(_LightHDU)
    hdu.head = head
    hdu.data = data
    hdu.bitpix = bitpix
    hdu.shape = tuple(reversed(shape))
    hdu.end = data + (nbytes + 2879) // 2880 * 2880
    # CFITSIO counts blank cards right before END as header space, not cards
    while ncards and block[80 * (ncards - 1):80 * ncards] == b" " * 80:
        ncards -= 1
    hdu.cards = block[:80 * ncards]
    hdu.ncards = ncards
    hdu.layout = {"BITPIX": bitpix}
    for key, key8 in _LIGHT_SCALING:
        if _light_find(hdu.cards, ncards, key8) < 0:
            continue
        found = hdu.value(key)
        if found is None or isinstance(found[0], bool) or not isinstance(found[0], (int, float)):
            return None                    # CFITSIO's message for a scaling card it rejects
        hdu.scaled = hdu.scaled or key != "BLANK"
        hdu.layout[key] = found[0]
    return hdu


@cython.final
cdef class _Light:
    """A handle's state while CFITSIO is not open: its descriptor and the HDUs read so far."""
    cdef int fd
    cdef tuple identity                # (st_dev, st_ino) of the file fd is open on
    cdef LONGLONG size
    cdef list hdus                     # _LightHDU of HDUs 0, 1, ... as far as read
    cdef int current

    cdef _LightHDU hdu(self, int index):
        """HDU ``index``, reading headers up to it; None when one of them (or a missing HDU)
        needs CFITSIO."""
        cdef _LightHDU last
        while len(self.hdus) <= index:
            last = self.hdus[-1]
            if last.end >= self.size:
                return None
            found = _light_scan(self.fd, self.size, last.end, len(self.hdus))
            if found is None:
                return None
            self.hdus.append(found)
        return self.hdus[index]

    cdef int count(self):
        """Number of HDUs, reading every header; -1 when one of them needs CFITSIO."""
        cdef _LightHDU last = self.hdus[-1]
        while last.end < self.size:
            last = self.hdu(len(self.hdus))
            if last is None:
                return -1
        return len(self.hdus)


cdef _Light _light_open(str path):
    """Deferred-opening state for a read-only handle on the file at ``path``, or None when it
    is not plain FITS whose primary header deferred opening serves."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None                        # CFITSIO's open says why
    cdef _Light light = _Light.__new__(_Light)
    light.fd = fd
    try:
        st = os.fstat(fd)
        light.identity = (st.st_dev, st.st_ino)
        light.size = st.st_size
        primary = _light_scan(fd, light.size, 0, 0)
    except OSError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    if primary is None:
        os.close(fd)
        return None
    light.hdus = [primary]
    light.current = 0
    return light
