"""The seed files mutants are made from, written deterministically from a seed (never downloaded).

Every file is a few KB to ~100 KB. Most are written by fitsbind's direct tier; tile-compressed
images are also written by astropy (when importable) and by CFITSIO's ``fpack`` (when on PATH),
because their writers lay out tiles and cards differently. Checksum cards get a fixed comment
and are recomputed, so the same seed gives the same bytes whenever the corpus is made.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import fitsbind
from fitsbind import checksum
from fitsbind.direct import (
    ColumnSpec,
    Gzip1,
    Gzip2,
    Hcompress1,
    Plio1,
    Quantize,
    Rice1,
    compress_table,
)
from fitsfuzz.layout import CARD, parse_hdus


@dataclass(frozen=True)
class Seed:
    """A corpus file: ``name`` (ends in .gz for gzip-wrapped ones) and its FITS bytes
    (``data``, uncompressed)."""

    name: str
    data: bytes

    @property
    def gz(self) -> bool:
        return self.name.endswith(".gz")


# -- fitsbind-written files ---------------------------------------------------------------------

def _images(rng: np.random.Generator, f: fitsbind.FITS) -> None:
    """A 0-d primary and one image per BITPIX, plus the BZERO (unsigned) and int8 types."""
    f.create_image_hdu(np.uint8, ())
    f.write_image(rng.integers(0, 255, (12, 17), dtype=np.uint8), extname="U8")
    f.write_image(rng.integers(-3000, 3000, (9, 11), dtype=np.int16), extname="I16")
    f.write_image(rng.integers(-2**31, 2**31 - 1, (4, 5, 6), dtype=np.int32), extname="I32")
    f.write_image(rng.integers(-2**62, 2**62, (40,), dtype=np.int64), extname="I64")
    f.write_image(rng.normal(0, 1, (10, 13)).astype(np.float32), extname="F32")
    f.write_image(rng.normal(0, 1e5, (7, 3, 5)), extname="F64")


def _unsigned(rng: np.random.Generator, f: fitsbind.FITS) -> None:
    f.create_image_hdu(np.uint8, ())
    for dtype in (np.uint16, np.uint32, np.uint64, np.int8):
        info = np.iinfo(dtype)
        f.write_image(rng.integers(info.min, info.max, (8, 9), dtype=dtype),
                      extname=np.dtype(dtype).name.upper())


def _scaled(rng: np.random.Generator, f: fitsbind.FITS) -> None:
    """BSCALE/BZERO images of every integer BITPIX, one with BLANK pixels, as the primary HDU."""
    values = rng.uniform(-100, 100, (15, 16))
    f.write_image(values, dtype=np.int16, header=[("BSCALE", 0.01), ("BZERO", 3.5)], blank=-32768)
    f.write_image(values, dtype=np.uint8, header=[("BSCALE", 1.0), ("BZERO", -100.0)], extname="B8")
    f.write_image(values, dtype=np.int32, header=[("BSCALE", 1e-6), ("BZERO", 0.0)], extname="B32")
    f.write_image(values, dtype=np.int64, header=[("BSCALE", 2.0), ("BZERO", 7.0)], extname="B64")
    blanked = rng.integers(-50, 50, (6, 7), dtype=np.int32)
    blanked[::3, ::2] = -999
    f.write_image(blanked, blank=-999, extname="BLANKED")
    f[0].add_checksum()


def _binary_table(rng: np.random.Generator, f: fitsbind.FITS, nrows: int = 23) -> None:
    """Every TFORM type, vector and TDIM cells, TSCAL/TZERO, TNULL, P and Q heap columns."""
    lengths = rng.integers(0, 9, nrows)
    data = {
        "FLAG": rng.integers(0, 2, nrows).astype(bool),
        "BITS": rng.integers(0, 2, (nrows, 13)).astype(bool),
        "BYTE": rng.integers(0, 255, nrows, dtype=np.uint8),
        "SHORT": rng.integers(-300, 300, nrows, dtype=np.int16),
        "INT": rng.integers(-10**6, 10**6, nrows, dtype=np.int32),
        "LONG": rng.integers(-10**12, 10**12, nrows, dtype=np.int64),
        "NAME": np.array([f"obj{i:03d}" for i in range(nrows)], dtype="S10"),
        "FLUX": rng.normal(0, 1, nrows).astype(np.float32),
        "DFLUX": rng.normal(0, 1, nrows),
        "CPLX": (rng.normal(size=nrows) + 1j * rng.normal(size=nrows)).astype(np.complex64),
        "DCPLX": rng.normal(size=nrows) + 1j * rng.normal(size=nrows),
        "VEC": rng.integers(0, 100, (nrows, 3), dtype=np.int32),
        "CUBE": rng.normal(size=(nrows, 2, 3)).astype(np.float32),
        "SCALED": rng.integers(-100, 100, nrows, dtype=np.int16),
        "NULLED": rng.integers(-5, 5, nrows, dtype=np.int32),
        "VARJ": [rng.integers(0, 50, n, dtype=np.int32) for n in lengths],
        "VARD": [rng.normal(size=n) for n in lengths[::-1]],
    }
    columns = [ColumnSpec("FLAG", "L"), ColumnSpec("BITS", "13X"), ColumnSpec("BYTE", "B"),
               ColumnSpec("SHORT", "I"), ColumnSpec("INT", "J"), ColumnSpec("LONG", "K"),
               ColumnSpec("NAME", "10A"), ColumnSpec("FLUX", "E", unit="Jy"),
               ColumnSpec("DFLUX", "D"), ColumnSpec("CPLX", "C"), ColumnSpec("DCPLX", "M"),
               ColumnSpec("VEC", "3J"), ColumnSpec("CUBE", "6E", dim=(2, 3)),
               ColumnSpec("SCALED", "I", scale=0.5, zero=10.0), ColumnSpec("NULLED", "J", null=-3),
               ColumnSpec("VARJ", "PJ()"), ColumnSpec("VARD", "QD()")]
    f.write_table(data, columns=columns, extname="ALLTYPES")


def _ascii_table(rng: np.random.Generator, f: fitsbind.FITS, nrows: int = 19) -> None:
    data = {"NAME": np.array([f"star{i}" for i in range(nrows)], dtype="S8"),
            "COUNT": rng.integers(-9999, 99999, nrows, dtype=np.int32),
            "MAG": rng.uniform(-5, 25, nrows),
            "FLUX": rng.normal(0, 1e-3, nrows).astype(np.float32),
            "DIST": rng.uniform(0, 1e20, nrows)}
    columns = [ColumnSpec("NAME", "A8"), ColumnSpec("COUNT", "I6", null="*****"),
               ColumnSpec("MAG", "F10.3"), ColumnSpec("FLUX", "E12.4"),
               ColumnSpec("DIST", "D22.14")]
    f.write_table(data, columns=columns, ascii=True, extname="ASCII")


def _card(keyword: str, value: object) -> str:
    text = {True: "T", False: "F"}.get(value, repr(value)) if isinstance(value, bool) else (
        f"'{value:<8}'" if isinstance(value, str) else str(value))
    return f"{keyword:<8}= {text:>20}".ljust(CARD)


def _groups(rng: np.random.Generator, f: fitsbind.FITS) -> None:
    """Random groups: 5 groups of 3 parameters and a 4x2 float32 array, through the byte seam
    (the direct tier has no random-groups writer)."""
    cards = [("SIMPLE", True), ("BITPIX", -32), ("NAXIS", 3), ("NAXIS1", 0), ("NAXIS2", 2),
             ("NAXIS3", 4), ("GROUPS", True), ("PCOUNT", 3), ("GCOUNT", 5), ("PTYPE1", "UU"),
             ("PTYPE2", "VV"), ("PSCAL2", 2.0), ("PZERO2", 1.0), ("PTYPE3", "DATE")]
    f.append_hdu("".join(_card(k, v) for k, v in cards), rng.normal(size=5 * (3 + 8)).astype(">f4"))


def _compressed_images(rng: np.random.Generator, f: fitsbind.FITS) -> None:
    """Every algorithm fitsbind writes, on integers and on quantized (dithered) floats."""
    ints = rng.integers(0, 2000, (20, 24), dtype=np.int16)
    floats = (rng.normal(100, 5, (20, 24))).astype(np.float32)
    f.create_image_hdu(np.uint8, ())
    f.write_image(ints, compress=Rice1(tile_shape=(5, 24)), extname="RICE_I16")
    f.write_image(ints.astype(np.int32), compress=Gzip1(tile_shape=(10, 12)), extname="GZIP1_I32")
    f.write_image(ints.astype(np.uint16), compress=Gzip2(), extname="GZIP2_U16")
    f.write_image(ints, compress=Plio1(), extname="PLIO_I16")
    f.write_image(ints.astype(np.int32), compress=Hcompress1(), extname="HCOMP_I32")
    f.write_image(floats, compress=Rice1(), quantize=Quantize(4, "subtractive_dither_1", seed=7),
                  extname="RICE_F32")
    f.write_image(floats, compress=Hcompress1(scale=2), extname="HCOMP_F32",
                  quantize=Quantize(8, "subtractive_dither_1", seed=11))
    f.write_image(floats, compress=Rice1(), extname="RICE_F32_SD2",
                  quantize=Quantize(8, "subtractive_dither_2", seed=13))
    f.write_image(floats.astype(np.float64), compress=Gzip2(),
                  quantize=Quantize(-0.01, "no_dither", seed=5), extname="GZIP2_F64Q")
    f.write_image(floats, compress=Gzip1(), extname="GZIP1_F32_LOSSLESS")
    f.write_image(ints[:4, :5].astype(np.uint8), compress=Rice1(), extname="RICE_U8")


def _compressed_table(rng: np.random.Generator, path: Path, target: fitsbind.FITS) -> None:
    """A tile-compressed binary table (fpack -table layout) of ~12 KB of rows."""
    source = path.with_suffix(".src")
    nrows = 300
    with fitsbind.FITS(source, "w+") as f:
        hdu = f.write_table({"ID": np.arange(nrows, dtype=np.int32),
                             "X": rng.normal(size=nrows),
                             "NAME": np.array([f"n{i}" for i in range(nrows)], dtype="S6"),
                             "PAIR": rng.integers(0, 9, (nrows, 2), dtype=np.int16)},
                            extname="CTABLE", header=[("FZTILELN", 64)])
        compress_table(hdu, target)
    source.unlink()


def _writer(build: Callable[[np.random.Generator, fitsbind.FITS], None]
            ) -> Callable[[np.random.Generator, Path], None]:
    def write(rng: np.random.Generator, path: Path) -> None:
        with fitsbind.FITS(path, "w+") as f:
            build(rng, f)
    return write


def _multi(rng: np.random.Generator, path: Path) -> None:
    with fitsbind.FITS(path, "w+") as f:
        f.write_image(rng.integers(0, 100, (6, 8), dtype=np.int16))
        _binary_table(rng, f, nrows=7)
        _ascii_table(rng, f, nrows=5)
        f.write_image(rng.normal(size=(16, 16)).astype(np.float32), compress=Rice1(),
                      quantize=Quantize(4, seed=3), extname="CIMG")
        # not the compressed image: its ZHECKSUM covers a header that carries the time
        for hdu in list(f)[:-1]:
            hdu.add_checksum()
        _compressed_table(rng, path, f)


def _tables(rng: np.random.Generator, path: Path) -> None:
    with fitsbind.FITS(path, "w+") as f:
        _binary_table(rng, f)
        _ascii_table(rng, f)


def _ctable(rng: np.random.Generator, path: Path) -> None:
    with fitsbind.FITS(path, "w+") as f:
        _compressed_table(rng, path, f)


_FITSBIND = {
    "images.fits": _writer(_images),
    "unsigned.fits": _writer(_unsigned),
    "scaled.fits": _writer(_scaled),
    "tables.fits": _tables,
    "groups.fits": _writer(_groups),
    "compressed.fits": _writer(_compressed_images),
    "ctable.fits": _ctable,
    "multi.fits": _multi,
}


# -- other writers ------------------------------------------------------------------------------

def _astropy(rng: np.random.Generator, path: Path) -> bool:
    """Compressed images as astropy.io.fits writes them (all algorithms, NOCOMPRESS included)."""
    try:
        from astropy.io import fits
    except ImportError:
        return False
    ints = rng.integers(0, 500, (16, 20), dtype=np.int32)
    floats = rng.normal(10, 2, (16, 20)).astype(np.float32)
    hdus = [fits.PrimaryHDU()]
    for algorithm in ("RICE_1", "GZIP_1", "GZIP_2", "PLIO_1", "HCOMPRESS_1"):
        hdus.append(fits.CompImageHDU(ints, compression_type=algorithm, name=f"A_{algorithm}"))
    for method in ("SUBTRACTIVE_DITHER_1", "SUBTRACTIVE_DITHER_2", "NO_DITHER"):
        hdus.append(fits.CompImageHDU(floats, compression_type="RICE_1", quantize_method=
                                      {"SUBTRACTIVE_DITHER_1": 1, "SUBTRACTIVE_DITHER_2": 2,
                                       "NO_DITHER": -1}[method], dither_seed=42,
                                      name=f"A_{method}"))
    hdus.append(fits.BinTableHDU.from_columns(
        [fits.Column("V", "PE()", array=[floats[i, :i] for i in range(6)]),
         fits.Column("S", "4A", array=np.array([b"ab", b"cd", b"", b"x", b"yy", b"z"]))],
        name="A_TABLE"))
    fits.HDUList(hdus).writeto(path, overwrite=True)
    # a file of its own: fitsbind refuses NOCOMPRESS, which would hide mutants of the others
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(ints, compression_type="NOCOMPRESS")]
                 ).writeto(path.with_name("astropy-nocompress.fits"), overwrite=True)
    return True


def _fpack(rng: np.random.Generator, directory: Path) -> Iterator[Path]:
    """Files compressed by CFITSIO's fpack: every algorithm on integers and on floats."""
    if shutil.which("fpack") is None:
        return
    plain, ints = directory / "fpack-src.fits", directory / "fpack-ints.fits"
    with fitsbind.FITS(plain, "w+") as f, fitsbind.FITS(ints, "w+") as g:
        for out in (f, g):
            out.create_image_hdu(np.uint8, ())
            out.write_image(rng.integers(0, 3000, (24, 30), dtype=np.int16), extname="INTS")
        f.write_image(rng.normal(50, 3, (24, 30)).astype(np.float32), extname="FLOATS")
    # PLIO takes integer images only
    # -qt / -qzt: the dither seed from the first tile's checksum, not from the clock
    for name, options, source in (("rice", ["-r", "-qt", "4"], plain),
                                  ("gzip1", ["-g1", "-qt", "4"], plain),
                                  ("gzip2", ["-g2", "-qzt", "8"], plain), ("plio", ["-p"], ints),
                                  ("hcomp", ["-h", "-s", "4", "-qt", "4"], plain),
                                  ("lossless", ["-g", "-q", "0"], plain)):
        target = directory / f"fpack-{name}.fits"
        result = subprocess.run(["fpack", *options, "-S", str(source)], capture_output=True,
                                check=False)
        if result.returncode == 0 and result.stdout:
            target.write_bytes(result.stdout)
            yield target
    plain.unlink()
    ints.unlink()


