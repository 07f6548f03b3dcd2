# Part of fitsbind/_fitsfile.pyx.
# ---------------------------------------------------------------------------------------------
# Factories: the only way to get a FitsFile.

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


cdef FitsFile _new_handle(object path, object name=None, tuple identity=None):
    """A handle not yet open, on the file at ``path``, known as ``name`` (default: ``path``);
    its lock key and identity are the file's device and inode (one lock per file, whatever
    the path or link it is reached by): ``identity`` when the caller has them."""
    cdef FitsFile handle = FitsFile.__new__(FitsFile, _FACTORY)
    handle.path = os.fsdecode(os.fspath(path))
    handle.filename = handle.path if name is None else os.fsdecode(os.fspath(name))
    if identity is not None:
        handle._lock_key = handle._identity = identity
        return handle
    try:
        st = os.stat(handle.path)
        handle._lock_key = handle._identity = (st.st_dev, st.st_ino)
    except OSError:
        handle._lock_key = os.path.abspath(handle.path)
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
    cdef FitsFile handle
    cdef _Light light = _light_open(os.fsdecode(os.fspath(path))) \
        if iomode == IOMODE_READONLY else None
    if light is not None:
        handle = _new_handle(path, None, light.identity)
        handle._light = light
        handle._bind_lock(_acquire_file_lock(handle._lock_key))
        return handle
    handle = _new_handle(path)
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
    handle._bind_lock(lock)
    handle.writable = iomode == IOMODE_READWRITE
    try:
        with lock:
            # CFITSIO parsed the primary header while opening; vet it before any use
            handle._vet_header(0, 0)
            if handle.writable:
                handle._check_unreadable_tail(handle._count(), True)
    except BaseException:
        handle.close()
        raise
    return handle


def create_file(path, bint overwrite=False, *, name=None) -> FitsFile:
    """Create a new, empty FITS file at ``path`` open read-write; add HDUs to it before
    closing. ``name`` is what the handle calls the file (``filename``, messages; default
    ``path``): the target, when ``path`` is a new file to be renamed over it once complete.

    An existing file raises FileExistsError unless ``overwrite``, which replaces it.
    """
    cdef int status = 0
    cdef fitsfile *ptr = NULL
    cdef bytes b_name = _c_path(path)
    cdef const char *c_name = b_name
    cdef FitsFile handle = _new_handle(path, name)
    name = handle.filename
    disk = handle.path
    if os.path.lexists(disk):
        if os.path.isdir(disk):
            raise IsADirectoryError(f"{name}: is a directory")
        if not overwrite:
            raise FITSFileExistsError(f"{name}: file exists (pass overwrite=True to replace it)",
                                      filename=name)
        os.remove(disk)
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
        parent = os.path.dirname(os.path.abspath(disk))
        if not os.path.isdir(parent):
            overrides[status] = FITSFileNotFoundError
        elif not os.access(parent, os.W_OK):
            overrides[status] = FITSPermissionError
        raise _error(status, "creating", name, None, overrides)
    # the file exists now: move to the lock every other handle on it will use
    st = os.stat(disk)
    handle._identity = (st.st_dev, st.st_ino)
    handle._raw_fd = -1
    handle._bind_lock(_acquire_file_lock(handle._identity))
    _release_file_lock(handle._lock_key)
    handle._lock_key = handle._identity
    handle._ptr = ptr
    handle.writable = True
    handle._walked = True           # every HDU is written through this handle
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
    handle.filename = handle.path = "mem://"
    handle._raw_fd = -2
    handle._bind_lock(threading.RLock())
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
    handle._walked = True           # every HDU is written through this handle
    return handle
