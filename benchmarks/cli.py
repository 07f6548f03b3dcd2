"""Whole-command workloads: ``fitsbind compress`` against ``fpack``, ``fitsbind
decompress`` against ``funpack``, ``fitsbind check`` against astropy's ``fitscheck`` and
``fitsbind diff`` against astropy's ``fitsdiff``, each run as a subprocess the way a user runs
it.

Inputs: a 1 GiB int16 image (16384 x 32768) and a 1 GiB float32 image (16384 x 16384) as the
primary HDU (quick: 64 MiB each), sky-like pixels (``datagen.sky_image``) written by astropy;
the decompress inputs are fpack's output of those files. Both sides run with their defaults,
which are the same work: Rice, one image row per tile, floats quantized at level 4 with
SUBTRACTIVE_DITHER_1, CHECKSUM / DATASUM written in every HDU. check verifies the CHECKSUM
and DATASUM of the image file written with them; diff compares it with a copy that differs in
a few pixels (both exit with status 1: the files differ).

The framework times the fitsbind command (wall clock of the whole subprocess, Python start-up
included); the workload's note then runs the CFITSIO tool as many times, untimed by the
framework, and reports both medians, their ratio (tool / fitsbind: above 1 means fitsbind is
faster) and the peak resident memory of each, from ``/usr/bin/time -f %M``. (Read in the
benchmark process, ``getrusage(RUSAGE_CHILDREN)`` would give the largest child so far, and a
child started by vfork would start from this process's peak; ``time`` forks a fresh child.)

The fitsbind subprocess runs from this source tree with its bytecode cached under the work
directory (``PYTHONPYCACHEPREFIX``), as an installed package's would be: without it, a
``PYTHONDONTWRITEBYTECODE`` environment recompiles fitsbind at every start (about 0.3 s).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from . import datagen
from .common import CheckFailed, Config, Context, Unavailable, Workload

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class CommandState:
    """One workload's input, output and the commands compared."""

    source: str
    output: str
    fitsbind: list[str]
    peer: list[str]
    dtype: str
    env: dict[str, str]
    times: list[float] = field(default_factory=list)   # fitsbind's calls, warm-up first
    # the exit status both commands end with when they did their job
    status: int = 0


def _env(ctx: Context) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = _ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONPYCACHEPREFIX"] = ctx.path("pycache")
    return env


def _image(ctx: Context, dtype: str, shape: tuple[int, int], variant: str = "") -> str:
    """The image file: plain; ``"checksum"``: with CHECKSUM / DATASUM; ``"changed"``: with
    a few pixels changed."""
    def make() -> str:
        from astropy.io import fits

        data = datagen.sky_image(ctx.cfg.seed + 41, dtype, shape)
        if variant == "changed":
            data[::4096, ::4096] += 1
        path = ctx.path(f"cli-{dtype}-{shape[0]}x{shape[1]}{variant}.fits")
        fits.PrimaryHDU(data).writeto(path, overwrite=True, checksum=variant == "checksum")
        return path

    return ctx.shared(f"cli-{dtype}-{shape}{variant}", make)


def _packed(ctx: Context, dtype: str, shape: tuple[int, int]) -> str:
    def make() -> str:
        source = _image(ctx, dtype, shape)
        path = source + ".fz"
        subprocess.run(["fpack", "-O", path, source], check=True)
        return path

    return ctx.shared(f"cli-packed-{dtype}-{shape}", make)


def _run_fitsbind(module: object, st: CommandState | None) -> str:
    if st is None:
        raise Unavailable("fpack / funpack (libcfitsio-bin) are not installed")
    t0 = time.perf_counter()
    proc = subprocess.run(st.fitsbind, env=st.env, capture_output=True, text=True)
    st.times.append(time.perf_counter() - t0)
    if proc.returncode != st.status:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    return st.output


def _before(st: CommandState, lib: str) -> None:
    if os.path.exists(st.output):
        os.remove(st.output)


