"""A fuzzing run: the corpus, mutants fed to a pool of fork servers, verdicts, findings, report.

:class:`Pool` keeps ``jobs`` fork servers (:mod:`fitsfuzz.server`) busy and replaces one that
dies. :func:`run` fuzzes ``count`` mutants; :func:`replay` runs one file through every tier.
Findings (any verdict worse than clean) are deduplicated by :attr:`Verdict.key`; the first few
of each key, and every smaller one later, are saved with a JSON sidecar.
"""

from __future__ import annotations

import gzip
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fitsfuzz import corpus as corpus_module
from fitsfuzz import mutate
from fitsfuzz.classify import CLASSES, FINDINGS, Verdict, classify
from fitsfuzz.layout import parse_hdus

TOOLS = Path(__file__).resolve().parent.parent
REFERENCE = "astropy"
TIERS = ("dropin", "direct")
EXAMPLES_PER_KEY = 3


def astropy_available() -> bool:
    try:
        import astropy.io.fits  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Limits:
    """Per-child limits: ``timeout`` (s), ``margin`` (bytes of address space beyond the
    server's baseline plus the file's size) and ``fsize`` (bytes a written file may reach)."""

    timeout: float = 10.0
    margin: int = 1 << 30
    fsize: int = 256 << 20


class _Server:
    """One fork server process and the request it is working on."""

    def __init__(self, number: int, root: Path) -> None:
        self.dir = root / f"worker{number}"
        self.dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(TOOLS), *filter(None, [env.get("PYTHONPATH")])])
        # no BLAS or OpenMP threads in the server: it forks, and numpy's pools are not needed
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.process = subprocess.Popen([sys.executable, "-m", "fitsfuzz.server"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                        text=True, bufsize=1)
        self.job: Any = None
        self.request: dict[str, Any] | None = None

    def submit(self, job: Any, request: dict[str, Any]) -> None:
        self.job, self.request = job, request
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


class Pool:
    """``jobs`` fork servers; :meth:`map` runs requests on them as they free up."""

    def __init__(self, jobs: int, root: Path) -> None:
        self.root = root
        self.servers = [_Server(i, root) for i in range(jobs)]
        self.restarts = 0

    def map(self, jobs: Iterator[tuple[Any, Callable[[Path], dict[str, Any]]]]
            ) -> Iterator[tuple[Any, dict[str, Any]]]:
        """For each ``(job, make_request)``: ``make_request(dir)`` writes the job's file into
        a server's directory and returns the request; yields ``(job, reply)`` as they finish."""
        selector = selectors.DefaultSelector()
        pending = iter(jobs)
        idle = list(self.servers)
        busy = 0
        exhausted = False
        while True:
            while idle and not exhausted:
                item = next(pending, None)
                if item is None:
                    exhausted = True
                    break
                server = idle.pop()
                job, make_request = item
                server.submit(job, make_request(server.dir))
                selector.register(server.process.stdout, selectors.EVENT_READ, server)
                busy += 1
            if not busy:
                break
            for key, _ in selector.select():
                server = key.data
                line = server.process.stdout.readline()
                selector.unregister(server.process.stdout)
                busy -= 1
                if not line:
                    # the server itself died (it runs no fitsbind code, so this is rare):
                    # start a new one and give it the same request again
                    index = self.servers.index(server)
                    self.servers[index] = _Server(index, self.root)
                    self.restarts += 1
                    self.servers[index].submit(server.job, server.request)
                    selector.register(self.servers[index].process.stdout, selectors.EVENT_READ,
                                      self.servers[index])
                    busy += 1
                    continue
                idle.append(server)
                yield server.job, json.loads(line)["results"]
        selector.close()

    def close(self) -> None:
        for server in self.servers:
            server.close()


def request_for(path: Path, size: int, targets: list[str], limits: Limits) -> dict[str, Any]:
    return {"path": str(path), "workdir": str(path.parent / "work"), "targets": targets,
            "timeout": limits.timeout, "size": size, "margin": limits.margin,
            "fsize": limits.fsize}


def verdicts(results: dict[str, dict[str, Any]]) -> dict[str, Verdict]:
    """Each target's verdict; the drop-in's judged against astropy's stages when present."""
    reference = results.get(REFERENCE, {}).get("stages")
    return {target: classify(outcome, target, reference if target == "dropin" else None)
            for target, outcome in results.items()}


@dataclass
class Finding:
    """One root cause: its key, how often it was hit, and the mutants saved for it."""

    key: tuple[str, str, str]
    tier: str
    count: int = 0
    example: dict[str, Any] = field(default_factory=dict)
    saved: list[str] = field(default_factory=list)
    smallest: int | None = None


@dataclass
class Report:
    seed: int
    start: int
    count: int
    targets: list[str]
    counts: dict[str, Counter] = field(default_factory=dict)
    findings: dict[tuple, Finding] = field(default_factory=dict)
    seconds: float = 0.0
    restarts: int = 0
    interrupted: bool = False
    child_seconds: Counter = field(default_factory=Counter)   # per target, summed

    def as_json(self) -> dict[str, Any]:
        ordered = sorted(self.findings.values(),
                         key=lambda f: (CLASSES.index(f.key[0]), -f.count))
        return {"seed": self.seed, "start": self.start, "count": self.count,
                "targets": self.targets, "seconds": round(self.seconds, 1),
                "interrupted": self.interrupted, "server_restarts": self.restarts,
                "child_seconds": {t: round(s, 1) for t, s in self.child_seconds.items()},
                "counts": {t: {c: self.counts[t][c] for c in CLASSES} for t in self.counts},
                "findings": [{"class": f.key[0], "what": f.key[1], "frame": f.key[2],
                              "tier": f.tier, "count": f.count, "saved": f.saved,
                              **f.example} for f in ordered]}

    def summary(self) -> str:
        lines = [f"seed {self.seed}, mutants {self.start}..{self.start + self.count - 1}, "
                 f"{self.seconds:.0f} s" + (" (interrupted)" if self.interrupted else "")]
        for tier, counts in self.counts.items():
            lines.append(f"  {tier:8} " + "  ".join(f"{c} {counts[c]}" for c in CLASSES))
        lines.append(f"  {len(self.findings)} distinct findings")
        return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    """A report (as :meth:`Report.as_json` gives it) as Markdown: counts per class per tier,
    then one section per distinct finding."""
    lines = [f"# Fuzz findings: seed {report['seed']}, mutants {report['start']}.."
             f"{report['start'] + report['count'] - 1} ({report['seconds']:.0f} s)", "",
             "| tier | " + " | ".join(CLASSES) + " |", "|---" * (len(CLASSES) + 1) + "|"]
    for tier, counts in report["counts"].items():
        lines.append(f"| {tier} | " + " | ".join(str(counts[c]) for c in CLASSES) + " |")
    lines += ["", "astropy is the reference (its exceptions are always clean); its hangs and",
              "crashes do not count against fitsbind.", ""]
    for n, f in enumerate(report["findings"], 1):
        exception = f["exception"] or {}
        lines += [f"## {n}. {f['class']} ({f['tier']}, {f['count']} mutants): "
                  f"{f['what']} at {f['frame'] or '(no fitsbind frame)'}", "",
                  f"- mutation (seed {f['seed']}, index {f['index']}): {f['mutation']}",
                  f"- stage: {f['stage']}"]
        if exception:
            lines.append(f"- exception: `{exception['type']}: "
                         f"{exception['message'][:300]!s}`".replace("\n", " "))
        if f["reproducer"]:
            lines.append(f"- reproducer ({f['size']} bytes): `{f['reproducer']}` "
                         f"(replay: `python tools/fuzz.py --replay {f['reproducer']}`)")
        text = f["traceback_tail"].strip().splitlines()
        tail = "\n".join(text[-8:] if exception else text[:14])
        lines += ["", "```", tail, "```", ""]
    return "\n".join(lines)


def _sidecar(m: mutate.Mutant, seed: int, index: int, tier: str, v: Verdict) -> dict[str, Any]:
    return {"seed": seed, "index": index, "base": m.base, "mutation": m.description,
            "tier": tier, "class": v.cls, "stage": v.stage, "signal": v.signal,
            "frame": v.frame,
            "exception": None if v.error is None else
            {"type": v.error["type"], "message": v.error["message"]},
            # a traceback ends with the failing call; faulthandler's dump starts with it
            "traceback_tail": v.error["traceback"][-1500:] if v.error else v.dump[:1500]}


def run(seed: int, count: int, *, start: int = 0, jobs: int = 2, limits: Limits | None = None,
        save: Path | None = None, with_astropy: bool = True,
        progress: Callable[[Report, int], None] | None = None) -> Report:
    """Fuzz mutants ``start .. start + count - 1`` of ``seed``; return the report (of the
    mutants run so far when interrupted by KeyboardInterrupt)."""
    limits = limits or Limits()
    targets = ([REFERENCE] if with_astropy and astropy_available() else []) + list(TIERS)
    report = Report(seed, start, 0, targets,
                    counts={t: Counter() for t in targets})
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fitsfuzz-") as tmp:
        root = Path(tmp)
        seeds = corpus_module.build(seed, root / "corpus")
        pool = Pool(jobs, root / "servers")

        def jobs_of() -> Iterator[tuple[Any, Callable[[Path], dict[str, Any]]]]:
            for index in range(start, start + count):
                m = mutate.mutant(seeds, seed, index)

                def make(directory: Path, m: mutate.Mutant = m) -> dict[str, Any]:
                    path = directory / m.name
                    for old in directory.glob("s*-i*.fits*"):
                        old.unlink()
                    path.write_bytes(m.data)
                    return request_for(path, m.size, targets, limits)

                yield (index, m), make

        try:
            for done, ((index, m), results) in enumerate(pool.map(jobs_of()), 1):
                for tier, outcome in results.items():
                    report.child_seconds[tier] += outcome["seconds"]
                for tier, v in verdicts(results).items():
                    report.counts[tier][v.cls] += 1
                    if v.cls in FINDINGS and tier != REFERENCE:
                        _record(report, m, index, tier, v, save)
                report.count = done
                if progress is not None:
                    progress(report, done)
        except KeyboardInterrupt:
            # stopped early (Ctrl-C, or SIGTERM in tools/fuzz.py): report what was run
            report.interrupted = True
        finally:
            pool.close()
            report.restarts = pool.restarts
    report.seconds = time.monotonic() - began
    return report


def _record(report: Report, m: mutate.Mutant, index: int, tier: str, v: Verdict,
            save: Path | None) -> None:
    finding = report.findings.setdefault(v.key, Finding(v.key, tier))
    finding.count += 1
    sidecar = _sidecar(m, report.seed, index, tier, v)
    smaller = finding.smallest is None or len(m.data) < finding.smallest
    saved = None
    if save is not None and (finding.count <= EXAMPLES_PER_KEY or smaller):
        save.mkdir(parents=True, exist_ok=True)
        stem = f"{v.cls}-{tier}-s{report.seed}-i{index}"
        suffix = ".fits.gz" if m.name.endswith(".gz") else ".fits"
        (save / (stem + suffix)).write_bytes(m.data)
        (save / (stem + ".json")).write_text(json.dumps(sidecar, indent=1))
        saved = str(save / (stem + suffix))
        finding.saved.append(saved)
    if smaller:
        finding.smallest = len(m.data)
        finding.example = {k: sidecar[k] for k in ("seed", "index", "mutation", "stage",
                                                    "exception", "traceback_tail")}
        finding.example.update(reproducer=saved, size=len(m.data))


def replay(path: Path, *, limits: Limits | None = None, with_astropy: bool = True
           ) -> dict[str, Verdict]:
    """Every tier's verdict on one file (a saved mutant or regression), each in a child."""
    limits = limits or Limits()
    targets = ([REFERENCE] if with_astropy and astropy_available() else []) + list(TIERS)
    return run_targets(path, targets, limits)


def run_targets(path: Path, targets: list[str], limits: Limits,
                pool: Pool | None = None) -> dict[str, Verdict]:
    """Verdicts of ``targets`` (names or "file.py:function") on a copy of ``path``, run on
    ``pool`` (default: a one-server pool of its own)."""
    data = path.read_bytes()
    size = len(data)
    if path.name.endswith(".gz"):
        try:
            size = len(gzip.decompress(data))
        except (OSError, EOFError, zlib.error):
            pass

    def make(directory: Path) -> dict[str, Any]:
        copy = directory / path.name
        shutil.copyfile(path, copy)
        return request_for(copy, size, targets, limits)

    with tempfile.TemporaryDirectory(prefix="fitsfuzz-") as tmp:
        own = pool is None
        pool = pool or Pool(1, Path(tmp))
        try:
            (_, results), = pool.map(iter([(None, make)]))
        finally:
            if own:
                pool.close()
    return verdicts(results)


def same(found: Verdict, wanted: Verdict) -> bool:
    """Whether two verdicts are one root cause: the same key, except that a hang's frame
    is wherever the loop was when the dump was taken."""
    if wanted.cls == "hang":
        return found.cls == "hang"
    return found.key == wanted.key


def minimize(path: Path, tier: str, out: Path, *, limits: Limits | None = None,
             with_astropy: bool = True) -> Verdict:
    """Write to ``out`` the smallest file found, by dropping whole extension HDUs and the
    bytes after the last HDU that matters, on which ``tier`` still gets the verdict it gets
    on ``path`` (see :func:`same`); return that verdict. gzip-wrapped
    files are minimized inside and wrapped again."""
    limits = limits or Limits()
    targets = ([REFERENCE] if with_astropy and astropy_available() else []) + [tier]
    wrapped = path.name.endswith(".gz")
    raw = path.read_bytes()
    data = gzip.decompress(raw) if wrapped else raw
    with tempfile.TemporaryDirectory(prefix="fitsfuzz-min-") as tmp:
        pool = Pool(1, Path(tmp) / "servers")
        trial = Path(tmp) / path.name

        def verdict(candidate: bytes) -> Verdict:
            trial.write_bytes(gzip.compress(candidate, mtime=0) if wrapped else candidate)
            return run_targets(trial, targets, limits, pool)[tier]

        try:
            wanted = verdict(data)
            changed = True
            while changed:
                changed = False
                hdus = parse_hdus(data)
                # the last HDU first: dropping it also drops whatever trails the file
                for hdu in reversed(hdus[1:]):
                    end = hdus[hdu.index + 1].header_start if hdu.index + 1 < len(hdus) \
                        else len(data)
                    candidate = data[:hdu.header_start] + data[end:]
                    if candidate != data and same(verdict(candidate), wanted):
                        data, changed = candidate, True
                        break
        finally:
            pool.close()
    out.write_bytes(gzip.compress(data, mtime=0) if wrapped else data)
    return wanted
