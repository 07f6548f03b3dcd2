"""The large-file tutorial (shared/seeds/000), step by step, at reduced size, with astropy.io.fits and
with fitsbind as ``fits``.

The tutorial builds a multi-extension file whose big HDUs never sit in memory: headers are written
raw with ``header.tostring()``, the file is grown by seeking past its end, the data are filled
through ``mode="update"`` memory maps, checked through ``mode="denywrite"``, and a small HDU is
added in ``mode="append"``. Sizes here: a 4,000 x 4,000 float64 image filled in blocks of 1,000
rows, and a 100,000-row table (rows 0 and 10,000 take the small table's rows 0 and 2, as rows 0
and 50,000 do in the tutorial's million-row table).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from mmap import MADV_SEQUENTIAL
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits as afits
from astropy.table import Table

ARRAY_DIMS = [4_000, 4_000]
BLOCK_SIZE = 1_000
NUM_ROWS = 100_000
ROW_STEP = 5_000  # the tutorial's 50,000 for a million rows

INFO_HEAD = "No.    Name      Ver    Type      Cards   Dimensions   Format\n"
INFO_PRIMARY_ALONE = "  0  PRIMARY       1 PrimaryHDU       7   ()      \n"
INFO_PRIMARY = "  0  PRIMARY       1 PrimaryHDU       8   ()      \n"
INFO_IMAGE = "  1  BIG_IMG       1 ImageHDU         8   (4000, 4000)   float64   \n"
INFO_TABLE = (
    "  2  BIG_TABLE     1 BinTableHDU     21   100000R x 6C   [128A, K, 128A, D, 2048A, 2048A]   \n"
)
INFO_MINI = "  3  MINI_IMG      1 ImageHDU         8   (10, 10)   float64   \n"

# (numpy dtype of one table row as stored, in FITS byte order)
ROW_DTYPE = np.dtype(
    [
        ("Name", "S128"),
        ("Population", ">i8"),
        ("Prince", "S128"),
        ("Years since fall", ">f8"),
        ("Imports", "S2048"),
        ("Exports", "S2048"),
    ]
)


def print_file_size(path: str | Path, unit: str = "B") -> None:
    """Print the size of ``path`` in bytes, KB, MB, GB (one decimal) or whole FITS blocks."""
    size = os.path.getsize(path)
    scales = {"KB": 1e3, "MB": 1e6, "GB": 1e9}
    if unit in scales:
        print(f"{size / scales[unit]:.1f} {unit}")
    elif unit == "FITS":
        print(f"{size // 2880:d} FITS block(s)")
    else:
        print(f"{size:d} Bytes")


def padded(nbytes: int) -> int:
    """``nbytes`` rounded up to whole 2880-byte FITS blocks."""
    return -(-nbytes // 2880) * 2880


def small_table() -> Table:
    """The tutorial's three-row table (U128 / int / U128 / float64 / U2048 / U2048 columns)."""
    return Table(
        names=["Name", "Population", "Prince", "Years since fall", "Imports", "Exports"],
        dtype=["U128", int, "U128", np.float64, "U2048", "U2048"],
        rows=[
            ["Vangaveyave", 1297382, "Oriana", 34.6, "wine, cheese", "ahalo cloth, pearls, foamwork"],
            ["Azilint", 50000, "n/a", 92.3, "none", "none"],
            ["Amboloyo", 50937253, "Rufus", 1504.2, "pears, textiles, spices", "wine, timber"],
        ],
    )


def check_fitsverify(path: Path) -> None:
    """fitsverify finds no errors; its only warnings are about the column name with blanks.

    The tutorial names a column "Years since fall"; fitsverify warns (twice) that TTYPE values
    should hold letters, digits and underscores only. astropy's file draws the same warnings.
    """
    if shutil.which("fitsverify") is None:
        pytest.skip("fitsverify is not installed (Debian package 'fitsverify')")
    result = subprocess.run(["fitsverify", str(path)], capture_output=True, text=True, check=False)
    report = result.stdout + result.stderr
    assert "Verification found 2 warning(s) and 0 error(s)." in report, report
    warnings = [line for line in report.splitlines() if line.startswith("*** Warning")]
    assert warnings == ['*** Warning: Column #4: Name "Years since fall" contains character \' \' other'] * 2


