"""HDU classes of the astropy-compatible model. Import order sets the order in which
classes claim headers read from a file (most specific first)."""

from fitsbind.hdu.base import DELAYED, ExtensionHDU, NonstandardExtHDU, register_hdu, unregister_hdu
from fitsbind.hdu.compressed import CompImageHDU
from fitsbind.hdu.groups import Group, GroupData, GroupsHDU
from fitsbind.hdu.hdulist import HDUList, fitsopen
from fitsbind.hdu.image import ImageHDU, PrimaryHDU, Section
from fitsbind.hdu.nonstandard import FitsHDU
from fitsbind.hdu.streaming import StreamingHDU
from fitsbind.hdu.table import BinTableHDU, TableHDU

__all__ = [
           "DELAYED",
           "BinTableHDU",
           "CompImageHDU",
           "ExtensionHDU",
           "FitsHDU",
           "Group",
           "GroupData",
           "GroupsHDU",
           "HDUList",
           "ImageHDU",
           "NonstandardExtHDU",
           "PrimaryHDU",
           "Section",
           "StreamingHDU",
           "TableHDU",
           "fitsopen",
           "register_hdu",
           "unregister_hdu",
]
