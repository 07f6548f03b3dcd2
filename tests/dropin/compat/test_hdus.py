"""HDU classes (PrimaryHDU, ImageHDU, BinTableHDU, TableHDU, GroupsHDU, CompImageHDU): one test body
run against astropy.io.fits and fitsbind (the ``fits`` fixture)."""

from __future__ import annotations

import os

import astropy
import numpy as np
import pytest
from astropy.io import fits as afits
from astropy.table import Table

COMPRESSED_DIR = os.path.join(
    os.path.dirname(astropy.__file__), "io", "fits", "hdu", "compressed", "tests", "data"
)


def shipped(name: str) -> str:
    """Path of a file astropy ships in astropy/io/fits/tests/data."""
    return afits.util.get_testdata_filepath(name)


def header_images(header) -> list[str]:
    """The 80-character card images of ``header``, in order, END excluded."""
    return [str(card) for card in header.cards]


# ---------------------------------------------------------------------------------------------
# PrimaryHDU and ImageHDU


def test_primary_hdu_empty(fits):
    hdu = fits.PrimaryHDU()
    assert header_images(hdu.header) == [
        "SIMPLE  =                    T / conforms to FITS standard                      ",
        "BITPIX  =                    8 / array data type                                ",
        "NAXIS   =                    0 / number of array dimensions                     ",
        "EXTEND  =                    T                                                  ",
    ]
    assert hdu.data is None
    assert hdu.name == "PRIMARY"
    assert hdu.ver == 1
    assert hdu.level == 1
    assert hdu.shape == ()
    assert hdu.size == 0
    assert hdu.is_image
    assert hdu.filebytes() == 2880
    assert hdu.fileinfo() is None


@pytest.mark.parametrize(
    ("dtype", "bitpix"),
    [(np.uint8, 8), (np.int16, 16), (np.int32, 32), (np.int64, 64), (np.float32, -32), (np.float64, -64)],
)
def test_primary_hdu_bitpix_from_dtype(fits, dtype, bitpix):
    data = np.arange(6, dtype=dtype).reshape(2, 3)
    hdu = fits.PrimaryHDU(data)
    assert hdu.header["BITPIX"] == bitpix
    assert hdu.header["NAXIS"] == 2
    assert hdu.header["NAXIS1"] == 3
    assert hdu.header["NAXIS2"] == 2
    assert hdu.shape == (2, 3)
    assert hdu.size == 6 * np.dtype(dtype).itemsize  # bytes, not elements
    assert hdu.filebytes() == 2 * 2880


def test_primary_hdu_with_header_cards(fits):
    header = fits.Header([("ORIGIN", "Archive", "where from"), ("MJD", 60374, "when")])
    hdu = fits.PrimaryHDU(np.zeros((2, 2), dtype=np.float32), header=header)
    assert header_images(hdu.header) == [
        "SIMPLE  =                    T / conforms to FITS standard                      ",
        "BITPIX  =                  -32 / array data type                                ",
        "NAXIS   =                    2 / number of array dimensions                     ",
        "NAXIS1  =                    2                                                  ",
        "NAXIS2  =                    2                                                  ",
        "ORIGIN  = 'Archive '           / where from                                     ",
        "MJD     =                60374 / when                                           ",
    ]


def test_image_hdu_header(fits):
    hdu = fits.ImageHDU(np.zeros((4, 5), dtype=np.int16), name="sci", ver=2)
    assert header_images(hdu.header) == [
        "XTENSION= 'IMAGE   '           / Image extension                                ",
        "BITPIX  =                   16 / array data type                                ",
        "NAXIS   =                    2 / number of array dimensions                     ",
        "NAXIS1  =                    5                                                  ",
        "NAXIS2  =                    4                                                  ",
        "PCOUNT  =                    0 / number of parameters                           ",
        "GCOUNT  =                    1 / number of groups                               ",
        "EXTNAME = 'SCI     '           / extension name                                 ",
        "EXTVER  =                    2 / extension value                                ",
    ]
    assert hdu.name == "SCI"
    assert hdu.ver == 2


