"""Tile-compressed image workloads: whole-image Rice and GZIP_2 reads and writes, many small
stamps cut from a large Rice image, and a streaming write that grows a compressed image in small
batches (timed, with the peak resident memory of a fresh process doing the same).

Every library gets the same compression settings: the same algorithm, the same tile shape and,
for floating-point Rice, the same quantization (level 4, SUBTRACTIVE_DITHER_1, a fixed
ZDITHER0), so that they do the same work. The input files are sky-like images (a background
with noise and point sources, ``datagen.sky_image``) written by astropy.

Checks: a read must give back exactly what astropy decodes from its own file (bit for bit, also
for quantized floats: dequantizing is deterministic). A written file must have the requested
layout (ZCMPTYPE, ZTILEn, ZQUANTIZ, ZDITHER0); the writer's own read of it must equal the input
(lossless) or lie within half a quantization step of it (quantized: each tile's ZSCALE / 2); and
an independent reader (astropy, or fitsio where astropy cannot read the file) must decode it
exactly as the writer does.

Run as ``python -m benchmarks.compressed stream-rss ...`` (see ``_stream_child``), this module is
the subprocess that measures the peak memory of the streaming workload.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import datagen
from .common import (
    LIBRARIES,
    CheckFailed,
    Config,
    Context,
    Unavailable,
    Workload,
    check_array,
    check_written,
    digest,
    load_library,
    vm_hwm,
)

# The quantization every library uses for floating-point Rice images.
QUANTIZE_LEVEL = 4.0
DITHER_SEED = 1234  # ZDITHER0, 1..10000
ZQUANTIZ = "SUBTRACTIVE_DITHER_1"


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape)


@dataclass(frozen=True)
class Setting:
    """One compression setting, spelled below for each library."""

    zcmptype: str  # "RICE_1" or "GZIP_2"
    dtype: str  # the pixels' numpy dtype
    tile_shape: tuple[int, int]  # numpy order
    quantized: bool  # floats quantized (QUANTIZE_LEVEL, ZQUANTIZ, DITHER_SEED); else lossless

    @property
    def label(self) -> str:
        algorithm = {"RICE_1": "rice", "GZIP_2": "gzip2"}[self.zcmptype]
        kind = f" q{QUANTIZE_LEVEL:g}" if self.quantized else (" lossless" if self.floating else "")
        return f"{algorithm} {np.dtype(self.dtype).name}{kind}"

    @property
    def floating(self) -> bool:
        return np.dtype(self.dtype).kind == "f"

    @property
    def zbitpix(self) -> int:
        dt = np.dtype(self.dtype)
        return -8 * dt.itemsize if dt.kind == "f" else 8 * dt.itemsize

    def params(self) -> dict[str, Any]:
        return {
            "zcmptype": self.zcmptype,
            "dtype": np.dtype(self.dtype).name,
            "tile_shape": list(self.tile_shape),
            "quantize": {"level": QUANTIZE_LEVEL, "method": ZQUANTIZ, "seed": DITHER_SEED}
            if self.quantized
            else None,
        }


def _require_fitsbind(fitsbind) -> None:
    """Unavailable unless this fitsbind build has the compressed-image API and its tile codec."""
    direct = getattr(fitsbind, "direct", None)
    if direct is None or not hasattr(direct, "Rice1"):
        raise Unavailable("fitsbind.direct has no compression settings (Rice1, Gzip2, Quantize)")
    try:
        importlib.import_module("fitsbind._tiles")
    except ImportError as exc:
        raise Unavailable(f"the tile codec fitsbind._tiles is not built ({exc})") from None


def _fitsbind_args(fitsbind, s: Setting) -> dict[str, Any]:
    d = fitsbind.direct
    compress = {"RICE_1": d.Rice1, "GZIP_2": d.Gzip2}[s.zcmptype](tile_shape=s.tile_shape)
    quantize = d.Quantize(QUANTIZE_LEVEL, ZQUANTIZ.lower(), DITHER_SEED) if s.quantized else None
    return {"compress": compress, "quantize": quantize}


def _rustfits_args(rustfits, s: Setting) -> dict[str, Any]:
    compress = {"RICE_1": rustfits.Rice1, "GZIP_2": rustfits.Gzip2}[s.zcmptype](tile_shape=s.tile_shape)
    args: dict[str, Any] = {"compress": compress}
    if s.quantized:
        args["quantize"] = rustfits.Quantize(level=QUANTIZE_LEVEL, method="dither1", seed=DITHER_SEED)
    return args


def _fitsio_args(s: Setting) -> dict[str, Any]:
    args: dict[str, Any] = {
        "compress": {"RICE_1": "rice", "GZIP_2": "gzip_2"}[s.zcmptype],
        "tile_dims": list(s.tile_shape),
    }
    if s.quantized:
        args.update(qlevel=QUANTIZE_LEVEL, qmethod=ZQUANTIZ, dither_seed=DITHER_SEED)
    elif s.floating:
        args["qlevel"] = None  # no quantization: lossless GZIP of the float bytes
    return args


def _astropy_args(s: Setting) -> dict[str, Any]:
    return {
        "compression_type": s.zcmptype,
        "tile_shape": s.tile_shape,
        "quantize_level": QUANTIZE_LEVEL if s.quantized else 0.0,  # 0: lossless floats
        "quantize_method": 1,  # SUBTRACTIVE_DITHER_1
        "dither_seed": DITHER_SEED,
    }


# --------------------------------------------------------------------------------------------
# Reading a whole compressed image (HDU 1) into memory
# --------------------------------------------------------------------------------------------


def _read_fitsbind(fitsbind, path: str):
    _require_fitsbind(fitsbind)
    with fitsbind.FITS(path, "r") as f:
        return f[1].read()


def _read_astropy(fits, path: str):
    # .data decompresses into a fresh in-memory array; memmap=False was not faster
    with fits.open(path) as hdul:
        return hdul[1].data


def _read_fitsio(fitsio, path: str):
    with fitsio.FITS(path, "r") as f:
        return f[1].read()


def _read_rustfits(rustfits, path: str):
    with rustfits.FITS(path, "r") as f:
        return f[1].read()


_READERS = {
    "fitsbind": _read_fitsbind,
    "astropy": _read_astropy,
    "fitsio": _read_fitsio,
    "rustfits": _read_rustfits,
}


@functools.cache
def _module(lib: str) -> Any:
    """The module a library's runners get, for the checks that read a file back."""
    return load_library(lib).module


