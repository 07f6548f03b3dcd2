"""Run astropy's io.fits test suite with fitsbind in astropy's place and count the results.

The set of tests is what pytest collects from the unmodified copy under astropy; a test that the
fitsbind run never reports (its module failed to import) counts as failed.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import rewrite

KNOWN = Path(__file__).resolve().parent / "known_differences.txt"


def astropy_tests() -> Path:
    import astropy

    return Path(astropy.__file__).resolve().parent / "io" / "fits" / "tests"


def _pytest(folder: Path, args: list[str], env: dict[str, str],
            memory: int | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pytest", rewrite.PACKAGE, "-p", "no:cacheprovider",
           "--rootdir", str(folder), "-c", os.devnull, *args]

    def limit() -> None:
        # A test that allocates past the limit fails with MemoryError instead of waking the
        # kernel's OOM killer, which may pick any process on the machine.
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True,
                          preexec_fn=limit if memory else None)


def collect(folder: Path, env: dict[str, str]) -> list[str]:
    """Node ids pytest collects in ``folder`` (network tests deselected)."""
    done = _pytest(folder, ["--collect-only", "-q"], env)
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    if not ids:
        raise RuntimeError(f"collecting the suite found no tests:\n{done.stdout}\n{done.stderr}")
    return ids


@dataclass
class Result:
    outcome: dict[str, str] = field(default_factory=dict)  # id -> passed/failed/skipped
    error: dict[str, str] = field(default_factory=dict)    # id -> first line of the failure

    def counts(self) -> dict[str, Counter]:
        per: dict[str, Counter] = defaultdict(Counter)
        for test_id, outcome in self.outcome.items():
            per[module_of(test_id)][outcome] += 1
        return per


def module_of(test_id: str) -> str:
    return Path(test_id.split("::", 1)[0]).stem


def run(workdir: Path, target: str, pytest_args: list[str],
        memory: int | None = None) -> Result:
    """Copy the suite into ``workdir`` and run it against ``target`` ("fitsbind" or "astropy")."""
    source = astropy_tests()
    plain = workdir / "astropy"
    rewrite.copy_suite(source, plain, rewrite=False)
    env = dict(os.environ, FITSBIND_SUITE_TARGET="astropy")
    env.pop("FITSBIND_SUITE_RESULTS", None)
    universe = collect(plain, env)

    folder = plain
    if target == "fitsbind":
        folder = workdir / "fitsbind"
        rewrite.copy_suite(source, folder)
    results = workdir / f"results-{target}.jsonl"
    results.unlink(missing_ok=True)
    skip = workdir / f"skip-{target}.txt"
    skip.write_text("")
    env = dict(os.environ, FITSBIND_SUITE_TARGET=target, FITSBIND_SUITE_RESULTS=str(results),
               FITSBIND_SUITE_SKIP=str(skip))
    result = Result()
    with open(workdir / f"pytest-{target}.log", "w") as log:
        # A test that kills the pytest process (a crash, the OOM killer) is recorded as failed
        # and the run resumes after it, so one crash does not hide the rest of the suite.
        while True:
            done = _pytest(folder, ["-q", "--continue-on-collection-errors", *pytest_args], env,
                           memory)
            log.write(done.stdout + done.stderr)
            crashed = _read_results(results, result)
            if done.returncode >= 0 or crashed is None:
                break
            result.outcome[crashed] = "failed"
            result.error[crashed] = f"crashed the test process (signal {-done.returncode})"
            with open(skip, "a") as f:
                f.write(crashed + "\n")

    for test_id in universe:
        if test_id not in result.outcome:
            result.outcome[test_id] = "failed"
            result.error[test_id] = "not run: its module failed to import or collect"
    return result


def _read_results(path: Path, result: Result) -> str | None:
    """Fold the records in ``path`` into ``result``; returns the id of a test that started and
    never finished (the process died in it), else None."""
    started = None
    for line in path.read_text().splitlines() if path.exists() else ():
        rec = json.loads(line)
        test_id, outcome = rec["id"], rec["outcome"]
        if outcome == "started":
            started = test_id
            continue
        if test_id == started and rec["when"] == "teardown":
            started = None
        if outcome == "passed" and rec["when"] != "call":
            continue  # a passed setup or teardown says nothing about the test
        if outcome == "failed":
            result.outcome[test_id] = "failed"
            result.error.setdefault(test_id, rec.get("error", ""))
        elif result.outcome.get(test_id) != "failed":
            result.outcome[test_id] = outcome
    return started


def read_known(path: Path) -> dict[str, str]:
    """``test id  # reason`` lines; blank lines and lines starting with '#' are comments."""
    known = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test_id, sep, reason = line.partition(" # ")
        if not sep or not reason.strip():
            raise ValueError(f"{path}:{n}: a known difference needs ' # <reason>' after the test id")
        known[test_id.strip()] = reason.strip()
    return known


def table(result: Result) -> str:
    rows = ["| module | tests | passed | failed | skipped | pass rate |", "|---|---|---|---|---|---|"]
    total: Counter = Counter()
    for module, c in sorted(result.counts().items()):
        total.update(c)
        rows.append(_row(module, c))
    rows.append(_row("**total**", total))
    return "\n".join(rows)


def _row(name: str, c: Counter) -> str:
    tests = sum(c.values())
    ran = tests - c["skipped"]
    rate = f"{100 * c['passed'] / ran:.1f}%" if ran else "-"
    return f"| {name} | {tests} | {c['passed']} | {c['failed']} | {c['skipped']} | {rate} |"
