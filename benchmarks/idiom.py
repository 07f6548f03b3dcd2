"""Same job, each library's idiom: every job of issue 19's table and the rest of the suite's
workloads, written as each library's users write them (the jobs are in ``idiom_jobs.py``).

The harness times four of the five columns as usual: astropy, fitsio and rustfits in their own
idioms, and "fitsbind", which here is the direct tier (``fitsbind.FITS``). The fifth, the
drop-in (the astropy code run with ``import fitsbind as fits``), is timed in the fitsbind
column's note hook, the same way (a checked warm-up call, then best and median of at least 5
calls adding up to 0.5 s; quick: 3 and 0.05 s). The same note then gives every idiom's peak
RSS, each from one more call in a fresh process (``idiom_probe``), two processes at a time;
quick mode probes only fitsbind's two columns. Both happen before the harness times the peers
(it times fitsbind first), so nothing runs beside a timed call.

Once per run, before the first job, the machine's ceilings are measured (``idiom_probe``):
memory copy and page-cache read bandwidth, and CFITSIO's Rice codec on one core. At the end,
``report`` prints the family's table in the issue's format (medians), the memory table, and how
far each job's direct-tier time is from the floor its data size and the ceilings set.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import idiom_probe
from .common import Config, Context, Timing, Workload, load_library, measure
from .idiom_jobs import IDIOMS, PEERS, Job, jobs

_MIB = 1 << 20


@dataclass
class Ceilings:
    memcpy: float  # bytes per second
    cache_read: float
    rice: tuple[float, float] | None  # one core: (encode, decode) bytes of pixels per second
    load: tuple[float, float, float]
    cpus: int

    def rate(self, floor: str | None) -> float | None:
        """Bytes per second a job bounded by ``floor`` could at best move."""
        if floor == "read":
            return self.cache_read
        if floor == "write":
            return self.memcpy
        if floor in ("rice_encode", "rice_decode") and self.rice is not None:
            return self.rice[floor == "rice_decode"] * self.cpus
        return None

    def lines(self) -> list[str]:
        rice = ("not measured (no CPU pinning here)" if self.rice is None else
                f"encode {self.rice[0] / 1e6:.0f} MB/s, decode {self.rice[1] / 1e6:.0f} MB/s of "
                f"int16 pixels (fitsbind direct, process pinned to one CPU; {self.cpus} CPUs)")
        return [
            f"machine ceilings (load average {_load(self.load)}):",
            f"  memcpy (numpy copyto, large array): {self.memcpy / 1e9:.2f} GB/s",
            f"  page-cache read (os.readv of a cached file): {self.cache_read / 1e9:.2f} GB/s",
            f"  CFITSIO Rice, one core: {rice}",
        ]


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def _ceilings(ctx: Context) -> Ceilings:
    size = (64 if ctx.cfg.quick else 512) * _MIB
    shape = (1024, 1024) if ctx.cfg.quick else (4096, 4096)
    env = idiom_probe.child_env(ctx.workdir)
    ceilings = Ceilings(
        memcpy=idiom_probe.memcpy_rate(size),
        cache_read=idiom_probe.cache_read_rate(ctx.path("idiom-ceiling.bin"), size),
        rice=idiom_probe.rice_rates(ctx.path("idiom-rice.fits"), shape, 3, env),
        load=os.getloadavg(),
        cpus=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
    )
    print("\n".join(ceilings.lines()), flush=True)
    return ceilings


@dataclass
class JobRecord:
    """What the family learns about one job beyond the harness's timings."""

    job: Job
    nbytes: int = 0
    dropin: Timing | None = None
    dropin_error: str = ""
    rss: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    rss_error: dict[str, str] = field(default_factory=dict)


def _installed(ctx: Context, idiom: str) -> bool:
    """Whether the library an idiom needs imports here (the drop-in needs fitsbind)."""
    name = "fitsbind" if idiom == "dropin" else idiom
    return ctx.shared(f"idiom-installed-{name}", lambda: load_library(name).available)