def _check_read(st: datagen.CompressedInput, result, lib: str) -> None:
    # bit-exact against astropy's decode of its own file, quantized floats included
    check_array(result, st.decoded, f"{lib} decoded image (compared with astropy's decode)")


def _compressed_read(setting: Setting, shape: tuple[int, int]) -> Workload:
    def prepare(ctx: Context) -> datagen.CompressedInput:
        level = QUANTIZE_LEVEL if setting.quantized else None
        return datagen.compressed_file(
            ctx, setting.dtype, shape, setting.zcmptype, setting.tile_shape, level, DITHER_SEED
        )

    return Workload(
        name=f"compressed_read {setting.label} {_dims(shape)}",
        family="compressed_read",
        description=f"open a file, decompress its {_dims(shape)} {setting.label} image "
        f"({_dims(setting.tile_shape)} tiles, written by astropy) into memory, close",
        prepare=prepare,
        runners={lib: (lambda m, st, fn=fn: fn(m, st.path)) for lib, fn in _READERS.items()},
        check=_check_read,
        params={**setting.params(), "shape": list(shape)},
    )


# --------------------------------------------------------------------------------------------
# Writing an array as a compressed image (HDU 1, after an empty primary) of a new file
# --------------------------------------------------------------------------------------------


@dataclass
class WriteState:
    setting: Setting
    data: np.ndarray
    digest: str  # of data's bytes, to catch a library that modifies the caller's array
    out: dict[str, str] = field(default_factory=dict)  # library -> output path
    notes: dict[str, str] = field(default_factory=dict)  # library -> remark for the table


