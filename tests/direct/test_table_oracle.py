"""Direct-API tables (``write_table``, ``create_table_hdu``, ``TableHDU.read``) checked against
astropy.io.fits and fitsverify.

Three directions: every column type written by fitsbind reads back the same in fitsbind and in
astropy (and the file passes fitsverify); every column type written by astropy reads the same in
fitsbind; and every table HDU of the files astropy ships for its own tests reads the same.

astropy's results are normalized before comparing: str → ASCII bytes with trailing blanks
removed (fitsbind gives numpy ``S``), the int8 convention (B with TZERO -128) → compared by value
(astropy gives float64), PA cells (astropy: chararrays of single characters) → joined bytes.
astropy reads undefined logicals as False, as fitsbind's plain ``read()`` does.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fitsbind
from fitsbind import ColumnSpec

fits = pytest.importorskip("astropy.io.fits")

ASTROPY_DATA = Path(fits.__file__).resolve().parent / "tests" / "data"
N = 7   # rows of the generated tables


# ---------------------------------------------------------------------------------------------
# helpers: astropy as the oracle
# ---------------------------------------------------------------------------------------------


def _strip(text: bytes) -> bytes:
    return text.rstrip(b"\0 ")


def astropy_cell_bytes(cell: Any) -> bytes:
    """A PA cell as astropy gives it (chararray of single characters, or str) as bytes."""
    if isinstance(cell, (str, bytes)):
        return _strip(cell.encode("ascii") if isinstance(cell, str) else cell)
    raw = np.asarray(cell).view(np.ndarray)
    return _strip("".join(raw.tolist()).encode("ascii") if raw.dtype.kind == "U"
                  else b"".join(raw.tolist()))


def normalize_astropy(values: Any, vla_code: str | None) -> Any:
    """An astropy column as fitsbind reads it (values only; dtypes are checked elsewhere)."""
    if vla_code is not None:
        if vla_code == "A":
            return [astropy_cell_bytes(c) for c in values]
        return [np.asarray(c) for c in values]
    array = np.asarray(values).view(np.ndarray)
    if array.dtype.kind == "U":
        array = np.char.encode(array, "ascii")
    if array.dtype.kind == "S":
        array = np.char.rstrip(array, b" ")
    return array


def assert_column_equal(got: Any, expected: Any, what: str) -> None:
    """Same values (NaN equal NaN), same shape; for VLA columns cell by cell."""
    if isinstance(expected, list) or (isinstance(expected, np.ndarray) and expected.dtype == object):
        assert isinstance(got, np.ndarray) and got.dtype == object, (what, type(got))
        assert len(got) == len(expected), what
        for i, (g, e) in enumerate(zip(got, expected)):
            if isinstance(e, bytes):
                assert isinstance(g, bytes) and g == e, (what, i, g, e)
            else:
                assert isinstance(g, np.ndarray) and g.ndim == 1, (what, i, g)
                assert g.dtype.isnative, (what, g.dtype)
                np.testing.assert_array_equal(g, np.asarray(e), err_msg=f"{what} row {i}")
        return
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (what, got.shape, expected.shape)
    if got.dtype.kind == "S" or expected.dtype.kind == "S":
        assert got.dtype.kind == "S", (what, got.dtype)
        assert got.tolist() == expected.tolist(), what
        return
    np.testing.assert_array_equal(got, expected, err_msg=what)


def assert_matches_astropy(path: Path, index: int, skip: Any = ()) -> np.ndarray:
    """fitsbind's read() of table HDU ``index`` equals astropy's data, column by column (but
    the columns named in ``skip``, which astropy cannot read)."""
    with fitsbind.FITS(path) as f:
        hdu = f[index]
        got = hdu.read()
        cols = hdu.columns
        assert hdu.nrows == len(got) and hdu.ncols == len(got.dtype.names)
        assert got.dtype == hdu.dtype
        assert all(got.dtype[n].base.isnative or got.dtype[n].base.itemsize == 1
                   for n in got.dtype.names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # logical nulls → False, bad TDIMs
        with fits.open(path) as hdul:
            theirs = hdul[index]
            assert [c.name for c in theirs.columns] == [c.name for c in cols]
            assert len(theirs.data) == len(got)
            for j, c in enumerate(cols):
                if c.name in skip:
                    continue
                expected = normalize_astropy(theirs.data.field(j), c.vla and c.code)
                assert_column_equal(got[got.dtype.names[j]], expected, f"{path.name}[{index}] {c.name}")
    return got


# ---------------------------------------------------------------------------------------------
# 1. every column type written by fitsbind
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    values: Any                   # handed to write_table
    spec: ColumnSpec | None       # columns= entry (None: derived from the dtype)
    tform: str                    # TFORM written (a leading repeat of 1 ignored)
    dtype: np.dtype               # the field dtype read() gives (with cell shape)
    expected: Any = None          # what read() gives, when not ``values`` itself
    zero: Any = None              # TZERO written
    dim: str | None = None        # TDIM written
    astropy: bool = True          # False: astropy cannot read the column (its bug)


def _rng(seed: str) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, seed)))


def _ints(dtype: Any, shape: tuple[int, ...], seed: str) -> np.ndarray:
    info = np.iinfo(dtype)
    values = _rng(seed).integers(info.min, info.max, (N, *shape), endpoint=True, dtype=dtype)
    values.flat[0], values.flat[1] = info.min, info.max   # the extremes of the type
    return values


def _floats(dtype: Any, shape: tuple[int, ...], seed: str) -> np.ndarray:
    values = (_rng(seed).standard_normal((N, *shape)) * 1e3).astype(dtype)
    if values.dtype.kind == "c":
        values = values + 1j * (_rng(seed + "i").standard_normal((N, *shape))).astype(dtype)
        values.flat[2] = complex(np.nan, 1)
    else:
        info = np.finfo(dtype)
        values.flat[0], values.flat[1], values.flat[2] = info.max, -np.inf, np.nan
        values.flat[3] = info.tiny
    return values


def _numeric(dtype: Any, shape: tuple[int, ...], seed: str) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return _rng(seed).integers(0, 2, (N, *shape)).astype(bool)
    return _ints(dtype, shape, seed) if dtype.kind in "iu" else _floats(dtype, shape, seed)


# numpy type → (TFORM code, TZERO)
CODES = {"b1": ("L", None), "u1": ("B", None), "i1": ("B", -128), "i2": ("I", None),
         "u2": ("I", 1 << 15), "i4": ("J", None), "u4": ("J", 1 << 31), "i8": ("K", None),
         "u8": ("K", 1 << 63), "f4": ("E", None), "f8": ("D", None), "c8": ("C", None),
         "c16": ("M", None)}


def _dim(shape: tuple[int, ...]) -> str:
    return "(" + ",".join(str(n) for n in reversed(shape)) + ")"


def _typed_cases() -> list[Case]:
    cases = []
    for key, (code, zero) in CODES.items():
        for shape in [(), (3,), (2, 3)]:
            values = _numeric(key, shape, f"{key}{shape}")
            count = int(np.prod(shape)) if shape else 1
            cases.append(Case(f"{key}_{'x'.join(map(str, shape)) or 'scalar'}", values, None,
                              f"{count}{code}" if count > 1 else code,
                              np.dtype((np.dtype(key), shape)), zero=zero,
                              dim=_dim(shape) if len(shape) >= 2 else None))
    cases.append(Case("i8_3d", _ints(np.int64, (2, 2, 2), "3d"), None, "8K",
                      np.dtype((np.int64, (2, 2, 2))), dim="(2,2,2)"))
    return cases


def _string_cases() -> list[Case]:
    words = np.array(["", "a", "M31", " lead", "in sid", "z" * 6, "~!@#$%"])
    matrix = np.array([["ab", "c", ""], ["d", "eeee", "f"]] * 4)[:N].reshape(N, 1, 3)
    return [
        Case("S_scalar", np.char.encode(words, "ascii"), None, "6A", np.dtype("S6")),
        Case("U_scalar", words, None, "6A", np.dtype("S6"), expected=np.char.encode(words, "ascii")),
        Case("S_vector", np.char.encode(np.stack([words, words[::-1]], 1), "ascii"), None, "12A",
             np.dtype(("S6", (2,))), dim="(6,2)"),
        Case("U_2d", matrix, None, "12A", np.dtype(("S4", (1, 3))),
             expected=np.char.encode(matrix, "ascii"), dim="(4,3,1)"),
        Case("S_spec_wider", np.char.encode(words, "ascii"), ColumnSpec("S_spec_wider", "10A"), "10A",
             np.dtype("S10")),
    ]


def _scaled_cases() -> list[Case]:
    grid = np.array([10.0, 10.5, -5.0, 16393.5, -16374.0, 0.0, 11.0])   # stored -32768..32767
    return [
        Case("I_scaled", grid, ColumnSpec("I_scaled", "I", scale=0.5, zero=10.0), "I",
             np.dtype(np.float64), zero=10.0),
        Case("J_scaled", np.array([-5.0, 2.5, 7.5, 1e9, -1e9, 0.0, 25.0]),
             ColumnSpec("J_scaled", "J", scale=2.5, zero=-5.0), "J", np.dtype(np.float64), zero=-5.0),
        Case("B_scaled", np.array([1.0, 3.0, 511.0, 5.0, 1.0, 101.0, 7.0]),
             ColumnSpec("B_scaled", "B", scale=2.0, zero=1.0), "B", np.dtype(np.float64), zero=1.0),
        # astropy 8 fails on a K column with TSCAL (UnboundLocalError: bzero64)
        Case("K_scaled", np.array([100.0, 103.0, -2.0, 1e12, 4.0, 100.0, 3e11 + 100]),
             ColumnSpec("K_scaled", "K", scale=3.0, zero=100.0), "K", np.dtype(np.float64), zero=100.0,
             astropy=False),
        Case("3I_scaled", np.arange(N * 3, dtype=np.float64).reshape(N, 3) * 0.25 - 1,
             ColumnSpec("3I_scaled", "3I", scale=0.25, zero=-1.0), "3I", np.dtype((np.float64, (3,))),
             zero=-1.0),
        Case("E_scaled", np.array([1.0, 2.0, -4.0, 0.5, 1e6, 0.0, 8.0]),
             ColumnSpec("E_scaled", "E", scale=2.0, zero=1.0), "E", np.dtype(np.float64), zero=1.0),
        Case("J_zero_only", np.array([0.5, 1.5, -0.5, 100.5, 2.5, 3.5, 4.5]),
             ColumnSpec("J_zero_only", "J", zero=0.5), "J", np.dtype(np.float64), zero=0.5),
        Case("J_uint32_spec", np.array([0, 1, 2**32 - 1, 2**31, 5, 6, 7], np.uint32),
             ColumnSpec("J_uint32_spec", "J", zero=2**31), "J", np.dtype(np.uint32), zero=2**31),
    ]


def _masked(values: list, mask: list, dtype: Any) -> np.ma.MaskedArray:
    return np.ma.MaskedArray(np.array(values, dtype=dtype), mask=np.array(mask, bool))


MASK = [0, 1, 0, 0, 1, 0, 1]


def _null_cases() -> list[Case]:
    """Masked values written as TNULL (integers), NaN (floats), undefined (logicals); plain
    read() gives TNULL's physical value / NaN / False, as astropy."""
    def plain(values, null_physical):
        data = np.array(values.data, copy=True)
        data[np.ma.getmaskarray(values)] = null_physical
        return data

    j = _masked([1, 2, 3, 4, 5, 6, 7], MASK, np.int32)
    i = _masked([-1, 2, -3, 4, 5, 6, 7], MASK, np.int16)
    u = _masked([1, 2, 3, 65535, 5, 6, 0], MASK, np.uint16)
    b = _masked([1, 2, 3, 4, 5, 6, 0], MASK, np.uint8)
    k = _masked([1, -2, 3, 2**62, 5, 6, 7], MASK, np.int64)
    s = _masked([-128, 1, 127, 4, 5, 6, 7], MASK, np.int8)
    e = _masked([1.5, 2, 3, 4, 5, 6, 7], MASK, np.float32)
    d = _masked([1.5, 2, 3, 4, 5, 6, 7], MASK, np.float64)
    lg = _masked([True, True, False, True, True, False, False], MASK, bool)
    sc = _masked([10.0, 0, 10.5, -5.0, 0, 11.0, 0], MASK, np.float64)
    nan = np.nan
    return [
        Case("J_null", j, ColumnSpec("J_null", "J", null=-999), "J", np.dtype(np.int32),
             expected=plain(j, -999)),
        Case("I_null", i, ColumnSpec("I_null", "I", null=-32768), "I", np.dtype(np.int16),
             expected=plain(i, -32768)),
        Case("u2_null", u, ColumnSpec("u2_null", "I", zero=32768, null=7), "I", np.dtype(np.uint16),
             expected=plain(u, 7 + 32768), zero=32768),
        Case("B_null", b, ColumnSpec("B_null", "B", null=255), "B", np.dtype(np.uint8),
             expected=plain(b, 255)),
        Case("K_null", k, ColumnSpec("K_null", "K", null=-(2**63)), "K", np.dtype(np.int64),
             expected=plain(k, -(2**63))),
        Case("i1_null", s, ColumnSpec("i1_null", "B", zero=-128, null=200), "B", np.dtype(np.int8),
             expected=plain(s, 72), zero=-128),
        Case("E_masked", e, None, "E", np.dtype(np.float32), expected=plain(e, nan)),
        Case("D_masked", d, None, "D", np.dtype(np.float64), expected=plain(d, nan)),
        Case("L_masked", lg, None, "L", np.dtype(bool), expected=plain(lg, False)),
        Case("I_scaled_null", sc, ColumnSpec("I_scaled_null", "I", scale=0.5, zero=10.0, null=-32768),
             "I", np.dtype(np.float64), expected=plain(sc, -32768 * 0.5 + 10), zero=10.0),
    ]


