"""Table HDUs of the astropy-compatible interface: :class:`BinTableHDU` (BINTABLE) and
:class:`TableHDU` (ASCII TABLE).

The header is the source of the column definitions of a table read from a file
(:func:`fitsbind.column.columns_from_header`); ``.data`` is then a :class:`FITS_rec` over the
file's bytes (a view of the memory map when there is one), made on first access. For tables
built in memory the column definitions make the header: structural cards first, then for each
column TTYPE, TFORM, TUNIT, ... in astropy's order and without comments.

Before writing, :meth:`_TableBaseHDU._payload` writes converted values back into the rows
(:meth:`FITS_rec._scale_back`), lays out the heap of variable-length columns, brings NAXIS1,
NAXIS2, PCOUNT, TFIELDS and the column keywords up to date, and returns the data unit's bytes.
"""

from __future__ import annotations

import csv
import operator
import os
import re
import warnings
from typing import Any

import numpy as np

from fitsbind.column import (
    ATTRIBUTE_TO_KEYWORD,
    FITS2NUMPY,
    KEYWORD_NAMES,
    KEYWORD_TO_ATTRIBUTE,
    NUMPY2FITS,
    TDEF_RE,
    ColDefs,
    Column,
    _AsciiColDefs,
    _FormatP,
    card_value,
    column_cards,
    column_numbers,
    python_to_tdisp,
)
from fitsbind.direct import stored_chunks
from fitsbind.errors import FITSKeyError, FITSValueError
from fitsbind.fitsrec import FITS_rec
from fitsbind.hdu.base import DELAYED, ExtensionHDU, _register_builtin, _ValidHDU, xtension
from fitsbind.hdu.file import data_size
from fitsbind.header import Header
from fitsbind.tables.masking import null_fill_value
from fitsbind.util import is_integer
from fitsbind.verify import FITSUserWarning, _ErrList

__all__ = ["BinTableHDU", "TableHDU", "table_to_hdu"]

_COLUMN_KEYWORD = re.compile("(" + "|".join(KEYWORD_NAMES) + r")\d+")

# numpy types a binary table stores as they are (any byte order); other fields of a plain
# record array (bool, unicode, unsigned, int8, float16, objects) are converted on the way in
_STORABLE = {"i2", "i4", "i8", "u1", "f4", "f8", "c8", "c16"}


class _TableLikeHDU(_ValidHDU):
    """HDUs whose data is a table of columns."""

    _data_type = FITS_rec
    _columns_type: type = ColDefs
    _uint = False
    _load_variable_length_data = True

    @classmethod
    def match_header(cls, header: Header) -> bool:
        raise NotImplementedError

    @classmethod
    def from_columns(cls, columns: Any, header: Header | None = None, nrows: int = 0,
                     fill: bool = False, character_as_bytes: bool = False,
                     logical_as_bytes: bool = False, **kwargs: Any) -> _TableLikeHDU:
        """A new table HDU of this class from columns (Columns, a ColDefs, a table HDU, a
        record array or FITS_rec). ``nrows`` rows (default: the longest column); with
        ``fill`` the cells are left zero/blank instead of taking the column values. Table
        structure keywords of ``header`` are replaced by the columns'; the others are kept.
        Other keyword arguments go to the HDU's constructor."""
        coldefs = cls._columns_type(columns)
        data = FITS_rec.from_columns(coldefs, nrows=nrows, fill=fill,
                                     character_as_bytes=character_as_bytes,
                                     logical_as_bytes=logical_as_bytes)
        hdu = cls(data=data, header=header, character_as_bytes=character_as_bytes,
                  logical_as_bytes=logical_as_bytes, **kwargs)
        coldefs._add_listener(hdu)
        return hdu


