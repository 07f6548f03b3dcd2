"""The fitsbind command, and the example file the README points at."""

import io
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

import fitsbind
from fitsbind.cli import main
from fitsbind.summary import summarize

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fitsgen


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
    assert summarize(fitsgen.EXAMPLE) == summarize(fresh)
    fitsverify(fitsgen.EXAMPLE)
