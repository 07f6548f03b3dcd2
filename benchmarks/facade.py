"""Table facade workloads: whole tables with units, nulls, scaling and times, as a user of each
library gets them (astropy ``Table``, ``fitsbind.Table``, fitsio structured arrays, pandas).

The input (``datagen.facade_file``) is a 10-column binary table written by astropy: int64 IDs,
float64 positions in deg, float32 magnitudes with NaNs and TDISP F8.3, int32 flags with TNULL
and null cells, int16 counts scaled by TSCAL 0.5 / TZERO 100, 10-character names, TIME in
seconds of TT after MJDREF 50814 (astropy_native and fitsbind's ``time="auto"`` make it a
time column), int16 channels and logicals.

Families: ``facade_table_read`` (astropy's ``Table.read`` through format ``"fits"`` and through
fitsbind's ``"fitsbind"``), ``facade_read_table`` (``fitsbind.read_table`` against
``fitsio.read`` and ``Table.read`` of the same columns), ``facade_to_pandas`` and
``facade_write_table``. ``--only facade`` runs all of them. A fitsbind build without the facade
(``read_table``, ``write_table``, ``fitsbind.connect``) is reported as unavailable.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import datagen
from .common import CheckFailed, Config, Context, Unavailable, Workload

ALL_COLUMNS = [c[0] for c in datagen.FACADE_COLUMNS]
SUBSET = ["RA", "DEC", "MAG"]  # three columns of the ten, 20 of the 55 bytes of a row
SECONDS_PER_DAY = 86400.0
MJD_TOLERANCE = 1e-8  # days (under a millisecond): the times are float64 seconds of ~10 years
NS_TOLERANCE = 1000  # datetime64[ns] rounding of those times


def _rows(n: int) -> str:
    """2000000 -> "2M", 200000 -> "200k"."""
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % div == 0:
            return f"{n // div}{suffix}"
    return str(n)


def _require(fitsbind: Any, *names: str) -> None:
    """Raise ``Unavailable`` unless the fitsbind module has the facade functions ``names``."""
    missing = [n for n in names if not callable(getattr(fitsbind, n, None))]
    if missing:
        raise Unavailable(f"fitsbind.{', fitsbind.'.join(missing)} not in this fitsbind build")


def _astropy_table() -> Any:
    from astropy.table import Table

    return Table


def _fitsbind_format() -> Any:
    """astropy's Table class with fitsbind's format "fitsbind" registered, which is what
    ``import fitsbind.connect`` does (the import is a dictionary lookup after the first)."""
    try:
        importlib.import_module("fitsbind.connect")
    except ImportError as exc:
        raise Unavailable(f"fitsbind.connect (astropy format 'fitsbind') not importable: {exc}") from None
    return _astropy_table()


# --------------------------------------------------------------------------------------------
# Result checks: a column in whatever shape a library gives it, against the generated values
# --------------------------------------------------------------------------------------------


def _data_and_mask(got: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """A column (numpy array, masked array, astropy Column, pandas Series) as its values and
    its mask (None when it has none)."""
    if hasattr(got, "isna"):  # a pandas Series; nullable dtypes hold their nulls as NA
        mask = got.isna().to_numpy()
        if isinstance(got.dtype, np.dtype):
            return got.to_numpy(), mask if got.dtype.kind == "f" else None
        kind = getattr(got.dtype, "kind", "O")
        if kind in "iufb":
            return got.to_numpy(dtype="float64", na_value=np.nan), mask
        return got.to_numpy(dtype=object), mask
    if np.ma.isMaskedArray(got):
        return np.ma.getdata(got), np.ma.getmaskarray(got)
    return np.asarray(got), None


def _check_time(got: Any, st: datagen.FacadeInput, what: str) -> None:
    """TIME as numbers (seconds), a time object (anything with ``mjd``: fitsbind's
    TimeColumn, astropy's Time; TT) or datetime64 (TT)."""
    seconds = st.columns["TIME"]
    if hasattr(got, "mjd"):
        scale = getattr(got, "scale", "tt")
        if scale != "tt":
            raise CheckFailed(f"{what}: time scale {scale!r}, expected 'tt' (TIMESYS)")
        expected = 50814.0 + seconds / SECONDS_PER_DAY
        if not np.allclose(np.asarray(got.mjd), expected, rtol=0, atol=MJD_TOLERANCE):
            raise CheckFailed(f"{what}: times differ from MJDREF + TIME")
        return
    values, _ = _data_and_mask(got)
    if values.dtype.kind == "M":
        origin = np.datetime64("1998-01-01T00:00:00", "ns")  # MJD 50814
        offset = (values.astype("datetime64[ns]") - origin).astype(np.int64)
        if np.abs(offset - np.round(seconds * 1e9).astype(np.int64)).max() > NS_TOLERANCE:
            raise CheckFailed(f"{what}: datetimes differ from MJDREF + TIME")
        return
    if not np.array_equal(values.astype(np.float64), seconds):
        raise CheckFailed(f"{what}: values differ from the input data")


def _check_column(got: Any, name: str, st: datagen.FacadeInput, what: str) -> None:
    """Column ``name`` must hold the generated values: physical (scaled) numbers; FLAG's
    nulls masked (or, unmasked, the stored TNULL); MAG's NaNs NaN or masked; names as bytes
    or str."""
    if len(got) != st.nrows:
        raise CheckFailed(f"{what}: {len(got)} rows, expected {st.nrows}")
    if name == "TIME":
        _check_time(got, st, what)
        return
    expected = st.columns[name]
    values, mask = _data_and_mask(got)
    if name == "NAME":
        text = values.astype("S10") if values.dtype.kind != "O" else \
            np.array([v.encode() if isinstance(v, str) else v for v in values], dtype="S10")
        if not np.array_equal(text, expected):
            raise CheckFailed(f"{what}: values differ from the input data")
        return
    if name == "FLAG" and mask is not None:
        if not np.array_equal(mask, st.flag_null):
            raise CheckFailed(f"{what}: masked cells differ from the TNULL cells")
        if not np.array_equal(values[~mask], expected[~mask]):
            raise CheckFailed(f"{what}: values differ from the input data")
        return
    if mask is not None and values.dtype.kind == "f":  # masked NaN cells: any value
        values = np.where(mask, np.nan, values)
    if not np.array_equal(values, expected, equal_nan=expected.dtype.kind == "f"):
        raise CheckFailed(f"{what}: values differ from the input data")


def _check_columns(got: Any, names: list[str], colnames: list[str], st: datagen.FacadeInput,
                   lib: str) -> None:
    if list(colnames) != names:
        raise CheckFailed(f"{lib}: columns {list(colnames)}, expected {names}")
    for name in names:
        _check_column(got[name], name, st, f"{lib} column {name}")


# --------------------------------------------------------------------------------------------
# facade_table_read: astropy Table.read, format "fits" against format "fitsbind"
# --------------------------------------------------------------------------------------------


@dataclass
class ReadState:
    table: datagen.FacadeInput
    columns: list[str]  # what the runners read (all ten, or a subset)
    astropy_native: bool = False


def _table_read_astropy(fits, st: ReadState):
    return _astropy_table().read(st.table.path, format="fits", astropy_native=st.astropy_native)


def _table_read_fitsbind(fitsbind, st: ReadState):
    Table = _fitsbind_format()
    return Table.read(st.table.path, format="fitsbind", astropy_native=st.astropy_native)


def _check_astropy_table(st: ReadState, result, lib: str) -> None:
    _check_columns(result, st.columns, result.colnames, st.table, lib)
    is_time = type(result["TIME"]).__name__ == "Time"
    if is_time != st.astropy_native:
        raise CheckFailed(f"{lib}: TIME is a {type(result['TIME']).__name__} with "
                          f"astropy_native={st.astropy_native}")
    if str(result["RA"].unit) != "deg" or result["MAG"].format != "{:8.3f}":
        raise CheckFailed(f"{lib}: RA unit {result['RA'].unit}, MAG format {result['MAG'].format!r}")


def _table_read(nrows: int, native: bool) -> Workload:
    flavour = "astropy_native " if native else ""
    return Workload(
        name=f"facade_table_read {flavour}{_rows(nrows)} rows x {len(ALL_COLUMNS)} cols",
        family="facade_table_read",
        description=f"astropy Table.read(path, format=F, astropy_native={native}) of a {nrows}-row "
        "table with masked, scaled and time columns; F = 'fits' (astropy) or 'fitsbind'",
        prepare=lambda ctx: ReadState(datagen.facade_file(ctx, nrows), ALL_COLUMNS, native),
        runners={"fitsbind": _table_read_fitsbind, "astropy": _table_read_astropy},
        check=_check_astropy_table,
        params={"nrows": nrows, "astropy_native": native},
    )


# --------------------------------------------------------------------------------------------
# facade_read_table: fitsbind.read_table(columns=...) against fitsio.read and Table.read
# --------------------------------------------------------------------------------------------


def _read_table_fitsbind(fitsbind, st: ReadState):
    _require(fitsbind, "read_table")
    return fitsbind.read_table(st.table.path, columns=st.columns)


def _read_table_fitsio(fitsio, st: ReadState):
    return fitsio.read(st.table.path, ext=1, columns=st.columns)


def _read_table_astropy(fits, st: ReadState):
    # Table.read has no column selection: read every column, then keep those asked for
    # (Table[names] copies them into a new Table)
    table = _astropy_table().read(st.table.path, format="fits")
    return table if st.columns == table.colnames else table[st.columns]


def _check_read_table(st: ReadState, result, lib: str) -> None:
    if lib == "fitsio":
        names = list(result.dtype.names)
    else:
        names = list(result.colnames)
    _check_columns(result, st.columns, names, st.table, lib)


def _read_table(nrows: int, columns: list[str]) -> Workload:
    which = "all" if columns == ALL_COLUMNS else ",".join(columns)
    return Workload(
        name=f"facade_read_table {which} of {_rows(nrows)} rows x {len(ALL_COLUMNS)} cols",
        family="facade_read_table",
        description=f"read columns {which} of a {nrows}-row table with masked, scaled and time "
        "columns: fitsbind.read_table(path, columns=...), fitsio.read(path, ext=1, columns=...), "
        "astropy Table.read(path, format='fits')[columns]",
        prepare=lambda ctx: ReadState(datagen.facade_file(ctx, nrows), columns),
        runners={"fitsbind": _read_table_fitsbind, "fitsio": _read_table_fitsio,
                 "astropy": _read_table_astropy},
        check=_check_read_table,
        params={"nrows": nrows, "columns": columns},
    )


# --------------------------------------------------------------------------------------------
# facade_to_pandas: a file to a pandas DataFrame
# --------------------------------------------------------------------------------------------


def _pandas_fitsbind(fitsbind, st: ReadState):
    _require(fitsbind, "read_table")
    return fitsbind.read_table(st.table.path).to_pandas()


def _pandas_astropy(fits, st: ReadState):
    return _astropy_table().read(st.table.path, format="fits").to_pandas()


def _pandas_fitsio(fitsio, st: ReadState):
    import pandas as pd

    return pd.DataFrame(fitsio.read(st.table.path, ext=1))


def _check_pandas(st: ReadState, result, lib: str) -> None:
    _check_columns(result, st.columns, list(result.columns), st.table, lib)


def _to_pandas(nrows: int) -> Workload:
    return Workload(
        name=f"facade_to_pandas {_rows(nrows)} rows x {len(ALL_COLUMNS)} cols",
        family="facade_to_pandas",
        description=f"a {nrows}-row table with masked, scaled and time columns into a pandas "
        "DataFrame: fitsbind.read_table(path).to_pandas(), astropy Table.read(path, "
        "format='fits').to_pandas(), pandas.DataFrame(fitsio.read(path, ext=1))",
        prepare=lambda ctx: ReadState(datagen.facade_file(ctx, nrows), ALL_COLUMNS),
        runners={"fitsbind": _pandas_fitsbind, "astropy": _pandas_astropy, "fitsio": _pandas_fitsio},
        check=_check_pandas,
        params={"nrows": nrows},
    )


# --------------------------------------------------------------------------------------------
# facade_write_table: each library's table of the file, written to a new file
# --------------------------------------------------------------------------------------------


@dataclass
class WriteState:
    table: datagen.FacadeInput
    given: dict[str, Any]  # library -> what it writes: its own in-memory form of the table
    out: dict[str, str] = field(default_factory=dict)  # library -> output path


def _write_fitsbind(fitsbind, st: WriteState):
    _require(fitsbind, "write_table")
    fitsbind.write_table(st.given["fitsbind"], st.out["fitsbind"], overwrite=True)


def _write_astropy(fits, st: WriteState):
    st.given["astropy"].write(st.out["astropy"], format="fits", overwrite=True)


def _write_fitsio(fitsio, st: WriteState):
    fitsio.write(st.out["fitsio"], st.given["fitsio"], clobber=True)


def _check_write(st: WriteState, result, lib: str) -> None:
    """Read each library's file back with astropy as a Table with astropy_native=True, which
    decodes every time encoding of the FITS time standard (fitsbind writes its time column as
    two-double days, TCUNI 'd'; astropy and fitsio keep TIME's seconds) and masks TNULL cells."""
    path = st.out[lib]
    if os.path.getsize(path) % 2880:
        raise CheckFailed(f"{lib} wrote {os.path.getsize(path)} bytes, not a multiple of 2880")
    table = _astropy_table().read(path, format="fits", astropy_native=True)
    # fitsio writes FLAG's -999 as a plain number (no TNULL); _check_column accepts that too
    _check_columns(table, ALL_COLUMNS, table.colnames, st.table, f"{lib} written table")


def _fitsio_rows(table: datagen.FacadeInput) -> np.ndarray:
    """The rows as the structured array fitsio.read should give: fitsio 1.4.2 misreads the
    TSCAL-scaled int16 column of this file (and, in whole-row reads, the columns after it), so
    its write is given the generated values in fitsio's layout (scaled column as float64)."""
    rows = np.empty(table.nrows, [(name, table.columns[name].dtype) for name in ALL_COLUMNS])
    for name in ALL_COLUMNS:
        rows[name] = table.columns[name]
    return rows


def _write_table(nrows: int) -> Workload:
    def prepare(ctx: Context) -> WriteState:
        table = datagen.facade_file(ctx, nrows)
        given: dict[str, Any] = {"astropy": _astropy_table().read(table.path, format="fits"),
                                 "fitsio": _fitsio_rows(table)}
        try:
            import fitsbind

            given["fitsbind"] = fitsbind.read_table(table.path)
        except (ImportError, AttributeError):
            pass  # the fitsbind runner reports the facade missing
        out = {lib: ctx.path(f"facade-written-{lib}.fits") for lib in ("fitsbind", "astropy", "fitsio")}
        return WriteState(table, given, out)

    return Workload(
        name=f"facade_write_table {_rows(nrows)} rows x {len(ALL_COLUMNS)} cols",
        family="facade_write_table",
        description=f"write a {nrows}-row table with masked, scaled and time columns to a new "
        "file (replacing the previous call's): fitsbind.write_table(read_table(...), path), "
        "astropy Table.write(path, format='fits'), fitsio.write(path, rows, clobber=True)",
        prepare=prepare,
        runners={"fitsbind": _write_fitsbind, "astropy": _write_astropy, "fitsio": _write_fitsio},
        check=_check_write,
        params={"nrows": nrows},
    )


# --------------------------------------------------------------------------------------------


def workloads(cfg: Config) -> list[Workload]:
    nrows = 200_000 if cfg.quick else 2_000_000
    return [
        _table_read(nrows, native=False),
        _table_read(nrows, native=True),
        _read_table(nrows, ALL_COLUMNS),
        _read_table(nrows, SUBSET),
        _to_pandas(nrows),
        _write_table(nrows),
    ]
