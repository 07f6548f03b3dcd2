"""The HDU base classes of the astropy-compatible model.

An HDU holds a :class:`~fitsbind.header.Header` and, lazily, its data. HDUs read from a file
keep a reference to the :class:`~fitsbind.hdu.file.HDUFile` and their byte offsets; their
data is built on first access of ``.data`` by the subclass's ``_load_data``, usually from
:meth:`_ValidHDU._file_array`, a view of the file's memory map.

Writing goes one way for every HDU type: the subclass's ``_payload()`` returns the exact
bytes of the data unit (and brings the header's structural cards into line with them); the
base sends the header's card images and then those bytes to the direct tier's seam
(``FITS.append_hdu``; in place ``replace_header`` and ``write_data``).

Subclass contract:

- ``_extension``: the XTENSION value (None for primary HDUs) and ``match_header(header)``
  to claim headers when a file is read (subclasses register with :func:`register_hdu`);
- ``_load_data()`` -> the ``.data`` object of an HDU read from a file;
- ``_set_data(value)`` for the ``.data`` setter, keeping the header consistent;
- ``_payload()`` -> array holding the data unit, or None: its raw bytes, or for a plain
  numeric array or a record array its values, which are written big-endian chunk by chunk
  (:func:`stored_chunks`: no big-endian copy of the whole data is made);
- ``_summary()`` -> astropy's ``info()`` row (name, ver, type, cards, dimensions, format).
"""

from __future__ import annotations

import functools
import inspect
import os
import warnings
from typing import Any

import numpy as np

from fitsbind import checksum as _checksum
from fitsbind.card import Card
from fitsbind.config import conf
from fitsbind.direct import FITS, data_unit_size, stored_chunks
from fitsbind.hdu.file import data_size
from fitsbind.header import Header
from fitsbind.util import is_integer
from fitsbind.verify import VerifyError, VerifyWarning, _ErrList, _Verify

__all__ = ["DELAYED", "ExtensionHDU", "NonstandardExtHDU", "register_hdu", "unregister_hdu"]


class _Delayed:
    """Sentinel for ``data=DELAYED``: the data is in a file and is read when first used."""

    def __repr__(self) -> str:
        return "DELAYED"


DELAYED = _Delayed()

_REGISTRY: list[type] = []


def register_hdu(hducls: type) -> None:
    """Make ``hducls`` a candidate when reading HDUs (tried before the built-in classes)."""
    if hducls not in _REGISTRY:
        _REGISTRY.insert(0, hducls)


def unregister_hdu(hducls: type) -> None:
    if hducls in _REGISTRY:
        _REGISTRY.remove(hducls)


def _register_builtin(hducls: type) -> type:
    _REGISTRY.append(hducls)
    return hducls


def class_for(header: Header) -> type:
    """The HDU class whose ``match_header`` claims ``header`` (most specific first)."""
    for cls in (*_REGISTRY, _ValidHDU):
        try:
            if cls.match_header(header):
                return cls
        except Exception:   # a broken third-party matcher must not hide the file
            continue
    return NonstandardExtHDU if "XTENSION" in header else _CorruptedHDU


def xtension(header: Header) -> str | None:
    """The XTENSION value (trailing blanks dropped) when it is the header's first card, as
    an extension's must be; None otherwise. What ``match_header`` methods compare."""
    cards = header.cards
    if not cards or cards[0].keyword != "XTENSION" or not isinstance(cards[0].value, str):
        return None
    return cards[0].value.rstrip()


