"""The jobs of the "same job, each library's idiom" family, each written four ways.

Every job has one function per idiom, written as that library's users write it:

- ``astropy(fits, st)``: ``astropy.io.fits`` code. It runs twice, unchanged: with
  ``astropy.io.fits`` and with the ``fitsbind`` module in its place (the drop-in, as a script
  that says ``import fitsbind as fits`` sees it);
- ``fitsio(fitsio, st)``: ``fitsio.read`` / ``fitsio.write`` / ``fitsio.FITS``;
- ``rustfits(rustfits, st)``: ``rustfits.read`` / ``read_header`` / ``write`` / ``FITS``;
- ``direct(fitsbind, st)``: fitsbind's direct tier, ``fitsbind.FITS(path, mode)``.

Each call opens and closes its files. The inputs are written by astropy (``datagen``); results
are checked once per idiom, outside the timing.
"""

from __future__ import annotations

import shutil
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import datagen, dropin, images, tables
from .common import CheckFailed, Context, check_array, check_written, digest

# The idioms' names, as the output prints them: the harness's library names, and "dropin" for
# the astropy code run with fitsbind.
IDIOMS = ("astropy", "fitsio", "rustfits", "dropin", "fitsbind")
PEERS = ("astropy", "fitsio", "rustfits")


def who(fits: Any) -> str:
    """Which idiom an astropy-code function is running as: the module it was handed says."""
    return "astropy" if fits.__name__.startswith("astropy") else "dropin"


@dataclass
class Job:
    """One job: its input, its four idioms, the check of a result, and what bounds its speed.

    ``floor`` names the machine ceiling the job's data moves against (``"read"``: page-cache
    read, ``"write"``: memory copy, ``"rice_decode"`` / ``"rice_encode"``: the codec on all
    cores), or None where the job is per-call overhead rather than bandwidth. ``nbytes(st)`` is
    the size of that data. ``before(st, idiom)``, if given, restores a file the previous call
    changed; it runs untimed before every call.
    """

    key: str
    title: str
    prepare: Callable[[Context], Any]
    astropy: Callable[[Any, Any], Any]
    fitsio: Callable[[Any, Any], Any]
    rustfits: Callable[[Any, Any], Any]
    direct: Callable[[Any, Any], Any]
    check: Callable[[Any, Any, str], None]
    nbytes: Callable[[Any], int]
    floor: str | None = None
    before: Callable[[Any, str], None] | None = None

    def runner(self, idiom: str) -> Callable[[Any, Any], Any]:
        """The function that runs ``idiom`` (the drop-in runs the astropy code)."""
        return {"astropy": self.astropy, "dropin": self.astropy, "fitsio": self.fitsio,
                "rustfits": self.rustfits, "fitsbind": self.direct}[idiom]


def _outputs(ctx: Context, stem: str) -> dict[str, str]:
    """One output (or working copy) path per idiom, so no idiom reads another's file."""
    return {idiom: ctx.path(f"idiom-{stem}-{idiom}.fits") for idiom in IDIOMS}


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape)


# --------------------------------------------------------------------------------------------
# read a whole image
# --------------------------------------------------------------------------------------------


def _image_read_astropy(fits, st: datagen.ImageInput):
    # memmap=False: the one-liner that returns the pixels in memory; the default memmap=True
    # would return a map of the file with nothing read yet.
    return fits.getdata(st.path, memmap=False)


def _image_read_fitsio(fitsio, st: datagen.ImageInput):
    return fitsio.read(st.path)


def _image_read_rustfits(rustfits, st: datagen.ImageInput):
    return rustfits.read(st.path)


def _image_read_direct(fitsbind, st: datagen.ImageInput):
    with fitsbind.FITS(st.path) as f:
        return f[0].read()


def image_read(shape: tuple[int, int]) -> Job:
    return Job(
        key="image_read", title=f"read a {_dims(shape)} float32 image",
        prepare=lambda ctx: datagen.image_file(ctx, "float32", shape),
        astropy=_image_read_astropy, fitsio=_image_read_fitsio,
        rustfits=_image_read_rustfits, direct=_image_read_direct,
        check=lambda st, got, lib: check_array(got, st.data, f"{lib} image"),
        nbytes=lambda st: st.data.nbytes, floor="read",
    )