def _vla_cases() -> list[Case]:
    lengths = [3, 0, 1, 5, 0, 2, 4]
    cases = []
    for key, (code, _) in CODES.items():
        if key in ("i1", "u2", "u4", "u8"):
            continue
        cells = [_numeric(key, (), f"vla{key}{n}")[:n] if n <= N else None for n in lengths]
        cases.append(Case(f"P{code}", cells, None, f"P{code}(5)", np.dtype(object)))
    text = np.array(["ab", "", "x y", "longer text", " lead", "q", ""], dtype=object)
    cases.append(Case("PA", text, None, "PA(11)", np.dtype(object),
                      expected=[t.encode() for t in text]))
    cases.append(Case("PA_spec", text, ColumnSpec("PA_spec", "PA(11)"), "PA(11)", np.dtype(object),
                      expected=[t.encode() for t in text]))
    cells = [np.arange(n, dtype=np.float32) - 1 for n in lengths]
    cases.append(Case("PE_nomax", cells, ColumnSpec("PE_nomax", "PE()"), "PE(5)", np.dtype(object)))
    cells = [np.arange(n, dtype=np.float64) / 3 for n in lengths]
    cases.append(Case("QD_spec", cells, ColumnSpec("QD_spec", "QD(5)"), "QD(5)", np.dtype(object)))
    # cells as Python lists (empty lists: test_vla_cells_as_empty_lists)
    cases.append(Case("PJ_list", [list(range(n + 1)) for n in lengths], ColumnSpec("PJ_list", "PJ(6)"),
                      "PJ(6)", np.dtype(object),
                      expected=[np.arange(n + 1, dtype=np.int32) for n in lengths]))
    return cases


