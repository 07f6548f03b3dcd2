"""fitsbind._tiles: the tile codec, checked bit for bit against CFITSIO's fpack and funpack.

Each case writes an image with astropy, compresses it with fpack, decodes fpack's tiles with
decode_tiles (compared with what funpack gives) and encodes the image with encode_tiles
(compared with fpack's heap bytes, column choice and ZSCALE / ZZERO).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from fitsbind import _tiles
from fitsbind.errors import FITSError

needs_fpack = pytest.mark.skipif(
    shutil.which("fpack") is None or shutil.which("funpack") is None,
    reason="fpack/funpack not installed (Debian package libcfitsio-bin)",
)


def astropy_fits():
    """astropy.io.fits, which reads the raw tiles of the files made here: astropy is optional, so
    the tests that go through it skip without it."""
    return pytest.importorskip("astropy.io.fits")


# bytes per element of each binary-table TFORM code, and the numpy type of scalar columns
_WIDTHS = {"L": 1, "B": 1, "I": 2, "J": 4, "K": 8, "A": 1, "E": 4, "D": 8, "C": 8, "M": 16,
           "P": 8, "Q": 16}
_SCALARS = {"B": ">u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8"}


class Packed:
    """A tile-compressed HDU read raw: header, columns (descriptors in bytes) and heap."""

    def __init__(self, path: Path, ext: int = 1) -> None:
        fits = astropy_fits()
        with fits.open(path, disable_image_compression=True) as hdul:
            self.header = hdul[ext].header.copy()
            datloc = hdul[ext].fileinfo()["datLoc"]
        hdr = self.header
        raw = path.read_bytes()
        width, nrows = hdr["NAXIS1"], hdr["NAXIS2"]
        theap = hdr.get("THEAP", width * nrows)
        self.heap = np.frombuffer(raw, np.uint8, hdr["PCOUNT"], datloc + theap).copy()
        rows = np.frombuffer(raw, np.uint8, width * nrows, datloc).reshape(nrows, width)
        self.columns = {}
        pos = 0
        for i in range(1, hdr["TFIELDS"] + 1):
            repeat, code, element = re.match(r"(\d*)([A-Z])([A-Z]?)", hdr[f"TFORM{i}"]).groups()
            size = _WIDTHS[code] * int(repeat or 1)
            cells = rows[:, pos:pos + size].copy()
            if code in "PQ":
                desc = cells.view(">i4" if code == "P" else ">i8").reshape(nrows, 2)
                desc = desc.astype(np.int64)
                value = (desc[:, 0] * _WIDTHS[element], desc[:, 1])
            else:
                value = cells.view(_SCALARS[code])[:, 0].astype(_SCALARS[code][1:])
            self.columns[hdr[f"TTYPE{i}"]] = value
            pos += size
        ndim = hdr["ZNAXIS"]
        self.shape = tuple(hdr[f"ZNAXIS{k}"] for k in range(ndim, 0, -1))
        self.tile = tuple(hdr.get(f"ZTILE{k}", 1 if k > 1 else hdr["ZNAXIS1"])
                          for k in range(ndim, 0, -1))

    def codec(self, quantize_level: float | None = None) -> _tiles.Codec:
        """The Codec the header describes (quantize_level: for encoding)."""
        hdr = self.header
        kwargs = {"bzero": hdr.get("BZERO", 0.0), "zblank": hdr.get("ZBLANK", hdr.get("BLANK"))}
        if hdr["ZCMPTYPE"] in ("RICE_1", "RICE_ONE"):
            kwargs.update(blocksize=hdr.get("ZVAL1", 32), bytepix=hdr.get("ZVAL2", 4))
        if hdr["ZCMPTYPE"] == "HCOMPRESS_1":
            kwargs.update(hcomp_scale=hdr["ZVAL1"], hcomp_smooth=bool(hdr.get("ZVAL2", 0)))
        if "ZSCALE" in self.columns:
            kwargs.update(quantize_level=quantize_level or 1.0,
                          quantize_method=hdr.get("ZQUANTIZ", "NO_DITHER"),
                          zdither0=hdr.get("ZDITHER0", 1))
        return _tiles.Codec(hdr["ZCMPTYPE"], hdr["ZBITPIX"], **kwargs)

    def decode(self, tiles=None, out=None, origin=None, threads: int = 1) -> np.ndarray:
        codec = self.codec()
        nbytes, offsets = self.columns["COMPRESSED_DATA"]
        if tiles is None:
            tiles = np.arange(len(nbytes))
        if out is None:
            out = np.zeros(self.shape, codec.dtype)
            origin = (0,) * len(self.shape)
        kwargs = {}
        for name, key in (("ZSCALE", "zscale"), ("ZZERO", "zzero"), ("ZBLANK", "zblank")):
            if name in self.columns:
                kwargs[key] = self.columns[name][tiles]
        for name, key in (("GZIP_COMPRESSED_DATA", "gzip"), ("UNCOMPRESSED_DATA", "raw")):
            if name in self.columns:
                counts, starts = self.columns[name]
                kwargs[f"{key}_nbytes"] = counts[tiles]
                kwargs[f"{key}_offsets"] = starts[tiles]
        _tiles.decode_tiles(codec, self.shape, self.tile, tiles, self.heap, nbytes[tiles],
                            offsets[tiles], out, origin, threads=threads, **kwargs)
        return out

    def tile_bytes(self, i: int) -> tuple[int, bytes]:
        """(column, bytes) of tile i as fpack stored them."""
        for column, name in ((0, "COMPRESSED_DATA"), (1, "GZIP_COMPRESSED_DATA"),
                             (2, "UNCOMPRESSED_DATA")):
            if name in self.columns and self.columns[name][0][i] > 0:
                count, start = self.columns[name][0][i], self.columns[name][1][i]
                return column, self.heap[start:start + count].tobytes()
        raise AssertionError(f"tile {i} has no data")


def stored(data: np.ndarray) -> np.ndarray:
    """The values a FITS file stores for data: the BZERO offset of the signed-byte and
    unsigned types removed."""
    offset = {np.dtype(np.int8): -128, np.dtype(np.uint16): 32768,
              np.dtype(np.uint32): 2**31}.get(data.dtype)
    if offset is None:
        return data
    kind = {1: np.uint8, 2: np.int16, 4: np.int32}[data.itemsize]
    return (data.astype(np.int64) - offset).astype(kind)


def fpack(tmp_path: Path, data: np.ndarray, *options: str) -> tuple[Packed, np.ndarray]:
    """fpack data with options; return its tiles and what funpack makes of them (stored
    values, unscaled)."""
    src, packed, unpacked = tmp_path / "in.fits", tmp_path / "in.fz", tmp_path / "out.fits"
    for path in (packed, unpacked):
        path.unlink(missing_ok=True)
    fits = astropy_fits()
    fits.PrimaryHDU(data).writeto(src, overwrite=True)
    subprocess.run(["fpack", "-O", str(packed), *options, str(src)], check=True,
                   capture_output=True)
    subprocess.run(["funpack", "-O", str(unpacked), str(packed)], check=True,
                   capture_output=True)
    with fits.open(unpacked, do_not_scale_image_data=True) as hdul:
        reference = hdul[0].data.copy()
    return Packed(packed), reference.astype(reference.dtype.newbyteorder("="))


def same_pixels(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values, NaN equal to NaN (funpack's NaN bit pattern is CFITSIO's choice)."""
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def check_encoding(packed: Packed, image: np.ndarray, quantize_level: float | None = None,
                   threads: int = 1) -> _tiles.Encoded:
    """encode_tiles gives fpack's bytes, columns, ZSCALE and ZZERO for every tile."""
    ntiles = len(packed.columns["COMPRESSED_DATA"][0])
    encoded = _tiles.encode_tiles(packed.codec(quantize_level), image, packed.tile,
                                  np.arange(ntiles), threads=threads)
    for i in range(ntiles):
        column, expected = packed.tile_bytes(i)
        start = encoded.offsets[i]
        assert encoded.column[i] == column, f"tile {i}"
        assert encoded.data[start:start + encoded.nbytes[i]].tobytes() == expected, f"tile {i}"
    if "ZSCALE" in packed.columns:
        assert np.array_equal(encoded.zscale, packed.columns["ZSCALE"])
        assert np.array_equal(encoded.zzero, packed.columns["ZZERO"])
        assert encoded.has_nulls == ("ZBLANK" in packed.header)
    else:
        assert encoded.zscale is None and encoded.zzero is None
    return encoded


