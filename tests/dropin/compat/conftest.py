"""Fixtures for the compatibility suite: one test body, run against astropy.io.fits and fitsbind.

The ``fits`` fixture (tests/dropin/conftest.py) is the library under test. Input files are
written by astropy (the oracle) or byte by byte, so a reading test does not depend on the writer
under test; files the library under test writes are read back with astropy (``afits``) and
checked with fitsverify.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
import pytest
from astropy.io import fits as afits


@pytest.fixture
def tmpfile(tmp_path: Path) -> Callable[[str], Path]:
    """``tmpfile(name="test.fits")``: a path inside this test's own temporary directory (not created)."""

    def make(name: str = "test.fits") -> Path:
        return tmp_path / name

    return make


def raw_fits(path: Path, hdus: list[tuple[list[tuple | str], bytes]]) -> Path:
    """Write ``path`` byte by byte: each HDU is (header cards, data bytes).

    A card is (key, value[, comment]), formatted by astropy's Card, or a str written as is
    (padded to 80 characters), for cards no writer would produce. Every header gets its END card
    and every area its padding (blanks for headers, zeros for data).
    """
    with open(path, "wb") as f:
        for cards, data in hdus:
            images = [card.ljust(80) if isinstance(card, str) else str(afits.Card(*card)) for card in cards]
            text = "".join(images) + "END".ljust(80)
            f.write(text.ljust(-(-len(text) // 2880) * 2880).encode("ascii"))
            f.write(data + b"\0" * (-len(data) % 2880))
    return path


@pytest.fixture
def write_raw(tmp_path: Path) -> Callable[..., Path]:
    """``write_raw(hdus, name="raw.fits")``: :func:`raw_fits` into this test's temporary directory."""

    def make(hdus: list[tuple[list[tuple | str], bytes]], name: str = "raw.fits") -> Path:
        return raw_fits(tmp_path / name, hdus)

    return make


@pytest.fixture
def sample(tmp_path: Path) -> SimpleNamespace:
    """A five-HDU file written by astropy, with the arrays it holds.

    HDUs: PRIMARY (int16, numpy shape (3, 4), OBSERVER card), SCI ver 1 and SCI ver 2 (float32,
    (2, 3)), CAT (binary table: ID J, NAME 8A, FLUX E [Jy], 3 rows), ASC (ASCII table: X I5,
    Y F8.3, 2 rows). Attributes: ``path`` and the arrays ``primary``, ``sci1``, ``sci2``, ``ids``,
    ``names``, ``flux``, ``x``, ``y``.
    """
    ns = SimpleNamespace(
        path=tmp_path / "sample.fits",
        primary=np.arange(12, dtype=np.int16).reshape(3, 4),
        sci1=np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
        sci2=-np.arange(6, dtype=np.float32).reshape(2, 3),
        ids=np.array([10, 20, 30], dtype=np.int32),
        names=np.array(["a", "bb", "ccc"]),
        flux=np.array([1.5, 2.5, 3.5], dtype=np.float32),
        x=np.array([1, -2], dtype=np.int16),
        y=np.array([0.5, 1.25]),
    )
    primary = afits.PrimaryHDU(ns.primary)
    primary.header["OBSERVER"] = ("Edwin", "who observed")
    cat = afits.BinTableHDU.from_columns(
        [
            afits.Column("ID", "J", array=ns.ids),
            afits.Column("NAME", "8A", array=ns.names),
            afits.Column("FLUX", "E", unit="Jy", array=ns.flux),
        ],
        name="CAT",
    )
    asc = afits.TableHDU.from_columns(
        [afits.Column("X", "I5", array=ns.x), afits.Column("Y", "F8.3", array=ns.y)], name="ASC"
    )
    afits.HDUList(
        [
            primary,
            afits.ImageHDU(ns.sci1, name="SCI", ver=1),
            afits.ImageHDU(ns.sci2, name="SCI", ver=2),
            cat,
            asc,
        ]
    ).writeto(ns.path)
    return ns


@pytest.fixture
def scaled_file(write_raw: Callable[..., Path]) -> SimpleNamespace:
    """A primary int16 image (numpy shape (2, 3)) stored with BSCALE 2.5 and BZERO 10 (no BLANK).

    Attributes: ``path``, ``raw`` (the stored int16 values) and ``physical`` (raw * 2.5 + 10).
    """
    raw = np.array([[0, 1, 2], [300, -4, 5]], dtype=np.int16)
    cards = [
        ("SIMPLE", True),
        ("BITPIX", 16),
        ("NAXIS", 2),
        ("NAXIS1", 3),
        ("NAXIS2", 2),
        ("BSCALE", 2.5),
        ("BZERO", 10.0),
        ("OBJECT", "scaled"),
    ]
    path = write_raw([(cards, raw.astype(">i2").tobytes())], name="scaled.fits")
    return SimpleNamespace(path=path, raw=raw, physical=raw * 2.5 + 10)


@pytest.fixture
def uint16_file(write_raw: Callable[..., Path]) -> SimpleNamespace:
    """A primary image of unsigned 16-bit values stored the FITS way (int16 with BZERO 32768).

    Attributes: ``path``, ``values`` (uint16, numpy shape (2, 2), includes 0 and 65535).
    """
    values = np.array([[0, 1], [32768, 65535]], dtype=np.uint16)
    stored = (values.astype(np.int32) - 32768).astype(">i2")
    cards = [
        ("SIMPLE", True),
        ("BITPIX", 16),
        ("NAXIS", 2),
        ("NAXIS1", 2),
        ("NAXIS2", 2),
        ("BSCALE", 1),
        ("BZERO", 32768),
    ]
    return SimpleNamespace(path=write_raw([(cards, stored.tobytes())], name="uint16.fits"), values=values)
