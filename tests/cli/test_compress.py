"""``fitsbind compress`` and ``fitsbind decompress``, with fpack and funpack as oracles: what
fitsbind compresses funpack restores exactly (lossless modes) or within the quantization
(floats); what fpack compresses fitsbind restores as funpack does."""

import os
import shutil
import subprocess

import numpy as np
import pytest

import fitsbind
from fitsbind.cli import _fz, main
from fitsbind.cli.progress import progress
from fitsbind.direct import CompressedImageHDU, CompressedTableHDU

needs_funpack = pytest.mark.skipif(shutil.which("funpack") is None,
                                   reason="funpack is not installed (libcfitsio-bin)")
needs_fpack = pytest.mark.skipif(shutil.which("fpack") is None,
                                 reason="fpack is not installed (libcfitsio-bin)")

RNG = np.random.default_rng(18)


def _sky(shape, dtype, low=0, high=1000):
    """Pixels of ``dtype``: noisy counts for integers, Gaussian noise around 100 for floats."""
    if np.dtype(dtype).kind == "f":
        return RNG.normal(100.0, 5.0, shape).astype(dtype)
    return RNG.integers(low, high, shape).astype(dtype)


def _write(path, *images, table=False):
    """A file of ``images`` ((array, extname) pairs; the first one the primary HDU), then a
    binary table named CAT if ``table``."""
    with fitsbind.FITS(str(path), "w+") as f:
        for data, extname in images:
            f.write_image(data, extname=extname, header={"OBJECT": "M31", "EXPTIME": (30.0, "[s]")})
        if table:
            ids = np.arange(20_000)
            f.write_table({"ID": ids, "MAG": (ids % 997 / 50).astype(np.float32),
                           "NAME": np.array([b"star%d" % (i % 50) for i in ids])}, extname="CAT")
    return path


def _run(*args):
    return main([*map(str, args)])


def _funpack(packed, out):
    subprocess.run(["funpack", "-O", str(out), str(packed)], check=True, capture_output=True)
    return out


def _hdus(path):
    """(type name, header dict, data) of every HDU as fitsbind reads it (images scaled as
    stored on disk: raw values; tables as structured arrays)."""
    found = []
    with fitsbind.FITS(str(path)) as f:
        for hdu in f:
            if isinstance(hdu, (fitsbind.direct.ImageHDU)):
                data = hdu.read() if hdu.has_data else None
            else:
                data = hdu.read()
            found.append((type(hdu).__name__, dict(hdu.header.items()), data))
    return found


def _same_images(a, b):
    """The HDUs of files ``a`` and ``b`` hold the same kinds and data, byte for byte."""
    left, right = _hdus(a), _hdus(b)
    assert [k for k, _, _ in left] == [k for k, _, _ in right]
    for (_, ha, da), (_, hb, db) in zip(left, right):
        for key in ("BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTNAME", "BZERO", "BSCALE",
                    "OBJECT", "EXPTIME"):
            assert ha.get(key) == hb.get(key), key
        if da is None:
            assert db is None
        else:
            assert da.dtype == db.dtype and np.array_equal(da, db)


# -- fitsbind compress, funpack restores ----------------------------------------------------------

LOSSLESS = [
    ("rice", np.int16, ()), ("rice", np.int32, ()), ("rice", np.uint8, ()),
    ("rice", np.int8, ()), ("rice", np.uint16, ()),
    ("gzip1", np.int16, ("-g1",)), ("gzip1", np.int32, ("-g",)), ("gzip1", np.int8, ("-g",)),
    ("gzip2", np.int16, ("-g2",)), ("gzip2", np.int32, ("-g2",)), ("gzip2", np.int64, ("-g2",)),
    ("hcompress", np.int16, ("--hcompress",)), ("hcompress", np.int32, ("--hcompress", "-s", "0")),
    ("hcompress", np.int8, ("--hcompress",)),
    ("plio", np.int16, ("-p",)), ("plio", np.int32, ("-p",)), ("plio", np.uint8, ("-p",)),
    ("float lossless", np.float32, ("-g2", "-q", "0")),
    ("double lossless", np.float64, ("-g1", "-q", "0")),
]