def test_image_hdu_name_ver_level_setters(fits):
    hdu = fits.ImageHDU(np.zeros(3))
    assert hdu.name == ""
    assert hdu.ver == 1
    assert hdu.level == 1
    hdu.name = "flux"
    assert hdu.name == "FLUX"
    assert hdu.header["EXTNAME"] == "FLUX"
    hdu.ver = 3
    assert hdu.header["EXTVER"] == 3
    hdu.level = 2
    assert hdu.header["EXTLEVEL"] == 2
    with pytest.raises(TypeError):
        hdu.name = 5


def test_image_hdu_data_assignment_updates_header(fits):
    hdu = fits.ImageHDU(np.zeros((2, 3, 4), dtype=np.float32))
    hdu.data = np.ones((5, 6), dtype=np.int16)
    assert hdu.header["BITPIX"] == 16
    assert hdu.header["NAXIS"] == 2
    assert hdu.header["NAXIS1"] == 6
    assert hdu.header["NAXIS2"] == 5
    assert "NAXIS3" not in hdu.header
    hdu.update_header()
    assert hdu.header["NAXIS1"] == 6


def test_image_hdu_rejects_non_array(fits):
    with pytest.raises(TypeError):
        fits.ImageHDU(data="not an array")


def test_image_hdu_rejects_a_scalar(fits):
    for scalar in (1, np.array(1)):
        with pytest.raises(TypeError, match=r"data object array\(1\) should have at least one dimension"):
            fits.ImageHDU(data=scalar)


def test_image_hdu_copies_the_header_it_is_given(fits):
    given = fits.PrimaryHDU().header
    given["FILENAME"] = "raw.fits"
    hdu = fits.PrimaryHDU(header=given)
    hdu.header["FILENAME"] = "flt.fits"
    assert given["FILENAME"] == "raw.fits"


def test_image_hdu_header_assignment_follows_the_data(fits):
    hdu = fits.ImageHDU(np.zeros((2, 3), dtype=np.int16))
    header = hdu.header.copy()
    del header["NAXIS*"]
    del header["BITPIX"]
    hdu.header = header
    assert list(hdu.header)[:5] == ["XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2"]
    assert (hdu.header["BITPIX"], hdu.header["NAXIS1"], hdu.header["NAXIS2"]) == (16, 3, 2)
    hdu.verify("exception")


def test_primary_names_the_first_hdu_whatever_its_extname(fits):
    hdul = fits.HDUList([fits.PrimaryHDU(header=fits.Header([("EXTNAME", "XPRIMARY")])),
                         fits.ImageHDU(name="SCI")])
    assert hdul["PRIMARY"] is hdul["XPRIMARY"] is hdul[0]
    assert hdul[("PRIMARY", 1)] is hdul[0]


def test_image_hdu_from_file_attributes(fits, sample):
    with fits.open(sample.path) as hdul:
        hdu = hdul[2]
        assert hdu.name == "SCI"
        assert hdu.ver == 2
        assert hdu.shape == (2, 3)
        assert hdu.size == 24
        assert hdu.is_image
        assert hdu.filebytes() == 2 * 2880
        info = hdu.fileinfo()
        assert info["hdrLoc"] == 4 * 2880
        assert info["datLoc"] == 5 * 2880
        assert info["datSpan"] == 2880
        assert info["filemode"] == "readonly"


def test_image_hdu_section(fits, tmpfile):
    cube = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    path = tmpfile("cube.fits")
    afits.HDUList([afits.PrimaryHDU(), afits.ImageHDU(cube)]).writeto(path)
    with fits.open(path) as hdul:
        section = hdul[1].section
        assert section.shape == (2, 3, 4)
        np.testing.assert_array_equal(section[1, :, 1:3], cube[1, :, 1:3])
        assert section[1, :, 1:3].dtype == np.float32
        assert section[0, 1, 2] == 6.0
        np.testing.assert_array_equal(section[..., 0], cube[..., 0])
        np.testing.assert_array_equal(section[::2, ::-1], cube[::2, ::-1])
        np.testing.assert_array_equal(section[-1], cube[-1])


def test_image_hdu_section_scaled(fits, scaled_file, uint16_file):
    with fits.open(scaled_file.path) as hdul:
        part = hdul[0].section[1, 1:]
        np.testing.assert_array_equal(part, scaled_file.physical[1, 1:].astype(np.float32))
        assert part.dtype == np.float32
    with fits.open(uint16_file.path) as hdul:
        part = hdul[0].section[1]
        np.testing.assert_array_equal(part, uint16_file.values[1])
        assert part.dtype == np.uint16


