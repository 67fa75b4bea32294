"""Real registry nodes for multi-node tests: separate server processes on 127.0.0.1 ports,
each with its own database (SQLite file or a PostgreSQL database of its own)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import text

from registry.core import db

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def fresh_pg_database(admin_url: str, name: str) -> str:
    """A new, empty PostgreSQL database next to the test database; returns its URL."""
    engine = db.create_engine(admin_url)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@dataclass
class Node:
    name: str
    workdir: Path
    database_url: str
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    admin_token: str = ""
    starts: int = 0
    public_url: str = ""  # set for a node behind a proxy (tests/deploy)

    @property
    def local_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.public_url or self.local_url

    @property
    def actor(self) -> str:
        return f"{self.base_url}/actor"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONS_")}
        env.update(
            {
                "COMMONS_NODE_NAME": f"Node {self.name}",
                "COMMONS_NODE_HANDLE": "registry",
                "COMMONS_NODE_BASE_URL": self.base_url,
                "COMMONS_NODE_DATA_DIR": str(self.workdir / "data"),
                "COMMONS_DATABASE_URL": self.database_url,
                "COMMONS_SERVER_PORT": str(self.port),
                "COMMONS_SERVER_LOG_LEVEL": os.environ.get("TEST_NODE_LOG_LEVEL", "warning"),
                "COMMONS_FEDERATION_ALLOW_PRIVATE_ADDRESSES": "true",
                "COMMONS_FEDERATION_ALLOW_HTTP": "true",
                "COMMONS_FEDERATION_DELIVERY_RETRY_BASE_SECONDS": "1",
                # These tests write hundreds of assets a second through one token; the
                # limiter has tests of its own (tests/registry/test_rate_limits.py).
                "COMMONS_LIMITS_RATE_LIMITS": "false",
                **self.extra_env,
            }
        )
        return env

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "registry.cli", *args],
            env=self.env(),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{self.name}: commons-registry {' '.join(args)} failed:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result.stdout + result.stderr

    def spawn(self, *args: str, **popen: object) -> subprocess.Popen:
        """Start `commons-registry ARGS` for this node as a separate process (not waited for)."""
        popen.setdefault("stdout", subprocess.DEVNULL)
        popen.setdefault("stderr", subprocess.STDOUT)
        return subprocess.Popen(
            [sys.executable, "-m", "registry.cli", *args], env=self.env(), cwd=self.workdir, **popen
        )

    def init(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        out = self.cli("init")
        self.admin_token = next(
            line.split()[-1] for line in out.splitlines() if "admin token" in line and "cr_" in line
        )

    def start(self) -> None:
        assert self.process is None, f"{self.name} is already running"
        log = self.log_path.open("ab")
        self.process = self.spawn("serve", stdout=log, start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log()}")
            try:
                if httpx.get(f"{self.local_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not start:\n{self.log()}")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)


async def eventually(
    check: Callable[[], Awaitable[Any]],
    *,
    timeout: float = 30,
    interval: float = 0.2,
    what: str = "condition",
) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