def _bit_cases() -> list[Case]:
    cases = []
    for nbits in (1, 5, 8, 9, 16, 33, 70):
        bits = _rng(f"X{nbits}").integers(0, 2, (N, nbits)).astype(bool)
        bits[0] = True
        cases.append(Case(f"{nbits}X", bits, ColumnSpec(f"{nbits}X", f"{nbits}X"), f"{nbits}X",
                          np.dtype((bool, (nbits,)))))
    return cases


def _other_cases() -> list[Case]:
    return [
        Case("0D", np.zeros((N, 0)), ColumnSpec("0D", "0D"), "0D", np.dtype((np.float64, (0,)))),
        Case("L_from_ints", np.array([1, 0, 2, 0, 0, 1, 1]), ColumnSpec("L_from_ints", "L"), "L",
             np.dtype(bool), expected=np.array([1, 0, 2, 0, 0, 1, 1]).astype(bool)),
        Case("D_spec_dim", np.arange(N * 6, dtype=np.float64).reshape(N, 3, 2),
             ColumnSpec("D_spec_dim", "6D", dim=(3, 2)), "6D", np.dtype((np.float64, (3, 2))), dim="(2,3)"),
        Case("E_from_ints", np.arange(N, dtype=np.int64), ColumnSpec("E_from_ints", "E"), "E",
             np.dtype(np.float32), expected=np.arange(N, dtype=np.float32)),
    ]


