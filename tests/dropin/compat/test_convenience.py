"""Convenience functions (getdata, getheader, getval, setval, delval, writeto, append, update, info,
printdiff, table_to_hdu, tabledump, tableload): one test body run against astropy.io.fits and
fitsbind (the ``fits`` fixture)."""

from __future__ import annotations

import io
import re
import shutil

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits as afits
from astropy.table import MaskedColumn, Table


def data_areas(path) -> list[bytes]:
    """Every HDU's data area (with padding) as bytes, read through astropy's file offsets."""
    raw = path.read_bytes()
    with afits.open(path) as hdul:
        infos = [hdul.fileinfo(i) for i in range(len(hdul))]
    return [raw[info["datLoc"] : info["datLoc"] + info["datSpan"]] for info in infos]


# ---------------------------------------------------------------------------------------------
# getdata / getheader / getval


def test_getdata_default_is_primary(fits, sample):
    data = fits.getdata(sample.path)
    np.testing.assert_array_equal(data, sample.primary)
    assert data.dtype == np.dtype(">i2")


def test_getdata_with_header(fits, sample):
    data, header = fits.getdata(sample.path, header=True)
    assert isinstance(header, fits.Header)
    assert header["OBSERVER"] == "Edwin"
    np.testing.assert_array_equal(data, sample.primary)


def test_getdata_extension_specs(fits, sample):
    np.testing.assert_array_equal(fits.getdata(sample.path, 2), sample.sci2)
    np.testing.assert_array_equal(fits.getdata(sample.path, "SCI"), sample.sci1)
    np.testing.assert_array_equal(fits.getdata(sample.path, "sci", 2), sample.sci2)
    np.testing.assert_array_equal(fits.getdata(sample.path, ("SCI", 2)), sample.sci2)
    np.testing.assert_array_equal(fits.getdata(sample.path, ext=2), sample.sci2)
    np.testing.assert_array_equal(fits.getdata(sample.path, extname="SCI", extver=2), sample.sci2)
    np.testing.assert_array_equal(fits.getdata(sample.path, extname="sci"), sample.sci1)


def test_getdata_bad_extension_specs(fits, sample):
    with pytest.raises(IndexError):
        fits.getdata(sample.path, 5)
    with pytest.raises(KeyError):
        fits.getdata(sample.path, "NOPE")
    with pytest.raises(TypeError):
        fits.getdata(sample.path, ext=1, extname="SCI")


def test_getdata_table_lower_upper(fits, sample):
    table = fits.getdata(sample.path, "CAT")
    assert isinstance(table, fits.FITS_rec)
    assert table.dtype.names == ("ID", "NAME", "FLUX")
    lower = fits.getdata(sample.path, "CAT", lower=True)
    assert lower.dtype.names == ("id", "name", "flux")
    np.testing.assert_array_equal(lower["flux"], sample.flux)
    upper = fits.getdata(sample.path, extname="CAT", upper=True)
    assert upper.dtype.names == ("ID", "NAME", "FLUX")


def test_getdata_skips_empty_primary(fits, tmpfile):
    path = tmpfile("empty_primary.fits")
    afits.HDUList([afits.PrimaryHDU(), afits.ImageHDU(np.arange(3))]).writeto(path)
    np.testing.assert_array_equal(fits.getdata(path), [0, 1, 2])
    with pytest.raises(IndexError, match=re.escape("No data in HDU #0.")):
        fits.getdata(path, 0)


def test_getdata_no_data_anywhere(fits, tmpfile):
    path = tmpfile("nodata.fits")
    afits.PrimaryHDU().writeto(path)
    with pytest.raises(IndexError, match=re.escape("No data in Primary HDU and no extension HDU found.")):
        fits.getdata(path)


def test_getdata_scaled(fits, scaled_file):
    data = fits.getdata(scaled_file.path)
    assert data.dtype == np.float32
    np.testing.assert_array_equal(data, scaled_file.physical.astype(np.float32))
    raw = fits.getdata(scaled_file.path, do_not_scale_image_data=True)
    np.testing.assert_array_equal(raw, scaled_file.raw)


