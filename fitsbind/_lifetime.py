"""Files their owner forgot to close: closed when collected, with the ResourceWarning Python's
own file objects give (a leaf module: every layer may use it)."""

from __future__ import annotations

import warnings
from typing import Callable


def close_forgotten(what: str, close: Callable[[], None]) -> None:
    """Warn ``unclosed file <what>`` (ResourceWarning), then ``close()``; for ``__del__``.

    The file is closed even when the warning is turned into an error, and an error while
    closing is dropped: a collected object has no caller to report it to."""
    try:
        warnings.warn(f"unclosed file {what}", ResourceWarning, stacklevel=3)
    finally:
        try:
            close()
        except Exception:
            pass
