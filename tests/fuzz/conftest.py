"""A real node for the fuzzers: uvicorn serving `create_app` on a 127.0.0.1 port, in a thread
of this process, so that every log record it writes reaches `ErrorRecords`.

Example counts are small by default so that CI stays fast, and derandomised so that CI runs
the same examples every time. `FUZZ_EXAMPLES=5000` runs longer (and still reproducibly);
`FUZZ_SEED` changes which examples a run draws.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import uvicorn
from hypothesis import HealthCheck, seed
from hypothesis import settings as hypothesis_settings

from registry.app import create_app
from registry.config import Settings
from registry.core import db
from registry.core.node_keys import ensure_node_keys
from registry.people import accounts
from tests.conftest import run_blocking
from tests.nodes import free_port


def fuzz_examples(default: int) -> int:
    """How many examples to run: FUZZ_EXAMPLES if set, else the test's CI default."""
    return int(os.environ.get("FUZZ_EXAMPLES") or default)


def fuzz_settings(default: int) -> Callable[[Any], Any]:
    """Hypothesis settings for a fuzz test: derandomised, unless FUZZ_SEED picks a seed."""
    chosen = hypothesis_settings(
        max_examples=fuzz_examples(default),
        derandomize="FUZZ_SEED" not in os.environ,
        deadline=None,
        database=None,  # no example database: CI runs what the seed draws, nothing else
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )

    def apply(test: Any) -> Any:
        test = chosen(test)
        return seed(int(os.environ["FUZZ_SEED"]))(test) if "FUZZ_SEED" in os.environ else test

    return apply


class ErrorRecords(logging.Handler):
    """Collects ERROR records and any record that carries a traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    def report(self) -> str:
        """Each distinct failure once (with a count), then the first one in full."""
        kinds = Counter(
            f"{r.name}: {r.exc_info[1]!r}" if r.exc_info else f"{r.name}: {r.getMessage()}"
            for r in self.records
        )
        formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
        lines = [f"{count} x {kind[:500]}" for kind, count in kinds.most_common()]
        return "\n".join(lines) + "\n\n" + formatter.format(self.records[0])


@dataclass
class ThreadedServer:
    base_url: str
    settings: Settings
    admin_token: str
    group_token: str
    errors: ErrorRecords
    server: uvicorn.Server

    def auth(self, role: str) -> dict[str, str]:
        token = {"admin": self.admin_token, "group": self.group_token}.get(role)
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def _tokens(self) -> None:
        engine = db.create_engine(self.settings.database_url)
        try:
            _, self.admin_token = await accounts.create_admin_token(engine)
            groups = {g.slug: g for g in await accounts.list_groups(engine)}
            if "fuzz-group" not in groups:
                _, self.group_token = await accounts.create_group(engine, "Fuzz", "fuzz-group")
            else:
                admin = await accounts.authenticate(engine, self.admin_token)
                _, self.group_token = await accounts.issue_token(
                    engine, admin, group_slug="fuzz-group", admin=False, label="fuzz"
                )
            if "fuzz-group" in groups and groups["fuzz-group"].suspended_at is not None:
                await accounts.set_group_suspended(engine, "fuzz-group", False, by="fuzz set-up")
        finally:
            await engine.dispose()

    def renew_tokens(self) -> None:
        """New tokens, after a fuzzed request revoked ours or suspended our group."""
        run_blocking(self._tokens())


def serve_in_thread(app: Any, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"fuzz-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the fuzz server did not start")
        time.sleep(0.02)
    return server, thread


@pytest.fixture
def fuzz_server(settings: Settings) -> Iterator[ThreadedServer]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    effective = replace(
        settings,
        node=replace(settings.node, base_url=base),
        federation=replace(
            settings.federation,
            allow_private_addresses=True,
            allow_http=True,
            delivery_retry_base_seconds=1.0,
        ),
        # The limiter stays in the path, with rates no fuzzer reaches.
        limits=replace(
            settings.limits,
            inbox_burst=1_000_000,
            get_burst=1_000_000,
            api_writes_burst=1_000_000,
            unverified_burst=1_000_000,
        ),
    )

    async def prepare() -> None:
        engine = db.create_engine(effective.database_url)
        await ensure_node_keys(engine)
        await engine.dispose()

    run_blocking(prepare())
    errors = ErrorRecords()
    root = logging.getLogger()
    root.addHandler(errors)
    server, thread = serve_in_thread(create_app(effective), port)
    node = ThreadedServer(base, effective, "", "", errors, server)
    node.renew_tokens()
    try:
        yield node
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        root.removeHandler(errors)


def wait_for(check: Any, timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def query(settings: Settings, make: Any, *, write: bool = False) -> Any:
    """Run `make(conn)` against the node's database from sync test code."""

    async def run() -> Any:
        engine = db.create_engine(settings.database_url)
        try:
            async with (db.write if write else db.read)(engine) as conn:
                return await make(conn)
        finally:
            await engine.dispose()

    return run_blocking(run())