def test_getheader(fits, sample):
    header = fits.getheader(sample.path, 1)
    assert isinstance(header, fits.Header)
    expected = afits.getheader(sample.path, 1)
    assert [str(card) for card in header.cards] == [str(card) for card in expected.cards]
    assert fits.getheader(sample.path)["OBSERVER"] == "Edwin"
    assert fits.getheader(sample.path, "SCI", 2)["EXTVER"] == 2
    assert fits.getheader(sample.path, extname="CAT")["TFORM2"] == "8A"


def test_getval(fits, sample):
    assert fits.getval(sample.path, "OBSERVER") == "Edwin"
    assert fits.getval(sample.path, "EXTNAME", 2) == "SCI"
    assert fits.getval(sample.path, "EXTVER", "SCI", 2) == 2
    assert fits.getval(sample.path, "TFORM2", extname="CAT") == "8A"
    assert fits.getval(sample.path, "NAXIS2", ext=("ASC", 1)) == 2
    with pytest.raises(KeyError, match="NOPE"):
        fits.getval(sample.path, "NOPE")
    with pytest.raises(ValueError, match="The ext keyword must be either an extension number"):
        fits.getval(sample.path, "TFORM2", ext="CAT")


# ---------------------------------------------------------------------------------------------
# setval / delval


def test_setval_value_and_comment(fits, sample):
    fits.setval(sample.path, "OBSERVER", value="Vera")
    card = afits.getheader(sample.path).cards["OBSERVER"]
    assert (card.value, card.comment) == ("Vera", "who observed")
    fits.setval(sample.path, "OBSERVER", value="Vera2", comment="new comment")
    card = afits.getheader(sample.path).cards["OBSERVER"]
    assert (card.value, card.comment) == ("Vera2", "new comment")


def test_setval_savecomment(fits, sample):
    fits.setval(sample.path, "OBSERVER", value="Vera", comment="ignored", savecomment=True)
    card = afits.getheader(sample.path).cards["OBSERVER"]
    assert (card.value, card.comment) == ("Vera", "who observed")


def test_setval_before_after(fits, sample):
    fits.setval(sample.path, "NEWK", value=1, comment="c", before="OBSERVER")
    fits.setval(sample.path, "NEWK2", value=2, after="EXTEND")
    assert list(afits.getheader(sample.path).keys()) == [
        "SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "NEWK2", "NEWK", "OBSERVER",
    ]  # fmt: skip
    # an existing keyword keeps its place when only its value changes
    fits.setval(sample.path, "NEWK", value=5)
    header = afits.getheader(sample.path)
    assert list(header.keys()).index("NEWK") == 7
    assert header["NEWK"] == 5
    assert header.comments["NEWK"] == "c"


def test_setval_extensions(fits, sample):
    fits.setval(sample.path, "EXPT", value=1.5, ext=2)
    fits.setval(sample.path, "EXPT", value=2.5, extname="CAT")
    fits.setval(sample.path, "EXPT", value=3.5, extname="SCI", extver=1)
    assert afits.getval(sample.path, "EXPT", 2) == 1.5
    assert afits.getval(sample.path, "EXPT", 3) == 2.5
    assert afits.getval(sample.path, "EXPT", 1) == 3.5
    assert "EXPT" not in afits.getheader(sample.path, 0)


def test_setval_without_value_makes_undefined_card(fits, sample):
    fits.setval(sample.path, "EMPTY")
    card = afits.getheader(sample.path).cards["EMPTY"]
    assert str(card) == "EMPTY   =" + " " * 71


def test_setval_leaves_data_untouched(fits, sample):
    before = data_areas(sample.path)
    fits.setval(sample.path, "OBSERVER", value="Vera", ext=0)
    fits.setval(sample.path, "EXPT", value=2.5, extname="CAT")
    assert data_areas(sample.path) == before
    assert sample.path.stat().st_size == 10 * 2880


