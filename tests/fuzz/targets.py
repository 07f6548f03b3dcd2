"""Tiny fake targets that misbehave on purpose, to prove the fuzzer's harness classifies each
failure as it should. The fork server loads them by path ("targets.py:name"); each takes
``(path, workdir)`` as the real targets in fitsfuzz.touch do."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np
from fitsfuzz.touch import Stages

from fitsbind.errors import FITSValueError


def abort(path: str, workdir: str) -> list:
    os.abort()


def segfault(path: str, workdir: str) -> list:
    ctypes.string_at(0)   # reads address 0: SIGSEGV
    return []


def spin(path: str, workdir: str) -> list:
    while True:
        pass


def allocate(path: str, workdir: str) -> list:
    s = Stages("fitsbind")
    s.run("read", lambda: np.ones(1 << 34, np.uint8))   # 16 GiB, beyond any margin
    return s.stages


def fill_disk(path: str, workdir: str) -> list:
    def write() -> None:
        with open(Path(workdir) / "big.bin", "wb") as f:
            for _ in range(64):
                f.write(bytes(1 << 20))
                f.flush()

    s = Stages("fitsbind")
    s.run("roundtrip", write)
    return s.stages


def refuse(path: str, workdir: str) -> list:
    s = Stages("fitsbind")
    s.run("open", lambda: (_ for _ in ()).throw(FITSValueError(f"{path}: bad header")))
    return s.stages


def stumble(path: str, workdir: str) -> list:
    s = Stages("fitsbind")
    s.run("read", lambda: {}["missing"])
    return s.stages


def read_bytes(path: str, workdir: str) -> list:
    s = Stages("fitsbind")
    s.run("read", lambda: Path(path).read_bytes())
    return s.stages


def abort_on_marker(path: str, workdir: str) -> list:
    """Crash when the file holds the bytes "XBOOM" (for the minimizer's test)."""
    if b"XBOOM" in Path(path).read_bytes():
        os.abort()
    return []