def noisy(shape, dtype, mean=1000.0, sigma=30.0, seed=1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(mean, sigma, shape).astype(dtype)


# ---------------------------------------------------------------------------------------------
# Integer images

INTEGER_IMAGES = {
    "uint8": lambda: noisy((37, 53), np.float64, 120, 20).clip(0, 255).astype(np.uint8),
    "int8": lambda: noisy((37, 53), np.float64, 0, 30).clip(-128, 127).astype(np.int8),
    "int16": lambda: noisy((37, 53), np.int16, 1000, 300),
    "uint16": lambda: noisy((37, 53), np.uint16, 40000, 3000),
    "int32": lambda: noisy((37, 53), np.int32, 1e6, 1e5),
    "uint32": lambda: noisy((37, 53), np.uint32, 3e9, 1e6),
}
INTEGER_OPTIONS = [
    ("-r",), ("-g",), ("-g1",), ("-g2",), ("-h",), ("-h", "-s", "2.5"), ("-r", "-t", "16,10"),
    ("-g2", "-t", "53,5"), ("-h", "-t", "20,12"),
]


@needs_fpack
@pytest.mark.parametrize("options", INTEGER_OPTIONS, ids=" ".join)
@pytest.mark.parametrize("name", INTEGER_IMAGES)
def test_integer_images_match_fpack(tmp_path, name, options):
    data = INTEGER_IMAGES[name]()
    packed, reference = fpack(tmp_path, data, *options)
    assert same_pixels(packed.decode(), reference)
    assert same_pixels(packed.decode(threads=2), reference)
    check_encoding(packed, stored(data))


@needs_fpack
@pytest.mark.parametrize("data", [
    noisy((30, 41), np.float64, 90, 40).clip(0, 255).astype(np.uint8),
    noisy((30, 41), np.int16, 300, 100).clip(0, None),
    noisy((30, 41), np.uint16, 40000, 20),      # PLIO codes these offset by 32768
    np.repeat(np.arange(30, dtype=np.int16)[:, None] * 200, 41, axis=1),
], ids=["uint8", "int16", "uint16", "runs"])
def test_plio_matches_fpack(tmp_path, data):
    packed, reference = fpack(tmp_path, data, "-p")
    assert same_pixels(packed.decode(), reference)
    check_encoding(packed, stored(data))


# ---------------------------------------------------------------------------------------------
# Floating-point images

def float_image(dtype) -> np.ndarray:
    """Noise, a NaN, an infinity, an all-zero row and constant rows (tiles CFITSIO cannot
    quantize, so they go to GZIP_COMPRESSED_DATA)."""
    data = noisy((40, 70), dtype, 100, 5, seed=2)
    data[3, 5] = np.nan
    data[6, 9] = -np.inf
    data[10, :] = 0
    data[20:25, :] = 7.0
    data[30, ::3] = 0
    return data


# (fpack options, the quantize level they ask for; None: lossless)
FLOAT_OPTIONS = [
    (("-r",), 4.0), (("-q", "2"), 2.0), (("-qz", "4"), 4.0), (("-q0", "4"), 4.0),
    (("-q", "-0.25"), -0.25), (("-qt", "3"), 3.0), (("-q", "4", "-t", "1,1"), 4.0),
    (("-h",), 4.0), (("-h", "-s", "3"), 4.0), (("-g",), 4.0), (("-g2", "-qz", "8"), 8.0),
    (("-g", "-q", "0"), None), (("-g2", "-q", "0"), None),
]


@needs_fpack
@pytest.mark.parametrize("options, level", FLOAT_OPTIONS, ids=lambda v: " ".join(v or ["-"])
                         if isinstance(v, tuple) else str(v))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_images_match_fpack(tmp_path, dtype, options, level):
    data = float_image(dtype)
    if level is None:
        # lossless: fpack reads NaN and infinity as nulls and writes CFITSIO's NaN (all bits
        # set); encode_tiles keeps float bytes as they are, so give it that NaN to compare
        data[3, 5] = np.frombuffer(b"\xff" * data.itemsize, dtype)[0]
        data[6, 9] = data[3, 5]
    packed, reference = fpack(tmp_path, data, *options)
    assert same_pixels(packed.decode(), reference)
    encoded = check_encoding(packed, data, level)
    if level is not None:
        assert encoded.has_nulls
        # a tile of one constant row has no noise to scale a relative step by
        assert (1 in encoded.column) == (level > 0 and packed.tile[0] == 1)


@needs_fpack
def test_quantized_nulls_decode_to_cfitsio_nan(tmp_path):
    packed, _ = fpack(tmp_path, float_image(np.float32), "-r")
    decoded = packed.decode()
    assert decoded.view(np.uint32)[3, 5] == 0xFFFFFFFF
    assert decoded.view(np.uint32)[6, 9] == 0xFFFFFFFF


def _fitsio_reference(path: Path):
    fitsio = pytest.importorskip("fitsio")
    return fitsio.read(str(path))


@needs_fpack
@pytest.mark.parametrize("shape, options", [
    ((40, 70), ("-r", "-t", "16,16")),              # edge tiles on both axes
    ((40, 70), ("-h", "-t", "16,12")),
    ((40, 70), ("-g", "-t", "7,9")),
    ((5, 40, 33), ("-r",)),                         # 3-D, row tiles
    ((5, 40, 33), ("-r", "-t", "10,10,2")),
    ((5, 40, 33), ("-qz", "4", "-t", "33,1,5")),    # a tile along the slowest axis
    ((5, 40, 33), ("-g2", "-t", "16,8,3")),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) and isinstance(v[0], str) else str(v))
def test_float_tiles_of_several_rows(tmp_path, shape, options):
    """funpack of CFITSIO 4.2.0 gets quantized tiles of more than one row wrong (errors far
    beyond the quantization step, and unlike its own imcopy, CFITSIO 4.6 and astropy), so
    here astropy is the decoding reference; the encoding is still checked against fpack."""
    fits = astropy_fits()
    data = noisy(shape, np.float32, 0, 1, seed=3)
    data[(slice(None),) * (len(shape) - 2) + (5, slice(None))] = np.nan
    data[(0,) * (len(shape) - 1)] = 0
    packed, _ = fpack(tmp_path, data, *options)
    with fits.open(tmp_path / "in.fz") as hdul:
        reference = hdul[1].data.astype(np.float32)
    assert same_pixels(packed.decode(), reference)
    assert same_pixels(packed.decode(threads=2), reference)
    level = float(options[1]) if options[0] == "-qz" else 4.0
    check_encoding(packed, data, level)


# ---------------------------------------------------------------------------------------------
# Files astropy ships


def astropy_files() -> list[Path]:
    """The tile-compressed files astropy ships for its own tests, found without importing it at
    collection; none when astropy is not installed (the test is then skipped as an empty
    parameter set)."""
    spec = importlib.util.find_spec("astropy")
    if spec is None or spec.origin is None:
        return []
    fits_dir = Path(spec.origin).parent / "io" / "fits"
    data, compressed = fits_dir / "tests" / "data", fits_dir / "hdu" / "compressed" / "tests" / "data"
    return [data / "comp.fits", data / "compressed_image.fits", data / "compressed_float_bzero.fits",
            *sorted(compressed.glob("m13_*.fits")), compressed / "compressed_with_nan.fits"]


@pytest.mark.parametrize("path", astropy_files(), ids=lambda p: p.name)
def test_astropy_files(path):
    fits = astropy_fits()
    with fits.open(path, disable_image_compression=True) as hdul:
        extensions = [i for i, hdu in enumerate(hdul) if hdu.header.get("ZIMAGE")]
    assert extensions
    for ext in extensions:
        packed = Packed(path, ext)
        with fits.open(path, do_not_scale_image_data=True) as hdul:
            reference = hdul[ext].data
            reference = reference.astype(reference.dtype.newbyteorder("="))
        assert same_pixels(packed.decode(), reference)


def test_int64_gzip_round_trip_and_astropy(tmp_path):
    """fpack cannot compress 64-bit integers; astropy can, and decodes ours."""
    fits = astropy_fits()
    data = noisy((20, 30), np.float64, 0, 1e15).astype(np.int64)
    for zcmptype in ("GZIP_1", "GZIP_2"):
        path = tmp_path / f"{zcmptype}.fits"
        hdu = fits.CompImageHDU(data, compression_type=zcmptype, tile_shape=(6, 30))
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)
        packed = Packed(path)
        assert np.array_equal(packed.decode(), data)
        codec = _tiles.Codec(zcmptype, 64)
        encoded = _tiles.encode_tiles(codec, data, (6, 30), np.arange(4))
        out = np.zeros_like(data)
        _tiles.decode_tiles(codec, data.shape, (6, 30), np.arange(4), encoded.data,
                            encoded.nbytes, encoded.offsets, out, (0, 0))
        assert np.array_equal(out, data)


