"""``open`` and ``HDUList``: one test body run against astropy.io.fits and fitsbind (the ``fits`` fixture)."""

from __future__ import annotations

import gc
import gzip
import io
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits as afits

# astropy pads the Dimensions and Format columns with trailing blanks
INFO_SAMPLE = (
    "No.    Name      Ver    Type      Cards   Dimensions   Format\n"
    "  0  PRIMARY       1 PrimaryHDU       7   (4, 3)   int16   \n"
    "  1  SCI           1 ImageHDU         9   (3, 2)   float32   \n"
    "  2  SCI           2 ImageHDU         9   (3, 2)   float32   \n"
    "  3  CAT           1 BinTableHDU     16   3R x 3C   [J, 8A, E]   \n"
    "  4  ASC           1 TableHDU        15   2R x 2C   [I5, F8.3]   \n"
)

INFO_SAMPLE_TUPLES = [
    (0, "PRIMARY", 1, "PrimaryHDU", 7, (4, 3), "int16", ""),
    (1, "SCI", 1, "ImageHDU", 9, (3, 2), "float32", ""),
    (2, "SCI", 2, "ImageHDU", 9, (3, 2), "float32", ""),
    (3, "CAT", 1, "BinTableHDU", 16, "3R x 3C", "[J, 8A, E]", ""),
    (4, "ASC", 1, "TableHDU", 15, "2R x 2C", "[I5, F8.3]", ""),
]

HDU_CLASSES = ["PrimaryHDU", "ImageHDU", "ImageHDU", "BinTableHDU", "TableHDU"]


def check_sample(hdul, sample) -> None:
    """Assert that ``hdul`` holds exactly the sample file's HDUs and values."""
    assert [type(hdu).__name__ for hdu in hdul] == HDU_CLASSES
    np.testing.assert_array_equal(hdul[0].data, sample.primary)
    assert hdul[0].data.dtype == np.dtype(">i2")
    np.testing.assert_array_equal(hdul[1].data, sample.sci1)
    np.testing.assert_array_equal(hdul[2].data, sample.sci2)
    cat = hdul[3].data
    np.testing.assert_array_equal(cat["ID"], sample.ids)
    np.testing.assert_array_equal(cat["NAME"], sample.names)
    np.testing.assert_array_equal(cat["FLUX"], sample.flux)
    np.testing.assert_array_equal(hdul[4].data["X"], sample.x)
    np.testing.assert_array_equal(hdul[4].data["Y"], sample.y)
    assert hdul[0].header["OBSERVER"] == "Edwin"
    assert hdul[0].header.comments["OBSERVER"] == "who observed"


# ---------------------------------------------------------------------------------------------
# open: names, paths, file objects, gzip


def test_open_str_path(fits, sample):
    with fits.open(str(sample.path)) as hdul:
        assert isinstance(hdul, fits.HDUList)
        assert len(hdul) == 5
        check_sample(hdul, sample)
        assert hdul.filename() == str(sample.path)


def test_open_pathlib(fits, sample):
    with fits.open(Path(sample.path)) as hdul:
        check_sample(hdul, sample)
        assert hdul.filename() == str(sample.path)
        assert isinstance(hdul.filename(), str)


def test_open_file_object(fits, sample):
    with open(sample.path, "rb") as f, fits.open(f) as hdul:
        check_sample(hdul, sample)
        assert hdul.filename() == str(sample.path)
        assert hdul.fileinfo(0)["filemode"] == "readonly"


def test_open_bytesio(fits, sample):
    buffer = io.BytesIO(sample.path.read_bytes())
    with fits.open(buffer) as hdul, afits.open(sample.path) as expected:
        check_sample(hdul, sample)
        assert hdul.fileinfo(2)["datLoc"] == expected.fileinfo(2)["datLoc"]


def test_open_gzip(fits, sample, tmpfile):
    gz = tmpfile("sample.fits.gz")
    gz.write_bytes(gzip.compress(sample.path.read_bytes()))
    with fits.open(gz) as hdul:
        check_sample(hdul, sample)
        assert hdul.filename() == str(gz)
        # header and data locations are offsets in the uncompressed stream
        assert hdul.fileinfo(1)["hdrLoc"] == 5760
        assert hdul.fileinfo(1)["datLoc"] == 8640


def test_open_gzip_file_object(fits, sample, tmpfile):
    gz = tmpfile("sample.fits.gz")
    gz.write_bytes(gzip.compress(sample.path.read_bytes()))
    with open(gz, "rb") as f, fits.open(f) as hdul:
        check_sample(hdul, sample)


def test_open_gzip_memmap_gives_plain_array(fits, sample, tmpfile, is_memmap):
    gz = tmpfile("sample.fits.gz")
    gz.write_bytes(gzip.compress(sample.path.read_bytes()))
    with fits.open(gz, memmap=True) as hdul:
        np.testing.assert_array_equal(hdul[1].data, sample.sci1)
        assert not is_memmap(hdul[1].data)


