"""Checks made before a file grows, so a refused size fails before anything is written."""

from __future__ import annotations

import os
import shutil
import tempfile

from fitsbind.errors import FITSValueError

# growing by less than this is never checked: any file system takes it
_CHECK_ABOVE = 1 << 30


def check_can_grow(filename: str, nbytes: int, hdu: int | None = None) -> None:
    """Raise FITSValueError if the file system would refuse ``filename`` growing by ``nbytes``.

    The test grows an empty temporary file in the same directory to the final size as a
    sparse hole (no blocks are written) and deletes it. CFITSIO ignores a failed ftruncate,
    so without this check a too-large HDU would be announced in a header with no room behind it.
    """
    if nbytes < _CHECK_ABOVE:
        return
    directory = os.path.dirname(os.path.abspath(filename))
    try:
        size = os.path.getsize(filename) + nbytes
    except OSError:
        size = nbytes
    try:
        with tempfile.TemporaryFile(dir=directory) as probe:
            os.ftruncate(probe.fileno(), size)
    except (OSError, OverflowError) as exc:
        where = filename if hdu is None else f"{filename}, HDU {hdu}"
        raise FITSValueError(f"{where}: the file cannot grow to {size} bytes on this file "
                             f"system ({exc}); the image is too large", filename=filename,
                             hdu=hdu) from None


def check_free_space(filename: str, nbytes: int, hdu: int | None = None) -> None:
    """Raise FITSValueError unless the disk holding ``filename`` has ``nbytes`` free (plus 1%
    and 1 MiB of margin): inserting data before other HDUs writes every byte for real, and a
    failure halfway would leave the later HDUs half moved."""
    directory = os.path.dirname(os.path.abspath(filename))
    free = shutil.disk_usage(directory).free
    if nbytes + nbytes // 100 + (1 << 20) > free:
        where = filename if hdu is None else f"{filename}, HDU {hdu}"
        raise FITSValueError(f"{where}: growing this HDU inserts {nbytes} bytes before the HDUs "
                             f"after it, but the disk has only {free} bytes free",
                             filename=filename, hdu=hdu)
