"""fitsbind.direct.CompressedImageHDU: tile-compressed images in the explicit-I/O tier.

Oracles: astropy.io.fits reads what fitsbind writes; CFITSIO's own fpack/funpack (Debian
libcfitsio-bin) make the files fitsbind must read bit-exactly, and unpack what it writes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import fitsbind
from fitsbind.direct import (
    FITS,
    CompressedImageHDU,
    Gzip1,
    Gzip2,
    Hcompress1,
    ImageHDU,
    Plio1,
    Quantize,
    Rice1,
)
from fitsbind.errors import FITSError

RNG = np.random.default_rng(20261122)
LOSSLESS = [Gzip1(), Gzip2(), Rice1(), Hcompress1(), Plio1()]


def needs(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (Debian package libcfitsio-bin / fitsverify)")


def ints(shape: tuple[int, ...], dtype: str, high: int = 3000) -> np.ndarray:
    return RNG.integers(0, high, size=shape).astype(dtype)


def smooth_floats(shape: tuple[int, ...]) -> np.ndarray:
    y, x = np.indices(shape[-2:])
    base = np.sin(x / 7.0) * 100 + y * 0.5
    return (base + RNG.normal(scale=2.0, size=shape)).astype(np.float32)


def astropy_data(path: Path, index: int = 1) -> np.ndarray:
    """The data astropy reads from HDU ``index``: the oracle, so the caller skips without astropy."""
    afits = pytest.importorskip("astropy.io.fits")
    with afits.open(path) as hdul:
        return np.array(hdul[index].data)


@pytest.mark.parametrize("compress", LOSSLESS, ids=lambda c: type(c).__name__)
@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32", "uint16"])
def test_lossless_round_trip_matches_astropy_and_funpack(tmp_path, compress, dtype, fitsverify):
    data = ints((37, 53), dtype, high=1000)
    path = tmp_path / "c.fits"
    if isinstance(compress, Plio1) and dtype == "uint16":
        # stored as int16 - 32768: negative values, which PLIO cannot code
        with FITS(path, "w+") as f, pytest.raises(ValueError, match="PLIO"):
            f.write_image(data + 1, compress=compress)
        return
    with FITS(path, "w+") as f:
        hdu = f.write_image(data, compress=compress, extname="SCI")
        assert isinstance(hdu, CompressedImageHDU) and isinstance(hdu, ImageHDU)
        assert hdu.compression == compress.with_tile_shape(compress.tiles_for(data.shape))
        np.testing.assert_array_equal(hdu.read(), data)
    with FITS(path) as f:
        hdu = f[1]
        assert isinstance(hdu, CompressedImageHDU)
        assert hdu.read().dtype == data.dtype
        np.testing.assert_array_equal(hdu.read(), data)
        assert hdu.compression.zcmptype == compress.zcmptype
    np.testing.assert_array_equal(astropy_data(path), data)
    fitsverify(path)
    needs("funpack")
    out = tmp_path / "u.fits"
    subprocess.run(["funpack", "-O", str(out), str(path)], check=True, capture_output=True)
    np.testing.assert_array_equal(astropy_data(out), data)


def test_geometry_and_metadata(tmp_path):
    data = ints((10, 20, 30), "int16")
    with FITS(tmp_path / "g.fits", "w+") as f:
        hdu = f.write_image(data, compress=Rice1(tile_shape=(1, 8, 30)), extname="CUBE",
                            header={"BUNIT": "adu"})
        assert hdu.bitpix == 16 and hdu.header["BITPIX"] == 8
        assert hdu.shape == (10, 20, 30) and hdu.ndim == 3 and hdu.size == 6000
        assert hdu.n_tiles == 10 * 3
        assert (hdu.extname, hdu.extver, hdu.unit, hdu.index) == ("CUBE", 1, "adu", 1)
        assert hdu.has_data
        assert hdu.compression == Rice1(tile_shape=(1, 8, 30))
    with FITS(tmp_path / "g.fits") as f:
        assert f[1].compression == Rice1(32, 2, tile_shape=(1, 8, 30))


def test_gzip_level_is_write_only(tmp_path):
    with FITS(tmp_path / "z.fits", "w+") as f:
        assert f.write_image(ints((8, 8), "int32"), compress=Gzip1(level=9)).compression.level == 9
    with FITS(tmp_path / "z.fits") as f:
        assert f[1].compression == Gzip1(tile_shape=(1, 8))


def test_float_lossless_gzip_keeps_every_bit(tmp_path):
    data = smooth_floats((40, 33))
    data[3, 4] = np.nan
    data[5] = -0.0
    for compress in (Gzip1(), Gzip2()):
        path = tmp_path / f"{compress.zcmptype}.fits"
        with FITS(path, "w+") as f:
            f.write_image(data, compress=compress)
        with FITS(path) as f:
            back = f[1].read()
        assert back.tobytes() == data.tobytes()
        assert astropy_data(path).tobytes() == data.tobytes()


@pytest.mark.parametrize("method", ["subtractive_dither_1", "subtractive_dither_2", "no_dither"])
def test_quantized_floats_read_as_astropy_and_funpack(tmp_path, method):
    data = smooth_floats((64, 50))
    data[10, 10] = np.nan
    data[20, :5] = 0.0
    path = tmp_path / "q.fits"
    with FITS(path, "w+") as f:
        hdu = f.write_image(data, compress=Rice1(), quantize=Quantize(8, method, seed=17))
        mine = hdu.read()
    assert np.isnan(mine[10, 10])
    assert np.nanmax(np.abs(mine - data)) < 1.0
    if method == "subtractive_dither_2":
        assert (mine[20, :5] == 0).all()
    # the same values (astropy's NaN has other payload bits than CFITSIO's)
    np.testing.assert_array_equal(astropy_data(path), mine)
    needs("funpack")
    out = tmp_path / "u.fits"
    subprocess.run(["funpack", "-O", str(out), str(path)], check=True, capture_output=True)
    np.testing.assert_array_equal(astropy_data(out), mine)


def test_quantize_level_is_used_and_read_back(tmp_path):
    data = smooth_floats((64, 64))
    errors = {}
    for level in (1.0, 64.0):
        path = tmp_path / f"q{level}.fits"
        with FITS(path, "w+") as f:
            f.write_image(data, compress=Rice1(), quantize=Quantize(level, seed=5))
        with FITS(path) as f:
            assert f[1].quantize == Quantize(level, "subtractive_dither_1", 5)
            errors[level] = float(np.abs(f[1].read() - data).max())
            f_level = f[1].quantize.level
        assert f_level == level
    assert errors[64.0] < errors[1.0] / 10


FPACK_CASES = {
    "rice-int16": (["-r"], "int16"),
    "gzip1-int32": (["-g1"], "int32"),
    "gzip2-int16": (["-g2"], "int16"),
    "hcompress-int16": (["-h"], "int16"),
    "hcompress-lossy": (["-h", "-s", "4"], "int16"),
    "plio-int16": (["-p"], "int16"),
    "rice-float-q4": (["-r", "-q", "4"], "float32"),
    "rice-float-qz": (["-r", "-qz", "8"], "float32"),
    "gzip-float-q": (["-g", "-q", "16"], "float64"),
    "rice-tiles": (["-r", "-t", "16,8"], "int16"),
}


@pytest.mark.parametrize("case", sorted(FPACK_CASES))
def test_reads_fpack_files_as_funpack(tmp_path, case, afits):
    needs("fpack")
    options, dtype = FPACK_CASES[case]
    data = smooth_floats((45, 70)) * 10 if dtype.startswith("float") else ints((45, 70), dtype)
    data = data.astype(dtype)
    if dtype.startswith("float"):
        data[3, 3] = np.nan
    source = tmp_path / "in.fits"
    afits.writeto(source, data)
    packed = tmp_path / "in.fits.fz"
    subprocess.run(["fpack", *options, "-O", str(packed), str(source)], check=True,
                   capture_output=True)
    unpacked = tmp_path / "out.fits"
    subprocess.run(["funpack", "-O", str(unpacked), str(packed)], check=True, capture_output=True)
    expected = afits.getdata(unpacked)
    with FITS(packed) as f:
        got = f[1].read()
        assert got.tobytes() == np.asarray(expected, got.dtype).tobytes()
        np.testing.assert_array_equal(f[1][5:30:3, -10:], np.asarray(expected)[5:30:3, -10:])


def test_slicing_decodes_only_touched_tiles(tmp_path):
    data = ints((256, 256), "int16")
    with FITS(tmp_path / "s.fits", "w+") as f:
        f.write_image(data, compress=Rice1(tile_shape=(32, 32)))
    with FITS(tmp_path / "s.fits") as f:
        hdu = f[1]
        np.testing.assert_array_equal(hdu[40:60, 70:90], data[40:60, 70:90])
        assert hdu.tile_cache_used == 32 * 32 * 2     # one tile decoded
        np.testing.assert_array_equal(hdu[::-7, 100], data[::-7, 100])
        np.testing.assert_array_equal(hdu[5, ...], data[5])
        hdu.clear_tile_cache()
        assert hdu.tile_cache_used == 0 and hdu.tile_cache_size == 32 << 20
        hdu.set_tile_cache_size(0)
        hdu.read()
        assert hdu.tile_cache_used == 0
        hdu.set_tile_cache_size(16 * 32 * 32 * 2)
        np.testing.assert_array_equal(hdu[0:40, 0:40], data[0:40, 0:40])
        assert hdu.tile_cache_used == 4 * 32 * 32 * 2     # a quarter of the cache: kept
        np.testing.assert_array_equal(hdu.read(), data)
        assert hdu.tile_cache_used == 4 * 32 * 32 * 2     # the whole image: its caller's


def test_write_validates_before_the_file_changes(tmp_path):
    path = tmp_path / "v.fits"
    with FITS(path, "w+") as f:
        f.write_image(ints((20, 20), "int16"), compress=Rice1())
    before = path.read_bytes()
    with FITS(path, "r+") as f:
        hdu = f[1]
        with pytest.raises(ValueError):
            hdu.write(ints((20, 21), "int16"))
        with pytest.raises(TypeError):
            hdu.write(np.ones((20, 20)))
        with pytest.raises(NotImplementedError):
            hdu.write(ints((20, 20), "int16"), start=(0, 0))
        with pytest.raises(ValueError):
            hdu[0:2] = np.ones((3, 20), np.int16)
    assert path.read_bytes() == before


def test_setitem_repack_and_later_hdus(tmp_path, fitsverify):
    path = tmp_path / "r.fits"
    data = ints((64, 64), "int32")
    after = ints((5, 5), "int16")
    with FITS(path, "w+") as f:
        f.write_image(data, compress=Gzip1(tile_shape=(16, 16)))
        f.write_image(after, extname="AFTER")
    with FITS(path, "r+") as f:
        hdu = f[1]
        hdu[10:20, 30:50] = 7
        data[10:20, 30:50] = 7
        hdu[-1] = np.arange(64)
        data[-1] = np.arange(64)
        np.testing.assert_array_equal(hdu.read(), data)
    grown = path.stat().st_size
    np.testing.assert_array_equal(astropy_data(path), data)
    np.testing.assert_array_equal(astropy_data(path, 2), after)
    fitsverify(path)
    with FITS(path, "r+") as f:
        f[1].repack()
        np.testing.assert_array_equal(f[1].read(), data)
        np.testing.assert_array_equal(f["AFTER"].read(), after)
    assert path.stat().st_size < grown
    np.testing.assert_array_equal(astropy_data(path), data)
    np.testing.assert_array_equal(astropy_data(path, 2), after)
    fitsverify(path)


@pytest.mark.parametrize("compress", [Rice1(tile_shape=(4, 30)), Gzip2(), Plio1()],
                         ids=lambda c: type(c).__name__)
def test_streaming_extend(tmp_path, compress, fitsverify):
    path = tmp_path / "e.fits"
    chunks = [ints((n, 30), "int16", high=500) for n in (3, 1, 7, 2)]
    with FITS(path, "w+") as f:
        hdu = f.create_image_hdu("int16", (0, 30), compress=compress)
        assert hdu.shape == (0, 30) and not hdu.has_data
        for chunk in chunks[:2]:
            hdu.extend(chunk)
        with hdu.extending():
            for chunk in chunks[2:]:
                hdu.extend(chunk)
            with pytest.raises(ValueError):
                hdu.read()
            with pytest.raises(ValueError):
                hdu[0] = 1
            with pytest.raises(ValueError):
                hdu.repack()
            with pytest.raises(ValueError):
                hdu.add_checksum()
            with pytest.raises(ValueError):
                f.close()
        np.testing.assert_array_equal(hdu.read(), np.concatenate(chunks))
    np.testing.assert_array_equal(astropy_data(path), np.concatenate(chunks))
    fitsverify(path)


def test_extending_encodes_whole_tile_rows_as_it_goes(tmp_path, monkeypatch):
    from fitsbind.direct import compressed

    monkeypatch.setattr(compressed, "_EXTEND_BATCH", 600)    # bytes: every few batches
    path = tmp_path / "batches.fits"
    batch = np.empty((3, 30), np.int16)
    expected = []
    # in place, so the file's size can be watched while it is open
    with FITS(path, "w+", in_place=True) as f:
        hdu = f.create_image_hdu("int16", (0, 30), compress=Rice1(tile_shape=(4, 30)))
        with hdu.extending():
            for i in range(10):
                batch[...] = i          # one buffer, reused: fitsbind must copy it
                hdu.extend(batch)
                expected.append(batch.copy())
            # encoded so far: whole rows of tiles only, never a partial tile
            assert 0 < hdu.shape[0] < 30 and hdu.shape[0] % 4 == 0
        np.testing.assert_array_equal(hdu.read(), np.concatenate(expected))
        before = path.stat().st_size
        hdu.repack()             # no tile was encoded twice: nothing to reclaim
    assert path.stat().st_size == before
    np.testing.assert_array_equal(astropy_data(path), np.concatenate(expected))


def test_extend_float_quantized(tmp_path):
    path = tmp_path / "ef.fits"
    data = smooth_floats((40, 25))
    with FITS(path, "w+") as f:
        hdu = f.create_image_hdu("float32", (0, 25), compress=Rice1(),
                                 quantize=Quantize(16, seed=3))
        hdu.extend(data[:13])
        hdu.extend(data[13:])
        mine = hdu.read()
    assert np.abs(mine - data).max() < 1.0
    np.testing.assert_array_equal(astropy_data(path), mine)


def test_checksums(tmp_path, afits):
    path = tmp_path / "k.fits"
    with FITS(path, "w+") as f:
        hdu = f.write_image(ints((30, 30), "int16"), compress=Rice1())
        assert hdu.verify_checksum() is None and hdu.verify_datasum() is None
        hdu.add_checksum()
        assert hdu.verify_checksum() is True and hdu.verify_datasum() is True
    # the table's own sums are astropy's to check; ZDATASUM is the uncompressed image's
    with afits.open(path, disable_image_compression=True) as hdul:
        assert hdul[1].verify_checksum() == 1 and hdul[1].verify_datasum() == 1
        zdatasum = hdul[1].header["ZDATASUM"]
    assert zdatasum == str(afits.ImageHDU(astropy_data(path))._calculate_datasum())
    with FITS(path, "r+") as f:
        f[1][0, 0] = 1234
        assert f[1].verify_datasum() is False


def test_zhecksum_is_the_checksum_of_the_funpacked_hdu(tmp_path, afits):
    """funpack restores ZHECKSUM as the image's CHECKSUM (and then refreshes it with a new
    timestamp): with fitsbind's ZHECKSUM card put back in its place, astropy must find the
    uncompressed HDU's checksum right."""
    needs("funpack")
    path, unpacked = tmp_path / "z.fits", tmp_path / "u.fits"
    with FITS(path, "w+") as f:
        hdu = f.write_image(ints((40, 30), "int32"), compress=Rice1(), extname="SCI")
        hdu.header["OBJECT"] = ("M31", "target")
        hdu.add_checksum()
        card = next(c.image for c in hdu.header.cards if c.keyword == "ZHECKSUM")
    subprocess.run(["funpack", "-O", str(unpacked), str(path)], check=True)
    raw = bytearray(unpacked.read_bytes())
    with afits.open(unpacked) as hdul:
        start = hdul[1].fileinfo()["hdrLoc"]
    at = raw.index(b"CHECKSUM=", start)
    raw[at:at + 80] = ("CHECKSUM" + card[8:]).encode("ascii")
    unpacked.write_bytes(bytes(raw))
    with afits.open(unpacked, checksum=True) as hdul:
        assert hdul[1].verify_checksum() == 1 and hdul[1].verify_datasum() == 1