def _write_fitsbind(fitsbind, st: WriteState):
    _require_fitsbind(fitsbind)
    with fitsbind.FITS(st.out["fitsbind"], "w+") as f:
        f.write_image(st.data, **_fitsbind_args(fitsbind, st.setting))


def _write_astropy(fits, st: WriteState):
    hdu = fits.CompImageHDU(st.data, **_astropy_args(st.setting))
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(st.out["astropy"], overwrite=True)


def _write_fitsio(fitsio, st: WriteState):
    fitsio.write(st.out["fitsio"], st.data, clobber=True, **_fitsio_args(st.setting))


def _write_rustfits(rustfits, st: WriteState):
    with rustfits.FITS(st.out["rustfits"], "w+") as f:
        f.write_image(st.data, **_rustfits_args(rustfits, st.setting))


def _layout(path: str, lib: str, s: Setting, shape: tuple[int, ...]) -> tuple[dict, np.ndarray | None]:
    """Check the compressed-image cards of HDU 1 of ``path`` (read with astropy without
    decompressing anything); return the compression parameters (ZNAMEi -> ZVALi) and the
    per-tile ZSCALE of a quantized image."""
    from astropy.io import fits

    with fits.open(path, disable_image_compression=True) as hdul:
        if len(hdul) != 2:
            raise CheckFailed(f"{lib} wrote {len(hdul)} HDUs, expected 2 (primary, compressed image)")
        h = hdul[1].header
        if h.get("XTENSION") != "BINTABLE" or h.get("ZIMAGE") is not True:
            raise CheckFailed(f"{lib}: HDU 1 is not a tile-compressed image")
        expected = {
            "ZCMPTYPE": s.zcmptype,
            "ZBITPIX": s.zbitpix,
            "ZNAXIS": 2,
            "ZNAXIS1": shape[1],
            "ZNAXIS2": shape[0],
            "ZTILE1": s.tile_shape[1],
            "ZTILE2": s.tile_shape[0],
        }
        if s.quantized:
            expected.update(ZQUANTIZ=ZQUANTIZ, ZDITHER0=DITHER_SEED)
        for key, value in expected.items():
            got = h.get(key)
            if (got.strip() if isinstance(got, str) else got) != value:
                raise CheckFailed(f"{lib} wrote {key} = {got!r}, expected {value!r}")
        names = hdul[1].columns.names
        if s.quantized != ("ZSCALE" in names):
            raise CheckFailed(f"{lib}: {'no' if s.quantized else 'a'} ZSCALE column: the image was "
                              f"{'not ' if s.quantized else ''}quantized")
        zscale = np.array(hdul[1].data["ZSCALE"], dtype=np.float64) if s.quantized else None
        params = {}
        for i in range(1, 10):
            if f"ZNAME{i}" not in h:
                break
            params[str(h[f"ZNAME{i}"]).strip().upper()] = h.get(f"ZVAL{i}")
    return params, zscale