def test_image_hdu_section_out_of_range(fits, sample):
    with fits.open(sample.path) as hdul:
        with pytest.raises(IndexError):
            hdul[1].section[5, 0]


def test_scaled_image_header_after_access(fits, scaled_file):
    with fits.open(scaled_file.path) as hdul:
        hdu = hdul[0]
        assert hdu.header["BITPIX"] == 16
        assert hdu.header["BSCALE"] == 2.5
        data = hdu.data
        assert data.dtype == np.float32
        # once the data are physical values the header describes them as float32
        assert hdu.header["BITPIX"] == -32
        assert "BSCALE" not in hdu.header
        assert "BZERO" not in hdu.header
        # astropy blanks the scaling cards in place rather than removing them
        assert list(hdu.header.keys()) == ["SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "OBJECT", "", ""]


def test_scaled_image_float64_when_int32(fits, write_raw):
    raw = np.array([1, 2, 3], dtype=">i4")
    cards = [("SIMPLE", True), ("BITPIX", 32), ("NAXIS", 1), ("NAXIS1", 3), ("BSCALE", 0.5), ("BZERO", 1.0)]
    path = write_raw([(cards, raw.tobytes())])
    with fits.open(path) as hdul:
        data = hdul[0].data
        assert data.dtype == np.float64
        np.testing.assert_array_equal(data, [1.5, 2.0, 2.5])


def test_uint16_image_round_trip(fits, tmpfile, fitsverify):
    values = np.array([0, 1, 40000, 65535], dtype=np.uint16)
    path = tmpfile("u16.fits")
    fits.PrimaryHDU(values).writeto(path)
    with afits.open(path, do_not_scale_image_data=True) as check:
        assert check[0].header["BITPIX"] == 16
        assert check[0].header["BZERO"] == 32768
        assert check[0].header["BSCALE"] == 1
        np.testing.assert_array_equal(check[0].data, (values.astype(np.int32) - 32768).astype(np.int16))
    np.testing.assert_array_equal(afits.getdata(path), values)
    fitsverify(path)


def test_uint32_image_round_trip(fits, tmpfile, fitsverify):
    values = np.array([0, 1, 2**31, 2**32 - 1], dtype=np.uint32)
    path = tmpfile("u32.fits")
    fits.PrimaryHDU(values).writeto(path)
    with afits.open(path) as check:
        assert check[0].header["BITPIX"] == 32
        assert check[0].header["BZERO"] == 2**31
        assert check[0].data.dtype == np.uint32
        np.testing.assert_array_equal(check[0].data, values)
    fitsverify(path)


def test_scale_minmax(fits):
    hdu = fits.PrimaryHDU(np.array([[1.5, 2.5], [100.0, -50.0]]))
    hdu.scale("int16", "minmax")
    assert hdu.data.dtype == np.int16
    np.testing.assert_array_equal(hdu.data, [[-10267, -9830], [32767, -32767]])
    assert hdu.header["BITPIX"] == 16
    assert hdu.header["BZERO"] == 25.0
    assert hdu.header["BSCALE"] == 150 / 65534
    assert str(hdu.header.cards["BSCALE"]).startswith("BSCALE  = 0.002288888210699789")


def test_scale_explicit_bscale_bzero(fits, tmpfile, fitsverify):
    hdu = fits.PrimaryHDU(np.array([[1.5, 2.5], [100.0, -50.0]]))
    hdu.scale("int16", bscale=0.5, bzero=10)
    np.testing.assert_array_equal(hdu.data, [[-17, -15], [180, -120]])
    assert hdu.header["BSCALE"] == 0.5
    assert hdu.header["BZERO"] == 10
    path = tmpfile("scaled.fits")
    hdu.writeto(path)
    with afits.open(path) as check:
        assert check[0].header["BITPIX"] == 16
        np.testing.assert_array_equal(check[0].data, [[1.5, 2.5], [100.0, -50.0]])
    fitsverify(path)


def test_scale_type_only_drops_scaling(fits):
    hdu = fits.PrimaryHDU(np.arange(4, dtype=np.float64))
    hdu.scale("int32")
    assert hdu.data.dtype == np.int32
    np.testing.assert_array_equal(hdu.data, [0, 1, 2, 3])
    assert hdu.header["BITPIX"] == 32
    assert "BSCALE" not in hdu.header
    assert "BZERO" not in hdu.header


def test_scale_old_restores_file_scaling(fits, scaled_file):
    with fits.open(scaled_file.path) as hdul:
        hdu = hdul[0]
        np.testing.assert_array_equal(hdu.data, scaled_file.physical.astype(np.float32))
        hdu.scale("int16", "old")
        assert hdu.data.dtype == np.int16
        np.testing.assert_array_equal(hdu.data, scaled_file.raw)
        assert hdu.header["BSCALE"] == 2.5
        assert hdu.header["BZERO"] == 10.0
        assert hdu.header["BITPIX"] == 16


def test_image_hdu_writeto_adds_primary(fits, tmpfile, fitsverify):
    path = tmpfile("img.fits")
    fits.ImageHDU(np.arange(3, dtype=np.int16), name="X").writeto(path)
    with afits.open(path) as check:
        assert [type(h).__name__ for h in check] == ["PrimaryHDU", "ImageHDU"]
        assert check[1].name == "X"
        np.testing.assert_array_equal(check[1].data, [0, 1, 2])
    fitsverify(path)


def test_primary_hdu_writeto_overwrite(fits, tmpfile, fitsverify):
    path = tmpfile("pri.fits")
    fits.PrimaryHDU(np.arange(3)).writeto(path)
    with pytest.raises(OSError, match="already exists"):
        fits.PrimaryHDU(np.arange(4)).writeto(path)
    fits.PrimaryHDU(np.arange(4)).writeto(path, overwrite=True)
    np.testing.assert_array_equal(afits.getdata(path), np.arange(4))
    assert path.stat().st_size == 2 * 2880
    fitsverify(path)


def test_hdu_copy_is_independent(fits):
    hdu = fits.ImageHDU(np.arange(4, dtype=np.int16), name="ORIG")
    copied = hdu.copy()
    assert type(copied) is type(hdu)
    assert copied.header is not hdu.header
    assert not np.shares_memory(copied.data, hdu.data)
    copied.data[0] = 100
    copied.header["EXTNAME"] = "COPY"
    assert hdu.data[0] == 0
    assert hdu.name == "ORIG"


def test_image_data_big_endian_from_file(fits, sample):
    with fits.open(sample.path) as hdul:
        assert hdul[1].data.dtype == np.dtype(">f4")
        assert hdul[0].data.dtype == np.dtype(">i2")


# ---------------------------------------------------------------------------------------------
# BinTableHDU


def test_bintable_from_columns_header(fits):
    hdu = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="ID", format="J", array=np.array([1, 2, 3])),
            fits.Column(name="FLUX", format="E", unit="Jy", array=np.array([0.5, 1.5, 2.5])),
            fits.Column(name="NAME", format="6A", array=np.array(["a", "bb", "ccc"])),
        ],
        name="CAT",
    )
    assert header_images(hdu.header) == [
        "XTENSION= 'BINTABLE'           / binary table extension                         ",
        "BITPIX  =                    8 / array data type                                ",
        "NAXIS   =                    2 / number of array dimensions                     ",
        "NAXIS1  =                   14 / length of dimension 1                          ",
        "NAXIS2  =                    3 / length of dimension 2                          ",
        "PCOUNT  =                    0 / number of group parameters                     ",
        "GCOUNT  =                    1 / number of groups                               ",
        "TFIELDS =                    3 / number of table fields                         ",
        "TTYPE1  = 'ID      '                                                            ",
        "TFORM1  = 'J       '                                                            ",
        "TTYPE2  = 'FLUX    '                                                            ",
        "TFORM2  = 'E       '                                                            ",
        "TUNIT2  = 'Jy      '                                                            ",
        "TTYPE3  = 'NAME    '                                                            ",
        "TFORM3  = '6A      '                                                            ",
        "EXTNAME = 'CAT     '           / extension name                                 ",
    ]
    assert hdu.name == "CAT"
    assert hdu.columns.names == ["ID", "FLUX", "NAME"]
    assert hdu.columns.formats == ["J", "E", "6A"]
    assert hdu.size == 42
    assert not hdu.is_image
    assert hdu.filebytes() == 2 * 2880
    np.testing.assert_array_equal(hdu.data["FLUX"], np.array([0.5, 1.5, 2.5], dtype=np.float32))


