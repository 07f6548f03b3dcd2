# Part of fitsbind/_fitsfile.pyx.
# ---------------------------------------------------------------------------------------------
# Raw data I/O. For uncompressed files on disk, pixels whose conversion is only a byte swap
# (plus a sign-bit flip for the BZERO offset types) are moved with pread/pwrite by fitsbind,
# in parallel chunks, instead of through CFITSIO's 2880-byte record buffers. CFITSIO still
# decides every offset; its buffers are flushed (and, before writing, emptied) first.

DEF CONVERT_CHUNK = 1 << 20   # bytes converted per step, while they are in the CPU cache
# A box of many short runs close together (a small cutout) is read with one pread of the
# bytes spanning it when that span is at most this large or at most GATHER_RATIO times the
# bytes wanted: a system call costs about as much as copying 10 KB, so below these the
# single read is the cheaper one.
DEF GATHER_SPAN = 64 << 10
DEF GATHER_RATIO = 4
DEF GATHER_MAX = 4 << 20


cdef class _Box:
    """A box of pixels in an image, as C arrays (numpy axis order), walked run by run.

    A run is a stretch of pixels contiguous in the file: one row along the fastest axis,
    or several whole trailing axes merged when the box covers them fully.
    """
    cdef int ndim, outer, itemsize
    cdef long long datastart, run, step
    cdef long long *strides
    cdef long long *starts
    cdef long long *counts
    cdef long long *steps
    cdef long long *index

    def __cinit__(self, long long datastart, shape, starts, counts, steps, int itemsize):
        cdef int k, n = len(shape)
        self.ndim = n
        self.itemsize = itemsize
        self.datastart = datastart
        self.strides = <long long *>PyMem_Malloc(5 * max(n, 1) * sizeof(long long))
        if self.strides == NULL:
            raise MemoryError()
        self.starts = self.strides + n
        self.counts = self.starts + n
        self.steps = self.counts + n
        self.index = self.steps + n
        cdef long long stride = 1
        for k in range(n - 1, -1, -1):
            self.strides[k] = stride
            stride *= shape[k]
            self.starts[k] = starts[k]
            self.counts[k] = counts[k]
            self.steps[k] = steps[k]
            self.index[k] = 0
        # merge trailing axes the box covers whole into one run
        self.run = self.counts[n - 1]
        self.step = self.steps[n - 1]
        self.outer = n - 1
        if self.step == 1:
            while (self.outer > 0 and self.starts[self.outer] == 0
                   and self.counts[self.outer] == shape[self.outer]
                   and self.steps[self.outer - 1] == 1):
                self.outer -= 1
                self.run *= self.counts[self.outer]

    def __dealloc__(self):
        PyMem_Free(self.strides)

    cdef long long nruns(self) noexcept nogil:
        cdef long long n = 1
        cdef int k
        for k in range(self.outer):
            n *= self.counts[k]
        return n

    cdef long long span(self) noexcept nogil:
        """Bytes from the box's first pixel in the file to just past its last."""
        cdef long long first = 0, last = 0
        cdef int k
        for k in range(self.ndim):
            first += self.starts[k] * self.strides[k]
            last += (self.starts[k] + (self.counts[k] - 1) * self.steps[k]) * self.strides[k]
        return (last - first + 1) * self.itemsize

    cdef long long offset(self) noexcept nogil:
        """Byte offset of the current run; then step the odometer to the next run."""
        cdef long long pixel = self.starts[self.outer] * self.strides[self.outer]
        cdef int k
        for k in range(self.outer):
            pixel += (self.starts[k] + self.index[k] * self.steps[k]) * self.strides[k]
        for k in range(self.outer - 1, -1, -1):
            self.index[k] += 1
            if self.index[k] < self.counts[k]:
                break
            self.index[k] = 0
        return self.datastart + pixel * self.itemsize


