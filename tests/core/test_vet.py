"""Headers are vetted before CFITSIO parses them: values CFITSIO divides by or trusts in size
arithmetic (ZTILEn, the Rice block size, NAXISn, TBCOLn, THEAP, TFIELDS, ...) give a clear
FITSError naming the file, the HDU and the card, and never reach the C library."""

from pathlib import Path

import numpy as np
import pytest
from fitsgen import set_card

import fitsbind
from fitsbind.direct import Gzip2, Rice1


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, bytes]:
    """Valid files to corrupt: a Rice int16 and a GZIP_2 float32 compressed image, images and
    a binary and an ASCII table, each in HDU 1."""
    folder = tmp_path_factory.mktemp("valid")
    pixels = np.arange(64 * 64).reshape(64, 64) % 97
    made = {}
    for name, dtype, algorithm in (("rice", np.int16, Rice1()), ("gzip2", np.float32, Gzip2())):
        with fitsbind.FITS(folder / f"{name}.fits", "w+") as f:
            f.create_image_hdu(np.uint8, ())
            f.write_image(pixels.astype(dtype), compress=algorithm)
        made[name] = (folder / f"{name}.fits").read_bytes()
    with fitsbind.FITS(folder / "plain.fits", "w+") as f:
        f.write_image(np.arange(100, dtype=np.int16).reshape(10, 10))
        f.write_image(np.ones((20, 20), np.float32), extname="SCI")
        f.write_table(np.zeros(5, [("a", "i4"), ("b", "f8"), ("v", "i2", 3)]), extname="CAT")
    made["plain"] = (folder / "plain.fits").read_bytes()
    with fitsbind.FITS(folder / "ascii.fits", "w+") as f:
        f.create_image_hdu(np.uint8, ())
        f.create_table_hdu([("NAME", "A8"), ("MAG", "F8.3")], ascii=True, nrows=3)
    made["ascii"] = (folder / "ascii.fits").read_bytes()
    return made


# (file, HDU, card, value text, what the message says)
CORRUPT = [
    ("rice", 1, "ZTILE1", "0", "ZTILE1 = 0"),
    ("rice", 1, "ZTILE2", "-5", "ZTILE2 = -5"),
    ("rice", 1, "ZVAL1", "0", "Rice block size ZVAL1 = 0"),
    ("rice", 1, "ZVAL2", "3", "Rice pixel size ZVAL2 = 3"),
    ("rice", 1, "ZNAXIS1", "1000000000", "tiles"),
    ("rice", 1, "ZNAXIS", "7", "ZNAXIS = 7"),
    ("rice", 1, "ZBITPIX", "12", "ZBITPIX = 12"),
    ("rice", 1, "ZCMPTYPE", "'LZMA_9'", "unknown compression algorithm"),
    ("gzip2", 1, "ZCMPTYPE", "'RICE_1'", "ZVAL1"),
    ("plain", 0, "NAXIS1", "4611686018427387904", "beyond any file"),
    ("plain", 0, "NAXIS1", None, "NAXIS1 has no value"),
    ("plain", 1, "NAXIS2", "'twenty'", "NAXIS2 = 'twenty' is not an integer"),
    ("plain", 1, "GCOUNT", "0", "GCOUNT = 0"),
    ("plain", 1, "PCOUNT", "100000000000", "PCOUNT = 100000000000"),
    ("plain", 1, "XTENSION", "'FOOBAR'", "unknown extension type"),
    ("plain", 2, "TFIELDS", "2147483647", "TFIELDS = 2147483647"),
    ("plain", 2, "THEAP", "5", "THEAP = 5"),
    ("plain", 2, "THEAP", "100000", "THEAP = 100000"),
    ("ascii", 1, "TBCOL1", "2147483647", "TBCOL1 = 2147483647"),
    ("ascii", 1, "TBCOL2", "11", "TBCOL2 = 11"),
]


@pytest.mark.parametrize("name, hdu, key, value, says", CORRUPT,
                         ids=[f"{c[0]}-{c[2]}={c[3]}" for c in CORRUPT])
def test_corrupt_structural_card_is_a_clear_error(tmp_path: Path, files, name, hdu, key, value,
                                                  says) -> None:
    data = files[name]
    if key == "THEAP":   # not written for tables without a heap: put it over EXTNAME
        at = data.index(b"EXTNAME = 'CAT")
        data = data[:at] + f"THEAP   = {value:>20}".ljust(80).encode() + data[at + 80:]
    else:
        data = set_card(data, hdu, key, value)
    path = tmp_path / "bad.fits"
    path.write_bytes(data)
    # counting HDUs, moving to the HDU, and looking one up by name all parse its header
    for touch in (len, lambda f: f[hdu], lambda f: f["NOSUCH"]):
        with pytest.raises(fitsbind.FITSError) as info:
            with fitsbind.FITS(path) as f:
                touch(f)
        message = str(info.value)
        assert says in message
        assert str(path) in message and f"HDU {hdu}" in message


def test_hdus_before_a_corrupt_one_still_read(tmp_path: Path, files) -> None:
    path = tmp_path / "bad.fits"
    path.write_bytes(set_card(files["plain"], 2, "TFIELDS", "5000"))
    with fitsbind.FITS(path) as f:
        assert f[1].read().shape == (20, 20)
        with pytest.raises(fitsbind.FITSError, match="TFIELDS = 5000") as info:
            f[2]
        assert info.value.hdu == 2
        assert f[0].read()[0, :3].tolist() == [0, 1, 2]   # the handle was left usable


def test_checksum_of_a_data_unit_past_the_end_of_the_file_is_refused_at_once(
        tmp_path: Path, files) -> None:
    """CFITSIO would sum every block the header claims (minutes for 10**11 bytes)."""
    path = tmp_path / "bad.fits"
    path.write_bytes(set_card(files["plain"], 2, "PCOUNT", "100000000000"))
    with fitsbind.FITS(path) as f:
        assert f[2].read().shape == (5,)          # the rows are all there
        for check in (f[2].verify_checksum, f[2].verify_datasum, lambda: f.data_checksum(2)):
            with pytest.raises(fitsbind.FITSError, match=r"truncated.*100000"):
                check()


def test_table_read_checks_the_file_before_allocating(tmp_path: Path, files) -> None:
    """NAXIS2 = 10**12 rows of 22 bytes in a 17 KB file: refused, not 22 TB requested."""
    path = tmp_path / "bad.fits"
    path.write_bytes(set_card(files["plain"], 2, "NAXIS2", "1000000000000"))
    with fitsbind.FITS(path) as f:
        with pytest.raises(fitsbind.FITSError, match="truncated"):
            f[2].read()
        with pytest.raises(fitsbind.FITSError, match="truncated"):
            f[2].read(rows=[999_999_999_999])
        assert f[2].read(rows=slice(0, 5)).shape == (5,)   # rows that exist still read
