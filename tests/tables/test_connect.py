"""Table I/O through fitsbind.connect, with astropy's own ``fits`` format as the oracle: files
written by either library read back the same in both, and files fitsbind writes pass fitsverify.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

# astropy's Table I/O is what this module tests: without astropy it is skipped as a whole
pytest.importorskip("astropy")
from astropy import units as u
from astropy.coordinates import EarthLocation, SkyCoord
from astropy.io import registry
from astropy.table import MaskedColumn, QTable, Table
from astropy.time import Time

import fitsbind
from fitsbind import connect

WRITERS = {"fitsbind": lambda table, path: table.write(path, format="fitsbind"),
           "astropy": lambda table, path: table.write(path, format="fits")}
READERS = {"fitsbind": lambda cls, path, **kw: cls.read(path, format="fitsbind", **kw),
           "astropy": lambda cls, path, **kw: cls.read(path, format="fits", **kw)}
# (writer, reader) pairs where at least one side is fitsbind
CROSSINGS = [("fitsbind", "fitsbind"), ("fitsbind", "astropy"), ("astropy", "fitsbind")]


# fitsverify's complaints about names the standard recommends against (letters, digits and '_'
# only) but allows, which fitsbind writes as astropy does so the files read back in astropy:
# the parts of a serialized mixin, '<column>.<part>' ('sc.ra', 'i.mask'), and the Green Bank
# convention's per-row observatory columns OBSGEO-X/Y/Z.
_ALLOWED_NAME = re.compile(r"\*\*\* Warning: Column #\d+: Name \"(?:[^\"]*\"\s+contains\s+character\s+'\.'|"
                           r"OBSGEO-[XYZ]\"\s+contains\s+character\s+'-')\s+other\s+than\s+letters,"
                           r"\s+digits,\s+and\s+\"_\"\.")


def check_fitsverify_report(report: str) -> None:
    """fitsverify's ``report`` holds no error, and no warning but about the column names
    above."""
    allowed = len(_ALLOWED_NAME.findall(report))
    assert f"{allowed} warning(s) and 0 error(s)" in report, report
    assert report.count("*** Warning") == allowed, report


@pytest.fixture
def roundtrip(tmp_path: Path, fitsverify_report: Callable[[Path], str]) -> Callable:
    """``roundtrip(table, writer, reader, cls=Table, **read_kw)``: the table written by one
    library and read by the other; a file fitsbind wrote is checked with fitsverify."""
    def run(table: Table, writer: str, reader: str, cls: type = Table, **kw: object) -> Table:
        path = tmp_path / f"{writer}-{reader}.fits"
        WRITERS[writer](table, path)
        if writer == "fitsbind":
            check_fitsverify_report(fitsverify_report(path))
        return READERS[reader](cls, path, **kw)
    return run


@pytest.fixture
def own_fits_format() -> Iterator[None]:
    """astropy's ``fits`` format as it was before the test, whatever the test registers."""
    saved = {kind: getattr(registry, f"get_{kind}")("fits", Table) for kind in ("reader", "writer")}
    yield
    registry.register_reader("fits", Table, saved["reader"], force=True)
    registry.register_writer("fits", Table, saved["writer"], force=True)
    from astropy.io.fits import connect as astropy_connect  # the oracle's identifier, restored
    registry.register_identifier("fits", Table, astropy_connect.is_fits, force=True)


def sample() -> Table:
    table = Table({"i": np.array([1, 2, 3], dtype=np.int32), "f": [1.5, 2.5, np.nan],
                   "s": ["a", "bb", "ccc"], "v": np.arange(6.0).reshape(3, 2)})
    table["f"].unit = u.m / u.s
    table["f"].format = "{:8.3f}"
    table["i"].description = "counter"
    table.meta["OBSERVER"] = "Rots"
    table.meta["comments"] = ["first comment", "second comment"]
    table.meta["HISTORY"] = ["made by a test"]
    return table


@pytest.mark.parametrize(("writer", "reader"), CROSSINGS)
def test_plain_columns_units_formats_and_meta(roundtrip: Callable, writer: str, reader: str) -> None:
    table = sample()
    back = roundtrip(table, writer, reader)
    assert back.colnames == table.colnames
    assert back["i"].dtype.newbyteorder("=") == np.int32 and back["i"].tolist() == [1, 2, 3]
    assert back["s"].tolist() == ["a", "bb", "ccc"]
    np.testing.assert_array_equal(back["v"], table["v"])
    assert back["f"].unit == u.m / u.s and back["f"].format == "{:8.3f}"
    # the NaN comes back masked
    assert back["f"].mask.tolist() == [False, False, True]
    assert back["i"].info.description == "counter"
    assert back.meta["OBSERVER"] == "Rots"
    assert back.meta["comments"] == ["first comment", "second comment"]
    assert back.meta["HISTORY"] == ["made by a test"]


