"""HDUs as byte ranges of a file: the seam through which the layers above the direct tier
reach the disk.

A layer that keeps HDUs in memory (the astropy-compatible model) reads and writes files only
through these methods of :class:`~fitsbind.FITS`, which :class:`UnitAccess` provides:

=================================  =========================================================
``locate(index)``                  where HDU ``index`` lies (:class:`HDUExtent`)
``read_bytes(position, nbytes)``   any bytes of the file, by position
``append_hdu(header, data)``       a new HDU at the end: header text and its data unit
``replace_header(index, header)``  a header rewritten in place, its data unit untouched
``write_data(index, data, at)``    bytes of a data unit rewritten in place
``data_checksum(index)``           the data unit's checksum as it is on disk (DATASUM)
=================================  =========================================================

Each call takes the file's lock for its whole duration and checks its arguments before the
file changes; an appended HDU whose data fails to arrive is cut off the file again. Data given as a
chunk iterable can only be checked as it comes: ``write_data`` stops at the first chunk that
reaches past the data unit, after writing those before it.
Header text is 80-character card images, END and padding excluded, as
``Header.tostring(endcard=False, padding=False)`` gives it. Data is a numpy array (numeric
values and record fields in native order are written big-endian, chunk by chunk; any other
array as its raw bytes: see :func:`stored_chunks`), a bytes-like object, or an iterable of
such chunks, which are written as they come so a data unit never has to be in memory whole.

Direct-tier HDU objects of an index that one of these calls changes drop what they cached
(header cards, decoded tiles), so they read the new bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import wait
from typing import Any, NamedTuple

import numpy as np

from fitsbind._fitsfile import FitsFile, parse_cards, raw_write_bytes
from fitsbind._workers import executor
from fitsbind.checksum import padded_length
from fitsbind.direct.pixels import stored_chunks
from fitsbind.direct.rawio import PARALLEL_BYTES
from fitsbind.direct.tilecache import TileCacheMembers
from fitsbind.errors import FITSKeyError, FITSTypeError, FITSValueError

__all__ = ["HDUExtent", "UnitAccess", "data_unit_size"]

Data = Any   # np.ndarray | bytes-like | Iterable[bytes-like] | None


class HDUExtent(NamedTuple):
    """Where one HDU lies in its file, in bytes from the start of the file.

    ``header_start`` is the first byte of the header, ``data_start`` the first byte of the
    data unit (the header's 2880-byte blocks end there) and ``data_end`` one past the data
    unit's last 2880-byte block: the next HDU's ``header_start``, or the end of the file.
    """

    header_start: int
    data_start: int
    data_end: int

    @property
    def header_size(self) -> int:
        """Bytes of header blocks (a multiple of 2880)."""
        return self.data_start - self.header_start

    @property
    def data_size(self) -> int:
        """Bytes of data blocks (a multiple of 2880; the data itself may be shorter)."""
        return self.data_end - self.data_start


class UnitAccess:
    """The seam's methods, mixed into :class:`~fitsbind.FITS` (which provides ``_handle``,
    ``_hdus`` and ``filename``)."""

    filename: str
    _hdus: dict

    def _handle(self, writing: bool = False) -> FitsFile:
        raise NotImplementedError

    def locate(self, index: int) -> HDUExtent:
        """Where HDU ``index`` (zero-based) lies: reads the headers up to it, not the data.

        :class:`~fitsbind.FITSIndexError` (an IndexError) past the last HDU;
        :class:`~fitsbind.FITSError` when CFITSIO cannot read the header (no END card,
        structural keywords it refuses, ...).
        """
        with self._handle().at(index) as f:
            f.check_end()
            return _extent(f)

    def read_bytes(self, position: int, nbytes: int | None = None, *,
                   out: np.ndarray | None = None) -> np.ndarray:
        """The file's bytes from ``position`` on: ``nbytes`` of them in a new uint8 array, or
        as many as ``out`` (a writeable C-contiguous array of any dtype) holds, filled in place
        and returned. A gzip-compressed file is read decompressed. Bytes past the end raise
        FITSError."""
        if (nbytes is None) == (out is None):
            raise FITSTypeError("read_bytes takes nbytes or out, not both")
        if out is None:
            if nbytes < 0:
                raise FITSValueError(f"{self.filename}: cannot read {nbytes} bytes")
            out = np.empty(nbytes, np.uint8)
        self._handle().read_bytes(int(position), out)
        return out

    def append_hdu(self, header: str, data: Data = None) -> int:
        """Append an HDU whose header is ``header`` (SIMPLE first for the first HDU of a file,
        XTENSION otherwise) and whose data unit is ``data``; return its index.

        ``data`` must fill the data unit the header describes (the same number of 2880-byte
        blocks; CFITSIO pads the last one); None leaves a data unit of zeros, written as a
        sparse region. The size of arrays and bytes is checked against the data unit CFITSIO
        derives from the header before any data is written (parsing the header here first
        would cost more than the rest of the call). When it does not match, when a chunk
        iterable turns out too long or too short, or when writing fails, the file is cut
        back to where it ended before the call (nothing of the new HDU stays; after a failed
        first HDU the file is empty again, ready for another) and the failure is raised.
        """
        f = self._handle(writing=True)
        text = _header_text(header, self.filename)
        chunks, nbytes = _chunks(data)
        with f.lock:
            index = f.append_hdu(text)
            if chunks is None:
                return index
            try:
                extent = _extent(f)
                if nbytes is not None:
                    _check_fills(nbytes, extent, self.filename, index)
                written = self._write_chunks(f, index, chunks, 0, extent, data)
                _check_fills(written, extent, self.filename, index)
            except BaseException as failure:
                try:
                    with f.at(index, writing=True):
                        f.drop_last_hdu()
                except Exception as undoing:
                    raise failure from undoing
                finally:
                    self._hdus.pop(index, None)
                raise
        return index

    def replace_header(self, index: int, header: str) -> None:
        """Make ``header`` the header of HDU ``index``, rewriting in place only the cards that
        differ. The header may gain or lose 2880-byte blocks (later HDUs move); its
        structural cards must describe a data unit of the size already on disk
        (FITSValueError otherwise, before anything is written), whose bytes stay as they are.
        """
        text = _header_text(header, self.filename)
        with self._handle(writing=True).at(index, writing=True) as f:
            extent = _extent(f)
            size = _described_size(text, f"{self.filename}, HDU {index}")
            if padded_length(size) != extent.data_size:
                raise FITSValueError(
                    f"{self.filename}, HDU {index}: the new header describes {size} data bytes, "
                    f"but the data unit on disk has {extent.data_size}; rewrite the HDU instead",
                    filename=self.filename, hdu=index)
            try:
                f.replace_header(text)
            finally:
                self._forget(index)

    def write_data(self, index: int, data: Data, offset: int = 0) -> None:
        """Write ``data`` into the data unit of HDU ``index`` from byte ``offset`` of the
        unit on. Arrays and bytes that would reach past the data unit raise FITSValueError
        before anything is written; a chunk iterable is checked chunk by chunk, so the chunks
        before one that reaches too far are written."""
        chunks, nbytes = _chunks(data)
        if chunks is None:
            return
        with self._handle(writing=True).at(index, writing=True) as f:
            extent = _extent(f)
            if offset < 0 or (nbytes is not None and offset + nbytes > extent.data_size):
                raise FITSValueError(
                    f"{self.filename}, HDU {index}: {nbytes} bytes at data offset {offset} reach "
                    f"outside the {extent.data_size}-byte data unit",
                    filename=self.filename, hdu=index)
            try:
                self._write_chunks(f, index, chunks, offset, extent, data)
            finally:
                self._forget(index)

    def data_checksum(self, index: int) -> int:
        """The 32-bit ones' complement sum of HDU ``index``'s data unit, padding included, as
        the bytes are on disk (the value DATASUM holds)."""
        with self._handle().at(index) as f:
            return int(f.data_checksum())

    # -- helpers --------------------------------------------------------------------------------

    def _write_chunks(self, f: FitsFile, index: int, chunks: Iterator[memoryview], offset: int,
                      extent: HDUExtent, data: Data = None) -> int:
        """Write ``chunks`` (made of ``data``) from data offset ``offset`` of the current HDU
        ``index`` (the lock held); return the end offset reached. Plain files on disk are
        written with fitsbind's own descriptor (a large array in two halves at once), others
        through CFITSIO."""
        access = f.raw_access(writing=True)
        if access is not None and isinstance(data, np.ndarray) and data.nbytes >= PARALLEL_BYTES:
            # arrays were checked against the data unit before: no check per chunk
            _write_halves(access[0], access[1] + offset, data.reshape(-1))
            return offset + data.nbytes
        at = offset
        for chunk in chunks:
            piece = np.frombuffer(chunk, np.uint8)
            if at + len(piece) > extent.data_size:
                raise FITSValueError(f"{self.filename}, HDU {index}: the data reach past the "
                                     f"{extent.data_size}-byte data unit", filename=self.filename,
                                     hdu=index)
            if access is None:
                f.write_data_bytes(at, piece)
            else:
                raw_write_bytes(access[0], access[1] + at, piece)
            at += len(piece)
        return at

    def _forget(self, index: int) -> None:
        """Make the direct-tier HDU object of ``index``, if one was made, drop what it cached
        of the bytes that just changed."""
        hdu = self._hdus.get(index)
        if hdu is not None:
            hdu._invalidate()
            if isinstance(hdu, TileCacheMembers):
                hdu.clear_tile_cache()


def _write_halves(fd: int, at: int, flat: np.ndarray) -> None:
    """Write the data unit ``flat`` (a 1-d array) holds to file byte ``at`` on: its second
    half converted and written by a worker thread while this one does the first (numpy's
    conversion and pwrite both run without the GIL, so the two overlap on two cores)."""
    half = len(flat) // 2
    second = executor("io", 2).submit(_write_stored, fd, at + half * flat.itemsize, flat[half:])
    try:
        _write_stored(fd, at, flat[:half])
    finally:
        # done before the caller may cut a failed HDU off the file
        wait([second])
    second.result()


def _write_stored(fd: int, at: int, array: np.ndarray) -> None:
    """Write ``array``'s stored bytes (:func:`stored_chunks`) to file byte ``at`` on."""
    for chunk in stored_chunks(array):
        piece = np.frombuffer(chunk, np.uint8)
        raw_write_bytes(fd, at, piece)
        at += len(piece)


