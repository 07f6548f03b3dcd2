"""Binary table workloads: whole-table read, one column of a large table, table write.

The table (``datagen.TABLE_COLUMNS``) has ten columns of mixed types: int16, int32, int64,
float32, float64, a 3-element float32 vector, a 12-character string, a logical, uint16 stored
with TZERO = 32768, and uint8. Each runner does what a user of that library would write, opening
and closing the file inside the timed call; results are checked against the generated rows once
per library, outside the timing.

fitsbind's table API (``TableHDU.read``, ``TableHDU.read_column``, ``FITS.write_table``) may be
missing from a build; its runners then raise ``Unavailable`` before touching the file and the
harness reports fitsbind as unavailable for that workload.
"""

from __future__ import annotations

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
    in_memory,
)

# The column the table_column workload reads: float64, in the middle of a 54-byte row.
COLUMN = "F64"


def _rows(n: int) -> str:
    """2000000 -> "2M", 200000 -> "200k"."""
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % div == 0:
            return f"{n // div}{suffix}"
    return str(n)


def _require(obj: Any, method: str) -> None:
    """Raise ``Unavailable`` unless ``obj`` has the callable ``method`` (fitsbind runners)."""
    if not callable(getattr(obj, method, None)):
        owner = obj.__name__ if isinstance(obj, type) else type(obj).__name__
        raise Unavailable(f"{owner}.{method} is not implemented in this fitsbind build")


# --------------------------------------------------------------------------------------------
# Result checks
# --------------------------------------------------------------------------------------------


def _check_column(got: Any, table: datagen.TableInput, name: str, what: str) -> None:
    """``got`` must be an in-memory array holding column ``name`` of ``table``.

    Numbers and booleans: same kind and item size of dtype (any byte order), same shape (the
    vector column as ``(nrows, 3)``), equal values. Strings: bytes or str of the column's width,
    equal once trailing blanks (spaces, NULs) are removed.
    """
    expected = table.data[name]
    if expected.dtype.kind != "S":
        check_array(got, expected, what)
        return
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "SU":
        raise CheckFailed(f"{what}: expected an array of strings, got {type(got).__name__} "
                          f"of {getattr(got, 'dtype', '?')}")
    if not in_memory(got):
        raise CheckFailed(f"{what}: result is backed by a memory map, not read into memory")
    if got.shape != expected.shape:
        raise CheckFailed(f"{what}: shape {got.shape}, expected {expected.shape}")
    width = got.dtype.itemsize // (4 if got.dtype.kind == "U" else 1)
    if width != expected.dtype.itemsize:
        raise CheckFailed(f"{what}: strings of {width} characters, expected {expected.dtype.itemsize}")
    text = got if got.dtype.kind == "U" else got.astype(f"U{width}")
    if not np.array_equal(np.char.rstrip(text), table.text[name]):
        raise CheckFailed(f"{what}: values differ from the input data")


def _check_table(got: Any, table: datagen.TableInput, what: str) -> None:
    """``got`` must be an in-memory structured array (astropy's FITS_rec is one) with every
    column of ``table`` (names matched case-insensitively) holding the generated rows."""
    if not isinstance(got, np.ndarray) or got.dtype.names is None:
        raise CheckFailed(f"{what}: expected a structured numpy array, got {type(got).__name__}")
    if not in_memory(got):
        raise CheckFailed(f"{what}: result is backed by a memory map, not read into memory")
    if got.shape != table.data.shape:
        raise CheckFailed(f"{what}: shape {got.shape}, expected {table.data.shape}")
    names = {n.upper(): n for n in got.dtype.names}
    wanted = list(table.data.dtype.names)
    if sorted(names) != sorted(n.upper() for n in wanted):
        raise CheckFailed(f"{what}: columns {list(got.dtype.names)}, expected {wanted}")
    for name in wanted:
        _check_column(got[names[name.upper()]], table, name, f"{what} column {name}")


# --------------------------------------------------------------------------------------------
# table_read: the whole table into memory
# --------------------------------------------------------------------------------------------


