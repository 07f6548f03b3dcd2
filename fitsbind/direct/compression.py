"""Compression settings of tile-compressed images: what ``compress=`` and ``quantize=`` take.

One class per algorithm of the FITS tile-compression convention (ZCMPTYPE): :class:`Gzip1`,
:class:`Gzip2`, :class:`Rice1`, :class:`Hcompress1`, :class:`Plio1`; and :class:`Quantize`,
how floating-point pixels become the integers those algorithms compress. A setting compares
equal to another with the same fields. Settings that are not stored in the file (the gzip
level) come back as None when an HDU is reopened.
"""

from __future__ import annotations

import math
import time
from typing import Any, ClassVar

from fitsbind.errors import FITSValueError

__all__ = ["Compression", "Gzip1", "Gzip2", "Hcompress1", "Plio1", "Quantize", "Rice1"]


def _tile(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    tile = (int(value),) if isinstance(value, int) else tuple(int(n) for n in value)
    if not tile or any(n < 1 for n in tile):
        raise FITSValueError(f"tile_shape {value!r} must be positive axis lengths")
    return tile


class Compression:
    """Base of the algorithm settings. ``tile_shape`` is numpy order (slowest axis first);
    None means the algorithm's default tiling for the image (see :meth:`tiles_for`).
    Settings are immutable and compare equal field by field."""

    zcmptype: ClassVar[str] = ""
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, tile_shape: Any = None) -> None:
        object.__setattr__(self, "tile_shape", _tile(tile_shape))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} settings are immutable")

    def _set(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _key(self) -> tuple:
        return (type(self), self.tile_shape, *(getattr(self, f) for f in self._fields))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Compression) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        args = [f"{f}={getattr(self, f)!r}" for f in self._fields]
        if self.tile_shape is not None:
            args.append(f"tile_shape={self.tile_shape!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    def with_tile_shape(self, tile_shape: Any) -> Compression:
        """The same settings with another ``tile_shape``."""
        copy = object.__new__(type(self))
        copy._set(tile_shape=_tile(tile_shape), **{f: getattr(self, f) for f in self._fields})
        return copy

    def tiles_for(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The tile shape used for an image of ``shape`` (numpy order): ``tile_shape`` clipped
        to the image, or one image row per tile (CFITSIO's default)."""
        if self.tile_shape is None:
            return (1,) * (len(shape) - 1) + (max(shape[-1], 1),) if shape else ()
        if len(self.tile_shape) != len(shape):
            raise FITSValueError(f"tile_shape {self.tile_shape} has {len(self.tile_shape)} axes; "
                                 f"the image has {len(shape)}")
        return tuple(min(t, max(n, 1)) for t, n in zip(self.tile_shape, shape))

    def cards(self, zbitpix: int) -> list[tuple[str, Any, str, str]]:
        """(ZNAMEi value, ZVALi value, ZNAMEi comment, ZVALi comment) of the algorithm's
        parameters, with astropy's comments."""
        return []

    def codec_args(self, zbitpix: int) -> dict[str, Any]:
        """Keyword arguments of ``fitsbind._tiles.Codec`` for this setting."""
        return {}

    @classmethod
    def from_header(cls, header: Any, tile_shape: tuple[int, ...]) -> Compression:
        """The setting a compressed-image header describes (``header``: anything with
        ``get``; ``tile_shape`` from ZTILEn)."""
        zcmptype = str(header.get("ZCMPTYPE", "")).strip().upper()
        # as CFITSIO reads them: parameters by position (ZVAL1, ZVAL2), names only to spot
        # very old files
        params = [(str(header.get(f"ZNAME{i}", "")).strip().upper(), header.get(f"ZVAL{i}"))
                  for i in (1, 2)]
        for sub in (Gzip1, Gzip2, Rice1, Hcompress1, Plio1):
            if zcmptype in sub._names():
                return sub._from_params(params, tile_shape)
        raise FITSValueError(f"unknown compression algorithm ZCMPTYPE = {zcmptype!r}")

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return (cls.zcmptype,)

    @classmethod
    def _from_params(cls, params: list[tuple[str, Any]], tile_shape: tuple[int, ...]) -> Compression:
        return cls(tile_shape=tile_shape)


class Gzip1(Compression):
    """GZIP_1: gzip of the tile's big-endian bytes; lossless for every pixel type. ``level``
    (1-9; None: 1, as CFITSIO and fpack compress) is not stored in the file: the HDU object
    that created the image encodes all its tiles with it, one opened again uses 1."""

    zcmptype: ClassVar[str] = "GZIP_1"
    _fields = ("level",)

    def __init__(self, level: int | None = None, *, tile_shape: Any = None) -> None:
        super().__init__(tile_shape=tile_shape)
        if level is not None and not 1 <= int(level) <= 9:
            raise FITSValueError(f"gzip level {level} must be 1..9")
        self._set(level=None if level is None else int(level))

    def codec_args(self, zbitpix: int) -> dict[str, Any]:
        return {"gzip_level": self.level}


class Gzip2(Gzip1):
    """GZIP_2: as GZIP_1, with the bytes of each pixel shuffled (most significant first),
    which often compresses floating-point and wide integers better."""

    zcmptype: ClassVar[str] = "GZIP_2"


class Rice1(Compression):
    """RICE_1: Rice coding of integers (floats after quantization), in blocks of
    ``blocksize`` pixels (16 or 32) of ``bytepix`` bytes (1, 2 or 4; None: the image's
    integer size, 4 for quantized floats)."""

    zcmptype: ClassVar[str] = "RICE_1"
    _fields = ("blocksize", "bytepix")

    def __init__(self, blocksize: int = 32, bytepix: int | None = None, *,
                 tile_shape: Any = None) -> None:
        super().__init__(tile_shape=tile_shape)
        if not 1 <= int(blocksize) <= 65536:
            raise FITSValueError(f"Rice blocksize {blocksize} must be 1..65536 (16 or 32 usual)")
        if bytepix is not None and int(bytepix) not in (1, 2, 4, 8):
            raise FITSValueError(f"Rice bytepix {bytepix} must be 1, 2, 4 or 8")
        self._set(blocksize=int(blocksize), bytepix=None if bytepix is None else int(bytepix))

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return ("RICE_1", "RICE_ONE")

    def _bytepix(self, zbitpix: int) -> int:
        if self.bytepix is not None:
            return int(self.bytepix)
        return abs(zbitpix) // 8 if zbitpix > 0 else 4

    def cards(self, zbitpix: int) -> list[tuple[str, Any, str, str]]:
        return [("BLOCKSIZE", self.blocksize, "compression block size", "pixels per block"),
                ("BYTEPIX", self._bytepix(zbitpix), *["bytes per pixel (1, 2, 4, or 8)"] * 2)]

    def codec_args(self, zbitpix: int) -> dict[str, Any]:
        return {"blocksize": int(self.blocksize), "bytepix": self._bytepix(zbitpix)}

    @classmethod
    def _from_params(cls, params: list[tuple[str, Any]], tile_shape: tuple[int, ...]) -> Compression:
        # CFITSIO's rules: ZVAL1 is the block size; ZVAL2 the bytes per pixel, 4 when absent
        # or when ZNAME2 is NOISEBIT (very old files); the two swapped when that is evident
        blocksize = int(params[0][1]) if isinstance(params[0][1], int) else 32
        old = params[1][0] == "NOISEBIT" or not isinstance(params[1][1], int)
        bytepix = 4 if old else int(params[1][1])
        if blocksize < 16 and bytepix > 8:
            blocksize, bytepix = bytepix, blocksize
        return cls(blocksize=blocksize, bytepix=bytepix, tile_shape=tile_shape)


# tile heights CFITSIO tries, in order, for HCOMPRESS images of more than 30 rows
_HCOMPRESS_HEIGHTS = (16, 24, 20, 30, 28, 26, 22, 18, 14, 17)


class Hcompress1(Compression):
    """HCOMPRESS_1: the H-transform coder of 2-D tiles (each side at least 4 pixels).
    ``scale`` 0 is lossless; larger values discard noise, in units of each tile's RMS noise;
    a negative value is the absolute scale (CFITSIO's convention). ``smooth`` smooths lossy
    images when they are read."""

    zcmptype: ClassVar[str] = "HCOMPRESS_1"
    _fields = ("scale", "smooth")

    def __init__(self, scale: float = 0, smooth: bool = False, *, tile_shape: Any = None) -> None:
        super().__init__(tile_shape=tile_shape)
        if not math.isfinite(float(scale)):
            raise FITSValueError(f"HCOMPRESS scale {scale} must be a finite number")
        self._set(scale=scale, smooth=bool(smooth))

    def tiles_for(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        if self.tile_shape is not None or len(shape) < 2:
            return super().tiles_for(shape)
        # as CFITSIO: the whole image up to 30 rows, else 16 rows per tile, or the first of
        # its other heights that leaves no last tile under 4 rows
        rows = shape[-2]
        height = rows
        if rows > 30:
            height = next((h for h in _HCOMPRESS_HEIGHTS if rows % h == 0 or rows % h >= 4), 17)
        return (1,) * (len(shape) - 2) + (max(height, 1), max(shape[-1], 1))

    def cards(self, zbitpix: int) -> list[tuple[str, Any, str, str]]:
        scale = float(self.scale)
        return [("SCALE", int(scale) if scale.is_integer() else scale,
                 *["HCOMPRESS scale factor"] * 2),
                ("SMOOTH", int(bool(self.smooth)), *["HCOMPRESS smooth option"] * 2)]

    def codec_args(self, zbitpix: int) -> dict[str, Any]:
        return {"hcomp_scale": float(self.scale), "hcomp_smooth": bool(self.smooth)}

    @classmethod
    def _from_params(cls, params: list[tuple[str, Any]], tile_shape: tuple[int, ...]) -> Compression:
        # as CFITSIO: ZVAL1 the scale, ZVAL2 the smoothing flag
        scale = params[0][1] if isinstance(params[0][1], (int, float)) else 0
        return cls(scale=scale, smooth=bool(params[1][1]), tile_shape=tile_shape)


class Plio1(Compression):
    """PLIO_1: IRAF's pixel-list coding, for masks: integers 0 .. 2**24 - 1."""

    zcmptype: ClassVar[str] = "PLIO_1"


#: ZQUANTIZ values, by the names :class:`Quantize` takes
_METHODS = {"no_dither": "NO_DITHER", "subtractive_dither_1": "SUBTRACTIVE_DITHER_1",
            "subtractive_dither_2": "SUBTRACTIVE_DITHER_2"}


class Quantize:
    """How floating-point pixels are turned into integers before compression (lossy).

    ``level``: positive, the quantization step as a fraction of each tile's noise (larger
    keeps more precision; 4 is CFITSIO's default); negative, the absolute step. ``method``:
    "subtractive_dither_1" (default), "subtractive_dither_2" (as 1, but exact zeros stay
    zero) or "no_dither". ``seed``: ZDITHER0, 1..10000, or None for one taken from the clock
    (as CFITSIO does), fixed when the image is created. Compares equal field by field.
    """

    def __init__(self, level: float = 4.0, method: str = "subtractive_dither_1",
                 seed: int | None = None) -> None:
        if level is not None and (float(level) == 0 or not math.isfinite(float(level))):
            raise FITSValueError(f"quantize level {level} must be a non-zero number")
        name = str(method).lower()
        if name not in _METHODS:
            raise FITSValueError(f"quantize method {method!r} must be one of "
                                 + ", ".join(map(repr, _METHODS)))
        if seed is not None and not 1 <= int(seed) <= 10000:
            raise FITSValueError(f"dither seed {seed} must be 1..10000")
        self.level = None if level is None else float(level)
        self.method = name
        self.seed = None if seed is None else int(seed)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantize) and (self.level, self.method, self.seed) == (
            other.level, other.method, other.seed)

    def __hash__(self) -> int:
        return hash((self.level, self.method, self.seed))

    def __repr__(self) -> str:
        return f"Quantize(level={self.level!r}, method={self.method!r}, seed={self.seed!r})"

    @property
    def zquantiz(self) -> str:
        """The ZQUANTIZ keyword value."""
        return _METHODS[self.method]

    def dither_seed(self) -> int:
        """ZDITHER0 for a new image: ``seed``, or one from the clock."""
        if self.seed is not None:
            return int(self.seed)
        return int(time.time() * 1000) % 10000 + 1

    @classmethod
    def from_header(cls, header: Any) -> Quantize:
        """The quantization of a compressed image whose tiles are quantized (it has ZSCALE).
        ZQUANTIZ absent means NO_DITHER, as CFITSIO reads it. The level comes from the
        NOISEBIT compression parameter (astropy and fitsbind write it), else None."""
        zquantiz = str(header.get("ZQUANTIZ", "NO_DITHER")).strip().upper()
        method = {v: k for k, v in _METHODS.items()}.get(zquantiz)
        if method is None:
            raise FITSValueError(f"unknown quantization ZQUANTIZ = {zquantiz!r}")
        seed = header.get("ZDITHER0")
        level = next((header.get(f"ZVAL{i}") for i in range(1, 10)
                      if str(header.get(f"ZNAME{i}", "")).strip().upper() == "NOISEBIT"), None)
        level = float(level) if isinstance(level, (int, float)) and level else None
        return cls(level, method, None if seed is None else int(seed))
