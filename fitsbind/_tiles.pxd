# cython: language_level=3
# Declarations for fitsbind._tiles: CFITSIO's tile codec routines and zlib. No code.
#
# The codec routines are exported by every libcfitsio (vendored and distribution builds) but
# only fitsio2.h, a private header that distributions need not install, declares the ones
# below; so their prototypes are written here, copied by hand from CFITSIO 4.2.0's
# fitsio2.h / imcompress.c. The ones fitsio.h declares are taken from it.

cdef extern from *:
    """
    int fits_rcomp(int a[], int nx, unsigned char *c, int clen, int nblock);
    int fits_rcomp_short(short a[], int nx, unsigned char *c, int clen, int nblock);
    int fits_rcomp_byte(signed char a[], int nx, unsigned char *c, int clen, int nblock);
    int pl_p2li(int *pxsrc, int xs, short *lldst, int npix);
    int pl_l2pi(short *ll_src, int xs, int *px_dst, int npix);
    int fits_quantize_float(long row, float fdata[], long nx, long ny, int nullcheck,
                            float in_null_value, float quantize_level, int dither_method,
                            int idata[], double *bscale, double *bzero, int *iminval,
                            int *imaxval);
    int fits_quantize_double(long row, double fdata[], long nx, long ny, int nullcheck,
                             double in_null_value, float quantize_level, int dither_method,
                             int idata[], double *bscale, double *bzero, int *iminval,
                             int *imaxval);
    int fits_init_randoms(void);
    extern float *fits_rand_value;
    """
    int fits_rcomp(int *a, int nx, unsigned char *c, int clen, int nblock) nogil
    int fits_rcomp_short(short *a, int nx, unsigned char *c, int clen, int nblock) nogil
    int fits_rcomp_byte(signed char *a, int nx, unsigned char *c, int clen, int nblock) nogil
    int pl_p2li(int *pxsrc, int xs, short *lldst, int npix) nogil
    int pl_l2pi(short *ll_src, int xs, int *px_dst, int npix) nogil
    int fits_quantize_float(long row, float *fdata, long nx, long ny, int nullcheck,
                            float in_null_value, float quantize_level, int dither_method,
                            int *idata, double *bscale, double *bzero, int *iminval,
                            int *imaxval) nogil
    int fits_quantize_double(long row, double *fdata, long nx, long ny, int nullcheck,
                             double in_null_value, float quantize_level, int dither_method,
                             int *idata, double *bscale, double *bzero, int *iminval,
                             int *imaxval) nogil
    int fits_init_randoms()
    float *fits_rand_value


cdef extern from "fitsio.h" nogil:
    ctypedef long long LONGLONG

    enum:
        NO_DITHER
        SUBTRACTIVE_DITHER_1
        SUBTRACTIVE_DITHER_2
        MAX_COMPRESS_DIM
        DATA_COMPRESSION_ERR
        DATA_DECOMPRESSION_ERR

    float FLOATNULLVALUE
    double DOUBLENULLVALUE

    int fits_is_reentrant()
    int fits_hcompress(int *a, int nx, int ny, int scale, char *output, long *nbytes,
                       int *status)
    int fits_hcompress64(LONGLONG *a, int nx, int ny, int scale, char *output, long *nbytes,
                         int *status)
    int fits_hdecompress(unsigned char *input, int smooth, int *a, int *nx, int *ny,
                         int *scale, int *status)
    int fits_hdecompress64(unsigned char *input, int smooth, LONGLONG *a, int *nx, int *ny,
                           int *scale, int *status)
    int fits_img_stats_int(int *array, long nx, long ny, int nullcheck, int nullvalue,
                           long *ngoodpix, int *minvalue, int *maxvalue, double *mean,
                           double *sigma, double *noise1, double *noise2, double *noise3,
                           double *noise5, int *status)


cdef extern from "zlib.h" nogil:
    ctypedef struct z_stream:
        unsigned char *next_in
        unsigned int avail_in
        unsigned long total_in
        unsigned char *next_out
        unsigned int avail_out
        unsigned long total_out
        void *zalloc
        void *zfree
        void *opaque

    enum:
        Z_OK
        Z_STREAM_END
        Z_BUF_ERROR
        Z_FINISH
        Z_NO_FLUSH
        Z_DEFLATED
        Z_DEFAULT_STRATEGY
        Z_BEST_SPEED

    int deflateInit2(z_stream *strm, int level, int method, int windowBits, int memLevel,
                     int strategy)
    int deflateReset(z_stream *strm)
    int deflate(z_stream *strm, int flush)
    int deflateEnd(z_stream *strm)
    unsigned long deflateBound(z_stream *strm, unsigned long sourceLen)
    int inflateInit2(z_stream *strm, int windowBits)
    int inflateReset(z_stream *strm)
    int inflate(z_stream *strm, int flush)
    int inflateEnd(z_stream *strm)
