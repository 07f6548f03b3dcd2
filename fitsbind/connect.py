"""astropy ``Table`` I/O for FITS through fitsbind: ``Table.read(path, format="fitsbind")``.

:func:`read_table_fits` and :func:`write_table_fits` take astropy's arguments and give its
results: NaN, empty strings and TNULLn become masks; TUNITn units; TDISPn display formats;
header cards the table's ``meta`` (COMMENT and HISTORY as lists); and columns FITS cannot hold
natively (Quantity, SkyCoord, Time with its own attributes, masks serialized as data) travel as
plain columns described by the YAML block astropy writes between COMMENT cards
``--BEGIN-ASTROPY-SERIALIZED-COLUMNS--`` and ``--END-ASTROPY-SERIALIZED-COLUMNS--``, so files
round-trip between astropy and fitsbind in both directions.

Importing this module registers the reader and writer with astropy's I/O registry as format
``fitsbind``. astropy's own ``fits`` format is left alone unless :func:`register` is called
with ``override=True`` (for code that calls ``Table.read(path)`` without a format). It imports
astropy; ``import fitsbind`` never imports it.
"""

from __future__ import annotations

import os
import re
import warnings
from copy import deepcopy
from typing import Any

import numpy as np
from astropy import units
from astropy.io import registry
from astropy.table import Column, MaskedColumn, Table, meta, serialize
from astropy.time import Time
from astropy.utils.data_info import serialize_context_as
from astropy.utils.exceptions import AstropyDeprecationWarning
from astropy.utils.misc import NOT_OVERWRITING_MSG

from fitsbind.column import KEYWORD_NAMES
from fitsbind.convenience import append as fits_append
from fitsbind.convenience import table_to_hdu
from fitsbind.hdu.file import _SIGNATURE as PRIMARY_CARD_START
from fitsbind.hdu.groups import GroupsHDU
from fitsbind.hdu.hdulist import HDUList, fitsopen
from fitsbind.hdu.table import BinTableHDU, TableHDU
from fitsbind.header import Header
from fitsbind.tables.masking import null_mask
from fitsbind.tables.tdisp import tdisp_to_python
from fitsbind.verify import FITSUserWarning

__all__ = ["REMOVE_KEYWORDS", "is_column_keyword", "is_fits", "read_table_fits", "register",
           "write_table_fits"]

#: structural keywords of a table header, which never become ``meta``
REMOVE_KEYWORDS = ["XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT",
                   "TFIELDS", "THEAP"]

_COLUMN_KEYWORD = re.compile("(" + "|".join(KEYWORD_NAMES) + ")[0-9]+")
# the first 30 bytes of every FITS file whose primary header conforms to the standard
_SIGNATURE = PRIMARY_CARD_START + b"T"
_EXTENSIONS = (".fits", ".fits.gz", ".fit", ".fit.gz", ".fts", ".fts.gz")
_TABLE_HDUS = (TableHDU, BinTableHDU, GroupsHDU)
_BEGIN_YAML = "--BEGIN-ASTROPY-SERIALIZED-COLUMNS--"
_END_YAML = "--END-ASTROPY-SERIALIZED-COLUMNS--"
# YAML lines are cut into COMMENT values of this many characters; a cut piece ends with '\'
_YAML_WIDTH = 70
# table meta keys that only carry serialization, written as YAML rather than as cards
_SERIALIZATION_KEYS = ("__serialized_columns__", "__table_indices__")


def is_column_keyword(keyword: str) -> bool:
    """Whether ``keyword`` describes a column (TTYPEn, TFORMn, ..., TRPOSn)."""
    return _COLUMN_KEYWORD.match(keyword) is not None


def is_fits(origin: str, filepath: str | None, fileobj: Any, *args: Any, **kwargs: Any) -> bool:
    """astropy's format identifier: an open file starting with the FITS signature, a path with
    a FITS extension (also gzipped), or a fitsbind HDUList / table HDU."""
    if fileobj is not None:
        start = fileobj.tell()
        signature = fileobj.read(len(_SIGNATURE))
        fileobj.seek(start)
        return signature == _SIGNATURE
    if filepath is not None:
        return str(filepath).lower().endswith(_EXTENSIONS)
    return bool(args) and isinstance(args[0], (HDUList, *_TABLE_HDUS))


