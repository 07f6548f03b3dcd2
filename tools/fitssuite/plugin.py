"""pytest hooks appended to the copied suite's conftest (see rewrite.copy_suite).

- Tests that need the network (``remote_data``) are deselected; nothing else is.
- astropy's Table I/O for the ``fits`` format is pointed at ``fitsbind.connect`` when it exists,
  and switched off when it does not, so Table.read/write tests never pass on astropy's own code.
- Every test's start and outcome is written, one JSON object per line, to $FITSBIND_SUITE_RESULTS;
  tests named there or in $FITSBIND_SUITE_SKIP (a resumed run) are deselected.
"""

import importlib
import json
import os

__all__ = [
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_runtest_logreport",
    "pytest_runtest_logstart",
]

_TARGET = os.environ.get("FITSBIND_SUITE_TARGET", "fitsbind")


def _register_table_io() -> None:
    try:
        from astropy.io import registry
        from astropy.table import Table
    except ImportError:
        return
    for kind in ("reader", "writer", "identifier"):
        try:
            getattr(registry, f"unregister_{kind}")("fits", Table)
        except registry.IORegistryError:
            pass
    try:
        connect = importlib.import_module("fitsbind.connect")
    except ModuleNotFoundError:
        return
    registry.register_reader("fits", Table, connect.read_table_fits)
    registry.register_writer("fits", Table, connect.write_table_fits)
    registry.register_identifier("fits", Table, connect.is_fits)


def pytest_configure(config):
    for marker in ("remote_data: needs the network (deselected)", "slow: long-running",
                   "hugemem: needs several GiB of memory"):
        config.addinivalue_line("markers", marker)
    if _TARGET == "fitsbind":
        _register_table_io()


def pytest_collection_modifyitems(config, items):
    # Tests an earlier attempt of this run already finished or crashed in (run.py resumes).
    done = set()
    skip_file = os.environ.get("FITSBIND_SUITE_SKIP")
    if skip_file and os.path.exists(skip_file):
        done.update(open(skip_file).read().split("\n"))
    results = os.environ.get("FITSBIND_SUITE_RESULTS")
    if results and os.path.exists(results):
        done.update(json.loads(line)["id"] for line in open(results))
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("remote_data") or item.nodeid in done else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_runtest_logstart(nodeid, location):
    _record({"id": nodeid, "when": "start", "outcome": "started"})


def pytest_runtest_logreport(report):
    # Every phase is recorded: setup/teardown failures count, a skip in setup is a skip, and
    # the teardown record tells run.py the test finished.
    record = {"id": report.nodeid, "when": report.when, "outcome": report.outcome}
    if report.failed:
        record["error"] = _summary(report)
    _record(record)


def _record(record: dict) -> None:
    out = os.environ.get("FITSBIND_SUITE_RESULTS")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps(record) + "\n")


def _summary(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message.splitlines()[0][:300] if crash.message else ""
    return str(report.longrepr).strip().splitlines()[-1][:300]

