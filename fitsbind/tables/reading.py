"""fitsbind.read_table: a FITS table HDU as a :class:`~fitsbind.tables.table.Table`, on numpy
alone, through the direct tier (only the columns and rows asked for are read, and of a
tile-compressed table only the tiles that hold them)."""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from fitsbind.direct import FITS, TableHDU
from fitsbind.tables.masking import null_mask
from fitsbind.tables.table import ColumnMeta, Table
from fitsbind.tables.tdisp import tdisp_to_python
from fitsbind.tables.timecols import decode_time, time_columns
from fitsbind.tables.timekeys import is_time_column_keyword

__all__ = ["COLUMN_KEYWORDS", "COMPRESSION_KEYWORD", "STRUCTURAL_KEYWORDS", "is_column_keyword",
           "read_table", "table_meta"]

#: header keywords that lay out a table, never part of its ``meta``
STRUCTURAL_KEYWORDS = ("XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT",
                       "TFIELDS", "THEAP", "CHECKSUM", "DATASUM")
#: roots of the keywords that describe one column (TTYPE3, TUNIT12, ...): the column carries
#: them, not the table's ``meta``
COLUMN_KEYWORDS = ("TTYPE", "TFORM", "TUNIT", "TNULL", "TSCAL", "TZERO", "TDISP", "TBCOL",
                   "TDIM", "TCTYP", "TCUNI", "TCRPX", "TCRVL", "TCDLT", "TRPOS")
_COLUMN_KEYWORD = re.compile("(" + "|".join(COLUMN_KEYWORDS) + ")[0-9]+$")
#: the keywords of the tiled-table and tiled-image conventions: how the HDU is compressed,
#: which reading undoes and writing decides again
COMPRESSION_KEYWORD = re.compile(
    r"Z(TABLE|IMAGE|SIMPLE|TENSION|BITPIX|NAXIS[0-9]*|TILELEN|TILE[0-9]+|PCOUNT|GCOUNT|"
    r"HEAPPTR|THEAP|FORM[0-9]+|CTYP[0-9]+|CMPTYPE|NAME[0-9]+|VAL[0-9]+|QUANTIZ|QUANT[0-9]+|"
    r"DITHER0|EXTEND|BLOCKED|HECKSUM|DATASUM|BLANK|SCALE|ZERO)$")
# the COMMENT cards CFITSIO adds after LONGSTRN, which it writes again with every long string
_LONGSTRN_TEXT = ("This FITS file may contain long string keyword values that are",
                  "continued over multiple keywords.  The HEASARC convention uses the &",
                  "character at the end of each substring which is then continued",
                  "on the next keyword which has the name CONTINUE.")
_TIME_MODES = ("auto", "raw")
# the comment CFITSIO gives every TTYPEn it writes: no description of the column
_DEFAULT_TTYPE_COMMENT = re.compile(r"label for field +\d+$")


@contextlib.contextmanager
def _table_hdu(source: Any, hdu: int | str | None) -> Iterator[TableHDU]:
    """The table HDU to read from ``source`` (a path, an open :class:`~fitsbind.FITS` or one
    of its table HDUs), the file open while the block runs."""
    if isinstance(source, TableHDU):
        if hdu is not None:
            raise ValueError("hdu= goes with a file, not with a table HDU")
        yield source
    elif isinstance(source, FITS):
        yield _choose(source, hdu)
    elif isinstance(source, (str, bytes, os.PathLike)):
        with FITS(source, "r") as fits:
            yield _choose(fits, hdu)
    else:
        raise TypeError(f"read_table reads a path, a fitsbind.FITS or a table HDU of one, not "
                        f"{type(source).__name__}")


def _choose(fits: FITS, hdu: int | str | None) -> TableHDU:
    """HDU ``hdu`` (index or EXTNAME) of ``fits``, which must be a table; the first table
    when None, with a warning when there are several."""
    if hdu is not None:
        chosen = fits[hdu]
        if not isinstance(chosen, TableHDU):
            raise ValueError(f"{fits.filename}: HDU {hdu!r} is not a table "
                             f"({type(chosen).__name__})")
        return chosen
    tables = [item for item in fits if isinstance(item, TableHDU)]
    if not tables:
        raise ValueError(f"{fits.filename}: no table HDU in the file ({len(fits)} HDUs)")
    if len(tables) > 1:
        warnings.warn(f"{fits.filename}: {len(tables)} table HDUs "
                      f"({', '.join(str(t.index) for t in tables)}) and hdu= not given; "
                      f"reading the first, HDU {tables[0].index}", UserWarning, stacklevel=4)
    return tables[0]


def is_column_keyword(keyword: str) -> bool:
    """Whether ``keyword`` describes one column: a root of :data:`COLUMN_KEYWORDS` and a
    column number ('TUNIT3'; not 'TUNIT' or 'TUNIT3X')."""
    return _COLUMN_KEYWORD.match(keyword) is not None


def table_meta(cards: Sequence[Any]) -> dict[str, Any]:
    """A table's ``meta`` from its header ``cards`` (objects with ``keyword`` and ``value``):
    every keyword but the structural, per-column and compression ones (and CFITSIO's LONGSTRN
    notice), in order; COMMENT and HISTORY as lists of their texts, a keyword given more than
    once as the list of its values."""
    values: dict[str, list[Any]] = {}
    for card in cards:
        key = card.keyword
        if not key or key in STRUCTURAL_KEYWORDS or key == "LONGSTRN" or \
                is_column_keyword(key) or COMPRESSION_KEYWORD.match(key) or \
                (key == "COMMENT" and str(card.value).strip() in _LONGSTRN_TEXT):
            continue
        values.setdefault(key, []).append(card.value)
    return {key: found if key in ("COMMENT", "HISTORY") or len(found) > 1 else found[0]
            for key, found in values.items()}


