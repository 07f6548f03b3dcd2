"""fitsbind.Table to and from pandas, pyarrow and astropy tables. Each function imports its
library when called: none of them is a dependency of fitsbind."""

from __future__ import annotations

import importlib
import json
from typing import Any

import numpy as np

from fitsbind.tables.table import ColumnMeta, Table
from fitsbind.tables.timecols import TimeColumn

__all__ = ["from_arrow", "from_astropy", "from_pandas", "to_arrow", "to_astropy", "to_pandas"]

# the keys of a pyarrow field's metadata that carry a column's description, and the
# FITS keywords of how it is stored, each with the type its text is read back as
_FIELD_KEYS = {"unit": ("unit", str), "format": ("format", str),
               "description": ("description", str), "TFORM": ("tform", str),
               "TNULL": ("null", int), "TSCAL": ("scale", float), "TZERO": ("zero", float)}
_SCHEMA_META = b"fitsbind.meta"


def _text(values: np.ndarray) -> np.ndarray:
    """Byte strings as str (FITS text is ASCII); other arrays unchanged."""
    return np.char.decode(values, "ascii") if values.dtype.kind == "S" else values


def _arrow_text(values: np.ndarray, mask: np.ndarray | None, pa: Any) -> Any:
    """A pyarrow string array of the 1-D byte strings ``values`` (nulls where ``mask``),
    built from their bytes: no Python object per cell. FITS text is ASCII; other bytes are
    taken as Latin-1, which keeps every byte."""
    width = values.dtype.itemsize
    lengths = np.strings.str_len(values)    # trailing NULs are padding, not text
    chars = np.ascontiguousarray(values).view(np.uint8).reshape(-1, width)[
        np.arange(width) < lengths[:, None]]
    if chars.size and chars.max() > 127:
        return pa.array(np.char.decode(values, "latin-1"), mask=mask)
    offsets = np.zeros(len(values) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    validity = None
    nulls = 0
    if mask is not None and mask.any():
        validity = pa.py_buffer(np.packbits(~mask, bitorder="little"))
        nulls = int(mask.sum())
    return pa.LargeStringArray.from_buffers(len(values), pa.py_buffer(offsets),
                                            pa.py_buffer(chars), validity, nulls)


def _optional(name: str) -> Any:
    """Module ``name`` if it is installed, else None."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


# -- pandas --------------------------------------------------------------------------------------

def _pandas_column(values: Any, pd: Any, pa: Any) -> Any:
    if isinstance(values, TimeColumn):
        return values.to_datetime64()
    data = np.ma.getdata(values)
    mask = np.ma.getmaskarray(values) if np.ma.isMaskedArray(values) else None
    if data.ndim > 1 or data.dtype.kind == "O":
        cells = list(data)
        if mask is not None and mask.ndim > 1:
            cells = [np.ma.MaskedArray(cell, m) for cell, m in zip(cells, mask)]
        return cells
    if data.dtype.kind == "S" and pa is not None:
        # pandas keeps text in pyarrow: hand it over built from the bytes
        return pd.Series(_arrow_text(data, mask, pa), dtype="str")
    data = _text(data)
    if mask is None or not mask.any():
        return data
    if data.dtype.kind in "iu":
        return pd.arrays.IntegerArray(data, mask)
    if data.dtype.kind == "b":
        return pd.arrays.BooleanArray(data, mask)
    if data.dtype.kind == "f":
        return np.where(mask, np.nan, data)
    return np.where(mask, None, data.astype(object))


def to_pandas(table: Table) -> Any:
    """See :meth:`fitsbind.Table.to_pandas`."""
    import pandas as pd

    pa = _optional("pyarrow")
    frame = pd.DataFrame({name: _pandas_column(values, pd, pa)
                          for name, values in table.items()}, copy=False)
    frame.attrs["fitsbind"] = {
        "meta": dict(table.meta),
        "columns": {name: {k: v for k, v in vars(table.info[name]).items() if v is not None}
                    for name in table},
        "time_scales": {name: values.scale for name, values in table.items()
                        if isinstance(values, TimeColumn)}}
    return frame


def _object_cells(values: np.ndarray, missing: np.ndarray, name: str) -> Any:
    """The column an object column of pandas holds: text, numbers (masked where missing),
    cells of one shape stacked, or variable-length cells; TypeError naming the column for
    anything else."""
    present = [value for value, gone in zip(values, missing) if not gone]
    if all(isinstance(value, (str, bytes)) for value in present):
        text = np.array([value.decode("ascii", "replace") if isinstance(value, bytes) else value
                         for value in np.where(missing, "", values)], dtype=str)
        return np.ma.MaskedArray(text, mask=missing) if missing.any() else text
    if all(isinstance(value, (bool, int, float, np.number, np.bool_)) for value in present):
        data = np.array([0 if gone else value for value, gone in zip(values, missing)])
        return np.ma.MaskedArray(data, mask=missing) if missing.any() else data
    if all(isinstance(value, (np.ndarray, list, tuple)) for value in present):
        cells = [value if np.ma.isMaskedArray(value) else np.asarray(value)
                 for value in present]
        if not missing.any() and len({cell.shape for cell in cells}) == 1 and cells:
            return np.ma.stack(cells) if any(map(np.ma.isMaskedArray, cells)) else \
                np.stack(cells)
        column = np.empty(len(values), object)
        empty = np.zeros(0, cells[0].dtype if cells else np.float64)
        column[:] = [empty if gone else np.asarray(value) for value, gone in zip(values, missing)]
        return column
    kinds = sorted({type(value).__name__ for value in present})
    raise TypeError(f"column {name!r}: cells of types {kinds} have no FITS column type")


def from_pandas(frame: Any) -> Table:
    """See :meth:`fitsbind.Table.from_pandas`."""
    import pandas as pd

    saved = frame.attrs.get("fitsbind", {})
    scales = saved.get("time_scales", {})
    names = [str(name) for name in frame.columns]
    if len(set(names)) != len(names):
        raise ValueError(f"column names repeat once made text: {names}")
    table = Table(meta=saved.get("meta"))
    for key, (_, series) in zip(names, frame.items()):
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(series.cat.categories.dtype)
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            stamps = series.dt.tz_convert("UTC").dt.tz_localize(None) \
                if getattr(series.dt, "tz", None) is not None else series
            table[key] = TimeColumn.from_datetime64(stamps.to_numpy("datetime64[ns]"),
                                                    scale=scales.get(key, "utc"))
        elif series.dtype == object:
            table[key] = _object_cells(series.to_numpy(), series.isna().to_numpy(), key)
        elif pd.api.types.is_string_dtype(series.dtype):
            missing = series.isna().to_numpy()
            text = np.array(series.fillna("").to_numpy(), dtype=str)
            table[key] = np.ma.MaskedArray(text, mask=missing) if missing.any() else text
        elif isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
            missing = series.isna().to_numpy()
            fill = False if pd.api.types.is_bool_dtype(series.dtype) else 0
            data = series.to_numpy(dtype=series.dtype.numpy_dtype, na_value=fill)
            table[key] = np.ma.MaskedArray(data, mask=missing) if missing.any() else data
        else:
            table[key] = series.to_numpy()   # NaN floats stay NaN
        for attribute, value in saved.get("columns", {}).get(key, {}).items():
            setattr(table.info[key], attribute, value)
    return table


# -- pyarrow -------------------------------------------------------------------------------------

def _arrow_array(values: Any, pa: Any) -> Any:
    if isinstance(values, TimeColumn):
        return pa.array(values.to_datetime64(), pa.timestamp("ns"))
    data = np.ma.getdata(values)
    mask = np.ma.getmaskarray(values) if np.ma.isMaskedArray(values) else None
    if data.dtype.kind == "O":
        return pa.array([None if cell is None else np.asarray(cell) for cell in data])
    if data.ndim > 1:
        flat = pa.array(_text(data).reshape(-1),
                        mask=None if mask is None else mask.reshape(-1))
        for size in reversed(data.shape[1:]):
            flat = pa.FixedSizeListArray.from_arrays(flat, size)
        return flat
    if data.dtype.kind == "S":
        return _arrow_text(data, mask, pa)
    return pa.array(data, mask=None if mask is None or not mask.any() else mask)


def to_arrow(table: Table) -> Any:
    """See :meth:`fitsbind.Table.to_arrow`."""
    import pyarrow as pa

    arrays, fields = [], []
    for name, values in table.items():
        array = _arrow_array(values, pa)
        info = table.info[name]
        metadata = {key: str(getattr(info, attribute))
                    for key, (attribute, _) in _FIELD_KEYS.items()
                    if getattr(info, attribute) is not None}
        if isinstance(values, TimeColumn):
            metadata["time_scale"] = values.scale
        arrays.append(array)
        fields.append(pa.field(name, array.type, metadata=metadata or None))
    meta = json.dumps(table.meta, default=str)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata={_SCHEMA_META: meta}))


def _arrow_values(array: Any, pa: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """The values of a flat pyarrow array as numpy (its own dtype; nulls filled with 0,
    False or '') and the null mask (None when none is null)."""
    kind = array.type
    missing = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else None
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return array.fill_null("").to_numpy(zero_copy_only=False).astype(str), missing
    if missing is not None and (pa.types.is_integer(kind) or pa.types.is_boolean(kind)):
        array = array.fill_null(False if pa.types.is_boolean(kind) else 0)
    if pa.types.is_dictionary(kind):
        return _arrow_values(array.cast(kind.value_type), pa)
    return array.to_numpy(zero_copy_only=False), missing


def _from_arrow_column(column: Any, pa: Any) -> Any:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    kind = array.type
    if pa.types.is_fixed_size_list(kind):
        rows = array.is_null().to_numpy(zero_copy_only=False)
        shape = []
        while pa.types.is_fixed_size_list(kind):
            shape.append(kind.list_size)
            array = array.values     # every slot, those of null lists too
            kind = array.type
        data, missing = _arrow_values(array, pa)
        data = data.reshape(-1, *shape)
        cells = np.broadcast_to(rows.reshape(-1, *[1] * len(shape)), data.shape)
        missing = cells if missing is None else (missing.reshape(data.shape) | cells)
        return _with_mask(data, missing if missing.any() else None)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        offsets = array.offsets.to_numpy()
        values, _ = _arrow_values(array.values, pa)
        cells = np.empty(len(array), object)
        cells[:] = np.split(values[offsets[0]:offsets[-1]], offsets[1:-1] - offsets[0])
        return cells
    return _with_mask(*_arrow_values(array, pa))


def _with_mask(data: np.ndarray, missing: np.ndarray | None) -> Any:
    if missing is None or not missing.any():
        return data
    return np.ma.MaskedArray(data, mask=missing)


def from_arrow(arrow: Any) -> Table:
    """See :meth:`fitsbind.Table.from_arrow`."""
    import pyarrow as pa

    saved = (arrow.schema.metadata or {}).get(_SCHEMA_META)
    table = Table(meta=json.loads(saved) if saved else None)
    for field, column in zip(arrow.schema, arrow.columns):
        metadata = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        if pa.types.is_timestamp(field.type):
            stamps = column.cast(pa.timestamp("ns", tz=field.type.tz)).to_numpy()
            table[field.name] = TimeColumn.from_datetime64(
                stamps.astype("datetime64[ns]"), scale=metadata.get("time_scale", "utc"))
        else:
            table[field.name] = _from_arrow_column(column, pa)
        info = table.info[field.name]
        for key, (attribute, kind) in _FIELD_KEYS.items():
            if key in metadata:
                setattr(info, attribute, kind(metadata[key]))
    return table


# -- astropy -------------------------------------------------------------------------------------

def to_astropy(table: Table, cls: Any = None) -> Any:
    """See :meth:`fitsbind.Table.to_astropy`."""
    from astropy.table import Column, MaskedColumn
    from astropy.table import Table as AstropyTable

    result = (cls or AstropyTable)(meta=dict(table.meta))
    for name, values in table.items():
        info = table.info[name]
        if isinstance(values, TimeColumn):
            result[name] = values.to_astropy()
            continue
        kind = MaskedColumn if np.ma.isMaskedArray(values) else Column
        column = kind(values, name=name, unit=info.unit, format=info.format,
                      description=info.description, copy=False)
        result.add_column(column)
    return result


def from_astropy(astropy_table: Any) -> Table:
    """See :meth:`fitsbind.Table.from_astropy`."""
    from astropy.table import Column
    from astropy.time import Time
    from astropy.units import Quantity

    table = Table(meta=dict(astropy_table.meta))
    for column in astropy_table.itercols():
        name = column.info.name
        if isinstance(column, Time):
            table[name] = TimeColumn.from_astropy(column)
        elif isinstance(column, (Column, Quantity)):
            data = column.value if isinstance(column, Quantity) else column.data
            if isinstance(data, np.ma.MaskedArray) and not data.mask.any():
                data = data.data
            table[name] = data
            unit = getattr(column, "unit", None)
            table.info[name] = ColumnMeta(
                unit=None if unit is None else unit.to_string("fits"),
                format=column.info.format, description=column.info.description)
        else:
            raise TypeError(f"column {name!r} is a {type(column).__name__}, which FITS holds "
                            "only through astropy's serialization: write the table with "
                            "Table.write(path, format='fitsbind')")
    return table