# ---------------------------------------------------------------------------------------------
# Round trips, sub-lists and the API

@pytest.mark.parametrize("zcmptype, dtype", [
    ("RICE_1", np.uint8), ("RICE_1", np.int16), ("RICE_1", np.int32), ("GZIP_1", np.int64),
    ("GZIP_2", np.float32), ("GZIP_1", np.float64), ("HCOMPRESS_1", np.int16),
    ("HCOMPRESS_1", np.int32), ("PLIO_1", np.int32), ("NOCOMPRESS", np.float32),
    ("NOCOMPRESS", np.int16),
])
def test_lossless_round_trip(zcmptype, dtype):
    data = noisy((23, 31), np.float64, 100, 30, seed=4).clip(0, 255).astype(dtype)
    if data.dtype.kind == "f":
        data[2, 3] = np.nan
        data[4, 5] = np.inf
        data[6, 7] = -0.0
    codec = _tiles.Codec(zcmptype, {1: 8, 2: 16, 4: 32, 8: 64}[data.itemsize]
                         * (-1 if data.dtype.kind == "f" else 1))
    tile = (8, 8)
    encoded = _tiles.encode_tiles(codec, data, tile, np.arange(12), threads=2)
    assert set(encoded.column) == {2 if zcmptype == "NOCOMPRESS" else 0}
    out = np.zeros_like(data)
    kwargs = {}
    if zcmptype == "NOCOMPRESS":
        kwargs = {"raw_nbytes": encoded.nbytes, "raw_offsets": encoded.offsets}
        nbytes = np.zeros(12, np.int64)
    else:
        nbytes = encoded.nbytes
    _tiles.decode_tiles(codec, data.shape, tile, np.arange(12), encoded.data, nbytes,
                        encoded.offsets, out, (0, 0), **kwargs)
    assert out.tobytes() == data.tobytes()


@needs_fpack
def test_decode_sub_list_into_box(tmp_path):
    data = noisy((50, 60), np.int16, 500, 50, seed=5)
    packed, _ = fpack(tmp_path, data, "-r", "-t", "16,12")
    assert packed.tile == (12, 16)                  # grid 5 x 4, edge tiles on both axes
    # tiles of grid rows 1..3 and columns 1..3: image rows 12..47, columns 16..59
    tiles = np.array([r * 4 + c for r in (1, 2, 3) for c in (1, 2, 3)])
    out = np.full((40, 52), -1, np.int16)
    packed.decode(tiles=tiles[::-1].copy(), out=out, origin=(10, 10), threads=2)
    assert np.array_equal(out[2:38, 6:50], data[12:48, 16:60])
    untouched = np.ones(out.shape, bool)
    untouched[2:38, 6:50] = False
    assert (out[untouched] == -1).all()


