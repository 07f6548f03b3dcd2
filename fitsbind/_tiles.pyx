# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The tile codec of tile-compressed images: pixel tiles to compressed bytes and back.

It knows nothing about files. Tiles are encoded and decoded bit-exactly as CFITSIO's
fpack/funpack do, with CFITSIO's own codec routines (Rice coding, HCOMPRESS, PLIO,
quantization) and zlib for the GZIP algorithms; the parts CFITSIO keeps static
(dequantization, the GZIP byte shuffle, the null-pixel rules) are written here from the facts
of CFITSIO 4.2.0's imcompress.c and quantize.c, and so is a Rice decoder (CFITSIO's reads a
byte at a time; this one gives the same pixels about three times faster).

Reads of whole images go through :func:`decode_tiles` (tile lists split over threads);
reads of a few tiles (stamps) through :meth:`TileTable.read_box` (one call, the calling
thread, only the requested pixels copied out).

Conventions
-----------
* ``shape`` and ``tile`` are in numpy order (slowest axis first). Tiles are numbered in C
  order over ``grid = ceil(shape / tile)``, which is FITS's order; tile ``t`` is row ``t`` of
  the BINTABLE. Edge tiles are clipped to the image; a tile's pixels are in C order of its
  clipped shape.
* Compressed sizes and heap offsets are bytes (PLIO's 16-bit element counts are the caller's
  to convert). Integer tiles hold the stored values; BSCALE/BZERO/BLANK are the caller's.
* Floating-point tiles: quantized, a pixel that is not finite is a null and a subnormal one
  is 0 (CFITSIO reads images for fpack that way); nulls decode to a NaN with every bit set
  (the NaN CFITSIO writes). Without quantization the float bytes round-trip unchanged.

Threads: the tile list is split into contiguous chunks, one per worker; each worker runs a
``nogil`` loop over its chunk with scratch buffers of its own, so any number of Python
threads may call in at once.
"""

import os
import sys
import threading
from concurrent.futures import wait

import numpy as np

cimport numpy as cnp
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.pythread cimport (
    WAIT_LOCK,
    PyThread_acquire_lock,
    PyThread_allocate_lock,
    PyThread_release_lock,
    PyThread_type_lock,
)
from libc.stdint cimport (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    int8_t,
    int16_t,
    int32_t,
    int64_t,
    uint8_t,
    uint16_t,
    uint32_t,
    uint64_t,
)
from libc.stdio cimport snprintf
from libc.float cimport DBL_MIN, FLT_MIN
from libc.math cimport fabs, log
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memset
from fitsbind._cfitsio_lock cimport fitsio_init_lock
from fitsbind._kernels cimport fitsbind_rice_decode, fitsbind_swap

from fitsbind._workers import executor
from fitsbind.errors import FITSError, FITSValueError

if fitsio_init_lock():
    raise ImportError("fitsbind: CFITSIO could not initialise its thread lock")

cnp.import_array()

__all__ = ["Codec", "Encoded", "TileTable", "decode_tiles", "encode_tiles", "requantize"]


cdef enum:
    MAXDIM = 6                  # CFITSIO's MAX_COMPRESS_DIM
    N_RANDOM = 10000            # length of CFITSIO's dither sequence (fitsio2.h)
    NULL_VALUE = -2147483647    # quantized null pixel (quantize.c)
    ZERO_VALUE = -2147483646    # quantized exact zero, SUBTRACTIVE_DITHER_2 (quantize.c)
    N_RESERVED = 10             # integers from NULL_VALUE up the quantizer never produces
    PLIO_MAX = 16777215         # PLIO codes 24-bit non-negative integers
    # CFITSIO's codecs and zlib take sizes as C ints: 8 bytes a pixel must fit in 32 bits
    MAX_TILE_PIXELS = (1 << 29) - 65536

cdef enum Algo:
    ALG_RICE
    ALG_GZIP1
    ALG_GZIP2
    ALG_HCOMPRESS
    ALG_PLIO
    ALG_NOCOMPRESS

# Pixel kinds: the image's type (from ZBITPIX) and the type a tile's bytes hold.
cdef enum Kind:
    K_U8
    K_I16
    K_I32
    K_I64
    K_F32
    K_F64

# Where a tile's bytes live; also the value of Encoded.column.
cdef enum Column:
    COL_COMPRESSED = 0          # COMPRESSED_DATA
    COL_GZIP = 1                # GZIP_COMPRESSED_DATA: float tile CFITSIO could not quantize
    COL_RAW = 2                 # UNCOMPRESSED_DATA

# Failure classes a worker reports back to Python.
cdef enum Fail:
    FAIL_NONE
    FAIL_DATA                   # FITSError: the bytes (decoding) or the codec (encoding) failed
    FAIL_VALUE                  # ValueError: pixel values the algorithm cannot code
    FAIL_MEMORY                 # MemoryError

cdef int _KIND_SIZE[6]
_KIND_SIZE[:] = [1, 2, 4, 8, 4, 8]

_ALGORITHMS = {"RICE_1": ALG_RICE, "RICE_ONE": ALG_RICE, "GZIP_1": ALG_GZIP1,
               "GZIP_2": ALG_GZIP2, "HCOMPRESS_1": ALG_HCOMPRESS, "PLIO_1": ALG_PLIO,
               "NOCOMPRESS": ALG_NOCOMPRESS}
_METHODS = {"NO_DITHER": NO_DITHER, "SUBTRACTIVE_DITHER_1": SUBTRACTIVE_DITHER_1,
            "SUBTRACTIVE_DITHER_2": SUBTRACTIVE_DITHER_2}
_KINDS = {8: K_U8, 16: K_I16, 32: K_I32, 64: K_I64, -32: K_F32, -64: K_F64}
_DTYPES = [np.dtype(t) for t in (np.uint8, np.int16, np.int32, np.int64, np.float32,
                                 np.float64)]

cdef bint _LITTLE = sys.byteorder == "little"

# The dither sequence: CFITSIO's table, and for each seed the start index its decoder derives
# with a single-precision product (imcompress.c's unquantize_* compute (int)(r * 500) in
# float, which is not always what a double product would truncate to).
if fits_init_randoms() != 0:
    raise ImportError("CFITSIO could not build its dither sequence (fits_init_randoms)")
cdef const float *_RAND = fits_rand_value
cdef int _RAND_START[N_RANDOM]
cdef float _f500 = 500


cdef void _init_rand_start():
    cdef int i
    cdef float product
    for i in range(N_RANDOM):
        product = _RAND[i] * _f500
        _RAND_START[i] = <int>product


_init_rand_start()

# NaNs with every bit set, as CFITSIO writes null pixels (imcomp_float2nan / double2nan).
cdef uint32_t _ALL32 = 0xFFFFFFFFu
cdef uint64_t _ALL64 = 0xFFFFFFFFFFFFFFFFu
cdef float _FNAN
cdef double _DNAN
memcpy(&_FNAN, &_ALL32, 4)
memcpy(&_DNAN, &_ALL64, 8)

# fits_hcompress / fits_hdecompress keep their bit-stream state in static variables, guarded
# by CFITSIO's global mutex only when CFITSIO was built reentrant.
cdef bint _HCOMPRESS_NEEDS_LOCK = fits_is_reentrant() == 0
cdef PyThread_type_lock _hcompress_lock = PyThread_allocate_lock()


cdef inline void _hlock() noexcept nogil:
    if _HCOMPRESS_NEEDS_LOCK:
        PyThread_acquire_lock(_hcompress_lock, WAIT_LOCK)


cdef inline void _hunlock() noexcept nogil:
    if _HCOMPRESS_NEEDS_LOCK:
        PyThread_release_lock(_hcompress_lock)


# ---------------------------------------------------------------------------------------------
# Parameters

cdef struct Params:
    int algo
    int zbitpix
    int kind                    # pixel kind of ZBITPIX
    int blocksize
    int bytepix
    float hcomp_scale           # float, as CFITSIO holds it
    int smooth
    int gzip_level
    bint quantize
    float qlevel
    int qmethod
    long long zdither0
    bint has_zblank
    int zblank
    int plio_offset             # PLIO of 16-bit images with BZERO = 32768 codes value + 32768


cdef class Codec:
    """One compression setup; immutable; safe to share between threads.

    Args:
        zcmptype: ``'RICE_1'`` (or its alias ``'RICE_ONE'``), ``'GZIP_1'``, ``'GZIP_2'``,
            ``'HCOMPRESS_1'``, ``'PLIO_1'`` or ``'NOCOMPRESS'``.
        zbitpix: the image's BITPIX (8, 16, 32, 64, -32, -64).
        blocksize: Rice block size (ZVAL1).
        bytepix: Rice bytes per value (ZVAL2); None: 1, 2 or 4 from ``zbitpix``, 4 for
            quantized floats. Decoding takes any of 1, 2, 4; encoding, as CFITSIO, only the
            image's own width.
        hcomp_scale: HCOMPRESS scale (ZVAL1): 0 lossless, > 0 times the tile's noise,
            < 0 absolute.
        hcomp_smooth: HCOMPRESS smoothing on decoding (ZVAL2).
        gzip_level: zlib level for encoding; None: 1, the level CFITSIO always uses.
        quantize_level: floats only. None: lossless (GZIP_1, GZIP_2, NOCOMPRESS); > 0: step
            in units of the tile's noise; < 0: absolute step. Decoding only needs to know
            whether the image is quantized (ZSCALE/ZZERO present).
        quantize_method: ``'SUBTRACTIVE_DITHER_1'``, ``'SUBTRACTIVE_DITHER_2'`` or
            ``'NO_DITHER'`` (ZQUANTIZ; a file without ZQUANTIZ decodes as NO_DITHER).
        zdither0: the dither seed (ZDITHER0), >= 1.
        zblank: the header's ZBLANK (or BLANK) for decoding quantized floats; None: no
            header value, so only a per-tile ZBLANK column marks nulls. Encoding always codes
            nulls as -2147483647, as CFITSIO does.
        bzero: the image's BZERO; only PLIO_1 of 16-bit images uses it (CFITSIO offsets
            values by 32768 when it is 32768, as PLIO codes non-negative values only).

    Raises:
        ValueError: an unknown name or an impossible combination (Rice, PLIO or HCOMPRESS of
            64-bit integers, lossless floats with anything but GZIP or NOCOMPRESS, a quantize
            level for an integer image or of 0, ...).
    """

    cdef Params p
    cdef readonly str zcmptype
    cdef readonly int zbitpix
    cdef readonly int blocksize
    cdef readonly int bytepix
    cdef readonly double hcomp_scale
    cdef readonly bint hcomp_smooth
    cdef readonly int gzip_level
    cdef readonly object quantize_level
    cdef readonly str quantize_method
    cdef readonly long long zdither0
    cdef readonly object zblank
    cdef readonly double bzero

    def __init__(self, str zcmptype, int zbitpix, *, int blocksize=32, bytepix=None,
                 double hcomp_scale=0.0, bint hcomp_smooth=False, gzip_level=None,
                 quantize_level=None, str quantize_method="SUBTRACTIVE_DITHER_1",
                 long long zdither0=1, zblank=None, double bzero=0.0):
        name = zcmptype.strip().upper()
        if name not in _ALGORITHMS:
            raise FITSValueError(f"unknown compression algorithm {zcmptype!r}; expected one of "
                             f"{', '.join(_ALGORITHMS)}")
        if zbitpix not in _KINDS:
            raise FITSValueError(f"ZBITPIX must be one of 8, 16, 32, 64, -32, -64, not {zbitpix}")
        algo = _ALGORITHMS[name]
        kind = _KINDS[zbitpix]
        is_float = zbitpix < 0
        method = quantize_method.strip().upper()
        if method not in _METHODS:
            raise FITSValueError(f"unknown quantize method {quantize_method!r}; expected one of "
                             f"{', '.join(_METHODS)}")
        if quantize_level is not None:
            if not is_float:
                raise FITSValueError(f"a quantize level applies to floating-point images only, "
                                 f"not ZBITPIX {zbitpix}")
            quantize_level = float(quantize_level)
            if quantize_level == 0 or quantize_level != quantize_level \
                    or abs(quantize_level) == float("inf"):
                raise FITSValueError(f"the quantize level must be a finite non-zero number, "
                                 f"not {quantize_level}")
            if algo == ALG_NOCOMPRESS:
                raise FITSValueError("NOCOMPRESS stores pixels as they are; it cannot quantize")
        elif is_float and algo not in (ALG_GZIP1, ALG_GZIP2, ALG_NOCOMPRESS):
            raise FITSValueError(f"{name} cannot code floating-point pixels losslessly; quantize "
                             f"them (quantize_level) or use GZIP_1 / GZIP_2")
        if zbitpix == 64 and algo in (ALG_RICE, ALG_PLIO, ALG_HCOMPRESS):
            raise FITSValueError(f"{name} cannot code 64-bit integers (CFITSIO's codecs work on "
                             f"32-bit values); use GZIP_1 or GZIP_2")
        if algo == ALG_RICE:
            if not 1 <= blocksize <= 65536:
                raise FITSValueError(f"Rice block size must be between 1 and 65536, not {blocksize}")
            if bytepix is None:
                bytepix = 4 if is_float else _KIND_SIZE[kind]
            if bytepix not in (1, 2, 4):
                raise FITSValueError(f"Rice bytes per pixel must be 1, 2 or 4, not {bytepix}")
        else:
            bytepix = _KIND_SIZE[kind]
        if gzip_level is None:
            gzip_level = Z_BEST_SPEED
        if not 0 <= gzip_level <= 9:
            raise FITSValueError(f"gzip level must be between 0 and 9, not {gzip_level}")
        if hcomp_scale != hcomp_scale or abs(hcomp_scale) == float("inf"):
            raise FITSValueError(f"HCOMPRESS scale must be finite, not {hcomp_scale}")
        if quantize_level is not None and method != "NO_DITHER" and zdither0 < 1:
            raise FITSValueError(f"ZDITHER0 must be at least 1, not {zdither0}")
        if zblank is not None:
            zblank = int(zblank)
            if not -2**31 <= zblank < 2**31:
                raise FITSValueError(f"ZBLANK must be a 32-bit integer, not {zblank}")

        self.zcmptype = name
        self.zbitpix = zbitpix
        self.blocksize = blocksize
        self.bytepix = bytepix
        self.hcomp_scale = hcomp_scale
        self.hcomp_smooth = hcomp_smooth
        self.gzip_level = gzip_level
        self.quantize_level = quantize_level
        self.quantize_method = method
        self.zdither0 = zdither0
        self.zblank = zblank
        self.bzero = bzero

        self.p.algo = algo
        self.p.zbitpix = zbitpix
        self.p.kind = kind
        self.p.blocksize = blocksize
        self.p.bytepix = bytepix
        self.p.hcomp_scale = <float>hcomp_scale
        self.p.smooth = hcomp_smooth
        self.p.gzip_level = gzip_level
        self.p.quantize = quantize_level is not None
        self.p.qlevel = <float>(quantize_level or 0.0)
        self.p.qmethod = _METHODS[method]
        self.p.zdither0 = zdither0
        self.p.has_zblank = zblank is not None
        self.p.zblank = zblank or 0
        self.p.plio_offset = 32768 if (algo == ALG_PLIO and zbitpix == 16
                                       and bzero == 32768.0) else 0

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of the image's pixels (ZBITPIX's type, native byte order)."""
        return _DTYPES[self.p.kind]

    def __repr__(self) -> str:
        parts = [repr(self.zcmptype), str(self.zbitpix)]
        if self.p.algo == ALG_RICE:
            parts.append(f"blocksize={self.blocksize}, bytepix={self.bytepix}")
        elif self.p.algo == ALG_HCOMPRESS:
            parts.append(f"hcomp_scale={self.hcomp_scale}, hcomp_smooth={self.hcomp_smooth}")
        if self.p.quantize:
            parts.append(f"quantize_level={self.quantize_level}, "
                         f"quantize_method={self.quantize_method!r}, zdither0={self.zdither0}")
        if self.zblank is not None:
            parts.append(f"zblank={self.zblank}")
        return f"Codec({', '.join(parts)})"


