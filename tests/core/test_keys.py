"""Keyword reads and writes: every value kind round-trips, and astropy reads the same values."""

import math

import numpy as np
import pytest

import fitsbind
from fitsbind import _fitsfile

VALUES = [
    ("INT", 42),
    ("NEGINT", -(2**63)),
    ("MAXINT", 2**63 - 1),
    ("NPINT", np.int16(-7)),
    ("TRUE", True),
    ("FALSE", False),
    ("NPBOOL", np.bool_(True)),
    ("FLOAT1", 0.1),
    ("FLOAT2", 100.0),
    ("FLOAT3", 1.0000000000000002),
    ("FLOAT4", 1e-10),
    ("FLOAT5", -2.5e300),
    ("FLOAT6", 1 / 3),
    ("FLOAT7", 5e-324),
    ("FLOAT8", 0.0),
    ("NPFLOAT", np.float32(0.1)),
    ("COMPLEX", complex(1.5, -2.0)),
    ("STR", "hello"),
    ("QUOTES", "it's 'quoted'"),
    ("LEADING", "   spaced"),
    ("EMPTY", ""),
    ("LONGSTR", "0123456789" * 30),
    ("LONGQUOT", "it's a " * 30 + "end"),
]


def _new(tmp_path, name="keys.fits"):
    f = _fitsfile.create_file(tmp_path / name)
    f.create_image_hdu(16, ())
    return f


@pytest.mark.parametrize("key,value", VALUES, ids=[k for k, _ in VALUES])
def test_round_trip(tmp_path, fitsverify, key, value):
    path = tmp_path / "keys.fits"
    with _new(tmp_path) as f:
        f.write_key(key, value, "the comment")
    with _fitsfile.open_file(path) as f:
        got, comment = f.read_key(key)
    expected = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, np.floating):
        expected = float(value)
    assert got == expected and type(got) is type(expected)
    assert comment == "the comment"
    fitsverify(path)


def test_astropy_reads_the_same_values(tmp_path):
    fits = pytest.importorskip("astropy.io.fits")
    path = tmp_path / "keys.fits"
    with _new(tmp_path) as f:
        for key, value in VALUES:
            f.write_key(key, value, "c")
    header = fits.getheader(path)
    for key, value in VALUES:
        expected = value.item() if isinstance(value, np.generic) else value
        assert header[key] == expected, key
        assert header.comments[key] == "c", key


def test_undefined_value(tmp_path):
    path = tmp_path / "keys.fits"
    with _new(tmp_path) as f:
        f.write_key("UNDEF", None, "no value")
    with _fitsfile.open_file(path) as f:
        assert f.read_key("UNDEF") == (None, "no value")


def test_update_in_place_keeps_position_and_comment(tmp_path):
    path = tmp_path / "keys.fits"
    with _new(tmp_path) as f:
        f.write_key("A", 1, "first")
        f.write_key("B", 2, "second")
        f.write_key("A", "now a string")  # comment=None keeps the comment
        f.write_key("B", 3.5, "new comment")
        cards = f.header_string()
    names = [cards[i : i + 8].strip() for i in range(0, len(cards), 80)]
    assert names.index("A") < names.index("B")
    assert names.count("A") == 1
    with _fitsfile.open_file(path) as f:
        assert f.read_key("A") == ("now a string", "first")
        assert f.read_key("B") == (3.5, "new comment")


def test_append_repeats_a_keyword(tmp_path):
    with _new(tmp_path) as f:
        f.write_key("REPEAT", 1)
        f.write_key("REPEAT", 2, append=True)
        text = f.header_string()
        assert text.count("REPEAT  =") == 2
        assert f.read_key("REPEAT")[0] == 1  # the first one


def test_long_string_declares_longstrn(tmp_path, fitsverify):
    path = tmp_path / "keys.fits"
    with _new(tmp_path) as f:
        f.write_key("L1", "x" * 100)
        f.write_key("L2", "y" * 100)
        text = f.header_string()
    assert text.count("LONGSTRN=") == 1
    assert "CONTINUE  " in text
    fitsverify(path)


def test_hierarch_keywords(tmp_path):
    fits = pytest.importorskip("astropy.io.fits")
    path = tmp_path / "keys.fits"
    with _new(tmp_path) as f:
        f.write_key("ESO DET CHIP NAME", "CCD", "hier")
        f.write_key("LONGNAMEKEY", 5)
    with _fitsfile.open_file(path) as f:
        assert f.read_key("ESO DET CHIP NAME") == ("CCD", "hier")
        assert f.read_key("HIERARCH ESO DET CHIP NAME") == ("CCD", "hier")
        assert f.read_key("LONGNAMEKEY")[0] == 5
    header = fits.getheader(path)
    assert header["ESO DET CHIP NAME"] == "CCD"


def test_keyword_names_are_case_insensitive(tmp_path):
    with _new(tmp_path) as f:
        f.write_key("exptime", 3.0)
        assert f.read_key("EXPTIME")[0] == 3.0
        assert f.read_card("ExpTime").startswith("EXPTIME =")


