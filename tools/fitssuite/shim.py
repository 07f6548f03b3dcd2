"""Name resolution for astropy's io.fits tests run against fitsbind.

The runner rewrites every ``astropy.io.fits`` import in the copied tests into calls of
:func:`module` and :func:`name` below. A name resolves to fitsbind's object when fitsbind has it.
When it does not, the name falls back to astropy's object only if it is one of astropy's private
helpers (a leading underscore anywhere in its dotted path, or a module astropy does not document
as public, :data:`PRIVATE_MODULES`); a public name fitsbind lacks becomes a :class:`Missing`
placeholder, so exactly the tests that use it fail.

This file is copied next to the rewritten tests; it is not part of the fitsbind package.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

# Modules of astropy.io.fits that its API reference does not document: tests reach into them for
# helpers (astropy's file object, ASCII codecs), not for anything a pipeline imports.
PRIVATE_MODULES = frozenset({"file", "util"})


def _private(path: str) -> bool:
    parts = [p for p in path.split(".") if p]
    return bool(parts) and (parts[0] in PRIVATE_MODULES or any(p.startswith("_") for p in parts))


def _import(root: str, path: str) -> types.ModuleType | None:
    """The module ``root.path`` (``root`` alone for an empty path), or None if it does not exist."""
    full = f"{root}.{path}" if path else root
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as exc:
        # A module that exists but fails to import for another reason is a real failure.
        if exc.name is not None and full.startswith(exc.name):
            return None
        raise


def _join(path: str, attr: str) -> str:
    return f"{path}.{attr}" if path else attr


class Missing:
    """Stands for a public astropy.io.fits name that fitsbind does not have; any use raises."""

    def __init__(self, path: str) -> None:
        object.__setattr__(self, "_path", path)

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise ImportError(f"fitsbind has no astropy.io.fits.{self._path}")

    def __getattr__(self, attr: str) -> Any:
        self._fail()

    __call__ = __iter__ = __enter__ = __getitem__ = __setattr__ = _fail

    def __mro_entries__(self, bases: tuple) -> tuple:
        self._fail()

    def __repr__(self) -> str:
        return f"<missing astropy.io.fits.{self._path}>"


class Proxy:
    """fitsbind's module at ``path`` (relative to the package), as the tests see it."""

    __slots__ = ("_path",)

    def __init__(self, path: str) -> None:
        object.__setattr__(self, "_path", path)

    def _target(self) -> types.ModuleType:
        """The module attribute writes go to: fitsbind's, or astropy's for a private one."""
        mod = _import("fitsbind", self._path)
        if mod is None:
            mod = _import("astropy.io.fits", self._path)
        return mod

    def __getattr__(self, attr: str) -> Any:
        found = _resolve(self._path, attr)
        if isinstance(found, Missing):
            raise AttributeError(f"fitsbind has no astropy.io.fits.{_join(self._path, attr)}")
        return found

    def __setattr__(self, attr: str, value: Any) -> None:
        setattr(self._target(), attr, value)

    def __delattr__(self, attr: str) -> None:
        delattr(self._target(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._target())

    def __repr__(self) -> str:
        return f"<fitsbind as astropy.io.fits{'.' if self._path else ''}{self._path}>"


def _resolve(path: str, attr: str) -> Any:
    full = _join(path, attr)
    mod = _import("fitsbind", path)
    if mod is not None:
        if hasattr(mod, attr):
            value = getattr(mod, attr)
            if isinstance(value, types.ModuleType) and value.__name__.startswith("fitsbind"):
                return Proxy(full)
            return value
        if _import("fitsbind", full) is not None:
            return Proxy(full)
    if _private(full):
        amod = _import("astropy.io.fits", path)
        if amod is not None:
            if hasattr(amod, attr):
                return getattr(amod, attr)
            sub = _import("astropy.io.fits", full)
            if sub is not None:
                return sub
    return Missing(full)


def module(path: str) -> Proxy:
    """``from astropy.io import fits`` (path "") or ``import astropy.io.fits.<path>``."""
    return Proxy(path)


def name(path: str, attr: str) -> Any:
    """``from astropy.io.fits.<path> import <attr>``."""
    return _resolve(path, attr)