# -- reading -------------------------------------------------------------------------------------

def _table_indices(hdulist: HDUList) -> list[int]:
    return [i for i, item in enumerate(hdulist) if isinstance(item, _TABLE_HDUS)]


def _no_table(message: str, hdulist: HDUList, tables: list[int]) -> ValueError:
    """A ValueError with astropy's ``message`` (code compares it exactly), the file and the
    HDUs that are tables attached as a note, which tracebacks show."""
    error = ValueError(message)
    name = hdulist.filename()
    error.add_note(f"{'file ' + str(name) if name else 'the HDU list'} has {len(hdulist)} HDUs; "
                   f"tables: {tables or 'none'}")
    return error


def _choose_table(hdulist: HDUList, hdu: int | str | None) -> Any:
    """The table HDU of ``hdulist`` to read: ``hdu`` (index or EXTNAME) when given, else the
    first table, with a warning when there are several. With a single table, a ``hdu`` that is
    not it falls back to it with a deprecation warning (astropy's behaviour, to become an
    error); with several, it is a ValueError."""
    tables = _table_indices(hdulist)
    if not tables:
        raise _no_table("No table found", hdulist, tables)
    first = tables[0]
    if len(tables) > 1:
        if hdu is None:
            warnings.warn(f"hdu= was not specified but multiple tables are present, reading in "
                          f"first available table (hdu={first})", FITSUserWarning, stacklevel=4)
            return hdulist[first]
        try:
            index = hdulist.index_of(hdu)
        except IndexError:
            raise _no_table(f"No table found in hdu={hdu}", hdulist, tables) from None
        if index not in tables:
            raise _no_table(f"No table found in hdu={index}", hdulist, tables)
        return hdulist[index]
    if hdu is not None:
        problem = _single_table_mismatch(hdulist, hdu, first)
        if problem is not None:
            warnings.warn(f"{problem}, reading in first available table (hdu={first}) instead. "
                          "This will result in an error in future versions!",
                          AstropyDeprecationWarning, stacklevel=4)
    return hdulist[first]


def _single_table_mismatch(hdulist: HDUList, hdu: int | str, table: int) -> str | None:
    """Why ``hdu`` does not name the only table, HDU ``table``; None when it does."""
    try:
        index = hdulist.index_of(hdu)
    except (KeyError, IndexError):
        return f"Specified hdu={hdu} not found"
    if index != table:
        return f"No table found in specified hdu={hdu}"
    return None


def _element_kind(dtype: np.dtype) -> str:
    return (dtype.subdtype[0] if dtype.subdtype else dtype).kind


def _read_column(fits_column: Any, values: np.ndarray, mask_invalid: bool, strip_spaces: bool,
                 unit_parse_strict: str) -> Column:
    """An astropy column of ``values`` (the cells of ``fits_column``, scaled): a MaskedColumn
    where a null convention applies, with TUNITn as unit and TDISPn as format."""
    if strip_spaces and _element_kind(values.dtype) in "SU":
        values = np.char.rstrip(values)
    null = null_mask(values, fits_column.null, mask_invalid)
    name = fits_column.name
    if null.masked or np.any(null.mask):
        column = MaskedColumn(values, name=name, mask=null.mask, fill_value=null.fill_value,
                              copy=False)
    else:
        column = Column(values, name=name, copy=False)
    if fits_column.unit is not None:
        column.unit = units.Unit(fits_column.unit, format="fits", parse_strict=unit_parse_strict)
    if fits_column.disp is not None:
        try:
            column.format = tdisp_to_python(fits_column.disp)
        except ValueError as exc:
            # a display hint the table is readable without
            warnings.warn(f"column {name!r}: TDISP = {fits_column.disp!r} ignored: {exc}",
                          FITSUserWarning, stacklevel=4)
    return column


