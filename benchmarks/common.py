"""Shared pieces of the benchmark suite: libraries, workloads, timing, result checks.

A *workload* is one measured task (say "read a 4096x4096 float32 image") with one callable per
library. Every workload family module (``images.py``, ``headers.py``, ...) exposes
``workloads(cfg) -> list[Workload]``; ``run.py`` lists those modules in ``FAMILY_MODULES`` and
drives them. To add a family, write a module with that function and add it to the list.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import mmap
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

# The library under test first; the peers follow in the order they are printed.
SUBJECT = "fitsbind"
PEERS = ("astropy", "fitsio", "rustfits")
LIBRARIES = (SUBJECT, *PEERS)


def vm_hwm() -> int | None:
    """This process's peak resident memory in bytes (VmHWM of /proc/self/status), or None
    where /proc does not say. Unlike ``getrusage``'s ru_maxrss it is not inherited across
    fork + exec, so a subprocess of the benchmark run does not start with the run's peak."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------------------------
# Libraries
# --------------------------------------------------------------------------------------------


@dataclass
class Library:
    """One library as seen by the harness: the module the runners receive, or why it is absent."""

    name: str
    module: Any = None  # what runners get as their first argument
    version: str | None = None
    reason: str | None = None  # why it is unavailable, e.g. "not installed"
    extra: dict = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.module is not None


def _version_of(modname: str) -> str | None:
    try:
        return str(importlib.import_module(modname).__version__)
    except Exception:
        return None


def load_library(name: str) -> Library:
    """Import one library; a missing one comes back with ``reason`` set instead of raising."""
    if name == "astropy":
        try:
            from astropy.io import fits
        except ImportError:
            return Library(name, reason="not installed")
        return Library(name, module=fits, version=_version_of("astropy"))

    if name == "fitsbind":
        try:
            import fitsbind
        except ImportError as exc:
            return Library(name, reason=f"not importable ({exc})")
        if not hasattr(fitsbind, "FITS"):
            return Library(name, reason="fitsbind.FITS not available in this build")
        extra = {"path": os.path.dirname(fitsbind.__file__)}
        try:
            extra["cfitsio"] = fitsbind.cfitsio_version()
        except Exception:
            pass
        return Library(name, module=fitsbind, version=getattr(fitsbind, "__version__", None), extra=extra)

    try:
        module = importlib.import_module(name)
    except ImportError:
        return Library(name, reason="not installed")
    return Library(name, module=module, version=getattr(module, "__version__", None))


# --------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------


class CheckFailed(AssertionError):
    """A library returned or wrote something other than the expected result."""


class Unavailable(Exception):
    """Raised by a runner when its library lacks what the workload needs (say a method that is
    not written yet). The harness reports the library as unavailable for that workload, with
    this message, instead of as an error. Runners check before doing any work."""


# runner(library_module, state) -> result. Only this call is timed.
Runner = Callable[[Any, Any], Any]


@dataclass
class Workload:
    """One benchmarked task with a callable per library.

    ``prepare(ctx)`` builds the inputs (untimed, once per run) and returns a *state* object that
    every runner and check receives. ``runners`` maps a library name to ``runner(module, state)``;
    a library without an entry is reported as "n/a" for this workload. ``check(state, result,
    lib_name)`` runs once per library on the warm-up result, outside the timing, and raises
    ``CheckFailed`` if the result is wrong. ``before_each(state, lib_name)``, if given, runs
    untimed before every timed call (e.g. to restore a file a previous call modified).
    ``annotate(state, lib_name)``, if given, runs once per library after its timed calls
    (untimed) and returns a short note printed after that library's time, or None; e.g. a peak
    memory measured by running the workload again in a fresh subprocess. ``max_repeat``, if
    given, caps the number of timed calls (below ``--repeat``, whatever ``--min-time`` asks)
    for workloads whose every call takes many seconds.
    """

    name: str
    family: str
    description: str
    prepare: Callable[[Context], Any]
    runners: dict[str, Runner]
    check: Callable[[Any, Any, str], None] | None = None
    before_each: Callable[[Any, str], None] | None = None
    params: dict = field(default_factory=dict)
    annotate: Callable[[Any, str], str | None] | None = None
    max_repeat: int | None = None

    def selected_by(self, patterns: list[str] | None) -> bool:
        """True if ``--only`` names this workload's family, its full name or a prefix of it."""
        if not patterns:
            return True
        name = self.name.lower()
        return any(p.lower() == self.family or name.startswith(p.lower()) for p in patterns)


