"""Run the fitsbind benchmark suite against astropy.io.fits, fitsio and rustfits.

    python -m benchmarks.run [--quick] [--only NAME ...] [--repeat N] [--json out.json]

For every workload it prints the best wall-clock time of each library and, for each peer, the
ratio peer time / fitsbind time: above 1 means fitsbind is faster. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
import traceback
from dataclasses import dataclass
from typing import Any

from . import cli, compressed, dropin, facade, headers, idiom, images, tables
from .common import (
    LIBRARIES,
    PEERS,
    SUBJECT,
    Config,
    Context,
    Library,
    Unavailable,
    Workload,
    load_library,
    measure,
)

# One module per workload family, each with ``workloads(cfg) -> list[Workload]`` and,
# optionally, ``report(records, ctx) -> list[str]``: lines printed after the run's summary.
FAMILY_MODULES = (images, headers, tables, compressed, dropin, facade, cli, idiom)


def all_workloads(cfg: Config) -> list[Workload]:
    found = [w for module in FAMILY_MODULES for w in module.workloads(cfg)]
    names = [w.name for w in found]
    if len(set(names)) != len(names):
        raise RuntimeError(f"duplicate workload names: {names}")
    return found


# --------------------------------------------------------------------------------------------
# Running one workload
# --------------------------------------------------------------------------------------------


@dataclass
class LibResult:
    status: str  # "ok", "unavailable", "n/a", "error", "wrong"
    detail: str = ""
    best: float | None = None
    median: float | None = None
    times: list[float] | None = None
    ratio: float | None = None  # peer best / fitsbind best; only for peers
    note: str = ""  # from the workload's annotate hook, e.g. a peak memory

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != ""}


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def run_workload(
    w: Workload, state: Any, libs: dict[str, Library], repeat: int, min_time: float, verbose: bool
) -> dict[str, LibResult]:
    results: dict[str, LibResult] = {}
    for name, lib in libs.items():
        if not lib.available:
            results[name] = LibResult("unavailable", lib.reason or "not installed")
            continue
        runner = w.runners.get(name)
        if runner is None:
            results[name] = LibResult("n/a", "no implementation of this workload")
            continue

        def call(runner=runner, module=lib.module):
            return runner(module, state)

        before = None
        if w.before_each is not None:

            def before(hook=w.before_each, name=name):
                hook(state, name)

        # Warm-up call; its result is the one checked, outside the timing.
        try:
            if before is not None:
                before()
            result = call()
        except Unavailable as exc:
            results[name] = LibResult("unavailable", str(exc))
            continue
        except Exception as exc:
            if verbose:
                traceback.print_exc()
            results[name] = LibResult("error", _describe(exc))
            continue
        try:
            if w.check is not None:
                w.check(state, result, name)
        except Exception as exc:
            if verbose:
                traceback.print_exc()
            results[name] = LibResult("wrong", _describe(exc))
            continue
        finally:
            del result

        try:
            calls, cap = repeat, 100
            if w.max_repeat is not None:  # a slow workload: at most this many timed calls
                calls = cap = max(1, min(repeat, w.max_repeat))
            t = measure(call, repeat=calls, min_time=min_time, max_samples=cap, before_each=before)
        except Exception as exc:
            if verbose:
                traceback.print_exc()
            results[name] = LibResult("error", _describe(exc))
            continue
        note = ""
        if w.annotate is not None:
            try:
                note = w.annotate(state, name) or ""
            except Exception as exc:
                if verbose:
                    traceback.print_exc()
                note = f"note failed: {_describe(exc)}"
        results[name] = LibResult("ok", best=t.best, median=t.median, times=t.times, note=note)

    subject = results.get(SUBJECT)
    if subject is not None and subject.status == "ok" and subject.best:
        for peer in PEERS:
            r = results.get(peer)
            if r is not None and r.status == "ok":
                r.ratio = r.best / subject.best
    return results


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def fmt_time(t: float) -> str:
    return f"{t * 1e3:.2f}ms" if t < 0.01 else f"{t:.3f}s"


def fmt_ratio(r: float) -> str:
    return f"{r:.2f}x" if r < 10 else f"{r:.1f}x"


def format_line(name: str, width: int, results: dict[str, LibResult]) -> str:
    cells = []
    for lib, r in results.items():
        if r.status == "ok":
            text = f"{lib} {fmt_time(r.best)}"
            if r.ratio is not None:
                text += f" ({fmt_ratio(r.ratio)})"
            if r.note:
                text += f" [{r.note}]"
        elif r.status == "unavailable":
            text = f"{lib} not installed" if r.detail == "not installed" else f"{lib} unavailable"
        elif r.status == "n/a":
            text = f"{lib} n/a"
        elif r.status == "wrong":
            text = f"{lib} WRONG RESULT"
        else:
            text = f"{lib} ERROR"
        cells.append(text)
    return f"{name:<{width}}  " + " | ".join(cells)


def print_libraries(libs: dict[str, Library]) -> None:
    print("libraries:")
    for lib in libs.values():
        if lib.available:
            extra = "".join(f", {k} {v}" for k, v in lib.extra.items())
            print(f"  {lib.name:<9} {lib.version or '?'}{extra}")
        else:
            print(f"  {lib.name:<9} {lib.reason}")


def subject_missing(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(workload, reason) for each workload fitsbind could not run although it was imported."""
    return [
        (rec["workload"].name, r.detail)
        for rec in records
        for lib, r in rec["results"].items()
        if lib == SUBJECT and r.status == "unavailable"
    ]


