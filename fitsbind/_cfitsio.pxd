# cython: language_level=3
# Declarations of the CFITSIO routines fitsbind calls; no code. Names are CFITSIO's short names
# (see docs/cfitsio.tex in the CFITSIO source for each routine's contract).

cdef extern from "fitsio.h" nogil:
    ctypedef long long LONGLONG
    ctypedef unsigned long long ULONGLONG

    enum:
        NIOBUF                  # CFITSIO's number of record buffers
        IOBUFLEN                # bytes per record buffer (one 2880-byte block)

    ctypedef struct FITSfile:
        LONGLONG filesize       # bytes on disk
        LONGLONG logfilesize    # bytes including unflushed buffers
        LONGLONG heapsize       # binary table: PCOUNT as CFITSIO tracks it
        # where CFITSIO believes the HDUs are (FitsFile.drop_last_hdu forgets the last one)
        int curhdu              # current HDU, 0-based
        int maxhdu              # highest HDU known to exist
        LONGLONG *headstart     # byte offset of each HDU's header; [maxhdu + 1]: end of file
        LONGLONG headend        # end of the current header's cards
        LONGLONG nextkey        # where the next card of the current header goes
        LONGLONG datastart      # start of the current data unit, -1 while undefined
        # the record buffers: which block each holds (-1: none), and whether it is unwritten
        long bufrecnum[NIOBUF]
        int dirty[NIOBUF]

    ctypedef struct fitsfile:
        FITSfile *Fptr
        int HDUposition         # the HDU this handle is on (the same as curhdu when current)

    # compiled-in header version
    int CFITSIO_MAJOR
    int CFITSIO_MINOR
    int CFITSIO_MICRO

    enum:
        FLEN_FILENAME
        FLEN_KEYWORD
        FLEN_CARD
        FLEN_VALUE
        FLEN_COMMENT
        FLEN_ERRMSG
        FLEN_STATUS

        IMAGE_HDU
        ASCII_TBL
        BINARY_TBL
        ANY_HDU

        BYTE_IMG
        SBYTE_IMG
        SHORT_IMG
        USHORT_IMG
        LONG_IMG
        ULONG_IMG
        LONGLONG_IMG
        ULONGLONG_IMG
        FLOAT_IMG
        DOUBLE_IMG

        # datatype codes of the pixel routines
        TBYTE
        TSBYTE
        TSHORT
        TUSHORT
        TINT
        TUINT
        TLONGLONG
        TULONGLONG
        TFLOAT
        TDOUBLE
        # and of the column routines only
        TLOGICAL
        TSTRING
        TCOMPLEX
        TDBLCOMPLEX

    # status codes fitsbind treats specially
    enum:
        FILE_NOT_OPENED
        FILE_NOT_CREATED
        END_OF_FILE
        READ_ERROR
        READONLY_FILE
        KEY_NO_EXIST
        KEY_OUT_BOUNDS
        VALUE_UNDEFINED
        BAD_HDU_NUM
        MEMORY_ALLOCATION
        OVERFLOW_ERR
        NUM_OVERFLOW
        PARSE_SYNTAX_ERR
        PARSE_BAD_TYPE
        PARSE_LRG_VECTOR
        PARSE_NO_OUTPUT
        PARSE_BAD_COL
        PARSE_BAD_OUTPUT
        BAD_DIMEN
        BAD_NAXIS
        BAD_NAXES
        NOT_IMAGE
        NOT_TABLE
        NO_QUOTE
        BAD_KEYCHAR
        BAD_ORDER
        NOT_POS_INT
        NO_END
        BAD_BITPIX
        BAD_PCOUNT
        BAD_GCOUNT
        BAD_TFIELDS
        NEG_WIDTH
        NEG_ROWS
        BAD_TFORM
        BAD_TFORM_DTYPE
        NO_SIMPLE
        NO_BITPIX
        NO_NAXIS
        NO_NAXES
        NO_XTENSION
        NOT_ATABLE
        NOT_BTABLE
        NO_PCOUNT
        NO_GCOUNT
        NO_TFIELDS
        NO_TBCOL
        NO_TFORM
        UNKNOWN_EXT
        UNKNOWN_REC
        BAD_C2I
        BAD_C2F
        BAD_C2D
        BAD_LOGICALKEY
        BAD_FLOATKEY
        BAD_INTKEY
        BAD_DOUBLEKEY
        BAD_FILEPTR
        NULL_INPUT_PTR
        WRITE_ERROR
        SEEK_ERROR
        TOO_MANY_FILES
        FILE_NOT_CLOSED
        BAD_DATATYPE
        NEG_FILE_POS
        NEG_BYTES
        BAD_ROW_NUM
        BAD_ELEM_NUM

    # library and error stack
    float ffvers(float *version)
    void ffgerr(int status, char *errtext)
    int ffgmsg(char *err_message)
    void ffcmsg()

    # files
    int ffdkopn(fitsfile **fptr, const char *filename, int iomode, int *status)
    int ffdkinit(fitsfile **fptr, const char *filename, int *status)
    int ffinit(fitsfile **fptr, const char *filename, int *status)
    int ffclos(fitsfile *fptr, int *status)
    int ffflus(fitsfile *fptr, int *status)
    int ffflsh(fitsfile *fptr, int clearbuf, int *status)
    int fffree(void *value, int *status)

    # HDUs
    int ffthdu(fitsfile *fptr, int *nhdu, int *status)
    int ffghdn(fitsfile *fptr, int *chdunum)
    int ffghdt(fitsfile *fptr, int *exttype, int *status)
    int ffmahd(fitsfile *fptr, int hdunum, int *exttype, int *status)
    int ffmnhd(fitsfile *fptr, int exttype, char *hduname, int hduvers, int *status)
    int ffghadll(fitsfile *fptr, LONGLONG *headstart, LONGLONG *datastart,
                 LONGLONG *dataend, int *status)
    int ffcrimll(fitsfile *fptr, int bitpix, int naxis, LONGLONG *naxes, int *status)
    int ffcrtb(fitsfile *fptr, int tbltype, LONGLONG naxis2, int tfields, char **ttype,
               char **tform, char **tunit, const char *extname, int *status)
    int ffdhdu(fitsfile *fptr, int *hdutype, int *status)
    int ffcrhd(fitsfile *fptr, int *status)
    int ffasfm(char *tform, int *datacode, long *width, int *decim, int *status)
    int ffbnfmll(char *tform, int *datacode, LONGLONG *repeat, long *width, int *status)
    int ffgiprll(fitsfile *fptr, int maxaxis, int *imgtype, int *naxis,
                 LONGLONG *naxes, int *status)
    int ffgiet(fitsfile *fptr, int *imgtype, int *status)
    int fits_is_compressed_image(fitsfile *fptr, int *status)
    int fits_compress_table(fitsfile *infptr, fitsfile *outfptr, int *status)
    int ffgncl(fitsfile *fptr, int *ncols, int *status)
    int ffgnrwll(fitsfile *fptr, LONGLONG *nrows, int *status)
    int ffrdef(fitsfile *fptr, int *status)
    int ffrsimll(fitsfile *fptr, int bitpix, int naxis, LONGLONG *naxes, int *status)
    int ffmkyj(fitsfile *fptr, const char *keyname, LONGLONG value, const char *comm,
               int *status)

    # header keywords
    int ffghsp(fitsfile *fptr, int *nexist, int *nmore, int *status)
    int ffmrec(fitsfile *fptr, int nkey, const char *card, int *status)
    int ffdrec(fitsfile *fptr, int keypos, int *status)
    int ffirec(fitsfile *fptr, int nkey, const char *card, int *status)
    int ffhdr2str(fitsfile *fptr, int exclude_comm, char **exclist, int nexc,
                  char **header, int *nkeys, int *status)
    int ffcnvthdr2str(fitsfile *fptr, int exclude_comm, char **exclist, int nexc,
                      char **header, int *nkeys, int *status)
    int ffgrec(fitsfile *fptr, int nrec, char *card, int *status)
    int ffgcrd(fitsfile *fptr, const char *keyname, char *card, int *status)
    int ffgkey(fitsfile *fptr, const char *keyname, char *keyval, char *comm, int *status)
    int ffgkyjj(fitsfile *fptr, const char *keyname, LONGLONG *value, char *comm, int *status)
    int ffgkls(fitsfile *fptr, const char *keyname, char **value, char *comm, int *status)
    int ffdtyp(const char *cval, char *dtype, int *status)
    int ffpkyu(fitsfile *fptr, const char *keyname, const char *comm, int *status)
    int ffpkls(fitsfile *fptr, const char *keyname, const char *value, const char *comm,
               int *status)
    int ffpkyl(fitsfile *fptr, const char *keyname, int value, const char *comm, int *status)
    int ffpkyj(fitsfile *fptr, const char *keyname, LONGLONG value, const char *comm,
               int *status)
    int ffpkyuj(fitsfile *fptr, const char *keyname, ULONGLONG value, const char *comm,
                int *status)
    int ffpkyd(fitsfile *fptr, const char *keyname, double value, int decim,
               const char *comm, int *status)
    int ffpkym(fitsfile *fptr, const char *keyname, double *value, int decim,
               const char *comm, int *status)
    int ffukyu(fitsfile *fptr, const char *keyname, const char *comm, int *status)
    int ffukls(fitsfile *fptr, const char *keyname, const char *value, const char *comm,
               int *status)
    int ffukyl(fitsfile *fptr, const char *keyname, int value, const char *comm, int *status)
    int ffukyj(fitsfile *fptr, const char *keyname, LONGLONG value, const char *comm,
               int *status)
    int ffukyd(fitsfile *fptr, const char *keyname, double value, int decim,
               const char *comm, int *status)
    int ffukym(fitsfile *fptr, const char *keyname, double *value, int decim,
               const char *comm, int *status)
    int ffplsw(fitsfile *fptr, int *status)
    int ffprec(fitsfile *fptr, const char *card, int *status)
    int ffgknm(char *card, char *name, int *length, int *status)
    int ffpsvc(char *card, char *value, char *comm, int *status)
    int ffpcom(fitsfile *fptr, const char *comm, int *status)
    int ffphis(fitsfile *fptr, const char *history, int *status)
    int ffdkey(fitsfile *fptr, const char *keyname, int *status)

    # pixels
    int ffpscl(fitsfile *fptr, double scale, double zeroval, int *status)
    int ffgpxvll(fitsfile *fptr, int datatype, LONGLONG *firstpix, LONGLONG nelem,
                 void *nulval, void *array, int *anynul, int *status)
    int ffgsv(fitsfile *fptr, int datatype, long *blc, long *trc, long *inc,
              void *nulval, void *array, int *anynul, int *status)
    int ffppxll(fitsfile *fptr, int datatype, LONGLONG *firstpix, LONGLONG nelem,
                void *array, int *status)
    int ffpss(fitsfile *fptr, int datatype, long *fpixel, long *lpixel, void *array,
              int *status)

    # table columns and rows
    int ffgcv(fitsfile *fptr, int datatype, int colnum, LONGLONG firstrow, LONGLONG firstelem,
              LONGLONG nelem, void *nulval, void *array, int *anynul, int *status)
    int ffgcf(fitsfile *fptr, int datatype, int colnum, LONGLONG firstrow, LONGLONG firstelem,
              LONGLONG nelem, void *array, char *nullarray, int *anynul, int *status)
    int ffgcvs(fitsfile *fptr, int colnum, LONGLONG firstrow, LONGLONG firstelem,
               LONGLONG nelem, char *nulval, char **array, int *anynul, int *status)
    int ffpcl(fitsfile *fptr, int datatype, int colnum, LONGLONG firstrow, LONGLONG firstelem,
              LONGLONG nelem, void *array, int *status)
    int ffpcn(fitsfile *fptr, int datatype, int colnum, LONGLONG firstrow, LONGLONG firstelem,
              LONGLONG nelem, void *array, void *nulval, int *status)
    int ffpcls(fitsfile *fptr, int colnum, LONGLONG firstrow, LONGLONG firstelem,
               LONGLONG nelem, char **array, int *status)
    int ffpclu(fitsfile *fptr, int colnum, LONGLONG firstrow, LONGLONG firstelem,
               LONGLONG nelem, int *status)
    int ffirow(fitsfile *fptr, LONGLONG firstrow, LONGLONG nrows, int *status)
    int ffdrow(fitsfile *fptr, LONGLONG firstrow, LONGLONG nrows, int *status)
    int ffdrwsll(fitsfile *fptr, LONGLONG *rownum, LONGLONG nrows, int *status)
    int fficol(fitsfile *fptr, int numcol, char *ttype, char *tform, int *status)
    int ffdcol(fitsfile *fptr, int numcol, int *status)
    int fffrow(fitsfile *fptr, char *expr, long firstrow, long nrows, long *n_good_rows,
               char *row_status, int *status)

    # checksums
    int ffpcks(fitsfile *fptr, int *status)
    int ffgcks(fitsfile *fptr, unsigned long *datasum, unsigned long *hdusum, int *status)
    int ffvcks(fitsfile *fptr, int *datastatus, int *hdustatus, int *status)