def _accepted(cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The ``open()`` keyword arguments that ``cls``'s constructor takes."""
    params = _parameters(cls.__init__)
    return {k: v for k, v in kwargs.items() if k in params}


@functools.cache
def _parameters(function: Any) -> frozenset[str]:
    # inspecting a signature costs more than reading a small header: once per class
    return frozenset(inspect.signature(function).parameters)


class _BaseHDU:
    """Header and lazily loaded data of one HDU."""

    _extension: str | None = None
    _standard = True
    _pad_byte = b"\0"
    _default_name = ""

    def __init__(self, data: Any = None, header: Header | None = None, *args: Any,
                 **kwargs: Any) -> None:
        self._header = Header() if header is None else header
        self._file: Any = None
        self._index: int | None = None
        self._offsets: tuple[int, int, int] | None = None
        # (file, index, offsets) and the data checksum of the bytes there
        self._disk_datasum: tuple[tuple, int] | None = None
        self._header_text: str | None = None   # the header as read from the file
        self._data: Any = None
        self._data_loaded = data is not DELAYED
        self._data_replaced = False
        # which checksum cards writing refreshes (True: both, "datasum", "remove", False:
        # none); as astropy, the cards the header comes with decide, or open(checksum=...)
        self._output_checksum: bool | str = False
        # the CHECKSUM/DATASUM values found when the HDU was opened with checksum=True, and
        # whether they matched (None: not checked, or no such card), as astropy keeps them
        self._checksum: str | None = None
        self._checksum_valid: int | None = None
        self._datasum: str | None = None
        self._datasum_valid: int | None = None
        if header is not None:
            # astropy parses both values here, so an unparsable one fails the HDU (VerifyError:
            # the list ends before it, as at any header that does not validate)
            _ = [header[keyword] for keyword in ("DATASUM", "CHECKSUM") if keyword in header]
        if header is not None and "CHECKSUM" in header:
            self._output_checksum = True
        elif header is not None and "DATASUM" in header:
            self._output_checksum = "datasum"

    # -- construction from a file --------------------------------------------------------------

    @classmethod
    def _from_file(cls, hdufile: Any, index: int, header: Header, text: str,
                   offsets: tuple[int, int, int], **kwargs: Any) -> _BaseHDU:
        hdu = cls(data=DELAYED, header=header, **_accepted(cls, kwargs))
        hdu._file = hdufile
        hdu._index = index
        hdu._offsets = offsets
        hdu._header_text = text
        hdu._data_loaded = False
        if "checksum" in kwargs:
            hdu._output_checksum = kwargs["checksum"]
        return hdu

    # -- header --------------------------------------------------------------------------------

    @property
    def header(self) -> Header:
        return self._header

    @header.setter
    def header(self, value: Header) -> None:
        self._header = value

    @property
    def name(self) -> str:
        """EXTNAME (the class's default name when there is none), as a string."""
        return str(self._header.get("EXTNAME", self._default_name))

    @name.setter
    def name(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("'name' attribute must be a string")
        if not conf.extension_name_case_sensitive:
            value = value.upper()
        self._set_naming_card("EXTNAME", value, "extension name")

    @property
    def ver(self) -> int:
        return self._header.get("EXTVER", 1)

    @ver.setter
    def ver(self, value: int) -> None:
        if not isinstance(value, (int, np.integer)):
            raise TypeError("'ver' attribute must be an integer")
        self._set_naming_card("EXTVER", value, "extension value")

    @property
    def level(self) -> int:
        return self._header.get("EXTLEVEL", 1)

    @level.setter
    def level(self, value: int) -> None:
        if not isinstance(value, (int, np.integer)):
            raise TypeError("'level' attribute must be an integer")
        self._set_naming_card("EXTLEVEL", value, "extension level")

    def _set_naming_card(self, keyword: str, value: Any, comment: str) -> None:
        """Set ``keyword``; a card already there keeps its comment and place (as astropy),
        a new one gets ``comment``."""
        if keyword in self._header:
            self._header[keyword] = value
        else:
            self._header[keyword] = (value, comment)

    @property
    def is_image(self) -> bool:
        return self.name == "PRIMARY" or self._header.get("XTENSION") == "IMAGE" or (
            self._header.get("XTENSION") == "BINTABLE" and self._header.get("ZIMAGE") is True)

    # -- data ---------------------------------------------------------------------------------

    @property
    def data(self) -> Any:
        if not self._data_loaded:
            self._data = self._load_data()
            self._data_loaded = True
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._set_data(value)
        self._data_loaded = True
        self._data_replaced = True

    @data.deleter
    def data(self) -> None:
        self._data = None
        self._data_loaded = self._file is None

    def _load_data(self) -> Any:
        return None

    def _set_data(self, value: Any) -> None:
        self._data = value

    @property
    def _has_data(self) -> bool:
        if self._data_loaded:
            return self._data is not None
        return self._offsets is not None and self._offsets[2] > self._offsets[1]

    def _payload(self) -> np.ndarray | None:
        return None

    def _disk_header_text(self) -> str:
        """The header's cards as they go to the file (END and padding excluded)."""
        return self._header.tostring(endcard=False, padding=False)

    @property
    def _first_keyword(self) -> str | None:
        """The keyword of the first card written for this HDU (None: no card)."""
        return self._header.cards[0].keyword if len(self._header) else None

    def _written_header_text(self, text: str | None = None) -> str:
        """The header text handed to the direct tier to write: :meth:`_disk_header_text`
        (``text``, when the caller has made it already), except that a header without axes
        gets PCOUNT = 0 there (with a VerifyWarning).

        astropy, like the FITS standard, gives an HDU with NAXIS = 0 no data whatever PCOUNT
        says, and the model writes no data for it; but CFITSIO counts PCOUNT x GCOUNT bytes
        of data for it and would grow the file by that much (10 GB for a stray PCOUNT =
        10**10). CFITSIO reads NAXIS as the third card only, so that is where it is looked
        for; the header in memory keeps its cards."""
        if text is None:
            text = self._disk_header_text()
        if not text.startswith(_NAXIS_ZERO, 160):
            return text
        at = text.find(_PCOUNT)
        while at > 0 and at % 80:
            at = text.find(_PCOUNT, at + 1)
        if at < 0 or _card_value(text, at) in ("0", ""):
            return text
        warnings.warn(f"{self._where()}: NAXIS = 0 and PCOUNT = {_card_value(text, at)}: the HDU "
                      "has no data, and its header is written with PCOUNT = 0", VerifyWarning,
                      stacklevel=5)
        return text[:at] + str(Card("PCOUNT", 0)) + text[at + 80:]

    def _keep_disk_size(self) -> None:
        """Before a flush: when the data was never read but the cards that size it (BITPIX,
        NAXISn, PCOUNT, GCOUNT) were changed, put them back as the file has them. The data
        stays on disk as it is, so the header must go on describing it; astropy likewise
        writes those cards from the data's own shape."""
        if self._data_loaded or self._header_text is None or self._offsets is None:
            return
        _, data, end = self._offsets
        try:
            if _checksum.padded_length(data_size(self._header) or 0) == end - data:
                return
        except (KeyError, TypeError):
            pass
        disk = Header.fromstring(self._header_text)
        naxis = max(n for n in (disk.get("NAXIS"), self._header.get("NAXIS"), 0)
                    if isinstance(n, int))
        previous = None
        for key in ("BITPIX", "NAXIS", *(f"NAXIS{i}" for i in range(1, naxis + 1)), "PCOUNT",
                    "GCOUNT"):
            if key not in disk:
                self._header.remove(key, ignore_missing=True)
                continue
            if key in self._header:
                self._header[key] = disk[key]
            else:
                self._header.set(key, disk[key], disk.comments[key], after=previous)
            previous = key

    def _where(self) -> str:
        """The HDU for error messages: "<file>, HDU <index>" for an HDU read from a file."""
        if self._file is None or self._index is None:
            return f"HDU {self.name!r}"
        return f"{self._file.name}, HDU {self._index}"

    def _file_array(self, offset: int, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
        """``dtype``/``shape`` data ``offset`` bytes into this HDU's data unit: a view of the
        file's memory map (see :mod:`fitsbind.hdu.file` for its writability by mode), or an
        array read through CFITSIO."""
        if self._file is None or self._offsets is None:
            raise ValueError("this HDU is not associated with a file")
        return self._file.array(self._index, self._offsets[1] + offset, dtype, shape)

    def _is_mapped(self, array: np.ndarray | None) -> bool:
        """Whether ``array`` is a view of this HDU's own bytes in the file's shared map, so
        writing it back is a no-op."""
        if array is None or self._file is None or self._offsets is None:
            return False
        mapped = self._file.mapping()
        if mapped is None or not np.shares_memory(array, mapped):
            return False
        start = array.__array_interface__["data"][0] - mapped.__array_interface__["data"][0]
        return start == self._offsets[1] and array.flags.c_contiguous

    # -- size and location -----------------------------------------------------------------------

    def _header_bytes(self) -> bytes:
        return self._header.tostring().encode("ascii")

    def filebytes(self) -> int:
        """Bytes the HDU takes in a file: header and data, each padded to 2880."""
        payload = self._payload()
        nbytes = 0 if payload is None else payload.nbytes
        return len(self._header_bytes()) + _checksum.padded_length(nbytes)

    def fileinfo(self) -> dict[str, Any] | None:
        """Where the HDU is in its file (None for HDUs not read from a file)."""
        if self._file is None or self._offsets is None:
            return None
        head, data, end = self._offsets
        return {"file": self._file, "filemode": self._file.mode, "hdrLoc": head, "datLoc": data,
                "datSpan": _checksum.padded_length(end - data)}

    @property
    def _data_offset(self) -> int | None:
        """Byte offset of the data unit in the file the HDU was read from (None for an HDU
        made in memory); astropy's attribute of the same name. Subclasses written for astropy
        set it (the value set is only reported back)."""
        if "_data_offset_set" in self.__dict__:
            return self.__dict__["_data_offset_set"]
        return None if self._offsets is None else self._offsets[1]

    @_data_offset.setter
    def _data_offset(self, value: int | None) -> None:
        self.__dict__["_data_offset_set"] = value

    @property
    def _data_size(self) -> int:
        """Bytes of the data unit padded to whole 2880-byte blocks: in the file the HDU was
        read from, else as the header describes it; astropy's attribute of the same name."""
        if self._offsets is not None:
            return self._offsets[2] - self._offsets[1]
        return _checksum.padded_length(data_size(self._header) or 0)

    # -- construction from bytes -------------------------------------------------------------

    @classmethod
    def fromstring(cls, data: Any, **kwargs: Any) -> _BaseHDU:
        """The HDU whose header and data unit are the bytes ``data`` (any object with the
        buffer interface; the data unit's padding may be missing). Its class follows from the
        header; ``cls`` other than the base must be among its bases (TypeError otherwise).
        Keywords as :func:`fitsbind.open`'s."""
        from fitsbind.hdu.hdulist import HDUList

        hdus = HDUList.fromstring(data, ignore_missing_simple=True, **kwargs)
        return cls._first_of(hdus, "the bytes given")

    @classmethod
    def readfrom(cls, fileobj: Any, checksum: bool = False, ignore_missing_end: bool = False,
                 **kwargs: Any) -> _BaseHDU:
        """The first HDU of ``fileobj``: a path (only that HDU is read, header and data) or a
        readable binary file object (read from where it stands to its end); as
        :meth:`fromstring` otherwise."""
        from fitsbind.hdu.hdulist import HDUList

        options = dict(checksum=checksum, ignore_missing_end=ignore_missing_end,
                       ignore_missing_simple=True, **kwargs)
        if not isinstance(fileobj, (str, bytes, os.PathLike)):
            return cls._first_of(HDUList.fromstring(fileobj.read(), **options), repr(fileobj))
        with HDUList.fromfile(fileobj, memmap=False, **options) as hdus:
            hdu = cls._first_of(hdus, repr(fileobj))
            hdu.data  # noqa: B018 - read now: the file closes when this block ends
        return hdu

    @classmethod
    def _first_of(cls, hdus: Any, source: str) -> _BaseHDU:
        if not hdus:
            raise ValueError(f"{source}: no HDU found")
        hdu = hdus[0]
        if cls is not _BaseHDU and not isinstance(hdu, cls):
            raise TypeError(f"{source}: the header describes a {type(hdu).__name__}, not a "
                            f"{cls.__name__}")
        return hdu

    # -- checksums ----------------------------------------------------------------------------

    def _calculate_datasum(self) -> int:
        """Checksum of the data unit: the file's bytes while the data is not loaded, else
        of what writing would store."""
        if not self._data_loaded and self._file is not None and self._offsets is not None:
            # verifying DATASUM and then CHECKSUM sums the same bytes: once is enough while
            # the HDU sits at the same place of the same file
            key = (id(self._file), self._index, self._offsets)
            if self._disk_datasum is None or self._disk_datasum[0] != key:
                self._disk_datasum = (key, self._file.datasum(self._index))
            return self._disk_datasum[1]
        return self._sum_of(self._payload())

    def _sum_of(self, payload: np.ndarray | None) -> int:
        """Checksum of the data unit ``payload`` fills, its block padding included."""
        if payload is None or payload.nbytes == 0:
            return 0
        total = 0
        for chunk in stored_chunks(payload):
            total = _checksum.ones_complement_sum(chunk, total)
        pad = _checksum.padded_length(payload.nbytes) - payload.nbytes
        if pad and self._pad_byte != b"\0":
            total = _checksum.ones_complement_sum(_pad_bytes(payload.nbytes, pad, self._pad_byte),
                                                  total)
        return total

    def _get_timestamp(self) -> str:
        """The time the comments of CHECKSUM and DATASUM cards written now give: local time
        to the second, ISO 8601 ("2007-05-30T19:05:11"). Checksums cover those comments, so
        replacing this method (as astropy's tests do) makes checksums reproducible."""
        return _checksum.timestamp()

    def _set_datasum(self, value: int, when: str | None, keyword: str) -> None:
        comment = when if when is not None else \
            _checksum.timestamp_comment("data unit checksum", self._get_timestamp())
        self._header[keyword] = (str(value), comment)

    def _checksum_value(self, datasum: int, keyword: str) -> str:
        """The value ``keyword`` must hold for header plus data (sum ``datasum``) to sum to
        -0: the header is summed with that card's value as sixteen zeros."""
        header = self._header
        if header[keyword] != "0" * 16:
            header = header.copy()
            header[keyword] = "0" * 16
        text = header.tostring().encode("ascii")
        return _checksum.encode(_checksum.ones_complement_sum(text, datasum))

    def _set_checksum(self, datasum: int, when: str | None, keyword: str,
                      datasum_keyword: str) -> None:
        """Set ``keyword`` for the data sum ``datasum``; it goes just before
        ``datasum_keyword`` when the header has that card, else in place or at the end."""
        comment = when if when is not None else \
            _checksum.timestamp_comment("HDU checksum", self._get_timestamp())
        if datasum_keyword in self._header:
            self._header.set(keyword, "0" * 16, comment, before=datasum_keyword)
        else:
            self._header.set(keyword, "0" * 16, comment)
        self._header[keyword] = self._checksum_value(datasum, keyword)

    def add_datasum(self, when: str | None = None, datasum_keyword: str = "DATASUM") -> int:
        """Put the data unit's checksum in ``datasum_keyword`` (comment ``when``, by default
        the time); return it."""
        value = self._calculate_datasum()
        self._set_datasum(value, when, datasum_keyword)
        return value

    def add_checksum(self, when: str | None = None, override_datasum: bool = False,
                     checksum_keyword: str = "CHECKSUM", datasum_keyword: str = "DATASUM") -> None:
        """Put the HDU checksum in ``checksum_keyword`` so the whole HDU sums to -0, and the
        data sum in ``datasum_keyword`` unless ``override_datasum`` (which leaves that card
        as it is, or absent)."""
        datasum = self._calculate_datasum()
        if not override_datasum:
            self._set_datasum(datasum, when, datasum_keyword)
        self._set_checksum(datasum, when, checksum_keyword, datasum_keyword)

    def verify_datasum(self) -> int:
        """1 if DATASUM matches the data, 0 if not, 2 if there is no DATASUM."""
        if "DATASUM" not in self._header:
            return 2
        try:
            stored = int(self._header["DATASUM"])
        except (TypeError, ValueError, VerifyError):
            return 0           # a card that holds no number matches no data
        return 1 if stored == self._calculate_datasum() else 0

    def verify_checksum(self) -> int:
        """1 if CHECKSUM is the value the header and data call for, 0 if not, 2 if there is
        no CHECKSUM. As astropy, the data count only when the header has a DATASUM card."""
        if "CHECKSUM" not in self._header:
            return 2
        datasum = self._calculate_datasum() if "DATASUM" in self._header else 0
        try:
            stored = self._header["CHECKSUM"]
        except VerifyError:
            return 0           # an unparsable card matches no checksum
        return 1 if stored == self._checksum_value(datasum, "CHECKSUM") else 0

    def _refresh_checksums(self, payload: np.ndarray | None) -> None:
        """Bring CHECKSUM/DATASUM up to date before the HDU is written, as
        ``_output_checksum`` asks; ``payload`` is the data unit about to be written (ignored
        while the data is not loaded: the file's bytes are summed then)."""
        mode = self._output_checksum
        if mode == "remove":
            self._header.remove("CHECKSUM", ignore_missing=True)
            self._header.remove("DATASUM", ignore_missing=True)
            return
        if not mode:
            return
        datasum = self._sum_of(payload) if self._data_loaded else self._calculate_datasum()
        self._set_datasum(datasum, None, "DATASUM")
        if mode != "datasum":
            self._set_checksum(datasum, None, "CHECKSUM", "DATASUM")

    # -- writing ------------------------------------------------------------------------------

    def _write_to(self, fits: FITS, payload: np.ndarray | None) -> int:
        """Append this HDU to the direct tier's open file ``fits``, with ``payload`` (what
        ``_payload()`` returned) as its data unit; return its index there."""
        return fits.append_hdu(self._written_header_text(), payload)

    def writeto(self, name: Any, output_verify: str = "exception", overwrite: bool = False,
                checksum: bool = False) -> None:
        """Write this HDU to a new file (after a minimal primary HDU if it is an extension)."""
        from fitsbind.hdu.hdulist import HDUList
        from fitsbind.hdu.image import PrimaryHDU

        hdus = [self] if self._extension is None else [PrimaryHDU(), self]
        HDUList(hdus).writeto(name, output_verify=output_verify, overwrite=overwrite,
                              checksum=checksum)

    def copy(self) -> _BaseHDU:
        """A new HDU with a copy of the header and of the data."""
        data = self.data
        return self.__class__(data=None if data is None else data.copy(),
                              header=self._header.copy())

    def __repr__(self) -> str:
        return f"<{type(self).__module__.replace('fitsbind.hdu.', 'fitsbind.')}." \
               f"{type(self).__name__} object at {id(self):#x}>"

    def _summary(self) -> tuple:
        return (self.name, self.ver, type(self).__name__, len(self._header))


_NAXIS_ZERO = "NAXIS   =                    0"
_PCOUNT = "PCOUNT  ="


def _card_value(text: str, at: int) -> str:
    """The value field of the card at ``text[at:at + 80]`` (its comment dropped), stripped."""
    return text[at + 10:at + 80].split("/", 1)[0].strip()


def _pad_bytes(start: int, count: int, fill: bytes) -> bytes:
    """``count`` padding bytes placed after ``start`` bytes, aligned for summing: the sum
    works on 4-byte words from the start of the data unit."""
    lead = start % 4
    return b"\0" * lead + fill * count


class _ValidHDU(_BaseHDU, _Verify):
    """An HDU with a standard header: verifiable, writable. Read from a file, an HDU whose
    header starts with neither SIMPLE nor XTENSION is one of this class itself (as in
    astropy: its cards are readable, it has no data)."""

    @classmethod
    def match_header(cls, header: Header) -> bool:
        # subclasses claim headers by their own rules
        return cls is _ValidHDU and len(header) > 0 and \
            header.cards[0].keyword not in ("SIMPLE", "XTENSION")

    @property
    def _primary_like(self) -> bool:
        """Whether the header is verified as a primary one (SIMPLE first, no PCOUNT/GCOUNT
        needed) rather than an extension's."""
        return self._extension is None

    def _verify(self, option: str = "warn") -> _ErrList:
        """The checks every standard HDU passes, in astropy's order (so reports list the
        same problems first): the first card, BITPIX, NAXIS and NAXISn in their places,
        no NAXISj beyond NAXIS, a string EXTNAME; then each card on its own. Subclasses
        add theirs after these."""
        from fitsbind.hdu.image import BITPIX2DTYPE  # image builds on this module

        errs = _ErrList([], unit="Card")
        if self._primary_like:
            self.req_cards("SIMPLE", 0, None, True, option, errs)
        else:
            self.req_cards("XTENSION", 0, None, self._extension, option, errs)
        self.req_cards("BITPIX", 1, lambda v: is_integer(v) and v in BITPIX2DTYPE, 8, option, errs)
        self.req_cards("NAXIS", 2, lambda v: is_integer(v) and 0 <= v <= 999, 0, option, errs)
        naxis = self._header.get("NAXIS", 0)
        if is_integer(naxis) and naxis <= 999:
            for axis in range(1, naxis + 1):
                keyword = f"NAXIS{axis}"
                self.req_cards(keyword, axis + 2, lambda v: is_integer(v) and v >= 0,
                               _axis_length(self._header.get(keyword)), option, errs)
            self._verify_axis_numbers(naxis, option, errs)
        if "EXTNAME" in self._header and not isinstance(self._header["EXTNAME"], str):
            def fix() -> None:
                self._header["EXTNAME"] = str(self._header["EXTNAME"])
            errs.append(self.run_option(
                option, err_text="The EXTNAME keyword must have a string value.",
                fix_text="Converted the EXTNAME keyword to a string value.", fix=fix))
        for card in self._header.cards:
            errs.append(card._verify(option))
        return errs

    def _verify_axis_numbers(self, naxis: int, option: str, errs: _ErrList) -> None:
        """Record (and with a fix option, delete) NAXISj cards whose j is not 1..``naxis``:
        a stale NAXIS3 left after NAXIS went from 3 to 2 would describe another data unit."""
        for keyword in list(self._header.keys()):
            if not keyword.startswith("NAXIS") or len(keyword) == 5:
                continue
            suffix = keyword[5:]
            if suffix.isdigit() and 1 <= int(suffix) <= naxis:
                continue

            def fix(keyword: str = keyword) -> None:
                del self._header[keyword]
            errs.append(self.run_option(
                option, err_text=f"NAXISj keyword out of range ('{keyword}' when NAXIS == {naxis})",
                fix_text="Deleted.", fix=fix))

    def req_cards(self, keyword: str, pos: Any, test: Any, fix_value: Any, option: str,
                  errlist: list) -> list:
        """Check that ``keyword`` is present and passes ``test`` (a function of the value);
        record (and, with a fix option, repair) what is wrong in ``errlist``, and return it.

        ``pos`` is where the card must be: an index, a function of the card's index that says
        whether the place is right, or None (anywhere). A missing card is inserted at ``pos``
        (an index) or at the end, with ``fix_value``; a card failing ``test`` is given
        ``fix_value``. ``fix_value`` None makes those problems unfixable."""
        header = self._header
        fixable = fix_value is not None
        place = (lambda index: index == pos) if is_integer(pos) else pos
        if keyword not in header:
            text = f"'{keyword}' card does not exist."
            fix_text = f"Fixed by inserting a new '{keyword}' card."

            def fix(keyword: str = keyword) -> None:
                header.insert(pos if is_integer(pos) else len(header), (keyword, fix_value))
            errlist.append(self.run_option(option, err_text=text, fix_text=fix_text,
                                           fix=fix if fixable else None, fixable=fixable))
            return errlist
        index = header.index(keyword)
        if place is not None and not place(index):
            target = pos if is_integer(pos) else len(header)
            text = f"'{keyword}' card at the wrong place (card {index})."
            fix_text = f"Fixed by moving it to the right place (card {target})."

            def move() -> None:
                card = header.cards[index]
                del header[index]
                header.insert(target, card)
            errlist.append(self.run_option(option, err_text=text, fix_text=fix_text, fix=move))
        value = header[keyword]
        if test is not None and not test(value):
            text = f"'{keyword}' card has invalid value '{value}'."
            fix_text = f"Fixed by setting a new value '{fix_value}'."

            def set_value() -> None:
                header[keyword] = fix_value
            errlist.append(self.run_option(option, err_text=text, fix_text=fix_text,
                                           fix=set_value if fixable else None, fixable=fixable))
        return errlist


def _axis_length(value: Any) -> int:
    """The NAXISn value verify('fix') puts in place of ``value``: the number it holds (11.0,
    "10.0" and "7" give 11, 10 and 7), or 1 when it holds none."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 1
    return int(number) if number.is_integer() and number >= 0 else 1


class ExtensionHDU(_ValidHDU):
    """Any extension HDU (XTENSION first)."""

    _extension = ""
    _pcount_is_zero = False     # True for extensions without a heap (IMAGE)

    def __init__(self, data: Any = None, header: Header | None = None, name: str | None = None,
                 ver: int | None = None, **kwargs: Any) -> None:
        super().__init__(data=data, header=header)
        if name is not None:
            self.name = name
        if ver is not None:
            self.ver = ver

    @classmethod
    def match_header(cls, header: Header) -> bool:
        raise NotImplementedError

    def _verify(self, option: str = "warn") -> _ErrList:
        errs = super()._verify(option=option)
        if self._primary_like:
            return errs
        naxis = self._header.get("NAXIS", 0)
        naxis = naxis if is_integer(naxis) else 0    # a bad NAXIS is reported by the base
        if self._pcount_is_zero:
            self.req_cards("PCOUNT", naxis + 3, lambda v: is_integer(v) and v == 0, 0, option, errs)
        else:
            self.req_cards("PCOUNT", naxis + 3, lambda v: is_integer(v) and v >= 0, 0, option, errs)
        self.req_cards("GCOUNT", naxis + 4, lambda v: is_integer(v) and v == 1, 1, option, errs)
        return errs


class NonstandardExtHDU(ExtensionHDU):
    """An extension of a type this library does not model: its data are raw bytes."""

    @classmethod
    def match_header(cls, header: Header) -> bool:
        return "XTENSION" in header

    def _load_data(self) -> np.ndarray:
        # the size the HDU was located by (TruncatedDataError if the file ends before it)
        return self._file_array(0, np.uint8, (data_size(self._header) or 0,))

    def _payload(self) -> np.ndarray | None:
        return None if self.data is None else np.ascontiguousarray(self.data).view(np.uint8)

    def _summary(self) -> tuple:
        return (self.name, self.ver, type(self).__name__, len(self._header))


@_register_builtin
class _NonstandardHDU(_BaseHDU, _Verify):
    """A first HDU whose SIMPLE is F: the file says it does not follow the standard. Its
    header is kept as read and its data are the bytes of its data unit, padding included
    (uint8); it is written back as it is."""

    _standard = False

    @classmethod
    def match_header(cls, header: Header) -> bool:
        cards = header.cards
        return bool(cards) and cards[0].keyword == "SIMPLE" and cards[0].value is False

    def _load_data(self) -> np.ndarray:
        _, start, end = self._offsets
        return self._file_array(0, np.uint8, (end - start,))

    def _payload(self) -> np.ndarray | None:
        if self.data is None:
            return None
        data = np.ascontiguousarray(self.data).reshape(-1).view(np.uint8)
        # read, the data ran to the end of the file; written, it is the data unit the header
        # describes (BITPIX, NAXISn), without padding. Bytes beyond that are not dropped
        # silently.
        size = data_unit_size(self._header)
        if data[_checksum.padded_length(size):].any():
            raise ValueError(f"{self._where()}: SIMPLE = F, and the data holds bytes beyond the "
                             f"{size} the header describes; only what the header describes "
                             "can be written")
        return data[:size]

    def _verify(self, option: str = "warn") -> _ErrList:
        # nothing structural can be expected of it: only its cards are checked
        errs = _ErrList([], unit="Card")
        for card in self._header.cards:
            errs.append(card._verify(option))
        return errs

    def _summary(self) -> tuple:
        return (self.name, self.ver, "NonstandardHDU", len(self._header))


class _CorruptedHDU(_BaseHDU, _Verify):
    """An HDU whose header does not describe a valid HDU."""

    def _verify(self, option: str = "warn") -> _ErrList:
        # its cards cannot be checked against a kind of HDU it is not: one error, which no
        # option can fix, says why
        errs = _ErrList([], unit="Card")
        errs.append(self.run_option(option, err_text="The header describes no valid HDU (no "
                                    "HDU class matches it): the HDU is corrupted.",
                                    fixable=False))
        return errs

    def _summary(self) -> tuple:
        return (self.name, self.ver, "CorruptedHDU")