def _per_pixel(values: np.ndarray, shape: tuple[int, int], tile: tuple[int, int]) -> np.ndarray:
    """Per-tile values (tile order) spread over the pixels of an image of ``shape``."""
    grid = tuple(-(-n // t) for n, t in zip(shape, tile))
    spread = np.asarray(values).reshape(grid)
    for axis, t in enumerate(tile):
        spread = np.repeat(spread, t, axis=axis)
    return spread[: shape[0], : shape[1]]


def _check_quantized(
    got: Any, data: np.ndarray, zscale: np.ndarray, tile: tuple[int, int], what: str
) -> None:
    """``got`` must be an in-memory float array within half a quantization step of ``data``
    (ZSCALE / 2 of each pixel's tile; tiles stored losslessly have ZSCALE 0 and must be exact)."""
    if not isinstance(got, np.ndarray) or got.shape != data.shape or got.dtype.kind != "f":
        found = f"{getattr(got, 'dtype', type(got).__name__)} of shape {getattr(got, 'shape', None)}"
        raise CheckFailed(f"{what}: expected a float array of shape {data.shape}, got {found}")
    if got.dtype.itemsize != data.dtype.itemsize:
        raise CheckFailed(f"{what}: dtype {got.dtype}, expected {data.dtype}")
    limit = 0.5 * _per_pixel(zscale, data.shape, tile)
    limit += 2 * np.finfo(data.dtype).eps * np.abs(data)  # float32 rounding of the decoded value
    error = np.abs(got.astype(np.float64) - data)
    bad = ~(error <= limit)
    if bad.any():
        raise CheckFailed(f"{what}: {int(bad.sum())} pixels differ from the input by more than half "
                          f"a quantization step (worst {float(error[bad].max()):.4g})")


def _independent_read(path: str, lib: str, params: dict) -> tuple[str, np.ndarray] | None:
    """(reader, decoded image) from a reader other than ``lib``: astropy, unless the file has a
    parameter astropy cannot take, then fitsio (CFITSIO); None if neither is usable."""
    # astropy 8.0 crashes (segfault) decompressing Rice tiles whose BYTEPIX is not 1, 2, 4, 8
    astropy_ok = params.get("BYTEPIX", 4) in (1, 2, 4, 8)
    for reader in ("astropy", "fitsio"):
        if reader == lib or (reader == "astropy" and not astropy_ok):
            continue
        module = _module(reader)
        if module is not None:
            return reader, np.asarray(_READERS[reader](module, path))
    return None


def _check_write(st: WriteState, result, lib: str) -> None:
    s = st.setting
    path = st.out[lib]
    check_written(path, lib, st.data, st.digest)
    params, zscale = _layout(path, lib, s, st.data.shape)
    if "BYTEPIX" in params and params["BYTEPIX"] not in (1, 2, 4, 8):
        st.notes[lib] = f"writes BYTEPIX = {params['BYTEPIX']}, which astropy crashes on"
    own = _READERS[lib](_module(lib), path)
    what = f"{lib} reading back its own file"
    if s.quantized:
        _check_quantized(own, st.data, zscale, s.tile_shape, what)
    else:
        check_array(own, st.data, what)
    other = _independent_read(path, lib, params)
    if other is not None and not np.array_equal(other[1], own):
        raise CheckFailed(f"{other[0]} decodes the file {lib} wrote differently from {lib}")


def _compressed_write(setting: Setting, shape: tuple[int, int]) -> Workload:
    def prepare(ctx: Context) -> WriteState:
        data = datagen.sky(ctx, setting.dtype, shape)
        out = {lib: ctx.path(f"written-compressed-{lib}.fits") for lib in LIBRARIES}
        return WriteState(setting, data, digest(data), out)

    return Workload(
        name=f"compressed_write {setting.label} {_dims(shape)}",
        family="compressed_write",
        description=f"write a {_dims(shape)} {np.dtype(setting.dtype).name} array as a "
        f"{setting.label} image ({_dims(setting.tile_shape)} tiles) after an empty primary HDU "
        "of a new file, replacing the file of the previous repetition",
        prepare=prepare,
        runners={
            "fitsbind": _write_fitsbind,
            "astropy": _write_astropy,
            "fitsio": _write_fitsio,
            "rustfits": _write_rustfits,
        },
        check=_check_write,
        params={**setting.params(), "shape": list(shape)},
        annotate=lambda st, lib: st.notes.get(lib),
    )


# --------------------------------------------------------------------------------------------
# Stamps: many small sections of a large Rice image, file opened once
# --------------------------------------------------------------------------------------------


@dataclass
class StampState:
    image: datagen.CompressedInput
    size: int
    corners: list[tuple[int, int]]  # (y0, x0), plain Python ints


def _stamps_fitsbind(fitsbind, st: StampState):
    _require_fitsbind(fitsbind)
    n = st.size
    with fitsbind.FITS(st.image.path, "r") as f:
        hdu = f[1]
        return [hdu[y : y + n, x : x + n] for y, x in st.corners]


def _stamps_astropy(fits, st: StampState):
    # CompImageHDU.section decompresses only the tiles a slice touches
    n = st.size
    with fits.open(st.image.path) as hdul:
        section = hdul[1].section
        return [section[y : y + n, x : x + n] for y, x in st.corners]


def _stamps_fitsio(fitsio, st: StampState):
    n = st.size
    with fitsio.FITS(st.image.path, "r") as f:
        hdu = f[1]
        return [hdu[y : y + n, x : x + n] for y, x in st.corners]


def _stamps_rustfits(rustfits, st: StampState):
    n = st.size
    with rustfits.FITS(st.image.path, "r") as f:
        hdu = f[1]
        return [hdu[y : y + n, x : x + n] for y, x in st.corners]


def _check_stamps(st: StampState, result, lib: str) -> None:
    if not isinstance(result, list) or len(result) != len(st.corners):
        raise CheckFailed(f"{lib}: expected {len(st.corners)} stamps")
    n = st.size
    for i, ((y, x), stamp) in enumerate(zip(st.corners, result)):
        check_array(stamp, st.image.data[y : y + n, x : x + n], f"{lib} stamp {i} at y={y} x={x}")


def _stamps(count: int, size: int, setting: Setting, shape: tuple[int, int]) -> Workload:
    def prepare(ctx: Context) -> StampState:
        image = datagen.compressed_file(ctx, setting.dtype, shape, setting.zcmptype, setting.tile_shape)
        rng = np.random.default_rng(ctx.cfg.seed + 11)
        ys = rng.integers(0, shape[0] - size, count, endpoint=True)
        xs = rng.integers(0, shape[1] - size, count, endpoint=True)
        return StampState(image, size, [(int(y), int(x)) for y, x in zip(ys, xs)])

    tiles = _dims(setting.tile_shape)
    return Workload(
        name=f"compressed_stamps {count}x {size}x{size} of {setting.label} {_dims(shape)} ({tiles} tiles)",
        family="compressed_stamps",
        description=f"open a {_dims(shape)} {setting.label} image ({tiles} tiles) once and read "
        f"{count} {size}x{size} stamps at fixed random positions through the section API, close",
        prepare=prepare,
        runners={
            "fitsbind": _stamps_fitsbind,
            "astropy": _stamps_astropy,
            "fitsio": _stamps_fitsio,
            "rustfits": _stamps_rustfits,
        },
        check=_check_stamps,
        params={**setting.params(), "shape": list(shape), "count": count, "size": size},
    )


# --------------------------------------------------------------------------------------------
# Streaming: grow a Rice int16 image batch by batch to a size that should not sit in memory
# --------------------------------------------------------------------------------------------

_STREAM_POOL = 16  # distinct batches of pixels; batch k is pool[k % 16] + k % 8


@dataclass
class StreamState:
    rows: int
    width: int
    batch: int  # image rows per extend call
    seed: int
    pool: list[np.ndarray]
    out: dict[str, str] = field(default_factory=dict)

    @property
    def tile(self) -> tuple[int, int]:
        return (1, self.width)  # one image row per tile: CFITSIO's default, and fitsio's only clean one

    def batches(self) -> Iterator[np.ndarray]:
        """Fresh int16 arrays, as a pipeline producing the image would hand over."""
        for k in range(self.rows // self.batch):
            yield self.pool[k % len(self.pool)] + np.int16(k % 8)

    def expected(self, k: int) -> np.ndarray:
        return self.pool[k % len(self.pool)] + np.int16(k % 8)


def _stream_pool(seed: int, batch: int, width: int) -> list[np.ndarray]:
    return [datagen.sky_image(seed + i, "int16", (batch, width)) for i in range(_STREAM_POOL)]


def _stream_fitsbind(fitsbind, st: StreamState):
    _require_fitsbind(fitsbind)
    rice = fitsbind.direct.Rice1(tile_shape=st.tile)
    with fitsbind.FITS(st.out["fitsbind"], "w+") as f:
        hdu = f.create_image_hdu("int16", (0, st.width), compress=rice)
        with hdu.extending():
            for block in st.batches():
                hdu.extend(block)


def _stream_rustfits(rustfits, st: StreamState):
    rice = rustfits.Rice1(tile_shape=st.tile)
    with rustfits.FITS(st.out["rustfits"], "w+") as f:
        f.create_image_hdu("i2", [0, st.width], compress=rice)  # returns None in rustfits 0.1.8
        hdu = f[-1]
        with hdu.extending():
            for block in st.batches():
                hdu.extend(block)


def _stream_fitsio(fitsio, st: StreamState):
    # fitsio cannot grow a compressed image: it declares the final size up front and writes
    # each batch at its place, CFITSIO compressing the tiles as they are completed. This is
    # clean only with one-row tiles (with taller ones CFITSIO stores every batch's part of a
    # tile again, and the file grows many times over), and its time grows with the square of
    # the image size: 1 GiB in 4096-pixel rows would take many minutes, hence the wide rows.
    with fitsio.FITS(st.out["fitsio"], "rw", clobber=True) as f:
        f.create_image_hdu(dims=[st.rows, st.width], dtype="i2", compress="rice", tile_dims=list(st.tile))
        hdu = f[-1]
        for k, block in enumerate(st.batches()):
            hdu.write(block, start=[k * st.batch, 0])


# astropy has no way to write a compressed image piece by piece (CompImageHDU wants the
# whole array), so it is n/a here.
_STREAMERS = {"fitsbind": _stream_fitsbind, "fitsio": _stream_fitsio, "rustfits": _stream_rustfits}


def _stream_before(st: StreamState, lib: str) -> None:
    # removing the previous repetition's large file is not part of the timing
    try:
        os.remove(st.out[lib])
    except FileNotFoundError:
        pass


def _check_stream(st: StreamState, result, lib: str) -> None:
    from astropy.io import fits

    path = st.out[lib]
    size = os.path.getsize(path)
    if size % 2880:
        raise CheckFailed(f"{lib} wrote {size} bytes, not a multiple of 2880")
    nbatch = st.rows // st.batch
    with fits.open(path, disable_image_compression=True) as hdul:
        h = hdul[1].header
        expected = {"ZCMPTYPE": "RICE_1", "ZBITPIX": 16, "ZNAXIS1": st.width, "ZNAXIS2": st.rows,
                    "ZTILE1": st.width, "ZTILE2": 1}
        for key, value in expected.items():
            got = h.get(key)
            if (got.strip() if isinstance(got, str) else got) != value:
                raise CheckFailed(f"{lib} wrote {key} = {got!r}, expected {value!r}")
    with fits.open(path) as hdul:
        section = hdul[1].section
        for k in sorted({0, 1, nbatch // 3, nbatch // 2, nbatch - 2, nbatch - 1}):
            got = section[k * st.batch : (k + 1) * st.batch, :]
            check_array(got, st.expected(k), f"{lib} image rows of batch {k}")


def _stream_annotate(st: StreamState, lib: str) -> str:
    """Peak RSS of a fresh process running the same streaming write once."""
    path = st.out[lib] + ".rss.fits"
    spec = {"lib": lib, "path": path, "rows": st.rows, "width": st.width, "batch": st.batch, "seed": st.seed}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.compressed", "stream-rss", json.dumps(spec)],
            cwd=root, capture_output=True, text=True, timeout=1800,
        )
    finally:
        if os.path.exists(path):
            os.remove(path)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"peak RSS not measured: subprocess failed ({tail})"
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    mib = 1 << 20
    return (f"peak RSS {got['peak'] / mib:.0f} MiB, {got['start'] / mib:.0f} MiB before the "
            f"loop; {got['seconds']:.2f}s in the subprocess")


def _peak_rss() -> int:
    """Peak resident set size of this process, bytes: :func:`vm_hwm`, else ``getrusage``."""
    hwm = vm_hwm()
    if hwm is not None:
        return hwm
    # ru_maxrss is in KiB on Linux, bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def _stream_child(spec_json: str) -> int:
    """Subprocess entry: run one library's streaming write once and print, as JSON, the peak
    resident set size before and after it and the time it took."""
    spec = json.loads(spec_json)
    library = load_library(spec["lib"])
    if not library.available:
        print(f"{spec['lib']}: {library.reason}", file=sys.stderr)
        return 1
    st = StreamState(spec["rows"], spec["width"], spec["batch"], spec["seed"],
                     _stream_pool(spec["seed"], spec["batch"], spec["width"]), {spec["lib"]: spec["path"]})
    start = _peak_rss()
    t0 = time.perf_counter()
    _STREAMERS[spec["lib"]](library.module, st)
    seconds = time.perf_counter() - t0
    peak = _peak_rss()
    print(json.dumps({"start": start, "peak": peak, "seconds": seconds}))
    return 0


def _stream(total_mib: int, width: int, batch: int) -> Workload:
    rows = (total_mib << 20) // (2 * width)

    def prepare(ctx: Context) -> StreamState:
        seed = ctx.cfg.seed + 23
        out = {lib: ctx.path(f"stream-{lib}.fits") for lib in _STREAMERS}
        return StreamState(rows, width, batch, seed, _stream_pool(seed, batch, width), out)

    size = f"{total_mib // 1024} GiB" if total_mib % 1024 == 0 else f"{total_mib} MiB"
    return Workload(
        name=f"compressed_stream rice int16 {rows}x{width} ({size}) in {batch}-row batches",
        family="compressed_stream",
        description=f"grow a rice int16 image (1x{width} tiles) to {rows}x{width} pixels ({size}) "
        f"{batch} rows at a time: fitsbind and rustfits extend() inside extending() from shape "
        f"(0, {width}); fitsio declares the final shape and writes each batch at its place; "
        "also reports the peak RSS of a fresh process doing the same once",
        prepare=prepare,
        runners=dict(_STREAMERS),
        check=_check_stream,
        before_each=_stream_before,
        max_repeat=2,  # each call takes seconds (fitsio's most of a minute)
        params={"rows": rows, "width": width, "batch": batch, "tile_shape": [1, width],
                "zcmptype": "RICE_1", "dtype": "int16"},
        annotate=_stream_annotate,
    )


# --------------------------------------------------------------------------------------------


def workloads(cfg: Config) -> list[Workload]:
    if cfg.quick:
        whole, big, nstamps, stream_mib = (1024, 1024), (2048, 2048), 100, 64
    else:
        whole, big, nstamps, stream_mib = (4096, 4096), (8192, 8192), 500, 1024
    rows = (1, whole[1])  # one image row per tile: the default of CFITSIO, fpack and astropy
    settings = [
        Setting("RICE_1", "int16", rows, quantized=False),
        Setting("RICE_1", "float32", rows, quantized=True),
        Setting("GZIP_2", "float32", rows, quantized=False),
    ]
    return [
        *(_compressed_read(s, whole) for s in settings),
        *(_compressed_write(s, whole) for s in settings),
        _stamps(nstamps, 32, Setting("RICE_1", "int16", (64, 64), quantized=False), big),
        _stream(stream_mib, 16384, 32),
    ]


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "stream-rss":
        return _stream_child(argv[1])
    print("usage: python -m benchmarks.compressed stream-rss SPEC_JSON (used by benchmarks.run)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
