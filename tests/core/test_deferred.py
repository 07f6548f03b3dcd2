"""Deferred opening: a read-only handle answers image-header calls without CFITSIO until a call
needs it, and every answer equals the one CFITSIO's open handle gives."""

import gc
import glob
import os
import warnings

import numpy as np
import pytest
from fitsgen import set_card

import fitsbind
from fitsbind import _fitsfile
from fitsbind.errors import FITSError


def _image_file(path, cards=(), shape=(20, 30), extensions=1, bitpix=-32):
    """A primary image then ``extensions`` IMAGE extensions, pixels 0..n-1, extra ``cards``
    (keyword, value) in every header."""
    with _fitsfile.create_file(path, overwrite=True) as f:
        for k in range(1 + extensions):
            f.create_image_hdu(bitpix, shape)
            for key, value in cards:
                f.write_key(key, value)
            dtype = {-32: np.float32, 16: np.int16}[bitpix]
            if 0 in shape:
                continue
            f.write_pixels(np.arange(np.prod(shape), dtype=dtype).reshape(shape) + k,
                           (1,) * len(shape), shape[::-1])
    return path


def _materialized(path):
    f = _fitsfile.open_file(path)
    f.flush()   # a call only CFITSIO answers: the handle opens it
    assert not f.deferred
    return f


def _answers(f, index):
    """What the deferred-capable calls say about HDU ``index``, keywords included."""
    f.move_to(index)
    text = f.header_string()
    keys = {text[i:i + 8].strip() for i in range(0, len(text), 80)}
    keys -= {"", "COMMENT", "HISTORY", "CONTINUE"}
    values = {k: f.read_key(k) for k in sorted(keys) if " " not in k}
    return {
        "type": f.hdu_type, "offsets": f.hdu_offsets(), "image": f.image_info(),
        "text": text, "nkeys": f.num_keys(), "values": values,
        "missing": f.read_key("NOSUCHKY", missing_ok=True),
        "compressed": f.is_compressed_image(), "short": f.data_missing(10**12),
        "current": f.current_hdu,
    }


def _compare(path):
    with _materialized(path) as full:
        count = full.num_hdus()
        images = []
        for i in range(count):
            full.move_to(i)
            if full.hdu_type != _fitsfile.HDU_IMAGE or full.is_compressed_image():
                break
            images.append(_answers(full, i))
    with _fitsfile.open_file(path) as f:
        assert f.num_hdus() == count, path
        for i, want in enumerate(images):
            assert _answers(f, i) == want, (path, i)
        # raw I/O on the same data start, whichever handle answers
        if images:
            f.move_to(0)
            assert f.raw_access()[1] == images[0]["offsets"][1]


def test_plain_image_file_opens_deferred(tmp_path):
    path = _image_file(tmp_path / "a.fits", [("OBJECT", "M31"), ("EXPTIME", 30.0)])
    with _fitsfile.open_file(path) as f:
        assert f.deferred and not f.closed
        assert f.read_key("OBJECT") == ("M31", "")
        with pytest.raises(ValueError, match="not allowed"):
            f.read_key("OBJ*")             # a name deferred opening leaves to CFITSIO's rules
        with pytest.raises(ValueError):
            f.read_key("OBJEC\u017f")      # upper-cases to OBJECS, but is not ASCII
        f.move_to(1)
        assert f.image_info() == (-32, -32, (20, 30))
        assert f.deferred
        assert f.num_hdus() == 2
        assert f.deferred
        f.flush()                      # a call only CFITSIO answers: it opens here, at HDU 1
        assert not f.deferred and f.current_hdu == 1
        assert f.read_key("EXPTIME") == (30.0, "")
        assert f.read_key(b"EXPTIME") == (30.0, "")
    assert f.closed and not f.deferred


def test_answers_equal_cfitsio(tmp_path):
    cards = [("OBJECT", "NGC 1234"), ("EXPTIME", 12.5), ("NCOMBINE", 3), ("DONE", True),
             ("PHASE", complex(1, -2)), ("LONGSTR", "x" * 150), ("UNDEF", None),
             ("QUOTE", "it's"), ("BSCALE", 1.0), ("BZERO", 0.0)]
    _compare(_image_file(tmp_path / "a.fits", cards))
    _compare(_image_file(tmp_path / "b.fits", cards[:4], shape=(0,), extensions=3))
    _compare(_image_file(tmp_path / "c.fits", [], shape=(4, 5, 6), bitpix=16))
    _compare(_image_file(tmp_path / "d.fits", [("BLANK", -1)], bitpix=16))