def test_open_name_is_literal(fits, sample, tmpfile):
    # brackets are part of the file name, not an extension selector
    odd = tmpfile("odd[1].fits")
    odd.write_bytes(sample.path.read_bytes())
    with fits.open(odd) as hdul:
        check_sample(hdul, sample)


def test_writeto_gzip_name_compresses(fits, tmpfile):
    path = tmpfile("out.fits.gz")
    fits.PrimaryHDU(np.arange(5)).writeto(path)
    raw = path.read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    assert len(gzip.decompress(raw)) == 2 * 2880
    np.testing.assert_array_equal(afits.getdata(path), np.arange(5))


def test_open_missing_file(fits, tmpfile):
    with pytest.raises(FileNotFoundError):
        fits.open(tmpfile("missing.fits"))
    with pytest.raises(FileNotFoundError):
        fits.open(tmpfile("missing.fits"), mode="update")


def test_open_bad_mode(fits, sample):
    with pytest.raises(ValueError, match="bogus"):
        fits.open(sample.path, mode="bogus")


def test_open_empty_file(fits, tmpfile):
    empty = tmpfile("empty.fits")
    empty.write_bytes(b"")
    with pytest.raises(OSError, match="Empty or corrupt FITS file"):
        fits.open(empty)


# ---------------------------------------------------------------------------------------------
# open: modes


def test_mode_readonly_data_is_private_copy(fits, sample):
    with fits.open(sample.path, mode="readonly") as hdul:
        hdul[1].data[0, 0] = 99.0
        assert hdul[1].data[0, 0] == 99.0
        assert hdul.fileinfo(1)["filemode"] == "readonly"
    np.testing.assert_array_equal(afits.getdata(sample.path, 1), sample.sci1)


def test_mode_update_persists_header_and_data(fits, sample):
    with fits.open(sample.path, mode="update") as hdul:
        assert hdul.fileinfo(0)["filemode"] == "update"
        hdul[1].data[1, 2] = -7.5
        hdul[0].header["NEWKEY"] = (42, "added in update mode")
        hdul[3].data["FLUX"][0] = 9.25
    with afits.open(sample.path) as check:
        assert check[0].header["NEWKEY"] == 42
        assert check[0].header.comments["NEWKEY"] == "added in update mode"
        expected = sample.sci1.copy()
        expected[1, 2] = -7.5
        np.testing.assert_array_equal(check[1].data, expected)
        np.testing.assert_array_equal(check[3].data["FLUX"], [9.25, 2.5, 3.5])
        np.testing.assert_array_equal(check[2].data, sample.sci2)


def test_mode_update_header_growth_moves_data(fits, sample, fitsverify):
    # 40 new cards no longer fit in the primary's single header block: the file is rewritten
    with fits.open(sample.path, mode="update") as hdul:
        for i in range(40):
            hdul[0].header[f"KEY{i}"] = i
    with afits.open(sample.path) as check:
        assert check.fileinfo(0)["datLoc"] == 5760
        assert [check[0].header[f"KEY{i}"] for i in range(40)] == list(range(40))
        np.testing.assert_array_equal(check[0].data, sample.primary)
        np.testing.assert_array_equal(check[3].data["NAME"], sample.names)
    fitsverify(sample.path)


def test_mode_update_keeps_size_cards_of_unread_data(fits, tmpfile, fitsverify):
    """NAXISn changed on an HDU whose data was never read: the data stays as it is on disk, and
    so do the cards that size it; other edits are written, the HDUs after it stay intact."""
    path = tmpfile()
    afits.HDUList([afits.PrimaryHDU(),
                   afits.ImageHDU(np.arange(2000, dtype=np.int16).reshape(2, 1000), name="A"),
                   afits.ImageHDU(np.ones(3), name="B")]).writeto(path)
    with fits.open(path, mode="update") as hdul:
        hdul[1].header["NAXIS2"] = 3        # three blocks instead of two
        hdul[1].header["OTHER"] = "kept"
    fitsverify(path)
    with afits.open(path) as hdul:
        assert hdul[1].header["NAXIS2"] == 2 and hdul[1].header["OTHER"] == "kept"
        np.testing.assert_array_equal(hdul[1].data, np.arange(2000).reshape(2, 1000))
        np.testing.assert_array_equal(hdul["B"].data, np.ones(3))


def test_mode_append(fits, sample, fitsverify):
    extra = np.linspace(0, 1, 5)
    with fits.open(sample.path, mode="append") as hdul:
        assert hdul.fileinfo(0)["filemode"] == "append"
        hdul.append(fits.ImageHDU(extra, name="EXTRA"))
    with afits.open(sample.path) as check:
        assert len(check) == 6
        assert check[5].name == "EXTRA"
        np.testing.assert_array_equal(check[5].data, extra)
        np.testing.assert_array_equal(check[1].data, sample.sci1)
    fitsverify(sample.path)


