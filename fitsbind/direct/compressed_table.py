"""CompressedTableHDU: a tile-compressed binary table (``fpack -table``; ZTABLE = T), read
as the table it stands for.

The format (FITS 4.0 section 10.3, and CFITSIO's ``fits_compress_table``, which writes it):
the original table's rows are cut into tiles of ZTILELEN rows. Within a tile every column is
laid out column-major (the cells of all the tile's rows one after another, big-endian) and
compressed on its own with the column's ZCTYPn: GZIP_1, GZIP_2 (the bytes of 2-, 4- and
8-byte I/J/K/E/D values regrouped by significance first; fpack leaves complex and one-byte
columns as they are) or RICE_1 (B, I, J only, block size 32). Each tile is one row of the
compressed BINTABLE, whose columns are byte arrays (``1QB``) in its heap. The original TFORMn,
NAXIS1, NAXIS2 and PCOUNT are kept as ZFORMn, ZNAXIS1, ZNAXIS2 and ZPCOUNT; TTYPEn, TUNITn,
TSCALn, TZEROn, TNULLn, TDIMn stay as they were. A variable-length (P/Q) column holds, per
tile, one gzip stream of the tile's original descriptors followed by 16-byte (count, offset)
descriptors of each row's array, which is compressed on its own (its ZCTYPn; stored as it is
when compressing did not make it smaller) somewhere in the compressed heap.

How it is read, and why
-----------------------
fitsbind decodes the tiles itself: gzip through zlib with the output size fixed in advance,
the GZIP_2 regrouping undone with numpy, Rice through the tile codec of
:mod:`fitsbind._tiles` (CFITSIO's own decoder, bounds-checked). It does not use CFITSIO's
``fits_uncompress_table``, for three reasons found by reading it (4.2.0) and running funpack:

* it is not correct for every column type: it refuses complex (C, M) columns (fpack marks
  them GZIP_2 but leaves them unshuffled), takes the 8-byte descriptors of a PA column for
  1-byte strings and overruns its buffers (funpack aborts on fpack's own output; PM
  columns crash it too);
* it trusts the file: a gzip stream longer than its tile is ``realloc``'d through a pointer
  into the middle of a buffer, Rice errors are ignored, ZNAXIS1 is not checked against the
  ZFORMn widths before rows are copied, and array lengths are allocated as given;
* it decodes every tile and column into a second file, so memory grows with the table.

Decoding here touches only the tiles a read meets and, within them, only the columns asked
for; each output chunk is turned into records by the same row converter and cell decoder as
:class:`~fitsbind.direct.TableHDU`, so dtypes, scaling, nulls and strings come out the same
as from the funpacked file. Decoded tile columns stay in an LRU cache (32 MiB by default),
so reading a table in consecutive row ranges decodes each tile once. Row filters
(``where=``) run CFITSIO's expression parser on decoded rows (of the columns the expression
names) copied, one group of tiles at a time, into a table in memory; terms that need the
whole table at once (``#ROW``, ``ACCUM``, ``SEQDIFF``, NAXIS2) are refused.

fpack stores no bits of variable-length bit arrays (PX): reading such a cell raises, where
funpack would give zeros.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, NoReturn

import numpy as np

from fitsbind import _tiles
from fitsbind._fitsfile import HDU_BINARY_TABLE, FitsFile, convert_rows, memory_table
from fitsbind._workers import executor
from fitsbind.direct.cells import decode, field_names, heap_cells, record
from fitsbind.direct.columns import BINARY_TYPES, ColumnInfo, parse_tform, table_columns
from fitsbind.direct.rows import RowIO, TableLayout, row_span
from fitsbind.direct.table import TableHDU
from fitsbind.direct.tilecache import TileCache, TileCacheMembers
from fitsbind.errors import FITSError, FITSPermissionError, FITSTypeError, FITSValueError

__all__ = ["CompressedTableHDU", "compress_table", "is_compressed_table"]

# decoded bytes a read works on at a time (at least one tile per worker)
_BATCH = 32 << 20

# compressed bytes below which a batch decodes in the calling thread
_SERIAL_BYTES = 1 << 20

# heap bytes between two variable-length cells below which one read fetches both
_GAP = 64 << 10

_ALGORITHMS = ("GZIP_1", "GZIP_2", "RICE_1")

# fixed-width columns GZIP_2 regroups by byte significance (as fpack writes them)
_SHUFFLED = "IJKED"

# keywords of the compressed layout: a header edit may not change them
_LAYOUT_KEYS = frozenset(["ZTABLE", "ZTILELEN", "ZNAXIS1", "ZNAXIS2", "ZPCOUNT", "ZHEAPPTR"])
_LAYOUT_INDEXED = re.compile(r"(ZFORM|ZCTYP)\d+")

# row-filter terms that see the whole table (row numbers, its size, running sums)
_WHOLE_TABLE = re.compile(r"#\$?ROW\b|(?<![\w$])#?\$?(NAXIS2|PCOUNT|THEAP)\b"
                          r"|\b(ACCUM|SEQDIFF)\s*\(", re.IGNORECASE)

# cards of the compressed table that the funpacked one does not have
_PLAIN_DROPPED = _LAYOUT_KEYS | {"CHECKSUM", "DATASUM", "ZHECKSUM", "ZDATASUM", "THEAP"}

# column keywords that describe the original cells, not the compressed byte arrays
_CELL_KEYS = re.compile(r"(TSCAL|TZERO|TNULL|TDIM|TDISP)\d+")

# Rice codecs by bytes per value, for the B, I and J columns fpack codes with RICE_1
_RICE = {1: _tiles.Codec("RICE_1", 8, blocksize=32, bytepix=1),
         2: _tiles.Codec("RICE_1", 16, blocksize=32, bytepix=2),
         4: _tiles.Codec("RICE_1", 32, blocksize=32, bytepix=4)}
_FIRST_TILE = np.zeros(1, np.int64)
# at most this many values per byte of Rice code: a block of 32 equal values costs 3 bits
_RICE_PER_BYTE = 86



def is_compressed_table(f: FitsFile) -> bool:
    """True if the current HDU of ``f`` is a tile-compressed table (BINTABLE, ZTABLE = T)."""
    if f.hdu_type != HDU_BINARY_TABLE:
        return False
    try:
        return f.read_key("ZTABLE")[0] is True
    except KeyError:
        return False


@dataclass(frozen=True)
class _Tiling:
    """The compressed table as stored and how its rows map onto the original's."""

    raw: TableLayout                 # one row per tile; every column a byte array (1QB / 1PB)
    tile_rows: int               # ZTILELEN, at most ZNAXIS2
    ntiles: int
    algorithms: tuple[str, ...]  # ZCTYPn of each column (GZIP_2 when absent, as CFITSIO)


