"""pytest hooks appended to the copied suite's conftest (see rewrite.copy_suite).

- Tests that need the network (``remote_data``) are deselected; nothing else is.
- astropy's Table I/O for the ``fits`` format is pointed at ``fitsbind.connect`` when it exists,
  and switched off when it does not, so Table.read/write tests never pass on astropy's own code.
- Every test's outcome is written, one JSON object per line, to $FITSBIND_SUITE_RESULTS.
"""

import importlib
import json
import os

__all__ = ["pytest_collection_modifyitems", "pytest_configure", "pytest_runtest_logreport"]

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
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("remote_data") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_runtest_logreport(report):
    out = os.environ.get("FITSBIND_SUITE_RESULTS")
    if not out:
        return
    if report.when == "call" or report.outcome != "passed":
        # setup/teardown failures count too; a skip in setup is a skip.
        record = {"id": report.nodeid, "when": report.when, "outcome": report.outcome}
        if report.failed:
            record["error"] = _summary(report)
        with open(out, "a") as f:
            f.write(json.dumps(record) + "\n")


def _summary(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message.splitlines()[0][:300] if crash.message else ""
    return str(report.longrepr).strip().splitlines()[-1][:300]

