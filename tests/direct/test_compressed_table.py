"""Tile-compressed tables (ZTABLE = T, ``fpack -table``) in the direct tier:
fitsbind.direct.CompressedTableHDU reads the table they hold.

Oracles: the uncompressed source file read with fitsbind's TableHDU (what funpack restores,
byte for byte), CFITSIO's funpack where it can read the table (it refuses complex columns and
crashes on PA and PM columns in 4.2.0, so those tables are compared with the source only),
and astropy for the drop-in layer, which keeps showing the compressed columns as astropy does.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fitsbind
from fitsbind import FITS, ColumnSpec
from fitsbind.cli.info import summary
from fitsbind.direct import CompressedTableHDU, TableHDU, compress_table
from fitsbind.direct.columns import spec_for
from fitsbind.errors import FITSError, FITSPermissionError, FITSValueError

NROWS = 1000


def needs(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (Debian package 'libcfitsio-bin')")


def table(n: int, *, funpackable: bool = False, seed: int = 0) -> tuple[dict, list[ColumnSpec]]:
    """Columns of every kind: (data by name, specs). ``funpackable`` leaves out the columns
    funpack 4.2.0 cannot restore (C, M, PA, PM)."""
    rng = np.random.default_rng(seed)

    def ragged(dtype: str, scale: float = 100.0) -> np.ndarray:
        cells = np.empty(n, object)
        for i in range(n):
            cells[i] = (rng.normal(size=int(rng.integers(0, 6))) * scale).astype(dtype)
        return cells

    logicals = np.empty(n, object)
    for i in range(n):
        logicals[i] = rng.integers(0, 2, i % 4).astype(bool)
    data = {
        "I": rng.integers(-2**15, 2**15, n).astype(np.int16),
        "J": rng.integers(-2**31, 2**31, n).astype(np.int32),
        "K": rng.integers(-2**63, 2**63, n, dtype=np.int64),
        "E": rng.normal(size=n).astype(np.float32),
        "D": rng.normal(size=n),
        "B": rng.integers(0, 256, n).astype(np.uint8),
        "L": rng.integers(0, 2, n).astype(bool),
        "A": np.array([f"s{i % 97}" * (i % 3) for i in range(n)], "S10"),
        "X": rng.integers(0, 2, (n, 12)).astype(bool),
        "V3J": rng.integers(-1000, 1000, (n, 3)).astype(np.int32),
        "T23": rng.normal(size=(n, 2, 3)).astype(np.float32),
        "SCL": rng.integers(0, 1000, n).astype(np.int32),
        "U16": rng.integers(0, 2**16, n).astype(np.uint16),
        "U32": rng.integers(0, 2**32, n).astype(np.uint32),
        "U64": rng.integers(0, 2**64, n, dtype=np.uint64),
        "S8": rng.integers(-128, 128, n).astype(np.int8),
        "NUL": np.where(rng.random(n) < 0.1, -999, rng.integers(0, 100, n)).astype(np.int32),
        "PJ": ragged("i4"),
        "PE": ragged("f4"),
        "PI": ragged("i2"),
        "PB": ragged("u1", 50.0),
        "PL": logicals,
        "QD": ragged("f8"),
        "PK": ragged("i8"),
    }
    data["E"][::17] = np.nan
    if not funpackable:
        data["C"] = (rng.normal(size=n) + 1j * rng.normal(size=n)).astype(np.complex64)
        data["M"] = rng.normal(size=n) + 1j * rng.normal(size=n)
        data["PA"] = np.array(["ab" * (i % 4) for i in range(n)], object)
        data["PM"] = ragged("c16")
    special = {"SCL": ColumnSpec("SCL", "J", scale=0.5, zero=10.0, unit="adu"),
               "NUL": ColumnSpec("NUL", "J", null=-999), "X": ColumnSpec("X", "12X"),
               "QD": ColumnSpec("QD", "QD()")}
    return data, [special.get(k) or spec_for(k, v) for k, v in data.items()]


def write_source(path: Path, n: int = NROWS, *, funpackable: bool = False,
                 header: dict | None = None, images: bool = False) -> Path:
    data, specs = table(n, funpackable=funpackable)
    with FITS(path, "w+") as f:
        if images:
            f.write_image(np.arange(64 * 64, dtype=np.int16).reshape(64, 64))
            f.write_image(np.arange(64 * 64, dtype=np.int16).reshape(64, 64))
        f.write_table(data, columns=specs, extname="CAT", header=header)
    return path


def fpack(source: Path, *options: str) -> Path:
    needs("fpack")
    packed = source.with_name(source.name + ".fz")
    subprocess.run(["fpack", *(options or ("-table",)), "-O", str(packed), str(source)],
                   check=True, capture_output=True)
    return packed


def funpack(packed: Path) -> Path:
    needs("funpack")
    out = packed.with_name("funpacked_" + packed.name.removesuffix(".fz"))
    subprocess.run(["funpack", "-O", str(out), str(packed)], check=True, capture_output=True,
                   timeout=60)
    return out


def same(a, b) -> bool:
    """Equal values, dtypes, shapes and masks (NaN equal to NaN), recursing into structured
    fields and the cells of object arrays."""
    if isinstance(a, np.ma.MaskedArray) or isinstance(b, np.ma.MaskedArray):
        return (isinstance(a, np.ma.MaskedArray) and isinstance(b, np.ma.MaskedArray)
                and same(a.data, b.data) and np.array_equal(a.mask, b.mask))
    if isinstance(a, bytes) or isinstance(b, bytes):
        return a == b
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.names:
        return all(same(a[n], b[n]) for n in a.dtype.names)
    if a.dtype == object:
        return all(same(x, y) for x, y in zip(a.ravel(), b.ravel()))
    return np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


READS = [
    {},
    {"rows": slice(120, 140)},                        # crosses the tile boundary at 128
    {"rows": slice(990, NROWS)},                      # the last, partial tile
    {"rows": [999, 3, 3, -1, 500, 128, 127]},         # any order, repeats, negative
    {"rows": slice(5, 900, 37)},
    {"rows": np.arange(NROWS) % 3 == 0},
    {"rows": []},
    {"columns": ["PJ", "E", "X", "U64"], "rows": slice(100, 300)},
    {"columns": "T23"},
    {"mask_null": True, "rows": slice(0, 400)},
    {"scale": False, "columns": ["SCL", "U16", "E", "PE"]},
    {"vla": "padded", "columns": ["PJ", "QD", "PL"]},
    {"vla": "masked", "columns": ["PE", "PB"], "rows": slice(250, 260)},
    {"where": "J > 0 && E < 0.5 && NUL != -999", "columns": ["J", "PK"]},
]


def check_reads(packed: TableHDU, plain: TableHDU) -> None:
    assert isinstance(packed, CompressedTableHDU) and isinstance(packed, TableHDU)
    assert (packed.nrows, packed.ncols, packed.rowsize) == (plain.nrows, plain.ncols,
                                                              plain.rowsize)
    assert packed.columns == plain.columns and packed.colnames == plain.colnames
    assert packed.formats == plain.formats and packed.dtype == plain.dtype
    assert packed.column("scl") == plain.column("scl")
    for kwargs in READS:
        assert same(packed.read(**kwargs), plain.read(**kwargs)), kwargs
    assert same(packed["PE"][125:131], plain["PE"][125:131])
    assert same(packed[["I", "A"]][[5, 1]], plain[["I", "A"]][[5, 1]])
    assert same(packed.read_column("U64", slice(0, 200)), plain.read_column("U64",
                                                                             slice(0, 200)))
    assert same(packed[129], plain[129]) and same(packed["X"][999], plain["X"][999])
    assert same(packed[-5:], plain[-5:])
    assert np.array_equal(packed.where("SCL > 300", rows=slice(0, 500)),
                          plain.where("SCL > 300", rows=slice(0, 500)))


# -- reading fpack files ---------------------------------------------------------------------------

def test_fpack_table_reads_as_the_source_and_funpack(tmp_path):
    source = write_source(tmp_path / "cat.fits", funpackable=True, header={"FZTILELN": 128})
    packed = fpack(source)
    restored = funpack(packed)
    with FITS(packed) as f, FITS(source) as s, FITS(restored) as u:
        hdu = f["CAT"]
        assert hdu.header["ZTILELEN"] == 128 and hdu.header["NAXIS2"] == 8
        assert (hdu.tile_rows, hdu.n_tiles) == (128, 8)
        assert hdu.compression["J"] == "RICE_1" and hdu.compression["D"] == "GZIP_2"
        check_reads(hdu, s["CAT"])
        check_reads(hdu, u["CAT"])
        assert same(u["CAT"].read(), s["CAT"].read())


def test_columns_funpack_cannot_restore(tmp_path):
    """C, M, PA and PM columns: fpack writes them, funpack 4.2.0 fails or crashes on them;
    fitsbind reads what fpack wrote."""
    source = write_source(tmp_path / "all.fits", header={"FZTILELN": 128})
    packed = fpack(source)
    with FITS(packed) as f, FITS(source) as s:
        hdu = f[1]
        assert hdu.compression["C"] == "GZIP_2" and hdu.compression["PA"] == "GZIP_1"
        check_reads(hdu, s[1])


@pytest.mark.parametrize("algorithm", ["GZIP_1", "GZIP_2", "RICE_1"])
def test_every_algorithm(tmp_path, algorithm):
    source = write_source(tmp_path / "a.fits", header={"FZTILELN": 100, "FZALGOR": algorithm})
    packed = fpack(source)
    with FITS(packed) as f, FITS(source) as s:
        used = f[1].compression
        # CFITSIO keeps the request where it suits the column type
        assert used["I"] == algorithm and used["PI"] == algorithm
        assert used["A"] == "GZIP_1"
        check_reads(f[1], s[1])


def test_per_column_algorithms(tmp_path):
    header = {"FZTILELN": 300, "FZALG1": "RICE_1", "FZALG2": "GZIP_1", "FZALG6": "RICE_1"}
    source = write_source(tmp_path / "c.fits", funpackable=True, header=header)
    packed = fpack(source)
    restored = funpack(packed)
    with FITS(packed) as f, FITS(restored) as u:
        assert [f[1].compression[k] for k in ("I", "J", "B")] == ["RICE_1", "GZIP_1", "RICE_1"]
        assert same(f[1].read(), u[1].read())


@pytest.mark.parametrize("tile", [1, 7, 700, 5000])
def test_tile_lengths(tmp_path, tile):
    n = 700
    rng = np.random.default_rng(tile)
    cells = np.empty(n, object)
    for i in range(n):
        cells[i] = np.arange(i % 5, dtype=np.int32) - 2
    data = {"ID": np.arange(n, dtype=np.int64), "F": rng.normal(size=n).astype(np.float32),
            "S": np.array([b"x" * (i % 9) for i in range(n)]), "V": cells}
    source = tmp_path / "t.fits"
    with FITS(source, "w+") as f:
        f.write_table(data, header={"FZTILELN": tile})
    packed = fpack(source)
    restored = funpack(packed)
    with FITS(packed) as f, FITS(restored) as u:
        hdu = f[1]
        assert hdu.tile_rows == min(tile, n) and hdu.n_tiles == -(-n // min(tile, n))
        for rows in (None, slice(0, 1), slice(6, 9), slice(n - 3, n), [n - 1, 0, 350, 7]):
            assert same(hdu.read(rows=rows), u[1].read(rows=rows)), rows


def test_tableonly_and_images(tmp_path):
    source = write_source(tmp_path / "mixed.fits", funpackable=True, images=True,
                          header={"FZTILELN": 256})
    only = fpack(source, "-tableonly")
    both = source.with_name("both.fits.fz")
    subprocess.run(["fpack", "-table", "-O", str(both), str(source)], check=True,
                   capture_output=True)
    with FITS(only) as f, FITS(both) as g, FITS(source) as s:
        assert type(f[1]) is fitsbind.direct.ImageHDU
        assert type(g[1]) is fitsbind.direct.CompressedImageHDU
        assert isinstance(f["CAT"], CompressedTableHDU) and isinstance(g["CAT"], CompressedTableHDU)
        # -table also compresses the primary image, which moves behind an empty primary
        assert len(f) == len(s) == 3 and len(g) == 4
        assert same(f["CAT"].read(), s["CAT"].read()) and same(g["CAT"].read(), s["CAT"].read())


def test_zero_rows(tmp_path):
    """fpack copies an empty table as it is; a compressed one with ZNAXIS2 = 0 (as other
    writers may make) reads as an empty table of the right dtype, as funpack restores it."""
    path = tmp_path / "empty.fits.fz"
    cards = [("ZTABLE", True), ("ZTILELEN", 10), ("ZNAXIS1", 14), ("ZNAXIS2", 0),
             ("ZPCOUNT", 0), ("ZFORM1", "1J"), ("ZFORM2", "1I"), ("ZFORM3", "PE(3)"),
             ("TSCAL2", 2.0), ("TUNIT1", "m")]
    with FITS(path, "w+") as f:
        f.create_table_hdu([("A", "1QB"), ("B", "1QB"), ("C", "1QB")], 0, header=cards)
    with FITS(path) as f:
        hdu = f[1]
        assert isinstance(hdu, CompressedTableHDU)
        assert (hdu.nrows, hdu.n_tiles, hdu.has_data) == (0, 0, False)
        assert hdu.read().dtype == [("A", "<i4"), ("B", "<f8"), ("C", "O")]
        assert len(hdu.where("A > 0")) == 0 and len(hdu.read(rows=[])) == 0
        if shutil.which("funpack"):
            with FITS(funpack(path)) as u:
                assert hdu.dtype == u[1].dtype and same(hdu.read(), u[1].read())


# -- tiles decoded, cache --------------------------------------------------------------------------

def test_reads_decode_only_touched_tiles_once(tmp_path, monkeypatch):
    from fitsbind.direct import compressed_table

    source = write_source(tmp_path / "s.fits", funpackable=True, header={"FZTILELN": 100})
    packed = fpack(source)
    calls = []
    real = compressed_table._decode_column

    def counting(data, c, algorithm, n, where, *args):
        calls.append((c.name, where.rsplit("tile ", 1)[1]))
        return real(data, c, algorithm, n, where, *args)

    monkeypatch.setattr(compressed_table, "_decode_column", counting)
    with FITS(packed) as f, FITS(source) as s:
        hdu = f[1]
        for start in range(300, 400, 10):         # sequential reads inside tile 3
            assert same(hdu.read(["J", "PE"], slice(start, start + 10)),
                        s[1].read(["J", "PE"], slice(start, start + 10)))
        assert sorted(calls) == [("J", "3"), ("PE", "3")]
        assert hdu.tile_cache_used > 0
        calls.clear()
        hdu.read(["D"], [150, 950])
        assert sorted(calls) == [("D", "1"), ("D", "9")]
        hdu.set_tile_cache_size(0)
        assert hdu.tile_cache_used == 0
        calls.clear()
        hdu.read(["J"], slice(300, 310))
        hdu.read(["J"], slice(310, 320))
        assert calls == [("J", "3"), ("J", "3")]
        calls.clear()       # a row filter decodes the columns it names
        assert np.array_equal(hdu.where("J > 0 && e < 0", rows=slice(310, 330)),
                              s[1].where("J > 0 && e < 0", rows=slice(310, 330)))
        assert sorted(calls) == [("E", "3"), ("J", "3")]
        with pytest.raises(FITSValueError):
            hdu.set_tile_cache_size(-1)


def test_threads_share_one_hdu(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    source = write_source(tmp_path / "s.fits", header={"FZTILELN": 50})
    target = tmp_path / "p.fits"
    with FITS(source) as s, FITS(target, "w+") as out:
        compress_table(s[1], out)
        expected = s[1].read()
    starts = np.random.default_rng(3).integers(0, NROWS - 60, 40)
    with FITS(target) as f:
        hdu = f[1]
        hdu.set_tile_cache_size(200_000)     # small: threads evict each other's tiles
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda a: hdu.read(rows=slice(a, a + 60)), starts))
    for a, got in zip(starts, results):
        assert same(got, expected[a:a + 60])


def test_compress_table_without_fpack(tmp_path):
    """CFITSIO's fits_compress_table, through compress_table(): every column type, tiles of
    FZTILELN rows, and fitsbind reads the result as the source."""
    source = write_source(tmp_path / "src.fits", header={"FZTILELN": 97})
    target = tmp_path / "packed.fits"
    with FITS(source) as s, FITS(target, "w+") as out:
        hdu = compress_table(s["CAT"], out)
        assert isinstance(hdu, CompressedTableHDU) and hdu.index == 1
        assert hdu.n_tiles == 11 and hdu.extname == "CAT"
        check_reads(hdu, s["CAT"])
        with pytest.raises(TypeError):
            compress_table(hdu, out)
    if shutil.which("fitsverify"):
        report = subprocess.run(["fitsverify", str(target)], capture_output=True,
                                text=True).stdout
        # one warning is the format's own: TNULLn stays with its column, now a byte array
        assert "0 error(s)" in report and "TNULL17" in report, report
    with FITS(target) as f, FITS(source) as s:
        check_reads(f["CAT"], s["CAT"])
    tiny = tmp_path / "tiny.fits"
    with FITS(tiny, "w+") as f:
        f.write_table({"A": np.arange(5)})
        with FITS(tmp_path / "tiny_out.fits", "w+") as out:
            copied = compress_table(f[1], out)
            assert type(copied) is TableHDU     # under 5760 bytes: copied as it is, as fpack does


def test_summary_and_len(tmp_path):
    source = write_source(tmp_path / "s.fits", funpackable=True, header={"FZTILELN": 128})
    target = tmp_path / "p.fits"
    with FITS(source) as s, FITS(target, "w+") as out:
        compress_table(s[1], out)
        assert len(out) == 2
    kind, _, dimensions, form = summary(target)[1][3:7]
    assert kind == "BinTableHDU" and dimensions == f"{NROWS}R x 24C"
    assert form.startswith("[1I, 1J, 1K") and form.endswith("tile-compressed")


# -- read-only -------------------------------------------------------------------------------------

def test_writes_are_refused_and_the_file_is_untouched(tmp_path):
    source = write_source(tmp_path / "s.fits", funpackable=True, header={"FZTILELN": 128})
    target = tmp_path / "p.fits"
    with FITS(source) as s, FITS(target, "w+") as out:
        compress_table(s[1], out)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    with FITS(target, "r+") as f:
        hdu = f[1]
        one = hdu.read(rows=[0])
        attempts = [lambda: hdu.write(one), lambda: hdu.append(one),
                    lambda: hdu.write_column("J", 5), lambda: hdu.__setitem__("J", 5),
                    lambda: hdu["J"].__setitem__(slice(0, 2), [1, 2]),
                    lambda: hdu.insert_rows(0, 1), lambda: hdu.delete_rows([0]),
                    lambda: hdu.insert_column("NEW", np.zeros(NROWS)),
                    lambda: hdu.delete_column("J")]
        for attempt in attempts:
            with pytest.raises(FITSPermissionError, match="read-only") as info:
                attempt()
            assert str(target) in str(info.value) and info.value.hdu == 1
        for key in ("ZCTYP1", "ZFORM2", "ZTILELEN", "ZNAXIS2"):
            with pytest.raises(FITSValueError, match="layout"):
                hdu.header[key] = 1
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    with FITS(target, "r+") as f:
        f[1].header["OBSERVER"] = "someone"     # other cards may change
        f[1].header["TUNIT1"] = "count"
        assert f[1].column("I").unit == "count" and f[1].read(rows=[3])["I"].shape == (1,)


# -- the drop-in layer keeps astropy's view --------------------------------------------------------

def test_dropin_shows_the_compressed_columns_as_astropy(tmp_path):
    astropy_fits = pytest.importorskip("astropy.io.fits")
    data, specs = table(NROWS, funpackable=True)
    # left out: columns whose TSCALn/TZEROn end up on a byte-array column (astropy casts the
    # scaled bytes back to uint8, the drop-in layer keeps float64: a drop-in matter of all
    # scaled variable-length columns, not of compressed tables)
    keep = [i for i, s in enumerate(specs) if s.scale is None and s.zero is None]
    source = tmp_path / "s.fits"
    with FITS(source, "w+") as f:
        f.write_table({specs[i].name: data[specs[i].name] for i in keep},
                      columns=[specs[i] for i in keep], header={"FZTILELN": 128})
    target = tmp_path / "p.fits"
    with FITS(source) as s, FITS(target, "w+") as out:
        compress_table(s[1], out)
    with fitsbind.open(target) as ours, astropy_fits.open(target) as theirs:
        assert type(ours[1]).__name__ == type(theirs[1]).__name__ == "BinTableHDU"
        assert ours[1].columns.names == theirs[1].columns.names
        assert ours[1].columns.formats == theirs[1].columns.formats
        assert list(ours[1].header.items()) == list(theirs[1].header.items())
        assert len(ours[1].data) == len(theirs[1].data) == 8
        for name in theirs[1].columns.names:
            try:
                expected = theirs[1].data[name]
            except ValueError:
                # astropy applies TDIMn to the byte arrays and fails; so does fitsbind
                with pytest.raises(ValueError):
                    ours[1].data[name]
                continue
            got = ours[1].data[name]
            assert len(got) == len(expected)
            for a, b in zip(got, expected):
                assert np.array_equal(a, b) and np.asarray(a).dtype == np.asarray(b).dtype


# -- bad input -------------------------------------------------------------------------------------

def _descriptor_position(path: Path, tile: int, column: int) -> tuple[int, int]:
    """(file offset of the 16-byte descriptor, file offset of the heap) of a cell of the
    compressed table in HDU 1."""
    from fitsbind._fitsfile import open_file

    with open_file(path) as f:
        f.move_to(1)
        data = f.hdu_offsets()[1]
        rowsize = f.read_key("NAXIS1")[0]
        heap = data + rowsize * f.read_key("NAXIS2")[0]
    return data + tile * rowsize + 16 * column, heap


def _cell(path: Path, tile: int, column: int) -> tuple[int, int]:
    at, heap = _descriptor_position(path, tile, column)
    with open(path, "rb") as fh:
        fh.seek(at)
        count, offset = np.frombuffer(fh.read(16), ">i8")
    return int(count), heap + int(offset)


def _patch(path: Path, at: int, data: bytes) -> None:
    with open(path, "r+b") as fh:
        fh.seek(at)
        fh.write(data)


def _replace_card(path: Path, key: str, card: str) -> None:
    """Replace the card of ``key`` in the header of HDU 1 with ``card`` (in the bytes)."""
    raw = path.read_bytes()
    starts = [i for i in range(0, len(raw), 80) if raw[i:i + 10] == f"{key:8}= ".encode()]
    assert len(starts) == 1, key
    _patch(path, starts[0], card.ljust(80).encode())


_PROBE = """
import json, sys
import fitsbind
from fitsbind import FITS
results = {}
for name, path, columns in json.loads(sys.argv[1]):
    try:
        with FITS(path) as f:
            f[1].read(columns)
        results[name] = None
    except Exception as exc:
        results[name] = [type(exc).__name__, str(exc), isinstance(exc, fitsbind.FITSError),
                         getattr(exc, "filename", None), getattr(exc, "hdu", None)]
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict:
    """Damaged copies of one compressed table, each read in a child process (a crash or a
    hang there fails the test instead of the run): {case: (exception, message, FITSError?,
    filename, hdu) or None}."""
    tmp = tmp_path_factory.mktemp("bad")
    source = write_source(tmp / "s.fits", header={"FZTILELN": 128})
    good = tmp / "good.fits"
    with FITS(source) as s, FITS(good, "w+") as out:
        names = s[1].colnames
        compress_table(s[1], out)
    col = {name: i for i, name in enumerate(names)}
    cases = {}

    def case(name, columns=None):
        path = tmp / f"{name}.fits"
        shutil.copy(good, path)
        cases[name] = (name, str(path), columns)
        return path

    # gzip cell: bytes in the middle of the deflate stream flipped
    path = case("corrupt_gzip", ["D"])
    count, at = _cell(path, 2, col["D"])
    _patch(path, at + count // 2, bytes(16))
    # Rice cell cut short
    path = case("truncated_rice", ["J"])
    at, _ = _descriptor_position(path, 3, col["J"])
    count, _ = _cell(path, 3, col["J"])
    _patch(path, at, np.array([count // 3], ">i8").tobytes())
    # a short column's descriptor pointed at a wider column's stream: too many bytes
    path = case("stream_too_long", ["I"])
    at_i, _ = _descriptor_position(path, 0, col["I"])
    at_d, _ = _descriptor_position(path, 0, col["D"])
    with open(path, "rb") as fh:
        fh.seek(at_d)
        wide = fh.read(16)
    _patch(path, at_i, wide)
    # and the other way round: too few
    path = case("stream_too_short", ["D"])
    with open(good, "rb") as fh:
        fh.seek(at_i)
        narrow = fh.read(16)
    _patch(path, at_d, narrow)
    # a cell's descriptor beyond the heap
    path = case("descriptor_beyond_heap", ["E"])
    at, _ = _descriptor_position(path, 1, col["E"])
    _patch(path, at + 8, np.array([1 << 40], ">i8").tobytes())
    cases["descriptor_beyond_heap_other_columns"] = ("descriptor_beyond_heap_other_columns",
                                                     str(path), ["D", "PE"])
    # the gzipped descriptors of a variable-length column damaged
    path = case("corrupt_vla_descriptors", ["PE"])
    count, at = _cell(path, 0, col["PE"])
    _patch(path, at + 10, b"\xff" * 8)
    # original descriptors pointing past the original heap (ZPCOUNT made small)
    path = case("vla_beyond_heap", ["PJ"])
    _replace_card(path, "ZPCOUNT", "ZPCOUNT =                   16")
    # an algorithm no table compression has
    path = case("unknown_zctyp", ["J"])
    _replace_card(path, "ZCTYP2", "ZCTYP2  = 'BOGUS_9 '")
    cases["unknown_zctyp_other_columns"] = ("unknown_zctyp_other_columns", str(path), ["I"])
    # RICE_1 on a float column
    path = case("rice_on_floats", ["E"])
    _replace_card(path, "ZCTYP4", "ZCTYP4  = 'RICE_1  '")
    # ZFORMn widths that disagree with ZNAXIS1
    path = case("zform_vs_znaxis1", ["I"])
    _replace_card(path, "ZFORM2", "ZFORM2  = '1K      '")
    # file cut in the middle of the heap
    path = case("truncated_file", None)
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size // 2)

    result = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(list(cases.values()))],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("name, kind, text", [
    ("corrupt_gzip", "FITSError", "gzip stream is corrupt"),
    ("truncated_rice", "FITSError", "Rice stream"),
    ("stream_too_long", "FITSError", "holds more than"),
    ("stream_too_short", "FITSError", "truncated"),
    ("descriptor_beyond_heap", "FITSError", "outside the"),
    ("corrupt_vla_descriptors", "FITSError", "gzip stream is corrupt"),
    ("vla_beyond_heap", "FITSValueError", "points outside the 16-byte heap"),
    ("unknown_zctyp", "FITSError", "ZCTYP2 = 'BOGUS_9'"),
    ("rice_on_floats", "FITSError", "RICE_1 codes B, I and J"),
    ("zform_vs_znaxis1", "FITSValueError", "ZNAXIS1"),
    ("truncated_file", "FITSError", "file is truncated"),
])
def test_bad_input(bad_files, name, kind, text):
    result = bad_files[name]
    assert result is not None, f"{name}: no error"
    cls, message, is_fits_error, filename, hdu = result
    assert cls == kind and is_fits_error, result
    assert text in message and f"{name}.fits" in message and "HDU 1" in message, message
    assert filename.endswith(f"{name}.fits") and hdu == 1


def test_bad_column_leaves_the_others_readable(bad_files):
    assert bad_files["unknown_zctyp_other_columns"] is None
    assert bad_files["descriptor_beyond_heap_other_columns"] is None


def test_bad_row_filter_names_the_file(tmp_path):
    source = write_source(tmp_path / "s.fits", funpackable=True, header={"FZTILELN": 128})
    target = tmp_path / "p.fits"
    with FITS(source) as s, FITS(target, "w+") as out:
        hdu = compress_table(s[1], out)
        for expr in ("NOSUCHCOLUMN > 3", "J >< 2"):
            with pytest.raises(FITSError) as plain:
                s[1].where(expr)
            with pytest.raises(type(plain.value)) as info:
                hdu.where(expr)
            assert f"{target}, HDU 1" in str(info.value) and info.value.hdu == 1
            assert info.value.status == plain.value.status
        with pytest.raises(TypeError):
            hdu.where(3)
        # terms that see the whole table cannot be evaluated group by group
        for expr in ("#ROW < 10", "#row > 5 && J > 0", "ACCUM(J) > 0", "seqdiff (I) > 0"):
            with pytest.raises(NotImplementedError, match="rows="):
                hdu.where(expr)
        assert np.array_equal(hdu.where("J > 0 && #TFIELDS == 24 && #PI > 3"),
                              s[1].where("J > 0 && #TFIELDS == 24 && #PI > 3"))


def test_exports():
    assert fitsbind.direct.CompressedTableHDU is CompressedTableHDU
    assert issubclass(CompressedTableHDU, TableHDU)
    assert FITSError in FITSPermissionError.__mro__
