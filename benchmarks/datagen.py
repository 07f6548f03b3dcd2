"""Input files for the benchmarks, written with astropy.io.fits (never with fitsbind).

The files are written once per run into the work directory; functions that several workloads
use go through ``Context.shared`` so, e.g., the 8192x8192 int16 image is written only once.
"""

from __future__ import annotations

import os
import shutil
import zlib
from dataclasses import dataclass

import numpy as np

from .common import Context


def _astropy_fits():
    try:
        from astropy.io import fits
    except ImportError as exc:  # the generator needs astropy even if it is not benchmarked
        raise RuntimeError("the benchmark inputs are written with astropy; pip install astropy") from exc
    return fits


@dataclass
class ImageInput:
    path: str
    data: np.ndarray  # what the file holds, in native byte order


def random_image(seed: int, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """Reproducible pixels: unit Gaussian noise for floats, the full value range for integers."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.standard_normal(shape, dtype=dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)


def image_file(ctx: Context, dtype: str, shape: tuple[int, ...]) -> ImageInput:
    """A primary-HDU image of random pixels, shared by every workload that asks for it."""
    dims = "x".join(str(n) for n in shape)
    key = f"image-{np.dtype(dtype).name}-{dims}"

    def make() -> ImageInput:
        fits = _astropy_fits()
        data = random_image(ctx.cfg.seed + zlib.crc32(key.encode()), dtype, shape)
        path = ctx.path(key + ".fits")
        fits.PrimaryHDU(data).writeto(path, overwrite=True)
        return ImageInput(path, data)

    return ctx.shared(key, make)


# Primary-header cards of the small multi-extension file; OBJECT is the keyword the
# open_many workload reads, placed among other cards as in a typical instrument header.
SMALL_MEF_OBJECT = "NGC 6543"
_PRIMARY_CARDS = [
    ("ORIGIN", "fitsbind benchmarks", "file generator"),
    ("TELESCOP", "SYNTH-2M", "telescope"),
    ("INSTRUME", "IMGR", "instrument"),
    ("DATE-OBS", "2024-03-18T02:14:55.120", "start of exposure (UTC)"),
    ("EXPTIME", 300.0, "[s] exposure time"),
    ("FILTER", "r'", "filter"),
    ("AIRMASS", 1.137, "airmass at start"),
    ("RA", 269.639167, "[deg] pointing right ascension"),
    ("DEC", 66.633194, "[deg] pointing declination"),
    ("EQUINOX", 2000.0, "equinox of coordinates"),
    ("OBJECT", SMALL_MEF_OBJECT, "target name"),
    ("OBSERVER", "bench", "observer"),
    ("GAIN", 1.62, "[e-/ADU] detector gain"),
    ("RDNOISE", 4.1, "[e-] read noise"),
    ("CCDTEMP", -110.2, "[C] detector temperature"),
    ("NEXTEND", 2, "number of extensions"),
]


def small_mef(ctx: Context) -> str:
    """A small three-HDU file: header-only primary, a 100x100 float32 SCI image, a CAT table."""

    def make() -> str:
        fits = _astropy_fits()
        primary = fits.PrimaryHDU()
        for key, value, comment in _PRIMARY_CARDS:
            primary.header[key] = (value, comment)
        for i in range(5):
            primary.header.add_history(f"synthetic processing step {i + 1}")
        sci = fits.ImageHDU(random_image(ctx.cfg.seed, "float32", (100, 100)), name="SCI")
        sci.header["BUNIT"] = ("adu", "pixel unit")
        rng = np.random.default_rng(ctx.cfg.seed + 1)
        nrows = 200
        cat = fits.BinTableHDU.from_columns(
            [
                fits.Column("ID", "J", array=np.arange(nrows, dtype=np.int32)),
                fits.Column("RA", "D", unit="deg", array=rng.uniform(269.0, 270.0, nrows)),
                fits.Column("DEC", "D", unit="deg", array=rng.uniform(66.0, 67.0, nrows)),
                fits.Column("MAG", "E", unit="mag", array=rng.uniform(12, 22, nrows).astype("f4")),
                fits.Column("NAME", "12A", array=[f"src{i:05d}" for i in range(nrows)]),
            ],
            name="CAT",
        )
        path = ctx.path("small-mef.fits")
        fits.HDUList([primary, sci, cat]).writeto(path, overwrite=True)
        return path

    return ctx.shared("small-mef", make)


def copies(ctx: Context, src: str, n: int, stem: str) -> list[str]:
    """``n`` byte-for-byte copies of ``src`` in a subdirectory of the work directory."""

    def make() -> list[str]:
        folder = ctx.path(stem)
        os.makedirs(folder, exist_ok=True)
        paths = []
        for i in range(n):
            dst = os.path.join(folder, f"{stem}-{i:04d}.fits")
            shutil.copyfile(src, dst)
            paths.append(dst)
        return paths

    return ctx.shared(f"copies-{stem}-{n}", make)


# Columns of the benchmark binary table: (name, numpy dtype, per-row shape, TFORM, TZERO).
# Every type every library writes: integers of each width, floats, a float vector, a string, a
# logical, and unsigned integers (uint16 stored as 'I' with TZERO = 32768; uint8 is FITS 'B').
TABLE_COLUMNS = [
    ("I16", "i2", (), "I", None),
    ("I32", "i4", (), "J", None),
    ("I64", "i8", (), "K", None),
    ("F32", "f4", (), "E", None),
    ("F64", "f8", (), "D", None),
    ("VEC3", "f4", (3,), "3E", None),
    ("NAME", "S12", (), "12A", None),
    ("FLAG", "?", (), "L", None),
    ("U16", "u2", (), "I", 32768),
    ("U8", "u1", (), "B", None),
]
TABLE_EXTNAME = "T"


@dataclass
class TableInput:
    path: str  # the table is HDU 1 (EXTNAME TABLE_EXTNAME) after an empty primary HDU
    data: np.ndarray  # what the file holds: a structured array in native byte order
    text: dict[str, np.ndarray]  # string columns as str arrays without trailing blanks


def table_dtype() -> np.dtype:
    """The structured dtype (native byte order) of the rows of TABLE_COLUMNS."""
    return np.dtype([(name, dt, shape) for name, dt, shape, _, _ in TABLE_COLUMNS])


def random_table(seed: int, nrows: int) -> np.ndarray:
    """Reproducible rows of TABLE_COLUMNS: full-range integers, unit Gaussian floats, random
    booleans, and lowercase names of 1 to 12 letters (shorter ones padded with NULs)."""
    rng = np.random.default_rng(seed)
    data = np.zeros(nrows, table_dtype())
    for name, dt, shape, _, _ in TABLE_COLUMNS:
        kind = np.dtype(dt).kind
        if kind in "iu":
            data[name] = random_image(rng.integers(2**32), dt, (nrows, *shape))
        elif kind == "f":
            data[name] = rng.standard_normal((nrows, *shape), dtype=np.dtype(dt))
        elif kind == "b":
            data[name] = rng.random(nrows) < 0.5
        else:
            width = np.dtype(dt).itemsize
            letters = rng.integers(ord("a"), ord("z"), (nrows, width), dtype=np.uint8, endpoint=True)
            lengths = rng.integers(1, width, nrows, endpoint=True)
            letters[np.arange(width) >= lengths[:, None]] = 0
            data[name] = letters.view(f"S{width}").ravel()
    return data


def table_text(data: np.ndarray) -> dict[str, np.ndarray]:
    """The string columns of ``data`` as ``str`` arrays with trailing blanks removed."""
    return {
        name: np.char.rstrip(data[name].astype(f"U{data.dtype[name].itemsize}"))
        for name in data.dtype.names
        if data.dtype[name].kind == "S"
    }


def table_file(ctx: Context, nrows: int) -> TableInput:
    """A binary table of TABLE_COLUMNS with ``nrows`` random rows, shared by every workload."""
    key = f"table-{nrows}"

    def make() -> TableInput:
        fits = _astropy_fits()
        data = random_table(ctx.cfg.seed + zlib.crc32(key.encode()), nrows)
        # explicit formats: no TDIM for the vector column, TZERO for the unsigned one
        columns = [
            fits.Column(name, form, bzero=tzero, array=data[name])
            for name, _, _, form, tzero in TABLE_COLUMNS
        ]
        path = ctx.path(key + ".fits")
        table = fits.BinTableHDU.from_columns(columns, name=TABLE_EXTNAME)
        fits.HDUList([fits.PrimaryHDU(), table]).writeto(path, overwrite=True)
        return TableInput(path, data, table_text(data))

    return ctx.shared(key, make)


# --------------------------------------------------------------------------------------------
# Tile-compressed images
# --------------------------------------------------------------------------------------------


def sky_image(seed: int, dtype: str, shape: tuple[int, int]) -> np.ndarray:
    """A reproducible sky-like 2-D image, the kind tile compression is made for: a background
    of about 1000 with a gentle gradient, Gaussian noise of sigma 20, and one point source
    (a Gaussian of sigma 1.5 pixels, peak 100 to 20,000) per 20,000 pixels. Integers are
    rounded and stay below 32,000, so int16 holds them."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    img = rng.standard_normal(shape, dtype=np.float32)
    img *= 20
    img += 1000
    img += np.linspace(0, 40, nx, dtype=np.float32)[None, :]
    img += np.linspace(0, 20, ny, dtype=np.float32)[:, None]
    k = np.arange(-4, 5, dtype=np.float32)
    kernel = np.exp(-(k[:, None] ** 2 + k[None, :] ** 2) / (2 * 1.5**2))
    nstars = ny * nx // 20_000 if min(ny, nx) >= 9 else 0
    ys = rng.integers(0, ny - 9, nstars, endpoint=True)
    xs = rng.integers(0, nx - 9, nstars, endpoint=True)
    peaks = 10 ** rng.uniform(2, np.log10(20_000), nstars).astype(np.float32)
    for y, x, peak in zip(ys.tolist(), xs.tolist(), peaks.tolist()):
        img[y : y + 9, x : x + 9] += peak * kernel
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return img.astype(dt, copy=False)
    return np.rint(np.clip(img, 0, 32_000, out=img)).astype(dt)


def sky(ctx: Context, dtype: str, shape: tuple[int, int]) -> np.ndarray:
    """``sky_image`` of this dtype and shape, made once per run."""
    key = f"sky-{np.dtype(dtype).name}-{'x'.join(str(n) for n in shape)}"
    return ctx.shared(key, lambda: sky_image(ctx.cfg.seed + zlib.crc32(key.encode()), dtype, shape))


@dataclass
class CompressedInput:
    path: str  # the compressed image is HDU 1, after an empty primary HDU
    data: np.ndarray  # the pixels given to astropy, native byte order
    decoded: np.ndarray  # what astropy reads back (native order): equal to data unless quantized


def compressed_file(
    ctx: Context,
    dtype: str,
    shape: tuple[int, int],
    compression_type: str,
    tile_shape: tuple[int, int],
    quantize_level: float | None = None,
    dither_seed: int = 1,
) -> CompressedInput:
    """A ``sky`` image written by astropy as a tile-compressed image (``CompImageHDU``) after
    an empty primary HDU. ``quantize_level`` None compresses floats losslessly (GZIP only);
    a level quantizes them with SUBTRACTIVE_DITHER_1 and ZDITHER0 = ``dither_seed``."""
    dims = "x".join(str(n) for n in shape)
    tiles = "x".join(str(n) for n in tile_shape)
    key = f"comp-{compression_type}-{np.dtype(dtype).name}-{dims}-t{tiles}-q{quantize_level}"

    def make() -> CompressedInput:
        fits = _astropy_fits()
        data = sky(ctx, dtype, shape)
        hdu = fits.CompImageHDU(
            data,
            compression_type=compression_type,
            tile_shape=tile_shape,
            quantize_level=0.0 if quantize_level is None else quantize_level,
            quantize_method=1,  # SUBTRACTIVE_DITHER_1
            dither_seed=dither_seed,
        )
        path = ctx.path(key + ".fits")
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)
        with fits.open(path) as hdul:
            decoded = np.array(hdul[1].data)
        decoded = decoded.astype(decoded.dtype.newbyteorder("="), copy=False)
        if quantize_level is None and not np.array_equal(decoded, data):
            raise RuntimeError(f"astropy did not read back the lossless image it wrote: {path}")
        return CompressedInput(path, data, decoded)

    return ctx.shared(key, make)


