"""Slightly broken FITS files, opened by astropy.io.fits and by fitsbind (the ``fits`` fixture) the
same way: the same HDUs, warnings, fixes and exceptions, and never a crash or a hang on garbage.

Files are built byte by byte here (or taken from astropy's test data): CFITSIO refuses several of
them, so fitsbind must locate their HDUs itself, by astropy's rules.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits as afits

BLOCK = 2880
DATA = np.arange(10, dtype=">i2").tobytes()


def card(keyword: str, value: object) -> str:
    return str(afits.Card(keyword, value))


def header(cards: list[str], end: str | None = "END") -> bytes:
    """Header bytes: the cards, then ``end`` (None: no END card), blank-padded to whole blocks."""
    text = "".join(cards) + ("" if end is None else end.ljust(80))
    return text.ljust(-(-len(text) // BLOCK) * BLOCK).encode("latin1")


def data(raw: bytes) -> bytes:
    return raw + b"\0" * (-len(raw) % BLOCK)


PRIMARY = [card("SIMPLE", True), card("BITPIX", 8), card("NAXIS", 0)]
IMAGE = [card("SIMPLE", True), card("BITPIX", 16), card("NAXIS", 1), card("NAXIS1", 10)]
EXTENSION = [card("XTENSION", "IMAGE"), card("BITPIX", 16), card("NAXIS", 1), card("NAXIS1", 10),
             card("PCOUNT", 0), card("GCOUNT", 1)]


@pytest.fixture
def write(tmp_path: Path):
    """``write(content, name="broken.fits")``: the bytes in a file of this test's directory."""

    def make(content: bytes, name: str = "broken.fits") -> Path:
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return make


def messages(record: list) -> list[str]:
    return [str(w.message) for w in record]


# -- headers CFITSIO refuses ---------------------------------------------------------------------


def test_extension_with_misplaced_bitpix_reads_and_is_fixed(fits, write):
    swapped = [EXTENSION[0], EXTENSION[2], EXTENSION[1], *EXTENSION[3:]]
    path = write(header(PRIMARY) + header(swapped) + data(DATA))
    for memmap in (True, False):
        with fits.open(path, memmap=memmap) as hdul:
            assert len(hdul) == 2
            assert type(hdul[1]).__name__ == "ImageHDU"
            info = hdul.fileinfo(1)
            assert (info["hdrLoc"], info["datLoc"], info["datSpan"]) == (2880, 5760, 2880)
            assert hdul[1].add_datasum() == 1310745
            np.testing.assert_array_equal(hdul[1].data, np.arange(10))
    with fits.open(path) as hdul:
        with pytest.warns(fits.verify.VerifyWarning) as record:
            hdul.verify("fix")
        assert "    'BITPIX' card at the wrong place (card 2).  Fixed by moving it to the right place " \
               "(card 1)." in messages(record)
        assert list(hdul[1].header)[:3] == ["XTENSION", "BITPIX", "NAXIS"]


def test_header_without_end_runs_into_the_next_header(fits, write):
    # astropy reads blocks up to the first END: the second header's cards join the first one's
    path = write(header(PRIMARY) + header(EXTENSION, end=None) + header(EXTENSION) + data(DATA))
    with fits.open(path) as hdul:
        assert len(hdul) == 2
        keys = list(hdul[1].header)
        assert len(keys) == 42 and keys[36:38] == ["XTENSION", "BITPIX"]
        np.testing.assert_array_equal(hdul[1].data, np.arange(10))


def test_missing_end_with_data_after_it(fits, write):
    path = write(header(IMAGE, end=None) + data(DATA))
    with pytest.warns(UserWarning, match="null bytes instead of spaces"):
        with pytest.raises(OSError, match=re.escape("Header missing END card.")):
            fits.open(path)


def test_compressed_file_cfitsio_refuses(fits, tmp_path):
    path = tmp_path / "verify.fits.gz"
    with open(afits.util.get_testdata_filepath("verify.fits"), "rb") as source, gzip.open(path, "wb") as out:
        shutil.copyfileobj(source, out)
    with fits.open(path) as hdul:
        assert list(hdul[0].header) == ["SIMPLE", "NAXIS", "BITPIX"]
        assert hdul[0].data is None


