"""The drop-in's command-line scripts (fitsbind.scripts): fitsinfo, fitsheader, fitscheck and
fitsdiff, run through their main() on files made here."""

import subprocess
import sys

import fitsgen
import numpy as np
import pytest

import fitsbind
from fitsbind.cli.info import format_info, summary
from fitsbind.scripts import fitscheck, fitsdiff, fitsheader, fitsinfo


def _image_file(path, data=None, **keys):
    """A primary image (default 4x5 int32 counting up) with extra header keys; returns the path."""
    hdu = fitsbind.PrimaryHDU(np.arange(20, dtype=np.int32).reshape(4, 5) if data is None else data)
    for key, value in keys.items():
        hdu.header[key] = value
    hdu.writeto(path, overwrite=True)
    return str(path)


def _two_extensions(path):
    """A primary HDU and two images named SCI (EXTVER 1 and 2) with an EXPTIME each."""
    hdus = [fitsbind.PrimaryHDU()]
    for ver in (1, 2):
        hdu = fitsbind.ImageHDU(np.zeros((3, 2), dtype=np.int16), name="SCI", ver=ver)
        hdu.header["EXPTIME"] = 10.0 * ver
        hdus.append(hdu)
    fitsbind.HDUList(hdus).writeto(path, overwrite=True)
    return str(path)