# --------------------------------------------------------------------------------------------
# The facade table: units, display formats, nulls, scaling and a time column
# --------------------------------------------------------------------------------------------

# Columns of the facade benchmark table: (name, TFORM, TUNIT, TDISP, TNULL, TSCAL, TZERO).
FACADE_COLUMNS = [
    ("ID", "K", None, None, None, None, None),
    ("RA", "D", "deg", None, None, None, None),
    ("DEC", "D", "deg", None, None, None, None),
    ("MAG", "E", "mag", "F8.3", None, None, None),
    ("FLAG", "J", None, None, -999, None, None),
    ("COUNTS", "I", None, None, None, 0.5, 100.0),
    ("NAME", "10A", None, None, None, None, None),
    ("TIME", "D", "s", None, None, None, None),
    ("PHA", "I", "chan", None, None, None, None),
    ("OK", "L", None, None, None, None, None),
]
FACADE_EXTNAME = "EVENTS"
# A Chandra-style time frame: TIME counts seconds of TT from MJD 50814.0 (1998-01-01).
FACADE_TIME_KEYS = [
    ("TIMESYS", "TT", "time scale of TIME"),
    ("MJDREF", 50814.0, "[d] MJD of the time origin"),
    ("TIMEUNIT", "s", "unit of TIME"),
    ("TREFPOS", "GEOCENTER", "where the times are measured"),
]
FACADE_NULL_EVERY = 97  # FLAG is null in every 97th row, MAG NaN in every 101st
FACADE_NAN_EVERY = 101


