"""Valid files with structural cards patched to hostile values, opened by astropy.io.fits and by
fitsbind (the ``fits`` fixture): the same HDUs, warnings and exception classes, and never a
crash, a hang, a write of data the file does not hold, or a damaged file on disk.

Each file is written by astropy, then one card of its second header is replaced in the bytes.
Checks that could crash or fill the disk on a regression run in a child process, under a
limit on the size of files it may write.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from astropy.io import fits as afits

BLOCK = 2880


def _patched(hdus: list, keyword: str, value: object, hdu: int = 1) -> bytes:
    """The bytes astropy writes for ``hdus``, with the ``keyword`` card of header ``hdu``
    replaced by one holding ``value``."""
    buffer = io.BytesIO()
    afits.HDUList(hdus).writeto(buffer)
    raw = bytearray(buffer.getvalue())
    start = sum(len(h.header.tostring()) + _padded(h.size) for h in afits.HDUList(hdus)[:hdu])
    for at in range(start, start + BLOCK * 4, 80):
        if raw[at:at + 8].decode("ascii").rstrip() == keyword:
            raw[at:at + 80] = str(afits.Card(keyword, value)).encode("ascii")
            return bytes(raw)
    raise KeyError(keyword)


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _ascii_table() -> list:
    columns = [afits.Column(name="a", format="I5", array=[1, 2, 3]),
               afits.Column(name="b", format="A4", array=["x", "y", "z"])]
    return [afits.PrimaryHDU(), afits.TableHDU.from_columns(columns)]


def _binary_table() -> list:
    return [afits.PrimaryHDU(),
            afits.BinTableHDU.from_columns([afits.Column(name="a", format="J", array=[1, 2, 3])])]


def _child(code: str, max_file_bytes: int = 50_000_000,
           max_memory_bytes: int = 3_000_000_000) -> subprocess.CompletedProcess:
    """Run ``code`` in a Python child that may write no file larger than ``max_file_bytes``
    (a write past it fails with EFBIG instead of filling the disk) and map no more than
    ``max_memory_bytes`` (a giant allocation is a MemoryError, not a swapping machine)."""
    prelude = textwrap.dedent(f"""
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({max_file_bytes}, {max_file_bytes}))
        resource.setrlimit(resource.RLIMIT_AS, ({max_memory_bytes}, {max_memory_bytes}))
    """)
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120)


# -- a data unit the header does not really describe ----------------------------------------------


def test_stray_pcount_without_axes_writes_no_data(fits, tmp_path):
    # NAXIS = 0: no data, whatever PCOUNT says (CFITSIO would count 10**10 bytes of it)
    path = tmp_path / "stray.fits"
    cards = [("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0), ("PCOUNT", 10**10)]
    path.write_bytes(afits.Header(cards).tostring().encode("ascii"))
    out = tmp_path / "out.fits"
    result = _child(f"""
        import warnings
        import {fits.__name__} as fits
        warnings.simplefilter("ignore")
        with fits.open({str(path)!r}) as hdul:
            hdul.writeto({str(out)!r})
    """)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size == BLOCK
    with afits.open(out) as hdul:
        assert hdul[0].data is None


def test_stray_pcount_set_in_update_mode_writes_no_data(tmp_path):
    import fitsbind as fits
    path = tmp_path / "update.fits"
    afits.HDUList([afits.PrimaryHDU(), afits.ImageHDU(np.arange(10))]).writeto(path)
    result = _child(f"""
        import fitsbind as fits
        with fits.open({str(path)!r}, mode="update") as hdul:
            hdul[0].header["PCOUNT"] = 10**10
    """)
    assert result.returncode == 0, result.stderr
    assert "written with PCOUNT = 0" in result.stderr      # the VerifyWarning
    assert path.stat().st_size == 3 * BLOCK
    with fits.open(path) as hdul:
        np.testing.assert_array_equal(hdul[1].data, np.arange(10))


# -- column layouts reaching outside the rows -------------------------------------------------------


def test_ascii_column_far_past_the_row_is_refused(fits, tmp_path):
    # TBCOL1 = 2**31-1: the field lies 2 GB past a 9-byte row (numpy read outside the buffer)
    path = tmp_path / "tbcol.fits"
    path.write_bytes(_patched(_ascii_table(), "TBCOL1", 2**31 - 1))
    result = _child(f"""
        import {fits.__name__} as fits
        with fits.open({str(path)!r}, memmap=True) as hdul:
            try:
                hdul[1].data["a"]
            except ValueError as exc:
                print("ValueError", exc)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ValueError")