@dataclass
class _Decoded:
    """One column of one tile, decoded: ``cells`` the stored cell bytes (rows x cell bytes),
    ``arrays`` for variable-length columns the (bytes, heap offset) of each row's compressed
    array (int64, rows x 2)."""

    cells: np.ndarray
    arrays: np.ndarray | None

    @property
    def nbytes(self) -> int:
        return self.cells.nbytes + (0 if self.arrays is None else self.arrays.nbytes)


class CompressedTableHDU(TileCacheMembers, TableHDU):
    """A tile-compressed binary table (ZTABLE = T, as ``fpack -table`` writes) of an open
    :class:`~fitsbind.FITS` file, read as the original table.

    ``nrows`` (ZNAXIS2), ``ncols``, ``columns``, ``colnames``, ``formats`` (the ZFORMn),
    ``dtype``, ``column()``, ``read(columns, rows, where=)``, ``read_column``, ``where``,
    ``hdu[rows]`` and ``hdu["NAME"][rows]`` behave as on the uncompressed table (what
    funpack writes) read with :class:`~fitsbind.direct.TableHDU`: same dtypes, values and
    scaling. ``header`` is the live header of the compressed table as stored (NAXIS2 counts
    tiles). A read decodes only the tiles its rows fall in, and only the columns it asks
    for; decoded tile columns are kept in an LRU cache of :attr:`tile_cache_size` bytes.

    The table is read-only: every method that would change its rows or columns raises
    FITSPermissionError and leaves the file as it is (funpack the file to edit the table).
    Header cards other than those of the compressed layout may be edited.
    """

    def __init__(self, fits: Any, index: int) -> None:
        super().__init__(fits, index, ascii=False)
        self._tiling: _Tiling | None = None
        self._cache = TileCache()

    # -- layout -------------------------------------------------------------------------------

    def _layout(self) -> TableLayout:
        """The original table's layout (from the Z keywords)."""
        if self._cached is None:
            self._cached, self._tiling = self._read_layouts()
        return self._cached

    def _tiles(self) -> _Tiling:
        self._layout()
        assert self._tiling is not None
        return self._tiling

    def _read_layouts(self) -> tuple[TableLayout, _Tiling]:
        values = self.header.to_dict()
        where = self._where()

        def count(key: str, least: int = 0) -> int:
            value = values.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise FITSValueError(f"{where}: {key} = {value!r} is not an integer of at least "
                                     f"{least} (a compressed table needs it)",
                                     filename=self._fits.filename, hdu=self._index)
            return value

        nrows, rowsize, pcount = count("ZNAXIS2"), count("ZNAXIS1"), count("ZPCOUNT")
        tile_rows = min(count("ZTILELEN", 1), nrows) if nrows else 0
        ncols = count("TFIELDS")

        # the compressed table as stored: its cell keywords belong to the original columns
        raw_values = {k: v for k, v in values.items() if not _CELL_KEYS.fullmatch(k)}
        raw_cols = table_columns(raw_values, False, where)
        for c in raw_cols:
            if not (c.vla and c.code == "B"):
                raise FITSValueError(f"{where}: column {c.index + 1} ({c.name!r}) of the "
                                     f"compressed table is {c.tform!r}, not a byte array "
                                     "(1QB or 1PB)", filename=self._fits.filename,
                                     hdu=self._index)
        raw = _table_layout(raw_cols, raw_values, where, self._fits.filename, self._index)
        ntiles = -(-nrows // tile_rows) if nrows else 0
        if raw.nrows < ntiles:
            raise FITSValueError(f"{where}: {nrows} rows in tiles of {tile_rows} need {ntiles} "
                                 f"rows in the compressed table, which has {raw.nrows}",
                                 filename=self._fits.filename, hdu=self._index)

        # the original table: ZFORMn for TFORMn, the Z sizes for the table's own
        original = dict(values)
        total = 0
        for i in range(1, ncols + 1):
            zform = values.get(f"ZFORM{i}")
            if zform is None:
                raise FITSValueError(f"{where}: column {i} has no ZFORM{i}",
                                     filename=self._fits.filename, hdu=self._index)
            try:
                total += parse_tform(str(zform)).nbytes
            except ValueError as exc:
                raise FITSValueError(f"{where}, column {i} (ZFORM{i}): {exc}",
                                     filename=self._fits.filename, hdu=self._index) from None
            original[f"TFORM{i}"] = zform
        if total != rowsize:
            raise FITSValueError(f"{where}: ZNAXIS1 = {rowsize} but the ZFORMn formats add up "
                                 f"to {total} bytes per row", filename=self._fits.filename,
                                 hdu=self._index)
        original.update(NAXIS1=rowsize, NAXIS2=nrows, PCOUNT=pcount)
        original.pop("THEAP", None)
        columns = table_columns(original, False, where)
        layout = _table_layout(columns, original, where, self._fits.filename, self._index)
        algorithms = tuple(str(values.get(f"ZCTYP{i}", "GZIP_2")).strip().upper()
                           for i in range(1, ncols + 1))
        return layout, _Tiling(raw, tile_rows, ntiles, algorithms)

    def _invalidate(self) -> None:
        super()._invalidate()
        self._cache.clear()

    def _before_header_change(self, name: str) -> None:
        self._fits._require_writable()
        if name in _LAYOUT_KEYS or _LAYOUT_INDEXED.fullmatch(name):
            raise FITSValueError(f"{self._where()}: {name} describes the compressed table's "
                                 "layout and cannot be changed", filename=self._fits.filename,
                                 hdu=self._index)

    def _after_header_change(self, name: str) -> None:
        super()._after_header_change(name)
        self._cached = None
        self._cache.clear()

    @property
    def has_data(self) -> bool:
        """True if the original table has rows and columns (ZNAXIS1, ZNAXIS2 > 0)."""
        layout = self._layout()
        return layout.nrows > 0 and layout.rowsize > 0

    @property
    def tile_rows(self) -> int:
        """Rows per tile (ZTILELEN; the last tile may have fewer)."""
        return self._tiles().tile_rows

    @property
    def n_tiles(self) -> int:
        """Number of tiles (rows of the compressed table in use)."""
        return self._tiles().ntiles

    @property
    def compression(self) -> dict[str, str]:
        """Column name → its compression algorithm (ZCTYPn: GZIP_1, GZIP_2 or RICE_1)."""
        return {c.name: a for c, a in zip(self._layout().columns, self._tiles().algorithms)}

    # -- reading ------------------------------------------------------------------------------

    def _read(self, columns: Sequence[str | int] | str | None, rows: Any, where: str | None,
              scale: bool, mask_null: bool, vla: str, split: bool) -> Any:
        """:meth:`TableHDU.read <fitsbind.direct.TableHDU.read>` and ``read_columns`` of the
        original table: only the tiles holding the rows, and in them only the requested
        columns, are decoded."""
        _, cols, names, selection = self._read_plan(columns, rows, where, vla)
        if isinstance(selection, slice):
            wanted, inverse = selection, None
        else:
            wanted, inverse = np.unique(selection, return_inverse=True)
            if len(wanted) == len(selection) and np.array_equal(wanted, selection):
                inverse = None
        records, arrays = self._records(cols, names, wanted, not mask_null)
        if inverse is not None:
            records = records[inverse]
            arrays = {k: v[inverse] for k, v in arrays.items()}
        return decode(records, cols, names, scale=scale, mask_null=mask_null, vla=vla,
                      heap=lambda c, d: self._cells(c, d, arrays[c.index], scale), split=split)

    def _filter(self, selection: slice | np.ndarray, expr: str, nrows: int) -> np.ndarray:
        """Rows of ``selection`` where CFITSIO's row filter ``expr`` holds, evaluated on the
        decoded rows: each group of tiles is copied into a table in memory that has the
        funpacked header, and the expression runs there."""
        if not isinstance(expr, str):
            raise FITSTypeError(f"a row filter is a str expression, not {expr!r}")
        whole_table = _WHOLE_TABLE.search(expr)
        if whole_table:
            raise NotImplementedError(
                f"{self._where()}: row filters on a tile-compressed table run on one group of "
                f"tiles at a time, where {whole_table.group(0).strip()!r} would describe the "
                "group, not the table; select rows by number with rows= instead")
        first, count = row_span(selection)
        if count == 0:
            return np.zeros(0, np.int64)
        layout, tiling = self._layout(), self._tiles()
        # only the columns the expression names are decoded (the others stay zero); a
        # $quoted$ name may hold CFITSIO's wildcards, so then every column is
        used = [c for c in layout.columns if "$" in expr or (c.name and re.search(
            rf"(?<![\w#$]){re.escape(c.name)}(?!\w)", expr, re.IGNORECASE))]
        hits = np.zeros(count, bool)
        step = tiling.tile_rows * max(1, _BATCH // max(1, tiling.tile_rows * layout.rowsize))
        start = first
        while start < first + count:
            stop = min(first + count, (start // step + 1) * step)
            rows, heap = self._plain(slice(start, stop), used)
            cards = self._plain_header(stop - start, len(heap))
            try:
                with memory_table(cards, rows.reshape(-1), heap) as f:
                    hits[start - first:stop - first] = f.find_rows(expr, 0, stop - start)
            except FITSError as exc:
                detail = "".join(f"\n  CFITSIO: {m}" for m in exc.messages)
                raise type(exc)(f"{self._where()}: evaluating the row filter {expr!r}: "
                                f"{exc.status_text}{detail}", status=exc.status,
                                status_text=exc.status_text, messages=exc.messages,
                                filename=self._fits.filename, hdu=self._index) from None
            start = stop
        if isinstance(selection, slice):
            return np.flatnonzero(hits).astype(np.int64) + first
        return selection[hits[selection - first]]

    def _plain_header(self, nrows: int, heap: int) -> str:
        """The header of the funpacked table (as fits_uncompress_table makes it) for a table
        of ``nrows`` rows and a ``heap``-byte heap, as card images."""
        sizes = {"NAXIS1": self._layout().rowsize, "NAXIS2": nrows, "PCOUNT": heap}
        cards = []
        for card in self.header.cards:
            key = card.keyword.upper()
            if key in sizes:
                cards.append(f"{key:8}= {sizes[key]:>20}")
            elif re.fullmatch(r"TFORM\d+", key):
                cards.append(f"{key:8}= '{self.header['Z' + key[1:]]:8}'")
            elif key not in _PLAIN_DROPPED and not _LAYOUT_INDEXED.fullmatch(key):
                cards.append(card.image)
        return "".join(card.ljust(80) for card in cards)

    def funpacked(self) -> tuple[str, Iterator[np.ndarray]]:
        """The table as funpack restores it: its header (card images, END excluded) and its
        data unit as uint8 chunks in file order, for ``FITS.append_hdu``. A table without
        variable-length columns comes whole tiles at a time, about 32 MiB of rows per chunk;
        one with them is restored at once (its heap, whose size the header states, follows
        every row)."""
        layout = self._layout()
        cols = list(layout.columns)
        if any(c.vla for c in cols):
            rows, heap = self._plain(slice(0, layout.nrows), cols)
            return self._plain_header(layout.nrows, heap.size), iter([rows.reshape(-1), heap])
        tile = self.tile_rows
        step = max(1, _BATCH // max(layout.rowsize * tile, 1)) * tile

        def chunks() -> Iterator[np.ndarray]:
            for start in range(0, layout.nrows, step):
                stop = min(layout.nrows, start + step)
                yield self._plain(slice(start, stop), cols)[0].reshape(-1)

        return self._plain_header(layout.nrows, 0), chunks()

    def _plain(self, wanted: slice, cols: list[ColumnInfo]) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``wanted`` of the funpacked table as stored (uint8, rows x ZNAXIS1), with the
        cells of ``cols`` only (others zero), and a heap (uint8) holding their
        variable-length arrays, the descriptors pointed at it."""
        layout = self._layout()
        rows = np.zeros((wanted.stop - wanted.start, layout.rowsize), np.uint8)
        arrays = {c.index: np.zeros((len(rows), 2), np.int64) for c in cols if c.vla}
        for p0, p1, parts in self._pieces(cols, wanted):
            for index, (cells, located) in parts.items():
                c = layout.columns[index]
                rows[p0:p1, c.offset:c.offset + c.nbytes] = cells
                if located is not None:
                    arrays[index][p0:p1] = located
        heap: list[np.ndarray] = []
        at = 0
        for c in cols:
            if not c.vla or not c.nbytes:
                continue
            stored = np.ascontiguousarray(rows[:, c.offset:c.offset + c.nbytes]).view(
                f">i{c.nbytes // 2}")
            found = self._cell_bytes(c, stored.astype(np.int64), arrays[c.index])
            sizes = np.array([len(b) for b in found], np.int64)
            stored[:, 1] = at + np.cumsum(sizes) - sizes
            rows[:, c.offset:c.offset + c.nbytes] = stored.view(np.uint8)
            heap += found
            at += int(sizes.sum())
        return rows, np.concatenate(heap) if heap else np.zeros(0, np.uint8)

    def _records(self, cols: list[ColumnInfo], names: list[str], wanted: slice | np.ndarray,
                 logicals: bool) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Records (as :func:`~fitsbind.direct.cells.record` lays them out) of the rows in
        ``wanted`` (a slice, or ascending unique indices), and for each variable-length
        column the (bytes, heap offset) of each row's compressed array."""
        dtype, fields = record(_narrow(cols), names, logicals)
        nsel = wanted.stop - wanted.start if isinstance(wanted, slice) else len(wanted)
        records = np.empty(nsel, dtype)
        arrays = {c.index: np.zeros((nsel, 2), np.int64) for c in cols if c.vla}
        # each column converts straight from its decoded cells: a one-column "row"
        single = {c.index: [(0, *field[1:])] for c, field in zip(cols, fields)}
        for p0, p1, parts in self._pieces(cols, wanted):
            for index, (cells, located) in parts.items():
                convert_rows(np.ascontiguousarray(cells).reshape(-1), cells.shape[1],
                             single[index], records[p0:p1])
                if located is not None:
                    arrays[index][p0:p1] = located
        return records, arrays

    def _pieces(self, cols: list[ColumnInfo], wanted: slice | np.ndarray
                ) -> Iterator[tuple[int, int, dict[int, tuple[np.ndarray, np.ndarray | None]]]]:
        """The rows of ``wanted`` (a slice, or ascending unique indices) tile by tile: (first
        and end position in ``wanted``, {column index: (its stored cells, rows x cell bytes;
        for a variable-length column the (bytes, heap offset) of each row's compressed
        array, else None)}) for the columns of ``cols`` that have bytes."""
        tiling = self._tiles()
        if isinstance(wanted, slice):
            first, nsel, rows = wanted.start, wanted.stop - wanted.start, None
        else:
            first, nsel, rows = 0, len(wanted), wanted
        if nsel == 0:
            return
        per_tile = tiling.tile_rows
        if rows is None:
            tiles = np.arange(first // per_tile, (first + nsel - 1) // per_tile + 1)
            bounds = np.clip(tiles * per_tile - first, 0, nsel)
        else:
            tiles, bounds = np.unique(rows // per_tile, return_index=True)
        bounds = np.r_[bounds, nsel].astype(np.int64)
        stored = [c for c in cols if c.nbytes]
        decoded_row = sum(c.nbytes + (16 if c.vla else 0) for c in stored) or 1
        batch = max(os.cpu_count() or 1, _BATCH // (per_tile * decoded_row))
        for lo in range(0, len(tiles), batch):
            group = tiles[lo:lo + batch].tolist()
            decoded = self._decoded(group, stored)
            for k, tile in enumerate(group, lo):
                p0, p1 = int(bounds[k]), int(bounds[k + 1])
                if rows is None:
                    a = first + p0 - tile * per_tile
                    local: Any = slice(a, a + p1 - p0)
                else:
                    local = rows[p0:p1] - tile * per_tile
                parts = {}
                for c in stored:
                    part = decoded[tile, c.index]
                    parts[c.index] = (part.cells[local],
                                      None if part.arrays is None else part.arrays[local])
                yield p0, p1, parts

    def _decoded(self, tiles: list[int], cols: list[ColumnInfo]) -> dict[tuple[int, int],
                                                                         _Decoded]:
        """The decoded columns ``cols`` of ``tiles``: from the cache, else read and decoded
        (in worker threads when there is enough of it)."""
        found: dict[tuple[int, int], _Decoded] = {}
        missing: list[tuple[int, ColumnInfo]] = []
        for tile in tiles:
            for c in cols:
                item = self._cache.get((tile, c.index))
                if item is None:
                    missing.append((tile, c))
                else:
                    found[tile, c.index] = item
        if not missing:
            return found
        tiling = self._tiles()
        jobs = self._compressed(missing)
        nrows = self._layout().nrows

        def run(job: tuple[int, ColumnInfo, np.ndarray]) -> _Decoded:
            tile, c, data = job
            n = min(tiling.tile_rows, nrows - tile * tiling.tile_rows)
            return _decode_column(data, c, tiling.algorithms[c.index], n,
                                  f"{c.where(self._fits.filename, self._index)}, tile {tile}",
                                  self._fits.filename, self._index)

        if len(jobs) > 1 and sum(len(j[2]) for j in jobs) >= _SERIAL_BYTES:
            results = list(executor("table-tiles").map(run, jobs))
        else:
            results = [run(job) for job in jobs]
        for (tile, c, _), item in zip(jobs, results):
            found[tile, c.index] = item
            self._cache.put((tile, c.index), item)
        return found

    def _compressed(self, wanted: list[tuple[int, ColumnInfo]]
                    ) -> list[tuple[int, ColumnInfo, np.ndarray]]:
        """The compressed bytes of each (tile, column), read from the heap (one read per
        tile when its columns lie close together)."""
        tiles = np.unique([t for t, _ in wanted])
        jobs = []
        with self._selected() as f:
            io = RowIO(f, writing=False)
            sizes, offsets = self._descriptors(io, tiles, sorted({c.index for _, c in wanted}))
            row_of = {int(t): k for k, t in enumerate(tiles)}
            by_tile: dict[int, list[ColumnInfo]] = {}
            for tile, c in wanted:
                by_tile.setdefault(tile, []).append(c)
            for tile, cols in by_tile.items():
                k = row_of[tile]
                n = np.array([sizes[k, c.index] for c in cols], np.int64)
                o = np.array([offsets[k, c.index] for c in cols], np.int64)
                lo, hi = int(o.min()), int((o + n).max())
                if hi - lo <= n.sum() + _GAP:
                    span = self._heap_bytes(f, io, lo, hi - lo)
                    jobs += [(tile, c, span[int(a) - lo:int(a + b) - lo])
                             for c, a, b in zip(cols, o, n)]
                else:
                    jobs += [(tile, c, self._heap_bytes(f, io, int(a), int(b)))
                             for c, a, b in zip(cols, o, n)]
        return jobs

    def _descriptors(self, io: RowIO, tiles: np.ndarray, columns: list[int]
                     ) -> tuple[np.ndarray, np.ndarray]:
        """(bytes, heap offset) of the compressed cells in ``tiles`` (ascending), int64
        arrays of tiles x columns; FITSError if one of ``columns`` lies outside the heap."""
        raw = self._tiles().raw
        stored = np.empty((len(tiles), raw.rowsize), np.uint8)
        breaks = np.flatnonzero(np.diff(tiles) != 1) + 1
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(tiles)]):
            io.read_bytes(int(tiles[lo]) * raw.rowsize, stored[lo:hi].reshape(-1))
        sizes = np.empty((len(tiles), len(raw.columns)), np.int64)
        offsets = np.empty_like(sizes)
        for c in raw.columns:
            width = 4 if c.vla == "P" else 8
            pair = np.ascontiguousarray(stored[:, c.offset:c.offset + 2 * width])
            pair = pair.view(f">i{width}").astype(np.int64)
            sizes[:, c.index], offsets[:, c.index] = pair[:, 0], pair[:, 1]
        bad = np.zeros_like(sizes, bool)
        bad[:, columns] = ((sizes < 0) | (offsets < 0) | (offsets + sizes > raw.heap_size)
                           )[:, columns]
        if bad.any():
            k, i = (int(v[0]) for v in np.nonzero(bad))
            raise FITSError(f"{self._where()}, column {raw.columns[i].name!r}: the compressed "
                            f"cell of tile {int(tiles[k])} (descriptor {sizes[k, i]} bytes at "
                            f"{offsets[k, i]}) lies outside the {raw.heap_size}-byte heap",
                            filename=self._fits.filename, hdu=self._index)
        return sizes, offsets

    def _heap_bytes(self, f: FitsFile, io: RowIO, offset: int, nbytes: int) -> np.ndarray:
        """``nbytes`` bytes of the compressed table's heap from ``offset`` on (uint8); the
        file must hold them (a truncated file raises before anything is allocated)."""
        start = self._tiles().raw.heap_start + offset
        missing = f.data_missing(start + nbytes)
        if missing:
            raise FITSError(f"{self._where()}: file is truncated: {missing} bytes of the "
                            "compressed table's heap are missing", filename=self._fits.filename,
                            hdu=self._index)
        out = np.empty(nbytes, np.uint8)
        io.read_bytes(start, out)
        return out

    # -- variable-length cells ----------------------------------------------------------------

    def _cells(self, c: ColumnInfo, descriptors: np.ndarray, arrays: np.ndarray,
               scale: bool) -> list:
        """The cells of variable-length column ``c`` for rows with these original
        descriptors and compressed arrays at ``arrays`` (bytes, heap offset)."""
        cells = self._cell_bytes(c, descriptors, arrays)
        sizes = np.array([len(b) for b in cells], np.int64)
        starts = np.cumsum(sizes) - sizes
        heap = np.concatenate(cells) if cells else np.zeros(0, np.uint8)
        rebased = np.stack([descriptors[:, 0].astype(np.int64), starts], axis=1)
        return heap_cells(c, rebased, heap.data, 0, self._where(), scale)

    def _cell_bytes(self, c: ColumnInfo, descriptors: np.ndarray,
                    arrays: np.ndarray) -> list[np.ndarray]:
        """Each row's array of variable-length column ``c`` as stored in the funpacked
        heap (uint8), decoded from the compressed heap."""
        layout, tiling = self._layout(), self._tiles()
        where = c.where(self._fits.filename, self._index)
        counts = descriptors[:, 0].astype(np.int64)
        offsets = descriptors[:, 1].astype(np.int64)
        nbytes = (counts + 7) // 8 if c.code == "X" else counts * BINARY_TYPES[c.code].itemsize
        bad = (counts < 0) | (offsets < 0) | (offsets + nbytes > layout.heap_size)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise FITSValueError(f"{where}: a variable-length descriptor (count {counts[i]}, "
                                 f"offset {offsets[i]}) points outside the {layout.heap_size}"
                                 "-byte heap", filename=self._fits.filename, hdu=self._index)
        sizes, places = arrays[:, 0], arrays[:, 1]
        raw = tiling.raw
        bad = (nbytes > 0) & ((sizes <= 0) | (places < 0) | (places + sizes > raw.heap_size))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise FITSError(f"{where}: the compressed array of a {counts[i]}-element cell "
                            f"({sizes[i]} bytes at heap offset {places[i]}) is missing or "
                            f"outside the {raw.heap_size}-byte heap",
                            filename=self._fits.filename, hdu=self._index)
        algorithm = tiling.algorithms[c.index]
        empty = np.zeros(0, np.uint8)
        out = [empty] * len(counts)
        used = np.flatnonzero(nbytes > 0)
        if not len(used):
            return out
        # the arrays of one tile lie together in the heap: read them in few spans
        order = used[np.argsort(places[used], kind="stable")]
        ends = np.maximum.accumulate(places[order] + sizes[order])
        splits = np.flatnonzero(places[order][1:] > ends[:-1] + _GAP) + 1
        groups = np.split(order, splits)
        with self._selected() as f:
            io = RowIO(f, writing=False)
            spans = [self._heap_bytes(f, io, int(places[g].min()),
                                      int((places[g] + sizes[g]).max() - places[g].min()))
                     for g in groups]
        for group, span in zip(groups, spans):
            lo = int(places[group].min())
            for i in group.tolist():
                data = span[int(places[i]) - lo:int(places[i] + sizes[i]) - lo]
                out[i] = _decode_array(data, c, algorithm, int(counts[i]), int(nbytes[i]),
                                       where, self._fits.filename, self._index)
        return out

    # -- writing: refused ---------------------------------------------------------------------

    def _read_only(self, what: str) -> NoReturn:
        raise FITSPermissionError(
            f"{self._where()}: cannot {what}: tile-compressed tables (ZTABLE = T) are "
            "read-only in fitsbind; funpack the file to change the table",
            filename=self._fits.filename, hdu=self._index)

    def write(self, data: Any, start: int = 0, *, truncate: bool = False) -> None:
        """Refused: tile-compressed tables are read-only (FITSPermissionError)."""
        self._read_only("write rows")

    def append(self, data: Any, *, truncate: bool = False) -> None:
        """Refused: tile-compressed tables are read-only (FITSPermissionError)."""
        self._read_only("append rows")

    def write_column(self, name: str | int, values: Any, rows: Any = None, *,
                     truncate: bool = False) -> None:
        """Refused: tile-compressed tables are read-only (FITSPermissionError)."""
        self._read_only("write a column")

    def __setitem__(self, key: Any, value: Any) -> None:
        """Refused: tile-compressed tables are read-only (FITSPermissionError)."""
        self._read_only("write a column")

    def insert_rows(self, at: int, nrows: int) -> None:
        """Refused: tile-compressed tables are read-only (FITSPermissionError)."""
        self._read_only("insert rows")

    def delete_rows(self, rows: Any) -> None:
        """Refused: tile-compressed tables are read-only (FITSPermissionError)."""
        self._read_only("delete rows")

    def insert_column(self, name: str, data: Any = None, position: int | None = None, *,
                      format: Any = None, truncate: bool = False) -> None:
        """Refused: tile-compressed tables are read-only (FITSPermissionError)."""
        self._read_only("insert a column")

    def delete_column(self, name: str | int) -> None:
        """Refused: tile-compressed tables are read-only (FITSPermissionError)."""
        self._read_only("delete a column")


def compress_table(source: TableHDU, target: Any) -> TableHDU:
    """Append the binary table ``source`` to ``target`` (a :class:`~fitsbind.FITS` of
    another file, open for writing) tile-compressed as ``fpack -table`` writes it, with
    CFITSIO's ``fits_compress_table``; return the new HDU (a :class:`CompressedTableHDU`).

    As for fpack, cards of the source header direct it: ``FZTILELN`` the rows per tile
    (default: about 10 MB of rows), ``FZALGOR`` / ``FZALGn`` the algorithm of all / column n
    (GZIP_1, GZIP_2, RICE_1; CFITSIO replaces one that does not suit a column's type).
    Tables of less than 5760 bytes, or without rows, are copied uncompressed (a plain
    :class:`~fitsbind.direct.TableHDU` comes back). Variable-length bit arrays (PX) are
    refused: fits_compress_table drops their bits.
    """
    if not isinstance(source, TableHDU) or isinstance(source, CompressedTableHDU) \
            or source.ascii:
        raise FITSTypeError(f"compress_table takes an uncompressed binary TableHDU, not {source!r}")
    bits = [c.name for c in source.columns if c.vla and c.code == "X"]
    if bits:
        raise FITSValueError(f"{source._where()}: variable-length bit columns {bits} cannot be "
                             "tile-compressed (CFITSIO stores none of their bits)",
                             filename=source._fits.filename, hdu=source.index)
    out = target._handle(writing=True)
    with out.lock:
        if out.num_hdus() == 0:
            out.create_image_hdu(8, ())
            out.finish_hdu()
        with source._selected() as f:
            index = f.compress_table(out)
        hdu = target._hdu(index)
    assert isinstance(hdu, TableHDU)
    return hdu


def _table_layout(columns: list[ColumnInfo], values: dict[str, Any], where: str,
                  filename: str, hdu: int) -> TableLayout:
    """The :class:`TableLayout` of a binary table with these columns and header values."""
    sizes = []
    for key in ("NAXIS1", "NAXIS2", "PCOUNT"):
        value = values.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise FITSValueError(f"{where}: {key} = {value!r} is not a size", filename=filename,
                                 hdu=hdu)
        sizes.append(value)
    rowsize, nrows, pcount = sizes
    theap = values.get("THEAP", rowsize * nrows)
    if not isinstance(theap, int) or not rowsize * nrows <= theap <= rowsize * nrows + pcount:
        raise FITSValueError(f"{where}: THEAP = {theap!r} is outside the data (rows end at "
                             f"byte {rowsize * nrows}, PCOUNT {pcount})", filename=filename,
                             hdu=hdu)
    return TableLayout(tuple(columns), tuple(field_names(columns)), rowsize, nrows, theap,
                   rowsize * nrows + pcount - theap)


def _narrow(cols: list[ColumnInfo]) -> list[ColumnInfo]:
    """``cols`` placed one after another in a row of their own, as the records of a read
    that asks for these columns only lay them out."""
    narrow, at = [], 0
    for c in cols:
        narrow.append(replace(c, offset=at))
        at += c.nbytes
    return narrow


def _decode_column(data: np.ndarray, c: ColumnInfo, algorithm: str, n: int, where: str,
                   filename: str, hdu: int) -> _Decoded:
    """Decode one column of an ``n``-row tile from its compressed bytes."""
    width = c.nbytes
    if c.vla:
        # descriptors are always gzipped: the tile's original ones, then where each row's
        # compressed array is
        raw = _gunzip(data, n * (width + 16), where, filename, hdu)
        arrays = raw[n * width:].view(">i8").reshape(n, 2).astype(np.int64)
        return _Decoded(raw[:n * width].reshape(n, width), arrays)
    cells = _decode_values(data, c, algorithm, n * c.form.repeat, n * width, c.code in _SHUFFLED,
                           where, filename, hdu)
    return _Decoded(cells.reshape(n, width), None)


def _decode_array(data: np.ndarray, c: ColumnInfo, algorithm: str, count: int, nbytes: int,
                  where: str, filename: str, hdu: int) -> np.ndarray:
    """One variable-length array (``count`` elements, ``nbytes`` stored) from its bytes in
    the compressed heap."""
    if len(data) == nbytes:
        return data     # compressing did not make it smaller: stored as it is
    size = BINARY_TYPES[c.code].itemsize
    return _decode_values(data, c, algorithm, count, nbytes, size in (2, 4, 8) and c.code != "X",
                          where, filename, hdu)


def _decode_values(data: np.ndarray, c: ColumnInfo, algorithm: str, count: int, nbytes: int,
                   shuffled: bool, where: str, filename: str, hdu: int) -> np.ndarray:
    """``count`` values of column ``c`` (``nbytes`` bytes, big-endian, uint8, contiguous)
    from their compressed bytes; ``shuffled``: GZIP_2 regrouped their bytes."""
    if algorithm not in _ALGORITHMS:
        raise FITSError(f"{where}: ZCTYP{c.index + 1} = {algorithm!r} is not a table "
                        f"compression algorithm ({', '.join(_ALGORITHMS)})", filename=filename,
                        hdu=hdu)
    size = BINARY_TYPES[c.code].itemsize
    if algorithm == "RICE_1":
        return _unrice(data, count, size, c, where, filename, hdu)
    out = _gunzip(data, nbytes, where, filename, hdu)
    if algorithm == "GZIP_2" and shuffled:
        out = np.ascontiguousarray(out.reshape(size, -1).T).reshape(-1)
    return out


def _gunzip(data: np.ndarray, nbytes: int, where: str, filename: str, hdu: int) -> np.ndarray:
    """The ``nbytes`` bytes a gzip stream holds (uint8); FITSError if it is corrupt,
    truncated, or holds another number of bytes."""
    stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = stream.decompress(data, nbytes + 1)
        if not stream.eof and len(out) <= nbytes:
            out += stream.decompress(stream.unconsumed_tail, 1)
    except zlib.error as exc:
        raise FITSError(f"{where}: the gzip stream is corrupt ({exc})", filename=filename,
                        hdu=hdu) from None
    if len(out) > nbytes:
        raise FITSError(f"{where}: the gzip stream holds more than the {nbytes} bytes of the "
                        "cells", filename=filename, hdu=hdu)
    if not stream.eof or len(out) != nbytes:
        raise FITSError(f"{where}: the gzip stream is truncated: {len(out)} of {nbytes} bytes",
                        filename=filename, hdu=hdu)
    return np.frombuffer(out, np.uint8)


def _unrice(data: np.ndarray, count: int, size: int, c: ColumnInfo, where: str, filename: str,
            hdu: int) -> np.ndarray:
    """``count`` Rice-coded values of ``size`` bytes as stored (big-endian, uint8)."""
    codec = _RICE.get(size)
    if codec is None or c.code not in "BIJ":
        raise FITSError(f"{where}: RICE_1 codes B, I and J values only, not {c.tform!r}",
                        filename=filename, hdu=hdu)
    if count > _RICE_PER_BYTE * len(data) + 64:
        raise FITSError(f"{where}: {len(data)} bytes of Rice code cannot hold {count} values",
                        filename=filename, hdu=hdu)
    values = np.empty(count, codec.dtype)
    if count:
        try:
            _tiles.decode_tiles(codec, (count,), (count,), _FIRST_TILE, data,
                                np.array([len(data)], np.int64), np.zeros(1, np.int64), values,
                                (0,), threads=1)
        except (FITSError, ValueError) as exc:
            raise FITSError(f"{where}: {exc}", filename=filename, hdu=hdu) from None
    return values.astype(values.dtype.newbyteorder(">")).view(np.uint8)
