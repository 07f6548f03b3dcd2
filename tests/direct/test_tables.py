"""Behaviour of direct-API tables (``fitsbind.FITS(...).write_table``, ``TableHDU``): selecting
rows and columns, row filters, appending, inserting and deleting rows and columns, partial
column writes, masked values, checksums, tables followed by other HDUs, gzip-compressed files,
and the errors bad input gets (raised before the file changes).

Values are compared with numpy computations on the data written, and files after every kind of
change with astropy.io.fits (optional: those comparisons skip without it) and fitsverify.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fitsbind
from fitsbind import ColumnSpec
from fitsbind.errors import FITSError, FITSKeyError, FITSPermissionError, FITSTypeError, FITSValueError

N = 40


def catalog_data(n: int = N, first: int = 0) -> dict[str, Any]:
    """Rows ``first`` .. ``first + n - 1`` of the test catalogue (a pure function of the row)."""
    i = np.arange(first, first + n)
    return {
        "ID": i.astype(np.int32),
        "MAG": (15 + (i * 7 % 23) * 0.5).astype(np.float32),
        "FLAG": (i % 3 == 0).astype(np.int16),
        "NAME": np.array([f"obj{k:03d}" for k in i], dtype="U6"),
        "POS": np.stack([i * 0.5, -i * 0.25, i * 1.0], axis=1),
        "OK": i % 4 != 1,
        "U16": (i * 1500 % 65536).astype(np.uint16),
        "VAR": np.array([*[(np.arange(k % 5) * k).astype(np.int32) for k in i], None], dtype=object)[:-1],
    }


def expected_rows(rows: Any, n: int = N) -> dict[str, Any]:
    """The catalogue columns at ``rows`` (numpy indexing semantics)."""
    full = catalog_data(n)
    return {k: (np.asarray(v)[rows] if k != "VAR" else v[rows]) for k, v in full.items()}


def assert_rows_equal(got: np.ndarray, expected: dict[str, Any]) -> None:
    assert set(got.dtype.names) == set(expected)
    for name, values in expected.items():
        values = np.asarray(values) if name != "VAR" else values
        column = got[name]
        if name == "VAR":
            assert column.dtype == object and len(column) == len(values), name
            for g, e in zip(column, values):
                assert g.dtype == np.int32
                np.testing.assert_array_equal(g, e)
        elif name == "NAME":
            assert column.tolist() == np.char.encode(values, "ascii").tolist()
        else:
            assert column.shape == values.shape, name
            np.testing.assert_array_equal(column, values, err_msg=name)


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """Primary, the CAT table (N rows), and an image after it."""
    path = tmp_path / "cat.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_table(catalog_data(), extname="CAT")
        f.write_image(np.arange(12, dtype=np.int16).reshape(3, 4), extname="AFTER")
    return path


def astropy_table(path: Path, index: int) -> dict[str, Any]:
    """astropy's reading of a table HDU: {name: column}, str → bytes, VLA → list of arrays."""
    fits = pytest.importorskip("astropy.io.fits")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(path) as hdul:
            data = hdul[index].data
            for j, name in enumerate(hdul[index].columns.names):
                values = data.field(j)
                if values.dtype == object:
                    out[name] = [np.array(c) for c in values]
                else:
                    values = np.asarray(values).view(np.ndarray)
                    out[name] = np.char.encode(values, "ascii") if values.dtype.kind == "U" else values.copy()
    return out


def assert_astropy_agrees(path: Path, index: int) -> None:
    with fitsbind.FITS(path) as f:
        ours = f[index].read()
    theirs = astropy_table(path, index)
    assert list(theirs) == list(ours.dtype.names)
    for name, values in theirs.items():
        if isinstance(values, list):
            assert len(values) == len(ours)
            for g, e in zip(ours[name], values):
                np.testing.assert_array_equal(g, e, err_msg=name)
        else:
            np.testing.assert_array_equal(ours[name], values, err_msg=name)


# ---------------------------------------------------------------------------------------------
# row and column selection
# ---------------------------------------------------------------------------------------------

ROW_SELECTIONS = {
    "all": None,
    "slice": slice(5, 20),
    "step": slice(1, None, 3),
    "step-neg": slice(35, 4, -4),
    "reversed": slice(None, None, -1),
    "neg-start": slice(-10, None),
    "neg-both": slice(-7, -2),
    "past-end": slice(30, 100),
    "empty-slice": slice(50, 60),
    "list-unordered-repeats": [7, 3, 3, -1, 0, 39, 7, -40],
    "ndarray-uint8": np.array([2, 1, 30], dtype=np.uint8),
    "one": [17],
    "empty-list": [],
    "bool-mask": np.arange(N) % 7 == 2,
    "bool-none": np.zeros(N, bool),
}


@pytest.mark.parametrize("rows", list(ROW_SELECTIONS.values()), ids=list(ROW_SELECTIONS))
def test_row_selection(catalog: Path, rows: Any) -> None:
    index = slice(None) if rows is None else rows
    with fitsbind.FITS(catalog) as f:
        hdu = f["CAT"]
        got = hdu.read(rows=rows)
        assert isinstance(got, np.ndarray) and got.dtype == hdu.dtype
        assert_rows_equal(got, expected_rows(index))
        if rows is not None:
            assert_rows_equal(hdu[rows], expected_rows(index))
        np.testing.assert_array_equal(hdu.read_column("MAG", rows=rows), expected_rows(index)["MAG"])
        np.testing.assert_array_equal(hdu["POS"].read(rows), expected_rows(index)["POS"])
        sub = hdu.read(["NAME", "ID"], rows=rows)
        assert sub.dtype.names == ("NAME", "ID")
        np.testing.assert_array_equal(sub["ID"], expected_rows(index)["ID"])


def test_single_rows_and_column_views(catalog: Path) -> None:
    full = catalog_data()
    with fitsbind.FITS(catalog) as f:
        hdu = f["CAT"]
        row = hdu[5]
        assert row["ID"] == 5 and row["NAME"] == b"obj005" and row["MAG"] == full["MAG"][5]
        assert row["VAR"].tolist() == full["VAR"][5].tolist()
        assert hdu[-1]["ID"] == N - 1 and hdu[np.int64(3)]["ID"] == 3
        assert hdu["ID"][4] == 4 and hdu["NAME"][-2] == f"obj{N - 2:03d}".encode()
        np.testing.assert_array_equal(hdu["ID"][2:30:9], [2, 11, 20, 29])
        np.testing.assert_array_equal(hdu["ID"].read(), np.arange(N))
        np.testing.assert_array_equal(np.asarray(hdu["ID"]), np.arange(N))
        assert len(hdu["ID"]) == N
        pair = hdu[["MAG", "ID"]][3:5]
        assert pair.dtype.names == ("MAG", "ID") and pair["ID"].tolist() == [3, 4]
        for bad in (N, -N - 1):
            with pytest.raises(IndexError):
                hdu[bad]
            with pytest.raises(IndexError):
                hdu["ID"][bad]


@pytest.mark.parametrize("rows", [[N], [-N - 1], [0, N + 5], np.arange(N + 1) % 2 == 0,
                                  np.ones(N - 1, bool), [1.5], [[1, 2]], ["a"]],
                         ids=["past-end", "before-start", "one-bad", "long-mask", "short-mask",
                              "float", "2-d", "str"])