def test_encode_dither_rows_follow_first_row():
    """Encoding the lower part of an image with first_row gives the tiles that encoding
    the whole image gives (the dither sequence continues)."""
    data = noisy((12, 50), np.float32, 10, 1, seed=6)
    codec = _tiles.Codec("RICE_1", -32, quantize_level=4, zdither0=77)
    whole = _tiles.encode_tiles(codec, data, (1, 50), np.arange(12))
    part = _tiles.encode_tiles(codec, data[5:], (1, 50), np.arange(7), first_row=5)
    for i in range(7):
        a = whole.data[whole.offsets[5 + i]:][:whole.nbytes[5 + i]]
        b = part.data[part.offsets[i]:][:part.nbytes[i]]
        assert a.tobytes() == b.tobytes()
    assert np.array_equal(part.zscale, whole.zscale[5:])


def test_codec_attributes():
    codec = _tiles.Codec("rice_one", -32, quantize_level=4, quantize_method="subtractive_dither_2",
                         zdither0=9, zblank=-5)
    assert codec.zcmptype == "RICE_ONE" and codec.zbitpix == -32 and codec.bytepix == 4
    assert codec.quantize_level == 4.0 and codec.quantize_method == "SUBTRACTIVE_DITHER_2"
    assert codec.zdither0 == 9 and codec.zblank == -5 and codec.gzip_level == 1
    assert codec.dtype == np.dtype(np.float32)
    assert "RICE_ONE" in repr(codec)
    with pytest.raises(AttributeError):
        codec.zbitpix = 16
    assert _tiles.Codec("GZIP_2", 16).bytepix == 2


# ---------------------------------------------------------------------------------------------
# Bad input

