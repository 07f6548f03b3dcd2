"""``fitsbind verify``: the standard's structural rules, judged against NASA's fitsverify.

The broken files are made here: a good file written by fitsbind, then bytes patched.
"""

from __future__ import annotations

import bz2
import gzip
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import fitsgen
import numpy as np
import pytest

import fitsbind
from fitsbind.cli import main
from fitsbind.cli.progress import progress
from fitsbind.cli.standard import ERROR, WARNING, verify_file

needs_fitsverify = pytest.mark.skipif(shutil.which("fitsverify") is None,
                                      reason="fitsverify is not installed")

# astropy's test files where fitsverify and the standard disagree, and why
KNOWN_DIFFERENCES = {
    # fitsverify checks the index of PTYPEn/PSCALn/PZEROn against GCOUNT (3) instead of PCOUNT
    # (5): PTYPE4 and PTYPE5 are legal random-groups parameters
    "random_groups.fits": "fitsverify compares PTYPEn indexes to GCOUNT, not PCOUNT",
    # THEAP = 8640 leaves a gap after the 6000-byte table; the heap ends at NAXIS1 x NAXIS2 +
    # PCOUNT as the standard says, while fitsverify counts PCOUNT bytes from THEAP on
    "theap-gap.fits": "fitsverify counts the heap's PCOUNT bytes from THEAP",
}


def fitsverify_counts(path: Path, timeout: float = 20) -> tuple[int, int]:
    """(warnings, errors) of fitsverify's report on ``path``; a verification it aborts (a
    header CFITSIO cannot open) counts as one error."""
    result = subprocess.run(["fitsverify", str(path)], capture_output=True, text=True,
                            timeout=timeout, check=False)
    report = result.stdout + result.stderr
    m = re.search(r"(\d+) warning\(s\) and (\d+) error\(s\)", report)
    if m is None:
        assert "Abort Verification" in report, report
        return 0, 1
    return int(m.group(1)), int(m.group(2))


def errors(path: Path) -> list[str]:
    return [f.message for f in verify_file(path) if f.severity == ERROR]


# -- astropy's files ---------------------------------------------------------------------------

def astropy_files() -> list[Path]:
    astropy = pytest.importorskip("astropy")
    return sorted(p for p in Path(astropy.__file__).parent.rglob("*.fits") if p.is_file())


@needs_fitsverify
def test_agrees_with_fitsverify_on_astropy_files():
    disagreements = {}
    files = astropy_files()
    for path in files:
        ours = bool(errors(path))
        theirs = fitsverify_counts(path)[1] > 0
        if ours != theirs:
            disagreements[path.name] = f"fitsbind {'rejects' if ours else 'accepts'}"
    assert set(disagreements) == set(KNOWN_DIFFERENCES), disagreements
    assert len(files) - len(disagreements) >= 50


# -- broken files ------------------------------------------------------------------------------

def good_file(path: Path) -> bytearray:
    """A primary HDU, an int16 IMAGE, a binary table (J, L and a PJ column) and an ASCII
    table, with checksums, as fitsbind writes them; its bytes."""
    cat = [fitsbind.Column(name="ID", format="J", array=np.arange(4)),
           fitsbind.Column(name="FLAG", format="L", array=np.array([True, False, True, True])),
           fitsbind.Column(name="ARR", format="PJ()",
                           array=np.array([np.arange(n) for n in (1, 2, 3, 4)], dtype=object))]
    asc = [fitsbind.Column(name="NAME", format="A8", array=np.array(["a", "bb"])),
           fitsbind.Column(name="MAG", format="F8.3", array=np.array([1.5, 2.0]))]
    fitsbind.HDUList([
        fitsbind.PrimaryHDU(),
        fitsbind.ImageHDU(np.arange(12, dtype=np.int16).reshape(3, 4), name="SCI"),
        fitsbind.BinTableHDU.from_columns(cat, name="CAT"),
        fitsbind.TableHDU.from_columns(asc, name="ASC"),
    ]).writeto(path, overwrite=True, checksum=True)
    return bytearray(path.read_bytes())


def card_at(data: bytearray, hdu: int, keyword: str) -> int:
    start = fitsgen.header_starts(bytes(data))[hdu]
    for position in range(start, len(data), 80):
        if data[position:position + 8] == keyword.ljust(8).encode():
            return position
    raise KeyError(keyword)


def put(data: bytearray, hdu: int, keyword: str, card: str) -> bytearray:
    position = card_at(data, hdu, keyword)
    data[position:position + 80] = card.ljust(80).encode()
    return data


def data_start(data: bytearray, hdu: int) -> int:
    return card_at(data, hdu, "END") // 2880 * 2880 + 2880


def missing_end(d):
    return put(d, 1, "END", "")


