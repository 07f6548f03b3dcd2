"""Moving pixel boxes with fitsbind's own pread/pwrite (``_fitsfile.raw_read_box`` and
``raw_write_box``), split over two threads when large.

Used only where converting stored pixels is a byte swap (and a sign-bit flip for the BZERO
offset types); scaled data goes through CFITSIO.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from fitsbind._fitsfile import raw_read_box, raw_write_box

#: boxes at least this large are moved by two threads
PARALLEL_BYTES = 8 << 20

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="fitsbind-io")
        return _pool


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
    futures = [_executor().submit(raw_read_box, fd, datastart, shape, s, n, steps, flip, out,
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
    futures = [_executor().submit(raw_write_box, fd, datastart, shape, s, flip, data, first, n)
               for s, n, first in _halves(tuple(corner), data.shape, ones)]
    for future in futures:
        future.result()