@pytest.mark.parametrize("suffix, opener", [(".bz2", bz2.open), (".xz", lzma.open)])
def test_compressions_cfitsio_does_not_read(fits, tmp_path, suffix, opener):
    # this CFITSIO is built without bzip2 and xz: their bytes are decompressed here
    path = tmp_path / f"images.fits{suffix}"
    with opener(path, "wb") as out:
        afits.HDUList([afits.PrimaryHDU(), afits.ImageHDU(np.arange(6.0), name="SCI")]).writeto(out)
    with fits.open(path) as hdul:
        assert [hdu.name for hdu in hdul] == ["PRIMARY", "SCI"]
        np.testing.assert_array_equal(hdul["SCI"].data, np.arange(6.0))


def test_update_mode_writes_fixed_file_back(fits, tmp_path, fitsverify):
    path = tmp_path / "verify.fits"
    shutil.copyfile(afits.util.get_testdata_filepath("verify.fits"), path)
    with fits.open(path, mode="update") as hdul:
        hdul.verify("silentfix")
        hdul[0].header["OBSERVER"] = "Edwin"
    assert list(afits.getheader(path)) == ["SIMPLE", "BITPIX", "NAXIS", "OBSERVER"]
    fitsverify(path)


# -- where CFITSIO and astropy disagree on an HDU's extent ---------------------------------------


def test_heap_after_a_theap_gap(fits):
    path = afits.util.get_testdata_filepath("theap-gap.fits")
    with afits.open(path) as expected, fits.open(path) as hdul:
        assert len(hdul) == 2
        assert hdul.fileinfo(1)["datSpan"] == 14400
        # the sum of the data unit as it is in the file: the gap before the heap included
        assert hdul[1].add_datasum() == expected[1].add_datasum() == 1160176
        for name in ("i", "arr"):
            for got, want in zip(hdul[1].data[name], expected[1].data[name]):
                np.testing.assert_array_equal(got, want)


# -- truncated files --------------------------------------------------------------------------------


@pytest.mark.parametrize("memmap, error", [(True, TypeError), (False, ValueError)])
def test_truncated_data_fails_only_when_read(fits, write, memmap, error):
    path = write(header(PRIMARY) + header(EXTENSION) + DATA[:8])
    with pytest.warns(UserWarning) as record:
        hdul = fits.open(path, memmap=memmap)
        assert len(hdul) == 2
    assert "File may have been truncated: actual file length (5768) is smaller than the expected size " \
           "(8640)" in messages(record)
    assert hdul[1].header["NAXIS1"] == 10
    with pytest.raises(error):
        hdul[1].data  # noqa: B018
    hdul.close()


def test_truncated_header_after_last_hdu(fits, write):
    path = write(header(PRIMARY) + header(EXTENSION)[:1000])
    with pytest.warns(fits.verify.VerifyWarning) as record:
        with fits.open(path) as hdul:
            assert len(hdul) == 1
    text = " ".join(messages(record))
    assert "Error validating header for HDU #1" in text
    assert "Header size is not multiple of 2880: 1000" in text


# -- bytes after the last HDU ------------------------------------------------------------------------


def test_zero_blocks_after_last_hdu(fits, write):
    path = write(header(PRIMARY) + b"\0" * BLOCK)
    with pytest.warns(UserWarning, match="Unexpected extra padding at the end of the file"):
        with fits.open(path) as hdul:
            assert len(hdul) == 1


@pytest.mark.parametrize("tail", [b" " * BLOCK, b"garbage!" * 360], ids=["blanks", "text"])
def test_block_without_end_after_last_hdu(fits, write, tail):
    path = write(header(PRIMARY) + tail)
    with pytest.raises(OSError, match=re.escape("Header missing END card.")):
        with fits.open(path) as hdul:
            len(hdul)


# -- damaged END cards and padding ----------------------------------------------------------------------


def test_bytes_after_end_keyword(fits, write):
    path = write(("".join(PRIMARY) + "END     x").ljust(BLOCK).encode("ascii"))
    with pytest.warns(UserWarning, match=re.escape("Unexpected bytes trailing END keyword: '     x'")):
        with fits.open(path) as hdul:
            assert list(hdul[0].header) == ["SIMPLE", "BITPIX", "NAXIS"]


