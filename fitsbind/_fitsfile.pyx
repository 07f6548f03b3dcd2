# cython: language_level=3
"""One open CFITSIO handle, and the only place fitsbind calls CFITSIO.

Threading contract
------------------
* Each open file has one re-entrant lock, shared by every ``FitsFile`` open on the same file
  (keyed by device and inode, so every path and link to it shares the lock). CFITSIO shares
  one internal file structure between handles opened on the same file, so a lock per handle
  would not be enough. Every method takes the lock, so concurrent calls on one handle, or on
  two handles of one file, run one after the other.
* Calls that may touch the disk at length (open, close, flush, moving between HDUs, counting
  HDUs, checksums, pixel I/O) release the GIL while CFITSIO works, so threads
  working on *different* files run in parallel. Cheap header calls keep the GIL.
* CFITSIO is built reentrant: its global tables are guarded by its own mutex.
* CFITSIO keeps one process-wide stack of error messages. The detail lines attached to an
  exception are read from it, so when two threads fail at the same moment a detail line may
  belong to the other thread's failure; the status code and its text are always this call's.
"""

import math
import numbers
import os
import threading

import numpy as np

cimport numpy as cnp
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.math cimport NAN
from libc.string cimport memcpy, memset, strlen, strncmp

from fitsbind._cfitsio cimport *
from fitsbind._cfitsio_lock cimport fitsio_init_lock
from fitsbind.errors import (
    FITSError,
    FITSFileExistsError,
    FITSFileNotFoundError,
    FITSIndexError,
    FITSIsADirectoryError,
    FITSKeyError,
    FITSMemoryError,
    FITSPermissionError,
    FITSTypeError,
    FITSValueError,
)

if fitsio_init_lock():
    raise ImportError("fitsbind: CFITSIO could not initialise its thread lock")

cdef extern from *:
    # set by setup.py: "vendored" or "system"
    const char *FITSBIND_CFITSIO_SOURCE

# HDU types, as CFITSIO numbers them
HDU_IMAGE = IMAGE_HDU
HDU_ASCII_TABLE = ASCII_TBL
HDU_BINARY_TABLE = BINARY_TBL

# CFITSIO image type codes accepted when creating an image HDU: BITPIX values, plus the
# unsigned / signed-byte codes for which CFITSIO writes the BZERO convention itself.
IMAGE_TYPES = frozenset([
    BYTE_IMG, SHORT_IMG, LONG_IMG, LONGLONG_IMG, FLOAT_IMG, DOUBLE_IMG,
    SBYTE_IMG, USHORT_IMG, ULONG_IMG, ULONGLONG_IMG,
])

# CFITSIO's iomode values. Not taken from fitsio.h: Python's structmember.h, which Cython
# includes too, redefines READONLY as 1 (CFITSIO's READWRITE).
cdef enum:
    IOMODE_READONLY = 0
    IOMODE_READWRITE = 1

DEF MAX_AXES = 999
DEF ERRMSG_LEN = 81

cnp.import_array()

# numpy dtype -> CFITSIO datatype code of the pixel routines (which convert and scale to it)
PIXEL_DTYPES = {
    np.dtype(np.uint8): TBYTE,
    np.dtype(np.int8): TSBYTE,
    np.dtype(np.int16): TSHORT,
    np.dtype(np.uint16): TUSHORT,
    np.dtype(np.int32): TINT,
    np.dtype(np.uint32): TUINT,
    np.dtype(np.int64): TLONGLONG,
    np.dtype(np.uint64): TULONGLONG,
    np.dtype(np.float32): TFLOAT,
    np.dtype(np.float64): TDOUBLE,
}

# numpy dtype -> CFITSIO datatype code of the column routines
COLUMN_DTYPES = dict(PIXEL_DTYPES)
COLUMN_DTYPES.update({np.dtype(np.bool_): TLOGICAL, np.dtype(np.complex64): TCOMPLEX,
                      np.dtype(np.complex128): TDBLCOMPLEX})


cdef int _column_type(object dtype) except -1:
    code = COLUMN_DTYPES.get(dtype)
    if code is None:
        raise TypeError(f"CFITSIO's column routines do not take {dtype}")
    return code


# structural keywords CFITSIO maintains: the data layout (and fitsbind's reading of the HDU)
# depends on them, so callers must not set them directly
_STRUCTURAL_FIXED = frozenset([
    "SIMPLE", "XTENSION", "BITPIX", "NAXIS", "PCOUNT", "GCOUNT", "GROUPS", "EXTEND",
    "TFIELDS", "THEAP", "END", "CONTINUE",
])
_STRUCTURAL_INDEXED = ("NAXIS", "TFORM", "TBCOL")


def cfitsio_version() -> str:
    """CFITSIO version compiled in, ``"MAJOR.MINOR.MICRO"`` (from the fitsio.h built against)."""
    return f"{CFITSIO_MAJOR}.{CFITSIO_MINOR}.{CFITSIO_MICRO}"


def cfitsio_library_version() -> float:
    """CFITSIO version reported at run time by the linked library (``major.minor`` float)."""
    cdef float version = 0
    ffvers(&version)
    return round(version, 3)


def cfitsio_source() -> str:
    """Which CFITSIO the extension was built with: ``"vendored"`` or ``"system"``."""
    return FITSBIND_CFITSIO_SOURCE.decode("ascii")


# ---------------------------------------------------------------------------------------------
# Errors: one table from CFITSIO status to exception class, one function that builds the error.

_STATUS_CLASSES = {
    FILE_NOT_OPENED: FITSFileNotFoundError,
    READONLY_FILE: FITSPermissionError,
    KEY_NO_EXIST: FITSKeyError,
    KEY_OUT_BOUNDS: FITSIndexError,
    BAD_HDU_NUM: FITSIndexError,
    BAD_ROW_NUM: FITSIndexError,
    BAD_ELEM_NUM: FITSIndexError,
    MEMORY_ALLOCATION: FITSMemoryError,
    VALUE_UNDEFINED: FITSValueError,
    NO_QUOTE: FITSValueError,
    BAD_KEYCHAR: FITSValueError,
    BAD_C2I: FITSValueError,
    BAD_C2F: FITSValueError,
    BAD_C2D: FITSValueError,
    BAD_LOGICALKEY: FITSValueError,
    BAD_FLOATKEY: FITSValueError,
    BAD_INTKEY: FITSValueError,
    BAD_DOUBLEKEY: FITSValueError,
    NUM_OVERFLOW: FITSValueError,
    OVERFLOW_ERR: FITSValueError,
    BAD_DATATYPE: FITSValueError,
}


cdef list _pop_messages():
    """Empty CFITSIO's error-message stack, oldest message first."""
    cdef char buf[ERRMSG_LEN]
    messages = []
    while ffgmsg(buf) > 0:
        text = buf.decode("latin-1").strip()
        if text:
            messages.append(text)
    return messages


cdef object _error(int status, str what, str filename, object hdu, dict overrides=None):
    """The exception for a failed CFITSIO call: class from the table, text from CFITSIO.

    ``what`` names the operation; ``overrides`` maps statuses whose meaning depends on the
    call (e.g. END_OF_FILE while moving means "no such HDU") to a class.
    """
    cdef char text[ERRMSG_LEN]
    ffgerr(status, text)
    status_text = text.decode("latin-1").strip()
    messages = _pop_messages()
    cls = None
    if any("find the END keyword" in m for m in messages):
        # CFITSIO reports a header without END as running off the end of the file
        what += ": a header has no END card"
        cls = FITSError
    if cls is None and overrides is not None:
        cls = overrides.get(status)
    if cls is None:
        cls = _STATUS_CLASSES.get(status, FITSError)
    where = filename if filename is not None else "<no file>"
    if hdu is not None:
        where = f"{where}, HDU {hdu}"
    message = f"{where}: {what}: {status_text} (CFITSIO status {status})"
    detail = [m for m in messages if m.lower() != status_text.lower()]
    if detail:
        message += "\n  CFITSIO: " + "\n  CFITSIO: ".join(detail)
    return cls(message, status=status, status_text=status_text, messages=messages,
               filename=filename, hdu=hdu)


# ---------------------------------------------------------------------------------------------
# One lock per file on disk (see the threading contract above).

_registry_lock = threading.Lock()
_file_locks = {}   # (st_dev, st_ino) -> [RLock, number of open handles]


cdef object _acquire_file_lock(object key):
    with _registry_lock:
        entry = _file_locks.get(key)
        if entry is None:
            entry = _file_locks[key] = [threading.RLock(), 0]
        entry[1] += 1
        return entry[0]


cdef void _release_file_lock(object key):
    if _registry_lock is None:   # interpreter shutdown
        return
    with _registry_lock:
        entry = _file_locks.get(key)
        if entry is not None:
            entry[1] -= 1
            if entry[1] <= 0:
                del _file_locks[key]


# ---------------------------------------------------------------------------------------------
# Text conversions between Python and header cards.

# comments of size keywords that resize_data may have to add
_NEW_SIZE_COMMENTS = {"THEAP": b"byte offset to heap area"}


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


cdef bytes _keyname(object name):
    raw = _ascii(name, "keyword name")
    if not raw.strip():
        raise ValueError("keyword name is empty")
    for c in b"*?#":
        if c in raw:
            # CFITSIO reads these as wildcards
            raise ValueError(f"keyword name {name!r} contains {chr(c)!r}, which is not allowed")
    stripped = raw.strip()
    if (len(stripped) > 8 or b" " in stripped) and not stripped.upper().startswith(b"HIERARCH "):
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


# ---------------------------------------------------------------------------------------------

cdef object _FACTORY = object()


