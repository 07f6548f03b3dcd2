"""One-call functions of the astropy-compatible interface: getdata, getheader, getval,
setval, delval, writeto, append, update, info, printdiff, table_to_hdu, tabledump and
tableload.

The extension is chosen as astropy does: positionally (``ext``, ``extname``,
``(extname, extver)``) or with the ``ext=``, ``extname=``, ``extver=`` keywords.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from fitsbind.hdu.base import ExtensionHDU, _BaseHDU, _CorruptedHDU, _ValidHDU, class_for
from fitsbind.hdu.hdulist import HDUList, fitsopen
from fitsbind.hdu.image import ImageHDU, PrimaryHDU
from fitsbind.header import Header
from fitsbind.util import is_integer

__all__ = ["append", "delval", "getdata", "getheader", "getval", "info", "printdiff",
           "setval", "table_to_hdu", "tabledump", "tableload", "update", "writeto"]



def _extension(args: tuple, kwargs: dict) -> Any:
    """The HDU key (index or ``(EXTNAME, EXTVER)``) that the positional ``args`` and the
    ``ext``/``extname``/``extver`` keywords (taken out of ``kwargs``) select; 0 when none is
    given. A name alone means EXTVER 1. Mixed or malformed selections raise as astropy's do."""
    ext = kwargs.pop("ext", None)
    extname = kwargs.pop("extname", None)
    extver = kwargs.pop("extver", None)
    conflict = TypeError("Redundant/conflicting extension arguments(s): "
                         f"{ {'args': args, 'ext': ext, 'extname': extname, 'extver': extver} }")
    if len(args) > 2:
        raise TypeError("Too many positional arguments.")
    if len(args) == 2:
        if ext is not None or extname is not None or extver is not None:
            raise conflict
        extname, extver = args
    elif args and is_integer(args[0]):
        if ext is not None or extname is not None or extver is not None:
            raise conflict
        ext = args[0]
    elif args and isinstance(args[0], str):
        # a name; extver= may still give its version
        if ext is not None or extname is not None:
            raise conflict
        extname = args[0]
    elif args:
        ext = args[0]
    if ext is not None and not (is_integer(ext) or (
            isinstance(ext, tuple) and len(ext) == 2 and isinstance(ext[0], str)
            and is_integer(ext[1]))):
        raise ValueError("The ext keyword must be either an extension number (zero-indexed) "
                         "or a (extname, extver) tuple.")
    if extname is not None and not isinstance(extname, str):
        raise ValueError("The extname argument must be a string.")
    if extver is not None and not is_integer(extver):
        raise ValueError("The extver argument must be an integer.")
    if ext is not None:
        if extname is not None or extver is not None:
            raise conflict
        return ext
    if extname:
        return (extname, extver or 1)
    if extver:
        raise TypeError("extver alone cannot specify an extension.")
    return 0


def _extension_given(args: tuple, kwargs: dict) -> bool:
    return bool(args) or any(kwargs.get(key) is not None for key in ("ext", "extname", "extver"))


def _open(filename: Any, mode: str, kwargs: dict) -> HDUList:
    if isinstance(filename, HDUList):
        return filename
    return fitsopen(filename, mode=mode, **kwargs)


def _close_if_opened(hdulist: HDUList, filename: Any) -> None:
    if hdulist is not filename:
        hdulist.close()


def getheader(filename: Any, *args: Any, **kwargs: Any) -> Header:
    """The header of one HDU (default the primary) of a file."""
    ext = _extension(args, kwargs)
    hdulist = _open(filename, "readonly", kwargs)
    try:
        return hdulist[ext].header
    finally:
        _close_if_opened(hdulist, filename)


def getdata(filename: Any, *args: Any, header: bool | None = None, lower: bool | None = None,
            upper: bool | None = None, view: Any = None, **kwargs: Any) -> Any:
    """The data of one HDU (by default the primary, or the first extension when the
    primary has none); with ``header=True`` a ``(data, header)`` pair. ``lower``/``upper``
    change table field names' case; ``view`` is passed to ``ndarray.view``."""
    given = _extension_given(args, kwargs)
    ext = _extension(args, kwargs)
    hdulist = _open(filename, "readonly", kwargs)
    try:
        hdu = hdulist[ext]
        data = hdu.data
        if data is None and given:
            raise IndexError(f"No data in HDU #{ext}.")
        if data is None:
            # nothing in the primary HDU: the first extension's data, as astropy
            try:
                hdu = hdulist[1]
            except IndexError:
                raise IndexError("No data in Primary HDU and no extension HDU found.") from None
            data = hdu.data
            if data is None:
                raise IndexError("No data in either Primary or first extension HDUs.")
        hdr = hdu.header
    finally:
        _close_if_opened(hdulist, filename)
    if data is not None and data.dtype.names and (lower or upper):
        names = [n.lower() if lower else n.upper() for n in data.dtype.names]
        data = data.copy() if hasattr(data, "columns") else data
        data.dtype.names = names
    if view is not None:
        data = data.view(view)
    return (data, hdr) if header else data