def _timed(command: list[str], env: dict[str, str], status: int = 0
           ) -> tuple[float, int | None]:
    """(wall seconds, peak RSS in bytes or None) of one run of ``command``, which must end
    with exit status ``status``."""
    timer = shutil.which("time", path="/usr/bin")
    wrapped = [timer, "-f", "%M", *command] if timer else command
    t0 = time.perf_counter()
    proc = subprocess.run(wrapped, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != status:
        raise RuntimeError(f"{command[0]} failed: {proc.stderr.strip()[-200:]}")
    peak = int(proc.stderr.strip().splitlines()[-1]) * 1024 if timer else None
    return seconds, peak


def _annotate(st: CommandState, lib: str) -> str:
    """Run the CFITSIO tool as many times as fitsbind ran (timed calls), then fitsbind once
    more for its peak memory; the medians, their ratio and both peaks."""
    ours = st.times[1:] or st.times
    theirs, peaks = [], []
    for _ in ours:
        _before(st, lib)
        seconds, peak = _timed(st.peer, st.env, st.status)
        theirs.append(seconds)
        peaks.append(peak)
    _before(st, lib)
    _, our_peak = _timed(st.fitsbind, st.env, st.status)
    mine, other = statistics.median(ours), statistics.median(theirs)
    mib = 1 << 20
    memory = ("" if our_peak is None or peaks[0] is None else
              f"; peak RSS fitsbind {our_peak / mib:.0f} MiB, {st.peer[0]} "
              f"{max(peaks) / mib:.0f} MiB")
    return (f"median fitsbind {mine:.2f}s, {st.peer[0]} {other:.2f}s: {other / mine:.2f}x"
            f"{memory}; load {os.getloadavg()[0]:.1f}")


def _check(st: CommandState, result: str, lib: str) -> None:
    """The output's first rows against the input: equal (integers), within a quantization
    step of the pixels' noise of 20 (floats, level 4: 5)."""
    import fitsbind

    with fitsbind.FITS(result) as out, fitsbind.FITS(st.source) as src:
        got = next(h for h in out if h.has_data)[:64]
        want = next(h for h in src if h.has_data)[:64]
    if got.shape != want.shape:
        raise CheckFailed(f"{lib}: first rows of shape {got.shape}, expected {want.shape}")
    error = float(np.abs(got.astype(np.float64) - want).max())
    if error > (0 if st.dtype == "int16" else 20 / 4):
        raise CheckFailed(f"{lib}: pixels differ from the input by up to {error}")


def _workload(verb: str, dtype: str, shape: tuple[int, int], size: str) -> Workload:
    peer = "fpack" if verb == "compress" else "funpack"

    def prepare(ctx: Context) -> CommandState | None:
        if shutil.which(peer) is None or shutil.which("fpack") is None:
            return None     # the runner says so
        source = _image(ctx, dtype, shape) if verb == "compress" else _packed(ctx, dtype, shape)
        output = ctx.path(f"cli-out-{verb}-{dtype}.fits")
        command = [sys.executable, "-m", "fitsbind", verb, "--quiet", "-O", output, source]
        return CommandState(source, output, command, [peer, "-O", output, source], dtype,
                            _env(ctx))

    return Workload(
        name=f"cli_{verb} {dtype} {shape[0]}x{shape[1]} ({size})",
        family=f"cli_{verb}",
        description=f"fitsbind {verb} vs {peer} on a {size} {dtype} image, whole commands",
        prepare=prepare,
        runners={"fitsbind": _run_fitsbind},
        check=_check,
        before_each=_before,
        annotate=_annotate,
        max_repeat=3,
        params={"dtype": dtype, "shape": list(shape), "peer": peer},
    )


def _ran(st: CommandState, result: str, lib: str) -> None:
    """Nothing to compare: the exit status was checked when the command ran."""


def _reading_workload(verb: str, peer: str, shape: tuple[int, int], size: str) -> Workload:
    """``fitsbind check`` / ``fitsbind diff`` against astropy's script, on the int16 image."""
    def prepare(ctx: Context) -> CommandState | None:
        if shutil.which(peer) is None:
            return None
        if verb == "check":
            files, status = [_image(ctx, "int16", shape, "checksum")], 0
        else:
            files, status = [_image(ctx, "int16", shape),
                             _image(ctx, "int16", shape, "changed")], 1
        command = [sys.executable, "-m", "fitsbind", verb, *files]
        return CommandState(files[0], ctx.path(f"cli-none-{verb}"), command, [peer, *files],
                            "int16", _env(ctx), status=status)

    return Workload(
        name=f"cli_{verb} int16 {shape[0]}x{shape[1]} ({size})",
        family=f"cli_{verb}",
        description=f"fitsbind {verb} vs astropy's {peer} on a {size} int16 image, whole "
                    "commands",
        prepare=prepare,
        runners={"fitsbind": _run_fitsbind},
        check=_ran,
        before_each=_before,
        annotate=_annotate,
        max_repeat=3,
        params={"shape": list(shape), "peer": peer},
    )


def workloads(cfg: Config) -> list[Workload]:
    if cfg.quick:
        images = {"int16": (4096, 8192), "float32": (4096, 4096)}
        size = "64 MiB"
    else:
        images = {"int16": (16384, 32768), "float32": (16384, 16384)}
        size = "1 GiB"
    return [*(_workload(verb, dtype, shape, size)
              for verb in ("compress", "decompress") for dtype, shape in images.items()),
            _reading_workload("check", "fitscheck", images["int16"], size),
            # both diffs hold about 16 times the data in memory: a quarter of the image
            _reading_workload("diff", "fitsdiff", (images["int16"][0] // 2,
                                                   images["int16"][1] // 2),
                              "16 MiB" if cfg.quick else "256 MiB")]