@pytest.mark.parametrize("args, kwargs, match", [
    (("LZW_1", 16), {}, "unknown compression"),
    (("RICE_1", 12), {}, "ZBITPIX"),
    (("RICE_1", 64), {}, "64-bit"),
    (("PLIO_1", 64), {}, "64-bit"),
    (("HCOMPRESS_1", 64), {}, "64-bit"),
    (("RICE_1", -32), {}, "losslessly"),
    (("PLIO_1", -64), {}, "losslessly"),
    (("RICE_1", 16), {"quantize_level": 4}, "floating-point images only"),
    (("RICE_1", -32), {"quantize_level": 0}, "non-zero"),
    (("RICE_1", -32), {"quantize_level": float("nan")}, "non-zero"),
    (("NOCOMPRESS", -32), {"quantize_level": 4}, "cannot quantize"),
    (("RICE_1", -32), {"quantize_level": 4, "quantize_method": "DITHER"}, "quantize method"),
    (("RICE_1", -32), {"quantize_level": 4, "zdither0": 0}, "ZDITHER0"),
    (("RICE_1", 16), {"bytepix": 3}, "bytes per pixel"),
    (("RICE_1", 16), {"blocksize": 0}, "block size"),
    (("GZIP_1", 16), {"gzip_level": 10}, "gzip level"),
    (("RICE_1", -32), {"quantize_level": 4, "zblank": 2**40}, "ZBLANK"),
])
def test_codec_rejects(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _tiles.Codec(*args, **kwargs)


def _encoded(zcmptype="RICE_1", dtype=np.int16, shape=(20, 24), tile=(4, 24), **kwargs):
    data = noisy(shape, np.float64, 100, 10, seed=7).astype(dtype)
    bitpix = {1: 8, 2: 16, 4: 32, 8: 64}[data.itemsize] * (-1 if data.dtype.kind == "f" else 1)
    codec = _tiles.Codec(zcmptype, bitpix, **kwargs)
    n = int(np.prod([-(-s // t) for s, t in zip(shape, tile)]))
    encoded = _tiles.encode_tiles(codec, data, tile, np.arange(n))
    return codec, data, tile, encoded


def _decode(codec, data, tile, heap, nbytes, offsets, **kwargs):
    out = np.zeros(data.shape, codec.dtype)
    _tiles.decode_tiles(codec, data.shape, tile, np.arange(len(nbytes)), heap, nbytes,
                        offsets, out, (0,) * data.ndim, **kwargs)
    return out


def test_encode_rejects():
    codec = _tiles.Codec("RICE_1", 16)
    data = np.zeros((8, 8), np.int16)
    with pytest.raises(ValueError, match="dtype int16"):
        _tiles.encode_tiles(codec, data.astype(np.int32), (1, 8), [0])
    with pytest.raises(ValueError, match="dtype int16"):
        _tiles.encode_tiles(codec, data.astype(">i2"), (1, 8), [0])
    with pytest.raises(ValueError, match="C-contiguous"):
        _tiles.encode_tiles(codec, data[:, ::2], (1, 4), [0])
    with pytest.raises(ValueError, match="outside"):
        _tiles.encode_tiles(codec, data, (1, 8), [8])
    with pytest.raises(ValueError, match="differ in length"):
        _tiles.encode_tiles(codec, data, (1, 8, 1), [0])
    with pytest.raises(ValueError, match="bytepix"):
        _tiles.encode_tiles(_tiles.Codec("RICE_1", 32, bytepix=2), data.astype(np.int32),
                            (1, 8), [0])
    plio = _tiles.Codec("PLIO_1", 32)
    with pytest.raises(ValueError, match="PLIO"):
        _tiles.encode_tiles(plio, np.full((8, 8), -1, np.int32), (1, 8), [0])
    with pytest.raises(ValueError, match="PLIO"):
        _tiles.encode_tiles(plio, np.full((8, 8), 2**24, np.int32), (1, 8), [0])


def test_hcompress_tile_rules():
    codec = _tiles.Codec("HCOMPRESS_1", 16)
    cube = np.zeros((4, 8, 8), np.int16)
    with pytest.raises(ValueError, match="exactly two axes"):
        _tiles.encode_tiles(codec, cube, (4, 8, 8), [0])
    with pytest.raises(ValueError, match="at least 4"):
        _tiles.encode_tiles(codec, cube[0], (3, 8), [0])
    with pytest.raises(ValueError, match="exactly two axes"):
        _tiles.encode_tiles(codec, cube[0], (1, 8), [0])
    with pytest.raises(ValueError, match="4 x 4"):             # an edge tile of 2 rows
        _tiles.encode_tiles(codec, np.zeros((10, 8), np.int16), (4, 8), [2])
    assert _tiles.encode_tiles(codec, cube, (1, 8, 8), [0, 3]).nbytes.all()
    with pytest.raises(ValueError, match="exactly two axes"):
        _tiles.decode_tiles(codec, (4, 8, 8), (4, 8, 8), [0], b"", [1], [0], cube, (0, 0, 0))
    dither2 = _tiles.Codec("HCOMPRESS_1", -32, quantize_level=4,
                           quantize_method="SUBTRACTIVE_DITHER_2")
    with pytest.raises(ValueError, match="SUBTRACTIVE_DITHER_2"):
        _tiles.encode_tiles(dither2, np.zeros((8, 8), np.float32), (8, 8), [0])


def test_decode_rejects_arguments():
    codec, data, tile, enc = _encoded()
    heap, nbytes, offsets = enc.data, enc.nbytes, enc.offsets
    ok = np.zeros(data.shape, np.int16)
    _tiles.decode_tiles(codec, data.shape, tile, np.arange(5), heap, nbytes, offsets, ok, (0, 0))
    assert np.array_equal(ok, data)
    with pytest.raises(ValueError, match="dtype int16"):
        _tiles.decode_tiles(codec, data.shape, tile, np.arange(5), heap, nbytes, offsets,
                            ok.astype(np.int32), (0, 0))
    with pytest.raises(ValueError, match="C-contiguous"):
        _tiles.decode_tiles(codec, data.shape, tile, np.arange(5), heap, nbytes, offsets,
                            np.zeros((20, 48), np.int16)[:, ::2], (0, 0))
    with pytest.raises(ValueError, match="not inside out"):
        _tiles.decode_tiles(codec, data.shape, tile, np.arange(5), heap, nbytes, offsets,
                            ok, (1, 0))
    with pytest.raises(ValueError, match="outside"):
        _tiles.decode_tiles(codec, data.shape, tile, [5], heap, nbytes[:1], offsets[:1], ok,
                            (0, 0))
    with pytest.raises(ValueError, match="one entry per tile"):
        _tiles.decode_tiles(codec, data.shape, tile, np.arange(5), heap, nbytes[:4], offsets,
                            ok, (0, 0))
    with pytest.raises(ValueError, match="integer"):
        _tiles.decode_tiles(codec, data.shape, tile, np.arange(5.0), heap, nbytes, offsets,
                            ok, (0, 0))
    quantized = _tiles.Codec("RICE_1", -32, quantize_level=4)
    with pytest.raises(ValueError, match="zscale"):
        _tiles.decode_tiles(quantized, data.shape, tile, np.arange(5), heap, nbytes, offsets,
                            ok.astype(np.float32), (0, 0))
    with pytest.raises(ValueError, match="both or neither"):
        _tiles.decode_tiles(codec, data.shape, tile, np.arange(5), heap, nbytes, offsets, ok,
                            (0, 0), gzip_nbytes=nbytes)


def test_descriptors_outside_the_heap():
    codec, data, tile, enc = _encoded()
    for nbytes, offsets in ((enc.nbytes + 1, enc.offsets + len(enc.data) - enc.nbytes),
                            (enc.nbytes, enc.offsets - 1 - enc.offsets.max()),
                            (enc.nbytes * 0 + 2**62, enc.offsets),
                            (enc.nbytes * 0 - 1, enc.offsets)):
        with pytest.raises(FITSError, match=r"decoding tile 0: .* outside the heap"):
            _decode(codec, data, tile, enc.data, nbytes, offsets)


@pytest.mark.parametrize("zcmptype, dtype, kwargs", [
    ("RICE_1", np.uint8, {}), ("RICE_1", np.int16, {}), ("RICE_1", np.int32, {}),
    ("GZIP_1", np.int16, {}), ("GZIP_2", np.int32, {}), ("HCOMPRESS_1", np.int16, {}),
    ("HCOMPRESS_1", np.int32, {}), ("PLIO_1", np.int16, {}),
    ("RICE_1", np.float32, {"quantize_level": 4}),
])
def test_corrupt_and_truncated_tiles(zcmptype, dtype, kwargs):
    tile = (8, 12) if zcmptype == "HCOMPRESS_1" else (4, 24)
    codec, data, tile, enc = _encoded(zcmptype, dtype, tile=tile, **kwargs)
    extra = {"zscale": enc.zscale, "zzero": enc.zzero} if enc.zscale is not None else {}
    decoded = _decode(codec, data, tile, enc.data, enc.nbytes, enc.offsets, **extra)
    # quantized: off by at most half a step (the noise, 10, over the level, 4)
    assert np.abs(decoded - data).max() < 2 if kwargs else np.array_equal(decoded, data)
    # truncated: the last tile loses most of its bytes
    nbytes = enc.nbytes.copy()
    nbytes[-1] //= 3
    with pytest.raises(FITSError, match=f"tile {len(nbytes) - 1}:") as info:
        _decode(codec, data, tile, enc.data, nbytes, enc.offsets, **extra)
    assert info.value.status == 414
    # no bytes at all
    nbytes[-1] = 0
    with pytest.raises(FITSError, match="no compressed data"):
        _decode(codec, data, tile, enc.data, nbytes, enc.offsets, **extra)


def test_wrong_sizes_of_stored_tiles():
    codec, data, tile, _ = _encoded("GZIP_1", np.int16)
    # 4-byte values are accepted for a 16-bit image (CFITSIO tells widths apart by size)...
    wide = _tiles.encode_tiles(_tiles.Codec("GZIP_1", 32), data.astype(np.int32), tile,
                               np.arange(5))
    assert np.array_equal(_decode(codec, data, tile, wide.data, wide.nbytes, wide.offsets),
                          data)
    # ...as long as they fit
    wide = _tiles.encode_tiles(_tiles.Codec("GZIP_1", 32), data.astype(np.int32) * 100000,
                               tile, np.arange(5))
    with pytest.raises(FITSError, match="tile 0: decoded values do not fit"):
        _decode(codec, data, tile, wide.data, wide.nbytes, wide.offsets)
    packer = zlib.compressobj(wbits=31)
    odd = np.frombuffer(packer.compress(bytes(96 * 3)) + packer.flush(), np.uint8)
    with pytest.raises(FITSError, match="tile 0: the gzip stream decompresses to the wrong"):
        _decode(codec, data, tile, odd, np.full(5, len(odd)), np.zeros(5, np.int64))
    raw = _tiles.Codec("NOCOMPRESS", 16)
    with pytest.raises(FITSError, match="tile 0: the uncompressed tile has the wrong size"):
        _decode(raw, data, tile, np.zeros(100, np.uint8), np.zeros(5, np.int64),
                np.zeros(5, np.int64), raw_nbytes=np.full(5, 7), raw_offsets=np.zeros(5, np.int64))


def test_fuzz_decoders_never_crash():
    """Random and mutated bytes into every decoder: FITSError or pixels, never a crash."""
    rng = np.random.default_rng(11)
    setups = [("RICE_1", np.uint8, (4, 24), {}), ("RICE_1", np.int16, (4, 24), {}),
              ("RICE_1", np.int32, (4, 24), {}), ("GZIP_2", np.int16, (4, 24), {}),
              ("HCOMPRESS_1", np.int16, (8, 12), {}), ("HCOMPRESS_1", np.int32, (8, 12), {}),
              ("PLIO_1", np.int16, (4, 24), {}),
              ("RICE_1", np.float32, (4, 24), {"quantize_level": 4})]
    failures = 0
    for zcmptype, dtype, tile, kwargs in setups:
        codec, data, tile, enc = _encoded(zcmptype, dtype, tile=tile, **kwargs)
        extra = {"zscale": enc.zscale[:1], "zzero": enc.zzero[:1]} if kwargs else {}
        valid = enc.data[enc.offsets[0]:enc.offsets[0] + enc.nbytes[0]]
        for case in range(60):
            if case < 20:
                blob = rng.integers(0, 256, rng.integers(1, 400), dtype=np.uint8)
            elif case < 40:
                blob = valid.copy()
                spots = rng.integers(0, len(blob), rng.integers(1, 6))
                blob[spots] = rng.integers(0, 256, len(spots), dtype=np.uint8)
            else:
                blob = valid[:rng.integers(1, len(valid))].copy()
                if case % 2:
                    blob = np.concatenate([blob, np.zeros(rng.integers(0, 9), np.uint8)])
            if zcmptype == "PLIO_1" and len(blob) % 2:
                blob = blob[:-1] if len(blob) > 1 else np.zeros(2, np.uint8)
            out = np.zeros(data.shape, codec.dtype)
            try:
                _tiles.decode_tiles(codec, data.shape, tile, [0], blob, [len(blob)], [0],
                                    out, (0, 0), **extra)
            except FITSError as exc:
                assert "decoding tile 0" in str(exc)
                failures += 1
    assert failures > 200


# ---------------------------------------------------------------------------------------------
# Threads

def test_threads_give_the_same_result():
    data = noisy((300, 200), np.float32, 50, 3, seed=8)
    data[::7, ::5] = np.nan
    codec = _tiles.Codec("RICE_1", -32, quantize_level=4, zdither0=1234)
    tiles = np.arange(300 // 8 * 2 + 2)
    results = [_tiles.encode_tiles(codec, data, (8, 100), tiles, threads=t) for t in (1, 2, 5)]
    for other in results[1:]:
        assert other.data.tobytes() == results[0].data.tobytes()
        assert np.array_equal(other.offsets, results[0].offsets)
        assert np.array_equal(other.zscale, results[0].zscale)
    enc = results[0]
    decoded = []
    for threads in (1, 2, 5, 0):
        out = np.zeros(data.shape, np.float32)
        _tiles.decode_tiles(codec, data.shape, (8, 100), tiles, enc.data, enc.nbytes,
                            enc.offsets, out, (0, 0), zscale=enc.zscale, zzero=enc.zzero,
                            zblank=np.full(len(tiles), -2147483647), threads=threads)
        decoded.append(out)
    for out in decoded[1:]:
        assert out.tobytes() == decoded[0].tobytes()
    assert np.isnan(decoded[0][::7, ::5]).all()
    assert np.nanmax(abs(decoded[0] - data)) < 1


def test_decoding_releases_the_gil():
    """A second Python thread runs while one decode_tiles call is under way (holding the GIL
    through the call would leave it no moment to run until the call returns)."""
    data = noisy((256, 1024), np.int32, 0, 1e6, seed=9)
    codec = _tiles.Codec("GZIP_2", 32, gzip_level=6)
    enc = _tiles.encode_tiles(codec, data, (16, 1024), np.arange(16))
    repeats = 40                        # one call decoding each tile many times: ~0.2 s
    tiles = np.tile(np.arange(16), repeats)
    out = np.zeros_like(data)
    stamps = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            stamps.append(time.perf_counter())

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        time.sleep(0.01)
        started = time.perf_counter()
        _tiles.decode_tiles(codec, data.shape, (16, 1024), tiles, enc.data,
                            np.tile(enc.nbytes, repeats), np.tile(enc.offsets, repeats), out,
                            (0, 0), threads=1)
        ended = time.perf_counter()
    finally:
        stop.set()
        ticker.join()
    assert np.array_equal(out, data)
    margin = (ended - started) / 4
    inside = [t for t in stamps if started + margin < t < ended - margin]
    assert len(inside) > 100, (len(inside), ended - started)


def test_many_callers_at_once():
    codec, data, tile, enc = _encoded("HCOMPRESS_1", np.int16, shape=(64, 48), tile=(8, 48))
    n = len(enc.nbytes)

    def decode(_):
        out = np.zeros(data.shape, np.int16)
        _tiles.decode_tiles(codec, data.shape, tile, np.arange(n), enc.data, enc.nbytes,
                            enc.offsets, out, (0, 0), threads=2)
        return out

    with ThreadPoolExecutor(4) as pool:
        for out in pool.map(decode, range(8)):
            assert np.array_equal(out, data)


# ---------------------------------------------------------------------------------------------
# TileTable: boxes of a few tiles

class Heap:
    """The read callback of TileTable.read_box over an in-memory heap; records its calls."""

    def __init__(self, heap: np.ndarray) -> None:
        self.heap = heap
        self.calls: list[tuple[list, list]] = []

    def __call__(self, offsets, sizes, out) -> None:
        self.calls.append((list(offsets), list(sizes)))
        out[:] = np.concatenate([self.heap[o:o + n] for o, n in zip(offsets, sizes)])


class Cache:
    """What TileTable.read_box needs of a tile cache: a dict with used, capacity, get, put."""

    def __init__(self, capacity: int = 1 << 20) -> None:
        self.capacity = capacity
        self.tiles: dict[int, np.ndarray] = {}

    @property
    def used(self) -> int:
        return sum(t.nbytes for t in self.tiles.values())

    def get(self, number: int):
        return self.tiles.get(number)

    def put(self, number: int, tile: np.ndarray) -> None:
        self.tiles[number] = tile


def _columns(enc) -> dict:
    """Encoded tiles as the table's descriptor columns: COMPRESSED_DATA, and the GZIP and
    UNCOMPRESSED columns when some tile went there."""
    columns = {}
    for code, prefix in ((0, ""), (1, "gzip_"), (2, "raw_")):
        chosen = enc.column == code
        if code == 0 or chosen.any():
            columns[f"{prefix}nbytes"] = np.where(chosen, enc.nbytes, 0)
            columns[f"{prefix}offsets"] = np.where(chosen, enc.offsets, 0)
    if enc.zscale is not None:
        columns.update(zscale=enc.zscale, zzero=enc.zzero)
    return columns


def _table(codec, data, tile, enc, **kwargs) -> _tiles.TileTable:
    columns = {**_columns(enc), **kwargs}
    return _tiles.TileTable(codec, data.shape, tile, len(enc.data), columns.pop("nbytes"),
                            columns.pop("offsets"), **columns)


def _box(table, key, shape, dtype, heap, cache=None):
    """read_box of the numpy basic slice ``key`` (positive steps) of an image of ``shape``."""
    ranges = [range(*k.indices(n)) for k, n in zip(key, shape)]
    out = np.full([len(r) for r in ranges], 99, dtype)
    table.read_box([r.start for r in ranges], [r.step for r in ranges], out, heap, cache)
    return out


BOX_SETUPS = [
    ("RICE_1", np.uint8, {}), ("RICE_1", np.int16, {}), ("RICE_1", np.int32, {}),
    ("GZIP_1", np.int64, {}), ("GZIP_2", np.int16, {}), ("HCOMPRESS_1", np.int16, {}),
    ("PLIO_1", np.int32, {}), ("GZIP_2", np.float64, {}), ("NOCOMPRESS", np.int32, {}),
    ("RICE_1", np.float32, {"quantize_level": 4, "zdither0": 7}),
    ("GZIP_1", np.float64, {"quantize_level": 8, "quantize_method": "SUBTRACTIVE_DITHER_2"}),
]


@pytest.mark.parametrize("zcmptype, dtype, kwargs", BOX_SETUPS,
                         ids=lambda v: getattr(v, "__name__", None) or str(v or ""))
def test_read_box_matches_whole_decoding(zcmptype, dtype, kwargs):
    """Boxes inside one tile, across tile edges, into the clipped edge tiles, with steps:
    the pixels a whole-image decode gives, from a single read of just their tiles' bytes."""
    shape, tile = (37, 45), (8, 12)           # a 5 x 4 grid with clipped last row and column
    data = noisy(shape, np.float64, 100, 10, seed=3)
    if dtype in (np.float32, np.float64):
        data[3, 4] = np.nan                   # a null pixel; with DITHER_2 an exact zero too
        data[30, 40] = 0.0
        data[8:16, 12:24] = 5.0               # quantized: a constant tile is kept losslessly
    data = data.astype(dtype)
    codec = _tiles.Codec(zcmptype, {1: 8, 2: 16, 4: 32, 8: 64}[data.itemsize]
                         * (-1 if data.dtype.kind == "f" else 1), **kwargs)
    ntiles = 5 * 4
    enc = _tiles.encode_tiles(codec, data, tile, np.arange(ntiles))
    zblank = {"zblank": np.full(ntiles, -2147483647)} if enc.zscale is not None else {}
    table = _table(codec, data, tile, enc, **zblank)
    whole = np.zeros(shape, codec.dtype)
    columns = _columns(enc)
    _tiles.decode_tiles(codec, shape, tile, np.arange(ntiles), enc.data,
                        columns.pop("nbytes"), columns.pop("offsets"), whole, (0, 0),
                        **columns, **zblank)
    if kwargs:
        assert np.isnan(whole[3, 4]) and np.nanmax(abs(whole - data)) < 3
        assert enc.column[5] == 1 and (whole[8:16, 12:24] == 5).all()
    else:
        assert np.array_equal(whole, data, equal_nan=True)
    for key in [(slice(2, 6), slice(3, 9)), (slice(5, 20), slice(10, 30)),
                (slice(30, 37), slice(40, 45)), (slice(0, 37), slice(0, 45)),
                (slice(1, 37, 3), slice(2, 45, 7)), (slice(36, 37), slice(0, 45, 44)),
                (slice(7, 9), slice(11, 13))]:
        heap = Heap(enc.data)
        got = _box(table, key, shape, codec.dtype, heap)
        assert got.tobytes() == whole[key].tobytes(), key
        assert len(heap.calls) == 1
    # one tile: only its bytes are read
    heap = Heap(enc.data)
    _box(table, (slice(9, 12), slice(13, 20)), shape, codec.dtype, heap)
    assert heap.calls == [([int(enc.offsets[5])], [int(enc.nbytes[5])])]


def test_read_box_uses_and_fills_the_cache():
    codec, data, tile, enc = _encoded("RICE_1", np.int16, shape=(20, 30), tile=(8, 12))
    table = _table(codec, data, tile, enc)
    cache = Cache()
    heap = Heap(enc.data)
    assert np.array_equal(_box(table, (slice(5, 10), slice(10, 14)), data.shape, np.int16,
                               heap, cache), data[5:10, 10:14])
    assert sorted(cache.tiles) == [0, 1, 3, 4]
    assert np.array_equal(cache.tiles[4], data[8:16, 12:24])
    # cached tiles are not read again: only tile 5 (clipped to 8 x 6) is
    calls = len(heap.calls)
    assert np.array_equal(_box(table, (slice(9, 12), slice(20, 30)), data.shape, np.int16,
                               heap, cache), data[9:12, 20:30])
    assert heap.calls[calls:] == [([int(enc.offsets[5])], [int(enc.nbytes[5])])]
    assert cache.tiles[5].shape == (8, 6)
    # a box of cached tiles only reads nothing; a cached tile may be any view
    cache.tiles[0] = np.asfortranarray(data[:8, :12])
    calls = len(heap.calls)
    assert np.array_equal(_box(table, (slice(0, 16, 2), slice(0, 24, 5)), data.shape,
                               np.int16, heap, cache), data[0:16:2, 0:24:5])
    assert len(heap.calls) == calls
    # capacity 0: nothing kept
    empty = Cache(capacity=0)
    _box(table, (slice(0, 20), slice(0, 30)), data.shape, np.int16, Heap(enc.data), empty)
    assert empty.tiles == {}
    # a cached tile of the wrong shape or type is refused
    cache.tiles[1] = np.zeros((8, 11), np.int16)
    with pytest.raises(ValueError, match="cached tile 1"):
        _box(table, (slice(0, 2), slice(12, 14)), data.shape, np.int16, heap, cache)


def test_read_box_arguments():
    codec, data, tile, enc = _encoded("RICE_1", np.int16, shape=(20, 30), tile=(4, 10))
    table = _table(codec, data, tile, enc)
    heap = Heap(enc.data)
    out = np.zeros((20, 30), np.int16)
    table.read_box((0, 0), (1, 1), out, heap)
    assert np.array_equal(out, data)
    view = np.zeros((10, 40), np.int16)[::2, ::4]         # any strides
    table.read_box((3, 2), (2, 3), view, heap)
    assert np.array_equal(view, data[3:13:2, 2:30:3])
    calls = len(heap.calls)
    table.read_box((5, 5), (1, 1), np.zeros((0, 3), np.int16), heap)
    assert len(heap.calls) == calls
    with pytest.raises(ValueError, match="dtype int16"):
        table.read_box((0, 0), (1, 1), np.zeros((2, 2), np.int32), heap)
    with pytest.raises(ValueError, match="not inside the image"):
        table.read_box((19, 0), (1, 1), np.zeros((2, 2), np.int16), heap)
    with pytest.raises(ValueError, match="not inside the image"):
        table.read_box((0, 0), (0, 1), np.zeros((2, 2), np.int16), heap)
    with pytest.raises(ValueError, match="entries"):
        table.read_box((0,), (1,), np.zeros((2, 2), np.int16), heap)
    frozen = np.zeros((2, 2), np.int16)
    frozen.setflags(write=False)
    with pytest.raises(ValueError, match="writeable"):
        table.read_box((0, 0), (1, 1), frozen, heap)
    with pytest.raises(ValueError, match="entry for each"):
        _tiles.TileTable(codec, data.shape, tile, len(enc.data), enc.nbytes[:3], enc.offsets)
    with pytest.raises(ValueError, match="zscale"):
        _tiles.TileTable(_tiles.Codec("RICE_1", -32, quantize_level=4), data.shape, tile,
                         len(enc.data), enc.nbytes, enc.offsets)


def test_read_box_bad_tiles():
    codec, data, tile, enc = _encoded("RICE_1", np.int16, shape=(20, 24), tile=(4, 24))
    nbytes, offsets = enc.nbytes.copy(), enc.offsets.copy()
    nbytes[1] //= 3                               # truncated
    offsets[2] = len(enc.data) - nbytes[2] + 1    # one byte past the heap's end
    table = _tiles.TileTable(codec, data.shape, tile, len(enc.data), nbytes, offsets)
    heap = Heap(enc.data)
    assert np.array_equal(_box(table, (slice(0, 4), slice(0, 24)), data.shape, np.int16,
                               heap), data[:4])
    with pytest.raises(FITSError, match="decoding tile 1: the Rice stream") as info:
        _box(table, (slice(4, 5), slice(0, 3)), data.shape, np.int16, heap)
    assert info.value.status == 414
    calls = len(heap.calls)
    with pytest.raises(FITSError, match=r"decoding tile 2: .* outside the heap"):
        _box(table, (slice(8, 9), slice(0, 3)), data.shape, np.int16, heap)
    assert len(heap.calls) == calls               # refused before reading


def _cfitsio_rice():
    """CFITSIO's own Rice coder and decoders, from the module that links them."""
    import ctypes

    lib = ctypes.CDLL(_tiles.__file__)
    names = {1: ("fits_rcomp_byte", "fits_rdecomp_byte"),
             2: ("fits_rcomp_short", "fits_rdecomp_short"), 4: ("fits_rcomp", "fits_rdecomp")}
    try:
        return {k: (getattr(lib, a), getattr(lib, b)) for k, (a, b) in names.items()}
    except AttributeError:
        pytest.skip("this build does not export CFITSIO's Rice routines")


def test_rice_decoder_matches_cfitsio():
    """fitsbind's Rice decoder against CFITSIO's on streams of every width and block size,
    valid and damaged: the same pixels, and a failure exactly where CFITSIO fails (apart from
    block codes no coder writes, which only fitsbind refuses)."""
    import ctypes

    routines = _cfitsio_rice()
    rng = np.random.default_rng(5)
    ptr = ctypes.c_void_p
    same = refused = both = 0
    for case in range(1500):
        bytepix = int(rng.choice([1, 2, 4]))
        blocksize = int(rng.choice([16, 32]))
        nx = int(rng.integers(1, 2000))
        signed = {1: np.int8, 2: np.int16, 4: np.int32}[bytepix]
        info = np.iinfo(signed)
        style = case % 4
        if style == 0:                # white noise over the whole range: raw blocks
            values = rng.integers(info.min, info.max, nx, endpoint=True)
        elif style == 1:              # constant: all-zero blocks
            values = np.full(nx, rng.integers(info.min, info.max))
        elif style == 2:              # noise with outliers: long runs of zeros
            values = rng.normal(0, 5, nx)
            values[rng.random(nx) < 0.03] = info.max // 2
        else:
            values = rng.normal(0, rng.choice([1, 30, 3000]), nx)
        values = np.clip(values, info.min, info.max).astype(signed)
        encode, decode = routines[bytepix]
        buffer = np.zeros(nx * bytepix * 2 + 64, np.uint8)
        n = encode(values.ctypes.data_as(ptr), nx, buffer.ctypes.data_as(ptr), len(buffer),
                   blocksize)
        stream = buffer[:n].copy()
        if case % 3 == 1:
            stream = stream[:rng.integers(bytepix, len(stream) + 1)]
        elif case % 3 == 2:
            stream[rng.integers(0, len(stream), 3)] ^= rng.integers(1, 256, 3).astype(np.uint8)
        padded = np.concatenate([stream, np.full(8 * blocksize + 64, 0xFF, np.uint8)])
        expected = np.zeros(nx, values.dtype)
        failed = decode(padded.ctypes.data_as(ptr), len(stream), expected.ctypes.data_as(ptr),
                        nx, blocksize) != 0
        codec = _tiles.Codec("RICE_1", 8 * bytepix, blocksize=blocksize, bytepix=bytepix)
        got = np.zeros(nx, codec.dtype)
        try:
            _tiles.decode_tiles(codec, (nx,), (nx,), [0], stream, [len(stream)], [0], got,
                                (0,))
        except FITSError:
            assert failed or bytepix == 4, case
            refused += not failed
            both += failed
            continue
        assert not failed, case
        assert got.view(expected.dtype).tobytes() == expected.tobytes(), case
        same += 1
    assert same > 600 and both > 300 and refused < 15


def test_read_box_from_many_threads():
    """Threads reading boxes of one table at once (one uses its scratch buffers, the others
    their own) all get the right pixels."""
    codec, data, tile, enc = _encoded("RICE_1", np.int32, shape=(96, 96), tile=(16, 16))
    table = _table(codec, data, tile, enc)
    rng = np.random.default_rng(3)
    corners = rng.integers(0, 80, (400, 2))

    def stamps(part):
        for y, x in corners[part::4]:
            got = _box(table, (slice(y, y + 16), slice(x, x + 16)), data.shape, np.int32,
                       Heap(enc.data))
            assert np.array_equal(got, data[y:y + 16, x:x + 16])
        return True

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(stamps, range(4)))