# --------------------------------------------------------------------------------------------
# write a whole image
# --------------------------------------------------------------------------------------------


def _image_write_astropy(fits, st: images.WriteState):
    fits.writeto(st.out[who(fits)], st.data, overwrite=True)


def _image_write_fitsio(fitsio, st: images.WriteState):
    fitsio.write(st.out["fitsio"], st.data, clobber=True)


def _image_write_rustfits(rustfits, st: images.WriteState):
    rustfits.write(st.out["rustfits"], st.data)


def _image_write_direct(fitsbind, st: images.WriteState):
    with fitsbind.FITS(st.out["fitsbind"], "w+") as f:
        f.write_image(st.data)


def _check_image_written(st: images.WriteState, result, lib: str) -> None:
    from astropy.io import fits  # the trusted reader of what each idiom wrote

    check_written(st.out[lib], lib, st.data, st.digest)
    check_array(fits.getdata(st.out[lib], memmap=False), st.data, f"{lib} written image")


def image_write(shape: tuple[int, int]) -> Job:
    def prepare(ctx: Context) -> images.WriteState:
        data = datagen.image_file(ctx, "float32", shape).data
        return images.WriteState(data, digest(data), _outputs(ctx, "image"))

    return Job(
        key="image_write", title=f"write a {_dims(shape)} float32 image",
        prepare=prepare, astropy=_image_write_astropy, fitsio=_image_write_fitsio,
        rustfits=_image_write_rustfits, direct=_image_write_direct,
        check=_check_image_written, nbytes=lambda st: st.data.nbytes, floor="write",
    )


# --------------------------------------------------------------------------------------------
# cutouts of a large image (the file opened once)
# --------------------------------------------------------------------------------------------


def _cutouts_astropy(fits, st: images.CutoutState):
    n = st.size
    with fits.open(st.image.path) as hdul:
        section = hdul[0].section
        return [section[y : y + n, x : x + n] for y, x in st.corners]


def _cutouts_sliced(module, st: images.CutoutState):
    """fitsio, rustfits and the direct tier spell a cutout the same way: slicing the HDU."""
    n = st.size
    with module.FITS(st.image.path) as f:
        hdu = f[0]
        return [hdu[y : y + n, x : x + n] for y, x in st.corners]