class Encoded:
    """What :func:`encode_tiles` returns; plain attributes.

    Attributes:
        data: ``uint8``, every tile's bytes back to back.
        offsets: ``int64``; tile ``i``'s bytes are ``data[offsets[i]:offsets[i] + nbytes[i]]``.
        nbytes: ``int64``, bytes per tile (PLIO: twice its 16-bit element count).
        column: ``int8`` per tile: 0 COMPRESSED_DATA, 1 GZIP_COMPRESSED_DATA (a float tile
            CFITSIO could not quantize), 2 UNCOMPRESSED_DATA (NOCOMPRESS).
        zscale, zzero: ``float64`` per tile for quantized floats (0 for GZIP_COMPRESSED_DATA
            tiles, whose cells CFITSIO leaves unwritten), else None.
        has_nulls: some quantized tile had null pixels, so the header needs ZBLANK.
    """

    def __init__(self, data, offsets, nbytes, column, zscale, zzero, has_nulls):
        self.data = data
        self.offsets = offsets
        self.nbytes = nbytes
        self.column = column
        self.zscale = zscale
        self.zzero = zzero
        self.has_nulls = has_nulls

    def __repr__(self) -> str:
        return (f"Encoded({len(self.nbytes)} tiles, {len(self.data)} bytes, "
                f"has_nulls={self.has_nulls})")


# ---------------------------------------------------------------------------------------------
# Tile geometry

cdef struct Geometry:
    int ndim
    Py_ssize_t shape[MAXDIM]
    Py_ssize_t tile[MAXDIM]
    Py_ssize_t grid[MAXDIM]
    Py_ssize_t ntiles


cdef Geometry _geometry(object shape, object tile) except *:
    cdef Geometry g
    cdef int k
    shape = tuple(int(n) for n in shape)
    tile = tuple(int(n) for n in tile)
    if not 1 <= len(shape) <= MAXDIM:
        raise FITSValueError(f"images of 1 to {MAXDIM} axes can be tile-compressed, not "
                         f"{len(shape)}")
    if len(tile) != len(shape):
        raise FITSValueError(f"tile shape {tile} and image shape {shape} differ in length")
    g.ndim = len(shape)
    g.ntiles = 1
    npix = 1
    for k in range(g.ndim):
        if shape[k] < 1 or tile[k] < 1:
            raise FITSValueError(f"image shape {shape} and tile shape {tile} must be positive")
        g.shape[k] = shape[k]
        g.tile[k] = min(tile[k], shape[k])
        g.grid[k] = (shape[k] + g.tile[k] - 1) // g.tile[k]
        g.ntiles *= g.grid[k]
        npix *= g.tile[k]
    if npix > MAX_TILE_PIXELS:
        raise FITSValueError(f"a tile of {npix} pixels is larger than CFITSIO can code")
    return g


cdef inline Py_ssize_t _tile_box(const Geometry *g, int64_t t, Py_ssize_t *start,
                                 Py_ssize_t *size) noexcept nogil:
    """Corner and clipped shape of tile t; returns its pixel count."""
    cdef int k
    cdef Py_ssize_t n = 1, c
    for k in range(g.ndim - 1, -1, -1):
        c = t % g.grid[k]
        t = t // g.grid[k]
        start[k] = c * g.tile[k]
        size[k] = g.tile[k]
        if start[k] + size[k] > g.shape[k]:
            size[k] = g.shape[k] - start[k]
        n *= size[k]
    return n


cdef inline void _tile_rows(const Py_ssize_t *size, int ndim, long *rowlen,
                            long *nrows) noexcept nogil:
    """CFITSIO's 2-D view of a tile (fits_calc_tile_rows): the row length is the first axis,
    FITS order, longer than 1; the rows are the product of the other axes."""
    cdef int k
    rowlen[0] = 0
    nrows[0] = 1
    for k in range(ndim - 1, -1, -1):
        if size[k] > 1:
            if rowlen[0] == 0:
                rowlen[0] = size[k]
            else:
                nrows[0] *= size[k]
    if rowlen[0] == 0:
        rowlen[0] = 1


cdef void _copy_box(char *image, const Py_ssize_t *stride, const Py_ssize_t *corner,
                    const Py_ssize_t *size, int ndim, char *buf, int itemsize,
                    bint into_image) noexcept nogil:
    """Move a box of an image (strides in items) to or from a C-ordered buffer."""
    cdef Py_ssize_t idx[MAXDIM]
    cdef Py_ssize_t offset = 0, rows = 1, r, rowbytes = size[ndim - 1] * itemsize
    cdef int k
    for k in range(ndim):
        offset += corner[k] * stride[k]
        idx[k] = 0
    for k in range(ndim - 1):
        rows *= size[k]
    for r in range(rows):
        if into_image:
            memcpy(image + offset * itemsize, buf, rowbytes)
        else:
            memcpy(buf, image + offset * itemsize, rowbytes)
        buf += rowbytes
        k = ndim - 2
        while k >= 0:
            idx[k] += 1
            offset += stride[k]
            if idx[k] < size[k]:
                break
            offset -= stride[k] * size[k]
            idx[k] = 0
            k -= 1


# A box of pixels: start[k] + m * step[k] for m in 0..count[k]-1 along each axis, and the
# array (strides in bytes) that receives them.
cdef struct Box:
    char *out
    Py_ssize_t ostride[MAXDIM]
    Py_ssize_t count[MAXDIM]
    Py_ssize_t start[MAXDIM]
    Py_ssize_t step[MAXDIM]


cdef inline bint _overlap(const Box *b, int ndim, const Py_ssize_t *tstart,
                          const Py_ssize_t *tsize, Py_ssize_t *lo,
                          Py_ssize_t *cnt) noexcept nogil:
    """The box pixels inside a tile's box, as the first box index and count per axis;
    False when there are none."""
    cdef Py_ssize_t first, last, hi
    cdef int k
    for k in range(ndim):
        first = tstart[k] - b.start[k]
        last = first + tsize[k] - 1
        if last < 0:
            return False
        lo[k] = 0 if first <= 0 else (first + b.step[k] - 1) // b.step[k]
        hi = last // b.step[k]
        if hi > b.count[k] - 1:
            hi = b.count[k] - 1
        if lo[k] > hi:
            return False
        cnt[k] = hi - lo[k] + 1
    return True


cdef void _copy_part(const Box *b, int ndim, const char *tile, const Py_ssize_t *tstride,
                     const Py_ssize_t *tstart, const Py_ssize_t *tsize,
                     int itemsize) noexcept nogil:
    """Copy the box pixels that lie in a tile (at image box tstart / tsize; its pixels at
    byte strides tstride) to the box's array."""
    cdef Py_ssize_t lo[MAXDIM]
    cdef Py_ssize_t cnt[MAXDIM]
    cdef Py_ssize_t sstep[MAXDIM]
    cdef Py_ssize_t idx[MAXDIM]
    cdef Py_ssize_t src = 0, dst = 0, rows = 1, r, m, n
    cdef Py_ssize_t istep, ostep
    cdef int k, last = ndim - 1
    if not _overlap(b, ndim, tstart, tsize, lo, cnt):
        return
    for k in range(ndim):
        src += (b.start[k] + lo[k] * b.step[k] - tstart[k]) * tstride[k]
        sstep[k] = b.step[k] * tstride[k]
        dst += lo[k] * b.ostride[k]
        idx[k] = 0
    for k in range(last):
        rows *= cnt[k]
    n = cnt[last]
    istep = sstep[last]
    ostep = b.ostride[last]
    for r in range(rows):
        if istep == itemsize and ostep == itemsize:
            memcpy(b.out + dst, tile + src, n * itemsize)
        else:
            for m in range(n):
                memcpy(b.out + dst + m * ostep, tile + src + m * istep, itemsize)
        k = last - 1
        while k >= 0:
            idx[k] += 1
            src += sstep[k]
            dst += b.ostride[k]
            if idx[k] < cnt[k]:
                break
            src -= sstep[k] * cnt[k]
            dst -= b.ostride[k] * cnt[k]
            idx[k] = 0
            k -= 1


# ---------------------------------------------------------------------------------------------
# Byte order (fitsbind_swap, the kernel both extensions share) and the GZIP_2 shuffle. FITS
# stores big-endian values.

cdef void _to_stored(const uint8_t *native, uint8_t *out, Py_ssize_t n, int width,
                     bint shuffle) noexcept nogil:
    """Native values to their big-endian bytes; GZIP_2 then groups byte j of every value
    together (all most significant bytes first), as fits_shuffle_Nbytes does."""
    cdef Py_ssize_t i
    cdef int j
    if not shuffle or width == 1:
        fitsbind_swap(native, out, n, width)
        return
    for i in range(n):
        for j in range(width):
            out[j * n + i] = native[i * width + (width - 1 - j if _LITTLE else j)]


cdef void _from_stored(const uint8_t *stored, uint8_t *native, Py_ssize_t n, int width,
                       bint shuffled) noexcept nogil:
    """Inverse of _to_stored; native must not overlap stored when shuffled."""
    cdef Py_ssize_t i
    cdef int j
    if not shuffled or width == 1:
        fitsbind_swap(stored, native, n, width)
        return
    for i in range(n):
        for j in range(width):
            native[i * width + (width - 1 - j if _LITTLE else j)] = stored[j * n + i]


