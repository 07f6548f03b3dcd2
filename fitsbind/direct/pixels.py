"""How an image's stored values map to the values users read and write.

:class:`PixelLayout` is derived from BITPIX, BSCALE, BZERO and BLANK; :func:`prepare` turns
user data into the buffer and scaling handed to CFITSIO, checking everything first.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from fitsbind._fitsfile import PIXEL_DTYPES
from fitsbind.errors import FITSTypeError, FITSValueError

#: BITPIX → dtype of the stored values (native byte order)
STORED = {8: np.dtype(np.uint8), 16: np.dtype(np.int16), 32: np.dtype(np.int32),
          64: np.dtype(np.int64), -32: np.dtype(np.float32), -64: np.dtype(np.float64)}

#: BITPIX → (BZERO, dtype) of the unsigned (or, for BITPIX 8, signed-byte) convention
OFFSET_TYPES = {8: (-128, np.dtype(np.int8)), 16: (1 << 15, np.dtype(np.uint16)),
                32: (1 << 31, np.dtype(np.uint32)), 64: (1 << 63, np.dtype(np.uint64))}

#: numpy dtype → the BITPIX that stores it (the offset types through BZERO)
BITPIX_OF = {dtype: bitpix for bitpix, dtype in STORED.items()}
BITPIX_OF.update({dtype: bitpix for bitpix, (_, dtype) in OFFSET_TYPES.items()})


@dataclass(frozen=True)
class PixelLayout:
    """The stored and the physical form of an image's pixels.

    ``stored`` is the dtype of the values on disk; ``dtype`` what ``read(scale=True)`` gives:
    the unsigned dtype for the BZERO conventions (uint16/32/64, int8), float32 (BITPIX 8, 16)
    or float64 (32, 64) for any other BSCALE/BZERO or a BLANK, else the stored dtype, as
    astropy.io.fits reads them. ``blank`` is BLANK of an integer image.
    """

    bitpix: int
    bscale: float = 1.0
    bzero: float | int = 0
    blank: int | None = None

    # derived once: every pixel read asks several of these (cached_property writes the
    # instance dict directly, so the dataclass stays frozen)
    @cached_property
    def stored(self) -> np.dtype:
        return STORED[self.bitpix]

    @cached_property
    def integer(self) -> bool:
        return self.bitpix > 0

    @cached_property
    def offset(self) -> bool:
        """True for the unsigned / signed-byte BZERO conventions."""
        return (self.integer and self.bscale == 1
                and self.bzero == OFFSET_TYPES[self.bitpix][0])

    @cached_property
    def scaled(self) -> bool:
        """True when reading converts integers to floats (BSCALE/BZERO other than the offset
        conventions, or a BLANK), or when a float image has BSCALE/BZERO."""
        if self.offset:
            return False
        return self.bscale != 1 or self.bzero != 0 or (self.integer and self.blank is not None)

    @cached_property
    def dtype(self) -> np.dtype:
        if self.offset:
            return OFFSET_TYPES[self.bitpix][1]
        if self.scaled and self.integer:
            return np.dtype(np.float32 if self.bitpix in (8, 16) else np.float64)
        return self.stored

    @classmethod
    def from_header(cls, values: Any) -> PixelLayout:
        """Layout from a header (anything with ``get``)."""
        bitpix = values.get("BITPIX")
        if bitpix not in STORED or isinstance(bitpix, bool):
            raise FITSValueError(f"BITPIX {bitpix!r} is not a FITS value "
                                 "(8, 16, 32, 64, -32, -64)")
        blank = values.get("BLANK") if bitpix > 0 else None
        if blank is not None and (isinstance(blank, bool) or not isinstance(blank, int)):
            raise FITSValueError(f"BLANK {blank!r} is not an integer")
        return cls(bitpix, float(scale_value(values, "BSCALE", 1.0)),
                   scale_value(values, "BZERO", 0), None if blank is None else int(blank))


def scale_value(values: Any, key: str, default: float) -> float | int:
    """A scaling card's value; BZERO 2**63 must stay exact, so integers stay int."""
    value = values.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FITSValueError(f"{key} {value!r} is not a finite number")
    return value