def test_bad_row_selection(catalog: Path, rows: Any) -> None:
    with fitsbind.FITS(catalog) as f:
        hdu = f["CAT"]
        with pytest.raises(IndexError, match=r"cat\.fits"):
            hdu.read(rows=rows)
        with pytest.raises(IndexError):
            hdu.read_column("ID", rows=rows)
        assert hdu.read(rows=[0])["ID"].tolist() == [0]   # still usable


def test_column_subsets(catalog: Path) -> None:
    full = catalog_data()
    with fitsbind.FITS(catalog) as f:
        hdu = f["CAT"]
        assert hdu.colnames == list(full) and hdu.ncols == len(full) and hdu.nrows == N
        assert [re.sub(r"^1(?=[A-Z])", "", t) for t in hdu.formats] == \
            ["J", "E", "I", "6A", "3D", "L", "I", "PJ(4)"]
        assert hdu.rowsize == 4 + 4 + 2 + 6 + 24 + 1 + 2 + 8
        assert [c.name for c in hdu.columns] == list(full)
        one = hdu.read("MAG")
        assert one.dtype.names == ("MAG",)
        by_index = hdu.read([7, 0, -2])
        assert by_index.dtype.names == ("VAR", "ID", "U16")
        np.testing.assert_array_equal(hdu.read(["mag"])["MAG"], full["MAG"])   # case-insensitive
        np.testing.assert_array_equal(hdu.read_column("u16"), full["U16"])
        assert hdu.read_column("U16").dtype == np.uint16
        assert hdu.read_column("POS").shape == (N, 3)
        for bad in (["NOPE"], "NOPE", [8], ["ID", "NOPE"]):
            with pytest.raises(FITSKeyError, match=r"NOPE|8"):
                hdu.read(bad)
        with pytest.raises(KeyError):
            hdu["NOPE"]
        with pytest.raises(KeyError):
            hdu.read_column("NOPE")


def test_unnamed_and_duplicate_columns(tmp_path: Path, afits) -> None:
    """astropy files may have columns without TTYPE or with repeated names."""
    path = tmp_path / "dup.fits"
    cols = [afits.Column("A", "J", array=np.arange(3)), afits.Column("a", "E", array=np.ones(3)),
            afits.Column("B", "I", array=np.array([7, 8, 9]))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        afits.HDUList([afits.PrimaryHDU(), afits.BinTableHDU.from_columns(cols)]).writeto(path)
    raw = path.read_bytes()
    card = re.search(rb"TTYPE3  = 'B +' +(/[^\n]*?)?(?=TFORM3)", raw)
    assert card is not None and len(card.group(0)) == 80
    path.write_bytes(raw.replace(card.group(0), b"COMMENT".ljust(80)))   # column 3 unnamed
    with fitsbind.FITS(path) as f:
        hdu = f[1]
        assert hdu.colnames == ["A", "a", ""]
        got = hdu.read()
        assert len(set(got.dtype.names)) == 3
        np.testing.assert_array_equal(got[got.dtype.names[2]], [7, 8, 9])
        np.testing.assert_array_equal(hdu.read_column(2), [7, 8, 9])
        np.testing.assert_array_equal(hdu.read_column("a"), [1, 1, 1])   # exact name first


# ---------------------------------------------------------------------------------------------
# row filters
# ---------------------------------------------------------------------------------------------

FILTERS = [
    ("MAG < 20 && FLAG == 0", lambda d: (d["MAG"] < 20) & (d["FLAG"] == 0)),
    ("ID % 3 == 1 || MAG >= 24", lambda d: (d["ID"] % 3 == 1) | (d["MAG"] >= 24)),
    ("sqrt(ID) > 5.5", lambda d: np.sqrt(d["ID"]) > 5.5),
    ("NAME == 'obj007'", lambda d: d["NAME"] == "obj007"),
    ("OK", lambda d: d["OK"]),
    ("!OK && U16 > 30000", lambda d: ~d["OK"] & (d["U16"] > 30000)),
    ("POS[1] > 10", lambda d: d["POS"][:, 0] > 10),
    ("ID < 0", lambda d: d["ID"] < 0),
    ("ID >= 0", lambda d: d["ID"] >= 0),
]


@pytest.mark.parametrize(("expr", "numpy_rule"), FILTERS, ids=[e for e, _ in FILTERS])
def test_where_matches_numpy(catalog: Path, expr: str, numpy_rule) -> None:
    full = catalog_data()
    hits = np.flatnonzero(numpy_rule(full))
    with fitsbind.FITS(catalog) as f:
        hdu = f["CAT"]
        got = hdu.where(expr)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, hits)
        assert_rows_equal(hdu.read(where=expr), expected_rows(hits))
        np.testing.assert_array_equal(hdu.read_column("ID", where=expr), hits)
        # restricted to some rows: a slice, and an unordered list with repeats
        np.testing.assert_array_equal(hdu.where(expr, rows=slice(10, 30)), hits[(hits >= 10) & (hits < 30)])
        some = [33, 7, 1, 7, 20, 0]
        expected = [r for r in some if r in set(hits.tolist())]
        np.testing.assert_array_equal(hdu.read(["ID"], rows=some, where=expr)["ID"], expected)


def test_where_on_gaps_and_steps(catalog: Path) -> None:
    with fitsbind.FITS(catalog) as f:
        hdu = f["CAT"]
        np.testing.assert_array_equal(hdu.where("FLAG == 1", rows=slice(None, None, 2)),
                                      [i for i in range(0, N, 2) if i % 3 == 0])
        np.testing.assert_array_equal(hdu.where("FLAG == 1", rows=np.arange(N) >= 30), [30, 33, 36, 39])
        assert hdu.where("FLAG == 1", rows=[]).tolist() == []


@pytest.mark.parametrize("expr", ["MAG <<< 3", "ID +", "(ID > 3", "ID + 1", "NAME > 3 &&"])
def test_bad_filter_expression(catalog: Path, expr: str) -> None:
    with fitsbind.FITS(catalog) as f:
        hdu = f["CAT"]
        with pytest.raises(FITSValueError, match=r"cat\.fits") as info:
            hdu.where(expr)
        assert isinstance(info.value, ValueError)
        with pytest.raises(FITSValueError):
            hdu.read(where=expr)
        assert hdu.where("ID == 3").tolist() == [3]   # the handle is still fine


def test_filter_with_unknown_column(catalog: Path) -> None:
    with fitsbind.FITS(catalog) as f:
        with pytest.raises(FITSError, match="NOPE"):
            f["CAT"].where("NOPE > 3")
        with pytest.raises(TypeError):
            f["CAT"].where(3)


# ---------------------------------------------------------------------------------------------
# appending and writing rows
# ---------------------------------------------------------------------------------------------


