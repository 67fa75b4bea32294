"""Admin API for federation: followers, following, and what the queues are doing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from federation import follows
from federation.tables import deliveries, delivery_hosts, inbox_items, outbox
from registry.core import db
from registry.core.errors import Unprocessable
from registry.fediverse import following, partners
from registry.http.activitypub.signed import federation
from registry.http.auth import require_admin, runtime
from registry.http.bodies import read_json
from registry.http.responses import json_response
from vocab.times import iso

STATES = {
    "followers": ("pending", "accepted", "rejected"),
    "inbox": ("pending", "done", "ignored", "failed"),
    "deliveries": ("pending", "done", "dead"),
}


def _limit(request: Request) -> int:
    try:
        limit = int(request.query_params.get("limit", "50"))
    except ValueError:
        raise Unprocessable(
            "limit: expected an integer",
            errors=[{"field": "limit", "message": "expected an integer"}],
        ) from None
    return max(1, min(limit, 500))


def _state(request: Request, kind: str) -> str | None:
    state = request.query_params.get("state")
    if state is not None and state not in STATES[kind]:
        raise Unprocessable(
            f"state: one of {', '.join(STATES[kind])}",
            errors=[{"field": "state", "message": "unknown state"}],
        )
    return state


async def _target(request: Request) -> str:
    data = await read_json(request, runtime(request).settings.server.max_body_bytes)
    value = data.get("target") if isinstance(data, dict) else None
    if not isinstance(value, str) or not value.strip() or len(value) > 2048:
        raise Unprocessable(
            "target: an actor URL, a node URL or @user@host",
            errors=[{"field": "target", "message": "required"}],
        )
    return value.strip()


async def list_followers(request: Request) -> Response:
    await require_admin(request)
    rows = await following.followers(federation(request), _state(request, "followers"))
    return json_response(
        {
            "items": [
                {
                    "actor": r.actor,
                    "state": r.state,
                    "inbox": r.inbox,
                    "shared_inbox": r.shared_inbox,
                    "since": iso(r.created_at),
                }
                for r in rows
            ]
        }
    )


async def decide_follower(request: Request) -> Response:
    await require_admin(request)
    data = await read_json(request, runtime(request).settings.server.max_body_bytes)
    actor = data.get("actor") if isinstance(data, dict) else None
    action = data.get("action") if isinstance(data, dict) else None
    if not isinstance(actor, str) or action not in ("approve", "reject", "remove"):
        raise Unprocessable(
            "send {actor, action: approve|reject|remove}",
            errors=[{"field": "action", "message": "approve, reject or remove"}],
        )
    await following.decide(federation(request), actor, action)
    return json_response({"actor": actor, "done": action})


async def list_following(request: Request) -> Response:
    await require_admin(request)
    async with db.read(runtime(request).engine) as conn:
        rows = await follows.list_following(conn)
    return json_response(
        {"items": [{"actor": r.actor, "state": r.state, "since": iso(r.created_at)} for r in rows]}
    )


async def follow(request: Request) -> Response:
    await require_admin(request)
    actor = await following.follow(federation(request), await _target(request))
    return json_response({"actor": actor.iri, "state": "pending"}, 202)


async def unfollow(request: Request) -> Response:
    await require_admin(request)
    actor_iri = await following.unfollow(federation(request), await _target(request))
    return json_response({"actor": actor_iri, "state": "removed"})


async def inbox_items_list(request: Request) -> Response:
    await require_admin(request)
    query = select(inbox_items).order_by(inbox_items.c.id.desc()).limit(_limit(request))
    state = _state(request, "inbox")
    if state:
        query = query.where(inbox_items.c.state == state)
    async with db.read(runtime(request).engine) as conn:
        rows = list(await conn.execute(query))
    return json_response(
        {
            "items": [
                {
                    "id": r.activity_id,
                    "type": r.type,
                    "actor": r.actor,
                    "object": r.object_id,
                    "state": r.state,
                    "attempts": r.attempts,
                    "result": r.result,
                    "received": iso(r.received_at),
                }
                for r in rows
            ]
        }
    )


async def queue_status(request: Request) -> Response:
    await require_admin(request)
    async with db.read(runtime(request).engine) as conn:
        counts = {
            state: n
            for state, n in await conn.execute(
                select(deliveries.c.state, func.count()).group_by(deliveries.c.state)
            )
        }
        inbox_counts = {
            state: n
            for state, n in await conn.execute(
                select(inbox_items.c.state, func.count()).group_by(inbox_items.c.state)
            )
        }
        hosts = list(await conn.execute(select(delivery_hosts).order_by(delivery_hosts.c.host)))
        query = (
            select(deliveries, outbox.c.activity_id, outbox.c.type)
            .join(outbox, outbox.c.id == deliveries.c.outbox_id)
            .order_by(deliveries.c.id.desc())
            .limit(_limit(request))
        )
        state = _state(request, "deliveries")
        if state:
            query = query.where(deliveries.c.state == state)
        recent = list(await conn.execute(query))
    body: dict[str, Any] = {
        "deliveries": counts,
        "inbox": inbox_counts,
        "hosts": [
            {
                "host": h.host,
                "failures": h.consecutive_failures,
                "open_until": iso(h.open_until),
                "last_success": iso(h.last_success_at),
                "last_error": h.last_error,
            }
            for h in hosts
        ],
        "recent_deliveries": [
            {
                "activity": r.activity_id,
                "type": r.type,
                "inbox": r.inbox,
                "state": r.state,
                "attempts": r.attempts,
                "last_status": r.last_status,
                "last_error": r.last_error,
                "next_attempt": iso(r.next_attempt_at),
            }
            for r in recent
        ],
    }
    return json_response(body)


routes = [
    Route(
        "/api/federation/followers",
        list_followers,
        methods=["GET"],
        name="api.federation.followers",
    ),
    Route(
        "/api/federation/followers/decide",
        decide_follower,
        methods=["POST"],
        name="api.federation.decide",
    ),
    Route(
        "/api/federation/following",
        list_following,
        methods=["GET"],
        name="api.federation.following",
    ),
    Route("/api/federation/following", follow, methods=["POST"], name="api.federation.follow"),
    Route("/api/federation/unfollow", unfollow, methods=["POST"], name="api.federation.unfollow"),
    Route("/api/federation/inbox", inbox_items_list, methods=["GET"], name="api.federation.inbox"),
    Route("/api/federation/queues", queue_status, methods=["GET"], name="api.federation.queues"),
]


async def list_partners(request: Request) -> Response:
    await require_admin(request)
    items = await partners.list_partners(runtime(request).engine)
    return json_response({"items": [p.to_json() for p in items]})


async def add_partner(request: Request) -> Response:
    await require_admin(request)
    partner = await partners.add(federation(request), await _target(request))
    return json_response(partner.to_json(), 201)


async def remove_partner(request: Request) -> Response:
    await require_admin(request)
    actor = await partners.remove(federation(request), await _target(request))
    return json_response({"actor": actor, "removed": True})


async def sync_now(request: Request) -> Response:
    """Ask the sync worker to pull from one partner (or all) at its next round."""
    await require_admin(request)
    target = await _target(request)
    chosen = (
        await partners.list_partners(runtime(request).engine)
        if target == "all"
        else [await partners.find(runtime(request).engine, target)]
    )
    async with db.write(runtime(request).engine) as conn:
        for partner in chosen:
            await partners.request_sync(conn, partner.actor)
    return json_response({"requested": [p.host for p in chosen]}, 202)


routes += [
    Route("/api/partners", list_partners, methods=["GET"], name="api.partners.list"),
    Route("/api/partners", add_partner, methods=["POST"], name="api.partners.add"),
    Route("/api/partners/remove", remove_partner, methods=["POST"], name="api.partners.remove"),
    Route("/api/partners/sync", sync_now, methods=["POST"], name="api.partners.sync"),
]