def test_mode_denywrite_is_read_only(fits, sample):
    with fits.open(sample.path, mode="denywrite") as hdul:
        assert hdul.fileinfo(1)["filemode"] == "denywrite"
        data = hdul[1].data
        np.testing.assert_array_equal(data, sample.sci1)
        assert not data.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            data[0, 0] = 1.0


def test_extend_added_when_extension_is_read(fits, tmpfile):
    # a primary header without EXTEND followed by an extension, as the tutorial builds by hand
    path = tmpfile("noextend.fits")
    afits.PrimaryHDU(header=afits.Header([("ORIGIN", "here")])).writeto(path)
    with open(path, "ab") as f:
        f.write(afits.ImageHDU(np.zeros(3)).header.tostring().encode("ascii"))
        f.write(b"\0" * 2880)

    def extend_on_disk() -> bool:
        return b"EXTEND" in path.read_bytes()[:2880]

    for mode in ("readonly", "denywrite"):
        with fits.open(path, mode=mode) as hdul:
            assert len(hdul) == 2
            assert list(hdul[0].header.keys()) == ["SIMPLE", "BITPIX", "NAXIS", "EXTEND", "ORIGIN"]
            assert hdul[0].header["EXTEND"] is True
        assert not extend_on_disk()
    with fits.open(path, mode="update") as hdul:
        assert len(hdul) == 2
    assert extend_on_disk()
    assert list(afits.getheader(path).keys()) == ["SIMPLE", "BITPIX", "NAXIS", "EXTEND", "ORIGIN"]


def test_mode_ostream_writes_on_flush(fits, tmpfile, fitsverify):
    path = tmpfile("stream.fits")
    hdul = fits.open(path, mode="ostream")
    assert len(hdul) == 0
    hdul.append(fits.PrimaryHDU(np.arange(4, dtype=np.int32)))
    hdul.append(fits.ImageHDU(np.ones((2, 2)), name="ONES"))
    hdul.flush()
    hdul.close()
    with afits.open(path) as check:
        assert [h.name for h in check] == ["PRIMARY", "ONES"]
        np.testing.assert_array_equal(check[0].data, np.arange(4))
        np.testing.assert_array_equal(check[1].data, np.ones((2, 2)))
    fitsverify(path)


def test_mode_ostream_close_without_flush_writes_nothing(fits, tmpfile):
    # astropy only flushes 'update' and 'append' files on close
    path = tmpfile("stream.fits")
    hdul = fits.open(path, mode="ostream")
    hdul.append(fits.PrimaryHDU(np.arange(4, dtype=np.int32)))
    hdul.close()
    assert path.stat().st_size == 0


def test_mode_ostream_refuses_existing_file(fits, sample):
    with pytest.raises(OSError, match="already exists"):
        fits.open(sample.path, mode="ostream")


def test_flush_in_readonly_mode_warns(fits, sample):
    with fits.open(sample.path) as hdul:
        with pytest.warns(UserWarning, match="Flush for 'readonly' mode is not supported."):
            hdul.flush()


# ---------------------------------------------------------------------------------------------
# open: keyword arguments


@pytest.mark.parametrize("memmap", [True, False])
def test_open_memmap_flag(fits, sample, memmap, is_memmap):
    with fits.open(sample.path, memmap=memmap) as hdul:
        data = hdul[1].data
        np.testing.assert_array_equal(data, sample.sci1)
        assert data.dtype == np.dtype(">f4")
        assert is_memmap(data) is memmap
        assert (fits.util._get_array_mmap(data) is not None) is memmap
        table = hdul[3].data
        assert is_memmap(table) is memmap


def test_lazy_load_hdus_false_reads_all_headers(fits, sample):
    hdul = fits.open(sample.path, lazy_load_hdus=False)
    hdul.close()
    assert len(hdul) == 5
    assert [hdu.name for hdu in hdul] == ["PRIMARY", "SCI", "SCI", "CAT", "ASC"]


def test_lazy_load_hdus_default_reads_on_demand(fits, sample):
    hdul = fits.open(sample.path)
    hdul.close()
    # nothing past the primary was touched before the file was closed
    assert len(hdul) == 1


def test_lazy_load_many_hdus_jump_to_last(fits, tmpfile):
    path = tmpfile("many.fits")
    hdus = [afits.PrimaryHDU()] + [afits.ImageHDU(np.full(3, i, dtype=np.int16)) for i in range(1, 300)]
    afits.HDUList(hdus).writeto(path)
    with fits.open(path) as hdul:
        last = hdul[299]
        assert last.header["NAXIS1"] == 3
        np.testing.assert_array_equal(last.data, [299, 299, 299])
        assert len(hdul) == 300


def test_readall_then_close_keeps_every_hdu(fits, sample):
    hdul = fits.open(sample.path)
    hdul.readall()
    hdul.close()
    assert len(hdul) == 5
    assert hdul[4].name == "ASC"