def test_delval(fits, sample):
    fits.delval(sample.path, "OBSERVER")
    assert "OBSERVER" not in afits.getheader(sample.path)
    fits.setval(sample.path, "EXPT", value=1.5, ext=2)
    fits.delval(sample.path, "EXPT", 2)
    assert "EXPT" not in afits.getheader(sample.path, 2)
    with pytest.raises(KeyError, match="NOPE"):
        fits.delval(sample.path, "NOPE")
    np.testing.assert_array_equal(afits.getdata(sample.path, 2), sample.sci2)


# ---------------------------------------------------------------------------------------------
# writeto / append / update


def test_writeto(fits, tmpfile, fitsverify):
    path = tmpfile("w.fits")
    fits.writeto(path, np.arange(6, dtype=np.int32).reshape(2, 3))
    with afits.open(path) as check:
        assert [str(c) for c in check[0].header.cards] == [
            "SIMPLE  =                    T / conforms to FITS standard                      ",
            "BITPIX  =                   32 / array data type                                ",
            "NAXIS   =                    2 / number of array dimensions                     ",
            "NAXIS1  =                    3                                                  ",
            "NAXIS2  =                    2                                                  ",
            "EXTEND  =                    T                                                  ",
        ]
        np.testing.assert_array_equal(check[0].data, np.arange(6).reshape(2, 3))
    assert path.stat().st_size == 2 * 2880
    fitsverify(path)
    with pytest.raises(OSError, match="already exists"):
        fits.writeto(path, np.arange(3))


def test_writeto_header_overwrite_checksum(fits, tmpfile, fitsverify):
    path = tmpfile("w.fits")
    fits.writeto(path, np.arange(3))
    header = fits.Header([("OBJ", "m31", "target")])
    fits.writeto(path, np.arange(3.0), header=header, overwrite=True, checksum=True)
    with afits.open(path, checksum=True) as check:
        assert check[0].header["BITPIX"] == -64
        assert check[0].header["OBJ"] == "m31"
        assert check[0].header["DATASUM"] == "2146435072"
        assert check[0].verify_checksum() == 1
        np.testing.assert_array_equal(check[0].data, [0.0, 1.0, 2.0])
    fitsverify(path)


def test_writeto_table(fits, tmpfile, fitsverify):
    path = tmpfile("t.fits")
    rec = np.rec.fromarrays([np.arange(3, dtype=np.int16), np.array([0.5, 1.0, 2.0])], names="a,b")
    fits.writeto(path, rec)
    with afits.open(path) as check:
        assert [type(h).__name__ for h in check] == ["PrimaryHDU", "BinTableHDU"]
        assert check[1].columns.formats == ["I", "D"]
        np.testing.assert_array_equal(check[1].data["b"], [0.5, 1.0, 2.0])
    fitsverify(path)


def test_append(fits, tmpfile, fitsverify):
    path = tmpfile("a.fits")
    fits.append(path, np.arange(2))  # creates the file with a primary HDU
    fits.append(path, np.ones((2, 2), dtype=np.float32))
    fits.append(path, np.zeros(2), header=fits.Header([("EXTNAME", "APP")]))
    fits.append(path, np.rec.fromarrays([np.arange(3)], names="a"))
    expected = (
        "No.    Name      Ver    Type      Cards   Dimensions   Format\n"
        "  0  PRIMARY       1 PrimaryHDU       5   (2,)   int64   \n"
        "  1                1 ImageHDU         7   (2, 2)   float32   \n"
        "  2  APP           1 ImageHDU         7   (2,)   float64   \n"
        "  3                1 BinTableHDU     10   3R x 1C   [K]   \n"
    )
    buffer = io.StringIO()
    afits.info(path, output=buffer)
    assert buffer.getvalue() == f"Filename: {path}\n" + expected
    np.testing.assert_array_equal(afits.getdata(path, 1), np.ones((2, 2)))
    np.testing.assert_array_equal(afits.getdata(path, 3)["a"], [0, 1, 2])
    fitsverify(path)


