# Part of fitsbind/_fitsfile.pyx: FitsFile, one open CFITSIO handle, and the per-file locks.
# ---------------------------------------------------------------------------------------------
# One lock per file on disk (docs/architecture.md, "Threading").

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
# The handle. Every method that reaches CFITSIO runs inside ``with self._reading:`` or
# ``with self._writing:`` (the file's lock held, the handle checked open, and writable) and
# passes CFITSIO's status to ``self._check``; so a wrapper is the C call and those two lines.

cdef object _FACTORY = object()

# comments of size keywords that resize_data may have to add
_NEW_SIZE_COMMENTS = {"THEAP": b"byte offset to heap area"}

# the keywords image_layout_keys reads
_LAYOUT_KEYS = ("BITPIX", "BSCALE", "BZERO", "BLANK")

cdef enum:
    RAW_READ_MIN = 1 << 20     # read_bytes uses fitsbind's own descriptor from this size on

# a row filter CFITSIO cannot parse or evaluate is the caller's mistake, not a bad file
_FILTER_ERRORS = {PARSE_SYNTAX_ERR: FITSValueError, PARSE_BAD_TYPE: FITSValueError,
                  PARSE_LRG_VECTOR: FITSValueError, PARSE_NO_OUTPUT: FITSValueError,
                  PARSE_BAD_COL: FITSValueError, PARSE_BAD_OUTPUT: FITSValueError}


@cython.final
cdef class _Guard:
    """``with handle._reading:`` / ``with handle._writing:``: hold the file's lock and check
    that the handle is open (and, for writing, writable) before the body runs.

    The guard keeps a borrowed pointer to its handle: the handle owns the guard and never
    hands it out, so the guard cannot outlive it (and no reference cycle keeps a leaked
    handle from being collected and warned about)."""
    cdef void *handle
    cdef bint writing
    cdef object acquire, release     # the lock's bound methods: no lookup per call

    cdef int hold(self) except -1:
        self.acquire()
        try:
            if self.writing:
                (<FitsFile>self.handle)._require_writable()
            else:
                (<FitsFile>self.handle)._require_open()
        except BaseException:
            self.release()
            raise
        return 0

    def __enter__(self):
        self.hold()

    def __exit__(self, exc_type, exc, traceback):
        self.release()


@cython.final
cdef class _At:
    """What :meth:`FitsFile.at` gives: a guard that also moves to an HDU."""
    cdef FitsFile handle
    cdef int index
    cdef bint writing

    def __enter__(self):
        cdef FitsFile f = self.handle
        cdef _Guard guard = f._writing if self.writing else f._reading
        if f._light is not None and not self.writing:
            guard.acquire()
            try:
                if f._light_move(self.index):
                    return f
            except BaseException:
                guard.release()
                raise
            guard.release()
        guard.hold()
        try:
            f._move(self.index)
        except BaseException:
            guard.release()
            raise
        return f

    def __exit__(self, exc_type, exc, traceback):
        self.handle._reading.release()