def _read_fitsbind(fitsbind, st: datagen.TableInput):
    with fitsbind.FITS(st.path, "r") as f:
        hdu = f[1]
        _require(hdu, "read")
        return hdu.read()


def _read_astropy(fits, st: datagen.TableInput):
    # memmap=False: .data reads every row into memory inside the block (with the default
    # memmap=True it would only map the file). astropy keeps the rows in the file's big-endian
    # layout and converts the logical, TZERO-scaled and string columns only when a column is
    # first accessed, so every column is accessed here: the other libraries hand back
    # converted columns too. (Without this astropy's time is one raw read of the file.)
    with fits.open(st.path, memmap=False) as hdul:
        data = hdul[1].data
        for name in data.names:
            data[name]
        return data


def _read_fitsio(fitsio, st: datagen.TableInput):
    # fitsio returns big-endian numeric fields (it does not byte-swap tables) and str columns
    return fitsio.read(st.path, ext=1)


def _read_rustfits(rustfits, st: datagen.TableInput):
    with rustfits.FITS(st.path, "r") as f:
        return f[1].read()


def _check_read(st: datagen.TableInput, result, lib: str) -> None:
    _check_table(result, st, f"{lib} table")


def _table_read(nrows: int) -> Workload:
    ncols = len(datagen.TABLE_COLUMNS)
    return Workload(
        name=f"table_read {_rows(nrows)} rows x {ncols} cols",
        family="table_read",
        description=f"open a file, read its whole {nrows}-row, {ncols}-column binary table "
        "(mixed types) into an in-memory structured array, close",
        prepare=lambda ctx: datagen.table_file(ctx, nrows),
        runners={
            "fitsbind": _read_fitsbind,
            "astropy": _read_astropy,
            "fitsio": _read_fitsio,
            "rustfits": _read_rustfits,
        },
        check=_check_read,
        params={"nrows": nrows, "columns": [[c[0], c[3]] for c in datagen.TABLE_COLUMNS]},
    )


# --------------------------------------------------------------------------------------------
# table_column: one float64 column of the table into a plain array
# --------------------------------------------------------------------------------------------


@dataclass
class ColumnState:
    table: datagen.TableInput
    column: str


def _column_fitsbind(fitsbind, st: ColumnState):
    with fitsbind.FITS(st.table.path, "r") as f:
        hdu = f[1]
        _require(hdu, "read_column")
        return hdu.read_column(st.column)


def _column_astropy(fits, st: ColumnState):
    # Default memmap=True: the field is a strided view of the mapped file and np.array copies it
    # out into memory (big-endian, like the file). memmap=False (read all rows, take the field)
    # and .astype(native) on the mapped field took the same time within noise in our
    # measurements; fits.getdata(...)[col] is a little faster but returns a view of the memory
    # map, so nothing would have been read by the time it returns.
    with fits.open(st.table.path) as hdul:
        return np.array(hdul[1].data[st.column])


def _column_fitsio(fitsio, st: ColumnState):
    # same time as fitsio.read(path, ext=1, columns=[col]), which returns a one-field
    # structured array instead of a plain one
    with fitsio.FITS(st.table.path, "r") as f:
        return f[1].read_column(st.column)


def _column_rustfits(rustfits, st: ColumnState):
    with rustfits.FITS(st.table.path, "r") as f:
        return f[1].read_column(st.column)


def _check_column_result(st: ColumnState, result, lib: str) -> None:
    _check_column(result, st.table, st.column, f"{lib} column {st.column}")


def _table_column(nrows: int, column: str) -> Workload:
    dtype = datagen.table_dtype()[column]

    def prepare(ctx: Context) -> ColumnState:
        return ColumnState(datagen.table_file(ctx, nrows), column)

    return Workload(
        name=f"table_column {dtype.name} of {_rows(nrows)} rows",
        family="table_column",
        description=f"open a file, read the {dtype.name} column {column} of its {nrows}-row, "
        f"{len(datagen.TABLE_COLUMNS)}-column binary table into an in-memory array, close",
        prepare=prepare,
        runners={
            "fitsbind": _column_fitsbind,
            "astropy": _column_astropy,
            "fitsio": _column_fitsio,
            "rustfits": _column_rustfits,
        },
        check=_check_column_result,
        params={"nrows": nrows, "column": column, "dtype": dtype.name},
    )