@pytest.mark.parametrize("memmap", [True, False])
def test_a_list_left_open_warns_unclosed_file(fits, sample, memmap):
    """A file opened by name and never closed gives a ResourceWarning "unclosed file ..." once
    nothing uses it any more (astropy's comes from its Python file object); data already read
    stays usable."""
    hdul = fits.open(sample.path, memmap=memmap)
    data = hdul[1].data
    with pytest.warns(ResourceWarning, match="unclosed file"):
        del hdul
        gc.collect()
    np.testing.assert_array_equal(data, sample.sci1)


def test_do_not_scale_image_data(fits, scaled_file):
    with fits.open(scaled_file.path, do_not_scale_image_data=True) as hdul:
        hdu = hdul[0]
        assert hdu.data.dtype == np.dtype(">i2")
        np.testing.assert_array_equal(hdu.data, scaled_file.raw)
        assert hdu.header["BITPIX"] == 16
        assert hdu.header["BSCALE"] == 2.5
        assert hdu.header["BZERO"] == 10.0


def test_default_scales_image_data(fits, scaled_file):
    with fits.open(scaled_file.path) as hdul:
        data = hdul[0].data
        assert data.dtype == np.float32
        np.testing.assert_array_equal(data, scaled_file.physical.astype(np.float32))


@pytest.mark.parametrize(("uint", "dtype"), [(True, np.uint16), (False, np.float32)])
def test_uint_flag(fits, uint16_file, uint, dtype):
    with fits.open(uint16_file.path, uint=uint) as hdul:
        data = hdul[0].data
        assert data.dtype == dtype
        np.testing.assert_array_equal(data, uint16_file.values)


@pytest.mark.parametrize(
    ("scaling", "ignore_blank", "expected", "dtype"),
    [
        ([("BSCALE", 2.0), ("BZERO", 0.0)], False, [2.0, np.nan, 6.0], np.float32),
        ([("BSCALE", 2.0), ("BZERO", 0.0)], True, [2.0, -198.0, 6.0], np.float32),
        ([], False, [1.0, np.nan, 3.0], np.float32),
        ([], True, [1, -99, 3], np.dtype(">i2")),
    ],
    ids=["scaled", "scaled-ignore_blank", "unscaled", "unscaled-ignore_blank"],
)
def test_blank_and_ignore_blank(fits, write_raw, scaling, ignore_blank, expected, dtype):
    cards = [("SIMPLE", True), ("BITPIX", 16), ("NAXIS", 1), ("NAXIS1", 3), *scaling, ("BLANK", -99)]
    path = write_raw([(cards, np.array([1, -99, 3], dtype=">i2").tobytes())])
    with fits.open(path, ignore_blank=ignore_blank) as hdul:
        data = hdul[0].data
        assert data.dtype == dtype
        np.testing.assert_array_equal(data, expected)


def test_ignore_missing_end(fits, write_raw):
    # a header padded to its block with blanks but with no END card
    path = write_raw([([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0), ("OBJECT", "x")], b"")])
    text = path.read_bytes().replace(b"END" + b" " * 77, b" " * 80)
    path.write_bytes(text)
    with pytest.raises(OSError, match=re.escape("Header missing END card.")):
        fits.open(path)
    with fits.open(path, ignore_missing_end=True) as hdul:
        assert len(hdul) == 1
        assert hdul[0].header["OBJECT"] == "x"
        assert hdul[0].data is None


def test_checksum_on_open_warns_on_mismatch(fits, tmpfile):
    path = tmpfile("ck.fits")
    afits.PrimaryHDU(np.arange(10, dtype=np.int32)).writeto(path, checksum=True)
    raw = bytearray(path.read_bytes())
    raw[2880 + 5] ^= 1
    path.write_bytes(bytes(raw))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        fits.open(path).close()  # no verification unless asked
    with pytest.warns(UserWarning) as record:
        fits.open(path, checksum=True).close()
    messages = [str(w.message) for w in record]
    assert "Checksum verification failed for HDU ('PRIMARY', 1).\n" in messages
    assert "Datasum verification failed for HDU ('PRIMARY', 1).\n" in messages


