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
