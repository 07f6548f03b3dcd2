"""ImageHDU: explicit reads and writes of an image (primary array or IMAGE extension)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fitsbind.direct import rawio
from fitsbind.direct.hdu import HDU
from fitsbind.direct.pixels import PixelLayout, blank_mask, prepare, unscale
from fitsbind.direct.sections import Selection, select
from fitsbind.direct.storage import check_can_grow, check_free_space
from fitsbind.errors import FITSError, FITSIndexError, FITSValueError

# header cards that change how pixels convert; CFITSIO re-reads the HDU after they change
_SCALING_KEYS = frozenset(["BSCALE", "BZERO", "BLANK"])


class ImageHDU(HDU):
    """An image HDU of an open :class:`~fitsbind.FITS` file.

    Shapes are in numpy order (slowest axis first, the reverse of NAXIS1..NAXISn). Every read
    goes to the file; every write goes to the file before the call returns (CFITSIO may keep
    it in its buffers until ``flush()``/``close()``). A write is checked completely (shape,
    dtype, value range) before any byte of the file changes.
    """

    def __init__(self, fits: Any, index: int) -> None:
        super().__init__(fits, index)
        self._layout: PixelLayout | None = None
        self._shape: tuple[int, ...] | None = None
        self._complete = -1   # data bytes known to be present in the file

    # -- geometry and types -------------------------------------------------------------------

    def _info(self) -> tuple[PixelLayout, tuple[int, ...]]:
        if self._layout is None or self._shape is None:
            with self._selected() as f:
                _, _, shape = f.image_info()
                keys = f.image_layout_keys()
            try:
                self._layout = PixelLayout.from_header(keys)
            except ValueError as exc:
                raise FITSError(f"{self._where()}: {exc}", filename=self._fits.filename,
                                hdu=self._index) from None
            self._shape = shape
        return self._layout, self._shape

    def _invalidate(self) -> None:
        self._layout = None
        self._shape = None
        self._complete = -1
        self.header._invalidate()

    def _before_header_change(self, name: str) -> None:
        if name in _SCALING_KEYS:
            self._fits._require_writable()

    def _after_header_change(self, name: str) -> None:
        if name in _SCALING_KEYS and self._fits.writable:
            self._layout = None
            with self._selected(writing=True) as f:
                f.finish_hdu()   # CFITSIO re-reads BLANK from the header

    @property
    def shape(self) -> tuple[int, ...]:
        """Axis lengths, numpy order (slowest first)."""
        return self._info()[1]

    @property
    def ndim(self) -> int:
        """Number of axes (NAXIS)."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of pixels (0 for an HDU without data)."""
        shape = self.shape
        return math.prod(shape) if shape else 0

    @property
    def bitpix(self) -> int:
        """BITPIX as stored: 8, 16, 32, 64, -32 or -64."""
        return self._info()[0].bitpix

    @property
    def dtype(self) -> np.dtype:
        """The dtype :meth:`read` returns with ``scale=True``: the unsigned dtype for the
        BZERO conventions (uint16/32/64, int8); float32 (BITPIX 8, 16) or float64 (32, 64)
        for other BSCALE/BZERO or a BLANK; else BITPIX's own type."""
        return self._info()[0].dtype

    @property
    def has_data(self) -> bool:
        return self.size > 0

    # -- reading ------------------------------------------------------------------------------

    def read(self, *, scale: bool = True, mask_blank: bool = False) -> np.ndarray:
        """The whole image as a new array (native byte order, shape :attr:`shape`).

        ``scale`` applies BSCALE/BZERO (dtype :attr:`dtype`; BLANK pixels of an integer
        image read as floats become NaN); ``scale=False`` gives the stored values (BITPIX's
        type, e.g. int16 for a uint16 image). ``mask_blank`` returns a
        ``numpy.ma.MaskedArray`` masking pixels equal to BLANK (integer images) or NaN
        (float images).
        """
        return self._read(select(Ellipsis, self.shape, self._where()), scale, mask_blank)

    def __getitem__(self, key: Any) -> np.ndarray:
        """Read only the pixels ``key`` selects (ints, slices with any step, ``...``),
        scaled as by :meth:`read`; the result equals ``read()[key]``."""
        return self.read_section(key)

    def read_section(self, key: Any, *, scale: bool = True,
                     mask_blank: bool = False) -> np.ndarray:
        """Read only the pixels ``key`` selects (as :meth:`__getitem__`), with the options of
        :meth:`read`: the result equals ``read(scale=scale, mask_blank=mask_blank)[key]``."""
        return self._read(select(key, self.shape, self._where()), scale, mask_blank)

    def _read(self, sel: Selection, scale: bool, mask_blank: bool) -> np.ndarray:
        layout, shape = self._info()
        if not shape:
            raise FITSError(f"{self._where()}: the HDU has no data (NAXIS = 0)",
                            filename=self._fits.filename, hdu=self._index)
        self._check_complete(layout, shape)
        raw = not scale or (mask_blank and layout.integer and layout.blank is not None)
        box = np.empty(sel.box_shape, dtype=layout.stored if raw else layout.dtype)
        if not sel.empty:
            with self._selected() as f:
                # stored values, and the offset types, only need a byte swap (and a flip)
                access = f.raw_access() if raw or not layout.scaled else None
                if access is not None:
                    rawio.read_box(*access, shape, sel.starts, sel.box_shape, sel.steps, box,
                                   flip=not raw and layout.offset)
                else:
                    nan_nulls = (not raw and layout.scaled and layout.integer
                                 and layout.blank is not None)
                    bscale, bzero = (1.0, 0.0) if raw else (layout.bscale, float(layout.bzero))
                    f.read_pixels(box, *sel.fits_box(), bscale, bzero, nan_nulls)
        data = sel.to_result(box)
        if not mask_blank:
            return data
        mask = blank_mask(data, layout)
        if scale and raw:
            data = unscale(data, layout)
        return np.ma.MaskedArray(data, mask=mask)

    def _check_complete(self, layout: PixelLayout, shape: tuple[int, ...]) -> None:
        nbytes = math.prod(shape) * layout.stored.itemsize
        if self._complete == nbytes:
            return   # checked before; a later truncation shows as a short read
        with self._selected() as f:
            missing = f.data_missing(nbytes)
        if missing:
            raise FITSError(f"{self._where()}: file is truncated: the image needs {nbytes} "
                            f"data bytes but the last {missing} are missing",
                            filename=self._fits.filename, hdu=self._index)
        self._complete = nbytes

    # -- writing ------------------------------------------------------------------------------

    def write(self, data: Any, start: Any = None) -> None:
        """Write ``data`` over the image (``start`` None: same shape as the image), or with
        its first pixel at ``start`` (a tuple of numpy-order indices; it must fit).

        See :func:`fitsbind.direct.pixels.prepare` for the dtype rules.
        """
        layout, shape = self._info()
        array = data if isinstance(data, np.ma.MaskedArray) else np.asarray(data)
        if start is None:
            if array.shape != shape:
                raise FITSValueError(f"{self._where()}: data shape {array.shape} does not match "
                                 f"the image shape {shape}; pass start= to write a part")
            start = (0,) * len(shape)
        corner = _corner(start, len(shape), self._where())
        if array.ndim != len(shape):
            raise FITSValueError(f"{self._where()}: data has {array.ndim} axes; the image has "
                             f"{len(shape)}")
        for axis, (c, n, m) in enumerate(zip(corner, array.shape, shape)):
            if c < 0 or c + n > m:
                raise FITSIndexError(f"{self._where()}: data of shape {array.shape} at "
                                     f"{corner} runs outside the image {shape} on axis {axis}")
        buffer, bscale, bzero = prepare(array, layout, self._where())
        self._write_box(corner, buffer, bscale, bzero)

    def __setitem__(self, key: Any, value: Any) -> None:
        """Write ``value`` (broadcast to the selected shape) into the pixels ``key``
        selects. Strided selections read and rewrite their bounding box."""
        layout, shape = self._info()
        sel = select(key, shape, self._where())
        block = broadcast_block(value, sel.shape, self._where())
        buffer, bscale, bzero = prepare(block, layout, self._where())
        if sel.empty:
            return
        if sel.unit_steps:
            self._write_box(sel.starts, np.ascontiguousarray(sel.to_box(buffer)), bscale, bzero)
            return
        # read the bounding box in the same representation, merge, write it back
        bound = tuple(b - a + 1 for a, b in zip(sel.starts, sel.stops))
        merged = np.empty(bound, dtype=buffer.dtype)
        blc = [a + 1 for a in reversed(sel.starts)]
        trc = [b + 1 for b in reversed(sel.stops)]
        with self._selected(writing=True) as f:
            f.read_pixels(merged, blc, trc, None, bscale, bzero, False)
            merged[tuple(slice(None, None, s) for s in sel.steps)] = sel.to_box(buffer)
            f.write_pixels(merged, blc, trc, bscale, bzero)

    def extend(self, data: Any, start: int | None = None) -> None:
        """Grow the image along its slowest axis (numpy axis 0) and write ``data`` there.

        ``data.shape[1:]`` must equal ``shape[1:]``. ``start`` is where on axis 0 the data
        goes (default: the current end); the axis grows to cover it, and rows between the
        old end and ``start`` hold stored zeros (a sparse hole when this is the last HDU).
        HDUs after this one move to make room and keep their contents.

        On the last HDU of the file, pixels stored by a byte swap (all but float images with
        BSCALE/BZERO) are written past the old end first, and NAXISn grows only once they
        are in the file: when writing fails (a full disk, say) the image keeps its old size
        and the file is cut back, and a process killed part-way leaves the old image, with
        bytes past its end that no header claims (readers ignore them; the next extend
        overwrites them). Otherwise the header grows first, and a failure shrinks it back.
        """
        layout, shape = self._info()
        if not shape:
            raise FITSValueError(f"{self._where()}: the image has no axes to extend; create it "
                             "with a shape such as (0, ...) first")
        array = data if isinstance(data, np.ma.MaskedArray) else np.asarray(data)
        if array.ndim != len(shape) or array.shape[1:] != shape[1:]:
            raise FITSValueError(f"{self._where()}: data of shape {array.shape} cannot extend an "
                             f"image of shape {shape}: the shapes must agree after axis 0")
        at = shape[0] if start is None else int(start)
        if at < 0:
            raise FITSIndexError(f"{self._where()}: extend start {at} is negative")
        buffer, bscale, bzero = prepare(array, layout, self._where())
        if array.shape[0] == 0:
            return
        corner = (at,) + (0,) * (len(shape) - 1)
        length = max(shape[0], at + array.shape[0])
        if length == shape[0]:
            self._write_box(corner, buffer, bscale, bzero)
            return
        grown = (length, *shape[1:])
        growth = ((length - shape[0]) * int(np.prod(shape[1:], dtype=np.int64))
                  * layout.stored.itemsize)
        check_can_grow(self._fits.filename, growth, self._index)
        last = self._index == len(self._fits) - 1
        if not last:
            check_free_space(self._fits.filename, growth, self._index)
        try:
            with self._selected(writing=True) as f:
                try:
                    flip = _raw_flip(layout, buffer, bscale, bzero)
                    access = f.raw_access(writing=True) if last and flip is not None else None
                    if access is not None:
                        # the pixels first, then the header that claims them
                        rawio.write_box(*access, grown, corner, buffer, flip=flip)
                        f.resize_image(grown)
                    else:
                        f.resize_image(grown)
                        self._invalidate()
                        self._write_box(corner, buffer, bscale, bzero)
                    f.flush()
                except BaseException as failure:
                    self._undo_growth(f, shape, last, failure)
        finally:
            self._invalidate()

    def _undo_growth(self, f: Any, shape: tuple[int, ...], last: bool,
                     failure: BaseException) -> None:
        """Give the image its old ``shape`` again after ``failure`` while extending it (the
        handle locked, on this HDU), and raise the failure, naming the file when it did not."""
        try:
            if last:
                f.shrink_last_hdu({f"NAXIS{len(shape)}": shape[0]})
            else:
                f.resize_image(shape)
        except Exception as undoing:
            raise failure from undoing
        self._raise_undone(failure, f"extending the image failed; it keeps its old shape "
                                    f"{shape}")

    def _write_box(self, corner: tuple[int, ...], buffer: np.ndarray, bscale: float,
                   bzero: float) -> None:
        if buffer.size == 0:
            return
        layout, shape = self._info()
        flip = _raw_flip(layout, buffer, bscale, bzero)
        with self._selected(writing=True) as f:
            access = f.raw_access(writing=True) if flip is not None else None
            if access is not None:
                rawio.write_box(*access, shape, corner, buffer, flip=flip)
                return
            blc = [c + 1 for c in reversed(corner)]
            trc = [c + n for c, n in zip(reversed(corner), reversed(buffer.shape))]
            f.write_pixels(buffer, blc, trc, bscale, bzero)


