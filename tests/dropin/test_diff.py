"""fitsbind.diff checked against astropy.io.fits.diff as the oracle.

Every scenario writes a pair of files with astropy into tmp_path, diffs them with astropy's
FITSDiff and with fitsbind's, and requires the same findings (``identical``, every ``diff_*``
attribute, recursively) and the same ``report()`` text apart from the version banner.

The ``reader`` fixture says who opens the files for fitsbind's classes: astropy.io.fits (its
HDUList objects are passed in), or fitsbind itself (paths are passed, opened by ``fitsbind.open``)
once the drop-in ``open`` exists.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import fitsbind
from fitsbind import diff as fdiff

fits = pytest.importorskip("astropy.io.fits")
adiff = pytest.importorskip("astropy.io.fits.diff")
astropy = pytest.importorskip("astropy")

FITSBIND_BANNER = f" fitsdiff: fitsbind {fitsbind.__version__}"
ASTROPY_BANNER = f" fitsdiff: {astropy.__version__}"


@pytest.fixture(params=["astropy", "fitsbind"])
def reader(request: pytest.FixtureRequest) -> str:
    if request.param == "fitsbind" and not hasattr(fitsbind, "open"):
        pytest.skip("fitsbind.open (the drop-in reader) is not available yet")
    return request.param


# ---------------------------------------------------------------------------------------------
# comparing diff objects
# ---------------------------------------------------------------------------------------------


def same(ours: Any, theirs: Any, where: str = "diff") -> None:
    """Assert two diff results are equal, descending into diff objects and containers."""
    if isinstance(theirs, adiff._BaseDiff):
        assert type(ours).__name__ == type(theirs).__name__, where
        assert ours.identical == theirs.identical, where
        names = sorted(n for n in vars(theirs) if n.startswith("diff_"))
        assert names == sorted(n for n in vars(ours) if n.startswith("diff_")), where
        for name in [*names, "common_keywords", "max_absolute", "max_relative", "common_column_names"]:
            if hasattr(theirs, name):
                same(getattr(ours, name), getattr(theirs, name), f"{where}.{name}")
        return
    if isinstance(theirs, fits.Column):
        assert (ours.name, str(ours.format)) == (theirs.name, str(theirs.format)), where
        return
    if isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs), where
        for key in theirs:
            same(ours[key], theirs[key], f"{where}[{key!r}]")
        return
    if isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), where
        for i, (x, y) in enumerate(zip(ours, theirs)):
            same(x, y, f"{where}[{i}]")
        return
    if isinstance(theirs, set):
        assert ours == theirs, where
        return
    if isinstance(theirs, np.ndarray):
        assert np.asarray(ours).shape == theirs.shape, where
        assert np.array_equal(np.asarray(ours), np.asarray(theirs),
                              equal_nan=theirs.dtype.kind in "fc"), where
        return
    if isinstance(theirs, (float, np.floating)) and math.isnan(theirs):
        assert math.isnan(ours), where
        return
    assert type(ours) is type(theirs) or (np.isscalar(ours) and np.isscalar(theirs)), where
    assert str(ours) == str(theirs) and ours == theirs, where


def same_report(ours: str, theirs: str) -> None:
    ours_lines, theirs_lines = ours.splitlines(), theirs.splitlines()
    if theirs_lines[1:2] and theirs_lines[1].strip() == ASTROPY_BANNER.strip():
        assert ours_lines[1] == theirs_lines[1].replace(ASTROPY_BANNER, FITSBIND_BANNER)
        del ours_lines[1], theirs_lines[1]
    assert ours_lines == theirs_lines
    assert ours.endswith("\n") == theirs.endswith("\n")


def check_files(path_a: Path, path_b: Path, reader: str, **options: Any) -> fdiff.FITSDiff:
    theirs = adiff.FITSDiff(str(path_a), str(path_b), **options)
    if reader == "fitsbind":
        ours = fdiff.FITSDiff(str(path_a), str(path_b), **options)
    else:
        with fits.open(path_a) as hdul_a, fits.open(path_b) as hdul_b:
            ours = fdiff.FITSDiff(hdul_a, hdul_b, **options)
    same(ours, theirs)
    same_report(ours.report(), theirs.report())
    return ours


# ---------------------------------------------------------------------------------------------
# test files, written by astropy
# ---------------------------------------------------------------------------------------------


def write_pair(tmp_path: Path, make: Callable[[bool], list]) -> tuple[Path, Path]:
    """``make(variant)`` returns the HDUs of file a (False) or file b (True)."""
    paths = []
    for variant, name in ((False, "a.fits"), (True, "b.fits")):
        path = tmp_path / name
        fits.HDUList(make(variant)).writeto(path)
        paths.append(path)
    return paths[0], paths[1]


def float_image(variant: bool) -> list:
    data = np.arange(48, dtype=np.float32).reshape(6, 8) / 7
    if variant:
        data[0, 1] += 0.5                # plain difference
        data[2, 3] = np.nan              # NaN in b only
        data[4, 4] *= 1.0001             # within rtol=1e-3
        data[5, 7] = np.inf
    else:
        data[5, 7] = -np.inf            # +inf vs -inf: astropy counts them equal
        data[1, 1] = np.nan
    if variant:
        data[1, 1] = np.nan              # NaN in both
    return [fits.PrimaryHDU(data)]


def many_pixels(variant: bool) -> list:
    data = np.zeros((30, 20), dtype=np.float64)
    if variant:
        data[::2, ::3] = 1.5
    return [fits.PrimaryHDU(), fits.ImageHDU(data, name="SCI")]


def int_image(dtype: str) -> Callable[[bool], list]:
    def make(variant: bool) -> list:
        data = (np.arange(24).reshape(4, 6) * 3).astype(dtype)
        if variant:
            data[1, 2] -= 2              # unsigned types wrap in astropy's maximum
            data[3, 5] += 4
            data[0, 0] = 0
        return [fits.PrimaryHDU(data)]
    return make


def shapes(variant: bool) -> list:
    return [fits.PrimaryHDU(np.zeros((3, 5) if variant else (5, 3), dtype=np.int16))]


def bitpix(variant: bool) -> list:
    return [fits.PrimaryHDU(np.arange(6.0).astype(np.float64 if variant else np.float32))]


def header_only(variant: bool) -> list:
    h = fits.Header()
    h["OBSERVER"] = ("Hubble" if variant else "Hubble   ", "who")
    h["EXPTIME"] = (30.0 if variant else 30.00001, "seconds")
    h["NCOMBINE"] = (3 if variant else 4, "frames" if variant else "inputs")
    h["FLAG"] = variant
    h["DATE-OBS"] = "2020-01-0" + ("2" if variant else "1")
    h["OBSID"] = "x" if variant else "y"
    h["ONLYA" if not variant else "ONLYB"] = (1.5, "one side only")
    h["LONGSTR"] = ("a long string value that needs a continuation card to fit " * 2
                    + ("end" if variant else "END"))
    h["HIERARCH ESO DET CHIP TEMP"] = -120.5 if variant else -120.25
    h.add_blank("")
    if not variant:
        h.add_blank("")
    h.add_history("first")
    h.add_history("second" if variant else "2nd")
    if variant:
        h.add_history("third")
        h.add_comment("a comment only b has")
    return [fits.PrimaryHDU(header=h)]


def tables(variant: bool) -> list:
    n = 12
    flux = np.linspace(0, 1, n, dtype=np.float32)
    ident = np.arange(n, dtype=np.int32)
    names = np.array([f"star{i}" for i in range(n)])
    flags = np.arange(n) % 3 == 0
    vec = np.arange(3 * n, dtype=np.int32).reshape(n, 3)
    dbl = np.linspace(-5, 5, n)
    if variant:
        flux = flux.copy()
        flux[2] = np.nan
        flux[5] *= 1.0001
        ident = ident.copy()
        ident[[1, 7, 8]] += 1
        names = names.copy()
        names[4] = "galaxy"
        flags = ~flags
        vec = vec.copy()
        vec[3] = [0, 0, 0]
        vec[9, 1] = -1
        dbl = dbl + 1e-9
    columns = [
        fits.Column(name="FLUX", format="E", array=flux, unit="Jy"),
        fits.Column(name="ID", format="J", array=ident),
        fits.Column(name="NAME", format="10A", array=names),
        fits.Column(name="FLAG", format="L", array=flags),
        fits.Column(name="VEC", format="3J", array=vec, dim="(3)"),
        fits.Column(name="DBL", format="D", array=dbl),
    ]
    return [fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns, name="CAT")]


def table_columns(variant: bool) -> list:
    n = 5
    x = np.arange(n, dtype=np.int16)
    if variant:
        columns = [
            fits.Column(name="x", format="I", array=x, unit="m", null=-1, disp="I6"),
            fits.Column(name="Y", format="D", array=x * 2.0),                 # format differs
            fits.Column(name="ONLY_B", format="2E", array=np.ones((n, 2))),
            fits.Column(name="scaled", format="J", bscale=0.5, bzero=10),
            fits.Column(name="dims", format="6J", array=np.zeros((n, 6)), dim="(6)"),
        ]
    else:
        columns = [
            fits.Column(name="ONLY_A", format="1J", array=x.astype(np.int32)),
            fits.Column(name="X", format="I", array=x, unit="cm", null=-99),
            fits.Column(name="Y", format="E", array=x * 2.0),
            fits.Column(name="scaled", format="J", bscale=0.25, bzero=10),
            fits.Column(name="dims", format="6J", array=np.zeros((n, 6))),
        ]
    return [fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns, nrows=n)]


def table_rows(variant: bool) -> list:
    n = 8 if variant else 6
    cols = [fits.Column(name="A", format="E", array=np.zeros(n)),
            fits.Column(name="B" if variant else "C", format="J", array=np.zeros(n))]
    return [fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]


def empty_tables(variant: bool) -> list:
    cols = [fits.Column(name="A", format="E", unit="s" if variant else "ms")]
    return [fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, nrows=0)]


def vla_tables(variant: bool) -> list:
    ints = [np.arange(k, dtype=np.int32) for k in (1, 3, 2, 4)]
    reals = [np.linspace(0, 1, k) for k in (2, 2, 5, 1)]
    if variant:
        ints[1] = np.array([0, 1, 7], dtype=np.int32)
        ints[3] = np.array([0, 9, 9, 9], dtype=np.int32)
        reals[2] = reals[2] + 1e-6
    cols = [fits.Column(name="IV", format="PJ()", array=np.array(ints, dtype=object)),
            fits.Column(name="RV", format="QD()", array=np.array(reals, dtype=object))]
    return [fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]


def ascii_tables(variant: bool) -> list:
    cols = [fits.Column(name="N", format="I5", array=np.array([1, 2, 3 + variant])),
            fits.Column(name="V", format="E12.5", array=np.array([1.5, 2.5, 3.5 + 0.25 * variant])),
            fits.Column(name="S", format="A6", array=np.array(["ab", "cd" if variant else "ce", "ef"]))]
    return [fits.PrimaryHDU(), fits.TableHDU.from_columns(cols)]


def multi_hdu(variant: bool) -> list:
    hdus = [fits.PrimaryHDU(np.zeros(3, dtype=np.int16))]
    hdus.append(fits.ImageHDU(np.arange(4.0) + variant, name="SCI", ver=1))
    hdus.append(fits.ImageHDU(np.arange(4.0), name="ERR" if variant else "VAR", ver=1))
    hdus.append(fits.ImageHDU(np.arange(5, dtype=np.int32) * (1 + variant), name="SCI", ver=2 + variant))
    if variant:
        hdus.append(fits.ImageHDU(np.zeros(2), name="EXTRA"))
    return hdus


def ext_types(variant: bool) -> list:
    if variant:
        ext = fits.BinTableHDU.from_columns([fits.Column(name="A", format="J", array=[1, 2])], name="X")
    else:
        ext = fits.ImageHDU(np.arange(2), name="X")
    return [fits.PrimaryHDU(), ext]


def groups(variant: bool) -> list:
    data = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 1, 3, 4)
    pdata = [np.array([1.0, 2.0]), np.array([3.0, 4.0 + variant])]
    if variant:
        data = data.copy()
        data[1, 0, 2, 3] = -1
    gd = fits.GroupData(data, parnames=["UU", "VV"], pardata=pdata, bitpix=-32)
    return [fits.GroupsHDU(gd)]


def compressed(variant: bool) -> list:
    data = np.arange(64, dtype=np.int32).reshape(8, 8)
    if variant:
        data[3, 3] = 1000
    return [fits.PrimaryHDU(), fits.CompImageHDU(data, compression_type="RICE_1", name="COMP")]


@pytest.mark.parametrize(
    ("make", "options"),
    [
        pytest.param(float_image, {}, id="float-image"),
        pytest.param(float_image, {"rtol": 1e-3}, id="float-image-rtol"),
        pytest.param(float_image, {"atol": 0.6}, id="float-image-atol"),
        pytest.param(float_image, {"numdiffs": 0}, id="float-image-numdiffs0"),
        pytest.param(float_image, {"numdiffs": 1}, id="float-image-numdiffs1"),
        pytest.param(many_pixels, {}, id="many-pixels"),
        pytest.param(many_pixels, {"numdiffs": -1}, id="many-pixels-unlimited"),
        pytest.param(int_image("int16"), {"rtol": 0.5}, id="int16-image"),
        pytest.param(int_image("uint8"), {}, id="uint8-image"),
        pytest.param(int_image("uint16"), {}, id="uint16-bzero-image"),
        pytest.param(int_image("int32"), {}, id="int32-image"),
        pytest.param(shapes, {}, id="shapes"),
        pytest.param(bitpix, {}, id="bitpix"),
        pytest.param(header_only, {}, id="header"),
        pytest.param(header_only, {"rtol": 1e-5}, id="header-rtol"),
        pytest.param(header_only, {"ignore_blanks": False, "ignore_blank_cards": False}, id="header-blanks"),
        pytest.param(header_only, {"ignore_keywords": ["date-*", "OBS??", "longstr", "onlya"]},
                     id="header-ignore-keywords"),
        pytest.param(header_only, {"ignore_keywords": ["*"]}, id="header-ignore-all"),
        pytest.param(header_only, {"ignore_comments": ["*"]}, id="header-ignore-all-comments"),
        pytest.param(header_only, {"ignore_comments": ["N*", "exptime"]}, id="header-ignore-comments"),
        pytest.param(tables, {}, id="table"),
        pytest.param(tables, {"rtol": 1e-3, "numdiffs": 3}, id="table-rtol-numdiffs3"),
        pytest.param(tables, {"numdiffs": -1, "atol": 1e-6}, id="table-unlimited"),
        pytest.param(tables, {"numdiffs": 0}, id="table-numdiffs0"),
        pytest.param(tables, {"ignore_fields": ["flux", "Id", "vec"]}, id="table-ignore-fields"),
        pytest.param(tables, {"ignore_fields": ["*"]}, id="table-ignore-all-fields"),
        pytest.param(table_columns, {}, id="table-columns"),
        pytest.param(table_rows, {}, id="table-rows"),
        pytest.param(empty_tables, {}, id="empty-tables"),
        pytest.param(vla_tables, {}, id="vla"),
        pytest.param(vla_tables, {"atol": 1e-3}, id="vla-atol"),
        pytest.param(ascii_tables, {}, id="ascii-table"),
        pytest.param(multi_hdu, {}, id="multi-hdu"),
        pytest.param(multi_hdu, {"ignore_hdus": ["sci"]}, id="multi-hdu-ignore"),
        pytest.param(multi_hdu, {"ignore_hdus": ["E*", "V?R"], "ignore_keywords": ["EXTNAME"]},
                     id="multi-hdu-ignore-patterns"),
        pytest.param(multi_hdu, {"ignore_hdus": ["*"]}, id="multi-hdu-ignore-star"),
        pytest.param(ext_types, {}, id="extension-types"),
        pytest.param(groups, {}, id="random-groups"),
        pytest.param(compressed, {}, id="compressed"),
    ],
)
def test_file_pairs_match_astropy(tmp_path: Path, reader: str, make: Callable, options: dict) -> None:
    path_a, path_b = write_pair(tmp_path, make)
    ours = check_files(path_a, path_b, reader, **options)
    assert bool(ours) is not ours.identical


def test_identical_files(tmp_path: Path, reader: str) -> None:
    path_a, path_b = write_pair(tmp_path, lambda variant: tables(False) + float_image(False)[:0])
    ours = check_files(path_a, path_b, reader)
    assert ours.identical and not ours
    assert ours.report().rstrip().endswith("No differences found.")
    # The same file against itself, with every option list given.
    check_files(path_a, path_a, reader, ignore_hdus=["X*"], ignore_keywords=["A", "B*"],
                ignore_comments=["C"], ignore_fields=["D"], numdiffs=3, rtol=0.1, atol=1)


def test_extra_hdus_only(tmp_path: Path, reader: str) -> None:
    path_a, path_b = write_pair(
        tmp_path, lambda variant: [fits.PrimaryHDU(), *([fits.ImageHDU(np.zeros(2))] if variant else [])])
    ours = check_files(path_a, path_b, reader)
    assert ours.diff_hdu_count == (1, 2) and ours.diff_hdus == []
    assert "No differences found between common HDUs." in ours.report()


def _raw_extension_file(path: Path, payload: bytes, xtension: str = "FOOBAR") -> Path:
    """A file whose extension type no FITS reader knows, so its data is compared as bytes."""
    def block(cards: list) -> bytes:
        text = "".join(fits.Card(*card).image for card in cards) + "END".ljust(80)
        return text.ljust(-(-len(text) // 2880) * 2880).encode("ascii")

    primary = block([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0), ("EXTEND", True)])
    ext = block([("XTENSION", xtension), ("BITPIX", 8), ("NAXIS", 1), ("NAXIS1", len(payload)),
                 ("PCOUNT", 0), ("GCOUNT", 1)])
    path.write_bytes(primary + ext + payload + b"\0" * (-len(payload) % 2880))
    return path


@pytest.mark.parametrize(
    ("payload_b", "xtension_b"),
    [(bytes(range(10)) + bytes(range(20, 30)), "FOOBAR"),
     (bytes(range(5)) + b"\xff" + bytes(range(6, 20)), "FOOBAR"),
     (bytes(range(24)), "FOOBAR"),
     (bytes(range(20)), "OTHER")],
    ids=["bytes", "one-byte", "sizes", "types"],
)
def test_unknown_extensions_compare_bytes(tmp_path: Path, reader: str, payload_b: bytes,
                                          xtension_b: str) -> None:
    path_a = _raw_extension_file(tmp_path / "a.fits", bytes(range(20)))
    path_b = _raw_extension_file(tmp_path / "b.fits", payload_b, xtension_b)
    ours = check_files(path_a, path_b, reader)
    kind = type(ours.diff_hdus[0][1].diff_data).__name__
    assert kind == ("NoneType" if xtension_b == "OTHER" else "RawDataDiff")


def test_in_memory_hdulists_and_report_indent() -> None:
    a = fits.HDUList([fits.PrimaryHDU(np.arange(5.0)), fits.ImageHDU(np.ones((2, 2)), name="E")])
    b = fits.HDUList([fits.PrimaryHDU(np.arange(5.0) * 2), fits.ImageHDU(np.ones((2, 2)), name="E")])
    theirs = adiff.FITSDiff(a, b, rtol=0.1)
    ours = fdiff.FITSDiff(a, b, rtol=0.1)
    same(ours, theirs)
    assert ours.filenamea == f"<HDUList object at {id(a):#x}>"
    same_report(ours.report(indent=2), theirs.report(indent=2))


# ---------------------------------------------------------------------------------------------
# the lower-level classes used directly
# ---------------------------------------------------------------------------------------------


def test_header_diff_objects_and_fromdiff() -> None:
    ha = fits.Header([("A", 1, "x"), ("B", "text  "), ("HISTORY", "h1"), ("C", 2.0), ("D", None)])
    hb = fits.Header([("A", 2, "y"), ("B", "text"), ("HISTORY", "h1"), ("HISTORY", "h2"),
                      ("C", 2.0 + 1e-12), ("D", "")])
    for options in ({}, {"ignore_blanks": False}, {"ignore_comments": ["a"]}, {"atol": 1e-9}):
        theirs = adiff.HeaderDiff(ha, hb, **options)
        ours = fdiff.HeaderDiff(ha, hb, **options)
        same(ours, theirs)
        same_report(ours.report(indent=1), theirs.report(indent=1))

    fd = fdiff.FITSDiff(fits.HDUList(), fits.HDUList(), ignore_keywords=["K*", "A"], rtol=0.5)
    hd = fdiff.HeaderDiff.fromdiff(fd, ha, hb)
    assert hd.ignore_keywords == {"A"} and hd.ignore_keyword_patterns == {"K*"} and hd.rtol == 0.5
    assert "A" not in hd.diff_keyword_values


def test_header_diff_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match="HeaderDiff can only diff"):
        fdiff.HeaderDiff({"A": 1}, fits.Header())


def test_header_diff_from_strings() -> None:
    pytest.importorskip("fitsbind.header")
    a = fits.Header([("A", 1), ("B", "x")]).tostring()
    b = fits.Header([("A", 1), ("B", "y")]).tostring()
    ours = fdiff.HeaderDiff(a, b)
    assert ours.diff_keyword_values == {"B": [("x", "y")]}
    same_report(ours.report(), adiff.HeaderDiff(a, b).report())


@pytest.mark.parametrize(
    ("a", "b", "options"),
    [
        ([1, 3], [0, 3], {}),                                # relative maximum over b == 0
        ([1, 2], [0, 0], {}),                                # every denominator zero: "--"
        ([np.nan, 1.0, 1.0], [1.0, 1.0, 1.0], {}),           # only a NaN/finite mismatch
        ([np.nan, np.inf], [-np.inf, np.nan], {}),           # all non-finite: identical
        ([1.0, 2.0, 3.0], [1.1, 2.0, 3.3], {"rtol": 0.05}),
        ([1.0, 2.0, 3.0], [1.1, 2.0, 3.3], {"atol": 0.2, "numdiffs": -1}),
        (np.arange(12.0).reshape(3, 4), np.arange(12.0).reshape(4, 3), {}),
        (np.arange(30).reshape(5, 6), np.arange(30).reshape(5, 6)[::-1], {"numdiffs": 4}),
    ],
)
def test_image_data_diff_arrays(a: Any, b: Any, options: dict) -> None:
    a, b = np.asarray(a), np.asarray(b)
    theirs = adiff.ImageDataDiff(a, b, **options)
    ours = fdiff.ImageDataDiff(a, b, **options)
    same(ours, theirs)
    same_report(ours.report(), theirs.report())


def test_image_data_diff_random_arrays() -> None:
    """Seeded random small arrays mixing NaN, infinities, zeros and integer extremes."""
    rng = np.random.default_rng(5)
    floats = [0.0, 1.0, -1.0, 2.5, 3.0, 1e-30, np.nan, np.inf, -np.inf]
    for _ in range(300):
        dtype = np.dtype(str(rng.choice(["f4", ">f4", "f8", "i2", ">i4", "u1", "u2", "i8"])))
        n = int(rng.integers(1, 7))
        if dtype.kind == "f":
            a, b = (rng.choice(floats, n).astype(dtype) for _ in range(2))
        else:
            info = np.iinfo(dtype)
            a, b = (rng.choice([0, 1, 2, 5, info.max // 2], n).astype(dtype) for _ in range(2))
        options = {"rtol": float(rng.choice([0.0, 1e-3, 1.0])), "atol": float(rng.choice([0.0, 0.1, 2.0])),
                   "numdiffs": int(rng.choice([-1, 0, 1, 10]))}
        with np.errstate(all="ignore"):
            theirs = adiff.ImageDataDiff(a, b, **options)
        ours = fdiff.ImageDataDiff(a, b, **options)
        same(ours, theirs, f"{a!r} {b!r} {options}")
        same_report(ours.report(), theirs.report())


def test_raw_data_diff_arrays() -> None:
    a = np.arange(40, dtype=np.uint8)
    b = a.copy()
    b[[3, 17]] = 0
    theirs = adiff.RawDataDiff(a, b, numdiffs=1)
    ours = fdiff.RawDataDiff(a, b, numdiffs=1)
    same(ours, theirs)
    assert not hasattr(ours, "diff_pixels") and ours.diff_bytes[0][0] == 3
    same_report(ours.report(), theirs.report())


def test_table_data_diff_records(reader: str) -> None:
    a = fits.BinTableHDU.from_columns(tables(False)[1].columns).data
    b = fits.BinTableHDU.from_columns(tables(True)[1].columns).data
    theirs = adiff.TableDataDiff(a, b, ignore_fields=["NAME"], numdiffs=5)
    ours = fdiff.TableDataDiff(a, b, ignore_fields=["NAME"], numdiffs=5)
    same(ours, theirs)
    same_report(ours.report(), theirs.report())
    assert len(ours.diff_values) == 5 and ours.diff_total > 5


# ---------------------------------------------------------------------------------------------
# report() destinations
# ---------------------------------------------------------------------------------------------


def test_report_to_path_and_file_objects(tmp_path: Path) -> None:
    diff = fdiff.ImageDataDiff(np.zeros(3), np.ones(3))
    text = diff.report()
    target = tmp_path / "report.txt"
    assert diff.report(target) is None
    assert target.read_text() == text
    with pytest.raises(OSError) as ours_error:
        diff.report(str(target))
    with pytest.raises(OSError) as theirs_error:
        adiff.ImageDataDiff(np.zeros(3), np.ones(3)).report(str(target))
    assert str(ours_error.value) == str(theirs_error.value)
    diff.report(str(target), indent=1, overwrite=True)
    assert target.read_text() == "".join(f"  {line}\n" for line in text.splitlines())
    stream = io.StringIO()
    assert diff.report(stream) is None
    assert stream.getvalue() == text


# ---------------------------------------------------------------------------------------------
# where fitsbind deliberately differs from astropy
# ---------------------------------------------------------------------------------------------


def test_vla_rows_of_different_lengths_differ() -> None:
    """astropy raises on (or broadcasts) VLA cells of unequal length; fitsbind reports them."""
    def table(rows: list) -> Any:
        column = fits.Column(name="V", format="PJ()", array=np.array(rows, dtype=object))
        return fits.BinTableHDU.from_columns([column]).data

    ours = fdiff.TableDataDiff(table([[1, 2, 3], [4], [5]]), table([[1, 2], [4, 4], [5]]))
    assert ours.diff_total == 2
    assert [key for key, _ in ours.diff_values] == [("V", 0), ("V", 1)]
    assert "Different array shapes:" in ours.report()


def test_vla_string_and_logical_cells() -> None:
    """Non-numeric VLA cells (which astropy cannot compare) are compared for equality."""
    def table(strings: list, logicals: list) -> Any:
        return fits.BinTableHDU.from_columns([
            fits.Column(name="S", format="PA()", array=np.array(strings, dtype=object)),
            fits.Column(name="L", format="PL()", array=np.array(logicals, dtype=object)),
        ]).data

    ours = fdiff.TableDataDiff(table(["ab", "c"], [[True], [False, True]]),
                               table(["ab", "d"], [[True], [True, True]]))
    assert [key for key, _ in ours.diff_values] == [("L", 1), ("S", 1)]
    assert ours.diff_total == 2


def test_most_negative_integer_difference_is_found() -> None:
    """astropy's wrapped |b - a| is negative here and misses the pixel; fitsbind finds it."""
    a = np.array([0, 5], dtype=np.int32)
    b = np.array([np.iinfo(np.int32).min, 5], dtype=np.int32)
    ours = fdiff.ImageDataDiff(a, b)
    assert ours.diff_total == 1 and ours.diff_pixels[0][0] == (0,)


def test_bad_inputs_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="FITSDiff compares file paths or HDUList objects"):
        fdiff.FITSDiff([fits.PrimaryHDU()], fits.HDUList())
    with pytest.raises(OSError, match=r"error opening file a \(.*missing.fits\)"):
        fdiff.FITSDiff(tmp_path / "missing.fits", fits.HDUList())