def test_create_image_hdu_reads_zeros(tmp_path):
    with FITS(tmp_path / "zero.fits", "w+") as f:
        hdu = f.create_image_hdu("uint16", (33, 17), compress=Rice1(tile_shape=(8, 8)))
        assert hdu.read().dtype == np.uint16
        np.testing.assert_array_equal(hdu.read(scale=False), 0)
        hdu[1:3, 1:3] = 65535
        assert hdu.read()[2, 2] == 65535
    np.testing.assert_array_equal(astropy_data(tmp_path / "zero.fits")[1:3, 1:3], 65535)


def test_blank_and_mask(tmp_path):
    data = ints((12, 12), "int32")
    data[2, 3] = -99
    with FITS(tmp_path / "b.fits", "w+") as f:
        hdu = f.write_image(data, compress=Gzip1(), blank=-99)
        masked = hdu.read(mask_blank=True)
        assert masked.mask[2, 3] and masked.mask.sum() == 1
        assert np.isnan(hdu.read()[2, 3])


def test_bad_input(tmp_path, afits):
    with FITS(tmp_path / "bad.fits", "w+") as f:
        with pytest.raises(ValueError, match="quantize"):
            f.write_image(ints((8, 8), "int16"), compress=Rice1(), quantize=Quantize(4))
        with pytest.raises(ValueError, match="HCOMPRESS"):
            f.write_image(ints((3, 8), "int16"), compress=Hcompress1(tile_shape=(3, 8)))
        with pytest.raises(ValueError):
            f.write_image(ints((8, 8), "int64"), compress=Rice1())
        assert len(f) <= 1    # nothing half-made was left behind
    # truncate one tile's bytes and point another descriptor outside the heap
    path = tmp_path / "corrupt.fits"
    data = ints((40, 40), "int16")
    with FITS(path, "w+") as f:
        f.write_image(data, compress=Rice1(tile_shape=(10, 40)))
    with afits.open(path, disable_image_compression=True) as hdul:
        start = hdul[1]._data_offset
        rows = hdul[1]._header["NAXIS1"]
    raw = bytearray(path.read_bytes())
    raw[start:start + 4] = (5).to_bytes(4, "big")
    raw[start + rows + 4:start + rows + 8] = (10**8).to_bytes(4, "big")
    path.write_bytes(bytes(raw))
    with FITS(path) as f:
        with pytest.raises(FITSError, match="tile"):
            f[1][0:10]
        with pytest.raises(FITSError, match="outside"):
            f[1][10:20]
        np.testing.assert_array_equal(f[1][20:], data[20:])