def raw_read_box(int fd, long long datastart, shape, starts, counts, steps, bint flip,
                 cnp.ndarray out, long long first=0) -> None:
    """Read a box of stored pixels (numpy axis order: first pixel, pixels and step per axis;
    steps positive) into ``out`` from pixel ``first`` on, converting to native order.

    ``out`` is C-contiguous and native-endian, of the stored item size. A box reaching past
    the end of the file raises FITSError. The GIL is released throughout, so boxes may be
    read from several threads.
    """
    cdef _Box box = _Box(datastart, shape, starts, counts, steps, out.itemsize)
    cdef int itemsize = out.itemsize, failed = 0, err = 0, j
    cdef long long r, nruns = box.nruns(), off, span = 0, k, done, chunk, base = 0
    cdef long long per = CONVERT_CHUNK // itemsize
    cdef char *dst = <char *>cnp.PyArray_DATA(out) + first * itemsize
    cdef char *tmp = NULL
    cdef bint gather = False
    if box.step == 1 and nruns > 1:
        span = box.span()
        gather = span <= GATHER_SPAN or (span <= GATHER_RATIO * nruns * box.run * itemsize
                                         and span <= GATHER_MAX)
    elif box.step != 1:
        span = ((box.run - 1) * box.step + 1) * itemsize
    if gather or box.step != 1:
        tmp = <char *>malloc(span)
        if tmp == NULL:
            raise MemoryError(f"no memory for a {span}-byte read buffer")
    with nogil:
        for r in range(nruns):
            off = box.offset()
            if gather:
                # the whole span once, then each run out of it
                if r == 0:
                    base = off
                    if fitsbind_pread_all(fd, tmp, span, base):
                        failed = 1
                        err = errno
                        break
                memcpy(dst, tmp + (off - base), box.run * itemsize)
                fitsbind_convert(dst, dst, box.run, itemsize, flip, 0)
            elif box.step == 1:
                # convert each piece while it is still in the CPU cache
                done = 0
                while done < box.run:
                    chunk = min(per, box.run - done)
                    if fitsbind_pread_all(fd, dst + done * itemsize, chunk * itemsize,
                                          off + done * itemsize):
                        failed = 1
                        err = errno
                        break
                    fitsbind_convert(dst + done * itemsize, dst + done * itemsize, chunk,
                                     itemsize, flip, 0)
                    done += chunk
                if failed:
                    break
            else:
                if fitsbind_pread_all(fd, tmp, span, off):
                    failed = 1
                    err = errno
                    break
                for k in range(box.run):
                    for j in range(itemsize):
                        dst[k * itemsize + j] = tmp[k * box.step * itemsize + j]
                fitsbind_convert(dst, dst, box.run, itemsize, flip, 0)
            dst += box.run * itemsize
        free(tmp)
    if failed:
        if err == 0:
            raise FITSError("file is truncated: pixel data ends before the image does")
        raise OSError(err, os.strerror(err))


def raw_write_box(int fd, long long datastart, shape, corner, bint flip, cnp.ndarray data,
                  long long first=0, counts=None) -> None:
    """Write ``data`` (C-contiguous, native-endian, the stored item size) from its pixel
    ``first`` on as the box of ``counts`` pixels (default ``data.shape``) whose first pixel is
    ``corner``, converting to stored order. The GIL is released throughout."""
    if counts is None:
        counts = (<object>data).shape
    cdef _Box box = _Box(datastart, shape, corner, counts, (1,) * len(shape), data.itemsize)
    cdef int itemsize = data.itemsize, failed = 0, err = 0
    cdef long long r, nruns = box.nruns(), off, done, chunk, per = CONVERT_CHUNK // itemsize
    cdef const char *src = <const char *>cnp.PyArray_DATA(data) + first * itemsize
    cdef char *tmp = <char *>malloc(CONVERT_CHUNK)
    if tmp == NULL:
        raise MemoryError("no memory for a conversion buffer")
    with nogil:
        for r in range(nruns):
            off = box.offset()
            done = 0
            while done < box.run:
                chunk = min(per, box.run - done)
                fitsbind_convert(src + done * itemsize, tmp, chunk, itemsize, flip, 1)
                if fitsbind_pwrite_all(fd, tmp, chunk * itemsize, off + done * itemsize):
                    failed = 1
                    err = errno
                    break
                done += chunk
            if failed:
                break
            src += box.run * itemsize
        free(tmp)
    if failed:
        raise OSError(err, os.strerror(err))


# -- table rows: the fields of many rows, each converted as it passes through the cache -------

DEF WIDE_ROW = 16384    # rows this long are read field span by field span, row by row


cdef struct _Field:
    long long file_off      # byte offset of the field in a stored row
    long long mem_off       # byte offset in a row of the in-memory record array
    long long count         # items
    int itemsize            # bytes swapped as a unit
    int flip                # toggle the sign bit (TZERO integer conventions)
    int logical             # FITS logicals ('T'/'F'/0) <-> bool bytes
    long long strip         # on reads, blank trailing blanks of strings this wide (0: no)