def _extent(f: FitsFile) -> HDUExtent:
    """The current HDU's extent (made without NamedTuple's keyword handling: locating many
    small files calls this once per HDU)."""
    return tuple.__new__(HDUExtent, f.hdu_offsets())


def _header_text(header: str, filename: str) -> str:
    if not isinstance(header, str):
        raise FITSTypeError(f"header text must be a str, not {type(header).__name__}")
    if len(header) % 80 or not header:
        raise FITSValueError(f"{filename}: header text is {len(header)} characters, not a "
                             "positive multiple of 80 (END and padding are not part of it)",
                             filename=filename)
    return header


def _chunks(data: Data) -> tuple[Iterator[memoryview] | None, int | None]:
    """(chunks to write, their total size when known before writing) of ``data``."""
    if data is None:
        return None, None
    if isinstance(data, np.ndarray):
        return stored_chunks(data), data.nbytes
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data).cast("B")
        return iter([view]), view.nbytes
    if isinstance(data, Iterable):
        return (memoryview(c).cast("B") for c in data), None
    raise FITSTypeError(f"data must be an array, a bytes-like object or an iterable of them, not "
                    f"{type(data).__name__}")


def _check_fills(nbytes: int, extent: HDUExtent, filename: str, index: int) -> None:
    if padded_length(nbytes) != extent.data_size:
        raise FITSValueError(f"{filename}, HDU {index}: {nbytes} data bytes for a data unit of "
                             f"{extent.data_size} bytes (the header describes a different "
                             "size)", filename=filename, hdu=index)


