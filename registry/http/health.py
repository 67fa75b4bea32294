"""/healthz and /readyz for load balancers and service managers.

`/healthz` says only that the process answers. `/readyz` says whether the node can do its
work: the database answers, its schema is the one this code needs, and some worker (in this
process or another) has reported alive recently. Both are cheap, unauthenticated and carry no
links, so they are safe to expose to a load balancer.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from registry.core import migrate
from registry.core.errors import N_, Problem
from registry.http.responses import json_response, problem_response
from registry.ops.heartbeat import newest_beat

CHECK_TIMEOUT = 3.0  # seconds: a load balancer's probe must not hang on a dead database


class NotReady(Problem):
    status, slug, title = 503, "not-ready", N_("Not ready")


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def _database(request: Request) -> dict[str, Any]:
    runtime = request.app.state.runtime
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            current = await migrate.current_revision(runtime.engine)
    except Exception as exc:  # any driver error means the same thing here: unreachable
        return {"database": f"unreachable: {type(exc).__name__}: {exc}"[:300]}
    head = migrate.head_revision()
    schema = "ok" if current == head else f"at {current}, this version needs {head}"
    return {"database": "ok", "migrations": schema}


async def _workers(request: Request) -> str:
    runtime = request.app.state.runtime
    federation = runtime.federation
    if federation is not None and federation.running_workers():
        dead = federation.dead_workers()
        if dead:
            return f"stopped in this process: {', '.join(dead)}"
        return "ok"
    stale = runtime.settings.monitoring.worker_stale_seconds
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            last = await newest_beat(runtime.engine)
    except Exception:
        return "unknown (database unreachable)"
    if last is None:
        return "no worker has ever reported: run `commons-registry worker`"
    age = (datetime.now(UTC) - last).total_seconds()
    if age > stale:
        return f"no worker reported for {age:.0f} s (limit {stale:g} s)"
    return "ok"


async def readyz(request: Request) -> Response:
    checks = await _database(request)
    checks["workers"] = await _workers(request)
    if all(value == "ok" for value in checks.values()):
        return json_response(
            {"status": "ready", "checks": checks}, headers={"Cache-Control": "no-store"}
        )
    failing = ", ".join(f"{name}: {value}" for name, value in checks.items() if value != "ok")
    problem = NotReady(f"not ready ({failing})", checks=checks)
    problem.headers["Cache-Control"] = "no-store"
    return problem_response(problem, request.url.path)


routes = [
    Route("/healthz", healthz, methods=["GET", "HEAD"], name="health.live"),
    Route("/readyz", readyz, methods=["GET", "HEAD"], name="health.ready"),
]
