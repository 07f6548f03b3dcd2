"""FITSHeader: the live, write-through header view."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fitsbind
from fitsbind.direct import Card

VALUES = {
    "TRUE": True,
    "FALSE": False,
    "INT": -42,
    "BIGINT": 2**62,
    "FLOAT": 0.1,
    "TINY": 5e-324,
    "CPLX": complex(1.5, -2.25),
    "STR": "it's here",
    "EMPTY": "",
    "LONGSTR": "long " * 39 + "end",
    "HIERARCH ESO DET CHIP NAME": "CCD-1",
    "UNDEF": None,
}


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "h.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.zeros((3, 4), np.int16))
        f.write_image(np.arange(5, dtype=np.float32), extname="SCI")
        f.write_image(np.arange(8, dtype=np.int32), extname="AFTER")
    return path


def test_every_value_type_round_trips(image: Path, afits) -> None:
    with fitsbind.FITS(image, "r+") as f:
        h = f["SCI"].header
        for key, value in VALUES.items():
            h[key] = (value, f"comment of {key.split()[-1]}")
        for key, value in VALUES.items():
            assert h[key] == value
    with fitsbind.FITS(image) as f:
        h = f["SCI"].header
        for key, value in VALUES.items():
            assert h[key] == value, key
            assert h.comment_of(key) == f"comment of {key.split()[-1]}"
        assert h["ESO DET CHIP NAME"] == "CCD-1"   # HIERARCH prefix optional
    with afits.open(image) as hdul:
        ah = hdul[1].header
        for key, value in VALUES.items():
            name = key[9:] if key.startswith("HIERARCH ") else key
            got = ah[name]
            # astropy reads an undefined value as None
            assert got == value and type(got) is type(value), key


def test_commentary_cards(image: Path, afits) -> None:
    with fitsbind.FITS(image, "r+") as f:
        h = f["SCI"].header
        h.add_comment("first comment")
        h.add_history("made by a test")
        h.add_blank("blank keyword text")
        h["COMMENT"] = "second comment"
        h.add_history("x" * 100)   # split over two cards
        assert h["COMMENT"][-2:] == ["first comment", "second comment"]
        assert h["HISTORY"] == ["made by a test", "x" * 72, "x" * 28]
        assert h[""] == ["blank keyword text"]
        assert "COMMENT" in h.keys() and h.keys().count("HISTORY") == 3
    with afits.open(image) as hdul:
        assert list(hdul[1].header["HISTORY"]) == ["made by a test", "x" * 72, "x" * 28]
        assert "second comment" in list(hdul[1].header["COMMENT"])


def test_mapping_interface(image: Path, afits) -> None:
    with fitsbind.FITS(image, "r+") as f:
        h = f["SCI"].header
        h.update({"A": 1, "B": (2.5, "bee")}, C="see")
        h.update([("D", True), ("E", "e", "ee")])
        assert (h["A"], h["B"], h["C"], h["D"], h["E"]) == (1, 2.5, "see", True, "e")
        assert h.comment_of("B") == "bee" and h.comment_of("E") == "ee"
        h["B"] = 3.5                      # keeps the comment
        assert h.comment_of("B") == "bee"
        h.set_comment("B", "new")
        assert h["B"] == 3.5 and h.comment_of("B") == "new"
        assert h.get("NOPE", "dflt") == "dflt" and "nope" not in h and "a" in h
        del h["A"]
        assert "A" not in h
        with pytest.raises(KeyError, match=r"h.fits, HDU 1: keyword 'A' not found"):
            del h["A"]
        with pytest.raises(KeyError):
            h["A"]
        d = h.to_dict()
        assert d["BITPIX"] == -32 and d["EXTNAME"] == "SCI" and d["C"] == "see"
        assert dict(h.items())["D"] is True
        assert all(isinstance(c, Card) and len(c.image) % 80 == 0 for c in h.cards)
        text = h.tostring()
        assert len(text) % 2880 == 0 and "END" + " " * 77 in text
        assert afits.Header.fromstring(text)["E"] == "e"
        # copying a header from another HDU skips its structural cards
        after = f["AFTER"]
        after.header.update(h)
        assert after.header["C"] == "see" and after.header["BITPIX"] == 32
        assert after.extname == "SCI"   # EXTNAME is an ordinary card: it is copied too


@pytest.mark.parametrize("key", ["BITPIX", "NAXIS", "naxis1", "SIMPLE", "XTENSION", "PCOUNT",
                                 "GCOUNT", "EXTEND", "END", "TFIELDS", "TFORM3", "TBCOL1",
                                 "CONTINUE"])
def test_structural_keywords_are_protected(image: Path, key: str) -> None:
    before = image.read_bytes()
    with fitsbind.FITS(image, "r+") as f:
        h = f["SCI"].header
        with pytest.raises(fitsbind.FITSValueError, match="structural keyword"):
            h[key] = 1
        with pytest.raises(fitsbind.FITSValueError, match="structural keyword"):
            del h[key]
        with pytest.raises(fitsbind.FITSValueError):
            h.update({"OK": 1, key: 2})   # nothing written when one entry is refused
        assert "OK" not in h
        with pytest.raises(fitsbind.FITSValueError):
            f.create_image_hdu(np.int16, (2,), header={key: 1})
        assert len(f) == 3
    assert image.read_bytes() == before


def test_header_growth_shifts_later_hdus(image: Path, fitsverify, afits) -> None:
    with fitsbind.FITS(image, "r+") as f:
        sci = f["SCI"]
        start = sci.header.tostring()
        for i in range(100):   # several 2880-byte blocks
            sci.header[f"KEY{i:03d}"] = (f"value {i}" * 5, f"comment {i}")
        assert len(sci.header.tostring()) >= len(start) + 2 * 2880
        assert f["AFTER"].read().tolist() == list(range(8))
        assert sci.read().tolist() == [0, 1, 2, 3, 4]
    fitsverify(image)
    with afits.open(image) as hdul:
        assert hdul[1].header["KEY099"] == "value 99" * 5
        assert hdul[2].data.tolist() == list(range(8))


def test_scaling_keywords_change_reading(image: Path) -> None:
    with fitsbind.FITS(image, "r+") as f:
        hdu = f[0]
        hdu.write(np.full((3, 4), 10, np.int16))
        hdu.header["BSCALE"] = 0.5
        hdu.header["BZERO"] = 1.0
        assert hdu.dtype == np.float32
        assert hdu.read()[0, 0] == 6.0 and hdu.read(scale=False)[0, 0] == 10
        hdu.header["BLANK"] = 10
        assert np.isnan(hdu.read()).all()
        del hdu.header["BLANK"]
        del hdu.header["BSCALE"]
        del hdu.header["BZERO"]
        assert hdu.dtype == np.int16 and hdu.read()[0, 0] == 10


def test_bad_values_change_nothing(image: Path) -> None:
    before = image.read_bytes()
    with fitsbind.FITS(image, "r+") as f:
        h = f["SCI"].header
        with pytest.raises(fitsbind.FITSValueError, match="finite"):
            h["NAN"] = float("nan")
        with pytest.raises(fitsbind.FITSTypeError):
            h["LIST"] = [1, 2]
        with pytest.raises(ValueError, match="non-ASCII"):
            h["UNI"] = "é"
        with pytest.raises(fitsbind.FITSValueError, match=r"h\.fits, HDU 1: .*64 bits"):
            h["BIG"] = 2**64
        with pytest.raises(ValueError):
            h["BAD*KEY"] = 1
    assert image.read_bytes() == before


@pytest.mark.parametrize("value", ["a'" * 70, "'" * 60, "x" * 300, "short"])
def test_replacing_long_strings(image: Path, value: str, afits) -> None:
    """CFITSIO 4.2's in-place rewrite of CONTINUE'd strings can crash; fitsbind replaces the
    cards instead, keeping the comment. Quote-heavy strings that CFITSIO might split forever
    are refused with the card unchanged."""

    def assign(h, new) -> None:
        before = h["LQ"]
        try:
            h["LQ"] = new
        except fitsbind.FITSValueError as exc:
            assert new.count("'") > 40 and "cannot split" in str(exc)
            assert h["LQ"] == before
            return
        assert h["LQ"] == new

    with fitsbind.FITS(image, "r+") as f:
        h = f["SCI"].header
        h["LQ"] = ("x", "kept comment")
        assign(h, value)
        assert h.comment_of("LQ") == "kept comment"
        assign(h, h["LQ"])
        assign(h, "back to short")
        assert h["LQ"] == "back to short" and h.keys().count("LQ") == 1
        h.update(h)
    with afits.open(image) as hdul:
        assert hdul[1].header["LQ"] == "back to short"


@pytest.mark.parametrize("key", ["NINECHARS", "ESO A B", "HIERARCH ESO LONG KEY"])
def test_long_strings_under_hierarch_keys(image: Path, key: str, afits) -> None:
    value = "0123456789" * 10
    with fitsbind.FITS(image, "r+") as f:
        f["SCI"].header[key] = value
        assert f["SCI"].header[key] == value
    with afits.open(image) as hdul:
        name = key[9:] if key.startswith("HIERARCH ") else key
        assert hdul[1].header[name] == value


@pytest.mark.parametrize("key, bad", [("BAD KEY!", "!"), ("X!", "!"), ("A.B", "."),
                                      ("bad key!", "!")])
def test_names_outside_the_keyword_alphabet_are_refused(image: Path, key: str, bad: str) -> None:
    """CFITSIO would quietly make a HIERARCH card of them."""
    before = image.read_bytes()
    with fitsbind.FITS(image, "r+") as f:
        with pytest.raises(fitsbind.FITSValueError, match=f"h.fits, HDU 1: .*contains {bad!r}"):
            f["SCI"].header[key] = 1
    assert image.read_bytes() == before


def test_hierarch_names_and_lookups_of_any_name(image: Path) -> None:
    with fitsbind.FITS(image, "r+") as f:
        h = f["SCI"].header
        h["ESO DET CHIP ID"] = 7          # words of letters, digits, '-', '_': HIERARCH
        h["HIERARCH my.key"] = 8          # asked for by name: taken as given
        assert h["ESO DET CHIP ID"] == 7 and h["MY.KEY"] == 8
        assert "X!" not in h              # looking up any name is fine