def test_unknown_algorithm(tmp_path):
    path = tmp_path / "u.fits"
    with FITS(path, "w+") as f:
        f.write_image(ints((8, 8), "int16"), compress=Rice1())
    raw = path.read_bytes().replace(b"'RICE_1  '", b"'NOSUCH  '")
    path.write_bytes(raw)
    with FITS(path) as f, pytest.raises((FITSError, ValueError), match="NOSUCH"):
        f[1].read()


def test_exports():
    assert fitsbind.direct.CompressedImageHDU is CompressedImageHDU


# ---------------------------------------------------------------------------------------------
# Stamps: reads of a few tiles (one call that reads just their bytes and decodes them)

STAMP_CASES = [
    ("uint8", Rice1(tile_shape=(8, 12)), None),
    ("int16", Rice1(tile_shape=(8, 12)), None),
    ("uint16", Rice1(tile_shape=(8, 12)), None),
    ("int16", Plio1(tile_shape=(8, 12)), None),
    ("int32", Hcompress1(tile_shape=(8, 12)), None),
    ("int64", Gzip1(tile_shape=(8, 12)), None),
    ("float64", Gzip2(tile_shape=(8, 12)), None),
    ("float32", Rice1(tile_shape=(8, 12)), Quantize(4, seed=9)),
    ("float64", Gzip1(tile_shape=(8, 12)), Quantize(8, method="subtractive_dither_2", seed=3)),
]
STAMP_KEYS = [
    np.s_[2:6, 3:9], np.s_[5:20, 10:30], np.s_[30:37, 40:45], np.s_[36, :], np.s_[:, 44],
    np.s_[1::3, 2::7], np.s_[::-5, 10:2:-3], np.s_[7:9, 11:13], np.s_[..., 20], np.s_[9, 13],
    np.s_[5:5, 3:9],
]


