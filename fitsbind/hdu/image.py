"""Image HDUs of the astropy-compatible model: PrimaryHDU, ImageHDU and Section.

Pixel values follow astropy's rules. Data with BSCALE/BZERO (or an integer BLANK) reads as
float32 (BITPIX 8, 16, -32) or float64 (32, 64, -64), blanks as NaN, and the header then
describes the float data. BSCALE = 1 with BZERO = 2**(n-1) reads as uint16/32/64 (and BZERO
-128 on BITPIX 8 as int8) when ``uint`` is on. Unscaled data from a plain file is a view of
the file's memory map.
"""

from __future__ import annotations

import copy
import re
import warnings
from typing import Any

import numpy as np

from fitsbind.card import Undefined
from fitsbind.errors import FITSError
from fitsbind.hdu.base import DELAYED, ExtensionHDU, _register_builtin, _ValidHDU, xtension
from fitsbind.header import Header
from fitsbind.util import is_integer
from fitsbind.verify import VerifyWarning, _ErrList

BITPIX2DTYPE = {8: "uint8", 16: "int16", 32: "int32", 64: "int64", -32: "float32",
                -64: "float64"}
DTYPE2BITPIX = {"int8": 8, "uint8": 8, "int16": 16, "uint16": 16, "int32": 32, "uint32": 32,
                "int64": 64, "uint64": 64, "float32": -32, "float64": -64}
_STRUCTURAL = ("SIMPLE", "XTENSION", "BITPIX", "NAXIS", "EXTEND", "PCOUNT", "GCOUNT")
_NAXIS_N = re.compile(r"NAXIS\d+")


# longest axis a header may give: numpy's shapes are int64
_MAX_LENGTH = (1 << 63) - 1


def _is_real(value: Any) -> bool:
    return is_integer(value) or isinstance(value, (float, np.floating))


def _scaling_value(header: Header, keyword: str, default: Any) -> Any:
    """The value of the first ``keyword`` card (BSCALE, BZERO) that has one, else
    ``default``: as astropy, a card without a value (no value indicator, or nothing after
    it) does not scale the data."""
    for card in header._cards_with(keyword):
        if card.keyword == keyword and not isinstance(card.value, Undefined) \
                and card.value not in (None, ""):
            return card.value
    return default


def _pseudo_zero(dtype: np.dtype) -> int:
    """BZERO that stores ``dtype`` (int8 or an unsigned type) in the next FITS type."""
    if dtype.kind == "i":
        return -128
    return 1 << (dtype.itemsize * 8 - 1)


def _is_pseudo_integer(dtype: np.dtype) -> bool:
    return (dtype.kind == "u" and dtype.itemsize >= 2) or (dtype.kind == "i" and dtype.itemsize == 1)


def _stored_dtype(dtype: np.dtype) -> np.dtype:
    """Big-endian dtype the pixels of ``dtype`` are stored as."""
    if _is_pseudo_integer(dtype):
        return np.dtype(f">i{dtype.itemsize}") if dtype.kind == "u" else np.dtype("u1")
    return np.dtype(BITPIX2DTYPE[DTYPE2BITPIX[dtype.name]]).newbyteorder(">")


def to_stored(data: np.ndarray) -> np.ndarray:
    """``data`` with the values stored on disk: pseudo-integers offset by BZERO, in any byte
    order (the writer makes it big-endian, see ``fitsbind.direct.pixels.stored_chunks``)."""
    dtype = data.dtype
    stored = _stored_dtype(dtype)
    if _is_pseudo_integer(dtype):
        flipped = np.ascontiguousarray(data) ^ np.array(_pseudo_zero(dtype), dtype).astype(dtype)
        return flipped.view(stored.newbyteorder("="))
    if dtype.newbyteorder("=") == stored.newbyteorder("="):
        return np.ascontiguousarray(data)
    return np.ascontiguousarray(data, dtype=stored)


def _warn_invalid_blank(blank: Any, bitpix: Any) -> None:
    """VerifyWarning for a BLANK (None: no card) that cannot mark undefined pixels: one that
    is not an integer, or one on pixels (``bitpix``) that are not integers."""
    if blank is None:
        return
    if not is_integer(blank):
        warnings.warn(f"Invalid value for 'BLANK' keyword in header: {blank!r}; BLANK must be "
                      "an integer, so it is ignored.", VerifyWarning, stacklevel=3)
    if not (is_integer(bitpix) and bitpix > 0):
        warnings.warn("Invalid 'BLANK' keyword in header: BLANK marks undefined pixels of "
                      f"integer images only, and this HDU's BITPIX is {bitpix}; it is ignored.",
                      VerifyWarning, stacklevel=3)


