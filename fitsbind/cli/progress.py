"""A progress bar for long commands: tqdm on a terminal, nothing otherwise."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["progress"]


class _Silent:
    """Stands in for a bar when none is shown: same calls, no output."""

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def progress(total: int, desc: str, unit: str = "B", quiet: bool = False) -> Any:
    """A context manager whose ``update(n)`` advances a bar towards ``total`` (in ``unit``;
    bytes by default, shown with binary prefixes). The bar is tqdm's, on stderr, when stderr
    is a terminal, ``quiet`` is false and tqdm (an optional dependency) is installed; else
    updates do nothing, so piped output and logs stay clean. Work finished within half a
    second shows no bar."""
    if quiet or not sys.stderr.isatty():
        return _Silent()
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent()
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, unit_divisor=1024,
                leave=False, delay=0.5, file=sys.stderr)