class _TableBaseHDU(ExtensionHDU, _TableLikeHDU):
    """Shared machinery of binary and ASCII table extensions."""

    _ext_comment = ""
    _manages_own_heap = False

    def __init__(self, data: Any = None, header: Header | None = None, name: str | None = None,
                 uint: bool = False, ver: int | None = None,
                 character_as_bytes: bool = False, logical_as_bytes: bool = False) -> None:
        super().__init__(data=data, header=header)
        self._uint = uint
        self._character_as_bytes = character_as_bytes
        self._logical_as_bytes = logical_as_bytes
        self._columns: ColDefs | None = None
        if data is DELAYED:
            if header is None:
                raise ValueError("No header to setup HDU.")
            self._header = header
        else:
            cards: list = [("XTENSION", self._extension, self._ext_comment),
                           ("BITPIX", 8, "array data type"),
                           ("NAXIS", 2, "number of array dimensions"),
                           ("NAXIS1", 0, "length of dimension 1"),
                           ("NAXIS2", 0, "length of dimension 2"),
                           ("PCOUNT", 0, "number of group parameters"),
                           ("GCOUNT", 1, "number of groups"),
                           ("TFIELDS", 0, "number of table fields")]
            if header is not None:
                cards.extend(header.copy(strip=True).cards)
            self._header = Header(cards)
            if isinstance(data, np.ndarray) and data.dtype.fields is not None:
                if isinstance(data, self._data_type):
                    self.data = data
                else:
                    self.data = self._data_type.from_columns(data)
            elif data is None:
                # no rows yet: .data is an empty table of the header's columns
                self._data_loaded = False
            else:
                raise TypeError("Table data has incorrect type.")
        if name:
            self.name = name
        if ver is not None:
            self.ver = ver

    # -- columns and data ------------------------------------------------------------------------

    @property
    def columns(self) -> ColDefs:
        """The :class:`ColDefs` of the table (the same object as ``.data.columns`` once the
        data exists)."""
        if self._data_loaded and isinstance(self._data, FITS_rec) \
                and self._data._coldefs is not None:
            return self._data._coldefs
        if self._columns is None:
            self._columns = self._columns_type(self)
        return self._columns

    @columns.setter
    def columns(self, value: ColDefs) -> None:
        self._columns = value
        if self._data_loaded and isinstance(self._data, FITS_rec):
            self._data._coldefs = value

    @columns.deleter
    def columns(self) -> None:
        self._columns = None

    @property
    def _nrows(self) -> int:
        if not self._data_loaded:
            return int(self._header.get("NAXIS2", 0))
        return 0 if self._data is None else len(self._data)

    @property
    def size(self) -> int:
        """Bytes of the data unit (rows and heap), from the header (astropy's rule, the one
        the HDU was located by: none without axes)."""
        return data_size(self._header) or 0

    def _row_dtype(self, columns: ColDefs) -> np.dtype:
        """The stored row dtype of the table in the file (big-endian, NAXIS1 wide)."""
        rowsize = _header_int(self._header, "NAXIS1", self._where())
        if rowsize > 2**31 - 1:
            # numpy's record dtypes are limited to C int sizes; no real row comes near it
            raise FITSValueError(f"{self._where()}: NAXIS1 = {rowsize} bytes per row is more "
                                 "than a table row can hold")
        dtype = columns.dtype
        if dtype.itemsize > rowsize:
            raise FITSValueError(f"{self._where()}: NAXIS1 = {rowsize} is smaller than the "
                                 f"{dtype.itemsize} bytes the column formats take")
        fields = dtype.fields
        return np.dtype({"names": list(dtype.names),
                         "formats": [fields[n][0].newbyteorder(">") for n in dtype.names],
                         "offsets": [fields[n][1] for n in dtype.names], "itemsize": rowsize})

    def _load_data(self) -> FITS_rec:
        columns = self.columns
        if self._file is None or self._offsets is None:
            data = _empty_table(columns)
        else:
            data = self._read_table(columns)
        data._coldefs = columns
        data._character_as_bytes = self._character_as_bytes
        data._logical_as_bytes = self._logical_as_bytes
        data._load_variable_length_data = self._load_variable_length_data
        columns._add_listener(data)
        data._adopt_columns()
        self._columns = None
        return data

    def _read_table(self, columns: ColDefs) -> FITS_rec:
        """The table's rows (and heap) from the file."""
        h = self._header
        nrows = _header_int(h, "NAXIS2", self._where())
        dtype = self._row_dtype(columns)
        tbsize = dtype.itemsize * nrows
        pcount = _header_int(h, "PCOUNT", self._where())
        theap = _header_int(h, "THEAP", self._where()) if "THEAP" in h else tbsize
        vla = any(isinstance(f, _FormatP) for f in columns._recformats)
        area = None
        if vla and pcount > 0:
            area = self._file_array(0, np.uint8, (tbsize + pcount,))
            rows = area[:tbsize].view(dtype) if dtype.itemsize else np.zeros(nrows, dtype)
        else:
            rows = self._file_array(0, dtype, (nrows,)) if dtype.itemsize else \
                np.zeros(nrows, dtype)
        data = rows.view(FITS_rec)
        data._uint = self._uint
        data._heapoffset = theap
        data._heapsize = max(pcount - (theap - tbsize), 0)
        data._tbsize = tbsize
        data._gap = theap - tbsize
        if area is not None:
            data._heap = area[theap:theap + data._heapsize].view(np.ndarray)
            data._area = area
        return data

    def _set_data(self, data: Any) -> None:
        if data is None and self.columns:
            data = _empty_table(self.columns)
        if isinstance(data, np.ndarray) and data.dtype.fields is not None:
            data = self._as_table(data)
            old = self._data if self._data_loaded else None
            if isinstance(old, FITS_rec) and old._coldefs is not None:
                old._coldefs._remove_listener(old)
            self._data = data
            self._data_loaded = True
            self._columns = None
            self.columns._add_listener(data)
            self.update_header()
        elif data is None:
            self._data = None
            self._data_loaded = True
        else:
            raise TypeError("Table data has incorrect type.")

    def _as_table(self, data: np.ndarray) -> FITS_rec:
        """``data`` as this HDU's table: a view when its fields are stored as FITS stores
        them, else a converted copy."""
        if not isinstance(data, FITS_rec) and not _storable(data.dtype):
            return FITS_rec.from_columns(self._columns_type(data))
        table = data.view(FITS_rec)
        columns = table.columns
        if not isinstance(columns, self._columns_type) or not _storable(data.dtype, columns):
            return FITS_rec.from_columns(self._columns_type(columns))
        table._adopt_columns()
        return table

    def update_header(self) -> None:
        """Make NAXIS1, NAXIS2, TFIELDS and the column keywords describe the columns."""
        data = self.data
        self._header.set("NAXIS1", data._raw_itemsize if data is not None else 0, after="NAXIS")
        self._header.set("NAXIS2", 0 if data is None else data.shape[0], after="NAXIS1")
        self._header.set("TFIELDS", len(self.columns), after="GCOUNT")
        self._clear_table_keywords()
        self._populate_table_keywords()

    def _clear_table_keywords(self, index: int | None = None) -> None:
        """Remove the column keywords (of column ``index`` only, renumbering the following
        ones, when given)."""
        found = []
        for position, keyword in enumerate(self._header.keys()):
            m = TDEF_RE.match(keyword)
            if m is not None and m.group("label") in KEYWORD_TO_ATTRIBUTE:
                found.append((position, keyword, m.group("label"), int(m.group("num")) - 1))
        for position, _, _, number in sorted(found, key=operator.itemgetter(0), reverse=True):
            if index is None or number == index:
                del self._header[position]
        if index is None:
            return
        for _, keyword, label, number in sorted(found, key=operator.itemgetter(3)):
            if number <= index:
                continue
            card = self._header.cards[keyword]
            self._header.insert(keyword, (f"{label}{number}", card.value, card.comment))
            del self._header[keyword]
        if "TFIELDS" in self._header:
            self._header["TFIELDS"] -= 1

    def _populate_table_keywords(self) -> None:
        """Write the column keywords after TFIELDS, column by column."""
        self._header.set("TFIELDS", len(self.columns), after="GCOUNT")
        after = "TFIELDS"
        for keyword, value in column_cards(self.columns):
            self._header.set(keyword, value, after=after)
            after = keyword

    # -- listening to the columns -----------------------------------------------------------------

    def _update_load_data(self) -> None:
        if not self._data_loaded:
            _ = self.data

    def _update_column_added(self, columns: ColDefs, column: Column) -> None:
        self.data = FITS_rec.from_columns(self.columns, nrows=self._nrows,
                                          character_as_bytes=self._character_as_bytes)

    def _update_column_removed(self, columns: ColDefs, index: int) -> None:
        self.data = FITS_rec.from_columns(self.columns, nrows=self._nrows,
                                          character_as_bytes=self._character_as_bytes)

    def _update_column_attribute_changed(self, column: Column, index: int, attr: str, old: Any,
                                         new: Any) -> None:
        root = ATTRIBUTE_TO_KEYWORD[attr]
        keyword = f"{root}{index + 1}"
        h = self._header
        if keyword in h:
            if new is None:
                del h[keyword]
            else:
                h[keyword] = card_value(attr, new)
            return
        if new is None:
            return
        position = KEYWORD_NAMES.index(root)
        for earlier in reversed(KEYWORD_NAMES[:position]):
            if f"{earlier}{index + 1}" in h:
                h.insert(f"{earlier}{index + 1}", (keyword, card_value(attr, new)), after=True)
                return
        for later in KEYWORD_NAMES[position + 1:]:
            if f"{later}{index + 1}" in h:
                h.insert(f"{later}{index + 1}", (keyword, card_value(attr, new)))
                return
        h[keyword] = card_value(attr, new)

    # -- writing ---------------------------------------------------------------------------------

    def _payload(self) -> np.ndarray | None:
        if not self._data_loaded and self._file is not None and self._offsets is not None:
            # untouched: the bytes in the file are the data unit
            _, start, end = self._offsets
            size = self.size
            return self._file_array(0, np.uint8, (min(size, end - start),))
        data = self.data
        h = self._header
        if data is None or data.dtype.names is None:
            h["NAXIS1"] = 0
            h["NAXIS2"] = 0
            h["PCOUNT"] = 0
            return None
        if not _writable(data):
            data = data.copy()
        data._scale_back(update_heap_pointers=not self._manages_own_heap)
        columns = data._coldefs
        # the rows as they are: the writer makes them big-endian chunk by chunk as it writes
        # them (stored_chunks), so no second copy of the table is made for that
        rows = data.view(np.ndarray)
        rowsize = rows.dtype.itemsize
        tbsize = rowsize * len(rows)
        h["NAXIS1"] = rowsize
        h["NAXIS2"] = len(rows)
        h["TFIELDS"] = len(columns)
        self._populate_table_keywords()
        vla = [i for i, f in enumerate(columns._recformats) if isinstance(f, _FormatP)]
        if not vla:
            # nothing points into a heap (an unused one read from a file is dropped)
            h["PCOUNT"] = 0
            h.remove("THEAP", ignore_missing=True)
            return rows
        heap = data._get_heap_data()
        theap = h.get("THEAP")
        gap = theap - tbsize if isinstance(theap, int) and theap >= tbsize and len(heap) else 0
        if gap == 0 and theap != tbsize:
            # a THEAP the heap cannot start at goes; one naming where it starts anyway stays
            # (as astropy keeps it: the card counts in the header's checksum)
            h.remove("THEAP", ignore_missing=True)
        h["PCOUNT"] = gap + len(heap)
        for i in vla:
            fmt = columns._recformats[i]
            longest = data.field(i).max if data._load_variable_length_data else \
                int(np.asarray(data.view(np.ndarray)[data.dtype.names[i]])[:, 0].max(initial=0))
            h[f"TFORM{i + 1}"] = type(fmt)(fmt.dtype, repeat=fmt.repeat, max=longest).tform
        area = getattr(data, "_area", None)
        if area is not None and data._heap_rebuilt is None and np.shares_memory(rows, area) \
                and len(area) == tbsize + gap + len(heap) and _in_stored_order(rows) \
                and _same_start(rows, area):
            return area
        payload = np.zeros(tbsize + gap + len(heap), dtype=np.uint8)
        at = 0
        for chunk in stored_chunks(rows):
            payload[at:at + len(chunk)] = np.frombuffer(chunk, np.uint8)
            at += len(chunk)
        payload[tbsize + gap:] = heap
        return payload

    def copy(self) -> _TableBaseHDU:
        """A new HDU with copies of the header and the data."""
        return self.__class__(data=self.data.copy(), header=self._header.copy())

    # -- verification and summary -------------------------------------------------------------------

    def _verify(self, option: str = "warn") -> _ErrList:
        errs = super()._verify(option=option)
        h = self._header
        if len(h) > 1:
            first = h[0]
            if not (isinstance(first, str) and first.rstrip() == self._extension):
                def fix() -> None:
                    h[0] = (self._extension, self._ext_comment)
                errs.append(self.run_option(
                    option, err_text="The XTENSION keyword must match the HDU type.",
                    fix_text=f"Converted the XTENSION keyword to {self._extension}.", fix=fix))
            self.req_cards("NAXIS", None, lambda v: v == 2, 2, option, errs)
            self.req_cards("BITPIX", None, lambda v: v == 8, 8, option, errs)
            self.req_cards("TFIELDS", 7, lambda v: is_integer(v) and 0 <= v <= 999, 0, option, errs)
            for i in column_numbers(h):
                self.req_cards(f"TFORM{i}", None, None, None, option, errs)
        return errs

    def _summary(self) -> tuple:
        if self._data_loaded:
            nrows = 0 if self._data is None else len(self._data)
            ncols = len(self.columns)
            formats: Any = self.columns.formats
        else:
            nrows = self._header["NAXIS2"]
            ncols = self._header["TFIELDS"]
            forms = []
            for j in range(1, ncols + 1):   # stops at the first missing card: TFIELDS is data
                if f"TFORM{j}" not in self._header:
                    raise FITSKeyError(f"HDU {self.name!r}: TFIELDS = {ncols} but the header "
                                       f"has no TFORM{j}")
                forms.append(str(self._header[f"TFORM{j}"]))
            formats = "[" + ", ".join(forms) + "]"
        return (self.name, self.ver, type(self).__name__, len(self._header),
                f"{nrows}R x {ncols}C", formats)


