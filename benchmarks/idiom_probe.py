"""Measurements of the idiom family made outside the timed process: the peak memory of one job
in one idiom, and the machine's own ceilings (memory copy, page-cache read, Rice codec).

Peak memory: each (job, idiom) runs once in a fresh Python process, which reports its
``VmHWM`` (the high-water mark of its resident memory, from ``/proc/self/status``) before and
after the call: "after" is the peak, "after - before" what the call itself added on top of the
interpreter, the library and the job's inputs. ``VmHWM`` belongs to the process's own address
space, so unlike ``getrusage`` it does not inherit the peak of the benchmark process that
started it. The job's state reaches the child pickled, its large arrays as ``.npy`` files.

    python -m benchmarks.idiom_probe rss STATE.pkl JOB IDIOM QUICK
    python -m benchmarks.idiom_probe rice PATH ROWS COLS REPEAT
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from typing import Any

import numpy as np

from .common import vm_hwm

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BIG = 1 << 20  # arrays at least this large go to .npy files, not into the pickle


class _Pickler(pickle.Pickler):
    """Pickles a state with its large arrays saved beside it as ``.npy`` files, each once."""

    def __init__(self, fh, stem: str):
        super().__init__(fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.stem = stem
        self.saved: dict[int, str] = {}  # id of an array (alive while pickling) -> its file

    def persistent_id(self, obj: Any) -> str | None:
        if type(obj) is not np.ndarray or obj.nbytes < _BIG:
            return None
        path = self.saved.get(id(obj))
        if path is None:
            path = f"{self.stem}-{len(self.saved)}.npy"
            np.save(path, obj)
            self.saved[id(obj)] = path
        return path


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid: str) -> np.ndarray:
        # np.load reads straight into the new array: no transient second copy to inflate the
        # baseline the call is measured against
        return np.load(pid)


def save_state(state: Any, path: str) -> list[str]:
    """Pickle ``state`` to ``path`` for the child; the files written (to remove after)."""
    with open(path, "wb") as fh:
        pickler = _Pickler(fh, path.removesuffix(".pkl"))
        pickler.dump(state)
    return [path, *pickler.saved.values()]


def child_env(workdir: str) -> dict[str, str]:
    """The child's environment: this source tree first, its bytecode cached (as cli.py does)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = _ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONPYCACHEPREFIX"] = os.path.join(workdir, "pycache")
    return env


def peak_rss(state_file: str, job: str, idiom: str, quick: bool, env: dict[str, str]
             ) -> tuple[int, int] | None:
    """(peak, added by the call) in bytes of one call of ``job`` in ``idiom``, in a fresh
    process; None if /proc cannot tell."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.idiom_probe", "rss", state_file, job, idiom,
         str(int(quick))], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    return None if found is None else tuple(found)


def _rss_main(state_file: str, job_key: str, idiom: str, quick: str) -> None:
    from .common import load_library
    from .idiom_jobs import jobs

    job = next(j for j in jobs(bool(int(quick))) if j.key == job_key)
    with open(state_file, "rb") as fh:
        state = _Unpickler(fh).load()
    lib = load_library("astropy" if idiom == "astropy" else
                       "fitsbind" if idiom == "dropin" else idiom)
    if job.before is not None:
        job.before(state, idiom)
    before = vm_hwm()
    result = job.runner(idiom)(lib.module, state)
    after = vm_hwm()
    del result
    print(json.dumps(None if before is None or after is None else [after, after - before]))


# --------------------------------------------------------------------------------------------
# Ceilings
# --------------------------------------------------------------------------------------------


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def memcpy_rate(nbytes: int) -> float:
    """Bytes per second numpy copies one large array into another (both already touched)."""
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    return nbytes / _best(lambda: np.copyto(dst, src), 5)


def cache_read_rate(path: str, nbytes: int) -> float:
    """Bytes per second ``os.readv`` reads a file from the page cache into a buffer that is
    already mapped (the file is written, then read once, before the timing)."""
    with open(path, "wb") as fh:
        fh.write(np.ones(nbytes // 8).tobytes())
    buf = np.empty(nbytes, np.uint8)

    def read() -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            done = 0
            view = memoryview(buf)
            while done < nbytes:
                got = os.readv(fd, [view[done:]])
                if got == 0:
                    break
                done += got
        finally:
            os.close(fd)

    read()
    rate = nbytes / _best(read, 5)
    os.remove(path)
    return rate


def rice_rates(path: str, shape: tuple[int, int], repeat: int, env: dict[str, str]
               ) -> tuple[float, float] | None:
    """(encode, decode) bytes of int16 pixels per second of CFITSIO's Rice codec on one core,
    through fitsbind's direct tier in a child pinned to one CPU; None where pinning is not
    available."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.idiom_probe", "rice", path, str(shape[0]),
         str(shape[1]), str(repeat)], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    encode, decode = json.loads(proc.stdout.strip().splitlines()[-1])
    return encode, decode


def _rice_main(path: str, rows: str, cols: str, repeat: str) -> None:
    # pinned before fitsbind starts its codec threads: they inherit this one CPU
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import fitsbind
    from fitsbind.direct import Rice1

    from .datagen import sky_image

    data = sky_image(1, "int16", (int(rows), int(cols)))

    def encode() -> None:
        with fitsbind.FITS(path, "w+") as f:
            f.write_image(data, compress=Rice1())

    def decode() -> None:
        with fitsbind.FITS(path) as f:
            f[1].read()

    encode()
    decode()
    n = int(repeat)
    print(json.dumps([data.nbytes / _best(encode, n), data.nbytes / _best(decode, n)]))
    os.remove(path)


if __name__ == "__main__":
    if sys.argv[1] == "rss":
        _rss_main(*sys.argv[2:6])
    else:
        _rice_main(*sys.argv[2:6])