def test_ascii_column_far_past_the_row_without_memmap(tmp_path):
    # (astropy runs out of memory here, with a negative itemsize)
    import fitsbind as fits
    path = tmp_path / "tbcol.fits"
    path.write_bytes(_patched(_ascii_table(), "TBCOL1", 2**31 - 1))
    with fits.open(path, memmap=False) as hdul:
        with pytest.raises(ValueError, match=r"tbcol.fits, HDU 1: 3 rows of 2147483651 bytes"):
            hdul[1].data  # noqa: B018


def test_ascii_column_slightly_past_the_row_reads_as_astropy(fits, tmp_path):
    # the last field runs one character past NAXIS1: astropy reads on into the next row
    path = tmp_path / "naxis1.fits"
    path.write_bytes(_patched(_ascii_table(), "NAXIS1", 8))
    with fits.open(path) as hdul, afits.open(path) as expected:
        assert hdul[1].data["b"].tolist() == expected[1].data["b"].tolist()


@pytest.mark.parametrize("table", [_ascii_table, _binary_table])
def test_tfields_near_two_to_the_31_is_refused_at_once(fits, tmp_path, table):
    # astropy allocates a list of 2**31 columns (MemoryError); fitsbind stops at the first
    # column without a TFORM. Either way: an error, not minutes of looping
    path = tmp_path / "tfields.fits"
    path.write_bytes(_patched(table(), "TFIELDS", 2**31 - 1))
    result = _child(f"""
        import warnings
        import {fits.__name__} as fits
        warnings.simplefilter("ignore")
        with fits.open({str(path)!r}) as hdul:
            try:
                hdul[1].columns
            except (MemoryError, fits.VerifyError) as exc:
                print(type(exc).__name__)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in ("MemoryError", "VerifyError")


def test_tfields_near_two_to_the_31_verifies_in_bounded_time(tmp_path):
    import fitsbind as fits
    path = tmp_path / "tfields.fits"
    path.write_bytes(_patched(_binary_table(), "TFIELDS", 2**31 - 1))
    with fits.open(path) as hdul:
        with pytest.raises(fits.VerifyError, match="'TFIELDS' card has invalid value"):
            hdul.verify("exception")


def test_header_strip_walks_the_cards_present():
    # (astropy loops over every column number up to TFIELDS here)
    import fitsbind as fits
    header = fits.Header([("XTENSION", "BINTABLE"), ("NAXIS", 2), ("NAXIS1", 4), ("NAXIS2", 1),
                          ("TFIELDS", 2**31 - 1), ("TFORM1", "J"), ("TTYPE1", "a"),
                          ("TFORM0", "J"), ("OBJECT", "M31")])
    header.strip()
    assert list(header) == ["TFORM0", "OBJECT"]


# -- CFITSIO's view of damaged headers is a FITSError ---------------------------------------------


def test_compressed_image_cfitsio_refuses_raises_fitserror(tmp_path):
    import fitsbind as fits
    image = afits.CompImageHDU(np.arange(120, dtype=np.int16).reshape(10, 12))
    path = tmp_path / "ztype.fits"
    path.write_bytes(_patched([afits.PrimaryHDU(), image], "ZCMPTYPE", "FOO"))
    with fits.open(path) as hdul:
        with pytest.warns(fits.verify.FITSUserWarning, match="Unknown compression type"):
            hdu = hdul[1]
        with pytest.raises(fits.FITSError, match=r"ztype.fits, HDU 1: CFITSIO cannot read HDU 1"):
            hdu.data  # noqa: B018


# -- structure judged at open, as astropy judges it ---------------------------------------------


def _image_file() -> list:
    return [afits.PrimaryHDU(), afits.ImageHDU(np.arange(10, dtype=">i2"))]


def test_gcount_zero_on_an_image_extension(fits, tmp_path):
    # no data unit: the data bytes are read as the next header, which has no END
    path = tmp_path / "gcount.fits"
    path.write_bytes(_patched(_image_file(), "GCOUNT", 0))
    with pytest.warns(UserWarning, match="null bytes instead of spaces"):
        with pytest.raises(OSError, match="Header missing END card"):
            with fits.open(path) as hdul:
                len(hdul)


def test_huge_pcount_on_an_image_extension(fits, tmp_path):
    path = tmp_path / "pcount.fits"
    path.write_bytes(_patched(_image_file(), "PCOUNT", 10**12))
    with pytest.warns(UserWarning, match="File may have been truncated"):
        with fits.open(path) as hdul:
            assert len(hdul) == 2
            np.testing.assert_array_equal(hdul[1].data, np.arange(10))


def test_unknown_xtension(fits, tmp_path):
    path = tmp_path / "xtension.fits"
    path.write_bytes(_patched(_image_file(), "XTENSION", "FOOBAR"))
    with fits.open(path) as hdul:
        assert type(hdul[1]).__name__ == "NonstandardExtHDU"
        assert hdul[1].data.tobytes() == np.arange(10, dtype=">i2").tobytes()


@pytest.mark.parametrize("cut", [BLOCK + 100, BLOCK + 400])
def test_file_ending_inside_a_header(fits, tmp_path, cut):
    path = tmp_path / "cut.fits"
    buffer = io.BytesIO()
    afits.HDUList(_image_file()).writeto(buffer)
    path.write_bytes(buffer.getvalue()[:cut])
    with fits.open(path) as hdul:
        with pytest.warns(fits.verify.VerifyWarning, match="Error validating header for HDU #1"):
            assert len(hdul) == 1


# -- update mode: a header CFITSIO refuses leaves the file as it was ------------------------------


@pytest.mark.parametrize("keyword, value", [("TFORM1", "QQ"), ("NAXIS1", 5)])
def test_update_with_a_header_cfitsio_refuses_leaves_the_file(tmp_path, keyword, value):
    import fitsbind as fits
    path = tmp_path / "update.fits"
    afits.HDUList(_binary_table()).writeto(path)
    before = path.read_bytes()
    hdul = fits.open(path, mode="update")
    hdul[0].header["OBSERVER"] = "Edwin"        # a valid change in the same flush
    hdul[1].header[keyword] = value
    with pytest.raises(fits.FITSError, match=r"update.fits, HDU 1: CFITSIO refuses the new "
                                             r"header \(.*\); the file is unchanged"):
        hdul.close()
    assert path.read_bytes() == before
    with fits.open(path) as reread:
        assert reread[1].data["a"].tolist() == [1, 2, 3]


def test_update_with_changed_data_and_a_refused_header_leaves_the_file(tmp_path):
    import fitsbind as fits
    path = tmp_path / "update.fits"
    afits.HDUList([afits.PrimaryHDU(), afits.ImageHDU(np.arange(10, dtype=">i4")),
                   *_binary_table()[1:]]).writeto(path)
    before = path.read_bytes()
    hdul = fits.open(path, mode="update", memmap=False)
    hdul[1].data[:] = -1                       # not mapped: written back by the flush
    hdul[2].header["TFORM1"] = "QQ"
    # (this flush rewrites the whole file, reading every HDU's data first)
    with pytest.raises(fits.VerifyError, match="Invalid column format: QQ"):
        hdul.flush()
    assert path.read_bytes() == before
    with pytest.raises(fits.VerifyError, match="Invalid column format: QQ"):
        hdul.close()
    assert path.read_bytes() == before
