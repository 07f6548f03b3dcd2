"""TableHDU: a binary or ASCII table HDU of an open file (its layout, header and checksums)."""

from __future__ import annotations

from fitsbind.direct.hdu import HDU


class TableHDU(HDU):
    """A table HDU (BINTABLE, or TABLE when :attr:`ascii`) of an open :class:`~fitsbind.FITS`
    file. Its layout comes from the header: NAXIS2 rows, TFIELDS columns named by TTYPEn,
    stored as TFORMn."""

    def __init__(self, fits, index: int, ascii: bool) -> None:
        super().__init__(fits, index)
        self._ascii = ascii

    @property
    def ascii(self) -> bool:
        """True for an ASCII table (XTENSION = 'TABLE')."""
        return self._ascii

    @property
    def nrows(self) -> int:
        """Number of rows (NAXIS2)."""
        return int(self.header.get("NAXIS2", 0))

    @property
    def ncols(self) -> int:
        """Number of columns (TFIELDS)."""
        return int(self.header.get("TFIELDS", 0))

    @property
    def colnames(self) -> list[str]:
        """Column names (TTYPEn; ``""`` for an unnamed column)."""
        return [str(self.header.get(f"TTYPE{i}", "")) for i in range(1, self.ncols + 1)]

    @property
    def formats(self) -> list[str]:
        """Column storage formats (TFORMn)."""
        return [str(self.header.get(f"TFORM{i}")) for i in range(1, self.ncols + 1)]