@pytest.mark.parametrize(("writer", "reader"), CROSSINGS)
@pytest.mark.parametrize("method", ["null_value", "data_mask"])
def test_masked_columns(roundtrip: Callable, writer: str, reader: str, method: str) -> None:
    table = Table({"i": MaskedColumn([1, 2, 3], mask=[False, True, False]),
                   "f": MaskedColumn([1.0, 2.0, 3.0], mask=[True, False, False]),
                   "s": MaskedColumn(["x", "y", "z"], mask=[False, False, True])})
    for col in table.itercols():
        col.info.serialize_method["fits"] = method
    back = roundtrip(table, writer, reader)
    for name in table.colnames:
        assert back[name].mask.tolist() == table[name].mask.tolist(), name
        assert back[name][~back[name].mask].tolist() == table[name][~table[name].mask].tolist()
    if method == "data_mask":
        # the values under the mask are kept too
        assert back["i"].data.data[1] == 2


@pytest.mark.parametrize(("writer", "reader"), CROSSINGS)
def test_mixin_columns(roundtrip: Callable, writer: str, reader: str) -> None:
    table = QTable()
    table["q"] = [1.0, 2.0] * u.km
    table["q"].info.description = "a distance"
    table["sc"] = SkyCoord([10.0, 20.0], [-5.0, 5.0], unit="deg", frame="fk4", equinox="J1975")
    table["t"] = Time(["2020-01-01T00:00:00.123", "2021-06-30T12:00:00"], scale="tai",
                      precision=5)
    # Time columns go by the FITS time convention, not the YAML block: astropy_native reads them
    back = roundtrip(table, writer, reader, cls=QTable, astropy_native=True)
    assert isinstance(back["q"], u.Quantity) and back["q"].unit == u.km
    assert back["q"].info.description == "a distance"
    assert isinstance(back["sc"], SkyCoord) and back["sc"].frame.name == "fk4"
    assert back["sc"].equinox == table["sc"].equinox
    assert np.allclose(back["sc"].ra.deg, [10.0, 20.0])
    assert isinstance(back["t"], Time) and back["t"].scale == "tai"
    assert np.all(back["t"] == table["t"])


@pytest.mark.parametrize(("writer", "reader"), CROSSINGS)
def test_time_columns_by_the_fits_time_convention(roundtrip: Callable, writer: str,
                                                  reader: str) -> None:
    """A Time column of a plain Table is written as (jd1, jd2) pairs with TCTYPn; read back
    with astropy_native=True it is the same Time, at the same observatory."""
    table = Table()
    table["t"] = Time([2458000.123456789, 2459000.5], format="jd", scale="tt",
                      location=EarthLocation(1000.0, 2000.0, 3000.0, unit="km"))
    back = roundtrip(table, writer, reader, astropy_native=True)
    assert isinstance(back["t"], Time) and back["t"].scale == "tt"
    assert np.all(back["t"].jd1 == table["t"].jd1) and np.all(back["t"].jd2 == table["t"].jd2)
    assert back["t"].location == table["t"].location


@pytest.mark.parametrize(("writer", "reader"), CROSSINGS)
def test_time_columns_with_a_location_per_row(roundtrip: Callable, writer: str, reader: str) -> None:
    """Per-row observatory positions go to OBSGEO-X/Y/Z columns (the Green Bank convention)."""
    table = Table()
    table["t"] = Time([50000.5, 50001.5], format="mjd", scale="utc",
                      location=EarthLocation([1.0, 2.0], [2.0, 3.0], [3.0, 4.0], unit="Mm"))
    back = roundtrip(table, writer, reader, astropy_native=True)
    assert np.all(back["t"].location == table["t"].location)
    assert np.all(back["t"] == table["t"])


def test_the_written_header_matches_astropy(tmp_path: Path) -> None:
    """Card for card what astropy writes (ignoring the comments of structural cards)."""
    from astropy.io import fits as afits

    table = sample()
    table["t"] = Time([1.0, 2.0, 3.0], format="mjd")
    table["q"] = [1, 2, 3] * u.pc
    ours, theirs = tmp_path / "ours.fits", tmp_path / "theirs.fits"
    table.write(ours, format="fitsbind")
    table.write(theirs, format="fits")
    ours_header, theirs_header = afits.getheader(ours, 1), afits.getheader(theirs, 1)
    assert [(c.keyword, c.value) for c in ours_header.cards] == \
        [(c.keyword, c.value) for c in theirs_header.cards]
    assert afits.getdata(ours, 1).tobytes() == afits.getdata(theirs, 1).tobytes()