def prepare(data: Any, layout: PixelLayout, where: str) -> tuple[np.ndarray, float, float]:
    """Convert ``data`` for writing into an image with ``layout``; nothing is written here.

    Returns ``(buffer, bscale, bzero)``: a C-contiguous native array of a CFITSIO pixel type
    and the scaling CFITSIO must invert while writing it. Rules: data of the image's dtype is
    written as is (unsigned types through BZERO); other integer data when every value fits;
    float data into a scaled integer image is inverse-scaled and rounded, NaN becoming BLANK;
    float data into an unscaled integer image is refused (TypeError); masked pixels of a
    ``numpy.ma.MaskedArray`` become BLANK (integer images) or NaN (float images).
    Raises TypeError or ValueError, naming ``where``, when the data cannot be stored exactly.
    """
    mask = None
    if isinstance(data, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(data)
        if not mask.any():
            mask = None
        data = data.data
    array = np.asarray(data)
    kind = array.dtype.kind
    if kind not in "uif":
        raise FITSTypeError(f"{where}: cannot store {array.dtype} data in an image "
                        f"(BITPIX {layout.bitpix}); use integer or float data")

    if layout.scaled and layout.integer and not (kind in "iu" and layout.bscale == 1
                                                 and layout.bzero == 0):
        stored = to_scaled(array, mask, layout.stored, layout.bscale, layout.bzero,
                           layout.blank, where)
        return np.ascontiguousarray(stored), 1.0, 0.0

    # integers into an image whose only "scaling" is BLANK are stored exactly
    target = layout.stored if layout.scaled and layout.integer else layout.dtype
    if layout.integer:
        if kind == "f":
            raise FITSTypeError(
                f"{where}: cannot write {array.dtype} data into an integer image "
                f"({target}) without BSCALE/BZERO scaling; convert it first "
                f"(e.g. data.astype({target.name!r})) or create a scaled image")
        check_range(array, target, where)
    elif kind == "f":
        check_float_range(array, target, where)
    if mask is not None:
        if layout.integer:
            if layout.blank is None:
                raise FITSValueError(f"{where}: masked pixels need a BLANK value; create the image "
                                 "with blank=...")
            fill = layout.blank + layout.bzero
        else:
            fill = np.nan
        array = np.where(mask, np.asarray(fill, dtype=target), array.astype(target, copy=False))
    buffer = np.ascontiguousarray(array, dtype=target)
    if layout.offset:
        return buffer, 1.0, float(layout.bzero)
    return buffer, layout.bscale, float(layout.bzero)


def check_range(array: np.ndarray, target: np.dtype, where: str) -> None:
    """Raise FITSValueError unless every integer of ``array`` fits ``target``."""
    if np.can_cast(array.dtype, target, "safe") or array.size == 0:
        return
    info = np.iinfo(target)
    low, high = int(array.min()), int(array.max())
    if low < info.min or high > info.max:
        raise FITSValueError(f"{where}: values {low}..{high} do not fit the stored {target} "
                         f"range {info.min}..{info.max}")


def check_float_range(array: np.ndarray, target: np.dtype, where: str) -> None:
    """Raise FITSValueError if finite floats of ``array`` overflow the narrower ``target``."""
    if target.itemsize >= array.itemsize or array.size == 0:
        return
    finite = array[np.isfinite(array)]
    limit = np.finfo(target).max
    if finite.size and (finite.max() > limit or finite.min() < -limit):
        raise FITSValueError(f"{where}: values beyond the {target} range cannot be stored")


def to_scaled(array: np.ndarray, mask: np.ndarray | None, stored: np.dtype, scale: float,
              zero: float | int, null: int | None, where: str) -> np.ndarray:
    """Stored integers (``stored`` dtype, the shape of ``array``) for physical values:
    round((x - zero) / scale); NaN and masked values become ``null`` (BLANK / TNULL).
    FITSValueError if a value does not fit, or a NaN has no null to become."""
    raw = np.array((array.astype(np.float64) - float(zero)) / scale, ndmin=1)
    nan = np.isnan(raw)
    if mask is not None:
        nan |= mask.reshape(raw.shape)
    if np.isinf(raw).any():
        raise FITSValueError(f"{where}: infinite values cannot be stored as scaled integers")
    if nan.any() and null is None:
        raise FITSValueError(f"{where}: NaN or masked values need a null value (BLANK or "
                         "TNULL) to be stored as scaled integers")
    raw = np.rint(raw)
    valid = raw[~nan] if nan.any() else raw
    info = np.iinfo(stored)
    if valid.size and (valid.min() < info.min or valid.max() > info.max):
        low = valid.min() * scale + float(zero)
        high = valid.max() * scale + float(zero)
        raise FITSValueError(f"{where}: values {low:g}..{high:g} are outside what scale "
                         f"{scale:g} / zero {zero:g} can store as {stored}")
    raw[nan] = 0 if null is None else null
    return raw.astype(stored).reshape(array.shape)


def unscale(raw: np.ndarray, layout: PixelLayout) -> np.ndarray:
    """Physical values (``layout.dtype``) of stored values, as CFITSIO computes them:
    raw * BSCALE + BZERO in double precision; BLANK pixels become NaN in float results."""
    if not (layout.scaled or layout.offset):
        return raw
    if layout.offset:
        # exact: adding the offset flips the sign bit
        bits = raw.view(f"u{raw.itemsize}")
        return (bits ^ np.array(1 << (8 * raw.itemsize - 1), dtype=bits.dtype)).view(layout.dtype)
    result = (raw.astype(np.float64) * layout.bscale + float(layout.bzero)).astype(layout.dtype)
    if layout.blank is not None:
        result[raw == layout.blank] = np.nan
    return result


def blank_mask(stored: np.ndarray, layout: PixelLayout) -> np.ndarray | bool:
    """Which pixels are undefined, from their stored values: BLANK in integer images,
    NaN in float images (False when an integer image has no BLANK)."""
    if layout.integer:
        return (stored == layout.blank) if layout.blank is not None else False
    return np.isnan(stored)


def supported_dtype(dtype: Any) -> np.dtype:
    """``dtype`` as a native dtype fitsbind can store in an image, else TypeError."""
    native = np.dtype(dtype).newbyteorder("=")
    if native not in PIXEL_DTYPES:
        raise FITSTypeError(f"images cannot hold {np.dtype(dtype)}; use one of "
                        + ", ".join(sorted(str(d) for d in PIXEL_DTYPES)))
    return native


# elements converted per step when a payload is not yet in FITS byte order: a reused buffer
# of a few MiB is faster than one big-endian copy of the whole array (no page faults)
_SWAP_CHUNK = 1 << 20
# bytes of records converted per step (about what _SWAP_CHUNK elements of 4 bytes take)
_RECORD_CHUNK = 4 << 20


def stored_chunks(payload: np.ndarray) -> Iterator[memoryview]:
    """The bytes of the data unit ``payload`` holds, in order, as memoryviews.

    A plain numeric payload in little-endian order is converted to big-endian chunk by chunk
    through one reused buffer (each chunk a multiple of 4 bytes, so checksums can be summed
    per chunk); so is a record array with fields in little-endian order (every field made
    big-endian, the bytes between fields zero); any other payload's raw bytes are the data
    unit as they are. A chunk is valid until the next one is asked for."""
    if payload.dtype.names is not None:
        # converted straight from the records, contiguous or not: no whole copy first
        yield from _stored_records(payload.reshape(-1))
        return
    flat = np.ascontiguousarray(payload).reshape(-1)
    dtype = flat.dtype
    if dtype.itemsize == 1 or not dtype.isnative or np.little_endian is False:
        yield memoryview(flat.view(np.uint8))
        return
    buffer = np.empty(min(_SWAP_CHUNK, flat.size), dtype.newbyteorder(">"))
    for i in range(0, flat.size, _SWAP_CHUNK):
        n = min(_SWAP_CHUNK, flat.size - i)
        buffer[:n] = flat[i:i + n]
        yield memoryview(buffer[:n].view(np.uint8))


def _big_endian_records(dtype: np.dtype) -> np.dtype:
    """The record dtype ``dtype`` with every field big-endian, offsets and size kept."""
    fields = dtype.fields
    return np.dtype({"names": list(dtype.names),
                     "formats": [fields[n][0].newbyteorder(">") for n in dtype.names],
                     "offsets": [fields[n][1] for n in dtype.names],
                     "itemsize": dtype.itemsize})


def _stored_records(flat: np.ndarray) -> Iterator[memoryview]:
    """:func:`stored_chunks` of a 1-d record array."""
    stored = _big_endian_records(flat.dtype)
    if flat.nbytes == 0 or (stored == flat.dtype and flat.flags.c_contiguous):
        yield memoryview(np.ascontiguousarray(flat).view(np.uint8))
        return
    # a multiple of 4 rows makes every chunk but the last a multiple of 4 bytes; numpy
    # assigns records field by field, so the bytes between fields stay the zeroed buffer's
    rows = max(4, _RECORD_CHUNK // stored.itemsize // 4 * 4)
    buffer = np.zeros(min(rows, flat.size), stored)
    for i in range(0, flat.size, rows):
        n = min(rows, flat.size - i)
        buffer[:n] = flat[i:i + n]
        yield memoryview(buffer[:n].view(np.uint8))