def test_bintable_from_record_array(fits):
    rec = np.rec.fromarrays(
        [np.arange(3, dtype=np.int32), np.array([1.5, 2.0, 3.0]), np.array(["a", "bb", "ccc"])], names="i,f,s"
    )
    hdu = fits.BinTableHDU(data=rec, name="REC")
    assert hdu.header["NAXIS1"] == 15
    assert hdu.columns.formats == ["J", "D", "3A"]
    assert isinstance(hdu.data, fits.FITS_rec)
    np.testing.assert_array_equal(hdu.data["f"], [1.5, 2.0, 3.0])
    np.testing.assert_array_equal(hdu.data["s"], ["a", "bb", "ccc"])


def test_bintable_from_fits_rec(fits):
    source = fits.BinTableHDU.from_columns([fits.Column("A", "I", array=np.array([5, 6]))])
    hdu = fits.BinTableHDU(data=source.data)
    assert hdu.columns.formats == ["I"]
    np.testing.assert_array_equal(hdu.data["A"], [5, 6])


def test_bintable_from_astropy_table(fits, tmpfile, fitsverify):
    table = Table({"a": [1, 2], "b": ["x", "yy"], "c": [[1.0, 2.0], [3.0, 4.0]]})
    table["a"].unit = "m"
    hdu = fits.BinTableHDU(data=table)
    assert hdu.header["TFORM1"] == "K"
    assert hdu.header["TUNIT1"] == "m"
    assert hdu.header["TFORM2"] == "2A"
    assert hdu.header["TFORM3"] == "2D"
    assert hdu.header["TDIM3"] == "(2)"
    assert hdu.header["NAXIS1"] == 26
    path = tmpfile("table.fits")
    hdu.writeto(path)
    with afits.open(path) as check:
        data = check[1].data
        np.testing.assert_array_equal(data["a"], [1, 2])
        np.testing.assert_array_equal(data["b"], ["x", "yy"])
        np.testing.assert_array_equal(data["c"], [[1.0, 2.0], [3.0, 4.0]])
    fitsverify(path)