@needs_funpack
@pytest.mark.parametrize("name, dtype, flags", LOSSLESS,
                         ids=[f"{n}-{np.dtype(d).name}" for n, d, _ in LOSSLESS])
def test_lossless_modes_round_trip_through_funpack(tmp_path, fitsverify, name, dtype, flags):
    high = 120 if np.dtype(dtype) == np.int8 else 1000
    source = _write(tmp_path / "in.fits", (_sky((70, 53), dtype, 0, high), None),
                    (_sky((9, 40, 33), dtype, 0, high), "CUBE"))
    assert _run("compress", *flags, source) == 0
    packed = tmp_path / "in.fits.fz"
    fitsverify(packed)
    with fitsbind.FITS(str(packed)) as f:
        assert not f[0].has_data and isinstance(f[1], CompressedImageHDU)
        assert f[1].header["ZSIMPLE"] is True and f[2].header["ZTENSION"] == "IMAGE"
    if np.dtype(dtype) == np.int64:
        # funpack (CFITSIO 4.2) cannot restore 64-bit integer images; fitsbind does
        assert _run("decompress", "-O", tmp_path / "back.fits", packed) == 0
        _same_images(source, tmp_path / "back.fits")
    else:
        _same_images(source, _funpack(packed, tmp_path / "back.fits"))


@needs_funpack
@pytest.mark.parametrize("flags, method, step", [((), "SUBTRACTIVE_DITHER_1", 5.0 / 4),
                                                 (("-qz", "8"), "SUBTRACTIVE_DITHER_2", 5.0 / 8),
                                                 (("-q0", "2"), "NO_DITHER", 5.0 / 2),
                                                 (("--hcompress", "-q", "4"), "SUBTRACTIVE_DITHER_1",
                                                  5.0 / 4),
                                                 (("-g2", "-q", "-0.5"), "SUBTRACTIVE_DITHER_1", 0.5)])
def test_lossy_floats_within_the_quantization(tmp_path, fitsverify, flags, method, step):
    """``step``: about the quantization step, sigma (5) / q or the absolute -q; pixels come
    back within half of CFITSIO's step, whose noise estimate (of one 100-pixel row) runs
    higher than 5."""
    sky = _sky((64, 100), np.float32)
    sky[3, :10] = 0.0
    source = _write(tmp_path / "in.fits", (sky, None))
    assert _run("compress", *flags, "--seed", 77, "-O", tmp_path / "q.fz", source) == 0
    fitsverify(tmp_path / "q.fz")
    with fitsbind.FITS(str(tmp_path / "q.fz")) as f:
        assert f[1].header["ZQUANTIZ"] == method and f[1].header["ZDITHER0"] == 77
        ours = f[1].read()
    with fitsbind.FITS(str(_funpack(tmp_path / "q.fz", tmp_path / "back.fits"))) as f:
        back = f[0].read()
    assert np.array_equal(back, ours)              # funpack decodes what fitsbind does
    assert np.abs(back - sky).max() <= step
    if method == "SUBTRACTIVE_DITHER_2":
        assert np.all(back[3, :10] == 0.0)


@needs_funpack
def test_tiles_bands_and_every_hdu_kind(tmp_path, monkeypatch, fitsverify):
    """Odd tile shapes over several bands (a tiny band size), a table and an empty
    extension copied through, then -table compressing the table."""
    monkeypatch.setattr(_fz, "BAND_BYTES", 3000)
    image = _sky((101, 67), np.int16)
    source = tmp_path / "in.fits"
    with fitsbind.FITS(str(source), "w+") as f:
        f.create_image_hdu(np.uint8, ())
        f.write_image(image, extname="SCI", header={"BUNIT": "adu"})
        f.create_image_hdu(np.int16, (), extname="EMPTY")
        f.write_table({"X": np.arange(3000)}, extname="T")
    assert _run("compress", "-t", "10,7", "-O", tmp_path / "t.fz", source) == 0
    assert _run("compress", "-table", "-w", "-O", tmp_path / "w.fz", source) == 0
    for packed, tile in (("t.fz", (7, 10)), ("w.fz", (101, 67))):
        fitsverify(tmp_path / packed)
        with fitsbind.FITS(str(tmp_path / packed)) as f:
            assert [f[1].header["ZTILE2"], f[1].header["ZTILE1"]] == list(tile)
            assert f[1].extname == "SCI" and f[1].header["BUNIT"] == "adu"
            assert isinstance(f[3], CompressedTableHDU) == (packed == "w.fz")
        _same_images(source, _funpack(tmp_path / packed, tmp_path / f"{packed}.fits"))