@pytest.mark.slow
def test_tutorial_large_file(fits, tmp_path, capsys):
    big_fits_file = tmp_path / "patagotitan.fits"
    filename_line = f"Filename: {big_fits_file}\n"

    # -- Primary HDU: a header from card tuples, written alone --------------------------------
    primary_header_cards = [
        ("ORIGIN", "Fancy Archive", "Where the data came from"),
        ("DATE", "2024-03-05", "Creation date"),
        ("MJD", 60374, "Creation date in MJD"),
        ("CREATOR", "Me", "Who created this file"),
    ]
    primary_hdu = fits.PrimaryHDU(header=fits.Header(primary_header_cards))
    hdu_list = fits.HDUList([primary_hdu])
    hdu_list.writeto(big_fits_file, overwrite=True)

    with fits.open(big_fits_file) as hdu_list:
        hdu_list.info()
    assert capsys.readouterr().out == filename_line + INFO_HEAD + INFO_PRIMARY_ALONE

    print_file_size(big_fits_file)
    print_file_size(big_fits_file, "FITS")
    assert capsys.readouterr().out == "2880 Bytes\n1 FITS block(s)\n"
    expected_primary = afits.PrimaryHDU(header=afits.Header(primary_header_cards)).header.tostring()
    assert big_fits_file.read_bytes() == expected_primary.encode("ascii")

    # -- Large image HDU: header from a small ImageHDU, NAXISn changed, appended raw -----------
    data = np.zeros((100, 100), dtype=np.float64)
    hdu = fits.ImageHDU(data)
    header = hdu.header
    header["NAXIS2"] = ARRAY_DIMS[0]
    header["NAXIS1"] = ARRAY_DIMS[1]
    header["EXTNAME"] = "BIG_IMG"
    image_header_text = header.tostring()
    with open(big_fits_file, "ab") as f:
        f.write(bytearray(image_header_text, encoding="utf-8"))

    expected_image_header = afits.ImageHDU(np.zeros((100, 100))).header
    expected_image_header["NAXIS2"] = ARRAY_DIMS[0]
    expected_image_header["NAXIS1"] = ARRAY_DIMS[1]
    expected_image_header["EXTNAME"] = "BIG_IMG"
    assert image_header_text == expected_image_header.tostring()

    arraysize_in_bytes = ((np.prod(ARRAY_DIMS) * 8 + 2880 - 1) // 2880) * 2880
    filelen = os.path.getsize(big_fits_file)
    with open(big_fits_file, "r+b") as f:
        f.seek(filelen + arraysize_in_bytes - 1)
        f.write(b"\0")
    image_file_size = 2 * 2880 + padded(4_000 * 4_000 * 8)
    assert os.path.getsize(big_fits_file) == image_file_size
    print_file_size(big_fits_file, "GB")
    print_file_size(big_fits_file, "FITS")
    assert capsys.readouterr().out == "0.1 GB\n44447 FITS block(s)\n"

    # -- Filling the big array through an update-mode memory map -------------------------------
    hdu_list = fits.open(big_fits_file, mode="update", memmap=True)
    hdu_list.info()
    assert capsys.readouterr().out == filename_line + INFO_HEAD + INFO_PRIMARY + INFO_IMAGE

    data_array = hdu_list[1].data
    assert data_array.shape == (4_000, 4_000)
    assert data_array.dtype == np.dtype(">f8")
    mm = fits.util._get_array_mmap(data_array)
    mm.madvise(MADV_SEQUENTIAL)

    for i, j in enumerate(range(0, ARRAY_DIMS[0], BLOCK_SIZE)):
        sub_arr = np.ones((BLOCK_SIZE, ARRAY_DIMS[1])) * i
        data_array[j : j + BLOCK_SIZE, :] = sub_arr
    hdu_list.close()
    del data_array, mm
    assert os.path.getsize(big_fits_file) == image_file_size

    # -- Checking the image contents in denywrite mode -----------------------------------------
    hdu_list = fits.open(big_fits_file, mode="denywrite", memmap=True)
    data_array = hdu_list[1].data
    assert not data_array.flags.writeable
    matches = [
        bool((data_array[j : j + BLOCK_SIZE, :] == i).all())
        for i, j in enumerate(range(0, ARRAY_DIMS[0], BLOCK_SIZE))
    ]
    assert matches == [True, True, True, True]
    hdu_list.close()
    del data_array

    # the same bytes seen without either library
    raw_image = np.memmap(big_fits_file, dtype=">f8", mode="r", offset=2 * 2880, shape=(4_000, 4_000))
    np.testing.assert_array_equal(raw_image[::BLOCK_SIZE, 0], [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(raw_image[-1, ::500], np.full(8, 3.0))
    del raw_image

    # -- Large table HDU: header from a small BinTableHDU(Table), NAXIS2 changed, appended raw --
    small_tbl = small_table()
    table_hdu = fits.BinTableHDU(data=small_tbl)
    table_hdu.header["EXTNAME"] = "BIG_TABLE"
    assert table_hdu.header["NAXIS1"] == ROW_DTYPE.itemsize == 4368
    formats = [table_hdu.header[f"TFORM{k}"] for k in range(1, 7)]
    assert formats == ["128A", "K", "128A", "D", "2048A", "2048A"]

    tablesize_in_bytes = ((table_hdu.header["NAXIS1"] * NUM_ROWS + 2880 - 1) // 2880) * 2880
    table_hdu.header["NAXIS2"] = NUM_ROWS
    table_header_text = table_hdu.header.tostring()
    with open(big_fits_file, "ab") as f:
        f.write(bytearray(table_header_text, encoding="utf-8"))

    expected_table_header = afits.BinTableHDU(data=small_table()).header
    expected_table_header["EXTNAME"] = "BIG_TABLE"
    expected_table_header["NAXIS2"] = NUM_ROWS
    assert table_header_text == expected_table_header.tostring()
    print_file_size(big_fits_file, "GB")
    assert capsys.readouterr().out == "0.1 GB\n"

    filelen = os.path.getsize(big_fits_file)
    with open(big_fits_file, "r+b") as f:
        f.seek(filelen + tablesize_in_bytes - 1)
        f.write(b"\0")
    table_start = image_file_size + 2880
    table_file_size = table_start + padded(4368 * NUM_ROWS)
    assert os.path.getsize(big_fits_file) == table_file_size
    print_file_size(big_fits_file, "GB")
    assert capsys.readouterr().out == "0.6 GB\n"

    # -- Filling the table: whole columns, flush, then single fields ----------------------------
    hdu_list = fits.open(big_fits_file, mode="update", memmap=True)
    hdu_list.info()
    assert capsys.readouterr().out == filename_line + INFO_HEAD + INFO_PRIMARY + INFO_IMAGE + INFO_TABLE

    table_data = hdu_list["BIG_TABLE"].data
    assert len(table_data) == NUM_ROWS
    years = np.linspace(5, 1000, NUM_ROWS)
    table_data["Years since fall"] = years
    table_data["Exports"] = ["Magic"] * NUM_ROWS
    hdu_list.flush()

    # the flushed columns are on disk before the file is closed
    raw_table = np.memmap(big_fits_file, dtype=ROW_DTYPE, mode="r", offset=table_start, shape=(NUM_ROWS,))
    np.testing.assert_array_equal(raw_table["Years since fall"], years)
    assert (raw_table["Exports"] == b"Magic").all()
    del raw_table

    for i in [0, 2]:
        for col in small_tbl.colnames:
            table_data[col][i * ROW_STEP] = small_tbl[col][i]
    hdu_list.close()
    del table_data
    assert os.path.getsize(big_fits_file) == table_file_size

    # -- Checking the table contents in denywrite mode ------------------------------------------
    hdu_list = fits.open(big_fits_file, mode="denywrite", memmap=True)
    hdu_list.info()
    assert capsys.readouterr().out == filename_line + INFO_HEAD + INFO_PRIMARY + INFO_IMAGE + INFO_TABLE
    table_data = hdu_list["BIG_TABLE"].data
    print(table_data[:3])
    print(table_data[2 * ROW_STEP])
    # astropy's text: numpy's record-array layout for the slice, the tuple of numpy scalars'
    # reprs for one FITS_record
    assert capsys.readouterr().out == (
        "[('Vangaveyave', 1297382, 'Oriana', 34.6      , 'wine, cheese', 'ahalo cloth, pearls, foamwork')\n"
        " ('',       0, '',  5.0099501, '', 'Magic')\n"
        " ('',       0, '',  5.0199002, '', 'Magic')]\n"
        "('Amboloyo', np.int64(50937253), 'Rufus', np.float64(1504.2), 'pears, textiles, spices', "
        "'wine, timber')\n"
    )
    assert tuple(table_data[0]) == (
        "Vangaveyave", 1297382, "Oriana", 34.6, "wine, cheese", "ahalo cloth, pearls, foamwork"
    )
    assert tuple(table_data[2 * ROW_STEP]) == (
        "Amboloyo", 50937253, "Rufus", 1504.2, "pears, textiles, spices", "wine, timber"
    )
    assert tuple(table_data[1]) == ("", 0, "", years[1], "", "Magic")
    hdu_list.close()
    del table_data

    raw_table = np.memmap(big_fits_file, dtype=ROW_DTYPE, mode="r", offset=table_start, shape=(NUM_ROWS,))
    filled = np.zeros(NUM_ROWS, dtype=bool)
    filled[[0, 2 * ROW_STEP]] = True
    expected_years = years.copy()
    expected_years[filled] = [34.6, 1504.2]
    np.testing.assert_array_equal(raw_table["Years since fall"], expected_years)
    assert (raw_table["Exports"][~filled] == b"Magic").all()
    assert (raw_table["Population"][~filled] == 0).all()
    np.testing.assert_array_equal(raw_table["Population"][filled], [1297382, 50937253])
    np.testing.assert_array_equal(raw_table["Prince"][filled], [b"Oriana", b"Rufus"])
    # strings are padded with NUL bytes, as astropy writes them
    assert raw_table[1:2].view(np.uint8)[-2048:].tobytes() == b"Magic" + b"\0" * 2043
    del raw_table

    # -- Adding an extra small HDU in append mode -----------------------------------------------
    mini = np.random.default_rng(78).random((10, 10))
    small_hdu = fits.ImageHDU(data=mini)
    small_hdu.header["EXTNAME"] = "MINI_IMG"
    with fits.open(big_fits_file, mode="append", memmap=True) as hdu_list:
        hdu_list.append(small_hdu)

    with fits.open(big_fits_file, mode="denywrite", memmap=True) as hdu_list:
        hdu_list.info()
    final_info = filename_line + INFO_HEAD + INFO_PRIMARY + INFO_IMAGE + INFO_TABLE + INFO_MINI
    assert capsys.readouterr().out == final_info

    final_size = table_file_size + 2 * 2880
    assert os.path.getsize(big_fits_file) == final_size == 564_816_960
    with afits.open(big_fits_file, mode="denywrite") as oracle:
        np.testing.assert_array_equal(oracle["MINI_IMG"].data, mini)
        # astropy adds EXTEND to the primary header as soon as it reads an extension, and the
        # update-mode opens wrote that back
        keys = ["SIMPLE", "BITPIX", "NAXIS", "EXTEND", *[card[0] for card in primary_header_cards]]
        assert list(oracle[0].header.keys()) == keys
    check_fitsverify(big_fits_file)

    os.remove(big_fits_file)