def _to_scaled(data: np.ndarray, stored: np.dtype, bscale: Any, bzero: Any) -> np.ndarray:
    """``data`` as the values ``stored`` holds under ``bscale``/``bzero`` (``HDU.scale``).

    Integer data shifted by an integral BZERO (BSCALE 1) into an integer type is stored
    modulo 2**bits, as the unsigned conventions read it back: -1 stored in int16 with
    BZERO 32768 reads as 65535 with ``uint=True``. Otherwise the values are computed in
    float64, rounded and clipped to the integer type's range.
    """
    if (stored.kind in "iu" and data.dtype.kind in "biu" and bscale == 1
            and float(bzero).is_integer()):
        # uint64 arithmetic wraps, and the final cast keeps the low bits: two's complement
        shift = np.uint64(int(bzero) % (1 << 64))
        return (data.astype(np.uint64) - shift).astype(stored)
    values = np.asarray(data, np.float64)
    if bzero != 0:
        values = values - bzero
    if bscale != 1:
        values = values / bscale
    if stored.kind in "iu":
        info = np.iinfo(stored)
        values = np.clip(np.around(values), info.min, info.max)
    return values.astype(stored)


class _ImageBaseHDU(_ValidHDU):
    """Shared machinery of PrimaryHDU and ImageHDU."""

    def __init__(self, data: Any = None, header: Header | None = None,
                 do_not_scale_image_data: bool = False, uint: bool = True,
                 scale_back: bool | None = False, ignore_blank: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(data=data, header=header)
        self._do_not_scale_image_data = do_not_scale_image_data
        self._uint = uint
        self._scale_back = scale_back
        self._ignore_blank = ignore_blank
        if data is DELAYED:
            self._header = header if header is not None else Header()
        else:
            self._header = self._standard_header(header)
            if data is not None:
                self._set_data(data)
            else:
                self.update_header()
        self._remember_scaling()
        # the BLANK a scaled read dropped from the header (the float data hold NaN instead)
        self._dropped_blank: Any = None
        if data is DELAYED and not ignore_blank:
            _warn_invalid_blank(self._header.get("BLANK"), self._orig_bitpix)
        name = kwargs.get("name")
        if name is not None:
            self.name = name
        ver = kwargs.get("ver")
        if ver is not None:
            self.ver = ver

    @property
    def header(self) -> Header:
        return self._header

    @header.setter
    def header(self, value: Header) -> None:
        # as astropy: a new header is brought into line with data already in memory
        self._header = value
        if self._data_loaded:
            self.update_header()

    def _standard_header(self, header: Header | None) -> Header:
        cards: list[tuple] = []
        if self._extension is None:
            cards.append(("SIMPLE", True, "conforms to FITS standard"))
        else:
            cards.append(("XTENSION", self._extension, "Image extension"))
        cards += [("BITPIX", 8, "array data type"), ("NAXIS", 0, "number of array dimensions")]
        if self._extension is None:
            # as astropy: EXTEND only in a header made from nothing; writing a list with
            # extensions adds it (HDUList.update_extend)
            if header is None:
                cards.append(("EXTEND", True))
        else:
            cards += [("PCOUNT", 0, "number of parameters"), ("GCOUNT", 1, "number of groups")]
        new = Header(cards)
        if header is not None:
            # the structural cards of a given header are rebuilt, in standard order and with
            # standard comments, from the data (update_header)
            # copies: the given header stays the caller's, unchanged by edits to this one
            new.extend((copy.copy(card) for card in header.cards if card.keyword not in
                        _STRUCTURAL and not _NAXIS_N.fullmatch(card.keyword)), end=True)
        return new

    def _remember_scaling(self) -> None:
        h = self._header
        self._orig_bitpix = h.get("BITPIX", 8)
        self._orig_bscale = _scaling_value(h, "BSCALE", 1)
        self._orig_bzero = _scaling_value(h, "BZERO", 0)
        blank = h.get("BLANK")
        integer = isinstance(self._orig_bitpix, int) and self._orig_bitpix > 0
        self._orig_blank = blank if isinstance(blank, int) and integer else None

    # -- shape ----------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        """Data shape in numpy order (slowest axis first). FITSError naming the HDU when
        NAXIS (0 to 999) or an NAXISn is not an integer; a negative length, as in astropy,
        fails only when the data is read (numpy's ValueError)."""
        naxis = self._header.get("NAXIS", 0)
        self._require_int("NAXIS", naxis, 0, 999)
        lengths = [self._header.get(f"NAXIS{i}", 0) for i in range(naxis, 0, -1)]
        for axis, length in zip(range(naxis, 0, -1), lengths):
            self._require_int(f"NAXIS{axis}", length, -_MAX_LENGTH, _MAX_LENGTH)
        return tuple(int(length) for length in lengths)

    def _require_int(self, keyword: str, value: Any, low: int, high: int) -> None:
        """FITSError unless ``value`` (of ``keyword``) is an integer from ``low`` to
        ``high``."""
        if not (is_integer(value) and low <= value <= high):
            raise self._malformed(f"{keyword} = {value!r} is not an integer from {low} to "
                                  f"{high}")

    def _malformed(self, problem: str) -> FITSError:
        """The error for a header value of this HDU that no image can have."""
        return FITSError(f"{self._where()}: {problem}", hdu=self._index,
                         filename=None if self._file is None else self._file.name)

    def _file_dtype(self) -> np.dtype:
        """The big-endian dtype of the pixels in the file, from BITPIX (FITSError naming the
        HDU for a BITPIX that is no FITS type)."""
        if not (is_integer(self._orig_bitpix) and self._orig_bitpix in BITPIX2DTYPE):
            raise self._malformed(f"BITPIX = {self._orig_bitpix!r} is not a FITS data type "
                                  f"({', '.join(map(str, BITPIX2DTYPE))})")
        return np.dtype(BITPIX2DTYPE[self._orig_bitpix]).newbyteorder(">")

    def _scaling(self) -> tuple[Any, Any]:
        """(BSCALE, BZERO) the stored pixels are scaled by; FITSError naming the HDU when one
        is not a real number."""
        for keyword, value in (("BSCALE", self._orig_bscale), ("BZERO", self._orig_bzero)):
            if not _is_real(value):
                raise self._malformed(f"{keyword} = {value!r} is not a real number")
        return self._orig_bscale, self._orig_bzero

    @property
    def size(self) -> int:
        """Size of the data unit in bytes (before padding), from the header."""
        shape = self.shape
        pixels = int(np.prod(shape, dtype=np.int64)) if shape else 0
        return abs(self._header.get("BITPIX", 8)) // 8 * pixels

    @property
    def _scaled(self) -> bool:
        return not self._do_not_scale_image_data and (
            self._orig_bscale != 1 or self._orig_bzero != 0
            or (self._orig_blank is not None and not self._ignore_blank))

    def _dtype_for_bitpix(self) -> np.dtype | None:
        """The dtype scaled data reads as, or None when no scaling applies."""
        bitpix, bscale, bzero = self._orig_bitpix, self._orig_bscale, self._orig_bzero
        if self._uint and bscale == 1:
            if bitpix == 8 and bzero == -128:
                return np.dtype("int8")
            for bits in (16, 32, 64):
                if bitpix == bits and bzero == 1 << (bits - 1):
                    return np.dtype(f"uint{bits}")
        if bitpix > 16:
            return np.dtype("float64")
        if bitpix > 0 or bitpix == -32:
            return np.dtype("float32")
        return np.dtype("float64")

    # -- data ---------------------------------------------------------------------------------

    def _load_data(self) -> np.ndarray | None:
        shape = self.shape
        if not shape:
            return None
        stored = self._file_dtype()
        if 0 in shape:
            # as astropy: an axis of length 0 gives an empty array of that shape
            return np.empty(shape, stored)
        scaled = self._scaled
        if scaled and self._file.strict_memmap:
            raise ValueError("Cannot load a memory-mapped image: BZERO/BSCALE/BLANK header "
                             "keywords present. Set memmap=False.")
        raw = self._file_array(0, stored, shape)
        if not scaled:
            return raw
        data = self._scale(raw)
        self._after_scaling(data.dtype)
        return data

    def _scale(self, raw: np.ndarray) -> np.ndarray:
        dtype = self._dtype_for_bitpix()
        bscale, bzero = self._scaling()
        if dtype.kind in "ui" and not (bscale == 1 and bzero == 0):
            return np.asarray(raw).astype(dtype) ^ np.array(_pseudo_zero(dtype)).astype(dtype)
        data = np.asarray(raw, dtype=dtype)
        if data is raw or np.shares_memory(data, raw):
            data = data.copy()
        if bscale != 1:
            data *= dtype.type(bscale) if dtype.kind == "f" else bscale
        if bzero != 0:
            data += bzero
        if self._orig_blank is not None and not self._ignore_blank:
            data[raw == self._orig_blank] = np.nan
        return data

    def _after_scaling(self, dtype: np.dtype) -> None:
        """astropy's header bookkeeping once scaled data exists: the header describes the
        float data (BSCALE/BZERO become blank cards so the header size is unchanged)."""
        if dtype.kind == "u" and (self._scale_back or self._scale_back is None):
            return
        if dtype.kind == "i":
            return
        for key in ("BSCALE", "BZERO"):
            if key in self._header:
                del self._header[key]
                self._header.append()
        self._header["BITPIX"] = DTYPE2BITPIX[dtype.name]
        if "BLANK" in self._header:
            self._dropped_blank = self._header.pop("BLANK")

    def _set_data(self, value: Any) -> None:
        if value is None:
            self._data = None
            self.update_header()
            return
        if isinstance(value, np.ndarray) and value.dtype.fields is not None:
            raise TypeError("an image HDU's data must be a numeric array, not a record array")
        try:
            array = value if isinstance(value, np.ndarray) else np.asarray(value)
        except Exception as exc:
            raise TypeError(f"data object {value!r} should have at least one dimension") from exc
        if array.ndim == 0 or array.dtype.kind not in "biuf":
            raise TypeError(f"data object {array!r} should have at least one dimension"
                            if array.ndim == 0 else
                            f"data of dtype {array.dtype} cannot be stored in an image HDU")
        if array.dtype.kind == "b":
            array = array.astype(np.uint8)
        if array.dtype.name not in DTYPE2BITPIX:
            array = array.astype(np.float64 if array.dtype.kind == "f" else np.int64)
        self._data = array
        self._data_loaded = True
        if not _is_pseudo_integer(array.dtype) and not self._do_not_scale_image_data:
            # new physical data replaces whatever scaling the header described
            for key in ("BSCALE", "BZERO"):
                self._header.remove(key, ignore_missing=True)
            self._dropped_blank = None
        self.update_header()

    def update_header(self) -> None:
        """Make BITPIX and NAXISn describe the current data (BSCALE/BZERO for unsigned)."""
        data = self._data if self._data_loaded else None
        h = self._header
        if data is None and not self._data_loaded:
            return
        if data is None:
            old = h.get("NAXIS", 0)
            for i in range(1, old + 1):
                h.remove(f"NAXIS{i}", ignore_missing=True)
            h["NAXIS"] = 0
            return
        # a header that lost them gets them back in their places (after the first card)
        if "BITPIX" in h:
            h["BITPIX"] = DTYPE2BITPIX[data.dtype.name]
        else:
            h.insert(1, ("BITPIX", DTYPE2BITPIX[data.dtype.name], "array data type"))
        old = h.get("NAXIS", 0)
        if "NAXIS" in h:
            h["NAXIS"] = data.ndim
        else:
            h.set("NAXIS", data.ndim, "number of array dimensions", after="BITPIX")
        after = "NAXIS"
        for i, length in enumerate(reversed(data.shape), start=1):
            key = f"NAXIS{i}"
            if key in h:
                h[key] = length
            else:
                h.set(key, length, after=after)
            after = key
        for i in range(data.ndim + 1, old + 1):
            h.remove(f"NAXIS{i}", ignore_missing=True)
        if _is_pseudo_integer(data.dtype):
            anchor = "GCOUNT" if "GCOUNT" in h else ("EXTEND" if "EXTEND" in h else None)
            if "BSCALE" not in h or h["BSCALE"] != 1:
                if anchor is not None:
                    h.set("BSCALE", 1, after=anchor)
                else:
                    h.set("BSCALE", 1)
            h.set("BZERO", _pseudo_zero(data.dtype), after="BSCALE")
        self._remember_scaling()

    def _payload(self) -> np.ndarray | None:
        if not self._data_loaded:
            if self._file is None or not self._has_data:
                return None
            data = self.data
        else:
            data = self._data
        if data is None:
            return None
        if self._is_mapped(data):
            # the file's own bytes, though maybe reshaped in place: the header follows
            self.update_header()
            return data
        if self._scale_back and self._orig_bitpix != DTYPE2BITPIX.get(data.dtype.name):
            return self._scaled_back(data)
        self.update_header()
        return to_stored(data)

    def _scaled_back(self, data: np.ndarray) -> np.ndarray:
        """``data`` converted back to the original BITPIX/BSCALE/BZERO (scale_back)."""
        bitpix, bscale, bzero = self._orig_bitpix, self._orig_bscale, self._orig_bzero
        h = self._header
        h["BITPIX"] = bitpix
        if bscale != 1 or "BSCALE" in h:
            h.set("BSCALE", bscale, after="GCOUNT" if "GCOUNT" in h else None)
        if bzero != 0 or "BZERO" in h:
            h.set("BZERO", bzero, after="BSCALE" if "BSCALE" in h else None)
        stored = np.dtype(BITPIX2DTYPE[bitpix])
        values = (np.asarray(data, np.float64) - bzero) / bscale
        if stored.kind in "iu":
            blank = self._orig_blank
            nan = np.isnan(values)
            info = np.iinfo(stored)
            values = np.clip(np.around(values), info.min, info.max)
            out = values.astype(stored)
            if blank is not None:
                out[nan] = blank
                h["BLANK"] = blank
        else:
            out = values.astype(stored)
        return out.astype(stored.newbyteorder(">"))

    def scale(self, type: str | None = None, option: str = "old", bscale: float | None = None,
              bzero: float | None = None) -> None:
        """Store the data as ``type`` ('int16', 'uint8', 'float32', ...) with BSCALE/BZERO:
        given ones, the original ones (``option='old'``), or ones spanning the data's range
        (``option='minmax'``)."""
        data = self.data
        if data is None:
            return
        if type is None:
            type = BITPIX2DTYPE[self._orig_bitpix]
        stored = np.dtype(type)
        if bscale is None and bzero is None:
            if option == "old":
                bscale, bzero = self._orig_bscale, self._orig_bzero
            elif option == "minmax" and stored.kind in "iu":
                low, high = float(np.nanmin(data)), float(np.nanmax(data))
                if stored == np.uint8:
                    bzero, span = low, 2.0**8 - 1
                else:
                    # symmetric about zero, leaving the most negative value free
                    bzero, span = (high + low) / 2.0, 2.0 ** (8 * stored.itemsize) - 2
                bscale = (high - low) / span if high > low else 1.0
            else:
                bscale, bzero = 1, 0
        bscale = 1 if bscale is None else bscale
        bzero = 0 if bzero is None else bzero
        scaled = _to_scaled(np.asarray(data), stored, bscale, bzero)
        h = self._header
        self._data = scaled
        h["BITPIX"] = DTYPE2BITPIX[stored.name]
        for key in ("BSCALE", "BZERO"):
            h.remove(key, ignore_missing=True)
        if bscale != 1:
            h.set("BSCALE", bscale, after="GCOUNT" if "GCOUNT" in h else "EXTEND"
                  if "EXTEND" in h else None)
        if bzero != 0:
            h.set("BZERO", bzero, after="BSCALE" if "BSCALE" in h else None)
        self._orig_bitpix, self._orig_bscale, self._orig_bzero = h["BITPIX"], bscale, bzero
        self._scale_back = False
        self._do_not_scale_image_data = True

    def _read_stored(self, key: Any) -> np.ndarray:
        """Stored (unscaled) pixels ``key`` selects, read from the file through the direct
        tier without loading the rest."""
        if not self._file.native(self._index):
            # a file CFITSIO misreads: select from the file's bytes (a memory-map view)
            return np.array(self._file_array(0, self._file_dtype(), self.shape)[key])
        return self._file.fits[self._index].read_section(key, scale=False)

    @property
    def section(self) -> Section:
        """Read parts of the image without loading it all: ``hdu.section[10:20, ::2]``."""
        return Section(self)

    # -- summary, verify ----------------------------------------------------------------------

    def _summary(self) -> tuple:
        if self._data_loaded:
            fmt = "" if self._data is None else self._data.dtype.name
        else:
            shape = self.shape
            fmt = BITPIX2DTYPE.get(self._orig_bitpix, "") if shape and all(shape) else ""
            if fmt and self._scaled and (self._orig_bscale != 1 or self._orig_bzero != 0):
                fmt += f" (rescales to {self._dtype_for_bitpix().name})"
        return (self.name, self.ver, type(self).__name__, len(self._header),
                tuple(reversed(self.shape)), fmt, "")

    def _written_bitpix(self) -> Any:
        """BITPIX of the pixels a write would store: the loaded data's type (or the original
        one with ``scale_back``), else the header's."""
        data = self._data if self._data_loaded else None
        if data is None:
            return self._header.get("BITPIX")
        if self._scale_back and self._orig_bitpix != DTYPE2BITPIX.get(data.dtype.name):
            return self._orig_bitpix
        return DTYPE2BITPIX.get(data.dtype.name)

    def _verify(self, option: str = "warn") -> _ErrList:
        if self._data_loaded and not ("BITPIX" in self._header and "NAXIS" in self._header):
            # a header replaced by one without its structure cards is completed from the
            # data (as writing would) rather than reported
            self.update_header()
        if not self._ignore_blank:
            # a BLANK a scaled read dropped is lost when the float data are written as such
            _warn_invalid_blank(self._header.get("BLANK", self._dropped_blank),
                                self._written_bitpix())
        # BITPIX, NAXIS and NAXISn in their places: the base class checks them for every HDU
        return super()._verify(option)

    def copy(self) -> _ImageBaseHDU:
        data = self.data
        return type(self)(data=None if data is None else data.copy(), header=self._header.copy())


class Section:
    """Pixel access that reads only what a key selects (``hdu.section[key]``), scaled like
    ``hdu.data``; for images not loaded in memory only the selected pixels (or, compressed,
    the tiles holding them) are read."""

    def __init__(self, hdu: _ImageBaseHDU) -> None:
        self.hdu = hdu

    @property
    def shape(self) -> tuple[int, ...]:
        return self.hdu.shape

    @property
    def dtype(self) -> np.dtype:
        """The type of the values ``section[key]`` returns, in native byte order: the data's
        once loaded, else the scaled type (float32/64, or unsigned with ``uint``) or the
        BITPIX type of unscaled pixels."""
        hdu = self.hdu
        if (hdu._data_loaded or hdu._file is None) and hdu._data is not None:
            return hdu._data.dtype.newbyteorder("=")
        if hdu._scaled:
            return hdu._dtype_for_bitpix()
        return hdu._file_dtype().newbyteorder("=")

    def __getitem__(self, key: Any) -> np.ndarray:
        hdu = self.hdu
        if hdu._data_loaded or hdu._file is None:
            return hdu.data[key]
        raw = hdu._read_stored(key)
        return hdu._scale(raw) if hdu._scaled else raw


@_register_builtin
class PrimaryHDU(_ImageBaseHDU):
    """The primary HDU (an image, possibly empty)."""

    _default_name = "PRIMARY"

    def __init__(self, data: Any = None, header: Header | None = None,
                 do_not_scale_image_data: bool = False, ignore_blank: bool = False,
                 uint: bool = True, scale_back: bool | None = None) -> None:
        super().__init__(data=data, header=header,
                         do_not_scale_image_data=do_not_scale_image_data, uint=uint,
                         ignore_blank=ignore_blank, scale_back=scale_back)

    @classmethod
    def match_header(cls, header: Header) -> bool:
        cards = header.cards
        # as astropy, any true SIMPLE value (SIMPLE = 2147483647 as well as T)
        return (len(cards) > 0 and cards[0].keyword == "SIMPLE" and header.get("GROUPS") is not True
                and bool(cards[0].value))


@_register_builtin
class ImageHDU(_ImageBaseHDU, ExtensionHDU):
    """An IMAGE extension."""

    _extension = "IMAGE"
    _pcount_is_zero = True

    def __init__(self, data: Any = None, header: Header | None = None, name: str | None = None,
                 do_not_scale_image_data: bool = False, uint: bool = True,
                 scale_back: bool | None = None, ver: int | None = None) -> None:
        _ImageBaseHDU.__init__(self, data=data, header=header,
                               do_not_scale_image_data=do_not_scale_image_data, uint=uint,
                               scale_back=scale_back, name=name, ver=ver)

    @classmethod
    def match_header(cls, header: Header) -> bool:
        return xtension(header) in ("IMAGE", "IUEIMAGE")

