"""Uncompressed image workloads: whole-image read, whole-image write, many small cutouts.

Each runner does what a user of that library would write for the task, opening and closing the
file inside the timed call. Results are checked against the generated pixels once per library,
outside the timing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import datagen
from .common import LIBRARIES, CheckFailed, Config, Context, Workload, check_array, check_written, digest


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape)


# --------------------------------------------------------------------------------------------
# image_read: the whole primary image into an in-memory numpy array
# --------------------------------------------------------------------------------------------


def _read_fitsbind(fitsbind, st: datagen.ImageInput):
    with fitsbind.FITS(st.path, "r") as f:
        return f[0].read()


def _read_astropy(fits, st: datagen.ImageInput):
    # memmap=False makes astropy read the pixels at the .data access inside the block; with the
    # default memmap=True, .data would only map the file and nothing would be read yet. The
    # array astropy returns keeps FITS big-endian byte order (it does not swap unscaled data).
    with fits.open(st.path, memmap=False) as hdul:
        return hdul[0].data


def _read_fitsio(fitsio, st: datagen.ImageInput):
    with fitsio.FITS(st.path, "r") as f:
        return f[0].read()


def _read_rustfits(rustfits, st: datagen.ImageInput):
    with rustfits.FITS(st.path, "r") as f:
        return f[0].read()


def _check_read(st: datagen.ImageInput, result, lib: str) -> None:
    check_array(result, st.data, f"{lib} image")


def _image_read(dtype: str, shape: tuple[int, int]) -> Workload:
    return Workload(
        name=f"image_read {np.dtype(dtype).name} {_dims(shape)}",
        family="image_read",
        description=f"open a file, read its {_dims(shape)} {np.dtype(dtype).name} primary image "
        "into an in-memory numpy array, close",
        prepare=lambda ctx: datagen.image_file(ctx, dtype, shape),
        runners={
            "fitsbind": _read_fitsbind,
            "astropy": _read_astropy,
            "fitsio": _read_fitsio,
            "rustfits": _read_rustfits,
        },
        check=_check_read,
        params={"dtype": np.dtype(dtype).name, "shape": list(shape)},
    )


# --------------------------------------------------------------------------------------------
# image_write: a numpy array to a new file, replacing the previous repetition's file
# --------------------------------------------------------------------------------------------


@dataclass
class WriteState:
    data: np.ndarray
    digest: str  # of data's bytes, to catch a library that modifies the caller's array
    out: dict[str, str] = field(default_factory=dict)  # library -> output path


def _write_fitsbind(fitsbind, st: WriteState):
    with fitsbind.FITS(st.out["fitsbind"], "w+") as f:
        f.write_image(st.data)


def _write_astropy(fits, st: WriteState):
    fits.PrimaryHDU(st.data).writeto(st.out["astropy"], overwrite=True)


def _write_fitsio(fitsio, st: WriteState):
    fitsio.write(st.out["fitsio"], st.data, clobber=True)


def _write_rustfits(rustfits, st: WriteState):
    with rustfits.FITS(st.out["rustfits"], "w+") as f:
        f.write_image(st.data)


def _check_write(st: WriteState, result, lib: str) -> None:
    from astropy.io import fits  # the trusted reader of what each library wrote

    path = st.out[lib]
    check_written(path, lib, st.data, st.digest)
    with fits.open(path, memmap=False) as hdul:
        if len(hdul) != 1:
            raise CheckFailed(f"{lib} wrote {len(hdul)} HDUs, expected 1")
        check_array(hdul[0].data, st.data, f"{lib} written image")


def _image_write(dtype: str, shape: tuple[int, int]) -> Workload:
    def prepare(ctx: Context) -> WriteState:
        data = datagen.image_file(ctx, dtype, shape).data
        out = {lib: ctx.path(f"written-{lib}.fits") for lib in LIBRARIES}
        return WriteState(data=data, digest=digest(data), out=out)

    return Workload(
        name=f"image_write {np.dtype(dtype).name} {_dims(shape)}",
        family="image_write",
        description=f"write a {_dims(shape)} {np.dtype(dtype).name} array as the primary image of a "
        "new file, replacing the file of the previous repetition",
        prepare=prepare,
        runners={
            "fitsbind": _write_fitsbind,
            "astropy": _write_astropy,
            "fitsio": _write_fitsio,
            "rustfits": _write_rustfits,
        },
        check=_check_write,
        params={"dtype": np.dtype(dtype).name, "shape": list(shape)},
    )


# --------------------------------------------------------------------------------------------
# cutouts: many small sections of a large image, each read from disk, file opened once
# --------------------------------------------------------------------------------------------


@dataclass
class CutoutState:
    image: datagen.ImageInput
    size: int
    corners: list[tuple[int, int]]  # (y0, x0), plain Python ints


def _cut_fitsbind(fitsbind, st: CutoutState):
    n = st.size
    with fitsbind.FITS(st.image.path, "r") as f:
        hdu = f[0]
        return [hdu[y : y + n, x : x + n] for y, x in st.corners]


def _cut_astropy(fits, st: CutoutState):
    # .section reads only the requested pixels; with astropy's default memmap=True it copies them
    # out of the mapped file into a fresh native-order array, which was the faster of the two
    # modes in our measurements (memmap=False seeks and reads row by row).
    n = st.size
    with fits.open(st.image.path) as hdul:
        section = hdul[0].section
        return [section[y : y + n, x : x + n] for y, x in st.corners]


def _cut_fitsio(fitsio, st: CutoutState):
    n = st.size
    with fitsio.FITS(st.image.path, "r") as f:
        hdu = f[0]
        return [hdu[y : y + n, x : x + n] for y, x in st.corners]


def _cut_rustfits(rustfits, st: CutoutState):
    n = st.size
    with rustfits.FITS(st.image.path, "r") as f:
        hdu = f[0]
        return [hdu[y : y + n, x : x + n] for y, x in st.corners]


def _check_cutouts(st: CutoutState, result, lib: str) -> None:
    if not isinstance(result, list) or len(result) != len(st.corners):
        raise CheckFailed(f"{lib}: expected {len(st.corners)} cutouts")
    n = st.size
    for i, ((y, x), cut) in enumerate(zip(st.corners, result)):
        check_array(cut, st.image.data[y : y + n, x : x + n], f"{lib} cutout {i} at y={y} x={x}")


def _cutouts(count: int, size: int, dtype: str, shape: tuple[int, int]) -> Workload:
    def prepare(ctx: Context) -> CutoutState:
        image = datagen.image_file(ctx, dtype, shape)
        rng = np.random.default_rng(ctx.cfg.seed + 7)
        ys = rng.integers(0, shape[0] - size, count, endpoint=True)
        xs = rng.integers(0, shape[1] - size, count, endpoint=True)
        return CutoutState(image, size, [(int(y), int(x)) for y, x in zip(ys, xs)])

    return Workload(
        name=f"cutouts {count}x {size}x{size} of {np.dtype(dtype).name} {_dims(shape)}",
        family="cutouts",
        description=f"open a {_dims(shape)} {np.dtype(dtype).name} image once and read {count} "
        f"{size}x{size} cutouts at fixed random positions through the section API, close",
        prepare=prepare,
        runners={
            "fitsbind": _cut_fitsbind,
            "astropy": _cut_astropy,
            "fitsio": _cut_fitsio,
            "rustfits": _cut_rustfits,
        },
        check=_check_cutouts,
        params={"count": count, "size": size, "dtype": np.dtype(dtype).name, "shape": list(shape)},
    )


# --------------------------------------------------------------------------------------------


def workloads(cfg: Config) -> list[Workload]:
    if cfg.quick:
        f32, i16, ncut = (1024, 1024), (2048, 2048), 50
    else:
        f32, i16, ncut = (4096, 4096), (8192, 8192), 200
    return [
        _image_read("float32", f32),
        _image_read("int16", i16),
        _image_write("float32", f32),
        _cutouts(ncut, 64, "int16", i16),
    ]