def test_append_in_batches_equals_one_write(tmp_path: Path, fitsverify) -> None:
    one, batched = tmp_path / "one.fits", tmp_path / "batched.fits"
    with fitsbind.FITS(one, "w+") as f:
        f.write_table(catalog_data(), extname="CAT")
    with fitsbind.FITS(batched, "w+") as f:
        hdu = f.write_table(catalog_data(2), extname="CAT")   # (VAR: test_vla_type_of_empty_cells)
        assert hdu.nrows == 2
        for first, n in [(2, 9), (11, 0), (11, 17), (28, 12)]:
            hdu.append(catalog_data(n, first))
            assert hdu.nrows == first + n
    for path in (one, batched):
        fitsverify(path)
        assert_astropy_agrees(path, 1)
    with fitsbind.FITS(one) as a, fitsbind.FITS(batched) as b:
        assert_rows_equal(b["CAT"].read(), catalog_data())
        assert a["CAT"].header["NAXIS2"] == b["CAT"].header["NAXIS2"] == N
        assert a["CAT"].header["PCOUNT"] == b["CAT"].header["PCOUNT"]
        assert a["CAT"].header["TFORM8"] == b["CAT"].header["TFORM8"]
    assert one.stat().st_size == batched.stat().st_size


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.uint8, np.float32, np.complex64, bool])
def test_vla_type_of_empty_cells(tmp_path: Path, dtype: Any) -> None:
    """A VLA column whose cells are all empty (as the first batch of a table may be) still takes
    its element type from the cells' dtype, so later appends keep their type."""
    path = tmp_path / "empty_cells.fits"
    cells = np.array([np.zeros(0, dtype), np.zeros(0, dtype), None], dtype=object)[:-1]
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_table({"V": cells})
        code = {np.int16: "I", np.int32: "J", np.uint8: "B", np.float32: "E", np.complex64: "C",
                bool: "L"}[dtype]
        assert hdu.formats == [f"P{code}(0)"]
        hdu.append({"V": np.array([np.ones(2, dtype), None], dtype=object)[:-1]})
        got = hdu.read_column("V")
        assert [c.dtype for c in got] == [np.dtype(dtype)] * 3


def test_write_rows_inside_and_past_the_end(catalog: Path, fitsverify, afits) -> None:
    with fitsbind.FITS(catalog, "r+") as f:
        hdu = f["CAT"]
        hdu.write(catalog_data(5, 100), start=10)     # overwrite rows 10..14
        hdu.write(catalog_data(6, 200), start=N - 2)  # 2 overwritten, 4 new rows
        assert hdu.nrows == N + 4
        with pytest.raises(IndexError):
            hdu.write(catalog_data(1), start=N + 5)    # leaves no gap
        with pytest.raises(IndexError):
            hdu.write(catalog_data(1), start=-1)
        got = hdu.read()
    expected = catalog_data()
    for name in expected:
        new = [*list(expected[name][:10]), *list(catalog_data(5, 100)[name]),
               *list(expected[name][15:N - 2]), *list(catalog_data(6, 200)[name])]
        expected[name] = np.array([*new, None], dtype=object)[:-1] if name == "VAR" else np.array(new)
    assert_rows_equal(got, expected)
    fitsverify(catalog)
    assert_astropy_agrees(catalog, 1)
    with afits.open(catalog) as hdul:
        assert hdul["AFTER"].data.tolist() == np.arange(12).reshape(3, 4).tolist()


def test_write_accepts_structured_dict_list_and_astropy_table(tmp_path: Path) -> None:
    Table = pytest.importorskip("astropy.table").Table

    path = tmp_path / "inputs.fits"
    rec = np.zeros(3, [("A", "i4"), ("B", "f8"), ("C", "S3")])
    rec["A"], rec["B"], rec["C"] = [1, 2, 3], [0.5, 1.5, 2.5], [b"x", b"yy", b"zzz"]
    with fitsbind.FITS(path, "w+") as f:
        t1 = f.write_table(rec)
        t2 = f.write_table({"A": [1, 2, 3], "B": rec["B"], "C": ["x", "yy", "zzz"]})
        t3 = f.write_table([rec["A"], rec["B"], rec["C"]], names=["A", "B", "C"])
        t4 = f.write_table(Table(rec))
        t5 = f.write_table(Table({"A": np.ma.MaskedArray([1, 2, 3], mask=[0, 1, 0]), "B": rec["B"]}),
                           columns=[ColumnSpec("A", "J", null=-1), ColumnSpec("B", "D")])
        for t in (t1, t2, t3, t4):
            got = t.read()
            assert got["A"].tolist() == [1, 2, 3] and got["B"].tolist() == [0.5, 1.5, 2.5]
            assert got["C"].tolist() == [b"x", b"yy", b"zzz"]
        assert t5.read_column("A").tolist() == [1, -1, 3]
        assert t5.read_column("A", mask_null=True).mask.tolist() == [False, True, False]
        # rows written into an existing table from each kind of input
        t1.write({"A": [7], "B": [7.0], "C": ["q"]}, start=1)
        t1.append(Table(rec[:1]))
        t1.append(rec[2:])
        assert t1.read_column("A").tolist() == [1, 7, 3, 1, 3]
        with pytest.raises(FITSTypeError):
            f.write_table(42)
        with pytest.raises(FITSTypeError):
            f.write_table({"A": [1]}, names=["A"])


def test_units_header_and_column_metadata(tmp_path: Path, fitsverify, afits) -> None:
    path = tmp_path / "meta.fits"
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_table({"X": np.arange(3.0), "Y": np.arange(3, dtype=np.int16)}, extname="META",
                            extver=2, units=["deg", None], header={"OBSERVER": "me", "EXPTIME": 3.5})
        spec = f.create_table_hdu([ColumnSpec("F", "E", unit="Jy", disp="F8.3"),
                                   {"name": "N", "format": "J", "null": -1, "unit": "ct"},
                                   ("S", "8A", "none")], nrows=2, extname="SPEC")
        assert hdu.extname == "META" and hdu.extver == 2
        assert [c.unit for c in hdu.columns] == ["deg", None]
        assert [c.unit for c in spec.columns] == ["Jy", "ct", "none"]
        assert spec.columns[0].disp == "F8.3" and spec.columns[1].null == -1
        assert hdu.header["OBSERVER"] == "me"
    fitsverify(path)
    with afits.open(path) as hdul:
        assert hdul["META", 2].columns["X"].unit == "deg" and hdul["META", 2].header["EXPTIME"] == 3.5
        assert hdul["SPEC"].columns["F"].disp == "F8.3" and hdul["SPEC"].columns["N"].null == -1


# ---------------------------------------------------------------------------------------------
# changing the shape of a table
# ---------------------------------------------------------------------------------------------


def _expected_after(ops: list) -> dict[str, Any]:
    data = {k: list(v) for k, v in catalog_data().items()}
    for op, *args in ops:
        if op == "insert":
            at, n = args
            zeros = {"ID": 0, "MAG": 0.0, "FLAG": 0, "NAME": "", "POS": np.zeros(3), "OK": False,
                     "U16": 32768, "VAR": np.zeros(0, np.int32)}
            for k in data:
                data[k][at:at] = [zeros[k]] * n
        elif op == "delete":
            keep = [i for i in range(len(data["ID"])) if i not in set(args[0])]
            data = {k: [v[i] for i in keep] for k, v in data.items()}
    return {k: (np.array([*v, None], dtype=object)[:-1] if k == "VAR" else np.array(v))
            for k, v in data.items()}


