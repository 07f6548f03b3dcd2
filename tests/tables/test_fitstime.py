"""fitsbind.fitstime against the FITS time standard and against astropy's reading of it."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

# fitsbind.fitstime converts to and from astropy's Time: without astropy the module is skipped
pytest.importorskip("astropy")
from astropy.coordinates import EarthLocation
from astropy.table import Table
from astropy.time import Time, TimeDelta

import fitsbind
import fitsbind.connect
from fitsbind.fitstime import GLOBAL_TIME_INFO, fits_to_time, time_to_fits


def header(*cards: tuple) -> fitsbind.Header:
    return fitsbind.Header(list(cards))


def test_split_reference_time_and_offsets() -> None:
    """MJDREFI + MJDREFF is the reference time when MJDREF is absent; values are days from it
    in the column's scale."""
    table = Table({"t": [0.5, 1.0]})
    rest = fits_to_time(header(("TIMESYS", "TT"), ("MJDREFI", 50814), ("MJDREFF", 0.25),
                               ("TCTYP1", "TIME"), ("TCUNI1", "d"), ("OBJECT", "M31")), table)
    expected = Time(50814.25, format="mjd", scale="tt") + TimeDelta([0.5, 1.0], format="jd")
    assert isinstance(table["t"], Time) and table["t"].scale == "tt"
    assert np.all(table["t"] == expected)
    assert list(rest.keys()) == ["OBJECT"]


def test_dateref_and_jd_pairs() -> None:
    table = Table({"t": np.array([[2451545.0, 0.25], [2451546.0, -0.5]])})
    fits_to_time(header(("TCTYP1", "TAI"), ("TCUNI1", "d"), ("JDREF", 0.0)), table)
    assert table["t"].scale == "tai"
    assert np.all(table["t"].jd1 + table["t"].jd2 == [2451545.25, 2451545.5])
    table = Table({"t": [1.0]})
    fits_to_time(header(("TCTYP1", "UTC"), ("TCUNI1", "d"), ("DATEREF", "2000-01-01T00:00:00")), table)
    assert table["t"][0].isot == "2000-01-02T00:00:00.000"


def test_spatial_and_unknown_axes_stay_columns() -> None:
    table = Table({"ra": [1.0], "weird": [2.0], "plain": [3.0]})
    rest = fits_to_time(header(("TCTYP1", "RA---TAN"), ("TCTYP2", "FROB"), ("TCUNI3", "m")), table)
    assert not any(isinstance(table[name], Time) for name in table.colnames)
    # the keywords were looked at but are not time: the caller drops column keywords anyway
    assert "TCTYP1" not in rest


def test_deprecated_and_non_astropy_scales() -> None:
    table = Table({"a": [1.0], "b": [630720013.0]})
    with pytest.warns(UserWarning, match='FITS recognized time scale value "GPS"'):
        fits_to_time(header(("TCTYP1", "ET"), ("TCTYP2", "GPS"), ("TCUNI2", "s")), table)
    assert table["a"].scale == "tt"
    assert table["b"].format == "gps" and table["b"].scale == "tai"
    with pytest.raises(ValueError, match=r"FITS recognized time scale value \(got 'MARS'\)"):
        fits_to_time(header(("TIMESYS", "MARS")), Table({"a": [1.0]}))
    table = Table({"a": [1.0]})
    with pytest.warns(UserWarning, match='"LOCAL"'):
        fits_to_time(header(("TIMESYS", "LOCAL"), ("TCTYP1", "TIME")), table)
    assert table["a"].scale == "utc"


def test_partial_observatory_positions_are_ignored_with_a_warning() -> None:
    table = Table({"t": [1.0]})
    with pytest.warns(UserWarning, match=r"geocentric observatory location \[1.0, 2.0\] is not "):
        fits_to_time(header(("OBSGEO-X", 1.0), ("OBSGEO-Y", 2.0), ("TCTYP1", "TT"),
                            ("TRPOS1", "GEOCENTER")), table)
    assert table["t"].location is None