cdef class FitsFile:
    """One open CFITSIO file handle. Made by :func:`open_file` and :func:`create_file` only.

    HDU indices are zero-based (CFITSIO's are one-based). Shapes are in numpy (C) order, the
    reverse of NAXIS1..NAXISn. Every method raises ``ValueError`` once the file is closed.
    """

    cdef fitsfile *_ptr
    cdef object _lock
    cdef object _lock_key       # (st_dev, st_ino) of the file, or its path if it has none
    cdef readonly str filename
    cdef readonly bint writable
    cdef int _raw_fd            # own descriptor for raw data I/O; -1 not yet opened, -2 none
    cdef tuple _identity        # (st_dev, st_ino) of the file when CFITSIO opened it
    cdef object __weakref__

    def __cinit__(self, token):
        if token is not _FACTORY:
            raise TypeError("FitsFile objects are made by open_file() and create_file()")
        self._ptr = NULL
        self._raw_fd = -1

    def __dealloc__(self):
        cdef int status = 0
        cdef fitsfile *ptr = self._ptr
        if ptr == NULL:
            return
        self._ptr = NULL
        if self._lock is not None:
            with self._lock:
                with nogil:
                    ffclos(ptr, &status)
        else:
            ffclos(ptr, &status)
        if status:
            ffcmsg()
        self._close_raw_fd()
        if self._lock_key is not None:
            _release_file_lock(self._lock_key)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        state = "closed" if self._ptr == NULL else ("r+" if self.writable else "r")
        return f"<fitsbind FitsFile {self.filename!r} ({state})>"

    # -- plumbing ---------------------------------------------------------------------------

    cdef inline int _require_open(self) except -1:
        if self._ptr == NULL:
            raise ValueError("I/O operation on closed FITS file")
        return 0

    cdef inline int _require_writable(self) except -1:
        # CFITSIO buffers header edits on a read-only file and fails only when flushing,
        # so the check must come first
        self._require_open()
        if not self.writable:
            raise FITSPermissionError(f"{self.filename}: the file is open read-only",
                                      filename=self.filename, hdu=self._current())
        return 0

    cdef inline int _current(self):
        cdef int n = 0
        ffghdn(self._ptr, &n)
        return n - 1

    cdef void _close_raw_fd(self):
        if self._raw_fd >= 0:
            try:
                os.close(self._raw_fd)
            except OSError:
                pass
        self._raw_fd = -2

    cdef void _open_raw_fd(self):
        """Open fitsbind's descriptor for raw I/O if the file is plain FITS on disk (not
        gzip) and still the file CFITSIO opened (same device and inode)."""
        self._raw_fd = -2   # tried: -2 means "not available"
        try:
            fd = os.open(self.filename, os.O_RDWR if self.writable else os.O_RDONLY)
        except OSError:
            return
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) == self._identity and os.pread(fd, 6, 0) == b"SIMPLE":
                self._raw_fd = fd
                return
        except OSError:
            pass
        os.close(fd)

    def raw_access(self, bint writing=False):
        """``(fd, data start)`` for raw I/O on the current HDU's data, or None when the file
        is not plain FITS on disk (gzip-compressed). CFITSIO's buffers are written out first,
        and before writing also emptied, so neither side sees stale bytes."""
        cdef int fd
        cdef LONGLONG data = 0, end = 0
        with self._lock:
            if writing:
                self._require_writable()
            else:
                self._require_open()
            fd = self._raw_data(writing, &data, &end)
            return None if fd < 0 else (fd, data)

    cdef int _raw_data(self, bint writing, LONGLONG *data, LONGLONG *end) except -3:
        """fitsbind's own descriptor of the file for raw I/O on the current HDU's data
        (negative when the file is not plain FITS on disk, e.g. gzip-compressed), and where
        that data unit starts and ends. With a descriptor, CFITSIO's buffers of a writable
        handle are written out first, and before writing also emptied, so neither side sees
        stale bytes. Call with the lock held."""
        cdef int status = 0
        cdef LONGLONG head = 0
        ffghadll(self._ptr, &head, data, end, &status)
        if status:
            raise self._fail(status, "locating the data unit")
        if self._raw_fd == -1:
            self._open_raw_fd()
        if self._raw_fd >= 0 and self.writable:
            with nogil:
                ffflsh(self._ptr, 1 if writing else 0, &status)
            if status:
                raise self._fail(status, "flushing before direct data I/O")
        return self._raw_fd

    cdef object _fail(self, int status, str what, dict overrides=None):
        hdu = self._current() if self._ptr != NULL else None
        return _error(status, what, self.filename, hdu, overrides)

    cdef int _restore(self, int index):
        """Move back to HDU ``index`` after a failed move, leaving no half-moved handle."""
        cdef int status = 0
        if self._current() != index:
            ffmahd(self._ptr, index + 1, NULL, &status)
            if status:
                ffcmsg()
        return status

    cdef void _drop_partial_hdu(self, int count_before):
        """Delete an HDU a failed create call left behind, so the file stays valid."""
        cdef int status = 0
        if self._current() >= count_before:
            ffdhdu(self._ptr, NULL, &status)
        ffcmsg()

    cdef int _count(self) except -1:
        """Number of HDUs. CFITSIO leaves out a current HDU whose header is still being
        written (ffthdu stops before it), but the current HDU always exists."""
        cdef int n = 0, status = 0, nexist = 0, nmore = 0
        with nogil:
            ffthdu(self._ptr, &n, &status)
        if status:
            raise self._fail(status, "counting HDUs")
        if n <= self._current():
            # a new file's first HDU exists only once it has a card
            ffghsp(self._ptr, &nexist, &nmore, &status)
            if status == 0 and nexist > 0:
                n = self._current() + 1
            ffcmsg()
        self._check_unreadable_tail(n)
        return n

    cdef int _check_unreadable_tail(self, int n, bint checking_open=False) except -1:
        """ffthdu stops counting at an HDU it cannot read (a header without END, say) as if
        the file ended there; raise instead of hiding that HDU. Writable handles check once,
        when the file is opened: HDUs appended later would overwrite the unreadable one."""
        cdef int status = 0
        cdef LONGLONG head = 0, data = 0, end = 0
        if n == 0 or (self.writable and not checking_open):
            return 0
        before = self._current()
        ffmahd(self._ptr, n, NULL, &status)
        if status == 0:
            ffghadll(self._ptr, &head, &data, &end, &status)
        self._restore(before)
        ffcmsg()
        if status or self._ptr.Fptr.logfilesize < end + 2880:
            return 0
        with open(self.filename, "rb") as f:
            f.seek(end)
            start = f.read(9)
        if start == b"XTENSION=":
            ffmahd(self._ptr, n + 1, NULL, &status)
            exc = _error(status, f"reading the header of HDU {n}", self.filename, n) if status \
                else None
            self._restore(before)
            if exc is not None:
                raise exc
        return 0

    cdef object _truncation_error(self):
        """A FITSError if the file on disk is shorter than its last HDU claims, else None."""
        cdef int status = 0, n = 0
        cdef LONGLONG head = 0, data = 0, end = 0
        try:
            size = os.path.getsize(self.filename)
        except OSError:
            return None
        # a gzip file is decompressed in memory: its size on disk says nothing
        size = max(size, self._ptr.Fptr.logfilesize)
        ffthdu(self._ptr, &n, &status)
        if status == 0 and n > 0:
            ffmahd(self._ptr, n, NULL, &status)
        if status == 0:
            ffghadll(self._ptr, &head, &data, &end, &status)
        ffcmsg()
        if status == 0 and end > size:
            return FITSError(
                f"{self.filename}, HDU {n - 1}: file is truncated: the HDU's data ends at byte "
                f"{end} but the file has {size} bytes",
                filename=self.filename, hdu=n - 1)
        return None

    # -- state ------------------------------------------------------------------------------

    @property
    def lock(self):
        """The file's re-entrant lock: hold it to make a move plus a call one step."""
        return self._lock

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._ptr == NULL

    def close(self) -> None:
        """Flush and close the file. Calling it again does nothing."""
        cdef int status = 0
        cdef fitsfile *ptr
        if self._ptr == NULL:
            return
        with self._lock:
            ptr = self._ptr
            if ptr == NULL:
                return
            hdu = self._current()
            self._ptr = NULL
            self._close_raw_fd()
            with nogil:
                ffclos(ptr, &status)   # frees the handle even when it fails
            _release_file_lock(self._lock_key)
            if status:
                raise _error(status, "closing the file", self.filename, hdu)

    def flush(self) -> None:
        """Write CFITSIO's buffers to disk."""
        cdef int status = 0
        with self._lock:
            self._require_open()
            with nogil:
                ffflus(self._ptr, &status)
            if status:
                raise self._fail(status, "flushing to disk")

    # -- HDUs -------------------------------------------------------------------------------

    def num_hdus(self) -> int:
        """Number of HDUs in the file (reads every header; the current HDU stays current)."""
        with self._lock:
            self._require_open()
            return self._count()

    @property
    def current_hdu(self) -> int:
        """Zero-based index of the current HDU."""
        with self._lock:
            self._require_open()
            return self._current()

    def move_to(self, int index) -> int:
        """Make HDU ``index`` (zero-based) current; return its type (``HDU_*`` constant).

        An HDU beyond the last raises IndexError; on any failure the handle stays on the HDU
        it was on.
        """
        cdef int status = 0, hdutype = 0, hdunum = index + 1
        if index < 0:
            raise IndexError(f"{self.filename}: HDU index {index} is negative")
        with self._lock:
            self._require_open()
            before = self._current()
            with nogil:
                ffmahd(self._ptr, hdunum, &hdutype, &status)
            if status:
                exc = _error(status, f"moving to HDU {index}", self.filename, before,
                             {END_OF_FILE: FITSIndexError})
                truncated = self._truncation_error() if status == END_OF_FILE else None
                self._restore(before)
                if truncated is not None:
                    raise truncated from exc
                raise exc
            return hdutype

    def move_to_name(self, extname, int extver=0, int hdutype=ANY_HDU) -> int:
        """Make the HDU with this EXTNAME (or HDUNAME) current; return its index.

        Names compare case-insensitively. ``extver`` 0 takes the first match of any EXTVER.
        A missing name raises KeyError; the handle stays where it was.
        """
        cdef int status = 0
        cdef bytes name = _ascii(extname, "EXTNAME")
        cdef char *c_name = name
        with self._lock:
            self._require_open()
            before = self._current()
            with nogil:
                ffmnhd(self._ptr, hdutype, c_name, extver, &status)
            if status:
                label = repr(str(extname)) + (f" with EXTVER {extver}" if extver else "")
                exc = _error(status, f"looking up the HDU named {label}", self.filename, before,
                             {BAD_HDU_NUM: FITSKeyError})
                self._restore(before)
                raise exc
            return self._current()

    @property
    def hdu_type(self) -> int:
        """Type of the current HDU: HDU_IMAGE, HDU_ASCII_TABLE or HDU_BINARY_TABLE."""
        cdef int status = 0, hdutype = 0
        with self._lock:
            self._require_open()
            ffghdt(self._ptr, &hdutype, &status)
            if status:
                raise self._fail(status, "reading the HDU type")
            return hdutype

    def is_compressed_image(self) -> bool:
        """True if the current HDU is a tile-compressed image (a BINTABLE with ZIMAGE = T)."""
        cdef int status = 0, result
        with self._lock:
            self._require_open()
            result = fits_is_compressed_image(self._ptr, &status)
            if status:
                raise self._fail(status, "checking for a compressed image")
            return bool(result)

    def hdu_offsets(self) -> tuple:
        """Byte offsets in the file of the current HDU: (header start, data start, data end)."""
        cdef int status = 0
        cdef LONGLONG head = 0, data = 0, end = 0
        with self._lock:
            self._require_open()
            ffghadll(self._ptr, &head, &data, &end, &status)
            if status:
                raise self._fail(status, "reading the HDU's byte offsets")
            return (head, data, end)

    def image_info(self) -> tuple:
        """(BITPIX, equivalent BITPIX, shape) of the current image HDU.

        The equivalent BITPIX accounts for BSCALE/BZERO (e.g. 20 for uint16 stored with
        BITPIX 16, BZERO 32768); shape is in numpy order. Works for compressed images too.
        """
        cdef int status = 0, bitpix = 0, equiv = 0, naxis = 0, i
        cdef LONGLONG naxes[MAX_AXES]
        with self._lock:
            self._require_open()
            ffgiprll(self._ptr, MAX_AXES, &bitpix, &naxis, naxes, &status)
            if status == 0:
                ffgiet(self._ptr, &equiv, &status)
            if status:
                raise self._fail(status, "reading the image parameters")
            return bitpix, equiv, tuple(naxes[i] for i in range(naxis - 1, -1, -1))

    def table_info(self) -> tuple:
        """(number of rows, number of columns) of the current table HDU."""
        cdef int status = 0, ncols = 0
        cdef LONGLONG nrows = 0
        with self._lock:
            self._require_open()
            ffgnrwll(self._ptr, &nrows, &status)
            if status == 0:
                ffgncl(self._ptr, &ncols, &status)
            if status:
                raise self._fail(status, "reading the table size")
            return nrows, ncols

    def create_image_hdu(self, int bitpix, shape) -> int:
        """Append an image HDU (the primary if the file is empty); return its index.

        ``bitpix`` is a BITPIX value or a CFITSIO unsigned code (``IMAGE_TYPES``); ``shape``
        is in numpy order, ``()`` for no data. Data pixels start as zeros.
        """
        cdef int status = 0, naxis, i
        cdef LONGLONG naxes[MAX_AXES]
        if bitpix not in IMAGE_TYPES:
            raise ValueError(f"{self.filename}: invalid image type {bitpix}; expected one of "
                             f"{sorted(IMAGE_TYPES)}")
        dims = [int(n) for n in shape]
        if len(dims) > MAX_AXES:
            raise ValueError(f"{self.filename}: {len(dims)} axes; FITS allows at most {MAX_AXES}")
        if any(n < 0 for n in dims):
            raise ValueError(f"{self.filename}: negative axis length in shape {tuple(dims)}")
        naxis = len(dims)
        for i in range(naxis):
            naxes[i] = dims[naxis - 1 - i]
        with self._lock:
            self._require_writable()
            before = self._count()
            with nogil:
                ffcrimll(self._ptr, bitpix, naxis, naxes, &status)
            if status:
                exc = self._fail(status, f"creating an image HDU of shape {tuple(dims)}")
                self._drop_partial_hdu(before)
                raise exc
            return self._current()

    def create_table_hdu(self, names, formats, units=None, extname=None, long nrows=0,
                         bint ascii=False) -> int:
        """Append a table HDU (binary unless ``ascii``) with these columns; return its index.

        ``formats`` are TFORM strings; the table has ``nrows`` zero-filled rows.
        """
        cdef int status = 0, i, ncols
        cdef char **c_names = NULL
        cdef char **c_forms = NULL
        cdef char **c_units = NULL
        b_names = [_ascii(n, "column name") for n in names]
        b_forms = [_ascii(f, "column format") for f in formats]
        b_units = [_ascii(u or "", "column unit") for u in (units or [""] * len(b_names))]
        if not (len(b_names) == len(b_forms) == len(b_units)):
            raise ValueError(f"{self.filename}: {len(b_names)} column names, {len(b_forms)} "
                             f"formats and {len(b_units)} units; they must match")
        if nrows < 0:
            raise ValueError(f"{self.filename}: negative row count {nrows}")
        b_extname = _ascii(extname, "EXTNAME") if extname is not None else None
        for i, form in enumerate(b_forms):
            _check_tform(form, ascii, i + 1)
        ncols = len(b_names)
        c_names = <char **>PyMem_Malloc(max(ncols, 1) * sizeof(char *))
        c_forms = <char **>PyMem_Malloc(max(ncols, 1) * sizeof(char *))
        c_units = <char **>PyMem_Malloc(max(ncols, 1) * sizeof(char *))
        try:
            if c_names == NULL or c_forms == NULL or c_units == NULL:
                raise MemoryError()
            for i in range(ncols):
                c_names[i] = b_names[i]
                c_forms[i] = b_forms[i]
                c_units[i] = b_units[i]
            with self._lock:
                self._require_writable()
                before = self._count()
                ffcrtb(self._ptr, ASCII_TBL if ascii else BINARY_TBL, nrows, ncols, c_names,
                       c_forms, c_units, <char *>b_extname if b_extname is not None else NULL,
                       &status)
                if status:
                    exc = self._fail(status, "creating a table HDU")
                    self._drop_partial_hdu(before)
                    raise exc
                return self._current()
        finally:
            PyMem_Free(c_names)
            PyMem_Free(c_forms)
            PyMem_Free(c_units)

    # -- data layout ------------------------------------------------------------------------

    def finish_hdu(self) -> None:
        """Close the current HDU's header (END, padding) and make the file cover its data.

        Call once the header of a newly created HDU is complete. The file is grown to the
        end of the data unit with a sparse hole, so CFITSIO never writes the zeros of a large
        new HDU itself and the data can be filled in any order afterwards.
        """
        with self._lock:
            self._require_writable()
            self._finish_hdu()

    cdef int _finish_hdu(self) except -1:
        cdef int status = 0
        cdef LONGLONG head = 0, data = 0, end = 0
        cdef bint grown = False
        with nogil:
            ffrdef(self._ptr, &status)
            if status == 0:
                ffghadll(self._ptr, &head, &data, &end, &status)
            if status == 0 and self._ptr.Fptr.logfilesize < end:
                grown = True
                fftrun(self._ptr, end, &status)
        if status:
            raise self._fail(status, "extending the file to hold the new HDU's data")
        # CFITSIO ignores ftruncate's result, so see what the file system actually did
        if grown and os.path.getsize(self.filename) < end:
            hdu = self._current()
            raise FITSError(f"{self.filename}, HDU {hdu}: the file system refused to grow the "
                            f"file to {end} bytes for the HDU's data (file too large?)",
                            filename=self.filename, hdu=hdu)
        return 0

    def data_missing(self, LONGLONG nbytes) -> int:
        """Bytes of the current HDU's first ``nbytes`` data bytes that lie beyond the end of
        the file (0 when the file holds them all: it is not truncated there)."""
        with self._lock:
            data = self.hdu_offsets()[1]
            return max(0, data + nbytes - self._ptr.Fptr.logfilesize)

    def resize_image(self, shape) -> None:
        """Give the current image new axis lengths (numpy order; same number of axes).

        HDUs after it move (CFITSIO copies them). When only the slowest axis grows on the
        last HDU of the file, the NAXISn card is rewritten and the file grown sparsely, so
        no fill bytes are written for the new rows.
        """
        cdef int status = 0, bitpix = 0, naxis = 0, i
        cdef LONGLONG naxes[MAX_AXES]
        cdef LONGLONG new_axes[MAX_AXES]
        with self._lock:
            self._require_writable()
            ffgiprll(self._ptr, MAX_AXES, &bitpix, &naxis, naxes, &status)
            if status:
                raise self._fail(status, "reading the image parameters")
            if len(shape) != naxis:
                raise ValueError(f"{self.filename}, HDU {self._current()}: cannot change the "
                                 f"number of axes ({naxis}) to {len(shape)}")
            for i in range(naxis):
                new_axes[i] = shape[naxis - 1 - i]
                if new_axes[i] < 0:
                    raise ValueError(f"axis length {new_axes[i]} is negative")
            slow_growth = naxis > 0 and new_axes[naxis - 1] >= naxes[naxis - 1] and all(
                new_axes[i] == naxes[i] for i in range(naxis - 1))
            if slow_growth and self._current() == self._count() - 1:
                name = f"NAXIS{naxis}".encode("ascii")
                ffmkyj(self._ptr, name, new_axes[naxis - 1], "&", &status)
                if status:
                    raise self._fail(status, "growing the image")
                self._finish_hdu()
                return
            with nogil:
                ffrsimll(self._ptr, bitpix, naxis, new_axes, &status)
                if status == 0:
                    ffrdef(self._ptr, &status)
            if status:
                raise self._fail(status, "resizing the image")

    def resize_data(self, LONGLONG nbytes, keywords) -> None:
        """Give the current HDU a data unit of ``nbytes`` bytes (before padding) and set the
        integer ``keywords`` (a mapping such as NAXIS2, PCOUNT, THEAP) that describe that size.

        Existing data bytes stay where they are (the unit grows or shrinks at its end); HDUs
        after it move. On the last HDU the file is grown sparsely or truncated instead. The
        keywords must make the header's data size equal ``nbytes``.
        """
        cdef int status = 0
        cdef LONGLONG head = 0, data = 0, end = 0, old_blocks, new_blocks, delta
        cdef bint last
        cdef bytes name
        with self._lock:
            self._require_writable()
            ffghadll(self._ptr, &head, &data, &end, &status)
            if status:
                raise self._fail(status, "reading the HDU's position")
            if nbytes < 0:
                raise ValueError(f"negative data size {nbytes}")
            old_blocks = (end - data + 2879) // 2880
            new_blocks = (nbytes + 2879) // 2880
            delta = new_blocks - old_blocks
            last = self._current() == self._count() - 1
            if delta and not last:
                with nogil:
                    if delta > 0:
                        ffiblk(self._ptr, <long>delta, 1, &status)
                    else:
                        ffdblk(self._ptr, <long>(-delta), &status)
                if status:
                    raise self._fail(status, "moving the HDUs after this one")
            for key, value in keywords.items():
                name = _ascii(key, "keyword")
                ffmkyj(self._ptr, name, <LONGLONG>value, "&", &status)
                if status == KEY_NO_EXIST:
                    status = 0
                    ffcmsg()
                    ffpkyj(self._ptr, name, <LONGLONG>value, _NEW_SIZE_COMMENTS.get(key, b""),
                           &status)
                if status:
                    raise self._fail(status, f"setting {key}")
            if "PCOUNT" in keywords:
                # CFITSIO writes its own heap size back into PCOUNT when the HDU is redefined
                self._ptr.Fptr.heapsize = <LONGLONG>keywords["PCOUNT"]
            self._finish_hdu()
            if last and delta < 0:
                with nogil:
                    fftrun(self._ptr, data + new_blocks * 2880, &status)
                if status:
                    raise self._fail(status, "truncating the file")

    # -- pixels -----------------------------------------------------------------------------

    def read_pixels(self, cnp.ndarray out, blc, trc, inc=None, double bscale=1.0,
                    double bzero=0.0, bint nan_nulls=False) -> bool:
        """Read a box of the current image into ``out``; return True if any pixel was BLANK.

        ``blc``, ``trc`` and ``inc`` are the one-based first pixel, last pixel and step on
        each axis in FITS order (NAXIS1 first), as CFITSIO takes them. ``out`` is a
        C-contiguous native-endian array of a ``PIXEL_DTYPES`` dtype holding exactly the box's
        pixels; CFITSIO converts to its type after applying ``bscale``/``bzero`` (1 and 0
        give the stored values). ``nan_nulls`` sets pixels equal to BLANK to NaN (float
        ``out``). The GIL is released while CFITSIO reads.
        """
        cdef int status = 0, anynul = 0, datatype, naxis = len(blc), i
        cdef long c_blc[MAX_AXES]
        cdef long c_trc[MAX_AXES]
        cdef long c_inc[MAX_AXES]
        cdef LONGLONG first[MAX_AXES]
        cdef LONGLONG nelem = 1
        cdef float fnan = NAN
        cdef double dnan = NAN
        cdef void *nulval = NULL
        cdef void *buffer = cnp.PyArray_DATA(out)
        with self._lock:
            self._require_open()
            naxes = self._naxes()
            datatype = self._box(naxes, out, blc, trc, inc, c_blc, c_trc, c_inc)
            if nan_nulls:
                if datatype == TFLOAT:
                    nulval = &fnan
                elif datatype == TDOUBLE:
                    nulval = &dnan
                else:
                    raise TypeError("nan_nulls needs a float32 or float64 output array")
            contiguous = _contiguous_box(naxes, c_blc, c_trc, c_inc, naxis)
            for i in range(naxis):
                first[i] = c_blc[i]
                nelem *= (c_trc[i] - c_blc[i]) // c_inc[i] + 1
            ffpscl(self._ptr, bscale, bzero, &status)
            with nogil:
                if contiguous:
                    ffgpxvll(self._ptr, datatype, first, nelem, nulval, buffer, &anynul,
                             &status)
                else:
                    ffgsv(self._ptr, datatype, c_blc, c_trc, c_inc, nulval, buffer, &anynul,
                          &status)
            if status:
                raise self._fail(status, "reading pixels", {END_OF_FILE: FITSError})
            return bool(anynul)

    def write_pixels(self, cnp.ndarray data, blc, trc, double bscale=1.0,
                     double bzero=0.0) -> None:
        """Write ``data`` into a box of the current image (arguments as :meth:`read_pixels`,
        steps of 1). CFITSIO applies the inverse of ``bscale``/``bzero``; values must already
        be known to fit the stored type. The GIL is released while CFITSIO writes."""
        cdef int status = 0, datatype, naxis = len(blc), i
        cdef long c_blc[MAX_AXES]
        cdef long c_trc[MAX_AXES]
        cdef long c_inc[MAX_AXES]
        cdef LONGLONG first[MAX_AXES]
        cdef LONGLONG nelem = 1
        cdef void *buffer = cnp.PyArray_DATA(data)
        with self._lock:
            self._require_writable()
            naxes = self._naxes()
            datatype = self._box(naxes, data, blc, trc, None, c_blc, c_trc, c_inc)
            contiguous = _contiguous_box(naxes, c_blc, c_trc, c_inc, naxis)
            for i in range(naxis):
                first[i] = c_blc[i]
                nelem *= c_trc[i] - c_blc[i] + 1
            ffpscl(self._ptr, bscale, bzero, &status)
            with nogil:
                if contiguous:
                    ffppxll(self._ptr, datatype, first, nelem, buffer, &status)
                else:
                    ffpss(self._ptr, datatype, c_blc, c_trc, buffer, &status)
            if status:
                raise self._fail(status, "writing pixels")

    cdef list _naxes(self):
        """Axis lengths of the current image in FITS order."""
        cdef int status = 0, bitpix = 0, naxis = 0, i
        cdef LONGLONG naxes[MAX_AXES]
        with self._lock:
            self._require_open()
            ffgiprll(self._ptr, MAX_AXES, &bitpix, &naxis, naxes, &status)
            if status:
                raise self._fail(status, "reading the image parameters")
            return [naxes[i] for i in range(naxis)]

    cdef int _box(self, list naxes, cnp.ndarray array, blc, trc, inc, long *c_blc,
                  long *c_trc,
                  long *c_inc) except -1:
        """Check a pixel box against the image and ``array``; fill the C arrays; return the
        CFITSIO datatype of ``array``."""
        cdef int i, naxis = len(blc)
        cdef LONGLONG count = 1
        if len(trc) != naxis or (inc is not None and len(inc) != naxis) or naxis != len(naxes):
            raise ValueError(f"a pixel box needs {len(naxes)} axes, got {naxis}")
        for i in range(naxis):
            c_blc[i] = blc[i]
            c_trc[i] = trc[i]
            c_inc[i] = 1 if inc is None else inc[i]
            if not (1 <= c_blc[i] <= c_trc[i] <= naxes[i]) or c_inc[i] < 1:
                raise IndexError(f"{self.filename}, HDU {self._current()}: pixel box "
                                 f"{list(blc)}..{list(trc)} is outside the image "
                                 f"{list(naxes)} (FITS order)")
            count *= (c_trc[i] - c_blc[i]) // c_inc[i] + 1
        if not (cnp.PyArray_IS_C_CONTIGUOUS(array) and array.dtype.isnative):
            raise ValueError("pixel buffers must be C-contiguous and native-endian")
        if array.size != count:
            raise ValueError(f"pixel buffer holds {array.size} values; the box has {count}")
        datatype = PIXEL_DTYPES.get(array.dtype)
        if datatype is None:
            raise TypeError(f"no CFITSIO pixel type for dtype {array.dtype}")
        if naxis == 0:
            raise ValueError(f"{self.filename}, HDU {self._current()}: the HDU has no data")
        return datatype

    def delete_hdu(self) -> None:
        """Delete the current HDU; the HDU before it becomes current. Later HDUs move up."""
        cdef int status = 0
        with self._lock:
            self._require_writable()
            with nogil:
                ffdhdu(self._ptr, NULL, &status)
            if status:
                raise self._fail(status, "deleting the HDU")

    # -- header -----------------------------------------------------------------------------

    def num_keys(self) -> int:
        """Number of cards in the current header, END excluded."""
        cdef int status = 0, nexist = 0, nmore = 0
        with self._lock:
            self._require_open()
            ffghsp(self._ptr, &nexist, &nmore, &status)
            if status:
                raise self._fail(status, "counting header cards")
            return nexist

    def header_string(self, bint nocomments=False, *, bint uncompressed=False) -> str:
        """The current header as one string of 80-character cards, END excluded.
        ``uncompressed``: for a tile-compressed image, the header of the image it holds as
        CFITSIO (funpack) writes it when decompressing."""
        cdef int status = 0, nkeys = 0
        cdef char *text = NULL
        with self._lock:
            self._require_open()
            if uncompressed:
                ffcnvthdr2str(self._ptr, nocomments, NULL, 0, &text, &nkeys, &status)
            else:
                ffhdr2str(self._ptr, nocomments, NULL, 0, &text, &nkeys, &status)
            if status:
                if text != NULL:
                    fffree(text, &status)
                raise self._fail(status, "reading the header")
            try:
                result = text[:strlen(text)].decode("latin-1")
            finally:
                fffree(text, &status)
            # CFITSIO appends the END card; callers get the cards only
            if result[-80:].rstrip() == "END":
                result = result[:-80]
            return result

    def read_record(self, int index) -> str:
        """Card number ``index`` (zero-based) of the current header, 80 characters."""
        cdef int status = 0
        cdef char card[FLEN_CARD]
        if index < 0:
            raise IndexError(f"{self.filename}: card index {index} is negative")
        cdef int nexist = 0, nmore = 0
        with self._lock:
            self._require_open()
            ffghsp(self._ptr, &nexist, &nmore, &status)
            if status == 0 and index >= nexist:
                raise FITSIndexError(f"{self.filename}, HDU {self._current()}: card index "
                                     f"{index} out of range (the header has {nexist} cards)",
                                     filename=self.filename, hdu=self._current())
            ffgrec(self._ptr, index + 1, card, &status)
            if status:
                raise self._fail(status, f"reading card {index}")
            return card.decode("latin-1").ljust(80)

    def read_card(self, name) -> str:
        """The whole card of keyword ``name``, 80 characters. KeyError if absent."""
        cdef int status = 0
        cdef char card[FLEN_CARD]
        cdef bytes key = _keyname(name)
        with self._lock:
            self._require_open()
            ffgcrd(self._ptr, key, card, &status)
            if status:
                raise self._fail(status, f"reading keyword {str(name)!r}")
            return card.decode("latin-1").ljust(80)

    def read_key(self, name) -> tuple:
        """(value, comment) of keyword ``name``. KeyError if absent.

        Values come back as bool, int (any size), float, complex or str (CONTINUE long strings
        joined, trailing blanks dropped); an undefined value is None.
        """
        cdef int status = 0
        cdef char value[FLEN_VALUE]
        cdef char comment[FLEN_COMMENT]
        cdef char *longstr = NULL
        cdef bytes key = _keyname(name)
        string_value = None
        with self._lock:
            self._require_open()
            ffgkey(self._ptr, key, value, comment, &status)
            if status:
                raise self._fail(status, f"reading keyword {str(name)!r}")
            raw = value.decode("latin-1").strip()
            if raw.startswith("'"):
                # the comment of a CONTINUE'd string is on its last card; ffgkls finds it
                ffgkls(self._ptr, key, &longstr, comment, &status)
                try:
                    if status:
                        raise self._fail(status, f"reading string keyword {str(name)!r}")
                    string_value = longstr[:strlen(longstr)].rstrip(b" ")
                finally:
                    if longstr != NULL:
                        fffree(longstr, &status)
            text = comment.decode("latin-1")
            # ffgkls returns the comment of a string's last card with its leading blank
            return _parse_value(raw, string_value), text.lstrip() if string_value is not None else text

    def write_key(self, name, value, comment=None, *, bint append=False) -> None:
        """Set keyword ``name`` to ``value`` (replacing it in place, or appending it if new).

        ``append=True`` always appends a new card (for repeated keywords). ``comment=None``
        keeps the existing comment. Values: None (undefined), bool, int (64-bit range), float
        (written with the fewest digits that read back exactly), complex, str (CONTINUE cards
        past 68 characters). Names longer than 8 characters become HIERARCH cards.
        """
        try:
            self._write_key(name, value, comment, append)
        except (ValueError, OverflowError, TypeError) as exc:
            if isinstance(exc, FITSError) or self._ptr == NULL:
                raise
            hdu = self._current()
            cls = FITSTypeError if isinstance(exc, TypeError) else FITSValueError
            raise cls(f"{self.filename}, HDU {hdu}: {exc}", filename=self.filename,
                      hdu=hdu) from None

    cdef int _write_key(self, name, value, comment, bint append) except -1:
        cdef int status = 0, decimals = 0
        cdef double pair[2]
        cdef long long ivalue = 0
        cdef char card[FLEN_CARD]
        cdef bytes key = _keyname(name)
        cdef bytes b_comment = _ascii(comment, "comment") if comment is not None else None
        cdef const char *c_comment = <const char *>b_comment if b_comment is not None else NULL
        cdef bytes b_value
        # validate and convert before touching the file
        if value is None:
            kind = "u"
        elif isinstance(value, (bool, np.bool_)):
            kind = "l"
        elif isinstance(value, numbers.Integral):
            if not -2**63 <= int(value) < 2**64:
                raise OverflowError(f"keyword {str(name)!r}: integer {value} "
                                    "does not fit in 64 bits")
            # 2**63 .. 2**64-1 (TZERO of uint64 columns) go through CFITSIO's unsigned call
            kind = "j" if int(value) < 2**63 else "uj"
            uvalue = int(value)
            if kind == "j":
                ivalue = uvalue
        elif isinstance(value, numbers.Real):
            if not math.isfinite(float(value)):
                raise ValueError(f"keyword {str(name)!r}: {value} cannot be "
                                 "stored; FITS header values must be finite")
            pair[0] = float(value)
            decimals = _decimals(pair[0])
            kind = "g"
        elif isinstance(value, numbers.Complex):
            pair[0] = value.real
            pair[1] = value.imag
            if not (math.isfinite(pair[0]) and math.isfinite(pair[1])):
                raise ValueError(f"keyword {str(name)!r}: {value} cannot be "
                                 "stored; FITS header values must be finite")
            decimals = max(_decimals(pair[0]), _decimals(pair[1]))
            kind = "m"
        elif isinstance(value, (str, bytes)):
            b_value = _ascii(value, f"value of keyword {str(name)!r}")
            if _continue_would_hang(b_value, key, len(b_comment) if b_comment else 0):
                raise ValueError(
                    f"keyword {str(name)!r}: CFITSIO cannot split this string "
                    "over CONTINUE cards (too many quote characters for the space left by the "
                    "keyword name and comment); shorten the value, the name or the comment")
            kind = "s"
        else:
            raise TypeError(f"keyword {str(name)!r}: cannot store a value of "
                            f"type {type(value).__name__} in a FITS header")
        with self._lock:
            self._require_writable()
            if kind == "u":
                if append:
                    ffpkyu(self._ptr, key, c_comment, &status)
                else:
                    ffukyu(self._ptr, key, c_comment, &status)
            elif kind == "l":
                if append:
                    ffpkyl(self._ptr, key, 1 if value else 0, c_comment, &status)
                else:
                    ffukyl(self._ptr, key, 1 if value else 0, c_comment, &status)
            elif kind == "uj":
                if not append:
                    ffdkey(self._ptr, key, &status)
                    if status == KEY_NO_EXIST:
                        status = 0
                        ffcmsg()
                if status == 0:
                    ffpkyuj(self._ptr, key, uvalue, c_comment, &status)
            elif kind == "j":
                if append:
                    ffpkyj(self._ptr, key, ivalue, c_comment, &status)
                else:
                    ffukyj(self._ptr, key, ivalue, c_comment, &status)
            elif kind == "g":
                if append:
                    ffpkyd(self._ptr, key, pair[0], -decimals, c_comment, &status)
                else:
                    ffukyd(self._ptr, key, pair[0], -decimals, c_comment, &status)
            elif kind == "m":
                if append:
                    ffpkym(self._ptr, key, pair, -decimals, c_comment, &status)
                else:
                    ffukym(self._ptr, key, pair, -decimals, c_comment, &status)
            else:
                long_value = len(b_value) + b_value.count(b"'") > 68
                if not append:
                    ffgcrd(self._ptr, key, card, &status)
                    if status == 0 and (long_value or b"&'" in card):
                        # ffukls rewriting a CONTINUE'd string in place can crash CFITSIO
                        # 4.2: replace the card(s) by a new one at the end instead
                        if b_comment is None:
                            b_comment = _ascii(self.read_key(name)[1], "comment")
                            c_comment = <const char *>b_comment
                            # the kept comment changes how ffpkls splits: check again, or
                            # CFITSIO writes CONTINUE cards forever
                            if _continue_would_hang(b_value, key, len(b_comment)):
                                raise ValueError(
                                    f"keyword {str(name)!r}: CFITSIO cannot split this string "
                                    "over CONTINUE cards with the keyword's current comment; "
                                    "give a shorter comment with the value")
                        ffdkey(self._ptr, key, &status)
                        append = True
                    elif status == KEY_NO_EXIST:
                        status = 0
                        ffcmsg()
                if status == 0:
                    if append:
                        ffpkls(self._ptr, key, b_value, c_comment, &status)
                    else:
                        ffukls(self._ptr, key, b_value, c_comment, &status)
                if long_value:
                    # CONTINUE cards were written: declare the convention (once per header)
                    ffplsw(self._ptr, &status)
            if status:
                raise self._fail(status, f"writing keyword {str(name)!r}")
            # drop CFITSIO's warnings about the card, so later errors carry only their own
            ffcmsg()
        return 0

    def header_cards(self) -> list:
        """Every card of the current header as ``parse_cards`` tuples, END excluded."""
        return parse_cards(self.header_string())

    def write_record(self, card) -> None:
        """Append one card image (padded to 80 characters) to the current header."""
        cdef int status = 0
        cdef bytes b_card = _ascii(card, "card")
        if len(b_card) > 80:
            raise ValueError(f"card is {len(b_card)} characters; at most 80")
        with self._lock:
            self._require_writable()
            ffprec(self._ptr, b_card, &status)
            if status:
                raise self._fail(status, "writing a header card")

    def append_hdu(self, cards) -> int:
        """Append an HDU whose header is ``cards`` (80-character card images, END excluded,
        concatenated) and return its index. The header must describe the HDU completely
        (SIMPLE or XTENSION first); the file is grown to hold the data unit, which reads as
        zeros until written."""
        cdef int status = 0, i, n
        cdef bytes b_cards = _ascii(cards, "header")
        cdef const char *c_cards
        if len(b_cards) % 80:
            raise ValueError(f"header text is {len(b_cards)} characters, not a multiple of 80")
        n = len(b_cards) // 80
        c_cards = b_cards
        cdef char record[81]
        with self._lock:
            self._require_writable()
            with nogil:
                ffcrhd(self._ptr, &status)
                i = 0
                while status == 0 and i < n:
                    memcpy(record, c_cards + 80 * i, 80)
                    record[80] = 0
                    ffprec(self._ptr, record, &status)
                    i += 1
            if status:
                raise self._fail(status, "writing the header of a new HDU")
            self._finish_hdu()
            return self._current()

    def replace_header(self, cards) -> None:
        """Make the current header's cards ``cards`` (80-character images, END excluded,
        concatenated), rewriting only the records that differ. The header grows or shrinks
        in place (CFITSIO moves later HDUs when it needs another 2880-byte block); the data
        unit is not touched, so the structural cards must keep describing it."""
        cdef int status = 0, nexist = 0, nmore = 0, i, n
        cdef bytes b_cards = _ascii(cards, "header")
        cdef const char *c_cards = b_cards
        cdef char record[81]
        cdef char old[FLEN_CARD]
        if len(b_cards) % 80:
            raise ValueError(f"header text is {len(b_cards)} characters, not a multiple of 80")
        n = len(b_cards) // 80
        with self._lock:
            self._require_writable()
            with nogil:
                ffghsp(self._ptr, &nexist, &nmore, &status)
                i = nexist
                while status == 0 and i > n:
                    ffdrec(self._ptr, i, &status)
                    i -= 1
                i = 0
                while status == 0 and i < n:
                    memcpy(record, c_cards + 80 * i, 80)
                    record[80] = 0
                    if i < nexist:
                        memset(old, 32, FLEN_CARD)
                        ffgrec(self._ptr, i + 1, old, &status)
                        # ffgrec ends the card at its last non-blank character
                        old[strlen(old)] = 32
                        if status == 0 and strncmp(old, record, 80) != 0:
                            ffmrec(self._ptr, i + 1, record, &status)
                    else:
                        ffprec(self._ptr, record, &status)
                    i += 1
                if status == 0:
                    ffrdef(self._ptr, &status)
            if status:
                raise self._fail(status, "rewriting the header")

    def check_end(self) -> None:
        """Raise FITSError if the current header has no END card of its own.

        CFITSIO looks for END from the header start and, when it is missing, reads on into
        the next HDU's header, so the merged header holds that HDU's first card (XTENSION)
        at the start of a 2880-byte block. One card per block is read.
        """
        cdef int status = 0, nexist = 0, nmore = 0, rec
        cdef char card[FLEN_CARD]
        with self._lock:
            self._require_open()
            ffghsp(self._ptr, &nexist, &nmore, &status)
            rec = 37
            while status == 0 and rec <= nexist:
                ffgrec(self._ptr, rec, card, &status)
                if status == 0 and (card[:9] == b"XTENSION=" or card[:9] == b"SIMPLE  ="):
                    hdu = self._current()
                    raise FITSError(f"{self.filename}, HDU {hdu}: the header has no END card "
                                    f"(the next header, at card {rec}, was read as part of it)",
                                    filename=self.filename, hdu=hdu)
                rec += 36
            if status:
                raise self._fail(status, "reading the header")

    def delete_key(self, name) -> None:
        """Delete the first card of keyword ``name``. KeyError if absent."""
        cdef int status = 0
        cdef bytes key = _keyname(name)
        with self._lock:
            self._require_writable()
            ffdkey(self._ptr, key, &status)
            if status:
                raise self._fail(status, f"deleting keyword {str(name)!r}")

    def write_comment(self, text) -> None:
        """Append COMMENT cards holding ``text`` (split over cards of 72 characters)."""
        cdef int status = 0
        cdef bytes b_text = _ascii(text, "COMMENT text")
        with self._lock:
            self._require_writable()
            ffpcom(self._ptr, b_text, &status)
            if status:
                raise self._fail(status, "writing a COMMENT card")

    def write_history(self, text) -> None:
        """Append HISTORY cards holding ``text`` (split over cards of 72 characters)."""
        cdef int status = 0
        cdef bytes b_text = _ascii(text, "HISTORY text")
        with self._lock:
            self._require_writable()
            ffphis(self._ptr, b_text, &status)
            if status:
                raise self._fail(status, "writing a HISTORY card")

    # -- tables -----------------------------------------------------------------------------

    def grow_table(self, LONGLONG nrows) -> None:
        """Add ``nrows`` rows at the end of the current table (their bytes are zero).

        On the last HDU of the file, when a binary table has no heap, NAXIS2 is rewritten and
        the file grown sparsely; otherwise CFITSIO inserts the rows (blank in ASCII tables),
        moving the heap and the HDUs after the table.
        """
        cdef int status = 0
        cdef LONGLONG rows = 0, pcount = 0
        cdef char comment[FLEN_COMMENT]
        if nrows < 0:
            raise ValueError(f"negative row count {nrows}")
        with self._lock:
            self._require_writable()
            ffgnrwll(self._ptr, &rows, &status)
            if status == 0:
                ffgkyjj(self._ptr, "PCOUNT", &pcount, comment, &status)
            if status:
                raise self._fail(status, "reading the table size")
            if nrows == 0:
                return
            # ASCII tables need blank rows, which CFITSIO writes
            if pcount == 0 and self._current() == self._count() - 1 \
                    and self._hdutype() == BINARY_TBL:
                ffmkyj(self._ptr, "NAXIS2", rows + nrows, "&", &status)
                if status:
                    raise self._fail(status, "growing the table")
                self._finish_hdu()
                return
            with nogil:
                ffirow(self._ptr, rows, nrows, &status)
                if status == 0:
                    ffrdef(self._ptr, &status)
            if status:
                raise self._fail(status, f"adding {nrows} rows to the table")

    def insert_rows(self, LONGLONG before, LONGLONG nrows) -> None:
        """Insert ``nrows`` zeroed rows before row ``before`` (0-based) of the current table."""
        cdef int status = 0
        with self._lock:
            self._require_writable()
            with nogil:
                ffirow(self._ptr, before, nrows, &status)
                if status == 0:
                    ffrdef(self._ptr, &status)
            if status:
                raise self._fail(status, f"inserting {nrows} rows at row {before}")

    def delete_rows(self, cnp.ndarray rows) -> None:
        """Delete the rows ``rows`` (0-based, int64, sorted, unique) of the current table."""
        cdef int status = 0
        cdef cnp.ndarray one_based = np.ascontiguousarray(rows, dtype=np.int64) + 1
        cdef LONGLONG n = one_based.shape[0]
        cdef LONGLONG *c_rows = <LONGLONG *>cnp.PyArray_DATA(one_based)
        if n == 0:
            return
        with self._lock:
            self._require_writable()
            with nogil:
                ffdrwsll(self._ptr, c_rows, n, &status)
                if status == 0:
                    ffrdef(self._ptr, &status)
            if status:
                raise self._fail(status, f"deleting {n} rows")

    def insert_column(self, int position, name, tform) -> None:
        """Insert a column named ``name`` with format ``tform`` as column ``position``
        (0-based) of the current table; every row is rewritten with the new, zeroed field."""
        cdef int status = 0
        cdef bytes b_name = _ascii(name, "column name")
        cdef bytes b_form = _ascii(tform, "column format")
        cdef char *c_name = b_name
        cdef char *c_form = b_form
        with self._lock:
            self._require_writable()
            _check_tform(b_form, self._hdutype() == ASCII_TBL, position + 1)
            with nogil:
                fficol(self._ptr, position + 1, c_name, c_form, &status)
                if status == 0:
                    ffrdef(self._ptr, &status)
            if status:
                raise self._fail(status, f"inserting column {name!r}")

    def delete_column(self, int position) -> None:
        """Delete column ``position`` (0-based) of the current table."""
        cdef int status = 0
        with self._lock:
            self._require_writable()
            with nogil:
                ffdcol(self._ptr, position + 1, &status)
                if status == 0:
                    ffrdef(self._ptr, &status)
            if status:
                raise self._fail(status, f"deleting column {position + 1}")

    cdef int _hdutype(self) except -1:
        cdef int status = 0, hdutype = 0
        ffghdt(self._ptr, &hdutype, &status)
        if status:
            raise self._fail(status, "reading the HDU type")
        return hdutype

    def read_column(self, int position, LONGLONG first, cnp.ndarray out,
                    bint nulls=False):
        """Read ``out.size`` values of column ``position`` (0-based) from row ``first`` on,
        converted by CFITSIO (TSCAL/TZERO applied, ASCII fields parsed) to ``out``'s dtype
        (C-contiguous, one of ``COLUMN_DTYPES``). Returns the null flags (bool array) when
        ``nulls``, else None."""
        cdef int status = 0, anynul = 0, datatype = _column_type(out.dtype)
        cdef LONGLONG n = out.size
        cdef void *buffer = cnp.PyArray_DATA(out)
        cdef cnp.ndarray flags = np.zeros(out.size if nulls else 0, dtype=np.bool_)
        cdef char *c_flags = <char *>cnp.PyArray_DATA(flags)
        if n == 0:
            return flags if nulls else None
        with self._lock:
            self._require_open()
            with nogil:
                if nulls:
                    ffgcf(self._ptr, datatype, position + 1, first + 1, 1, n, buffer, c_flags,
                          &anynul, &status)
                else:
                    ffgcv(self._ptr, datatype, position + 1, first + 1, 1, n, NULL, buffer,
                          &anynul, &status)
            if status:
                raise self._fail(status, f"reading column {position + 1}")
        return flags if nulls else None

    def read_string_column(self, int position, LONGLONG first, LONGLONG nrows, int width):
        """``nrows`` strings (numpy ``S{width}``, trailing blanks removed) of an A column from
        row ``first`` on."""
        cdef int status = 0, anynul = 0
        cdef LONGLONG i
        cdef cnp.ndarray buf = np.zeros(max(nrows, 0) * (width + 1), dtype=np.uint8)
        cdef char *base = <char *>cnp.PyArray_DATA(buf)
        cdef char **ptrs = <char **>PyMem_Malloc(max(nrows, 1) * sizeof(char *))
        if ptrs == NULL:
            raise MemoryError()
        try:
            for i in range(nrows):
                ptrs[i] = base + i * (width + 1)
            if nrows:
                with self._lock:
                    self._require_open()
                    with nogil:
                        ffgcvs(self._ptr, position + 1, first + 1, 1, nrows, "", ptrs,
                               &anynul, &status)
                    if status:
                        raise self._fail(status, f"reading column {position + 1}")
        finally:
            PyMem_Free(ptrs)
        return buf.view(f"S{width + 1}").astype(f"S{width}")

    def write_column(self, int position, LONGLONG first, cnp.ndarray data, nulval=None) -> None:
        """Write ``data`` (C-contiguous, a ``COLUMN_DTYPES`` dtype) into column ``position``
        (0-based) from row ``first`` on, CFITSIO converting (scaling, ASCII formatting). For
        a variable-length column, ``first`` is the row and ``data`` the whole cell. Values
        equal to ``nulval`` are written as the column's null."""
        cdef int status = 0, datatype = _column_type(data.dtype)
        cdef LONGLONG n = data.size
        cdef void *buffer = cnp.PyArray_DATA(data)
        cdef cnp.ndarray c_null = np.array([0 if nulval is None else nulval], dtype=data.dtype)
        cdef void *c_nulval = cnp.PyArray_DATA(c_null) if nulval is not None else NULL
        with self._lock:
            self._require_writable()
            with nogil:
                if c_nulval != NULL:
                    ffpcn(self._ptr, datatype, position + 1, first + 1, 1, n, buffer,
                          c_nulval, &status)
                else:
                    ffpcl(self._ptr, datatype, position + 1, first + 1, 1, n, buffer, &status)
            if status:
                raise self._fail(status, f"writing column {position + 1}")

    def write_string_column(self, int position, LONGLONG first, list values) -> None:
        """Write ``values`` (bytes, ASCII) into an A column from row ``first`` on (for a
        variable-length column: one string as the cell of row ``first``)."""
        cdef int status = 0
        cdef LONGLONG i, n = len(values)
        cdef char **ptrs = <char **>PyMem_Malloc(max(n, 1) * sizeof(char *))
        if ptrs == NULL:
            raise MemoryError()
        try:
            for i in range(n):
                ptrs[i] = <char *>values[i]
            with self._lock:
                self._require_writable()
                ffpcls(self._ptr, position + 1, first + 1, 1, n, ptrs, &status)
                if status:
                    raise self._fail(status, f"writing column {position + 1}")
        finally:
            PyMem_Free(ptrs)

    def read_data_bytes(self, LONGLONG offset, cnp.ndarray out) -> None:
        """Fill ``out`` (C-contiguous) with the current HDU's data bytes from ``offset`` on,
        as stored, through CFITSIO (for files without raw access, e.g. gzip-compressed)."""
        with self._lock:
            self._require_open()
            self._data_bytes(offset, out, False)

    def read_data_spans(self, int index, LONGLONG base, offsets, nbytes,
                        cnp.ndarray out) -> None:
        """Fill ``out`` (C-contiguous) with byte spans of HDU ``index``'s data unit, back to
        back: ``nbytes[i]`` bytes from data offset ``base + offsets[i]`` (integer sequences,
        meant to be short), as stored. The HDU becomes current. Spans that follow each other in the
        file are read as one; a plain file on disk is read with fitsbind's own descriptor
        (CFITSIO's buffers are written out first), other files through CFITSIO."""
        cdef Py_ssize_t i, k, n = len(offsets)
        cdef LONGLONG start = 0, end = 0, total = 0, run
        cdef LONGLONG *off
        cdef LONGLONG *cnt
        cdef char *dst = <char *>cnp.PyArray_DATA(out)
        cdef int status = 0, fd, failed = 0, err = 0
        if len(nbytes) != n:
            raise ValueError("offsets and nbytes must have the same length")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("out must be a writeable C-contiguous array")
        off = <LONGLONG *>PyMem_Malloc(2 * n * sizeof(LONGLONG) + 1)
        if off == NULL:
            raise MemoryError()
        cnt = off + n
        try:
            for i in range(n):
                off[i] = base + offsets[i]
                cnt[i] = nbytes[i]
            with self._lock:
                self._require_open()
                if self._current() != index:
                    self.move_to(index)
                fd = self._raw_data(False, &start, &end)
                for i in range(n):
                    if cnt[i] < 0 or off[i] < 0 or start + off[i] + cnt[i] > end:
                        raise FITSError(f"{self.filename}, HDU {index}: {cnt[i]} bytes at data "
                                        f"offset {off[i]} reach outside the data unit",
                                        filename=self.filename, hdu=index)
                    total += cnt[i]
                if total != out.nbytes:
                    raise ValueError(f"the spans hold {total} bytes; out has {out.nbytes}")
                with nogil:
                    i = 0
                    while i < n and not failed and status == 0:
                        run = cnt[i]
                        k = i + 1
                        while k < n and off[k] == off[k - 1] + cnt[k - 1]:
                            run += cnt[k]
                            k += 1
                        if fd < 0:
                            ffmbyt(self._ptr, start + off[i], 0, &status)
                            if status == 0 and run:
                                ffgbyt(self._ptr, run, dst, &status)
                        elif run and fitsbind_pread_all(fd, dst, run, start + off[i]):
                            failed = 1
                            err = errno
                        dst += run
                        i = k
                if status:
                    raise self._fail(status, "reading data bytes")
        finally:
            PyMem_Free(off)
        if failed:
            if err == 0:
                raise FITSError(f"{self.filename}, HDU {index}: file is truncated: the data "
                                "unit ends early", filename=self.filename, hdu=index)
            raise OSError(err, os.strerror(err))

    def write_data_bytes(self, LONGLONG offset, cnp.ndarray data) -> None:
        """Write ``data`` (C-contiguous, stored form) at data offset ``offset`` of the current
        HDU, through CFITSIO."""
        with self._lock:
            self._require_writable()
            self._data_bytes(offset, data, True)

    cdef int _data_bytes(self, LONGLONG offset, cnp.ndarray array, bint writing) except -1:
        cdef int status = 0
        cdef LONGLONG head = 0, start = 0, end = 0, n = array.nbytes
        cdef void *buffer = cnp.PyArray_DATA(array)
        ffghadll(self._ptr, &head, &start, &end, &status)
        if status == 0 and start + offset + n > end:
            raise FITSError(f"{self.filename}, HDU {self._current()}: {n} bytes at data "
                            f"offset {offset} reach past the data unit",
                            filename=self.filename, hdu=self._current())
        if n == 0:
            return 0
        with nogil:
            if status == 0:
                ffmbyt(self._ptr, start + offset, 1 if writing else 0, &status)
            if status == 0:
                if writing:
                    ffpbyt(self._ptr, n, buffer, &status)
                else:
                    ffgbyt(self._ptr, n, buffer, &status)
        if status:
            raise self._fail(status, "writing data bytes" if writing else "reading data bytes")
        return 0

    def write_nulls(self, int position, rows) -> None:
        """Mark the cells of column ``position`` (0-based) in ``rows`` (0-based) undefined:
        TNULL, or a blank field in ASCII tables."""
        cdef int status = 0
        cdef LONGLONG row
        with self._lock:
            self._require_writable()
            for row in rows:
                ffpclu(self._ptr, position + 1, row + 1, 1, 1, &status)
                if status:
                    raise self._fail(status, f"marking row {row} of column {position + 1} "
                                     "undefined")

    def find_rows(self, expr, LONGLONG first, LONGLONG nrows):
        """Evaluate the CFITSIO row-filter expression ``expr`` on rows ``first`` ..
        ``first + nrows - 1`` (0-based) of the current table: a bool array, True where it
        holds. A malformed expression raises FITSValueError with CFITSIO's message."""
        cdef int status = 0
        cdef long ngood = 0
        cdef bytes b_expr = _ascii(expr, "row filter")
        cdef char *c_expr = b_expr
        cdef cnp.ndarray result = np.zeros(max(nrows, 0), dtype=np.bool_)
        cdef char *flags = <char *>cnp.PyArray_DATA(result)
        if nrows <= 0:
            return result
        with self._lock:
            self._require_open()
            with nogil:
                fffrow(self._ptr, c_expr, first + 1, nrows, &ngood, flags, &status)
            if status:
                raise self._fail(status, f"evaluating the row filter {expr!r}",
                                 {PARSE_SYNTAX_ERR: FITSValueError, PARSE_BAD_TYPE: FITSValueError,
                                  PARSE_LRG_VECTOR: FITSValueError, PARSE_NO_OUTPUT: FITSValueError,
                                  PARSE_BAD_COL: FITSValueError, PARSE_BAD_OUTPUT: FITSValueError})
        return result

    # -- checksums --------------------------------------------------------------------------

    def write_checksum(self) -> None:
        """Compute and write DATASUM and CHECKSUM for the current HDU."""
        cdef int status = 0
        with self._lock:
            self._require_writable()
            with nogil:
                ffpcks(self._ptr, &status)
            if status:
                raise self._fail(status, "writing the checksum")

    def data_checksum(self) -> int:
        """The 32-bit ones'-complement checksum of the current HDU's data unit (DATASUM)."""
        cdef int status = 0
        cdef unsigned long datasum = 0, hdusum = 0
        with self._lock:
            self._require_open()
            with nogil:
                ffgcks(self._ptr, &datasum, &hdusum, &status)
            if status:
                raise self._fail(status, "computing the data checksum")
            return datasum

    def verify_checksum(self) -> tuple:
        """(data ok, HDU ok) for the current HDU: True (matches), False (differs) or None
        (the DATASUM / CHECKSUM keyword is absent)."""
        cdef int status = 0, datastatus = 0, hdustatus = 0
        with self._lock:
            self._require_open()
            with nogil:
                ffvcks(self._ptr, &datastatus, &hdustatus, &status)
            if status:
                raise self._fail(status, "verifying the checksum")
            verdict = {1: True, 0: None, -1: False}
            return verdict[datastatus], verdict[hdustatus]

    # -- tile-compressed tables -------------------------------------------------------------

    def compress_table(self, FitsFile target not None) -> int:
        """Append to ``target`` the current HDU (a binary table) tile-compressed as
        ``fpack -table`` does (CFITSIO's fits_compress_table: ZTABLE = T; tile length from
        the FZTILELN card, else about 10 MB of rows; algorithms from FZALGOR / FZALGn, else
        CFITSIO's choice per column type); return the new HDU's index in ``target``. A table
        of under 5760 bytes, or without rows or columns, is copied as it is. ``target``
        must be another file, open read-write, with a primary HDU."""
        cdef int status = 0
        if target is self or target._lock is self._lock:
            raise ValueError(f"{self.filename}: a table cannot be compressed into its own file")
        with self._lock:
            self._require_open()
            with target._lock:
                target._require_writable()
                if target._count() == 0:
                    raise ValueError(f"{target.filename}: the file needs a primary HDU first")
                before = target._count()
                with nogil:
                    fits_compress_table(self._ptr, target._ptr, &status)
                if status:
                    exc = self._fail(status, "compressing the table")
                    target._drop_partial_hdu(before)
                    raise exc
                target._finish_hdu()
                return target._current()


