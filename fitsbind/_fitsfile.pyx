# cython: language_level=3
"""One open CFITSIO handle, and with :mod:`fitsbind._tiles` the only place fitsbind calls
CFITSIO.

The module is one extension assembled from parts, each holding one concern:

``_fitsfile_errors.pxi``   CFITSIO status -> exception (one table, one function)
``_fitsfile_cards.pxi``    text conversions between Python values and header cards
``_fitsfile_light.pxi``    deferred opening: image headers read without CFITSIO until a
                           call needs it
``_fitsfile_handle.pxi``   :class:`FitsFile`, the handle, and the per-file locks
``_fitsfile_rawio.pxi``    fitsbind's own pread/pwrite path for pixels, rows and bytes
``_fitsfile_open.pxi``     the factories: :func:`open_file`, :func:`create_file`,
                           :func:`memory_table`

C kernels live in ``fitsbind/include/*.h`` (declared in ``_kernels.pxd``).

Threading contract (docs/architecture.md has it whole): one re-entrant lock per file on disk,
shared by every handle of that file and taken by every method; calls that may touch the disk at
length release the GIL; CFITSIO is built reentrant.
"""

import math
import numbers
import os
import threading

import numpy as np

cimport cython
cimport numpy as cnp
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport PyUnicode_DecodeLatin1
from libc.errno cimport errno
from libc.stdint cimport int64_t
from libc.math cimport NAN
from libc.stdlib cimport free, malloc
from libc.string cimport memcmp, memcpy, memset, strcspn, strlen, strncmp

from fitsbind._cfitsio cimport *
from fitsbind._cfitsio_lock cimport fitsio_init_lock
from fitsbind._lifetime import close_forgotten
from fitsbind._kernels cimport (
    fitsbind_convert,
    fitsbind_gather,
    fitsbind_logicals,
    fitsbind_pread_all,
    fitsbind_pwrite_all,
    fitsbind_strip_blanks,
    fitsbind_vet_integer,
    fitsbind_vet_wanted,
)
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


include "_fitsfile_errors.pxi"
include "_fitsfile_cards.pxi"
include "_fitsfile_vet.pxi"
include "_fitsfile_light.pxi"
include "_fitsfile_handle.pxi"
include "_fitsfile_rawio.pxi"
include "_fitsfile_open.pxi"