def test_time_convention_column_and_meta_times() -> None:
    table = Table({"TIME": [10.0]})
    table["TIME"].unit = "s"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fits_to_time(header(("TREFPOS", "GEOCENTER"), ("MJDREF", 55000.0), ("DATE-OBS", "2001-02-03"),
                            ("MJD-END", 51000.5), ("DATE", "not a date")), table)
    assert isinstance(table["TIME"], Time)
    assert table.meta["DATE-OBS"] == Time("2001-02-03", format="fits")
    assert table.meta["MJD-END"].format == "mjd"
    # a value astropy cannot read stays out of meta as a Time
    assert "DATE" not in table.meta


def test_written_frame_matches_astropy() -> None:
    from astropy.io.fits import fitstime as oracle

    table = Table({"t": Time([1.0, 2.0], format="mjd", scale="tdb",
                             location=EarthLocation(1, 2, 3, unit="km"))})
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        ours, ours_header = time_to_fits(table)
    with warnings.catch_warnings(record=True) as theirs_warned:
        warnings.simplefilter("always")
        theirs, theirs_header = oracle.time_to_fits(table)
    assert GLOBAL_TIME_INFO == oracle.GLOBAL_TIME_INFO
    assert [tuple(c) for c in ours_header.cards] == [tuple(c) for c in theirs_header.cards]
    np.testing.assert_array_equal(ours["t"], theirs["t"])
    assert dict(ours.meta["__coordinate_columns__"]) == \
        {k: dict(v) for k, v in theirs.meta["__coordinate_columns__"].items()}
    assert [str(w.message) for w in ours_warned] == [str(w.message) for w in theirs_warned]


def test_iso_string_columns_read_in_fitsbind_and_astropy(tmp_path: Path) -> None:
    path = tmp_path / "iso.fits"
    values = ["2020-01-01T00:00:00.123456", "1999-12-31T23:59:59.000001"]
    column = fitsbind.Column(name="when", format="A26", coord_type="TDB", array=values)
    fitsbind.BinTableHDU.from_columns([column]).writeto(path)
    ours = Table.read(path, format="fitsbind", astropy_native=True)
    theirs = Table.read(path, format="fits", astropy_native=True)
    assert isinstance(ours["when"], Time) and ours["when"].scale == "tdb"
    assert ours["when"].precision == theirs["when"].precision == 6
    assert np.all(ours["when"] == theirs["when"])


@pytest.mark.parametrize(("cards", "days"), [
    ((("TCUNI1", "s"),), 1.0),
    ((("TIMEUNIT", "h"), ("TCTYP1", "TT")), 3600.0),
    ((("TIMEUNIT", "min"), ("TCUNI1", "s"), ("TCTYP1", "TT")), 1.0),
])
def test_offsets_are_in_the_declared_time_unit(cards: tuple, days: float) -> None:
    """A column without TUNITn counts in TCUNIn, else TIMEUNIT, from the reference time."""
    table = Table({"t": [86400.0]})
    fits_to_time(header(("MJDREF", 50000.0), *cards), table)
    assert table["t"][0].mjd == pytest.approx(50000.0 + days)


def test_timezero_is_added_in_timeunit() -> None:
    table = Table({"t": [0.5]})
    fits_to_time(header(("MJDREF", 50000.0), ("TIMEZERO", 43200.0), ("TCTYP1", "TT"),
                        ("TCUNI1", "d")), table)
    assert table["t"][0].mjd == pytest.approx(50001.0)
    table = Table({"t": [0.5]})
    with pytest.warns(UserWarning, match="TIMEZERO = 'soon' is not a number"):
        fits_to_time(header(("MJDREF", 50000.0), ("TIMEZERO", "soon"), ("TCTYP1", "TT"),
                            ("TCUNI1", "d")), table)
    assert table["t"][0].mjd == pytest.approx(50000.5)