cdef class FitsFile:
    """One open CFITSIO file handle. Made by :func:`open_file`, :func:`create_file` and
    :func:`memory_table` only.

    HDU indices are zero-based (CFITSIO's are one-based). Shapes are in numpy (C) order, the
    reverse of NAXIS1..NAXISn. Every method raises ``ValueError`` once the file is closed. A
    handle collected while still open is closed with a ``ResourceWarning``, as Python's own
    file objects are.
    """

    cdef fitsfile *_ptr
    cdef object _lock
    cdef object _lock_key       # (st_dev, st_ino) of the file, or its path if it has none
    cdef _Guard _reading        # the lock, and the handle open
    cdef _Guard _writing        # the lock, and the handle open read-write
    cdef readonly str filename  # the name the file is known by (messages, repr)
    cdef readonly str path      # where it is on disk: filename, or the new file written
                                # beside it until FITS renames it into place
    cdef readonly bint writable
    cdef int _raw_fd            # own descriptor for raw data I/O; -1 not yet opened, -2 none
    cdef tuple _identity        # (st_dev, st_ino) of the file when CFITSIO opened it
    cdef int _vetted            # highest HDU index whose header passed _vet_header
    cdef bint _walked           # every HDU on disk parsed: HDUs added later are fitsbind's own
    cdef _Light _light          # while CFITSIO is not open yet (_fitsfile_light.pxi), or None
    cdef object __weakref__

    def __cinit__(self, token):
        if token is not _FACTORY:
            raise TypeError("FitsFile objects are made by open_file(), create_file() and "
                            "memory_table()")
        self._ptr = NULL
        self._raw_fd = -1
        self._vetted = 0            # the primary header: CFITSIO parses it while opening
        self._reading = _Guard.__new__(_Guard)
        self._reading.handle = <void *>self
        self._writing = _Guard.__new__(_Guard)
        self._writing.handle = <void *>self
        self._writing.writing = True

    def __del__(self):
        if self._ptr != NULL or self._light is not None:
            close_forgotten(repr(self), self.close)

    def __dealloc__(self):
        # __del__ closed it; this runs only when finalizers did not (interpreter shutdown)
        cdef int status = 0
        cdef fitsfile *ptr = self._ptr
        if self._light is not None:
            os.close(self._light.fd)
            self._light = None
            _release_file_lock(self._lock_key)
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
        state = "closed" if self.closed else ("r+" if self.writable else "r")
        return f"<fitsbind FitsFile {self.filename!r} ({state})>"

    # -- plumbing ---------------------------------------------------------------------------

    cdef void _bind_lock(self, object lock):
        """Make ``lock`` the file's lock, the one both guards hold."""
        self._lock = lock
        self._reading.acquire = self._writing.acquire = lock.acquire
        self._reading.release = self._writing.release = lock.release

    cdef inline int _require_open(self) except -1:
        if self._ptr == NULL:
            if self._light is None:
                raise ValueError("I/O operation on closed FITS file")
            self._materialize()
        return 0

    cdef int _materialize(self) except -1:
        """Open CFITSIO on a handle that deferred opening started (the lock held), at the HDU
        it is on; fitsbind's descriptor stays the one raw I/O uses."""
        cdef _Light light = self._light
        cdef int status = 0
        cdef fitsfile *ptr = NULL
        cdef bytes b_name = _c_path(self.path)
        cdef const char *c_name = b_name
        try:
            st = os.stat(self.path)
            replaced = (st.st_dev, st.st_ino) != self._identity
        except OSError:
            replaced = True
        if replaced:
            raise FITSError(f"{self.filename}: the file was removed or replaced on disk after it "
                            "was opened", filename=self.filename)
        with nogil:
            ffdkopn(&ptr, c_name, IOMODE_READONLY, &status)
        if status:
            raise _open_error(status, self.filename, False)
        ffcmsg()
        self._ptr = ptr
        self._light = None
        self._raw_fd = light.fd
        self._vet_header(0, 0)
        self._move(light.current)
        return 0

    cdef bint _light_move(self, int index) except -1:
        """Make image HDU ``index`` current without CFITSIO (the lock held); False when that
        needs CFITSIO (the handle is then still deferred, on the HDU it was on)."""
        if index < 0 or self._light.hdu(index) is None:
            return False
        self._light.current = index
        return True

    cdef _LightHDU _light_current(self):
        """The current HDU of a deferred handle (call with the lock held), None when CFITSIO
        is open or the handle closed."""
        if self._light is None:
            return None
        return self._light.hdus[self._light.current]

    cdef inline int _require_writable(self) except -1:
        # CFITSIO buffers header edits on a read-only file and fails only when flushing,
        # so the check must come first
        self._require_open()
        if not self.writable:
            raise FITSPermissionError(f"{self.filename}: the file is open read-only",
                                      filename=self.filename, hdu=self._current())
        return 0

    cdef inline int _check(self, int status, str what, object arg=None,
                           dict overrides=None) except -1:
        """Raise the exception for a failed CFITSIO call (see :func:`_error`) unless
        ``status`` is 0. ``what`` names the operation; with ``arg`` it is a %-format of it,
        built only on failure."""
        if status:
            raise self._fail(status, what if arg is None else what % (arg,), overrides)
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
            fd = os.open(self.path, os.O_RDWR if self.writable else os.O_RDONLY)
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
        cdef _LightHDU light
        if not writing:
            with self._lock:
                light = self._light_current()
                if light is not None:
                    return (self._light.fd, light.data)
        with (self._writing if writing else self._reading):
            fd = self._raw_data(writing, &data, &end)
            return None if fd < 0 else (fd, data)

    cdef int _raw_data(self, bint writing, LONGLONG *data, LONGLONG *end) except -3:
        """:meth:`_raw_fd` (call with the lock held), and where the current HDU's data unit
        starts and ends."""
        cdef int status = 0
        cdef LONGLONG head = 0
        ffghadll(self._ptr, &head, data, end, &status)
        self._check(status, "locating the data unit")
        return self._raw_fd_for(writing)

    cdef int _raw_fd_for(self, bint writing) except -3:
        """fitsbind's own descriptor of the file for raw I/O, negative when the file is not
        plain FITS on disk (e.g. gzip-compressed). With a descriptor, CFITSIO's buffers of a
        writable handle are written out first, and before writing also emptied, so neither
        side sees stale bytes. Call with the lock held."""
        cdef int status = 0
        if self._raw_fd == -1:
            self._open_raw_fd()
        if self._raw_fd >= 0 and self.writable:
            with nogil:
                ffflsh(self._ptr, 1 if writing else 0, &status)
            self._check(status, "flushing before direct data I/O")
        return self._raw_fd

    cdef object _fail(self, int status, str what, dict overrides=None):
        """The exception for a failed call on this handle, naming the file and current HDU."""
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

    cdef int _check_new_hdu(self, int status, int count_before, str what,
                            object arg=None) except -1:
        """As :meth:`_check` for a call that appends an HDU: on failure the HDU it left
        behind is deleted first, so the file stays valid."""
        if status == 0:
            return 0
        exc = self._fail(status, what if arg is None else what % (arg,))
        self._drop_new_hdu(count_before)
        raise exc

    cdef void _drop_new_hdu(self, int count_before):
        """Delete the HDU a failed call appended (when it is there), so the file stays valid."""
        if self._current() >= count_before:
            self._delete_current()
        else:
            ffcmsg()

    cdef void _delete_current(self):
        """Remove the HDU a failed append left (the current, last one; see
        :meth:`drop_last_hdu`), quietly: the caller raises the append's own failure."""
        try:
            self._drop_last()
        except Exception:
            pass
        ffcmsg()

    cdef int _vet_header(self, int index, LONGLONG start) except -1:
        """Check the structural cards of HDU ``index``, whose header starts at byte ``start``,
        before CFITSIO parses them (see _fitsfile_vet.pxi); raise FITSError on a problem."""
        cdef int status = 0
        cdef LONGLONG size = self._ptr.Fptr.logfilesize, pos = start
        cdef char block[2880]
        found = {}
        while "END" not in found and pos + 2880 <= size:
            ffmbyt(self._ptr, pos, 0, &status)
            if status == 0:
                ffgbyt(self._ptr, 2880, block, &status)
            if status:
                ffcmsg()
                return 0                 # unreadable: CFITSIO's own parse reports it
            if pos > start and strncmp(block, b"XTENSION=", 9) == 0:
                raise FITSError(f"{self.filename}, HDU {index}: malformed header: no END card "
                                f"(the header runs into the next HDU's, at byte {pos})",
                                filename=self.filename, hdu=index)
            _vet_cards(block, 36, found)
            pos += 2880
        if "END" not in found:
            return 0                     # no END: CFITSIO's own parse reports it
        problem = _vet_problem(found, pos)
        if problem is not None:
            raise FITSError(f"{self.filename}, HDU {index}: malformed header: {problem}",
                            filename=self.filename, hdu=index)
        return 0

    cdef int _parse_through(self, int index) except -1:
        """Have CFITSIO parse the headers of HDUs up to ``index`` (every HDU when negative),
        one at a time, each vetted first: CFITSIO moves at most one HDU past the last it has
        parsed, reading it at the offset the previous one ended. May leave another HDU
        current; a header CFITSIO cannot parse ends the walk for the caller's own call to
        report."""
        cdef FITSfile *F = self._ptr.Fptr
        cdef int status = 0, k
        while not self._walked and (index < 0 or F.maxhdu < index):
            k = F.maxhdu + 1
            if F.headstart[k] >= F.logfilesize:
                # a writable handle walks at open: what comes later is written through it,
                # and moving off an HDU whose header is still being written would close it
                self._walked = True
                break
            if k > self._vetted:
                self._vet_header(k, F.headstart[k])
                self._vetted = k
            with nogil:
                ffmahd(self._ptr, k + 1, NULL, &status)
            if status:
                ffcmsg()
                break
        return 0

    cdef int _count(self) except -1:
        """Number of HDUs. CFITSIO leaves out a current HDU whose header is still being
        written (ffthdu stops before it), but the current HDU always exists."""
        cdef int n = 0, status = 0, nexist = 0, nmore = 0
        before = self._current()
        try:
            self._parse_through(-1)
        finally:
            self._restore(before)
        with nogil:
            ffthdu(self._ptr, &n, &status)
        self._check(status, "counting HDUs")
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
        cdef char start[9]
        if n == 0 or (self.writable and not checking_open):
            return 0
        before = self._current()
        ffmahd(self._ptr, n, NULL, &status)
        if status == 0:
            ffghadll(self._ptr, &head, &data, &end, &status)
        self._restore(before)
        ffcmsg()
        if status or end < 0 or self._ptr.Fptr.logfilesize < end + 2880:
            return 0
        # through CFITSIO: a gzip file's bytes are the decompressed ones
        ffmbyt(self._ptr, end, 0, &status)
        if status == 0:
            ffgbyt(self._ptr, 9, start, &status)
        if status:
            ffcmsg()
            return 0
        if strncmp(start, b"XTENSION=", 9) == 0:
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
            size = os.path.getsize(self.path)
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
    def deferred(self) -> bool:
        """True while CFITSIO is not yet open on this read-only handle (deferred opening,
        _fitsfile_light.pxi): calls are answered from headers fitsbind read itself."""
        return self._light is not None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._ptr == NULL and self._light is None

    def close(self) -> None:
        """Flush and close the file. Calling it again does nothing."""
        cdef int status = 0
        cdef fitsfile *ptr
        if self._light is not None:
            with self._lock:
                if self._light is not None:
                    os.close(self._light.fd)
                    self._light = None
                    _release_file_lock(self._lock_key)
            return
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
        with self._reading:
            with nogil:
                ffflus(self._ptr, &status)
            self._check(status, "flushing to disk")

    # -- HDUs -------------------------------------------------------------------------------

    def num_hdus(self) -> int:
        """Number of HDUs in the file (reads every header; the current HDU stays current)."""
        cdef int n
        with self._lock:
            if self._light is not None:
                n = self._light.count()
                if n > 0:
                    return n
        with self._reading:
            return self._count()

    @property
    def current_hdu(self) -> int:
        """Zero-based index of the current HDU."""
        with self._lock:
            if self._light is not None:
                return self._light.current
        with self._reading:
            return self._current()

    def move_to(self, int index) -> int:
        """Make HDU ``index`` (zero-based) current; return its type (``HDU_*`` constant).

        An HDU beyond the last raises IndexError; on any failure the handle stays on the HDU
        it was on.
        """
        if self._light is not None:
            with self._lock:
                if self._light is not None and self._light_move(index):
                    return IMAGE_HDU
        with self._reading:
            return self._move(index)

    def at(self, int index, bint writing=False):
        """``with handle.at(index) as f:`` holds the file's lock with HDU ``index`` current
        (and the handle checked writable when ``writing``) for a sequence of calls on it."""
        cdef _At at = _At.__new__(_At)
        at.handle = self
        at.index = index
        at.writing = writing
        return at

    cdef int _move(self, int index) except -1:
        """:meth:`move_to`, the lock held."""
        cdef int status = 0, hdutype = 0, hdunum = index + 1
        if index < 0:
            raise IndexError(f"{self.filename}: HDU index {index} is negative")
        before = self._current()
        try:
            self._parse_through(index)
        except BaseException:
            self._restore(before)
            raise
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
        with self._reading:
            before = self._current()
            try:
                self._parse_through(-1)      # ffmnhd reads every header until a match
            except BaseException:
                self._restore(before)
                raise
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
            if self._light is not None:
                return IMAGE_HDU           # deferred opening serves image HDUs only
        with self._reading:
            ffghdt(self._ptr, &hdutype, &status)
            self._check(status, "reading the HDU type")
            return hdutype

    def is_compressed_image(self) -> bool:
        """True if the current HDU is a tile-compressed image (a BINTABLE with ZIMAGE = T)."""
        cdef int status = 0, result
        with self._lock:
            if self._light is not None:
                return False               # a compressed image is a BINTABLE: never deferred
        with self._reading:
            result = fits_is_compressed_image(self._ptr, &status)
            self._check(status, "checking for a compressed image")
            return bool(result)

    def hdu_offsets(self) -> tuple:
        """Byte offsets in the file of the current HDU: (header start, data start, data end)."""
        cdef int status = 0
        cdef LONGLONG head = 0, data = 0, end = 0
        cdef _LightHDU light
        with self._lock:
            light = self._light_current()
            if light is not None:
                return (light.head, light.data, light.end)
        with self._reading:
            ffghadll(self._ptr, &head, &data, &end, &status)
            self._check(status, "reading the HDU's byte offsets")
            return (head, data, end)

    def image_info(self) -> tuple:
        """(BITPIX, equivalent BITPIX, shape) of the current image HDU.

        The equivalent BITPIX accounts for BSCALE/BZERO (e.g. 20 for uint16 stored with
        BITPIX 16, BZERO 32768); shape is in numpy order. Works for compressed images too.
        """
        cdef int status = 0, bitpix = 0, equiv = 0, naxis = 0, i
        cdef LONGLONG naxes[MAX_AXES]
        cdef _LightHDU light
        with self._lock:
            light = self._light_current()
            if light is not None and not light.scaled:
                return light.bitpix, light.bitpix, light.shape
        with self._reading:
            ffgiprll(self._ptr, MAX_AXES, &bitpix, &naxis, naxes, &status)
            if status == 0:
                ffgiet(self._ptr, &equiv, &status)
            self._check(status, "reading the image parameters")
            return bitpix, equiv, tuple(naxes[i] for i in range(naxis - 1, -1, -1))

    def image_layout_keys(self) -> dict:
        """BITPIX, and those of BSCALE, BZERO and BLANK the current header holds, as
        ``{keyword: value}`` (values as :meth:`read_key` gives them): what decides how the
        image's stored values convert."""
        cdef _LightHDU light
        with self._lock:
            light = self._light_current()
            if light is not None:
                return dict(light.layout)
        result = {}
        with self._reading:
            for key in _LAYOUT_KEYS:
                found = self.read_key(key, missing_ok=True)
                if found is not None:
                    result[key] = found[0]
        return result

    def table_info(self) -> tuple:
        """(number of rows, number of columns) of the current table HDU."""
        cdef int status = 0, ncols = 0
        cdef LONGLONG nrows = 0
        with self._reading:
            ffgnrwll(self._ptr, &nrows, &status)
            if status == 0:
                ffgncl(self._ptr, &ncols, &status)
            self._check(status, "reading the table size")
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
        with self._writing:
            before = self._count()
            with nogil:
                ffcrimll(self._ptr, bitpix, naxis, naxes, &status)
            self._check_new_hdu(status, before, "creating an image HDU of shape %s", tuple(dims))
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
            with self._writing:
                before = self._count()
                ffcrtb(self._ptr, ASCII_TBL if ascii else BINARY_TBL, nrows, ncols, c_names,
                       c_forms, c_units, <char *>b_extname if b_extname is not None else NULL,
                       &status)
                self._check_new_hdu(status, before, "creating a table HDU")
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
        with self._writing:
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
        self._check(status, "extending the file to hold the new HDU's data")
        # CFITSIO ignores ftruncate's result, so see what the file system actually did
        if grown and os.path.getsize(self.path) < end:
            hdu = self._current()
            raise FITSError(f"{self.filename}, HDU {hdu}: the file system refused to grow the "
                            f"file to {end} bytes for the HDU's data (file too large?)",
                            filename=self.filename, hdu=hdu)
        return 0

    def data_missing(self, nbytes) -> int:
        """Bytes of the current HDU's first ``nbytes`` data bytes that lie beyond the end of
        the file (0 when the file holds them all: it is not truncated there). ``nbytes`` may
        be any size a header's numbers multiply to."""
        cdef _LightHDU light
        with self._lock:
            light = self._light_current()
            if light is not None:
                return max(0, light.data + nbytes - self._light.size)
        with self._reading:
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
        with self._writing:
            ffgiprll(self._ptr, MAX_AXES, &bitpix, &naxis, naxes, &status)
            self._check(status, "reading the image parameters")
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
                self._check(status, "growing the image")
                self._finish_hdu()
                return
            with nogil:
                ffrsimll(self._ptr, bitpix, naxis, new_axes, &status)
                if status == 0:
                    ffrdef(self._ptr, &status)
            self._check(status, "resizing the image")

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
        with self._writing:
            ffghadll(self._ptr, &head, &data, &end, &status)
            self._check(status, "reading the HDU's position")
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
                self._check(status, "moving the HDUs after this one")
            for key, value in keywords.items():
                name = _ascii(key, "keyword")
                ffmkyj(self._ptr, name, <LONGLONG>value, "&", &status)
                if status == KEY_NO_EXIST:
                    status = 0
                    ffcmsg()
                    ffpkyj(self._ptr, name, <LONGLONG>value, _NEW_SIZE_COMMENTS.get(key, b""),
                           &status)
                self._check(status, "setting %s", key)
            if "PCOUNT" in keywords:
                # CFITSIO writes its own heap size back into PCOUNT when the HDU is redefined
                self._ptr.Fptr.heapsize = <LONGLONG>keywords["PCOUNT"]
            self._finish_hdu()
            if last and delta < 0:
                with nogil:
                    fftrun(self._ptr, data + new_blocks * 2880, &status)
                self._check(status, "truncating the file")

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
        with self._reading:
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
            self._check(status, "reading pixels", None, {END_OF_FILE: FITSError})
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
        with self._writing:
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
            self._check(status, "writing pixels")

    cdef list _naxes(self):
        """Axis lengths of the current image in FITS order."""
        cdef int status = 0, bitpix = 0, naxis = 0, i
        cdef LONGLONG naxes[MAX_AXES]
        with self._reading:
            ffgiprll(self._ptr, MAX_AXES, &bitpix, &naxis, naxes, &status)
            self._check(status, "reading the image parameters")
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
        with self._writing:
            with nogil:
                ffdhdu(self._ptr, NULL, &status)
            self._check(status, "deleting the HDU")

    def drop_last_hdu(self) -> None:
        """Remove the current HDU, the last of the file (one just appended), by cutting the
        file where its header starts, for undoing an append that failed.

        Unlike :meth:`delete_hdu` nothing is written: CFITSIO's buffers of the cut bytes are
        dropped unwritten (``ffdhdu`` would fill the whole HDU with zeros first, and on a
        full disk fail doing so). The HDU before becomes current; dropping the first HDU
        leaves an empty file, as :func:`create_file` made it.
        """
        with self._writing:
            self._drop_last()

    cdef int _drop_last(self) except -1:
        """:meth:`drop_last_hdu`, the lock held."""
        cdef int status = 0, hdutype = 0, n = self._current()
        cdef FITSfile *F = self._ptr.Fptr
        cdef LONGLONG start = F.headstart[n]
        if F.maxhdu != n:
            raise ValueError(f"{self.filename}, HDU {n}: not the last HDU of the file")
        # CFITSIO forgets the HDU as ffdhdu does, without closing it (which would write its
        # END card and fill bytes)
        F.maxhdu = n - 1 if n else 0
        F.headstart[n + 1] = 0
        if n == 0:
            # the state ffinit leaves: an empty first header not yet written
            F.headend = F.nextkey = 0
            F.datastart = -1
        self._cut(start)
        if n:
            with nogil:
                ffgext(self._ptr, n - 1, &hdutype, &status)
            self._check(status, "moving to HDU %d after dropping the last", n - 1)
        return 0

    def shrink_last_hdu(self, keywords) -> None:
        """Undo a growth of the current HDU, the last of the file, that failed: set the
        integer size ``keywords`` (NAXISn, NAXIS2, PCOUNT) back to the given values, cut the
        file at the end of the data unit they describe (whatever was written past it goes;
        CFITSIO's buffers there are dropped unwritten), put back the fill bytes of the last
        block (zeros; blanks in ASCII tables) and write the header out."""
        cdef int status = 0
        cdef LONGLONG head = 0, data = 0, end = 0
        cdef bytes name
        with self._writing:
            if self._ptr.Fptr.maxhdu != self._current():
                raise ValueError(f"{self.filename}, HDU {self._current()}: not the last HDU "
                                 "of the file")
            for key, value in keywords.items():
                name = _ascii(key, "keyword")
                ffmkyj(self._ptr, name, <LONGLONG>value, "&", &status)
            if "PCOUNT" in keywords:
                # CFITSIO writes its own heap size back into PCOUNT when the HDU is redefined
                self._ptr.Fptr.heapsize = <LONGLONG>keywords["PCOUNT"]
            with nogil:
                if status == 0:
                    ffrdef(self._ptr, &status)
                if status == 0:
                    ffghadll(self._ptr, &head, &data, &end, &status)
            self._check(status, "restoring the HDU's size")
            self._cut(end)
            with nogil:
                ffpdfl(self._ptr, &status)
                if status == 0:
                    ffflsh(self._ptr, 0, &status)
            self._check(status, "writing the fill bytes of the restored data unit")

    cdef int _cut(self, LONGLONG size) except -1:
        """Truncate the file to ``size`` bytes (a multiple of 2880), dropping CFITSIO's
        buffers of blocks past it unwritten; the lock held."""
        cdef int status = 0, i
        cdef FITSfile *F = self._ptr.Fptr
        for i in range(NIOBUF):
            if F.bufrecnum[i] >= 0 and <LONGLONG>F.bufrecnum[i] * IOBUFLEN >= size:
                F.bufrecnum[i] = -1
                F.dirty[i] = 0
        with nogil:
            fftrun(self._ptr, size, &status)
        self._check(status, "truncating the file to %d bytes", size)
        # CFITSIO ignores ftruncate's result
        if os.path.isfile(self.path) and os.path.getsize(self.path) != size:
            raise FITSError(f"{self.filename}: the file could not be cut back to {size} "
                            "bytes", filename=self.filename, hdu=self._current())
        return 0

    # -- header -----------------------------------------------------------------------------

    def num_keys(self) -> int:
        """Number of cards in the current header, END excluded."""
        cdef int status = 0, nexist = 0, nmore = 0
        cdef _LightHDU light
        with self._lock:
            light = self._light_current()
            if light is not None:
                return light.ncards
        with self._reading:
            ffghsp(self._ptr, &nexist, &nmore, &status)
            self._check(status, "counting header cards")
            return nexist

    def header_string(self, bint nocomments=False, *, bint uncompressed=False) -> str:
        """The current header as one string of 80-character cards, END excluded.
        ``uncompressed``: for a tile-compressed image, the header of the image it holds as
        CFITSIO (funpack) writes it when decompressing."""
        cdef int status = 0, nkeys = 0, freeing = 0
        cdef char *text = NULL
        cdef _LightHDU light
        if not (nocomments or uncompressed):
            with self._lock:
                light = self._light_current()
                if light is not None:
                    return light.cards.decode("latin-1")
        with self._reading:
            if uncompressed:
                ffcnvthdr2str(self._ptr, nocomments, NULL, 0, &text, &nkeys, &status)
            else:
                ffhdr2str(self._ptr, nocomments, NULL, 0, &text, &nkeys, &status)
            try:
                self._check(status, "reading the header")
                result = text[:strlen(text)].decode("latin-1")
            finally:
                # fffree does nothing when the status it is given is set: its own status
                if text != NULL:
                    fffree(text, &freeing)
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
        with self._reading:
            ffghsp(self._ptr, &nexist, &nmore, &status)
            if status == 0 and index >= nexist:
                raise FITSIndexError(f"{self.filename}, HDU {self._current()}: card index "
                                     f"{index} out of range (the header has {nexist} cards)",
                                     filename=self.filename, hdu=self._current())
            ffgrec(self._ptr, index + 1, card, &status)
            self._check(status, "reading card %d", index)
            return card.decode("latin-1").ljust(80)

    def read_card(self, name) -> str:
        """The whole card of keyword ``name``, 80 characters. KeyError if absent."""
        cdef int status = 0
        cdef char card[FLEN_CARD]
        cdef bytes key = _keyname(name)
        with self._reading:
            ffgcrd(self._ptr, key, card, &status)
            self._check(status, "reading keyword %r", str(name))
            return card.decode("latin-1").ljust(80)

    def read_key(self, name, *, bint missing_ok=False) -> tuple | None:
        """(value, comment) of keyword ``name``. KeyError if absent, or None with
        ``missing_ok``.

        Values come back as bool, int (any size), float, complex or str (CONTINUE long strings
        joined, trailing blanks dropped); an undefined value is None.
        """
        cdef int status = 0, freeing = 0
        cdef char value[FLEN_VALUE]
        cdef char comment[FLEN_COMMENT]
        cdef char *longstr = NULL
        cdef bytes key
        cdef _LightHDU light
        with self._lock:
            light = self._light_current()
            if light is not None:
                found = light.value(name)
                if found == ():
                    if missing_ok:
                        return None
                    raise _error(KEY_NO_EXIST, f"reading keyword {str(name)!r}", self.filename,
                                 self._light.current)
                if found is not None:
                    return found
        key = _keyname(name)
        string_value = None
        with self._reading:
            ffgkey(self._ptr, key, value, comment, &status)
            if status == KEY_NO_EXIST and missing_ok:
                ffcmsg()
                return None
            self._check(status, "reading keyword %r", str(name))
            raw = value.decode("latin-1").strip()
            if raw.startswith("'"):
                # the comment of a CONTINUE'd string is on its last card; ffgkls finds it
                ffgkls(self._ptr, key, &longstr, comment, &status)
                try:
                    self._check(status, "reading string keyword %r", str(name))
                    string_value = longstr[:strlen(longstr)].rstrip(b" ")
                finally:
                    # fffree does nothing when the status it is given is set: its own status
                    if longstr != NULL:
                        fffree(longstr, &freeing)
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
        cdef bytes key = _keyname(name, True)
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
        with self._writing:
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
            self._check(status, "writing keyword %r", str(name))
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
        with self._writing:
            ffprec(self._ptr, b_card, &status)
            self._check(status, "writing a header card")

    def append_hdu(self, cards) -> int:
        """Append an HDU whose header is ``cards`` (80-character card images, END excluded,
        concatenated) and return its index. The header must describe the HDU completely
        (SIMPLE or XTENSION first); the file is grown to hold the data unit, which reads as
        zeros until written. On failure no part of the new HDU stays in the file."""
        cdef int status = 0, i, n
        cdef bint created
        cdef bytes b_cards = _header_bytes(cards, self.filename)
        cdef const char *c_cards
        n = len(b_cards) // 80
        c_cards = b_cards
        cdef char record[81]
        with self._writing:
            _vet_text(b_cards, self.filename)
            with nogil:
                ffcrhd(self._ptr, &status)
                # once ffcrhd succeeded the new HDU is current (counting HDUs first to tell
                # would read every header of the file on each append)
                created = status == 0
                i = 0
                while status == 0 and i < n:
                    memcpy(record, c_cards + 80 * i, 80)
                    record[80] = 0
                    _append_record(self._ptr, record, &status)
                    i += 1
            if status:
                exc = self._fail(status, "writing the header of a new HDU")
                if created:
                    self._delete_current()
                raise exc
            try:
                self._finish_hdu()
            except BaseException:
                self._delete_current()
                raise
            return self._current()

    def replace_header(self, cards) -> None:
        """Make the current header's cards ``cards`` (80-character images, END excluded,
        concatenated), rewriting only the records that differ. The header grows or shrinks
        in place (CFITSIO moves later HDUs when it needs another 2880-byte block); the data
        unit is not touched, so the structural cards must keep describing it."""
        cdef int status = 0, nexist = 0, nmore = 0, i, n
        cdef bytes b_cards = _header_bytes(cards, self.filename)
        cdef const char *c_cards = b_cards
        cdef char record[81]
        cdef char old[FLEN_CARD]
        n = len(b_cards) // 80
        with self._writing:
            _vet_text(b_cards, self.filename)
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
                            _replace_record(self._ptr, i, record, &status)
                    else:
                        _append_record(self._ptr, record, &status)
                    i += 1
                if status == 0:
                    ffrdef(self._ptr, &status)
            self._check(status, "rewriting the header")

    def check_end(self) -> None:
        """Raise FITSError if the current header has no END card of its own.

        CFITSIO looks for END from the header start and, when it is missing, reads on into
        the next HDU's header, so the merged header holds that HDU's first card (XTENSION)
        at the start of a 2880-byte block. One card per block is read.
        """
        cdef int status = 0, nexist = 0, nmore = 0, rec
        cdef char card[FLEN_CARD]
        with self._lock:
            if self._light is not None:
                return                     # deferred opening read END before any XTENSION
        with self._reading:
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
            self._check(status, "reading the header")

    def delete_key(self, name) -> None:
        """Delete the first card of keyword ``name``. KeyError if absent."""
        cdef int status = 0
        cdef bytes key = _keyname(name)
        with self._writing:
            ffdkey(self._ptr, key, &status)
            self._check(status, "deleting keyword %r", str(name))

    def write_comment(self, text) -> None:
        """Append COMMENT cards holding ``text`` (split over cards of 72 characters)."""
        cdef int status = 0
        cdef bytes b_text = _ascii(text, "COMMENT text")
        with self._writing:
            ffpcom(self._ptr, b_text, &status)
            self._check(status, "writing a COMMENT card")

    def write_history(self, text) -> None:
        """Append HISTORY cards holding ``text`` (split over cards of 72 characters)."""
        cdef int status = 0
        cdef bytes b_text = _ascii(text, "HISTORY text")
        with self._writing:
            ffphis(self._ptr, b_text, &status)
            self._check(status, "writing a HISTORY card")

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
        with self._writing:
            ffgnrwll(self._ptr, &rows, &status)
            if status == 0:
                ffgkyjj(self._ptr, "PCOUNT", &pcount, comment, &status)
            self._check(status, "reading the table size")
            if nrows == 0:
                return
            # ASCII tables need blank rows, which CFITSIO writes
            if pcount == 0 and self._current() == self._count() - 1 \
                    and self._hdutype() == BINARY_TBL:
                ffmkyj(self._ptr, "NAXIS2", rows + nrows, "&", &status)
                self._check(status, "growing the table")
                self._finish_hdu()
                return
            with nogil:
                ffirow(self._ptr, rows, nrows, &status)
                if status == 0:
                    ffrdef(self._ptr, &status)
            self._check(status, "adding %d rows to the table", nrows)

    def insert_rows(self, LONGLONG before, LONGLONG nrows) -> None:
        """Insert ``nrows`` zeroed rows before row ``before`` (0-based) of the current table."""
        cdef int status = 0
        with self._writing:
            with nogil:
                ffirow(self._ptr, before, nrows, &status)
                if status == 0:
                    ffrdef(self._ptr, &status)
            self._check(status, "inserting rows at row %d", before)

    def delete_rows(self, cnp.ndarray rows) -> None:
        """Delete the rows ``rows`` (0-based, int64, sorted, unique) of the current table."""
        cdef int status = 0
        cdef cnp.ndarray one_based = np.ascontiguousarray(rows, dtype=np.int64) + 1
        cdef LONGLONG n = one_based.shape[0]
        cdef LONGLONG *c_rows = <LONGLONG *>cnp.PyArray_DATA(one_based)
        if n == 0:
            return
        with self._writing:
            with nogil:
                ffdrwsll(self._ptr, c_rows, n, &status)
                if status == 0:
                    ffrdef(self._ptr, &status)
            self._check(status, "deleting %d rows", n)

    def insert_column(self, int position, name, tform) -> None:
        """Insert a column named ``name`` with format ``tform`` as column ``position``
        (0-based) of the current table; every row is rewritten with the new, zeroed field."""
        cdef int status = 0
        cdef bytes b_name = _ascii(name, "column name")
        cdef bytes b_form = _ascii(tform, "column format")
        cdef char *c_name = b_name
        cdef char *c_form = b_form
        with self._writing:
            _check_tform(b_form, self._hdutype() == ASCII_TBL, position + 1)
            with nogil:
                fficol(self._ptr, position + 1, c_name, c_form, &status)
                if status == 0:
                    ffrdef(self._ptr, &status)
            self._check(status, "inserting column %r", name)

    def delete_column(self, int position) -> None:
        """Delete column ``position`` (0-based) of the current table."""
        cdef int status = 0
        with self._writing:
            with nogil:
                ffdcol(self._ptr, position + 1, &status)
                if status == 0:
                    ffrdef(self._ptr, &status)
            self._check(status, "deleting column %d", position + 1)

    cdef int _hdutype(self) except -1:
        cdef int status = 0, hdutype = 0
        ffghdt(self._ptr, &hdutype, &status)
        self._check(status, "reading the HDU type")
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
        with self._reading:
            with nogil:
                if nulls:
                    ffgcf(self._ptr, datatype, position + 1, first + 1, 1, n, buffer, c_flags,
                          &anynul, &status)
                else:
                    ffgcv(self._ptr, datatype, position + 1, first + 1, 1, n, NULL, buffer,
                          &anynul, &status)
            self._check(status, "reading column %d", position + 1)
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
                with self._reading:
                    with nogil:
                        ffgcvs(self._ptr, position + 1, first + 1, 1, nrows, "", ptrs,
                               &anynul, &status)
                    self._check(status, "reading column %d", position + 1)
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
        with self._writing:
            with nogil:
                if c_nulval != NULL:
                    ffpcn(self._ptr, datatype, position + 1, first + 1, 1, n, buffer,
                          c_nulval, &status)
                else:
                    ffpcl(self._ptr, datatype, position + 1, first + 1, 1, n, buffer, &status)
            self._check(status, "writing column %d", position + 1)

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
            with self._writing:
                ffpcls(self._ptr, position + 1, first + 1, 1, n, ptrs, &status)
                self._check(status, "writing column %d", position + 1)
        finally:
            PyMem_Free(ptrs)

    def read_data_bytes(self, LONGLONG offset, cnp.ndarray out) -> None:
        """Fill ``out`` (C-contiguous) with the current HDU's data bytes from ``offset`` on,
        as stored, through CFITSIO (for files without raw access, e.g. gzip-compressed)."""
        with self._reading:
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
            with self._reading:
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
                self._check(status, "reading data bytes")
        finally:
            PyMem_Free(off)
        if failed:
            if err == 0:
                raise FITSError(f"{self.filename}, HDU {index}: file is truncated: the data "
                                "unit ends early", filename=self.filename, hdu=index)
            raise OSError(err, os.strerror(err))

    def read_bytes(self, LONGLONG position, cnp.ndarray out) -> None:
        """Fill ``out`` (C-contiguous) with the file's bytes from byte ``position`` on (of the
        decompressed file, for a gzip-compressed one), whatever HDU they belong to. Bytes
        past the end of the file raise FITSError. The GIL is released while reading."""
        cdef int fd, failed = 0, err = 0
        cdef LONGLONG n = out.nbytes, size
        cdef char *dst = <char *>cnp.PyArray_DATA(out)
        cdef bint done = False
        if not (cnp.PyArray_IS_C_CONTIGUOUS(out) and cnp.PyArray_ISWRITEABLE(out)):
            raise ValueError("out must be a writeable C-contiguous array")
        with self._lock:
            if self._light is not None:
                # deferred opening: a plain file, whose bytes are the file's own
                size = self._light.size
                if position < 0 or position + n > size:
                    raise FITSError(f"{self.filename}: bytes {position} to {position + n} lie "
                                    f"outside the file ({size} bytes)", filename=self.filename)
                fd = self._light.fd
                with nogil:
                    if n and fitsbind_pread_all(fd, dst, n, position):
                        failed = 1
                        err = errno
                done = True
        if not done:
            self._read_bytes(position, n, dst, &failed, &err)
        if failed:
            if err == 0:
                raise FITSError(f"{self.filename}: the file ends before byte {position + n}",
                                filename=self.filename)
            raise OSError(err, os.strerror(err))

    cdef int _read_bytes(self, LONGLONG position, LONGLONG n, char *dst, int *failed,
                         int *err) except -1:
        """:meth:`read_bytes` through CFITSIO (or, for large reads, fitsbind's descriptor)."""
        cdef int status = 0, fd
        cdef LONGLONG size
        with self._reading:
            size = self._ptr.Fptr.logfilesize
            if position < 0 or position + n > size:
                raise FITSError(f"{self.filename}: bytes {position} to {position + n} lie outside "
                                f"the file ({size} bytes)", filename=self.filename)
            if n == 0:
                return 0
            # small reads (a header just located) come from CFITSIO's buffers, which usually
            # hold them already; large ones with fitsbind's own descriptor, where there is one
            fd = self._raw_fd_for(False) if n >= RAW_READ_MIN else -1
            with nogil:
                if fd >= 0:
                    if fitsbind_pread_all(fd, dst, n, position):
                        failed[0] = 1
                        err[0] = errno
                else:
                    ffmbyt(self._ptr, position, 0, &status)   # 0: report EOF
                    if status == 0:
                        ffgbyt(self._ptr, n, dst, &status)
            self._check(status, "reading bytes %d on", position)
        return 0

    def write_data_bytes(self, LONGLONG offset, cnp.ndarray data) -> None:
        """Write ``data`` (C-contiguous, stored form) at data offset ``offset`` of the current
        HDU, through CFITSIO."""
        with self._writing:
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
        self._check(status, "writing data bytes" if writing else "reading data bytes")
        return 0

    def write_nulls(self, int position, rows) -> None:
        """Mark the cells of column ``position`` (0-based) in ``rows`` (0-based) undefined:
        TNULL, or a blank field in ASCII tables."""
        cdef int status = 0
        cdef LONGLONG row
        with self._writing:
            for row in rows:
                ffpclu(self._ptr, position + 1, row + 1, 1, 1, &status)
                self._check(status, "marking a cell of column %d undefined", position + 1)

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
        with self._reading:
            with nogil:
                fffrow(self._ptr, c_expr, first + 1, nrows, &ngood, flags, &status)
            self._check(status, "evaluating the row filter %r", expr, _FILTER_ERRORS)
        return result

    # -- checksums --------------------------------------------------------------------------

    cdef int _require_data_unit(self, str what) except -1:
        """Raise unless the file holds the current HDU's data unit: CFITSIO's checksum
        routines otherwise work through every block a header claims, however far past the end
        of the file (minutes for a PCOUNT of 10**11 in a 17 KB file). A last block missing
        only its padding is left to CFITSIO, which reports it at once. (Writing checksums
        needs no check: a data unit not yet written is part of the HDU being built.)"""
        cdef int status = 0
        cdef LONGLONG head = 0, data = 0, end = 0
        ffghadll(self._ptr, &head, &data, &end, &status)
        self._check(status, what)
        if end - 2880 >= self._ptr.Fptr.logfilesize:
            hdu = self._current()
            raise FITSError(f"{self.filename}, HDU {hdu}: {what}: file is truncated: the data "
                            f"unit ends at byte {end} but the file has "
                            f"{self._ptr.Fptr.logfilesize} bytes", filename=self.filename,
                            hdu=hdu)
        return 0

    def write_checksum(self) -> None:
        """Compute and write DATASUM and CHECKSUM for the current HDU."""
        cdef int status = 0
        with self._writing:
            with nogil:
                ffpcks(self._ptr, &status)
            self._check(status, "writing the checksum")

    def data_checksum(self) -> int:
        """The 32-bit ones'-complement checksum of the current HDU's data unit (DATASUM)."""
        cdef int status = 0
        cdef unsigned long datasum = 0, hdusum = 0
        with self._reading:
            self._require_data_unit("computing the data checksum")
            with nogil:
                ffgcks(self._ptr, &datasum, &hdusum, &status)
            self._check(status, "computing the data checksum")
            return datasum

    def verify_checksum(self) -> tuple:
        """(data ok, HDU ok) for the current HDU: True (matches), False (differs) or None
        (the DATASUM / CHECKSUM keyword is absent)."""
        cdef int status = 0, datastatus = 0, hdustatus = 0
        with self._reading:
            self._require_data_unit("verifying the checksum")
            with nogil:
                ffvcks(self._ptr, &datastatus, &hdustatus, &status)
            self._check(status, "verifying the checksum")
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
        with self._reading, target._writing:
            if target._count() == 0:
                raise ValueError(f"{target.filename}: the file needs a primary HDU first")
            before = target._count()
            with nogil:
                fits_compress_table(self._ptr, target._ptr, &status)
            if status:
                exc = self._fail(status, "compressing the table")
                target._drop_new_hdu(before)
                raise exc
            target._finish_hdu()
            return target._current()


