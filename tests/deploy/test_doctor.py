"""`commons-registry doctor` on five seeded misconfigurations: each is found, named, and
comes with a fix; the command exits non-zero. (A healthy production node passes it: see
test_production_federation.)"""

from __future__ import annotations

import asyncio
import email.utils
import re
import subprocess
import sys
import time
from typing import Any

from sqlalchemy import insert

from registry.core import db, migrate
from registry.core.schema import partners
from tests.federation.httpserver import LocalServer, respond
from tests.nodes import Node
from vocab.times import utcnow


def doctor(node: Node, **env: str) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "registry.cli", "doctor"],
        env={**node.env(), **env},
        cwd=node.workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


def failure(output: str, check: str) -> str:
    """The FAIL line of `check` with its fix line, or '' when that check did not fail."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("FAIL") and line[6:].startswith(check):
            fix = lines[i + 1] if i + 1 < len(lines) and "fix:" in lines[i + 1] else ""
            return f"{line}\n{fix}"
    return ""


async def test_http_base_url(node_factory: Any) -> None:
    node: Node = node_factory("H")
    status, out = doctor(node)
    assert status == 1
    found = failure(out, "base_url")
    assert "federate only over https" in found and "fix:" in found, out


async def test_base_url_pointing_at_another_node(node_factory: Any) -> None:
    mine: Node = node_factory("Mine")
    other: Node = node_factory("Other")
    status, out = doctor(mine, COMMONS_NODE_BASE_URL=other.base_url)
    assert status == 1
    assert "is not this node" in failure(out, "actor"), out


async def test_stale_migrations(node_factory: Any) -> None:
    node: Node = node_factory("S", start=False)
    stale = node.workdir / "stale.db"
    migrate.upgrade(f"sqlite:///{stale}", "0003")  # a database an older release left behind
    status, out = doctor(node, COMMONS_DATABASE_URL=f"sqlite:///{stale}")
    assert status == 1
    found = failure(out, "migrations")
    assert "revision 0003" in found and migrate.head_revision() in found, out
    assert "commons-registry migrate" in found


async def test_unreachable_partner(node_factory: Any) -> None:
    node: Node = node_factory("U")
    partner: Node = node_factory("Gone")
    node.cli("partner", "add", partner.base_url)
    partner.stop()
    status, out = doctor(node)
    assert status == 1
    assert "unreachable" in failure(out, f"partner 127.0.0.1:{partner.port}"), out


async def test_clock_skew_against_a_partner(node_factory: Any) -> None:
    """A partner whose clock is two hours ahead: signatures between us cannot verify."""
    node: Node = node_factory("K")
    server = LocalServer()
    ahead = email.utils.formatdate(time.time() + 7200, usegmt=True)

    @server.route("/actor")
    async def actor(request: Any, writer: asyncio.StreamWriter) -> None:
        body = b'{"id": "%s", "type": "Application"}' % server.url("/actor").encode()
        await respond(writer, 200, body, {"Date": ahead})

    await server.start()
    try:
        engine = db.create_engine(node.database_url)
        async with db.write(engine) as conn:
            await conn.execute(
                insert(partners).values(
                    actor=server.url("/actor"),
                    host=f"127.0.0.1:{server.port}",
                    changes_url=server.url("/changes"),
                    catalog_url=server.url("/catalog"),
                    added_at=utcnow(),
                )
            )
        await engine.dispose()
        status, out = await asyncio.to_thread(doctor, node)
    finally:
        await server.stop()
    assert status == 1
    found = failure(out, f"clock (127.0.0.1:{server.port})")
    seconds = re.search(r"clock is (\d+) s ahead of ours", found)
    assert seconds and 7000 < int(seconds.group(1)) <= 7200, out  # the Date was made earlier
    assert "signatures between us are refused" in found
    assert "NTP" in found