CASES = (_typed_cases() + _string_cases() + _scaled_cases() + _null_cases() + _vla_cases()
         + _bit_cases() + _other_cases())
CASE_IDS = [c.id for c in CASES]


def _tform_equal(got: str, expected: str) -> bool:
    def norm(t):
        return re.sub(r"^1(?=[A-Z])", "", t.strip().upper())
    return norm(got) == norm(expected)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fitsbind_written_column_matches_astropy(tmp_path, fitsverify, case):
    path = tmp_path / "t.fits"
    ids = np.arange(N, dtype=np.int32) * 10
    columns = None if case.spec is None else [ColumnSpec("ID", "J"), case.spec]
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_table({"ID": ids, case.id: case.values}, columns=columns, extname="CASE")
        assert hdu.index == 1 and hdu.nrows == N and hdu.ncols == 2
        assert hdu.colnames == ["ID", case.id]
        assert _tform_equal(hdu.formats[1], case.tform), hdu.formats
        assert hdu.dtype[case.id] == case.dtype
    fitsverify(path)

    expected = case.values if case.expected is None else case.expected
    if isinstance(expected, np.ma.MaskedArray):
        expected = expected.data
    with fitsbind.FITS(path) as f:
        hdu = f["CASE"]
        assert _tform_equal(hdu.formats[1], case.tform), hdu.formats
        got = hdu.read()
        assert got.dtype == hdu.dtype and got.dtype[case.id] == case.dtype
        assert_column_equal(got[case.id], expected, case.id)
        np.testing.assert_array_equal(got["ID"], ids)
        assert_column_equal(hdu.read_column(case.id), expected, case.id)
        if isinstance(case.values, np.ma.MaskedArray):
            masked = hdu.read_column(case.id, mask_null=True)
            assert isinstance(masked, np.ma.MaskedArray)
            np.testing.assert_array_equal(np.ma.getmaskarray(masked), np.ma.getmaskarray(case.values))
            keep = ~np.ma.getmaskarray(case.values)
            np.testing.assert_array_equal(masked.data[keep], case.values.data[keep])
    assert_matches_astropy(path, 1, skip=() if case.astropy else (case.id,))
    if case.spec is not None and case.spec.scale is not None:
        with fitsbind.FITS(path) as f:
            stored = f[1].read_column(case.id, scale=False)
        np.testing.assert_array_equal(stored * case.spec.scale + (case.spec.zero or 0), expected)
    with fits.open(path) as hdul:
        col = hdul[1].columns[case.id]
        header = hdul[1].header
        assert header.get("TZERO2") == case.zero
        assert header.get("TDIM2") == case.dim
        if case.spec is not None and case.spec.null is not None:
            assert col.null == case.spec.null
        if case.spec is not None and case.spec.scale is not None:
            assert header["TSCAL2"] == case.spec.scale


def _explicit_spec(c: Case) -> ColumnSpec:
    """The ColumnSpec spelling out what write_table derives from the dtype of ``c.values``."""
    if c.spec is not None:
        return c.spec
    shape = c.dtype.shape
    dim = shape if len(shape) >= 2 else None
    if c.dtype.base.kind == "S" and shape:
        dim = (*shape, c.dtype.base.itemsize)
    return ColumnSpec(c.id, c.tform, zero=c.zero, dim=dim)