def card_order(d):
    a, b = card_at(d, 1, "BITPIX"), card_at(d, 1, "NAXIS")
    d[a:a + 80], d[b:b + 80] = d[b:b + 80], d[a:a + 80]
    return d


def heap_out_of_range(d):
    row = 4 + 1 + 8                 # J, L and a P descriptor (count, offset)
    offset = data_start(d, 2) + 3 * row + 9
    d[offset:offset + 4] = (10**6).to_bytes(4, "big")
    return d


def bad_checksum(d):
    position = card_at(d, 1, "CHECKSUM") + 11
    d[position:position + 16] = b"0123456789ABCDEF"
    return d


def non_ascii(d):
    position = card_at(d, 1, "EXTNAME") + 40
    d[position:position + 2] = "é".encode()
    return d


def data_fill(d):
    d[data_start(d, 1) + 24 + 5] = 1    # 12 int16 pixels, then fill
    return d


# (name, patch, severity and words of the finding expected, fitsverify's errors > 0 or None
# when fitsverify is not run on it)
BROKEN: list[tuple[str, Callable[[bytearray], bytearray], str, str, bool | None]] = [
    ("missing END", missing_end, ERROR, "no END card", True),
    ("card order", card_order, ERROR, "mandatory keyword NAXIS is card 2, it must be card 3",
     True),
    ("BITPIX 7", lambda d: put(d, 1, "BITPIX", "BITPIX  =" + "7".rjust(21)), ERROR,
     "BITPIX = 7 is not a legal value", True),
    ("NAXIS1 mismatch", lambda d: put(d, 2, "NAXIS1", "NAXIS1  =" + "20".rjust(21)), ERROR,
     "NAXIS1 = 20, but the columns' TFORMn add up to 13", True),
    ("GCOUNT 0 on IMAGE", lambda d: put(d, 1, "GCOUNT", "GCOUNT  =" + "0".rjust(21)), ERROR,
     "GCOUNT = 0 in an IMAGE extension", True),
    # fitsverify does not finish on this file (it spins on the 10^14-byte data unit): not run
    ("huge PCOUNT on IMAGE", lambda d: put(d, 1, "PCOUNT", "PCOUNT  =" + ("1" * 15).rjust(21)),
     ERROR, "PCOUNT = 111111111111111 in an IMAGE extension", None),
    ("XTENSION FOOBAR", lambda d: put(d, 1, "XTENSION", "XTENSION= 'FOOBAR  '"), ERROR,
     "XTENSION = 'FOOBAR' is not a standard extension type", True),
    ("header cut mid-card",
     lambda d: d[:fitsgen.header_starts(bytes(d))[1] + 80 * 3 + 40], ERROR,
     "header is cut mid-card", True),
    ("truncated data", lambda d: d[:data_start(d, 1) + 10], ERROR, "file is truncated", True),
    ("bad TFORM", lambda d: put(d, 2, "TFORM1", "TFORM1  = 'Y       '"), ERROR,
     "TFORM1 = 'Y' is not a valid format", True),
    ("heap descriptor out of range", heap_out_of_range, ERROR,
     "at heap offset 1000000 is not within the 40-byte heap", True),
    ("bad CHECKSUM", bad_checksum, WARNING, "CHECKSUM = '0123456789ABCDEF' does not match",
     False),
    ("non-ASCII in a card", non_ascii, ERROR, "not printable ASCII", True),
    ("data fill not zero", data_fill, ERROR, "fill after its 24 bytes is not all zeros", True),
    ("lowercase keyword", lambda d: d[:card_at(d, 1, "EXTNAME")] + b"extname " +
     d[card_at(d, 1, "EXTNAME") + 8:], ERROR, "keyword 'extname' has characters", True),
]


@pytest.mark.parametrize(("name", "patch", "severity", "words", "fitsverify_rejects"), BROKEN,
                         ids=[case[0] for case in BROKEN])
def test_broken_file(tmp_path, name, patch, severity, words, fitsverify_rejects):
    path = tmp_path / "broken.fits"
    path.write_bytes(bytes(patch(good_file(path))))
    findings = verify_file(path)
    assert any(f.severity == severity and words in f.message for f in findings), findings
    if severity == ERROR:
        assert main(["verify", "-q", str(path)]) > 0
    if fitsverify_rejects is not None and shutil.which("fitsverify"):
        warnings, errors = fitsverify_counts(path)
        assert (errors > 0) == fitsverify_rejects
        assert errors or warnings      # a checksum mismatch is one of fitsverify's warnings


@needs_fitsverify
@pytest.mark.slow
def test_fitsverify_does_not_finish_on_huge_pcount(tmp_path):
    """The one broken file fitsverify does not judge: it does not return in 20 s."""
    path = tmp_path / "huge.fits"
    path.write_bytes(bytes(BROKEN[5][1](good_file(path))))
    with pytest.raises(subprocess.TimeoutExpired):
        fitsverify_counts(path, timeout=20)


