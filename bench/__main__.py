"""`python -m bench [--db sqlite|postgresql|both] [--size tiny|full] [--only B1,B8] [--out FILE]
[--b7-sizes 10000,100000,1000000]`

Runs the benchmarks against real servers on 127.0.0.1, prints each figure beside the baseline
measured in the same run, and writes the table as JSON (bench/results/latest.json)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench import backfill, catalog, fanout, growth, httpload, inbox, machine, network
from bench.results import Figure, number, table
from bench.servers import BENCH_ENV, cluster, free_port

SIZES: dict[str, dict[str, Any]] = {
    "full": {
        "b1_activities": 6000,
        "b2_assets": 10_000,
        "b3_assets": 100_000,
        "b3_queries": 200,
        "b4_followers": 1000,
        "b4_hosts": 50,
        "seconds": 5.0,
        "connections": 16,
        "timeout": 600.0,
        "b8_nodes": 10,
        "b8_assets": 2000,
        "b7_sizes": [10_000, 100_000, 1_000_000],
        "b7_stream_seconds": 60.0,  # a 1M GeoJSON export is ~1 GB: read a minute of it
        "b7_dcat_pages": 50,
    },
    "tiny": {
        "b1_activities": 60,
        "b2_assets": 150,
        "b3_assets": 300,
        "b3_queries": 10,
        "b4_followers": 20,
        "b4_hosts": 4,
        "seconds": 0.5,
        "connections": 4,
        "timeout": 60.0,
        "b8_nodes": 3,
        "b8_assets": 20,
        "b7_sizes": [100, 300],
        "b7_stream_seconds": 30.0,
        "b7_dcat_pages": 3,
    },
}
ALL = ["B1", "B2", "B3", "B4", "B5", "B6", "B9"]
NETWORK = ["B8"]  # minutes at full size: run it by name (`--only B8`)
BY_NAME = ["B7", *NETWORK]  # B7 at full size loads a million assets per database
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


async def generator_capacity(seconds: float, connections: int) -> float:
    """Requests/s the load generator reaches against `bench.sink` (a server doing nothing),
    with a body the size of a signed activity: the ceiling of every req/s figure here."""
    with tempfile.TemporaryDirectory() as tmp, cluster(Path(tmp), "sqlite", "") as made:
        port = free_port()
        made.spawn("-m", "bench.sink", str(port), ready_url=f"http://127.0.0.1:{port}/")
        request = httpload.request_bytes(
            "POST", "/inbox", f"127.0.0.1:{port}", {"Signature": "x" * 600}, b"x" * 2500
        )
        result = await httpload.run(
            "127.0.0.1", port, [request], connections=connections, duration=seconds
        )
    return result.per_second


async def run_on(db: str, size: dict[str, Any], only: list[str], pg_url: str) -> list[Figure]:
    figures: list[Figure] = []
    steps = [
        ("B1", inbox.run),
        ("B2", backfill.run),
        ("B4", fanout.run),
        ("B7", growth.run),
    ]
    for name, step in steps:
        if name in only:
            figures += await _one(name, db, step, size, pg_url)
    if {"B3", "B5", "B6", "B9"} & set(only):
        found = await _one("B3/B5/B6/B9", db, catalog.run, size, pg_url)
        figures += [f for f in found if f.id in only]
    return figures


async def run_network(dbs: list[str], size: dict[str, Any], pg_url: str) -> list[Figure]:
    """B8 once for the run, its nodes spread over the databases asked for."""
    print(f"[{'+'.join(dbs)}] B8 … (load {machine.load_average()})", file=sys.stderr, flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-network-"))
    started = time.perf_counter()
    try:
        with contextlib.ExitStack() as stack:
            clusters = {db: stack.enter_context(cluster(workdir, db, pg_url)) for db in dbs}
            found = await network.run(clusters, size)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return _report(found, started)


async def _one(name: str, db: str, step: Any, size: dict[str, Any], pg_url: str) -> list[Figure]:
    print(f"[{db}] {name} … (load {machine.load_average()})", file=sys.stderr, flush=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{db}-"))
    started = time.perf_counter()
    try:
        with cluster(workdir, db, pg_url) as made:
            found = await step(made, size)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return _report(found if isinstance(found, list) else [found], started)


def _report(found: list[Figure], started: float) -> list[Figure]:
    for figure in found:
        figure.details["load_average_after"] = machine.load_average()
        figure.details["wall_seconds"] = round(time.perf_counter() - started, 1)
        print(
            f"    {figure.id} {figure.what}: {figure.value:.4g} {figure.unit} "
            f"(baseline {number(figure.baseline)})",
            file=sys.stderr,
            flush=True,
        )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--size", choices=list(SIZES), default="full")
    parser.add_argument("--only", help="comma-separated ids, e.g. B1,B3 (default: all)")
    parser.add_argument("--out", default="bench/results/latest.json")
    parser.add_argument(
        "--b7-sizes",
        help="catalog sizes B7 grows through, e.g. 10000,100000 (default: the size's own)",
    )
    parser.add_argument(
        "--node-env",
        action="append",
        default=[],
        metavar="COMMONS_KEY=VALUE",
        help="a setting for every node of the run (repeatable), e.g. "
        "COMMONS_SERVER_DOCUMENT_CACHE_SECONDS=0 to compare with and without a setting",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG),
        help="PostgreSQL server to make fresh databases on (named <its db>_bench_<node>)",
    )
    args = parser.parse_args(argv)
    for setting in args.node_env:
        name, sep, value = setting.partition("=")
        if not sep or not name.startswith("COMMONS_"):
            parser.error(f"--node-env takes COMMONS_KEY=VALUE, not {setting!r}")
        BENCH_ENV[name] = value
    only = [x.strip().upper() for x in args.only.split(",")] if args.only else ALL
    unknown = set(only) - set(ALL) - set(BY_NAME)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    size = dict(SIZES[args.size])
    if args.b7_sizes:
        size["b7_sizes"] = sorted({int(x) for x in args.b7_sizes.split(",")})
    info = machine.describe(args.pg_url if "postgresql" in dbs else None)
    info["node_env"] = dict(setting.split("=", 1) for setting in args.node_env)

    async def everything() -> tuple[float, list[Figure]]:
        capacity = await generator_capacity(size["seconds"], size["connections"])
        figures: list[Figure] = []
        for db in dbs:
            figures += await run_on(db, size, only, args.pg_url)
        if "B8" in only:
            figures += await run_network(dbs, size, args.pg_url)
        return capacity, figures

    capacity, figures = asyncio.run(everything())
    info["load_average_at_end"] = machine.load_average()
    print(table(figures))
    if any(f.id == "B7" for f in figures):
        print(growth.growth_table(figures))
    print(
        f"load generator ceiling: {capacity:,.0f} req/s against a do-nothing server; "
        f"load average {info['load_average_at_start']} -> {info['load_average_at_end']}"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(
        orjson.dumps(
            {
                "command": "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv),
                "size": args.size,
                "machine": info,
                "generator_capacity_per_second": capacity,
                "figures": [f.as_json() for f in figures],
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
