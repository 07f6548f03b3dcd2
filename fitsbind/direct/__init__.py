"""The explicit-I/O tier: live objects bound to an open file, writing through to disk."""

from fitsbind.direct.columns import ColumnInfo, ColumnSpec
from fitsbind.direct.compressed import CompressedImageHDU
from fitsbind.direct.compressed_table import CompressedTableHDU, compress_table
from fitsbind.direct.compression import Gzip1, Gzip2, Hcompress1, Plio1, Quantize, Rice1
from fitsbind.direct.fits import FITS
from fitsbind.direct.hdu import HDU
from fitsbind.direct.header import Card, FITSHeader
from fitsbind.direct.image import ImageHDU
from fitsbind.direct.table import TableColumn, TableHDU

__all__ = ["FITS", "HDU", "Card", "ColumnInfo", "ColumnSpec", "CompressedImageHDU",
           "CompressedTableHDU", "FITSHeader", "Gzip1", "Gzip2", "Hcompress1", "ImageHDU",
           "Plio1", "Quantize", "Rice1", "TableColumn", "TableHDU", "compress_table"]