@pytest.mark.parametrize("content", [b"", b"not a FITS file at all\n", b"SIMPLE  =", b"\0" * 5000])
def test_unreadable_files_are_findings(tmp_path, content, capsys):
    path = tmp_path / "junk.fits"
    path.write_bytes(content)
    assert errors(path)
    assert main(["verify", str(path)]) > 0
    assert "verification FAILED" in capsys.readouterr().out


def test_missing_file(tmp_path, capsys):
    assert main(["verify", "-q", str(tmp_path / "absent.fits")]) == 1
    assert capsys.readouterr().out.startswith("verification FAILED")


# -- files fitsbind writes ---------------------------------------------------------------------

def mixed_file(path: Path) -> Path:
    """Random groups aside, one HDU of every kind fitsbind writes, with checksums."""
    rows = np.array([np.arange(n, dtype=float) for n in (0, 2, 5)], dtype=object)
    cols = [fitsbind.Column(name="B", format="13X", array=np.zeros((3, 13), bool)),
            fitsbind.Column(name="Q", format="QD()", array=rows),
            fitsbind.Column(name="S", format="10A", array=np.array(["x", "yy", "zzz"])),
            fitsbind.Column(name="M", format="6E", dim="(3,2)", array=np.ones((3, 2, 3))),
            fitsbind.Column(name="U", format="J", bzero=2**31,
                            array=np.array([1, 2, 3], dtype=np.uint32))]
    image = np.random.default_rng(1).random((50, 40)).astype(np.float32)
    hdul = fitsbind.HDUList([fitsbind.PrimaryHDU(np.arange(10, dtype=np.uint16)),
                             fitsbind.BinTableHDU.from_columns(cols),
                             fitsbind.CompImageHDU(image, compression_type="RICE_1", name="A"),
                             fitsbind.CompImageHDU(image, compression_type="GZIP_2", name="B"),
                             fitsbind.ImageHDU(np.zeros((2, 3)))])
    hdul[0].header["HIERARCH ESO LONG KEY"] = 1.5
    hdul[0].header["LONGSTR"] = "x" * 200
    hdul.writeto(path, checksum=True)
    return path


def groups_file(path: Path) -> Path:
    data = fitsbind.GroupData(np.zeros((4, 1, 2, 3), np.float32), parnames=["UU", "VV"],
                              pardata=[np.ones(4), np.ones(4)], bitpix=-32)
    fitsbind.GroupsHDU(data).writeto(path)
    return path


@pytest.mark.parametrize("make", [fitsgen.write_example, mixed_file, groups_file])
def test_files_fitsbind_writes_verify_clean(tmp_path, make, capsys):
    path = make(tmp_path / "written.fits")
    assert verify_file(path) == []
    assert main(["verify", "--strict", str(path)]) == 0
    assert capsys.readouterr().out.endswith("verification OK: 0 warning(s) and 0 error(s)\n")
    if shutil.which("fitsverify"):
        assert fitsverify_counts(path)[1] == 0


@pytest.mark.parametrize("opener", [gzip.open, bz2.open])
def test_compressed_files_are_read_decompressed(tmp_path, opener):
    path = fitsgen.write_example(tmp_path / "plain.fits")
    packed = tmp_path / "packed.fits.z"
    with opener(packed, "wb") as f:
        f.write(path.read_bytes())
    assert verify_file(packed) == []


# -- the command -------------------------------------------------------------------------------

def test_quiet_strict_and_exit_status(tmp_path, capsys):
    good = fitsgen.write_example(tmp_path / "good.fits")
    warned = tmp_path / "warned.fits"
    warned.write_bytes(bytes(bad_checksum(good_file(warned))))
    broken = tmp_path / "broken.fits"
    broken.write_bytes(bytes(good_file(broken)[:-100]))
    assert main(["verify", "-q", str(good), str(warned)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"verification OK: {good}",
                   f"verification OK: {warned}, 1 warning(s) and 0 error(s)"]
    assert main(["verify", "-q", "--strict", str(warned)]) == 1
    assert main(["verify", "-q", "-e", "--strict", str(warned)]) == 0
    capsys.readouterr()
    assert main(["verify", str(good), str(broken)]) >= 1
    report = capsys.readouterr().out
    assert report.count("File: ") == 2 and "*** Error:   HDU 3: the file is truncated" in report
    assert report.rstrip().endswith("0 warning(s) and 1 error(s)")


def test_progress_is_a_no_op_off_a_terminal():
    with progress(100, "x") as bar:        # pytest captures stderr: not a terminal
        bar.update(50)
    with progress(100, "x", quiet=True) as bar:
        bar.update(50)
