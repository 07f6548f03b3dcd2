"""fitsbind: FITS file I/O on CFITSIO.

Two interfaces share one CFITSIO build:

- ``import fitsbind as fits`` is a drop-in for ``astropy.io.fits``: :func:`open`,
  :class:`HDUList`, :class:`PrimaryHDU`, :class:`ImageHDU`, :class:`BinTableHDU`,
  :class:`Header`, :class:`Column`, :func:`getdata`, ... with astropy's semantics.
- ``fitsbind.FITS(path, mode)`` opens a file for explicit, write-through reads and writes
  (see :mod:`fitsbind.direct`).
- ``fitsbind.read_table(path)`` / ``fitsbind.write_table(table, path)`` give tables as
  columns on numpy alone, with masks, units and time columns (see :mod:`fitsbind.tables`).

``fitsbind.cfitsio_version()`` reports the CFITSIO compiled in; errors from CFITSIO are
:class:`fitsbind.FITSError` (an ``OSError``), see :mod:`fitsbind.errors`.
"""

from fitsbind import (
    errors,
    util,
)
from fitsbind._version import __version__
from fitsbind.card import Card, Undefined
from fitsbind.column import ColDefs, Column, Delayed
from fitsbind.config import Conf, conf
from fitsbind.convenience import (
    append,
    delval,
    getdata,
    getheader,
    getval,
    info,
    printdiff,
    setval,
    table_to_hdu,
    tabledump,
    tableload,
    update,
    writeto,
)
from fitsbind.diff import FITSDiff, HDUDiff, HeaderDiff, ImageDataDiff, RawDataDiff, TableDataDiff
from fitsbind.direct import (
    FITS,
    ColumnSpec,
    FITSHeader,
    Gzip1,
    Gzip2,
    Hcompress1,
    Plio1,
    Quantize,
    Rice1,
    cfitsio_source,
    cfitsio_version,
)
from fitsbind.errors import *  # noqa: F403 - the exception classes are public API
from fitsbind.fitsrec import FITS_rec, FITS_record
from fitsbind.hdu import (
    DELAYED,
    BinTableHDU,
    CompImageHDU,
    FitsHDU,
    Group,
    GroupData,
    GroupsHDU,
    HDUList,
    ImageHDU,
    PrimaryHDU,
    Section,
    StreamingHDU,
    TableHDU,
    register_hdu,
    unregister_hdu,
)
from fitsbind.hdu.compressed import (
    DITHER_SEED_CHECKSUM,
    DITHER_SEED_CLOCK,
    NO_DITHER,
    SUBTRACTIVE_DITHER_1,
    SUBTRACTIVE_DITHER_2,
    CompImageSection,
)
from fitsbind.hdu.hdulist import fitsopen as open
from fitsbind.hdu.image import BITPIX2DTYPE, DTYPE2BITPIX
from fitsbind.header import Header
from fitsbind.tables import Table, TimeColumn, read_table, write_table
from fitsbind.verify import VerifyError, VerifyWarning

__all__ = [
    *errors.__all__, "BITPIX2DTYPE", "DELAYED", "DTYPE2BITPIX", "FITS", "BinTableHDU", "Card",
    "ColDefs", "Column", "ColumnSpec", "Conf", "CompImageHDU", "CompImageSection", "DITHER_SEED_CHECKSUM",
    "DITHER_SEED_CLOCK", "Delayed", "FITSDiff", "FITSHeader", "NO_DITHER", "SUBTRACTIVE_DITHER_1",
    "SUBTRACTIVE_DITHER_2",
    "FITS_rec", "FITS_record", "FitsHDU", "Group", "GroupData", "GroupsHDU", "Gzip1", "Gzip2", "HDUDiff",
    "HDUList", "Hcompress1", "Header", "HeaderDiff", "ImageDataDiff", "ImageHDU", "Plio1",
    "PrimaryHDU", "Quantize", "Rice1", "RawDataDiff", "Section", "TableDataDiff", "TableHDU", "Undefined",
    "VerifyError", "VerifyWarning", "__version__", "append", "cfitsio_source", "cfitsio_version",
    "conf", "delval", "getdata", "getheader", "getval", "info", "open", "printdiff", "register_hdu",
    "StreamingHDU", "setval", "table_to_hdu", "tabledump", "tableload", "unregister_hdu", "update", "util",
    "writeto", "Table", "TimeColumn", "read_table", "write_table",
]