def _raw_flip(layout: PixelLayout, buffer: np.ndarray, bscale: float,
              bzero: float) -> bool | None:
    """How ``buffer`` (as :func:`prepare` gave it) reaches the file by fitsbind's own writes:
    False for a byte swap, True for a byte swap and sign-bit flip (the BZERO offset types),
    None when CFITSIO has to scale it."""
    if (bscale, bzero) == (1.0, 0.0) and buffer.dtype == layout.stored:
        return False
    if layout.offset and buffer.dtype == layout.dtype and (bscale, bzero) == (
            1.0, float(layout.bzero)):
        return True
    return None


def broadcast_block(value: Any, shape: tuple[int, ...], where: str) -> Any:
    """``value`` (an array, masked array or scalar) broadcast to the selection ``shape``,
    its mask too; FITSValueError naming ``where`` if it does not fit."""
    array = value if isinstance(value, np.ma.MaskedArray) else np.asarray(value)
    try:
        block = np.broadcast_to(array, shape)
        if isinstance(array, np.ma.MaskedArray):
            block = np.ma.MaskedArray(block, mask=np.broadcast_to(np.ma.getmaskarray(array),
                                                                  shape))
    except ValueError:
        raise FITSValueError(f"{where}: cannot put a block of shape {array.shape} into a "
                             f"selection of shape {shape}") from None
    return block


def _corner(start: Any, ndim: int, where: str) -> tuple[int, ...]:
    corner = (start,) if isinstance(start, (int, np.integer)) else tuple(start)
    if len(corner) != ndim:
        raise FITSValueError(f"{where}: start {start!r} needs {ndim} indices")
    return tuple(int(c) for c in corner)
