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


def from_pandas(frame: Any) -> Table:
    """See :meth:`fitsbind.Table.from_pandas`."""
    import pandas as pd

    saved = frame.attrs.get("fitsbind", {})
    scales = saved.get("time_scales", {})
    table = Table(meta=saved.get("meta"))
    for name in frame.columns:
        series = frame[name]
        key = str(name)
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            stamps = series.dt.tz_convert("UTC").dt.tz_localize(None) \
                if getattr(series.dt, "tz", None) is not None else series
            table[key] = TimeColumn.from_datetime64(stamps.to_numpy("datetime64[ns]"),
                                                    scale=scales.get(key, "utc"))
            continue
        missing = series.isna().to_numpy()
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            data = np.array(series.fillna("").astype(str).to_numpy(), dtype=str)
        elif isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
            fill = False if pd.api.types.is_bool_dtype(series.dtype) else 0
            data = series.to_numpy(dtype=series.dtype.numpy_dtype, na_value=fill)
        else:
            data = series.to_numpy()
            missing = missing & (data.dtype.kind != "f")   # NaN floats stay NaN
        table[key] = np.ma.MaskedArray(data, mask=missing) if missing.any() else data
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


def _from_arrow_column(column: Any, pa: Any) -> Any:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = array.type
    missing = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else None
    if pa.types.is_fixed_size_list(kind):
        shape = []
        while pa.types.is_fixed_size_list(kind):
            shape.append(kind.list_size)
            array = array.flatten()
            kind = array.type
        data = array.to_numpy(zero_copy_only=False).reshape(-1, *shape)
        return _with_mask(_fixed_text(data), missing)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        cells = np.empty(len(array), object)
        cells[:] = [np.asarray(cell) if cell is not None else np.zeros(0)
                    for cell in array.to_pylist()]
        return cells
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        data = np.array(array.fill_null("").to_pylist(), dtype=str)
        return _with_mask(data, missing)
    if missing is not None and (pa.types.is_integer(kind) or pa.types.is_boolean(kind)):
        fill = False if pa.types.is_boolean(kind) else 0
        return _with_mask(array.fill_null(fill).to_numpy(zero_copy_only=False), missing)
    return array.to_numpy(zero_copy_only=False)


def _fixed_text(data: np.ndarray) -> np.ndarray:
    return data.astype(str) if data.dtype == object else data


def _with_mask(data: np.ndarray, missing: np.ndarray | None) -> Any:
    if missing is None or not missing.any():
        return data
    if data.ndim > missing.ndim:
        missing = np.broadcast_to(missing.reshape(-1, *([1] * (data.ndim - 1))), data.shape)
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
