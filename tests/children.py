"""Writes run in child processes, for tests of what a failed or killed write leaves on disk.

:func:`run_limited` runs a script with the file size limit ``RLIMIT_FSIZE`` set and SIGXFSZ
ignored, so writes past the limit fail with EFBIG as on a full disk (no root needed).
:class:`Killer` forks writers from one process that has imported numpy and fitsbind already
(so each trial costs a fork, not an interpreter start) and SIGKILLs each after a given delay.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)}

_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
import numpy as np
import fitsbind
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
try:
{body}
except Exception as exc:
    print(f"{{type(exc).__name__}}: {{exc}}")
else:
    print("no error")
"""


def run_limited(body: str, limit: int) -> str:
    """Run ``body`` (Python source; numpy as ``np`` and ``fitsbind`` imported) in a child
    whose files cannot grow past ``limit`` bytes; return ``"<class>: <message>"`` of the
    exception it raised, or ``"no error"``."""
    script = _LIMITED.format(limit=int(limit), body=textwrap.indent(textwrap.dedent(body), "    "))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=_ENV, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


_ZYGOTE = """
import os, sys, traceback
import numpy as np
import fitsbind
{setup}
for line in sys.stdin:
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            work(line.strip())
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print(status, flush=True)
"""


class Killer:
    """A process holding ``setup`` (Python source defining ``work(arg: str)``, with numpy
    as ``np`` and ``fitsbind`` imported) that runs ``work`` in a forked child per
    :meth:`run`. Use as a context manager."""

    def __init__(self, setup: str) -> None:
        script = _ZYGOTE.format(setup=textwrap.dedent(setup))
        self._proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, env=_ENV)

    def __enter__(self) -> Killer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=60)

    def run(self, arg: str, kill_after: float | None = None) -> tuple[bool, float]:
        """Run ``work(arg)`` in a new child; SIGKILL it ``kill_after`` seconds after it
        started (None: let it finish). Return (whether the kill ended it, seconds it ran).
        The child is reaped before this returns, so its pid no longer runs."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(arg + "\n")
        self._proc.stdin.flush()
        start = time.perf_counter()
        pid = int(self._proc.stdout.readline())
        if kill_after is not None:
            time.sleep(max(0.0, kill_after - (time.perf_counter() - start)))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        status = int(self._proc.stdout.readline())
        elapsed = time.perf_counter() - start
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        assert killed or os.WEXITSTATUS(status) == 0, f"the child failed (status {status})"
        return killed, elapsed