@_register_builtin
class TableHDU(_TableBaseHDU):
    """An ASCII table extension (XTENSION = 'TABLE'): columns of text fields (Aw, Iw, Fw.d,
    Ew.d, Dw.d) at given character positions (TBCOL)."""

    _extension = "TABLE"
    _ext_comment = "ASCII table extension"
    _padding_byte = " "
    _pad_byte = b" "
    _columns_type = _AsciiColDefs

    def __init__(self, data: Any = None, header: Header | None = None, name: str | None = None,
                 ver: int | None = None, character_as_bytes: bool = False,
                 logical_as_bytes: bool = False) -> None:
        super().__init__(data, header, name=name, ver=ver,
                         character_as_bytes=character_as_bytes,
                         logical_as_bytes=logical_as_bytes)

    @classmethod
    def match_header(cls, header: Header) -> bool:
        return xtension(header) == cls._extension

    def _row_dtype(self, columns: ColDefs) -> np.dtype:
        names = columns.names
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Duplicate field names: {duplicates}")
        rowsize = int(self._header.get("NAXIS1", 0))
        starts = [c.start for c in columns.columns]
        spans = columns.spans
        formats = [f"S{w}" for w in spans]
        if formats and rowsize > starts[-1] - 1 + spans[-1]:
            # the last field runs to the end of the row, as astropy reads it
            formats[-1] = f"S{rowsize - starts[-1] + 1}"
        # a field reaching past NAXIS1 widens the rows read, as in astropy (which then reads
        # on into the next row); _read_table keeps such rows inside the data unit
        itemsize = max([rowsize, *(start - 1 + span for start, span in zip(starts, spans))])
        nrows = int(self._header.get("NAXIS2", 0))
        if self._offsets is not None and itemsize * nrows > self._offsets[2] - self._offsets[1]:
            # never view more bytes than the data unit holds: numpy would read past the buffer
            raise FITSValueError(f"{self._where()}: {nrows} rows of {itemsize} bytes (the "
                                 f"columns' TBCOL and TFORM, NAXIS1 = {rowsize}) need "
                                 f"{itemsize * nrows} bytes, but the data unit holds "
                                 f"{self._offsets[2] - self._offsets[1]}")
        return np.dtype({"names": names, "formats": formats,
                         "offsets": [s - 1 for s in starts], "itemsize": itemsize})

    def _verify(self, option: str = "warn") -> _ErrList:
        errs = super()._verify(option=option)
        self.req_cards("PCOUNT", None, lambda v: v == 0, 0, option, errs)
        for i in column_numbers(self._header):
            self.req_cards(f"TBCOL{i}", None, is_integer, None, option, errs)
        return errs