# --------------------------------------------------------------------------------------------
# table_write: a structured array to a new file, replacing the previous repetition's file
# --------------------------------------------------------------------------------------------


@dataclass
class WriteState:
    table: datagen.TableInput  # its data (native byte order) is what every library writes
    digest: str  # of the data's bytes, to catch a library that modifies the caller's array
    out: dict[str, str] = field(default_factory=dict)  # library -> output path


def _write_fitsbind(fitsbind, st: WriteState):
    _require(fitsbind.FITS, "write_table")
    with fitsbind.FITS(st.out["fitsbind"], "w+") as f:
        f.write_table(st.table.data, extname=datagen.TABLE_EXTNAME)


def _write_astropy(fits, st: WriteState):
    # BinTableHDU.from_columns(arr) took the same time
    fits.BinTableHDU(st.table.data, name=datagen.TABLE_EXTNAME).writeto(st.out["astropy"], overwrite=True)


def _write_fitsio(fitsio, st: WriteState):
    fitsio.write(st.out["fitsio"], st.table.data, extname=datagen.TABLE_EXTNAME, clobber=True)


def _write_rustfits(rustfits, st: WriteState):
    with rustfits.FITS(st.out["rustfits"], "w+") as f:
        f.write_table(st.table.data, extname=datagen.TABLE_EXTNAME)


def _check_write(st: WriteState, result, lib: str) -> None:
    from astropy.io import fits  # the trusted reader of what each library wrote

    path = st.out[lib]
    check_written(path, lib, st.table.data, st.digest)
    with fits.open(path, memmap=False) as hdul:
        if len(hdul) != 2:
            raise CheckFailed(f"{lib} wrote {len(hdul)} HDUs, expected 2 (primary, table)")
        hdu = hdul[1]
        if not isinstance(hdu, fits.BinTableHDU):
            raise CheckFailed(f"{lib} wrote a {type(hdu).__name__} as HDU 1, expected a BinTableHDU")
        if hdu.name != datagen.TABLE_EXTNAME:
            raise CheckFailed(f"{lib} wrote EXTNAME {hdu.name!r}, expected {datagen.TABLE_EXTNAME!r}")
        # astropy reads uint16 back only from 'I' with TZERO = 32768, booleans only from 'L'
        _check_table(hdu.data, st.table, f"{lib} written table")


def _table_write(nrows: int) -> Workload:
    ncols = len(datagen.TABLE_COLUMNS)

    def prepare(ctx: Context) -> WriteState:
        table = datagen.table_file(ctx, nrows)
        out = {lib: ctx.path(f"written-table-{lib}.fits") for lib in LIBRARIES}
        return WriteState(table=table, digest=digest(table.data), out=out)

    return Workload(
        name=f"table_write {_rows(nrows)} rows x {ncols} cols",
        family="table_write",
        description=f"write a {nrows}-row, {ncols}-column structured array (mixed types, native "
        "byte order) as a binary table in a new file, replacing the file of the previous repetition",
        prepare=prepare,
        runners={
            "fitsbind": _write_fitsbind,
            "astropy": _write_astropy,
            "fitsio": _write_fitsio,
            "rustfits": _write_rustfits,
        },
        check=_check_write,
        params={"nrows": nrows, "columns": [[c[0], c[3]] for c in datagen.TABLE_COLUMNS]},
    )


# --------------------------------------------------------------------------------------------


def workloads(cfg: Config) -> list[Workload]:
    nrows = 200_000 if cfg.quick else 2_000_000
    return [
        _table_read(nrows),
        _table_column(nrows, COLUMN),
        _table_write(nrows),
    ]