@dataclass
class Config:
    """Run-wide settings that workload modules use to size their inputs."""

    quick: bool = False
    seed: int = 20240611


class Context:
    """Where input files live, with a per-run cache so workloads can share one input file."""

    def __init__(self, workdir: str, cfg: Config):
        self.workdir = workdir
        self.cfg = cfg
        self._cache: dict[str, Any] = {}

    def path(self, name: str) -> str:
        return os.path.join(self.workdir, name)

    def shared(self, key: str, make: Callable[[], Any]) -> Any:
        """Return ``make()``, computed at most once per run for this key."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


@dataclass
class Timing:
    best: float
    median: float
    times: list[float]


def measure(
    fn: Callable[[], Any],
    repeat: int,
    min_time: float = 0.0,
    max_samples: int = 100,
    before_each: Callable[[], None] | None = None,
) -> Timing:
    """Best-of-N wall-clock time of ``fn()`` with ``time.perf_counter``.

    Takes at least ``repeat`` samples, and keeps sampling (up to ``max_samples``) until the
    samples add up to ``min_time`` seconds, so that fast workloads get enough samples for their
    minimum to be stable. The caller does the warm-up call. The result of each call is dropped
    after the clock stops, so freeing a large array is not part of the measurement, and garbage
    is collected before each call for the same reason.
    """
    times: list[float] = []
    total = 0.0
    while len(times) < repeat or (total < min_time and len(times) < max_samples):
        if before_each is not None:
            before_each()
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t0
        del result
        times.append(elapsed)
        total += elapsed
    return Timing(best=min(times), median=statistics.median(times), times=times)


# --------------------------------------------------------------------------------------------
# Result checks
# --------------------------------------------------------------------------------------------


def in_memory(arr: Any) -> bool:
    """True if ``arr`` is a numpy array whose memory is not a view of a memory-mapped file."""
    if not isinstance(arr, np.ndarray) or isinstance(arr, np.memmap):
        return False
    base = arr.base
    while base is not None:
        if isinstance(base, (np.memmap, mmap.mmap)):
            return False
        base = getattr(base, "base", None)
    return True


def check_array(got: Any, expected: np.ndarray, what: str = "array") -> None:
    """Raise ``CheckFailed`` unless ``got`` is an in-memory array equal to ``expected``.

    Byte order may differ (astropy keeps FITS big-endian data as is); the kind and item size of
    the dtype, the shape and every value must match.
    """
    if not isinstance(got, np.ndarray):
        raise CheckFailed(f"{what}: expected a numpy array, got {type(got).__name__}")
    if not in_memory(got):
        raise CheckFailed(f"{what}: result is backed by a memory map, not read into memory")
    if got.shape != expected.shape:
        raise CheckFailed(f"{what}: shape {got.shape}, expected {expected.shape}")
    if (got.dtype.kind, got.dtype.itemsize) != (expected.dtype.kind, expected.dtype.itemsize):
        raise CheckFailed(f"{what}: dtype {got.dtype}, expected {expected.dtype}")
    if not np.array_equal(got, expected, equal_nan=expected.dtype.kind == "f"):
        raise CheckFailed(f"{what}: values differ from the input data")


def digest(arr: np.ndarray) -> str:
    """SHA-256 of an array's bytes: to check that a writer left its input unchanged."""
    return hashlib.sha256(np.ascontiguousarray(arr).view(np.uint8).ravel()).hexdigest()


def check_written(path: str, lib: str, data: np.ndarray, expected_digest: str) -> None:
    """What every written file must satisfy: whole 2880-byte FITS blocks, and the array the
    library was given left as it was."""
    size = os.path.getsize(path)
    if size % 2880:
        raise CheckFailed(f"{lib} wrote {size} bytes, not a multiple of 2880")
    if digest(data) != expected_digest:
        raise CheckFailed(f"{lib} modified the array it was asked to write")
