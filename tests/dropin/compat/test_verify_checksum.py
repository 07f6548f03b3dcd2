"""Verification options and checksums: one test body run against astropy.io.fits and fitsbind (the
``fits`` fixture)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from astropy.io import fits as afits

LOWERCASE_CARDS = [("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0), "exptime =                  100"]
PROBLEM = "Card keyword 'exptime' is not upper case."
FIXED = "Card keyword 'exptime' is not upper case.  Fixed 'EXPTIME' card to meet the FITS standard."


def verify_messages(record) -> list[str]:
    """The messages of the VerifyWarnings in ``record`` minus the library-specific closing note."""
    return [str(w.message) for w in record if not str(w.message).startswith("Note:")]


@pytest.fixture
def lowercase_file(write_raw):
    """A primary header whose last card has a lower-case keyword: a fixable verification error."""
    return write_raw([(LOWERCASE_CARDS, b"")], name="lowercase.fits")


# option -> (warning lines expected (None: no warnings), whether the card gets fixed; None: not
# checked, because with "ignore" astropy's card image depends on when the card was first parsed)
OPTIONS = {
    "warn": (["Verification reported errors:", "HDU 0:", "    Card 3:", "        " + PROBLEM], False),
    "fix": (["Verification reported errors:", "HDU 0:", "    Card 3:", "        " + FIXED], True),
    "fix+warn": (["Verification reported errors:", "HDU 0:", "    Card 3:", "        " + FIXED], True),
    "fix+ignore": (["Verification reported errors:", "HDU 0:", "    Card 3:", "        " + FIXED], True),
    "fix+exception": (["Verification reported errors:", "HDU 0:", "    Card 3:", "        " + FIXED], True),
    "silentfix": (None, True),
    "silentfix+warn": (None, True),
    "silentfix+ignore": (None, True),
    "silentfix+exception": (None, True),
    "ignore": (None, None),
}


@pytest.mark.parametrize("option", list(OPTIONS))
def test_verify_option_on_fixable_card(fits, lowercase_file, option):
    expected_lines, fixed = OPTIONS[option]
    with fits.open(lowercase_file) as hdul:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            hdul.verify(option)
        verify_record = [w for w in record if issubclass(w.category, fits.verify.VerifyWarning)]
        if expected_lines is None:
            assert verify_record == []
        else:
            assert verify_messages(verify_record) == expected_lines
            assert str(verify_record[-1].message).startswith("Note:")
            assert str(verify_record[-1].message).endswith("uses zero-based indexing.\n")
        if fixed is not None:
            card = str(hdul[0].header.cards[3])
            assert card.startswith("EXPTIME =" if fixed else "exptime =")
        assert hdul[0].header[3] == 100


def test_verify_exception_option(fits, lowercase_file):
    with fits.open(lowercase_file) as hdul:
        with pytest.raises(fits.VerifyError) as excinfo:
            hdul.verify("exception")
        lines = str(excinfo.value).splitlines()
        assert lines[:5] == ["", "Verification reported errors:", "HDU 0:", "    Card 3:", " " * 8 + PROBLEM]
        assert str(hdul[0].header.cards[3]).startswith("exptime =")


def test_verify_error_is_exception_subclass(fits):
    assert issubclass(fits.VerifyError, Exception)
    assert issubclass(fits.verify.VerifyWarning, UserWarning)


def test_verify_bad_option(fits, lowercase_file):
    with fits.open(lowercase_file) as hdul:
        with pytest.raises(ValueError, match=re.escape("Option 'bogus' not recognized.")):
            hdul.verify("bogus")


def test_verify_hdu_level(fits, lowercase_file):
    with fits.open(lowercase_file) as hdul:
        with pytest.raises(fits.VerifyError, match=re.escape(PROBLEM)):
            hdul[0].verify("exception")
        hdul[0].verify("silentfix")
        assert str(hdul[0].header.cards[3]).startswith("EXPTIME =")


def test_verify_card_level(fits):
    card = fits.Card.fromstring("exptime =                  100")
    with pytest.warns(fits.verify.VerifyWarning) as record:
        card.verify("fix")
    assert FIXED in [str(w.message) for w in record]
    assert str(card) == "EXPTIME =                  100" + " " * 50


def test_verify_reorders_required_keywords(fits):
    path = afits.util.get_testdata_filepath("verify.fits")
    with fits.open(path) as hdul:
        assert list(hdul[0].header.keys()) == ["SIMPLE", "NAXIS", "BITPIX"]
        with pytest.raises(fits.VerifyError, match=re.escape("'BITPIX' card at the wrong place (card 2).")):
            hdul.verify("exception")
        with pytest.warns(fits.verify.VerifyWarning) as record:
            hdul.verify("fix")
        assert (
            "    'BITPIX' card at the wrong place (card 2).  Fixed by moving it to the right place (card 1)."
            in [str(w.message) for w in record]
        )
        assert list(hdul[0].header.keys()) == ["SIMPLE", "BITPIX", "NAXIS"]


def test_req_cards_returns_the_list_and_takes_a_position_test(fits):
    hdu = fits.ImageHDU()
    errs = hdu.req_cards("TESTKW", None, None, "foo", "silentfix", [])
    assert len(errs) == 1
    assert hdu.header.cards[-1].keyword == "TESTKW" and hdu.header["TESTKW"] == "foo"
    assert hdu.req_cards("TESTKW", None, lambda v: v == "foo", "foo", "ignore", []) == []
    errs = hdu.req_cards("TESTKW", None, lambda v: v == "bar", "bar", "exception", [])
    assert errs[0][1] == "'TESTKW' card has invalid value 'foo'."
    # a function of the card's index says whether its place is right
    errs = hdu.req_cards("TESTKW", lambda index: index < 3, None, None, "exception", [])
    assert errs[0][1].startswith("'TESTKW' card at the wrong place")


def test_verify_deletes_naxisj_beyond_naxis(fits):
    hdu = fits.ImageHDU(np.zeros((2, 3), dtype=np.int16))
    hdu.header["NAXIS3"] = 500
    message = "NAXISj keyword out of range ('NAXIS3' when NAXIS == 2)"
    with pytest.raises(fits.VerifyError, match=re.escape(message)):
        hdu.verify("exception")
    hdu.verify("silentfix")
    assert "NAXIS3" not in hdu.header


def test_verify_fixes_naxisn_to_the_number_it_holds(fits, write_raw):
    cards = [("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 3), ("NAXIS1", 11), ("NAXIS2", 10), ("NAXIS3", 7)]
    with fits.open(write_raw([(cards, bytes(770))])) as hdul:
        hdul[0].header["NAXIS1"] = 11.0
        hdul[0].header["NAXIS2"] = "10.0"
        hdul[0].header["NAXIS3"] = "7"
        hdul.verify("silentfix")
        assert [hdul[0].header[f"NAXIS{i}"] for i in (1, 2, 3)] == [11, 10, 7]


def test_verify_reports_a_missing_first_card_first(fits, tmpfile):
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU()])
    hdul[1].header.clear()
    with pytest.raises(fits.VerifyError) as excinfo:
        hdul.writeto(tmpfile("cleared.fits"))
    lines = str(excinfo.value).splitlines()
    assert lines[2:4] == ["HDU 1:", "    'XTENSION' card does not exist."]


def test_verify_fixes_extend_of_a_primary_with_extensions(fits):
    hdul = fits.HDUList([fits.PrimaryHDU(np.zeros(3)), fits.ImageHDU()])
    assert hdul[0].header["EXTEND"] is True
    del hdul[0].header["EXTEND"]
    with pytest.raises(fits.VerifyError, match="Primary HDU does not contain an EXTEND keyword"):
        hdul.verify("exception")
    hdul.verify("silentfix")
    assert hdul[0].header["EXTEND"] is True
    assert list(hdul[0].header.keys()).index("EXTEND") == 4   # after NAXIS1


def test_compressed_image_with_primary_header_verifies_as_primary(fits):
    primary = fits.PrimaryHDU(np.arange(4, dtype=np.int16).reshape(2, 2))
    hdu = fits.CompImageHDU(data=primary.data, header=primary.header)
    hdu.verify("exception")


def test_writeto_output_verify_fix_writes_fixed_card(fits, lowercase_file, tmpfile, fitsverify):
    out = tmpfile("fixed.fits")
    with fits.open(lowercase_file) as hdul:
        with pytest.warns(fits.verify.VerifyWarning):
            hdul.writeto(out, output_verify="fix")
    assert afits.getheader(out).cards[3].image.startswith("EXPTIME =                  100")
    fitsverify(out)


def test_writeto_output_verify_ignore_still_formats_card(fits, lowercase_file, tmpfile):
    # "ignore" skips the HDU list's verification, but a card that was never parsed is fixed (with a
    # "fix+warn" report) when its image is formatted for writing
    out = tmpfile("asis.fits")
    with fits.open(lowercase_file) as hdul:
        with pytest.warns(fits.verify.VerifyWarning) as record:
            hdul.writeto(out, output_verify="ignore")
    assert FIXED in [str(w.message) for w in record]
    assert out.read_bytes()[3 * 80 : 4 * 80] == b"EXPTIME =                  100".ljust(80)


def test_writeto_default_output_verify_is_exception(fits, lowercase_file, tmpfile):
    with fits.open(lowercase_file) as hdul:
        with pytest.raises(fits.VerifyError, match=re.escape(PROBLEM)):
            hdul.writeto(tmpfile("out.fits"))


# ---------------------------------------------------------------------------------------------
# checksums


def test_add_datasum(fits):
    hdu = fits.PrimaryHDU(np.arange(10, dtype=np.int32))
    assert hdu.verify_datasum() == 2  # no DATASUM card
    assert hdu.verify_checksum() == 2
    hdu.add_datasum(when="today")
    card = hdu.header.cards["DATASUM"]
    assert (card.value, card.comment) == ("45", "today")
    assert hdu.verify_datasum() == 1
    assert "CHECKSUM" not in hdu.header


def test_add_checksum_known_values(fits):
    hdu = fits.PrimaryHDU(np.arange(10, dtype=np.int32))
    hdu.add_checksum(when="today")
    assert list(hdu.header.keys())[-2:] == ["CHECKSUM", "DATASUM"]
    assert hdu.header["CHECKSUM"] == "jYTJjXTGjXTGjXTG"
    assert hdu.header.comments["CHECKSUM"] == "today"
    assert hdu.header["DATASUM"] == "45"
    assert hdu.verify_checksum() == 1
    assert hdu.verify_datasum() == 1


@pytest.mark.parametrize(
    ("make", "checksum", "datasum"),
    [
        (lambda fits: fits.ImageHDU(np.arange(10, dtype=np.int32)), "nCWAq9U4nCU9n9U9", "45"),
        (
            lambda fits: fits.BinTableHDU.from_columns([fits.Column("A", "J", array=np.array([1, 2, 3]))]),
            "mHNSpENRmENRmENR",
            "6",
        ),
        (lambda fits: fits.PrimaryHDU(), "biNCefN9bfNAbfN9", "0"),
    ],
    ids=["image", "bintable", "empty"],
)
def test_add_checksum_other_hdus(fits, make, checksum, datasum):
    hdu = make(fits)
    hdu.add_checksum(when="x")
    assert hdu.header["CHECKSUM"] == checksum
    assert hdu.header["DATASUM"] == datasum
    assert hdu.verify_checksum() == 1


def test_add_checksum_override_datasum_and_keywords(fits):
    hdu = fits.PrimaryHDU(np.arange(10, dtype=np.int32))
    hdu.add_checksum(when="today", override_datasum=True)
    assert "DATASUM" not in hdu.header
    assert hdu.header["CHECKSUM"] == "NKU8NKU5NKU5NKU5"
    other = fits.PrimaryHDU(np.arange(10, dtype=np.int32))
    other.add_checksum(when="today", datasum_keyword="DSUM", checksum_keyword="CSUM")
    assert list(other.header.keys())[-2:] == ["CSUM", "DSUM"]
    assert other.header["DSUM"] == "45"


def test_checksum_detects_changed_data(fits):
    hdu = fits.PrimaryHDU(np.arange(10, dtype=np.int32))
    hdu.add_checksum(when="today")
    hdu.data[0] = 5
    assert hdu.verify_datasum() == 0
    assert hdu.verify_checksum() == 0


def test_checksum_written_and_verified_from_file(fits, tmpfile, fitsverify):
    path = tmpfile("ck.fits")
    hdu = fits.PrimaryHDU(np.arange(10, dtype=np.int32))
    hdu.add_checksum(when="today")
    hdu.writeto(path)
    with afits.open(path, checksum=True) as check:
        assert check[0].header["CHECKSUM"] == "jYTJjXTGjXTGjXTG"
        assert check[0].verify_checksum() == 1
    with fits.open(path) as hdul:
        assert hdul[0].verify_checksum() == 1
        assert hdul[0].verify_datasum() == 1
    fitsverify(path)


@pytest.mark.parametrize(("name", "expected"), [("checksum.fits", 1), ("checksum_false.fits", 0)])
def test_verify_checksum_shipped_files(fits, name, expected):
    path = afits.util.get_testdata_filepath(name)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with fits.open(path, checksum=True) as hdul:
            assert [(h.verify_checksum(), h.verify_datasum()) for h in hdul] == [(expected, expected)] * 2
    failures = [str(w.message) for w in record if "verification failed" in str(w.message)]
    if expected:
        assert failures == []
    else:
        assert failures == [
            "Checksum verification failed for HDU ('PRIMARY', 1).\n",
            "Datasum verification failed for HDU ('PRIMARY', 1).\n",
            "Checksum verification failed for HDU ('RATE', 1).\n",
            "Datasum verification failed for HDU ('RATE', 1).\n",
        ]


def test_update_mode_keeps_checksums_current(fits, tmpfile):
    path = tmpfile("ck.fits")
    afits.PrimaryHDU(np.arange(10, dtype=np.int32)).writeto(path, checksum=True)
    with fits.open(path, mode="update", checksum=True) as hdul:
        hdul[0].data[0] = 99
    with afits.open(path, checksum=True) as check:
        assert check[0].data[0] == 99
        assert check[0].verify_checksum() == 1
        assert check[0].verify_datasum() == 1


def test_add_checksum_goes_before_existing_datasum(fits):
    hdu = fits.PrimaryHDU(np.arange(10, dtype=np.int32))
    hdu.add_datasum(when="d")
    hdu.header["LATER"] = 1
    hdu.add_checksum(when="c")
    assert list(hdu.header.keys())[-3:] == ["CHECKSUM", "DATASUM", "LATER"]
    # an existing CHECKSUM card moves next to DATASUM
    hdu.header.insert("DATASUM", ("MID", 0))
    hdu.add_checksum(when="c")
    assert list(hdu.header.keys())[-4:] == ["MID", "CHECKSUM", "DATASUM", "LATER"]
    assert hdu.verify_checksum() == 1


def test_verify_checksum_without_datasum_card_counts_no_data(fits):
    # as astropy: without DATASUM the data are taken to sum to zero
    hdu = fits.PrimaryHDU(np.arange(10, dtype=np.int32))
    hdu.add_checksum(when="today", override_datasum=True)
    assert hdu.verify_checksum() == 0
    empty = fits.PrimaryHDU()
    empty.add_checksum(when="today", override_datasum=True)
    assert empty.verify_checksum() == 1


@pytest.mark.parametrize(
    ("checksum", "keys", "valid"),
    [
        ("remove", [], None),
        ("datasum", ["CHECKSUM", "DATASUM"], (0, 1)),
        (False, ["CHECKSUM", "DATASUM"], (0, 0)),
        (None, ["CHECKSUM", "DATASUM"], (1, 1)),
    ],
    ids=["remove", "datasum", "false", "not-given"],
)
def test_update_mode_checksum_argument(fits, tmpfile, checksum, keys, valid):
    path = tmpfile("ck.fits")
    afits.PrimaryHDU(np.arange(10, dtype=np.int32)).writeto(path, checksum=True)
    kwargs = {} if checksum is None else {"checksum": checksum}
    with fits.open(path, mode="update", **kwargs) as hdul:
        hdul[0].data[0] = 99
    with afits.open(path) as check:
        assert [k for k in check[0].header if k in ("CHECKSUM", "DATASUM")] == keys
        if valid is not None:
            assert (check[0].verify_checksum(), check[0].verify_datasum()) == valid


def test_update_mode_checksum_true_adds_cards_to_every_hdu(fits, sample):
    with fits.open(sample.path, mode="update", checksum=True) as hdul:
        hdul[3].header["NOTE"] = "touched"
    with afits.open(sample.path, checksum=True) as check:
        assert [(h.verify_checksum(), h.verify_datasum()) for h in check] == [(1, 1)] * 5
        assert check[3].header["NOTE"] == "touched"


def test_appended_hdu_with_checksum_cards_gets_fresh_ones(fits, sample):
    with fits.open(sample.path, mode="update") as hdul:
        header = fits.Header([("CHECKSUM", "stale"), ("DATASUM", "1")])
        hdul.append(fits.ImageHDU(np.arange(3, dtype=np.int16), header=header))
    with afits.open(sample.path) as check:
        assert (check[5].verify_checksum(), check[5].verify_datasum()) == (1, 1)
        assert "CHECKSUM" not in check[0].header


def test_checksum_timestamp_hook_makes_checksums_reproducible(fits, tmpfile, monkeypatch):
    # the comments' timestamp comes from _ValidHDU._get_timestamp; fixing it fixes the checksum
    monkeypatch.setattr(fits.hdu.base._ValidHDU, "_get_timestamp", lambda self: "2013-12-20T13:36:10")
    path = tmpfile("ck.fits")
    fits.PrimaryHDU(np.arange(100, dtype=np.int64)).writeto(path, checksum=True)
    with afits.open(path) as check:
        assert check[0].header["CHECKSUM"] == "ZHMkeGKjZGKjbGKj"
        assert check[0].header.comments["DATASUM"] == "data unit checksum updated 2013-12-20T13:36:10"
        assert check[0].header.comments["CHECKSUM"] == "HDU checksum updated 2013-12-20T13:36:10"


def test_open_with_checksum_keeps_the_values_read(fits, tmpfile):
    path = tmpfile("ck.fits")
    afits.HDUList([afits.PrimaryHDU(), afits.ImageHDU(np.arange(10, dtype=np.int32))]).writeto(path)
    afits.append(path, np.arange(3, dtype=np.int16), checksum=True)
    with fits.open(path, checksum=True) as hdul:
        assert (hdul[0]._checksum, hdul[0]._datasum) == (None, None)
        assert hdul[2]._datasum == "131073"  # int16 0, 1, 2: words 0x00000001, 0x00020000
        assert hdul[2]._checksum == hdul[2].header["CHECKSUM"]
        assert (hdul[2]._checksum_valid, hdul[2]._datasum_valid) == (1, 1)


def test_theap_naming_the_heap_start_is_kept(fits, tmpfile):
    # a THEAP card equal to the table size stays in the header (and in its checksum)
    path = tmpfile("vla.fits")
    columns = [fits.Column(name="a", format="1A", array=["a"]),
               fits.Column(name="b", format="QD", array=[[1]])]
    table = fits.BinTableHDU.from_columns(columns)
    table.header["THEAP"] = 17
    table.writeto(path)
    with afits.open(path) as check:
        assert check[1].header["THEAP"] == 17
        assert list(check[1].data["b"][0]) == [1.0]
