"""Exceptions raised when a CFITSIO call fails.

Every failure reported by CFITSIO is a :class:`FITSError` (an :class:`OSError`). Where a Python
built-in exception says the same thing, the raised class derives from both, so callers may catch
either: a missing keyword is a :class:`FITSKeyError`, which is also a :class:`KeyError`.
"""

from __future__ import annotations

__all__ = [
    "FITSError",
    "FITSFileExistsError",
    "FITSFileNotFoundError",
    "FITSIndexError",
    "FITSIsADirectoryError",
    "FITSKeyError",
    "FITSMemoryError",
    "FITSPermissionError",
    "FITSTypeError",
    "FITSValueError",
]


class FITSError(OSError):
    """A CFITSIO call failed.

    Attributes:
        status: CFITSIO's status code (``int``), or ``None`` for errors detected by fitsbind.
        status_text: CFITSIO's one-line description of ``status``.
        messages: the detail CFITSIO put on its error-message stack, oldest first (``list[str]``).
        filename: the file the call was made on (``str`` or ``None``).
        hdu: zero-based index of the HDU the call was made on, when one was current.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        status_text: str = "",
        messages: list[str] | tuple[str, ...] = (),
        filename: str | None = None,
        hdu: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.status_text = status_text
        self.messages = list(messages)
        self.filename = filename
        self.hdu = hdu

    def __str__(self) -> str:
        # KeyError would otherwise show repr(message)
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):
        # OSError keeps ``filename`` in a slot, outside __dict__
        return _rebuild, (type(self), self.args[0], {**self.__dict__, "filename": self.filename})


def _rebuild(cls: type, message: str, state: dict) -> FITSError:
    exc = cls(message)
    for name, value in state.items():
        setattr(exc, name, value)
    return exc


class FITSFileNotFoundError(FITSError, FileNotFoundError):
    """The file does not exist."""


class FITSFileExistsError(FITSError, FileExistsError):
    """The file to be created exists already."""


class FITSIsADirectoryError(FITSError, IsADirectoryError):
    """A directory was given where a FITS file was expected."""


class FITSPermissionError(FITSError, PermissionError):
    """The file may not be read or written in the requested way (e.g. writing in read-only mode)."""


class FITSKeyError(FITSError, KeyError):
    """A keyword, or an HDU looked up by name, does not exist."""


class FITSIndexError(FITSError, IndexError):
    """An HDU, keyword or row number is out of range."""


class FITSValueError(FITSError, ValueError):
    """A value cannot be represented or parsed (bad keyword value, overflow, bad characters)."""


class FITSTypeError(FITSError, TypeError):
    """Data of a type the HDU cannot store (e.g. float pixels into an unscaled integer image)."""


class FITSMemoryError(FITSError, MemoryError):
    """CFITSIO could not allocate memory."""