def test_header_padded_with_nulls(fits, write):
    path = write(("".join(PRIMARY) + "END".ljust(80)).encode("ascii").ljust(BLOCK, b"\0"))
    with pytest.warns(UserWarning, match="Header block contains null bytes instead of spaces"):
        with fits.open(path) as hdul:
            assert len(hdul) == 1 and hdul[0].data is None


# -- files that are not FITS --------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"\0" * 2 * BLOCK, b" " * BLOCK, b"hello world\n",
                                     header([card("BITPIX", 8), card("NAXIS", 0)])],
                         ids=["zeros", "blanks", "text", "no-simple"])
def test_not_a_fits_file(fits, write, content):
    path = write(content)
    with pytest.raises(OSError, match="No SIMPLE card found, this file does not appear to be a valid FITS"):
        fits.open(path)


def test_zeros_with_ignore_missing_simple(fits, write):
    path = write(b"\0" * 2 * BLOCK)
    with pytest.warns(UserWarning, match="Unexpected extra padding"):
        with pytest.raises(OSError, match="Empty or corrupt FITS file"):
            fits.open(path, ignore_missing_simple=True)


def test_empty_file(fits, write):
    with pytest.raises(OSError, match="Empty or corrupt FITS file"):
        fits.open(write(b""))


def test_simple_card_out_of_format_warns(fits, write):
    path = write(header(["SIMPLE  = T".ljust(80), *PRIMARY[1:]]))
    with pytest.warns(fits.verify.VerifyWarning, match="Found a SIMPLE card but its format doesn't respect"):
        with fits.open(path) as hdul:
            assert hdul[0].header["SIMPLE"] is True


# -- structural keywords that make no size -------------------------------------------------------------


@pytest.mark.parametrize("cards, error", [
    ([card("NAXIS", 2), card("NAXIS1", 3)], KeyError),
    ([card("NAXIS", 1000)], KeyError),
    ([card("NAXIS", "x")], TypeError),
], ids=["naxis2-missing", "naxis-absurd", "naxis-text"])
def test_data_size_undefined(fits, write, cards, error):
    path = write(header([card("SIMPLE", True), card("BITPIX", 8), *cards]) + data(b"abc"))
    with pytest.raises(error):
        fits.open(path)


def test_negative_axis_fails_when_data_is_read(fits, write):
    path = write(header([card("SIMPLE", True), card("BITPIX", 8), card("NAXIS", 1), card("NAXIS1", -5)]))
    with fits.open(path) as hdul:
        assert hdul.fileinfo(0)["datSpan"] == 0
        with pytest.raises(ValueError, match="negative dimensions are not allowed"):
            hdul[0].data  # noqa: B018


# -- garbage: clear exceptions, never a crash or a hang (fitsbind only) ---------------------------------

_FUZZ = textwrap.dedent("""
    import sys, warnings
    import numpy as np
    import fitsbind
    warnings.simplefilter("ignore")
    path, seed = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(seed)
    original = bytearray(open(path, "rb").read())
    headers = [i for i in range(0, len(original), 2880) if original[i:i + 8] in (b"SIMPLE  ", b"XTENSION")]
    for trial in range(60):
        damaged = bytearray(original)
        start = headers[trial % len(headers)]
        for _ in range(1 + trial % 5):
            at = start + int(rng.integers(0, 2880))
            damaged[at] = int(rng.choice([0, 32, 48, 61, 255, int(rng.integers(0, 256))]))
        if trial % 7 == 6:
            damaged = damaged[:int(rng.integers(1, len(damaged)))]
        out = path + f".{trial}"
        open(out, "wb").write(bytes(damaged))
        for kwargs in ({}, {"ignore_missing_end": True, "ignore_missing_simple": True}, {"memmap": False}):
            try:
                with fitsbind.open(out, **kwargs) as hdul:
                    for hdu in hdul:
                        hdu.header.tostring()
                        hdu.data
            except Exception:
                pass
    print("done")
""")