cdef bint _contiguous_box(list naxes, long *blc, long *trc, long *inc, int naxis):
    """True if a box is one run of consecutive pixels in the file: unit steps, every axis
    faster than some axis k whole, and every axis slower than k a single plane."""
    cdef int i, k = naxis
    for i in range(naxis):
        if inc[i] != 1:
            return False
    for i in range(naxis):
        if blc[i] != 1 or trc[i] != naxes[i]:
            k = i
            break
    for i in range(k + 1, naxis):
        if blc[i] != trc[i]:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Raw data I/O. For uncompressed files on disk, pixels whose conversion is only a byte swap
# (plus a sign-bit flip for the BZERO offset types) are moved with pread/pwrite by fitsbind,
# in parallel chunks, instead of through CFITSIO's 2880-byte record buffers. CFITSIO still
# decides every offset; its buffers are flushed (and, before writing, emptied) first.

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #include <errno.h>
    #include <unistd.h>

    /* dst[i] = stored (big-endian) <-> native conversion of n items; flip toggles the sign
       bit of the native value (the BZERO offset types); dst may equal src. One branch-free
       loop per item size, so the compiler vectorizes it. */
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    #define FITSBIND_BSWAP(bits, v) (v)
    #else
    #define FITSBIND_BSWAP(bits, v) __builtin_bswap##bits(v)
    #endif
    #if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
    #if __has_attribute(target_clones)
    /* byte shuffles (SSSE3/AVX2) vectorize the swap; the loader picks what the CPU has */
    #define FITSBIND_CLONES __attribute__((target_clones("default", "ssse3", "avx2")))
    #endif
    #endif
    #ifndef FITSBIND_CLONES
    #define FITSBIND_CLONES
    #endif
    #define FITSBIND_CONVERT_LOOP(bits)                                                  \
        FITSBIND_CLONES                                                                  \
        static void fitsbind_convert##bits(const char *src, char *dst, Py_ssize_t n,     \
                                           uint##bits##_t pre, uint##bits##_t post)     \
        {                                                                                \
            Py_ssize_t i;                                                                \
            uint##bits##_t v;                                                            \
            for (i = 0; i < n; i++) {                                                    \
                memcpy(&v, src + i * (bits / 8), bits / 8);                              \
                v = FITSBIND_BSWAP(bits, (uint##bits##_t)(v ^ pre)) ^ post;              \
                memcpy(dst + i * (bits / 8), &v, bits / 8);                              \
            }                                                                            \
        }
    FITSBIND_CONVERT_LOOP(16)
    FITSBIND_CONVERT_LOOP(32)
    FITSBIND_CONVERT_LOOP(64)

    static void fitsbind_convert(const char *src, char *dst, Py_ssize_t n, int itemsize,
                                 int flip, int to_disk)
    {
        Py_ssize_t i;
        if (itemsize == 1) {
            uint8_t m = flip ? 0x80 : 0;
            for (i = 0; i < n; i++) ((uint8_t *)dst)[i] = ((const uint8_t *)src)[i] ^ m;
        } else if (itemsize == 2) {
            uint16_t m = flip ? 0x8000u : 0;
            fitsbind_convert16(src, dst, n, to_disk ? m : 0, to_disk ? 0 : m);
        } else if (itemsize == 4) {
            uint32_t m = flip ? 0x80000000u : 0;
            fitsbind_convert32(src, dst, n, to_disk ? m : 0, to_disk ? 0 : m);
        } else {
            uint64_t m = flip ? 0x8000000000000000ull : 0;
            fitsbind_convert64(src, dst, n, to_disk ? m : 0, to_disk ? 0 : m);
        }
    }

    /* all of nbytes at offset, or -1 with errno set (0 for a read past the end) */
    static int fitsbind_pread_all(int fd, char *buf, int64_t nbytes, int64_t offset)
    {
        while (nbytes > 0) {
            ssize_t got = pread(fd, buf, nbytes > (1 << 30) ? (1 << 30) : (size_t)nbytes,
                                (off_t)offset);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) { if (got == 0) errno = 0; return -1; }
            buf += got; nbytes -= got; offset += got;
        }
        return 0;
    }

    static int fitsbind_pwrite_all(int fd, const char *buf, int64_t nbytes, int64_t offset)
    {
        while (nbytes > 0) {
            ssize_t put = pwrite(fd, buf, nbytes > (1 << 30) ? (1 << 30) : (size_t)nbytes,
                                 (off_t)offset);
            if (put < 0 && errno == EINTR) continue;
            if (put <= 0) return -1;
            buf += put; nbytes -= put; offset += put;
        }
        return 0;
    }
    """
    void fitsbind_convert(const char *src, char *dst, Py_ssize_t n, int itemsize, int flip,
                          int to_disk) nogil
    int fitsbind_pread_all(int fd, char *buf, long long nbytes, long long offset) nogil
    int fitsbind_pwrite_all(int fd, const char *buf, long long nbytes, long long offset) nogil

from libc.errno cimport errno
from libc.stdlib cimport free, malloc

DEF CONVERT_CHUNK = 1 << 20   # bytes converted per step, while they are in the CPU cache


cdef class _Box:
    """A box of pixels in an image, as C arrays (numpy axis order), walked run by run.

    A run is a stretch of pixels contiguous in the file: one row along the fastest axis,
    or several whole trailing axes merged when the box covers them fully.
    """
    cdef int ndim, outer, itemsize
    cdef long long datastart, run, step
    cdef long long *strides
    cdef long long *starts
    cdef long long *counts
    cdef long long *steps
    cdef long long *index

    def __cinit__(self, long long datastart, shape, starts, counts, steps, int itemsize):
        cdef int k, n = len(shape)
        self.ndim = n
        self.itemsize = itemsize
        self.datastart = datastart
        self.strides = <long long *>PyMem_Malloc(5 * max(n, 1) * sizeof(long long))
        if self.strides == NULL:
            raise MemoryError()
        self.starts = self.strides + n
        self.counts = self.starts + n
        self.steps = self.counts + n
        self.index = self.steps + n
        cdef long long stride = 1
        for k in range(n - 1, -1, -1):
            self.strides[k] = stride
            stride *= shape[k]
            self.starts[k] = starts[k]
            self.counts[k] = counts[k]
            self.steps[k] = steps[k]
            self.index[k] = 0
        # merge trailing axes the box covers whole into one run
        self.run = self.counts[n - 1]
        self.step = self.steps[n - 1]
        self.outer = n - 1
        if self.step == 1:
            while (self.outer > 0 and self.starts[self.outer] == 0
                   and self.counts[self.outer] == shape[self.outer]
                   and self.steps[self.outer - 1] == 1):
                self.outer -= 1
                self.run *= self.counts[self.outer]

    def __dealloc__(self):
        PyMem_Free(self.strides)

    cdef long long nruns(self) noexcept nogil:
        cdef long long n = 1
        cdef int k
        for k in range(self.outer):
            n *= self.counts[k]
        return n

    cdef long long offset(self) noexcept nogil:
        """Byte offset of the current run; then step the odometer to the next run."""
        cdef long long pixel = self.starts[self.outer] * self.strides[self.outer]
        cdef int k
        for k in range(self.outer):
            pixel += (self.starts[k] + self.index[k] * self.steps[k]) * self.strides[k]
        for k in range(self.outer - 1, -1, -1):
            self.index[k] += 1
            if self.index[k] < self.counts[k]:
                break
            self.index[k] = 0
        return self.datastart + pixel * self.itemsize


def raw_read_box(int fd, long long datastart, shape, starts, counts, steps, bint flip,
                 cnp.ndarray out, long long first=0) -> None:
    """Read a box of stored pixels (numpy axis order: first pixel, pixels and step per axis;
    steps positive) into ``out`` from pixel ``first`` on, converting to native order.

    ``out`` is C-contiguous and native-endian, of the stored item size. A box reaching past
    the end of the file raises FITSError. The GIL is released throughout, so boxes may be
    read from several threads.
    """
    cdef _Box box = _Box(datastart, shape, starts, counts, steps, out.itemsize)
    cdef int itemsize = out.itemsize, failed = 0, err = 0, j
    cdef long long r, nruns = box.nruns(), off, span = 0, k, done, chunk
    cdef long long per = CONVERT_CHUNK // itemsize
    cdef char *dst = <char *>cnp.PyArray_DATA(out) + first * itemsize
    cdef char *tmp = NULL
    if box.step != 1:
        span = ((box.run - 1) * box.step + 1) * itemsize
        tmp = <char *>malloc(span)
        if tmp == NULL:
            raise MemoryError("no memory for a strided read")
    with nogil:
        for r in range(nruns):
            off = box.offset()
            if box.step == 1:
                # convert each piece while it is still in the CPU cache
                done = 0
                while done < box.run:
                    chunk = min(per, box.run - done)
                    if fitsbind_pread_all(fd, dst + done * itemsize, chunk * itemsize,
                                          off + done * itemsize):
                        failed = 1
                        err = errno
                        break
                    fitsbind_convert(dst + done * itemsize, dst + done * itemsize, chunk,
                                     itemsize, flip, 0)
                    done += chunk
                if failed:
                    break
            else:
                if fitsbind_pread_all(fd, tmp, span, off):
                    failed = 1
                    err = errno
                    break
                for k in range(box.run):
                    for j in range(itemsize):
                        dst[k * itemsize + j] = tmp[k * box.step * itemsize + j]
                fitsbind_convert(dst, dst, box.run, itemsize, flip, 0)
            dst += box.run * itemsize
        free(tmp)
    if failed:
        if err == 0:
            raise FITSError("file is truncated: pixel data ends before the image does")
        raise OSError(err, os.strerror(err))


def raw_write_box(int fd, long long datastart, shape, corner, bint flip, cnp.ndarray data,
                  long long first=0, counts=None) -> None:
    """Write ``data`` (C-contiguous, native-endian, the stored item size) from its pixel
    ``first`` on as the box of ``counts`` pixels (default ``data.shape``) whose first pixel is
    ``corner``, converting to stored order. The GIL is released throughout."""
    if counts is None:
        counts = (<object>data).shape
    cdef _Box box = _Box(datastart, shape, corner, counts, (1,) * len(shape), data.itemsize)
    cdef int itemsize = data.itemsize, failed = 0, err = 0
    cdef long long r, nruns = box.nruns(), off, done, chunk, per = CONVERT_CHUNK // itemsize
    cdef const char *src = <const char *>cnp.PyArray_DATA(data) + first * itemsize
    cdef char *tmp = <char *>malloc(CONVERT_CHUNK)
    if tmp == NULL:
        raise MemoryError("no memory for a conversion buffer")
    with nogil:
        for r in range(nruns):
            off = box.offset()
            done = 0
            while done < box.run:
                chunk = min(per, box.run - done)
                fitsbind_convert(src + done * itemsize, tmp, chunk, itemsize, flip, 1)
                if fitsbind_pwrite_all(fd, tmp, chunk * itemsize, off + done * itemsize):
                    failed = 1
                    err = errno
                    break
                done += chunk
            if failed:
                break
            src += box.run * itemsize
        free(tmp)
    if failed:
        raise OSError(err, os.strerror(err))


# -- table rows: the fields of many rows, each converted as it passes through the cache -------

cdef extern from *:
    """
    /* Convert one field of nrows rows: count items of itemsize bytes at src + r * sstride to
       dst + r * dstride (stored <-> native, flip as fitsbind_convert). Short fields get
       inlined loops; long ones the vectorized converter per row. */
    #define FITSBIND_GATHER_LOOP(bits)                                                   \\
        {                                                                                \\
            uint##bits##_t m = flip ? ((uint##bits##_t)1 << (bits - 1)) : 0, v;          \\
            uint##bits##_t pre = to_disk ? m : 0, post = to_disk ? 0 : m;                \\
            for (r = 0; r < nrows; r++)                                                  \\
                for (k = 0; k < count; k++) {                                            \\
                    memcpy(&v, src + r * sstride + k * (bits / 8), bits / 8);            \\
                    v = FITSBIND_BSWAP(bits, (uint##bits##_t)(v ^ pre)) ^ post;          \\
                    memcpy(dst + r * dstride + k * (bits / 8), &v, bits / 8);            \\
                }                                                                        \\
        }
    static void fitsbind_gather(const char *src, Py_ssize_t sstride, char *dst,
                                Py_ssize_t dstride, Py_ssize_t nrows, Py_ssize_t count,
                                int itemsize, int flip, int to_disk)
    {
        Py_ssize_t r, k;
        if (itemsize == 1 && !flip) {
            if (src != dst)
                for (r = 0; r < nrows; r++)
                    memcpy(dst + r * dstride, src + r * sstride, count);
        } else if (count * itemsize >= 64) {
            for (r = 0; r < nrows; r++)
                fitsbind_convert(src + r * sstride, dst + r * dstride, count, itemsize, flip,
                                 to_disk);
        } else if (itemsize == 1) {
            for (r = 0; r < nrows; r++)
                for (k = 0; k < count; k++)
                    dst[r * dstride + k] = src[r * sstride + k] ^ (char)0x80;
        } else if (itemsize == 2) FITSBIND_GATHER_LOOP(16)
        else if (itemsize == 4) FITSBIND_GATHER_LOOP(32)
        else FITSBIND_GATHER_LOOP(64)
    }

    /* FITS logicals <-> bool bytes: 'T' reads as 1, anything else as 0; 1 writes as 'T',
       0 as 'F' and 2 (a null) as the 0 byte */
    static void fitsbind_logicals(const char *src, Py_ssize_t sstride, char *dst,
                                  Py_ssize_t dstride, Py_ssize_t nrows, Py_ssize_t count,
                                  int to_disk)
    {
        Py_ssize_t r, k;
        char c;
        for (r = 0; r < nrows; r++)
            for (k = 0; k < count; k++) {
                c = src[r * sstride + k];
                dst[r * dstride + k] = to_disk ? (c == 1 ? 'T' : c == 0 ? 'F' : 0)
                                               : (c == 'T');
            }
    }

    /* strings of width w: trailing blanks become NULs, which numpy's S type drops */
    static void fitsbind_strip_blanks(char *dst, Py_ssize_t dstride, Py_ssize_t nrows,
                                      Py_ssize_t count, Py_ssize_t width)
    {
        Py_ssize_t r, s, k;
        char *p;
        for (r = 0; r < nrows; r++)
            for (s = 0; s + width <= count; s += width) {
                p = dst + r * dstride + s;
                for (k = width - 1; k >= 0 && (p[k] == ' ' || p[k] == 0); k--)
                    p[k] = 0;
            }
    }
    """
    void fitsbind_gather(const char *src, Py_ssize_t sstride, char *dst, Py_ssize_t dstride,
                         Py_ssize_t nrows, Py_ssize_t count, int itemsize, int flip,
                         int to_disk) nogil
    void fitsbind_logicals(const char *src, Py_ssize_t sstride, char *dst, Py_ssize_t dstride,
                           Py_ssize_t nrows, Py_ssize_t count, int to_disk) nogil
    void fitsbind_strip_blanks(char *dst, Py_ssize_t dstride, Py_ssize_t nrows,
                               Py_ssize_t count, Py_ssize_t width) nogil

DEF WIDE_ROW = 16384    # rows this long are read field span by field span, row by row


cdef struct _Field:
    long long file_off      # byte offset of the field in a stored row
    long long mem_off       # byte offset in a row of the in-memory record array
    long long count         # items
    int itemsize            # bytes swapped as a unit
    int flip                # toggle the sign bit (TZERO integer conventions)
    int logical             # FITS logicals ('T'/'F'/0) <-> bool bytes
    long long strip         # on reads, blank trailing blanks of strings this wide (0: no)


cdef class _Rows:
    """Fields of table rows: their C description, the span of a row they cover, and a
    buffer holding a chunk of rows (stored bytes) while it is converted."""
    cdef _Field *fields
    cdef int nfields
    cdef long long rowsize, lo, span, stride, per
    cdef bint sparse, whole
    cdef char *buf

    def __cinit__(self, long long rowsize, fields):
        cdef int i
        cdef long long covered = 0
        self.nfields = len(fields)
        self.rowsize = rowsize
        self.fields = <_Field *>PyMem_Malloc(max(self.nfields, 1) * sizeof(_Field))
        if self.fields == NULL:
            raise MemoryError()
        self.lo = rowsize
        hi = 0
        for i, (file_off, mem_off, count, itemsize, flip, logical, strip) in enumerate(fields):
            if file_off < 0 or file_off + count * itemsize > rowsize:
                raise ValueError(f"field at byte {file_off} ({count} x {itemsize}) is outside "
                                 f"the {rowsize}-byte row")
            self.fields[i].file_off = file_off
            self.fields[i].mem_off = mem_off
            self.fields[i].count = count
            self.fields[i].itemsize = itemsize
            self.fields[i].flip = flip
            self.fields[i].logical = logical
            self.fields[i].strip = strip
            covered += count * itemsize
            self.lo = min(self.lo, file_off)
            hi = max(hi, file_off + count * itemsize)
        if hi <= self.lo:
            self.lo, hi = 0, 0
        self.span = hi - self.lo
        self.whole = covered == rowsize and self.span == rowsize
        self.sparse = rowsize >= WIDE_ROW and 2 * self.span <= rowsize
        self.stride = self.span if self.sparse else rowsize
        self.per = max(1, CONVERT_CHUNK // max(self.stride, 1))
        self.buf = <char *>malloc(max(self.per * self.stride, 1))
        if self.buf == NULL:
            raise MemoryError("no memory for a row buffer")

    def __dealloc__(self):
        PyMem_Free(self.fields)
        free(self.buf)

    cdef long long nbytes(self, long long k) noexcept nogil:
        """Bytes of the buffer that k rows occupy."""
        return k * self.span if self.sparse else (k - 1) * self.rowsize + self.span

    cdef int load(self, int fd, long long at, long long k) noexcept nogil:
        """Read the spans of k rows, the first starting at byte ``at`` of the file."""
        cdef long long r
        if not self.sparse:
            return fitsbind_pread_all(fd, self.buf, self.nbytes(k), at + self.lo)
        for r in range(k):
            if fitsbind_pread_all(fd, self.buf + r * self.span, self.span,
                                  at + r * self.rowsize + self.lo):
                return -1
        return 0

    cdef int store(self, int fd, long long at, long long k) noexcept nogil:
        cdef long long r
        if not self.sparse:
            return fitsbind_pwrite_all(fd, self.buf, self.nbytes(k), at + self.lo)
        for r in range(k):
            if fitsbind_pwrite_all(fd, self.buf + r * self.span, self.span,
                                   at + r * self.rowsize + self.lo):
                return -1
        return 0

    cdef void convert(self, char *mem, long long memsize, long long k, int to_disk) noexcept nogil:
        _convert_fields(self.fields, self.nfields, self.buf - self.lo, self.stride, mem,
                        memsize, k, to_disk)


cdef void _convert_fields(_Field *fields, int nfields, char *stored, long long stride,
                          char *mem, long long memsize, long long nrows,
                          int to_disk) noexcept nogil:
    """Convert ``nrows`` rows between ``stored`` (field offsets as in a stored row, rows
    ``stride`` apart) and ``mem`` (records of ``memsize`` bytes)."""
    cdef int i
    cdef _Field *f
    for i in range(nfields):
        f = &fields[i]
        if f.count == 0:
            continue
        if f.logical:
            if to_disk:
                fitsbind_logicals(mem + f.mem_off, memsize, stored + f.file_off, stride,
                                  nrows, f.count, 1)
            else:
                fitsbind_logicals(stored + f.file_off, stride, mem + f.mem_off, memsize,
                                  nrows, f.count, 0)
        elif to_disk:
            fitsbind_gather(mem + f.mem_off, memsize, stored + f.file_off, stride, nrows,
                            f.count, f.itemsize, f.flip, 1)
        else:
            fitsbind_gather(stored + f.file_off, stride, mem + f.mem_off, memsize, nrows,
                            f.count, f.itemsize, f.flip, 0)
            if f.strip:
                fitsbind_strip_blanks(mem + f.mem_off, memsize, nrows, f.count, f.strip)


def raw_read_rows(int fd, long long datastart, long long rowsize, long long first,
                  long long nrows, fields, cnp.ndarray out, long long out_first=0) -> None:
    """Read the ``fields`` of table rows ``first`` .. ``first + nrows - 1`` (0-based) into
    records ``out_first`` on of ``out`` (a C-contiguous 1-D record array), converting to
    native order.

    ``fields``: ``(offset in the stored row, offset in out's record, items, item size,
    flip, logical, string width)``; see ``_Field``. Only the span of each row the fields cover is read; rows of 16 KiB and more
    are read span by span. The GIL is released throughout.
    """
    cdef _Rows rows = _Rows(rowsize, fields)
    cdef long long memsize = out.itemsize, done = 0, k
    cdef char *mem = <char *>cnp.PyArray_DATA(out) + out_first * memsize
    cdef int failed = 0, err = 0
    # records laid out as the stored rows: read straight into them, convert in place
    cdef bint direct = memsize == rowsize and rows.whole and all(
        f[0] == f[1] for f in fields)
    if rows.span == 0 or nrows <= 0:
        return
    with nogil:
        while done < nrows:
            k = min(rows.per, nrows - done)
            if direct:
                if fitsbind_pread_all(fd, mem + done * memsize, k * rowsize,
                                      datastart + (first + done) * rowsize):
                    failed = 1
                    err = errno
                    break
                _convert_fields(rows.fields, rows.nfields, mem + done * memsize, rowsize,
                                mem + done * memsize, memsize, k, 0)
            else:
                if rows.load(fd, datastart + (first + done) * rowsize, k):
                    failed = 1
                    err = errno
                    break
                rows.convert(mem + done * memsize, memsize, k, 0)
            done += k
    if failed:
        if err == 0:
            raise FITSError("file is truncated: table rows end before the table does")
        raise OSError(err, os.strerror(err))


def raw_read_bytes(int fd, long long offset, cnp.ndarray out) -> None:
    """Fill ``out`` (C-contiguous) with the file's bytes from ``offset`` on, as stored."""
    cdef long long n = out.nbytes
    cdef char *dst = <char *>cnp.PyArray_DATA(out)
    cdef int failed = 0, err = 0
    with nogil:
        if n and fitsbind_pread_all(fd, dst, n, offset):
            failed = 1
            err = errno
    if failed:
        if err == 0:
            raise FITSError("file is truncated: a table's heap ends before its PCOUNT says")
        raise OSError(err, os.strerror(err))


def convert_rows(cnp.ndarray stored, long long rowsize, fields, cnp.ndarray records,
                 bint to_disk=False) -> None:
    """Convert between ``stored`` (C-contiguous bytes of whole stored rows) and ``records``
    (as :func:`raw_read_rows` fills them) in memory: for files CFITSIO holds in memory."""
    cdef _Rows rows = _Rows(rowsize, fields)
    cdef long long nrows = len(records), memsize = records.itemsize
    if stored.nbytes < nrows * rowsize:
        raise ValueError("stored rows are shorter than the records")
    with nogil:
        _convert_fields(rows.fields, rows.nfields, <char *>cnp.PyArray_DATA(stored), rowsize,
                        <char *>cnp.PyArray_DATA(records), memsize, nrows, to_disk)


def raw_write_rows(int fd, long long datastart, long long rowsize, long long first,
                   long long nrows, fields, cnp.ndarray data, long long data_first=0) -> None:
    """Write the ``fields`` (as in :func:`raw_read_rows`) of records ``data_first`` on of
    ``data`` into table rows ``first`` .. ``first + nrows - 1``, converting to stored order.
    Bytes of the rows the fields do not cover are kept (read, then written back)."""
    cdef _Rows rows = _Rows(rowsize, fields)
    cdef long long memsize = data.itemsize, done = 0, k, at
    cdef const char *mem = <const char *>cnp.PyArray_DATA(data) + data_first * memsize
    cdef int failed = 0, err = 0
    if rows.span == 0 or nrows <= 0:
        return
    with nogil:
        while done < nrows:
            k = min(rows.per, nrows - done)
            at = datastart + (first + done) * rowsize
            if not rows.whole and rows.load(fd, at, k):
                failed = 1
                err = errno
                break
            rows.convert(<char *>mem + done * memsize, memsize, k, 1)
            if rows.store(fd, at, k):
                failed = 1
                err = errno
                break
            done += k
    if failed:
        if err == 0:
            raise FITSError("file is truncated: table rows end before the table does")
        raise OSError(err, os.strerror(err))


# ---------------------------------------------------------------------------------------------
# Factories

cdef bytes _c_path(object path):
    name = os.fspath(path)
    raw = os.fsencode(name)
    if b"\0" in raw:
        raise ValueError(f"file name {name!r} contains a NUL character")
    if len(raw) >= FLEN_FILENAME:
        raise ValueError(f"file name is {len(raw)} bytes; CFITSIO accepts at most "
                         f"{FLEN_FILENAME - 1}")
    return raw


cdef bint _looks_like_fits(str name):
    """True if the file starts like a FITS file, or is gzip-compressed (checked by CFITSIO)."""
    try:
        with open(name, "rb") as f:
            start = f.read(30)
    except OSError:
        return True
    return start.startswith(b"\x1f\x8b") or (start.startswith(b"SIMPLE  =") and
                                              start[29:30] == b"T")


cdef object _open_error(int status, str name, bint writing):
    """The exception for a failed open, told apart by what is on disk at ``name``."""
    what = "opening"
    overrides = {}
    if not os.path.lexists(name):
        what = "opening: no such file"
        overrides[status] = FITSFileNotFoundError
    elif os.path.isdir(name):
        what = "opening: is a directory"
        overrides[status] = FITSIsADirectoryError
    elif not os.access(name, os.R_OK | (os.W_OK if writing else 0)):
        what = "opening: permission denied" + (" for writing" if writing else "")
        overrides[status] = FITSPermissionError
    elif os.path.getsize(name) == 0:
        what = "opening: the file is empty (0 bytes), not a FITS file"
        overrides[status] = FITSError
    elif not _looks_like_fits(name):
        what = "opening: not a FITS file (it does not start with a SIMPLE card)"
        overrides[status] = FITSError
    elif os.path.getsize(name) < 2880:
        what = "opening: truncated FITS file (shorter than one 2880-byte header block)"
        overrides[status] = FITSError
    elif status == FILE_NOT_OPENED:
        # CFITSIO says "could not open" for reasons other than a missing file
        overrides[status] = FITSError
    return _error(status, what, name, None, overrides)


cdef FitsFile _new_handle(object path):
    """A handle not yet open; its lock key and identity are the file's device and inode (one
    lock per file, whatever the path or link it is reached by)."""
    cdef FitsFile handle = FitsFile.__new__(FitsFile, _FACTORY)
    handle.filename = os.fsdecode(os.fspath(path))
    try:
        st = os.stat(handle.filename)
        handle._lock_key = handle._identity = (st.st_dev, st.st_ino)
    except OSError:
        handle._lock_key = os.path.abspath(handle.filename)
        handle._raw_fd = -2
    return handle


def open_file(path, str mode="r") -> FitsFile:
    """Open an existing FITS file: ``mode`` "r" (read-only) or "r+" (read-write).

    The name is taken literally (no CFITSIO extended-filename syntax). Gzip-compressed files
    open read-only.
    """
    cdef int status = 0, iomode
    cdef fitsfile *ptr = NULL
    if mode == "r":
        iomode = IOMODE_READONLY
    elif mode == "r+":
        iomode = IOMODE_READWRITE
    else:
        raise ValueError(f"mode must be 'r' or 'r+', not {mode!r}")
    cdef bytes b_name = _c_path(path)
    cdef const char *c_name = b_name
    cdef FitsFile handle = _new_handle(path)
    name = handle.filename
    lock = _acquire_file_lock(handle._lock_key)
    try:
        with lock:
            with nogil:
                ffdkopn(&ptr, c_name, iomode, &status)
    except BaseException:
        _release_file_lock(handle._lock_key)
        raise
    if status:
        _release_file_lock(handle._lock_key)
        raise _open_error(status, name, iomode == IOMODE_READWRITE)
    ffcmsg()
    handle._ptr = ptr
    handle._lock = lock
    handle.writable = iomode == IOMODE_READWRITE
    if handle.writable:
        try:
            with lock:
                handle._check_unreadable_tail(handle._count(), True)
        except BaseException:
            handle.close()
            raise
    return handle


def create_file(path, bint overwrite=False) -> FitsFile:
    """Create a new, empty FITS file open read-write; add HDUs to it before closing.

    An existing file raises FileExistsError unless ``overwrite``, which replaces it.
    """
    cdef int status = 0
    cdef fitsfile *ptr = NULL
    cdef bytes b_name = _c_path(path)
    cdef const char *c_name = b_name
    cdef FitsFile handle = _new_handle(path)
    name = handle.filename
    if os.path.lexists(name):
        if os.path.isdir(name):
            raise IsADirectoryError(f"{name}: is a directory")
        if not overwrite:
            raise FITSFileExistsError(f"{name}: file exists (pass overwrite=True to replace it)",
                                      filename=name)
        os.remove(name)
    lock = _acquire_file_lock(handle._lock_key)
    try:
        with lock:
            with nogil:
                ffdkinit(&ptr, c_name, &status)
    except BaseException:
        _release_file_lock(handle._lock_key)
        raise
    if status:
        _release_file_lock(handle._lock_key)
        overrides = {}
        parent = os.path.dirname(os.path.abspath(name))
        if not os.path.isdir(parent):
            overrides[status] = FITSFileNotFoundError
        elif not os.access(parent, os.W_OK):
            overrides[status] = FITSPermissionError
        raise _error(status, "creating", name, None, overrides)
    # the file exists now: move to the lock every other handle on it will use
    st = os.stat(name)
    handle._identity = (st.st_dev, st.st_ino)
    handle._raw_fd = -1
    handle._lock = _acquire_file_lock(handle._identity)
    _release_file_lock(handle._lock_key)
    handle._lock_key = handle._identity
    handle._ptr = ptr
    handle.writable = True
    return handle


def memory_table(cards, cnp.ndarray rows not None, cnp.ndarray heap not None) -> FitsFile:
    """A FITS file in memory (CFITSIO's mem:// driver; nothing reaches the disk), open
    read-write: an empty primary HDU, then, current, a binary table whose header is
    ``cards`` (80-character card images from XTENSION on, END excluded, concatenated) and
    whose data unit holds the stored ``rows`` followed by the ``heap`` (C-contiguous uint8).
    For running CFITSIO's table routines (row filters) on rows fitsbind decoded itself."""
    cdef int status = 0, closing = 0, i, n
    cdef fitsfile *ptr = NULL
    cdef bytes b_cards = _ascii(cards, "header")
    cdef const char *c_cards = b_cards
    cdef char record[81]
    cdef LONGLONG head = 0, data = 0, end = 0
    cdef LONGLONG nrows = rows.nbytes, nheap = heap.nbytes
    cdef void *p_rows = cnp.PyArray_DATA(rows)
    cdef void *p_heap = cnp.PyArray_DATA(heap)
    if len(b_cards) % 80:
        raise ValueError(f"header text is {len(b_cards)} characters, not a multiple of 80")
    for array in (rows, heap):
        if array.dtype != np.uint8 or not array.flags.c_contiguous:
            raise ValueError("rows and heap must be C-contiguous uint8 arrays")
    n = len(b_cards) // 80
    cdef FitsFile handle = FitsFile.__new__(FitsFile, _FACTORY)
    handle.filename = "mem://"
    handle._raw_fd = -2
    handle._lock = threading.RLock()
    with nogil:
        ffinit(&ptr, "mem://", &status)
        if status == 0:
            ffcrimll(ptr, 8, 0, NULL, &status)
        if status == 0:
            ffcrhd(ptr, &status)
        i = 0
        while status == 0 and i < n:
            memcpy(record, c_cards + 80 * i, 80)
            record[80] = 0
            ffprec(ptr, record, &status)
            i += 1
        if status == 0:
            ffrdef(ptr, &status)
        if status == 0:
            ffghadll(ptr, &head, &data, &end, &status)
    if status == 0 and nrows + nheap > end - data:
        ffclos(ptr, &closing)
        raise ValueError(f"{nrows + nheap} bytes of rows and heap do not fit the "
                         f"{end - data}-byte data unit the header describes")
    if status == 0 and nrows + nheap:
        with nogil:
            ffmbyt(ptr, data, 1, &status)
            if status == 0 and nrows:
                ffpbyt(ptr, nrows, p_rows, &status)
            if status == 0 and nheap:
                ffpbyt(ptr, nheap, p_heap, &status)
    if status:
        exc = _error(status, "building a table in memory", "mem://", None)
        if ptr != NULL:
            ffclos(ptr, &closing)
            ffcmsg()
        raise exc
    handle._ptr = ptr
    handle.writable = True
    return handle