# ---------------------------------------------------------------------------------------------
# Failures reported from nogil code

cdef struct Failure:
    int kind                    # Fail
    int64_t tile
    char message[240]


cdef inline int _fail(Failure *f, int kind, int64_t tile, const char *message) noexcept nogil:
    f.kind = kind
    f.tile = tile
    snprintf(f.message, sizeof(f.message), "%s", message)
    return -1


cdef inline uint8_t *_failed(Failure *f, int kind, int64_t tile,
                             const char *message) noexcept nogil:
    _fail(f, kind, tile, message)
    return NULL


cdef object _raise_failure(Failure *f, str what):
    """The exception for a failed tile (None when nothing failed)."""
    if f.kind == FAIL_NONE:
        return None
    text = f"{what} tile {f.tile}: {f.message.decode('ascii', 'replace')}"
    if f.kind == FAIL_MEMORY:
        return MemoryError(text)
    if f.kind == FAIL_VALUE:
        return ValueError(text)
    status = DATA_DECOMPRESSION_ERR if what == "decoding" else DATA_COMPRESSION_ERR
    return FITSError(text, status=status)


# ---------------------------------------------------------------------------------------------
# Decoding

cdef struct DecodeJob:
    Params p
    Geometry g
    Py_ssize_t corner_shift[MAXDIM]     # out[0, ...] is at image coordinates origin
    Py_ssize_t ostride[MAXDIM]          # out's strides, in items
    char *out
    const uint8_t *heap
    const int64_t *tiles
    const int64_t *nbytes
    const int64_t *offsets
    const double *zscale
    const double *zzero
    const int64_t *zblank
    const int64_t *gz_nbytes
    const int64_t *gz_offsets
    const int64_t *raw_nbytes
    const int64_t *raw_offsets


cdef struct DecodeScratch:
    uint8_t *cbuf               # a padded copy of the compressed bytes
    Py_ssize_t ccap
    uint8_t *a                  # two buffers of 8 bytes per tile pixel, used in turn
    uint8_t *b
    uint8_t *hbuf               # HCOMPRESS stream walk
    Py_ssize_t hcap
    z_stream z
    bint z_ready


cdef int _ensure(uint8_t **buf, Py_ssize_t *cap, Py_ssize_t need) noexcept nogil:
    cdef uint8_t *grown
    if need <= cap[0]:
        return 0
    grown = <uint8_t *>realloc(buf[0], need)
    if grown == NULL:
        return -1
    buf[0] = grown
    cap[0] = need
    return 0