def test_update(fits, tmpfile, fitsverify):
    path = tmpfile("u.fits")
    afits.HDUList(
        [afits.PrimaryHDU(np.arange(3.0)), afits.ImageHDU(np.ones(2), name="APP"), afits.ImageHDU(np.ones(4))]
    ).writeto(path)
    fits.update(path, np.full((2, 2), 7, dtype=np.float32), 2)
    np.testing.assert_array_equal(afits.getdata(path, 2), np.full((2, 2), 7))
    fits.update(path, np.full(5, 9.0), fits.Header([("EXTNAME", "APP")]), "APP")
    np.testing.assert_array_equal(afits.getdata(path, "APP"), np.full(5, 9.0))
    fits.update(path, np.arange(4, dtype=np.int16), header=fits.Header([("NEWH", 1)]), ext=1)
    header = afits.getheader(path, 1)
    assert header["NEWH"] == 1
    # the new header replaces the old one entirely: the EXTNAME is gone
    assert "EXTNAME" not in header
    np.testing.assert_array_equal(afits.getdata(path, 1), np.arange(4))
    np.testing.assert_array_equal(afits.getdata(path, 0), np.arange(3.0))
    fitsverify(path)


# ---------------------------------------------------------------------------------------------
# info / printdiff


def test_info(fits, sample, capsys):
    summary = fits.info(sample.path, output=False)
    assert summary == afits.info(sample.path, output=False)
    assert summary[3] == (3, "CAT", 1, "BinTableHDU", 16, "3R x 3C", "[J, 8A, E]", "")
    assert capsys.readouterr().out == ""
    assert fits.info(sample.path) is None
    buffer = io.StringIO()
    afits.info(sample.path, output=buffer)
    assert capsys.readouterr().out == buffer.getvalue()


def test_printdiff(fits, tmpfile, capsys):
    a, b = tmpfile("a.fits"), tmpfile("b.fits")
    afits.writeto(a, np.arange(4.0))
    afits.writeto(b, np.array([0.0, 1.0, 3.0, 3.0]))
    afits.setval(b, "OBS", value="x")
    fits.printdiff(a, b)
    lines = capsys.readouterr().out.splitlines()
    # the first line names the program and its version
    assert lines[0] == ""
    assert re.fullmatch(r" fitsdiff: .+", lines[1])
    assert lines[2:] == [
        f" a: {a}",
        f" b: {b}",
        " Maximum number of different data values to be reported: 10",
        " Relative tolerance: 0.0, Absolute tolerance: 0.0",
        "",
        "Primary HDU:",
        "",
        "   Headers contain differences:",
        "     Headers have different number of cards:",
        "      a: 5",
        "      b: 6",
        "     Extra keyword 'OBS'    in b: 'x'",
        "",
        "   Data contains differences:",
        "     Data differs at [3]:",
        "        a> 2.0",
        "        b> 3.0",
        "     1 different pixels found (25.00% different).",
        "     Maximum relative difference: 0.3333333333333333",
        "     Maximum absolute difference: 1.0",
        "",
    ]


def test_printdiff_identical(fits, sample, capsys):
    fits.printdiff(sample.path, sample.path)
    out = capsys.readouterr().out
    assert out.rstrip().endswith("No differences found.")


# ---------------------------------------------------------------------------------------------
# table_to_hdu / tabledump / tableload


def test_table_to_hdu(fits, tmpfile, fitsverify):
    table = Table({"a": [1, 2], "b": [1.5, 2.5]}, meta={"OBSERVER": "x"})
    table["b"].unit = u.Jy
    hdu = fits.table_to_hdu(table)
    assert isinstance(hdu, fits.BinTableHDU)
    assert [str(c) for c in hdu.header.cards][7:] == [
        "TFIELDS =                    2 / number of table fields                         ",
        "TTYPE1  = 'a       '                                                            ",
        "TFORM1  = 'K       '                                                            ",
        "TTYPE2  = 'b       '                                                            ",
        "TFORM2  = 'D       '                                                            ",
        "TUNIT2  = 'Jy      '                                                            ",
        "OBSERVER= 'x       '                                                            ",
    ]
    path = tmpfile("t.fits")
    hdu.writeto(path)
    np.testing.assert_array_equal(afits.getdata(path, 1)["b"], [1.5, 2.5])
    fitsverify(path)


