"""Checking FITS structures against the standard, with the verify options of astropy.io.fits.

Anything that can be checked (a :class:`~fitsbind.card.Card`, an HDU, an HDUList) derives from
:class:`_Verify` and gets a public ``verify(option="warn")``.

Contract for a class that plugs into this machinery
----------------------------------------------------
* Implement ``_verify(self, option: str) -> _ErrList``. ``option`` is already lower-cased and is
  one of :data:`VERIFY_OPTIONS` other than ``"ignore"`` (``verify`` returns before calling
  ``_verify`` for ``"ignore"``).
* For every problem found, call ``self.run_option(option, err_text=..., fix_text=..., fix=...,
  fixable=...)``. It runs ``fix()`` when ``option`` asks for fixing and the problem is fixable,
  and returns a ``(fixable, message)`` pair; append that pair to the returned ``_ErrList``.
* A container verifies its members by calling their ``_verify(option)`` and appending each
  member's ``_ErrList`` (even an empty one) to its own list, in member order. The container's
  list gets ``unit="HDU"`` (or ``"Card"``, ...): the report then labels the members' messages
  ``HDU 0:``, ``HDU 1:``, ... by their position among the nested lists.

How ``verify`` reports, by option (``fix`` alone means ``fix+exception``, likewise
``silentfix``):

========================  ==========================================================
``ignore``                nothing is checked
``warn`` / ``exception``  nothing is fixed; every problem is reported, as one
                          :class:`VerifyWarning` per line, or one :class:`VerifyError`
``fix+warn``              fixable problems are fixed; all problems are warned about
``fix+exception``         fixable problems are fixed; if some problem could not be
                          fixed a :class:`VerifyError` lists them all, else warnings do
``fix+ignore``            fixable problems are fixed; only the fixed ones are warned about
``silentfix+warn``        fixable problems are fixed quietly; the unfixable are warned about
``silentfix+exception``   as above, but the unfixable raise a :class:`VerifyError`
``silentfix+ignore``      fixable problems are fixed; nothing is reported
========================  ==========================================================
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from textwrap import indent

__all__ = [
    "VERIFY_OPTIONS",
    "AstropyDeprecationWarning",
    "AstropyUserWarning",
    "FITSUserWarning",
    "VerifyError",
    "VerifyWarning",
]


class VerifyError(Exception):
    """A FITS structure does not meet the standard and the verify option demands an error."""


try:
    # Pipelines filter on astropy's classes (warnings.filterwarnings(..., AstropyUserWarning));
    # with astropy installed, fitsbind's warnings are instances of them so those filters keep
    # working. Costs astropy's package import (about 0.2 s) once, where astropy is installed.
    from astropy.utils.exceptions import AstropyDeprecationWarning, AstropyUserWarning
except ImportError:

    class AstropyUserWarning(UserWarning):
        """Stands in for astropy's class of the same name where astropy is not installed."""

    class AstropyDeprecationWarning(DeprecationWarning):
        """Stands in for astropy's class of the same name where astropy is not installed."""


class FITSUserWarning(AstropyUserWarning):
    """Base class of the warnings of the astropy-compatible layer (an AstropyUserWarning)."""


class VerifyWarning(FITSUserWarning):
    """A FITS structure does not meet the standard (reported, or fixed, by ``verify``)."""


VERIFY_OPTIONS = (
    "ignore",
    "warn",
    "exception",
    "fix",
    "silentfix",
    "fix+ignore",
    "fix+warn",
    "fix+exception",
    "silentfix+ignore",
    "silentfix+warn",
    "silentfix+exception",
)

_REPORT_HEAD = "Verification reported errors:"
_REPORT_TAIL = "Note: fitsbind uses zero-based indexing.\n"


