"""Drop-in workloads: one piece of ``astropy.io.fits`` user code, run by astropy and by fitsbind.

Every runner here is a single function ``runner(fits, state)`` that both libraries run: the
harness hands it ``astropy.io.fits`` for astropy and the ``fitsbind`` module for fitsbind, exactly
as a script that changed ``from astropy.io import fits`` into ``import fitsbind as fits`` would
see them. fitsio and rustfits have no such interface and are shown as "n/a".

Until fitsbind has the drop-in interface (``fitsbind.open``, ``getdata``, ``BinTableHDU`` ...), a
runner given a module without the names it uses raises ``Unavailable`` before touching any file,
and the harness reports fitsbind as unavailable for that workload.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import datagen, images, tables
from .common import LIBRARIES, CheckFailed, Config, Context, Unavailable, Workload, digest

# The libraries that run the drop-in code; the others have no astropy-compatible interface.
DROPIN_LIBRARIES = ("fitsbind", "astropy")


def _require(fits: Any, *names: str) -> None:
    """Raise ``Unavailable`` unless module ``fits`` has every one of ``names``."""
    missing = [n for n in names if not hasattr(fits, n)]
    if missing:
        raise Unavailable(f"{fits.__name__} has no {', '.join(missing)} (drop-in interface missing)")


def _runners(fn) -> dict[str, Any]:
    return dict.fromkeys(DROPIN_LIBRARIES, fn)


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape)


def _rows(n: int) -> str:
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % div == 0:
            return f"{n // div}{suffix}"
    return str(n)


# --------------------------------------------------------------------------------------------
# image read: fits.getdata, then fits.open(...)[0].data, each summed
# --------------------------------------------------------------------------------------------


@dataclass
class ImageSumState:
    image: datagen.ImageInput
    total: float  # float64 sum of the pixels
    tolerance: float  # how far a float32 sum may be from it


def _image_read(fits, st: ImageSumState):
    # Summing touches every pixel: with memory mapping (astropy's default) getdata and .data
    # return before anything is read, so the sum is where the reading happens.
    _require(fits, "getdata", "open")
    data = fits.getdata(st.image.path)
    first = data.sum()
    with fits.open(st.image.path) as hdul:
        second = hdul[0].data.sum()
    return data, first, second


def _same_pixels(got: Any, expected: np.ndarray, what: str) -> None:
    """``got`` must be an array (memory-mapped or not, any byte order) equal to ``expected``."""
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        raise CheckFailed(f"{what}: expected an array of shape {expected.shape}, got "
                          f"{type(got).__name__} of shape {getattr(got, 'shape', None)}")
    if (got.dtype.kind, got.dtype.itemsize) != (expected.dtype.kind, expected.dtype.itemsize):
        raise CheckFailed(f"{what}: dtype {got.dtype}, expected {expected.dtype}")
    if not np.array_equal(got, expected):
        raise CheckFailed(f"{what}: values differ from the input data")


def _check_image_sums(st: ImageSumState, result, lib: str) -> None:
    data, *sums = result
    _same_pixels(data, st.image.data, f"{lib} getdata")
    for what, total in zip(("getdata(...).sum()", "open()[0].data.sum()"), sums):
        if not np.isfinite(total) or abs(float(total) - st.total) > st.tolerance:
            raise CheckFailed(f"{lib}: {what} is {total}, expected {st.total}")


def _sum_tolerance(data: np.ndarray) -> float:
    """How far a float32 sum of ``data`` may be from the exact one: numpy sums pairwise, whose
    rounding error grows with the logarithm of the size, well under this bound."""
    return 1e-6 * float(np.abs(data).sum(dtype=np.float64))


def _image_read_workload(shape: tuple[int, int]) -> Workload:
    def prepare(ctx: Context) -> ImageSumState:
        image = datagen.image_file(ctx, "float32", shape)
        tolerance = _sum_tolerance(image.data)
        return ImageSumState(image, float(image.data.sum(dtype=np.float64)), tolerance)

    return Workload(
        name=f"dropin_image_read float32 {_dims(shape)}",
        family="dropin_image_read",
        description=f"fits.getdata(path).sum(), then fits.open(path)[0].data.sum() on a {_dims(shape)} "
        "float32 primary image",
        prepare=prepare,
        runners=_runners(_image_read),
        check=_check_image_sums,
        params={"dtype": "float32", "shape": list(shape)},
    )


# --------------------------------------------------------------------------------------------
# image write: fits.writeto of an array, replacing the previous repetition's file
# --------------------------------------------------------------------------------------------


def _image_write(fits, st: images.WriteState):
    _require(fits, "writeto")
    fits.writeto(st.out[_lib_of(fits)], st.data, overwrite=True)


def _lib_of(fits: Any) -> str:
    """Which library ``fits`` is: the output file of a write workload is per library."""
    return "astropy" if fits.__name__.startswith("astropy") else "fitsbind"


def _image_write_workload(shape: tuple[int, int]) -> Workload:
    def prepare(ctx: Context) -> images.WriteState:
        data = datagen.image_file(ctx, "float32", shape).data
        out = {lib: ctx.path(f"dropin-written-{lib}.fits") for lib in LIBRARIES}
        return images.WriteState(data=data, digest=digest(data), out=out)

    return Workload(
        name=f"dropin_image_write float32 {_dims(shape)}",
        family="dropin_image_write",
        description=f"fits.writeto(path, data, overwrite=True) of a {_dims(shape)} float32 array",
        prepare=prepare,
        runners=_runners(_image_write),
        check=images._check_write,
        params={"dtype": "float32", "shape": list(shape)},
    )


# --------------------------------------------------------------------------------------------
# table read: fits.open(path)[1].data, every column copied out
# --------------------------------------------------------------------------------------------


def _table_read(fits, st: datagen.TableInput):
    # np.array(data[name]) is how a script gets a column it keeps after the file is closed; it
    # also makes the column's values be read, which a memory-mapped .data alone does not.
    _require(fits, "open")
    with fits.open(st.path) as hdul:
        data = hdul[1].data
        return {name: np.array(data[name]) for name in data.columns.names}


def _check_table_columns(st: datagen.TableInput, result, lib: str) -> None:
    expected = [n.upper() for n in st.data.dtype.names]
    got = {n.upper(): n for n in result}
    if sorted(got) != sorted(expected):
        raise CheckFailed(f"{lib}: columns {list(result)}, expected {list(st.data.dtype.names)}")
    for name in st.data.dtype.names:
        tables._check_column(result[got[name.upper()]], st, name, f"{lib} column {name}")


def _table_read_workload(nrows: int) -> Workload:
    ncols = len(datagen.TABLE_COLUMNS)
    return Workload(
        name=f"dropin_table_read {_rows(nrows)} rows x {ncols} cols",
        family="dropin_table_read",
        description=f"fits.open(path)[1].data of a {nrows}-row, {ncols}-column binary table (mixed "
        "types), every column copied out with np.array(data[name])",
        prepare=lambda ctx: datagen.table_file(ctx, nrows),
        runners=_runners(_table_read),
        check=_check_table_columns,
        params={"nrows": nrows, "columns": [[c[0], c[3]] for c in datagen.TABLE_COLUMNS]},
    )


# --------------------------------------------------------------------------------------------
# table write: Column objects -> BinTableHDU.from_columns -> writeto
# --------------------------------------------------------------------------------------------


def _table_write(fits, st: tables.WriteState):
    _require(fits, "Column", "BinTableHDU")
    data = st.table.data
    columns = [
        fits.Column(name=name, format=form, bzero=tzero, array=data[name])
        for name, _, _, form, tzero in datagen.TABLE_COLUMNS
    ]
    hdu = fits.BinTableHDU.from_columns(columns, name=datagen.TABLE_EXTNAME)
    hdu.writeto(st.out[_lib_of(fits)], overwrite=True)


def _table_write_workload(nrows: int) -> Workload:
    ncols = len(datagen.TABLE_COLUMNS)

    def prepare(ctx: Context) -> tables.WriteState:
        table = datagen.table_file(ctx, nrows)
        out = {lib: ctx.path(f"dropin-written-table-{lib}.fits") for lib in LIBRARIES}
        return tables.WriteState(table=table, digest=digest(table.data), out=out)

    return Workload(
        name=f"dropin_table_write {_rows(nrows)} rows x {ncols} cols",
        family="dropin_table_write",
        description=f"fits.BinTableHDU.from_columns([fits.Column(...) x {ncols}]).writeto(path, "
        f"overwrite=True) of {nrows} rows of mixed types",
        prepare=prepare,
        runners=_runners(_table_write),
        check=tables._check_write,
        params={"nrows": nrows, "columns": [[c[0], c[3]] for c in datagen.TABLE_COLUMNS]},
    )


# --------------------------------------------------------------------------------------------
# header-heavy file: many HDUs with long headers; open, read every header, a few lookups
# --------------------------------------------------------------------------------------------


@dataclass
class HeaderState:
    path: str
    middle: str  # a keyword halfway down every header
    last: str  # the last keyword of every header's generated cards
    expected: list[tuple[Any, ...]]  # per HDU: what the runner's lookups must give


def _header_cards(hdu: int, ncards: int) -> list[tuple[str, Any, str]]:
    """``ncards`` cards of every value type, keywords HK000000, HK000001, ..."""
    cards: list[tuple[str, Any, str]] = []
    for i in range(ncards):
        key = f"HK{i:06d}"
        kind = i % 5
        if kind == 0:
            value: Any = hdu * 100_000 + i
        elif kind == 1:
            value = round(0.001 * i + hdu, 6)
        elif kind == 2:
            value = f"value {i} of HDU {hdu}"
        elif kind == 3:
            value = bool(i % 2)
        else:
            value = -1.25e-7 * (i + 1)
        cards.append((key, value, f"generated card {i}"))
    return cards


def _header_file(ctx: Context, nhdus: int, ncards: int) -> HeaderState:
    """A file of ``nhdus`` HDUs (an empty primary, then 16x16 int16 images named E1, E2, ...),
    each header holding about ``ncards`` cards in all."""
    from astropy.io import fits  # inputs are written by astropy, never by fitsbind

    # room for the structural cards, EXTNAME and the history cards
    ngen = ncards - 20
    hdus = []
    expected = []
    middle, last = f"HK{ngen // 2:06d}", f"HK{ngen - 1:06d}"
    for h in range(nhdus):
        header = fits.Header(_header_cards(h, ngen))
        for j in range(5):
            header.add_history(f"synthetic processing step {j + 1} of HDU {h}")
        if h == 0:
            hdus.append(fits.PrimaryHDU(header=header))
            name = "PRIMARY"
        else:
            name = f"E{h}"
            pixels = np.arange(256, dtype=np.int16).reshape(16, 16) + h
            hdus.append(fits.ImageHDU(pixels, header=header, name=name))
        cards = dict((k, v) for k, v, _ in _header_cards(h, ngen))
        expected.append((name, cards[middle], cards[last], f"generated card {ngen - 1}", None))
    path = ctx.path(f"dropin-headers-{nhdus}x{ncards}.fits")
    fits.HDUList(hdus).writeto(path, overwrite=True)
    return HeaderState(path, middle, last, expected)


def _headers(fits, st: HeaderState):
    _require(fits, "open")
    found = []
    with fits.open(st.path) as hdul:
        for hdu in hdul:
            header = hdu.header
            found.append((
                header.get("EXTNAME", "PRIMARY"),
                header[st.middle],
                header[st.last],
                header.comments[st.last],
                header.get("NOTTHERE"),
                len(header),
            ))
    return found


def _check_headers(st: HeaderState, result, lib: str) -> None:
    if len(result) != len(st.expected):
        raise CheckFailed(f"{lib}: read {len(result)} headers, expected {len(st.expected)}")
    for i, (got, want) in enumerate(zip(result, st.expected)):
        if tuple(got[:5]) != want:
            raise CheckFailed(f"{lib}: HDU {i} lookups gave {got[:5]}, expected {want}")


def _headers_workload(nhdus: int, ncards: int) -> Workload:
    return Workload(
        name=f"dropin_headers {nhdus} HDUs x {ncards} cards",
        family="dropin_headers",
        description=f"fits.open a file of {nhdus} HDUs with {ncards}-card headers, take every HDU's "
        "header and look up five keywords in it (two values, a comment, a missing key, EXTNAME)",
        prepare=lambda ctx: ctx.shared(f"dropin-headers-{nhdus}x{ncards}",
                                       lambda: _header_file(ctx, nhdus, ncards)),
        runners=_runners(_headers),
        check=_check_headers,
        params={"hdus": nhdus, "cards": ncards},
    )


# --------------------------------------------------------------------------------------------
# many small files: fits.getheader + fits.getdata on each
# --------------------------------------------------------------------------------------------


@dataclass
class SmallFilesState:
    paths: list[str]
    image: np.ndarray  # the SCI image every file holds, the first HDU with data
    total: float


def _small_files(fits, st: SmallFilesState):
    _require(fits, "getheader", "getdata")
    found = []
    for path in st.paths:
        header = fits.getheader(path)
        data = fits.getdata(path)
        # the sum makes the pixels be read, memory-mapped or not
        found.append((header["OBJECT"], data, data.sum()))
    return found


def _check_small_files(st: SmallFilesState, result, lib: str) -> None:
    if len(result) != len(st.paths):
        raise CheckFailed(f"{lib}: read {len(result)} files, expected {len(st.paths)}")
    tolerance = _sum_tolerance(st.image)
    for path, (obj, data, total) in zip(st.paths, result):
        if obj != datagen.SMALL_MEF_OBJECT:
            raise CheckFailed(f"{lib}: {path}: OBJECT is {obj!r}, expected {datagen.SMALL_MEF_OBJECT!r}")
        _same_pixels(data, st.image, f"{lib}: {path}: getdata")
        if abs(float(total) - st.total) > tolerance:
            raise CheckFailed(f"{lib}: {path}: pixels sum to {total}, expected {st.total}")


def _small_files_workload(count: int) -> Workload:
    def prepare(ctx: Context) -> SmallFilesState:
        paths = datagen.copies(ctx, datagen.small_mef(ctx), count, "small-mef")
        # small_mef's SCI image, as it generates it
        image = datagen.random_image(ctx.cfg.seed, "float32", (100, 100))
        return SmallFilesState(paths, image, float(image.sum(dtype=np.float64)))

    return Workload(
        name=f"dropin_small_files {count} files",
        family="dropin_small_files",
        description=f"for each of {count} small three-HDU files: fits.getheader(path)['OBJECT'], "
        "fits.getdata(path) (the 100x100 float32 SCI image) and its sum",
        prepare=prepare,
        runners=_runners(_small_files),
        check=_check_small_files,
        params={"count": count, "hdus_per_file": 3},
    )


# --------------------------------------------------------------------------------------------
# cutouts through .section
# --------------------------------------------------------------------------------------------


def _cutouts(fits, st: images.CutoutState):
    _require(fits, "open")
    n = st.size
    with fits.open(st.image.path) as hdul:
        section = hdul[0].section
        return [section[y : y + n, x : x + n] for y, x in st.corners]


def _cutouts_workload(count: int, size: int, shape: tuple[int, int]) -> Workload:
    def prepare(ctx: Context) -> images.CutoutState:
        image = datagen.image_file(ctx, "int16", shape)
        rng = np.random.default_rng(ctx.cfg.seed + zlib.crc32(b"dropin-cutouts"))
        ys = rng.integers(0, shape[0] - size, count, endpoint=True)
        xs = rng.integers(0, shape[1] - size, count, endpoint=True)
        return images.CutoutState(image, size, [(int(y), int(x)) for y, x in zip(ys, xs)])

    return Workload(
        name=f"dropin_cutouts {count}x {size}x{size} of int16 {_dims(shape)}",
        family="dropin_cutouts",
        description=f"fits.open a {_dims(shape)} int16 image and read {count} {size}x{size} cutouts "
        "at fixed random positions through hdul[0].section",
        prepare=prepare,
        runners=_runners(_cutouts),
        check=images._check_cutouts,
        params={"count": count, "size": size, "dtype": "int16", "shape": list(shape)},
    )


# --------------------------------------------------------------------------------------------


def workloads(cfg: Config) -> list[Workload]:
    if cfg.quick:
        f32, i16, nrows, hdus, nfiles, ncut = (1024, 1024), (2048, 2048), 200_000, (10, 1000), 50, 50
    else:
        f32, i16, nrows, hdus, nfiles, ncut = (4096, 4096), (8192, 8192), 1_000_000, (50, 1000), 500, 100
    return [
        _image_read_workload(f32),
        _image_write_workload(f32),
        _table_read_workload(nrows),
        _table_write_workload(nrows),
        _headers_workload(*hdus),
        _small_files_workload(nfiles),
        _cutouts_workload(ncut, 64, i16),
    ]

