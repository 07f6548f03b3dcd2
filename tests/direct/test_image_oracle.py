"""The direct image API (``fitsbind.FITS``, ``ImageHDU``) checked against astropy.io.fits and fitsverify.

Every file is generated here (numpy data, written by fitsbind or by astropy) or is one of the image
files astropy ships with its own test suite. astropy is the oracle for pixel values and dtypes,
NASA's fitsverify the oracle for the validity of every file fitsbind writes.

As in astropy, an integer image with a BLANK keyword and no BSCALE/BZERO reads as float32
(BITPIX 8, 16) or float64 (32, 64) with NaN for the blank pixels; the unsigned conventions keep
their unsigned dtype (the blank pixels keep their value; ``read(mask_blank=True)`` masks them).

One place where astropy cannot serve as the oracle as is: BITPIX 8 with BZERO -128 (int8) and a
BLANK keyword makes astropy raise ("cannot convert float NaN to integer"); the expected int8
array is derived from astropy's raw data instead.
"""

from __future__ import annotations

import math
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import fitsbind

fits = pytest.importorskip("astropy.io.fits")

# ---------------------------------------------------------------------------------------------
# the image kinds: every BITPIX x {plain, unsigned convention, general scaling} x {BLANK or not}
# ---------------------------------------------------------------------------------------------

STORAGE = {8: np.uint8, 16: np.int16, 32: np.int32, 64: np.int64, -32: np.float32, -64: np.float64}
UNSIGNED = {8: np.int8, 16: np.uint16, 32: np.uint32, 64: np.uint64}
UNSIGNED_BZERO = {8: -128, 16: 2**15, 32: 2**31, 64: 2**63}
BSCALE, BZERO = 0.5, 10.0


@dataclass(frozen=True)
class Case:
    bitpix: int
    kind: str  # "plain", "unsigned" (BZERO convention) or "scaled" (BSCALE=0.5, BZERO=10)
    missing: bool  # some pixels are BLANK (integer BITPIX) or NaN (float BITPIX)

    @property
    def storage(self) -> np.dtype:
        return np.dtype(STORAGE[self.bitpix])

    @property
    def create_dtype(self) -> np.dtype:
        """The dtype handed to ``create_image_hdu``."""
        return np.dtype(UNSIGNED[self.bitpix]) if self.kind == "unsigned" else self.storage

    @property
    def physical(self) -> np.dtype:
        """What ``read()`` returns: float for general scaling and for an unscaled integer image
        with BLANK (as astropy), else create_dtype."""
        if self.kind == "scaled" or (self.kind == "plain" and self.blank is not None):
            return np.dtype(np.float32 if self.bitpix in (8, 16) else np.float64)
        return self.create_dtype

    @property
    def bzero(self) -> float:
        return {"plain": 0, "unsigned": UNSIGNED_BZERO.get(self.bitpix, 0), "scaled": BZERO}[self.kind]

    @property
    def header(self) -> dict | None:
        return {"BSCALE": BSCALE, "BZERO": BZERO} if self.kind == "scaled" else None

    @property
    def blank(self) -> int | None:
        """The ``blank=`` argument (a raw stored value valid for either reading of it)."""
        if not self.missing or self.bitpix < 0:
            return None
        return 7 if self.bitpix == 8 or self.kind == "unsigned" else -99

    @property
    def id(self) -> str:
        return f"bitpix{self.bitpix}-{self.kind}-{'missing' if self.missing else 'full'}"


CASES = [
    Case(bitpix, kind, missing)
    for bitpix in (8, 16, 32, 64)
    for kind in ("plain", "unsigned", "scaled")
    for missing in (False, True)
] + [Case(bitpix, "plain", missing) for bitpix in (-32, -64) for missing in (False, True)]
CASE_IDS = [c.id for c in CASES]


def unsigned_to_raw(physical: np.ndarray) -> np.ndarray:
    """Stored values of an int8/uint16/uint32/uint64 array under the BZERO convention."""
    nbytes = physical.dtype.itemsize
    u = physical.view(f"u{nbytes}")
    return (u ^ np.array(1 << (8 * nbytes - 1), dtype=u.dtype)).view(STORAGE[8 * nbytes])


def raw_to_unsigned(raw: np.ndarray) -> np.ndarray:
    nbytes = raw.dtype.itemsize
    u = np.ascontiguousarray(raw).astype(raw.dtype.newbyteorder("=")).view(f"u{nbytes}")
    return (u ^ np.array(1 << (8 * nbytes - 1), dtype=u.dtype)).view(UNSIGNED[8 * nbytes])


@dataclass
class Pixels:
    raw: np.ndarray  # stored values, BLANK (read as the raw value ``case.blank``) at ``missing``
    physical: np.ndarray  # what read() returns for a file holding ``raw``
    missing: np.ndarray  # bool, the BLANK / NaN pixels
    values: np.ndarray  # what a user hands to write(): integers for unscaled integer images

    def to_write(self, case: Case, masked: bool) -> np.ndarray:
        """The array to hand to fitsbind: masked pixels as a MaskedArray or as NaN."""
        if not case.missing:
            return self.values
        if masked or self.values.dtype.kind in "iu":
            filler = np.where(self.missing, 0, self.values).astype(self.values.dtype)
            return np.ma.MaskedArray(filler, mask=self.missing)
        return self.values  # NaN at the missing pixels