@needs_funpack
def test_scaled_and_blank_integers_keep_their_stored_values(tmp_path):
    raw = _sky((40, 30), np.int16)
    raw[0, 0] = -99
    source = tmp_path / "in.fits"
    physical = np.where(raw == -99, np.nan, raw * 0.5 + 1e6)
    with fitsbind.FITS(str(source), "w+") as f:
        f.write_image(physical, dtype=np.int16, header={"BSCALE": 0.5, "BZERO": 1e6}, blank=-99)
    assert _run("compress", source) == 0
    back = _funpack(tmp_path / "in.fits.fz", tmp_path / "back.fits")
    with fitsbind.FITS(str(back)) as f, fitsbind.FITS(str(source)) as g:
        assert np.array_equal(f[0].read(scale=False), raw)
        assert (f[0].header["BSCALE"], f[0].header["BZERO"], f[0].header["BLANK"]) == (0.5, 1e6, -99)
        np.testing.assert_array_equal(f[0].read(), g[0].read())


# -- fpack compresses, fitsbind decompress restores as funpack -------------------------------------

@needs_fpack
@needs_funpack
@pytest.mark.parametrize("flags", [(), ("-g2", "-q", "0"), ("-h",), ("-table",), ("-t", "16,16")])
def test_decompress_equals_funpack(tmp_path, fitsverify, flags):
    source = _write(tmp_path / "in.fits", (_sky((60, 80), np.int16), None),
                    (_sky((30, 40), np.float32), "FLUX"), (_sky((20, 20), np.uint16, 0, 60000), "DQ"),
                    table=True)
    subprocess.run(["fpack", *flags, "-O", str(tmp_path / "in.fits.fz"), str(source)], check=True)
    expected = _funpack(tmp_path / "in.fits.fz", tmp_path / "funpacked.fits")
    assert _run("decompress", tmp_path / "in.fits.fz", "--overwrite") == 0
    fitsverify(source)
    _same_images(expected, source)
    with fitsbind.FITS(str(source)) as f:
        assert f[0].header["OBJECT"] == "M31" and "EXTNAME" not in f[0].header
        assert f[0].verify_checksum() is True and f[3].verify_checksum() is True


@needs_funpack
def test_decompress_round_trip_of_own_output(tmp_path, monkeypatch, fitsverify):
    """Bands of an odd number of bytes: the data sums carry bytes from band to band."""
    monkeypatch.setattr(_fz, "BAND_BYTES", 200)
    source = _write(tmp_path / "in.fits", (_sky((33, 21), np.int32), None),
                    (_sky((12, 9), np.float64), "F"), (_sky((31, 13), np.uint8), "ODD"),
                    table=True)
    assert _run("compress", "-table", "-O", tmp_path / "x.fz", source) == 0
    assert _run("decompress", "-O", tmp_path / "ours.fits", tmp_path / "x.fz") == 0
    fitsverify(tmp_path / "ours.fits")
    with fitsbind.FITS(str(tmp_path / "ours.fits")) as f:
        assert all(hdu.verify_checksum() for hdu in f)
    _same_images(_funpack(tmp_path / "x.fz", tmp_path / "theirs.fits"), tmp_path / "ours.fits")


# -- names, -O / -F / -D, refusals -----------------------------------------------------------------

def _small(path):
    return _write(path, (_sky((20, 30), np.int16), None))


def _leftovers(directory):
    return [n for n in os.listdir(directory) if n.startswith(".fitsbind-")]


def test_naming_and_several_files(tmp_path):
    a, b = _small(tmp_path / "a.fits"), _small(tmp_path / "b.fits")
    original = a.read_bytes()
    assert _run("compress", a, b) == 0
    assert a.read_bytes() == original and (tmp_path / "b.fits.fz").exists()
    a.unlink()
    assert _run("decompress", tmp_path / "a.fits.fz") == 0
    with fitsbind.FITS(str(a)) as f, fitsbind.FITS(str(tmp_path / "a.fits.fz")) as g:
        assert np.array_equal(f[0].read(), g[1].read())
    assert (tmp_path / "a.fits.fz").exists()
    assert not _leftovers(tmp_path)