def _info(column: Any, description: str | None) -> ColumnMeta:
    """A column's ColumnMeta from its direct-tier description."""
    try:
        display = None if column.disp is None else tdisp_to_python(column.disp)
    except ValueError:
        display = None   # a display hint that is not TDISP: the values read the same
    scaled = column.scaled
    if description is not None and _DEFAULT_TTYPE_COMMENT.match(description):
        description = None
    return ColumnMeta(unit=column.unit, format=display, description=description or None,
                      tform=column.tform, null=column.null if isinstance(column.null, int) else None,
                      scale=column.scale if scaled else None,
                      zero=column.zero if scaled else None)


def _masked(values: np.ndarray, mask: np.ndarray | None, column: Any, empty: bool) -> Any:
    """``values``, or a MaskedArray when some cell is null or the column declares TNULLn
    (so the null survives a write); empty strings count as null with ``empty``."""
    if empty and values.dtype.kind in "SU":
        strings = null_mask(values, None, mask_invalid=True).mask
        mask = strings if mask is None else (mask | strings)
    declared = isinstance(column.null, int) and column.code in "BIJK"
    if mask is None or mask is np.ma.nomask or not (declared or mask.any()):
        return values
    return np.ma.MaskedArray(values, mask=mask, copy=False)


def read_table(source: Any, hdu: int | str | None = None, *,
               columns: Sequence[str | int] | str | None = None, rows: Any = None,
               where: str | None = None, mask: bool = True, mask_empty: bool = False,
               time: str = "auto") -> Table:
    """Read a FITS table as a :class:`fitsbind.Table`.

    ``source``: a path, an open :class:`fitsbind.FITS`, or a table HDU of one. ``hdu``: index
    or EXTNAME; the first table HDU when None (with a warning if there are several).
    ``columns``: names or indices to read (default all). ``rows``: a slice, integer indices
    or a boolean mask. ``where``: a CFITSIO row filter (``"MAG < 20 && FLAG == 0"``).

    Values as the direct tier reads them: TSCALn/TZEROn applied (float64; the unsigned and
    int8 conventions as uint16/32/64 and int8), strings as bytes without trailing blanks,
    variable-length cells as object arrays of arrays. ``mask``: cells equal to TNULLn, NaN
    floats and undefined logicals become masked (``numpy.ma.MaskedArray`` columns, for the
    columns that have such a cell or declare TNULLn); ``mask_empty``: empty strings too.
    ``time="auto"``: columns the FITS time standard makes time coordinates become
    :class:`~fitsbind.TimeColumn` (``"raw"`` keeps the stored numbers and strings); a column
    whose times cannot be read stays raw, with a warning saying why.
    """
    if time not in _TIME_MODES:
        raise ValueError(f"time must be one of {_TIME_MODES}, not {time!r}")
    with _table_hdu(source, hdu) as table_hdu:
        data = table_hdu.read_columns(columns, rows, where=where, mask_null=mask)
        described = table_hdu.columns if columns is None else \
            [table_hdu.column(k) for k in ([columns] if isinstance(columns, (str, int))
                                           else columns)]
        header_cards = table_hdu.header.cards
    comments = {card.keyword: card.comment for card in header_cards}
    table = Table(meta=table_meta(header_cards))
    for (name, cells), column in zip(data.items(), described):
        # the direct tier's field names: TTYPEn, or col<n> for unnamed and repeated ones
        table[name] = _masked(np.ma.getdata(cells), np.ma.getmask(cells) if mask else None,
                              column, mask_empty)
        table.info[name] = _info(column, comments.get(f"TTYPE{column.index + 1}"))
    if time == "auto":
        _read_times(table, header_cards, described,
                    f"{table_hdu.filename}, HDU {table_hdu.index}")
    return table


def _read_times(table: Table, cards: Sequence[Any], described: Sequence[Any],
                where: str) -> None:
    """Replace the time columns of ``table`` by TimeColumns (numbering by the file's
    columns: TCTYPn describes column n of the HDU, whichever were read); warnings name
    ``where`` (file and HDU)."""
    names = table.colnames
    by_number = {column.index + 1: name for column, name in zip(described, names)}
    numbers = range(1, max(by_number, default=0) + 1)
    try:
        frame, found = time_columns([(c.keyword, c.value) for c in cards],
                                    [by_number.get(n, "") for n in numbers],
                                    [table.info[by_number[n]].unit if n in by_number else None
                                     for n in numbers])
    except ValueError as exc:
        declared = any(is_time_column_keyword(c.keyword) for c in cards)
        if declared or any(name.upper() == "TIME" for name in names):
            warnings.warn(f"{where}: time columns are read as numbers: {exc}", UserWarning,
                          stacklevel=3)
        return
    for name, how in found.items():
        if not name:
            continue
        column = table[name]
        try:
            table[name] = decode_time(np.ma.getdata(column), how, frame,
                                      np.ma.getmask(column) if np.ma.isMaskedArray(column)
                                      else None)
        except ValueError as exc:
            warnings.warn(f"{where}: column {name!r} is read as it is stored, not as times: "
                          f"{exc}", UserWarning, stacklevel=3)
            continue
        table.info[name].unit = None   # the unit was the time's; a TimeColumn carries it