@_register_builtin
class BinTableHDU(_TableBaseHDU):
    """A binary table extension (XTENSION = 'BINTABLE'). ``data`` may be a record array, a
    FITS_rec or an astropy Table (converted as astropy's ``table_to_hdu`` does)."""

    _extension = "BINTABLE"
    _ext_comment = "binary table extension"

    def __init__(self, data: Any = None, header: Header | None = None, name: str | None = None,
                 uint: bool = False, ver: int | None = None,
                 character_as_bytes: bool = False, logical_as_bytes: bool = False) -> None:
        if data is not None and data is not DELAYED and _is_astropy_table(data):
            hdu = table_to_hdu(data, character_as_bytes=character_as_bytes)
            if header is not None:
                hdu.header.update(header)
            data, header = hdu.data, hdu.header
        super().__init__(data, header, name=name, uint=uint, ver=ver,
                         character_as_bytes=character_as_bytes,
                         logical_as_bytes=logical_as_bytes)

    @classmethod
    def match_header(cls, header: Header) -> bool:
        return xtension(header) in (cls._extension, "A3DTABLE")

    # -- text dumps --------------------------------------------------------------------------

    def dump(self, datafile: Any = None, cdfile: Any = None, hfile: Any = None,
             overwrite: bool = False) -> None:
        """Write the table as text: the rows to ``datafile`` (default: the FITS file's name
        with ``.txt``), the column definitions to ``cdfile`` and the header cards to
        ``hfile`` (both optional). OSError if a non-empty output exists and not
        ``overwrite``."""
        paths = [os.path.expanduser(f) if isinstance(f, (str, os.PathLike)) else f
                 for f in (datafile, cdfile, hfile)]
        existing = [p for p in paths if isinstance(p, (str, os.PathLike)) and os.path.exists(p)
                    and os.path.getsize(p) != 0]
        if existing and not overwrite:
            raise OSError("  ".join(f"File '{p}' already exists." for p in existing)
                          + "  If you mean to replace the file(s) then use the argument "
                          "'overwrite=True'.")
        for path in existing:
            os.remove(path)
        datafile, cdfile, hfile = paths
        if not datafile and self._file is not None:
            datafile = os.path.splitext(self._file.name)[0] + ".txt"
        with _text_output(datafile) as out:
            self._dump_data(out)
        if cdfile:
            with _text_output(cdfile) as out:
                self._dump_coldefs(out)
        if hfile:
            self._header.tofile(hfile, sep="\n", endcard=False, padding=False)

    def _dump_data(self, out: Any) -> None:
        writer = csv.writer(out, dialect=_DumpDialect)
        data = self.data
        for row in data:
            line: list[str] = []
            for column in self.columns:
                value = row[column.name]
                fmt = column.format
                if fmt.format in "PQ":
                    code = FITS2NUMPY[fmt.p_format][0]
                    line += ["VLA_Length=", f"{len(value):21d}"]
                    line += [_dump_value(v, code) for v in np.asarray(value).flat]
                    continue
                field = data.dtype.fields[column.name][0]
                code = field.base.char
                if code == "S":
                    code += str(field.base.itemsize)
                if field.shape:
                    line += [_dump_value(v, code) for v in np.asarray(value).flat]
                else:
                    line.append(_dump_value(value, code))
            writer.writerow(line)

    def _dump_coldefs(self, out: Any) -> None:
        for column in self.columns:
            words = [str(column.name), str(column.format)]
            words += ["{!s:16s}".format(value or '""') for value in
                      (getattr(column, a) for a in ("disp", "unit", "dim", "null", "bscale",
                                                    "bzero"))]
            out.write(" ".join(words) + "\n")

    @classmethod
    def load(cls, datafile: Any, cdfile: Any = None, hfile: Any = None, replace: bool = False,
             header: Header | None = None) -> BinTableHDU:
        """A table rebuilt from the text files :meth:`dump` writes. Without ``cdfile`` the
        column formats are inferred from the values; ``hfile`` cards update ``header``
        (or replace it with ``replace``)."""
        if header is None:
            header = Header()
        if hfile:
            cards = Header.fromtextfile(hfile)
            if replace:
                header = cards
            else:
                header.extend(cards, update=True, update_first=True)
        coldefs = cls._load_coldefs(cdfile) if cdfile else None
        data = cls._load_table(datafile, coldefs)
        hdu = cls(data=data, header=header)
        return hdu

    @staticmethod
    def _load_coldefs(source: Any) -> ColDefs:
        columns = []
        with _text_input(source) as lines:
            for line in lines:
                words = line.split()
                if not words:
                    continue
                kwargs: dict[str, Any] = {}
                for key in ("name", "format", "disp", "unit", "dim"):
                    kwargs[key] = words.pop(0).replace('""', "")
                for key in ("null", "bscale", "bzero"):
                    word = words.pop(0).replace('""', "")
                    kwargs[key] = _number(word) if word else word
                columns.append(Column(**kwargs))
        return ColDefs(columns)

    @classmethod
    def _load_table(cls, source: Any, coldefs: ColDefs | None) -> FITS_rec:
        with _text_input(source) as lines:
            rows = list(csv.reader(lines, dialect=_DumpDialect))
        if coldefs is None:
            coldefs = _infer_coldefs(rows)
        data = FITS_rec.from_columns(coldefs, nrows=len(rows), fill=True)
        for r, row in enumerate(rows):
            position = 0
            for index, column in enumerate(coldefs):
                fmt = column.format
                if position < len(row) and row[position] == "VLA_Length=":
                    length = int(row[position + 1])
                    items = row[position + 2:position + 2 + length]
                    position += 2 + length
                    data.field(index)[r] = [_parse_value(v, fmt.p_format) for v in items]
                    continue
                cell = data.field(index)[r]
                count = int(np.prod(np.shape(cell))) if np.ndim(cell) and fmt.format != "X" \
                    else (fmt.recformat.repeat if fmt.format == "X" else 1)
                items = row[position:position + count]
                position += count
                values = [_parse_value(v, fmt.format) for v in items]
                if np.ndim(cell):
                    target = data.field(index)[r]
                    target.flat[:] = values
                    if fmt.format == "X":
                        data.field(index)[r] = target
                else:
                    data.field(index)[r] = values[0]
        return data


