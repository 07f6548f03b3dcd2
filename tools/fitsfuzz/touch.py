"""What a child process does with a mutant: read every part of it through one interface.

A target is a function ``(path, workdir) -> list[Stage]``. The stages of one target run in
order; a stage's exception is recorded and the next stage still runs when it can (a file that
does not open ends the touch). Warnings of every class are recorded and allowed.

Targets: ``astropy`` (astropy.io.fits, the reference the drop-in is compared with), ``dropin``
(``import fitsbind as fits``, the same calls) and ``direct`` (``fitsbind.FITS``).
"""

from __future__ import annotations

import errno
import io
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Stage = dict[str, Any]


def describe(exc: BaseException, package: str) -> dict[str, Any]:
    """An exception as JSON: class, its MRO names, message, the innermost frame in
    ``package`` (e.g. "fitsbind") and the traceback's last lines."""
    frames = traceback.extract_tb(exc.__traceback__)
    marker = f"/{package}/"
    top = None
    for frame in reversed(frames):
        name = frame.filename.replace("\\", "/")
        if marker in name or name.startswith(f"{package}/"):
            short = name[name.rfind(marker) + 1:] if marker in name else name
            top = f"{short}:{frame.lineno} in {frame.name}"
            break
    chain, seen = [], exc
    while seen is not None and len(chain) < 5:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return {
        "type": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "mro": [c.__name__ for c in type(exc).__mro__],
        "message": str(exc)[:400],
        "frame": top,
        "efbig": any(getattr(e, "errno", None) == errno.EFBIG or "File too large" in str(e)
                     for e in chain),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)
                             )[-3000:],
    }


class Stages:
    """Runs stages, recording each one's exception (described for ``package``)."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.stages: list[Stage] = []

    def run(self, name: str, action: Callable[[], Any]) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = action()
                error = None
            except Exception as exc:
                result, error = None, describe(exc, self.package)
        self.stages.append({"stage": name, "error": error,
                            "warnings": sorted({w.category.__name__ for w in caught})})
        return result


# -- the astropy.io.fits interface (astropy and the drop-in) -----------------------------------

def _read_hdulist(fits: Any, hdul: Any) -> None:
    """Everything a user reads: the summary, every header card, a section of every image,
    every column of every table, every data array."""
    hdul.info(output=io.StringIO())
    for hdu in hdul:
        header = hdu.header
        repr(header)
        for card in header.cards:
            str(card)
        shape = getattr(hdu, "shape", None)
        if shape and not isinstance(hdu, fits.GroupsHDU) and hasattr(hdu, "section"):
            np.asarray(hdu.section[tuple(slice(0, 2) for _ in shape)])
        data = hdu.data
        if data is None:
            continue
        if getattr(data.dtype, "names", None):
            for i in range(len(data.dtype.names)):
                np.asarray(data.field(i))
        np.asarray(data)


def _hdulist_touch(fits: Any, package: str, path: str, workdir: str) -> list[Stage]:
    s = Stages(package)
    hdul = s.run("open", lambda: fits.open(path))
    if hdul is None:
        return s.stages
    s.run("read", lambda: _read_hdulist(fits, hdul))
    s.run("verify", lambda: hdul.verify("exception"))
    s.run("checksum", lambda: [(h.verify_checksum(), h.verify_datasum()) for h in hdul])

    def reopened_with_checksums() -> None:
        with fits.open(path, checksum=True) as again:
            _read_hdulist(fits, again)

    s.run("open-checksum", reopened_with_checksums)

    def round_trip() -> None:
        out = Path(workdir) / "roundtrip.fits"
        hdul.writeto(out)
        with fits.open(out) as again:
            _read_hdulist(fits, again)

    s.run("roundtrip", round_trip)
    s.run("close", hdul.close)
    return s.stages


def astropy(path: str, workdir: str) -> list[Stage]:
    from astropy.io import fits
    return _hdulist_touch(fits, "astropy", path, workdir)


def dropin(path: str, workdir: str) -> list[Stage]:
    import fitsbind
    return _hdulist_touch(fitsbind, "fitsbind", path, workdir)


# -- the direct tier ---------------------------------------------------------------------------

def _read_direct(f: Any) -> None:
    from fitsbind.direct import ImageHDU, TableHDU
    for i in range(len(f)):
        hdu = f[i]
        header = hdu.header
        repr(header)
        header.items()
        header.tostring()
        if isinstance(hdu, ImageHDU):
            # an image without data refuses reads (a FITSError), which would end the touch
            # before the later HDUs
            if hdu.has_data:
                hdu[tuple(slice(0, 2) for _ in hdu.shape)]
                hdu.read()
                hdu.read(scale=False, mask_blank=True)
        elif isinstance(hdu, TableHDU):
            hdu.read()
            for column in range(hdu.ncols):
                hdu.read_column(column)
            middle = hdu.nrows // 2
            hdu.read(rows=slice(middle, middle + 2), mask_null=True)
            if not hdu.ascii:
                hdu.read(rows=[0, -1] if hdu.nrows else [], vla="padded")


def direct(path: str, workdir: str) -> list[Stage]:
    import fitsbind
    s = Stages("fitsbind")
    f = s.run("open", lambda: fitsbind.FITS(path))
    if f is None:
        return s.stages
    s.run("read", lambda: _read_direct(f))
    s.run("checksum", lambda: [(f[i].verify_checksum(), f[i].verify_datasum())
                               for i in range(len(f))])
    s.run("close", f.close)
    return s.stages


TARGETS: dict[str, Callable[[str, str], list[Stage]]] = {
    "astropy": astropy, "dropin": dropin, "direct": direct}