@pytest.mark.parametrize("ops", [
    [("insert", 0, 3)],
    [("insert", 17, 5)],
    [("insert", N, 2)],
    [("delete", [0])],
    [("delete", list(range(10, 20)))],
    [("delete", [N - 1, 3, 3, 22])],
    [("insert", 5, 4), ("delete", [0, 6, 7, 40])],
], ids=["insert-first", "insert-middle", "insert-end", "delete-first", "delete-range",
        "delete-unordered", "both"])
def test_insert_and_delete_rows(catalog: Path, fitsverify, ops: list, afits) -> None:
    with fitsbind.FITS(catalog, "r+") as f:
        hdu = f["CAT"]
        for op, *args in ops:
            if op == "insert":
                hdu.insert_rows(*args)
            else:
                hdu.delete_rows(args[0])
        got = hdu.read()
        assert hdu.nrows == len(got)
    expected = _expected_after(ops)
    assert_rows_equal(got, expected)
    fitsverify(catalog)
    assert_astropy_agrees(catalog, 1)
    with afits.open(catalog) as hdul:
        assert hdul["AFTER"].data.tolist() == np.arange(12).reshape(3, 4).tolist()


def test_delete_rows_by_slice_and_mask(catalog: Path) -> None:
    with fitsbind.FITS(catalog, "r+") as f:
        hdu = f["CAT"]
        hdu.delete_rows(slice(0, N, 2))
        assert hdu.read_column("ID").tolist() == list(range(1, N, 2))
        hdu.delete_rows(hdu.read_column("ID") % 4 == 1)
        assert hdu.read_column("ID").tolist() == list(range(3, N, 4))
        hdu.delete_rows([])
        assert hdu.nrows == N // 4
        with pytest.raises(IndexError):
            hdu.delete_rows([N])
        with pytest.raises(IndexError):
            hdu.insert_rows(hdu.nrows + 1, 1)
        with pytest.raises(ValueError):
            hdu.insert_rows(0, -1)
        assert hdu.nrows == N // 4


def test_insert_and_delete_columns(catalog: Path, fitsverify, afits) -> None:
    full = catalog_data()
    with fitsbind.FITS(catalog, "r+") as f:
        hdu = f["CAT"]
        hdu.insert_column("W", np.arange(N, dtype=np.float32) / 2, position=1)
        hdu.insert_column("Z", format="3I")                  # zeros, last
        hdu.insert_column("T", np.array([f"t{i}" for i in range(N)]), position=0)
        hdu.insert_column("P", [np.arange(i % 3, dtype=np.int16) for i in range(N)])
        hdu.insert_column("SC", np.arange(N) * 0.5, format=ColumnSpec("x", "I", scale=0.5))
        assert hdu.colnames == ["T", "ID", "W", "MAG", "FLAG", "NAME", "POS", "OK", "U16", "VAR", "Z",
                                "P", "SC"]
        hdu.delete_column("MAG")
        hdu.delete_column(0)
        with pytest.raises(FITSKeyError):
            hdu.delete_column("NOPE")
        with pytest.raises(FITSValueError, match="exists"):
            hdu.insert_column("id", np.zeros(N))
        with pytest.raises(FITSValueError):
            hdu.insert_column("BAD", np.zeros(N + 1))
        with pytest.raises(FITSValueError):
            hdu.insert_column("BAD")
        got = hdu.read()
    assert got.dtype.names == ("ID", "W", "FLAG", "NAME", "POS", "OK", "U16", "VAR", "Z", "P", "SC")
    np.testing.assert_array_equal(got["W"], np.arange(N) / 2)
    np.testing.assert_array_equal(got["Z"], np.zeros((N, 3)))
    assert got["Z"].dtype == np.int16 and got["SC"].dtype == np.float64
    np.testing.assert_array_equal(got["SC"], np.arange(N) * 0.5)
    assert [c.tolist() for c in got["P"]] == [list(range(i % 3)) for i in range(N)]
    assert_rows_equal(got[["ID", "FLAG", "NAME", "POS", "OK", "U16", "VAR"]],
                      {k: v for k, v in full.items() if k != "MAG"})
    fitsverify(catalog)
    assert_astropy_agrees(catalog, 1)
    with afits.open(catalog) as hdul:
        assert hdul["AFTER"].data.tolist() == np.arange(12).reshape(3, 4).tolist()


def test_delete_every_column(tmp_path: Path, fitsverify) -> None:
    path = tmp_path / "cols.fits"
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_table({"A": np.arange(4), "B": np.ones(4)})
        hdu.delete_column("A")
        hdu.delete_column("B")
        assert hdu.ncols == 0 and hdu.colnames == []
    fitsverify(path)


# ---------------------------------------------------------------------------------------------
# writing columns
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [None, slice(5, 10), slice(None, None, 4), [3, 1, 38], [-1],
                                  np.arange(N) % 5 == 0], ids=["all", "slice", "step", "list", "neg", "mask"])
def test_write_column_partial(catalog: Path, fitsverify, rows: Any) -> None:
    full = catalog_data()
    target = np.arange(N)[slice(None) if rows is None else rows]
    new_mag = (100 + target).astype(np.float32)
    new_names = np.array([f"n{k}" for k in target])
    new_var = np.array([np.full(k % 3, k, np.int32) for k in target] + [None], dtype=object)[:-1]
    with fitsbind.FITS(catalog, "r+") as f:
        hdu = f["CAT"]
        hdu.write_column("MAG", new_mag, rows=rows)
        hdu["NAME"][rows if rows is not None else slice(None)] = new_names
        hdu.write_column("VAR", new_var, rows=rows)
        got = hdu.read()
    expected = dict(full)
    expected["MAG"] = full["MAG"].copy()
    expected["MAG"][target] = new_mag
    expected["NAME"] = full["NAME"].copy()
    expected["NAME"][target] = new_names
    expected["VAR"] = full["VAR"].copy()
    for i, k in enumerate(target):
        expected["VAR"][k] = new_var[i]
    assert_rows_equal(got, expected)
    fitsverify(catalog)
    assert_astropy_agrees(catalog, 1)


def test_write_column_broadcasts_and_checks(catalog: Path) -> None:
    with fitsbind.FITS(catalog, "r+") as f:
        hdu = f["CAT"]
        hdu["FLAG"] = 7
        assert hdu.read_column("FLAG").tolist() == [7] * N
        hdu["POS"][2:4] = [1.0, 2.0, 3.0]                     # one cell, broadcast
        assert hdu.read_column("POS", rows=[2, 3]).tolist() == [[1, 2, 3], [1, 2, 3]]
        hdu["OK"][[0, 1]] = [True, True]
        hdu["OK"][[2]] = False
        assert hdu["OK"][:4].tolist() == [True, True, False, True]
        with pytest.raises(IndexError):
            hdu.write_column("ID", [1, 2], rows=[4, 4])
        with pytest.raises(FITSValueError):
            hdu.write_column("ID", [1, 2, 3], rows=[4, 5])
        with pytest.raises(TypeError):
            hdu[0] = 5
        with pytest.raises(TypeError):
            hdu[["ID", "MAG"]][0:2] = np.zeros(2)


