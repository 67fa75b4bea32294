"""REST API for groups and tokens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from registry.catalog import group_settings
from registry.core import db
from registry.core.errors import NotFound, Unprocessable
from registry.fediverse.former_actors import actor_key_file
from registry.http.auth import require_admin, require_principal, runtime
from registry.http.bodies import read_json
from registry.http.responses import json_response
from registry.people import accounts, admin_log


def _text(data: object, name: str, *, required: bool = False, limit: int = 200) -> str | None:
    value = data.get(name) if isinstance(data, dict) else None
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise Unprocessable(
            f"{name} must be 1 to {limit} characters",
            errors=[{"field": name, "message": f"1 to {limit} characters"}],
        )
    return value.strip()


async def me(request: Request) -> Response:
    principal = await require_principal(request)
    return json_response(
        {"role": principal.role, "group": principal.group_slug, "token": principal.token_id}
    )


async def list_groups(request: Request) -> Response:
    await require_admin(request)
    groups = await accounts.list_groups(runtime(request).engine)
    return json_response({"items": [g.to_json() for g in groups]})


async def create_group(request: Request) -> Response:
    await require_admin(request)
    data = await read_json(request, runtime(request).settings.server.max_body_bytes)
    if not isinstance(data, dict):
        raise Unprocessable(
            "send a JSON object with a name",
            errors=[{"field": "", "message": "expected a JSON object"}],
        )
    name = _text(data, "name", required=True)
    slug = _text(data, "slug", limit=64)
    group, token = await accounts.create_group(runtime(request).engine, name or "", slug)
    return json_response({**group.to_json(), "token": token}, 201)


async def suspend_group(request: Request) -> Response:
    principal = await require_admin(request)
    suspended = request.method == "POST"
    reason = None
    if suspended:
        data = await read_json(request, runtime(request).settings.server.max_body_bytes)
        reason = _text(data, "reason", limit=2000)
    group = await accounts.set_group_suspended(
        runtime(request).engine,
        request.path_params["slug"],
        suspended,
        reason=reason,
        by=principal.describe(),
    )
    return json_response(group.to_json())


async def list_tokens(request: Request) -> Response:
    principal = await require_principal(request)
    items = await accounts.list_tokens(
        runtime(request).engine, principal, request.query_params.get("group")
    )
    return json_response({"items": [t.to_json() for t in items]})


async def create_token(request: Request) -> Response:
    principal = await require_principal(request)
    data = await read_json(request, runtime(request).settings.server.max_body_bytes)
    if not isinstance(data, dict):
        raise Unprocessable(
            "send a JSON object", errors=[{"field": "", "message": "expected a JSON object"}]
        )
    role = data.get("role", "group")
    if role not in ("group", "admin"):
        raise Unprocessable(
            "role is 'group' or 'admin'",
            errors=[{"field": "role", "message": "one of group, admin"}],
        )
    info, token = await accounts.issue_token(
        runtime(request).engine,
        principal,
        group_slug=_text(data, "group", limit=64),
        admin=role == "admin",
        label=_text(data, "label") or "",
    )
    return json_response({**info.to_json(), "token": token}, 201)


async def revoke_token(request: Request) -> Response:
    principal = await require_principal(request)
    try:
        token_id = int(request.path_params["token_id"])
    except ValueError:
        raise Unprocessable(
            "the token id is a number",
            errors=[{"field": "token_id", "message": "expected an integer"}],
        ) from None
    if not 0 < token_id < 2**63:  # beyond what the database's integer column can hold
        raise NotFound(f"there is no token #{token_id}")
    info = await accounts.revoke_token(runtime(request).engine, principal, token_id)
    return json_response(info.to_json())


async def group_defaults(request: Request) -> Response:
    """GET/PATCH /api/groups/{slug}/defaults: the visibility and licence new assets get."""
    principal = await require_principal(request)
    engine, slug = runtime(request).engine, request.path_params["slug"]
    group = await accounts.get_group(engine, slug)
    if not principal.is_admin and principal.group_slug != group.slug:
        raise NotFound(f"there is no group {slug!r} you may manage")
    if request.method == "GET":
        return json_response(await group_settings.defaults(engine, slug))
    data = await read_json(request, runtime(request).settings.server.max_body_bytes)
    if not isinstance(data, dict):
        raise Unprocessable(
            "send a JSON object", errors=[{"field": "", "message": "expected a JSON object"}]
        )
    unknown = set(data) - {"default_visibility", "default_license"}
    if unknown:
        raise Unprocessable(
            "only default_visibility and default_license can be set",
            errors=[{"field": name, "message": "unknown field"} for name in sorted(unknown)],
        )
    changes = {
        key: data[f"default_{key}"] for key in ("visibility", "license") if f"default_{key}" in data
    }
    return json_response(await group_settings.set_defaults(engine, slug, **changes))


async def group_actor_key(request: Request) -> Response:
    """GET /api/groups/{slug}/actor-key: the group actor's private key, for the group's own
    people to keep off the node: with it the group moves its followers even after its node
    is gone (registry.fediverse.former_actors). Every export is logged."""
    principal = await require_principal(request)
    svc = runtime(request)
    group = await accounts.get_group(svc.engine, request.path_params["slug"])
    if not principal.is_admin and principal.group_slug != group.slug:
        raise NotFound(f"there is no group {group.slug!r} you may manage")
    held = await actor_key_file(svc.engine, svc.settings.base_url, group.id, group.slug)
    async with db.write(svc.engine) as conn:
        await admin_log.record(conn, principal.describe(), "group-key-exported", held["actor"])
    return json_response(held, headers={"Cache-Control": "no-store"})


routes = [
    Route("/api/me", me, methods=["GET"], name="api.me"),
    Route("/api/groups", list_groups, methods=["GET"], name="api.groups.list"),
    Route("/api/groups", create_group, methods=["POST"], name="api.groups.create"),
    Route(
        "/api/groups/{slug}/defaults",
        group_defaults,
        methods=["GET", "PATCH"],
        name="api.groups.defaults",
    ),
    Route(
        "/api/groups/{slug}/actor-key",
        group_actor_key,
        methods=["GET"],
        name="api.groups.actor_key",
    ),
    Route(
        "/api/groups/{slug}/suspension",
        suspend_group,
        methods=["POST", "DELETE"],
        name="api.groups.suspension",
    ),
    Route("/api/tokens", list_tokens, methods=["GET"], name="api.tokens.list"),
    Route("/api/tokens", create_token, methods=["POST"], name="api.tokens.create"),
    Route("/api/tokens/{token_id}", revoke_token, methods=["DELETE"], name="api.tokens.revoke"),
]
