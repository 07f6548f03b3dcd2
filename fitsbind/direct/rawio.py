"""Moving pixel boxes and table rows with fitsbind's own pread/pwrite
(``_fitsfile.raw_read_box``/``raw_write_box``, ``raw_read_rows``/``raw_write_rows``), split
over two threads when large.

Used only where converting stored values is a byte swap (and a sign-bit flip for the
BZERO/TZERO offset types); scaled images and ASCII tables go through CFITSIO.
"""

from __future__ import annotations

import numpy as np

from fitsbind._fitsfile import raw_read_box, raw_read_rows, raw_write_box, raw_write_rows
from fitsbind._workers import executor

#: boxes at least this large are moved by two threads
PARALLEL_BYTES = 8 << 20


def _halves(starts: tuple[int, ...], counts: tuple[int, ...], steps: tuple[int, ...]) -> list:
    """The box cut in two along its outermost axis with more than one pixel:
    ``[(starts, counts, first output pixel), ...]``."""
    axis = next((k for k, n in enumerate(counts) if n > 1), None)
    if axis is None:
        return [(starts, counts, 0)]
    half = counts[axis] // 2
    inner = int(np.prod(counts[axis + 1:], dtype=np.int64))
    low = (*counts[:axis], half, *counts[axis + 1:])
    high = (*counts[:axis], counts[axis] - half, *counts[axis + 1:])
    moved = (*starts[:axis], starts[axis] + half * steps[axis], *starts[axis + 1:])
    return [(starts, low, 0), (moved, high, half * inner)]


def read_box(fd: int, datastart: int, shape: tuple[int, ...], starts: tuple[int, ...],
             counts: tuple[int, ...], steps: tuple[int, ...], out: np.ndarray,
             flip: bool) -> None:
    """Fill ``out`` (shape ``counts``, native) with the box's pixels, converted."""
    if out.nbytes < PARALLEL_BYTES:
        raw_read_box(fd, datastart, shape, starts, counts, steps, flip, out)
        return
    futures = [executor("io", 2).submit(raw_read_box, fd, datastart, shape, s, n, steps, flip, out,
                                  first) for s, n, first in _halves(starts, counts, steps)]
    for future in futures:
        future.result()


def write_box(fd: int, datastart: int, shape: tuple[int, ...], corner: tuple[int, ...],
              data: np.ndarray, flip: bool) -> None:
    """Write ``data`` (C-contiguous, native) with its first pixel at ``corner``."""
    if data.nbytes < PARALLEL_BYTES:
        raw_write_box(fd, datastart, shape, corner, flip, data)
        return
    ones = (1,) * data.ndim
    futures = [executor("io", 2).submit(raw_write_box, fd, datastart, shape, s, flip, data, first, n)
               for s, n, first in _halves(tuple(corner), data.shape, ones)]
    for future in futures:
        future.result()


def _row_halves(first: int, nrows: int, nbytes: int) -> list[tuple[int, int, int]]:
    """``(first row, rows, offset of the part)`` pieces: two when ``nbytes`` is large."""
    if nbytes < PARALLEL_BYTES or nrows < 2:
        return [(first, nrows, 0)]
    half = nrows // 2
    return [(first, half, 0), (first + half, nrows - half, half)]


def read_rows(fd: int, datastart: int, rowsize: int, first: int, nrows: int, fields: list,
              out: np.ndarray, out_first: int = 0) -> None:
    """Fill records ``out_first`` .. of ``out`` with ``fields`` of rows ``first`` .. ``first +
    nrows - 1`` (see ``_fitsfile.raw_read_rows``)."""
    parts = _row_halves(first, nrows, nrows * out.itemsize)
    if len(parts) == 1:
        raw_read_rows(fd, datastart, rowsize, first, nrows, fields, out, out_first)
        return
    futures = [executor("io", 2).submit(raw_read_rows, fd, datastart, rowsize, a, n, fields, out,
                                  out_first + k) for a, n, k in parts]
    for future in futures:
        future.result()


def write_rows(fd: int, datastart: int, rowsize: int, first: int, fields: list,
               data: np.ndarray) -> None:
    """Write ``fields`` of every record of ``data`` into rows ``first`` on."""
    parts = _row_halves(first, len(data), data.nbytes)
    if len(parts) == 1:
        raw_write_rows(fd, datastart, rowsize, first, len(data), fields, data)
        return
    futures = [executor("io", 2).submit(raw_write_rows, fd, datastart, rowsize, a, n, fields, data,
                                  k) for a, n, k in parts]
    for future in futures:
        future.result()
