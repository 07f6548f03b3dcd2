"""fitsbind.read_table / write_table / Table / TimeColumn on numpy alone (the comparisons with
astropy, pandas and pyarrow skip when those are not installed)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import fitsbind
from fitsbind.direct import ColumnSpec
from fitsbind.tables.masking import free_null
from fitsbind.tables.timecols import TimeColumn, column_time, decode_time, time_frame

N = 1000


@pytest.fixture
def events(tmp_path: Path) -> Path:
    """A Chandra-like event list written by the direct tier: TNULL integers, NaN floats, a
    scaled int16, strings, logicals with a null, a TIME column in seconds from MJDREF (TT)."""
    rng = np.random.default_rng(7)
    flag = rng.integers(0, 100, N).astype(np.int32)
    flag[::10] = -99
    mag = rng.normal(20, 1, N).astype(np.float32)
    mag[::25] = np.nan
    ok = np.ma.MaskedArray(rng.random(N) > 0.5, mask=np.arange(N) % 50 == 0)
    data = {"ID": np.arange(N, dtype=np.int64), "MAG": mag, "FLAG": flag,
            "COUNTS": np.round(rng.uniform(100, 10000, N) * 2) / 2,
            "NAME": np.char.add(b"src", np.arange(N).astype("S6")),
            "TIME": np.sort(rng.uniform(0, 1e6, N)), "OK": ok,
            "U16": np.arange(N, dtype=np.uint16) * 60}
    specs = [ColumnSpec("ID", "K"), ColumnSpec("MAG", "E", unit="mag", disp="F8.3"),
             ColumnSpec("FLAG", "J", null=-99), ColumnSpec("COUNTS", "I", scale=0.5, zero=100),
             ColumnSpec("NAME", "9A"), ColumnSpec("TIME", "D", unit="s"), ColumnSpec("OK", "L"),
             ColumnSpec("U16", "I", zero=32768)]
    path = tmp_path / "events.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_table(data, columns=specs, extname="EVENTS",
                      header=[("TIMESYS", "TT"), ("MJDREF", 50814.0), ("TIMEUNIT", "s"),
                              ("OBSERVER", "someone"), ("COMMENT", "first"),
                              ("COMMENT", "second"), ("HISTORY", "made by a test")])
    return path


def test_read_table_values_masks_units_and_meta(events: Path) -> None:
    t = fitsbind.read_table(events)
    assert t.colnames == ["ID", "MAG", "FLAG", "COUNTS", "NAME", "TIME", "OK", "U16"]
    assert t.nrows == N and len(t) == 8
    assert isinstance(t["FLAG"], np.ma.MaskedArray)
    assert t["FLAG"].mask.sum() == N // 10 and t.info["FLAG"].null == -99
    assert np.isnan(np.ma.getdata(t["MAG"])[::25]).all() and t["MAG"].mask[::25].all()
    assert not isinstance(t["ID"], np.ma.MaskedArray)
    assert t["COUNTS"].dtype == np.float64 and t.info["COUNTS"].scale == 0.5
    assert t["U16"].dtype == np.uint16 and t["U16"][-1] == (N - 1) * 60 % 65536
    assert t["NAME"][3] == b"src3"
    assert t["OK"].mask.sum() == N // 50
    assert (t.info["MAG"].unit, t.info["MAG"].format) == ("mag", "{:8.3f}")
    assert t.meta["OBSERVER"] == "someone" and t.meta["EXTNAME"] == "EVENTS"
    assert t.meta["COMMENT"] == ["first", "second"] and t.meta["HISTORY"] == ["made by a test"]
    assert "TTYPE1" not in t.meta and "NAXIS2" not in t.meta


def test_time_columns_follow_the_time_standard(events: Path) -> None:
    t = fitsbind.read_table(events)
    raw = fitsbind.read_table(events, time="raw")["TIME"]
    times = t["TIME"]
    assert isinstance(times, fitsbind.TimeColumn) and times.scale == "tt"
    # seconds from MJD 50814 (1998-01-01T00:00:00 TT), to the nanosecond
    expected = np.datetime64("1998-01-01T00:00:00", "ns") + np.round(raw * 1e9).astype(
        "timedelta64[ns]")
    assert np.abs(times.to_datetime64() - expected).max() <= np.timedelta64(1, "ns")
    assert np.allclose(times.mjd, 50814 + raw / 86400, rtol=0, atol=1e-10)


def test_columns_rows_and_where_read_only_what_is_asked(events: Path) -> None:
    t = fitsbind.read_table(events, columns=["FLAG", "TIME"], rows=slice(10, 20))
    assert t.colnames == ["FLAG", "TIME"] and t.nrows == 10
    assert isinstance(t["TIME"], TimeColumn)   # TCTYP numbering follows the file's columns
    picked = fitsbind.read_table(events, where="FLAG == 5 && ID < 500")
    full = fitsbind.read_table(events)
    wanted = (np.ma.getdata(full["FLAG"]) == 5) & (full["ID"] < 500)
    assert np.array_equal(picked["ID"], full["ID"][wanted])


def test_round_trip_keeps_storage_masks_units_times_and_meta(events: Path, tmp_path: Path,
                                                             fitsverify) -> None:
    t = fitsbind.read_table(events)
    out = tmp_path / "copy.fits"
    fitsbind.write_table(t, out)
    fitsverify(out)
    back = fitsbind.read_table(out)
    with fitsbind.FITS(out) as f:
        assert f[1].formats == ["1K", "1E", "1J", "I", "9A", "2D", "1L", "1I"]
        assert f[1].header["TNULL3"] == -99 and f[1].header["TSCAL4"] == 0.5
    for name in t:
        a, b = t[name], back[name]
        if isinstance(a, TimeColumn):
            assert b.scale == a.scale
            assert np.array_equal(a.to_datetime64(), b.to_datetime64())
            continue
        assert a.dtype == b.dtype, name
        assert np.array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b)), name
        assert np.array_equal(np.ma.filled(a, 0), np.ma.filled(b, 0)), name
        assert t.info[name].unit == back.info[name].unit
        assert t.info[name].format == back.info[name].format
    assert back.meta["MJDREF"] == 50814.0 and back.meta["COMMENT"] == ["first", "second"]


def test_writing_masked_integers_picks_a_free_tnull(tmp_path: Path) -> None:
    values = np.ma.MaskedArray(np.arange(-128, 128, dtype=np.int16), mask=False)
    values[5] = np.ma.masked
    fitsbind.write_table({"A": values}, tmp_path / "a.fits")
    with fitsbind.FITS(tmp_path / "a.fits") as f:
        assert f[1].header["TNULL1"] == -32768
    back = fitsbind.read_table(tmp_path / "a.fits")["A"]
    assert back.mask.tolist() == values.mask.tolist()
    # every int8 value used by a valid cell: no null is left, and the error says what to do
    full = np.ma.MaskedArray(np.r_[np.arange(-128, 128), 0].astype(np.int8),
                             mask=[False] * 256 + [True])
    with pytest.raises(ValueError, match="every int8 value"):
        fitsbind.write_table({"B": full}, tmp_path / "b.fits")
    assert not (tmp_path / "b.fits").exists()


@pytest.mark.parametrize(("values", "mask", "dtype", "preferred", "expected"), [
    ([1, 2, 3], [0, 0, 0], np.int16, None, -32768),
    ([-32768, 2], [0, 0], np.int16, None, 32767),
    ([-128, 127, -127], [0, 0, 1], np.int8, None, -127),
    ([5, 6], [0, 0], np.int32, 99, 99),
    ([5, 99], [0, 0], np.int32, 99, -2 ** 31),
    ([0, 1, 2], [0, 0, 0], np.uint8, None, 255),
])
def test_free_null(values: list, mask: list, dtype: type, preferred: int | None,
                   expected: int) -> None:
    assert free_null(np.array(values, dtype), np.array(mask, bool), np.dtype(dtype),
                     preferred) == expected


def test_scaled_columns_round_and_refuse_what_does_not_fit(tmp_path: Path) -> None:
    t = fitsbind.Table({"X": np.array([100.0, 100.26, 16483.5])})
    t.info["X"].tform, t.info["X"].scale, t.info["X"].zero = "1I", 0.5, 100.0
    fitsbind.write_table(t, tmp_path / "x.fits")
    assert fitsbind.read_table(tmp_path / "x.fits")["X"].tolist() == [100.0, 100.5, 16483.5]
    t["X"] = np.array([1e9])
    with pytest.raises(ValueError, match=r"outside what scale 0\.5 / zero 100"):
        fitsbind.write_table(t, tmp_path / "y.fits")


def test_masked_strings_and_empty_strings(tmp_path: Path) -> None:
    names = np.ma.MaskedArray(np.array(["a", "bb", "ccc"]), mask=[False, True, False])
    fitsbind.write_table({"S": names}, tmp_path / "s.fits")
    plain = fitsbind.read_table(tmp_path / "s.fits")["S"]
    assert plain.tolist() == [b"a", b"", b"ccc"]
    asked = fitsbind.read_table(tmp_path / "s.fits", mask_empty=True)["S"]
    assert asked.mask.tolist() == [False, True, False]


def test_existing_files_are_kept_unless_asked(events: Path) -> None:
    before = events.read_bytes()
    t = fitsbind.read_table(events)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        fitsbind.write_table(t, events)
    assert events.read_bytes() == before
    fitsbind.write_table(t, events, append=True, extname="AGAIN")
    with fitsbind.FITS(events) as f:
        assert len(f) == 3 and f[2].extname == "AGAIN"
    with pytest.warns(UserWarning, match="2 table HDUs"):
        fitsbind.read_table(events)
    assert fitsbind.read_table(events, hdu="AGAIN").nrows == N
    fitsbind.write_table({"A": np.arange(3)}, events, overwrite=True)
    with fitsbind.FITS(events) as f:
        assert len(f) == 2


def test_sources_and_bad_choices(events: Path) -> None:
    with fitsbind.FITS(events) as f:
        assert fitsbind.read_table(f).nrows == N
        assert fitsbind.read_table(f["EVENTS"], columns="ID").colnames == ["ID"]
        with pytest.raises(ValueError, match="HDU 0 is not a table"):
            fitsbind.read_table(f, hdu=0)
    with pytest.raises(ValueError, match="time must be one of"):
        fitsbind.read_table(events, time="astropy")
    with pytest.raises(TypeError, match="reads a path"):
        fitsbind.read_table(12)
    with pytest.raises(FileNotFoundError):
        fitsbind.read_table(events.with_name("missing.fits"))


def test_a_bad_time_frame_reads_numbers_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "t.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_table({"TIME": np.arange(3.0)}, columns=[ColumnSpec("TIME", "D", unit="s")],
                      header=[("TIMESYS", "MARS")])
    with pytest.warns(UserWarning, match="TIMESYS = 'MARS' is not a time scale"):
        t = fitsbind.read_table(path)
    assert t["TIME"].tolist() == [0.0, 1.0, 2.0]


def test_iso_time_columns_and_pairs(tmp_path: Path) -> None:
    path = tmp_path / "iso.fits"
    stamps = np.array([b"2024-03-01T00:00:00.5", b"1999-12-31T23:59:59"])
    with fitsbind.FITS(path, "w+") as f:
        f.write_table({"WHEN": stamps}, header=[("TCTYP1", "UTC")])
    when = fitsbind.read_table(path)["WHEN"]
    assert when.scale == "utc"
    assert when.to_datetime64().astype(str).tolist() == ["2024-03-01T00:00:00.500000000",
                                                         "1999-12-31T23:59:59.000000000"]
    times = fitsbind.TimeColumn.from_iso(["2000-01-01T12:00:00", ""], scale="tai")
    assert times.mask.tolist() == [False, True] and times.jd1[0] == 2451545.0
    fitsbind.write_table({"T": times}, tmp_path / "pairs.fits")
    with fitsbind.FITS(tmp_path / "pairs.fits") as f:
        header = f[1].header
        assert (header["TCTYP1"], header["TCUNI1"], header["JDREF"]) == ("TAI", "d", 0.0)
    back = fitsbind.read_table(tmp_path / "pairs.fits")["T"]
    assert back.scale == "tai" and back.mask.tolist() == [False, True]
    assert back.jd1[0] == 2451545.0 and back.jd2[0] == 0.0


@pytest.mark.parametrize(("keywords", "unit", "expected_mjd"), [
    ({"MJDREFI": 50000, "MJDREFF": 0.5}, "d", 50001.5),
    ({"JDREF": 2400000.5}, "d", 1.0),
    ({"DATEREF": "2000-01-01T00:00:00"}, "h", 51544.0 + 1 / 24),
    ({"MJDREF": 100.0, "TIMEZERO": 43200.0, "TIMEOFFS": 43200.0}, "s", 101.0 + 1 / 86400),
    ({"MJDREF": 100.0, "TIMESYS": "GPS"}, "s", 100.0 + 20 / 86400),
    ({}, "s", 1 / 86400),
])
def test_reference_times_offsets_and_units(keywords: dict, unit: str,
                                           expected_mjd: float) -> None:
    frame = time_frame(keywords)
    how = column_time(frame, "TIME", unit, {})
    times = decode_time(np.array([1.0]), how, frame)
    assert times.mjd[0] == pytest.approx(expected_mjd, abs=1e-11)
    assert times.scale == ("tai" if keywords.get("TIMESYS") == "GPS" else "utc")


def test_linear_axes_and_locations() -> None:
    frame = time_frame({"MJDREF": 0.0, "OBSGEO-L": 0.0, "OBSGEO-B": 0.0, "OBSGEO-H": 0.0})
    assert frame.location == pytest.approx((6378137.0, 0.0, 0.0))
    how = column_time(frame, "T", None, {"TCTYP": "TT", "TCUNI": "d", "TRPOS": "TOPOCENTER"},
                      (10.0, 1.0, 2.0))
    times = decode_time(np.array([1.0, 2.0]), how, frame)
    assert times.mjd.tolist() == [10.0, 12.0] and times.scale == "tt"
    assert times.location == pytest.approx((6378137.0, 0.0, 0.0))
    # a spatial axis is not a time, nor a column without time keywords
    assert column_time(frame, "RA", "deg", {"TCTYP": "RA---TAN"}) is None
    assert column_time(frame, "X", "s", {}) is None


def test_time_column_precision_and_datetime64() -> None:
    ns = np.array(["1678-01-01T00:00:00.000000001", "2261-12-31T23:59:59.999999999",
                   "1970-01-01T00:00:00", "NaT"], "datetime64[ns]")
    times = TimeColumn.from_datetime64(ns)
    assert np.array_equal(times.to_datetime64(), ns, equal_nan=True)
    assert times.mask.tolist() == [False, False, False, True]
    assert (np.abs(times.jd2) <= 0.5).all() if times.mask is None else \
        (np.abs(times.jd2[~times.mask]) <= 0.5).all()
    assert times[1:3].shape == (2,)
    far = TimeColumn(3000000.0, 0.0)
    with pytest.raises(ValueError, match="1678-2261"):
        far.to_datetime64()
    with pytest.raises(ValueError, match="time scale 'xyz'"):
        TimeColumn(0.0, scale="xyz")


def test_table_checks_lengths_and_takes_rows() -> None:
    t = fitsbind.Table({"a": np.arange(4), "t": TimeColumn.from_mjd(np.arange(4.0))})
    with pytest.raises(ValueError, match="has 3 rows; the table has 4"):
        t["b"] = np.arange(3)
    t["a"] = np.arange(4) * 2    # replacing a column keeps the length rule
    sub = t[np.array([True, False, True, False])]
    assert sub["a"].tolist() == [0, 4] and sub["t"].mjd.tolist() == [0.0, 2.0]
    del t["a"]
    assert t.colnames == ["t"]


def test_structured_and_dict_inputs_write(tmp_path: Path) -> None:
    rows = np.zeros(3, [("X", "f8"), ("V", "i4", (2,)), ("S", "S4")])
    rows["S"] = [b"a", b"b", b"c"]
    fitsbind.write_table(rows, tmp_path / "r.fits", extname="ROWS")
    t = fitsbind.read_table(tmp_path / "r.fits", hdu="ROWS")
    assert t["V"].shape == (3, 2) and t["S"].tolist() == [b"a", b"b", b"c"]
    with pytest.raises(TypeError, match="write_table writes"):
        fitsbind.write_table([1, 2, 3], tmp_path / "bad.fits")


# -- the optional libraries ----------------------------------------------------------------------

def test_to_pandas(events: Path) -> None:
    pd = pytest.importorskip("pandas")
    t = fitsbind.read_table(events)
    frame = t.to_pandas()
    assert str(frame["FLAG"].dtype) == "Int32" and frame["FLAG"].isna().sum() == N // 10
    assert str(frame["OK"].dtype) == "boolean" and frame["OK"].isna().sum() == N // 50
    assert frame["MAG"].isna().sum() == N // 25
    assert frame["TIME"].dtype == np.dtype("datetime64[ns]")
    assert frame["NAME"][3] == "src3"
    assert frame.attrs["fitsbind"]["time_scales"] == {"TIME": "tt"}
    back = fitsbind.Table.from_pandas(frame)
    assert back["TIME"].scale == "tt" and back["FLAG"].mask.sum() == N // 10
    assert back.info["MAG"].unit == "mag"
    assert isinstance(frame, pd.DataFrame)


def test_to_arrow(events: Path, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    t = fitsbind.read_table(events)
    arrow = t.to_arrow()
    assert arrow.column("FLAG").null_count == N // 10
    assert arrow.schema.field("TIME").type == pa.timestamp("ns")
    assert arrow.schema.field("MAG").metadata[b"unit"] == b"mag"
    back = fitsbind.Table.from_arrow(arrow)
    assert back["TIME"].scale == "tt" and back.meta["OBSERVER"] == "someone"
    assert (back.info["FLAG"].null, back.info["COUNTS"].scale) == (-99, 0.5)
    fitsbind.write_table(arrow, tmp_path / "arrow.fits")
    again = fitsbind.read_table(tmp_path / "arrow.fits")
    assert again["FLAG"].mask.sum() == N // 10 and again.info["MAG"].unit == "mag"


def test_to_astropy_matches_astropys_reader(events: Path) -> None:
    pytest.importorskip("astropy")
    from astropy.table import Table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = Table.read(events, format="fits", astropy_native=True)
    ours = fitsbind.read_table(events).to_astropy()
    assert ours.colnames == theirs.colnames
    assert np.abs((ours["TIME"] - theirs["TIME"]).to_value("s")).max() < 1e-6
    assert ours["TIME"].scale == "tt"
    assert ours["MAG"].unit == theirs["MAG"].unit and ours["MAG"].format == "{:8.3f}"
    assert np.array_equal(ours["FLAG"].mask, theirs["FLAG"].mask)
    round_trip = fitsbind.Table.from_astropy(ours)
    assert round_trip["TIME"].scale == "tt" and round_trip.info["MAG"].unit == "mag"


def test_tile_compressed_tables_read_like_plain_ones(events: Path, tmp_path: Path) -> None:
    packed = tmp_path / "packed.fits"
    with fitsbind.FITS(events) as source, fitsbind.FITS(packed, "w+") as target:
        hdu = fitsbind.direct.compress_table(source[1], target)
        assert isinstance(hdu, fitsbind.direct.CompressedTableHDU)
    plain = fitsbind.read_table(events, rows=slice(100, 300))
    read = fitsbind.read_table(packed, rows=slice(100, 300))
    assert read.colnames == plain.colnames
    for name in plain:
        if isinstance(plain[name], TimeColumn):
            assert np.array_equal(read[name].to_datetime64(), plain[name].to_datetime64())
        else:
            assert np.array_equal(np.ma.getmaskarray(read[name]), np.ma.getmaskarray(plain[name]))
            assert np.array_equal(np.ma.filled(read[name], 0), np.ma.filled(plain[name], 0))


def test_the_direct_writer_says_what_it_leaves_out_of_an_astropy_table(tmp_path: Path) -> None:
    pytest.importorskip("astropy")
    from astropy.table import Table
    from astropy.time import Time

    t = Table({"a": [1, 2]}, meta={"OBSERVER": "me"})
    t["a"].unit = "m"
    t["b"] = Time([1.0, 2.0], format="mjd")
    with fitsbind.FITS(tmp_path / "w.fits", "w+") as f:
        with pytest.warns(UserWarning, match=r"not written: meta, a\.unit, b\.Time"):
            f.write_table(t)
        hdu = fitsbind.write_table(t, f)   # the facade writes them, through the same writer
        assert (hdu.header["TUNIT1"], hdu.header["TCTYP2"], hdu.header["OBSERVER"]) == \
            ("m", "UTC", "me")


def test_files_cross_between_the_facade_and_astropy(tmp_path: Path, fitsverify) -> None:
    """What fitsbind.write_table writes, astropy's Table.read reads the same (masks, units,
    formats, times); what astropy writes, read_table reads the same."""
    pytest.importorskip("astropy")
    from astropy.table import Table
    from astropy.time import Time

    ours = fitsbind.Table({
        "id": np.ma.MaskedArray(np.arange(4, dtype=np.int32), mask=[0, 1, 0, 0]),
        "flux": np.ma.MaskedArray([1.5, 2.5, np.nan, 4.0], mask=[0, 0, 1, 0]),
        "name": np.array(["a", "bb", "", "dddd"]),
        "when": TimeColumn.from_mjd([58000.25, 58001.5, 58002.0, 58003.125], scale="tdb")},
        units={"flux": "mJy"}, formats={"flux": "{:6.2f}"}, meta={"OBSERVER": "me"})
    path = tmp_path / "ours.fits"
    fitsbind.write_table(ours, path)
    fitsverify(path)
    theirs = Table.read(path, format="fits", astropy_native=True)
    assert theirs["id"].mask.tolist() == [False, True, False, False]
    assert theirs["flux"].mask.tolist() == [False, False, True, False]
    assert str(theirs["flux"].unit) == "mJy" and theirs["flux"].format == "{:6.2f}"
    assert isinstance(theirs["when"], Time) and theirs["when"].scale == "tdb"
    assert np.abs((theirs["when"] - ours["when"].to_astropy()).to_value("s")).max() < 1e-9
    assert theirs.meta["OBSERVER"] == "me"

    written = Table({"n": np.ma.MaskedArray([1, 2, 3], mask=[0, 0, 1]),
                     "t": Time(["2020-01-01T00:00:00", "2020-06-01T12:00:00", "2021-01-01"],
                               scale="tt")})
    written["n"].unit = "ct"
    written.write(tmp_path / "theirs.fits", format="fits")
    back = fitsbind.read_table(tmp_path / "theirs.fits")
    assert back["n"].mask.tolist() == [False, False, True] and back.info["n"].unit == "count"
    assert back["t"].scale == "tt"
    assert back["t"].to_datetime64().astype(str).tolist() == [
        "2020-01-01T00:00:00.000000000", "2020-06-01T12:00:00.000000000",
        "2021-01-01T00:00:00.000000000"]


def _astropy_table_hdus() -> list[tuple[Path, int]]:
    astropy = pytest.importorskip("astropy")
    found = []
    for path in sorted((Path(astropy.__file__).parent / "io/fits/tests/data").glob("*.fits")):
        try:
            with fitsbind.FITS(path) as f:
                found += [(path, hdu.index) for hdu in f
                          if isinstance(hdu, fitsbind.direct.TableHDU)]
        except fitsbind.FITSError:
            continue   # files made to be broken, which astropy's tests open leniently
    return found


def test_read_table_agrees_with_astropy_on_its_files() -> None:
    """Every table HDU of astropy's test files reads as astropy's Table.read reads it:
    names, values and masks (with empty strings masked as astropy does; times raw)."""
    pytest.importorskip("astropy")
    from astropy.table import Table

    hdus = _astropy_table_hdus()
    assert len(hdus) > 20
    for path, index in hdus:
        ours = fitsbind.read_table(path, hdu=index, mask_empty=True, time="raw")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                theirs = Table.read(path, hdu=index, format="fits")
            except (TypeError, ValueError):
                continue   # astropy cannot make a Table of it (ascii.fits: a fill value)
        assert ours.colnames == theirs.colnames, path
        for name in ours:
            a, b = ours[name], theirs[name]
            if a.dtype.kind == "O":
                assert all(np.array_equal(x, y) for x, y in zip(a, b)), (path, name)
                continue
            expected = np.ma.getdata(b)
            if expected.dtype.kind == "U":
                expected = np.char.encode(expected, "ascii")
            mine, astropys = np.ma.getmaskarray(a), np.ma.getmaskarray(b)
            if a.dtype.kind == "b":
                # undefined logicals are masked here; astropy reads them as False
                assert not (astropys & ~mine).any(), (path, name)
            else:
                assert np.array_equal(mine, astropys), (path, name)
            valid = ~mine
            assert np.array_equal(np.ma.getdata(a)[valid], expected[valid]), (path, name)


def test_dates_of_any_year_and_leap_seconds() -> None:
    times = TimeColumn.from_iso(["3000-01-01", "1600-01-01T00:00:00", "+12020-01-01",
                                 "2016-12-31T23:59:60.5", "2020-01-01T00:00:00.123456789Z"])
    # midnight: JD x.5 (ERFA cal2jd), held as the whole day after and -0.5
    assert (times.jd1[:3] + times.jd2[:3]).tolist() == [2816787.5, 2305447.5, 6111274.5]
    assert times[3:].to_datetime64().astype(str).tolist() == [
        "2017-01-01T00:00:00.500000000", "2020-01-01T00:00:00.123456789"]
    wide = TimeColumn.from_datetime64(np.array(["3000-01-01", "NaT"], "datetime64[D]"))
    assert wide.jd1[0] == 2816788.0 and wide.mask.tolist() == [False, True]
    with pytest.raises(TypeError, match="datetime64"):
        TimeColumn.from_datetime64(np.array([1.0]))
    assert TimeColumn([2451545.0, 2451545.0], [np.nan, 0.1]).mask.tolist() == [True, False]


def test_utc_counts_leap_seconds() -> None:
    from fitsbind.tables.timecols import utc_between, utc_elapsed

    noon = TimeColumn.from_iso(["2016-12-31T12:00:00"])
    start = (noon.jd1, noon.jd2)
    # one day of SI seconds after noon before the leap second ends a second before noon
    later = TimeColumn(*utc_elapsed(start, (np.array([1.0]), np.zeros(1))))
    assert later.to_datetime64().astype(str)[0] == "2017-01-01T11:59:59.000000000"
    back = utc_between(start, (later.jd1, later.jd2))
    assert abs((back[0] + back[1])[0] - 1.0) < 1e-14
    frame = time_frame({"TIMESYS": "UTC", "MJDREF": 57753.0})
    decoded = decode_time(np.array([86401.0]), column_time(frame, "TIME", "s", {}), frame)
    assert decoded.to_datetime64().astype(str)[0] == "2017-01-01T00:00:00.000000000"


def test_the_leap_second_table_is_erfas() -> None:
    erfa = pytest.importorskip("erfa")
    from fitsbind.tables.timecols import _LEAP_MJD, _TAI_MINUS_UTC

    for mjd, offset in zip(_LEAP_MJD, _TAI_MINUS_UTC):
        year, month, day, _ = erfa.jd2cal(2400000.5, mjd)
        assert erfa.dat(year, month, day, 0.0) == offset
        year, month, day, _ = erfa.jd2cal(2400000.5, mjd - 1)
        assert erfa.dat(year, month, day, 0.0) < offset
    year, month, day, _ = erfa.jd2cal(2400000.5, 61000.0)   # 2026: none since
    assert erfa.dat(year, month, day, 0.0) == _TAI_MINUS_UTC[-1]


def test_utc_times_on_a_leap_second_day_match_astropy(tmp_path: Path) -> None:
    pytest.importorskip("astropy")
    from astropy.table import Table
    from astropy.time import Time

    theirs = Time(["2016-12-31T12:00:00", "2016-12-31T23:59:59.5", "2017-01-01T00:00:01"],
                  scale="utc")
    ours = TimeColumn.from_astropy(theirs)
    assert ours.to_datetime64().astype(str).tolist() == [
        "2016-12-31T12:00:00.000000000", "2016-12-31T23:59:59.500000000",
        "2017-01-01T00:00:01.000000000"]
    assert (ours.to_astropy() == theirs).all()
    Table({"t": theirs}).write(tmp_path / "leap.fits", format="fits")
    assert np.array_equal(fitsbind.read_table(tmp_path / "leap.fits")["t"].to_datetime64(),
                          ours.to_datetime64())
    fitsbind.write_table({"t": ours}, tmp_path / "ours.fits")
    back = Table.read(tmp_path / "ours.fits", format="fits", astropy_native=True)["t"]
    assert (back == theirs).all()


def test_conversions_keep_cells_of_several_values_and_refuse_what_fits_cannot_hold(
        tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    grid = np.ma.MaskedArray(np.arange(6, dtype=np.int32).reshape(3, 2),
                             mask=[[0, 1], [0, 0], [1, 1]])
    ragged = np.empty(2, object)
    ragged[:] = [np.arange(2, dtype=np.int32), np.arange(3, dtype=np.int32)]
    for back in (fitsbind.Table.from_pandas(fitsbind.Table({"g": grid}).to_pandas()),
                 fitsbind.Table.from_arrow(fitsbind.Table({"g": grid}).to_arrow())):
        assert back["g"].dtype == np.int32
        assert np.ma.getmaskarray(back["g"]).tolist() == grid.mask.tolist()
    cells = fitsbind.Table.from_arrow(fitsbind.Table({"v": ragged}).to_arrow())["v"]
    assert [c.tolist() for c in cells] == [[0, 1], [0, 1, 2]] and cells[1].dtype == np.int32
    frame = pd.DataFrame({"c": pd.Categorical(["a", "b", "a"]),
                          "o": pd.Series([1, None, 3], dtype=object)})
    converted = fitsbind.Table.from_pandas(frame)
    assert converted["c"].tolist() == ["a", "b", "a"]
    assert converted["o"].mask.tolist() == [False, True, False]
    with pytest.raises(TypeError, match="column 'x': cells of types"):
        fitsbind.Table.from_pandas(pd.DataFrame({"x": [object(), object()]}))
    with pytest.raises(ValueError, match="repeat"):
        fitsbind.Table.from_pandas(pd.DataFrame({0: [1], "0": [2]}))
    masked_cells = np.ma.MaskedArray(ragged, mask=[False, True])
    with pytest.raises(ValueError, match="variable-length cells have no null"):
        fitsbind.write_table({"V": masked_cells}, tmp_path / "v.fits")


def test_meta_that_a_header_cannot_keep(tmp_path: Path) -> None:
    long = "x" * 100
    t = fitsbind.Table({"a": np.arange(2)}, meta={"KEY": [1, 2], "LONG": long,
                                                   "ZTABLE": True, "ZFORM1": "K"})
    with pytest.warns(UserWarning, match=r"meta\['KEY'\] holds 2 values"):
        fitsbind.write_table(t, tmp_path / "m.fits")
    back = fitsbind.read_table(tmp_path / "m.fits")
    assert back.meta["KEY"] == 1 and back.meta["LONG"] == long
    assert "ZTABLE" not in back.meta and "COMMENT" not in back.meta   # no LONGSTRN notice
    fitsbind.write_table(back, tmp_path / "again.fits")
    assert "COMMENT" not in fitsbind.read_table(tmp_path / "again.fits").meta


def test_repeated_column_names_stay_apart(tmp_path: Path) -> None:
    path = tmp_path / "dup.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_table({"A": np.arange(3, dtype=np.int32), "B": np.arange(3.0, dtype=np.float32)})
        f[1].header["TTYPE2"] = "A"
    picked = fitsbind.read_table(path, columns=[1, 0])
    assert picked.colnames == ["col2", "A"]
    assert picked["col2"].dtype == np.float32 and picked["A"].dtype == np.int32