def test_table_to_hdu_masked(fits):
    table = Table(
        {"f": MaskedColumn([1.0, 2.0], mask=[False, True]), "i": MaskedColumn([1, 2], mask=[True, False])}
    )
    hdu = fits.table_to_hdu(table)
    assert hdu.header["TNULL2"] == 999999
    assert "TNULL1" not in hdu.header
    np.testing.assert_array_equal(hdu.data["f"], [1.0, np.nan])
    np.testing.assert_array_equal(hdu.data["i"], [999999, 2])


def _time_table(location_kind: str) -> Table:
    from astropy.coordinates import EarthLocation
    from astropy.time import Time

    here = EarthLocation.from_geodetic(-17.9, 28.76, 2300)
    where = {"none": None, "one": here, "per row": EarthLocation.from_geodetic(
        [-17.9, 10.0], [28.76, 45.0], [2300, 10])}[location_kind]
    table = Table({"n": [1, 2]})
    table["t"] = Time([59000.25, 59001.125], format="mjd", scale="tt", location=where)
    table["u"] = Time(["2020-01-01T00:00:00", "2021-06-30T12:00:00"], scale="utc")
    table["u"].info.serialize_method["fits"] = "formatted_value"
    return table


@pytest.mark.parametrize("location_kind", ["none", "one", "per row"])
def test_table_to_hdu_time_columns(fits, location_kind, tmpfile, fitsverify):
    """Time columns follow the FITS time convention as astropy writes it: jd1/jd2 pairs in
    days with TCTYPn/TCUNIn/TRPOSn, the global frame cards, OBSGEO-X/Y/Z; astropy reads the
    times back."""
    from astropy.time import Time

    table = _time_table(location_kind)
    hdu = fits.table_to_hdu(table)
    expected = afits.table_to_hdu(_time_table(location_kind))
    assert [str(c) for c in hdu.header.cards] == [str(c) for c in expected.header.cards]
    for name in expected.columns.names:
        np.testing.assert_array_equal(hdu.data[name], expected.data[name])
    path = tmpfile("time.fits")
    hdu.writeto(path)
    if location_kind != "per row":      # fitsverify warns about the OBSGEO-X column names
        fitsverify(path)
    back = Table.read(path, astropy_native=True)
    assert isinstance(back["t"], Time) and back["t"].scale == "tt"
    np.testing.assert_array_equal(back["t"].mjd, [59000.25, 59001.125])


def test_table_to_hdu_time_columns_at_two_places_refused(fits):
    from astropy.coordinates import EarthLocation
    from astropy.time import Time

    table = Table()
    table["a"] = Time([1.0], format="mjd", location=EarthLocation.from_geodetic(0, 0, 0))
    table["b"] = Time([1.0], format="mjd", location=EarthLocation.from_geodetic(10, 0, 0))
    with pytest.raises(ValueError, match="different geocentric observatory locations"):
        fits.table_to_hdu(table)


def test_tabledump_files(fits, sample, tmpfile):
    datafile, cdfile, hfile = tmpfile("dat.txt"), tmpfile("cols.txt"), tmpfile("hdr.txt")
    fits.tabledump(sample.path, datafile, cdfile, hfile, ext=3)
    assert datafile.read_text() == (
        '"                   10" "a       " "     1.50000000000000"\n'
        '"                   20" "bb      " "     2.50000000000000"\n'
        '"                   30" "ccc     " "     3.50000000000000"\n'
    )
    assert cdfile.read_text().splitlines()[2].split()[:4] == ["FLUX", "E", '""', "Jy"]
    assert hfile.read_text().splitlines() == [str(c) for c in afits.getheader(sample.path, 3).cards]
    with pytest.raises(OSError, match="already exists"):
        fits.tabledump(sample.path, datafile, ext=3)
    fits.tabledump(sample.path, datafile, ext=3, overwrite=True)


def test_tabledump_default_name(fits, sample, tmp_path):
    copy = tmp_path / "cat.fits"
    shutil.copy(sample.path, copy)
    fits.tabledump(copy, ext=3)
    first_row = (tmp_path / "cat_3.txt").read_text().splitlines()[0]
    assert first_row == '"                   10" "a       " "     1.50000000000000"'