def make_pixels(case: Case, shape: tuple[int, ...], seed: int = 0) -> Pixels:
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    missing = np.zeros(n, bool)
    if case.missing:
        missing[rng.choice(np.arange(2, n), size=max(1, n // 7), replace=False)] = True

    if case.bitpix < 0:
        physical = (rng.standard_normal(n) * 1e3).astype(case.storage)
        fi = np.finfo(case.storage)
        physical[[0, 1]] = [fi.max, fi.min]
        extra = np.array([fi.tiny, np.inf, -np.inf, 0.0], case.storage)
        physical[2 : 2 + len(extra)] = extra
        physical[missing] = np.nan
        raw = physical.copy()
    elif case.kind == "scaled":
        info = np.iinfo(case.storage)
        lo, hi = (-(2**40), 2**40) if case.bitpix == 64 else (int(info.min), int(info.max))
        raw = rng.integers(lo, hi, n, endpoint=True, dtype=case.storage)
        raw[[0, 1]] = [lo, hi]
        if case.blank is not None:
            raw[raw == case.blank] = 1
            raw[missing] = case.blank
        physical = (raw.astype(np.float64) * BSCALE + BZERO).astype(case.physical)
        physical[missing] = np.nan
    else:
        info = np.iinfo(case.create_dtype)
        physical = rng.integers(info.min, info.max, n, endpoint=True, dtype=case.create_dtype)
        physical[[0, 1]] = [info.min, info.max]
        if case.blank is not None:
            # keep clear of the blank value under either reading of ``blank=`` (raw or physical)
            forbidden = {case.blank, case.blank + case.bzero, case.blank - case.bzero}
            forbidden = [v for v in forbidden if info.min <= v <= info.max]
            physical[np.isin(physical, np.array(forbidden, dtype=case.create_dtype))] = 1
        raw = unsigned_to_raw(physical) if case.kind == "unsigned" else physical.copy()
        values = physical.copy()
        if case.blank is not None:
            raw[missing] = case.blank
            if case.kind == "unsigned":
                physical = raw_to_unsigned(raw)
            else:
                physical = raw.astype(case.physical)
                physical[missing] = np.nan
        return Pixels(*(a.reshape(shape) for a in (raw, physical, missing, values)))
    return Pixels(*(a.reshape(shape) for a in (raw, physical, missing, physical.copy())))


# ---------------------------------------------------------------------------------------------
# helpers: astropy as the oracle, comparisons
# ---------------------------------------------------------------------------------------------


def native(dtype) -> np.dtype:
    return np.dtype(dtype).newbyteorder("=")


def assert_same(got, expected) -> None:
    """Same kind of result (array or scalar), dtype (byte order aside), shape, values, NaNs."""
    assert isinstance(got, np.ndarray) == isinstance(expected, np.ndarray), (type(got), type(expected))
    got_a, exp_a = np.asarray(got), np.asarray(expected)
    assert native(got_a.dtype) == native(exp_a.dtype), (got_a.dtype, exp_a.dtype)
    assert got_a.shape == exp_a.shape, (got_a.shape, exp_a.shape)
    if got_a.dtype.kind == "f" and got_a.dtype.itemsize == 4:
        # fitsbind scales in double precision and rounds once (CFITSIO); astropy multiplies
        # and adds in float32, rounding twice, so its results may be off by a few ulps
        np.testing.assert_array_equal(np.isnan(got_a), np.isnan(exp_a))
        finite = ~np.isnan(got_a)
        np.testing.assert_array_max_ulp(got_a[finite], exp_a[finite], maxulp=4)
        return
    np.testing.assert_array_equal(got_a, exp_a)


@dataclass
class Oracle:
    header: dict
    raw: np.ndarray  # astropy, do_not_scale_image_data=True
    scaled: np.ndarray  # astropy's scaled reading, with the two deviations in the module docstring
    mask: np.ndarray  # the pixels read(mask_blank=True) masks


def oracle(path, index: int) -> Oracle:
    with fits.open(path, do_not_scale_image_data=True) as hdul:
        header = dict(hdul[index].header)
        raw = np.array(hdul[index].data)
    bitpix, blank = header["BITPIX"], header.get("BLANK")
    bscale, bzero = header.get("BSCALE", 1), header.get("BZERO", 0)
    if bitpix == 8 and blank is not None and bscale == 1 and bzero == -128:
        scaled = raw_to_unsigned(raw)  # astropy: ValueError
    else:
        with fits.open(path) as hdul:
            scaled = np.array(hdul[index].data)
    if bitpix < 0:
        mask = np.isnan(raw)
    elif blank is not None:
        mask = raw == blank
    else:
        mask = np.zeros(raw.shape, bool)
    return Oracle(header, raw, scaled, mask)


def check_against_oracle(hdu, path, index: int) -> Oracle:
    """fitsbind's read(), read(scale=False) and read(mask_blank=True) against astropy."""
    ora = oracle(path, index)
    assert hdu.bitpix == ora.header["BITPIX"]
    assert hdu.shape == ora.raw.shape
    assert hdu.ndim == ora.raw.ndim and hdu.size == ora.raw.size
    got = hdu.read()
    assert_same(got, ora.scaled)
    assert native(hdu.dtype) == native(got.dtype)
    raw = hdu.read(scale=False)
    assert_same(raw, ora.raw)
    for scale, plain in ((True, got), (False, raw)):
        masked = hdu.read(scale=scale, mask_blank=True)
        assert isinstance(masked, np.ma.MaskedArray)
        assert native(masked.dtype) == native(plain.dtype)
        assert masked.shape == plain.shape
        np.testing.assert_array_equal(np.ma.getmaskarray(masked), ora.mask)
        np.testing.assert_array_equal(np.asarray(masked.data)[~ora.mask], plain[~ora.mask])
    return ora


def astropy_write(path, case: Case, pixels: Pixels, *, extname: str = "SCI") -> None:
    """Write ``pixels`` with astropy's own writer: a primary image and the same as an extension."""
    if case.kind == "scaled" or (case.kind == "plain" and case.blank is not None):
        data = pixels.raw  # the keywords are added below, without rescaling
    else:
        data = pixels.physical
    fits.HDUList([fits.PrimaryHDU(data), fits.ImageHDU(data, name=extname)]).writeto(path, overwrite=True)
    if case.kind == "scaled" or case.blank is not None:
        with fits.open(path, mode="update", do_not_scale_image_data=True) as hdul:
            for hdu in hdul:
                if case.kind == "scaled":
                    hdu.header["BSCALE"] = BSCALE
                    hdu.header["BZERO"] = BZERO
                if case.blank is not None:
                    hdu.header["BLANK"] = case.blank
    with fits.open(path, do_not_scale_image_data=True) as hdul:  # what astropy wrote is what we meant
        for hdu in hdul:
            assert hdu.header["BITPIX"] == case.bitpix
            assert hdu.header.get("BZERO", 0) == case.bzero
            assert hdu.header.get("BLANK") == case.blank
            np.testing.assert_array_equal(hdu.data, pixels.raw)


def names_file_and_hdu(exc: BaseException, path, hdu_index: int | None, extname: str | None = None) -> None:
    msg = str(exc)
    assert Path(path).name in msg, msg
    if hdu_index is not None:
        named = re.search(rf"\bHDU\W{{0,3}}{hdu_index}\b", msg) or (extname and extname in msg)
        assert named, msg


def astropy_checksums_clean(path) -> None:
    """astropy opens ``path`` with checksum=True and verifies every CHECKSUM/DATASUM silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(path, checksum=True) as hdul:
            for hdu in hdul:
                _ = hdu.data


# ---------------------------------------------------------------------------------------------
# 1. written by fitsbind, read by astropy
# ---------------------------------------------------------------------------------------------

SHAPE = (3, 4, 5)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fitsbind_written_matches_astropy(tmp_path, fitsverify, case):
    path = tmp_path / f"{case.id}.fits"
    pix = make_pixels(case, SHAPE, seed=case.bitpix + 100)
    with fitsbind.FITS(path, "w+") as f:
        prim = f.create_image_hdu(case.create_dtype, SHAPE, header=case.header, blank=case.blank)
        assert prim.index == 0 and prim.shape == SHAPE and prim.bitpix == case.bitpix
        assert native(prim.dtype) == case.physical
        prim.write(pix.to_write(case, masked=False))
        if case.kind == "scaled":
            ext = f.create_image_hdu(
                case.create_dtype, SHAPE, extname="SCI", header=case.header, blank=case.blank
            )
            ext.write(pix.to_write(case, masked=True))
        else:
            ext = f.write_image(pix.to_write(case, masked=True), extname="SCI", blank=case.blank)
        assert ext.index == 1 and ext.extname == "SCI" and ext.bitpix == case.bitpix
        assert native(ext.dtype) == case.physical
        assert len(f) == 2
    fitsverify(path)

    with fitsbind.FITS(path) as f:
        for index in (0, 1):
            hdu = f[index]
            ora = check_against_oracle(hdu, path, index)
            assert ora.header.get("BZERO", 0) == case.bzero
            assert ora.header.get("BSCALE", 1) == (BSCALE if case.kind == "scaled" else 1)
            if case.blank is None:
                assert "BLANK" not in ora.header
            else:
                blank_key = ora.header["BLANK"]
                assert blank_key in (case.blank, case.blank - case.bzero)
                np.testing.assert_array_equal(ora.raw[pix.missing], blank_key)
            # what was written is what reads back (the blank pixels aside for integer images)
            keep = ~pix.missing
            got = hdu.read()
            assert native(got.dtype) == case.physical
            np.testing.assert_array_equal(got[keep], pix.physical[keep])
            np.testing.assert_array_equal(ora.raw[keep], pix.raw[keep])  # stored exactly
            if case.missing and (case.bitpix < 0 or case.kind == "scaled"):
                np.testing.assert_array_equal(np.isnan(got), pix.missing)
            np.testing.assert_array_equal(np.ma.getmaskarray(hdu.read(mask_blank=True)), pix.missing)


# ---------------------------------------------------------------------------------------------
# 2. written by astropy, read by fitsbind
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_astropy_written_reads_identically(tmp_path, case):
    path = tmp_path / f"{case.id}.fits"
    pix = make_pixels(case, SHAPE, seed=case.bitpix + 200)
    astropy_write(path, case, pix)
    with fitsbind.FITS(path) as f:
        assert len(f) == 2
        for index in (0, 1):
            hdu = f[index]
            check_against_oracle(hdu, path, index)
            assert_same(hdu.read(scale=False), pix.raw)
            assert native(hdu.dtype) == case.physical
            assert_same(hdu.read(), pix.physical)
        assert f["sci"].index == 1


@pytest.mark.parametrize("bitpix", [16, 32])
def test_astropy_scale_method_reads_identically(tmp_path, bitpix):
    """Files scaled by astropy's own ``ImageHDU.scale`` (BSCALE/BZERO chosen by astropy)."""
    path = tmp_path / "scaled.fits"
    rng = np.random.default_rng(bitpix)
    physical = rng.uniform(-300.0, 900.0, (6, 7))
    hdu = fits.ImageHDU(physical.copy(), name="SCALED")
    hdu.scale(f"int{bitpix}", option="minmax")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    with fits.open(path) as hdul:
        assert "BSCALE" in hdul[1].header and hdul[1].header["BITPIX"] == bitpix
    with fitsbind.FITS(path) as f:
        check_against_oracle(f["SCALED"], path, 1)
        assert f["SCALED"].dtype == np.dtype(np.float32 if bitpix == 16 else np.float64)


ASTROPY_DATA = Path(fits.__file__).resolve().parent / "tests" / "data"
SHIPPED = [
    ("arange.fits", 0),
    ("blank.fits", 0),
    ("checksum.fits", 0),
    ("fixed-1890.fits", 0),
    ("scale.fits", 0),
    ("zerowidth.fits", 0),
    ("o4sp040b0_raw.fits", 1),
    ("o4sp040b0_raw.fits", 4),
    ("test0.fits", 1),
    ("test0.fits", 4),
]


@pytest.mark.parametrize(("name", "index"), SHIPPED, ids=[f"{n}[{i}]" for n, i in SHIPPED])
def test_astropy_shipped_files(name, index):
    path = ASTROPY_DATA / name
    if not path.exists():
        pytest.skip(f"{name} is not shipped with this astropy")
    with fitsbind.FITS(str(path)) as f:
        hdu = f[index]
        assert hdu.index == index and hdu.has_data == (hdu.size > 0)
        ora = check_against_oracle(hdu, path, index)
        assert hdu.extname == ora.header.get("EXTNAME")
        assert hdu.extver == ora.header.get("EXTVER", 1)
        assert hdu.unit == ora.header.get("BUNIT")
        if hdu.size:
            key = (slice(None, None, -2), slice(1, None))
            assert_same(hdu[key], hdu.read()[key])


def test_astropy_shipped_extname_lookup():
    path = ASTROPY_DATA / "o4sp040b0_raw.fits"
    with fitsbind.FITS(path) as f:
        assert len(f) == 7
        assert f["SCI"].index == 1 and f["sci", 2].index == 4 and f["Dq", 2].index == 6
        assert [h.index for h in f] == list(range(7))
        assert [h.extver for h in f][1:] == [1, 1, 1, 2, 2, 2]
        assert not f["ERR"].has_data and f["ERR"].shape == ()
        with pytest.raises(KeyError):
            f["SCI", 3]
        with pytest.raises(KeyError):
            f["NOPE"]
        with pytest.raises(IndexError):
            f[7]


# ---------------------------------------------------------------------------------------------
# 3. sections
# ---------------------------------------------------------------------------------------------

CUBE = (4, 5, 6)
SECTION_CASES = [
    Case(16, "plain", False),
    Case(16, "unsigned", True),
    Case(16, "scaled", True),
    Case(-64, "plain", True),
]


def random_part(rng, n: int):
    """An int (negative too) or a slice: steps of both signs, bounds past either end, None."""
    if rng.random() < 0.3:
        return int(rng.integers(-n, n))
    step = [None, 1, 2, 3, 7, -1, -2, -3, -7][rng.integers(9)]
    bounds = list(range(-n - 2, n + 3))

    def bound():
        return None if rng.random() < 0.4 else int(bounds[rng.integers(len(bounds))])

    start, stop = bound(), bound()
    if start is not None and stop is not None and rng.random() < 0.6:
        start, stop = sorted((start, stop), reverse=step is not None and step < 0)
    return slice(start, stop, step)


def random_key(rng, shape):
    parts = [random_part(rng, n) for n in shape]
    form = rng.integers(5)
    if form == 0:
        return tuple(parts)
    if form == 1:  # fewer indices than axes
        return tuple(parts[: rng.integers(1, len(parts))])
    if form == 2:  # Ellipsis standing for a run of axes
        i = int(rng.integers(0, len(parts)))
        j = int(rng.integers(i, len(parts) + 1))
        return (*parts[:i], Ellipsis, *parts[j:])
    if form == 3:
        return parts[0]
    return tuple(parts)


def fmt_key(key) -> str:
    def one(k):
        if k is Ellipsis:
            return "..."
        if isinstance(k, slice):
            text = f"{'' if k.start is None else k.start}:{'' if k.stop is None else k.stop}"
            return text + ("" if k.step is None else f":{k.step}")
        return str(k)

    return "[" + ",".join(one(k) for k in (key if isinstance(key, tuple) else (key,))) + "]"


FIXED_KEYS = [
    (),
    Ellipsis,
    (Ellipsis,),
    0,
    -1,
    (0, 0, 0),
    (-1, -1, -1),
    (3, 4, 5),
    (-4, -5, -6),
    (1, Ellipsis),
    (Ellipsis, 2),
    (Ellipsis, -1),
    (0, Ellipsis, -1),
    (slice(None),),
    slice(None, None, -1),
    (slice(None, None, -1), slice(None, None, -1), slice(None, None, -1)),
    (slice(None, None, 2), slice(1, None, 3), slice(None, None, -4)),
    (slice(3, 1),),  # empty
    (slice(10, 20),),  # empty, clipped
    (Ellipsis, slice(2, 2)),  # empty last axis
    (slice(-100, 100), slice(-100, 100, 2), slice(100, -100, -3)),
    (1, slice(None), 2),
    (slice(1, 3), -2, slice(-1, -5, -1)),
    (slice(None, None, 5), slice(None, None, 5), slice(None, None, 5)),
]
_rng = np.random.default_rng(20240601)
SECTION_KEYS = FIXED_KEYS + [random_key(_rng, CUBE) for _ in range(70)]


@pytest.fixture(scope="module")
def cube_files(tmp_path_factory):
    """One astropy-written file per SECTION_CASES entry: {case id: (path, Pixels)}."""
    folder = tmp_path_factory.mktemp("cubes")
    files = {}
    for n, case in enumerate(SECTION_CASES):
        pix = make_pixels(case, CUBE, seed=300 + n)
        path = folder / f"{case.id}.fits"
        astropy_write(path, case, pix)
        files[case.id] = (path, pix)
    return files


@pytest.mark.parametrize("case", SECTION_CASES, ids=[c.id for c in SECTION_CASES])
@pytest.mark.parametrize("key", SECTION_KEYS, ids=[fmt_key(k) for k in SECTION_KEYS])
def test_section_equals_numpy(cube_files, case, key):
    path, pix = cube_files[case.id]
    with fitsbind.FITS(path) as f:
        hdu = f["SCI"]
        full = hdu.read()
        assert_same(full, pix.physical)
        assert_same(hdu[key], full[key])
        assert_same(f[0][key], full[key])


BAD_INDEX_KEYS = [
    4,
    -5,
    (0, 5),
    (0, -6),
    (0, 0, 6),
    (0, 0, -7),
    (Ellipsis, 6),
    (Ellipsis, -7, 0),
    (0, 0, 0, 0),
]


@pytest.mark.parametrize("key", BAD_INDEX_KEYS, ids=[fmt_key(k) for k in BAD_INDEX_KEYS])
def test_section_out_of_range_raises_index_error(cube_files, key):
    path, pix = cube_files[SECTION_CASES[0].id]
    with pytest.raises(IndexError):
        pix.physical[key]  # numpy agrees
    with fitsbind.FITS(path) as f:
        with pytest.raises(IndexError) as info:
            f["SCI"][key]
        assert isinstance(info.value, fitsbind.FITSError)
        names_file_and_hdu(info.value, path, 1, "SCI")
        assert_same(f["SCI"][0, 0, :2], pix.physical[0, 0, :2])  # the handle still works


# ---------------------------------------------------------------------------------------------
# 4. writes: hdu[key] = block, write(start=), extend
# ---------------------------------------------------------------------------------------------


def random_block(case: Case, shape, rng) -> np.ndarray:
    n = math.prod(shape)
    if case.kind == "scaled":
        raw = rng.integers(-32768, 32767, n, endpoint=True).astype(np.int64)
        raw[raw == case.blank] = 3
        block = (raw * BSCALE + BZERO).astype(case.physical)
        if n > 2:
            block[rng.integers(n)] = np.nan
    elif case.bitpix < 0:
        block = rng.standard_normal(n).astype(case.physical)
        if n > 2:
            block[rng.integers(n)] = np.nan
    else:
        info = np.iinfo(case.physical)
        block = rng.integers(info.min, info.max, n, endpoint=True, dtype=case.physical)
    return block.reshape(shape)


SETITEM_KEYS = FIXED_KEYS[3:] + [random_key(np.random.default_rng(7), CUBE) for _ in range(20)]


@pytest.mark.parametrize("case", SECTION_CASES, ids=[c.id for c in SECTION_CASES])
@pytest.mark.parametrize("key", SETITEM_KEYS, ids=[fmt_key(k) for k in SETITEM_KEYS])
def test_setitem_equals_numpy_assignment(cube_files, tmp_path, fitsverify, case, key):
    template, pix = cube_files[case.id]
    path = tmp_path / "edit.fits"
    shutil.copy(template, path)
    rng = np.random.default_rng(len(fmt_key(key)))
    selected = pix.physical[key]
    sel_shape = np.shape(selected)
    shapes = [sel_shape, (), sel_shape[-1:], (1,) * len(sel_shape)]
    block = random_block(case, shapes[rng.integers(len(shapes))], rng)
    expected = pix.physical.copy()
    expected[key] = block

    with fitsbind.FITS(path, "r+") as f:
        f["SCI"][key] = block
        assert_same(f["SCI"].read(), expected)  # through the same handle
        assert_same(f[0].read(), pix.physical)  # the other HDU untouched
    fitsverify(path)
    with fitsbind.FITS(path) as f:
        assert_same(f["SCI"].read(), expected)
    ora = oracle(path, 1)
    assert_same(ora.scaled, expected)


@pytest.mark.parametrize(
    ("start", "shape"),
    [
        (None, CUBE),
        ((0, 0, 0), CUBE),
        ((1, 2, 3), (2, 2, 2)),
        ((3, 4, 5), (1, 1, 1)),
        ((0, 0, 0), (1, 5, 6)),
        ((2, 0, 0), (2, 5, 6)),
        ((0, 3, 0), (4, 2, 6)),
        ((1, 1, 0), (3, 4, 6)),
    ],
)
@pytest.mark.parametrize("case", SECTION_CASES, ids=[c.id for c in SECTION_CASES])
def test_write_with_start(cube_files, tmp_path, fitsverify, case, start, shape):
    template, pix = cube_files[case.id]
    path = tmp_path / "edit.fits"
    shutil.copy(template, path)
    block = random_block(case, shape, np.random.default_rng(11))
    expected = pix.physical.copy()
    corner = start or (0, 0, 0)
    expected[tuple(slice(c, c + n) for c, n in zip(corner, shape))] = block
    with fitsbind.FITS(path, "r+") as f:
        if start is None:
            f["SCI"].write(block)
        else:
            f["SCI"].write(block, start=start)
    fitsverify(path)
    assert_same(oracle(path, 1).scaled, expected)
    with fitsbind.FITS(path) as f:
        assert_same(f["SCI"].read(), expected)


def test_write_accepts_other_layouts_and_fitting_dtypes(tmp_path, fitsverify):
    """Big-endian, Fortran-ordered, strided input; integer data of another dtype whose values fit."""
    path = tmp_path / "layouts.fits"
    base = np.arange(-10, 10, dtype=np.int16).reshape(4, 5)
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.create_image_hdu(np.int16, (4, 5))
        hdu.write(base.astype(">i2"))
        assert_same(hdu.read(), base)
        hdu.write(np.asfortranarray(base[::-1]))
        assert_same(hdu.read(), base[::-1])
        strided = np.arange(80, dtype=np.int16).reshape(8, 10)[::2, ::2]
        hdu.write(strided)
        assert_same(hdu.read(), strided)
        hdu.write(base.astype(np.int64))
        assert_same(hdu.read(), base)
        hdu[1:3] = np.arange(5, dtype=np.uint8)
        expected = base.copy()
        expected[1:3] = np.arange(5)
        assert_same(hdu.read(), expected)
        hdu[0, 0] = 1234  # a Python int
        expected[0, 0] = 1234
        assert_same(hdu.read(), expected)
        u16 = f.create_image_hdu(np.uint16, (3,), extname="U16")
        u16.write(np.array([0, 40000, 65535], np.int64))
        assert_same(u16.read(), np.array([0, 40000, 65535], np.uint16))
    fitsverify(path)
    assert_same(oracle(path, 0).scaled, expected)
    assert_same(oracle(path, 1).scaled, np.array([0, 40000, 65535], np.uint16))


def test_scaled_write_rounds_and_range_checks(tmp_path, fitsverify):
    path = tmp_path / "round.fits"
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.create_image_hdu(np.int16, (6,), header={"BSCALE": BSCALE, "BZERO": BZERO}, blank=-32768)
        assert hdu.dtype == np.float32
        hdu.write(np.array([10.74, 10.76, 9.26, 9.24, 16393.7, np.nan], np.float64))
    fitsverify(path)
    ora = oracle(path, 0)
    np.testing.assert_array_equal(ora.raw, np.array([1, 2, -1, -2, 32767, -32768], np.int16))
    with fitsbind.FITS(path) as f:
        assert_same(f[0].read(), ora.scaled)
        assert_same(f[0].read(), np.array([10.5, 11.0, 9.5, 9.0, 16393.5, np.nan], np.float32))


def test_single_pixel_writes(tmp_path, fitsverify):
    """hdu[i, j] = scalar on every kind of image (a 0-d block)."""
    path = tmp_path / "pixel.fits"
    with fitsbind.FITS(path, "w+") as f:
        plain = f.create_image_hdu(np.int16, (2, 3))
        unsigned = f.create_image_hdu(np.uint32, (2, 3))
        scaled = f.create_image_hdu(np.int16, (2, 3), header={"BSCALE": BSCALE, "BZERO": BZERO}, blank=-1)
        flt = f.create_image_hdu(np.float64, (2, 3))
        plain[1, 2] = -7
        unsigned[1, 2] = 4_000_000_000
        scaled[1, 2] = 12.5
        scaled[0, 0] = np.nan
        flt[1, 2] = np.float64(2.25)
    fitsverify(path)
    with fitsbind.FITS(path) as f:
        assert f[0][1, 2] == -7 and f[1][1, 2] == 4_000_000_000
        assert f[2][1, 2] == 12.5 and np.isnan(f[2][0, 0]) and f[3][1, 2] == 2.25
        for i in range(4):
            check_against_oracle(f[i], path, i)


def test_masked_array_writes(tmp_path, fitsverify):
    path = tmp_path / "masked.fits"
    mask = np.array([False, True, False, True])
    with fitsbind.FITS(path, "w+") as f:
        flt = f.create_image_hdu(np.float32, (4,))
        flt.write(np.ma.MaskedArray(np.array([1, 2, 3, 4], np.float32), mask=mask))
        i32 = f.write_image(np.ma.MaskedArray(np.array([1, 2, 3, 4], np.int32), mask=mask), blank=-1)
        scl = f.create_image_hdu(np.int16, (4,), header={"BSCALE": 2.0, "BZERO": 0.0}, blank=99)
        scl.write(np.ma.MaskedArray(np.array([2.0, 4.0, 6.0, 8.0], np.float32), mask=mask))
        assert i32.index == 1 and scl.index == 2
    fitsverify(path)
    with fitsbind.FITS(path) as f:
        assert_same(f[0].read(), np.array([1, np.nan, 3, np.nan], np.float32))
        assert_same(f[1].read(scale=False), np.array([1, -1, 3, -1], np.int32))
        assert f[1].header["BLANK"] == -1
        assert_same(f[2].read(), np.array([2, np.nan, 6, np.nan], np.float32))
        for i in range(3):
            check_against_oracle(f[i], path, i)
            np.testing.assert_array_equal(np.ma.getmaskarray(f[i].read(mask_blank=True)), mask)


def test_fits_write_dispatches_ndarray(tmp_path, fitsverify):
    path = tmp_path / "dispatch.fits"
    data = np.arange(12, dtype=np.uint32).reshape(3, 4) * 1000003
    with fitsbind.FITS(str(path), "w+") as f:
        hdu = f.write(data, extname="IMG", header={"OBSERVER": "test"})
        assert hdu.index == 0 and hdu.extname == "IMG" and hdu.dtype == np.uint32
        second = f.write(data[::-1].astype(np.float32), extname="IMG", extver=2)
        assert second.index == 1 and second.extver == 2
    fitsverify(path)
    with fitsbind.FITS(path) as f:
        assert_same(f["img"].read(), data)
        assert_same(f["IMG", 2].read(), data[::-1].astype(np.float32))
    assert fits.getheader(path, 0)["OBSERVER"] == "test"
    assert_same(oracle(path, 0).scaled, data)


# --- extend ---


def test_extend_last_hdu(tmp_path, fitsverify):
    path = tmp_path / "grow.fits"
    first = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    more = -np.arange(40, dtype=np.int16).reshape(2, 4, 5)
    with fitsbind.FITS(path, "w+") as f:
        f.create_image_hdu(np.float32, (2, 2))
        hdu = f.write_image(first, extname="CUBE")
        hdu.extend(more)
        assert hdu.shape == (5, 4, 5)
        assert_same(hdu.read(), np.concatenate([first, more]))
    fitsverify(path)
    with fits.open(path) as hdul:
        assert hdul[1].header["NAXIS3"] == 5
        assert_same(np.asarray(hdul[1].data), np.concatenate([first, more]).astype(">i2"))
    with fitsbind.FITS(path) as f:
        assert f["CUBE"].shape == (5, 4, 5)
        assert_same(f["CUBE"].read(), np.concatenate([first, more]))


@pytest.mark.parametrize("which", [0, 1, 2])
def test_extend_middle_hdu_keeps_later_hdus(tmp_path, fitsverify, which):
    """Growing HDU ``which`` past several 2880-byte blocks shifts the HDUs after it intact."""
    path = tmp_path / "middle.fits"
    rng = np.random.default_rng(which)
    prim = fits.PrimaryHDU(rng.integers(-(2**31), 2**31 - 1, (5, 3), dtype=np.int32))
    a = fits.ImageHDU(rng.integers(0, 65535, (4, 3), endpoint=True, dtype=np.uint16), name="A")
    b = fits.ImageHDU(rng.standard_normal((6, 7)), name="B")
    b.header["OBSERVER"] = ("someone", "a card to keep")
    b.header.add_history("history to keep")
    c = fits.ImageHDU(rng.integers(-100, 100, 9, dtype=np.int16), name="C")
    for later in (b, c) if which < 2 else (c,):  # checksums on HDUs that do not change
        later.add_checksum()
    fits.HDUList([prim, a, b, c]).writeto(path)
    with fits.open(path) as hdul:
        before = [(hdu.header.tostring(), np.array(hdu.data)) for hdu in hdul]

    more = [
        rng.integers(0, 9, (700, 3), dtype=np.int32),
        rng.integers(0, 65535, (1500, 3), dtype=np.uint16),
        rng.standard_normal((100, 7)),
    ][which]
    with fitsbind.FITS(path, "r+") as f:
        hdu = f[which]
        grown = np.concatenate([hdu.read(), more])
        hdu.extend(more)
        assert hdu.shape == grown.shape
        assert_same(hdu.read(), grown)
        for later in range(which + 1, 4):
            data = before[later][1]
            assert_same(f[later].read(), data.astype(data.dtype.newbyteorder("=")))
    fitsverify(path)
    astropy_checksums_clean(path)
    with fits.open(path) as hdul:
        assert len(hdul) == 4
        assert_same(np.asarray(hdul[which].data).astype(grown.dtype), grown)
        assert hdul[which].header[f"NAXIS{hdul[which].header['NAXIS']}"] == grown.shape[0]
        for i in range(4):
            if i == which:
                continue
            header, data = before[i]
            assert hdul[i].header.tostring() == header
            np.testing.assert_array_equal(hdul[i].data, data)
            assert hdul[i].data.dtype == data.dtype


def test_extend_with_start(tmp_path, fitsverify):
    path = tmp_path / "start.fits"
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_image(base)
        hdu.extend(np.full((2, 4), -1.0), start=2)  # overlaps the last row and grows by one
        expected = np.concatenate([base[:2], np.full((2, 4), -1.0)])
        assert hdu.shape == (4, 4)
        assert_same(hdu.read(), expected)
        hdu.extend(np.full((1, 4), 7.0), start=1)  # inside: overwrite, no growth
        expected[1] = 7.0
        assert hdu.shape == (4, 4)
        assert_same(hdu.read(), expected)
        hdu.extend(np.full((1, 4), 9.0), start=4)  # exactly at the end
        expected = np.concatenate([expected, np.full((1, 4), 9.0)])
        assert hdu.shape == (5, 4)
        assert_same(hdu.read(), expected)
    fitsverify(path)
    assert_same(oracle(path, 0).scaled, expected)


def test_extend_past_the_end(tmp_path, fitsverify):
    """start= beyond the current length either fills the gap with zeros or is refused cleanly."""
    path = tmp_path / "gap.fits"
    base = np.arange(8, dtype=np.int32).reshape(2, 4)
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(base)
    before = path.read_bytes()
    with fitsbind.FITS(path, "r+") as f:
        try:
            f[0].extend(np.full((1, 4), 5, np.int32), start=4)
        except (IndexError, ValueError) as exc:
            assert isinstance(exc, fitsbind.FITSError)
            refused = True
        else:
            refused = False
            expected = np.concatenate([base, np.zeros((2, 4), np.int32), np.full((1, 4), 5, np.int32)])
            assert_same(f[0].read(), expected)
    if refused:
        assert path.read_bytes() == before
    else:
        fitsverify(path)
        assert_same(oracle(path, 0).scaled, expected)


EXTEND_CASES = [Case(16, "unsigned", False), Case(32, "scaled", True), Case(-32, "plain", False)]


@pytest.mark.parametrize("case", EXTEND_CASES, ids=[c.id for c in EXTEND_CASES])
def test_extend_from_empty(tmp_path, fitsverify, case):
    path = tmp_path / "empty.fits"
    pix = make_pixels(case, (12, 5), seed=5)
    with fitsbind.FITS(path, "w+") as f:
        f.create_image_hdu(np.int16, (1,))
        hdu = f.create_image_hdu(
            case.create_dtype, (0, 5), extname="ROWS", header=case.header, blank=case.blank
        )
        assert hdu.shape == (0, 5) and hdu.size == 0
        assert_same(hdu.read(), np.zeros((0, 5), case.physical))
    fitsverify(path)
    with fitsbind.FITS(path, "r+") as f:
        hdu = f["ROWS"]
        hdu.extend(pix.to_write(case, masked=False)[:4])
        for i in range(4, 12):  # one row at a time
            hdu.extend(pix.to_write(case, masked=True)[i : i + 1])
        assert hdu.shape == (12, 5)
    fitsverify(path)
    with fitsbind.FITS(path) as f:
        ora = check_against_oracle(f["ROWS"], path, 1)
        keep = ~pix.missing
        np.testing.assert_array_equal(ora.scaled[keep], pix.physical[keep])
        np.testing.assert_array_equal(ora.mask, pix.missing)


def test_extend_1d_and_primary_with_following(tmp_path, fitsverify):
    path = tmp_path / "one.fits"
    with fitsbind.FITS(path, "w+") as f:
        p = f.write_image(np.arange(4, dtype=np.int64))
        e = f.write_image(np.arange(3, dtype=np.int8) - 3, extname="AFTER")
        p.extend(np.arange(4, 1000, dtype=np.int64))
        assert p.shape == (1000,)
        assert_same(e.read(), np.arange(3, dtype=np.int8) - 3)
    fitsverify(path)
    assert_same(oracle(path, 0).scaled, np.arange(1000, dtype=np.int64))
    assert_same(oracle(path, 1).scaled, np.arange(3, dtype=np.int8) - 3)


# ---------------------------------------------------------------------------------------------
# properties, containers
# ---------------------------------------------------------------------------------------------


def test_new_file_starts_empty(tmp_path):
    path = tmp_path / "new.fits"
    with fitsbind.FITS(path, "w+") as f:
        assert len(f) == 0 and list(f) == []
        assert not f.closed and f.filename == str(path)
    assert f.closed  # closing a file without HDUs is not an error


def test_create_dataless_hdu(tmp_path, fitsverify):
    path = tmp_path / "dataless.fits"
    with fitsbind.FITS(path, "w+") as f:
        p = f.create_image_hdu(np.int16, ())
        e = f.create_image_hdu(np.float32, (), extname="EMPTY")
        for hdu in (p, e):
            assert (hdu.shape, hdu.ndim, hdu.size, hdu.has_data) == ((), 0, 0, False)
        assert e.dtype == np.float32 and e.extname == "EMPTY" and len(f) == 2
    fitsverify(path)
    with fits.open(path) as hdul:
        assert [h.header["NAXIS"] for h in hdul] == [0, 0]
        assert hdul[1].header["EXTNAME"] == "EMPTY" and hdul[1].header["BITPIX"] == -32


def test_created_hdu_properties(tmp_path, fitsverify):
    path = tmp_path / "props.fits"
    with fitsbind.FITS(path, "w+") as f:
        assert not f.closed and f.filename == str(path)
        header = {"OBJECT": "M31", "BUNIT": "adu", "EXPTIME": (12.5, "[s]")}
        p = f.create_image_hdu(np.int16, (3, 4), header=header)
        s = f.create_image_hdu(np.uint16, (2, 3, 4), extname="SCI", extver=2)
        e = f.create_image_hdu(np.float32, (1, 1), extname="EMPTY")
        assert (p.index, s.index, e.index) == (0, 1, 2)
        assert (p.shape, p.ndim, p.size, p.bitpix, p.dtype) == ((3, 4), 2, 12, 16, np.int16)
        assert (p.extname, p.extver, p.unit, p.has_data) == (None, 1, "adu", True)
        assert (s.shape, s.ndim, s.size, s.bitpix, s.dtype) == ((2, 3, 4), 3, 24, 16, np.uint16)
        assert (s.extname, s.extver, s.unit, s.has_data) == ("SCI", 2, None, True)
        assert (e.shape, e.ndim, e.has_data, e.dtype) == ((1, 1), 2, True, np.float32)
        assert len(f) == 3
    assert f.closed
    fitsverify(path)
    with fits.open(path) as hdul:
        assert hdul[0].header["OBJECT"] == "M31" and hdul[0].header["EXPTIME"] == 12.5
        assert hdul[0].header.comments["EXPTIME"] == "[s]"
        assert hdul[1].header["EXTNAME"] == "SCI" and hdul[1].header["EXTVER"] == 2
        assert hdul[1].header["BZERO"] == 32768
        assert hdul[2].header["NAXIS"] == 2 and hdul[2].header["EXTNAME"] == "EMPTY"
    with fitsbind.FITS(path) as f:
        assert [h.index for h in f] == [0, 1, 2]
        assert f["sci"].index == 1 and f["SCI", 2].index == 1 and f["Empty"].index == 2
        assert f["SCI"].shape == (2, 3, 4) and f["SCI"].dtype == np.uint16
        with pytest.raises(KeyError) as info:
            f["SCI", 1]
        assert isinstance(info.value, fitsbind.FITSError) and path.name in str(info.value)
        with pytest.raises(IndexError):
            f[3]


NEW_DTYPES = [np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]
NEW_DTYPES += [np.float32, np.float64]


@pytest.mark.parametrize("dtype", NEW_DTYPES, ids=[np.dtype(d).name for d in NEW_DTYPES])
def test_new_pixels_are_zero(tmp_path, fitsverify, dtype):
    """New pixels hold stored zeros (the file grows sparsely): they read as 0, or as BZERO for
    the offset conventions (int8: -128, uint16: 32768, ...), exactly as astropy reads them."""
    path = tmp_path / "zero.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.create_image_hdu(dtype, (3, 4))
        hdu = f.create_image_hdu(dtype, (2, 5), extname="X")
        assert hdu.dtype == np.dtype(dtype)
        assert hdu.bitpix == {1: 8, 2: 16, 4: 32, 8: 64}[np.dtype(dtype).itemsize] * (
            -1 if np.dtype(dtype).kind == "f" else 1
        )
    fitsverify(path)
    with fitsbind.FITS(path) as f:
        for i, shape in ((0, (3, 4)), (1, (2, 5))):
            bzero = f[i].header.get("BZERO", 0)
            assert_same(f[i].read(), np.full(shape, bzero, dtype))
            assert_same(f[i].read(scale=False), np.zeros(shape, f[i].read(scale=False).dtype))
            check_against_oracle(f[i], path, i)


# ---------------------------------------------------------------------------------------------
# 5. rejected writes leave the file byte-identical
# ---------------------------------------------------------------------------------------------


def bad_file(path) -> Path:
    """HDUs of every kind a write can be rejected by (written by astropy)."""
    rng = np.random.default_rng(3)
    i16 = rng.integers(-1000, 1000, (4, 5)).astype(np.int16)
    prim = fits.PrimaryHDU(i16)
    prim.header["OBJECT"] = "target"
    hdus = [
        prim,
        fits.ImageHDU(rng.integers(0, 65535, (4, 5)).astype(np.uint16), name="U16"),
        fits.ImageHDU(i16, name="SC"),
        fits.ImageHDU(i16, name="SCB"),
        fits.ImageHDU(rng.standard_normal((4, 5)).astype(np.float32), name="F32"),
        fits.ImageHDU(rng.integers(0, 255, (4, 5)).astype(np.uint8), name="U8"),
        fits.ImageHDU(rng.integers(-128, 127, (4, 5)).astype(np.int8), name="I8"),
        fits.ImageHDU(np.array([0, 2**64 - 1, 5], np.uint64), name="U64"),
        fits.ImageHDU(np.array([-(2**63), 2**63 - 1, 5], np.int64), name="I64"),
        fits.ImageHDU(rng.integers(-(2**31), 2**31 - 1, (4, 5)).astype(np.int32), name="I32"),
    ]
    fits.HDUList(hdus).writeto(path)
    with fits.open(path, mode="update", do_not_scale_image_data=True) as hdul:
        for name, blank in (("SC", None), ("SCB", -99)):
            hdul[name].header["BSCALE"] = BSCALE
            hdul[name].header["BZERO"] = BZERO
            if blank is not None:
                hdul[name].header["BLANK"] = blank
    return Path(path)


def _last_bad(dtype, value, shape=(4, 5)):
    data = np.zeros(shape, dtype)
    data.flat[-1] = value
    return data


# id: (HDU name, action(hdu, f), expected exception)
BAD_WRITES = {
    "write-transposed": ("PRIMARY", lambda h, f: h.write(np.zeros((5, 4), np.int16)), ValueError),
    "write-extra-axis": ("PRIMARY", lambda h, f: h.write(np.zeros((4, 5, 1), np.int16)), ValueError),
    "write-flat": ("PRIMARY", lambda h, f: h.write(np.zeros(20, np.int16)), ValueError),
    "write-scalar": ("PRIMARY", lambda h, f: h.write(np.int16(3)), ValueError),
    "setitem-not-broadcastable": (
        "PRIMARY",
        lambda h, f: h.__setitem__(slice(0, 2), np.zeros((3, 5), np.int16)),
        ValueError,
    ),
    "setitem-too-big-block": ("I32", lambda h, f: h.__setitem__(0, np.zeros((2, 5), np.int32)), ValueError),
    "start-overflows-axis0": (
        "PRIMARY",
        lambda h, f: h.write(np.ones((2, 2), np.int16), start=(3, 0)),
        (ValueError, IndexError),
    ),
    "start-overflows-axis1": (
        "PRIMARY",
        lambda h, f: h.write(np.ones((1, 2), np.int16), start=(0, 4)),
        (ValueError, IndexError),
    ),
    "start-wrong-length": (
        "PRIMARY",
        lambda h, f: h.write(np.ones((1, 1), np.int16), start=(0, 0, 0)),
        ValueError,
    ),
    "float-into-int16": ("PRIMARY", lambda h, f: h.write(np.zeros((4, 5))), TypeError),
    "float32-into-int16-setitem": (
        "PRIMARY",
        lambda h, f: h.__setitem__(slice(1, 3), np.ones((2, 5), np.float32)),
        TypeError,
    ),
    "float-scalar-into-int16": ("PRIMARY", lambda h, f: h.__setitem__((0, 0), 2.5), TypeError),
    "float-into-uint8": ("U8", lambda h, f: h.write(np.zeros((4, 5), np.float32)), TypeError),
    "float-into-int64": ("I64", lambda h, f: h.write(np.zeros(3)), TypeError),
    "float-into-int32-extend": ("I32", lambda h, f: h.extend(np.zeros((1, 5))), TypeError),
    "complex-into-float32": ("F32", lambda h, f: h.write(np.zeros((4, 5), complex)), (TypeError, ValueError)),
    "strings-into-int16": ("PRIMARY", lambda h, f: h.write(np.full((4, 5), "1")), (TypeError, ValueError)),
    "int16-overflow": ("PRIMARY", lambda h, f: h.write(np.full((4, 5), 40000, np.int32)), ValueError),
    "int16-overflow-last-pixel": ("PRIMARY", lambda h, f: h.write(_last_bad(np.int32, -40000)), ValueError),
    "int16-from-uint16": ("PRIMARY", lambda h, f: h.write(_last_bad(np.uint16, 65535)), ValueError),
    "uint16-negative": ("U16", lambda h, f: h.write(_last_bad(np.int32, -1)), ValueError),
    "uint16-too-big": ("U16", lambda h, f: h.write(_last_bad(np.int64, 65536)), ValueError),
    "uint8-256": ("U8", lambda h, f: h.write(_last_bad(np.int16, 256)), ValueError),
    "uint8-negative": ("U8", lambda h, f: h.write(_last_bad(np.int8, -1)), ValueError),
    "int8-128": ("I8", lambda h, f: h.write(_last_bad(np.int16, 128)), ValueError),
    "int8-from-uint8": ("I8", lambda h, f: h.write(_last_bad(np.uint8, 200)), ValueError),
    "int64-from-uint64": ("I64", lambda h, f: h.write(np.array([0, 2**63, 0], np.uint64)), ValueError),
    "uint64-negative": ("U64", lambda h, f: h.write(np.array([0, 0, -1], np.int64)), ValueError),
    "int32-overflow-setitem": ("I32", lambda h, f: h.__setitem__((2, 3), np.int64(2**31)), ValueError),
    "int16-overflow-extend": (
        "PRIMARY",
        lambda h, f: h.extend(_last_bad(np.int32, 40000, (2, 5))),
        ValueError,
    ),
    "scaled-above-range": ("SC", lambda h, f: h.write(np.full((4, 5), 1e6, np.float32)), ValueError),
    "scaled-below-range": ("SC", lambda h, f: h.write(_last_bad(np.float64, -1e6)), ValueError),
    "scaled-just-above-range": ("SC", lambda h, f: h.write(_last_bad(np.float64, 16393.8)), ValueError),
    "scaled-nan-without-blank": ("SC", lambda h, f: h.write(_last_bad(np.float32, np.nan)), ValueError),
    "scaled-nan-without-blank-setitem": ("SC", lambda h, f: h.__setitem__((1, 1), np.nan), ValueError),
    "scaled-inf-with-blank": ("SCB", lambda h, f: h.write(_last_bad(np.float32, np.inf)), ValueError),
    "extend-wrong-trailing-shape": ("PRIMARY", lambda h, f: h.extend(np.zeros((2, 4), np.int16)), ValueError),
    "extend-wrong-ndim": ("PRIMARY", lambda h, f: h.extend(np.zeros(5, np.int16)), ValueError),
    "setitem-index-out-of-range": ("PRIMARY", lambda h, f: h.__setitem__(4, 0), IndexError),
    "setitem-negative-index-out-of-range": ("U16", lambda h, f: h.__setitem__((0, -6), 0), IndexError),
    "create-blank-on-float": (None, lambda h, f: f.create_image_hdu(np.float32, (2, 2), blank=0), ValueError),
    "write-image-blank-on-float": (None, lambda h, f: f.write_image(np.zeros(3), blank=0), ValueError),
    "create-blank-out-of-range": (
        None,
        lambda h, f: f.create_image_hdu(np.int16, (2,), blank=40000),
        ValueError,
    ),
}

READ_ONLY = {
    "write": ("PRIMARY", lambda h, f: h.write(np.zeros((4, 5), np.int16))),
    "write-start": ("U16", lambda h, f: h.write(np.zeros((1, 1), np.uint16), start=(1, 1))),
    "setitem": ("PRIMARY", lambda h, f: h.__setitem__((0, 0), 1)),
    "extend": ("PRIMARY", lambda h, f: h.extend(np.zeros((1, 5), np.int16))),
    "header-set": ("PRIMARY", lambda h, f: h.header.__setitem__("OBJECT", "other")),
    "header-new": ("F32", lambda h, f: h.header.__setitem__("NEWKEY", 1)),
    "header-delete": ("PRIMARY", lambda h, f: h.header.__delitem__("OBJECT")),
    "add-history": ("PRIMARY", lambda h, f: h.header.add_history("no")),
    "add-checksum": ("I32", lambda h, f: h.add_checksum()),
    "add-datasum": ("I32", lambda h, f: h.add_datasum()),
    "create-image-hdu": (None, lambda h, f: f.create_image_hdu(np.int16, (2, 2))),
    "write-image": (None, lambda h, f: f.write_image(np.zeros((2, 2), np.int16))),
}


def run_rejected(path, mode, hdu_name, action, exc_type):
    """Run ``action``, expect ``exc_type``; the handle keeps working and the bytes do not change."""
    before_bytes = path.read_bytes()
    with fitsbind.FITS(path, mode) as f:
        before = [f[i].read() for i in range(len(f))]
        hdu = None if hdu_name is None else f[0 if hdu_name == "PRIMARY" else hdu_name]
        with pytest.raises(exc_type) as info:
            action(hdu, f)
        assert len(f) == len(before)
        for i, data in enumerate(before):
            assert_same(f[i].read(), data)
    assert path.read_bytes() == before_bytes
    return info.value, (None if hdu is None else hdu.index)


@pytest.mark.parametrize("name", list(BAD_WRITES))
def test_rejected_write_changes_nothing(tmp_path, name):
    path = bad_file(tmp_path / "bad.fits")
    hdu_name, action, exc_type = BAD_WRITES[name]
    exc, index = run_rejected(path, "r+", hdu_name, action, exc_type)
    names_file_and_hdu(exc, path, index, hdu_name)


@pytest.mark.parametrize("name", list(BAD_WRITES))
def test_rejected_write_raises_fits_error(tmp_path, name):
    """Every exception of the direct tier is a fitsbind.FITSError as well as the built-in class."""
    path = bad_file(tmp_path / "bad.fits")
    hdu_name, action, exc_type = BAD_WRITES[name]
    exc, _ = run_rejected(path, "r+", hdu_name, action, exc_type)
    assert isinstance(exc, fitsbind.FITSError), type(exc).__mro__


@pytest.mark.parametrize("name", list(READ_ONLY))
def test_read_only_mode_refuses_writes(tmp_path, name):
    path = bad_file(tmp_path / "ro.fits")
    hdu_name, action = READ_ONLY[name]
    exc, _ = run_rejected(path, "r", hdu_name, action, PermissionError)
    assert isinstance(exc, fitsbind.FITSPermissionError)
    assert path.name in str(exc)


def test_bad_file_is_valid_and_accepts_good_writes(tmp_path, fitsverify):
    """The file the rejection tests use is itself fine, and right-sized writes to it succeed."""
    path = bad_file(tmp_path / "good.fits")
    fitsverify(path)
    with fitsbind.FITS(path, "r+") as f:
        f[0].write(np.full((4, 5), 32767, np.int32))
        f["U16"].write(np.full((4, 5), 65535, np.int64))
        f["SC"].write(np.full((4, 5), 16393.5, np.float64))
        f["SCB"][1, 1:2] = np.nan
        f["U8"][:, 0] = np.int16(255)
        f["I8"][0] = np.int16(-128)
        f["U64"][1] = np.uint64(2**64 - 1)
        f["I64"].write(np.array([-(2**63), 0, 2**63 - 1], np.int64))
    fitsverify(path)
    for i in range(10):
        with fitsbind.FITS(path) as f:
            check_against_oracle(f[i], path, i)
    assert_same(oracle(path, 3).scaled[1, 1], np.float32(np.nan))


# ---------------------------------------------------------------------------------------------
# 6. checksums
# ---------------------------------------------------------------------------------------------


SUM_CASES = [
    Case(16, "plain", False),
    Case(16, "unsigned", True),
    Case(32, "scaled", True),
    Case(-64, "plain", True),
]


@pytest.mark.parametrize("case", SUM_CASES, ids=[c.id for c in SUM_CASES])
def test_checksums_written_and_verified(tmp_path, fitsverify, case):
    path = tmp_path / "sums.fits"
    pix = make_pixels(case, (6, 7), seed=9)
    with fitsbind.FITS(path, "w+") as f:
        p = f.create_image_hdu(case.create_dtype, (6, 7), header=case.header, blank=case.blank)
        p.write(pix.to_write(case, masked=False))
        e = f.create_image_hdu(case.create_dtype, (6, 7), extname="E", header=case.header, blank=case.blank)
        e.write(pix.to_write(case, masked=True))
        assert p.verify_checksum() is None and p.verify_datasum() is None
        p.add_checksum()
        e.add_checksum()
        for hdu in (p, e):
            assert hdu.verify_checksum() is True and hdu.verify_datasum() is True
            assert "CHECKSUM" in hdu.header and "DATASUM" in hdu.header
    fitsverify(path)
    astropy_checksums_clean(path)
    with fitsbind.FITS(path) as f:
        for hdu in f:
            assert hdu.verify_checksum() is True and hdu.verify_datasum() is True
    with fits.open(path) as hdul:
        data_start = hdul[1].fileinfo()["datLoc"]
    raw = bytearray(path.read_bytes())
    raw[data_start + 5] ^= 0x10
    path.write_bytes(bytes(raw))
    with fitsbind.FITS(path) as f:
        assert f[0].verify_checksum() is True and f[0].verify_datasum() is True
        assert f[1].verify_datasum() is False and f[1].verify_checksum() is False


def test_datasum_only(tmp_path, fitsverify):
    path = tmp_path / "datasum.fits"
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_image(np.arange(100, dtype=np.float32).reshape(10, 10))
        hdu.add_datasum()
        assert hdu.verify_datasum() is True
        assert hdu.verify_checksum() is None
        assert "DATASUM" in hdu.header and "CHECKSUM" not in hdu.header
    fitsverify(path)
    astropy_checksums_clean(path)
    with fitsbind.FITS(path) as f:
        assert f[0].verify_datasum() is True and f[0].verify_checksum() is None


def test_header_byte_flip_fails_checksum_only(tmp_path):
    path = tmp_path / "hdr.fits"
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_image(np.arange(30, dtype=np.int32).reshape(5, 6), header={"OBJECT": "abcdef"})
        hdu.add_checksum()
    raw = bytearray(path.read_bytes())
    at = raw.index(b"abcdef")
    raw[at] = ord("X")
    path.write_bytes(bytes(raw))
    with fitsbind.FITS(path) as f:
        assert f[0].verify_datasum() is True
        assert f[0].verify_checksum() is False


def test_astropy_checksums_verify_in_fitsbind(tmp_path):
    path = tmp_path / "astropy_sums.fits"
    data = np.arange(35, dtype=np.uint16).reshape(5, 7) * 1000
    fits.HDUList([fits.PrimaryHDU(data), fits.ImageHDU(data.astype(np.float32), name="F")]).writeto(
        path, checksum=True
    )
    with fitsbind.FITS(path) as f:
        assert [h.verify_checksum() for h in f] == [True, True]
        assert [h.verify_datasum() for h in f] == [True, True]
    shipped = ASTROPY_DATA / "checksum_false.fits"
    if shipped.exists():
        with fitsbind.FITS(shipped) as f:
            assert f[0].verify_checksum() is False and f[0].verify_datasum() is False


def test_data_write_after_checksum_keeps_file_valid(tmp_path, fitsverify):
    """Checksums describe the HDU when they were made (manual refresh, as the seed documents):
    a later write makes them stale, and add_checksum() again makes the file valid."""
    path = tmp_path / "stale.fits"
    with fitsbind.FITS(path, "w+") as f:
        hdu = f.write_image(np.arange(20, dtype=np.int16).reshape(4, 5))
        hdu.add_checksum()
        hdu[0, 0] = 99
        hdu.extend(np.ones((1, 5), np.int16))
        assert hdu.verify_datasum() is False
        assert hdu.verify_checksum() is False
        hdu.add_checksum()
    fitsverify(path)
    with fitsbind.FITS(path) as f:
        assert f[0].verify_checksum() is True
        assert f[0].verify_datasum() is True
        assert f[0][0, 0] == 99