@pytest.fixture
def not_fits(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a FITS file\n" * 200)
    return str(path)


@pytest.mark.parametrize("module", [fitsinfo, fitsheader, fitscheck, fitsdiff])
def test_help_and_version(module, capsys):
    name = module.__name__.rpartition(".")[2]
    for flag in ("-h", "--version"):
        with pytest.raises(SystemExit) as exit_info:
            module.main([flag])
        assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {name}")
    assert out.rstrip().endswith(f"{name} {fitsbind.__version__}")


def test_run_as_module(example):
    result = subprocess.run([sys.executable, "-m", "fitsbind.scripts.fitsinfo", str(example)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "CATALOG" in result.stdout


# -- fitsinfo ----------------------------------------------------------------------------------


def test_fitsinfo_is_the_info_table(example, capsys):
    assert fitsinfo.main([str(example)]) == 0
    out = capsys.readouterr().out
    fitsbind.info(str(example))
    assert out == capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"Filename: {example}"
    assert lines[1].startswith("No.    Name      Ver    Type      Cards   Dimensions   Format")
    assert len(lines) == 2 + 5
    # the same rows as `fitsbind info` (a file without tile-compressed tables)
    expected = format_info(str(example), summary(str(example)))
    assert [line.rstrip() for line in lines] == [line.rstrip() for line in expected]


def test_fitsinfo_bad_files_are_reported_and_the_rest_listed(example, not_fits, tmp_path, capsys):
    missing = str(tmp_path / "absent.fits")
    assert fitsinfo.main([missing, not_fits, str(example)]) == 0   # astropy's status
    out, err = capsys.readouterr()
    errors = err.splitlines()
    assert len(errors) == 2 and all(line.startswith("ERROR: ") for line in errors)
    assert "No such file or directory" in errors[0] and "absent.fits" in errors[0]
    assert "notes.txt" in errors[1]
    assert f"Filename: {example}" in out
    assert "Traceback" not in err


# -- fitsheader --------------------------------------------------------------------------------


def test_fitsheader_whole_file(tmp_path, capsys):
    path = _two_extensions(tmp_path / "two.fits")
    fitsheader.main([path])
    out = capsys.readouterr().out
    blocks = out.split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == [f"# HDU {i} in {path}:" for i in range(3)]
    with fitsbind.open(path) as hdul:
        for block, hdu in zip(blocks, hdul):
            assert block.splitlines()[1:] == [str(card) for card in hdu.header.cards]


def test_fitsheader_extensions_and_keywords(tmp_path, capsys):
    path = _two_extensions(tmp_path / "two.fits")
    fitsheader.main(["-e", "SCI,2", "-k", "EXPTIME", "-k", "NAXIS*", path])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == f"# HDU SCI,2 in {path}:"
    assert [line.split("=")[0].strip() for line in lines[1:]] == ["EXPTIME", "NAXIS", "NAXIS1", "NAXIS2"]
    assert lines[1].startswith("EXPTIME =                 20.0")
    assert err == ""

    fitsheader.main(["-e", "1", "-e", "7", "-k", "EXPTIME", "-k", "NOSUCHKEY", path])
    out, err = capsys.readouterr()
    assert out.splitlines()[1].startswith("EXPTIME =                 10.0")
    warnings = err.splitlines()
    assert warnings == [f"WARNING: {path} (HDU 1): Keyword NOSUCHKEY not found.",
                        f"WARNING: {path}: Extension 7 not found."]


def test_fitsheader_hierarch_keyword_dotted_or_spaced(example, capsys):
    for keyword in ("ESO.DET.CHIP.NAME", "ESO DET CHIP NAME"):
        fitsheader.main(["-e", "0", "-k", keyword, str(example)])
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 2
        assert lines[1].startswith("HIERARCH ESO DET CHIP NAME = 'CCD-42  ' / HIERARCH keyword")


def test_fitsheader_compressed_header(tmp_path, capsys):
    path = str(tmp_path / "comp.fits")
    image = np.arange(100, dtype=np.float32).reshape(10, 10)
    fitsbind.HDUList([fitsbind.PrimaryHDU(), fitsbind.CompImageHDU(image, name="COMP")]).writeto(path)
    fitsheader.main(["-e", "COMP", "-k", "XTENSION", path])
    assert "XTENSION= 'IMAGE" in capsys.readouterr().out
    fitsheader.main(["-c", "-e", "COMP", "-k", "XTENSION", "-k", "ZCMPTYPE", path])
    out = capsys.readouterr().out
    assert "XTENSION= 'BINTABLE" in out and "ZCMPTYPE= 'RICE_1" in out


def test_fitsheader_unreadable_file_then_the_next(example, not_fits, capsys):
    assert fitsheader.main(["-e", "0", "-k", "SIMPLE", not_fits, str(example)]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("ERROR: ") and "notes.txt" in err
    assert out == f"# HDU 0 in {example}:\n{fitsbind.getheader(example).cards['SIMPLE']}\n"


def test_fitsheader_fitsort(tmp_path, capsys):
    a = _image_file(tmp_path / "a.fits", OBJECT="M31", EXPTIME=30.0)
    b = _image_file(tmp_path / "bb.fits", np.zeros(3, dtype=np.uint8), OBJECT="NGC 1")
    fitsheader.main(["-f", "-e", "0", "-k", "OBJECT", "-k", "EXPTIME", "-k", "NAXIS2", a, b])
    width = len(b)
    assert capsys.readouterr().out.splitlines() == [
        "filename".center(width) + " OBJECT EXPTIME NAXIS2",
        "-" * width + " ------ ------- ------",
        a.rjust(width) + "    M31    30.0      4",
        b + "  NGC 1      --     --",
    ]
    # sorted by a keyword; several HDUs make hdu:keyword columns
    fitsheader.main(["-f", "-s", "NAXIS1", "-k", "NAXIS1", "-e", "0", a, b])
    assert [line.split() for line in capsys.readouterr().out.splitlines()[2:]] == [[b, "3"], [a, "5"]]
    two = _two_extensions(tmp_path / "two.fits")
    fitsheader.main(["-f", "-k", "EXPTIME", two])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["filename", "1:EXPTIME", "2:EXPTIME"]
    assert lines[2].split() == [two, "10.0", "20.0"]


def test_fitsheader_sort_needs_fitsort(example, capsys):
    with pytest.raises(SystemExit) as exit_info:
        fitsheader.main(["-s", "NAXIS", str(example)])
    assert exit_info.value.code == 2
    assert "only supported in conjunction with -f/--fitsort" in capsys.readouterr().err


def test_fitsheader_table(tmp_path, capsys):
    pytest.importorskip("astropy.table")
    path = _two_extensions(tmp_path / "two.fits")
    assert fitsheader.main(["-k", "EXPTIME", path, "-t"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[1].endswith("|   1 | EXPTIME |  10.0 |") and lines[2].endswith("|   2 | EXPTIME |  20.0 |")
    fitsheader.main(["-k", "EXPTIME", "-e", "1", "-t", "ascii.csv", path])
    assert capsys.readouterr().out.splitlines() == ["filename,hdu,keyword,value", f"{path},1,EXPTIME,10.0"]


def test_fitsheader_table_without_astropy_says_so(example, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "astropy", None)   # import astropy now fails
    assert fitsheader.main([str(example), "-t"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("ERROR: fitsheader --table needs astropy")


def test_header_formatter_api(tmp_path):
    path = _two_extensions(tmp_path / "two.fits")
    with fitsheader.HeaderFormatter(path) as formatter:
        text = formatter.parse(extensions=["SCI"], keywords=["EXTNAME", "BITPIX"])
        assert text.splitlines()[1:] == [
            str(card) for card in fitsbind.getheader(path, 1).cards if card.keyword in ("EXTNAME", "BITPIX")
        ][::-1]
        assert formatter.rows(["SCI,2"], ["EXPTIME"]) == [(path, "SCI,2", "EXPTIME", "20.0")]
        assert formatter.parse(extensions=["NOPE"]) == ""
    assert fitsheader.parse_extension("3") == 3
    assert fitsheader.parse_extension("A,B,2") == ("A,B", 2)
    assert fitsheader.parse_extension("A,B") == "A,B"


def test_table_header_formatter(tmp_path):
    pytest.importorskip("astropy.table")
    path = _two_extensions(tmp_path / "two.fits")
    formatter = fitsheader.TableHeaderFormatter(path)
    try:
        table = formatter.parse([2], ["EXTNAME", "EXPTIME"])
        assert list(table["keyword"]) == ["EXTNAME", "EXPTIME"]
        assert list(table["value"]) == ["SCI", "20.0"]
        assert formatter.parse(["NOPE"]) is None
        assert formatter.parse([1], ["NOSUCHKEY"]) is None
    finally:
        formatter.close()


# -- fitscheck ---------------------------------------------------------------------------------


def test_fitscheck_valid_file(example, capsys):
    assert fitscheck.main([str(example)]) == 0
    assert fitscheck.main([str(example), "--compliance"]) == 0
    assert capsys.readouterr().err == ""
    assert fitscheck.main(["-v", str(example)]) == 0
    assert capsys.readouterr().err == f"OK {str(example)!r}\n"


def test_fitscheck_missing_checksums(tmp_path, capsys):
    path = _image_file(tmp_path / "plain.fits")
    assert fitscheck.main([path]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"MISSING {path!r} .. Checksum not found in HDU #0",
        f"MISSING {path!r} .. Datasum not found in HDU #0",
        "2 errors",
    ]
    assert fitscheck.main(["--ignore-missing", path]) == 0
    assert capsys.readouterr().err == ""
    # --write does not add checksums to a file whose checksums failed; --force does
    assert fitscheck.main(["--write", path]) == 1
    assert "CHECKSUM" not in fitsbind.getheader(path)
    assert fitscheck.main(["--write", "--force", path]) == 1
    assert fitscheck.main([path]) == 0
    with fitsbind.open(path) as hdul:
        assert (hdul[0].verify_checksum(), hdul[0].verify_datasum()) == (1, 1)


def test_fitscheck_bad_datasum_then_forced_rewrite(example, capsys):
    data = bytearray(example.read_bytes())
    start = fitsgen.header_starts(bytes(data))[1]
    data[start + 2880 * 2 + 10] ^= 0xFF      # a pixel of SCI (two header blocks)
    example.write_bytes(bytes(data))
    path = str(example)
    assert fitscheck.main([path]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"BAD {path!r} Checksum verification failed for HDU 1",
        f"BAD {path!r} Datasum verification failed for HDU 1",
        "2 errors",
    ]
    with pytest.warns(UserWarning, match="verification failed"):
        assert fitscheck.main(["--write", "--force", path]) == 1
    assert fitscheck.main([path]) == 0


def test_fitscheck_remove(example, capsys):
    path = str(example)
    assert fitscheck.main(["--checksum", "remove", path]) == 1    # not verified: missing, as astropy
    assert all("CHECKSUM" not in hdu.header and "DATASUM" not in hdu.header
               for hdu in fitsbind.open(path, lazy_load_hdus=False))
    assert fitscheck.main(["--ignore-missing", path]) == 0


def test_fitscheck_noncompliant(tmp_path, capsys):
    path = tmp_path / "bad.fits"
    _image_file(path)
    fitscheck.main(["--write", "--force", str(path)])
    path.write_bytes(fitsgen.set_card(path.read_bytes(), 0, "BITPIX", "17"))
    capsys.readouterr()
    assert fitscheck.main(["--compliance", "--checksum", "none", "--ignore-missing", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"NONCOMPLIANT {str(path)!r} .. ")
    assert err[1] == "1 errors"


def test_fitscheck_write_keeps_history_text(tmp_path, capsys):
    path = tmp_path / "history.fits"
    hdu = fitsbind.PrimaryHDU(np.zeros(3))
    hdu.header["HISTORY"] = "task:  in=lower case"
    hdu.header["HISTORY"] = "two more"
    hdu.header["HISTORY"] = "history cards"
    hdu.writeto(path)
    assert fitscheck.main(["--write", "--force", str(path)]) == 1     # missing before
    assert fitsbind.getheader(path)["HISTORY"][0] == "task:  in=lower case"
    assert fitscheck.main([str(path)]) == 0


def test_fitscheck_write_keeps_compressed_image(tmp_path, capsys):
    path = str(tmp_path / "comp.fits")
    image = np.arange(100, dtype=np.int32).reshape(10, 10)
    fitsbind.HDUList([fitsbind.PrimaryHDU(), fitsbind.CompImageHDU(image)]).writeto(path)
    fitscheck.main(["--write", "--force", path])
    with fitsbind.open(path) as hdul:
        assert np.array_equal(hdul[1].data, image)
    # the sums are the stored table's (fitscheck, like astropy's, reports a compressed image's
    # sums as missing: the image header it sees has none)
    with fitsbind.open(path, disable_image_compression=True) as hdul:
        assert hdul[1].verify_checksum() == 1 and hdul[1].verify_datasum() == 1


def test_fitscheck_unreadable_files(tmp_path, not_fits, capsys):
    missing = str(tmp_path / "missing.fits")
    assert fitscheck.main([missing, not_fits]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"EXCEPTION {missing!r} .. ") and "No such file or directory" in err[0]
    assert err[1].startswith(f"EXCEPTION {not_fits!r} .. ")
    assert err[2] == "2 errors"


# -- fitsdiff ----------------------------------------------------------------------------------


@pytest.fixture
def pair(tmp_path):
    """Two 10x10 float images differing in one pixel (10 against 11)."""
    a = np.arange(100, dtype=np.float64).reshape(10, 10)
    b = a.copy()
    b[1, 0] = 11
    return (_image_file(tmp_path / "a.fits", a, OBSERVER="me"),
            _image_file(tmp_path / "b.fits", b, OBSERVER="you"))


def test_fitsdiff_identical_and_different(pair, capsys):
    a, b = pair
    assert fitsdiff.main([a, a]) == 0
    out = capsys.readouterr().out
    assert f" a: {a}\n b: {a}\n" in out and out.endswith("No differences found.\n")
    assert fitsdiff.main([a, b]) == 1
    out, err = capsys.readouterr()
    assert "Keyword OBSERVER has different values" in out
    assert "Data differs at [1, 2]:" in out and "1 different pixels found (1.00% different)." in out
    assert err == ""


def test_fitsdiff_tolerances_ignores_and_exact(pair, tmp_path, capsys):
    a, b = pair
    assert fitsdiff.main(["-k", "OBSERVER", a, b]) == 1
    assert fitsdiff.main(["-k", "OBSERVER", "-a", "1", a, b]) == 0
    assert fitsdiff.main(["-k", "OBSERVER", "-r", "0.1", a, b]) == 0
    assert fitsdiff.main(["--exact", "-k", "OBSERVER", "-a", "1", a, b]) == 1
    listing = tmp_path / "ignore.txt"
    listing.write_text("OBSERVER\nDATE\n")
    assert fitsdiff.main(["-q", "-k", f"@{listing}", "-a", "1", a, b]) == 0
    assert capsys.readouterr().out.count("fitsdiff:") == 4


def test_fitsdiff_settings_variable(pair, monkeypatch):
    a, b = pair
    monkeypatch.setenv("FITSDIFF_SETTINGS", "-q -k OBSERVER -a 2")
    assert fitsdiff.main([a, b]) == 0
    assert fitsdiff.main(["-a", "0.5", a, b]) == 1     # the command line comes later and wins
    assert fitsdiff.main(["--exact", a, b]) == 1


def test_fitsdiff_quiet_and_output_file(pair, tmp_path, capsys):
    a, b = pair
    assert fitsdiff.main(["-q", a, b]) == 1
    assert capsys.readouterr() == ("", "")
    report = tmp_path / "report.txt"
    assert fitsdiff.main(["-o", str(report), "-n", "1", a, b]) == 1
    assert capsys.readouterr().out == ""
    text = report.read_text()
    assert "Maximum number of different data values to be reported: 1" in text
    assert "Maximum absolute difference: 1.0" in text


def test_fitsdiff_directories_and_patterns(tmp_path, capsys):
    left, right = tmp_path / "left", tmp_path / "right"
    left.mkdir()
    right.mkdir()
    for name in ("one.fits", "two.fits"):
        _image_file(left / name)
        _image_file(right / name)
    _image_file(left / "extra.fits")
    assert fitsdiff.main(["-q", str(left), str(right)]) == 0   # a directory's extra file is no news
    assert fitsdiff.main([str(left / "*.fits"), str(right)]) == 0
    err = capsys.readouterr().err
    assert err == f"WARNING: 'extra.fits' has no match in {str(right)!r}\n"
    _image_file(right / "two.fits", np.ones((4, 5), dtype=np.int32))
    assert fitsdiff.main(["-q", str(left), str(right)]) == 1
    assert fitsdiff.main(["-q", str(left / "one.fits"), str(right)]) == 0


def test_fitsdiff_usage_errors(pair, tmp_path, capsys):
    a, _ = pair
    for args in ([a], [a, a, a], [str(tmp_path / "none*"), a], [str(tmp_path / "absent"), str(tmp_path)]):
        with pytest.raises(SystemExit) as exit_info:
            fitsdiff.main(args)
        assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "expected two files, directories or patterns to compare, got 1" in err
    assert "No file matches the pattern" in err and "is neither a file, a directory nor a pattern" in err


def test_fitsdiff_unreadable_file(pair, not_fits, capsys):
    a, _ = pair
    assert fitsdiff.main([not_fits, a]) == 1
    assert capsys.readouterr() == ("", f"Warning: failed to open {not_fits} (or {a}). Skipping.\n")
    assert fitsdiff.main(["-q", not_fits, not_fits]) == 1
    assert capsys.readouterr() == ("", "")