def stamp_image(dtype: str) -> np.ndarray:
    """37 x 45 pixels (5 x 4 tiles of 8 x 12, the last row and column clipped); floats with
    a NaN, an exact zero and a constant tile (which quantizing stores losslessly)."""
    if dtype.startswith("float"):
        data = smooth_floats((37, 45)).astype(dtype)
        data[3, 4] = np.nan
        data[30, 40] = 0.0
        data[8:16, 12:24] = 5.0
        return data
    return ints((37, 45), dtype, high=2000 if dtype == "uint8" else 60000 if dtype == "uint16"
                else 3000).astype(dtype)


@pytest.mark.parametrize("dtype, compress, quantize", STAMP_CASES,
                         ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_stamps_equal_the_whole_image(tmp_path, dtype, compress, quantize):
    data = stamp_image(dtype) if dtype != "uint8" else stamp_image("int16").astype(np.uint8)
    with FITS(tmp_path / "s.fits", "w+") as f:
        f.write_image(data, compress=compress, quantize=quantize)
    with FITS(tmp_path / "s.fits") as f:
        hdu = f[1]
        hdu.set_tile_cache_size(0)
        whole = hdu.read()            # 20 tiles: the whole-image path
        if quantize is None:
            np.testing.assert_array_equal(whole, data)
        else:
            assert np.isnan(whole[3, 4]) and np.nanmax(abs(whole - data)) < 1
            assert (whole[8:16, 12:24] == 5.0).all()
            if quantize.method == "subtractive_dither_2":
                assert whole[30, 40] == 0.0
        for cache in (0, 1 << 20):
            hdu.set_tile_cache_size(cache)
            for key in STAMP_KEYS * 2:            # the second time from the cache, if any
                got = hdu[key]
                expected = whole[key]
                assert np.shape(got) == np.shape(expected) and got.dtype == whole.dtype, key
                np.testing.assert_array_equal(got, expected)
            assert (hdu.tile_cache_used > 0) == (cache > 0)


def test_stamps_scale_and_mask(tmp_path, afits):
    """BSCALE/BZERO, BLANK and the unsigned offsets apply to stamps as to whole reads."""
    rng = np.random.default_rng(4)
    physical = (rng.integers(-1000, 1000, (30, 40)) * 0.5 + 3).astype(np.float32)
    scaled = afits.CompImageHDU(physical, compression_type="RICE_1", tile_shape=(8, 12))
    scaled.scale("int16", bscale=0.5, bzero=3.0)
    afits.HDUList([afits.PrimaryHDU(), scaled]).writeto(tmp_path / "scaled.fits")
    expected = astropy_data(tmp_path / "scaled.fits")
    with FITS(tmp_path / "scaled.fits") as f:
        hdu = f[1]
        assert (hdu.header["BSCALE"], hdu.header["BZERO"]) == (0.5, 3.0)
        np.testing.assert_array_equal(hdu[3:20, 5:33], expected[3:20, 5:33])
        assert hdu[3:20, 5:33].dtype == np.float32
        raw = hdu.read(scale=False)
        assert raw.dtype == np.int16
        np.testing.assert_array_equal(raw * 0.5 + 3, expected)
    data = ints((20, 30), "int32")
    data[2, 3] = data[15, 25] = -99
    with FITS(tmp_path / "b.fits", "w+") as f:
        hdu = f.write_image(data, compress=Gzip1(tile_shape=(8, 12)), blank=-99)
        stamp = hdu[0:10, 0:10]
        assert stamp.dtype == np.float64 and np.isnan(stamp[2, 3])
        assert np.isnan(stamp).sum() == 1
        masked = hdu.read(mask_blank=True)          # 9 tiles: one read of a few tiles
        assert masked.mask[2, 3] and masked.mask[15, 25] and masked.mask.sum() == 2
        np.testing.assert_array_equal(hdu.read(scale=False), data)
        unsigned = f.write_image(ints((20, 30), "uint16", high=65536),
                                 compress=Rice1(tile_shape=(8, 12)))
        np.testing.assert_array_equal(unsigned[4:17, 9:28], unsigned.read()[4:17, 9:28])
        assert unsigned[4:17, 9:28].dtype == np.uint16


def test_stamps_read_only_their_tiles_bytes(tmp_path, monkeypatch):
    data = ints((64, 96), "int16")
    with FITS(tmp_path / "s.fits", "w+") as f:
        f.write_image(data, compress=Rice1(tile_shape=(16, 16)))
    with FITS(tmp_path / "s.fits") as f:
        hdu = f[1]
        calls = []
        real = hdu._read_heap

        def spy(offsets, sizes, out):
            calls.append(list(sizes))
            real(offsets, sizes, out)

        monkeypatch.setattr(hdu, "_read_heap", spy)
        np.testing.assert_array_equal(hdu[20:24, 40:44], data[20:24, 40:44])
        np.testing.assert_array_equal(hdu[10:20, 10:20], data[10:20, 10:20])   # 4 tiles
        assert [len(c) for c in calls] == [1, 4]
        assert hdu.tile_cache_used == 5 * 16 * 16 * 2
        np.testing.assert_array_equal(hdu[12:14, 4:30], data[12:14, 4:30])     # all cached
        assert len(calls) == 2


def test_stamps_of_damaged_files(tmp_path, afits):
    """A corrupt tile and a descriptor outside the heap: FITSError naming file and HDU."""
    path = tmp_path / "corrupt.fits"
    data = ints((40, 40), "int16")
    with FITS(path, "w+") as f:
        f.write_image(data, compress=Rice1(tile_shape=(10, 10)))
    with afits.open(path, disable_image_compression=True) as hdul:
        start = hdul[1]._data_offset
        rows = hdul[1]._header["NAXIS1"]
        theap = start + hdul[1]._header["NAXIS1"] * hdul[1]._header["NAXIS2"]
    raw = bytearray(path.read_bytes())
    nbytes = int.from_bytes(raw[start + rows * 5:start + rows * 5 + 4], "big")
    offset = int.from_bytes(raw[start + rows * 5 + 4:start + rows * 5 + 8], "big")
    # tile 5's blocks all say "16 bits a pixel": more than its bytes hold
    raw[theap + offset + 2:theap + offset + nbytes] = b"\xff" * (nbytes - 2)
    raw[start + rows * 6 + 4:start + rows * 6 + 8] = (10**8).to_bytes(4, "big")   # tile 6
    path.write_bytes(bytes(raw))
    with FITS(path) as f:
        for cache in (0, 1 << 20):
            f[1].set_tile_cache_size(cache)
            with pytest.raises(FITSError, match="tile 5") as info:
                f[1][12:14, 12:14]
            assert info.value.filename == str(path) and info.value.hdu == 1
            with pytest.raises(FITSError, match="outside") as info:
                f[1][12:14, 22:24]
            assert info.value.filename == str(path) and info.value.hdu == 1
            np.testing.assert_array_equal(f[1][0:10, 0:40], data[0:10])


def test_stamps_after_assignment_on_a_writable_handle(tmp_path):
    """Bytes CFITSIO still buffers for a writable handle are what a stamp read sees."""
    data = ints((48, 48), "int16")
    with FITS(tmp_path / "w.fits", "w+") as f:
        hdu = f.write_image(data, compress=Rice1(tile_shape=(16, 16)))
        np.testing.assert_array_equal(hdu[20:30, 20:30], data[20:30, 20:30])   # now cached
        hdu[18:34, 2:40] = 7
        data[18:34, 2:40] = 7
        np.testing.assert_array_equal(hdu[20:30, 20:30], data[20:30, 20:30])
        np.testing.assert_array_equal(hdu[15:40, 0:48], data[15:40, 0:48])
        hdu.set_tile_cache_size(0)
        hdu[0:5, 0:5] = -3
        data[0:5, 0:5] = -3
        np.testing.assert_array_equal(hdu[0:8, 0:8], data[0:8, 0:8])
    with FITS(tmp_path / "w.fits") as f:
        np.testing.assert_array_equal(f[1].read(), data)


def test_stamps_of_a_gzipped_file(tmp_path):
    """Without a plain file to read directly, the tiles' bytes come through CFITSIO."""
    import gzip

    data = ints((40, 50), "int16")
    with FITS(tmp_path / "g.fits", "w+") as f:
        f.write_image(data, compress=Rice1(tile_shape=(8, 12)))
    (tmp_path / "g.fits.gz").write_bytes(gzip.compress((tmp_path / "g.fits").read_bytes()))
    with FITS(tmp_path / "g.fits.gz") as f:
        assert f._file.raw_access() is None
        np.testing.assert_array_equal(f[1][3:20, 5:40], data[3:20, 5:40])
        np.testing.assert_array_equal(f[1][30:40, 44:50], data[30:40, 44:50])


def test_read_data_spans(tmp_path):
    data = ints((40, 50), "int16")
    with FITS(tmp_path / "r.fits", "w+") as f:
        f.write_image(data)
        f.create_image_hdu("int16", (4, 4))
    raw = (tmp_path / "r.fits").read_bytes()
    with FITS(tmp_path / "r.fits") as f:
        handle = f._file
        out = np.empty(30, np.uint8)
        handle.move_to(1)
        handle.read_data_spans(0, 100, [0, 10, 500], [10, 10, 10], out)   # two runs
        assert handle.current_hdu == 0
        _, start, _ = handle.hdu_offsets()
        expected = raw[start + 100:start + 120] + raw[start + 600:start + 610]
        assert out.tobytes() == expected
        with pytest.raises(FITSError, match="outside the data unit") as info:
            handle.read_data_spans(0, 0, [5000], [1000], np.empty(1000, np.uint8))
        assert info.value.hdu == 0
        with pytest.raises(ValueError, match="out has"):
            handle.read_data_spans(0, 0, [0], [10], np.empty(5, np.uint8))
        with pytest.raises(ValueError, match="same length"):
            handle.read_data_spans(0, 0, [0, 1], [10], np.empty(10, np.uint8))
    with pytest.raises(ValueError, match="closed"):
        handle.read_data_spans(0, 0, [0], [10], np.empty(10, np.uint8))


def test_infinity_into_a_quantized_image_is_refused_before_writing(tmp_path):
    """Quantized tiles hold finite integers or the null value: inf would read back as NaN."""
    pixels = np.ones((64, 64), np.float32)
    pixels[3, 3] = -np.inf
    path = tmp_path / "q.fits"
    with FITS(path, "w+") as f:
        f.create_image_hdu(np.uint8, ())
        with pytest.raises(fitsbind.FITSValueError, match="infinite values"):
            f.write_image(pixels, compress=Rice1())
        assert len(f) == 1
        hdu = f.write_image(np.ones((64, 64), np.float32), compress=Rice1())
        with pytest.raises(fitsbind.FITSValueError, match="infinite values"):
            hdu[0:1, :] = np.full((1, 64), np.inf, np.float32)
        lossless = f.write_image(pixels, compress=Gzip2())   # unquantized: inf is kept
        assert np.isneginf(lossless.read()[3, 3])
    with FITS(path) as f:
        assert np.array_equal(f[1].read(), np.ones((64, 64), np.float32))
