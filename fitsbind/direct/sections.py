"""Translate numpy-style keys (ints, slices, Ellipsis) into CFITSIO pixel boxes."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from fitsbind.errors import FITSIndexError, FITSTypeError, FITSValueError


class Selection(NamedTuple):
    """What ``image[key]`` selects, as a box CFITSIO reads with positive steps.

    ``starts``, ``stops`` (inclusive) and ``steps`` are zero-based and in numpy axis order;
    ``box_shape`` is the shape of the box read that way; ``flipped`` the axes to reverse
    afterwards (negative steps); ``dropped`` the axes indexed by an int; ``shape`` the shape
    of the result numpy would give. (A named tuple: made for every section read, it is
    cheaper to build than a frozen dataclass.)
    """

    starts: tuple[int, ...]
    stops: tuple[int, ...]
    steps: tuple[int, ...]
    box_shape: tuple[int, ...]
    flipped: tuple[int, ...]
    dropped: tuple[int, ...]
    shape: tuple[int, ...]

    @property
    def empty(self) -> bool:
        return 0 in self.box_shape

    @property
    def unit_steps(self) -> bool:
        return all(s == 1 for s in self.steps)

    def fits_box(self) -> tuple[list[int], list[int], list[int]]:
        """(blc, trc, inc): one-based, FITS axis order, as CFITSIO's subset routines take."""
        return ([s + 1 for s in reversed(self.starts)], [s + 1 for s in reversed(self.stops)],
                list(reversed(self.steps)))

    def to_result(self, box: np.ndarray) -> np.ndarray:
        """The array numpy would give, from the box read with positive steps."""
        if self.flipped:
            index = tuple(slice(None, None, -1) if a in self.flipped else slice(None)
                          for a in range(box.ndim))
            box = box[index]
        if self.dropped:
            box = box.reshape(self.shape)
        # every axis indexed by an int: a numpy scalar, as numpy indexing gives
        return box[()] if box.ndim == 0 else box

    def to_box(self, block: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_result`: a block of the result's shape laid out as the box."""
        box = block.reshape(self.box_shape)
        if self.flipped:
            index = tuple(slice(None, None, -1) if a in self.flipped else slice(None)
                          for a in range(box.ndim))
            box = box[index]
        return box


def select(key: Any, shape: tuple[int, ...], where: str) -> Selection:
    """The :class:`Selection` of ``key`` in an image of ``shape``.

    Ints (negative counts from the end) drop their axis and must be in range (IndexError);
    slices clip as numpy's do; one Ellipsis stands for the missing axes. Other keys
    (arrays, None, booleans) raise TypeError: read the data and index it in memory.
    """
    if not isinstance(key, tuple):
        key = (key,)
    elif len(key) == len(shape):
        plain = _unit_slices(key, shape)
        if plain is not None:
            return plain
    if any(k is Ellipsis for k in key):
        if sum(k is Ellipsis for k in key) > 1:
            raise FITSIndexError(f"{where}: an index can only have a single ellipsis ('...')")
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        fill = len(shape) - (len(key) - 1)
        key = key[:at] + (slice(None),) * max(fill, 0) + key[at + 1:]
    if len(key) > len(shape):
        raise FITSIndexError(f"{where}: too many indices for an image with {len(shape)} "
                         f"dimension(s): {len(key)} given")
    key = key + (slice(None),) * (len(shape) - len(key))
    starts, stops, steps, box_shape, flipped, dropped, result = [], [], [], [], [], [], []
    for axis, (k, n) in enumerate(zip(key, shape)):
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer, slice)):
            raise FITSTypeError(f"{where}: image sections take ints, slices and '...', not "
                            f"{type(k).__name__}; read() the data and index it in memory")
        if isinstance(k, slice):
            if k.step == 0:
                raise FITSValueError(f"{where}: slice step cannot be zero")
            start, stop, step = k.indices(n)
            count = len(range(start, stop, step))
            if step < 0:
                flipped.append(axis)
                first, step = start + (count - 1) * step, -step
            else:
                first = start
            last = first + (count - 1) * step if count else first
            starts.append(first)
            stops.append(last)
            steps.append(step)
            box_shape.append(count)
            result.append(count)
        else:
            i = int(k)
            if not -n <= i < n:
                raise FITSIndexError(f"{where}: index {i} is out of range for axis {axis} "
                                     f"with {n} pixels")
            i %= n
            starts.append(i)
            stops.append(i)
            steps.append(1)
            box_shape.append(1)
            dropped.append(axis)
    return Selection(tuple(starts), tuple(stops), tuple(steps), tuple(box_shape),
                     tuple(flipped), tuple(dropped), tuple(result))


def _unit_slices(key: tuple, shape: tuple[int, ...]) -> Selection | None:
    """The Selection of one slice without a step per axis (the usual cutout), found without
    the general loop; None for any other key."""
    starts, stops, counts = [], [], []
    for k, n in zip(key, shape):
        if type(k) is not slice or k.step is not None:
            return None
        start, stop, _ = k.indices(n)
        count = stop - start if stop > start else 0
        starts.append(start)
        stops.append(start + count - 1 if count else start)
        counts.append(count)
    box = tuple(counts)
    return Selection(tuple(starts), tuple(stops), (1,) * len(box), box, (), (), box)