def test_all_columns_in_one_table(tmp_path, fitsverify):
    """Every case side by side in one table (offsets, and a VLA heap shared by many columns),
    once with the formats derived from the dtypes and once with them spelled out."""
    path = tmp_path / "all.fits"
    derived_cases = [c for c in CASES if c.spec is None]
    with fitsbind.FITS(path, "w+") as f:
        derived = f.write_table({c.id: c.values for c in derived_cases}, extname="DERIVED")
        explicit = f.write_table({c.id: c.values for c in CASES},
                                 columns=[_explicit_spec(c) for c in CASES], extname="EXPLICIT")
        assert all(_tform_equal(d, explicit.formats[CASES.index(c)])
                   for d, c in zip(derived.formats, derived_cases))
        assert derived.dtype == np.dtype([(c.id, c.dtype) for c in derived_cases])
        assert explicit.dtype == np.dtype([(c.id, c.dtype) for c in CASES])
    fitsverify(path)
    for index in (1, 2):
        got = assert_matches_astropy(path, index, skip={c.id for c in CASES if not c.astropy})
        for c in CASES:
            if c.id in got.dtype.names:
                expected = c.values if c.expected is None else c.expected
                assert_column_equal(got[c.id], getattr(expected, "data", expected), c.id)


@pytest.mark.parametrize("tform", ["PJ()", "PB()", "PK()", "PI()", "PD()", "PL()"])
def test_vla_cells_as_empty_lists(tmp_path, fitsverify, tform):
    """Ragged Python lists, some empty, into an explicit VLA column (np.asarray([]) is float64;
    an empty cell has no values to convert)."""
    path = tmp_path / "vla.fits"
    cells = [[1, 0, 1], [], [0], []]
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_table({"V": cells}, columns=[ColumnSpec("V", tform)])
        got = hdu.read_column("V")
    assert [c.tolist() for c in got] == [[1, 0, 1], [], [0], []] or \
        [c.tolist() for c in got] == [[True, False, True], [], [False], []]
    assert all(len(c) == 0 for c in got[[1, 3]])
    fitsverify(path)
    assert_matches_astropy(path, 1)


ZERO_ROW_DTYPES = ["b1", "u1", "i1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8", "c8", "c16"]


def test_zero_rows(tmp_path, fitsverify):
    path = tmp_path / "empty.fits"
    dtype = np.dtype([(k, k) for k in ZERO_ROW_DTYPES] + [("S", "S5"), ("V", "f4", (2, 3))])
    with fitsbind.FITS(path, "w+") as f:
        a = f.write_table(np.zeros(0, dtype), extname="A")
        b = f.create_table_hdu([("P", "PJ(4)"), ("Q", "QD(2)"), ("X", "12X"), ("N", "0D")], extname="B")
        c = f.write_table({"A": np.zeros(0, np.int16)}, ascii=True, extname="C")
        for hdu in (a, b, c):
            assert hdu.nrows == 0 and len(hdu.read()) == 0
        assert a.read().dtype == dtype
        assert b.read().dtype == np.dtype([("P", object), ("Q", object), ("X", bool, (12,)),
                                           ("N", np.float64, (0,))])
        assert b.read(vla="padded").dtype["P"] == np.dtype((np.int32, (0,)))
    for index in (1, 2):
        assert_matches_astropy(path, index)
    with fits.open(path) as hdul:   # astropy 8 cannot read the data of a 0-row ASCII table
        assert hdul[3].header["NAXIS2"] == 0 and hdul[3].columns.names == ["A"]
    fitsverify(path)


def test_create_table_hdu_vla_without_cells_is_valid(tmp_path, fitsverify):
    """create_table_hdu's own example, ("ID", "PJ()"): zeroed rows, no cell ever written."""
    path = tmp_path / "vla.fits"
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.create_table_hdu([("ID", "PJ()"), ("S", "PA()")], nrows=3)
        assert [c.tolist() for c in hdu.read_column("ID")] == [[], [], []]
        assert hdu.read_column("S").tolist() == [b"", b"", b""]
    assert_matches_astropy(path, 1)
    fitsverify(path)


def test_create_table_hdu_from_dtype_matches_write_table(tmp_path, fitsverify):
    path = tmp_path / "dt.fits"
    dtype = np.dtype([("A", "i1"), ("B", "u2", (3,)), ("C", "f8", (2, 2)), ("D", "S7"), ("E", "?")])
    values = np.zeros(N, dtype)
    values["A"] = np.arange(N) - 3
    values["B"] = np.arange(3 * N).reshape(N, 3) * 1000
    values["D"] = [b"row %d" % i for i in range(N)]
    values["E"][::2] = True
    with fitsbind.FITS(path, "w+") as f:
        empty = f.create_table_hdu(dtype, nrows=N, extname="EMPTY")
        full = f.write_table(values, extname="FULL")
        assert empty.formats == full.formats and empty.dtype == full.dtype == dtype.newbyteorder("=")
        zeros = empty.read()
        # zeroed storage (the TZERO columns read as their offsets, as in astropy)
        assert zeros["D"].tolist() == [b""] * N and not zeros["E"].any() and not zeros["C"].any()
        empty.write(values)
        again, written = empty.read(), full.read()
        for name in dtype.names:
            np.testing.assert_array_equal(again[name], written[name])
            np.testing.assert_array_equal(written[name], values[name])
    fitsverify(path)
    assert_matches_astropy(path, 1)
    assert_matches_astropy(path, 2)