cdef int _stored_kind(const Params *p, int column, Py_ssize_t nbytes, Py_ssize_t npix,
                      int *kind) noexcept nogil:
    """Kind of the values a tile's bytes hold, from their size (how CFITSIO tells GZIP and
    uncompressed tiles apart); -1 when the size fits no kind the image can have."""
    cdef int width
    if nbytes % npix != 0:
        return -1
    width = <int>(nbytes // npix)
    if p.kind >= K_F32 and (column != COL_COMPRESSED or not p.quantize):
        if width == 4:
            kind[0] = K_F32
        elif width == 8:
            kind[0] = K_F64
        else:
            return -1
        return 0
    if width == 1:
        kind[0] = K_U8
    elif width == 2:
        kind[0] = K_I16
    elif width == 4:
        kind[0] = K_I32
    elif width == 8 and p.kind == K_I64:
        kind[0] = K_I64
    else:
        return -1
    return 0


cdef inline Py_ssize_t _scratch_unit(const Params *p) noexcept nogil:
    """Bytes per pixel of the widest values a tile of this image may decode to: 8 for
    floats (a tile may hold doubles), 64-bit integers and 64-bit HCOMPRESS, else 4 (CFITSIO
    takes 1, 2 or 4-byte values for any integer image)."""
    if p.kind >= K_F32 or p.kind == K_I64:
        return 8
    if p.algo == ALG_HCOMPRESS and not (p.zbitpix == 8 or p.zbitpix == 16):
        return 8
    return 4


cdef int _gunzip(DecodeScratch *s, const uint8_t *src, Py_ssize_t n, uint8_t *dst,
                 Py_ssize_t cap, Py_ssize_t *produced) noexcept nogil:
    """Inflate one gzip member into dst; -1 if it is corrupt, truncated or larger than cap."""
    cdef int rc
    if not s.z_ready:
        memset(&s.z, 0, sizeof(z_stream))
        if inflateInit2(&s.z, 15 + 16) != Z_OK:
            return -2
        s.z_ready = True
    elif inflateReset(&s.z) != Z_OK:
        return -1
    s.z.next_in = <uint8_t *>src
    s.z.avail_in = <unsigned int>n
    s.z.next_out = dst
    s.z.avail_out = <unsigned int>cap
    rc = inflate(&s.z, Z_FINISH)
    if rc != Z_STREAM_END:
        return -1
    produced[0] = cap - s.z.avail_out
    return 0


# Rice decoding: fitsbind_rice_decode (include/fitsbind_rice.h) gives the pixels CFITSIO's
# fits_rdecomp* give, about three times faster.


# HCOMPRESS streams are walked here before CFITSIO decodes them: fits_hdecompress takes no
# length, so it reads a truncated or corrupt stream past its end, and it trusts the image
# size the stream declares. The walk reads the stream as the decoder does (header, then per
# quadrant and bit plane a format nybble and either direct 4-pixel nybbles or a quadtree of
# Huffman codes, then an end nybble and one sign bit per non-zero pixel), so only streams
# the decoder accepts, of the tile's shape and entirely inside their bytes, reach it. (That
# also keeps the decoder from reporting errors through ffpmsg while it holds CFITSIO's
# mutex, which deadlocks unless the mutex was made recursive: see _cfitsio_lock.pxd.)

cdef struct BitReader:
    const uint8_t *data
    Py_ssize_t end              # bits available
    Py_ssize_t pos              # next bit


# values of the 4-bit codes 1000..1100 and the 5-bit codes 11010..11110
cdef int _HUFFMAN4[5]
cdef int _HUFFMAN5[5]
_HUFFMAN4[:] = [3, 5, 10, 12, 15]
_HUFFMAN5[:] = [6, 7, 9, 11, 13]


cdef inline int _bits(BitReader *r, int n) noexcept nogil:
    """The next n bits, most significant first; -1 past the end."""
    cdef int v = 0, k
    if r.pos + n > r.end:
        return -1
    for k in range(n):
        v = (v << 1) | ((r.data[r.pos >> 3] >> (7 - (r.pos & 7))) & 1)
        r.pos += 1
    return v


cdef int _huffman(BitReader *r) noexcept nogil:
    """One code of HCOMPRESS's fixed Huffman table (fits_hdecompress.c input_huffman)."""
    cdef int c = _bits(r, 3), bit
    if c < 0:
        return -1
    if c < 4:
        return 1 << c
    bit = _bits(r, 1)
    if bit < 0:
        return -1
    c = (c << 1) | bit
    if c < 13:
        return _HUFFMAN4[c - 8]
    bit = _bits(r, 1)
    if bit < 0:
        return -1
    c = (c << 1) | bit
    if c < 31:
        return _HUFFMAN5[c - 26]
    bit = _bits(r, 1)
    if bit < 0:
        return -1
    return 0 if ((c << 1) | bit) == 62 else 14


cdef void _expand_codes(uint8_t *codes, int nx, int ny) noexcept nogil:
    """4-bit codes of a ((nx+1)/2, (ny+1)/2) array to the bits of an (nx, ny) array, in
    place, as qtree_copy does (bit 3 to [2i, 2j], 2 to [2i, 2j+1], 1 to [2i+1, 2j], 0 to
    [2i+1, 2j+1], clipped at odd edges)."""
    cdef int nx2 = (nx + 1) // 2, ny2 = (ny + 1) // 2, i, j, v
    for i in range(nx2 - 1, -1, -1):
        for j in range(ny2 - 1, -1, -1):
            v = codes[i * ny2 + j]
            if 2 * i + 1 < nx and 2 * j + 1 < ny:
                codes[(2 * i + 1) * ny + 2 * j + 1] = v & 1
            if 2 * i + 1 < nx:
                codes[(2 * i + 1) * ny + 2 * j] = (v >> 1) & 1
            if 2 * j + 1 < ny:
                codes[2 * i * ny + 2 * j + 1] = (v >> 2) & 1
            codes[2 * i * ny + 2 * j] = (v >> 3) & 1


cdef int _scan_quadrant(BitReader *r, uint8_t *nonzero, Py_ssize_t stride, int nqx, int nqy,
                        int planes, uint8_t *codes) noexcept nogil:
    """Walk one quadrant's bit planes (qtree_decode), marking the pixels that get a bit."""
    cdef int nqmax = nqx if nqx > nqy else nqy
    cdef int log2n = <int>(log(<float>nqmax) / log(2.0) + 0.5)
    cdef int nqx2 = (nqx + 1) // 2, nqy2 = (nqy + 1) // 2
    cdef int plane, b, i, j, k, v, nx, ny, nfx, nfy, c
    if nqmax > (1 << log2n):
        log2n += 1
    for plane in range(planes):
        b = _bits(r, 4)
        if b == 0:
            for i in range(nqx2 * nqy2):
                v = _bits(r, 4)
                if v < 0:
                    return -1
                codes[i] = v
        elif b == 15:
            v = _huffman(r)
            if v < 0:
                return -1
            codes[0] = v
            nx = 1
            ny = 1
            nfx = nqx
            nfy = nqy
            c = 1 << log2n
            for k in range(1, log2n):
                c >>= 1
                nx <<= 1
                ny <<= 1
                if nfx <= c:
                    nx -= 1
                else:
                    nfx -= c
                if nfy <= c:
                    ny -= 1
                else:
                    nfy -= c
                _expand_codes(codes, nx, ny)
                for i in range(nx * ny - 1, -1, -1):
                    if codes[i]:
                        v = _huffman(r)
                        if v < 0:
                            return -1
                        codes[i] = v
        else:
            return -1
        for i in range(nqx2):
            for j in range(nqy2):
                v = codes[i * nqy2 + j]
                if v & 8:
                    nonzero[2 * i * stride + 2 * j] = 1
                if v & 4 and 2 * j + 1 < nqy:
                    nonzero[2 * i * stride + 2 * j + 1] = 1
                if v & 2 and 2 * i + 1 < nqx:
                    nonzero[(2 * i + 1) * stride + 2 * j] = 1
                if v & 1 and 2 * i + 1 < nqx and 2 * j + 1 < nqy:
                    nonzero[(2 * i + 1) * stride + 2 * j + 1] = 1
    return 0


cdef int _scan_hcompress(const uint8_t *src, Py_ssize_t n, long rowlen, long nrows,
                         int maxplanes, uint8_t *work) noexcept nogil:
    """0 if CFITSIO will decode this stream into a tile of nrows x rowlen reading only its
    n bytes; ``work`` holds nrows * rowlen + (nrows + 3) * (rowlen + 3) / 4 bytes."""
    cdef BitReader r
    cdef int hx, hy, q, nx2, ny2
    cdef int row0[4]
    cdef int col0[4]
    cdef int rows[4]
    cdef int cols[4]
    cdef Py_ssize_t nel, i, signs = 0
    cdef uint8_t *codes
    if n < 25 or src[0] != 0xDD or src[1] != 0x99:
        return -1
    hx = (src[2] << 24) | (src[3] << 16) | (src[4] << 8) | src[5]
    hy = (src[6] << 24) | (src[7] << 16) | (src[8] << 8) | src[9]
    if hx != nrows or hy != rowlen or hx < 2 or hy < 2:
        return -1
    nel = <Py_ssize_t>hx * hy
    nx2 = (hx + 1) // 2
    ny2 = (hy + 1) // 2
    row0[:] = [0, 0, nx2, nx2]
    col0[:] = [0, ny2, 0, ny2]
    rows[:] = [nx2, nx2, hx // 2, hx // 2]
    cols[:] = [ny2, hy // 2, ny2, hy // 2]
    memset(work, 0, nel)
    codes = work + nel
    r.data = src + 25
    r.end = (n - 25) * 8
    r.pos = 0
    for q in range(4):
        if src[22 + (q + 1) // 2] > maxplanes:
            return -1
        if _scan_quadrant(&r, work + row0[q] * hy + col0[q], hy, rows[q], cols[q],
                          src[22 + (q + 1) // 2], codes) < 0:
            return -1
    if _bits(&r, 4) != 0:
        return -1
    for i in range(nel):
        signs += work[i]
    # the sign bits start at the next whole byte
    if (r.pos + 7) // 8 + (signs + 7) // 8 > n - 25:
        return -1
    return 0


cdef int _plio_check(const int16_t *ll, Py_ssize_t n) noexcept nogil:
    """The line-list length and first word pl_l2pi will use must lie inside the list."""
    cdef int length, first
    if n < 5:
        return -1
    if ll[2] > 0:
        length = ll[2]
        first = 4
    else:
        length = (<int>ll[4] << 15) + ll[3]
        first = ll[1] + 1
    if length <= 0 or length > n or first < 1:
        return -1
    return 0


cdef int _int_range(int okind, int64_t *lo, int64_t *hi) noexcept nogil:
    if okind == K_U8:
        lo[0] = 0
        hi[0] = 255
    elif okind == K_I16:
        lo[0] = -32768
        hi[0] = 32767
    elif okind == K_I32:
        lo[0] = INT32_MIN
        hi[0] = INT32_MAX
    else:
        lo[0] = INT64_MIN
        hi[0] = INT64_MAX
    return 0


cdef inline int64_t _load_int(const uint8_t *src, int kind, Py_ssize_t i) noexcept nogil:
    if kind == K_U8:
        return src[i]
    if kind == K_I16:
        return (<const int16_t *>src)[i]
    if kind == K_I32:
        return (<const int32_t *>src)[i]
    return (<const int64_t *>src)[i]


cdef inline void _store_int(uint8_t *dst, int kind, Py_ssize_t i, int64_t v) noexcept nogil:
    if kind == K_U8:
        dst[i] = <uint8_t>v
    elif kind == K_I16:
        (<int16_t *>dst)[i] = <int16_t>v
    elif kind == K_I32:
        (<int32_t *>dst)[i] = <int32_t>v
    else:
        (<int64_t *>dst)[i] = v


cdef int _convert_ints(const uint8_t *src, int skind, uint8_t *dst, int okind, Py_ssize_t n,
                       int64_t offset, bint clip) noexcept nogil:
    """Stored integers of one width to the image's; out of range is an error, or clipped
    (HCOMPRESS: a lossy scale may overshoot, and CFITSIO clips those)."""
    cdef int64_t lo, hi, v
    cdef Py_ssize_t i
    _int_range(okind, &lo, &hi)
    for i in range(n):
        v = _load_int(src, skind, i) - offset
        if v < lo or v > hi:
            if not clip:
                return -1
            v = lo if v < lo else hi
        _store_int(dst, okind, i, v)
    return 0


cdef void _convert_floats(const uint8_t *src, int skind, uint8_t *dst, int okind,
                          Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    if skind == K_F32:
        for i in range(n):
            (<double *>dst)[i] = (<const float *>src)[i]
    else:
        for i in range(n):
            (<float *>dst)[i] = <float>(<const double *>src)[i]


cdef inline void _next_dither(int *iseed, int *nextrand) noexcept nogil:
    """Step the dither sequence on by one pixel: after N_RANDOM values, the next seed's start
    (CFITSIO's order, which quantizing and unquantizing must both follow)."""
    nextrand[0] += 1
    if nextrand[0] == N_RANDOM:
        iseed[0] += 1
        if iseed[0] == N_RANDOM:
            iseed[0] = 0
        nextrand[0] = _RAND_START[iseed[0]]


cdef void _dequantize(const Params *p, const int32_t *q, Py_ssize_t n, bint is_double,
                      void *dst, double scale, double zero, bint nullcheck, int32_t tnull,
                      long long row) noexcept nogil:
    """Quantized integers to floats, as CFITSIO's unquantize_i4r4/_i4r8 (dithered) and
    fffi4r4/fffi4r8 (NO_DITHER) compute them. ``row`` is the tile's 1-based row."""
    cdef Py_ssize_t i
    cdef int iseed = 0, nextrand = 0
    cdef bint dither = p.qmethod == SUBTRACTIVE_DITHER_1 or p.qmethod == SUBTRACTIVE_DITHER_2
    cdef bint keep_zero = p.qmethod == SUBTRACTIVE_DITHER_2
    cdef float *f = <float *>dst
    cdef double *d = <double *>dst
    cdef double value
    cdef int32_t v
    if dither:
        iseed = <int>((row + p.zdither0 - 2) % N_RANDOM)
        nextrand = _RAND_START[iseed]
    for i in range(n):
        v = q[i]
        if nullcheck and v == tnull:
            if is_double:
                d[i] = _DNAN
            else:
                f[i] = _FNAN
        elif dither:
            if keep_zero and v == ZERO_VALUE:
                value = 0.0
            else:
                value = (<double>v - <double>_RAND[nextrand] + 0.5) * scale + zero
            if is_double:
                d[i] = value
            else:
                f[i] = <float>value
        else:
            value = v * scale + zero
            if is_double:
                d[i] = value
            else:
                f[i] = <float>value
        if dither:
            _next_dither(&iseed, &nextrand)


cdef uint8_t *_decode_pixels(DecodeJob *j, DecodeScratch *s, Py_ssize_t i, Failure *f,
                            Py_ssize_t *start, Py_ssize_t *size) noexcept nogil:
    """Decode entry i: its clipped pixels in C order and the image's type, in one of the
    scratch buffers; start and size receive the tile's box. NULL on failure (f says why)."""
    cdef const Params *p = &j.p
    cdef int64_t t = j.tiles[i]
    cdef Py_ssize_t npix, n, off, m, pad = 0, produced = 0
    cdef long rowlen, nrows
    cdef int column, skind, okind = p.kind, rc, k, hx, hy, hscale, status = 0
    cdef bint wide
    cdef int32_t tnull = 0
    cdef uint8_t *cur
    cdef uint8_t *spare
    cdef uint8_t *tmp
    cdef bint nullcheck

    npix = _tile_box(&j.g, t, start, size)

    # which column holds the tile: COMPRESSED_DATA, else the GZIP / uncompressed fallbacks
    n = j.nbytes[i]
    off = j.offsets[i]
    column = COL_COMPRESSED
    if n == 0 and j.gz_nbytes != NULL and j.gz_nbytes[i] > 0:
        column = COL_GZIP
        n = j.gz_nbytes[i]
        off = j.gz_offsets[i]
    elif n == 0 and j.raw_nbytes != NULL and j.raw_nbytes[i] > 0:
        column = COL_RAW
        n = j.raw_nbytes[i]
        off = j.raw_offsets[i]
    elif n == 0:
        return _failed(f, FAIL_DATA, t, "the tile has no compressed data")

    cur = s.a
    spare = s.b
    if column == COL_RAW or (column == COL_COMPRESSED and p.algo == ALG_NOCOMPRESS):
        if _stored_kind(p, COL_RAW, n, npix, &skind) < 0:
            return _failed(f, FAIL_DATA, t, "the uncompressed tile has the wrong size")
        fitsbind_swap(j.heap + off, cur, npix, _KIND_SIZE[skind])
    elif column == COL_GZIP or p.algo == ALG_GZIP1 or p.algo == ALG_GZIP2:
        rc = _gunzip(s, j.heap + off, n, spare, npix * _scratch_unit(p), &produced)
        if rc == -2:
            return _failed(f, FAIL_MEMORY, t, "zlib could not start")
        if rc < 0:
            return _failed(f, FAIL_DATA, t, "the gzip stream is corrupt or truncated, or "
                          "holds more bytes than the tile")
        if _stored_kind(p, column, produced, npix, &skind) < 0:
            return _failed(f, FAIL_DATA, t, "the gzip stream decompresses to the wrong size "
                          "for the tile")
        _from_stored(spare, cur, npix, _KIND_SIZE[skind],
                     column == COL_COMPRESSED and p.algo == ALG_GZIP2)
    elif p.algo == ALG_RICE:
        # the decoder reads whole words: give it a padded copy
        pad = 8 * <Py_ssize_t>p.blocksize + 16
        if _ensure(&s.cbuf, &s.ccap, n + pad) < 0:
            return _failed(f, FAIL_MEMORY, t, "no memory for the compressed bytes")
        memcpy(s.cbuf, j.heap + off, n)
        memset(s.cbuf + n, 0xFF, pad)
        if fitsbind_rice_decode(s.cbuf, n, cur, npix, p.blocksize, p.bytepix) < 0:
            return _failed(f, FAIL_DATA, t, "the Rice stream is corrupt or truncated")
        skind = K_U8 if p.bytepix == 1 else (K_I16 if p.bytepix == 2 else K_I32)
    elif p.algo == ALG_HCOMPRESS:
        _tile_rows(size, j.g.ndim, &rowlen, &nrows)
        wide = not (p.zbitpix == 8 or p.zbitpix == 16)
        if _ensure(&s.hbuf, &s.hcap, npix + (nrows + 3) * (rowlen + 3) // 4) < 0 \
                or _ensure(&s.cbuf, &s.ccap, n + 64) < 0:
            return _failed(f, FAIL_MEMORY, t, "no memory for the compressed bytes")
        if _scan_hcompress(j.heap + off, n, rowlen, nrows, 64 if wide else 32, s.hbuf) < 0:
            return _failed(f, FAIL_DATA, t, "the HCOMPRESS stream is corrupt, truncated or "
                          "not of the tile's shape")
        # the walk proved the decoder stays inside n bytes; the zeroed margin is defence in
        # depth against a CFITSIO release that reads its input differently
        memcpy(s.cbuf, j.heap + off, n)
        memset(s.cbuf + n, 0, 64)
        _hlock()
        if wide:
            rc = fits_hdecompress64(s.cbuf, p.smooth, <LONGLONG *>cur, &hx, &hy, &hscale,
                                    &status)
        else:
            rc = fits_hdecompress(s.cbuf, p.smooth, <int *>cur, &hx, &hy, &hscale, &status)
        _hunlock()
        if rc != 0:
            return _failed(f, FAIL_DATA, t, "the HCOMPRESS stream is corrupt")
        skind = K_I32
    else:
        # PLIO: 16-bit big-endian words, plus a zero word pl_l2pi may read past the list end
        if n % 2 != 0:
            return _failed(f, FAIL_DATA, t, "a PLIO line list has an odd number of bytes")
        if _ensure(&s.cbuf, &s.ccap, n + 2) < 0:
            return _failed(f, FAIL_MEMORY, t, "no memory for the compressed bytes")
        fitsbind_swap(j.heap + off, s.cbuf, n // 2, 2)
        s.cbuf[n] = 0
        s.cbuf[n + 1] = 0
        if _plio_check(<int16_t *>s.cbuf, n // 2) < 0 \
                or pl_l2pi(<short *>s.cbuf, 1, <int *>cur, <int>npix) != npix:
            return _failed(f, FAIL_DATA, t, "the PLIO line list is corrupt")
        skind = K_I32

    # stored values (in cur) to the image's type
    if okind >= K_F32 and skind < K_F32:
        # quantized floats: CFITSIO compares the null value cast to the stored width
        nullcheck = False
        if j.zblank != NULL:
            nullcheck = True
            tnull = <int32_t>j.zblank[i]
        elif p.has_zblank:
            nullcheck = True
            tnull = p.zblank
        if skind == K_U8:
            tnull = <uint8_t>tnull
            for m in range(npix):
                (<int32_t *>spare)[m] = cur[m]
            tmp = cur
            cur = spare
            spare = tmp
        elif skind == K_I16:
            tnull = <int16_t>tnull
            for m in range(npix):
                (<int32_t *>spare)[m] = (<int16_t *>cur)[m]
            tmp = cur
            cur = spare
            spare = tmp
        _dequantize(p, <int32_t *>cur, npix, okind == K_F64, spare, j.zscale[i], j.zzero[i],
                    nullcheck, tnull, t + 1)
        cur = spare
    elif okind >= K_F32 and skind != okind:
        _convert_floats(cur, skind, spare, okind, npix)
        cur = spare
    elif skind != okind or p.plio_offset != 0:
        if _convert_ints(cur, skind, spare, okind, npix, p.plio_offset,
                         p.algo == ALG_HCOMPRESS) < 0:
            return _failed(f, FAIL_DATA, t, "decoded values do not fit the image's type")
        cur = spare
    return cur


cdef int _decode_one(DecodeJob *j, DecodeScratch *s, Py_ssize_t i,
                     Failure *f) noexcept nogil:
    """Decode entry i into j.out."""
    cdef Py_ssize_t start[MAXDIM]
    cdef Py_ssize_t size[MAXDIM]
    cdef Py_ssize_t corner[MAXDIM]
    cdef int k
    cdef uint8_t *cur = _decode_pixels(j, s, i, f, start, size)
    if cur == NULL:
        return -1
    for k in range(j.g.ndim):
        corner[k] = start[k] - j.corner_shift[k]
    _copy_box(j.out, j.ostride, corner, size, j.g.ndim, <char *>cur, _KIND_SIZE[j.p.kind], True)
    return 0


cdef int _tile_buffers(DecodeScratch *s, Py_ssize_t nbytes) noexcept nogil:
    """Give s its two tile buffers of ``nbytes`` (kept if it has them); -1 without memory."""
    if s.a == NULL:
        s.a = <uint8_t *>malloc(nbytes + 16)
    if s.b == NULL:
        s.b = <uint8_t *>malloc(nbytes + 16)
    return -1 if s.a == NULL or s.b == NULL else 0


cdef void _free_scratch(DecodeScratch *s) noexcept nogil:
    if s.z_ready:
        inflateEnd(&s.z)
    free(s.a)
    free(s.b)
    free(s.cbuf)
    free(s.hbuf)
    memset(s, 0, sizeof(DecodeScratch))


cdef class _Decoder:
    """One decode_tiles call: the arrays it reads and writes, kept alive while workers run."""

    cdef DecodeJob job
    cdef Py_ssize_t maxpix
    cdef Py_ssize_t unit        # scratch bytes per pixel: the widest value a tile may hold
    cdef list keep

    def run(self, Py_ssize_t lo, Py_ssize_t hi):
        """Decode entries lo..hi-1 in this thread with the GIL released; returns the
        exception for the first failing tile, or None."""
        cdef DecodeScratch s
        cdef Failure f
        cdef Py_ssize_t i
        f.kind = FAIL_NONE
        memset(&s, 0, sizeof(s))
        with nogil:
            if _tile_buffers(&s, self.maxpix * self.unit) < 0:
                _fail(&f, FAIL_MEMORY, self.job.tiles[lo], "no memory for tile buffers")
            else:
                for i in range(lo, hi):
                    if _decode_one(&self.job, &s, i, &f) < 0:
                        break
            _free_scratch(&s)
        return _raise_failure(&f, "decoding")


# ---------------------------------------------------------------------------------------------
# Encoding

cdef struct EncodeJob:
    Params p
    Geometry g
    Py_ssize_t istride[MAXDIM]
    char *image
    const int64_t *tiles
    int64_t first_row
    int64_t *nbytes             # results, one per tile
    int64_t *offsets            # into the worker's own buffer until the call merges them
    int8_t *column
    double *zscale
    double *zzero
    uint8_t *nulls


cdef struct EncodeScratch:
    uint8_t *pix                # the tile's pixels
    uint8_t *work               # integers for the codec (quantized, widened)
    uint8_t *tmp                # big-endian bytes, 64-bit HCOMPRESS input
    uint8_t *out                # this worker's compressed bytes, growing
    Py_ssize_t used
    Py_ssize_t cap
    z_stream z
    bint z_ready


cdef int _reserve(EncodeScratch *s, Py_ssize_t n) noexcept nogil:
    """Room for n more output bytes."""
    cdef Py_ssize_t cap = s.cap
    if s.used + n <= cap:
        return 0
    while cap < s.used + n:
        cap = cap * 2 + 65536
    return _ensure(&s.out, &s.cap, cap)


cdef int _gzip(const Params *p, EncodeScratch *s, const uint8_t *src, Py_ssize_t n,
               Py_ssize_t *written) noexcept nogil:
    """One gzip member, as CFITSIO's compress2mem_from_mem makes it (deflate, 15-bit window,
    gzip wrapper, memory level 8, default strategy)."""
    cdef unsigned long bound
    if not s.z_ready:
        memset(&s.z, 0, sizeof(z_stream))
        if deflateInit2(&s.z, p.gzip_level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK:
            return -2
        s.z_ready = True
    elif deflateReset(&s.z) != Z_OK:
        return -1
    bound = deflateBound(&s.z, n)
    if _reserve(s, bound) < 0:
        return -2
    s.z.next_in = <uint8_t *>src
    s.z.avail_in = <unsigned int>n
    s.z.next_out = s.out + s.used
    s.z.avail_out = <unsigned int>bound
    if deflate(&s.z, Z_FINISH) != Z_STREAM_END:
        return -1
    written[0] = bound - s.z.avail_out
    return 0


cdef int _encode_ints(EncodeJob *j, EncodeScratch *s, const uint8_t *src, int kind,
                      Py_ssize_t npix, long rowlen, long nrows, bint nullcheck,
                      Py_ssize_t *written, Failure *f, int64_t t) noexcept nogil:
    """Compress integer pixels (the image's, or quantized floats in 32 bits)."""
    cdef const Params *p = &j.p
    cdef int width = _KIND_SIZE[kind], rc, status = 0, ihscale
    cdef Py_ssize_t k, cap
    cdef int32_t *ints
    cdef int64_t *wide
    cdef long hbytes
    cdef float hscale
    cdef double noise2 = 0, noise3 = 0, noise5 = 0
    cdef int32_t v

    if p.algo == ALG_RICE:
        if p.bytepix != width:
            return _fail(f, FAIL_VALUE, t, "CFITSIO's Rice coder writes the pixels' own "
                         "width only; bytepix must match ZBITPIX")
        cap = npix * width + npix // p.blocksize + 64
        if cap > INT32_MAX:
            cap = INT32_MAX
        if _reserve(s, cap) < 0:
            return _fail(f, FAIL_MEMORY, t, "no memory for the compressed bytes")
        if kind == K_U8:
            rc = fits_rcomp_byte(<signed char *>src, <int>npix, s.out + s.used, <int>cap,
                                 p.blocksize)
        elif kind == K_I16:
            rc = fits_rcomp_short(<short *>src, <int>npix, s.out + s.used, <int>cap,
                                  p.blocksize)
        else:
            rc = fits_rcomp(<int *>src, <int>npix, s.out + s.used, <int>cap, p.blocksize)
        if rc < 0:
            return _fail(f, FAIL_DATA, t, "the Rice coder failed")
        written[0] = rc
        return 0

    if p.algo == ALG_GZIP1 or p.algo == ALG_GZIP2:
        _to_stored(src, s.tmp, npix, width, p.algo == ALG_GZIP2)
        rc = _gzip(p, s, s.tmp, npix * width, written)
        if rc == -2:
            return _fail(f, FAIL_MEMORY, t, "no memory for zlib")
        if rc < 0:
            return _fail(f, FAIL_DATA, t, "zlib failed")
        return 0

    # HCOMPRESS and PLIO code 32-bit integers
    ints = <int32_t *>src
    if kind != K_I32:
        ints = <int32_t *>s.work
        for k in range(npix):
            ints[k] = <int32_t>_load_int(src, kind, k)

    if p.algo == ALG_PLIO:
        for k in range(npix):
            v = ints[k] + p.plio_offset
            if v < 0 or v > PLIO_MAX:
                return _fail(f, FAIL_VALUE, t, "PLIO codes only values from 0 to 2**24 - 1")
            ints[k] = v
        # pl_p2li writes at most 4 words a pixel (a two-word level change, a zero run and
        # a data run for an isolated pixel) after its 7-word header
        cap = (4 * npix + 64) * 2
        if _reserve(s, cap) < 0:
            return _fail(f, FAIL_MEMORY, t, "no memory for the compressed bytes")
        rc = pl_p2li(<int *>ints, 1, <short *>(s.out + s.used), <int>npix)
        if rc <= 0:
            return _fail(f, FAIL_DATA, t, "the PLIO coder failed")
        fitsbind_swap(s.out + s.used, s.out + s.used, rc, 2)
        written[0] = 2 * rc
        return 0

    # HCOMPRESS: a positive scale is relative to the tile's noise, measured as CFITSIO does
    # (the smallest non-zero of its 2nd, 3rd and 5th order estimates); the null value it
    # excludes is its output handle's ZBLANK, which fpack never sets (0)
    hscale = p.hcomp_scale
    if hscale > 0:
        fits_img_stats_int(<int *>ints, rowlen, nrows, nullcheck, 0, NULL, NULL, NULL, NULL,
                           NULL, NULL, &noise2, &noise3, &noise5, &status)
        if noise2 != 0.0 and noise2 < noise3:
            noise3 = noise2
        if noise5 != 0.0 and noise5 < noise3:
            noise3 = noise5
        hscale = <float>(hscale * noise3)
    elif hscale < 0:
        hscale = hscale * -1.0
    ihscale = <int>(hscale + 0.5)
    # at most one bit per pixel for each of up to 64 bit planes, plus the sign bits; the
    # coder also writes one byte past the limit it is given
    cap = npix * 9 + 1024
    if _reserve(s, cap) < 0:
        return _fail(f, FAIL_MEMORY, t, "no memory for the compressed bytes")
    hbytes = cap - 16
    if p.zbitpix == 8 or p.zbitpix == 16:
        _hlock()
        fits_hcompress(<int *>ints, rowlen, nrows, ihscale, <char *>(s.out + s.used), &hbytes,
                       &status)
        _hunlock()
    else:
        wide = <int64_t *>s.tmp
        for k in range(npix):
            wide[k] = ints[k]
        _hlock()
        fits_hcompress64(<LONGLONG *>wide, rowlen, nrows, ihscale, <char *>(s.out + s.used),
                         &hbytes, &status)
        _hunlock()
    if status != 0:
        return _fail(f, FAIL_DATA, t, "the HCOMPRESS coder failed")
    written[0] = hbytes
    return 0


cdef int _prepare_floats(uint8_t *pix, int kind, Py_ssize_t npix) noexcept nogil:
    """Make a float tile what fpack hands the quantizer: a value whose exponent bits are all
    set (NaN, infinity) becomes CFITSIO's null flag value, one whose exponent bits are all
    clear (zero, subnormal) becomes +0. Returns whether the tile has nulls."""
    cdef Py_ssize_t i
    cdef uint32_t b4
    cdef uint64_t b8
    cdef bint nulls = False
    cdef float *f = <float *>pix
    cdef double *d = <double *>pix
    if kind == K_F32:
        for i in range(npix):
            memcpy(&b4, &f[i], 4)
            b4 &= 0x7F800000u
            if b4 == 0x7F800000u:
                f[i] = FLOATNULLVALUE
                nulls = True
            elif b4 == 0:
                f[i] = 0.0
    else:
        for i in range(npix):
            memcpy(&b8, &d[i], 8)
            b8 &= 0x7FF0000000000000u
            if b8 == 0x7FF0000000000000u:
                d[i] = DOUBLENULLVALUE
                nulls = True
            elif b8 == 0:
                d[i] = 0.0
    return nulls


cdef int _encode_one(EncodeJob *j, EncodeScratch *s, Py_ssize_t i, Failure *f) noexcept nogil:
    cdef const Params *p = &j.p
    cdef int64_t t = j.tiles[i]
    cdef Py_ssize_t start[MAXDIM]
    cdef Py_ssize_t size[MAXDIM]
    cdef Py_ssize_t npix, written = 0, k
    cdef long rowlen, nrows, irow = 0
    cdef int kind = p.kind, width = _KIND_SIZE[p.kind], flag, rc, imin, imax
    cdef double bscale = 0.0, bzero = 0.0
    cdef bint nulls = False

    npix = _tile_box(&j.g, t, start, size)
    _tile_rows(size, j.g.ndim, &rowlen, &nrows)
    if p.algo == ALG_HCOMPRESS and (rowlen < 4 or nrows < 4):
        return _fail(f, FAIL_VALUE, t, "HCOMPRESS needs tiles of at least 4 x 4 pixels; "
                     "choose a tile shape whose edge tiles keep 4 pixels on both axes")
    _copy_box(j.image, j.istride, start, size, j.g.ndim, <char *>s.pix, width, False)
    j.column[i] = COL_COMPRESSED

    if p.algo == ALG_NOCOMPRESS:
        if _reserve(s, npix * width) < 0:
            return _fail(f, FAIL_MEMORY, t, "no memory for the tile's bytes")
        fitsbind_swap(s.pix, s.out + s.used, npix, width)
        written = npix * width
        j.column[i] = COL_RAW
    elif kind < K_F32:
        if _encode_ints(j, s, s.pix, kind, npix, rowlen, nrows, False, &written, f, t) < 0:
            return -1
    elif not p.quantize:
        _to_stored(s.pix, s.tmp, npix, width, p.algo == ALG_GZIP2)
        rc = _gzip(p, s, s.tmp, npix * width, &written)
        if rc < 0:
            return _fail(f, FAIL_MEMORY if rc == -2 else FAIL_DATA, t, "zlib failed")
    else:
        nulls = _prepare_floats(s.pix, kind, npix)
        if p.qmethod != NO_DITHER:
            irow = <long>(j.first_row + t + 1 + p.zdither0 - 1)
        if kind == K_F32:
            flag = fits_quantize_float(irow, <float *>s.pix, rowlen, nrows, nulls,
                                       FLOATNULLVALUE, p.qlevel, p.qmethod, <int *>s.work,
                                       &bscale, &bzero, &imin, &imax)
        else:
            flag = fits_quantize_double(irow, <double *>s.pix, rowlen, nrows, nulls,
                                        DOUBLENULLVALUE, p.qlevel, p.qmethod, <int *>s.work,
                                        &bscale, &bzero, &imin, &imax)
        if flag > 1:
            return _fail(f, FAIL_MEMORY, t, "CFITSIO's quantizer ran out of memory")
        if flag == 1:
            if _encode_ints(j, s, s.work, K_I32, npix, rowlen, nrows, nulls, &written, f,
                            t) < 0:
                return -1
            j.zscale[i] = bscale
            j.zzero[i] = bzero
        else:
            # not quantizable (constant, too few pixels, or too wide a range): CFITSIO
            # gzips the float values instead, nulls as NaNs with every bit set
            if nulls:
                if kind == K_F32:
                    for k in range(npix):
                        if (<float *>s.pix)[k] == FLOATNULLVALUE:
                            (<float *>s.pix)[k] = _FNAN
                else:
                    for k in range(npix):
                        if (<double *>s.pix)[k] == DOUBLENULLVALUE:
                            (<double *>s.pix)[k] = _DNAN
            fitsbind_swap(s.pix, s.tmp, npix, width)
            rc = _gzip(p, s, s.tmp, npix * width, &written)
            if rc < 0:
                return _fail(f, FAIL_MEMORY if rc == -2 else FAIL_DATA, t, "zlib failed")
            j.column[i] = COL_GZIP
            j.zscale[i] = 0.0
            j.zzero[i] = 0.0
        j.nulls[i] = nulls
    j.offsets[i] = s.used
    j.nbytes[i] = written
    s.used += written
    return 0


cdef class _Encoder:
    """One encode_tiles call: its arrays, and each worker's output buffer until merged."""

    cdef EncodeJob job
    cdef Py_ssize_t maxpix
    cdef Py_ssize_t itemsize
    cdef Py_ssize_t tmp_unit
    cdef list keep
    cdef list chunks            # (lo, hi, address of the worker's bytes, their length)

    def __dealloc__(self):
        if self.chunks is not None:
            for chunk in self.chunks:
                free(<void *><size_t>chunk[2])

    def run(self, Py_ssize_t lo, Py_ssize_t hi):
        """Encode entries lo..hi-1 in this thread with the GIL released; returns the
        exception for the first failing tile, or None."""
        cdef EncodeScratch s
        cdef Failure f
        cdef Py_ssize_t i
        f.kind = FAIL_NONE
        memset(&s, 0, sizeof(s))
        with nogil:
            # pixels; 32-bit integers for the codecs; big-endian bytes, or the 64-bit
            # integers HCOMPRESS of 32-bit values takes
            s.pix = <uint8_t *>malloc(self.maxpix * self.itemsize + 16)
            s.work = <uint8_t *>malloc(self.maxpix * 4 + 16)
            s.tmp = <uint8_t *>malloc(self.maxpix * self.tmp_unit + 16)
            if s.pix == NULL or s.work == NULL or s.tmp == NULL or _reserve(&s, 1 << 20) < 0:
                _fail(&f, FAIL_MEMORY, self.job.tiles[lo], "no memory for tile buffers")
            else:
                for i in range(lo, hi):
                    if _encode_one(&self.job, &s, i, &f) < 0:
                        break
            if s.z_ready:
                deflateEnd(&s.z)
            free(s.pix)
            free(s.work)
            free(s.tmp)
        self.chunks.append((lo, hi, <size_t>s.out, s.used))
        return _raise_failure(&f, "encoding")


# ---------------------------------------------------------------------------------------------
# Worker threads

cdef object _run(object job, Py_ssize_t n, int threads):
    """Split entries 0..n-1 into contiguous chunks, run them (the calling thread takes the
    first), wait for all, and raise the first failure in tile-list order."""
    if threads < 0:
        raise FITSValueError(f"threads must be 0 (one per CPU) or more, not {threads}")
    if threads == 0:
        threads = os.cpu_count() or 1
    threads = max(1, min(threads, n))
    bounds = [n * k // threads for k in range(threads + 1)]
    futures = []
    try:
        if threads > 1:
            pool = executor("tiles")
            futures = [pool.submit(job.run, bounds[k], bounds[k + 1])
                       for k in range(1, threads)]
        failures = [job.run(bounds[0], bounds[1])]
    finally:
        wait(futures)
    failures += [future.result() for future in futures]
    for failure in failures:
        if failure is not None:
            raise failure


# ---------------------------------------------------------------------------------------------
# Argument checks

cdef cnp.ndarray _index_array(object values, str name, Py_ssize_t n):
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        raise FITSValueError(f"{name} must be an integer array, not {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr.ndim != 1 or (n >= 0 and arr.shape[0] != n):
        raise FITSValueError(f"{name} must be 1-D with one entry per tile ({n}), not shape "
                         f"{arr.shape}")
    return arr


cdef cnp.ndarray _float_array(object values, str name, Py_ssize_t n):
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise FITSValueError(f"{name} must be 1-D with one entry per tile ({n}), not shape "
                         f"{arr.shape}")
    return arr


cdef void _check_hcompress_tile(const Geometry *g) except *:
    """CFITSIO's HCOMPRESS rule: the tile has exactly two axes longer than 1, each at least
    4 pixels long."""
    cdef int k, long_axes = 0
    for k in range(g.ndim):
        if g.tile[k] > 1:
            long_axes += 1
            if g.tile[k] < 4:
                raise FITSValueError(f"HCOMPRESS tiles must be at least 4 pixels along each of "
                                 f"their two axes, not {_shape_of(g.tile, g.ndim)}")
    if long_axes != 2:
        raise FITSValueError(f"HCOMPRESS tiles must have exactly two axes longer than 1, not "
                         f"{_shape_of(g.tile, g.ndim)}")


cdef tuple _shape_of(const Py_ssize_t *values, int ndim):
    return tuple([values[k] for k in range(ndim)])


cdef void _check_tiles(const int64_t *tiles, Py_ssize_t n, Py_ssize_t ntiles) except *:
    cdef Py_ssize_t i
    for i in range(n):
        if tiles[i] < 0 or tiles[i] >= ntiles:
            raise FITSValueError(f"tile number {tiles[i]} is outside 0..{ntiles - 1}")


cdef void _check_extents(const int64_t *nbytes, const int64_t *offsets, Py_ssize_t n,
                         const int64_t *tiles, Py_ssize_t heaplen, str column) except *:
    cdef Py_ssize_t i
    for i in range(n):
        if nbytes[i] < 0 or offsets[i] < 0 or nbytes[i] > heaplen \
                or offsets[i] > heaplen - nbytes[i]:
            raise FITSError(f"decoding tile {tiles[i]}: its {column} descriptor ("
                            f"{nbytes[i]} bytes at heap offset {offsets[i]}) lies outside "
                            f"the heap of {heaplen} bytes", status=DATA_DECOMPRESSION_ERR)


# ---------------------------------------------------------------------------------------------
# Public entry points

def decode_tiles(Codec codec not None, shape, tile, tiles, heap, nbytes, offsets,
                 cnp.ndarray out not None, origin, *, zscale=None, zzero=None, zblank=None,
                 gzip_nbytes=None, gzip_offsets=None, raw_nbytes=None, raw_offsets=None,
                 int threads=0) -> None:
    """Decode tiles into ``out``.

    Args:
        codec: the compression setup.
        shape, tile: image and tile shape, numpy order.
        tiles: ``int64`` tile numbers to decode.
        heap: ``uint8`` array (or any bytes-like object) the descriptors point into.
        nbytes, offsets: per entry of ``tiles``, the COMPRESSED_DATA descriptor, in bytes.
        out: C-contiguous, writeable, ``codec.dtype``; covers every listed tile.
        origin: image coordinates of ``out[0, 0, ...]``.
        zscale, zzero: ``float64`` per entry (quantized floats).
        zblank: ``int64`` per entry (a ZBLANK column), else ``codec.zblank``.
        gzip_nbytes, gzip_offsets: the GZIP_COMPRESSED_DATA descriptors, if the column exists.
        raw_nbytes, raw_offsets: the UNCOMPRESSED_DATA descriptors, if the column exists.
        threads: worker threads; 0: one per CPU; 1: the calling thread only.

    A tile whose COMPRESSED_DATA is empty is read from GZIP_COMPRESSED_DATA, else from
    UNCOMPRESSED_DATA. Each tile's clipped pixels land at (tile corner - origin). The GIL is
    released while tiles decode.

    Raises:
        ValueError: bad arguments (shapes, dtypes, tile numbers, missing ZSCALE/ZZERO).
        fitsbind.errors.FITSError: a descriptor outside the heap, or a tile whose bytes are
            corrupt, truncated or decode to the wrong size; the message names the tile.
    """
    cdef _Decoder dec = _Decoder()
    cdef DecodeJob *j = &dec.job
    cdef Py_ssize_t n, k, i
    cdef Py_ssize_t start[MAXDIM]
    cdef Py_ssize_t size[MAXDIM]
    cdef cnp.ndarray heap_arr, tiles_arr, nbytes_arr, offsets_arr, arr, count_arr, start_arr

    j.p = codec.p
    j.g = _geometry(shape, tile)
    if codec.p.algo == ALG_HCOMPRESS:
        _check_hcompress_tile(&j.g)
    tiles_arr = _index_array(tiles, "tiles", -1)
    n = tiles_arr.shape[0]
    nbytes_arr = _index_array(nbytes, "nbytes", n)
    offsets_arr = _index_array(offsets, "offsets", n)
    if isinstance(heap, np.ndarray):
        heap_arr = heap
    else:
        heap_arr = np.frombuffer(heap, dtype=np.uint8)
    if heap_arr.dtype != np.uint8 or heap_arr.ndim != 1 or not heap_arr.flags.c_contiguous:
        raise FITSValueError("heap must be a contiguous 1-D uint8 array")
    if out.dtype != codec.dtype:
        raise FITSValueError(f"out must have dtype {codec.dtype} (ZBITPIX {codec.zbitpix}), "
                         f"not {out.dtype}")
    if out.ndim != j.g.ndim or not out.flags.c_contiguous or not out.flags.writeable:
        raise FITSValueError(f"out must be a writeable C-contiguous array of {j.g.ndim} axes")
    origin = tuple(int(v) for v in origin)
    if len(origin) != j.g.ndim:
        raise FITSValueError(f"origin {origin} must have {j.g.ndim} coordinates")

    keep = [heap_arr, tiles_arr, nbytes_arr, offsets_arr, out]
    j.tiles = <const int64_t *>cnp.PyArray_DATA(tiles_arr)
    j.nbytes = <const int64_t *>cnp.PyArray_DATA(nbytes_arr)
    j.offsets = <const int64_t *>cnp.PyArray_DATA(offsets_arr)
    j.heap = <const uint8_t *>cnp.PyArray_DATA(heap_arr)
    j.out = <char *>cnp.PyArray_DATA(out)
    for k in range(j.g.ndim):
        j.corner_shift[k] = origin[k]
        j.ostride[k] = out.strides[k] // out.itemsize

    _check_tiles(j.tiles, n, j.g.ntiles)
    for i in range(n):
        _tile_box(&j.g, j.tiles[i], start, size)
        for k in range(j.g.ndim):
            if start[k] < origin[k] or start[k] + size[k] > origin[k] + out.shape[k]:
                raise FITSValueError(f"tile {j.tiles[i]} (image box from "
                                 f"{_shape_of(start, j.g.ndim)}, shape "
                                 f"{_shape_of(size, j.g.ndim)}) is not inside out (shape "
                                 f"{(<object>out).shape} at origin {origin})")
    _check_extents(j.nbytes, j.offsets, n, j.tiles, heap_arr.shape[0], "COMPRESSED_DATA")

    if codec.p.quantize:
        if zscale is None or zzero is None:
            raise FITSValueError("quantized floating-point tiles need zscale and zzero")
        arr = _float_array(zscale, "zscale", n)
        keep.append(arr)
        j.zscale = <const double *>cnp.PyArray_DATA(arr)
        arr = _float_array(zzero, "zzero", n)
        keep.append(arr)
        j.zzero = <const double *>cnp.PyArray_DATA(arr)
    if zblank is not None:
        arr = _index_array(zblank, "zblank", n)
        keep.append(arr)
        j.zblank = <const int64_t *>cnp.PyArray_DATA(arr)
    for column, counts, starts in (("GZIP_COMPRESSED_DATA", gzip_nbytes, gzip_offsets),
                                   ("UNCOMPRESSED_DATA", raw_nbytes, raw_offsets)):
        if (counts is None) != (starts is None):
            raise FITSValueError(f"give both or neither of the {column} byte counts and offsets")
        if counts is None:
            continue
        count_arr = _index_array(counts, f"{column} byte counts", n)
        start_arr = _index_array(starts, f"{column} offsets", n)
        _check_extents(<const int64_t *>cnp.PyArray_DATA(count_arr),
                       <const int64_t *>cnp.PyArray_DATA(start_arr), n, j.tiles,
                       heap_arr.shape[0], column)
        keep += [count_arr, start_arr]
        if column == "UNCOMPRESSED_DATA":
            j.raw_nbytes = <const int64_t *>cnp.PyArray_DATA(count_arr)
            j.raw_offsets = <const int64_t *>cnp.PyArray_DATA(start_arr)
        else:
            j.gz_nbytes = <const int64_t *>cnp.PyArray_DATA(count_arr)
            j.gz_offsets = <const int64_t *>cnp.PyArray_DATA(start_arr)

    dec.keep = keep
    dec.maxpix = 1
    for k in range(j.g.ndim):
        dec.maxpix *= j.g.tile[k]
    dec.unit = _scratch_unit(&j.p)
    if n:
        _run(dec, n, threads)


cdef class TileTable:
    """A compressed image's tiles, for reading boxes of pixels a few tiles at a time: the
    codec, the tile grid and every tile's descriptors and scalars, taken once.

    Args:
        codec: the compression setup.
        shape, tile: image and tile shape, numpy order.
        heap_size: bytes in the heap; a descriptor reaching outside it is an error.
        nbytes, offsets: every tile's COMPRESSED_DATA descriptor, in bytes (``int64``, one
            entry per tile at least; any strides).
        gzip_nbytes, gzip_offsets, raw_nbytes, raw_offsets: the GZIP_COMPRESSED_DATA and
            UNCOMPRESSED_DATA descriptors, if the table has those columns.
        zscale, zzero: quantized floats: ``float64`` per tile, or one number for every tile.
        zblank: ``int64`` per tile (a ZBLANK column), else ``codec.zblank``.

    The arrays are used as given, not copied: they must not change while the table is used.
    """

    cdef Params p
    cdef Geometry g
    cdef readonly Codec codec
    cdef readonly long long heap_size
    cdef const int64_t[:] nbytes
    cdef const int64_t[:] offsets
    cdef const int64_t[:] gz_nbytes
    cdef const int64_t[:] gz_offsets
    cdef const int64_t[:] raw_nbytes
    cdef const int64_t[:] raw_offsets
    cdef const double[:] zscale
    cdef const double[:] zzero
    cdef const int64_t[:] zblank
    cdef bint has_gzip, has_raw, has_zblank
    cdef Py_ssize_t maxpix
    cdef DecodeScratch scratch      # kept between calls; busy while a call uses it
    cdef bint busy

    def __dealloc__(self):
        _free_scratch(&self.scratch)

    def __init__(self, Codec codec not None, shape, tile, long long heap_size, nbytes,
                 offsets, *, gzip_nbytes=None, gzip_offsets=None, raw_nbytes=None,
                 raw_offsets=None, zscale=None, zzero=None, zblank=None):
        cdef int k
        self.codec = codec
        self.p = codec.p
        self.g = _geometry(shape, tile)
        if codec.p.algo == ALG_HCOMPRESS:
            _check_hcompress_tile(&self.g)
        if heap_size < 0:
            raise FITSValueError(f"heap_size must not be negative, not {heap_size}")
        self.heap_size = heap_size
        self.nbytes = self._column(nbytes, "nbytes")
        self.offsets = self._column(offsets, "offsets")
        for column, counts, starts in (("GZIP_COMPRESSED_DATA", gzip_nbytes, gzip_offsets),
                                       ("UNCOMPRESSED_DATA", raw_nbytes, raw_offsets)):
            if (counts is None) != (starts is None):
                raise FITSValueError(f"give both or neither of the {column} byte counts and "
                                 "offsets")
        if gzip_nbytes is not None:
            self.has_gzip = True
            self.gz_nbytes = self._column(gzip_nbytes, "gzip_nbytes")
            self.gz_offsets = self._column(gzip_offsets, "gzip_offsets")
        if raw_nbytes is not None:
            self.has_raw = True
            self.raw_nbytes = self._column(raw_nbytes, "raw_nbytes")
            self.raw_offsets = self._column(raw_offsets, "raw_offsets")
        if codec.p.quantize:
            if zscale is None or zzero is None:
                raise FITSValueError("quantized floating-point tiles need zscale and zzero")
            self.zscale = self._scalars(zscale, "zscale")
            self.zzero = self._scalars(zzero, "zzero")
        if zblank is not None:
            self.has_zblank = True
            self.zblank = self._column(zblank, "zblank")
        self.maxpix = 1
        for k in range(self.g.ndim):
            self.maxpix *= self.g.tile[k]

    cdef object _column(self, values, str name):
        arr = np.asarray(values)
        if arr.dtype.kind not in "iu" or arr.ndim != 1 or arr.shape[0] < self.g.ntiles:
            raise FITSValueError(f"{name} must be a 1-D integer array with an entry for each of "
                             f"the {self.g.ntiles} tiles")
        return arr.astype(np.int64, copy=False)

    cdef object _scalars(self, values, str name):
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim == 0:
            return np.full(self.g.ntiles, float(arr))
        if arr.ndim != 1 or arr.shape[0] < self.g.ntiles:
            raise FITSValueError(f"{name} must be a number or a 1-D array with an entry for each "
                             f"of the {self.g.ntiles} tiles")
        return arr

    def read_box(self, starts, steps, cnp.ndarray out not None, read, cache=None) -> None:
        """Fill ``out`` with a box of stored pixel values, decoding only the tiles it meets.

        The box: ``out[m0, m1, ...]`` is image pixel ``(starts[0] + m0 * steps[0], ...)``
        (steps >= 1). ``out`` is writeable, ``codec.dtype``, any strides. The tiles are
        taken from ``cache`` when it has them (an object with ``used``, ``capacity``,
        ``get(number)`` giving a decoded tile or None, and ``put(number, tile)``); the
        others are read with one call ``read(offsets, sizes, buffer)`` that must fill the
        ``uint8`` array ``buffer`` with the heap bytes of those spans, back to back, then
        decoded in the calling thread with the GIL released, and given to ``cache.put``
        when its capacity is not 0 (as arrays of the tile's clipped shape). Meant for boxes
        of a few tiles; :func:`decode_tiles` decodes many on every core.

        Raises:
            ValueError: bad arguments.
            fitsbind.errors.FITSError: a descriptor outside the heap, or a tile whose bytes
                are corrupt; the message names the tile.
        """
        cdef DecodeJob j
        cdef Box b
        cdef int ndim = self.g.ndim, k, itemsize, typenum = cnp.PyArray_TYPE(out)
        cdef Py_ssize_t n = 1, i, t, at = 0
        cdef Py_ssize_t first[MAXDIM]
        cdef Py_ssize_t span[MAXDIM]
        cdef Py_ssize_t idx[MAXDIM]
        cdef Py_ssize_t start[MAXDIM]
        cdef Py_ssize_t size[MAXDIM]
        cdef cnp.npy_intp dims[MAXDIM]
        cdef int64_t *ints
        cdef double *reals
        cdef const char **sources
        cdef char **kept
        cdef Py_ssize_t *strides
        cdef cnp.ndarray arr, heap
        cdef bint keep, lookup, own
        cdef void *block
        cdef DecodeScratch spare
        cdef DecodeScratch *scratch

        if not _has_kind(out, self.p.kind):
            raise FITSValueError(f"out must have dtype {self.codec.dtype} (ZBITPIX "
                             f"{self.p.zbitpix}), not {out.dtype}")
        if out.ndim != ndim or not cnp.PyArray_ISWRITEABLE(out) \
                or not cnp.PyArray_ISALIGNED(out):
            raise FITSValueError(f"out must be a writeable, aligned array of {ndim} axes")
        if len(starts) != ndim or len(steps) != ndim:
            raise FITSValueError(f"starts {starts} and steps {steps} must have {ndim} entries")
        itemsize = out.itemsize
        b.out = <char *>cnp.PyArray_DATA(out)
        for k in range(ndim):
            b.start[k] = starts[k]
            b.step[k] = steps[k]
            b.count[k] = out.shape[k]
            b.ostride[k] = out.strides[k]
            if b.step[k] < 1 or b.start[k] < 0 or (b.count[k] > 0 and b.start[k] + (
                    b.count[k] - 1) * b.step[k] >= self.g.shape[k]):
                raise FITSValueError(f"the box from {tuple(starts)} by {tuple(steps)}, shape "
                                 f"{(<object>out).shape}, is not inside the image "
                                 f"{_shape_of(self.g.shape, ndim)}")
            if b.count[k] == 0:
                return
        # the tiles meeting the box: a range of grid positions per axis
        for k in range(ndim):
            first[k] = b.start[k] // self.g.tile[k]
            span[k] = (b.start[k] + (b.count[k] - 1) * b.step[k]) // self.g.tile[k] \
                - first[k] + 1
            n *= span[k]

        # per entry: tile number, its descriptors rebased onto the bytes read and its
        # scalars; where its pixels come from (cached, at strides) and go to (kept)
        block = PyMem_Malloc((12 + ndim) * n * 8)
        if block == NULL:
            raise MemoryError()
        memset(block, 0, (12 + ndim) * n * 8)
        try:
            ints = <int64_t *>block
            reals = <double *>(ints + 8 * n)
            sources = <const char **>(reals + 2 * n)
            kept = <char **>(sources + n)
            strides = <Py_ssize_t *>(kept + n)
            for k in range(ndim):
                idx[k] = 0
            for i in range(n):
                t = 0
                for k in range(ndim):
                    t = t * self.g.grid[k] + first[k] + idx[k]
                ints[i] = t
                k = ndim - 1
                while k >= 0:
                    idx[k] += 1
                    if idx[k] < span[k]:
                        break
                    idx[k] = 0
                    k -= 1

            lookup = cache is not None and cache.used
            keep = cache is not None and cache.capacity > 0
            # spans to read; cached tiles (held while in use); new tiles for the cache
            offsets, sizes, held, fresh = [], [], [], []
            for i in range(n):
                t = ints[i]
                _tile_box(&self.g, t, start, size)
                source = cache.get(t) if lookup else None
                if source is not None:
                    arr = source
                    if not _has_kind(arr, self.p.kind) or not cnp.PyArray_ISALIGNED(arr) \
                            or arr.ndim != ndim \
                            or any([arr.shape[k] != size[k] for k in range(ndim)]):
                        raise FITSValueError(f"cached tile {t} must be an aligned "
                                         f"{self.codec.dtype} array of shape "
                                         f"{_shape_of(size, ndim)}")
                    held.append(arr)
                    sources[i] = <const char *>cnp.PyArray_DATA(arr)
                    for k in range(ndim):
                        strides[i * ndim + k] = arr.strides[k]
                    continue
                at = self._gather(t, i, n, ints, at, offsets, sizes)
                if self.p.quantize:
                    reals[i] = self.zscale[t]
                    reals[n + i] = self.zzero[t]
                if self.has_zblank:
                    ints[7 * n + i] = self.zblank[t]
                if keep:
                    for k in range(ndim):
                        dims[k] = size[k]
                    arr = cnp.PyArray_EMPTY(ndim, dims, typenum, 0)
                    fresh.append((t, arr))
                    kept[i] = <char *>cnp.PyArray_DATA(arr)
            heap = np.empty(at, np.uint8)
            if at:
                read(offsets, sizes, heap)

            memset(&j, 0, sizeof(j))
            j.p = self.p
            j.g = self.g
            j.heap = <const uint8_t *>cnp.PyArray_DATA(heap)
            j.tiles = ints
            j.nbytes = ints + n
            j.offsets = ints + 2 * n
            if self.has_gzip:
                j.gz_nbytes = ints + 3 * n
                j.gz_offsets = ints + 4 * n
            if self.has_raw:
                j.raw_nbytes = ints + 5 * n
                j.raw_offsets = ints + 6 * n
            if self.has_zblank:
                j.zblank = ints + 7 * n
            if self.p.quantize:
                j.zscale = reals
                j.zzero = reals + n
            # the table's scratch buffers, unless another thread is using them
            own = not self.busy
            if own:
                self.busy = True
                scratch = &self.scratch
            else:
                memset(&spare, 0, sizeof(spare))
                scratch = &spare
            try:
                failure = _decode_into_box(&j, scratch, self.maxpix * _scratch_unit(&self.p),
                                           &b, sources, strides, kept, n, itemsize)
            finally:
                if own:
                    self.busy = False
                else:
                    _free_scratch(&spare)
            if failure is not None:
                raise failure
            for t, arr in fresh:
                cache.put(t, arr)
        finally:
            PyMem_Free(block)

    cdef Py_ssize_t _gather(self, Py_ssize_t t, Py_ssize_t i, Py_ssize_t n, int64_t *ints,
                            Py_ssize_t at, list offsets, list sizes) except -1:
        """Take tile t's descriptors into entry i, its bytes as spans to read after the
        ``at`` bytes taken before; returns the bytes taken then."""
        cdef int c
        cdef int64_t count, offset
        for c in range(3):
            if c == 0:
                count, offset = self.nbytes[t], self.offsets[t]
            elif c == 1 and self.has_gzip:
                count, offset = self.gz_nbytes[t], self.gz_offsets[t]
            elif c == 2 and self.has_raw:
                count, offset = self.raw_nbytes[t], self.raw_offsets[t]
            else:
                continue
            if count < 0 or offset < 0 or count > self.heap_size \
                    or offset > self.heap_size - count:
                column = ("COMPRESSED_DATA", "GZIP_COMPRESSED_DATA", "UNCOMPRESSED_DATA")[c]
                raise FITSError(f"decoding tile {t}: its {column} descriptor ({count} bytes "
                                f"at heap offset {offset}) lies outside the heap of "
                                f"{self.heap_size} bytes", status=DATA_DECOMPRESSION_ERR)
            ints[(1 + 2 * c) * n + i] = count
            ints[(2 + 2 * c) * n + i] = at
            if count:
                offsets.append(offset)
                sizes.append(count)
                at += count
        return at


cdef inline bint _has_kind(cnp.ndarray arr, int kind):
    """arr's dtype is that of pixel kind ``kind`` (native order)."""
    descr = <object>cnp.PyArray_DESCR(arr)
    return descr is _DTYPES[kind] or descr == _DTYPES[kind]


cdef object _decode_into_box(DecodeJob *j, DecodeScratch *s, Py_ssize_t scratch,
                             const Box *b, const char **sources, const Py_ssize_t *strides,
                             char **kept, Py_ssize_t n, int itemsize):
    """TileTable.read_box's loop over its entries, GIL released: each tile from sources
    (at strides) or decoded (and copied to kept when that is not NULL), its part of the box
    copied out. The scratch buffers s (``scratch`` bytes each) are made on first use and
    left for the caller to free. Returns the exception for the first failing tile, or
    None."""
    cdef Failure f
    cdef Py_ssize_t i, k, npix
    cdef Py_ssize_t start[MAXDIM]
    cdef Py_ssize_t size[MAXDIM]
    cdef Py_ssize_t packed[MAXDIM]
    cdef const Py_ssize_t *tstride
    cdef const char *pixels
    f.kind = FAIL_NONE
    with nogil:
        if _tile_buffers(s, scratch) < 0:
            _fail(&f, FAIL_MEMORY, j.tiles[0], "no memory for tile buffers")
        else:
            for i in range(n):
                if sources[i] != NULL:
                    pixels = sources[i]
                    tstride = strides + i * j.g.ndim
                    _tile_box(&j.g, j.tiles[i], start, size)
                else:
                    pixels = <const char *>_decode_pixels(j, s, i, &f, start, size)
                    if pixels == NULL:
                        break
                    npix = itemsize
                    for k in range(j.g.ndim - 1, -1, -1):
                        packed[k] = npix
                        npix *= size[k]
                    tstride = packed
                    if kept[i] != NULL:
                        memcpy(kept[i], pixels, npix)
                _copy_part(b, j.g.ndim, pixels, tstride, start, size, itemsize)
    return _raise_failure(&f, "decoding")


def requantize(Codec codec not None, cnp.ndarray values not None, cnp.ndarray ints not None,
               cnp.ndarray touched not None, double zscale, double zzero, long long row):
    """Quantize the ``touched`` pixels of one quantized tile into its integers ``ints``, in
    place, with the tile's own ZSCALE / ZZERO and the dither its decoder subtracts, so the
    other pixels keep their integers (re-quantizing the whole tile would move them).

    Args:
        codec: the image's codec (quantized floats).
        values: the tile's pixels, ``codec.dtype``; ints: its quantized ``int32`` values;
            touched: ``bool``, the pixels to quantize. All C-contiguous, one size, tile order.
        zscale, zzero: the tile's ZSCALE (non-zero) and ZZERO.
        row: the tile's 1-based row in the table, which starts its dither sequence.

    Returns:
        The number of touched finite pixels whose integer falls outside the range the
        quantizer may use (then ``ints`` is partly changed and must not be stored).
    """
    cdef Py_ssize_t n = values.size, i
    cdef int iseed = 0, nextrand = 0, outside = 0
    cdef bint dither = codec.p.qmethod != NO_DITHER
    cdef bint keep_zero = codec.p.qmethod == SUBTRACTIVE_DITHER_2
    cdef bint is_double = codec.p.kind == K_F64
    cdef const float *f
    cdef const double *d
    cdef int32_t *q
    cdef const uint8_t *mask
    cdef double v, x
    if not codec.p.quantize:
        raise FITSValueError("requantize needs a codec of quantized floats")
    if values.dtype != codec.dtype or ints.dtype != np.int32 or touched.dtype != np.bool_:
        raise FITSValueError(f"values must be {codec.dtype}, ints int32 and touched bool")
    if ints.size != n or touched.size != n or not (values.flags.c_contiguous and
            ints.flags.c_contiguous and touched.flags.c_contiguous):
        raise FITSValueError("values, ints and touched must be C-contiguous and of one size")
    if zscale == 0 or zscale != zscale or zzero != zzero or row < 1:
        raise FITSValueError(f"not a quantized tile: ZSCALE {zscale}, ZZERO {zzero}, row {row}")
    f = <const float *>cnp.PyArray_DATA(values)
    d = <const double *>cnp.PyArray_DATA(values)
    q = <int32_t *>cnp.PyArray_DATA(ints)
    mask = <const uint8_t *>cnp.PyArray_DATA(touched)
    with nogil:
        if dither:
            iseed = <int>((row + codec.p.zdither0 - 2) % N_RANDOM)
            nextrand = _RAND_START[iseed]
        for i in range(n):
            if mask[i]:
                v = d[i] if is_double else f[i]
                if v != v:
                    q[i] = NULL_VALUE
                elif keep_zero and (v == 0 or fabs(v) < (DBL_MIN if is_double else FLT_MIN)):
                    # SUBTRACTIVE_DITHER_2 stores exact zeros (and subnormals, which fpack
                    # flushes to zero) as a reserved value
                    q[i] = ZERO_VALUE
                else:
                    if fabs(v) < (DBL_MIN if is_double else FLT_MIN):
                        v = 0.0
                    x = (v - zzero) / zscale
                    if dither:
                        x = x + <double>_RAND[nextrand] - 0.5
                    # as CFITSIO's NINT, within the integers its quantizer leaves unreserved
                    x = x + 0.5 if x >= 0 else x - 0.5
                    if not (NULL_VALUE + N_RESERVED <= x < 2147483648.0):
                        outside += 1
                    else:
                        q[i] = <int32_t>x
            if dither:
                _next_dither(&iseed, &nextrand)
    return outside


def encode_tiles(Codec codec not None, cnp.ndarray image not None, tile, tiles, *,
                 long long first_row=0, int threads=0) -> Encoded:
    """Encode tiles of ``image`` as CFITSIO would, byte for byte.

    Args:
        codec: the compression setup (with ``quantize_level`` for quantized floats).
        image: C-contiguous, ``codec.dtype``: the whole region being encoded.
        tile: tile shape, numpy order.
        tiles: ``int64`` tile numbers on ``image``'s own tile grid.
        first_row: the HDU's tile number of that grid's tile 0, for the dither sequence
            (quantized floats use row ``first_row + t + 1`` with ZDITHER0).
        threads: worker threads; 0: one per CPU; 1: the calling thread only.

    Returns:
        An :class:`Encoded`. Nothing is written anywhere.

    Raises:
        ValueError: wrong dtype or shape, tile numbers off the grid, HCOMPRESS tiles CFITSIO
            rejects (not exactly two axes of at least 4 pixels, or SUBTRACTIVE_DITHER_2), a
            Rice ``bytepix`` other than the pixels' width, PLIO values outside 0..2**24-1.
        fitsbind.errors.FITSError: a codec failed on a tile.
    """
    cdef _Encoder enc = _Encoder()
    cdef EncodeJob *j = &enc.job
    cdef Py_ssize_t n, k
    cdef cnp.ndarray tiles_arr, nbytes_arr, offsets_arr, column_arr, nulls_arr
    cdef cnp.ndarray zscale_arr = None, zzero_arr = None, data

    if image.dtype != codec.dtype:
        raise FITSValueError(f"image must have dtype {codec.dtype} (ZBITPIX {codec.zbitpix}), "
                         f"not {image.dtype}")
    if not image.flags.c_contiguous:
        raise FITSValueError("image must be C-contiguous")
    if image.size == 0:
        raise FITSValueError(f"cannot encode an empty image (shape {(<object>image).shape})")
    if first_row < 0:
        raise FITSValueError(f"first_row must not be negative, not {first_row}")
    j.p = codec.p
    j.g = _geometry((<object>image).shape, tile)
    if codec.p.algo == ALG_HCOMPRESS:
        _check_hcompress_tile(&j.g)
        if codec.p.quantize and codec.p.qmethod == SUBTRACTIVE_DITHER_2:
            raise FITSValueError("CFITSIO does not allow SUBTRACTIVE_DITHER_2 with HCOMPRESS_1")
    tiles_arr = _index_array(tiles, "tiles", -1)
    n = tiles_arr.shape[0]
    j.tiles = <const int64_t *>cnp.PyArray_DATA(tiles_arr)
    _check_tiles(j.tiles, n, j.g.ntiles)

    nbytes_arr = np.zeros(n, dtype=np.int64)
    offsets_arr = np.zeros(n, dtype=np.int64)
    column_arr = np.zeros(n, dtype=np.int8)
    nulls_arr = np.zeros(n, dtype=np.uint8)
    j.nbytes = <int64_t *>cnp.PyArray_DATA(nbytes_arr)
    j.offsets = <int64_t *>cnp.PyArray_DATA(offsets_arr)
    j.column = <int8_t *>cnp.PyArray_DATA(column_arr)
    j.nulls = <uint8_t *>cnp.PyArray_DATA(nulls_arr)
    if codec.p.quantize:
        zscale_arr = np.zeros(n, dtype=np.float64)
        zzero_arr = np.zeros(n, dtype=np.float64)
        j.zscale = <double *>cnp.PyArray_DATA(zscale_arr)
        j.zzero = <double *>cnp.PyArray_DATA(zzero_arr)
    j.image = <char *>cnp.PyArray_DATA(image)
    for k in range(j.g.ndim):
        j.istride[k] = image.strides[k] // image.itemsize
    j.first_row = first_row

    enc.keep = [image, tiles_arr]
    enc.chunks = []
    enc.maxpix = 1
    for k in range(j.g.ndim):
        enc.maxpix *= j.g.tile[k]
    enc.itemsize = image.itemsize
    wide_hcompress = codec.p.algo == ALG_HCOMPRESS and codec.zbitpix not in (8, 16)
    enc.tmp_unit = 8 if wide_hcompress else image.itemsize
    if n:
        _run(enc, n, threads)

    # each worker's bytes follow the previous worker's, in tile-list order
    chunks = sorted(enc.chunks)
    data = np.empty(sum(chunk[3] for chunk in chunks), dtype=np.uint8)
    cdef Py_ssize_t base = 0, used
    cdef size_t address
    for lo, hi, address, used in chunks:
        memcpy(<char *>cnp.PyArray_DATA(data) + base, <void *>address, used)
        offsets_arr[lo:hi] += base
        base += used
    return Encoded(data, offsets_arr, nbytes_arr, column_arr, zscale_arr, zzero_arr,
                   bool(nulls_arr.any()))
