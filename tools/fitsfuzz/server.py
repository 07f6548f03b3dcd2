"""The fork server: a process that imports numpy, fitsbind and astropy once, then forks a fresh
child per (mutant, target), so each touch starts from a clean, pre-imported interpreter and a
crash, leak or corrupted global state dies with its child.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout.

Request ``{"path", "workdir", "targets": [...], "timeout" (s), "size" (bytes of FITS the file
holds, uncompressed), "margin" (bytes), "fsize" (bytes)}``; a target is a name of
:data:`fitsfuzz.touch.TARGETS` or ``"/path/to/file.py:function"`` (for the harness's own tests).

Reply ``{"results": {target: outcome}}``, an outcome being ``{"how": "exited" | "signal" |
"timeout", "code", "signal", "stages" (the touch's, or None when the child did not report),
"dump" (faulthandler's traceback of a crash or hang), "output" (what the child printed),
"diskfill" (a file it wrote reached the size limit), "seconds"}``.

The child's limits: address space = the server's own (after its imports) + ``size`` +
``margin``, so an allocation beyond what the file could need fails (MemoryError); file size =
``fsize`` with SIGXFSZ ignored, so a write past it fails with EFBIG instead of killing the
child; wall clock = ``timeout``, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import faulthandler
import importlib.util
import json
import os
import resource
import select
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np  # noqa: F401  (imported before forking: every child starts with it)

import fitsbind  # noqa: F401
from fitsfuzz.touch import TARGETS

with contextlib.suppress(ImportError):
    import astropy.io.fits  # noqa: F401


def _virtual_size() -> int:
    """This process's address-space size in bytes (VmSize)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


_loaded: dict[str, Callable[[str, str], list]] = {}


def target_function(spec: str) -> Callable[[str, str], list]:
    """The touch function a target names (file-based ones are imported once, here, before
    any fork)."""
    if spec in TARGETS:
        return TARGETS[spec]
    if spec not in _loaded:
        file, _, name = spec.rpartition(":")
        module_spec = importlib.util.spec_from_file_location(f"fuzz_target_{len(_loaded)}", file)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        _loaded[spec] = getattr(module, name)
    return _loaded[spec]


def _child(touch: Callable[[str, str], list], request: dict[str, Any], workdir: Path,
           report: int, baseline: int) -> None:
    """In the forked child: limits, then the touch; write its stages to ``report`` and exit
    without running any of the parent's cleanup."""
    try:
        # stdout is the server's protocol channel and stderr is the run's console: the
        # child's own output (CFITSIO must print nothing) goes to a file of its own
        out = os.open(workdir / "output.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(out, 2)
        dump = open(workdir / "faulthandler.txt", "w")
        faulthandler.enable(dump)
        faulthandler.dump_traceback_later(max(request["timeout"] - 0.5, 0.1), file=dump)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        limit = baseline + int(request["size"]) + int(request["margin"])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_FSIZE, (request["fsize"], request["fsize"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        stages = touch(request["path"], str(workdir))
        faulthandler.cancel_dump_traceback_later()
        os.write(report, json.dumps(stages).encode())
        os._exit(0)
    except BaseException:
        os._exit(70)


def run_target(spec: str, request: dict[str, Any], baseline: int) -> dict[str, Any]:
    """Fork a child for one target and wait for it, at most ``timeout`` seconds."""
    touch = target_function(spec)
    workdir = Path(request["workdir"]) / spec.rpartition(":")[2]
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(touch, request, workdir, write_end, baseline)
    os.close(write_end)
    deadline = started + float(request["timeout"])
    chunks, how = [], None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            how = "timeout"
            break
        ready, _, _ = select.select([read_end], [], [], left)
        if ready:
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - started
    if how is None:
        how = "signal" if os.WIFSIGNALED(status) else "exited"
    stages = None
    if how == "exited" and os.WEXITSTATUS(status) == 0 and chunks:
        with contextlib.suppress(ValueError):
            stages = json.loads(b"".join(chunks))
    texts = {}
    for name in ("faulthandler", "output"):
        with contextlib.suppress(OSError):
            texts[name] = (workdir / f"{name}.txt").read_text(errors="replace")[-4000:]
    # CFITSIO reports a failed write as its own status, without errno: a file at the limit
    # is what tells a full disk
    diskfill = any(p.stat().st_size >= int(request["fsize"]) for p in workdir.rglob("*")
                   if p.is_file())
    shutil.rmtree(workdir, ignore_errors=True)
    return {"how": how, "diskfill": diskfill,
            "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "stages": stages, "dump": texts.get("faulthandler", ""),
            "output": texts.get("output", ""), "seconds": round(seconds, 3)}


def serve() -> None:
    baseline = _virtual_size()
    for line in sys.stdin:
        request = json.loads(line)
        results = {spec: run_target(spec, request, baseline) for spec in request["targets"]}
        sys.stdout.write(json.dumps({"results": results}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
