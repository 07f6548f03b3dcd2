/* fitsbind's own pread/pwrite data path (see _fitsfile_rawio.pxi): whole reads and writes at
   an offset, and the per-field conversions of table rows. Byte order: fitsbind_swap.h. */
#ifndef FITSBIND_RAWIO_H
#define FITSBIND_RAWIO_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fitsbind_swap.h"

/* all of nbytes at offset, or -1 with errno set (0 for a read past the end of the file) */
static inline int fitsbind_pread_all(int fd, char *buf, int64_t nbytes, int64_t offset)
{
    while (nbytes > 0) {
        ssize_t got = pread(fd, buf, nbytes > (1 << 30) ? (1 << 30) : (size_t)nbytes,
                            (off_t)offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = 0;
            return -1;
        }
        buf += got;
        nbytes -= got;
        offset += got;
    }
    return 0;
}

static inline int fitsbind_pwrite_all(int fd, const char *buf, int64_t nbytes, int64_t offset)
{
    while (nbytes > 0) {
        ssize_t put = pwrite(fd, buf, nbytes > (1 << 30) ? (1 << 30) : (size_t)nbytes,
                             (off_t)offset);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return -1;
        buf += put;
        nbytes -= put;
        offset += put;
    }
    return 0;
}

/* Convert one field of nrows rows: count items of itemsize bytes at src + r * sstride to
   dst + r * dstride (stored <-> native, flip as fitsbind_convert). Short fields get inlined
   loops; long ones the vectorized converter per row. */
#define FITSBIND_GATHER_LOOP(bits)                                                       \
    {                                                                                    \
        uint##bits##_t m = flip ? ((uint##bits##_t)1 << (bits - 1)) : 0, v;              \
        uint##bits##_t pre = to_disk ? m : 0, post = to_disk ? 0 : m;                    \
        for (r = 0; r < nrows; r++)                                                      \
            for (k = 0; k < count; k++) {                                                \
                memcpy(&v, src + r * sstride + k * (bits / 8), bits / 8);                \
                v = FITSBIND_BSWAP(bits, (uint##bits##_t)(v ^ pre)) ^ post;              \
                memcpy(dst + r * dstride + k * (bits / 8), &v, bits / 8);                \
            }                                                                            \
    }

static inline void fitsbind_gather(const char *src, int64_t sstride, char *dst, int64_t dstride,
                            int64_t nrows, int64_t count, int itemsize, int flip, int to_disk)
{
    int64_t r, k;
    if (itemsize == 1 && !flip) {
        if (src != dst)
            for (r = 0; r < nrows; r++)
                memcpy(dst + r * dstride, src + r * sstride, (size_t)count);
    } else if (count * itemsize >= 64) {
        for (r = 0; r < nrows; r++)
            fitsbind_convert(src + r * sstride, dst + r * dstride, count, itemsize, flip,
                             to_disk);
    } else if (itemsize == 1) {
        for (r = 0; r < nrows; r++)
            for (k = 0; k < count; k++)
                dst[r * dstride + k] = src[r * sstride + k] ^ (char)0x80;
    } else if (itemsize == 2)
        FITSBIND_GATHER_LOOP(16)
    else if (itemsize == 4)
        FITSBIND_GATHER_LOOP(32)
    else
        FITSBIND_GATHER_LOOP(64)
}
#undef FITSBIND_GATHER_LOOP

/* FITS logicals <-> bool bytes: 'T' reads as 1, anything else as 0; 1 writes as 'T', 0 as 'F'
   and 2 (a null) as the 0 byte */
static inline void fitsbind_logicals(const char *src, int64_t sstride, char *dst, int64_t dstride,
                              int64_t nrows, int64_t count, int to_disk)
{
    int64_t r, k;
    char c;
    for (r = 0; r < nrows; r++)
        for (k = 0; k < count; k++) {
            c = src[r * sstride + k];
            dst[r * dstride + k] = to_disk ? (c == 1 ? 'T' : c == 0 ? 'F' : 0) : (c == 'T');
        }
}

/* strings of width w: trailing blanks become NULs, which numpy's S type drops */
static inline void fitsbind_strip_blanks(char *dst, int64_t dstride, int64_t nrows, int64_t count,
                                  int64_t width)
{
    int64_t r, s, k;
    char *p;
    for (r = 0; r < nrows; r++)
        for (s = 0; s + width <= count; s += width) {
            p = dst + r * dstride + s;
            for (k = width - 1; k >= 0 && (p[k] == ' ' || p[k] == 0); k--)
                p[k] = 0;
        }
}

#endif