@dataclass
class FacadeInput:
    path: str  # the table is HDU 1 (EXTNAME FACADE_EXTNAME) after an empty primary HDU
    nrows: int
    columns: dict[str, np.ndarray]  # physical values (scaled, nulls as stored, NaNs), native order
    flag_null: np.ndarray  # bool per row: FLAG holds TNULL there


def facade_columns(seed: int, nrows: int) -> dict[str, np.ndarray]:
    """Reproducible physical values of FACADE_COLUMNS: sky positions, magnitudes with a NaN
    every FACADE_NAN_EVERY rows, flags with TNULL every FACADE_NULL_EVERY rows, COUNTS on the
    0.5 grid of TSCAL (so scaling is exact), ten-letter names, increasing times of about ten
    years after MJDREF, channels 0..1023 and random booleans."""
    rng = np.random.default_rng(seed)
    rows = np.arange(nrows)
    mag = rng.uniform(12, 24, nrows).astype(np.float32)
    mag[rows % FACADE_NAN_EVERY == 0] = np.nan
    flag = rng.integers(0, 1024, nrows, dtype=np.int32)
    flag[rows % FACADE_NULL_EVERY == 0] = -999
    letters = rng.integers(ord("A"), ord("Z"), (nrows, 10), dtype=np.uint8, endpoint=True)
    return {
        "ID": rows.astype(np.int64),
        "RA": rng.uniform(0, 360, nrows),
        "DEC": np.degrees(np.arcsin(rng.uniform(-1, 1, nrows))),
        "MAG": mag,
        "FLAG": flag,
        "COUNTS": rng.integers(-32768, 32767, nrows, dtype=np.int16, endpoint=True) * 0.5 + 100.0,
        "NAME": letters.view("S10").ravel(),
        "TIME": 6.3e7 + np.cumsum(rng.exponential(3e8 / nrows, nrows)),
        "PHA": rng.integers(0, 1023, nrows, dtype=np.int16, endpoint=True),
        "OK": rng.random(nrows) < 0.9,
    }


