"""Progress bars for long commands: tqdm's, on a terminal only.

tqdm is chosen over rich because it is small, has no dependencies of its own, is already in
most scientific environments (astropy, dask and pandas users have it) and draws on stderr, so
a command's output on stdout stays clean for pipes. It is optional: without it, or when
stderr is not a terminal, or with ``-q``, the bar is a no-op.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["iterate", "progress"]

T = TypeVar("T")


class _Silent:
    """The bar when no bar is shown."""

    def update(self, n: int = 1) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


def _tqdm(quiet: bool) -> Any:
    """tqdm's bar class when a bar should be drawn, else None."""
    if quiet or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def progress(total: int, desc: str, unit: str = "B", quiet: bool = False) -> Any:
    """A context-manager bar over ``total`` units (bytes by default, shown scaled: MB, GB);
    call ``.update(n)`` as work is done. A no-op unless stderr is a terminal, ``quiet`` is
    False and tqdm is installed."""
    bar = _tqdm(quiet)
    if bar is None:
        return _Silent()
    return bar(total=total, desc=desc, unit=unit, unit_scale=unit == "B", leave=False,
               file=sys.stderr)


def iterate(items: Iterable[T], desc: str, quiet: bool = False) -> Iterator[T]:
    """``items``, with a bar counting them when there are several (see :func:`progress`)."""
    items = list(items)
    with progress(len(items), desc, unit="file", quiet=quiet or len(items) < 2) as bar:
        for item in items:
            yield item
            bar.update(1)
