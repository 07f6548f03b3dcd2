"""The explicit-I/O tier: live objects bound to an open file, writing through to disk.

It is also the only way the layers above it reach a file: they use the names listed in
``__all__`` and nothing else (a test checks this). Besides the user-facing classes those are
the seam of :mod:`fitsbind.direct.units` (methods of :class:`FITS` working on HDUs as byte
ranges, :class:`HDUExtent`), and the building blocks the astropy-compatible model shares with
this tier: :func:`stored_chunks` (an array's data unit as big-endian bytes), :func:`parse_tform`,
and :func:`encode_table` / :func:`z_cards` (an image compressed into a table of tiles).
"""

from fitsbind._fitsfile import cfitsio_source, cfitsio_version
from fitsbind.direct.columns import ColumnInfo, ColumnSpec, TForm, parse_tform, spec_for
from fitsbind.direct.compressed import CompressedImageHDU, encode_table, z_cards
from fitsbind.direct.compressed_table import CompressedTableHDU, compress_table
from fitsbind.direct.compression import Compression, Gzip1, Gzip2, Hcompress1, Plio1, Quantize, Rice1
from fitsbind.direct.fits import FITS
from fitsbind.direct.hdu import HDU
from fitsbind.direct.header import Card, FITSHeader
from fitsbind.direct.image import ImageHDU
from fitsbind.direct.pixels import stored_chunks
from fitsbind.direct.table import TableColumn, TableHDU
from fitsbind.direct.units import HDUExtent, data_unit_size

__all__ = ["FITS", "HDU", "Card", "ColumnInfo", "ColumnSpec", "CompressedImageHDU",
           "CompressedTableHDU", "Compression", "FITSHeader", "Gzip1", "Gzip2", "HDUExtent",
           "Hcompress1", "ImageHDU", "Plio1", "Quantize", "Rice1", "TForm", "TableColumn",
           "TableHDU", "cfitsio_source", "cfitsio_version", "compress_table", "data_unit_size",
           "encode_table", "parse_tform", "spec_for", "stored_chunks", "z_cards"]
