"""Where a table's rows are (:class:`TableLayout`) and how they move between file and memory
(:class:`RowIO`), for plain and tile-compressed tables alike."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fitsbind._fitsfile import FitsFile, convert_rows, raw_read_bytes
from fitsbind.direct import rawio
from fitsbind.direct.columns import ColumnInfo

__all__ = ["RowIO", "TableLayout", "row_span"]


@dataclass(frozen=True)
class TableLayout:
    """Where a table's columns and heap are: the columns, their record field names, NAXIS1
    (``rowsize``), NAXIS2 (``nrows``), THEAP and the heap's size."""

    columns: tuple[ColumnInfo, ...]
    names: tuple[str, ...]      # record field names (unique)
    rowsize: int
    nrows: int
    heap_start: int             # THEAP: heap offset from the start of the data
    heap_size: int              # heap bytes from THEAP to the end of the data


class RowIO:
    """Moves stored rows and heap bytes: raw pread/pwrite on plain files, CFITSIO's byte
    routines otherwise (gzip-compressed files, which CFITSIO holds in memory)."""

    def __init__(self, f: FitsFile, writing: bool) -> None:
        self._f = f
        self._access = f.raw_access(writing)

    def read(self, rowsize: int, first: int, nrows: int, fields: list, out: np.ndarray,
             out_first: int) -> None:
        if nrows == 0:
            return
        if self._access is not None:
            rawio.read_rows(*self._access, rowsize, first, nrows, fields, out, out_first)
            return
        stored = np.empty(nrows * rowsize, np.uint8)
        self._f.read_data_bytes(first * rowsize, stored)
        convert_rows(stored, rowsize, fields, out[out_first:out_first + nrows])

    def write(self, rowsize: int, first: int, fields: list, records: np.ndarray) -> None:
        if self._access is not None:
            rawio.write_rows(*self._access, rowsize, first, fields, records)
            return
        stored = np.empty(len(records) * rowsize, np.uint8)
        self._f.read_data_bytes(first * rowsize, stored)
        convert_rows(stored, rowsize, fields, records, to_disk=True)
        self._f.write_data_bytes(first * rowsize, stored)

    def read_bytes(self, offset: int, out: np.ndarray) -> None:
        if self._access is not None:
            fd, datastart = self._access
            raw_read_bytes(fd, datastart + offset, out)
        else:
            self._f.read_data_bytes(offset, out)


def row_span(selection: slice | np.ndarray) -> tuple[int, int]:
    """``(first row, row count)`` of the contiguous rows covering a selection."""
    if isinstance(selection, slice):
        return selection.start, selection.stop - selection.start
    if not selection.size:
        return 0, 0
    first = int(selection.min())
    return first, int(selection.max()) + 1 - first
