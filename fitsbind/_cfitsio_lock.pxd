# CFITSIO built reentrant guards its globals with one mutex, Fitsio_Lock, which must be
# recursive: its HCOMPRESS routines hold it while decoding and report bad input through
# ffpmsg, which takes it again. CFITSIO makes it recursive in fitsio_init_lock(), but only
# calls that when a file is opened; a module that uses the codecs without opening a file
# (the tile codec, which in a vendored build has its own copy of CFITSIO) would deadlock on
# the first corrupt HCOMPRESS tile. Each extension module calls this once at import.

cdef extern from *:
    """
    int fitsio_init_lock(void);
    """
    int fitsio_init_lock() nogil