def test_linear_time_axis() -> None:
    """TCRVLn + TCDLTn * (stored - TCRPXn), in the column's time unit."""
    table = Table({"t": [10.0, 12.0]})
    fits_to_time(header(("MJDREF", 50000.0), ("TCTYP1", "TT"), ("TCUNI1", "h"),
                        ("TCRVL1", 24.0), ("TCRPX1", 10.0), ("TCDLT1", 6.0)), table)
    assert table["t"].mjd == pytest.approx([50001.0, 50001.5])
    table = Table({"t": [2.0]})
    fits_to_time(header(("TCTYP1", "TT"), ("TCUNI1", "d"), ("TCRVL1", 50000.0)), table)
    assert table["t"][0].mjd == pytest.approx(50002.0)
    table = Table({"t": [2.0]})
    with pytest.warns(UserWarning, match="TCDLT1 = 'x' is not a number"):
        fits_to_time(header(("TCTYP1", "TT"), ("TCUNI1", "d"), ("TCDLT1", "x")), table)
    assert table["t"][0].mjd == pytest.approx(2.0)


def test_non_text_scales() -> None:
    """A TCTYPn that is not text is no time axis; a TIMESYS that is not text is no scale."""
    table = Table({"t": [1.0]})
    fits_to_time(header(("TCTYP1", 5)), table)
    assert not isinstance(table["t"], Time)
    with pytest.raises(ValueError, match=r"FITS recognized time scale value \(got '7'\)"):
        fits_to_time(header(("TIMESYS", 7)), Table({"t": [1.0]}))


def _write_table(path: Path, columns: list[fitsbind.Column], cards: tuple) -> None:
    hdu = fitsbind.BinTableHDU.from_columns(columns)
    for keyword, value in cards:
        hdu.header[keyword] = value
    hdu.writeto(path)


_SECONDS = np.sort(np.random.default_rng(5).uniform(-1e8, 1e9, 1000))
_XYZ = (("OBSGEO-X", 1e6), ("OBSGEO-Y", 2e6), ("OBSGEO-Z", 6e6))