class _ErrList(list):
    """Problems found by ``_verify``: ``(fixable, message)`` pairs and nested ``_ErrList``s.

    ``fixable`` is ``True`` for a problem that was (or could be) fixed, ``False`` for one that
    cannot be fixed. ``unit`` names the members whose lists are nested in this one; it heads
    their messages in the report (``"HDU 2:"``).
    """

    def __init__(self, val=(), unit: str = "Element") -> None:
        super().__init__(val)
        self.unit = unit

    def __str__(self) -> str:
        return "\n".join(message for _, message in self.iter_lines())

    def iter_lines(
        self, filter: Callable[[tuple], bool] | None = None, shift: int = 0
    ) -> Iterator[tuple[bool | None, str]]:
        """Yield ``(fixable, line)`` for the report: this level's own problems first, then each
        nested list's lines under a ``"<unit> <n>:"`` heading (``fixable`` is ``None`` for the
        headings), indented four spaces per nesting level. ``filter`` selects the pairs shown.
        """
        pad = "    " * shift
        for item in self:
            if not isinstance(item, _ErrList) and (filter is None or filter(item)):
                yield item[0], indent(item[1], pad)
        # a nested list keeps its position number even when nothing in it is shown
        position = 0
        for item in self:
            if not isinstance(item, _ErrList):
                continue
            lines = list(item.iter_lines(filter=filter, shift=shift + 1))
            if lines:
                if self.unit:
                    yield None, indent(f"{self.unit} {position}:", pad)
                yield from lines
            position += 1


class _Verify:
    """Mixin giving ``verify(option)`` to anything that implements ``_verify(option)``."""

    __slots__ = ()

    def _verify(self, option: str = "warn") -> _ErrList:
        raise NotImplementedError

    def run_option(
        self,
        option: str = "warn",
        err_text: str = "",
        fix_text: str = "Fixed.",
        fix: Callable[[], object] | None = None,
        fixable: bool = True,
    ) -> tuple[bool, str]:
        """Handle one problem under ``option``: fix it if asked and possible.

        Returns ``(fixable, message)``; ``fixable`` is ``False`` when the option does not fix
        (``"warn"``, ``"exception"``) or the problem cannot be fixed.
        """
        if option in ("warn", "exception"):
            return False, err_text
        if not fixable:
            return False, f"Unfixable error: {err_text}"
        if fix:
            fix()
        return True, f"{err_text}  {fix_text}"

    def verify(self, option: str = "warn") -> None:
        """Check this object against the FITS standard.

        ``option`` is one of ``"ignore"``, ``"warn"``, ``"exception"``, ``"fix"``,
        ``"silentfix"``, or ``"fix"``/``"silentfix"`` joined by ``+`` to ``"ignore"``,
        ``"warn"`` or ``"exception"`` (e.g. ``"fix+warn"``); the table in
        :mod:`fitsbind.verify` says what each does. Problems are reported as
        :class:`VerifyWarning` warnings or a :class:`VerifyError`. An unknown option raises
        ``ValueError``.
        """
        opt = option.lower()
        if opt not in VERIFY_OPTIONS:
            raise ValueError(f"Option {option!r} not recognized.")
        if opt == "ignore":
            return

        errs = self._verify(opt)

        if "+" in opt:
            fix_opt, report_opt = opt.split("+")
        elif opt in ("fix", "silentfix"):
            fix_opt, report_opt = opt, "exception"
        else:
            fix_opt, report_opt = None, opt

        if fix_opt == "silentfix" and report_opt == "ignore":
            return
        if fix_opt == "silentfix":
            shown = _unfixed_only
        elif fix_opt == "fix" and report_opt == "ignore":
            shown = _fixed_only
        else:
            shown = None

        # the fixability of the last problem listed decides between warning and raising
        unfixable = False
        messages = []
        for fixable, line in errs.iter_lines(filter=shown):
            if fixable is not None:
                unfixable = not fixable
            messages.append(line)
        if not messages:
            return

        messages = [_REPORT_HEAD, *messages, _REPORT_TAIL]
        if fix_opt == "silentfix" and not unfixable:
            return
        if report_opt == "warn" or (fix_opt == "fix" and not unfixable):
            for line in messages:
                warnings.warn(line, VerifyWarning, stacklevel=2)
        else:
            raise VerifyError("\n" + "\n".join(messages))


def _unfixed_only(item: tuple) -> bool:
    return not item[0]


def _fixed_only(item: tuple) -> bool:
    return bool(item[0])
