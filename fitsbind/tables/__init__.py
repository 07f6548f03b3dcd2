"""The table facade: FITS tables as columns on numpy alone, and the rules about FITS tables
that hold for every reader, written once so the astropy-facing modules (``fitsbind.connect``,
``fitsbind.fitstime``) and the numpy-only facade apply the same ones.

- :func:`read_table` / :func:`write_table` (:mod:`~fitsbind.tables.reading`,
  :mod:`~fitsbind.tables.writing`): a table HDU to and from a :class:`Table`
  (:mod:`~fitsbind.tables.table`), through the direct tier.
- :class:`TimeColumn` (:mod:`fitsbind.tables.timecols`): times as (jd1, jd2) pairs, and the
  FITS time standard's rules for time columns.
- :mod:`fitsbind.tables.convert`: Table to and from pandas, pyarrow and astropy.

- :mod:`fitsbind.tables.tdisp`: TDISPn display formats <-> Python format strings.
- :mod:`fitsbind.tables.masking`: which stored values mean "no value", on reading and writing.
- :mod:`fitsbind.tables.timekeys`: the FITS time standard's keywords (Rots et al. 2015),
  sorted out of a header without astropy.

These modules import numpy, the standard library and the direct tier; never the drop-in
model. pandas, pyarrow and astropy are imported by the functions that convert to them.
"""

from fitsbind.tables.reading import read_table
from fitsbind.tables.table import ColumnMeta, Table
from fitsbind.tables.timecols import TimeColumn
from fitsbind.tables.writing import write_table

__all__ = ["ColumnMeta", "Table", "TimeColumn", "read_table", "write_table"]
