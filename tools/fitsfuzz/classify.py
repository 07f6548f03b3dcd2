"""A tier's outcome on one mutant as one class, and the key findings are deduplicated by.

Classes, worst first: ``crash`` (the child died of a signal, or exited without reporting),
``hang`` (still running at the timeout), ``memory`` (MemoryError, or killed by the kernel for
memory, under an address-space limit of the file's size plus a margin), ``diskfill`` (a write
reached the file-size limit), ``unexpected`` (an exception outside the contract), ``clean``
(only exceptions inside the contract), ``ok`` (no exception).

The contract: the direct tier raises only the ``fitsbind.FITSError`` family; the drop-in raises
that family, or a class astropy.io.fits raised on the same file (at the same stage or another:
the two libraries load lazily in different orders). Classes are compared by name along the MRO, since
fitsbind's VerifyError is its own class with astropy's name. The drop-in's VerifyError from
``verify("exception")`` and ``writeto`` is always allowed: those calls are documented to raise
it on a non-standard header.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field
from typing import Any

CLASSES = ("crash", "hang", "memory", "diskfill", "unexpected", "clean", "ok")
FINDINGS = CLASSES[:5]

_FRAME = re.compile(r'File "([^"]+)", line (\d+) in (\S+)')


@dataclass
class Verdict:
    """One tier's class on one mutant, with what decided it: the ``stage`` and ``error``
    (described exception) for exception classes, ``signal`` for crashes, ``frame`` the
    innermost fitsbind frame ("fitsbind/x.py:12 in f") when one is known."""

    cls: str
    stage: str | None = None
    error: dict[str, Any] | None = None
    signal: str | None = None
    frame: str | None = None
    dump: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        """(class, exception type or signal, top fitsbind frame): one root cause."""
        what = self.signal or (self.error["type"] if self.error else "")
        return (self.cls, what, self.frame or "")


def dump_frame(dump: str, package: str = "fitsbind") -> str | None:
    """The innermost ``package`` frame of a faulthandler dump (most recent call first), from
    the thread that crashed ("Current thread") when it has one, else from any thread."""
    blocks = re.split(r"\n(?=(?:Current thread|Thread) 0x)", dump)
    blocks.sort(key=lambda b: not b.lstrip().startswith("Current thread"))
    for block in blocks:
        for path, line, name in _FRAME.findall(block):
            marker = f"/{package}/"
            if marker in path:
                return f"{path[path.rfind(marker) + 1:]}:{line} in {name}"
    return None


# the drop-in's calls documented to raise VerifyError on a non-standard header:
# ``verify("exception")`` and ``writeto``'s output verification
_VERIFYING_STAGES = ("verify", "roundtrip")


def _allowed(error: dict[str, Any], tier: str, stage: str,
             reference: list[dict[str, Any]] | None) -> bool:
    # astropy is the reference: any exception of its is its contract
    if tier == "astropy" or "FITSError" in error["mro"]:
        return True
    if tier != "dropin":
        return False
    if stage in _VERIFYING_STAGES and "VerifyError" in error["mro"]:
        # what the verifying calls are documented to raise on a non-standard header, whatever
        # astropy did (it often stops earlier, at open, on the same file)
        return True
    return any(name in error["mro"] for name in reference_names(reference or [], stage))


def reference_names(stages: list[dict[str, Any]] | None, stage: str) -> list[str]:
    """Class names astropy raised on the file: at ``stage`` first, then at any other stage.

    The drop-in loads lazily in its own order (a header astropy parses while reading data may
    be parsed when it is verified), so the same error at another stage is the same behaviour."""
    if not stages:
        return []
    names = [s["error"]["type"].rpartition(".")[2] for s in stages
             if s["error"] and s["stage"] == stage]
    names += [s["error"]["type"].rpartition(".")[2] for s in stages
              if s["error"] and s["stage"] != stage]
    return names


def classify(outcome: dict[str, Any], tier: str,
             reference: list[dict[str, Any]] | None = None) -> Verdict:
    """The verdict of ``tier`` ("direct", "dropin", "astropy" or a test target) on one
    outcome of :func:`fitsfuzz.server.run_target`; ``reference`` is astropy's stages on the
    same file (drop-in only)."""
    dump = outcome.get("dump", "")
    if outcome["how"] == "timeout":
        return Verdict("hang", frame=dump_frame(dump), dump=dump)
    if outcome["how"] == "signal":
        number = outcome["signal"]
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ \
            else f"signal {number}"
        # SIGKILL that is not the timeout's: the kernel's out-of-memory killer
        cls = "memory" if number == signal.SIGKILL else "crash"
        return Verdict(cls, signal=name, frame=dump_frame(dump), dump=dump)
    if outcome["stages"] is None:
        return Verdict("crash", signal=f"exit code {outcome['code']}", frame=dump_frame(dump),
                       dump=dump + outcome.get("output", ""))
    worst = Verdict("ok")
    caught: set[str] = set()
    for stage in outcome["stages"]:
        caught.update(stage["warnings"])
        error = stage["error"]
        if error is None:
            continue
        if "MemoryError" in error["mro"]:
            cls = "memory"
        elif error["efbig"] or outcome.get("diskfill"):
            cls = "diskfill"
        elif _allowed(error, tier, stage["stage"], reference):
            cls = "clean"
        else:
            cls = "unexpected"
        if CLASSES.index(cls) < CLASSES.index(worst.cls):
            worst = Verdict(cls, stage["stage"], error, frame=error["frame"])
    worst.warnings = sorted(caught)
    return worst