@pytest.mark.parametrize("fill", [False, True])
def test_bintable_from_columns_nrows_fill(fits, fill):
    source = fits.BinTableHDU.from_columns(
        [
            fits.Column("I", "J", array=np.arange(3)),
            fits.Column("S", "3A", array=np.array(["a", "bb", "ccc"])),
        ]
    )
    hdu = fits.BinTableHDU.from_columns(source.columns, nrows=5, fill=fill)
    assert len(hdu.data) == 5
    assert hdu.header["NAXIS2"] == 5
    expected_i = [0, 0, 0, 0, 0] if fill else [0, 1, 2, 0, 0]
    expected_s = [""] * 5 if fill else ["a", "bb", "ccc", "", ""]
    np.testing.assert_array_equal(hdu.data["I"], expected_i)
    np.testing.assert_array_equal(hdu.data["S"], expected_s)


def test_bintable_from_file(fits, sample):
    with fits.open(sample.path) as hdul:
        hdu = hdul["CAT"]
        assert isinstance(hdu, fits.BinTableHDU)
        assert hdu.columns.names == ["ID", "NAME", "FLUX"]
        assert hdu.columns["FLUX"].unit == "Jy"
        assert hdu.size == 48
        assert not hdu.is_image
        assert hdu.filebytes() == 2 * 2880
        assert hdu.fileinfo()["datLoc"] == 7 * 2880
        data = hdu.data
        assert isinstance(data, fits.FITS_rec)
        assert data.dtype.names == ("ID", "NAME", "FLUX")
        assert data.dtype["ID"] == np.dtype(">i4")
        np.testing.assert_array_equal(data["ID"], sample.ids)
        np.testing.assert_array_equal(data.field(1), sample.names)
        assert data[1]["NAME"] == "bb"
        assert tuple(data[2]) == (30, "ccc", np.float32(3.5))


def test_bintable_writeto_round_trip(fits, sample, tmpfile, fitsverify):
    path = tmpfile("cat.fits")
    with fits.open(sample.path) as hdul:
        hdul["CAT"].writeto(path)
    with afits.open(path) as check:
        assert [type(h).__name__ for h in check] == ["PrimaryHDU", "BinTableHDU"]
        np.testing.assert_array_equal(check[1].data["ID"], sample.ids)
        np.testing.assert_array_equal(check[1].data["NAME"], sample.names)
        np.testing.assert_array_equal(check[1].data["FLUX"], sample.flux)
    fitsverify(path)