def test_damaged_headers_never_crash_or_hang(tmp_path, sample_files):
    script = tmp_path / "fuzz.py"
    script.write_text(_FUZZ)
    for seed, path in enumerate(sample_files):
        result = subprocess.run([sys.executable, str(script), str(path), str(seed)], capture_output=True,
                                text=True, timeout=120, check=False)
        assert result.returncode == 0 and result.stdout.strip() == "done", result.stderr[-2000:]


@pytest.fixture
def sample_files(tmp_path: Path) -> list[Path]:
    """Two small files to damage: an image file with an extension, and a file with a binary
    table (a variable-length column: heap) and an ASCII table."""
    images = tmp_path / "images.fits"
    afits.HDUList([afits.PrimaryHDU(np.arange(12, dtype=np.int16).reshape(3, 4)),
                   afits.ImageHDU(np.ones((2, 3), np.float32), name="SCI")]).writeto(images)
    tables = tmp_path / "tables.fits"
    binary = afits.BinTableHDU.from_columns([
        afits.Column("ID", "J", array=np.arange(3)),
        afits.Column("V", "PJ()", array=np.array([[1], [2, 3], [4, 5, 6]], dtype=object)),
    ])
    ascii_table = afits.TableHDU.from_columns([afits.Column("X", "I5", array=np.array([1, -2]))])
    afits.HDUList([afits.PrimaryHDU(), binary, ascii_table]).writeto(tables)
    return [images, tables]


_NOT_SIMPLE = "No SIMPLE card found"
_RANDOM = np.random.default_rng(5).integers(0, 256, 5 * BLOCK, dtype=np.uint8).tobytes()
_IGNORE = {"ignore_missing_simple": True, "ignore_missing_end": True}


@pytest.mark.parametrize("content, kwargs, error, match", [
    (_RANDOM, {}, OSError, _NOT_SIMPLE),
    (b"\0" * 3 * BLOCK, _IGNORE, OSError, "Empty or corrupt FITS file"),
    (header([card("SIMPLE", True), card("BITPIX", 8), card("NAXIS", 10**9)]), {}, KeyError, "NAXIS1"),
], ids=["random", "zeros", "naxis-huge"])
def test_garbage_gives_clear_exception(write, content, kwargs, error, match):
    import fitsbind

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=match):
            fitsbind.open(write(content), **kwargs)


def test_random_bytes_read_as_a_header(write):
    import fitsbind

    path = write(_RANDOM)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fitsbind.open(path, **_IGNORE) as hdul:
            assert len(hdul) == 1
            assert hdul[0].data is None


@pytest.mark.parametrize("axes", [[2**62], [2**40, 2**40]], ids=["naxis1-huge", "product-huge"])
def test_data_unit_beyond_any_file(fits, write, axes):
    # more bytes than a file offset can reach (2**63): astropy cannot seek past such an HDU
    # (ValueError), so its list ends before it; a primary HDU leaves no list at all
    axis_cards = [card("NAXIS", len(axes)), *(card(f"NAXIS{i}", n) for i, n in enumerate(axes, 1))]
    primary = [card("SIMPLE", True), card("BITPIX", 64), *axis_cards]
    with pytest.warns(UserWarning, match="Error validating header for HDU #0"):
        with pytest.raises(OSError, match="Empty or corrupt FITS file"):
            fits.open(write(header(primary)))
    extension = [card("XTENSION", "IMAGE"), card("BITPIX", 64), *axis_cards,
                 card("PCOUNT", 0), card("GCOUNT", 1)]
    with pytest.warns(UserWarning, match="Error validating header for HDU #1"):
        with fits.open(write(header(PRIMARY) + header(extension))) as hdul:
            assert len(hdul) == 1


def test_data_unit_past_the_end_is_a_truncated_file(write):
    import fitsbind

    cards = [card("SIMPLE", True), card("BITPIX", 64), card("NAXIS", 1), card("NAXIS1", 2**58)]
    with pytest.warns(UserWarning, match="File may have been truncated: actual file length \\(2880\\)"):
        hdul = fitsbind.open(write(header(cards)))
    with hdul:
        assert len(hdul) == 1
        with pytest.raises(TypeError, match="may have been truncated"):
            hdul[0].data  # noqa: B018


# -- fuzzer findings: the drop-in's exception is the FITSError family or astropy's class -----------