def test_write_column_leaves_other_bytes_alone(catalog: Path) -> None:
    before = bytearray(catalog.read_bytes())
    with fitsbind.FITS(catalog, "r+") as f:
        hdu = f["CAT"]
        offset = hdu.columns[hdu.colnames.index("FLAG")].offset
        rowsize = hdu.rowsize
        hdu.write_column("FLAG", np.full(3, 0x0102, np.int16), rows=[0, 5, 39])
    after = catalog.read_bytes()
    start = _data_start(catalog, 1)
    for r in (0, 5, 39):
        pos = start + r * rowsize + offset
        before[pos:pos + 2] = b"\x01\x02"
    assert after == bytes(before)


# ---------------------------------------------------------------------------------------------
# masked values
# ---------------------------------------------------------------------------------------------


def test_masked_writes(tmp_path: Path, fitsverify, afits) -> None:
    path = tmp_path / "masked.fits"
    mask = np.array([0, 1, 0, 1, 1], bool)
    rec = np.ma.MaskedArray(np.zeros(5, [("I", "i4"), ("F", "f4"), ("D", "f8"), ("L", "?"),
                                         ("U", "u2"), ("V", "f8", (2,))]))
    rec["I"] = np.ma.MaskedArray([1, 2, 3, 4, 5], mask=mask)
    rec["F"] = np.ma.MaskedArray([1.5, 2, 3, 4, 5], mask=mask)
    rec["D"] = np.ma.MaskedArray([1.5, 2, 3, 4, 5], mask=mask)
    rec["L"] = np.ma.MaskedArray([True, True, False, False, True], mask=mask)
    rec["U"] = np.ma.MaskedArray([1, 2, 3, 4, 5], mask=mask)
    rec["V"] = np.ma.MaskedArray(np.ones((5, 2)), mask=np.stack([mask, ~mask], 1))
    specs = [ColumnSpec("I", "J", null=-1), ColumnSpec("F", "E"), ColumnSpec("D", "D"),
             ColumnSpec("L", "L"), ColumnSpec("U", "I", zero=32768, null=0), ColumnSpec("V", "2D")]
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_table(rec, columns=specs)
        plain = hdu.read()
        masked = hdu.read(mask_null=True)
        assert isinstance(masked, np.ma.MaskedArray)
        assert plain["I"].tolist() == [1, -1, 3, -1, -1]
        assert np.isnan(plain["F"]).tolist() == mask.tolist()
        assert np.isnan(plain["D"]).tolist() == mask.tolist()
        assert plain["L"].tolist() == [True, False, False, False, False]
        assert plain["U"].tolist() == [1, 32768, 3, 32768, 32768]
        for name in ("I", "F", "D", "L", "U"):
            assert masked.mask[name].tolist() == mask.tolist(), name
        assert masked.mask["V"].tolist() == np.stack([mask, ~mask], 1).tolist()
        # masked rows appended and written into the same table
        hdu.append(rec[:2])
        hdu.write_column("I", np.ma.MaskedArray([9, 9], mask=[True, False]), rows=[0, 2])
        assert hdu.read_column("I", mask_null=True).mask.tolist() == \
            [True, True, False, True, True, False, True]
    fitsverify(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with afits.open(path) as hdul:
            assert hdul[1].data["I"].tolist() == [-1, -1, 9, -1, -1, 1, -1]
            assert hdul[1].columns["I"].null == -1


def test_masked_value_without_tnull_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nonull.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_table({"I": np.arange(3, dtype=np.int32)})
    before = path.read_bytes()
    with fitsbind.FITS(path, "r+") as f:
        with pytest.raises(FITSValueError, match="TNULL"):
            f[1].write_column("I", np.ma.MaskedArray([1, 2, 3], mask=[0, 1, 0]))
        with pytest.raises(FITSValueError, match="TNULL"):
            f[1].append({"I": np.ma.MaskedArray([1], mask=[1])})
        with pytest.raises(FITSValueError, match="TNULL"):
            f.write_table({"I": np.ma.MaskedArray([1], mask=[1])})
        assert len(f) == 2 and f[1].nrows == 3
    assert path.read_bytes() == before


def test_vla_padded_and_masked(catalog: Path) -> None:
    with fitsbind.FITS(catalog) as f:
        hdu = f["CAT"]
        padded = hdu.read_column("VAR", vla="padded")
        assert padded.dtype == np.int32 and padded.shape == (N, 4)
        assert padded[3].tolist() == [0, 3, 6, 0] and padded[0].tolist() == [0, 0, 0, 0]
        masked = hdu.read_column("VAR", vla="masked")
        assert isinstance(masked, np.ma.MaskedArray)
        assert np.ma.getmaskarray(masked)[3].tolist() == [False, False, False, True]
        whole = hdu.read(["ID", "VAR"], vla="masked")
        assert isinstance(whole, np.ma.MaskedArray)
        with pytest.raises(ValueError):
            hdu.read(vla="ragged")


# ---------------------------------------------------------------------------------------------
# checksums
# ---------------------------------------------------------------------------------------------


def _astropy_checksums_ok(path: Path) -> None:
    fits = pytest.importorskip("astropy.io.fits")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(path, checksum=True) as hdul:
            for hdu in hdul:
                _ = hdu.data


def test_checksums_after_table_writes(catalog: Path, fitsverify) -> None:
    with fitsbind.FITS(catalog, "r+") as f:
        hdu = f["CAT"]
        assert hdu.verify_checksum() is None
        hdu.add_checksum()
        assert hdu.verify_checksum() is True and hdu.verify_datasum() is True
    _astropy_checksums_ok(catalog)
    fitsverify(catalog)
    with fitsbind.FITS(catalog, "r+") as f:
        hdu = f["CAT"]
        hdu.append(catalog_data(3, N))
        hdu.write_column("MAG", np.zeros(2, np.float32), rows=[0, 1])
        assert hdu.verify_datasum() is False   # stale until add_checksum
        hdu.add_checksum()
        assert hdu.verify_checksum() is True and hdu.verify_datasum() is True
        hdu.delete_rows([0])
        hdu.insert_column("NEW", np.arange(N + 2))
        hdu.add_checksum()
        assert hdu.verify_checksum() is True
    _astropy_checksums_ok(catalog)
    fitsverify(catalog)


# ---------------------------------------------------------------------------------------------
# tables followed by other HDUs
# ---------------------------------------------------------------------------------------------


def test_growing_a_table_before_other_hdus(tmp_path: Path, fitsverify, afits) -> None:
    path = tmp_path / "multi.fits"
    image = np.arange(2000, dtype=np.float64).reshape(40, 50)
    with fitsbind.FITS(path, "w+") as f:
        f.write_table(catalog_data(3), extname="FIRST")
        f.write_image(image, extname="IMG")
        f.write_table(catalog_data(5, 7), extname="LAST")
    with fitsbind.FITS(path, "r+") as f:
        first, img, last = f["FIRST"], f["IMG"], f["LAST"]
        for start in range(3, N, 9):               # several appends, each moving the later HDUs
            first.append(catalog_data(min(9, N - start), start))
        first.insert_column("EXTRA", np.ones(N, np.int16))
        first.write_column("VAR", [np.arange(50, dtype=np.int32)] * N)   # heap grows a lot
        assert img.read().tolist() == image.tolist() and last.nrows == 5
        assert f["IMG"].index == 2 and f["LAST"].index == 3
    fitsverify(path)
    with fitsbind.FITS(path) as f:
        got = f["FIRST"].read()
        assert len(got) == N and got["EXTRA"].tolist() == [1] * N
        assert all(c.tolist() == list(range(50)) for c in got["VAR"])
        data = catalog_data()
        np.testing.assert_array_equal(got["MAG"], data["MAG"])
        np.testing.assert_array_equal(f["IMG"].read(), image)
        assert_rows_equal(f["LAST"].read(), catalog_data(5, 7))
    for index in (1, 3):
        assert_astropy_agrees(path, index)
    with afits.open(path) as hdul:
        np.testing.assert_array_equal(hdul["IMG"].data, image)


# ---------------------------------------------------------------------------------------------
# gzip-compressed files
# ---------------------------------------------------------------------------------------------


def test_reading_a_gzipped_table(catalog: Path) -> None:
    gz = catalog.with_suffix(".fits.gz")
    gz.write_bytes(gzip.compress(catalog.read_bytes()))
    with fitsbind.FITS(gz) as f:
        hdu = f["CAT"]
        assert hdu.nrows == N and hdu.colnames == list(catalog_data())
        assert_rows_equal(hdu.read(), catalog_data())
        for rows in ([5, 2, 2, -1], slice(3, 30, 4), np.arange(N) % 6 == 1):
            assert_rows_equal(hdu.read(rows=rows), expected_rows(rows))
        np.testing.assert_array_equal(hdu.where("FLAG == 1 && MAG > 20"),
                                      np.flatnonzero((catalog_data()["FLAG"] == 1) &
                                                     (catalog_data()["MAG"] > 20)))
        var = hdu.read_column("VAR", rows=[4, 9])
        assert var[0].tolist() == [0, 4, 8, 12] and var[1].tolist() == [0, 9, 18, 27]
        assert hdu.read_column("VAR", vla="padded").shape == (N, 4)
        assert f["AFTER"].read().tolist() == np.arange(12).reshape(3, 4).tolist()
        with pytest.raises(FITSPermissionError):
            hdu.append(catalog_data(1))


# ---------------------------------------------------------------------------------------------
# bad input: raised before the file changes
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def typed(tmp_path: Path) -> Path:
    """A table with one column of each checked kind."""
    path = tmp_path / "typed.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.create_table_hdu([ColumnSpec("I16", "I"), ColumnSpec("U16", "I", zero=32768),
                            ColumnSpec("SC", "I", scale=0.5, zero=10.0), ColumnSpec("J", "J"),
                            ColumnSpec("S", "4A"), ColumnSpec("P", "PI()"), ColumnSpec("B", "B"),
                            ColumnSpec("I8", "B", zero=-128)], nrows=2, extname="T")
    return path