def test_bintable_copy_is_independent(fits, sample):
    with fits.open(sample.path) as hdul:
        original = hdul["CAT"]
        copied = original.copy()
        copied.data["ID"][0] = -1
        assert original.data["ID"][0] == 10
        assert copied.header["TFORM1"] == "J"
        assert copied.header is not original.header


# ---------------------------------------------------------------------------------------------
# TableHDU (ASCII)


def test_ascii_table_from_columns(fits, tmpfile, fitsverify):
    hdu = fits.TableHDU.from_columns(
        [
            fits.Column("X", "I5", array=np.array([1, 2])),
            fits.Column("NAME", "A4", array=np.array(["ab", "c"])),
            fits.Column("Y", "E12.4", array=np.array([1.5, -2e10])),
        ],
        name="ASC",
    )
    assert header_images(hdu.header)[:3] == [
        "XTENSION= 'TABLE   '           / ASCII table extension                          ",
        "BITPIX  =                    8 / array data type                                ",
        "NAXIS   =                    2 / number of array dimensions                     ",
    ]
    assert hdu.header["NAXIS1"] == 21
    assert [hdu.header[f"TBCOL{i}"] for i in (1, 2, 3)] == [1, 6, 10]
    assert hdu.size == 42
    path = tmpfile("ascii.fits")
    hdu.writeto(path)
    raw = path.read_bytes()
    assert raw[2 * 2880 : 2 * 2880 + 42] == b"    1ab    1.5000E+00    2c    -2.0000E+10"
    with afits.open(path) as check:
        np.testing.assert_array_equal(check[1].data["X"], [1, 2])
        np.testing.assert_array_equal(check[1].data["NAME"], ["ab", "c"])
        np.testing.assert_array_equal(check[1].data["Y"], [1.5, -2e10])
    fitsverify(path)


def test_ascii_table_from_file(fits, sample):
    with fits.open(sample.path) as hdul:
        hdu = hdul["ASC"]
        assert isinstance(hdu, fits.TableHDU)
        assert hdu.columns.formats == ["I5", "F8.3"]
        assert not hdu.is_image
        np.testing.assert_array_equal(hdu.data["X"], sample.x)
        np.testing.assert_array_equal(hdu.data["Y"], sample.y)
        assert hdu.data["Y"].dtype == np.float64


# ---------------------------------------------------------------------------------------------
# GroupsHDU


def test_groups_hdu_read(fits):
    path = shipped("random_groups.fits")
    with fits.open(path) as hdul, afits.open(path) as oracle:
        hdu = hdul[0]
        assert type(hdu).__name__ == "GroupsHDU"
        assert not hdu.is_image
        assert hdu.shape == (1, 1, 128, 1, 3, 0)
        assert hdu.size == 4668
        data = hdu.data
        assert type(data).__name__ == "GroupData"
        assert data.parnames == ["UU", "VV", "WW", "BASELINE", "DATE"]
        assert len(data) == 3
        expected = oracle[0].data
        for name in data.parnames:
            np.testing.assert_array_equal(data.par(name), expected.par(name))
        np.testing.assert_array_equal(data.par(0), expected.par(0))
        np.testing.assert_array_equal(data.data, expected.data)
        assert data.data.shape == (3, 1, 1, 128, 1, 3)
        assert data[0].par(0) == expected[0].par(0)
        # DATE has PZERO 2455955.5
        assert data.par("DATE")[0] == expected.par("DATE")[0]
        assert hdu.columns.names == ["UU", "VV", "WW", "BASELINE", "DATE", "DATA"]


