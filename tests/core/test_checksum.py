"""CHECKSUM / DATASUM: written by CFITSIO, verified by CFITSIO and by astropy."""

import pytest

from fitsbind import _fitsfile


def test_example_checksums_verify(example):
    with _fitsfile.open_file(example) as f:
        for i in range(f.num_hdus()):
            f.move_to(i)
            assert f.verify_checksum() == (True, True)


def test_missing_checksum_is_none(tmp_path):
    path = tmp_path / "plain.fits"
    with _fitsfile.create_file(path) as f:
        f.create_image_hdu(16, (4, 4))
    with _fitsfile.open_file(path) as f:
        assert f.verify_checksum() == (None, None)


def test_header_edit_invalidates_checksum(example):
    with _fitsfile.open_file(example, "r+") as f:
        f.write_key("OBSERVER", "someone else")
    with _fitsfile.open_file(example) as f:
        assert f.verify_checksum() == (True, False)


def test_corrupted_data_detected(example):
    with _fitsfile.open_file(example) as f:
        f.move_to(1)
        _, data_start, _ = f.hdu_offsets()
    raw = bytearray(example.read_bytes())
    raw[data_start + 10] ^= 0xFF
    example.write_bytes(bytes(raw))
    with _fitsfile.open_file(example) as f:
        f.move_to(1)
        assert f.verify_checksum() == (False, False)


def test_astropy_agrees(example):
    fits = pytest.importorskip("astropy.io.fits")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # astropy warns on a checksum mismatch
        with fits.open(example, checksum=True) as hdul:
            assert len(hdul) == 5
