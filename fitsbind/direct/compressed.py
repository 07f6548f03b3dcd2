"""CompressedImageHDU: a tile-compressed image (FITS tile-compression convention).

On disk the image is a BINTABLE (ZIMAGE = T) with one row per tile: descriptors into the
heap where each tile's compressed bytes live (COMPRESSED_DATA; GZIP_COMPRESSED_DATA for
float tiles that could not be quantized; UNCOMPRESSED_DATA), and per-tile ZSCALE/ZZERO/ZBLANK
for quantized floats. Tiles are encoded and decoded by :mod:`fitsbind._tiles` (CFITSIO's
codecs, with the GIL released, on every core); this module decides which tiles to touch and
where their bytes go in the file.

Changing tiles never rewrites bytes in place: re-encoded tiles are appended to the heap and
their descriptors repointed, so the old bytes become orphans until :meth:`repack`. The
table's rows may be followed by a gap before the heap (THEAP) so that ``extend`` can add
rows without moving the heap every time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from fitsbind import _tiles
from fitsbind import checksum as _checksum
from fitsbind.direct.columns import TForm, parse_tform, table_columns
from fitsbind.direct.compression import Compression, Quantize
from fitsbind.direct.image import ImageHDU, broadcast_block
from fitsbind.direct.pixels import (
    STORED,
    PixelLayout,
    blank_mask,
    prepare,
    scale_value,
    stored_chunks,
    unscale,
)
from fitsbind.direct.sections import Selection, select
from fitsbind.direct.tilecache import TileCache, TileCacheMembers
from fitsbind.errors import FITSError, FITSValueError

__all__ = ["CompressedImageHDU"]

# heap bytes moved per step when rows need the space the heap starts at
_MOVE_CHUNK = 16 << 20

# keywords that describe the compressed layout: maintained here, not settable by users
_LAYOUT_KEYS = frozenset(["ZIMAGE", "ZCMPTYPE", "ZBITPIX", "ZNAXIS", "ZQUANTIZ", "ZDITHER0",
                          "ZBLANK", "ZSIMPLE", "ZTENSION", "ZPCOUNT", "ZGCOUNT",
                          "ZEXTEND", "BSCALE", "BZERO", "BLANK"])
_LAYOUT_INDEXED = re.compile(r"(ZNAXIS|ZTILE|ZNAME|ZVAL)\d+")

# dtype of the per-tile scalar columns (ZSCALE, ZZERO, ZBLANK)
_SCALAR = {"D": ">f8", "E": ">f4", "J": ">i4", "K": ">i8", "I": ">i2"}

# tiles decoded in the calling thread: below this, handing work to the pool costs more
_SERIAL_TILES = 16
# ... and also up to this many when the box is at most 1/_STAMP_FRACTION of their pixels
_STAMP_TILES = 256
_STAMP_FRACTION = 4

# the columns that may hold a tile's bytes, and the prefix of their TileTable arguments
_DATA_COLUMNS = (("COMPRESSED_DATA", ""), ("GZIP_COMPRESSED_DATA", "gzip_"),
                 ("UNCOMPRESSED_DATA", "raw_"))

# bytes of extend() input collected inside extending() before whole tile rows are encoded
_EXTEND_BATCH = 16 << 20

# bytes per element of the heap arrays a descriptor column may point at
_ELEMENT = {"B": 1, "I": 2, "J": 4, "K": 8, "E": 4, "D": 8}


def _is_layout_key(name: str) -> bool:
    return name in _LAYOUT_KEYS or _LAYOUT_INDEXED.fullmatch(name) is not None


class _Geometry:
    """Everything about the on-disk layout, read once from the header."""

    def __init__(self, hdu: CompressedImageHDU) -> None:
        try:
            self._parse(hdu)
        except FITSError as exc:
            raise exc if exc.filename else FITSError(
                f"{hdu._where()}: {exc}", filename=hdu._fits.filename, hdu=hdu._index) from None
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            # the header is data: whatever a card holds ends here as a FITSError
            raise FITSError(f"{hdu._where()}: malformed compressed-image header ({exc})",
                            filename=hdu._fits.filename, hdu=hdu._index) from None

    def _parse(self, hdu: CompressedImageHDU) -> None:
        h = hdu.header
        where = hdu._where()
        self.zbitpix = int(h["ZBITPIX"])
        naxis = int(h["ZNAXIS"])
        self.shape = tuple(int(h[f"ZNAXIS{i}"]) for i in range(naxis, 0, -1))
        # ZTILEn absent: whole rows (axis 1) and single pixels along the others
        tile = [int(h.get(f"ZTILE{i}", h[f"ZNAXIS{i}"] if i == 1 else 1))
                for i in range(naxis, 0, -1)]
        if self.zbitpix not in STORED:
            raise FITSError(f"{where}: ZBITPIX {self.zbitpix} is not a FITS BITPIX",
                            filename=hdu._fits.filename, hdu=hdu._index)
        if any(n < 0 for n in self.shape) or any(t < 1 for t in tile):
            raise FITSError(f"{where}: ZNAXISn / ZTILEn must be non-negative / positive",
                            filename=hdu._fits.filename, hdu=hdu._index)
        given = hdu._given_compression
        if given is not None and given.tile_shape is not None and self.shape and \
                not self.shape[0]:
            # CFITSIO counts one tile on an empty axis unless its ZTILEn is 1, so an empty
            # image has ZTILEn = 1 on disk: the length asked for is written by the first extend
            tile[0] = given.tile_shape[0]
        # a tile longer than its axis is one clipped tile, as fpack writes for small images
        self.tile = tuple(tile)
        self.grid = tuple(-(-n // t) for n, t in zip(self.shape, self.tile))
        self.n_tiles = int(np.prod(self.grid, dtype=np.int64)) if self.shape else 0
        on_disk = Compression.from_header(h, self.tile)
        # the settings this HDU was created with hold what the header cannot (the gzip
        # level): they encode its tiles, and are what it reports, with its tiling
        self.compression = on_disk if given is None else given.with_tile_shape(self.tile)
        self.columns = _columns(h, where)
        for name, _ in _DATA_COLUMNS:
            entry = self.columns.get(name)
            if (entry is None and name == "COMPRESSED_DATA") or (
                    entry is not None and entry[1][:1] not in ("P", "Q")):
                raise FITSError(f"{where}: the table has no variable-length {name} column",
                                filename=hdu._fits.filename, hdu=hdu._index)
        # astropy writes ZQUANTIZ also for lossless GZIP floats; quantized tiles come with
        # ZSCALE / ZZERO (columns, or keywords for every tile)
        scaled = "ZSCALE" in self.columns or "ZSCALE" in h
        self.quantize = Quantize.from_header(h) if self.zbitpix < 0 and scaled else None
        blank = h.get("BLANK", h.get("ZBLANK")) if self.zbitpix > 0 else None
        self.layout = PixelLayout(self.zbitpix, float(scale_value(h, "BSCALE", 1.0)),
                                  scale_value(h, "BZERO", 0), None if blank is None else int(blank))
        self.rowsize = int(h["NAXIS1"])
        self.nrows = int(h["NAXIS2"])
        self.theap = int(h.get("THEAP", self.rowsize * self.nrows))
        self.heap_size = self.rowsize * self.nrows + int(h.get("PCOUNT", 0)) - self.theap
        if self.nrows < self.n_tiles:
            raise FITSError(f"{where}: the table has {self.nrows} rows for {self.n_tiles} tiles",
                            filename=hdu._fits.filename, hdu=hdu._index)
        self.codec = make_codec(self.compression, self.quantize, self.zbitpix, h.get("ZBLANK"))
        # ZSCALE / ZZERO given once in the header apply to every tile
        constant = self.quantize is not None and "ZSCALE" in h
        self.zscale = float(scale_value(h, "ZSCALE", 1.0)) if constant else None
        self.zzero = float(scale_value(h, "ZZERO", 0.0)) if constant else None

    # The tile helpers below work on the image, or with ``shape`` on an image of that shape
    # with the same tiling (the image extend() is making).

    def _grid(self, shape: tuple[int, ...] | None) -> tuple[int, ...]:
        return self.grid if shape is None else tuple(-(-n // t) for n, t in zip(shape, self.tile))

    def tile_box(self, number: int, shape: tuple[int, ...] | None = None
                 ) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(origin, clipped shape) of tile ``number``."""
        grid = self._grid(shape)
        origin = [0] * len(grid)
        for axis in range(len(grid) - 1, -1, -1):
            number, i = divmod(number, grid[axis])
            origin[axis] = i * self.tile[axis]
        return tuple(origin), tuple(min(t, n - o) for t, n, o in
                                    zip(self.tile, self.shape if shape is None else shape, origin))

    def tile_slices(self, number: int, origin: tuple[int, ...],
                    shape: tuple[int, ...] | None = None) -> tuple[slice, ...]:
        """Where tile ``number`` sits in an array whose first pixel is image pixel ``origin``."""
        start, clipped = self.tile_box(number, shape)
        return tuple(slice(a - o, a - o + n) for a, o, n in zip(start, origin, clipped))

    def tiles_in(self, starts: tuple[int, ...], stops: tuple[int, ...],
                 shape: tuple[int, ...] | None = None) -> np.ndarray:
        """Numbers of the tiles meeting the box ``starts``..``stops`` (inclusive), in order."""
        ranges = [np.arange(a // t, b // t + 1) for a, b, t in zip(starts, stops, self.tile)]
        mesh = np.meshgrid(*ranges, indexing="ij")
        return np.ravel_multi_index([m.reshape(-1) for m in mesh],
                                    self._grid(shape)).astype(np.int64)


def _columns(h: Any, where: str) -> dict[str, tuple[int, str, int]]:
    """name -> (byte offset in the row, TFORM code or 'P'/'Q' + element code, element size),
    from the table's column layout as the table tier reads it."""
    columns = {c.name.upper(): _column_entry(c.form, c.offset)
               for c in table_columns(h, False, where)}
    if "COMPRESSED_DATA" not in columns:
        raise FITSError(f"{where}: compressed image without a COMPRESSED_DATA column")
    return columns


def _column_entry(form: TForm, offset: int) -> tuple[int, str, int]:
    """A column as :func:`pack_tiles` and the readers take it: (byte offset in the row, TFORM
    code or 'P'/'Q' + element code, element size in bytes)."""
    return (offset, (form.vla + form.code) if form.vla else form.code,
            _ELEMENT.get(form.code, 1))


def make_codec(compression: Compression, quantize: Quantize | None, zbitpix: int,
               zblank: int | None = None) -> _tiles.Codec:
    """The tile codec of images stored as ``zbitpix`` with these settings (``zblank``: the
    header's ZBLANK, for decoding)."""
    args = compression.codec_args(zbitpix)
    if quantize is not None:
        args.update(quantize_level=quantize.level if quantize.level is not None else 4.0,
                    quantize_method=quantize.zquantiz, zdither0=int(quantize.seed or 1))
    if zblank is not None:
        args["zblank"] = int(zblank)
    return _tiles.Codec(compression.zcmptype, zbitpix, **args)


class CompressedImageHDU(TileCacheMembers, ImageHDU):
    """A tile-compressed image of an open :class:`~fitsbind.FITS` file.

    It reads and writes like :class:`~fitsbind.direct.ImageHDU` (shapes in numpy order,
    scaling by BSCALE/BZERO, validate-then-mutate); ``header`` is the live header of the
    BINTABLE that holds it (``header["BITPIX"]`` is 8; :attr:`bitpix` is ZBITPIX).
    ``hdu[key]`` decodes only the tiles the key touches; decoded tiles are kept in an LRU
    cache of :attr:`tile_cache_size` bytes (32 MiB by default, 0 disables it).
    """

    def __init__(self, fits: Any, index: int) -> None:
        super().__init__(fits, index)
        self._geometry: _Geometry | None = None
        self._rows: np.ndarray | None = None      # the table rows (uint8, nrows x rowsize)
        self._columns: dict[str, Any] | None = None   # the rows parsed by column
        self._cache = TileCache()
        self._given_compression: Compression | None = None   # compress= of create_image_hdu
        self._pending: list[np.ndarray] | None = None   # extend() input inside extending()
        self._reader: tuple[dict[str, Any], _Geometry, _tiles.TileTable] | None = None

    # -- layout -------------------------------------------------------------------------------

    def _geo(self) -> _Geometry:
        # a closed file's HDU answers nothing, also what it has parsed already: raises the
        # closed-file error as its header does, rather than values that may be stale
        self._fits._handle()
        if self._geometry is None:
            self._geometry = _Geometry(self)
        return self._geometry

    def _info(self) -> tuple[PixelLayout, tuple[int, ...]]:
        g = self._geo()
        return g.layout, g.shape

    def _invalidate(self) -> None:
        self._geometry = None
        self._rows = None
        self._columns = None
        self.header._invalidate()

    def _before_header_change(self, name: str) -> None:
        self._fits._require_writable()
        if _is_layout_key(name):
            raise FITSValueError(f"{self._where()}: {name} describes the compressed layout and "
                                 "is maintained by fitsbind")

    def _after_header_change(self, name: str) -> None:
        self._geometry = None

    @property
    def bitpix(self) -> int:
        """ZBITPIX: the BITPIX of the image (the table's own BITPIX is 8)."""
        return self._geo().zbitpix

    @property
    def compression(self) -> Compression:
        """The algorithm setting, with ``tile_shape`` the tiling on disk (ZTILEn): the fields
        given when this HDU object created the image, else those of the header (write-only
        fields such as the gzip level are then None)."""
        return self._geo().compression

    @property
    def quantize(self) -> Quantize | None:
        """How float pixels are quantized (the level from NOISEBIT; None for files written
        without it), or None for integer and lossless images."""
        return self._geo().quantize

    @property
    def n_tiles(self) -> int:
        """Number of tiles: the product of ceil(ZNAXISn / ZTILEn)."""
        return self._geo().n_tiles

    @property
    def has_data(self) -> bool:
        return self.size > 0

    # -- the table ----------------------------------------------------------------------------

    def _table(self) -> np.ndarray:
        """The table's rows as bytes, shape (nrows, rowsize)."""
        if self._rows is None:
            g = self._geo()
            rows = np.empty((g.nrows, g.rowsize), np.uint8)
            with self._selected() as f:
                missing = f.data_missing(g.theap + g.heap_size)
                if missing:
                    raise FITSError(f"{self._where()}: file is truncated: the last {missing} "
                                    "bytes of the compressed image's table and heap are missing",
                                    filename=self._fits.filename, hdu=self._index)
                f.read_data_bytes(0, rows.reshape(-1))
            self._rows = rows
        return self._rows

    def _parsed(self) -> dict[str, Any]:
        """Every column of the table as arrays over all rows, parsed once: (nbytes, heap
        offsets) for descriptor columns, int64 / float64 values for the others."""
        if self._columns is None:
            g = self._geo()
            rows = self._table()
            parsed: dict[str, Any] = {}
            for name, (offset, code, element) in g.columns.items():
                if code[0] in "PQ":
                    width = 4 if code[0] == "P" else 8
                    pair = np.ascontiguousarray(rows[:, offset:offset + 2 * width]).view(
                        f">i{width}").astype(np.int64)
                    parsed[name] = (pair[:, 0] * element, pair[:, 1])
                elif code in _SCALAR:
                    dtype = np.dtype(_SCALAR[code])
                    parsed[name] = np.ascontiguousarray(
                        rows[:, offset:offset + dtype.itemsize]).view(dtype)[:, 0].astype(
                        np.float64 if dtype.kind == "f" else np.int64)
            self._columns = parsed
        return self._columns

    def _field(self, name: str, tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray] | np.ndarray | None:
        """Column ``name`` for ``tiles``: (nbytes, heap offsets) for descriptors, values for
        scalar columns, None if the table has no such column."""
        column = self._parsed().get(name)
        if column is None:
            return None
        if isinstance(column, tuple):
            return column[0][tiles], column[1][tiles]
        return column[tiles]

    def _heap(self, spans: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, list]:
        """Read the heap bytes the (nbytes, offsets) ``spans`` point at; returns the bytes and
        the spans rebased onto them. Offsets outside the heap raise FITSError."""
        g = self._geo()
        live = [(n, o) for n, o in spans if n is not None]
        for n, o in live:
            bad = (n < 0) | (o < 0) | (o + n > g.heap_size)
            if bad.any():
                raise FITSError(f"{self._where()}: tile descriptor points outside the "
                                f"{g.heap_size}-byte heap", filename=self._fits.filename,
                                hdu=self._index)
        used = [(n[n > 0], o[n > 0]) for n, o in live]
        if not any(len(n) for n, _ in used):
            return np.zeros(0, np.uint8), spans
        lo = min(int(o.min()) for n, o in used if len(n))
        hi = max(int((o + n).max()) for n, o in used if len(n))
        total = sum(int(n.sum()) for n, _ in used)
        with self._selected() as f:
            if hi - lo <= 2 * total + (1 << 20):
                heap = np.empty(hi - lo, np.uint8)
                f.read_data_bytes(g.theap + lo, heap)
                return heap, [(n, None if o is None else np.where(n > 0, o - lo, 0))
                              for n, o in spans]
            # scattered tiles: gather them into one buffer
            heap = np.empty(total, np.uint8)
            at = 0
            rebased = []
            for n, o in spans:
                if n is None:
                    rebased.append((n, o))
                    continue
                new = np.zeros_like(o)
                for i in np.flatnonzero(n > 0):
                    f.read_data_bytes(g.theap + int(o[i]), heap[at:at + int(n[i])])
                    new[i] = at
                    at += int(n[i])
                rebased.append((n, new))
        return heap, rebased

    # -- decoding -----------------------------------------------------------------------------

    def _check_not_extending(self, what: str) -> None:
        if self._pending is not None:
            raise FITSValueError(f"{self._where()}: {what} is not allowed inside extending(); "
                             "leave the with-block first")

    def _decode(self, starts: tuple[int, ...], stops: tuple[int, ...]) -> tuple[np.ndarray,
                                                                                   tuple[int, ...]]:
        """Stored values of every tile meeting the box (inclusive corners): (array, origin)
        where the array covers those whole tiles (clipped to the image)."""
        g = self._geo()
        origin = tuple((a // t) * t for a, t in zip(starts, g.tile))
        end = tuple(min((b // t + 1) * t, n) for b, t, n in zip(stops, g.tile, g.shape))
        out = np.empty(tuple(e - o for e, o in zip(end, origin)), dtype=g.layout.stored)
        tiles = g.tiles_in(starts, stops)
        if not self._cache.used:
            self._decode_tiles(tiles, out, origin)
            return out, origin
        missing = []
        for number in tiles.tolist():
            cached = self._cache.get(number)
            if cached is None:
                missing.append(number)
                continue
            out[g.tile_slices(number, origin)] = cached
        if missing:
            self._decode_tiles(np.asarray(missing, np.int64), out, origin)
        return out, origin

    def _decode_tiles(self, tiles: np.ndarray, out: np.ndarray, origin: tuple[int, ...]) -> None:
        g = self._geo()
        spans = [self._field(name, tiles) for name in
                 ("COMPRESSED_DATA", "GZIP_COMPRESSED_DATA", "UNCOMPRESSED_DATA")]
        spans = [(None, None) if s is None else s for s in spans]
        heap, spans = self._heap(spans)
        zscale = self._field("ZSCALE", tiles)
        zzero = self._field("ZZERO", tiles)
        if zscale is None and g.zscale is not None:
            zscale = np.full(len(tiles), float(g.zscale))
            zzero = np.full(len(tiles), float(g.zzero or 0.0))
        zblank = self._field("ZBLANK", tiles)
        try:
            _tiles.decode_tiles(g.codec, g.shape, g.tile, tiles, heap, spans[0][0], spans[0][1],
                                out, origin, zscale=zscale, zzero=zzero, zblank=zblank,
                                gzip_nbytes=spans[1][0], gzip_offsets=spans[1][1],
                                raw_nbytes=spans[2][0], raw_offsets=spans[2][1],
                                threads=1 if len(tiles) < _SERIAL_TILES else 0)
        except FITSError as exc:
            raise FITSError(f"{self._where()}: {exc}", filename=self._fits.filename,
                            hdu=self._index) from None
        # A read of more than a quarter of the cache is not kept: its caller holds the pixels
        # already, and copying them would double the memory the read needs (a whole image
        # read would hold two images). Otherwise an LRU cache would keep only the last tiles
        # that fit: store just those, each its own copy (a copy of the whole block would be
        # written anew, page by page, for every call, also where most of its tiles came from
        # the cache, and would live until its last tile left).
        if out.nbytes > self._cache.capacity // 4:
            return
        fit = self._cache.capacity // (math.prod(g.tile) * out.itemsize)
        for number in tiles[max(0, len(tiles) - fit):].tolist():
            self._cache.put(number, out[g.tile_slices(number, origin)].copy())

    def _decode_box(self, sel: Selection) -> np.ndarray:
        """Stored values of the pixels ``sel`` selects, C-contiguous, shape ``sel.box_shape``
        (positive steps). A box meeting few tiles, or taking a small part of a bounded number
        of them (a stamp across long row tiles), is decoded in one call that reads just their
        bytes and copies only its pixels; a larger one goes through whole tiles on every
        core."""
        g = self._geo()
        tiles = 1
        for a, b, t in zip(sel.starts, sel.stops, g.tile):
            tiles *= b // t - a // t + 1
        # the whole-tile path assembles every tile it meets into one block and parallel
        # decoding pays for that only when most of the block is wanted (measured: 100 stamps
        # of 64x64 across 4096-pixel row tiles, 64 tiles each, take half the time this way)
        small = tiles <= _STAMP_TILES and \
            math.prod(sel.box_shape) * _STAMP_FRACTION <= tiles * math.prod(g.tile)
        if tiles >= _SERIAL_TILES and not small:
            block, origin = self._decode(sel.starts, sel.stops)
            return np.ascontiguousarray(block[tuple(
                slice(a - o, b - o + 1, s) for a, b, s, o in
                zip(sel.starts, sel.stops, sel.steps, origin))])
        out = np.empty(sel.box_shape, g.layout.stored)
        try:
            self._tile_table().read_box(sel.starts, sel.steps, out, self._read_heap,
                                        self._cache)
        except FITSError as exc:
            if exc.filename is not None:
                raise      # from reading the file: it names the file and HDU already
            raise FITSError(f"{self._where()}: {exc}", status=exc.status,
                            filename=self._fits.filename, hdu=self._index) from None
        return out

    def _tile_table(self) -> _tiles.TileTable:
        """The table's descriptors and scalars as a :class:`_tiles.TileTable`, made again
        whenever the header or the table is read again."""
        parsed, g = self._parsed(), self._geo()
        if self._reader is None or self._reader[0] is not parsed or self._reader[1] is not g:
            columns: dict[str, Any] = {}
            for name, prefix in _DATA_COLUMNS:
                if name in parsed:
                    columns[f"{prefix}nbytes"], columns[f"{prefix}offsets"] = parsed[name]
            for name in ("ZSCALE", "ZZERO", "ZBLANK"):
                if name in parsed:
                    columns[name.lower()] = parsed[name]
            if "zscale" not in columns and g.zscale is not None:
                columns["zscale"] = float(g.zscale)
                columns["zzero"] = float(g.zzero or 0.0)
            try:
                table = _tiles.TileTable(g.codec, g.shape, g.tile, g.heap_size, **columns)
            except FITSError as exc:
                raise FITSError(f"{self._where()}: {exc}", filename=self._fits.filename,
                                hdu=self._index) from None
            self._reader = (parsed, g, table)
        return self._reader[2]

    def _read_heap(self, offsets: list[int], sizes: list[int], out: np.ndarray) -> None:
        """Fill ``out`` with the heap bytes of these spans, back to back."""
        self._fits._handle().read_data_spans(self._index, self._geo().theap, offsets, sizes,
                                             out)

    def _read(self, sel: Selection, scale: bool, mask_blank: bool) -> np.ndarray:
        self._check_not_extending("reading")
        layout, shape = self._info()
        if not shape:
            raise FITSError(f"{self._where()}: the HDU has no data (ZNAXIS = 0)",
                            filename=self._fits.filename, hdu=self._index)
        if sel.empty:
            box = np.empty(sel.box_shape, layout.stored)
        else:
            box = self._decode_box(sel)
        data = sel.to_result(box)
        values = unscale(data, layout) if scale else data
        if not mask_blank:
            return values
        return np.ma.MaskedArray(values, mask=blank_mask(data, layout))

    # -- encoding and storing -----------------------------------------------------------------

    def _stored(self, data: Any) -> np.ndarray:
        """``data`` as the stored values to encode (ZBITPIX's type), checked first."""
        layout = self._geo().layout
        buffer, bscale, bzero = prepare(data, layout, self._where())
        if buffer.dtype == layout.stored:
            return buffer
        if layout.offset:
            bits = buffer.view(f"u{buffer.itemsize}") ^ np.array(
                1 << (8 * buffer.itemsize - 1), dtype=f"u{buffer.itemsize}")
            return bits.view(layout.stored)
        return np.ascontiguousarray((buffer - bzero) / bscale, dtype=layout.stored)

    def _encode(self, values: np.ndarray, origin: tuple[int, ...]) -> tuple[np.ndarray, Any]:
        """Encode every tile of the tile-aligned region ``values`` at ``origin``; returns
        (HDU tile numbers, encoded tiles in that order)."""
        g = self._geo()
        tiles = g.tiles_in(origin, tuple(o + n - 1 for o, n in zip(origin, values.shape)))
        whole_rows = all(o == 0 and n == s for o, n, s in zip(origin[1:], values.shape[1:],
                                                               g.shape[1:]))
        values = np.ascontiguousarray(values)
        self._check_finite(values)
        if whole_rows:
            local = np.arange(len(tiles), dtype=np.int64)
            return tiles, _tiles.encode_tiles(g.codec, values, g.tile, local,
                                              first_row=int(tiles[0]) if len(tiles) else 0)
        # a region narrower than the image: tiles are not numbered contiguously, so each is
        # encoded on its own to keep its dither seed (its row number) right
        parts = []
        for number in tiles.tolist():
            block = values[g.tile_slices(number, origin)]
            parts.append(_tiles.encode_tiles(g.codec, np.ascontiguousarray(block), g.tile,
                                             np.zeros(1, np.int64), first_row=number))
        return tiles, _concat(parts)

    def _check_finite(self, values: np.ndarray) -> None:
        if self._geo().quantize is not None and np.isinf(values).any():
            # quantized tiles hold finite integers or the null value: inf would come back NaN
            raise FITSValueError(f"{self._where()}: the data holds infinite values, which a "
                                 "quantized image cannot store; compress losslessly "
                                 "(Gzip1 or Gzip2 without quantize) or replace them (NaN is "
                                 "stored as null)",
                                 filename=self._fits.filename, hdu=self._index)

    def _encode_kept(self, region: np.ndarray, origin: tuple[int, ...], touched: np.ndarray,
                     shape: tuple[int, ...]) -> tuple[np.ndarray, Any]:
        """Encode the tiles of the tile-aligned ``region`` at ``origin`` of a quantized image
        of ``shape`` (the current one, or longer when extending) where only the ``touched``
        pixels are new. A tile they cover whole is quantized afresh; in one they cover partly
        the other pixels keep what is stored: a quantized tile its integers, ZSCALE and ZZERO
        (the touched pixels are quantized with them), a tile stored as gzipped floats (one
        CFITSIO could not quantize) its exact values. Returns (tile numbers, encoded tiles).
        FITSValueError, before anything changes, when a touched value does not fit the
        tile's quantization."""
        g = self._geo()
        self._check_finite(region)
        tiles = g.tiles_in(origin, tuple(o + n - 1 for o, n in zip(origin, region.shape)), shape)
        ints_codec = lossless = None
        parts = []
        for number in tiles.tolist():
            box = g.tile_slices(number, origin, shape)
            block = np.ascontiguousarray(region[box])
            mask = np.ascontiguousarray(touched[box])
            one = np.zeros(1, np.int64)
            if mask.all():
                parts.append(_tiles.encode_tiles(g.codec, block, g.tile, one, first_row=number))
                continue
            tile = np.array([number])
            gzip = self._field("GZIP_COMPRESSED_DATA", tile)
            if gzip is not None and gzip[0][0] > 0:
                if lossless is None:
                    lossless = _tiles.Codec("GZIP_1", g.zbitpix)
                enc = _tiles.encode_tiles(lossless, block, g.tile, one)
                parts.append(_tiles.Encoded(enc.data, enc.offsets, enc.nbytes,
                                            np.ones(1, np.int8), np.zeros(1), np.zeros(1), False))
                continue
            zscale = self._field("ZSCALE", tile)
            zscale = float(g.zscale if zscale is None else zscale[0])
            zzero = self._field("ZZERO", tile)
            zzero = float(g.zzero if zzero is None else zzero[0])
            if ints_codec is None:
                # the tile's integers as the algorithm codes them, without smoothing
                args = g.compression.codec_args(32)
                if "hcomp_smooth" in args:
                    args["hcomp_smooth"] = False
                ints_codec = _tiles.Codec(g.compression.zcmptype, 32, **args)
            start, stored_shape = g.tile_box(number)
            stored = np.empty(stored_shape, np.int32)
            spans = self._field("COMPRESSED_DATA", tile)
            heap, spans = self._heap([spans])
            _tiles.decode_tiles(ints_codec, g.shape, g.tile, tile, heap, spans[0][0],
                                spans[0][1], stored, start, threads=1)
            ints = np.zeros(block.shape, np.int32)
            ints[tuple(slice(0, n) for n in stored_shape)] = stored
            outside = _tiles.requantize(g.codec, block, ints, mask, zscale, zzero, number + 1)
            if outside:
                raise FITSValueError(
                    f"{self._where()}: {outside} value(s) written into tile {number + 1} do not "
                    f"fit its quantization (ZSCALE {zscale:g}, ZZERO {zzero:g}), which keeps "
                    "the other pixels of the tile as stored; write the whole tile (or the "
                    "image) to quantize it afresh", filename=self._fits.filename, hdu=self._index)
            enc = _tiles.encode_tiles(ints_codec, ints, g.tile, one)
            parts.append(_tiles.Encoded(enc.data, enc.offsets, enc.nbytes, enc.column,
                                        np.array([zscale]), np.array([zzero]),
                                        bool((ints == -2147483647).any())))
        return tiles, _concat(parts)

    def _store(self, tiles: np.ndarray, encoded: Any, *, nrows: int | None = None,
               fresh_heap: bool = False, keys: dict[str, int] | None = None) -> None:
        """Write encoded tiles: their bytes at the end of the heap (or, ``fresh_heap``, as the
        whole new heap), their descriptors into rows ``tiles``; ``nrows`` grows the table and
        ``keys`` (ZNAXISn) change with it, so CFITSIO never sees rows and tiles disagree."""
        g = self._geo()
        rows = self._table()
        nrows = g.nrows if nrows is None else nrows
        heap_start = 0 if fresh_heap else g.heap_size
        new_heap = heap_start + int(encoded.data.size)
        # a new array either way: the cached rows stay as the file has them until it changes
        if nrows > len(rows):
            rows = np.concatenate([rows, np.zeros((nrows - len(rows), g.rowsize), np.uint8)])
        else:
            rows = rows.copy()
        try:
            pack_tiles(rows, tiles, encoded, g.columns, heap_start)
        except ValueError as exc:
            raise FITSError(f"{self._where()}: {exc}", filename=self._fits.filename,
                            hdu=self._index) from None
        theap = max(g.theap, nrows * g.rowsize)
        if theap > g.theap and g.heap_size and not fresh_heap:
            # rows need the space the heap starts at: move it, leaving room to grow
            theap = max(theap, 2 * nrows * g.rowsize)
        total = theap + new_heap
        sizes = {**(keys or {}), "NAXIS2": nrows, "PCOUNT": total - nrows * g.rowsize}
        if theap != nrows * g.rowsize or "THEAP" in self.header:
            sizes["THEAP"] = theap
        growing = total > g.theap + g.heap_size
        with self._selected(writing=True) as f:
            if growing:
                f.resize_data(total, sizes)
            if theap != g.theap and not fresh_heap:
                _move_bytes(f, g.theap, theap, g.heap_size)
            f.write_data_bytes(theap + heap_start, encoded.data)
            f.write_data_bytes(0, rows.reshape(-1))
            if not growing:
                f.resize_data(total, sizes)
        for number in tiles.tolist():
            self._cache.drop(number)
        self._invalidate()

    # -- writing ------------------------------------------------------------------------------

    def write(self, data: Any, start: Any = None) -> None:
        """Write the whole image: ``data`` must have the image's shape. Every tile is encoded
        in memory first; the file changes only once all succeeded. The new tiles form a new
        heap (no orphans). ``start`` is not supported (NotImplementedError): use
        ``hdu[key] = block`` for a region."""
        self._check_not_extending("write()")
        if start is not None:
            raise NotImplementedError(f"{self._where()}: compressed images are written whole "
                                      "(start= is not supported); assign a region with "
                                      "hdu[key] = block instead")
        g = self._geo()
        array = data if isinstance(data, np.ma.MaskedArray) else np.asarray(data)
        if array.shape != g.shape:
            raise FITSValueError(f"{self._where()}: data shape {array.shape} does not match the "
                                 f"image shape {g.shape}")
        values = self._stored(array)
        tiles, encoded = self._encode(values, (0,) * len(g.shape))
        self._store(tiles, encoded, fresh_heap=True)
        self._cache.clear()

    def _store_zeros(self) -> None:
        """Fill a new image with stored zeros without holding it in memory: one zero tile
        is encoded per distinct (edge-clipped) tile shape and every descriptor of that shape
        points at the same heap bytes."""
        g = self._geo()
        numbers = np.arange(g.n_tiles, dtype=np.int64)
        index = np.unravel_index(numbers, g.grid)
        clipped = np.stack([np.minimum(t, n - i * t) for i, t, n in
                            zip(index, g.tile, g.shape)], axis=1)
        shapes, which = np.unique(clipped, axis=0, return_inverse=True)
        which = which.reshape(-1)
        parts = []
        for k, shape in enumerate(shapes):
            first = int(numbers[which == k][0])
            parts.append(_tiles.encode_tiles(g.codec, np.zeros(tuple(shape), g.layout.stored),
                                             g.tile, np.zeros(1, np.int64), first_row=first))
        distinct = _concat(parts)
        quantized = distinct.zscale is not None
        shared = _tiles.Encoded(distinct.data, distinct.offsets[which], distinct.nbytes[which],
                                distinct.column[which],
                                distinct.zscale[which] if quantized else None,
                                distinct.zzero[which] if quantized else None, distinct.has_nulls)
        self._store(numbers, shared, fresh_heap=True)

    def __setitem__(self, key: Any, value: Any) -> None:
        """Write ``value`` (broadcast to the selection) into the pixels ``key`` selects: the
        tiles it touches are decoded, changed, re-encoded and appended to the heap."""
        self._check_not_extending("assignment")
        g = self._geo()
        sel = select(key, g.shape, self._where())
        stored = self._stored(broadcast_block(value, sel.shape, self._where()))
        if sel.empty:
            return
        if sel.unit_steps and all(a % t == 0 and (b + 1 == n or (b + 1) % t == 0) for a, b, t, n
                                  in zip(sel.starts, sel.stops, g.tile, g.shape)):
            # whole tiles are replaced: nothing of the old ones is kept, so none is decoded
            region, origin = np.ascontiguousarray(sel.to_box(stored)), sel.starts
            tiles, encoded = self._encode(region, origin)
        else:
            region, origin = self._decode(sel.starts, sel.stops)
            where = tuple(slice(a - o, b - o + 1, s) for a, b, s, o in
                          zip(sel.starts, sel.stops, sel.steps, origin))
            region[where] = sel.to_box(stored)
            if g.quantize is None:
                tiles, encoded = self._encode(region, origin)
            else:
                touched = np.zeros(region.shape, bool)
                touched[where] = True
                tiles, encoded = self._encode_kept(region, origin, touched, g.shape)
        self._store(tiles, encoded)

    def extend(self, data: Any) -> None:
        """Append ``data`` along the slowest axis (``data.shape[1:]`` must equal
        ``shape[1:]``). A partly filled last row of tiles is decoded, completed and encoded
        again (its old bytes become orphans, see :meth:`repack`). Inside :meth:`extending`
        the data is only collected."""
        g = self._geo()
        array = data if isinstance(data, np.ma.MaskedArray) else np.asarray(data)
        if not g.shape:
            raise FITSValueError(f"{self._where()}: the image has no axes to extend")
        if array.ndim != len(g.shape) or array.shape[1:] != g.shape[1:]:
            raise FITSValueError(f"{self._where()}: data of shape {array.shape} cannot extend an "
                                 f"image of shape {g.shape}: the shapes must agree after axis 0")
        values = self._stored(array)
        if self._pending is None:
            self._extend(values)
            return
        if np.may_share_memory(values, array):
            values = values.copy()      # the caller may reuse its buffer for the next batch
        self._pending.append(values)
        if sum(v.nbytes for v in self._pending) >= _EXTEND_BATCH:
            self._drain(whole_tile_rows=True)

    def _drain(self, whole_tile_rows: bool) -> None:
        """Encode the rows collected by ``extending()``: all of them, or only those that
        complete rows of tiles (the rest stays collected), so no tile is encoded twice and
        memory holds at most one batch."""
        pending = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        count = len(pending)
        if whole_tile_rows:
            g = self._geo()
            count -= (g.shape[0] + count) % g.tile[0]
        self._pending = [pending[count:]] if count < len(pending) else []
        if count > 0:
            self._extend(pending[:count])

    def _extend(self, values: np.ndarray) -> None:
        g = self._geo()
        added = values.shape[0]
        if added == 0:
            return
        length = g.shape[0] + added
        tile0 = g.tile[0]
        first = (g.shape[0] // tile0) * tile0        # first image row of the last tile row
        if first < g.shape[0]:
            # the partial last tile row is encoded again together with the new rows
            old, _ = self._decode((first,) + (0,) * (len(g.shape) - 1),
                                  (g.shape[0] - 1, *(n - 1 for n in g.shape[1:])))
            values = np.concatenate([old, values])
        per_row = int(np.prod(g.grid[1:], dtype=np.int64))
        first_tile = (first // tile0) * per_row
        count = (-(-length // tile0) - first // tile0) * per_row
        if g.quantize is not None and first < g.shape[0]:
            # the stored pixels of the partial tiles keep their quantized integers
            touched = np.zeros(values.shape, bool)
            touched[g.shape[0] - first:] = True
            _, encoded = self._encode_kept(values, (first,) + (0,) * (len(g.shape) - 1),
                                           touched, (length, *g.shape[1:]))
        else:
            self._check_finite(values)
            encoded = _tiles.encode_tiles(g.codec, np.ascontiguousarray(values), g.tile,
                                          np.arange(count, dtype=np.int64),
                                          first_row=first_tile)
        # ZTILEn as well: an empty image has 1 there whatever its tiles are to be (_Geometry)
        self._store(first_tile + np.arange(count, dtype=np.int64), encoded,
                    nrows=first_tile + count, keys={f"ZNAXIS{len(g.shape)}": length,
                                                    f"ZTILE{len(g.shape)}": tile0})

    @contextmanager
    def extending(self) -> Iterator[CompressedImageHDU]:
        """Collect ``extend`` calls and encode them in whole rows of tiles: every 16 MiB of
        input, and the rest when the block ends (normally or by an exception), so a partial
        last tile is encoded once rather than at every call and memory stays bounded. Inside
        it, reads, writes, assignments, ``repack`` and checksum calls raise ValueError, and
        ``FITS.close()`` refuses to close the file."""
        if self._pending is not None:
            raise FITSValueError(f"{self._where()}: extending() is already active")
        self._pending = []
        try:
            yield self
        finally:
            try:
                if self._pending:
                    self._drain(whole_tile_rows=False)
            finally:
                self._pending = None

    @property
    def _extending_active(self) -> bool:
        return self._pending is not None

    # -- heap maintenance ---------------------------------------------------------------------

    def repack(self) -> None:
        """Rewrite the heap with only the bytes live descriptors use, in tile order; the file
        shrinks when orphaned bytes (from assignments and extends) are dropped."""
        self._check_not_extending("repack()")
        g = self._geo()
        tiles = np.arange(g.nrows, dtype=np.int64)
        rows = self._table().copy()
        spans = []
        for name in ("COMPRESSED_DATA", "GZIP_COMPRESSED_DATA", "UNCOMPRESSED_DATA"):
            entry = g.columns.get(name)
            if entry is not None:
                nbytes, offsets = self._field(name, tiles)
                spans.append((entry, nbytes, offsets))
        live = sum(int(n.sum()) for _, n, _ in spans)
        theap = g.rowsize * g.nrows
        if live == g.heap_size and theap == g.theap:
            return
        heap, rebased = self._heap([(n, o) for _, n, o in spans])
        packed = np.empty(live, np.uint8)
        at = 0
        for (entry, nbytes, _), (_, offsets) in zip(spans, rebased):
            offset, form, element = entry
            width = 4 if form[0] == "P" else 8
            where = np.zeros_like(nbytes)
            for i in np.flatnonzero(nbytes > 0):
                n = int(nbytes[i])
                packed[at:at + n] = heap[int(offsets[i]):int(offsets[i]) + n]
                where[i] = at
                at += n
            pair = np.stack([nbytes // element, where], axis=1).astype(f">i{width}")
            rows[:, offset:offset + 2 * width] = pair.view(np.uint8).reshape(g.nrows, -1)
        with self._selected(writing=True) as f:
            f.write_data_bytes(0, rows.reshape(-1))
            f.write_data_bytes(theap, packed)
            f.resize_data(theap + live, {"PCOUNT": live, "THEAP": theap})
        self._cache.clear()
        self._invalidate()

    # -- checksums ----------------------------------------------------------------------------

    def _image_sum(self) -> int:
        """Checksum of the uncompressed image's data unit (big-endian stored values)."""
        g = self._geo()
        if not g.shape or not self.size:
            return 0
        total = 0
        step = max(1, (8 << 20) // max(1, int(np.prod(g.shape[1:], dtype=np.int64))
                                       * g.layout.stored.itemsize))
        for a in range(0, g.shape[0], step):
            b = min(g.shape[0], a + step)
            block, origin = self._decode((a,) + (0,) * (len(g.shape) - 1),
                                         (b - 1, *(n - 1 for n in g.shape[1:])))
            block = block[a - origin[0]:b - origin[0]]
            for chunk in stored_chunks(np.ascontiguousarray(block)):
                total = _checksum.ones_complement_sum(chunk, total)
        return total

    def add_datasum(self) -> None:
        """Write ZDATASUM: the checksum of the equivalent uncompressed image bytes. Run it
        again after changing the image."""
        self._check_not_extending("add_datasum()")
        self._write_zdatasum()

    def _write_zdatasum(self) -> int:
        value = self._image_sum()
        with self._selected(writing=True) as f:
            f.write_key("ZDATASUM", str(value), _checksum.timestamp_comment("data unit checksum"))
        self._invalidate()
        return value

    def add_checksum(self) -> None:
        """Write ZDATASUM and ZHECKSUM (the checksums of the image HDU the table holds, its
        header as CFITSIO and funpack rebuild it), then the table's own DATASUM and CHECKSUM."""
        self._check_not_extending("add_checksum()")
        datasum = self._write_zdatasum()
        comment = _checksum.timestamp_comment("HDU checksum")
        with self._selected(writing=True) as f:
            # the convention: the sum is taken with the card's value all zeros
            f.write_key("ZHECKSUM", "0" * 16, comment)
            header = f.header_string(uncompressed=True) + "END".ljust(80)
            header = header.ljust(_checksum.padded_length(len(header)))
            total = _checksum.ones_complement_sum(header.encode("latin-1"), datasum)
            f.write_key("ZHECKSUM", _checksum.encode(total), comment)
        self._invalidate()
        super().add_checksum()

    def verify_datasum(self) -> bool | None:
        """Check ZDATASUM against the image: True, False, or None without the card."""
        self._check_not_extending("verify_datasum()")
        stored = self.header.get("ZDATASUM")
        if stored is None:
            return None
        return str(stored).strip() == str(self._image_sum())

    def verify_checksum(self) -> bool | None:
        """Check the table's CHECKSUM over the whole HDU: True, False, or None."""
        self._check_not_extending("verify_checksum()")
        return super().verify_checksum()


def _concat(parts: list[Any]) -> Any:
    """One ``_tiles.Encoded`` from several, tiles in order."""
    data = np.concatenate([p.data for p in parts]) if parts else np.zeros(0, np.uint8)
    sizes = np.cumsum([0] + [p.data.size for p in parts[:-1]])
    quantized = bool(parts) and parts[0].zscale is not None
    return _tiles.Encoded(
        data, np.concatenate([p.offsets + s for p, s in zip(parts, sizes)]).astype(np.int64),
        np.concatenate([p.nbytes for p in parts]).astype(np.int64),
        np.concatenate([p.column for p in parts]),
        np.concatenate([p.zscale for p in parts]) if quantized else None,
        np.concatenate([p.zzero for p in parts]) if quantized else None,
        any(p.has_nulls for p in parts))


def _move_bytes(f: Any, source: int, target: int, nbytes: int) -> None:
    """Move ``nbytes`` data-unit bytes from ``source`` to ``target`` (> source), last chunk
    first so the regions may overlap; memory use is one chunk."""
    end = nbytes
    buffer = np.empty(min(_MOVE_CHUNK, max(nbytes, 1)), np.uint8)
    while end > 0:
        start = max(0, end - len(buffer))
        chunk = buffer[:end - start]
        f.read_data_bytes(source + start, chunk)
        f.write_data_bytes(target + start, chunk)
        end = start


def tile_columns(zcmptype: str, quantized: bool, wide: bool,
                 longest: Mapping[str, int] | None = None) -> list[tuple[str, str]]:
    """The columns (TTYPE, TFORM) of a new compressed-image table, in astropy's order:
    COMPRESSED_DATA, and for quantized floats GZIP_COMPRESSED_DATA (tiles that could not be
    quantized), ZSCALE, ZZERO. ``wide``: 64-bit descriptors (1Q). ``longest``: the longest
    cell of each descriptor column, written into its TFORM as astropy does."""
    letter = "Q" if wide else "P"
    # PLIO cells are arrays of 16-bit integers, all others bytes
    cells = [("COMPRESSED_DATA", "I" if zcmptype == "PLIO_1" else "B")]
    if quantized:
        cells.append(("GZIP_COMPRESSED_DATA", "B"))
    columns = [(name, f"1{letter}{element}" + (f"({longest[name]})" if longest else ""))
               for name, element in cells]
    if quantized:
        columns += [("ZSCALE", "1D"), ("ZZERO", "1D")]
    return columns


def pack_tiles(rows: np.ndarray, tiles: np.ndarray, encoded: _tiles.Encoded,
               columns: Mapping[str, tuple[int, str, int]], heap_start: int = 0) -> None:
    """Point table rows ``tiles`` (``rows``: uint8, shape (nrows, rowsize), changed in place)
    at the ``encoded`` tiles, whose bytes start at heap offset ``heap_start``: heap
    descriptors in COMPRESSED_DATA / GZIP_COMPRESSED_DATA, the quantization in ZSCALE /
    ZZERO. ``columns``: name -> (byte offset in the row, TFORM code ('P'/'Q' + element code
    for descriptors), element size in bytes). ValueError when a tile needs a column the
    table lacks or the heap outgrows 32-bit descriptors."""
    column = np.asarray(encoded.column)
    for name, code in (("COMPRESSED_DATA", 0), ("GZIP_COMPRESSED_DATA", 1)):
        entry = columns.get(name)
        chosen = column == code
        if entry is None:
            if chosen.any():
                raise FITSValueError(f"a tile needs the {name} column, which this table lacks")
            continue
        offset, form, element = entry
        width = 4 if form[0] == "P" else 8
        count = np.where(chosen, encoded.nbytes // element, 0)
        where = np.where(chosen, encoded.offsets + heap_start, 0)
        if width == 4 and (where + encoded.nbytes).max(initial=0) >= 1 << 31:
            raise FITSValueError("the heap outgrows the 32-bit descriptors of a 1P column (2 GiB); "
                             "create the image as a larger one (1Q)")
        pair = np.stack([count, where], axis=1).astype(f">i{width}")
        rows[tiles, offset:offset + 2 * width] = pair.view(np.uint8).reshape(len(tiles), -1)
    for name, values in (("ZSCALE", encoded.zscale), ("ZZERO", encoded.zzero)):
        entry = columns.get(name)
        if entry is not None and values is not None:
            rows[tiles, entry[0]:entry[0] + 8] = np.asarray(values, ">f8").view(
                np.uint8).reshape(len(tiles), 8)


def encode_table(values: np.ndarray, zbitpix: int, compression: Compression,
                 quantize: Quantize | None, *, wide: bool
                 ) -> tuple[list[tuple[str, str]], np.ndarray, _tiles.Encoded]:
    """A whole image compressed into a new table: (columns (TTYPE, TFORM) as
    :func:`tile_columns` gives them with the longest cells, rows (uint8, shape (ntiles,
    rowsize)), the encoded tiles, whose ``data`` is the heap). ``values``: the stored
    values (``zbitpix``'s type, native order, numpy shape); ``compression.tile_shape``
    clipped to the image is the tiling."""
    codec = make_codec(compression, quantize, zbitpix)
    values = np.ascontiguousarray(values, dtype=codec.dtype)
    tile = compression.tiles_for(values.shape)
    grid = [-(-n // t) for n, t in zip(values.shape, tile)]
    tiles = np.arange(int(np.prod(grid, dtype=np.int64)), dtype=np.int64)
    encoded = _tiles.encode_tiles(codec, values, tile, tiles)
    element = 2 if compression.zcmptype == "PLIO_1" else 1
    longest = {name: int(np.where(encoded.column == code, encoded.nbytes, 0).max(initial=0))
               // (element if code == 0 else 1)
               for name, code in (("COMPRESSED_DATA", 0), ("GZIP_COMPRESSED_DATA", 1))}
    columns = tile_columns(compression.zcmptype, quantize is not None, wide, longest)
    layout, offset = {}, 0
    for name, tform in columns:
        form = parse_tform(tform)
        layout[name] = _column_entry(form, offset)
        offset += form.nbytes
    rows = np.zeros((len(tiles), offset), np.uint8)
    pack_tiles(rows, tiles, encoded, layout)
    return columns, rows, encoded


def z_cards(zbitpix: int, shape: tuple[int, ...], tile: tuple[int, ...], zcmptype: str,
            parameters: list[tuple[str, Any, str, str]], quantizing: tuple[str, int] | None,
            image: Mapping[str, tuple[Any, str]] | None = None) -> list[tuple[str, Any, str]]:
    """The Z cards of a compressed-image table as (keyword, value, comment), in astropy's
    order: ZIMAGE, ZSIMPLE or ZTENSION, ZBITPIX, ZNAXIS, ZNAXISn, ZPCOUNT, ZGCOUNT, ZTILEn,
    ZCMPTYPE, ZNAMEi / ZVALi from ``parameters`` (name, value, ZNAMEi comment, ZVALi
    comment), then ZQUANTIZ and ZDITHER0 from ``quantizing`` (None: not written). ``shape``
    and ``tile`` are numpy order. ``image``: the cards of the image header being compressed
    (keyword -> (value, comment)), whose comments the Z cards keep and which decides between
    ZSIMPLE and ZTENSION and whether ZPCOUNT / ZGCOUNT are written; None for a new image
    extension."""
    image = image if image is not None else {"XTENSION": ("IMAGE", "Image extension"),
                                             "PCOUNT": (0, "size of special data area"),
                                             "GCOUNT": (1, "one data group")}

    def comment(keyword: str, default: str) -> str:
        return image[keyword][1] if keyword in image else default

    cards: list[tuple[str, Any, str]] = [("ZIMAGE", True, "extension contains compressed image")]
    if "SIMPLE" in image:
        cards.append(("ZSIMPLE", image["SIMPLE"][0], image["SIMPLE"][1]))
    elif "XTENSION" in image:
        # only images are compressed, whatever the header said
        cards.append(("ZTENSION", "IMAGE", image["XTENSION"][1]))
    cards += [("ZBITPIX", zbitpix, comment("BITPIX", "data type of original image")),
              ("ZNAXIS", len(shape), comment("NAXIS", "dimension of original image"))]
    cards += [(f"ZNAXIS{i}", n, comment(f"NAXIS{i}", "length of original image axis"))
              for i, n in enumerate(reversed(shape), 1)]
    cards += [(f"Z{keyword}", *image[keyword]) for keyword in ("PCOUNT", "GCOUNT")
              if keyword in image]
    cards += [(f"ZTILE{i}", n, "size of tiles to be compressed")
              for i, n in enumerate(reversed(tile), 1)]
    cards.append(("ZCMPTYPE", zcmptype, "compression algorithm"))
    for i, (name, value, name_comment, value_comment) in enumerate(parameters, 1):
        cards += [(f"ZNAME{i}", name, name_comment), (f"ZVAL{i}", value, value_comment)]
    if quantizing is not None:
        cards += [("ZQUANTIZ", quantizing[0], "Pixel Quantization Algorithm"),
                  ("ZDITHER0", quantizing[1], "dithering offset when quantizing floats")]
    return cards


def new_table_layout(zbitpix: int, shape: tuple[int, ...], compression: Compression,
                     quantize: Quantize | None) -> tuple[list[tuple[str, str]], list[tuple]]:
    """(columns, cards) of a new compressed image extension: the BINTABLE columns as (TTYPE,
    TFORM) and the Z cards as (keyword, value, comment)."""
    nbytes = int(np.prod(shape, dtype=np.int64)) * abs(zbitpix) // 8 if shape else 0
    # 64-bit descriptors when the heap may pass 2 GiB (also for streamed images, whose
    # final size is not known)
    wide = not shape or shape[0] == 0 or nbytes >= (1 << 31) - (1 << 20)
    columns = tile_columns(compression.zcmptype, quantize is not None, wide)
    parameters = compression.cards(zbitpix)
    quantizing = None
    if quantize is not None:
        # as astropy records it: the level as one more compression parameter
        parameters.append(("NOISEBIT", quantize.level, *["floating point quantization level"] * 2))
        quantizing = (quantize.zquantiz, quantize.dither_seed())
    cards = z_cards(zbitpix, shape, compression.tiles_for(shape), compression.zcmptype,
                    parameters, quantizing)
    if quantize is not None:
        cards.append(("ZBLANK", -2147483647, "null value in the compressed integer array"))
    return columns, cards


def check_compression(stored: np.dtype, shape: tuple[int, ...], compression: Any,
                      quantize: Any, where: str) -> tuple[Compression, Quantize | None]:
    """Validate a ``compress=`` / ``quantize=`` pair for an image of ``stored`` values."""
    if not isinstance(compression, Compression):
        raise FITSValueError(f"{where}: compress= takes Gzip1, Gzip2, Rice1, Hcompress1 or "
                             f"Plio1, not {compression!r}")
    if quantize is not None and not isinstance(quantize, Quantize):
        raise FITSValueError(f"{where}: quantize= takes a Quantize, not {quantize!r}")
    floating = stored.kind == "f"
    if quantize is not None and not floating:
        raise FITSValueError(f"{where}: quantize= applies to floating-point images only; "
                             f"this image stores {stored}")
    if floating and quantize is None and compression.zcmptype not in ("GZIP_1", "GZIP_2"):
        # Rice, HCOMPRESS and PLIO code integers: floats must be quantized (CFITSIO default)
        quantize = Quantize()
    if quantize is not None and quantize.level is None:
        raise FITSValueError(f"{where}: a Quantize read back from a file has no level; "
                             "give one")
    tile = compression.tiles_for(shape)
    if compression.zcmptype == "HCOMPRESS_1" and shape and not shape[0]:
        raise FITSValueError(f"{where}: an HCOMPRESS_1 image cannot start empty (shape "
                             f"{shape}): its tiles need at least 4 x 4 pixels")
    if compression.zcmptype == "HCOMPRESS_1":
        real = [t for t in tile if t > 1]
        if len(real) > 2 or any(t < 4 for t in tile[-2:]) or len(tile) < 2:
            raise FITSValueError(f"{where}: HCOMPRESS_1 needs 2-D tiles of at least 4 x 4 "
                                 f"pixels, not {tile}")
    bitpix = {np.dtype(np.uint8): 8, np.dtype(np.int16): 16, np.dtype(np.int32): 32,
              np.dtype(np.int64): 64}.get(stored, 0)
    if compression.zcmptype in ("RICE_1", "PLIO_1") and bitpix == 64:
        raise FITSValueError(f"{where}: {compression.zcmptype} cannot code 64-bit integers; "
                             "use Gzip1 or Gzip2")
    if any(n == 0 for n in shape[1:]):
        raise FITSValueError(f"{where}: only the slowest axis of a compressed image may be "
                             f"empty, not shape {shape}")
    return compression, quantize