def test_checksum_on_open_silent_when_valid(fits, tmpfile):
    path = tmpfile("ck.fits")
    afits.PrimaryHDU(np.arange(10, dtype=np.int32)).writeto(path, checksum=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with fits.open(path, checksum=True) as hdul:
            assert hdul[0].verify_checksum() == 1
            assert hdul[0].verify_datasum() == 1


def test_scale_back_true_keeps_stored_type(fits, scaled_file):
    with fits.open(scaled_file.path, mode="update", scale_back=True) as hdul:
        hdul[0].data[0, 0] = 22.5
    with afits.open(scaled_file.path, do_not_scale_image_data=True) as check:
        header = check[0].header
        assert header["BITPIX"] == 16
        assert header["BSCALE"] == 2.5
        assert header["BZERO"] == 10.0
        expected = scaled_file.raw.copy()
        expected[0, 0] = 5  # (22.5 - 10) / 2.5
        np.testing.assert_array_equal(check[0].data, expected)


def test_scale_back_default_stores_floats(fits, scaled_file):
    with fits.open(scaled_file.path, mode="update") as hdul:
        hdul[0].data[0, 0] = 22.25
    with afits.open(scaled_file.path, do_not_scale_image_data=True) as check:
        header = check[0].header
        assert header["BITPIX"] == -32
        assert "BSCALE" not in header
        assert "BZERO" not in header
        expected = scaled_file.physical.astype(np.float32)
        expected[0, 0] = 22.25
        np.testing.assert_array_equal(check[0].data, expected)


def test_update_untouched_scaled_data_stays_raw(fits, scaled_file):
    # a header-only change must not convert the scaled image that was never read
    with fits.open(scaled_file.path, mode="update") as hdul:
        hdul[0].header["NEW"] = 1
    with afits.open(scaled_file.path, do_not_scale_image_data=True) as check:
        assert check[0].header["BITPIX"] == 16
        assert check[0].header["NEW"] == 1
        np.testing.assert_array_equal(check[0].data, scaled_file.raw)


def test_output_verify_on_close(fits, write_raw):
    cards = [("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0), "exptime =                  100"]
    path = write_raw([(cards, b"")])
    hdul = fits.open(path, mode="update")
    hdul[0].header["NEW"] = 1
    with pytest.raises(fits.VerifyError, match=re.escape("Card keyword 'exptime' is not upper case.")):
        hdul.close()
    path2 = write_raw([(cards, b"")], name="fixed.fits")
    with pytest.warns(fits.verify.VerifyWarning) as record:
        with fits.open(path2, mode="update") as hdul:
            hdul[0].header["NEW"] = 1
            hdul.flush(output_verify="fix")
    assert any("Fixed 'EXPTIME' card to meet the FITS standard." in str(w.message) for w in record)
    assert afits.getval(path2, "EXPTIME") == 100


# ---------------------------------------------------------------------------------------------
# HDUList: list behaviour and look-ups


def test_hdulist_indexing(fits, sample):
    with fits.open(sample.path) as hdul:
        assert hdul[-1].name == "ASC"
        assert hdul["sci"] is hdul[1]
        assert hdul["SCI", 2] is hdul[2]
        assert hdul[("sci", 1)] is hdul[1]
        assert hdul["PRIMARY"] is hdul[0]
        assert hdul["cat"].columns.names == ["ID", "NAME", "FLUX"]
        with pytest.raises(KeyError, match=re.escape("Extension 'nope' not found.")):
            hdul["nope"]
        with pytest.raises(KeyError):
            hdul["SCI", 3]
        with pytest.raises(IndexError):
            hdul[9]


def test_hdulist_slicing_and_iteration(fits, sample):
    with fits.open(sample.path) as hdul:
        part = hdul[1:3]
        assert isinstance(part, fits.HDUList)
        assert len(part) == 2
        assert part[0] is hdul[1]
        assert [hdu.ver for hdu in hdul] == [1, 1, 2, 1, 1]
        assert hdul[1] in hdul
        assert "SCI" in hdul
        assert "NOPE" not in hdul


def test_hdulist_index_of(fits, sample):
    with fits.open(sample.path) as hdul:
        assert hdul.index_of("sci") == 1
        assert hdul.index_of(("SCI", 2)) == 2
        assert hdul.index_of(hdul[3]) == 3
        assert hdul.index_of(2) == 2
        assert hdul.index_of("ASC") == 4
        with pytest.raises(KeyError):
            hdul.index_of("nope")


def test_hdulist_contains(fits, sample):
    with fits.open(sample.path) as hdul:
        assert "sci" in hdul and ("SCI", 2) in hdul and hdul[3] in hdul
        assert "nope" not in hdul and ("SCI", 3) not in hdul
        # an HDU of no list is simply not in it
        assert fits.ImageHDU() not in hdul


def test_hdulist_gives_the_primary_extend_when_extensions_join(fits):
    primary = fits.PrimaryHDU(header=fits.Header())   # a header given: no EXTEND
    assert "EXTEND" not in primary.header
    fits.HDUList([primary, fits.ImageHDU(np.array([10]))])
    assert primary.header["EXTEND"] is True
    alone = fits.PrimaryHDU(np.arange(3))
    del alone.header["EXTEND"]
    hdul = fits.HDUList([alone])
    assert "EXTEND" not in alone.header
    hdul.append(fits.ImageHDU())
    assert alone.header["EXTEND"] is True
    assert list(alone.header.keys()).index("EXTEND") == 4   # after NAXIS1
    later = fits.HDUList([fits.PrimaryHDU()])
    del later[0].header["EXTEND"]
    later.insert(1, fits.ImageHDU())
    assert later[0].header["EXTEND"] is True


def test_hdulist_info_text(fits, sample, capsys):
    with fits.open(sample.path) as hdul:
        assert hdul.info() is None
        printed = capsys.readouterr().out
        buffer = io.StringIO()
        hdul.info(output=buffer)
    expected = f"Filename: {sample.path}\n" + INFO_SAMPLE
    assert printed == expected
    assert buffer.getvalue() == expected


def test_hdulist_info_tuples(fits, sample, capsys):
    with fits.open(sample.path) as hdul:
        summary = hdul.info(output=False)
    assert capsys.readouterr().out == ""
    assert summary == INFO_SAMPLE_TUPLES


def test_hdulist_info_in_memory(fits, capsys):
    hdul = fits.HDUList([fits.PrimaryHDU(np.zeros((2, 5), dtype=np.uint8)), fits.ImageHDU(name="EMPTY")])
    hdul.info()
    assert capsys.readouterr().out == (
        "Filename: (No file associated with this HDUList)\n"
        "No.    Name      Ver    Type      Cards   Dimensions   Format\n"
        "  0  PRIMARY       1 PrimaryHDU       6   (5, 2)   uint8   \n"
        "  1  EMPTY         1 ImageHDU         6   ()      \n"
    )


def test_hdulist_append_rules(fits):
    hdul = fits.HDUList()
    hdul.append(fits.ImageHDU(np.arange(3)))
    # an image appended to an empty list becomes the primary
    assert [type(h).__name__ for h in hdul] == ["PrimaryHDU"]
    hdul.append(fits.PrimaryHDU(np.arange(2)))
    # a second primary becomes an extension
    assert [type(h).__name__ for h in hdul] == ["PrimaryHDU", "ImageHDU"]
    hdul.append(fits.BinTableHDU.from_columns([fits.Column("A", "J", array=[1, 2])]))
    assert [type(h).__name__ for h in hdul] == ["PrimaryHDU", "ImageHDU", "BinTableHDU"]
    table_first = fits.HDUList()
    table_first.append(fits.BinTableHDU.from_columns([fits.Column("A", "J", array=[1, 2])]))
    # a table cannot be primary: an empty primary is put in front of it
    assert [type(h).__name__ for h in table_first] == ["PrimaryHDU", "BinTableHDU"]
    assert table_first[0].data is None
    with pytest.raises(ValueError):
        hdul.append("not an HDU")


def test_hdulist_insert_rules(fits):
    hdul = fits.HDUList([fits.PrimaryHDU(np.arange(3))])
    hdul.insert(0, fits.ImageHDU(np.arange(5), name="NEWPRI"))
    # the inserted image becomes primary and the old primary an extension
    assert [type(h).__name__ for h in hdul] == ["PrimaryHDU", "ImageHDU"]
    np.testing.assert_array_equal(hdul[0].data, np.arange(5))
    np.testing.assert_array_equal(hdul[1].data, np.arange(3))
    hdul.insert(1, fits.ImageHDU(np.ones(2), name="MID"))
    assert [h.name for h in hdul][1] == "MID"
    assert len(hdul) == 3
    # a primary that gains extensions says so
    assert hdul[0].header["EXTEND"] is True


def test_hdulist_insert_rules_for_random_groups(fits):
    hdul = fits.HDUList([fits.PrimaryHDU(np.arange(4, dtype=np.int32))])
    with pytest.raises(ValueError):
        hdul.insert(1, fits.GroupsHDU())
    hdul.insert(0, fits.GroupsHDU())
    assert [type(h).__name__ for h in hdul] == ["GroupsHDU", "ImageHDU"]
    # nothing goes before random groups: they have no extension form
    with pytest.raises(ValueError):
        hdul.insert(0, fits.PrimaryHDU())
    assert [type(h).__name__ for h in hdul] == ["GroupsHDU", "ImageHDU"]


def test_hdulist_setitem_and_delete(fits, sample):
    with fits.open(sample.path) as hdul:
        hdul.readall()
        del hdul[2]
        assert [h.name for h in hdul] == ["PRIMARY", "SCI", "CAT", "ASC"]
        hdul[1] = fits.ImageHDU(np.zeros(4), name="ZERO")
        assert hdul[1].name == "ZERO"
        assert hdul.index_of("ZERO") == 1


def test_hdulist_copy_is_shallow(fits, sample):
    with fits.open(sample.path) as hdul:
        copied = hdul.copy()
        assert isinstance(copied, fits.HDUList)
        assert copied is not hdul
        assert copied[0] is hdul[0]


def open_descriptors(path: Path) -> int:
    """How many of this process's file descriptors refer to ``path`` (Linux /proc)."""
    target = os.path.realpath(path)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == target
        except OSError:
            continue
    return count


def test_hdulist_context_manager_closes(fits, sample):
    with fits.open(sample.path, memmap=False) as hdul:
        data = hdul[1].data
        assert open_descriptors(sample.path) >= 1
    assert open_descriptors(sample.path) == 0
    # arrays read before closing stay usable
    np.testing.assert_array_equal(data, sample.sci1)


def test_hdulist_fileinfo(fits, sample):
    with fits.open(sample.path) as hdul:
        info = hdul.fileinfo(3)
        assert info["filemode"] == "readonly"
        assert info["hdrLoc"] == 6 * 2880
        assert info["datLoc"] == 7 * 2880
        assert info["datSpan"] == 2880
        assert info["resized"] is False
        assert info["filename"] == str(sample.path)
        assert hdul[3].fileinfo()["datLoc"] == 7 * 2880
    assert fits.HDUList([fits.PrimaryHDU()]).fileinfo(0) is None


def test_hdulist_filename_in_memory_is_none(fits):
    assert fits.HDUList([fits.PrimaryHDU()]).filename() is None


def test_hdulist_writeto(fits, sample, tmpfile, fitsverify):
    out = tmpfile("copy.fits")
    with fits.open(sample.path) as hdul:
        hdul.writeto(out)
        with pytest.raises(OSError, match="already exists"):
            hdul.writeto(out)
        hdul[0].header["AGAIN"] = True
        hdul.writeto(out, overwrite=True)
    with afits.open(out) as check:
        check_sample(check, sample)
        assert check[0].header["AGAIN"] is True
    fitsverify(out)


def test_hdulist_writeto_checksum(fits, sample, tmpfile, fitsverify):
    out = tmpfile("ck.fits")
    with fits.open(sample.path) as hdul:
        hdul.writeto(out, checksum=True)
    with afits.open(out, checksum=True) as check:
        for hdu in check:
            assert "CHECKSUM" in hdu.header
            assert "DATASUM" in hdu.header
            assert hdu.verify_checksum() == 1
            assert hdu.verify_datasum() == 1
    fitsverify(out)


def test_hdulist_writeto_file_object(fits, sample):
    buffer = io.BytesIO()
    with fits.open(sample.path) as hdul:
        hdul.writeto(buffer)
    assert buffer.getvalue() == sample.path.read_bytes()


def test_hdulist_writeto_round_trip_is_byte_identical(fits, sample, tmpfile):
    out = tmpfile("copy.fits")
    with fits.open(sample.path) as hdul:
        hdul.writeto(out)
    assert out.read_bytes() == sample.path.read_bytes()


def test_hdulist_writeto_output_verify(fits, write_raw, tmpfile):
    cards = [("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0), "exptime =                  100"]
    path = write_raw([(cards, b"")])
    out = tmpfile("out.fits")
    with fits.open(path) as hdul:
        with pytest.raises(fits.VerifyError):
            hdul.writeto(out, output_verify="exception")
        assert not out.exists()
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            hdul.writeto(out, output_verify="silentfix")
    assert afits.getval(out, "EXPTIME") == 100


def test_hdulist_flush_update(fits, sample):
    with fits.open(sample.path, mode="update") as hdul:
        hdul[2].header["FLUSHED"] = "yes"
        hdul.flush()
        assert afits.getval(sample.path, "FLUSHED", ext=2) == "yes"


def test_hdulist_close_twice(fits, sample):
    hdul = fits.open(sample.path)
    hdul.close()
    hdul.close()


def test_hdulist_verify_clean(fits, sample):
    with fits.open(sample.path) as hdul:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            hdul.verify("exception")


def test_hdulist_repr_lists_hdus(fits, sample):
    with fits.open(sample.path) as hdul:
        hdul.readall()
        text = repr(hdul)
    assert text.startswith("[<")
    assert text.count("object at 0x") == 5
    for name in HDU_CLASSES:
        assert f".{name} object at" in text


# ---------------------------------------------------------------------------------------------
# compressed output, fileinfo of unwritten HDUs, update-mode structure changes


@pytest.mark.parametrize(("suffix", "decompress"), [(".bz2", "bz2"), (".xz", "lzma")])
def test_writeto_other_compressed_names(fits, tmpfile, suffix, decompress):
    import importlib

    path = tmpfile("out.fits" + suffix)
    fits.HDUList([fits.PrimaryHDU(np.arange(5)), fits.ImageHDU(np.ones(3))]).writeto(path)
    plain = importlib.import_module(decompress).decompress(path.read_bytes())
    assert len(plain) == 4 * 2880
    np.testing.assert_array_equal(afits.getdata(path, 1), np.ones(3))


def test_hdulist_fileinfo_of_hdu_not_yet_written(fits, sample):
    with fits.open(sample.path, mode="update") as hdul:
        assert hdul.fileinfo(0)["resized"] is False
        hdul.append(fits.ImageHDU(np.zeros(2)))
        info = hdul.fileinfo(5)
        assert (info["hdrLoc"], info["datLoc"], info["datSpan"]) == (None, None, None)
        assert info["filemode"] == "update"
        assert info["filename"] == str(sample.path)
        assert info["resized"] is True


def test_update_mode_delete_before_unread_hdus(fits, sample, fitsverify):
    with fits.open(sample.path, mode="update") as hdul:
        del hdul[1]
    with afits.open(sample.path) as check:
        assert [(h.name, h.ver) for h in check] == [("PRIMARY", 1), ("SCI", 2), ("CAT", 1), ("ASC", 1)]
        np.testing.assert_array_equal(check["CAT"].data["FLUX"], sample.flux)
    fitsverify(sample.path)


def test_update_mode_replace_keeps_later_hdus(fits, sample, fitsverify):
    with fits.open(sample.path, mode="update") as hdul:
        hdul[1] = fits.ImageHDU(np.full((2, 2), 7.0), name="NEW")
    with afits.open(sample.path) as check:
        assert [h.name for h in check] == ["PRIMARY", "NEW", "SCI", "CAT", "ASC"]
        np.testing.assert_array_equal(check[1].data, np.full((2, 2), 7.0))
        np.testing.assert_array_equal(check[2].data, sample.sci2)
        np.testing.assert_array_equal(check[4].data["Y"], sample.y)
    fitsverify(sample.path)


def test_update_mode_delete_last_truncates(fits, sample, fitsverify):
    with fits.open(sample.path, mode="update") as hdul:
        del hdul[-1]
    with afits.open(sample.path) as check:
        assert [h.name for h in check] == ["PRIMARY", "SCI", "SCI", "CAT"]
    assert sample.path.stat().st_size == 8 * 2880
    fitsverify(sample.path)


def test_trailing_blank_cards_are_header_cards(fits, write_raw):
    # blank cards before END belong to the header: counted, kept, summed in CHECKSUM
    cards = [("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0), ("OBJECT", "x")] + [""] * 3
    path = write_raw([(cards, b"")], name="blanks.fits")
    with fits.open(path) as hdul:
        assert len(hdul[0].header) == 7
        assert hdul.info(output=False)[0][4] == 7
        assert hdul[0].header.tostring() == path.read_bytes().decode("ascii")


def test_conf_and_delayed_exports(fits):
    assert fits.conf.enable_record_valued_keyword_cards is True
    assert fits.conf.strip_header_whitespace is True
    assert fits.conf is fits.conf
    # Delayed stands for a column of a table read from a file: indexing reads the table
    hdu = fits.BinTableHDU.from_columns([fits.Column("A", "J", array=np.array([4, 5]))])
    delayed = fits.Delayed(hdu, "A")
    assert delayed.field == "A"
    assert delayed[1] == 5


def test_update_mode_on_a_file_cfitsio_refuses(fits, tmpfile):
    # BITPIX and NAXIS swapped: read as astropy does, written back as a whole when changed
    path = tmpfile("swapped.fits")
    path.write_bytes(Path(afits.util.get_testdata_filepath("verify.fits")).read_bytes())
    before = path.read_bytes()
    hdul = fits.open(path, mode="update")
    hdul.readall()
    hdul.close(output_verify="ignore")
    assert path.read_bytes() == before
    hdul = fits.open(path, mode="update")
    hdul[0].header["NEWK"] = 1
    hdul.close(output_verify="silentfix")
    assert list(afits.getheader(path).keys()) == ["SIMPLE", "BITPIX", "NAXIS", "NEWK"]
    assert path.stat().st_size == 2880


def test_hierarch_keywords_keep_their_case(fits, tmpfile):
    path = tmpfile("hierarch.fits")
    header = fits.Header([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0),
                          ("HIERARCH key.META_0", "detRow")])
    fits.PrimaryHDU(header=header).writeto(path)
    assert b"HIERARCH key.META_0 = 'detRow  '" in path.read_bytes()
    with fits.open(path, mode="update") as hdul:
        hdul[0].header["HIERARCH key.META_0"] = "other"
        hdul[0].header["HIERARCH another.Key"] = 5
    raw = path.read_bytes()
    assert b"HIERARCH key.META_0 = 'other   '" in raw and b"HIERARCH another.Key = 5" in raw
    with afits.open(path) as check:
        assert check[0].header["key.META_0"] == "other"


def test_cards_without_a_standard_keyword_are_written_as_they_are(fits, tmpfile):
    # cards read from files that follow no convention; astropy writes them back as they are
    path = tmpfile("odd.fits")
    hdu = fits.PrimaryHDU()
    with pytest.warns(UserWarning, match="invalid or follows an unrecognized non-standard convention"):
        for text in ("CLFIND2D: contour = 0.30", "Just some random text."):
            hdu.header.append(fits.Card.fromstring(text))
    hdu.writeto(path)
    raw = path.read_bytes()
    assert b"CLFIND2D: contour = 0.30" in raw and b"Just some random text." in raw
    # in update mode the cards move when one is inserted before them: still as they are
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with fits.open(path, mode="update") as hdul:
            hdul[0].header.insert("EXTEND", ("MOVED", 1), after=True)
        with afits.open(path) as check:
            assert check[0].header["Just som"] == "e random text."
            assert check[0].header["CLFIND2D"] == ": contour = 0.30"
    assert path.read_bytes().index(b"Just some random text.") == 6 * 80
