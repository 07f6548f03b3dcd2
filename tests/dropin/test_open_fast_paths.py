"""The shortcuts of the drop-in's open path give what the general code gives.

Reading a header, the common value fields are parsed without the lenient grammar, plain
keywords are looked up without the general look-up, and cards that pass the cheap standard
test are verified without the full checks; an update-mode flush skips CFITSIO's scratch-file
check of a header whose changes touch no keyword CFITSIO interprets. Each test here holds a
shortcut to the general path it stands in for.
"""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

import fitsbind as fits
from fitsbind.card import _LENIENT_VALUE, UNDEFINED, Card, _plain_value, grammar_value
from fitsbind.hdu import hdulist as hdulist_module
from fitsbind.hdu.hdulist import _judged_anew


def _by_grammar(field: str):
    """(value, captured text) of ``field`` as the lenient grammar reads it; None if it does not."""
    match = _LENIENT_VALUE.match(field)
    if match is None:
        return None
    return grammar_value(match), match.group("value")


def _same(fast, slow) -> bool:
    return slow is not None and fast[0] == slow[0] and type(fast[0]) is type(slow[0]) and \
        (fast[1] or None) == (slow[1] or None)


@pytest.mark.parametrize("field, value", [
    ("", UNDEFINED), ("/ only a comment", UNDEFINED), ("T", True), ("F / no", False),
    ("42", 42), ("-7  / blanks before the comment", -7), ("+3", 3), ("1.5", 1.5),
    ("1.", 1.0), (".5", 0.5), ("1.5E3", 1500.0), ("-6.25D-07 / a Fortran exponent", -6.25e-07),
    ("'NGC 6543'", "NGC 6543"), ("'text / with a slash' / comment", "text / with a slash"),
    ("''", ""), ("'' / empty", ""), ("'padded   '", "padded   "),
])
def test_plain_fields_read_as_the_grammar_reads_them(field, value):
    fast = _plain_value(field)
    assert fast is not None and fast[0] == value and type(fast[0]) is type(value)
    assert _same(fast, _by_grammar(field))


@pytest.mark.parametrize("field", [
    "'it''s'", "''/x''", "'a'b' / c", "'abc' x", "'unterminated", "TRUE", "T x", "1 2",
    "1_000", "(1, 2)", "1.5.5", "+", "inf", "'caf\xe9'", "1 .5", "1E 5",
])
def test_other_fields_are_left_to_the_grammar(field):
    assert _plain_value(field) is None


def test_random_fields_read_as_the_grammar_reads_them():
    rng = random.Random(19)
    pieces = ["'", "''", "abc", " ", "/", "/ c", "1", "12", "-", "+", ".", "E", "e-", "D+",
              "T", "F", "(", ")", ",", ": ", "\t", "\xe9", "0.5", "1E5", "&", "_"]
    handled = 0
    for _ in range(20000):
        field = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6))).strip()
        fast = _plain_value(field)
        if fast is not None:
            handled += 1
            assert _same(fast, _by_grammar(field)), field
    assert handled > 1000


def test_plain_keyword_look_ups_agree_with_the_general_one():
    header = fits.Header([("NAXIS", 2), ("OBJECT", "M31"), ("HISTORY", "one"),
                          ("DP1", "AXIS.1: 1"), ("BLANKVAL", None)])
    with pytest.raises(KeyError, match=r"Keyword 'EXPTIME' not found\."):
        header["EXPTIME"]
    assert header.get("EXPTIME", 5) == 5
    assert "EXPTIME" not in header and "NAXIS" in header and "naxis" in header
    assert header["naxis"] == header["NAXIS"] == 2
    assert header["BLANKVAL"] is None
    # the bare keyword of a record-valued card names its "field: value" text
    assert header["DP1"] == "AXIS.1: 1" and "DP1" in header and header.get("DP1") == "AXIS.1: 1"
    assert list(header["HISTORY"]) == ["one"]


@pytest.mark.parametrize("image, problems", [
    ("NAXIS   =                    2 / number of axes", 0),
    ("COMMENT plain text", 0),
    ("naxis   =                    2", 1),           # a lower-case keyword
    ("NAXIS   =                 2.0E", 1),           # not a FITS number
])
def test_read_cards_verify_as_the_full_checks_do(image, problems):
    card = Card.fromstring(image)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        errors = card._verify("warn")
    assert len(errors) == problems


def test_made_cards_verify_clean():
    for card in (Card("OBSERVER", "idiom"), Card("EXPTIME", 30.0), Card("CALIB", True),
                 Card("HISTORY", "a step"), Card()):
        assert not card._verify("exception")


def _records(*cards: str) -> str:
    return "".join(card.ljust(80) for card in cards)


def test_header_changes_cfitsio_reads_as_before_skip_the_scratch_check():
    old = _records("SIMPLE  =                    T", "BITPIX  =                  -32",
                   "NAXIS   =                    0", "OBSERVER= 'a'")
    assert not _judged_anew(old, old)
    assert not _judged_anew(old, old[:-80] + _records("OBSERVER= 'b'", "AIRMASS =  1.2"))
    # a structural or table card changed, or moved by an insertion before it
    assert _judged_anew(old, old.replace("-32", "-64"))
    assert _judged_anew(old, old + _records("TFORM1  = 'QQ'"))
    assert _judged_anew(old, old[:80] + _records("OBSERVER= 'x'") + old[80:])


def test_update_mode_edit_of_plain_keywords_writes_in_place(tmp_path, monkeypatch):
    path = tmp_path / "edit.fits"
    data = np.arange(12, dtype=">f4").reshape(3, 4)
    fits.PrimaryHDU(data).writeto(path)
    checked = []
    original = hdulist_module._check_headers
    monkeypatch.setattr(hdulist_module, "_check_headers",
                        lambda name, headers: (checked.append(dict(headers)),
                                               original(name, headers))[1])
    with fits.open(path, mode="update") as hdul:
        for key, value in zip(("OBSERVER", "EXPTIME", "CALIB"), ("me", 30.0, True)):
            hdul[0].header[key] = value
    assert checked == [{}]
    with fits.open(path) as hdul:
        assert [hdul[0].header[k] for k in ("OBSERVER", "EXPTIME", "CALIB")] == ["me", 30.0, True]
        np.testing.assert_array_equal(hdul[0].data, data)
    with fits.open(path, mode="update") as hdul:
        hdul[0].header["BSCALE"] = 1.0
    assert list(checked[1]) == [0]