def facade_file(ctx: Context, nrows: int) -> FacadeInput:
    """The facade benchmark table with ``nrows`` rows, written by astropy."""
    key = f"facade-{nrows}"

    def make() -> FacadeInput:
        fits = _astropy_fits()
        columns = facade_columns(ctx.cfg.seed + zlib.crc32(key.encode()), nrows)
        # astropy 8.0.2 fails to write a scaled integer column from physical values (its
        # scale-back divides in place into the int16 field), so the stored integers are
        # written as they are and TSCALn/TZEROn added to the header afterwards
        stored = dict(columns)
        scaled = [(i, scale, zero) for i, (name, _, _, _, _, scale, zero) in
                  enumerate(FACADE_COLUMNS, 1) if scale is not None]
        for i, scale, zero in scaled:
            name = FACADE_COLUMNS[i - 1][0]
            stored[name] = np.rint((columns[name] - zero) / scale).astype(np.int16)
        hdu = fits.BinTableHDU.from_columns(
            [
                fits.Column(name, form, unit=unit, disp=disp, null=null, array=stored[name])
                for name, form, unit, disp, null, _, _ in FACADE_COLUMNS
            ],
            name=FACADE_EXTNAME,
        )
        for keyword, value, comment in FACADE_TIME_KEYS:
            hdu.header[keyword] = (value, comment)
        path = ctx.path(key + ".fits")
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)
        for i, scale, zero in scaled:  # header-only updates: the stored integers stay as written
            fits.setval(path, f"TSCAL{i}", value=scale, ext=1, after=f"TFORM{i}")
            fits.setval(path, f"TZERO{i}", value=zero, ext=1, after=f"TSCAL{i}")
        return FacadeInput(path, nrows, columns, columns["FLAG"] == -999)

    return ctx.shared(key, make)
