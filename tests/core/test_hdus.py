"""Moving between HDUs and what each HDU reports."""

import threading

import pytest

import fitsbind
from fitsbind import _fitsfile


def test_move_by_index(example):
    with _fitsfile.open_file(example) as f:
        types = [f.move_to(i) for i in range(f.num_hdus())]
        assert types == [
            _fitsfile.HDU_IMAGE,
            _fitsfile.HDU_IMAGE,
            _fitsfile.HDU_IMAGE,
            _fitsfile.HDU_BINARY_TABLE,
            _fitsfile.HDU_ASCII_TABLE,
        ]
        assert f.current_hdu == 4
        assert f.hdu_type == _fitsfile.HDU_ASCII_TABLE


def test_num_hdus_keeps_current(example):
    with _fitsfile.open_file(example) as f:
        f.move_to(2)
        assert f.num_hdus() == 5
        assert f.current_hdu == 2


@pytest.mark.parametrize("name", ["CATALOG", "catalog", "Catalog"])
def test_move_by_name_case_insensitive(example, name):
    with _fitsfile.open_file(example) as f:
        assert f.move_to_name(name) == 3
        assert f.read_key("EXTNAME")[0] == "CATALOG"


def test_move_by_name_and_extver(tmp_path):
    path = tmp_path / "versions.fits"
    with _fitsfile.create_file(path) as f:
        f.create_image_hdu(16, ())
        for ver in (1, 2, 3):
            f.create_image_hdu(16, (ver,))
            f.write_key("EXTNAME", "SCI")
            f.write_key("EXTVER", ver)
    with _fitsfile.open_file(path) as f:
        assert f.move_to_name("SCI", 2) == 2
        assert f.image_info()[2] == (2,)
        assert f.move_to_name("sci", 3) == 3
        assert f.move_to_name("SCI") == 1
        with pytest.raises(KeyError, match="EXTVER 4"):
            f.move_to_name("SCI", 4)
        assert f.current_hdu == 1


def test_move_past_end_is_index_error_and_stays(example):
    with _fitsfile.open_file(example) as f:
        f.move_to(3)
        with pytest.raises(IndexError) as info:
            f.move_to(5)
        assert isinstance(info.value, fitsbind.FITSError)
        assert info.value.status == 107
        assert f.current_hdu == 3
        with pytest.raises(IndexError, match="negative"):
            f.move_to(-1)


def test_missing_name_is_key_error_and_stays(example):
    with _fitsfile.open_file(example) as f:
        f.move_to(2)
        with pytest.raises(KeyError) as info:
            f.move_to_name("NOPE")
        assert isinstance(info.value, fitsbind.FITSKeyError)
        assert "'NOPE'" in str(info.value)
        assert f.current_hdu == 2


def test_image_info(example):
    with _fitsfile.open_file(example) as f:
        f.move_to(0)
        assert f.image_info() == (16, 16, ())
        f.move_to(1)
        assert f.image_info() == (16, 16, (48, 64))
        f.move_to(2)
        assert f.image_info() == (16, 20, (48, 64))  # uint16 via BZERO
        assert not f.is_compressed_image()


@pytest.mark.parametrize(
    "code,bitpix,equiv",
    [
        (8, 8, 8),
        (10, 8, 10),
        (16, 16, 16),
        (20, 16, 20),
        (32, 32, 32),
        (40, 32, 40),
        (64, 64, 64),
        (80, 64, 80),
        (-32, -32, -32),
        (-64, -64, -64),
    ],
)
def test_every_image_type(tmp_path, fitsverify, code, bitpix, equiv):
    path = tmp_path / "img.fits"
    with _fitsfile.create_file(path) as f:
        f.create_image_hdu(code, (2, 3, 4))
    with _fitsfile.open_file(path) as f:
        if code == 80:
            # CFITSIO 4.2's ffgiet does not report ULONGLONG_IMG; the header still says so
            assert f.image_info()[0::2] == (bitpix, (2, 3, 4))
            assert f.read_key("BZERO")[0] == 2**63
        else:
            assert f.image_info() == (bitpix, equiv, (2, 3, 4))
    fitsverify(path)


def test_bad_image_type_and_shape(tmp_path):
    with _fitsfile.create_file(tmp_path / "bad.fits") as f:
        with pytest.raises(ValueError, match="invalid image type"):
            f.create_image_hdu(12, (2,))
        with pytest.raises(ValueError, match="negative"):
            f.create_image_hdu(16, (2, -1))
        f.create_image_hdu(16, ())


def test_image_info_on_table_raises(example):
    with _fitsfile.open_file(example) as f:
        f.move_to(3)
        with pytest.raises(fitsbind.FITSError, match="image"):
            f.image_info()


def test_table_info(example):
    with _fitsfile.open_file(example) as f:
        f.move_to(3)
        assert f.table_info() == (5, 6)
        f.move_to(4)
        assert f.table_info() == (0, 2)


def test_create_table_validation(tmp_path):
    with _fitsfile.create_file(tmp_path / "t.fits") as f:
        f.create_image_hdu(16, ())
        with pytest.raises(ValueError, match="must match"):
            f.create_table_hdu(["A", "B"], ["J"])
        with pytest.raises(ValueError, match="negative"):
            f.create_table_hdu(["A"], ["J"], nrows=-1)
        with pytest.raises(ValueError, match="not a valid TFORM"):
            f.create_table_hdu(["A"], ["Q7Z"])
        assert f.num_hdus() == 1


def test_hdu_offsets_match_astropy(example):
    astropy_fits = pytest.importorskip("astropy.io.fits")
    with astropy_fits.open(example) as hdul:
        expected = [
            (i["hdrLoc"], i["datLoc"], i["datLoc"] + i["datSpan"]) for i in map(lambda h: h.fileinfo(), hdul)
        ]
    with _fitsfile.open_file(example) as f:
        offsets = []
        for i in range(f.num_hdus()):
            f.move_to(i)
            offsets.append(f.hdu_offsets())
    # astropy's datSpan includes the padding to 2880 bytes; CFITSIO's data end does not
    assert [o[:2] for o in offsets] == [e[:2] for e in expected]
    for (_, _, end), (_, data, padded_end) in zip(offsets, expected):
        assert data <= end <= padded_end
        assert padded_end - end < 2880


def _free_in_another_thread(lock) -> bool:
    got = []

    def take() -> None:
        got.append(lock.acquire(timeout=0.05))
        if got[-1]:
            lock.release()

    thread = threading.Thread(target=take)
    thread.start()
    thread.join()
    return got == [True]


def test_at_holds_the_lock_with_the_hdu_current(example):
    with _fitsfile.open_file(example) as f:
        with f.at(3) as g:
            assert g is f and f.current_hdu == 3
            assert not _free_in_another_thread(f.lock)
        assert _free_in_another_thread(f.lock)
        with pytest.raises(fitsbind.FITSPermissionError):
            with f.at(0, writing=True):
                pass
        with pytest.raises(IndexError):
            with f.at(99):
                pass
        assert f.current_hdu == 3 and _free_in_another_thread(f.lock)
    with pytest.raises(ValueError, match="closed"):
        with f.at(0):
            pass
