"""Header workloads: the per-file cost of opening a file and looking at its header."""

from __future__ import annotations

from dataclasses import dataclass

from . import datagen
from .common import CheckFailed, Config, Context, Workload


@dataclass
class ManyFilesState:
    paths: list[str]
    keyword: str
    expected: str


def _open_fitsbind(fitsbind, st: ManyFilesState):
    values = []
    for path in st.paths:
        with fitsbind.FITS(path, "r") as f:
            values.append(f[0].header[st.keyword])
    return values


def _open_astropy(fits, st: ManyFilesState):
    # fits.open is lazy: it parses the primary header and stops; the extensions are not read.
    values = []
    for path in st.paths:
        with fits.open(path) as hdul:
            values.append(hdul[0].header[st.keyword])
    return values


def _open_fitsio(fitsio, st: ManyFilesState):
    # fitsio.FITS walks every HDU of the file when it opens it; read_header parses all cards.
    values = []
    for path in st.paths:
        with fitsio.FITS(path, "r") as f:
            values.append(f[0].read_header()[st.keyword])
    return values


def _open_rustfits(rustfits, st: ManyFilesState):
    values = []
    for path in st.paths:
        with rustfits.FITS(path, "r") as f:
            values.append(f[0].header[st.keyword])
    return values


def _check_values(st: ManyFilesState, result, lib: str) -> None:
    if not isinstance(result, list) or len(result) != len(st.paths):
        raise CheckFailed(f"{lib}: expected {len(st.paths)} values")
    for path, value in zip(st.paths, result):
        # trailing blanks of a FITS string value are not significant
        if not isinstance(value, str) or value.rstrip() != st.expected:
            raise CheckFailed(f"{lib}: {st.keyword} of {path} read as {value!r}, expected {st.expected!r}")


def _open_many(count: int) -> Workload:
    def prepare(ctx: Context) -> ManyFilesState:
        paths = datagen.copies(ctx, datagen.small_mef(ctx), count, "small-mef")
        return ManyFilesState(paths, "OBJECT", datagen.SMALL_MEF_OBJECT)

    return Workload(
        name=f"open_many {count} files",
        family="open_many",
        description=f"for each of {count} small three-HDU files (copies of one file): open it, read "
        "the primary header's OBJECT value, close",
        prepare=prepare,
        runners={
            "fitsbind": _open_fitsbind,
            "astropy": _open_astropy,
            "fitsio": _open_fitsio,
            "rustfits": _open_rustfits,
        },
        check=_check_values,
        params={"count": count, "hdus_per_file": 3, "keyword": "OBJECT"},
    )


def workloads(cfg: Config) -> list[Workload]:
    return [_open_many(50 if cfg.quick else 300)]