# -- helpers ---------------------------------------------------------------------------------------

class _DumpDialect(csv.excel):
    """The text format of BinTableHDU.dump: blank-separated, every value quoted."""

    delimiter = " "
    lineterminator = "\n"
    quotechar = '"'
    quoting = csv.QUOTE_ALL
    skipinitialspace = True


class _text_output:
    """A text file to write: opened (and closed) here when given by name."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.opened = None

    def __enter__(self) -> Any:
        if isinstance(self.target, (str, os.PathLike)):
            self.opened = open(self.target, "w")
            return self.opened
        return self.target

    def __exit__(self, *exc: Any) -> None:
        if self.opened is not None:
            self.opened.close()


class _text_input(_text_output):
    def __enter__(self) -> Any:
        if isinstance(self.target, (str, os.PathLike)):
            self.opened = open(os.path.expanduser(self.target))
            return self.opened
        return self.target


def _dump_value(value: Any, code: str) -> str:
    if code[0] == "S":
        return "{:{size}}".format(value, size=int(code[1:]))
    if code in np.typecodes["AllInteger"] or code == "?":
        return f"{int(value):21d}"
    if code in np.typecodes["Complex"]:
        return f"{value.real:21.15g}+{value.imag:.15g}j"
    return f"{value:#21.15g}"


def _parse_value(text: str, letter: str | None) -> Any:
    if letter == "L" or letter == "X":
        return bool(int(text))
    if letter in ("C", "M"):
        return complex(text)
    if letter in ("E", "D"):
        return float(text)
    if letter in ("B", "I", "J", "K"):
        return int(text)
    # text cells are dumped padded to the column width
    return text.rstrip(" ")


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _infer_coldefs(rows: list[list[str]]) -> ColDefs:
    """Columns (named f0, f1, ...) for dumped rows without a column-definition file: for
    each column the widest, in the order L, B, I, J, K, D, M, A, of the narrowest formats
    holding its values."""
    order = ["L", "B", "I", "J", "K", "D", "M", "A"]
    letters: list[str] = []
    widths: list[int] = []
    lengths: list[int | None] = []
    for row in rows:
        col, position = 0, 0
        while position < len(row):
            if row[position] == "VLA_Length=":
                length = int(row[position + 1])
                values = row[position + 2:position + 2 + length]
                position += 2 + length
            else:
                length = None
                values = [row[position]]
                position += 1
            if col >= len(letters):
                letters.append("L")
                widths.append(0)
                lengths.append(length)
            for text in values:
                letter, width = _value_format(text)
                if order.index(letter) > order.index(letters[col]):
                    letters[col] = letter
                widths[col] = max(widths[col], width)
            col += 1
    columns = []
    for i, letter in enumerate(letters):
        if lengths[i] is not None:
            fmt = f"P{letter}({lengths[i]})"
        else:
            fmt = f"{widths[i]}A" if letter == "A" else letter
        columns.append(Column(name=f"f{i}", format=fmt))
    return ColDefs(columns)


def _value_format(text: str) -> tuple[str, int]:
    """The narrowest binary format of one dumped value (floats as D, complex as M)."""
    for convert in (int, float, complex):
        try:
            value = convert(text)
        except ValueError:
            continue
        code = np.min_scalar_type(value)
        letter = NUMPY2FITS.get(f"{code.kind}{code.itemsize}", "D")
        return {"E": "D", "C": "M"}.get(letter, letter), 0
    return "A", len(text)



def _storable(dtype: np.dtype, columns: ColDefs | None = None) -> bool:
    """Whether every field of a record dtype is stored in FITS as it is in memory."""
    for i, name in enumerate(dtype.names):
        field = dtype.fields[name][0].base
        code = "S" if field.kind == "S" else f"{field.kind}{field.itemsize}"
        if columns is not None:
            fmt = columns.columns[i].format
            if getattr(fmt, "format", None) == "L" and code == "i1":
                continue
            if isinstance(fmt.recformat, _FormatP) or getattr(fmt, "format", "") == "X":
                if code in ("i4", "i8", "u1"):
                    continue
                return False
            if not hasattr(fmt, "repeat"):
                # ASCII table columns are text fields
                if code != "S":
                    return False
                continue
        if code != "S" and code not in _STORABLE:
            return False
    return True


def _writable(data: FITS_rec) -> bool:
    base: Any = data
    while isinstance(base, np.ndarray):
        if not base.flags.writeable:
            return False
        base = base.base
    return True


def _same_start(a: np.ndarray, b: np.ndarray) -> bool:
    return a.__array_interface__["data"][0] == b.__array_interface__["data"][0]


def _in_stored_order(rows: np.ndarray) -> bool:
    """Whether ``rows`` are C-contiguous with every field as FITS stores it (big-endian or
    of single bytes): their memory is then the table's bytes."""
    fields = rows.dtype.fields
    return rows.flags.c_contiguous and all(fields[n][0].base.byteorder in ">|"
                                           for n in rows.dtype.names)


