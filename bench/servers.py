"""The processes a benchmark runs: registry nodes (tests/nodes.py's `Node`), the bare
Starlette baseline, and the sink; each on 127.0.0.1, each stopped when the run ends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import text

from registry.core import db
from tests.nodes import Node, free_port, fresh_pg_database

# Rate limits stay on (their cost is part of every request) but high enough never to answer
# 429 to a load generator that sends thousands of requests a second from one address.
HIGH = "1000000"
BENCH_ENV = {
    "COMMONS_LIMITS_INBOX_PER_MINUTE": HIGH,
    "COMMONS_LIMITS_INBOX_BURST": HIGH,
    "COMMONS_LIMITS_PARTNER_PER_MINUTE": HIGH,
    "COMMONS_LIMITS_PARTNER_BURST": HIGH,
    "COMMONS_LIMITS_GET_PER_MINUTE": HIGH,
    "COMMONS_LIMITS_GET_BURST": HIGH,
    "COMMONS_LIMITS_API_WRITES_PER_MINUTE": HIGH,
    "COMMONS_LIMITS_API_WRITES_BURST": HIGH,
    "COMMONS_SERVER_LOG_LEVEL": "warning",
}


class Cluster:
    """Makes nodes for one benchmark and stops every process it started."""

    def __init__(self, workdir: Path, db: str, pg_admin_url: str) -> None:
        self.workdir, self.db, self.pg_admin_url = workdir, db, pg_admin_url
        self.nodes: list[Node] = []
        self.processes: list[subprocess.Popen[bytes]] = []
        self.databases: list[str] = []

    def node(self, name: str, *, env: dict[str, str] | None = None, start: bool = True) -> Node:
        if self.db == "postgresql":
            # Named after the admin database and this run's process, so that runs side by
            # side (a smoke test during a full run) never drop each other's databases.
            prefix = urlsplit(self.pg_admin_url).path.lstrip("/") or "postgres"
            database = f"{prefix}_bench{os.getpid()}_{name.lower().replace('-', '_')}"
            url = _run(fresh_pg_database(self.pg_admin_url, database))
            self.databases.append(database)
        else:
            url = f"sqlite:///{self.workdir / name / 'data' / 'registry.db'}"
        node = Node(
            name=name,
            workdir=self.workdir / name,
            database_url=url,
            extra_env={**BENCH_ENV, **(env or {})},
        )
        node.init()
        self.nodes.append(node)
        if start:
            node.start()
        return node

    def spawn(self, *args: str, ready_url: str | None = None) -> subprocess.Popen[bytes]:
        """A helper process (`python -m bench.…`), waited for until `ready_url` answers."""
        root = Path(__file__).resolve().parents[1]
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.processes.append(process)
        deadline = time.monotonic() + 30
        while ready_url and time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{' '.join(args)} exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(ready_url, timeout=1)
                break
            time.sleep(0.1)
        return process

    def close(self) -> None:
        for node in self.nodes:
            node.stop()
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for database in self.databases:
            _run(drop_pg_database(self.pg_admin_url, database))


async def drop_pg_database(admin_url: str, name: str) -> None:
    engine = db.create_engine(admin_url)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def cluster(workdir: Path, db: str, pg_admin_url: str) -> Iterator[Cluster]:
    made = Cluster(workdir, db, pg_admin_url)
    try:
        yield made
    finally:
        made.close()


def _run(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine from sync code that may itself be called inside a running loop."""
    import asyncio
    import threading

    box: dict[str, object] = {}

    def target() -> None:
        box["value"] = asyncio.run(coro)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return box.get("value")


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (uvicorn may fork workers)."""
    total = 0
    for candidate in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def _children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            for child in text:
                found += [int(child), *_children(int(child))]
    return found


__all__ = ["BENCH_ENV", "Cluster", "Node", "cluster", "free_port", "rss_bytes"]