def test_answers_equal_cfitsio_on_astropy_files():
    data = pytest.importorskip("astropy.io.fits.tests").__path__[0]
    paths = sorted(glob.glob(os.path.join(data, "data", "*.fits")))
    assert len(paths) > 20
    for path in paths:
        try:
            _materialized(path).close()
        except FITSError:
            continue   # files CFITSIO cannot open are compared in test_errors_unchanged
        _compare(path)


def test_errors_unchanged(tmp_path):
    """Files deferred opening does not serve reach CFITSIO with its own errors."""
    good = _image_file(tmp_path / "good.fits", [("OBJECT", "x")]).read_bytes()
    variants = {
        "bad_bscale": good.replace(b"OBJECT  = 'x       '", b"BSCALE  = 'abc'     "),
        "naxis_float": set_card(good, 1, "NAXIS1", "30.0"),
        "naxis_negative": set_card(good, 1, "NAXIS1", "-3"),
        "bitpix": set_card(good, 0, "BITPIX", "12"),
        "truncated_header": good[:1000],
        "lowercase": good.replace(b"OBJECT  =", b"object  ="),
        "naxis_again": good.replace(b"OBJECT  = 'x       '", b"NAXIS1  =           31"),
        "naxis_again_same": good.replace(b"OBJECT  = 'x       '", b"NAXIS1  =           30"),
        "huge": set_card(good, 1, "NAXIS1", "900000000000000"),
    }
    for name, content in variants.items():
        path = tmp_path / f"{name}.fits"
        path.write_bytes(content)
        outcomes = []
        for opener in (_materialized, _fitsfile.open_file):
            try:
                f = opener(path)
            except Exception as exc:   # the open itself fails: same class and text
                outcomes.append((type(exc), str(exc)))
                continue
            with f:
                try:
                    f.move_to(1)
                    outcomes.append(f.image_info())
                    outcomes.append(f.read_key("OBJECT", missing_ok=True))
                except Exception as exc:
                    outcomes.append((type(exc), str(exc)))
        assert outcomes[: len(outcomes) // 2] == outcomes[len(outcomes) // 2:], name


def test_file_replaced_before_cfitsio_opens(tmp_path):
    path = _image_file(tmp_path / "a.fits")
    other = _image_file(tmp_path / "b.fits", [("OBJECT", "other")])
    f = _fitsfile.open_file(path)
    assert f.deferred
    os.replace(other, path)
    with pytest.raises(FITSError, match="replaced"):
        f.flush()
    f.close()
    assert f.closed


def test_deferred_handle_left_open_warns(tmp_path):
    path = _image_file(tmp_path / "a.fits")
    f = _fitsfile.open_file(path)
    assert f.deferred
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del f
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) for w in caught)


def test_table_hdu_opens_cfitsio(tmp_path):
    path = tmp_path / "t.fits"
    with _fitsfile.create_file(path) as f:
        f.create_image_hdu(16, ())
        f.create_table_hdu(["ID"], ["J"], extname="CATALOG", nrows=5)
    with _fitsfile.open_file(path) as f:
        assert f.deferred
        assert f.move_to_name("CATALOG") == 1   # a table: CFITSIO's
        assert not f.deferred
        assert f.table_info() == (5, 1)


@pytest.mark.parametrize("box", [
    (slice(0, 32), slice(0, 32)),          # rows close together: one read spans them
    (slice(5, 70), slice(3, 4)),           # a column: far apart for the pixels wanted
    (slice(0, 100), slice(0, 100)),        # the whole image
    (slice(99, 100), slice(10, 90)),       # one run
])
def test_small_boxes_read_as_sliced(tmp_path, box):
    data = np.random.default_rng(3).normal(size=(100, 100)).astype(">f4")
    path = tmp_path / "img.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(data)
    with fitsbind.FITS(path) as f:
        np.testing.assert_array_equal(f[0][box], data[box])


def test_small_box_of_truncated_file(tmp_path):
    path = _image_file(tmp_path / "a.fits", shape=(100, 100), extensions=0)
    path.write_bytes(path.read_bytes()[:2880 + 100 * 4 * 40])   # rows 40.. are missing
    with _fitsfile.open_file(path) as f:
        fd, start = f.raw_access()
        out = np.empty((32, 32), np.float32)
        _fitsfile.raw_read_box(fd, start, (100, 100), (0, 0), (32, 32), (1, 1), False, out)
        np.testing.assert_array_equal(out, np.arange(10000).reshape(100, 100)[:32, :32])
        with pytest.raises(FITSError, match="truncated"):
            _fitsfile.raw_read_box(fd, start, (100, 100), (30, 0), (20, 32), (1, 1), False,
                                   np.empty((20, 32), np.float32))