def _corners(seed: int, count: int, size: int, shape: tuple[int, int]) -> list[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    ys = rng.integers(0, shape[0] - size, count, endpoint=True)
    xs = rng.integers(0, shape[1] - size, count, endpoint=True)
    return [(int(y), int(x)) for y, x in zip(ys, xs)]


def cutouts(count: int, shape: tuple[int, int]) -> Job:
    def prepare(ctx: Context) -> images.CutoutState:
        image = datagen.image_file(ctx, "int16", shape)
        return images.CutoutState(image, 64, _corners(ctx.cfg.seed + 19, count, 64, shape))

    return Job(
        key="cutouts", title=f"{count} cutouts 64² from a {_dims(shape)} int16 image",
        prepare=prepare, astropy=_cutouts_astropy, fitsio=_cutouts_sliced,
        rustfits=_cutouts_sliced, direct=_cutouts_sliced, check=images._check_cutouts,
        nbytes=lambda st: len(st.corners) * st.size * st.size * 2,
    )


# --------------------------------------------------------------------------------------------
# write a table from column arrays: a string column, a vector column, five scalars
# --------------------------------------------------------------------------------------------

# (name, numpy dtype, per-row shape, TFORM) of the written table
WRITE_COLUMNS = [
    ("ID", "i8", (), "K"),
    ("RA", "f8", (), "D"),
    ("DEC", "f8", (), "D"),
    ("MAG", "f4", (), "E"),
    ("FLAGS", "i2", (), "I"),
    ("NAME", "S16", (), "16A"),
    ("POS", "f4", (3,), "3E"),
]


@dataclass
class ColumnsState:
    columns: dict[str, np.ndarray]  # what every idiom is given: one array per column
    digests: dict[str, str]
    out: dict[str, str] = field(default_factory=dict)


def write_columns(seed: int, nrows: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    letters = rng.integers(ord("a"), ord("z"), (nrows, 16), dtype=np.uint8, endpoint=True)
    return {
        "ID": np.arange(nrows, dtype=np.int64),
        "RA": rng.uniform(0, 360, nrows),
        "DEC": rng.uniform(-90, 90, nrows),
        "MAG": rng.uniform(12, 24, nrows).astype(np.float32),
        "FLAGS": rng.integers(0, 1024, nrows, dtype=np.int16),
        "NAME": letters.view("S16").ravel(),
        "POS": rng.standard_normal((nrows, 3), dtype=np.float32),
    }


def _table_write_astropy(fits, st: ColumnsState):
    columns = [fits.Column(name=name, format=form, array=st.columns[name])
               for name, _, _, form in WRITE_COLUMNS]
    fits.BinTableHDU.from_columns(columns).writeto(st.out[who(fits)], overwrite=True)


def _table_write_fitsio(fitsio, st: ColumnsState):
    fitsio.write(st.out["fitsio"], list(st.columns.values()), names=list(st.columns),
                 clobber=True)


def _table_write_rustfits(rustfits, st: ColumnsState):
    # rustfits 0.1.8 takes a dict of columns, but sizes each from its dtype alone and refuses
    # the (n, 3) vector column: its users pack the columns into a structured array
    rows = np.empty(len(st.columns["ID"]),
                    [(name, dt, shape) for name, dt, shape, _ in WRITE_COLUMNS])
    for name, column in st.columns.items():
        rows[name] = column
    rustfits.write(st.out["rustfits"], rows)


def _table_write_direct(fitsbind, st: ColumnsState):
    with fitsbind.FITS(st.out["fitsbind"], "w+") as f:
        f.write_table(st.columns)


def _check_table_written(st: ColumnsState, result, lib: str) -> None:
    from astropy.io import fits

    path = st.out[lib]
    for name, arr in st.columns.items():
        if digest(arr) != st.digests[name]:
            raise CheckFailed(f"{lib} modified column {name} it was asked to write")
    check_written(path, lib, st.columns["ID"], st.digests["ID"])
    with fits.open(path, memmap=False) as hdul:
        data = hdul[1].data
        for name, arr in st.columns.items():
            got = np.asarray(data[name])
            if got.dtype.kind == "U":  # astropy reads the text column back as str
                arr = arr.astype(got.dtype)
            if got.shape != arr.shape or not np.array_equal(got, arr):
                raise CheckFailed(f"{lib}: column {name} reads back different from the input")


def table_write(nrows: int) -> Job:
    def prepare(ctx: Context) -> ColumnsState:
        cols = write_columns(ctx.cfg.seed + 23, nrows)
        return ColumnsState(cols, {n: digest(a) for n, a in cols.items()},
                            _outputs(ctx, "table"))

    return Job(
        key="table_write",
        title=f"write a {tables._rows(nrows)}-row, 7-column table (one S16, one 3-vector)",
        prepare=prepare, astropy=_table_write_astropy, fitsio=_table_write_fitsio,
        rustfits=_table_write_rustfits, direct=_table_write_direct,
        check=_check_table_written,
        nbytes=lambda st: sum(a.nbytes for a in st.columns.values()), floor="write",
    )


# --------------------------------------------------------------------------------------------
# read a whole table; read one column
# --------------------------------------------------------------------------------------------


def _table_read_astropy(fits, st: datagen.TableInput):
    # every column copied out: what a script that keeps the columns after closing does, and
    # what makes astropy's lazy FITS_rec convert them
    with fits.open(st.path) as hdul:
        data = hdul[1].data
        return {name: np.array(data[name]) for name in data.columns.names}


# reading all of HDU 1 (a table or a compressed image) is the same call in these idioms
def _hdu1_fitsio(fitsio, st: datagen.TableInput | datagen.CompressedInput):
    return fitsio.read(st.path, ext=1)


def _hdu1_rustfits(rustfits, st: datagen.TableInput | datagen.CompressedInput):
    return rustfits.read(st.path, ext=1)


def _hdu1_direct(fitsbind, st: datagen.TableInput | datagen.CompressedInput):
    with fitsbind.FITS(st.path) as f:
        return f[1].read()


def _check_table_read(st: datagen.TableInput, result, lib: str) -> None:
    if isinstance(result, np.ndarray) and result.dtype.names:
        result = {name: result[name] for name in result.dtype.names}
    dropin._check_table_columns(st, result, lib)


def table_read(nrows: int) -> Job:
    ncols = len(datagen.TABLE_COLUMNS)
    return Job(
        key="table_read", title=f"read a {tables._rows(nrows)}-row, {ncols}-column table",
        prepare=lambda ctx: datagen.table_file(ctx, nrows),
        astropy=_table_read_astropy, fitsio=_hdu1_fitsio,
        rustfits=_hdu1_rustfits, direct=_hdu1_direct, check=_check_table_read,
        nbytes=lambda st: st.data.nbytes, floor="read",
    )


def _column_astropy(fits, st: datagen.TableInput):
    with fits.open(st.path) as hdul:
        return np.array(hdul[1].data["F64"])


def _column_fitsio(fitsio, st: datagen.TableInput):
    with fitsio.FITS(st.path) as f:
        return f[1].read_column("F64")


def _column_read(module, st: datagen.TableInput):
    """rustfits and the direct tier read one column the same way."""
    with module.FITS(st.path) as f:
        return f[1].read_column("F64")


def table_column(nrows: int) -> Job:
    return Job(
        key="table_column", title=f"read one float64 column of a {tables._rows(nrows)}-row table",
        prepare=lambda ctx: datagen.table_file(ctx, nrows),
        astropy=_column_astropy, fitsio=_column_fitsio, rustfits=_column_read,
        direct=_column_read,
        check=lambda st, got, lib: tables._check_column(got, st, "F64", f"{lib} column F64"),
        # every 54-byte row holds a value of the column, so the whole table is read
        nbytes=lambda st: st.data.nbytes, floor="read",
    )


# --------------------------------------------------------------------------------------------
# read every key of a long header
# --------------------------------------------------------------------------------------------


@dataclass
class HeaderState:
    path: str
    keys: list[str]
    values: list[Any]


def _header_astropy(fits, st: HeaderState):
    header = fits.getheader(st.path)
    return [header[key] for key in st.keys]


def _header_fitsio(fitsio, st: HeaderState):
    header = fitsio.read_header(st.path)
    return [header[key] for key in st.keys]


def _header_rustfits(rustfits, st: HeaderState):
    header = rustfits.read_header(st.path)
    return [header[key] for key in st.keys]


def _header_direct(fitsbind, st: HeaderState):
    with fitsbind.FITS(st.path) as f:
        header = f[0].header
        return [header[key] for key in st.keys]


def _check_header(st: HeaderState, result, lib: str) -> None:
    for key, got, want in zip(st.keys, result, st.values):
        same = got == want if not isinstance(want, float) else np.isclose(got, want, rtol=1e-12)
        if not same or (type(got) is not type(want) and not isinstance(want, float)):
            raise CheckFailed(f"{lib}: {key} read as {got!r}, expected {want!r}")
    if len(result) != len(st.keys):
        raise CheckFailed(f"{lib}: {len(result)} values for {len(st.keys)} keys")


def header_keys(ncards: int) -> Job:
    def prepare(ctx: Context) -> HeaderState:
        from astropy.io import fits

        cards = dropin._header_cards(0, ncards)
        path = ctx.path(f"idiom-header-{ncards}.fits")
        fits.PrimaryHDU(header=fits.Header(cards)).writeto(path, overwrite=True)
        return HeaderState(path, [k for k, _, _ in cards], [v for _, v, _ in cards])

    return Job(
        key="header_keys", title=f"read {ncards:,} keys of a {ncards:,}-card header",
        prepare=prepare, astropy=_header_astropy, fitsio=_header_fitsio,
        rustfits=_header_rustfits, direct=_header_direct, check=_check_header,
        nbytes=lambda st: 80 * len(st.keys),
    )


# --------------------------------------------------------------------------------------------
# many small files: open, one key, a 32x32 corner of the image, close
# --------------------------------------------------------------------------------------------


@dataclass
class SmallState:
    paths: list[str]
    corner: np.ndarray  # the SCI image's first 32x32 pixels, what every file holds


def _small_astropy(fits, st: SmallState):
    found = []
    for path in st.paths:
        with fits.open(path) as hdul:
            obj = hdul[0].header["OBJECT"]
            # a copy: the pixels outlive the file (and, memory-mapped, are read here)
            found.append((obj, np.array(hdul[1].data[:32, :32])))
    return found


def _small_fitsio(fitsio, st: SmallState):
    found = []
    for path in st.paths:
        with fitsio.FITS(path) as f:
            found.append((f[0].read_header()["OBJECT"], f[1][:32, :32]))
    return found


def _small_sliced(module, st: SmallState):
    """rustfits and the direct tier: the header attribute, a slice of the HDU."""
    found = []
    for path in st.paths:
        with module.FITS(path) as f:
            found.append((f[0].header["OBJECT"], f[1][:32, :32]))
    return found


def _check_small(st: SmallState, result, lib: str) -> None:
    if len(result) != len(st.paths):
        raise CheckFailed(f"{lib}: {len(result)} results for {len(st.paths)} files")
    for path, (obj, corner) in zip(st.paths, result):
        if obj != datagen.SMALL_MEF_OBJECT:
            raise CheckFailed(f"{lib}: {path}: OBJECT {obj!r}")
        check_array(corner, st.corner, f"{lib}: {path}: 32x32 pixels")


def small_files(count: int) -> Job:
    def prepare(ctx: Context) -> SmallState:
        paths = datagen.copies(ctx, datagen.small_mef(ctx), count, "small-mef")
        sci = datagen.random_image(ctx.cfg.seed, "float32", (100, 100))  # as small_mef makes it
        return SmallState(paths, sci[:32, :32].copy())

    return Job(
        key="small_files", title=f"{count} small files: open, one key, 32² data, close",
        prepare=prepare, astropy=_small_astropy, fitsio=_small_fitsio,
        rustfits=_small_sliced, direct=_small_sliced, check=_check_small,
        nbytes=lambda st: len(st.paths) * st.corner.nbytes,
    )


# --------------------------------------------------------------------------------------------
# tile-compressed images: read, write, stamps (Rice, int16, one row per tile: the default)
# --------------------------------------------------------------------------------------------


def _rice_file(ctx: Context, shape: tuple[int, int]) -> datagen.CompressedInput:
    return datagen.compressed_file(ctx, "int16", shape, "RICE_1", (1, shape[1]))


def _comp_read_astropy(fits, st: datagen.CompressedInput):
    return fits.getdata(st.path, 1)


def comp_read(shape: tuple[int, int]) -> Job:
    return Job(
        key="comp_read", title=f"read a Rice {_dims(shape)} int16 image",
        prepare=lambda ctx: _rice_file(ctx, shape),
        astropy=_comp_read_astropy, fitsio=_hdu1_fitsio,
        rustfits=_hdu1_rustfits, direct=_hdu1_direct,
        check=lambda st, got, lib: check_array(got, st.data, f"{lib} image"),
        nbytes=lambda st: st.data.nbytes, floor="rice_decode",
    )


def _comp_write_astropy(fits, st: images.WriteState):
    fits.CompImageHDU(st.data, compression_type="RICE_1").writeto(st.out[who(fits)],
                                                                  overwrite=True)


def _comp_write_fitsio(fitsio, st: images.WriteState):
    fitsio.write(st.out["fitsio"], st.data, compress="rice", clobber=True)


def _comp_write_rustfits(rustfits, st: images.WriteState):
    with rustfits.FITS(st.out["rustfits"], "w+") as f:
        f.write_image(st.data, compress=rustfits.Rice1())


def _comp_write_direct(fitsbind, st: images.WriteState):
    from fitsbind.direct import Rice1

    with fitsbind.FITS(st.out["fitsbind"], "w+") as f:
        f.write_image(st.data, compress=Rice1())


def _check_comp_written(st: images.WriteState, result, lib: str) -> None:
    from astropy.io import fits

    check_written(st.out[lib], lib, st.data, st.digest)
    with fits.open(st.out[lib]) as hdul:
        if getattr(hdul[1], "compression_type", None) != "RICE_1":
            raise CheckFailed(f"{lib}: HDU 1 is not a Rice-compressed image")
        check_array(np.array(hdul[1].data), st.data, f"{lib} written image")


def comp_write(shape: tuple[int, int]) -> Job:
    def prepare(ctx: Context) -> images.WriteState:
        data = _rice_file(ctx, shape).data
        return images.WriteState(data, digest(data), _outputs(ctx, "rice"))

    return Job(
        key="comp_write", title=f"write a Rice {_dims(shape)} int16 image",
        prepare=prepare, astropy=_comp_write_astropy, fitsio=_comp_write_fitsio,
        rustfits=_comp_write_rustfits, direct=_comp_write_direct, check=_check_comp_written,
        nbytes=lambda st: st.data.nbytes, floor="rice_encode",
    )


@dataclass
class StampState:
    image: datagen.CompressedInput
    size: int
    corners: list[tuple[int, int]]


def _stamps_astropy(fits, st: StampState):
    n = st.size
    with fits.open(st.image.path) as hdul:
        section = hdul[1].section
        return [section[y : y + n, x : x + n] for y, x in st.corners]


def _stamps_sliced(module, st: StampState):
    n = st.size
    with module.FITS(st.image.path) as f:
        hdu = f[1]
        return [hdu[y : y + n, x : x + n] for y, x in st.corners]


def _check_stamps(st: StampState, result, lib: str) -> None:
    n = st.size
    if len(result) != len(st.corners):
        raise CheckFailed(f"{lib}: {len(result)} stamps for {len(st.corners)} positions")
    for (y, x), got in zip(st.corners, result):
        check_array(np.asarray(got), st.image.data[y : y + n, x : x + n], f"{lib} stamp {y},{x}")


def comp_stamps(count: int, shape: tuple[int, int]) -> Job:
    def prepare(ctx: Context) -> StampState:
        return StampState(_rice_file(ctx, shape), 64,
                          _corners(ctx.cfg.seed + 29, count, 64, shape))

    return Job(
        key="comp_stamps", title=f"{count} stamps 64² from a Rice {_dims(shape)} int16 image",
        prepare=prepare, astropy=_stamps_astropy, fitsio=_stamps_sliced,
        rustfits=_stamps_sliced, direct=_stamps_sliced, check=_check_stamps,
        nbytes=lambda st: len(st.corners) * st.size * st.size * 2,
    )


# --------------------------------------------------------------------------------------------
# update-mode edits: ten keywords into the header of a large image, in place
# --------------------------------------------------------------------------------------------

EDITS = [("OBSERVER", "idiom"), ("EXPTIME", 30.0), ("FILTER", "r"), ("AIRMASS", 1.21),
         ("GAIN", 1.6), ("RDNOISE", 4.2), ("CCDTEMP", -110.5), ("NCOMBINE", 7),
         ("CALIB", True), ("PIPEVER", "2.3.1")]


@dataclass
class EditState:
    source: str  # the pristine file every call's working copy is restored from
    out: dict[str, str]  # the working copy of each idiom
    data: np.ndarray


def _edit_astropy(fits, st: EditState):
    with fits.open(st.out[who(fits)], mode="update") as hdul:
        header = hdul[0].header
        for key, value in EDITS:
            header[key] = value


def _edit_fitsio(fitsio, st: EditState):
    with fitsio.FITS(st.out["fitsio"], "rw") as f:
        for key, value in EDITS:
            f[0].write_key(key, value)


def _edit_rustfits(rustfits, st: EditState):
    with rustfits.FITS(st.out["rustfits"], "r+") as f, f[0].header.edit() as header:
        for key, value in EDITS:
            header[key] = value


def _edit_direct(fitsbind, st: EditState):
    with fitsbind.FITS(st.out["fitsbind"], "r+") as f:
        header = f[0].header
        for key, value in EDITS:
            header[key] = value


def _restore(st: Any, idiom: str) -> None:
    shutil.copyfile(st.source, st.out[idiom])


def _check_edits(st: EditState, result, lib: str) -> None:
    from astropy.io import fits

    with fits.open(st.out[lib], memmap=False) as hdul:
        header = hdul[0].header
        for key, value in EDITS:
            if header.get(key) != value:
                raise CheckFailed(f"{lib}: {key} is {header.get(key)!r}, expected {value!r}")
        check_array(hdul[0].data, st.data, f"{lib} image after the edits")


def header_edit(shape: tuple[int, int]) -> Job:
    def prepare(ctx: Context) -> EditState:
        image = datagen.image_file(ctx, "float32", shape)
        return EditState(image.path, _outputs(ctx, "edit"), image.data)

    return Job(
        key="header_edit", title=f"update mode: 10 keys into a {_dims(shape)} float32 file",
        prepare=prepare, astropy=_edit_astropy, fitsio=_edit_fitsio,
        rustfits=_edit_rustfits, direct=_edit_direct, check=_check_edits,
        nbytes=lambda st: 80 * len(EDITS), before=_restore,
    )


# --------------------------------------------------------------------------------------------
# append rows to a table on disk
# --------------------------------------------------------------------------------------------


@dataclass
class AppendState:
    source: str
    out: dict[str, str]
    base: np.ndarray  # the rows the file holds
    rows: np.ndarray  # the rows appended (structured, the table's columns)


def _append_astropy(fits, st: AppendState):
    # astropy has no in-place append: its documented way grows a copy with
    # from_columns(nrows=...), fills the new rows and writes the file again
    path = st.out[who(fits)]
    with fits.open(path) as hdul:
        old = hdul[1]
        n = old.header["NAXIS2"]
        grown = fits.BinTableHDU.from_columns(old.columns, header=old.header,
                                              nrows=n + len(st.rows))
    for name in st.rows.dtype.names:
        grown.data[name][n:] = st.rows[name]
    grown.writeto(path, overwrite=True)


def _append_fitsio(fitsio, st: AppendState):
    with fitsio.FITS(st.out["fitsio"], "rw") as f:
        f[1].append(st.rows)


def _append_rows(module, st: AppendState, idiom: str) -> None:
    with module.FITS(st.out[idiom], "r+") as f:
        f[1].append(st.rows)


def _check_appended(st: AppendState, result, lib: str) -> None:
    from astropy.io import fits

    with fits.open(st.out[lib], memmap=False) as hdul:
        data = hdul[1].data
        want = np.concatenate([st.base, st.rows])
        if len(data) != len(want):
            raise CheckFailed(f"{lib}: {len(data)} rows, expected {len(want)}")
        for name in ("I64", "F64", "U16", "VEC3"):
            if not np.array_equal(np.asarray(data[name]), want[name]):
                raise CheckFailed(f"{lib}: column {name} differs after the append")


def append_rows(nbase: int, nrows: int) -> Job:
    def prepare(ctx: Context) -> AppendState:
        table = datagen.table_file(ctx, nbase)
        rows = datagen.random_table(ctx.cfg.seed + zlib.crc32(b"idiom-append"), nrows)
        return AppendState(table.path, _outputs(ctx, "append"), table.data, rows)

    return Job(
        key="append_rows",
        title=f"append {tables._rows(nrows)} rows to a {tables._rows(nbase)}-row table",
        prepare=prepare, astropy=_append_astropy, fitsio=_append_fitsio,
        rustfits=lambda m, st: _append_rows(m, st, "rustfits"),
        direct=lambda m, st: _append_rows(m, st, "fitsbind"),
        check=_check_appended, nbytes=lambda st: st.rows.nbytes, floor="write",
        before=_restore,
    )


def jobs(quick: bool) -> list[Job]:
    """The family's jobs: the issue's five first, then the rest of the suite's workloads."""
    if quick:
        f32, i16, ncut, nrows, ncards, nfiles = (1024, 1024), (2048, 2048), 50, 200_000, 500, 50
        rice, nstamps, append = (1024, 1024), 50, (50_000, 20_000)
    else:
        f32, i16, ncut, nrows, ncards, nfiles = (4096, 4096), (8192, 8192), 200, 2_000_000, 2000, 300
        rice, nstamps, append = (4096, 4096), 100, (200_000, 100_000)
    return [
        image_read(f32),
        cutouts(ncut, i16),
        table_write(nrows),
        header_keys(ncards),
        small_files(nfiles),
        image_write(f32),
        table_read(nrows),
        table_column(nrows),
        comp_read(rice),
        comp_write(rice),
        comp_stamps(nstamps, rice),
        header_edit(f32),
        append_rows(*append),
    ]