def getval(filename: Any, keyword: str, *args: Any, **kwargs: Any) -> Any:
    """The value of ``keyword`` in one HDU's header."""
    if "do_not_scale_image_data" not in kwargs:
        kwargs["do_not_scale_image_data"] = True
    return getheader(filename, *args, **kwargs)[keyword]


def setval(filename: Any, keyword: str, *args: Any, value: Any = None, comment: str | None = None,
           before: Any = None, after: Any = None, savecomment: bool = False,
           **kwargs: Any) -> None:
    """Set ``keyword`` in one HDU's header of a file, in place."""
    if "do_not_scale_image_data" not in kwargs:
        kwargs["do_not_scale_image_data"] = True
    ext = _extension(args, kwargs)
    hdulist = fitsopen(filename, mode="update", **kwargs)
    try:
        header = hdulist[ext].header
        if value is None and keyword in header:
            value = header[keyword]
        if keyword in header and savecomment:
            comment = None
        header.set(keyword, value, comment, before=before, after=after)
    finally:
        hdulist.close()


def delval(filename: Any, keyword: str, *args: Any, **kwargs: Any) -> None:
    """Delete ``keyword`` (every occurrence) from one HDU's header of a file, in place."""
    if "do_not_scale_image_data" not in kwargs:
        kwargs["do_not_scale_image_data"] = True
    ext = _extension(args, kwargs)
    hdulist = fitsopen(filename, mode="update", **kwargs)
    try:
        del hdulist[ext].header[keyword]
    finally:
        hdulist.close()


def _make_hdu(data: Any, header: Header | None = None) -> Any:
    """An HDU for ``data``: a given HDU as is, an astropy Table converted; else the HDU class
    ``header`` describes (PrimaryHDU for SIMPLE, ImageHDU for IMAGE, ...) and, with no
    header or one describing none, a binary table for record arrays and an image for other
    arrays."""
    from fitsbind.hdu.table import BinTableHDU

    if isinstance(data, _BaseHDU):
        return data
    if _is_astropy_table(data):
        hdu = table_to_hdu(data)
        if header is not None:
            hdu.header.update(header)
        return hdu
    if header is not None:
        cls = class_for(header)
        # as astropy: a header no HDU type claims leaves the type to the data
        if cls not in (_CorruptedHDU, _ValidHDU):
            return cls(data=data, header=header)
    if isinstance(data, np.ndarray) and data.dtype.fields is not None:
        return BinTableHDU(data, header=header)
    if not isinstance(data, np.ndarray):
        raise KeyError("Data must be a numpy array.")
    return ImageHDU(data, header=header)


def _is_astropy_table(data: Any) -> bool:
    return any(cls.__module__.startswith("astropy.table") and cls.__name__ == "Table"
               for cls in type(data).__mro__)


def writeto(filename: Any, data: Any, header: Header | None = None,
            output_verify: str = "exception", overwrite: bool = False,
            checksum: bool = False) -> None:
    """Write ``data`` (an image array, a record array, a Table or an HDU) as a new file; an
    image becomes the primary HDU."""
    hdu = _make_hdu(data, header)
    if hdu.is_image and not isinstance(hdu, PrimaryHDU):
        if isinstance(data, _BaseHDU):
            data, header = hdu.data, hdu.header
        hdu = PrimaryHDU(data, header=header)
    hdu.writeto(filename, overwrite=overwrite, output_verify=output_verify, checksum=checksum)


def append(filename: Any, data: Any, header: Header | None = None, checksum: bool = False,
           verify: bool = True, **kwargs: Any) -> None:
    """Append ``data`` as a new HDU at the end of a file (creating the file if needed);
    ``checksum`` gives that HDU CHECKSUM and DATASUM cards."""
    name = filename if isinstance(filename, (str, os.PathLike)) else getattr(filename, "name", None)
    if isinstance(name, (str, os.PathLike)):
        # '~/x.fits' exists when the expanded path does
        name = os.path.expanduser(name)
    if name is None or not os.path.exists(name) or os.path.getsize(name) == 0:
        writeto(filename, data, header, checksum=checksum)
        return
    hdu = _make_hdu(data, header)
    if isinstance(hdu, PrimaryHDU) and type(hdu) is PrimaryHDU:
        hdu = ImageHDU(hdu.data, header=hdu.header)
    with fitsopen(filename, mode="append", **kwargs) as hdulist:
        hdulist.append(hdu)
        hdu._output_checksum = checksum


