"""Print the DCAT-AP recommended-shape warnings the catalog tests counted, after the run."""

from __future__ import annotations

from typing import Any

import pytest

SHACL_WARNINGS: dict[str, dict[str, int]] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not SHACL_WARNINGS:
        return
    terminalreporter.section("DCAT-AP 3.0.1 recommended-shape warnings (shapes_recommended.ttl)")
    for run, counts in SHACL_WARNINGS.items():
        total = sum(counts.values())
        detail = ", ".join(f"{path.rsplit('/', 1)[-1]}: {n}" for path, n in sorted(counts.items()))
        terminalreporter.write_line(f"{run}: {total} ({detail})")


@pytest.fixture
def shacl_warnings() -> dict[str, dict[str, int]]:
    return SHACL_WARNINGS