def _meta_from_header(header: Header, table: Table) -> None:
    """Header cards into ``table.meta``: COMMENT cards as the list ``meta['comments']``,
    HISTORY as ``meta['HISTORY']``, a repeated keyword as the list of its values; column and
    structural keywords are left out (the columns carry them)."""
    for card in header.cards:
        key, value = card.keyword, card.value
        if key in ("COMMENT", "HISTORY"):
            table.meta.setdefault("comments" if key == "COMMENT" else key, []).append(value)
        elif key in table.meta:
            present = table.meta[key]
            table.meta[key] = [*present, value] if isinstance(present, list) else [present, value]
        elif not is_column_keyword(key) and key not in REMOVE_KEYWORDS:
            table.meta[key] = value


def _yaml_lines(comments: list[str]) -> tuple[list[str], int, int] | None:
    """The YAML lines held in COMMENT values between astropy's markers, with the markers'
    positions; None when there is no such block. A value of 71 characters ends with the '\\'
    that says the line goes on in the next value."""
    try:
        begin = comments.index(_BEGIN_YAML)
        end = comments.index(_END_YAML)
    except ValueError:
        return None
    lines: list[str] = []
    continued = False
    for piece in comments[begin + 1:end]:
        if continued:
            lines[-1] += piece[:_YAML_WIDTH]
        else:
            lines.append(piece[:_YAML_WIDTH])
        continued = len(piece) == _YAML_WIDTH + 1
    return lines, begin, end


def _decode_mixins(table: Table) -> Table:
    """``table`` with the columns its YAML block describes rebuilt as mixins (Quantity, Time,
    SkyCoord, masked columns, ...) and their description and meta restored; the block is
    removed from ``meta['comments']``."""
    comments = table.meta.get("comments")
    found = _yaml_lines(comments) if isinstance(comments, list) else None
    if found is None:
        return table
    lines, begin, end = found
    del comments[begin:end + 1]
    if not comments:
        del table.meta["comments"]
    described = meta.get_header_from_yaml(lines)
    table.meta.update(described["meta"])
    for attributes in described["datatype"]:
        info = table[attributes["name"]].info
        for attr in ("description", "meta"):
            if attr in attributes:
                setattr(info, attr, attributes[attr])
    return serialize._construct_mixins_from_columns(table)


def _read_hdu(table_hdu: Any, astropy_native: bool, unit_parse_strict: str, mask_invalid: bool,
              strip_spaces: bool) -> Table:
    data = table_hdu.data
    if data is None:
        # a random-groups HDU whose NAXIS1 is 0 holds no array to take the columns from
        raise ValueError(f"{type(table_hdu).__name__} has no data array: no table to read")
    columns = [_read_column(col, data[col.name], mask_invalid, strip_spaces, unit_parse_strict)
               for col in table_hdu.columns]
    table = Table(columns, copy=False)
    header = table_hdu.header
    if astropy_native:
        from fitsbind.fitstime import fits_to_time

        header = fits_to_time(header, table)
    _meta_from_header(header, table)
    return _decode_mixins(table)


def read_table_fits(input: Any, hdu: int | str | None = None, astropy_native: bool = False,
                    memmap: bool = False, character_as_bytes: bool = True,
                    unit_parse_strict: str = "warn", mask_invalid: bool = True,
                    strip_spaces: bool = True, use_fsspec: bool | None = None,
                    fsspec_kwargs: dict | None = None) -> Table:
    """An astropy Table of a FITS table HDU.

    ``input``: a path, a file object, a fitsbind HDUList or a table HDU. ``hdu``: the HDU index
    or EXTNAME; the first table when None. ``astropy_native``: time columns (FITS time
    standard) become ``Time``. ``memmap``: column data are views of the file's memory map (so
    no masking and no stripping, which would read every cell). ``character_as_bytes``: string
    columns stay bytes (``S``); False makes them ``str`` (``U``). ``unit_parse_strict``: what
    an unparseable TUNITn does ('warn', 'raise', 'silent', as ``astropy.units.Unit``).
    ``mask_invalid``: mask NaN and empty strings (TNULLn always masks). ``strip_spaces``: strip
    trailing blanks of string cells."""
    if isinstance(input, HDUList):
        return _read_hdu(_choose_table(input, hdu), astropy_native, unit_parse_strict,
                         mask_invalid, strip_spaces)
    if isinstance(input, _TABLE_HDUS):
        return _read_hdu(input, astropy_native, unit_parse_strict, mask_invalid, strip_spaces)
    if memmap:
        mask_invalid = strip_spaces = False
    with fitsopen(input, character_as_bytes=character_as_bytes, memmap=memmap,
                  use_fsspec=use_fsspec, fsspec_kwargs=fsspec_kwargs) as hdulist:
        return _read_hdu(_choose_table(hdulist, hdu), astropy_native, unit_parse_strict,
                         mask_invalid, strip_spaces)


