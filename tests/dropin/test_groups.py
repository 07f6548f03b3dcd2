"""Random groups (GroupsHDU, GroupData, Group) of the drop-in interface: one test body run
against astropy.io.fits (the oracle) and fitsbind.

Input files are astropy's shipped ones or written byte by byte here; files the library under
test writes are compared byte for byte with astropy's output for the same input, read back
with astropy and checked with fitsverify. Where astropy has a bug fitsbind does not copy, the
test says so and runs for fitsbind only.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from astropy.io import fits as afits

RANDOM_GROUPS = afits.util.get_testdata_filepath("random_groups.fits")
GROUP = afits.util.get_testdata_filepath("group.fits")


def astropy_only_bug(fits: ModuleType, why: str) -> None:
    if fits is afits:
        pytest.skip(f"astropy bug not reproduced by fitsbind: {why}")


def write_raw(path: Path, cards: list[tuple], data: bytes) -> Path:
    """A one-HDU file written byte by byte: ``cards`` formatted by astropy's Card, then
    ``data``, both padded to whole blocks."""
    header = afits.Header()
    for card in cards:
        header.append(afits.Card(*card), end=True)
    path.write_bytes(header.tostring().encode("ascii") + data + b"\0" * (-len(data) % 2880))
    return path


# int16 groups: two parameters named UU (scaled differently) and a PZERO'd DATE, group arrays
# of numpy shape (2, 3) with BSCALE 0.5 and BZERO 100 (which astropy does not apply)
SCALED_CARDS = [("SIMPLE", True), ("BITPIX", 16), ("NAXIS", 3), ("NAXIS1", 0), ("NAXIS2", 3),
                ("NAXIS3", 2), ("GROUPS", True), ("PCOUNT", 3), ("GCOUNT", 4),
                ("PTYPE1", "UU"), ("PSCAL1", 0.5), ("PZERO1", 1.0), ("PTYPE2", "DATE"),
                ("PZERO2", 2450000.0), ("PTYPE3", "uu"), ("PSCAL3", 2.0), ("BSCALE", 0.5),
                ("BZERO", 100.0), ("OBJECT", "scaled")]


def scaled_stored() -> np.ndarray:
    """The stored int16 values of the SCALED_CARDS file: per group UU1, DATE, UU2, 6 pixels."""
    stored = np.zeros((4, 9), dtype=">i2")
    stored[:, 0] = [0, 1, 2, 3]
    stored[:, 1] = [10, 11, 12, 13]
    stored[:, 2] = [-1, 0, 1, 2]
    stored[:, 3:] = np.arange(24).reshape(4, 6)
    return stored


@pytest.fixture
def scaled_file(tmp_path: Path) -> Path:
    return write_raw(tmp_path / "scaled.fits", SCALED_CARDS, scaled_stored().tobytes())


# ---------------------------------------------------------------------------------------------
# reading


def test_shipped_random_groups(fits):
    with fits.open(RANDOM_GROUPS) as hdul:
        hdu = hdul[0]
        assert isinstance(hdu, fits.GroupsHDU)
        assert hdul.info(output=False) == [
            (0, "PRIMARY", 1, "GroupsHDU", 147, (3, 1, 128, 1, 1), "float32",
             "3 Groups  5 Parameters")]
        assert hdu.parnames == ["UU", "VV", "WW", "BASELINE", "DATE"]
        data = hdu.data
        assert isinstance(data, fits.GroupData)
        assert data.dtype.names == ("UU", "VV", "WW", "BASELINE", "DATE", "DATA")
        # PSCALn = 1.0 and PZEROn = 0.0 leave the stored float32 values as they are ...
        assert data.par("UU").dtype == np.dtype(">f4")
        np.testing.assert_array_equal(data.par(3), [258.0, 259.0, 515.0])
        # ... a non-zero PZERO5 gives float64 physical values
        date = data.par("date")
        assert date.dtype == np.float64
        np.testing.assert_allclose(date, 2455955.5861859, rtol=0, atol=1e-6)
        assert isinstance(data[1], fits.Group)
        assert data[1].par("DATE") == date[1]
        assert data[1].par(3) == 259.0
        assert data[1].data.shape == (1, 1, 128, 1, 3)
        assert data.data.shape == (3, 1, 1, 128, 1, 3)
        assert hdu.columns.formats[-1] == "384E"


def test_shipped_group_with_repeated_names(fits):
    with fits.open(GROUP) as hdul:
        data = hdul[0].data
        assert data.parnames == ["abc", "xyz", "xyz"]
        # repeated names get underscores as field names, and sum as parameters
        assert data.dtype.names == ("abc", "xyz", "_xyz", "DATA")
        total = data.par("XYZ")
        assert total.dtype == np.float64
        np.testing.assert_array_equal(total, np.full(10, 84.0))
        np.testing.assert_array_equal(data.par(1), np.full(10, 42.0, dtype=np.float32))
        assert data[3].par("xyz") == 84.0
        np.testing.assert_allclose(data.par("abc"), np.arange(10) + 0.1, rtol=1e-6)
        with pytest.raises(KeyError):
            data.par("nope")
        part = data[2:5]
        assert isinstance(part, fits.GroupData)
        assert part.parnames == data.parnames
        np.testing.assert_array_equal(part.par("xyz"), np.full(3, 84.0))
        group = data[0]
        assert len(group[1:3]) == 2 and group[1:3][0] == group[1]


def test_scaled_parameters_read(fits, scaled_file):
    stored = scaled_stored().astype(np.float64)
    with fits.open(scaled_file) as hdul:
        hdu = hdul[0]
        assert hdul.info(output=False)[0][5:] == ((3, 2), "int16", "4 Groups  3 Parameters")
        assert hdu.size == 2 * 4 * 9
        data = hdu.data
        np.testing.assert_array_equal(data.par(0), stored[:, 0] * 0.5 + 1.0)
        np.testing.assert_array_equal(data.par("date"), stored[:, 1] + 2450000.0)
        np.testing.assert_array_equal(data.par(2), stored[:, 2] * 2.0)
        np.testing.assert_array_equal(data.par("UU"), stored[:, 0] * 0.5 + 1.0 + stored[:, 2] * 2.0)
        assert data[1].par("uu") == 1.5 + 0.0
        # BSCALE scales the group arrays; BZERO is not applied (astropy's reading)
        np.testing.assert_array_equal(data.data, stored[:, 3:].reshape(4, 2, 3) * 0.5)
        assert data.data.dtype == np.float64


# ---------------------------------------------------------------------------------------------
# writing


def new_float_groups(fits: ModuleType):
    images = np.arange(60, dtype=np.float32).reshape(6, 1, 2, 5) / 4
    pardata = [np.arange(6) + 0.5, 7.0, np.arange(6) * -2.0]
    return images, fits.GroupData(images, parnames=["UU", "BASE", "uu"], pardata=pardata,
                                  bitpix=-32)


def test_new_float_groups_round_trip(fits, tmp_path, fitsverify):
    images, data = new_float_groups(fits)
    assert data.parnames == ["UU", "BASE", "uu"]
    np.testing.assert_array_equal(data.par("uu"), np.arange(6) + 0.5 - np.arange(6) * 2.0)
    np.testing.assert_array_equal(data.par(1), np.full(6, 7.0))
    hdu = fits.GroupsHDU(data)
    assert hdu.header["NAXIS"] == 4 and hdu.header["GCOUNT"] == 6 and hdu.header["PCOUNT"] == 3
    assert hdu._summary() == ("PRIMARY", 1, "GroupsHDU", 14, (5, 2, 1), "float32",
                              "1 Groups  0 Parameters")
    path = tmp_path / "new.fits"
    hdu.writeto(path)
    expected = tmp_path / "astropy.fits"
    afits.GroupsHDU(new_float_groups(afits)[1]).writeto(expected)
    assert path.read_bytes() == expected.read_bytes()
    fitsverify(path)
    with fits.open(path) as hdul:
        back = hdul[0].data
        assert back.parnames == ["UU", "BASE", "uu"]
        np.testing.assert_array_equal(back.par(0), np.arange(6) + 0.5)
        np.testing.assert_array_equal(back.par("UU"), data.par("UU"))
        np.testing.assert_array_equal(back.data, images)


def test_new_int16_groups_with_scaling(fits, tmp_path, fitsverify):
    astropy_only_bug(fits, "the GroupData constructor leaves scaled fields unset in the file")
    images = np.arange(36, dtype=np.int16).reshape(4, 3, 3) * 3
    pardata = [np.array([0.5, 1.0, 1.5, 2.0]), 2450000.5 + np.arange(4), np.arange(4) * 2.0 - 2]
    data = fits.GroupData(images, bitpix=16, parnames=["UU", "DATE", "UU"], pardata=pardata,
                          parbscales=[0.5, None, 2.0], parbzeros=[None, 2449000.5, None],
                          bscale=1.5)
    np.testing.assert_array_equal(data.par("DATE"), pardata[1])
    np.testing.assert_array_equal(data.par("uu"), pardata[0] + pardata[2])
    assert data.data.dtype == np.int16
    hdu = fits.GroupsHDU(data)
    assert [(key, hdu.header[key]) for key in ("BITPIX", "BSCALE", "PSCAL1", "PZERO2", "PSCAL3")] \
        == [("BITPIX", 16), ("BSCALE", 1.5), ("PSCAL1", 0.5), ("PZERO2", 2449000.5),
            ("PSCAL3", 2.0)]
    assert "PZERO1" not in hdu.header and "BZERO" not in hdu.header
    path = tmp_path / "int16.fits"
    hdu.writeto(path)
    fitsverify(path)
    for reader in (afits, fits):
        with reader.open(path) as hdul:
            back = hdul[0].data
            assert back.dtype["UU"] == np.dtype(">i2")
            np.testing.assert_array_equal(np.asarray(back.view(np.ndarray)["UU"]), [1, 2, 3, 4])
            for index in range(3):
                np.testing.assert_array_equal(back.par(index), pardata[index])
            np.testing.assert_array_equal(back.data, images)


def test_scaled_parameters_set_and_written(fits, scaled_file, tmp_path, fitsverify):
    outputs = []
    for index, library in enumerate((fits, afits)):
        with library.open(scaled_file) as hdul:
            data = hdul[0].data
            data[0].setpar(0, 3.5)                  # UU (first) of group 0
            data[1].setpar("uu", (2.0, 6.0))        # both UU of group 1
            data[2].setpar("DATE", 2450020.0)
            with pytest.raises(ValueError, match="sequence with 2"):
                data[3].setpar("UU", 1.0)
            assert data[1].par("UU") == 8.0
            out = tmp_path / f"out-{index}.fits"
            hdul.writeto(out)
            outputs.append(out)
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    fitsverify(outputs[0])
    with afits.open(outputs[0]) as hdul:
        data = hdul[0].data
        np.testing.assert_array_equal(data.par(0), [3.5, 2.0, 2.0, 2.5])
        np.testing.assert_array_equal(data.par(2), [-2.0, 6.0, 2.0, 4.0])
        np.testing.assert_array_equal(data.par("date"), [2450010.0, 2450011.0, 2450020.0,
                                                          2450013.0])
        assert hdul[0].header["OBJECT"] == "scaled"


def test_update_mode(fits, tmp_path):
    path = tmp_path / "update.fits"
    shutil.copy(RANDOM_GROUPS, path)
    untouched = path.read_bytes()
    with fits.open(path, mode="update") as hdul:
        hdul[0].data.par("DATE")
    assert path.read_bytes() == untouched
    with fits.open(path, mode="update") as hdul:
        hdul[0].data["UU"] = 0.42
        hdul[0].data[2].setpar(3, 17.0)
    with afits.open(path) as hdul:
        np.testing.assert_array_equal(hdul[0].data.par("UU"), np.full(3, 0.42, np.float32))
        np.testing.assert_array_equal(hdul[0].data.par("BASELINE"), [258.0, 259.0, 17.0])


def test_update_mode_scaled_parameter(fits, tmp_path):
    astropy_only_bug(fits, "scaled values set in update mode are not written back")
    path = tmp_path / "update.fits"
    shutil.copy(RANDOM_GROUPS, path)
    with fits.open(path, mode="update") as hdul:
        hdul[0].data[1].setpar("DATE", 2455957.25)
    with afits.open(path) as hdul:
        assert hdul[0].data.par("DATE")[1] == 2455957.25


# ---------------------------------------------------------------------------------------------
# headers, errors and verification


def test_headers_of_new_hdus(fits):
    empty = fits.GroupsHDU()
    assert [(c.keyword, c.value) for c in empty.header.cards] == [
        ("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 1), ("NAXIS1", 0), ("EXTEND", True),
        ("GROUPS", True), ("PCOUNT", 0), ("GCOUNT", 1)]
    assert empty.data is None and empty.size == 0 and empty.shape == (0,)
    assert empty._summary() == ("PRIMARY", 1, "GroupsHDU", 8, (), "", "1 Groups  0 Parameters")

    template = fits.Header([("NAXIS", 2), ("NAXIS1", 7), ("NAXIS2", 7), ("OBJECT", "M31", "name"),
                            ("PTYPE1", "old"), ("GROUPS", True), ("HISTORY", "made here")])
    data = fits.GroupData(np.zeros((2, 4)), parnames=["A", "B"], pardata=[[1, 2], [3, 4]])
    hdu = fits.GroupsHDU(data, header=template)
    assert [card.image for card in hdu.header.cards] == [
        "SIMPLE  =                    T / conforms to FITS standard                      ",
        "BITPIX  =                  -64 / array data type                                ",
        "NAXIS   =                    2 / number of array dimensions                     ",
        "NAXIS1  =                    0                                                  ",
        "NAXIS2  =                    4                                                  ",
        "GROUPS  =                    T / has groups                                     ",
        "PCOUNT  =                    2 / number of parameters                           ",
        "GCOUNT  =                    2 / number of groups                               ",
        "OBJECT  = 'M31     '           / name                                           ",
        "PTYPE1  = 'A       '                                                            ",
        "PTYPE2  = 'B       '                                                            ",
        "HISTORY made here                                                               ",
    ]
    assert hdu.columns.names == ["A", "B", "DATA"]
    assert not hdu.is_image


def test_bad_input(fits):
    with pytest.raises(ValueError, match="number of parameter data arrays"):
        fits.GroupData(np.zeros((2, 3)), parnames=["A"], pardata=[[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="incorrect array type"):
        fits.GroupsHDU(np.zeros((2, 3)))
    data = fits.GroupData(np.zeros((2, 3), np.float32), parnames=None, pardata=[[1, 2]])
    assert data.parnames == ["PAR1"]
    with pytest.raises(KeyError):
        data[0].par("PAR2")


def test_verify_fixes_structural_keywords(fits):
    data = fits.GroupData(np.zeros((2, 3), np.float32), parnames=["A"], pardata=[[1, 2]])
    hdu = fits.GroupsHDU(data)
    del hdu.header["GROUPS"]
    hdu.header["NAXIS1"] = 5
    hdu.verify("silentfix")
    assert hdu.header["GROUPS"] is True and hdu.header["NAXIS1"] == 0
    assert list(hdu.header)[:7] == ["SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND",
                                    "GROUPS"]
    # verifying first puts the axes back in order, which carries GCOUNT past them
    empty = fits.GroupsHDU()
    del empty.header["GCOUNT"]
    empty.header.insert(3, ("GCOUNT", 1))
    empty.verify("exception")
    assert list(empty.header) == ["SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "EXTEND", "GCOUNT",
                                  "GROUPS", "PCOUNT"]
    del empty.header["PCOUNT"]
    with pytest.raises(fits.VerifyError, match="'PCOUNT' card does not exist"):
        empty.verify("exception")


def test_empty_groups_hdu_in_either_layout(tmp_path, fitsverify):
    """A random-groups HDU with no axes beyond NAXIS1 = 0 holds |BITPIX|/8 x GCOUNT x
    (PCOUNT + 1) bytes by the standard's formula, as CFITSIO (and so fitsbind) writes it;
    astropy writes no data unit for it. fitsbind reads the HDU after it in both layouts."""
    import fitsbind

    image = np.arange(100, dtype=np.int32)
    ours = tmp_path / "ours.fits"
    fitsbind.HDUList([fitsbind.GroupsHDU(), fitsbind.ImageHDU(image)]).writeto(ours)
    fitsverify(ours)
    theirs = tmp_path / "theirs.fits"
    afits.HDUList([afits.GroupsHDU(), afits.ImageHDU(image)]).writeto(theirs)
    assert ours.stat().st_size == theirs.stat().st_size + 2880
    for path in (ours, theirs):
        with fitsbind.open(path) as hdul:
            assert [type(hdu).__name__ for hdu in hdul] == ["GroupsHDU", "ImageHDU"]
            np.testing.assert_array_equal(hdul[1].data, image)
