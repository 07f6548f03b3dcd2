/* fitsbind's Rice decoder (declared in _kernels.pxd, used by _tiles).

   Rice decoding. CFITSIO's fits_rdecomp* read the stream a byte at a time, with a
   data-dependent branch for every byte boundary; this decoder keeps 56 to 64 bits of the
   stream in a register and refills it without branches, so the usual pixel costs one
   leading-zero count and a few shifts (single instructions on x86-64-v3 CPUs, for which a
   second copy of the decoder is built and chosen at load time). It produces what CFITSIO
   does for every stream CFITSIO accepts, and fails where CFITSIO does: when the blocks read
   run past the stream's end (CFITSIO checks that after each block, as here). One
   difference: a block code above the largest a coder writes (possible with 4-byte values
   only) is refused as corrupt, where CFITSIO decodes it into garbage. */
#ifndef FITSBIND_RICE_H
#define FITSBIND_RICE_H

#include <stdint.h>
#include <string.h>

#include "fitsbind_swap.h"

/* target_clones needs ifunc, which glibc has and musl has not */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 && defined(__x86_64__) \
    && defined(__linux__) && defined(__GLIBC__)
#define FITSBIND_RICE_CLONES __attribute__((target_clones("default", "arch=x86-64-v3")))
#else
#define FITSBIND_RICE_CLONES
#endif

/* 8 bytes at p as a big-endian number */
static inline uint64_t fitsbind_be64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return FITSBIND_BSWAP(64, v);
}

/* The stream's next bits, first one in the top bit of buf: count of them are loaded;
   next is the first byte not yet wholly in buf. A refill ORs in the 64 bits from next
   on behind the loaded ones (bits already in buf come again at the same place) and
   leaves 56 to 63 loaded. */
typedef struct { uint64_t buf; int count; const unsigned char *next; } fitsbind_bits;

static inline void fitsbind_refill(fitsbind_bits *r)
{
    r->buf |= fitsbind_be64(r->next) >> r->count;
    r->next += (63 - r->count) >> 3;
    r->count |= 56;
}

/* drop n <= count bits; two shifts, as a shift by 64 is undefined */
static inline void fitsbind_skip(fitsbind_bits *r, int n)
{
    r->buf = (r->buf << (n >> 1)) << (n - (n >> 1));
    r->count -= n;
}

/* Decode nx values of bytepix bytes (a constant where this is inlined) into out; at
   least 8 * nblock + 16 readable bytes must follow the clen-byte stream. 0, or -1 when
   the stream is shorter than its blocks or corrupt. */