# -- making the corpus deterministic -----------------------------------------------------------

def _deterministic(data: bytes) -> bytes:
    """``data`` made independent of when it was written: the MTIME of gzip members in heaps
    (GZIP tiles) set to 0, CHECKSUM/DATASUM comments (writers put the time there) replaced by
    fixed text, and both sums recomputed."""
    out = bytearray(data)
    for hdu in parse_hdus(data):
        if hdu.heap is not None:
            start, end = hdu.heap
            at = out.find(b"\x1f\x8b\x08", start, end)
            while at != -1 and at + 8 <= end:
                out[at + 4:at + 8] = bytes(4)
                at = out.find(b"\x1f\x8b\x08", at + 3, end)
        sums = {c.keyword: c.offset for c in hdu.cards if c.keyword in ("CHECKSUM", "DATASUM")}
        if hdu.end is None or not sums:
            continue
        padded_end = hdu.data_start + checksum.padded_length(hdu.data_end - hdu.data_start)
        datasum = checksum.ones_complement_sum(bytes(out[hdu.data_start:padded_end]))
        if "DATASUM" in sums:
            at = sums["DATASUM"]
            out[at:at + CARD] = f"DATASUM = {str(datasum)!r:<20} / data unit checksum".ljust(
                CARD).encode()
        if "CHECKSUM" in sums:
            at = sums["CHECKSUM"]
            out[at:at + CARD] = "CHECKSUM= '0000000000000000'   / HDU checksum".ljust(CARD).encode()
            total = checksum.ones_complement_sum(bytes(out[hdu.header_start:hdu.data_start]),
                                                 datasum)
            out[at + 11:at + 27] = checksum.encode(total).encode()
    return bytes(out)


def build(seed: int, directory: Path) -> list[Seed]:
    """Write the corpus for ``seed`` into ``directory``; return its files, sorted by name.
    Each writer draws from its own generator, so adding a writer leaves the others' files
    unchanged."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for number, (name, write) in enumerate(sorted(_FITSBIND.items())):
        path = directory / name
        write(np.random.default_rng([seed, number]), path)
        paths.append(path)
    path = directory / "astropy-compressed.fits"
    if _astropy(np.random.default_rng([seed, 100]), path):
        paths += [path, path.with_name("astropy-nocompress.fits")]
    paths.extend(_fpack(np.random.default_rng([seed, 101]), directory))
    seeds = [Seed(p.name, _deterministic(p.read_bytes())) for p in paths]
    # gzip-wrapped copies of a few, so both the gzip reader and mutants of it are exercised
    for name in ("images.fits", "tables.fits", "compressed.fits"):
        data = next(s.data for s in seeds if s.name == name)
        seeds.append(Seed(name + ".gz", data))
    for s in seeds:
        (directory / s.name).write_bytes(gzip.compress(s.data, mtime=0) if s.gz else s.data)
    return sorted(seeds, key=lambda s: s.name)