def summarize(records: list[dict[str, Any]], subject_ok: bool) -> list[str]:
    """Lines for the end of the run: workloads where fitsbind loses, and every failure."""
    lines = []
    slower = [
        (rec["workload"].name, peer, r.ratio)
        for rec in records
        for peer, r in rec["results"].items()
        if r.ratio is not None and r.ratio < 1.0
    ]
    missing = subject_missing(records) if subject_ok else []
    if not subject_ok:
        lines.append(f"{SUBJECT} did not run, so no ratios were computed.")
    elif slower:
        lines.append(f"{SUBJECT} is slower than a peer on:")
        for name, peer, ratio in slower:
            lines.append(f"  {name}: {peer} is {1 / ratio:.2f}x faster (ratio {fmt_ratio(ratio)})")
    elif not any(SUBJECT in rec["results"] and rec["results"][SUBJECT].status == "ok" for rec in records):
        lines.append(f"{SUBJECT} ran none of the selected workloads, so no ratios were computed.")
    else:
        where = "every workload it ran" if missing else "every workload run"
        lines.append(f"{SUBJECT} is at least as fast as every installed peer on {where}.")
    if missing:
        lines.append(f"{SUBJECT} could not run (no ratios):")
        for name, detail in missing:
            lines.append(f"  {name}: {detail}")
    problems = [
        (rec["workload"].name, lib, r)
        for rec in records
        for lib, r in rec["results"].items()
        if r.status in ("error", "wrong")
    ]
    unprepared = [rec for rec in records if rec.get("prepare_error")]
    if problems or unprepared:
        lines.append("errors and wrong results:")
    for rec in unprepared:
        lines.append(f"  {rec['workload'].name}: input preparation failed: {rec['prepare_error']}")
    if problems:
        for name, lib, r in problems:
            label = "wrong result" if r.status == "wrong" else "error"
            lines.append(f"  {name}: {lib} {label}: {r.detail}")
    return lines


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Time fitsbind against astropy.io.fits, fitsio and rustfits on the same files. "
        "Ratios are peer time / fitsbind time: above 1 means fitsbind is faster.",
    )
    p.add_argument("--quick", action="store_true", help="small inputs and fewer repetitions (a smoke run)")
    p.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="run only these workloads: a family (image_read, cutouts, ...) or the start of a full name",
    )
    p.add_argument("--repeat", type=int, help="timed calls per library and workload (default 5, quick 3)")
    p.add_argument(
        "--min-time",
        type=float,
        help="keep timing a library until its calls add up to this many seconds, up to 100 calls "
        "(default 0.5, quick 0.05); steadies the minimum of fast workloads",
    )
    p.add_argument(
        "--libs",
        nargs="+",
        choices=LIBRARIES,
        metavar="LIB",
        help=f"time only these libraries (from {', '.join(LIBRARIES)})",
    )
    p.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    p.add_argument(
        "--workdir", metavar="DIR", help="write the input files here and keep them (default: a temp dir)"
    )
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit with status 1 if fitsbind is slower anywhere or cannot run a workload, or any "
        "library errs or returns a wrong result",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="print tracebacks of library errors")
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 3 if args.quick else 5
    if args.min_time is None:
        args.min_time = 0.05 if args.quick else 0.5
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = Config(quick=args.quick)
    workloads = all_workloads(cfg)
    if args.list:
        for w in workloads:
            print(f"{w.family:<12} {w.name}\n{'':<12} {w.description}")
        return 0
    selected = [w for w in workloads if w.selected_by(args.only)]
    if not selected:
        known = sorted({w.family for w in workloads})
        print(f"no workload matches {args.only}; families: {', '.join(known)}", file=sys.stderr)
        return 2

    libs = {name: load_library(name) for name in (args.libs or LIBRARIES)}
    print_libraries(libs)
    if not any(lib.available for lib in libs.values()):
        print("none of the libraries is available", file=sys.stderr)
        return 2

    if args.workdir:
        workdir = os.path.abspath(args.workdir)
        os.makedirs(workdir, exist_ok=True)
    else:
        workdir = tempfile.mkdtemp(prefix="fitsbind-bench-")
    print(
        f"mode {'quick' if args.quick else 'full'}, best of >= {args.repeat} calls after a warm-up "
        f"(>= {args.min_time:g}s of calls), warm page cache; workdir {workdir}"
    )
    print("ratio = peer time / fitsbind time (> 1: fitsbind faster)\n", flush=True)

    width = max(len(w.name) for w in selected)
    ctx = Context(workdir, cfg)
    records: list[dict[str, Any]] = []
    try:
        for w in selected:
            record: dict[str, Any] = {"workload": w, "results": {}}
            records.append(record)
            try:
                state = w.prepare(ctx)
            except Exception as exc:
                if args.verbose:
                    traceback.print_exc()
                record["prepare_error"] = _describe(exc)
                print(f"{w.name:<{width}}  input preparation failed: {record['prepare_error']}", flush=True)
                continue
            record["results"] = run_workload(w, state, libs, args.repeat, args.min_time, args.verbose)
            del state
            print(format_line(w.name, width, record["results"]), flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    subject = libs.get(SUBJECT)
    subject_ok = subject is not None and subject.available
    print()
    summary = summarize(records, subject_ok)
    print("\n".join(summary))
    for module in FAMILY_MODULES:
        extra = module.report(records, ctx) if hasattr(module, "report") else []
        if extra:
            print("\n" + "\n".join(extra))

    if args.json:
        write_json(args, libs, records, summary, workdir)

    failed = any(r.status in ("error", "wrong") for rec in records for r in rec["results"].values())
    failed = failed or any(rec.get("prepare_error") for rec in records)
    slower = any(r.ratio is not None and r.ratio < 1 for rec in records for r in rec["results"].values())
    missing = subject_ok and bool(subject_missing(records))
    return 1 if args.strict and (failed or slower or missing or not subject_ok) else 0


def write_json(
    args: argparse.Namespace,
    libs: dict[str, Library],
    records: list[dict[str, Any]],
    summary: list[str],
    workdir: str,
) -> None:
    doc = {
        "meta": {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "mode": "quick" if args.quick else "full",
            "repeat": args.repeat,
            "min_time": args.min_time,
            "timer": "time.perf_counter, best of the timed calls after one warm-up call, warm page cache",
            "ratio": "peer best / fitsbind best; > 1 means fitsbind is faster",
            "workdir": workdir if args.workdir else None,
        },
        "libraries": {
            lib.name: {"available": lib.available, "version": lib.version, "reason": lib.reason, **lib.extra}
            for lib in libs.values()
        },
        "workloads": [
            {
                "name": rec["workload"].name,
                "family": rec["workload"].family,
                "description": rec["workload"].description,
                "params": rec["workload"].params,
                **({"prepare_error": rec["prepare_error"]} if rec.get("prepare_error") else {}),
                "results": {lib: r.as_json() for lib, r in rec["results"].items()},
            }
            for rec in records
        ],
        "summary": summary,
    }
    with open(args.json, "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    sys.exit(main())