def test_input_kinds(tmp_path: Path) -> None:
    path = tmp_path / "x.fits"
    sample().write(path, format="fitsbind")
    with open(path, "rb") as f:
        assert connect.read_table_fits(f)["i"].tolist() == [1, 2, 3]
    with fitsbind.open(path) as hdus:
        assert connect.read_table_fits(hdus)["s"].tolist() == ["a", "bb", "ccc"]
        assert connect.read_table_fits(hdus[1])["s"].tolist() == ["a", "bb", "ccc"]
    buffer = io.BytesIO()
    sample().write(buffer, format="fitsbind")
    assert connect.is_fits("read", None, io.BytesIO(buffer.getvalue()))
    assert connect.is_fits("read", "x.fits.gz", None) and not connect.is_fits("read", "x.csv", None)


def test_hdu_choice(tmp_path: Path) -> None:
    path = tmp_path / "two.fits"
    Table({"a": [1]}).write(path, format="fitsbind")
    Table({"b": [2]}).write(path, format="fitsbind", append=True, name="SECOND")
    with pytest.warns(UserWarning, match=r"multiple tables are present.*\(hdu=1\)"):
        assert Table.read(path, format="fitsbind").colnames == ["a"]
    assert Table.read(path, format="fitsbind", hdu="SECOND").colnames == ["b"]
    with pytest.raises(ValueError, match="No table found in hdu=0"):
        Table.read(path, format="fitsbind", hdu=0)
    with pytest.raises(ValueError, match="No table found in hdu=7"):
        Table.read(path, format="fitsbind", hdu=7)
    fitsbind.writeto(tmp_path / "image.fits", np.zeros(3))
    with pytest.raises(ValueError, match="No table found"):
        Table.read(tmp_path / "image.fits", format="fitsbind")


def test_overwrite_and_append(tmp_path: Path) -> None:
    path = tmp_path / "x.fits"
    Table({"a": [1]}).write(path, format="fitsbind")
    with pytest.raises(OSError, match="already exists"):
        Table({"a": [2]}).write(path, format="fitsbind")
    Table({"a": [3]}).write(path, format="fitsbind", overwrite=True)
    Table({"a": [4]}).write(path, format="fitsbind", append=True)
    with fitsbind.open(path) as hdus:
        assert [hdu.data["a"].tolist() for hdu in hdus[1:]] == [[3], [4]]


def test_units_fits_cannot_express_warn(tmp_path: Path) -> None:
    table = QTable({"a": [1.0] * u.def_unit("spam")})
    with pytest.warns(UserWarning, match="'spam' could not be saved in native FITS format"):
        table.write(tmp_path / "x.fits", format="fitsbind")
    # no TUNITn: only the YAML block keeps the unit, for astropy readers
    assert "TUNIT1" not in fitsbind.getheader(tmp_path / "x.fits", 1)


def test_unparseable_units_on_reading(tmp_path: Path) -> None:
    path = tmp_path / "x.fits"
    fitsbind.BinTableHDU.from_columns(
        [fitsbind.Column(name="a", format="E", unit="not-a-unit", array=[1.0])]).writeto(path)
    with pytest.warns(u.UnitsWarning, match="did not parse as fits unit"):
        assert isinstance(Table.read(path, format="fitsbind")["a"].unit, u.UnrecognizedUnit)
    with pytest.raises(ValueError, match="did not parse as fits unit"):
        Table.read(path, format="fitsbind", unit_parse_strict="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Table.read(path, format="fitsbind", unit_parse_strict="silent")


def test_fits_format_is_taken_over_only_when_asked(tmp_path: Path, own_fits_format: None) -> None:
    path = tmp_path / "x.fits"
    Table({"a": [1]}).write(path, format="fitsbind")
    assert registry.get_reader("fits", Table) is not connect.read_table_fits
    # the fitsbind format has no identifier, so reads without a format are not ambiguous
    assert Table.read(path)["a"].tolist() == [1]
    connect.register(override=True)
    assert registry.get_reader("fits", Table) is connect.read_table_fits
    assert registry.get_writer("fits", Table) is connect.write_table_fits
    assert Table.read(path)["a"].tolist() == [1]


def test_import_fitsbind_imports_neither_connect_nor_astropy_table() -> None:
    code = ("import sys, fitsbind; "
            "print(sorted(m for m in ('fitsbind.connect', 'fitsbind.fitstime', 'astropy.table') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bad_tdisp_is_ignored_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "x.fits"
    hdu = fitsbind.BinTableHDU.from_columns([fitsbind.Column(name="a", format="E", array=[1.0])])
    hdu.writeto(path)
    with fitsbind.open(path, mode="update") as hdus:
        hdus[1].header["TDISP1"] = "Q9.9"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = Table.read(path, format="fitsbind")
    assert table["a"].info.format is None
    assert any("TDISP" in str(w.message) for w in caught)
