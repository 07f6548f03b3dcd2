# Declarations of fitsbind's C kernels (fitsbind/include/*.h), for both extensions. No code.

from libc.stdint cimport int64_t, uint8_t


cdef extern from "fitsbind_swap.h" nogil:
    void fitsbind_convert(const void *src, void *dst, int64_t n, int itemsize, int flip,
                          int to_disk)
    void fitsbind_swap(const void *src, void *dst, int64_t n, int itemsize)


cdef extern from "fitsbind_rawio.h" nogil:
    int fitsbind_pread_all(int fd, char *buf, int64_t nbytes, int64_t offset)
    int fitsbind_pwrite_all(int fd, const char *buf, int64_t nbytes, int64_t offset)
    void fitsbind_gather(const char *src, int64_t sstride, char *dst, int64_t dstride,
                         int64_t nrows, int64_t count, int itemsize, int flip, int to_disk)
    void fitsbind_logicals(const char *src, int64_t sstride, char *dst, int64_t dstride,
                           int64_t nrows, int64_t count, int to_disk)
    void fitsbind_strip_blanks(char *dst, int64_t dstride, int64_t nrows, int64_t count,
                               int64_t width)


cdef extern from "fitsbind_rice.h" nogil:
    # nx values of bytepix (1, 2 or 4) bytes from the Rice stream c (clen bytes) into out,
    # native order; -1 when the stream is corrupt or ends early
    int fitsbind_rice_decode(const uint8_t *c, int64_t clen, void *out, int64_t nx, int nblock,
                             int bytepix)


cdef extern from "fitsbind_vet.h" nogil:
    # 1 if the card's keyword takes part in header vetting
    int fitsbind_vet_wanted(const char *card)
    # 1 and *out set when the card's value is a plain decimal integer (up to 18 digits)
    int fitsbind_vet_integer(const char *card, int64_t *out)