cdef extern from * nogil:
    # Exported by CFITSIO but declared only in its internal fitsio2.h, whose macros would
    # leak into the module. Resizes the file after flushing CFITSIO's buffers; growing it
    # leaves a sparse hole.
    # ffmbyt/ffgbyt/ffpbyt move to a byte of the file and read or write bytes there,
    # through CFITSIO's buffers (also for files it holds in memory).
    """
    int fftrun(fitsfile *fptr, LONGLONG filesize, int *status);
    int ffmbyt(fitsfile *fptr, LONGLONG bytpos, int ignore_err, int *status);
    int ffgbyt(fitsfile *fptr, LONGLONG nbytes, void *buffer, int *status);
    int ffpbyt(fitsfile *fptr, LONGLONG nbytes, void *buffer, int *status);
    int ffiblk(fitsfile *fptr, long nblock, int headdata, int *status);
    int ffdblk(fitsfile *fptr, long nblocks, int *status);
    int ffgext(fitsfile *fptr, int moveto, int *exttype, int *status);
    int ffpdfl(fitsfile *fptr, int *status);
    """
    int fftrun(fitsfile *fptr, LONGLONG filesize, int *status)
    int ffmbyt(fitsfile *fptr, LONGLONG bytpos, int ignore_err, int *status)
    int ffgbyt(fitsfile *fptr, LONGLONG nbytes, void *buffer, int *status)
    int ffpbyt(fitsfile *fptr, LONGLONG nbytes, void *buffer, int *status)
    # insert / delete 2880-byte blocks at the end of the current HDU's header (headdata 0)
    # or data unit (1), moving the HDUs after it
    int ffiblk(fitsfile *fptr, long nblock, int headdata, int *status)
    int ffdblk(fitsfile *fptr, long nblocks, int *status)
    # make HDU ``moveto`` (0-based) current without closing the current one (which would
    # write its END card and fill bytes)
    int ffgext(fitsfile *fptr, int moveto, int *exttype, int *status)
    # write the current data unit's fill bytes (zeros, blanks in ASCII tables) where wrong
    int ffpdfl(fitsfile *fptr, int *status)