def test_delete_key(tmp_path):
    with _new(tmp_path) as f:
        f.write_key("GONE", 1)
        f.delete_key("gone")
        with pytest.raises(KeyError) as info:
            f.read_key("GONE")
        assert isinstance(info.value, fitsbind.FITSKeyError)
        assert info.value.status == 202
        with pytest.raises(KeyError, match="'GONE'"):
            f.delete_key("GONE")


def test_comment_and_history(tmp_path, fitsverify):
    path = tmp_path / "keys.fits"
    long_text = "word " * 40
    with _new(tmp_path) as f:
        f.write_comment("short comment")
        f.write_history(long_text)
        text = f.header_string()
    cards = [text[i : i + 80] for i in range(0, len(text), 80)]
    assert "COMMENT short comment".ljust(80) in cards
    history = "".join(c[8:] for c in cards if c.startswith("HISTORY"))
    assert " ".join(history.split()) == " ".join(long_text.split())
    fitsverify(path)


def test_read_record_and_card(example):
    with _fitsfile.open_file(example) as f:
        assert f.read_record(0).startswith("SIMPLE  =")
        assert len(f.read_record(0)) == 80
        assert f.read_card("BITPIX").startswith("BITPIX  =")
        n = f.num_keys()
        assert f.header_string() == "".join(f.read_record(i) for i in range(n))
        with pytest.raises(IndexError):
            f.read_record(n)


def test_header_string_without_comments(example):
    with _fitsfile.open_file(example) as f:
        full = f.header_string()
        bare = f.header_string(nocomments=True)
    assert "COMMENT" in full and "HISTORY" in full
    assert "COMMENT" not in bare and "HISTORY" not in bare
    assert len(bare) % 80 == 0 and len(bare) < len(full)


@pytest.mark.parametrize(
    "key,value,exc,match",
    [
        ("BAD", float("nan"), ValueError, "finite"),
        ("BAD", float("inf"), ValueError, "finite"),
        ("BAD", complex(1, math.inf), ValueError, "finite"),
        ("BAD", 2**64, ValueError, "64 bits"),
        ("BAD", "caf\u00e9", ValueError, "non-ASCII"),
        ("BAD", "tab\there", ValueError, "non-printable"),
        ("BAD", [1, 2], TypeError, "list"),
        ("B*D", 1, ValueError, "not allowed"),
        ("", 1, ValueError, "empty"),
        ("K\u00e9Y", 1, ValueError, "non-ASCII"),
    ],
)
def test_bad_values_rejected_before_writing(tmp_path, key, value, exc, match):
    with _new(tmp_path) as f:
        before = f.header_string()
        with pytest.raises(exc, match=match):
            f.write_key(key, value)
        assert f.header_string() == before


@pytest.mark.parametrize(
    "key,value,comment",
    [
        ("QUOTES", "'" * 100, None),
        ("QUOTES", "x" * 60 + "'" * 10, "c" * 60),
        ("HIERARCH " + "N" * 66, "a long value " * 5, None),
    ],
)
def test_strings_cfitsio_cannot_split_are_refused(tmp_path, key, value, comment):
    # CFITSIO 4.2 loops forever splitting these over CONTINUE cards; fitsbind refuses them
    with _new(tmp_path) as f:
        before = f.header_string()
        with pytest.raises(ValueError, match="CONTINUE"):
            f.write_key(key, value, comment)
        assert f.header_string() == before


def test_bad_comment_rejected(tmp_path):
    with _new(tmp_path) as f:
        with pytest.raises(ValueError, match="non-ASCII"):
            f.write_key("OK", 1, "\u00b0C")


def test_unparseable_value_is_clear(tmp_path):
    path = tmp_path / "broken.fits"
    with _new(tmp_path, "broken.fits") as f:
        f.write_key("WEIRD", 12345, "to be damaged")
    data = bytearray(path.read_bytes())
    at = data.index(b"WEIRD   =")
    data[at + 25 : at + 30] = b"1x3y5"  # an integer field that is no number
    path.write_bytes(bytes(data))
    with _fitsfile.open_file(path) as f:
        with pytest.raises(ValueError) as info:
            f.read_key("WEIRD")
        assert isinstance(info.value, fitsbind.FITSError)


def test_writes_refused_on_readonly_file(example):
    before = example.read_bytes()
    with _fitsfile.open_file(example) as f:
        for call in (
            lambda: f.write_key("NEW", 1),
            lambda: f.delete_key("OBSERVER"),
            lambda: f.write_comment("x"),
            lambda: f.write_history("x"),
            lambda: f.write_checksum(),
            lambda: f.create_image_hdu(16, (2,)),
            lambda: f.create_table_hdu(["A"], ["J"]),
        ):
            with pytest.raises(PermissionError, match="read-only") as info:
                call()
            assert isinstance(info.value, fitsbind.FITSError)
    assert example.read_bytes() == before
