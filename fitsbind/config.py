"""Run-time settings of the drop-in interface: ``fitsbind.conf``, as ``astropy.io.fits.conf``.

Every setting is a boolean read at the moment it matters (``fitsbind.open`` reads
``use_memmap``, ``lazy_load_hdus`` and ``enable_uint`` on each call), so changing one affects
the next call, never one already made:

- ``enable_record_valued_keyword_cards`` (True): card parsing recognises ``DP1.AXIS.1``-style
  record-valued keywords.
- ``extension_name_case_sensitive`` (False): ``hdu.name = ...`` and the ``name=`` of HDU
  constructors store EXTNAME upper-cased unless this is True. Looking an HDU up by name
  (``hdul["sci"]``, ``index_of``, ``getdata(extname=)``) ignores case either way, as astropy.
- ``strip_header_whitespace`` (True): card string values and comments lose trailing blanks.
- ``use_memmap`` (True): what ``open(memmap=None)`` means; False reads data into memory.
- ``lazy_load_hdus`` (True): what ``open(lazy_load_hdus=None)`` means; False reads every header
  on open, so ``len()`` is known and a truncated or bad HDU is reported there.
- ``enable_uint`` (True): the ``uint`` default of ``open`` and the convenience functions:
  pseudo-unsigned integers (BSCALE 1, BZERO 2**(n-1), in images and table columns) read as
  uint16/32/64; when False as scaled floats.

``conf.set_temp(name, value)`` is a context manager that restores the previous value on exit
(also after an exception); ``conf.reset(name=None)`` restores defaults. Values are checked as
astropy checks them: bools, 0/1, the words true/false, yes/no, on/off, "1"/"0" (any case) and
None; anything else raises ``TypeError``. An unknown name given to ``set_temp``/``reset``
raises ``AttributeError``.

Unlike astropy, fitsbind reads no configuration file (astropy's ``[io.fits]`` section of
``astropy.cfg`` does not apply), so ``conf`` has no ``reload``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Conf", "ConfigItem", "conf"]

_WORDS = {"true": True, "yes": True, "on": True, "1": True,
          "false": False, "no": False, "off": False, "0": False}


class ConfigItem:
    """One boolean setting of :class:`Conf`: a descriptor holding the current value.

    Reading ``conf.<name>`` gives the value; ``Conf.<name>`` gives this item (its ``name``,
    ``defaultvalue``, ``description``); calling the item gives the value too.
    """

    cfgtype = "boolean"
    module = "fitsbind"

    def __init__(self, defaultvalue: bool, description: str) -> None:
        self.defaultvalue = defaultvalue
        self.description = description
        self.name = ""
        self._value: bool | None = defaultvalue

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return self._value

    def __set__(self, obj: Any, value: Any) -> None:
        self.set(value)

    def __call__(self) -> bool | None:
        return self._value

    def _check(self, value: Any) -> bool | None:
        """``value`` as a bool (None stays None, as astropy lets it); TypeError otherwise."""
        if value is None:
            return None
        if isinstance(value, str):
            if value.lower() in _WORDS:
                return _WORDS[value.lower()]
        # equality, not identity, so 0, 1, 1.0 and numpy booleans count (an array of several
        # values raises numpy's ValueError here, as in astropy)
        elif value == False:  # noqa: E712
            return False
        elif value == True:  # noqa: E712
            return True
        raise TypeError(f"Provided value for configuration item {self.name} not valid: the value "
                        f'"{value}" is of the wrong type.')

    def set(self, value: Any) -> None:
        """Give the setting a new value (checked first: a bad one changes nothing)."""
        self._value = self._check(value)

    @contextmanager
    def set_temp(self, value: Any) -> Iterator[None]:
        """Context manager: the setting holds ``value`` inside the ``with`` block only."""
        saved = self._value
        self.set(value)
        try:
            yield
        finally:
            self._value = saved

    def __str__(self) -> str:
        return (f"ConfigItem: {self.name}\n  cfgtype={self.cfgtype!r}\n"
                f"  defaultvalue={self.defaultvalue!r}\n  description={self.description!r}\n"
                f"  module={self.module}\n  value={self._value!r}")

    def __repr__(self) -> str:
        return f"<ConfigItem: name={self.name!r} value={self._value!r} at {id(self):#x}>"


class Conf:
    """The settings of the drop-in interface (astropy.io.fits's ``Conf``); the module docstring
    of :mod:`fitsbind.config` lists them."""

    enable_record_valued_keyword_cards = ConfigItem(
        True, "Parse record-valued keyword cards (DP1.AXIS.1 stored as DP1 = 'AXIS.1: value') of "
        "the FITS WCS distortion paper; when False they are ordinary cards.")
    extension_name_case_sensitive = ConfigItem(
        False, "Store EXTNAME values given to HDU names as they are written; when False they are "
        "upper-cased.")
    strip_header_whitespace = ConfigItem(
        True, "Return header string values and comments without trailing blanks; when False "
        "they keep every blank.")
    use_memmap = ConfigItem(
        True, "Memory-map files opened with memmap=None, so unscaled data are views of the "
        "file; when False data are read into memory.")
    lazy_load_hdus = ConfigItem(
        True, "Read HDU headers only when asked for (files opened with lazy_load_hdus=None); "
        "when False every header is read on open.")
    enable_uint = ConfigItem(
        True, "Read integer data with BSCALE = 1 and BZERO = 2**(BITPIX-1) as unsigned integers "
        "(files opened without uint=); when False as scaled floats.")

    def __iter__(self) -> Iterator[str]:
        return iter(name for name, _ in self.items())

    def keys(self) -> Iterator[str]:
        """The setting names."""
        return iter(self)

    def values(self) -> Iterator[ConfigItem]:
        """The settings' :class:`ConfigItem` objects (call one for its value)."""
        return iter(item for _, item in self.items())

    def items(self) -> Iterator[tuple[str, ConfigItem]]:
        """``(name, ConfigItem)`` pairs."""
        return iter([(name, item) for name, item in type(self).__dict__.items()
                     if isinstance(item, ConfigItem)])

    def _item(self, name: str) -> ConfigItem:
        item = type(self).__dict__.get(name)
        if not isinstance(item, ConfigItem):
            raise AttributeError(f"No configuration parameter '{name}'")
        return item

    def set_temp(self, name: str, value: Any) -> Any:
        """Context manager: setting ``name`` holds ``value`` inside the ``with`` block and
        gets its previous value back on leaving it, however the block ends."""
        return self._item(name).set_temp(value)

    def reset(self, name: str | None = None) -> None:
        """Restore setting ``name`` (every setting when None) to its default."""
        for item in [self._item(name)] if name is not None else self.values():
            item.set(item.defaultvalue)

    def help(self, name: str | None = None) -> None:
        """Print the description and value of setting ``name`` (of every setting when None)."""
        if name is None:
            print(self)
            return
        item = type(self).__dict__.get(name)
        if not isinstance(item, ConfigItem):
            raise KeyError(f"'{name}' is not among configuration items {tuple(self)}")
        print(item)

    def __str__(self) -> str:
        return "Configuration parameters for `fitsbind`.\n\n" + "\n\n".join(map(str, self.values()))


conf = Conf()
