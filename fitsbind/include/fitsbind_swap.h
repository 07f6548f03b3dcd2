/* FITS stores values big-endian. The one byte-order kernel of fitsbind, shared by both
   extensions (_fitsfile's raw pixel and row I/O, _tiles' codec).

   fitsbind_convert(src, dst, n, itemsize, flip, to_disk): stored <-> native order for n items
   of itemsize (1, 2, 4 or 8) bytes; dst may equal src. flip toggles the sign bit of the native
   value, which turns the BZERO/TZERO offset types (int8, uint16, uint32, uint64) into their
   stored signed form and back: applied before the swap when writing (to_disk), after it when
   reading. fitsbind_swap is the plain swap (no flip). */
#ifndef FITSBIND_SWAP_H
#define FITSBIND_SWAP_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define FITSBIND_BSWAP(bits, v) (v)
#else
#define FITSBIND_BSWAP(bits, v) __builtin_bswap##bits(v)
#endif

/* byte shuffles (SSSE3/AVX2) vectorize the swap of long runs; the loader picks what the CPU
   has. target_clones needs ifunc, which glibc has and musl has not. An extension that swaps
   only short runs builds with FITSBIND_SWAP_PLAIN and gets the plain loops. */
#if !defined(FITSBIND_SWAP_PLAIN) && defined(__GNUC__) && defined(__x86_64__) \
    && defined(__linux__) && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define FITSBIND_CLONES __attribute__((target_clones("default", "ssse3", "avx2")))
#endif
#endif
#ifndef FITSBIND_CLONES
#define FITSBIND_CLONES
#endif

/* one branch-free loop per item size, so the compiler vectorizes it */
#define FITSBIND_CONVERT_LOOP(bits)                                                      \
    FITSBIND_CLONES                                                                      \
    static void fitsbind_convert##bits(const char *src, char *dst, int64_t n,            \
                                       uint##bits##_t pre, uint##bits##_t post)         \
    {                                                                                    \
        int64_t i;                                                                       \
        uint##bits##_t v;                                                                \
        for (i = 0; i < n; i++) {                                                        \
            memcpy(&v, src + i * (bits / 8), bits / 8);                                  \
            v = FITSBIND_BSWAP(bits, (uint##bits##_t)(v ^ pre)) ^ post;                  \
            memcpy(dst + i * (bits / 8), &v, bits / 8);                                  \
        }                                                                                \
    }
FITSBIND_CONVERT_LOOP(16)
FITSBIND_CONVERT_LOOP(32)
FITSBIND_CONVERT_LOOP(64)
#undef FITSBIND_CONVERT_LOOP

static inline void fitsbind_convert(const void *src_, void *dst_, int64_t n, int itemsize, int flip,
                             int to_disk)
{
    const char *src = (const char *)src_;
    char *dst = (char *)dst_;
    int64_t i;
    if (itemsize == 1) {
        uint8_t m = flip ? 0x80 : 0;
        if (!m) {
            if (src != dst)
                memmove(dst, src, (size_t)n);
            return;
        }
        for (i = 0; i < n; i++)
            ((uint8_t *)dst)[i] = ((const uint8_t *)src)[i] ^ m;
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

static inline void fitsbind_swap(const void *src, void *dst, int64_t n, int itemsize)
{
    fitsbind_convert(src, dst, n, itemsize, 0, 0);
}

#endif
