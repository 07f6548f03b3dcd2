"""One-call functions of the astropy-compatible interface: getdata, getheader, getval,
setval, delval, writeto, append, update, info, printdiff, table_to_hdu, tabledump and
tableload.

The extension is chosen as astropy does: positionally (``ext``, ``extname``,
``(extname, extver)``) or with the ``ext=``, ``extname=``, ``extver=`` keywords.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from fitsbind.hdu.base import ExtensionHDU
from fitsbind.hdu.hdulist import HDUList, fitsopen
from fitsbind.hdu.image import ImageHDU, PrimaryHDU
from fitsbind.header import Header

__all__ = ["append", "delval", "getdata", "getheader", "getval", "info", "printdiff",
           "setval", "table_to_hdu", "tabledump", "tableload", "update", "writeto"]


def _extension(args: tuple, kwargs: dict) -> Any:
    """The HDU key the positional and keyword arguments name (None: not given)."""
    ext = kwargs.pop("ext", None)
    extname = kwargs.pop("extname", None)
    extver = kwargs.pop("extver", None)
    given = ext is not None or extname is not None or extver is not None
    if args and given:
        raise TypeError("Redundant/conflicting extension arguments(s): "
                        f"{{'args': {args}, 'ext': {ext}, 'extname': {extname}, "
                        f"'extver': {extver}}}")
    if len(args) == 1:
        ext = args[0]
        if isinstance(ext, tuple) and len(ext) == 2 and isinstance(ext[0], str):
            return ext
        if isinstance(ext, (str, int, np.integer)) or ext is None:
            return ext
        raise ValueError("The ext keyword must be either an extension number (zero-indexed) "
                         "or a (extname, extver) tuple.")
    if len(args) == 2:
        if isinstance(args[0], str) and isinstance(args[1], (int, np.integer)):
            return (args[0], int(args[1]))
        raise ValueError("The ext keyword must be either an extension number (zero-indexed) "
                         "or a (extname, extver) tuple.")
    if len(args) > 2:
        raise TypeError("Too many positional arguments.")
    if ext is not None:
        if extname is not None:
            raise TypeError("extname keyword argument not allowed with ext")
        if extver is not None and isinstance(ext, str):
            return (ext, extver)
        if extver is not None:
            raise TypeError("extver alone cannot specify an extension.")
        return ext
    if extname is not None:
        return (extname, extver) if extver is not None else extname
    if extver is not None:
        raise TypeError("extver alone cannot specify an extension.")
    return None


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
        return hdulist[0 if ext is None else ext].header
    finally:
        _close_if_opened(hdulist, filename)


def getdata(filename: Any, *args: Any, header: bool | None = None, lower: bool | None = None,
            upper: bool | None = None, view: Any = None, **kwargs: Any) -> Any:
    """The data of one HDU (by default the primary, or the first extension when the
    primary has none); with ``header=True`` a ``(data, header)`` pair. ``lower``/``upper``
    change table field names' case; ``view`` is passed to ``ndarray.view``."""
    ext = _extension(args, kwargs)
    hdulist = _open(filename, "readonly", kwargs)
    try:
        if ext is None:
            hdu = hdulist[0]
            data = hdu.data
            if data is None:
                try:
                    hdu = hdulist[1]
                except IndexError:
                    raise IndexError("No data in Primary HDU and no extension HDU found.") \
                        from None
                data = hdu.data
                if data is None:
                    raise IndexError("No data in either Primary or first extension HDUs.")
        else:
            hdu = hdulist[ext]
            data = hdu.data
            if data is None:
                raise IndexError(f"No data in HDU #{hdulist.index_of(ext)}.")
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
        header = hdulist[0 if ext is None else ext].header
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
        del hdulist[0 if ext is None else ext].header[keyword]
    finally:
        hdulist.close()


def _make_hdu(data: Any, header: Header | None = None) -> Any:
    """An HDU for ``data``: a given HDU as is, a record array as a binary table, an
    astropy Table converted, anything else as an image."""
    from fitsbind.hdu.table import BinTableHDU

    if hasattr(data, "header") and hasattr(data, "_payload"):
        return data
    if _is_astropy_table(data):
        hdu = table_to_hdu(data)
        if header is not None:
            hdu.header.update(header)
        return hdu
    if isinstance(data, np.ndarray) and data.dtype.fields is not None:
        return BinTableHDU(data, header=header)
    return ImageHDU(data, header=header)


