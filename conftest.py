"""Repository-wide pytest hooks: drop-in tests still pending (tests/dropin_pending.txt) run
as non-strict xfails, so the suite stays green while their XPASS shows progress."""

from __future__ import annotations

from pathlib import Path

import pytest

_PENDING = Path(__file__).resolve().parent / "tests" / "dropin_pending.txt"


def _pending() -> set[str]:
    lines = _PENDING.read_text().splitlines() if _PENDING.exists() else []
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    pending = _pending()
    for item in items:
        if item.nodeid in pending:
            item.add_marker(pytest.mark.xfail(reason="drop-in behaviour pending (issue 5)",
                                              strict=False))