def data_unit_size(header: Any, groups: bool = False) -> int:
    """Bytes of the data unit that ``header`` (anything with ``get`` and ``in``: a mapping of
    keyword to value, a drop-in Header) describes, padding excluded: |BITPIX|/8 x GCOUNT x
    (PCOUNT + NAXIS1 x ... x NAXISn), NAXIS1 left out for random ``groups``, 0 without axes; a
    negative product counts as 0. A keyword the size needs that is missing raises KeyError,
    one whose value is not an integer TypeError."""
    naxis = _integer(header, "NAXIS", 0)
    if naxis <= (1 if groups else 0):
        return 0
    count = 1
    for axis in range(2 if groups else 1, naxis + 1):
        count *= _integer(header, f"NAXIS{axis}")
    bitpix = _integer(header, "BITPIX")
    size = abs(bitpix) * _integer(header, "GCOUNT", 1) * (_integer(header, "PCOUNT", 0) + count) // 8
    return max(size, 0)


def _integer(header: Any, keyword: str, default: int | None = None) -> int:
    value = header.get(keyword)
    if value is None and keyword not in header:
        if default is None:
            raise FITSKeyError(f"Keyword {keyword!r} not found: the data size is undefined.")
        return default
    if not isinstance(value, (int, np.integer)):
        raise FITSTypeError(f"Keyword {keyword!r} has the value {value!r}, not an integer: the data "
                        "size is undefined.")
    return int(value)


def _described_size(text: str, where: str) -> int:
    """:func:`data_unit_size` of the header ``text``."""
    values: dict[str, Any] = {}
    for keyword, value, _, _ in parse_cards(text):
        values.setdefault(keyword.upper(), value)
    try:
        return data_unit_size(values, "SIMPLE" in values and values.get("GROUPS") is True)
    except (KeyError, TypeError) as exc:
        raise FITSValueError(f"{where}: the header does not describe its data unit ({exc})") \
            from None