def _is_astropy_table(data: Any) -> bool:
    return any(cls.__module__.startswith("astropy.table") and cls.__name__ == "Table"
               for cls in type(data).__mro__)


def writeto(filename: Any, data: Any, header: Header | None = None,
            output_verify: str = "exception", overwrite: bool = False,
            checksum: bool = False) -> None:
    """Write ``data`` (an image array, a record array, a Table or an HDU) as a new file."""
    hdu = _make_hdu(data, header)
    if isinstance(hdu, ImageHDU) and type(hdu) is ImageHDU:
        hdu = PrimaryHDU(hdu.data, header=hdu.header)
    hdu.writeto(filename, overwrite=overwrite, output_verify=output_verify, checksum=checksum)


def append(filename: Any, data: Any, header: Header | None = None, checksum: bool = False,
           verify: bool = True, **kwargs: Any) -> None:
    """Append ``data`` as a new HDU at the end of a file (creating the file if needed)."""
    name = filename if isinstance(filename, (str, os.PathLike)) else getattr(filename, "name", None)
    if name is None or not os.path.exists(name) or os.path.getsize(name) == 0:
        writeto(filename, data, header, checksum=checksum)
        return
    hdu = _make_hdu(data, header)
    if isinstance(hdu, PrimaryHDU) and type(hdu) is PrimaryHDU:
        hdu = ImageHDU(hdu.data, header=hdu.header)
    with fitsopen(filename, mode="append", **kwargs) as hdulist:
        hdulist.append(hdu)
        if checksum:
            hdu.add_checksum()


def update(filename: Any, data: Any, *args: Any, **kwargs: Any) -> None:
    """Replace one HDU (default the primary) of a file with ``data`` (and ``header``)."""
    header = kwargs.pop("header", None)
    if len(args) and isinstance(args[0], Header):
        header, args = args[0], args[1:]
    ext = _extension(args, kwargs)
    hdu = _make_hdu(data, header)
    with fitsopen(filename, mode="update") as hdulist:
        index = hdulist.index_of(0 if ext is None else ext)
        if index == 0 and isinstance(hdu, ImageHDU) and type(hdu) is ImageHDU:
            hdu = PrimaryHDU(hdu.data, header=hdu.header)
        elif index > 0 and isinstance(hdu, PrimaryHDU) and type(hdu) is PrimaryHDU:
            hdu = ImageHDU(hdu.data, header=hdu.header)
        hdulist[index] = hdu


def info(filename: Any, output: Any = None, **kwargs: Any) -> list | None:
    """Print (or with ``output=False`` return) the summary of a file's HDUs."""
    mode = kwargs.pop("mode", "readonly")
    hdulist = fitsopen(filename, mode=mode, **kwargs)
    try:
        return hdulist.info(output=output)
    finally:
        hdulist.close()


def printdiff(inputa: Any, inputb: Any, *args: Any, **kwargs: Any) -> None:
    """Print the differences between two files, HDUs or headers (see :mod:`fitsbind.diff`)."""
    from fitsbind.diff import FITSDiff, HDUDiff, HeaderDiff

    if isinstance(inputa, Header) and isinstance(inputb, Header):
        HeaderDiff(inputa, inputb, **kwargs).report(fileobj=sys.stdout)
        return
    if hasattr(inputa, "_payload") and hasattr(inputb, "_payload"):
        HDUDiff(inputa, inputb, **kwargs).report(fileobj=sys.stdout)
        return
    diff_args = {k: kwargs.pop(k) for k in list(kwargs)
                 if k in ("ignore_hdus", "ignore_keywords", "ignore_comments", "ignore_fields",
                          "numdiffs", "rtol", "atol", "ignore_blanks", "ignore_blank_cards")}
    ext = _extension(args, kwargs)
    if ext is None:
        FITSDiff(inputa, inputb, **diff_args).report(fileobj=sys.stdout)
        return
    a = fitsopen(inputa, **kwargs)
    b = fitsopen(inputb, **kwargs)
    try:
        HDUDiff(a[ext], b[ext], **diff_args).report(fileobj=sys.stdout)
    finally:
        a.close()
        b.close()


def table_to_hdu(table: Any, character_as_bytes: bool = False) -> Any:
    """A BinTableHDU for an astropy Table (units, masks, meta as astropy converts them)."""
    from fitsbind.hdu.table import BinTableHDU

    return BinTableHDU(table, character_as_bytes=character_as_bytes)


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