def test_in_place_and_delete(tmp_path):
    a = _small(tmp_path / "a.fits")
    data = fitsbind.FITS(str(a))[0].read()
    assert _run("compress", "-F", a) == 0
    with fitsbind.FITS(str(a)) as f:
        assert isinstance(f[1], CompressedImageHDU) and np.array_equal(f[1].read(), data)
    assert _run("decompress", "-F", a) == 0
    assert np.array_equal(fitsbind.FITS(str(a))[0].read(), data)
    assert _run("compress", "-D", a) == 0
    assert not a.exists() and (tmp_path / "a.fits.fz").exists()
    assert _run("decompress", "-D", "-O", tmp_path / "c.fits", tmp_path / "a.fits.fz") == 0
    assert not (tmp_path / "a.fits.fz").exists()
    assert np.array_equal(fitsbind.FITS(str(tmp_path / "c.fits"))[0].read(), data)


def test_refusals(tmp_path, capsys):
    a, b = _small(tmp_path / "a.fits"), _small(tmp_path / "b.fits")
    (tmp_path / "a.fits.fz").write_bytes(b"keep me")
    assert _run("compress", a) == 1
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "a.fits.fz").read_bytes() == b"keep me"
    assert _run("compress", "--overwrite", a) == 0
    assert _run("compress", "-O", tmp_path / "x.fz", a, b) == 1
    assert _run("compress", "-O", a, a) == 1
    assert _run("decompress", a) == 1
    assert "does not end in .fz" in capsys.readouterr().err
    floats = _write(tmp_path / "f.fits", (_sky((4, 4), np.float32), None))
    assert _run("compress", "-r", "-q", "0", floats) == 1
    assert "-q 0" in capsys.readouterr().err
    assert _run("compress", "-p", "-O", tmp_path / "p.fz", a, "-t", "1,2,3") == 1
    assert not _leftovers(tmp_path)


def test_bad_input_is_a_message(tmp_path, capsys):
    text = tmp_path / "notes.fits"
    text.write_text("not a FITS file\n" * 300)
    status = _run("compress", text, tmp_path / "absent.fits", _small(tmp_path / "ok.fits"))
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    assert "notes.fits" in err and "absent.fits" in err
    assert (tmp_path / "ok.fits.fz").exists() and not (tmp_path / "notes.fits.fz").exists()
    assert _run("decompress", tmp_path / "absent.fits.fz") == 1
    assert not _leftovers(tmp_path)


def test_stdout(tmp_path, capfdbinary):
    a = _small(tmp_path / "a.fits")
    assert _run("compress", "-S", a) == 0
    (tmp_path / "piped.fz").write_bytes(capfdbinary.readouterr().out)
    with fitsbind.FITS(str(tmp_path / "piped.fz")) as f:
        assert np.array_equal(f[1].read(), fitsbind.FITS(str(a))[0].read())
    assert not (tmp_path / "a.fits.fz").exists()


class _Interrupting:
    """A progress bar whose second update is Ctrl-C."""

    def __init__(self, *args, **kwargs):
        self.calls = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def update(self, n):
        self.calls += 1
        if self.calls == 2:
            raise KeyboardInterrupt


@pytest.mark.parametrize("flags", [(), ("-F",)])
def test_ctrl_c_leaves_no_output_and_the_input_untouched(tmp_path, monkeypatch, flags, capsys):
    monkeypatch.setattr(_fz, "BAND_BYTES", 1000)
    monkeypatch.setattr(_fz, "progress", _Interrupting)
    a = _small(tmp_path / "a.fits")
    original = a.read_bytes()
    assert _run("compress", *flags, a) == 130
    assert "interrupted" in capsys.readouterr().err
    assert a.read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["a.fits"]


def test_progress_is_silent_off_a_terminal():
    with progress(100, "x") as bar:        # pytest's stderr is not a terminal
        bar.update(50)
    assert type(bar).__name__ == "_Silent"
    assert type(progress(100, "x", quiet=True)).__name__ == "_Silent"