# CFITSIO's record writers (ffprec, ffmrec) upper-case the keyword of each record and refuse
# one whose keyword holds characters the standard does not allow there (BAD_KEYCHAR). The
# drop-in writes the cards astropy would, and astropy writes such cards as they are (HIERARCH
# keywords in lower case, "Just some text" cards it read from a file): a record CFITSIO would
# change or refuse is written as a blank record first, then its own bytes are put over it.
cdef char *_BLANK_RECORD = b" " * 80


cdef void _append_record(fitsfile *ptr, const char *record, int *status) noexcept nogil:
    """Append the 80-character ``record`` to the current header as it is."""
    if status[0] > 0:
        return
    ffprec(ptr, record, status)
    if status[0] == BAD_KEYCHAR:
        status[0] = 0
        ffcmsg()
        ffprec(ptr, _BLANK_RECORD, status)
    elif status[0] > 0 or not _case_lost(record, True):
        return
    _put_record(ptr, ptr.Fptr.headend - 80, record, status)


cdef void _replace_record(fitsfile *ptr, int index, const char *record,
                          int *status) noexcept nogil:
    """Make record ``index`` (0-based) of the current header the 80-character ``record``, as
    it is."""
    if status[0] > 0:
        return
    ffmrec(ptr, index + 1, record, status)
    if status[0] == BAD_KEYCHAR:
        status[0] = 0
        ffcmsg()
    elif status[0] > 0 or not _case_lost(record, False):
        return
    _put_record(ptr, ptr.Fptr.headstart[ptr.Fptr.curhdu] + 80 * index, record, status)


