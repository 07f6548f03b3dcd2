"""The package's worker threads: one pool per purpose, each made on first use.

Pools are kept apart by purpose so that a job running in one pool (decoding the tiles of a
compressed table, say) may hand work to another (the tile codec's) and wait for it without
taking the threads that work needs.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["executor"]

_pools: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def executor(purpose: str, workers: int | None = None) -> ThreadPoolExecutor:
    """The process-wide pool for ``purpose`` (its threads are named ``fitsbind-<purpose>``),
    with ``workers`` threads, one per CPU by default; the first call makes it."""
    with _lock:
        pool = _pools.get(purpose)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1,
                                      thread_name_prefix=f"fitsbind-{purpose}")
            _pools[purpose] = pool
        return pool