def _records(ctx: Context) -> dict[str, JobRecord]:
    return ctx.shared("idiom-records", dict)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _workload(job: Job, cfg: Config) -> Workload:
    box: dict[str, Any] = {}  # the run's context and this job's record, set by prepare

    def prepare(ctx: Context) -> Any:
        ctx.shared("idiom-ceilings", lambda: _ceilings(ctx))
        state = job.prepare(ctx)
        box["ctx"] = ctx
        box["record"] = _records(ctx).setdefault(job.key, JobRecord(job, job.nbytes(state)))
        return state

    def before(state: Any, lib: str) -> None:
        if job.before is not None:
            job.before(state, lib)

    def time_dropin(state: Any, rec: JobRecord) -> None:
        try:
            import fitsbind
        except ImportError as exc:
            rec.dropin_error = f"fitsbind not importable ({exc})"
            return

        def call() -> Any:
            return job.astropy(fitsbind, state)

        def restore() -> None:
            before(state, "dropin")

        try:
            restore()
            result = call()
            job.check(state, result, "dropin")
            del result
            rec.dropin = measure(call, 3 if cfg.quick else 5, 0.05 if cfg.quick else 0.5,
                                 before_each=restore)
        except Exception as exc:
            rec.dropin_error = _describe(exc)

    def memory(state: Any, rec: JobRecord) -> str:
        """Every idiom's peak RSS, from fresh processes run two at a time (quick: only
        fitsbind's two columns)."""
        ctx = box["ctx"]
        state_file = ctx.path(f"idiom-state-{job.key}.pkl")
        files = idiom_probe.save_state(state, state_file)
        env = idiom_probe.child_env(ctx.workdir)
        wanted = ("dropin", "fitsbind") if cfg.quick else IDIOMS
        present = [i for i in wanted if _installed(ctx, i)]

        def probe(idiom: str) -> None:
            try:
                rec.rss[idiom] = idiom_probe.peak_rss(state_file, job.key, idiom, cfg.quick, env)
            except Exception as exc:
                rec.rss_error[idiom] = _describe(exc)

        with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            list(pool.map(probe, present))
        for path in files:
            os.remove(path)
        return "peak RSS " + ", ".join(f"{i} {_mib(rec.rss.get(i))}" for i in present)

    def annotate(state: Any, lib: str) -> str | None:
        # Run in the fitsbind column, which the harness times first: the drop-in's timing and
        # the memory probes are done before the peers are timed, never alongside them.
        if lib != "fitsbind":
            return None
        rec: JobRecord = box["record"]
        time_dropin(state, rec)
        if rec.dropin is None:
            dropin = f"drop-in failed: {rec.dropin_error}"
        else:
            dropin = f"drop-in best {_fmt(rec.dropin.best)}, median {_fmt(rec.dropin.median)}"
        return f"{dropin}; {memory(state, rec)}"

    return Workload(
        name=f"idiom_{job.key} {job.title}",
        family=f"idiom_{job.key}",
        description=f"{job.title}, each library in its own idiom (the drop-in in the note)",
        prepare=prepare,
        runners={lib: job.runner(lib) for lib in ("fitsbind", *PEERS)},
        check=job.check,
        before_each=before,
        annotate=annotate,
        params={"job": job.key},
    )


def workloads(cfg: Config) -> list[Workload]:
    return [_workload(job, cfg) for job in jobs(cfg.quick)]


# --------------------------------------------------------------------------------------------
# The final tables
# --------------------------------------------------------------------------------------------


def _fmt(t: float | None) -> str:
    if t is None:
        return "—"
    if t < 1e-3:
        return f"{t * 1e6:.0f} µs"
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or not b else f"{a / b:.2f}"


def _mib(found: tuple[int, int] | None) -> str:
    return "—" if found is None else f"{found[0] / _MIB:.0f} (+{found[1] / _MIB:.0f})"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def report(records: list[dict[str, Any]], ctx: Context) -> list[str]:
    """The family's tables, from the run's records; nothing if no idiom job ran."""
    ours = [r for r in records if r["workload"].family.startswith("idiom_")]
    found = _records(ctx)
    if not ours or not found:
        return []
    ceilings: Ceilings = ctx.shared("idiom-ceilings", lambda: None)
    lines = [f"same job, each library's idiom: medians, {'quick' if ctx.cfg.quick else 'full'} "
             f"mode, load average now {_load(os.getloadavg())}"]
    if ceilings is not None:
        lines += ceilings.lines()
    lines += ["", _row(["job", "astropy", "fitsio", "rustfits", "fitsbind drop-in",
                        "fitsbind direct", "drop-in / best", "direct / best",
                        "drop-in / direct"]), _row(["---"] * 9)]
    memory = [_row(["job", "data", *(f"peak RSS {i}" for i in IDIOMS), "floor",
                    "direct / floor"]), _row(["---"] * 9)]
    for rec in ours:
        key = rec["workload"].params["job"]
        jr = found.get(key)
        if jr is None:
            continue
        res = rec["results"]
        med = {lib: r.median for lib, r in res.items() if r.status == "ok"}
        med["dropin"] = jr.dropin.median if jr.dropin else None
        peers = [med[p] for p in PEERS if med.get(p)]
        best = min(peers) if peers else None
        direct, dropin = med.get("fitsbind"), med["dropin"]
        lines.append(_row([jr.job.title, *(_fmt(med.get(i)) for i in IDIOMS[:3]),
                           _fmt(dropin), _fmt(direct), _ratio(dropin, best),
                           _ratio(direct, best), _ratio(dropin, direct)]))
        rate = ceilings.rate(jr.job.floor) if ceilings else None
        floor = jr.nbytes / rate if rate else None
        memory.append(_row([jr.job.title, f"{jr.nbytes / _MIB:.1f} MiB",
                            *(_mib(jr.rss.get(i)) for i in IDIOMS), _fmt(floor),
                            _ratio(direct, floor)]))
    lines += ["", "peak RSS in MiB of one call in a fresh process (+ what the call added to the "
              "interpreter, library and inputs); floor = data / ceiling (read: page cache, "
              "write: memcpy, Rice: one core x CPUs)", *memory]
    errors = [(jr.job.key, "dropin", jr.dropin_error) for jr in found.values() if jr.dropin_error]
    errors += [(jr.job.key, i, e) for jr in found.values() for i, e in jr.rss_error.items()]
    if errors:
        lines.append("idiom family errors:")
        lines += [f"  {key} {idiom}: {err}" for key, idiom, err in errors]
    return lines
