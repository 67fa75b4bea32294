"""The benchmarks keep working: every one runs at tiny size, through the documented command,
and produces its figure and baseline. Timings are not asserted (a shared CI machine is no
place for them; docs/performance.md records real runs). Each database's run is its own
`python -m bench --db …` process, and the two run side by side (about 35 s for both)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[1]
IDS = {"B1", "B2", "B3", "B4", "B5", "B6", "B9"}
DATABASES = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def run_bench(tmp_path: Path, *args: str, timeout: float) -> tuple[dict[str, Any], str]:
    """`python -m bench --size tiny ARGS`, once per database at the same time: the results
    file of each (by database) and everything they printed."""
    runs = {}
    for name in DATABASES:
        out = tmp_path / f"{name}.json"
        command = [sys.executable, "-m", "bench", "--size", "tiny", *args, "--db", name]
        runs[name] = (
            out,
            subprocess.Popen(
                [*command, "--out", str(out)],
                cwd=ROOT,
                env={**os.environ, "BENCH_DATABASE_URL": PG_URL},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
        )
    results, output = {}, ""
    for name, (out, process) in runs.items():
        try:
            printed, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for _, other in runs.values():
                other.kill()
            raise
        output += printed
        assert process.returncode == 0, f"{name}:\n{printed[-4000:]}"
        results[name] = orjson.loads(out.read_bytes())
    return results, output


def test_every_benchmark_produces_figures_at_tiny_size(tmp_path: Path) -> None:
    results, output = run_bench(tmp_path, timeout=240)
    for name, result in results.items():
        figures = result["figures"]
        assert {f["db"] for f in figures} == {name}
        assert {f["id"] for f in figures} == IDS, output
        assert len(figures) == 9  # B3 gives one figure per query kind
        for figure in figures:
            for value in (figure["value"], figure["baseline"]):
                assert isinstance(value, (int, float)) and math.isfinite(value) and value > 0, (
                    figure
                )
        assert result["generator_capacity_per_second"] > 0
        assert result["machine"]["cpu"] and result["machine"]["cores"]
    # The table is printed with each figure beside its baseline.
    assert "baseline (same run)" in output and "B6" in output


def test_the_network_benchmark_runs_at_tiny_size(tmp_path: Path) -> None:
    """B8: three nodes in a full mesh (on both databases when PostgreSQL is there), a fourth
    joins and backfills, an edit travels to all, and the cost of one change is counted."""
    out = tmp_path / "b8.json"
    db = "both" if PG_URL else "sqlite"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--size",
            "tiny",
            "--only",
            "B8",
            "--db",
            db,
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "BENCH_DATABASE_URL": PG_URL},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    figures = orjson.loads(out.read_bytes())["figures"]
    assert [f["id"] for f in figures] == ["B8"] * 3, output
    backfill, edit, cost = figures
    assert backfill["met"] and backfill["details"]["created"] == 3 * 20
    assert edit["met"] and len(edit["details"]["arrived_seconds"]) == 3
    assert cost["value"] == 3  # one signed POST per partner, no more


def test_the_growth_benchmark_runs_at_tiny_size(tmp_path: Path) -> None:
    """B7: one node grown through two sizes (on both databases when PostgreSQL is there);
    every measure at each size, the second size's baseline being the first's figure."""
    results, output = run_bench(tmp_path, "--only", "B7", "--b7-sizes", "60,150", timeout=300)
    measures = {"import", "search full text", "search kind + bbox", "search near", "map"}
    measures |= {"geojson", "dcat", "rss"}
    for name, result in results.items():
        mine = result["figures"]
        assert {f["db"] for f in mine} == {name}
        assert {f["details"]["key"] for f in mine} == measures, output
        first = {f["details"]["key"]: f for f in mine if f["details"]["size"] == 60}
        second = {f["details"]["key"]: f for f in mine if f["details"]["size"] == 150}
        assert second["import"]["details"]["import"]["created"] == 90  # grown, not reloaded
        for key, figure in second.items():
            assert figure["baseline"] == first[key]["value"] and figure["value"] > 0, figure
        assert second["geojson"]["details"]["measured"]["geojson"]["features"] == 150
        assert second["geojson"]["details"]["measured"]["geojson"]["complete"]
    assert "x 150/60" in output  # the growth table, ratio between the sizes
