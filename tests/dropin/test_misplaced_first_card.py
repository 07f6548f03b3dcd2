"""An HDU whose header cannot begin an HDU where it goes (SIMPLE first in the file, XTENSION
after) is refused before it is written, with the file, the HDU and the card named. astropy
writes such a header as it is under output_verify="ignore", giving a file that is no FITS file;
CFITSIO cannot write one, and fitsbind says so instead of failing inside CFITSIO."""

from __future__ import annotations

import re

import numpy as np
import pytest

import fitsbind


def _primary_header_in_an_extension() -> fitsbind.ImageHDU:
    hdu = fitsbind.ImageHDU(np.arange(3, dtype=np.int16))
    primary = fitsbind.PrimaryHDU().header
    hdu.header.extend(primary, update=True, update_first=True, strip=False)
    assert hdu.header.cards[0].keyword == "SIMPLE"
    return hdu


def test_writeto_refuses_an_extension_beginning_with_simple(tmp_path):
    path = tmp_path / "out.fits"
    message = f"{path}, HDU 1: the header begins with SIMPLE, but an HDU there must begin with XTENSION"
    with pytest.raises(fitsbind.VerifyError, match=re.escape(message)):
        _primary_header_in_an_extension().writeto(path, output_verify="ignore")
    assert not path.exists()


def test_writeto_with_fix_repairs_it(tmp_path):
    path = tmp_path / "out.fits"
    with pytest.warns(fitsbind.VerifyWarning):
        _primary_header_in_an_extension().writeto(path, output_verify="fix")
    with fitsbind.open(path) as hdul:
        assert hdul[1].header.cards[0].keyword == "XTENSION"
        assert list(hdul[1].data) == [0, 1, 2]


def test_append_in_update_mode_refuses_it_and_keeps_the_file(tmp_path):
    path = tmp_path / "keep.fits"
    fitsbind.PrimaryHDU(np.arange(4, dtype=np.int16)).writeto(path)
    before = path.read_bytes()
    with fitsbind.open(path, mode="update") as hdul:
        hdul.append(_primary_header_in_an_extension())
        with pytest.raises(fitsbind.VerifyError, match=r"HDU 1: the header begins with SIMPLE"):
            hdul.flush(output_verify="ignore")
        del hdul[1]
    assert path.read_bytes()[:2880] == before[:2880]