# -- writing -------------------------------------------------------------------------------------

def _loses_info(table: Table) -> bool:
    """Whether FITS columns would drop something of ``table`` that only YAML keeps: column
    descriptions and meta, or table indices."""
    return "__table_indices__" in table.meta or any(
        getattr(col.info, attr, None) not in (None, {})
        for col in table.itercols() for attr in ("description", "meta"))


def _yaml_comments(table: Table) -> list[str]:
    """The COMMENT values describing ``table``'s serialized columns: the YAML of its
    serialization keys between astropy's markers, lines longer than a card cut in pieces."""
    kept = table.meta
    table.meta = {key: kept[key] for key in _SERIALIZATION_KEYS if key in kept}
    table.meta.setdefault("__serialized_columns__", {})
    try:
        lines = meta.get_yaml_from_table(table)
    finally:
        table.meta = kept
    comments = [_BEGIN_YAML]
    for line in lines:
        pieces = [line[i:i + _YAML_WIDTH] for i in range(0, len(line), _YAML_WIDTH)] or [""]
        comments.extend(piece + "\\" for piece in pieces[:-1])
        comments.append(pieces[-1])
    comments.append(_END_YAML)
    return comments


def _encode_mixins(table: Table) -> Table:
    """``table`` as plain columns FITS stores (Time columns are left to the time convention)
    with the YAML describing what was encoded appended to ``meta['comments']``; ``table``
    itself when nothing needs describing. ``table``'s meta is never modified."""
    with serialize_context_as("fits"):
        encoded = serialize.represent_mixins_as_columns(table, exclude_classes=(Time,))
    if encoded is table:
        if not _loses_info(table):
            return table
        encoded = Table(table.columns, meta=deepcopy(table.meta), copy=False)
    comments = _yaml_comments(encoded)
    for key in _SERIALIZATION_KEYS:
        encoded.meta.pop(key, None)
    encoded.meta["comments"] = [*encoded.meta.get("comments", []), *comments]
    return encoded


def write_table_fits(input: Table, output: Any, overwrite: bool = False, append: bool = False,
                     name: str | None = None) -> None:
    """Write astropy Table ``input`` as a binary table HDU: to a new file ``output`` (path or
    file object; an existing path is an OSError unless ``overwrite`` or ``append``), or
    appended to it with ``append``. ``name`` is the EXTNAME."""
    hdu = table_to_hdu(_encode_mixins(input), character_as_bytes=True, name=name)
    if isinstance(output, (str, os.PathLike)) and os.path.exists(output):
        if overwrite:
            os.remove(output)
        elif not append:
            raise OSError(NOT_OVERWRITING_MSG.format(output))
    if append:
        # the existing file is not read and verified: only appended to
        fits_append(output, hdu.data, hdu.header, verify=False)
    else:
        hdu.writeto(output)


# -- the registry --------------------------------------------------------------------------------

def register(override: bool = False) -> None:
    """Register the reader and writer with astropy's I/O registry as format ``fitsbind``; with
    ``override``, also make them (and :func:`is_fits`) astropy's ``fits`` format, so
    ``Table.read(path)`` with no format reads through fitsbind.

    The ``fitsbind`` format has no identifier: a second format claiming every FITS file would
    make astropy refuse ``Table.read(path)`` without a format as ambiguous."""
    registry.register_reader("fitsbind", Table, read_table_fits, force=True)
    registry.register_writer("fitsbind", Table, write_table_fits, force=True)
    if override:
        registry.register_reader("fits", Table, read_table_fits, force=True)
        registry.register_writer("fits", Table, write_table_fits, force=True)
        registry.register_identifier("fits", Table, is_fits, force=True)


register()
