"""HDU: what every HDU of an open :class:`~fitsbind.FITS` file has (header, names, checksums)."""

from __future__ import annotations

import datetime
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, NoReturn

from fitsbind._fitsfile import FitsFile
from fitsbind.direct.header import FITSHeader
from fitsbind.errors import FITSError

if TYPE_CHECKING:
    from fitsbind.direct.fits import FITS


class HDU:
    """One header-data unit of an open file. Made by :class:`~fitsbind.FITS`, never directly.

    The object stays bound to its position in the file (``index``) for the life of the
    ``FITS`` object, also when earlier HDUs grow and move its bytes.
    """

    def __init__(self, fits: FITS, index: int) -> None:
        self._fits = fits
        self._index = index
        self._header: FITSHeader | None = None

    def __repr__(self) -> str:
        name = f" {self.extname!r}" if self.extname else ""
        return f"<fitsbind {type(self).__name__} {self._index}{name} of {self._fits.filename!r}>"

    def _selected(self, writing: bool = False) -> AbstractContextManager[FitsFile]:
        """The file handle, locked, with this HDU current (a context manager)."""
        return self._fits._handle(writing).at(self._index, writing)

    def _where(self) -> str:
        return f"{self._fits.filename}, HDU {self._index}"

    def _raise_undone(self, failure: BaseException, what: str) -> NoReturn:
        """Raise ``failure`` after an undone growth; a bare OSError (a full disk) becomes a
        FITSError naming the file, the HDU and ``what`` it was left with."""
        if type(failure) is OSError:
            raise FITSError(f"{self._where()}: {what} ({failure})", filename=self._fits.filename,
                            hdu=self._index) from failure
        raise failure

    # -- hooks for subclasses: keep derived state in step with header edits ------------------

    def _invalidate(self) -> None:
        """Forget what was derived from the HDU's bytes (they changed under this object)."""
        if self._header is not None:
            self._header._invalidate()

    def _before_header_change(self, name: str) -> None:
        """Called before a header card ``name`` is set or deleted; may refuse it."""

    def _after_header_change(self, name: str) -> None:
        """Called after a header card ``name`` was set or deleted (also after a failure)."""

    # -- properties ---------------------------------------------------------------------------

    @property
    def filename(self) -> str:
        """The path of the file the HDU is in."""
        return self._fits.filename

    @property
    def index(self) -> int:
        """Zero-based position of the HDU in its file."""
        return self._index

    @property
    def header(self) -> FITSHeader:
        """The live, write-through :class:`FITSHeader` of this HDU."""
        if self._header is None:
            self._header = FITSHeader(self)
        return self._header

    @property
    def extname(self) -> str | None:
        """EXTNAME, or None when absent."""
        value = self.header.get("EXTNAME")
        return None if value is None else str(value)

    @property
    def extver(self) -> int:
        """EXTVER, 1 when absent (as the FITS standard defines)."""
        value = self.header.get("EXTVER")
        return 1 if value is None else int(value)

    @property
    def unit(self) -> str | None:
        """BUNIT, or None when absent. Informational only."""
        value = self.header.get("BUNIT")
        return None if value is None else str(value)

    @property
    def has_data(self) -> bool:
        """True if the data section is not empty: NAXIS > 0 and every NAXISn > 0."""
        naxis = self.header.get("NAXIS", 0)
        return naxis > 0 and all(self.header.get(f"NAXIS{i}", 0) > 0 for i in range(1, naxis + 1))

    # -- checksums ----------------------------------------------------------------------------

    def add_checksum(self) -> None:
        """Compute and write DATASUM and CHECKSUM (FITS checksum convention).

        They describe the HDU as it is now: run it again after changing data or header.
        """
        try:
            with self._selected(writing=True) as f:
                f.write_checksum()
        finally:
            self.header._invalidate()

    def add_datasum(self) -> None:
        """Compute and write DATASUM only (the data unit's checksum)."""
        with self._selected() as f:
            datasum = f.data_checksum()
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        self.header.set("DATASUM", str(datasum), f"data unit checksum updated {stamp}")

    def verify_checksum(self) -> bool | None:
        """Check CHECKSUM over the whole HDU: True, False, or None when the card is absent."""
        with self._selected() as f:
            return f.verify_checksum()[1]

    def verify_datasum(self) -> bool | None:
        """Check DATASUM over the data unit: True, False, or None when the card is absent."""
        with self._selected() as f:
            return f.verify_checksum()[0]
