"""Progress bars for long commands: a tqdm bar on a terminal, nothing otherwise.

tqdm is an optional dependency; without it, when stderr is not a terminal (a pipe, a log
file) or when the command is quiet, the bar is a no-op with the same methods.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["progress"]


class _NoBar:
    """Stands in for a tqdm bar: the same context manager and ``update``, doing nothing."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None


def progress(total: int, desc: str, unit: str = "B", quiet: bool = False) -> Any:
    """A context manager with ``update(n)``: a tqdm bar on stderr counting to ``total``
    ``unit`` (bytes scaled to kB, MB, ... for "B") when stderr is a terminal, ``quiet`` is
    false and tqdm is installed; a no-op otherwise."""
    if quiet or not sys.stderr.isatty():
        return _NoBar()
    try:
        import tqdm  # optional: imported only when a bar would be shown
    except ImportError:
        return _NoBar()
    return tqdm.tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", leave=False,
                     file=sys.stderr)