static inline __attribute__((always_inline)) int fitsbind_rice(
    const unsigned char *c, int64_t clen, void *out, int64_t nx, int nblock,
    const int bytepix)
{
    const int fsbits = bytepix == 1 ? 3 : bytepix == 2 ? 4 : 5;
    const int fsmax = bytepix == 1 ? 6 : bytepix == 2 ? 14 : 25;
    const uint32_t mask = bytepix == 1 ? 0xFFu : bytepix == 2 ? 0xFFFFu : 0xFFFFFFFFu;
    const unsigned char *end = c + clen;
    fitsbind_bits r;
    uint32_t last = 0, diff;
    uint64_t word;
    int64_t i = 0, imax, m;
    int fs, z, k, run;

    if (clen < bytepix)
        return -1;
    for (k = 0; k < bytepix; k++)
        last = (last << 8) | c[k];
    r.buf = 0;
    r.count = 0;
    r.next = c + bytepix;
#define FITSBIND_PUT(idx, value) do { \
        if (bytepix == 1) ((uint8_t *)out)[idx] = (uint8_t)(value); \
        else if (bytepix == 2) ((uint16_t *)out)[idx] = (uint16_t)(value); \
        else ((uint32_t *)out)[idx] = (value); } while (0)
    while (i < nx) {
        fitsbind_refill(&r);
        fs = (int)(r.buf >> (64 - fsbits)) - 1;
        fitsbind_skip(&r, fsbits);
        imax = i + nblock < nx ? i + nblock : nx;
        if (fs > fsmax)
            return -1;
        if (fs < 0) {
            /* every difference 0 */
            for (m = i; m < imax; m++)
                FITSBIND_PUT(m, last);
            i = imax;
        } else if (fs == fsmax) {
            /* differences stored directly, 8 * bytepix bits each */
            for (; i < imax; i++) {
                fitsbind_refill(&r);
                diff = (uint32_t)(r.buf >> (64 - 8 * bytepix));
                fitsbind_skip(&r, 8 * bytepix);
                last = (last + ((diff >> 1) ^ (0u - (diff & 1)))) & mask;
                FITSBIND_PUT(i, last);
            }
        } else {
            /* a run of zeros ended by a 1, then fs low bits; a refill is usually
               enough for three pixels, a pixel that does not fit refills and counts
               its zeros a load at a time */
            while (i < imax) {
                fitsbind_refill(&r);
                for (k = 0; k < 3 && i < imax; k++, i++) {
                    z = __builtin_clzll(r.buf | 1);
                    if (z < r.count - fs) {
                        /* the top fs + 1 bits after the zeros: the 1 and the low bits */
                        word = r.buf << z;
                        diff = ((uint32_t)z << fs) + (uint32_t)(word >> (63 - fs))
                            - (1u << fs);
                        r.buf = word << (fs + 1);
                        r.count -= z + 1 + fs;
                    } else {
                        fitsbind_refill(&r);
                        z = 0;
                        while (r.buf == 0 || __builtin_clzll(r.buf) >= r.count) {
                            if (r.next > end)
                                return -1;
                            z += r.count;
                            r.buf = 0;
                            r.count = 0;
                            fitsbind_refill(&r);
                        }
                        run = __builtin_clzll(r.buf);
                        z += run;
                        fitsbind_skip(&r, run + 1);
                        if (r.count < fs)
                            fitsbind_refill(&r);
                        diff = (uint32_t)z << fs;
                        if (fs) {
                            diff |= (uint32_t)(r.buf >> (64 - fs));
                            fitsbind_skip(&r, fs);
                        }
                    }
                    last = (last + ((diff >> 1) ^ (0u - (diff & 1)))) & mask;
                    FITSBIND_PUT(i, last);
                }
            }
        }
        /* bits read so far, against the stream's */
        if ((r.next - c) * 8 - r.count > clen * 8)
            return -1;
    }
#undef FITSBIND_PUT
    return 0;
}

FITSBIND_RICE_CLONES static int fitsbind_rice1(const unsigned char *c, int64_t clen,
                                               void *out, int64_t nx, int nblock)
{ return fitsbind_rice(c, clen, out, nx, nblock, 1); }
FITSBIND_RICE_CLONES static int fitsbind_rice2(const unsigned char *c, int64_t clen,
                                               void *out, int64_t nx, int nblock)
{ return fitsbind_rice(c, clen, out, nx, nblock, 2); }
FITSBIND_RICE_CLONES static int fitsbind_rice4(const unsigned char *c, int64_t clen,
                                               void *out, int64_t nx, int nblock)
{ return fitsbind_rice(c, clen, out, nx, nblock, 4); }

/* decode a Rice stream of nx unsigned values of bytepix (1, 2 or 4) bytes, native
   order; see fitsbind_rice */
static inline int fitsbind_rice_decode(const unsigned char *c, int64_t clen, void *out,
                                int64_t nx, int nblock, int bytepix)
{
    if (bytepix == 1)
        return fitsbind_rice1(c, clen, out, nx, nblock);
    if (bytepix == 2)
        return fitsbind_rice2(c, clen, out, nx, nblock);
    return fitsbind_rice4(c, clen, out, nx, nblock);
}

#endif