GOOD_ROW = {"I16": [1], "U16": [1], "SC": [10.5], "J": [1], "S": ["abcd"], "P": [[1, 2]], "B": [1],
            "I8": [-1]}

BAD_VALUES = [
    ("I16", [70000], FITSValueError),
    ("I16", [-32769], FITSValueError),
    ("I16", [1.5], FITSTypeError),
    ("I16", np.array([1.0]), FITSTypeError),
    ("U16", [-1], FITSValueError),
    ("U16", [65536], FITSValueError),
    ("SC", [1e6], FITSValueError),             # (1e6 - 10) / 0.5 > 32767
    ("SC", [-16400.0], FITSValueError),
    ("SC", [np.inf], FITSValueError),
    ("J", [2**31], FITSValueError),
    ("J", np.array([1 + 2j]), FITSTypeError),
    ("J", np.array(["1"]), FITSTypeError),
    ("B", [256], FITSValueError),
    ("B", [-1], FITSValueError),
    ("I8", [128], FITSValueError),
    ("I8", [-129], FITSValueError),
    ("S", ["abcde"], FITSValueError),          # too long without truncate=True
    ("S", ["é"], FITSValueError),
    ("S", [b"\xff"], FITSValueError),
    ("S", [3], FITSTypeError),
    ("P", [[70000]], FITSValueError),
    ("P", [[1.5]], FITSTypeError),
    ("P", [np.ones((2, 2), np.int16)], FITSValueError),
]


@pytest.mark.parametrize(("column", "value", "error"), BAD_VALUES,
                         ids=[f"{c}-{v!r}" for c, v, _ in BAD_VALUES])
def test_bad_values_change_nothing(typed: Path, column: str, value: Any, error: type) -> None:
    before = typed.read_bytes()
    with fitsbind.FITS(typed, "r+") as f:
        hdu = f["T"]
        row = dict(GOOD_ROW, **{column: value})
        with pytest.raises(error, match=rf"typed\.fits.*{column}"):
            hdu.append(row)
        with pytest.raises(error):
            hdu.write(row, start=1)
        with pytest.raises(error):
            hdu.write_column(column, value, rows=[0])
        assert hdu.nrows == 2 and len(f) == 2
    assert typed.read_bytes() == before
    # the good row itself is accepted
    with fitsbind.FITS(typed, "r+") as f:
        f["T"].append(GOOD_ROW)
        assert f["T"].read(rows=[2])["SC"].tolist() == [10.5]


def test_error_classes_are_builtin_subclasses() -> None:
    assert issubclass(FITSValueError, ValueError) and issubclass(FITSTypeError, TypeError)
    assert issubclass(FITSKeyError, KeyError) and issubclass(FITSPermissionError, PermissionError)


def test_truncate(typed: Path) -> None:
    with fitsbind.FITS(typed, "r+") as f:
        hdu = f["T"]
        hdu.append(dict(GOOD_ROW, S=["abcdefg"]), truncate=True)
        hdu.write_column("S", ["123456"], rows=[0], truncate=True)
        assert hdu.read_column("S").tolist() == [b"1234", b"", b"abcd"]
        t = f.write_table({"S": np.array(["toolong"])}, columns=[ColumnSpec("S", "3A")], truncate=True)
        assert t.read_column("S").tolist() == [b"too"]


def test_mismatched_lengths_and_unknown_columns(typed: Path) -> None:
    before = typed.read_bytes()
    with fitsbind.FITS(typed, "r+") as f:
        hdu = f["T"]
        with pytest.raises(FITSValueError, match="length"):
            f.write_table({"A": np.arange(3), "B": np.arange(4)})
        with pytest.raises(FITSValueError):
            f.write_table([np.arange(3)], names=["A", "B"])
        with pytest.raises(FITSValueError):
            hdu.append(dict(GOOD_ROW, J=[1, 2]))
        with pytest.raises(FITSKeyError, match="NOPE"):
            hdu.append(dict(GOOD_ROW, NOPE=[1]))
        with pytest.raises(FITSValueError, match="I16"):
            hdu.append({k: v for k, v in GOOD_ROW.items() if k != "I16"})
        with pytest.raises(FITSKeyError, match="NOPE"):
            hdu.write_column("NOPE", [1, 2])
        with pytest.raises(FITSKeyError):
            hdu["NOPE"] = [1, 2]
        with pytest.raises(FITSValueError):
            f.write_table({"A": [1, 2]}, columns=[("A", "J"), ("B", "J")])
        assert len(f) == 2
    assert typed.read_bytes() == before