cdef class _Rows:
    """Fields of table rows: their C description, the span of a row they cover, and a
    buffer holding a chunk of rows (stored bytes) while it is converted."""
    cdef _Field *fields
    cdef int nfields
    cdef long long rowsize, lo, span, stride, per
    cdef bint sparse, whole
    cdef char *buf

    def __cinit__(self, long long rowsize, fields):
        cdef int i
        cdef long long covered = 0
        self.nfields = len(fields)
        self.rowsize = rowsize
        self.fields = <_Field *>PyMem_Malloc(max(self.nfields, 1) * sizeof(_Field))
        if self.fields == NULL:
            raise MemoryError()
        self.lo = rowsize
        hi = 0
        for i, (file_off, mem_off, count, itemsize, flip, logical, strip) in enumerate(fields):
            if file_off < 0 or file_off + count * itemsize > rowsize:
                raise ValueError(f"field at byte {file_off} ({count} x {itemsize}) is outside "
                                 f"the {rowsize}-byte row")
            self.fields[i].file_off = file_off
            self.fields[i].mem_off = mem_off
            self.fields[i].count = count
            self.fields[i].itemsize = itemsize
            self.fields[i].flip = flip
            self.fields[i].logical = logical
            self.fields[i].strip = strip
            covered += count * itemsize
            self.lo = min(self.lo, file_off)
            hi = max(hi, file_off + count * itemsize)
        if hi <= self.lo:
            self.lo, hi = 0, 0
        self.span = hi - self.lo
        self.whole = covered == rowsize and self.span == rowsize
        self.sparse = rowsize >= WIDE_ROW and 2 * self.span <= rowsize
        self.stride = self.span if self.sparse else rowsize
        self.per = max(1, CONVERT_CHUNK // max(self.stride, 1))
        self.buf = <char *>malloc(max(self.per * self.stride, 1))
        if self.buf == NULL:
            raise MemoryError("no memory for a row buffer")

    def __dealloc__(self):
        PyMem_Free(self.fields)
        free(self.buf)

    cdef long long nbytes(self, long long k) noexcept nogil:
        """Bytes of the buffer that k rows occupy."""
        return k * self.span if self.sparse else (k - 1) * self.rowsize + self.span

    cdef int load(self, int fd, long long at, long long k) noexcept nogil:
        """Read the spans of k rows, the first starting at byte ``at`` of the file."""
        cdef long long r
        if not self.sparse:
            return fitsbind_pread_all(fd, self.buf, self.nbytes(k), at + self.lo)
        for r in range(k):
            if fitsbind_pread_all(fd, self.buf + r * self.span, self.span,
                                  at + r * self.rowsize + self.lo):
                return -1
        return 0

    cdef int store(self, int fd, long long at, long long k) noexcept nogil:
        cdef long long r
        if not self.sparse:
            return fitsbind_pwrite_all(fd, self.buf, self.nbytes(k), at + self.lo)
        for r in range(k):
            if fitsbind_pwrite_all(fd, self.buf + r * self.span, self.span,
                                   at + r * self.rowsize + self.lo):
                return -1
        return 0

    cdef void convert(self, char *mem, long long memsize, long long k, int to_disk) noexcept nogil:
        _convert_fields(self.fields, self.nfields, self.buf - self.lo, self.stride, mem,
                        memsize, k, to_disk)


cdef void _convert_fields(_Field *fields, int nfields, char *stored, long long stride,
                          char *mem, long long memsize, long long nrows,
                          int to_disk) noexcept nogil:
    """Convert ``nrows`` rows between ``stored`` (field offsets as in a stored row, rows
    ``stride`` apart) and ``mem`` (records of ``memsize`` bytes)."""
    cdef int i
    cdef _Field *f
    for i in range(nfields):
        f = &fields[i]
        if f.count == 0:
            continue
        if f.logical:
            if to_disk:
                fitsbind_logicals(mem + f.mem_off, memsize, stored + f.file_off, stride,
                                  nrows, f.count, 1)
            else:
                fitsbind_logicals(stored + f.file_off, stride, mem + f.mem_off, memsize,
                                  nrows, f.count, 0)
        elif to_disk:
            fitsbind_gather(mem + f.mem_off, memsize, stored + f.file_off, stride, nrows,
                            f.count, f.itemsize, f.flip, 1)
        else:
            fitsbind_gather(stored + f.file_off, stride, mem + f.mem_off, memsize, nrows,
                            f.count, f.itemsize, f.flip, 0)
            if f.strip:
                fitsbind_strip_blanks(mem + f.mem_off, memsize, nrows, f.count, f.strip)


def raw_read_rows(int fd, long long datastart, long long rowsize, long long first,
                  long long nrows, fields, cnp.ndarray out, long long out_first=0) -> None:
    """Read the ``fields`` of table rows ``first`` .. ``first + nrows - 1`` (0-based) into
    records ``out_first`` on of ``out`` (a C-contiguous 1-D record array), converting to
    native order.

    ``fields``: ``(offset in the stored row, offset in out's record, items, item size,
    flip, logical, string width)``; see ``_Field``. Only the span of each row the fields cover is read; rows of 16 KiB and more
    are read span by span. The GIL is released throughout.
    """
    cdef _Rows rows = _Rows(rowsize, fields)
    cdef long long memsize = out.itemsize, done = 0, k
    cdef char *mem = <char *>cnp.PyArray_DATA(out) + out_first * memsize
    cdef int failed = 0, err = 0
    # records laid out as the stored rows: read straight into them, convert in place
    cdef bint direct = memsize == rowsize and rows.whole and all(
        f[0] == f[1] for f in fields)
    if rows.span == 0 or nrows <= 0:
        return
    with nogil:
        while done < nrows:
            k = min(rows.per, nrows - done)
            if direct:
                if fitsbind_pread_all(fd, mem + done * memsize, k * rowsize,
                                      datastart + (first + done) * rowsize):
                    failed = 1
                    err = errno
                    break
                _convert_fields(rows.fields, rows.nfields, mem + done * memsize, rowsize,
                                mem + done * memsize, memsize, k, 0)
            else:
                if rows.load(fd, datastart + (first + done) * rowsize, k):
                    failed = 1
                    err = errno
                    break
                rows.convert(mem + done * memsize, memsize, k, 0)
            done += k
    if failed:
        if err == 0:
            raise FITSError("file is truncated: table rows end before the table does")
        raise OSError(err, os.strerror(err))


def raw_read_bytes(int fd, long long offset, cnp.ndarray out) -> None:
    """Fill ``out`` (C-contiguous) with the file's bytes from ``offset`` on, as stored."""
    cdef long long n = out.nbytes
    cdef char *dst = <char *>cnp.PyArray_DATA(out)
    cdef int failed = 0, err = 0
    with nogil:
        if n and fitsbind_pread_all(fd, dst, n, offset):
            failed = 1
            err = errno
    if failed:
        if err == 0:
            raise FITSError("file is truncated: a table's heap ends before its PCOUNT says")
        raise OSError(err, os.strerror(err))


def raw_write_bytes(int fd, long long offset, cnp.ndarray data) -> None:
    """Write ``data`` (C-contiguous, stored form) to the file at byte ``offset``."""
    cdef long long n = data.nbytes
    cdef const char *src = <const char *>cnp.PyArray_DATA(data)
    cdef int failed = 0, err = 0
    with nogil:
        if n and fitsbind_pwrite_all(fd, src, n, offset):
            failed = 1
            err = errno
    if failed:
        raise OSError(err, os.strerror(err))


def convert_rows(cnp.ndarray stored, long long rowsize, fields, cnp.ndarray records,
                 bint to_disk=False) -> None:
    """Convert between ``stored`` (C-contiguous bytes of whole stored rows) and ``records``
    (as :func:`raw_read_rows` fills them) in memory: for files CFITSIO holds in memory."""
    cdef _Rows rows = _Rows(rowsize, fields)
    cdef long long nrows = len(records), memsize = records.itemsize
    if stored.nbytes < nrows * rowsize:
        raise ValueError("stored rows are shorter than the records")
    with nogil:
        _convert_fields(rows.fields, rows.nfields, <char *>cnp.PyArray_DATA(stored), rowsize,
                        <char *>cnp.PyArray_DATA(records), memsize, nrows, to_disk)


def raw_write_rows(int fd, long long datastart, long long rowsize, long long first,
                   long long nrows, fields, cnp.ndarray data, long long data_first=0) -> None:
    """Write the ``fields`` (as in :func:`raw_read_rows`) of records ``data_first`` on of
    ``data`` into table rows ``first`` .. ``first + nrows - 1``, converting to stored order.
    Bytes of the rows the fields do not cover are kept (read, then written back)."""
    cdef _Rows rows = _Rows(rowsize, fields)
    cdef long long memsize = data.itemsize, done = 0, k, at
    cdef const char *mem = <const char *>cnp.PyArray_DATA(data) + data_first * memsize
    cdef int failed = 0, err = 0
    if rows.span == 0 or nrows <= 0:
        return
    with nogil:
        while done < nrows:
            k = min(rows.per, nrows - done)
            at = datastart + (first + done) * rowsize
            if not rows.whole and rows.load(fd, at, k):
                failed = 1
                err = errno
                break
            rows.convert(<char *>mem + done * memsize, memsize, k, 1)
            if rows.store(fd, at, k):
                failed = 1
                err = errno
                break
            done += k
    if failed:
        if err == 0:
            raise FITSError("file is truncated: table rows end before the table does")
        raise OSError(err, os.strerror(err))

