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