BAD_SPECS = [
    ([("A", "Z")], False, FITSValueError),
    ([("A", "3PJ")], False, FITSValueError),
    ([("A", "J5")], False, FITSValueError),
    ([("A", "")], False, FITSValueError),
    ([("A", "PJ(x)")], False, FITSValueError),
    ([("A", "I0")], True, FITSValueError),
    ([("A", "J")], True, FITSValueError),
    ([("A", "L")], True, FITSValueError),
    ([ColumnSpec("A", "6D", dim=(4, 2))], False, FITSValueError),
    ([ColumnSpec("A", "6D", dim=(7,))], False, FITSValueError),
    ([ColumnSpec("A", "10A", dim=(3, 4))], False, FITSValueError),
    ([{"name": "A", "format": "J", "colour": "red"}], False, FITSTypeError),
    ([("A",)], False, FITSTypeError),
    ([42], False, FITSTypeError),
]


@pytest.mark.parametrize(("columns", "ascii", "error"), BAD_SPECS,
                         ids=[f"{'ascii-' if a else ''}{c[0]!r}" for c, a, _ in BAD_SPECS])
def test_bad_column_specs(tmp_path: Path, columns: list, ascii: bool, error: type) -> None:
    path = tmp_path / "spec.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(np.zeros(3, np.int16))
    before = path.read_bytes()
    with fitsbind.FITS(path, "r+") as f:
        with pytest.raises(error):
            f.create_table_hdu(columns, nrows=2, ascii=ascii)
        with pytest.raises(error):
            f.write_table({"A": np.zeros(2)}, columns=columns, ascii=ascii)
        assert len(f) == 1
    assert path.read_bytes() == before


def test_create_table_hdu_accepts_each_spelling(tmp_path: Path, fitsverify) -> None:
    path = tmp_path / "spell.fits"
    with fitsbind.FITS(path, "w+") as f:
        a = f.create_table_hdu([ColumnSpec("X", "E"), {"name": "Y", "format": "4D", "dim": (2, 2)},
                                ("Z", "10A", "m"), ("W", "PE(9)")], nrows=4)
        b = f.create_table_hdu(np.dtype([("X", "f4"), ("Y", "f8", (2, 2)), ("Z", "S10")]), nrows=4)
        c = f.create_table_hdu([("I", "I6"), ("F", "F10.3"), ("S", "A8")], ascii=True)
        assert a.dtype["Y"] == np.dtype((np.float64, (2, 2))) and b.dtype["Y"] == a.dtype["Y"]
        assert a.read_column("Z").tolist() == [b""] * 4
        assert c.ascii and c.dtype == np.dtype([("I", "i4"), ("F", "f8"), ("S", "S8")])
        with pytest.raises(FITSValueError):
            f.create_table_hdu([("X", "E")], nrows=-1)
    fitsverify(path)


def test_create_ascii_table_with_rows_is_valid(tmp_path: Path, fitsverify) -> None:
    """The rows of a new ASCII table are blank text (an ASCII table holds only ASCII text)."""
    path = tmp_path / "blank.fits"
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.create_table_hdu([("I", "I6"), ("F", "F10.3"), ("S", "A8")], nrows=3, ascii=True)
        hdu.insert_rows(1, 2)
        rowsize = hdu.rowsize
    raw = path.read_bytes()
    start = _data_start(path, 1)
    assert set(raw[start:start + 5 * rowsize]) == {ord(" ")}
    fitsverify(path)
    with fitsbind.FITS(path) as f:
        got = f[1].read(mask_null=True)
        assert got.data["S"].tolist() == [b""] * 5


def _data_start(path: Path, index: int) -> int:
    fits = pytest.importorskip("astropy.io.fits")
    with fits.open(path) as hdul:
        return hdul[index].fileinfo()["datLoc"]


def test_vla_descriptor_outside_heap(tmp_path: Path) -> None:
    path = tmp_path / "vla.fits"
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_table({"ID": np.arange(6, dtype=np.int32),
                             "V": [np.arange(k % 4, dtype=np.int16) for k in range(6)]})
        rowsize = hdu.rowsize
        assert rowsize == 12
    raw = bytearray(path.read_bytes())
    pos = _data_start(path, 1) + 3 * rowsize + 4        # row 3's descriptor (count, offset)
    assert raw[pos:pos + 4] == (3).to_bytes(4, "big")
    for patch in [(3, 1000), (1000, 0), (2**31 - 1, 2**31 - 1), (-1 & 0xFFFFFFFF, 0)]:
        raw[pos:pos + 8] = patch[0].to_bytes(4, "big") + patch[1].to_bytes(4, "big")
        path.write_bytes(bytes(raw))
        with fitsbind.FITS(path) as f:
            hdu = f[1]
            with pytest.raises(FITSValueError, match=r"vla\.fits.*'V'.*outside"):
                hdu.read()
            with pytest.raises(FITSValueError):
                hdu.read_column("V", rows=[3])
            with pytest.raises(FITSValueError):
                hdu.read_column("V", vla="padded")
            # the rest of the table still reads
            assert hdu.read_column("ID").tolist() == list(range(6))
            assert [c.tolist() for c in hdu.read_column("V", rows=[1, 2])] == [[0], [0, 1]]


def _patch_card(path: Path, key: str, value: str) -> None:
    raw = path.read_bytes()
    match = re.search(rb"%s *= *[^/]*" % key.encode(), raw)
    assert match is not None
    old = match.group(0)
    new = f"{key:8}= {value:>20} ".encode()
    path.write_bytes(raw.replace(old, new.ljust(len(old))[:len(old)], 1))


@pytest.mark.parametrize(("key", "value", "why"), [
    ("NAXIS1", "10", "NAXIS1"), ("NAXIS1", "40", "NAXIS1"), ("TFORM2", "'2E'", "NAXIS1"),
    ("TFORM1", "'Q'", "TFORM"), ("TFORM1", "'J5'", "TFORM"), ("TSCAL1", "0", "TSCAL"),
    ("TSCAL1", "'x'", "TSCAL"), ("TZERO1", "'x'", "TZERO")])
def test_inconsistent_header(tmp_path: Path, key: str, value: str, why: str) -> None:
    """A malformed table header: a FITSError naming the file and the problem (CFITSIO may
    refuse the HDU itself), never a wrong array; the other HDUs stay readable."""
    path = tmp_path / "bad.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_table({"A": np.arange(5, dtype=np.int32), "B": np.ones((5, 2), np.float64)},
                      columns=[ColumnSpec("A", "J", scale=2.0, zero=1.0), ColumnSpec("B", "2D")])
        f.write_image(np.arange(3, dtype=np.int16), extname="AFTER")
    _patch_card(path, key, value)
    with fitsbind.FITS(path) as f:
        with pytest.raises(FITSError, match=rf"(?s)bad\.fits.*{why}"):
            f[1].read()
        with pytest.raises(FITSError):
            _ = f[1].nrows
        assert f[0].header["NAXIS"] == 0


def test_lookup_past_a_broken_table_says_why(tmp_path: Path) -> None:
    """CFITSIO cannot get past a table whose NAXIS1 disagrees with its TFORMs; looking up a
    later HDU by name then says so (as len(f) and f[2] do), not "no HDU named 'AFTER'"."""
    path = tmp_path / "bad.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_table({"A": np.arange(5, dtype=np.int32)})
        f.write_image(np.arange(3, dtype=np.int16), extname="AFTER")
    _patch_card(path, "NAXIS1", "8")
    with fitsbind.FITS(path) as f:
        for lookup in (lambda: len(f), lambda: f[2], lambda: f["AFTER"]):
            with pytest.raises(FITSError, match=r"(?s)bad\.fits.*NAXIS1"):
                lookup()


