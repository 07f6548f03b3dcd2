"""``conf`` of the drop-in (``fitsbind.conf``, astropy.io.fits's ``conf``): every setting, set_temp
and reset. Each test body runs against astropy.io.fits and fitsbind (the ``fits`` fixture) with
the same setting, so a test passing for both shows fitsbind follows astropy's behaviour.

Input files are written by astropy (the oracle) or byte by byte, never by the library under test.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest

afits = pytest.importorskip("astropy.io.fits")

import fitsbind  # noqa: E402
import fitsbind.card  # noqa: E402
import fitsbind.config  # noqa: E402

DEFAULTS = {
    "enable_record_valued_keyword_cards": True,
    "extension_name_case_sensitive": False,
    "strip_header_whitespace": True,
    "use_memmap": True,
    "lazy_load_hdus": True,
    "enable_uint": True,
}


@pytest.fixture(autouse=True)
def restore_conf(fits: ModuleType):
    """Every setting of both libraries back to what it was, whatever the test did."""
    saved = {lib: {name: getattr(lib.conf, name) for name in DEFAULTS} for lib in (afits, fitsbind)}
    yield
    for lib, values in saved.items():
        for name, value in values.items():
            setattr(lib.conf, name, value)


def raw_fits(path: Path, hdus: list[tuple[list[tuple], bytes]]) -> Path:
    """Write ``path`` byte by byte: each HDU is (cards as astropy Card arguments, data bytes)."""
    with open(path, "wb") as f:
        for cards, data in hdus:
            text = "".join(str(afits.Card(*card)) for card in cards) + "END".ljust(80)
            f.write(text.ljust(-(-len(text) // 2880) * 2880).encode("ascii"))
            f.write(data + b"\0" * (-len(data) % 2880))
    return path


@pytest.fixture
def unsigned(tmp_path: Path) -> SimpleNamespace:
    """Pseudo-unsigned data written by astropy: a uint16 primary image (numpy shape (2, 2)), a
    table "TAB" with uint16/32/64 columns U, V, K (TZERO 2**15, 2**31, 2**63), an int8 image
    "I8" (BITPIX 8, BZERO -128) and a uint32 image "U32". Attributes: ``path`` and the arrays
    ``u16``, ``u``, ``v``, ``k``, ``i8``, ``u32``."""
    ns = SimpleNamespace(
        path=tmp_path / "unsigned.fits",
        u16=np.array([[0, 1], [32768, 65535]], dtype=np.uint16),
        u=np.array([0, 65535], dtype=np.uint16),
        v=np.array([0, 2**32 - 1], dtype=np.uint32),
        k=np.array([0, 2**64 - 1], dtype=np.uint64),
        i8=np.array([[-128, 0, 127]], dtype=np.int8),
        u32=np.array([0, 7, 2**32 - 1], dtype=np.uint32),
    )
    table = afits.BinTableHDU.from_columns(
        [afits.Column("U", "I", bzero=2**15, array=ns.u), afits.Column("V", "J", bzero=2**31, array=ns.v),
         afits.Column("K", "K", bzero=2**63, array=ns.k)], name="TAB")
    afits.HDUList([afits.PrimaryHDU(ns.u16), table, afits.ImageHDU(ns.i8, name="I8"),
                   afits.ImageHDU(ns.u32, name="U32")]).writeto(ns.path)
    return ns


@pytest.fixture
def three(tmp_path: Path) -> SimpleNamespace:
    """An astropy-written file of three HDUs (PRIMARY, SCI float64 (10,), BIG float64 (100, 100))
    and two damaged copies: ``truncated`` (BIG's data cut short by 3 blocks) and ``tail`` (a
    block of junk after the last HDU)."""
    path = tmp_path / "three.fits"
    afits.HDUList([afits.PrimaryHDU(), afits.ImageHDU(np.arange(10.0), name="SCI"),
                   afits.ImageHDU(np.zeros((100, 100)), name="BIG")]).writeto(path)
    raw = path.read_bytes()
    truncated = tmp_path / "truncated.fits"
    truncated.write_bytes(raw[: -3 * 2880])
    tail = tmp_path / "tail.fits"
    tail.write_bytes(raw + b"x" * 2880)
    return SimpleNamespace(path=path, truncated=truncated, tail=tail)


# ---------------------------------------------------------------------------------------------
# the namespace itself


def test_settings_and_defaults_are_astropys(fits):
    assert list(fits.conf) == list(afits.conf)
    assert {name: getattr(fits.conf, name) for name in fits.conf} == DEFAULTS
    assert {name: item.defaultvalue for name, item in fits.conf.items()} == DEFAULTS
    assert [item() for item in fits.conf.values()] == list(DEFAULTS.values())
    assert list(fits.conf.keys()) == list(DEFAULTS)
    assert type(fits.conf) is fits.Conf
    assert fits.Conf.use_memmap.defaultvalue is True


def test_one_conf_object():
    assert fitsbind.conf is fitsbind.card.conf is fitsbind.config.conf
    fitsbind.conf.strip_header_whitespace = False
    assert fitsbind.card.Card.fromstring("KEY     = 'a   '").value == "a   "


@pytest.mark.parametrize(("value", "expected"), [
    (False, False), (True, True), (0, False), (1, True), ("no", False), ("Yes", True),
    ("OFF", False), ("on", True), ("0", False), ("1", True), ("false", False), ("TRUE", True),
    (np.True_, True), (np.int64(0), False), (None, None),
])
def test_assigned_values_are_checked_as_booleans(fits, value, expected):
    fits.conf.use_memmap = value
    assert fits.conf.use_memmap is expected


@pytest.mark.parametrize("value", [5, 2.0, "maybe", "", []])
def test_a_value_that_is_not_a_boolean_raises_and_changes_nothing(fits, value):
    fits.conf.enable_uint = False
    with pytest.raises(TypeError, match="Provided value for configuration item enable_uint not valid"):
        fits.conf.enable_uint = value
    assert fits.conf.enable_uint is False


def test_an_array_of_several_values_is_ambiguous(fits):
    with pytest.raises(ValueError, match="truth value of an array"):
        fits.conf.use_memmap = np.array([1, 0])
    assert fits.conf.use_memmap is True


def test_set_temp_restores_the_value(fits):
    with fits.conf.set_temp("lazy_load_hdus", False):
        assert fits.conf.lazy_load_hdus is False
    assert fits.conf.lazy_load_hdus is True
    # the value before the block is what comes back, not the default
    fits.conf.enable_uint = False
    with fits.conf.set_temp("enable_uint", "yes"):
        assert fits.conf.enable_uint is True
    assert fits.conf.enable_uint is False


def test_set_temp_restores_the_value_after_an_exception(fits):
    with pytest.raises(ZeroDivisionError):
        with fits.conf.set_temp("extension_name_case_sensitive", True):
            assert fits.conf.extension_name_case_sensitive is True
            _ = 1 / 0
    assert fits.conf.extension_name_case_sensitive is False


def test_set_temp_with_a_bad_value_raises_on_entry(fits):
    manager = fits.conf.set_temp("use_memmap", "maybe")
    with pytest.raises(TypeError, match="configuration item use_memmap not valid"):
        with manager:
            pass
    assert fits.conf.use_memmap is True


def test_unknown_names_raise(fits):
    with pytest.raises(AttributeError, match="No configuration parameter 'use_mmap'"):
        fits.conf.set_temp("use_mmap", False)
    with pytest.raises(AttributeError, match="No configuration parameter 'use_mmap'"):
        fits.conf.reset("use_mmap")
    with pytest.raises(AttributeError):
        _ = fits.conf.use_mmap
    with pytest.raises(KeyError, match="'use_mmap' is not among configuration items"):
        fits.conf.help("use_mmap")


def test_reset_one_setting_and_all(fits):
    fits.conf.use_memmap = False
    fits.conf.enable_uint = False
    fits.conf.reset("use_memmap")
    assert fits.conf.use_memmap is True
    assert fits.conf.enable_uint is False
    for name, default in DEFAULTS.items():
        setattr(fits.conf, name, not default)
    fits.conf.reset()
    assert {name: getattr(fits.conf, name) for name in DEFAULTS} == DEFAULTS


def test_help_prints_the_item(fits, capsys):
    fits.conf.lazy_load_hdus = False
    fits.conf.help("lazy_load_hdus")
    text = capsys.readouterr().out
    assert text.startswith("ConfigItem: lazy_load_hdus\n")
    assert "cfgtype='boolean'" in text
    assert "defaultvalue=True" in text
    assert "value=False" in text
    fits.conf.help()
    text = capsys.readouterr().out
    assert all(f"ConfigItem: {name}\n" in text for name in DEFAULTS)


# ---------------------------------------------------------------------------------------------
# enable_uint


def test_enable_uint_default_reads_unsigned_dtypes(fits, unsigned):
    with fits.open(unsigned.path) as hdul:
        assert hdul[0].data.dtype == np.uint16
        np.testing.assert_array_equal(hdul[0].data, unsigned.u16)
        table = hdul["TAB"].data
        for name, values in (("U", unsigned.u), ("V", unsigned.v), ("K", unsigned.k)):
            assert table[name].dtype == values.dtype
            np.testing.assert_array_equal(table[name], values)
        assert hdul["I8"].data.dtype == np.int8
        np.testing.assert_array_equal(hdul["I8"].data, unsigned.i8)
        assert hdul["U32"].data.dtype == np.uint32
    assert fits.getdata(unsigned.path).dtype == np.uint16
    assert fits.getdata(unsigned.path, "TAB")["V"].dtype == np.uint32


def test_enable_uint_false_reads_scaled_floats(fits, unsigned):
    fits.conf.enable_uint = False
    with fits.open(unsigned.path) as hdul:
        assert hdul[0].data.dtype == np.float32
        np.testing.assert_array_equal(hdul[0].data, unsigned.u16.astype(np.float32))
        table = hdul["TAB"].data
        for name, values in (("U", unsigned.u), ("V", unsigned.v), ("K", unsigned.k)):
            assert table[name].dtype == np.float64
            np.testing.assert_array_equal(table[name], values.astype(np.float64))
        assert hdul["I8"].data.dtype == np.float32
        np.testing.assert_array_equal(hdul["I8"].data, unsigned.i8.astype(np.float32))
        assert hdul["U32"].data.dtype == np.float64
        np.testing.assert_array_equal(hdul["U32"].data, unsigned.u32.astype(np.float64))
    assert fits.getdata(unsigned.path).dtype == np.float32
    assert fits.getdata(unsigned.path, "TAB")["V"].dtype == np.float64
    assert fits.getdata(unsigned.path, extname="U32").dtype == np.float64


def test_explicit_uint_overrides_enable_uint(fits, unsigned):
    fits.conf.enable_uint = False
    with fits.open(unsigned.path, uint=True) as hdul:
        assert hdul[0].data.dtype == np.uint16
        assert hdul["TAB"].data["U"].dtype == np.uint16
    assert fits.getdata(unsigned.path, uint=True).dtype == np.uint16
    fits.conf.enable_uint = True
    assert fits.getdata(unsigned.path, uint=False).dtype == np.float32
    # an explicit None is not "not given": it switches the convention off, as in astropy
    assert fits.getdata(unsigned.path, uint=None).dtype == np.float32


def test_enable_uint_is_read_when_the_file_is_opened(fits, unsigned):
    with fits.open(unsigned.path) as hdul:
        # HDUs read after the change still follow the setting the file was opened with
        fits.conf.enable_uint = False
        assert hdul["U32"].data.dtype == np.uint32
        assert hdul[0].data.dtype == np.uint16
    assert fits.getdata(unsigned.path).dtype == np.float32
    with fits.conf.set_temp("enable_uint", True):
        assert fits.getdata(unsigned.path).dtype == np.uint16


# ---------------------------------------------------------------------------------------------
# use_memmap


def test_use_memmap_false_reads_into_memory(fits, three, unsigned, is_memmap):
    fits.conf.use_memmap = False
    with fits.open(three.path) as hdul:
        data = hdul["SCI"].data
        assert not is_memmap(data)
        assert fits.util._get_array_mmap(data) is None
        np.testing.assert_array_equal(data, np.arange(10.0))
    with fits.open(unsigned.path) as hdul:
        assert not is_memmap(hdul["TAB"].data)
        assert fits.util._get_array_mmap(hdul["TAB"].data) is None
    # memmap=True asked for explicitly still maps
    with fits.open(three.path, memmap=True) as hdul:
        assert is_memmap(hdul["SCI"].data)
    fits.conf.use_memmap = True
    with fits.open(three.path) as hdul:
        assert is_memmap(hdul["SCI"].data)
    with fits.open(unsigned.path) as hdul:
        assert is_memmap(hdul["TAB"].data)
    with fits.open(three.path, memmap=False) as hdul:
        assert not is_memmap(hdul["SCI"].data)


def test_use_memmap_is_a_preference_not_a_demand(fits, unsigned, is_memmap):
    # memmap=None with use_memmap on converts scaled data; an explicit memmap=True refuses it
    with fits.open(unsigned.path) as hdul:
        assert hdul[0].data.dtype == np.uint16
    with fits.open(unsigned.path, memmap=True) as hdul:
        with pytest.raises(ValueError, match="Cannot load a memory-mapped image"):
            _ = hdul[0].data
    with fits.conf.set_temp("use_memmap", False):
        with fits.open(unsigned.path, memmap=1) as hdul:
            with pytest.raises(ValueError, match="Cannot load a memory-mapped image"):
                _ = hdul[0].data


def test_use_memmap_false_in_update_mode_writes_on_flush(fits, three, is_memmap):
    fits.conf.use_memmap = False
    with fits.open(three.path, mode="update") as hdul:
        data = hdul["SCI"].data
        assert not is_memmap(data)
        data[:] = -1.0
    np.testing.assert_array_equal(afits.getdata(three.path, "SCI"), np.full(10, -1.0))


# ---------------------------------------------------------------------------------------------
# lazy_load_hdus


def test_lazy_load_hdus_false_reads_every_header_on_open(fits, three):
    fits.conf.lazy_load_hdus = False
    hdul = fits.open(three.path)
    hdul.close()
    # every header was read before the file closed
    assert len(hdul) == 3
    assert [hdu.name for hdu in hdul] == ["PRIMARY", "SCI", "BIG"]
    fits.conf.lazy_load_hdus = True
    hdul = fits.open(three.path)
    hdul.close()
    # lazily, only the primary header was read
    assert len(hdul) == 1
    hdul = fits.open(three.path, lazy_load_hdus=False)
    hdul.close()
    assert len(hdul) == 3


def test_explicit_lazy_load_hdus_overrides_the_setting(fits, three):
    fits.conf.lazy_load_hdus = False
    hdul = fits.open(three.path, lazy_load_hdus=True)
    hdul.close()
    assert len(hdul) == 1


def test_lazy_load_hdus_false_reports_truncation_on_open(fits, three):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hdul = fits.open(three.truncated)
    with pytest.warns(UserWarning, match="File may have been truncated"):
        assert len(hdul) == 3
    hdul.close()
    with fits.conf.set_temp("lazy_load_hdus", False):
        with pytest.warns(UserWarning, match="File may have been truncated"):
            hdul = fits.open(three.truncated)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(hdul) == 3
    hdul.close()


def test_lazy_load_hdus_false_reports_a_bad_header_on_open(fits, three):
    with fits.open(three.tail) as hdul:
        assert hdul[2].name == "BIG"
        with pytest.raises(OSError, match="Header missing END card"):
            len(hdul)
    fits.conf.lazy_load_hdus = False
    with pytest.raises(OSError, match="Header missing END card"):
        fits.open(three.tail)


# ---------------------------------------------------------------------------------------------
# extension_name_case_sensitive


def named_hdus(fits: ModuleType) -> list:
    image = fits.ImageHDU(np.zeros(2, dtype=np.int16), name="sci")
    table = fits.BinTableHDU.from_columns([fits.Column("A", "J", array=np.array([1]))], name="Cat")
    renamed = fits.ImageHDU()
    renamed.name = "MiXed"
    # an EXTNAME given in the header is kept as it is either way
    given = fits.ImageHDU(header=fits.Header([("EXTNAME", "lowhdr")]))
    return [fits.PrimaryHDU(), image, table, renamed, given]


@pytest.mark.parametrize(("sensitive", "names"), [
    (False, ["PRIMARY", "SCI", "CAT", "MIXED", "lowhdr"]),
    (True, ["PRIMARY", "sci", "Cat", "MiXed", "lowhdr"]),
])
def test_extension_name_case(fits, tmp_path, sensitive, names):
    fits.conf.extension_name_case_sensitive = sensitive
    hdul = fits.HDUList(named_hdus(fits))
    assert [hdu.name for hdu in hdul] == names
    assert hdul[1].header["EXTNAME"] == names[1]
    # looking up by name ignores case either way
    assert [hdul.index_of(key) for key in ("SCI", "sci", "cAT", ("mixed", 1), "LOWHDR")] == [1, 1, 2, 3, 4]
    assert "Sci" in hdul
    path = tmp_path / "names.fits"
    hdul.writeto(path)
    with afits.open(path) as check:
        assert [hdu.header.get("EXTNAME", "PRIMARY") for hdu in check] == names
    fits.conf.extension_name_case_sensitive = not sensitive
    with fits.open(path) as back:
        assert [hdu.name for hdu in back] == names
        assert back["SCI"].name == names[1]
        assert back["mixed"].header["EXTNAME"] == names[3]
    assert fits.getdata(path, extname="SCI").shape == (2,)
    assert fits.getdata(path, "sci").shape == (2,)
    assert fits.getheader(path, extname="cat")["EXTNAME"] == names[2]


def test_extension_name_case_is_read_at_each_assignment(fits):
    hdu = fits.ImageHDU()
    with fits.conf.set_temp("extension_name_case_sensitive", True):
        hdu.name = "low"
        assert hdu.name == "low"
    hdu.name = "low"
    assert hdu.name == "LOW"
    with pytest.raises(TypeError, match="'name' attribute must be a string"):
        hdu.name = 5


# ---------------------------------------------------------------------------------------------
# the header settings


def test_header_settings_through_set_temp(fits):
    with fits.conf.set_temp("strip_header_whitespace", False):
        assert fits.Card.fromstring("KEY     = 'a   '".ljust(80)).value == "a   "
    assert fits.Card.fromstring("KEY     = 'a   '".ljust(80)).value == "a"
    card = fits.Card.fromstring("DP1     = 'AXIS.1: 1'".ljust(80))
    assert (card.keyword, card.value) == ("DP1.AXIS.1", 1.0)
    with fits.conf.set_temp("enable_record_valued_keyword_cards", False):
        with pytest.warns(fits.verify.VerifyWarning, match="a HIERARCH card will be created"):
            card = fits.Card("DP1.AXIS.1", 2)
        assert str(card).rstrip() == "HIERARCH DP1.AXIS.1 = 2"
    assert str(fits.Card("DP1.AXIS.1", 2)).rstrip() == "DP1     = 'AXIS.1: 2'"
