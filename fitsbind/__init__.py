"""fitsbind: FITS file I/O on CFITSIO.

``fitsbind.FITS(path, mode)`` opens a file for explicit reads and writes (see
:mod:`fitsbind.direct`).

``fitsbind.cfitsio_version()`` reports the CFITSIO compiled in; errors from CFITSIO are
:class:`fitsbind.FITSError` (an ``OSError``), see :mod:`fitsbind.errors`.
"""

from fitsbind import errors
from fitsbind._fitsfile import cfitsio_source, cfitsio_version
from fitsbind._version import __version__
from fitsbind.direct import FITS, ColumnSpec, FITSHeader
from fitsbind.errors import *  # noqa: F403 - the exception classes are public API

__all__ = [*errors.__all__, "FITS", "ColumnSpec", "FITSHeader", "__version__", "cfitsio_source",
           "cfitsio_version"]