def _empty_table(columns: ColDefs) -> FITS_rec:
    """A table of no rows with ``columns``."""
    data = np.zeros(0, dtype=columns.dtype).view(FITS_rec)
    data._coldefs = columns
    return data


def _is_astropy_table(data: Any) -> bool:
    return any(cls.__module__.startswith("astropy.table") and cls.__name__ == "Table"
               for cls in type(data).__mro__)


def table_to_hdu(table: Any, character_as_bytes: bool = False,
                 name: str | None = None) -> BinTableHDU:
    """A :class:`BinTableHDU` for an astropy ``Table``: masked values filled (NaN for
    floats, '' for strings, TNULL for integers), units as TUNIT, display formats as TDISP,
    ``meta`` as header cards; Time columns are encoded by astropy's FITS time convention."""
    header = None
    if table.has_mixin_columns:
        from astropy.table.column import BaseColumn
        from astropy.time import Time
        from astropy.units import Quantity

        unsupported = table.columns.not_isinstance((BaseColumn, Quantity, Time))
        if unsupported:
            names = [col.info.name for col in unsupported]
            raise ValueError(f"cannot write table with mixin column(s) {names}")
        if table.columns.isinstance(Time):
            from fitsbind.fitstime import time_to_fits

            table, header = time_to_fits(table)
    array = table.as_array()
    if isinstance(array, np.ma.MaskedArray):
        defaults = np.ma.default_fill_value(array.dtype)
        for name_, (field, _) in array.dtype.fields.items():
            fill = null_fill_value(field)
            if fill is not None and np.all(array.fill_value[name_] == defaults[name_]):
                array.fill_value[name_] = fill
        hdu = BinTableHDU.from_columns(array.filled(), header=header,
                                       character_as_bytes=character_as_bytes)
        for col in hdu.columns:
            letters = (col.format.format, col.format.p_format)
            if any(letter in ("B", "I", "J", "K") for letter in letters if letter) \
                    and hasattr(table[col.name], "mask"):
                col.null = array[col.name].fill_value.astype(int)
    else:
        hdu = BinTableHDU.from_columns(array, header=header,
                                       character_as_bytes=character_as_bytes)
    if name is not None:
        hdu.name = name
    for col in hdu.columns:
        source = table[col.name]
        if source.info.format is not None:
            disp = python_to_tdisp(source.info.format, logical_dtype=source.info.dtype == bool)
            if disp is not None:
                col.disp = disp
        unit = getattr(source, "unit", None)
        if unit is not None:
            _set_unit(col, unit, table)
    for col_name, info in table.meta.get("__coordinate_columns__", {}).items():
        col = hdu.columns[col_name]
        for attr in ("coord_type", "coord_unit"):
            setattr(col, attr, info.get(attr))
        if info.get("time_ref_pos") is not None:
            col.time_ref_pos = info["time_ref_pos"]
    reserved = {"XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT",
                "TFIELDS", "THEAP"}
    for key, value in table.meta.items():
        if key == "__coordinate_columns__":
            continue
        upper = key.upper()
        if _COLUMN_KEYWORD.match(upper) or upper in reserved:
            warnings.warn(f"Meta-data keyword {key} will be ignored since it conflicts with a "
                          "FITS reserved keyword", FITSUserWarning, stacklevel=2)
            continue
        if key == "comments":
            key = "comment"
        for item in (value if isinstance(value, list) else [value]):
            try:
                if isinstance(value, list):
                    hdu.header.append((key, item))
                else:
                    hdu.header[key] = item
            except ValueError:
                warnings.warn(f"Attribute `{key}` of type {type(value)} cannot be added to "
                              "FITS Header - skipping", FITSUserWarning, stacklevel=2)
    return hdu