cdef bint _case_lost(const char *record, bint appending) noexcept nogil:
    """Whether CFITSIO's writing of the 80-character ``record`` upper-cases letters of it: the
    keyword part, which it takes to run to the first '=' (the first 8 characters when there
    is none). Appending (ffprec) stops at 8 for commentary cards too; rewriting a record in
    place (ffmrec) does not, so a HISTORY text holding '=' would lose its case."""
    cdef int i, length = 8
    for i in range(80):
        if record[i] == 61:           # '='
            length = i
            break
    if appending and (strncmp(record, b"COMMENT ", 8) == 0 or strncmp(record, b"HISTORY ", 8) == 0
                      or strncmp(record, b"        ", 8) == 0
                      or strncmp(record, b"CONTINUE", 8) == 0):
        length = 8
    for i in range(length):
        if 97 <= record[i] <= 122:    # 'a'..'z'
            return True
    return False


cdef void _put_record(fitsfile *ptr, LONGLONG position, const char *record,
                      int *status) noexcept nogil:
    """Write the 80 characters of ``record`` at byte ``position`` as they are, through
    CFITSIO's buffers (CFITSIO's own record writers would upper-case the keyword)."""
    ffmbyt(ptr, position, 1, status)
    ffpbyt(ptr, 80, <void *>record, status)


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


