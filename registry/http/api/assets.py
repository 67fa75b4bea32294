"""REST API for assets: search, create, read, change, delete, moderate."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from registry.catalog.moderation_queue import moderation_queue
from registry.catalog.search import search
from registry.catalog.search_query import SearchPage, parse_query
from registry.catalog.visibility import audience_of, checked
from registry.core.errors import Unprocessable
from registry.http.auth import optional_principal, require_admin, require_principal, runtime
from registry.http.bodies import read_json
from registry.http.origin_status import annotate
from registry.http.responses import json_response


def _max_body(request: Request) -> int:
    return runtime(request).settings.server.max_body_bytes


async def page_json(request: Request, page: SearchPage) -> dict[str, Any]:
    svc = runtime(request)
    items = []
    for asset in page.items:
        item = asset.to_json(svc.settings.base_url)
        if asset.id in page.distances:
            item["distance_km"] = round(page.distances[asset.id], 3)
        items.append(item)
    await annotate(svc.engine, svc.settings, list(zip(page.items, items, strict=True)))
    body: dict[str, Any] = {"items": items, "cursor": page.next_cursor, "next": None}
    if page.next_cursor:
        body["next"] = str(request.url.include_query_params(cursor=page.next_cursor))
    if page.facets is not None:
        body["total"] = page.total
        body["total_exact"] = page.total_exact  # false: more than `total`, facets at least
        body["facets"] = page.facets
    return body


async def list_assets(request: Request) -> Response:
    svc = runtime(request)
    principal = await optional_principal(request)
    query = parse_query(
        request.query_params,
        page_size=svc.settings.search.page_size,
        max_page_size=svc.settings.search.max_page_size,
        principal=principal,
        audience=audience_of(principal),
    )
    page = await search(svc.engine, query, svc.facet_cache, svc.settings.search.count_limit)
    return json_response(await page_json(request, page))


def _visibility(data: Any) -> tuple[Any, str | None]:
    """The body without its `visibility` (not a field of the asset itself), and the value."""
    if not isinstance(data, dict) or "visibility" not in data:
        return data, None
    data = dict(data)
    return data, checked(data.pop("visibility"))


async def create_asset(request: Request) -> Response:
    principal = await require_principal(request)
    data = await read_json(request, _max_body(request))
    group = None
    if isinstance(data, dict) and "group" in data:
        data = dict(data)
        group = data.pop("group")
        if group is not None and not isinstance(group, str):
            raise Unprocessable(
                "group must be a group slug",
                errors=[{"field": "group", "message": "expected a string"}],
            )
    data, visibility = _visibility(data)
    svc = runtime(request)
    asset = await svc.assets.create(principal, data, group_slug=group, visibility=visibility)
    body = asset.to_json(svc.settings.base_url)
    return json_response(body, 201, headers={"Location": body["links"]["self"]})


async def get_asset(request: Request) -> Response:
    svc = runtime(request)
    principal = await optional_principal(request)
    asset = await svc.assets.get(request.path_params["uid"], principal)
    body = asset.to_json(svc.settings.base_url)
    await annotate(svc.engine, svc.settings, [(asset, body)])
    return json_response(body)


async def change_asset(request: Request) -> Response:
    principal = await require_principal(request)
    data = await read_json(request, _max_body(request))
    data, visibility = _visibility(data)
    svc = runtime(request)
    asset = await svc.assets.update(
        principal,
        request.path_params["uid"],
        data,
        partial=request.method == "PATCH",
        visibility=visibility,
    )
    return json_response(asset.to_json(svc.settings.base_url))


async def delete_asset(request: Request) -> Response:
    principal = await require_principal(request)
    await runtime(request).assets.delete(principal, request.path_params["uid"])
    return Response(status_code=204)


async def _decide(request: Request, approve: bool) -> Response:
    principal = await require_admin(request)
    reason = None
    if not approve:
        data = await read_json(request, _max_body(request))
        reason = data.get("reason") if isinstance(data, dict) else None
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
            raise Unprocessable(
                "say why the asset is rejected",
                errors=[{"field": "reason", "message": "1 to 2000 characters"}],
            )
    svc = runtime(request)
    asset = await svc.assets.moderate(
        principal, request.path_params["uid"], approve=approve, reason=reason
    )
    return json_response(asset.to_json(svc.settings.base_url))


async def approve_asset(request: Request) -> Response:
    return await _decide(request, True)


async def reject_asset(request: Request) -> Response:
    return await _decide(request, False)


async def queue(request: Request) -> Response:
    await require_admin(request)
    svc = runtime(request)
    items = [asset.to_json(svc.settings.base_url) for asset in await moderation_queue(svc.engine)]
    return json_response({"items": items})


routes = [
    Route("/api/assets", list_assets, methods=["GET"], name="api.assets.list"),
    Route("/api/assets", create_asset, methods=["POST"], name="api.assets.create"),
    Route("/api/assets/{uid}", get_asset, methods=["GET"], name="api.assets.get"),
    Route("/api/assets/{uid}", change_asset, methods=["PUT", "PATCH"], name="api.assets.change"),
    Route("/api/assets/{uid}", delete_asset, methods=["DELETE"], name="api.assets.delete"),
    Route("/api/assets/{uid}/approve", approve_asset, methods=["POST"], name="api.assets.approve"),
    Route("/api/assets/{uid}/reject", reject_asset, methods=["POST"], name="api.assets.reject"),
    Route("/api/moderation/queue", queue, methods=["GET"], name="api.moderation.queue"),
]