def test_groups_hdu_write(fits, tmpfile, fitsverify):
    images = np.arange(100.0, dtype=np.float32).reshape(10, 1, 1, 2, 5)
    group_data = fits.GroupData(
        images, parnames=["abc", "xyz"], pardata=[np.arange(10) + 0.1, 42.0], bitpix=-32
    )
    hdu = fits.GroupsHDU(group_data)
    assert header_images(hdu.header) == [
        "SIMPLE  =                    T / conforms to FITS standard                      ",
        "BITPIX  =                  -32 / array data type                                ",
        "NAXIS   =                    5 / number of array dimensions                     ",
        "NAXIS1  =                    0                                                  ",
        "NAXIS2  =                    5                                                  ",
        "NAXIS3  =                    2                                                  ",
        "NAXIS4  =                    1                                                  ",
        "NAXIS5  =                    1                                                  ",
        "EXTEND  =                    T                                                  ",
        "GROUPS  =                    T / has groups                                     ",
        "PCOUNT  =                    2 / number of parameters                           ",
        "GCOUNT  =                   10 / number of groups                               ",
        "PTYPE1  = 'abc     '                                                            ",
        "PTYPE2  = 'xyz     '                                                            ",
    ]
    path = tmpfile("groups.fits")
    hdu.writeto(path)
    with afits.open(path) as check:
        assert type(check[0]).__name__ == "GroupsHDU"
        np.testing.assert_allclose(check[0].data.par("abc"), np.arange(10) + 0.1, rtol=1e-6)
        np.testing.assert_array_equal(check[0].data.par("xyz"), np.full(10, 42.0))
        np.testing.assert_array_equal(check[0].data.data, images)
    fitsverify(path)


# ---------------------------------------------------------------------------------------------
# CompImageHDU (reading)


@pytest.mark.parametrize("name", ["m13_gzip.fits", "m13_rice.fits", "m13_hcomp.fits", "m13_plio.fits"])
def test_comp_image_hdu_lossless_read(fits, name):
    expected = afits.getdata(os.path.join(COMPRESSED_DIR, "m13.fits"))
    with fits.open(os.path.join(COMPRESSED_DIR, name)) as hdul:
        assert len(hdul) == 2
        hdu = hdul[1]
        assert isinstance(hdu, fits.CompImageHDU)
        assert hdu.name == "COMPRESSED_IMAGE"
        assert hdu.is_image
        assert hdu.shape == (300, 300)
        assert hdu.size == 90000 * 2
        # the header is the image's header, not the binary table's
        assert hdu.header["NAXIS1"] == 300
        assert hdu.header["BITPIX"] == 16
        assert "ZCMPTYPE" not in hdu.header
        assert hdu.data.dtype == np.int16
        np.testing.assert_array_equal(hdu.data, expected)
        np.testing.assert_array_equal(hdu.section[100:110, 5:300:7], expected[100:110, 5:300:7])


def test_comp_image_hdu_float_with_nan(fits):
    path = os.path.join(COMPRESSED_DIR, "compressed_with_nan.fits")
    with fits.open(path) as hdul, afits.open(path) as oracle:
        data = hdul[1].data
        assert data.dtype == np.float64
        np.testing.assert_array_equal(data, oracle[1].data)
        assert np.isnan(data).sum() == np.isnan(oracle[1].data).sum() > 0


@pytest.mark.parametrize("name", ["comp.fits", "compressed_image.fits", "compressed_float_bzero.fits"])
def test_comp_image_hdu_testdata(fits, name):
    path = shipped(name)
    with fits.open(path) as hdul, afits.open(path) as oracle:
        hdu, expected = hdul[1], oracle[1]
        assert type(hdu).__name__ == "CompImageHDU"
        assert hdu.shape == expected.shape
        assert header_images(hdu.header) == header_images(expected.header)
        assert hdu.data.dtype == expected.data.dtype
        np.testing.assert_array_equal(hdu.data, expected.data)
        assert hdu.filebytes() == expected.filebytes()


def test_name_ver_level_setters_keep_existing_comments(fits):
    header = fits.Header([("EXTNAME", "OLD", "my name"), ("EXTVER", 1, "my ver"), ("EXTLEVEL", 1, "my lvl")])
    hdu = fits.ImageHDU(np.zeros(2), header=header)
    hdu.name = "new"
    hdu.ver = 2
    hdu.level = 3
    cards = hdu.header.cards
    assert [(cards[k].value, cards[k].comment) for k in ("EXTNAME", "EXTVER", "EXTLEVEL")] == [
        ("NEW", "my name"),
        (2, "my ver"),
        (3, "my lvl"),
    ]
    with pytest.raises(TypeError, match="'ver' attribute must be an integer"):
        hdu.ver = "2"