def _set_unit(col: Column, unit: Any, table: Any) -> None:
    from astropy.units import Unit
    from astropy.units.format.fits import UnitScaleError

    try:
        col.unit = unit.to_string(format="fits")
    except UnitScaleError:
        raise UnitScaleError(f"The column '{col.name}' could not be stored in FITS format "
                             f"because it has a scale '({unit.scale})' that is not recognized "
                             "by the FITS standard. Either scale the data or change the "
                             "units.") from None
    except ValueError:
        serialized = any("SerializedColumn" in item and "name: " + col.name in item
                         for item in table.meta.get("comments", []))
        tail = ("and hence will be lost to non-astropy fits readers. Within astropy, the unit "
                "can roundtrip using QTable, though one has to enable the unit before reading."
                if serialized else
                "and cannot be recovered in reading. It can roundtrip within astropy by using "
                "QTable both to write and read back, though one has to enable the unit before "
                "reading.")
        warnings.warn(f"The unit '{unit.to_string()}' could not be saved in native FITS format "
                      + tail, FITSUserWarning, stacklevel=3)
    else:
        Unit(col.unit, format="fits", parse_strict="warn")


def _header_int(header: Header, key: str, where: str) -> int:
    """A size card of a table header (0 when missing); any other value is a FITSValueError."""
    value = header.get(key, 0)
    if not is_integer(value) or value < 0:
        raise FITSValueError(f"{where}: {key} = {value!r} is not a size")
    return int(value)