def test_bad_tdim_on_disk_is_ignored_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "tdim.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_table({"A": np.arange(12.0).reshape(2, 2, 3)})
    _patch_card(path, "TDIM1", "'(5,2)'")
    with fitsbind.FITS(path) as f, pytest.warns(UserWarning, match="TDIM"):
        got = f[1].read_column("A")
    assert got.shape == (2, 6)


def test_read_only_file_refuses_writes(catalog: Path) -> None:
    before = catalog.read_bytes()
    with fitsbind.FITS(catalog, "r") as f:
        hdu = f["CAT"]
        row = catalog_data(1, N)
        calls = [
            lambda: hdu.write(row, start=0), lambda: hdu.append(row),
            lambda: hdu.write_column("ID", np.arange(N)), lambda: hdu.__setitem__("ID", 0),
            lambda: hdu["MAG"].__setitem__(slice(0, 2), 1.0),
            lambda: hdu.insert_rows(0, 1), lambda: hdu.delete_rows([0]),
            lambda: hdu.insert_column("NEW", np.zeros(N)), lambda: hdu.delete_column("ID"),
            hdu.add_checksum, lambda: f.write_table(row), lambda: f.create_table_hdu([("A", "J")]),
        ]
        for call in calls:
            with pytest.raises(FITSPermissionError, match=r"cat\.fits"):
                call()
        assert hdu.nrows == N
    assert catalog.read_bytes() == before


# ---------------------------------------------------------------------------------------------
# ASCII tables
# ---------------------------------------------------------------------------------------------


def test_ascii_table_behaviour(tmp_path: Path, fitsverify, afits) -> None:
    path = tmp_path / "ascii.fits"
    specs = [ColumnSpec("ID", "I6"), ColumnSpec("X", "F9.3"), ColumnSpec("E", "E12.4"),
             ColumnSpec("NAME", "A6"), ColumnSpec("K", "I15")]
    data = {"ID": np.arange(10), "X": np.arange(10) * 1.25, "E": np.arange(10) * 1e5,
            "NAME": np.array([f"n{i}" for i in range(10)]), "K": np.arange(10) * 10**12}
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_table(data, columns=specs, ascii=True, extname="ASC")
        assert hdu.ascii and hdu.rowsize >= 6 + 9 + 12 + 6 + 15
        assert hdu.dtype == np.dtype([("ID", "i4"), ("X", "f8"), ("E", "f8"), ("NAME", "S6"), ("K", "i8")])
        np.testing.assert_array_equal(hdu.read(rows=[9, 0, 0])["ID"], [9, 0, 0])
        np.testing.assert_array_equal(hdu.read_column("X", rows=slice(1, None, 4)), [1.25, 6.25, 11.25])
        np.testing.assert_array_equal(hdu.where("X > 5 && ID < 8"), [5, 6, 7])
        hdu.append({"ID": [10], "X": [12.5], "E": [1e6], "NAME": ["n10"], "K": [10**13]})
        hdu.write_column("NAME", ["zz"], rows=[0])
        hdu.insert_rows(2, 1)
        hdu.delete_rows([5])
        with pytest.raises(FITSValueError):
            hdu.append({"ID": [10**7], "X": [1.0], "E": [1.0], "NAME": ["a"], "K": [1]})   # I6
        with pytest.raises(FITSValueError):
            hdu.append({"ID": [1], "X": [1e9], "E": [1.0], "NAME": ["a"], "K": [1]})       # F9.3
        with pytest.raises(FITSValueError):
            hdu.append({"ID": [1], "X": [1.0], "E": [1.0], "NAME": ["toolong"], "K": [1]})
        with pytest.raises(FITSTypeError):
            hdu.append({"ID": [1.5], "X": [1.0], "E": [1.0], "NAME": ["a"], "K": [1]})
        got = hdu.read()
    assert got["ID"].tolist() == [0, 1, 0, 2, 3, 5, 6, 7, 8, 9, 10]
    assert got["NAME"].tolist()[:2] == [b"zz", b"n1"] and got["NAME"][3] == b"n2"
    assert got["K"].tolist()[-1] == 10**13 and got["K"].dtype == np.int64
    fitsverify(path)
    with afits.open(path) as hdul:
        assert hdul[1].data["ID"].tolist() == got["ID"].tolist()
        keep = np.arange(len(got)) != 2   # the inserted, blank row: test_ascii_blank_numeric_fields
        np.testing.assert_array_equal(hdul[1].data["X"][keep], got["X"][keep])


def test_ascii_blank_numeric_fields(tmp_path: Path, afits) -> None:
    """All-blank numeric fields (as insert_rows leaves them, or other writers write for missing
    values): fitsbind reads what astropy reads (0 for integers, NaN for floats)."""
    path = tmp_path / "blank.fits"
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_table({"I": np.arange(3), "F": np.arange(3) * 0.5, "E": np.arange(3) * 2.0},
                            columns=[("I", "I5"), ("F", "F8.2"), ("E", "E12.4")], ascii=True)
        hdu.insert_rows(1, 1)
    with fitsbind.FITS(path) as f:
        got = f[1].read()
    with afits.open(path) as hdul:
        for name in ("I", "F", "E"):
            np.testing.assert_array_equal(got[name], hdul[1].data[name], err_msg=name)


# ---------------------------------------------------------------------------------------------
# memory: appending a large table in batches
# ---------------------------------------------------------------------------------------------

MEMORY_SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    import fitsbind

    def peak_kib():
        # VmHWM where there is one: ru_maxrss starts at the parent's peak (the test run's)
        # in a process made by fork + exec
        try:
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    path, total, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.create_table_hdu([("I", "J"), ("F", "E"), ("S", "I")], extname="BIG")
        base = peak_kib()
        for start in range(0, total, batch):
            i = np.arange(start, start + batch, dtype=np.int64)
            hdu.append({"I": i.astype(np.int32), "F": (i * 0.5).astype(np.float32),
                        "S": (i % 30000).astype(np.int16)})
        assert hdu.nrows == total
    print(base // 1024, peak_kib() // 1024)
""")


@pytest.mark.slow
def test_append_ten_million_rows_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.fits"
    total, batch = 10_000_000, 100_000
    try:
        result = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(path), str(total), str(batch)],
                                capture_output=True, text=True, timeout=600, check=False)
        assert result.returncode == 0, result.stderr
        base_mb, peak_mb = map(int, result.stdout.split())
        assert peak_mb < 200, f"peak RSS {peak_mb} MB (after import {base_mb} MB)"
        with fitsbind.FITS(path) as f:
            hdu = f["BIG"]
            assert hdu.nrows == total and hdu.rowsize == 10
            for r in (0, 1, 99_999, 100_000, 5_123_457, total - 1):
                row = hdu[r]
                assert row["I"] == r and row["F"] == np.float32(r * 0.5) and row["S"] == r % 30000
            sample = hdu.read(rows=slice(total - 5, None))
            assert sample["I"].tolist() == list(range(total - 5, total))
    finally:
        path.unlink(missing_ok=True)
