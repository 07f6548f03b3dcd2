# Part of fitsbind/_fitsfile.pyx.
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

