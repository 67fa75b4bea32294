"""Admin API for moderation: domain blocks and the admin log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from registry.core.errors import NotFound, Unprocessable
from registry.fediverse import blocks
from registry.http.auth import require_admin, runtime
from registry.http.bodies import read_json
from registry.http.responses import json_response
from registry.people import admin_log


async def _refresh(request: Request) -> None:
    """Partners purged by a block stop being partners in this process too."""
    federation = runtime(request).federation
    if federation is not None:
        federation.partner_hosts = {
            host for host in federation.partner_hosts if not federation.domain_blocked(host)
        }


def _int(request: Request, name: str, default: int | None) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise Unprocessable(
            f"{name}: expected an integer", errors=[{"field": name, "message": "an integer"}]
        ) from None


async def list_blocks(request: Request) -> Response:
    await require_admin(request)
    found = await blocks.list_domain_blocks(runtime(request).engine)
    return json_response({"items": [b.to_json() for b in found]})


async def add_block(request: Request) -> Response:
    principal = await require_admin(request)
    data = await read_json(request, runtime(request).settings.server.max_body_bytes)
    if not isinstance(data, dict):
        raise Unprocessable(
            "send a JSON object with a domain",
            errors=[{"field": "", "message": "expected a JSON object"}],
        )
    domain, reason = data.get("domain"), data.get("reason", "")
    errors = []
    if not isinstance(domain, str) or not domain.strip() or len(domain) > 255:
        errors.append({"field": "domain", "message": "a domain name of 1 to 255 characters"})
    if not isinstance(reason, str) or len(reason) > 2000:
        errors.append({"field": "reason", "message": "text of at most 2000 characters"})
    if errors:
        raise Unprocessable("the block needs a domain (and may have a reason)", errors=errors)
    block = await blocks.block_domain(
        runtime(request).engine, domain, reason=reason, by=principal.describe()
    )
    await _refresh(request)
    return json_response(block.to_json(), 201)


async def remove_block(request: Request) -> Response:
    principal = await require_admin(request)
    domain = request.path_params["domain"]
    if len(domain) > 255:
        raise Unprocessable(
            "the domain is too long", errors=[{"field": "domain", "message": "at most 255"}]
        )
    if not await blocks.unblock_domain(runtime(request).engine, domain, by=principal.describe()):
        raise NotFound(f"{domain} is not blocked")
    await _refresh(request)
    return Response(status_code=204)


async def admin_log_entries(request: Request) -> Response:
    await require_admin(request)
    entries = await admin_log.list_admin_log(
        runtime(request).engine,
        limit=_int(request, "limit", 100) or 100,
        before=_int(request, "before", None),
        action=request.query_params.get("action"),
    )
    body: dict[str, object] = {"items": [e.to_json() for e in entries]}
    if entries:
        body["next_before"] = entries[-1].id
    return json_response(body)


routes = [
    Route("/api/admin/domain-blocks", list_blocks, methods=["GET"], name="api.admin.blocks.list"),
    Route("/api/admin/domain-blocks", add_block, methods=["POST"], name="api.admin.blocks.add"),
    Route(
        "/api/admin/domain-blocks/{domain}",
        remove_block,
        methods=["DELETE"],
        name="api.admin.blocks.remove",
    ),
    Route("/api/admin/log", admin_log_entries, methods=["GET"], name="api.admin.log"),
]
