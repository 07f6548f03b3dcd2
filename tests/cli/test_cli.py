"""The fitsbind command, and the example file the README points at."""

import io
import subprocess
from contextlib import redirect_stdout

import fitsgen
import numpy as np
import pytest

import fitsbind
from fitsbind.cli import main
from fitsbind.cli.info import summary


def _info(*args):
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["info", *args])
    return status, out.getvalue()


def test_info_matches_astropy(example):
    fits = pytest.importorskip("astropy.io.fits")
    status, text = _info(str(example))
    assert status == 0
    with fits.open(example) as hdul:
        expected = hdul.info(output=False)
    rows = [line.split() for line in text.splitlines()[2:]]
    assert len(rows) == len(expected) == 5
    for row, (index, name, ver, kind, cards, dims, fmt, _) in zip(rows, expected):
        assert row[:5] == [str(index), name, str(ver), kind, str(cards)]
        line = " ".join(row)
        assert (str(dims) if not isinstance(dims, tuple) else f"({', '.join(map(str, dims))})") in line
        assert fmt in line


def test_info_several_files_and_errors(example, tmp_path, capsys):
    status = main(["info", str(example), str(tmp_path / "absent.fits")])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out.startswith(f"Filename: {example}")
    assert "fitsbind: error:" in captured.err and "absent.fits" in captured.err
    assert "Traceback" not in captured.err


def test_console_script(example):
    result = subprocess.run(["fitsbind", "info", str(example)], capture_output=True, text=True)
    assert result.returncode == 0
    assert "CATALOG" in result.stdout and "BinTableHDU" in result.stdout


def test_version_flag(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert fitsbind.cfitsio_version() in capsys.readouterr().out


def test_shipped_example_is_the_generators(tmp_path, fitsverify):
    fresh = fitsgen.write_example(tmp_path / "fresh.fits")
    assert fitsgen.header_cards(fitsgen.EXAMPLE) == fitsgen.header_cards(fresh)
    assert fitsgen.EXAMPLE.stat().st_size == fresh.stat().st_size
    assert summary(fitsgen.EXAMPLE) == summary(fresh)
    fitsverify(fitsgen.EXAMPLE)


def test_info_is_the_dropin_summary(tmp_path):
    """``fitsbind info`` and ``fitsbind.info()`` are one implementation: the same rows for
    every HDU kind (here a tile-compressed image, which astropy calls CompImageHDU)."""
    path = tmp_path / "comp.fits"
    hdul = fitsbind.HDUList([fitsbind.PrimaryHDU(),
                             fitsbind.CompImageHDU(np.arange(64 * 48, dtype=np.int16).reshape(48, 64),
                                                   name="SCI")])
    hdul.writeto(path)
    status, text = _info(str(path))
    assert status == 0
    printed = [line.rstrip() for line in text.splitlines()]
    out = io.StringIO()
    fitsbind.info(str(path), output=out)
    assert printed == [line.rstrip() for line in out.getvalue().splitlines()]
    assert "CompImageHDU" in printed[3]


def test_info_reports_any_unreadable_file_without_a_traceback(tmp_path, capsys):
    """A header whose data size is undefined (NAXIS2 missing) is one error line and status 1."""
    cards = ["SIMPLE  =                    T", "BITPIX  =                    8",
             "NAXIS   =                    2", "NAXIS1  =                    3", "END"]
    path = tmp_path / "bad.fits"
    path.write_bytes("".join(c.ljust(80) for c in cards).ljust(2880).encode() + bytes(2880))
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"fitsbind: error: {path}: FITSKeyError") and "NAXIS2" in err
    assert "Traceback" not in err


def _astropy_files():
    astropy = pytest.importorskip("astropy")
    from pathlib import Path

    root = Path(astropy.__file__).parent
    return sorted(p for p in root.rglob("*") if p.suffix in (".fits", ".fit", ".fts")
                  or p.name.endswith((".fits.gz", ".fits.bz2")))


def test_info_agrees_with_fitsinfo_on_every_file_astropy_ships(capsys):
    """``fitsbind info`` prints the rows astropy's ``fitsinfo`` prints, for every FITS file
    the installed astropy ships (trailing blanks aside); a file fitsinfo cannot read fails
    here too."""
    files = _astropy_files()
    from astropy.io.fits.scripts import fitsinfo

    assert len(files) > 40
    for path in files:
        status = main(["info", str(path)])
        ours = capsys.readouterr()
        fitsinfo.main([str(path)])
        theirs = capsys.readouterr()
        expected = [line.rstrip() for line in theirs.out.splitlines()]
        got = [line.rstrip() for line in ours.out.splitlines()]
        if not expected:   # astropy could not read it: neither can we, and we say so
            assert status == 1 and ours.err, path
            continue
        assert got == expected, path


def test_progress_is_silent_off_a_terminal(capsys):
    from fitsbind.cli.progress import iterate, progress

    with progress(10, "work") as bar:
        bar.update(10)
    assert list(iterate([1, 2, 3], "files")) == [1, 2, 3]
    assert capsys.readouterr().err == ""


def test_progress_draws_on_a_terminal(monkeypatch):
    pytest.importorskip("tqdm")
    from fitsbind.cli.progress import iterate

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert list(iterate(["a.fits", "b.fits"], "checking")) == ["a.fits", "b.fits"]
    assert "checking" in terminal.getvalue() and "/2 " in terminal.getvalue()
    terminal.truncate(0)
    assert list(iterate(["a.fits", "b.fits"], "checking", quiet=True)) == ["a.fits", "b.fits"]
    assert terminal.getvalue() == ""
