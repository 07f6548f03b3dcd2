"""The fuzzer (tools/fuzz.py, tools/fitsfuzz/): its regressions, a short seeded pass, and the
engine itself (reproducible mutants, a corpus that covers the format, a harness that tells a
crash from a hang from a giant allocation)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from fitsfuzz import campaign, corpus, mutate
from fitsfuzz.classify import FINDINGS, classify, dump_frame
from fitsfuzz.layout import parse_hdus

pytestmark = pytest.mark.fuzz

HERE = Path(__file__).resolve().parent
REGRESSIONS = sorted((HERE / "regressions").glob("*.fits*"))
TARGETS = HERE / "targets.py"

#: the seeded pass: seed and mutant count sized to take 60-90 s on two cores
PASS_SEED = 20240607
PASS_COUNT = 400


# -- (a) every committed reproducer is now read or refused cleanly -----------------------------

@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_regression(path: Path) -> None:
    sidecar = json.loads(path.with_name(path.name.split(".")[0] + ".json").read_text())
    # small files: 5 s is ample once the loop is fixed, and keeps a hang's replay short
    for tier, v in campaign.replay(path, limits=campaign.Limits(timeout=5)).items():
        if tier in campaign.TIERS:
            what = v.signal or (v.error and f"{v.error['type']}: {v.error['message']}")
            assert v.cls in ("ok", "clean"), (
                f"{tier}: {v.cls} at {v.stage} ({what}; {v.frame}); found as: "
                f"{sidecar['mutation']}")


# -- (b) a short seeded pass finds nothing ------------------------------------------------------

@pytest.mark.slow
def test_seeded_pass() -> None:
    report = campaign.run(PASS_SEED, PASS_COUNT, jobs=2)
    print(report.summary())
    findings = [f"{f['class']} {f['tier']} x{f['count']}: {f['what']} at {f['frame']} "
                f"(mutant {f['index']}: {f['mutation']})"
                for f in report.as_json()["findings"]]
    assert not findings, "\n".join(findings)
    for tier in campaign.TIERS:
        assert report.counts[tier]["ok"] + report.counts[tier]["clean"] == PASS_COUNT


# -- (c) the engine -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[corpus.Seed]:
    return corpus.build(5, tmp_path_factory.mktemp("corpus"))


def test_corpus_is_deterministic(seeds: list[corpus.Seed], tmp_path: Path) -> None:
    again = corpus.build(5, tmp_path)
    assert [(s.name, s.data) for s in again] == [(s.name, s.data) for s in seeds]
    for s in seeds:
        on_disk = (tmp_path / s.name).read_bytes()
        assert (gzip.decompress(on_disk) if s.gz else on_disk) == s.data


def test_corpus_covers_the_format(seeds: list[corpus.Seed]) -> None:
    values = [h.values for s in seeds for h in parse_hdus(s.data)]
    assert {v.get("BITPIX") for v in values} >= {8, 16, 32, 64, -32, -64}
    assert {v.get("BZERO") for v in values} >= {32768, 2147483648, 9223372036854775808, -128}
    assert any("BLANK" in v and "BSCALE" in v for v in values)
    forms = {str(v.get(f"TFORM{i}"))[-1] for v in values for i in range(1, 30)
             if v.get("XTENSION") == "BINTABLE" and not v.get("ZIMAGE") and f"TFORM{i}" in v}
    assert forms >= set("LXBIJKAEDCM)")   # ")" ends the P and Q forms, e.g. PJ(8)
    assert any(str(v.get(f"TFORM{i}", "")).startswith("1Q") for v in values for i in range(1, 30))
    assert any("TDIM13" in v and "TSCAL14" in v and "TNULL15" in v for v in values)
    assert any(v.get("XTENSION") == "TABLE" and "TBCOL5" in v for v in values)
    assert any(v.get("GROUPS") is True for v in values)
    assert {v.get("ZCMPTYPE") for v in values} >= {"RICE_1", "GZIP_1", "GZIP_2", "PLIO_1",
                                                    "HCOMPRESS_1", "NOCOMPRESS"}
    assert {v.get("ZQUANTIZ") for v in values} >= {"SUBTRACTIVE_DITHER_1",
                                                    "SUBTRACTIVE_DITHER_2", "NO_DITHER"}
    assert any(v.get("ZTABLE") is True for v in values)
    assert any(s.gz for s in seeds)
    assert all(len(s.data) <= 100_000 for s in seeds)


def test_mutant_is_reproducible_from_seed_and_index(seeds: list[corpus.Seed]) -> None:
    first = [mutate.mutant(seeds, 7, i) for i in range(200)]
    assert first == [mutate.mutant(seeds, 7, i) for i in range(200)]
    assert len({m.data for m in first}) > 190
    assert first[3] != mutate.mutant(seeds, 8, 3)
    assert all(m.steps and m.base in {s.name for s in seeds} for m in first)


def test_mutations_hit_the_structure(seeds: list[corpus.Seed]) -> None:
    steps = " ".join(s for i in range(2000) for s in mutate.mutant(seeds, 1, i).steps)
    for expected in ("BITPIX =", "NAXIS1 =", "TFORM", "ZCMPTYPE =", "remove END",
                     "P descriptor", "Q descriptor", "heap:", "truncate (mid-card)",
                     "truncate (block)", "copy", "flip bits", "gzip stream"):
        assert expected in steps, expected


def _fake(name: str, timeout: float = 10.0, fsize: int = 256 << 20):
    limits = campaign.Limits(timeout=timeout, fsize=fsize)
    return campaign.run_targets(TARGETS, [f"{TARGETS}:{name}"], limits)[f"{TARGETS}:{name}"]


@pytest.mark.parametrize(("target", "signal"), [("abort", "SIGABRT"), ("segfault", "SIGSEGV")])
def test_harness_crash(target: str, signal: str) -> None:
    v = _fake(target)
    assert (v.cls, v.signal) == ("crash", signal)
    assert "Fatal Python error" in v.dump   # faulthandler's traceback, for the report


def test_harness_hang() -> None:
    v = _fake("spin", timeout=2)
    assert v.cls == "hang"
    assert "in spin" in v.dump


def test_harness_memory() -> None:
    v = _fake("allocate")
    assert (v.cls, v.error["type"]) == ("memory", "numpy._core._exceptions._ArrayMemoryError") \
        or (v.cls == "memory" and "MemoryError" in v.error["mro"])


def test_harness_diskfill() -> None:
    v = _fake("fill_disk", fsize=8 << 20)
    assert v.cls == "diskfill"


def test_harness_exceptions() -> None:
    assert _fake("refuse").cls == "clean"
    v = _fake("stumble")
    assert (v.cls, v.stage, v.error["type"]) == ("unexpected", "read", "builtins.KeyError")
    assert _fake("read_bytes").cls == "ok"


def _outcome(stage: str, mro: list[str]) -> dict:
    error = {"type": f"x.{mro[0]}", "mro": mro, "message": "", "frame": "fitsbind/a.py:1 in f",
             "efbig": False, "traceback": ""}
    return {"how": "exited", "code": 0, "signal": None, "dump": "", "diskfill": False,
            "stages": [{"stage": "open", "error": None, "warnings": []},
                       {"stage": stage, "error": error, "warnings": ["VerifyWarning"]}]}


def test_dropin_is_judged_against_astropy() -> None:
    verify_error = ["VerifyError", "Exception", "BaseException", "object"]
    value_error = ["ValueError", "Exception", "BaseException", "object"]
    astropy = _outcome("verify", verify_error)["stages"]
    # a class astropy raised on the file, compared by name along the MRO, at any stage (the
    # two libraries load lazily in different orders)
    assert classify(_outcome("verify", verify_error), "dropin", astropy).cls == "clean"
    assert classify(_outcome("verify", value_error), "dropin", astropy).cls == "unexpected"
    assert classify(_outcome("read", verify_error), "dropin", astropy).cls == "clean"
    assert classify(_outcome("read", value_error), "dropin", astropy).cls == "unexpected"
    # the direct tier's contract is the FITSError family only
    assert classify(_outcome("verify", verify_error), "direct", astropy).cls == "unexpected"
    fits_error = ["FITSValueError", "FITSError", "OSError", "ValueError", "Exception"]
    assert classify(_outcome("read", fits_error), "direct").cls == "clean"
    assert classify(_outcome("read", fits_error), "dropin").warnings == ["VerifyWarning"]


def test_dropin_verify_error_without_astropy_verdict() -> None:
    # astropy hung (no stages): verify("exception") and writeto still raise VerifyError by
    # contract, but nothing else is excused
    verify_error = ["VerifyError", "Exception", "BaseException", "object"]
    key_error = ["KeyError", "LookupError", "Exception", "BaseException", "object"]
    assert classify(_outcome("verify", verify_error), "dropin", None).cls == "clean"
    assert classify(_outcome("roundtrip", verify_error), "dropin", None).cls == "clean"
    assert classify(_outcome("read", verify_error), "dropin", None).cls == "unexpected"
    assert classify(_outcome("verify", key_error), "dropin", None).cls == "unexpected"
    assert classify(_outcome("verify", verify_error), "direct", None).cls == "unexpected"


def test_dump_frame_prefers_the_crashing_thread() -> None:
    dump = ('Fatal Python error: Segmentation fault\n\n'
            'Thread 0x01 (most recent call first):\n'
            '  File "/x/fitsbind/direct/table.py", line 9 in read\n\n'
            'Current thread 0x02 (most recent call first):\n'
            '  File "/usr/lib/python3/concurrent/futures/thread.py", line 58 in run\n'
            '  File "/x/fitsbind/direct/compressed.py", line 12 in _decode\n')
    assert dump_frame(dump) == "fitsbind/direct/compressed.py:12 in _decode"


def test_findings_are_saved_and_deduplicated(tmp_path: Path) -> None:
    report = campaign.Report(1, 0, 10, ["direct"], counts={"direct": {}})
    m = mutate.Mutant(b"x" * 2880, "s1-i4.fits", "images.fits", ("HDU 0: BITPIX = '7'",), 2880)
    v = campaign.Verdict("crash", signal="SIGSEGV", frame="fitsbind/a.pyx:1 in f", dump="...")
    for index in range(5):
        campaign._record(report, m, index, "direct", v, tmp_path)
    (finding,) = report.findings.values()
    assert finding.count == 5
    assert len(finding.saved) == campaign.EXAMPLES_PER_KEY
    sidecar = json.loads((tmp_path / "crash-direct-s1-i0.json").read_text())
    assert (sidecar["seed"], sidecar["index"], sidecar["signal"]) == (1, 0, "SIGSEGV")
    assert sidecar["mutation"] == "images.fits: HDU 0: BITPIX = '7'"
    assert (tmp_path / "crash-direct-s1-i0.fits").read_bytes() == m.data
    assert set(FINDINGS) == {"crash", "hang", "memory", "diskfill", "unexpected"}


def test_minimize_keeps_the_hdu_that_matters(tmp_path: Path) -> None:
    import numpy as np

    import fitsbind
    path, out = tmp_path / "big.fits", tmp_path / "small.fits"
    with fitsbind.FITS(path, "w+") as f:
        f.create_image_hdu(np.uint8, ())
        for name in ("A", "B", "XBOOM", "C"):
            f.write_image(np.zeros((30, 30), np.int32), extname=name)
    target = f"{TARGETS}:abort_on_marker"
    v = campaign.minimize(path, target, out, with_astropy=False)
    assert (v.cls, v.signal) == ("crash", "SIGABRT")
    assert [h.values.get("EXTNAME") for h in parse_hdus(out.read_bytes())] == [None, "XBOOM"]
