"""FITS: an open FITS file with explicit, write-through access to its HDUs."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from fitsbind._atomic import Replacement
from fitsbind._fitsfile import (
    HDU_ASCII_TABLE,
    HDU_IMAGE,
    FitsFile,
    create_file,
    open_file,
)
from fitsbind._lifetime import close_forgotten
from fitsbind.direct.columns import ColumnSpec, parse_tform, spec_for
from fitsbind.direct.compressed import CompressedImageHDU, check_compression, new_table_layout
from fitsbind.direct.compressed_table import CompressedTableHDU, is_compressed_table
from fitsbind.direct.compression import Compression, Gzip1, Quantize
from fitsbind.direct.hdu import HDU
from fitsbind.direct.header import check_entries, entries_of, write_card
from fitsbind.direct.image import ImageHDU
from fitsbind.direct.pixels import BITPIX_OF, OFFSET_TYPES, STORED, PixelLayout, prepare, supported_dtype
from fitsbind.direct.storage import check_can_grow
from fitsbind.direct.table import TableHDU, encode_payload, spec_columns, table_fields
from fitsbind.direct.units import UnitAccess
from fitsbind.errors import (
    FITSError,
    FITSIndexError,
    FITSKeyError,
    FITSPermissionError,
    FITSTypeError,
    FITSValueError,
)

# CFITSIO's image-type codes for the BZERO conventions (it writes BSCALE/BZERO itself)
_OFFSET_CODES = {np.dtype(np.int8): 10, np.dtype(np.uint16): 20, np.dtype(np.uint32): 40,
                 np.dtype(np.uint64): 80}

_MODES = ("r", "r+", "w+")


class FITS(UnitAccess):
    """An open FITS file: ``FITS(path, mode)``, mode "r" (read-only), "r+" (read-write) or
    "w+" (create, replacing an existing file).

    "w+" writes the new file beside ``path`` under a temporary name
    (``.fitsbind-<host>-<pid>-<token>-<name>.tmp``) and renames it over ``path`` on
    :meth:`close`, or when a ``with`` block ends without an exception. Until then a file
    already at ``path`` is untouched and readable; if the block raises, a write fails, or the
    object is collected without being closed, the temporary file is removed and ``path``
    stays as it was; a killed process leaves its temporary file, which the next fitsbind
    write into that directory removes. ``filename``, ``repr`` and error messages name
    ``path`` throughout. ``in_place=True`` instead writes at ``path`` directly, for files too
    large to have twice on disk: the old file is deleted when the new one is opened, and a
    failure or kill part-way leaves a partial file there, whose last HDU may claim data
    that was never written (its blocks read as zeros).

    ``len(fits)`` HDUs, indexed from 0: ``fits[i]``, ``fits["EXTNAME"]`` (case-insensitive;
    EXTNAME or HDUNAME), ``fits["EXTNAME", extver]``; iterating yields every HDU. HDU objects
    are created on first access and stay valid until the file is closed. Use it as a context
    manager, or call :meth:`close`; a FITS object collected while open is closed with a
    ``ResourceWarning``.

    The methods of :class:`~fitsbind.direct.units.UnitAccess` (``locate``, ``read_bytes``,
    ``append_hdu``, ``replace_header``, ``write_data``, ``data_checksum``) work on HDUs as
    byte ranges: the seam the astropy-compatible layer writes through.
    """

    def __init__(self, path: str | os.PathLike[str], mode: str = "r", *,
                 in_place: bool = False) -> None:
        if mode not in _MODES:
            raise FITSValueError(f"mode must be one of {', '.join(map(repr, _MODES))}, not {mode!r}")
        if in_place and mode != "w+":
            raise FITSValueError(f"in_place applies to mode 'w+' only, not {mode!r}")
        self._mode = mode
        self._hdus: dict[int, HDU] = {}
        # the new file of mode "w+" until close() renames it over path
        self._replacement: Replacement | None = None
        if mode == "r+":
            _require_whole(path)
        if mode != "w+":
            self._file: FitsFile = open_file(path, mode)
        elif in_place:
            self._file = create_file(path, overwrite=True)
        else:
            replacement = Replacement(path)
            self._file = create_file(replacement.path, name=path)
            self._replacement = replacement

    def __enter__(self) -> FITS:
        return self

    def __del__(self) -> None:
        f = getattr(self, "_file", None)
        pending = getattr(self, "_replacement", None)
        if f is not None and not f.closed:
            what = repr(self) if pending is None else \
                f"{self!r}: the new file is discarded (close() puts it in place)"
            close_forgotten(what, self._close_forgotten)
        elif pending is not None:
            pending.discard()   # the garbage collector finalized the handle first

    def _close_forgotten(self) -> None:
        if self._replacement is not None:
            self._discard()   # a new file nobody closed may be unfinished
            return
        try:
            self.close()
        except ValueError:
            self._file.close()   # close() refused (an open extending() block): the handle

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        if exc_type is not None and self._replacement is not None:
            self._discard()
        else:
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else self._mode
        return f"<fitsbind.FITS {self.filename!r} ({state})>"

    # -- file ---------------------------------------------------------------------------------

    @property
    def filename(self) -> str:
        """The path the file was opened with."""
        return self._file.filename

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def writable(self) -> bool:
        return self._file.writable

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        """Write everything to disk and close; a new file of mode "w+" is renamed over the
        path here (if that fails, it is removed and the path keeps the old file). A new file
        left without HDUs gets an empty primary HDU, so what is on disk is a valid FITS file.
        Closing again does nothing. Refused (ValueError) while a compressed image's
        ``extending()`` block is open."""
        if self._file.closed:
            return
        active = [i for i, hdu in self._hdus.items() if getattr(hdu, "_extending_active", False)]
        if active:
            raise FITSValueError(f"{self.filename}: HDU {active[0]} is inside extending(); leave "
                             "the with-block before closing the file")
        replacement, self._replacement = self._replacement, None
        try:
            try:
                if self._file.writable and self._file.num_hdus() == 0:
                    self._file.create_image_hdu(8, ())
                    self._file.finish_hdu()
            finally:
                self._hdus.clear()
                self._file.close()
        except BaseException:
            if replacement is not None:
                replacement.discard()
            raise
        if replacement is not None:
            replacement.commit()

    def _discard(self) -> None:
        """Close a new file of mode "w+" without putting it in place: it is removed, and a
        file at the path stays as it was."""
        replacement, self._replacement = self._replacement, None
        self._hdus.clear()
        try:
            self._file.close()
        except OSError:
            pass   # failing to write the last buffers of a file being thrown away is moot
        finally:
            if replacement is not None:
                replacement.discard()

    def flush(self) -> None:
        """Write CFITSIO's buffers to disk."""
        self._handle().flush()

    def _handle(self, writing: bool = False) -> FitsFile:
        if self._file.closed:
            raise FITSValueError(f"{self.filename}: I/O operation on a closed FITS file")
        if writing:
            self._require_writable()
        return self._file

    def _require_writable(self) -> None:
        if not self._file.writable:
            raise FITSPermissionError(f"{self.filename}: the file is open read-only (mode "
                                      f"{self._mode!r}); open it with mode 'r+' to change it",
                                      filename=self.filename)

    # -- HDUs ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._handle().num_hdus()

    def __iter__(self) -> Iterator[HDU]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, key: int | str | tuple[str, int]) -> HDU:
        f = self._handle()
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            index = int(key)
            if index < 0:
                count = len(self)
                if index < -count:
                    raise FITSIndexError(f"{self.filename}: HDU index {key} out of range "
                                     f"({count} HDUs)")
                index += count
            return self._hdu(index)
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str):
            name, extver = key
            if int(extver) < 1:
                raise FITSValueError(f"{self.filename}: EXTVER {extver} must be 1 or more")
        elif isinstance(key, str):
            name, extver = key, 0
        else:
            raise FITSTypeError(f"HDUs are selected by index, name or (name, extver), not {key!r}")
        if name.strip().upper() == "PRIMARY" and int(extver) in (0, 1):
            return self[0]
        with f.lock:
            try:
                index = f.move_to_name(name, int(extver))
            except KeyError:
                f.num_hdus()   # an HDU CFITSIO cannot read ends the search: raise its error
                raise FITSKeyError(f"{self.filename}: no HDU named {name!r}"
                                   + (f" with EXTVER {extver}" if extver else ""),
                                   filename=self.filename) from None
            return self._hdu(index)

    def _hdu(self, index: int) -> HDU:
        """The HDU object at ``index`` (made on first use, with the handle already there)."""
        hdu = self._hdus.get(index)
        if hdu is None:
            f = self._handle()
            with f.lock:
                hdutype = f.move_to(index)
                f.check_end()
                # CFITSIO reports a tile-compressed image as an image HDU
                compressed = hdutype == HDU_IMAGE and f.is_compressed_image()
                compressed_table = hdutype != HDU_IMAGE and is_compressed_table(f)
            if compressed:
                hdu = CompressedImageHDU(self, index)
            elif hdutype == HDU_IMAGE:
                hdu = ImageHDU(self, index)
            elif compressed_table:
                hdu = CompressedTableHDU(self, index)
            else:
                hdu = TableHDU(self, index, ascii=hdutype == HDU_ASCII_TABLE)
            self._hdus[index] = hdu
        return hdu

    # -- creating images ----------------------------------------------------------------------

    def create_image_hdu(self, dtype: Any, shape: Sequence[int] | None = None, *,
                         dims: Sequence[int] | None = None, extname: str | None = None,
                         extver: int | None = None, header: Any = None,
                         blank: int | None = None, compress: Compression | None = None,
                         quantize: Quantize | None = None) -> ImageHDU:
        """Append an image HDU of ``shape`` (numpy order) whose pixels read as ``dtype``.
        ``dims`` is another name of ``shape`` (the one other FITS libraries use); giving both
        with different values is a TypeError.

        The first HDU of an empty file is the primary; later ones are IMAGE extensions. No
        data is held in memory: the file grows by the image's size as a sparse, zero-filled
        region, so images larger than memory (or than 4 GiB) can be filled block by block.
        New pixels hold stored zeros: they read as 0, or as BZERO for the offset types
        (int8: -128, uint16: 32768, uint32: 2**31, uint64: 2**63), as in any FITS reader.

        ``dtype``: uint8, int16, int32, int64, float32, float64, or int8/uint16/uint32/uint64
        (stored with the BZERO convention). ``header``: extra cards (mapping, FITSHeader, or
        ``(key, value[, comment])`` tuples); BSCALE/BZERO there make an integer ``dtype`` the
        stored type of a scaled image. ``blank``: the stored value that marks undefined
        pixels (BLANK; integer images only).

        ``compress`` (``Gzip1``, ``Gzip2``, ``Rice1``, ``Hcompress1``, ``Plio1`` from
        :mod:`fitsbind.direct.compression`) makes a tile-compressed image
        (:class:`CompressedImageHDU`; an empty primary HDU comes first in a new file) whose
        pixels start as stored zeros; ``quantize`` (``Quantize``) sets how float pixels are
        quantized (Rice, HCOMPRESS and PLIO default to ``Quantize()``; GZIP without it is
        lossless). A compressed image may start with shape ``(0, ...)`` and grow by ``extend``.
        """
        if shape is None and dims is None:
            raise TypeError("create_image_hdu() needs the image's shape (shape= or dims=)")
        axes = _shape(dims if shape is None else shape, self.filename)
        if shape is not None and dims is not None and _shape(dims, self.filename) != axes:
            raise TypeError(f"create_image_hdu() got shape={tuple(shape)} and dims={tuple(dims)}; "
                            "give one of them")
        stored = supported_dtype(dtype)
        entries = _image_entries(self.filename, extname, extver, header)
        layout = _layout(stored, entries, blank, self.filename)
        if compress is not None or quantize is not None:
            hdu = self._create_compressed(axes, entries, layout, compress, quantize)
            if hdu.size:
                hdu._store_zeros()
            return hdu
        return self._create_image(stored, axes, entries, layout)

    def write_image(self, data: Any, *, dtype: Any = None, extname: str | None = None,
                    extver: int | None = None, header: Any = None,
                    blank: int | None = None, compress: Compression | None = None,
                    quantize: Quantize | None = None) -> ImageHDU:
        """Append an image HDU holding ``data`` (a numpy array or masked array).

        ``dtype`` is the type the pixels read back as (default: ``data.dtype``); the other
        arguments are those of :meth:`create_image_hdu`. The data is checked and converted
        before the file changes.
        """
        array = data if isinstance(data, np.ma.MaskedArray) else np.asarray(data)
        if array.ndim == 0:
            raise FITSValueError(f"{self.filename}: image data needs at least one axis")
        stored = supported_dtype(array.dtype if dtype is None else dtype)
        entries = _image_entries(self.filename, extname, extver, header)
        layout = _layout(stored, entries, blank, self.filename)
        where = f"{self.filename}, new HDU"
        if compress is not None or quantize is not None:
            check_compression(layout.stored, array.shape, compress or Gzip1(), quantize, where)
            prepare(array, layout, where)
            hdu = self._create_compressed(array.shape, entries, layout, compress, quantize)
            try:
                hdu.write(array)
            except BaseException:
                self._drop_new_hdu(hdu.index)
                raise
            return hdu
        buffer, bscale, bzero = prepare(array, layout, where)
        hdu = self._create_image(stored, array.shape, entries, layout)
        try:
            hdu._write_box((0,) * array.ndim, buffer, bscale, bzero)
        except BaseException:
            self._drop_new_hdu(hdu.index)
            raise
        return hdu

    def write(self, data: Any, **kwargs: Any) -> HDU:
        """Append an HDU holding ``data``, by its kind: numeric arrays (and masked arrays)
        become images (:meth:`write_image`); structured arrays, dicts of columns and astropy
        Tables become binary tables (:meth:`write_table`)."""
        if isinstance(data, Mapping) or hasattr(data, "colnames") or (
                isinstance(data, np.ndarray) and data.dtype.names):
            return self.write_table(data, **kwargs)
        array = data if isinstance(data, np.ma.MaskedArray) else np.asarray(data)
        if array.dtype.kind in "uif":
            return self.write_image(array, **kwargs)
        raise FITSTypeError(f"{self.filename}: cannot write {type(data).__name__} of dtype "
                            f"{array.dtype}; FITS.write takes integer or float arrays (images) "
                            "or structured arrays and dicts of columns (tables)")

    # -- creating tables ----------------------------------------------------------------------

    def create_table_hdu(self, columns: Sequence[Any] | np.dtype, nrows: int = 0, *,
                         extname: str | None = None, extver: int | None = None,
                         ascii: bool = False, units: Sequence[str | None] | None = None,
                         header: Any = None) -> TableHDU:
        """Append a table HDU (BINTABLE, or TABLE if ``ascii``) of ``nrows`` zeroed rows.

        ``columns``: :class:`ColumnSpec` objects, dicts of their fields, ``(name, TFORM[,
        unit])`` tuples (e.g. ``("FLUX", "E")``, ``("SPEC", "100D")``, ``("ID", "PJ()")``),
        or a numpy structured dtype (formats follow the field types, as in
        :meth:`write_table`). ``units`` overrides TUNITn in order. An empty file first gets
        an empty primary HDU. The rows are a sparse region of the file until written.
        """
        if isinstance(columns, np.dtype):
            if columns.names is None:
                raise FITSTypeError(f"{self.filename}: a table dtype needs named fields")
            columns = [spec_for(n, np.zeros((0, *columns[n].shape), columns[n].base), ascii)
                       for n in columns.names]
        specs, _ = spec_columns(list(columns), ascii, self.filename)
        return self._create_table(specs, nrows, extname, extver, ascii, units, header)

    def write_table(self, data: Any, names: Sequence[str] | None = None, *,
                    columns: Sequence[Any] | None = None, extname: str | None = None,
                    extver: int | None = None, ascii: bool = False,
                    units: Sequence[str | None] | None = None, header: Any = None,
                    truncate: bool = False) -> TableHDU:
        """Append a table HDU holding ``data``: a numpy structured array (or masked one), a
        dict of columns, an astropy Table, or a list of arrays with ``names``. Of an astropy
        Table only values and masks are stored, with a warning naming the units, formats,
        time columns or meta left out: ``fitsbind.write_table(table, fits)`` stores those too.

        Formats follow the dtypes: bool → L, uint8 → B, int16/32/64 → I/J/K, int8 and
        uint16/32/64 → B/I/J/K with the TZERO convention, float32/64 → E/D, complex → C/M,
        fixed strings → A, multi-dimensional cells → TDIM, object arrays of 1-D arrays (or
        ragged lists) → variable-length P columns (Q when the heap passes 2 GiB).
        ``columns`` (specs as in :meth:`create_table_hdu`, one per data column, in order)
        sets formats, scaling, nulls and units explicitly. Masked values become TNULL, NaN
        or undefined logicals. Everything is checked before the file changes; strings too
        long for their column raise unless ``truncate``.
        """
        where = f"{self.filename}, new table"
        fields, nrows = table_fields(data, names, where)
        if columns is not None:
            given = list(columns)
            if len(given) != len(fields):
                raise FITSValueError(f"{where}: {len(given)} column descriptions for "
                                     f"{len(fields)} data columns")
        else:
            given = [spec_for(name, values, ascii) for name, values in fields.items()]
        specs, infos = spec_columns(given, ascii, where)
        values = dict(zip((s.name for s in specs), fields.values()))
        payload = encode_payload(infos, values, nrows, where, truncate, ascii, source=data)
        hdu = self._create_table(specs, nrows, extname, extver, ascii, units, header)
        try:
            hdu._store(hdu._layout(), 0, payload)
        except BaseException:
            self._drop_new_hdu(hdu.index)
            raise
        return hdu

    def _create_table(self, specs: list[ColumnSpec], nrows: int, extname: str | None,
                      extver: int | None, ascii: bool, units: Sequence[str | None] | None,
                      header: Any) -> TableHDU:
        f = self._handle(writing=True)
        if nrows < 0:
            raise FITSValueError(f"{self.filename}: negative row count {nrows}")
        if units is not None:
            if len(units) != len(specs):
                raise FITSValueError(f"{self.filename}: {len(units)} units for {len(specs)} "
                                     "columns")
            for spec, unit in zip(specs, units):
                spec.unit = unit
        entries = _image_entries(self.filename, None, extver, header)
        for i, spec in enumerate(specs, 1):
            entries += spec.cards(i)
        rowsize = sum(parse_tform(s.format, ascii).width + 1 if ascii else
                      parse_tform(s.format).nbytes for s in specs)
        check_can_grow(self.filename, rowsize * int(nrows))
        with f.lock:
            if f.num_hdus() == 0:
                f.create_image_hdu(8, ())
                f.finish_hdu()
            index = f.create_table_hdu([s.name for s in specs], [s.format for s in specs],
                                       [s.unit for s in specs], extname, int(nrows), ascii)
            self._fill_new_hdu(f, index, entries)
            if ascii and nrows:
                _blank_rows(f, rowsize * int(nrows))
            hdu = self._hdu(index)
        assert isinstance(hdu, TableHDU)
        return hdu

    def _create_image(self, stored: np.dtype, shape: tuple[int, ...], entries: list,
                      layout: PixelLayout) -> ImageHDU:
        f = self._handle(writing=True)
        check_can_grow(self.filename, int(np.prod(shape, dtype=np.int64)) * stored.itemsize)
        code = _OFFSET_CODES.get(stored, BITPIX_OF[stored])
        if layout.blank is not None:
            entries = [*entries, ("BLANK", layout.blank, "value of undefined pixels")]
        with f.lock:
            index = f.create_image_hdu(code, shape)
            self._fill_new_hdu(f, index, entries)
            hdu = self._hdu(index)
        assert isinstance(hdu, ImageHDU)
        return hdu

    def _create_compressed(self, shape: tuple[int, ...], entries: list, layout: PixelLayout,
                           compress: Any, quantize: Any) -> CompressedImageHDU:
        """A new compressed image HDU whose descriptors are all empty (the caller fills it)."""
        where = f"{self.filename}, new HDU"
        compression, quantize = check_compression(layout.stored, shape, compress or Gzip1(),
                                                  quantize, where)
        columns, cards = new_table_layout(layout.bitpix, shape, compression, quantize)
        if layout.offset:
            cards += [("BSCALE", 1, "default scaling factor"),
                      ("BZERO", OFFSET_TYPES[layout.bitpix][0], "offset of the stored values")]
        if layout.blank is not None:
            cards.append(("BLANK", layout.blank, "value of undefined pixels"))
        tile = compression.tiles_for(shape)
        ntiles = int(np.prod([-(-n // t) for n, t in zip(shape, tile)], dtype=np.int64))
        f = self._handle(writing=True)
        with f.lock:
            if f.num_hdus() == 0:
                f.create_image_hdu(8, ())
                f.finish_hdu()
            index = f.create_table_hdu([c[0] for c in columns], [c[1] for c in columns], None,
                                       None, ntiles, False)
            self._fill_new_hdu(f, index, cards + entries)
            # CFITSIO recognises a compressed image when it reads the header: read it again
            f.move_to(0)
            f.move_to(index)
            hdu = self._hdu(index)
        assert isinstance(hdu, CompressedImageHDU)
        hdu._given_compression = compression
        hdu._geometry = None     # in case it was parsed without them
        return hdu

    def _fill_new_hdu(self, f: FitsFile, index: int, entries: list) -> None:
        """Write the extra cards of a new HDU, then let the file cover its data; on failure
        the new HDU is removed again."""
        try:
            for key, value, comment in entries:
                write_card(f, key, value, comment)
            f.finish_hdu()
        except BaseException:
            if f.current_hdu == index:
                f.drop_last_hdu()
            raise

    def _drop_new_hdu(self, index: int) -> None:
        """Remove HDU ``index``, just appended, whose data failed to arrive: the file is cut
        back to where it ended before (no claimed data stays behind)."""
        with self._handle(writing=True).at(index, writing=True) as f:
            f.drop_last_hdu()
        self._hdus.pop(index, None)


def _require_whole(path: str | os.PathLike[str]) -> None:
    """FITSError when the file at ``path`` ends before its last HDU's data unit does.

    Such a file may not be opened for update: CFITSIO pads the data unit of every HDU it
    leaves in a writable file, so the missing bytes would become zeros and the truncated file
    would look whole. The file is looked at read-only first, which changes nothing."""
    probe = open_file(path, "r")
    try:
        last = probe.num_hdus() - 1
        if last < 0:
            return
        with probe.at(last) as f:
            end = f.hdu_offsets()[2]
    finally:
        probe.close()
    size = os.path.getsize(path)
    if size < end:
        raise FITSError(f"{os.fspath(path)}: the file is truncated: HDU {last}'s data ends at "
                        f"byte {end}, the file at byte {size}; it can be opened read-only (mode "
                        "'r'), not for update, which would fill the missing bytes with zeros",
                        filename=os.fspath(path), hdu=last)


def _blank_rows(f: FitsFile, nbytes: int) -> None:
    """Fill the first ``nbytes`` of a new ASCII table with blanks (its fields' "no value")."""
    chunk = np.full(min(nbytes, 1 << 20), ord(" "), np.uint8)
    for at in range(0, nbytes, len(chunk)):
        f.write_data_bytes(at, chunk[:nbytes - at])


def _shape(shape: Sequence[int], filename: str) -> tuple[int, ...]:
    dims = tuple(int(n) for n in shape)
    if any(n < 0 for n in dims):
        raise FITSValueError(f"{filename}: negative axis length in shape {dims}")
    return dims


def _image_entries(filename: str, extname: str | None, extver: int | None,
                   header: Any) -> list[tuple[str, Any, str | None]]:
    entries: list[tuple[str, Any, str | None]] = []
    if extname is not None:
        entries.append(("EXTNAME", str(extname), "extension name"))
    if extver is not None:
        entries.append(("EXTVER", int(extver), "extension version"))
    if header is not None:
        entries += entries_of(header)
    check_entries(entries, filename, None)
    return entries


def _layout(stored: np.dtype, entries: list, blank: int | None, filename: str) -> PixelLayout:
    """The layout the new image will have, checking that ``dtype``, the header's scaling
    and ``blank`` agree."""
    bitpix = BITPIX_OF[stored]
    values = {k.strip().upper(): v for k, v, _ in entries}
    offset = stored in _OFFSET_CODES
    if offset and ("BSCALE" in values or "BZERO" in values):
        raise FITSValueError(f"{filename}: {stored} images are stored with BZERO "
                             f"{OFFSET_TYPES[bitpix][0]}; the header must not set BSCALE/BZERO")
    if "BLANK" in values:
        raise FITSValueError(f"{filename}: give BLANK with the blank= argument")
    if blank is not None:
        if stored.kind == "f":
            raise FITSValueError(f"{filename}: BLANK applies to integer images only; float "
                                 "images mark undefined pixels with NaN")
        info = np.iinfo(STORED[bitpix])
        if not info.min <= int(blank) <= info.max:
            raise FITSValueError(f"{filename}: BLANK {blank} is outside the stored "
                                 f"{STORED[bitpix]} range {info.min}..{info.max}")
    try:
        bscale = float(values.get("BSCALE", 1.0))
        bzero = values.get("BZERO", OFFSET_TYPES[bitpix][0] if offset else 0)
        bzero = bzero if isinstance(bzero, int) else float(bzero)
    except (TypeError, ValueError):
        raise FITSValueError(f"{filename}: BSCALE and BZERO must be numbers") from None
    if bscale == 0:
        raise FITSValueError(f"{filename}: BSCALE must not be 0")
    return PixelLayout(bitpix, bscale, bzero, None if blank is None else int(blank))