def update(filename: Any, data: Any, *args: Any, **kwargs: Any) -> None:
    """Replace one HDU (default the primary) of a file with ``data``; a header comes as the
    third argument or as ``header=`` (which wins), the HDU as in :func:`getdata`."""
    header = None
    if args and isinstance(args[0], Header):
        header, args = args[0], args[1:]
    header = kwargs.pop("header", header)
    ext = _extension(args, kwargs)
    hdu = _make_hdu(data, header)
    # as astropy, the HDU goes in as made: an image for HDU 0 fails verification on closing
    with fitsopen(filename, mode="update", **kwargs) as hdulist:
        hdulist[ext] = hdu


def info(filename: Any, output: Any = None, **kwargs: Any) -> list | None:
    """Print (or with ``output=False`` return) the summary of a file's HDUs."""
    mode = kwargs.pop("mode", "readonly")
    hdulist = fitsopen(filename, mode=mode, **kwargs)
    try:
        return hdulist.info(output=output)
    finally:
        hdulist.close()


def printdiff(inputa: Any, inputb: Any, *args: Any, **kwargs: Any) -> None:
    """Print the differences between two files, HDUs, HDULists or headers (the
    ``report()`` of :mod:`fitsbind.diff`'s classes, with ``print``).

    An HDU of two files is chosen as in :func:`getdata`; the extension arguments are
    refused with HDU, HDUList and Header inputs. Other keywords go to the diff class."""
    from fitsbind.diff import FITSDiff, HDUDiff, HeaderDiff

    extension = {key: kwargs.pop(key) for key in ("ext", "extname", "extver") if key in kwargs}
    selects = bool(args or extension)
    if isinstance(inputa, (str, os.PathLike)) and selects:
        ext = _extension(args, extension)
        with fitsopen(inputa) as a, fitsopen(inputb) as b:
            print(HDUDiff(a[ext], b[ext], **kwargs).report())
    elif isinstance(inputa, (_BaseHDU, Header)) and selects:
        kind = "an HDU" if isinstance(inputa, _BaseHDU) else "a Header"
        raise ValueError(f"Cannot use extension keywords when providing {kind} object.")
    elif isinstance(inputa, _BaseHDU):
        print(HDUDiff(inputa, inputb, **kwargs).report())
    elif isinstance(inputa, Header):
        print(HeaderDiff(inputa, inputb, **kwargs).report())
    elif isinstance(inputa, HDUList) and selects:
        raise NotImplementedError("Extension specification with HDUList objects not implemented.")
    else:
        print(FITSDiff(inputa, inputb, **kwargs).report())


def table_to_hdu(table: Any, character_as_bytes: bool = False, name: str | None = None) -> Any:
    """A BinTableHDU for an astropy Table (units, masks, meta as astropy converts them);
    ``name`` sets EXTNAME (an EXTNAME in the table's meta still wins, as in astropy)."""
    from fitsbind.hdu.table import table_to_hdu as convert

    return convert(table, character_as_bytes=character_as_bytes, name=name)


def tabledump(filename: Any, datafile: Any = None, cdfile: Any = None, hfile: Any = None,
              ext: int = 1, overwrite: bool = False) -> None:
    """Dump a table HDU to text files (data, column definitions, header)."""
    with fitsopen(filename) as hdulist:
        hdu = hdulist[ext]
        if not isinstance(hdu, ExtensionHDU) or not hasattr(hdu, "dump"):
            raise TypeError(f"HDU {ext} of {filename} is not a table")
        if datafile is None:
            root, _ = os.path.splitext(hdulist.filename() or "table")
            datafile = f"{root}_{ext}.txt"
        hdu.dump(datafile, cdfile, hfile, overwrite)


def tableload(datafile: Any, cdfile: Any, hfile: Any = None) -> Any:
    """A BinTableHDU rebuilt from text files written by :func:`tabledump`."""
    from fitsbind.hdu.table import BinTableHDU

    return BinTableHDU.load(datafile, cdfile, hfile, replace=True)