def _gzipped(content: bytes) -> bytes:
    return gzip.compress(content, mtime=0)


@pytest.mark.parametrize("damage", ["truncated", "crc"])
def test_damaged_gzip_stream_is_a_fits_error(write, damage):
    import fitsbind

    packed = _gzipped(header(IMAGE) + data(DATA))
    if damage == "truncated":
        packed = packed[:-12]
    else:
        packed = packed[:-8] + bytes(b ^ 0xFF for b in packed[-8:-4]) + packed[-4:]
    path = write(packed, "damaged.fits.gz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(fitsbind.FITSError, match="cannot be decompressed") as caught:
            fitsbind.open(path).readall()
    assert str(path) in str(caught.value)


def test_gzip_header_claiming_more_data_than_the_stream_holds(write):
    import fitsbind

    # a terabyte claimed, a block held: refused before anything of that size is allocated
    cards = [card("SIMPLE", True), card("BITPIX", 8), card("NAXIS", 1), card("NAXIS1", 2**40)]
    path = write(_gzipped(header(cards) + data(b"abc")), "huge.fits.gz")
    with fitsbind.open(path) as hdul:
        with pytest.raises(fitsbind.FITSError, match="may have been truncated"):
            hdul[0].data  # noqa: B018


def test_checksum_of_truncated_data_is_not_an_empty_file(write):
    import fitsbind

    path = write(header([*IMAGE, card("DATASUM", "0")]))
    with pytest.warns(UserWarning, match="File may have been truncated"):
        with pytest.raises(TypeError, match="may have been truncated") as caught:
            fitsbind.open(path, checksum=True)
    assert isinstance(caught.value, fitsbind.FITSError)


def test_corrupted_hdu_fails_verification(write):
    import fitsbind

    # GROUPS unparsable: no HDU class can tell what the primary header describes
    path = write(header([card("SIMPLE", True), "GROUPS  = 'T".ljust(80), card("BITPIX", 8),
                         card("NAXIS", 0)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fitsbind.open(path) as hdul:
            assert type(hdul[0]).__name__ == "_CorruptedHDU"
            with pytest.raises(fitsbind.VerifyError, match="the HDU is corrupted"):
                hdul.verify("exception")


def test_true_simple_value_is_a_primary_hdu(fits, write):
    # as astropy: any true SIMPLE makes a primary HDU, and its value is not verified
    path = write(header([card("SIMPLE", 2147483647), card("BITPIX", 8), card("NAXIS", 0)]))
    with fits.open(path, ignore_missing_simple=True) as hdul:
        assert isinstance(hdul[0], fits.PrimaryHDU)
        hdul.verify("exception")


def test_logical_gcount_verifies_but_reads_as_a_fits_error(write):
    import fitsbind

    cards = [card("SIMPLE", True), card("BITPIX", 8), card("NAXIS", 2), card("NAXIS1", 0),
             card("NAXIS2", 2), card("GROUPS", True), card("PCOUNT", 0), card("GCOUNT", True)]
    with fitsbind.open(write(header(cards) + data(b"ab"))) as hdul:
        hdul.verify("exception")      # as astropy, which counts a logical as an integer
        with pytest.raises(fitsbind.FITSError, match="GCOUNT = True is not an integer"):
            hdul[0].data  # noqa: B018


def test_simple_false_primary_is_a_nonstandard_hdu(fits, write, tmp_path):
    # SIMPLE = F: the header is kept and the data are every byte after it, padding included
    nonstandard = [card("SIMPLE", False), card("BITPIX", 8), card("NAXIS", 1), card("NAXIS1", 100),
                   card("OBSERVER", "Edwin")]
    path = write(header(nonstandard) + data(bytes(range(100))))
    with fits.open(path) as hdul:
        assert hdul.info(output=False) == [(0, "", 1, "NonstandardHDU", 5, (), "", "")]
        assert len(hdul[0].data) == BLOCK
        assert list(hdul[0].data[:100]) == list(range(100)) and not hdul[0].data[100:].any()
        if fits is afits:
            return      # astropy cannot write one back (its class lacks _prewriteto)
        hdul.writeto(tmp_path / "copy.fits")
    assert (tmp_path / "copy.fits").read_bytes() == path.read_bytes()