def test_tableload_round_trip(fits, sample, tmpfile):
    datafile, cdfile, hfile = tmpfile("dat.txt"), tmpfile("cols.txt"), tmpfile("hdr.txt")
    afits.tabledump(sample.path, datafile, cdfile, hfile, ext=3)
    hdu = fits.tableload(datafile, cdfile, hfile)
    assert isinstance(hdu, fits.BinTableHDU)
    assert hdu.name == "CAT"
    assert hdu.columns.names == ["ID", "NAME", "FLUX"]
    assert hdu.columns.formats == ["J", "8A", "E"]
    assert hdu.columns["FLUX"].unit == "Jy"
    np.testing.assert_array_equal(hdu.data["ID"], sample.ids)
    np.testing.assert_array_equal(hdu.data["NAME"], sample.names)
    np.testing.assert_array_equal(hdu.data["FLUX"], sample.flux)
    without_header = fits.tableload(datafile, cdfile)
    assert without_header.header["NAXIS2"] == 3
    assert "EXTNAME" not in without_header.header


# ---------------------------------------------------------------------------------------------
# extension selection, as astropy's convenience functions read it


def test_extension_name_alone_means_version_one(fits, sample, tmpfile):
    assert fits.getval(sample.path, "EXTVER", "SCI") == 1
    assert fits.getval(sample.path, "EXTVER", extname="SCI", extver=2) == 2
    assert fits.getval(sample.path, "EXTVER", "SCI", extver=2) == 2
    assert fits.getval(sample.path, "NAXIS1", np.int64(1)) == 3
    # a name whose only HDU has EXTVER 2 is not found by the name alone
    path = tmpfile("ver2.fits")
    afits.HDUList([afits.PrimaryHDU(), afits.ImageHDU(np.zeros(2), name="ONLY", ver=2)]).writeto(path)
    with pytest.raises(KeyError):
        fits.getheader(path, "ONLY")
    assert fits.getheader(path, "ONLY", 2)["EXTVER"] == 2


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((1,), {"ext": 2}, TypeError, "Redundant/conflicting extension arguments(s)"),
        (("SCI", 1), {"extver": 1}, TypeError, "Redundant/conflicting extension arguments(s)"),
        (("SCI",), {"extname": "CAT"}, TypeError, "Redundant/conflicting extension arguments(s)"),
        ((), {"ext": 1, "extver": 1}, TypeError, "Redundant/conflicting extension arguments(s)"),
        ((), {"extver": 2}, TypeError, "extver alone cannot specify an extension."),
        ((1, 2, 3), {}, TypeError, "Too many positional arguments."),
        ((), {"ext": "SCI"}, ValueError, "The ext keyword must be either an extension number"),
        ((1.0,), {}, ValueError, "The ext keyword must be either an extension number"),
        ((("SCI", "1"),), {}, ValueError, "The ext keyword must be either an extension number"),
        ((), {"extname": 3}, ValueError, "The extname argument must be a string."),
        ((), {"extname": "SCI", "extver": "2"}, ValueError, "The extver argument must be an integer."),
    ],
)
def test_bad_extension_selections(fits, sample, args, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        fits.getheader(sample.path, *args, **kwargs)


def test_getdata_no_data_in_named_hdu(fits, tmpfile):
    path = tmpfile("named_empty.fits")
    afits.HDUList([afits.PrimaryHDU(np.arange(2)), afits.ImageHDU(name="EMPTY")]).writeto(path)
    with pytest.raises(IndexError, match=re.escape("No data in HDU #('EMPTY', 1).")):
        fits.getdata(path, "EMPTY")


# ---------------------------------------------------------------------------------------------
# writeto / update: the HDU class follows the header given


def test_writeto_with_extension_header_makes_plain_primary(fits, tmpfile, fitsverify):
    path = tmpfile("w.fits")
    fits.writeto(path, np.arange(3.0), header=fits.ImageHDU().header)
    # a header given: no EXTEND card is added (the file has no extensions)
    assert list(afits.getheader(path).keys()) == ["SIMPLE", "BITPIX", "NAXIS", "NAXIS1"]
    np.testing.assert_array_equal(afits.getdata(path), [0.0, 1.0, 2.0])
    fitsverify(path)


def test_writeto_refuses_non_arrays(fits, tmpfile):
    with pytest.raises(KeyError, match=re.escape("Data must be a numpy array.")):
        fits.writeto(tmpfile("w.fits"), [1, 2, 3])
    assert not tmpfile("w.fits").exists()


def test_update_with_the_hdus_own_header(fits, sample, fitsverify):
    data, header = fits.getdata(sample.path, "SCI", 2, header=True)
    header["OBSERVER"] = "Vera"
    # the header's XTENSION makes the new HDU an image extension
    fits.update(sample.path, data * 2, header, "SCI", 2)
    np.testing.assert_array_equal(afits.getdata(sample.path, "SCI", 2), sample.sci2 * 2)
    assert afits.getheader(sample.path, "SCI", 2)["OBSERVER"] == "Vera"
    np.testing.assert_array_equal(afits.getdata(sample.path), sample.primary)
    np.testing.assert_array_equal(afits.getdata(sample.path, "CAT")["FLUX"], sample.flux)
    fitsverify(sample.path)


def test_update_header_keyword_wins(fits, sample):
    fits.update(sample.path, np.zeros(2), fits.Header([("POS", 1)]), 1, header=fits.Header([("KW", 2)]))
    header = afits.getheader(sample.path, 1)
    assert "KW" in header and "POS" not in header


def test_update_primary_with_image_extension_fails_verification(fits, sample):
    before = sample.path.read_bytes()
    with pytest.raises(fits.VerifyError, match=re.escape("HDUList's 0th element is not a primary HDU.")):
        fits.update(sample.path, np.zeros(3), 0)
    assert sample.path.read_bytes() == before


def test_append_checksum_only_for_the_new_hdu(fits, sample):
    fits.append(sample.path, np.arange(4, dtype=np.int32), checksum=True)
    with afits.open(sample.path) as check:
        assert "CHECKSUM" not in check[0].header
        assert check[5].verify_checksum() == 1
        assert check[5].verify_datasum() == 1
        assert check[5].header["DATASUM"] == "6"


# ---------------------------------------------------------------------------------------------
# printdiff: extension arguments and inputs


def test_printdiff_extension_of_two_files(fits, sample, tmpfile, capsys):
    other = tmpfile("other.fits")
    shutil.copy(sample.path, other)
    afits.setval(other, "EXPT", value=1.0, extname="SCI", extver=2)
    fits.printdiff(sample.path, other, "SCI", 2)
    out = capsys.readouterr().out
    assert out.endswith("\n\n")
    assert "Extra keyword 'EXPT'" in out
    fits.printdiff(str(sample.path), str(other), ext=1)
    assert capsys.readouterr().out == " No differences found.\n\n"


def test_printdiff_hdus_and_lists(fits, sample, capsys):
    with fits.open(sample.path) as a, fits.open(sample.path) as b:
        fits.printdiff(a[1], b[2])
        assert "Data contains differences:" in capsys.readouterr().out
        with pytest.raises(ValueError, match="Cannot use extension keywords when providing an HDU object"):
            fits.printdiff(a[1], b[1], ext=1)
        with pytest.raises(NotImplementedError, match="Extension specification with HDUList objects"):
            fits.printdiff(a, b, 1)
        fits.printdiff(a, b)
        assert "No differences found." in capsys.readouterr().out


def test_table_to_hdu_name(fits):
    hdu = fits.table_to_hdu(Table({"a": [1, 2]}), name="cat")
    assert hdu.name == "CAT"
    assert hdu.header.comments["EXTNAME"] == "extension name"
    # an EXTNAME in the table's meta wins over the argument
    hdu = fits.table_to_hdu(Table({"a": [1, 2]}, meta={"EXTNAME": "OLD"}), name="new")
    assert hdu.name == "OLD"