@pytest.mark.parametrize(("column", "cards"), [
    # seconds from MJDREF in TT: the Chandra and XMM event files
    (dict(name="TIME", format="D", unit="s", array=_SECONDS),
     (("TIMESYS", "TT"), ("MJDREF", 50814.0), ("TIMEUNIT", "s"))),
    # elapsed seconds in UTC cross leap seconds: astropy counts them in TAI
    (dict(name="t", format="D", unit="s", array=_SECONDS, coord_type="UTC"), (("MJDREF", 55000.5),)),
    (dict(name="t", format="D", unit="ms", array=_SECONDS * 1e3, coord_type="TDB"),
     (("DATEREF", "2000-01-01T12:00:00"),)),
    (dict(name="t", format="D", unit="d", array=_SECONDS / 86400 + 50000, coord_type="TAI"), ()),
    # what time_to_fits writes: (jd1, jd2) pairs from JD 0 at the observatory
    (dict(name="t", format="2D", unit="d", coord_type="TCG", time_ref_pos="TOPOCENTER",
          array=np.stack([np.round(_SECONDS / 86400) + 2451545, np.linspace(-0.5, 0.5, 1000)], 1)),
     (("JDREF", 0.0), *_XYZ)),
    (dict(name="t", format="D", unit="s", array=_SECONDS + 2e9, coord_type="GPS"), ()),
    (dict(name="TIME", format="3D", unit="s", array=np.stack([_SECONDS] * 3, 1)),
     (("MJDREF", 51544.0), ("TREFPOS", "TOPOCENTER"), *_XYZ)),
])
def test_numbers_read_as_astropy_reads_them(tmp_path: Path, column: dict, cards: tuple) -> None:
    """The Julian dates summed in numpy are astropy's Time + TimeDelta to 1 ns, with its
    format, scale, precision and location."""
    path = tmp_path / "times.fits"
    _write_table(path, [fitsbind.Column(**column)], cards)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = Table.read(path, format="fitsbind", astropy_native=True)[column["name"]]
        theirs = Table.read(path, format="fits", astropy_native=True)[column["name"]]
    assert isinstance(ours, Time)
    for attribute in ("format", "scale", "precision", "shape", "in_subfmt", "out_subfmt"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert (ours.location is None) == (theirs.location is None)
    if ours.location is not None:
        np.testing.assert_array_equal(ours.location.value, theirs.location.value)
    gap = (ours.jd1 - theirs.jd1) + (ours.jd2 - theirs.jd2)
    assert np.max(np.abs(gap)) * 86400 < 1e-9


def test_timeoffs_is_added_with_timezero() -> None:
    """TIMEOFFS, like TIMEZERO, is added to every numeric time in TIMEUNIT (astropy ignores
    both); both leave meta."""
    table = Table({"t": [0.0, 1.0]})
    rest = fits_to_time(header(("MJDREF", 50000.0), ("TIMEUNIT", "h"), ("TIMEZERO", 6.0),
                               ("TIMEOFFS", 12.0), ("TCTYP1", "TT"), ("TCUNI1", "d")), table)
    assert table["t"].mjd == pytest.approx([50000.75, 50001.75], abs=1e-12)
    assert "TIMEOFFS" not in rest and "TIMEZERO" not in rest
    table = Table({"t": [0.0]})
    with pytest.warns(UserWarning, match="TIMEOFFS = 'late' is not a number"):
        fits_to_time(header(("MJDREF", 50000.0), ("TIMEOFFS", "late"), ("TCTYP1", "TT")), table)
    assert table["t"][0].mjd == 50000.0


def test_trefdir_stays_in_meta(tmp_path: Path) -> None:
    """TREFDIR names the reference direction's columns: a value for the user, not applied."""
    rest = fits_to_time(header(("TREFDIR", "RA_NOM,DEC_NOM"), ("TIMESYS", "TT")), Table({"a": [1]}))
    assert list(rest.keys()) == ["TREFDIR"]
    path = tmp_path / "dir.fits"
    _write_table(path, [fitsbind.Column(name="TIME", format="D", unit="s", array=[1.0])],
                 (("TREFDIR", "RA_NOM,DEC_NOM"),))
    assert Table.read(path, format="fitsbind", astropy_native=True).meta["TREFDIR"] == \
        "RA_NOM,DEC_NOM"


def test_missing_cells_and_nan(tmp_path: Path) -> None:
    """Masked cells (TNULLn, NaN) are masked times and the others count in the column's unit
    (astropy's reader takes a masked column's numbers as days); a NaN that is not masked is a
    NaN time."""
    path = tmp_path / "holes.fits"
    _write_table(path, [fitsbind.Column(name="TIME", format="J", unit="s", null=-1,
                                        array=[60, -1, 120]),
                        fitsbind.Column(name="t", format="D", unit="s", coord_type="TT",
                                        array=[60.0, np.nan, 120.0])],
                 (("TIMESYS", "TT"), ("MJDREF", 50000.0)))
    table = Table.read(path, format="fitsbind", astropy_native=True)
    for name in ("TIME", "t"):
        assert list(table[name].mask) == [False, True, False]
        assert table[name].mjd.unmasked[[0, 2]] == pytest.approx(
            [50000 + 60 / 86400, 50000 + 120 / 86400], abs=1e-12)
    table = Table.read(path, format="fitsbind", astropy_native=True, mask_invalid=False)
    assert not table["t"].masked and np.isnan(table["t"][1].jd)
    assert table["t"][2].mjd == pytest.approx(50000 + 120 / 86400, abs=1e-12)


def test_unitless_pairs_count_in_the_declared_unit() -> None:
    """(jd1, jd2) pairs without TUNITn count in TCUNIn / TIMEUNIT, as numbers do."""
    table = Table({"t": np.array([[86400.0, 43200.0]])})
    fits_to_time(header(("MJDREF", 50000.0), ("TCTYP1", "TT"), ("TCUNI1", "s")), table)
    assert table["t"][0].mjd == pytest.approx(50001.5, abs=1e-12)