# ---------------------------------------------------------------------------------------------
# 2. written by astropy, read by fitsbind
# ---------------------------------------------------------------------------------------------


def _astropy_binary_columns() -> list:
    rng = np.random.default_rng(5)
    n = N
    lengths = [2, 0, 5, 1, 3, 0, 4]
    cols = [
        fits.Column("L", "L", array=rng.integers(0, 2, n).astype(bool)),
        fits.Column("B", "B", array=np.arange(n, dtype=np.uint8) * 30),
        fits.Column("I", "I", array=np.arange(n, dtype=np.int16) * -4000),
        fits.Column("J", "J", array=np.arange(n, dtype=np.int32) * 300_000_000),
        fits.Column("K", "K", array=np.arange(n, dtype=np.int64) * 2**60 // 7),
        fits.Column("E", "E", array=rng.standard_normal(n).astype(np.float32)),
        fits.Column("D", "D", array=rng.standard_normal(n)),
        fits.Column("C", "C", array=(rng.standard_normal(n) + 2j).astype(np.complex64)),
        fits.Column("M", "M", array=rng.standard_normal(n) - 1j),
        fits.Column("A", "12A", array=np.array(["abc", "", " x", "hello world!", "q", "ww", "e"])),
        fits.Column("3I", "3I", array=np.arange(3 * n, dtype=np.int16).reshape(n, 3)),
        fits.Column("TDIM", "6D", dim="(3,2)", array=np.arange(6 * n, dtype=np.float64).reshape(n, 2, 3)),
        fits.Column("SDIM", "8A", dim="(4,2)", array=np.array([["ab", "cd"]] * n)),
        fits.Column("U16", "I", bzero=32768, array=np.arange(n, dtype=np.uint16) * 10000),
        fits.Column("U32", "J", bzero=2**31, array=np.arange(n, dtype=np.uint32) * 700_000_000),
        fits.Column("U64", "K", bzero=2**63, array=np.arange(n, dtype=np.uint64) * (2**61)),
        # stored values; TSCAL/TZERO are added to the header (SCALED_KEYS)
        fits.Column("SCALED", "I", array=np.arange(n, dtype=np.int16) * 3),
        fits.Column("SCALEDJ", "J", array=np.arange(n, dtype=np.int32) * -2000),
        fits.Column("NULL", "J", null=-999, array=np.array([1, -999, 3, 4, -999, 6, 7], np.int32)),
        fits.Column("BITS", "11X", array=rng.integers(0, 2, (n, 11)).astype(bool)),
        fits.Column("ZERO", "0D", array=np.zeros((n, 0))),
    ]
    for code, dtype in [("B", np.uint8), ("I", np.int16), ("J", np.int32), ("K", np.int64),
                        ("E", np.float32), ("D", np.float64), ("C", np.complex64),
                        ("M", np.complex128), ("L", bool)]:
        cells = [(np.arange(k) % 2 == 0) if dtype is bool else (np.arange(k) * 3 + 1).astype(dtype)
                 for k in lengths]
        cols.append(fits.Column(f"P{code}", f"P{code}()", array=np.array(cells, dtype=object)))
    cols.append(fits.Column("QD", "QD()", array=np.array([np.arange(k) / 7 for k in lengths],
                                                         dtype=object)))
    cols.append(fits.Column("QJ", "QJ()", array=np.array([np.arange(k, dtype=np.int32) for k in lengths],
                                                         dtype=object)))
    cols.append(fits.Column("PA", "PA()", array=np.array(["abc", "", "x y z", "k", "ww", "", "e"],
                                                         dtype=object)))
    return cols


# astropy 8 cannot write a Column(bscale=, bzero=) given float values (UFuncTypeError), so the
# scaled columns are written as stored integers and their keywords added to the header
SCALED_KEYS = {"SCALED": (0.5, 10.0), "SCALEDJ": (1e-3, -7.0)}


def test_astropy_written_binary_table(tmp_path):
    path = tmp_path / "ap.fits"
    cols = _astropy_binary_columns()
    table = fits.BinTableHDU.from_columns(cols, name="AP")
    names = [c.name for c in cols]
    for name, (scale, zero) in SCALED_KEYS.items():
        table.header[f"TSCAL{names.index(name) + 1}"] = scale
        table.header[f"TZERO{names.index(name) + 1}"] = zero
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits.HDUList([fits.PrimaryHDU(), table]).writeto(path)
    with fits.open(path) as hdul:   # astropy wrote what was meant
        np.testing.assert_allclose(hdul[1].data["SCALED"], np.arange(N) * 1.5 + 10)
        np.testing.assert_allclose(hdul[1].data["SCALEDJ"], np.arange(N) * -2.0 - 7)
    got = assert_matches_astropy(path, 1)
    with fitsbind.FITS(path) as f:
        hdu = f["AP"]
        assert hdu.colnames == [c.name for c in cols]
        dt = got.dtype
        assert dt["U16"] == np.uint16 and dt["U32"] == np.uint32 and dt["U64"] == np.uint64
        assert dt["SCALED"] == np.float64 and dt["SCALEDJ"] == np.float64
        assert dt["TDIM"] == np.dtype((np.float64, (2, 3))) and dt["SDIM"] == np.dtype(("S4", (2,)))
        assert dt["BITS"] == np.dtype((bool, (11,))) and dt["ZERO"] == np.dtype((np.float64, (0,)))
        for name in ("PB", "PI", "PJ", "PK", "PE", "PD", "PC", "PM", "PL", "QD", "QJ", "PA"):
            assert dt[name].kind == "O"
        assert got["PA"].tolist() == [b"abc", b"", b"x y z", b"k", b"ww", b"", b"e"]
        assert got["PJ"][2].dtype == np.int32 and got["PL"][2].dtype == bool
        assert got["QD"][2].dtype == np.float64 and got["PM"][3].dtype == np.complex128
        raw = hdu.read(["SCALED", "U16"], scale=False)
        assert raw.dtype["SCALED"] == np.int16 and raw["SCALED"].tolist() == [3 * i for i in range(N)]
        masked = hdu.read_column("NULL", mask_null=True)
        assert np.ma.getmaskarray(masked).tolist() == [False, True, False, False, True, False, False]
        padded = hdu.read_column("PJ", vla="padded")
        assert padded.shape == (N, 5) and padded.dtype == np.int32
        assert padded[3].tolist() == [1, 0, 0, 0, 0]


# (blank strings: test_ascii_blank_strings)
ASCII_FORMATS = [("A10", np.array(["abc", "d", " x", "hello worl", "q", "ww", "e"]), "S10"),
                 ("I3", np.array([1, -2, 99, 0, -9, 5, 7]), "i2"),
                 ("I6", np.array([1, -2, 99999, 0, -9, 5, 7]), "i4"),
                 ("I12", np.array([1, -2, 10**10, 0, -9, 5, 7]), "i8"),
                 ("F10.3", np.array([1.5, -2.25, 999.125, 0, -9, 5, 7]), "f8"),
                 ("E14.6", np.array([1.5e10, -2.25e-5, 3.0, 0, -9, 5, 7]), "f8"),
                 ("D22.14", np.array([np.pi, -np.e, 1e-300, 0, -9, 5, 7]), "f8")]


def test_astropy_written_ascii_table(tmp_path):
    path = tmp_path / "ascii.fits"
    cols = [fits.Column(f"C{i}", fmt, array=values) for i, (fmt, values, _) in enumerate(ASCII_FORMATS)]
    fits.HDUList([fits.PrimaryHDU(), fits.TableHDU.from_columns(cols, name="ASC")]).writeto(path)
    got = assert_matches_astropy(path, 1)
    with fitsbind.FITS(path) as f:
        assert f["ASC"].ascii
        for i, (_, values, dtype) in enumerate(ASCII_FORMATS):
            assert got.dtype[f"C{i}"] == np.dtype(dtype)
            if dtype[0] in "if":
                np.testing.assert_allclose(got[f"C{i}"], values, rtol=1e-6)


def test_fitsbind_written_ascii_table(tmp_path, fitsverify):
    path = tmp_path / "ascii.fits"
    data = {f"C{i}": values for i, (_, values, _) in enumerate(ASCII_FORMATS)}
    specs = [ColumnSpec(f"C{i}", fmt) for i, (fmt, _, _) in enumerate(ASCII_FORMATS)]
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_table(data, columns=specs, ascii=True, extname="ASC")
        assert hdu.ascii and hdu.formats == [fmt for fmt, _, _ in ASCII_FORMATS]
        derived = f.write_table({"i": np.arange(3, dtype=np.int32), "f": np.array([0.5, 1, 2]),
                                 "s": np.array(["a", "bb", "ccc"])}, ascii=True, extname="DERIVED")
        assert derived.ascii and derived.read()["s"].tolist() == [b"a", b"bb", b"ccc"]
        assert derived.read()["f"].tolist() == [0.5, 1, 2]
    fitsverify(path)
    got = assert_matches_astropy(path, 1)
    assert_matches_astropy(path, 2)
    for i, (_, values, dtype) in enumerate(ASCII_FORMATS):
        assert got.dtype[f"C{i}"] == np.dtype(dtype)
        if dtype == "S10":
            assert got[f"C{i}"].tolist() == [v.encode() for v in values]
        else:
            rtol = 1e-12 if ASCII_FORMATS[i][0].startswith("D") else 1e-6
            np.testing.assert_allclose(got[f"C{i}"], values, rtol=rtol)


@pytest.mark.parametrize("writer", ["fitsbind", "astropy"])
def test_ascii_blank_strings(tmp_path, writer):
    """An all-blank field of an ASCII table's A column reads as b"" (trailing blanks are
    removed, as in binary tables and astropy), also through read_column and row subsets."""
    path = tmp_path / "blank.fits"
    values = np.array(["x", "", "  ", " y ", ""])
    if writer == "fitsbind":
        with fitsbind.FITS(path, "w+") as f:
            f.write_table({"S": values}, columns=[ColumnSpec("S", "A4")], ascii=True)
    else:
        fits.HDUList([fits.PrimaryHDU(),
                      fits.TableHDU.from_columns([fits.Column("S", "A4", array=values)])]).writeto(path)
    with fitsbind.FITS(path) as f:
        assert f[1].read()["S"].tolist() == [b"x", b"", b"", b" y", b""]
        assert f[1].read_column("S", rows=[1, 0]).tolist() == [b"", b"x"]
    assert_matches_astropy(path, 1)


def test_ascii_nulls(tmp_path, fitsverify):
    """Null fields in ASCII tables: NaN (floats) or 0 (integers) and masked with mask_null."""
    path = tmp_path / "nulls.fits"
    ints = np.ma.MaskedArray([1, 2, 3, 4], mask=[0, 1, 0, 1])
    floats = np.ma.MaskedArray([1.5, 2.5, 3.5, 4.5], mask=[1, 0, 0, 0])
    with fitsbind.FITS(path, "w+") as f:
        f.write_table({"I": ints, "F": floats}, columns=[ColumnSpec("I", "I8", null="*"),
                                                         ColumnSpec("F", "F8.2", null="NULL")],
                      ascii=True, extname="N")
    fitsverify(path)
    with fitsbind.FITS(path) as f:
        plain = f["N"].read()
        assert plain["I"].tolist() == [1, 0, 3, 0]
        assert np.isnan(plain["F"][0]) and plain["F"][1:].tolist() == [2.5, 3.5, 4.5]
        masked = f["N"].read(mask_null=True)
        assert masked.mask["I"].tolist() == [False, True, False, True]
        assert masked.mask["F"].tolist() == [True, False, False, False]
    with fits.open(path) as hdul:
        assert hdul[1].columns["I"].null == "*" and hdul[1].columns["F"].null == "NULL"
        assert hdul[1].data["I"][0] == 1 and hdul[1].data["F"][3] == 4.5


# ---------------------------------------------------------------------------------------------
# 3. the table HDUs of the files astropy ships for its own tests
# ---------------------------------------------------------------------------------------------

SHIPPED = ["btable", "ascii", "ascii_i4-i20", "tdim", "zerowidth", "variable_length_table",
           "theap-gap", "logical_null", "vla_logical_all_zero", "vla_logical_null",
           "vla_logical_pre_fix", "tb", "table", "stddata", "chandra_time"]


def _table_hdus(path: Path) -> list[int]:
    with fits.open(path) as hdul:
        return [i for i, h in enumerate(hdul) if isinstance(h, (fits.BinTableHDU, fits.TableHDU))]


@pytest.mark.parametrize("name", SHIPPED)
def test_astropy_shipped_tables(name):
    path = ASTROPY_DATA / f"{name}.fits"
    if not path.exists():
        pytest.skip(f"{name}.fits is not shipped with this astropy")
    indices = _table_hdus(path)
    assert indices
    for index in indices:
        got = assert_matches_astropy(path, index)
        with fitsbind.FITS(path) as f:
            hdu = f[index]
            # row and column subsets agree with the whole
            if hdu.nrows:
                rows = [hdu.nrows - 1, 0, hdu.nrows - 1]
                part = hdu.read(hdu.colnames[::-1], rows=rows)
                for n in part.dtype.names:
                    assert_column_equal(part[n], got[n][rows], f"{name} {n}")
                tail = hdu[hdu.nrows - 1:]
                assert tail.dtype == got.dtype
                for n in got.dtype.names:
                    assert_column_equal(tail[n], got[n][hdu.nrows - 1:], f"{name} {n}")


def test_shipped_ascii_integer_widths():
    """ASCII integer fields read as int16 (width <= 4), int32 (<= 9) or int64, exactly."""
    path = ASTROPY_DATA / "ascii_i4-i20.fits"
    with fitsbind.FITS(path) as f:
        hdu = f[1]
        assert hdu.formats == ["I8", "I8", "I10", "I20", "I4"]
        assert [hdu.dtype[n] for n in hdu.dtype.names] == [np.dtype(t) for t in
                                                           ("i4", "i4", "i8", "i8", "i2")]
        got = hdu.read()
    with fits.open(path) as hdul:
        for name in got.dtype.names:
            assert got[name].tolist() == hdul[1].data[name].tolist()


def test_shipped_logical_nulls_mask():
    """logical_null.fits has an undefined logical: False plainly, masked with mask_null."""
    path = ASTROPY_DATA / "logical_null.fits"
    try:
        with fits.open(path, logical_as_bytes=True) as hdul:
            undefined = [v in (b"", b"\x00") for v in np.asarray(hdul[1].data["flag"]).tolist()]
    except TypeError:   # an astropy without logical_as_bytes
        pytest.skip("this astropy cannot show undefined logicals")
    assert any(undefined)
    with fitsbind.FITS(path) as f:
        masked = f[1].read_column("flag", mask_null=True)
        assert np.ma.getmaskarray(masked).tolist() == undefined
        assert not f[1].read_column("flag")[np.array(undefined)].any()
