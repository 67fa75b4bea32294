"""ActivityPub and discovery endpoints: the node actor, its inboxes and collections,
WebFinger, NodeInfo and host-meta."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from federation import documents, follows
from federation.hosts import InvalidHost, normalize_host
from federation.inbox import InboxRefused
from federation.outbox import outbox_page, outbox_total
from federation.tables import followers, following, outbox
from registry.catalog.visibility import exported
from registry.core import db, iris
from registry.core.errors import N_, BadRequest, NotFound, Problem
from registry.core.schema import LOCAL, PUBLISHED, assets
from registry.http import negotiation
from registry.http.activitypub.signed import CHALLENGE, absolute_url, federation, require_signed_get
from registry.http.auth import runtime
from registry.http.bodies import read_limited
from registry.http.middleware.canonical import received_headers
from registry.http.middleware.ratelimit import Limits
from registry.http.pages.catalog import VARY, jsonld
from registry.http.responses import json_response
from registry.web.public_urls import route_url

PAGE_SIZE = 50
JRD = "application/jrd+json"


class InboxProblem(Problem):
    slug, title = "activity-refused", N_("Activity refused")

    def __init__(self, refused: InboxRefused) -> None:
        super().__init__(refused.reason)
        self.status = refused.status
        if refused.status == 401:
            self.headers = {"WWW-Authenticate": CHALLENGE["WWW-Authenticate"]}
        if refused.retry_after is not None:
            self.headers = {"Retry-After": str(refused.retry_after)}


async def inbox(request: Request) -> Response:
    fed = federation(request)
    limits: Limits | None = getattr(request.app.state, "limits", None)
    ticket = await limits.inbox_gate(request) if limits is not None else None
    try:
        body = await read_limited(request, runtime(request).settings.server.max_body_bytes)
        receipt = await fed.inbox.receive(
            request.method,
            absolute_url(request),
            received_headers(request),
            body,
            client=request.client.host if request.client else None,
        )
    except InboxRefused as refused:
        if ticket is not None:
            await ticket.refused()
        raise InboxProblem(refused) from None
    except Problem:
        if ticket is not None:
            await ticket.refused()
        raise
    return json_response({"id": receipt.activity_id, "duplicate": receipt.duplicate}, 202)


async def actor(request: Request) -> Response:
    """The node actor. Exempt from authorized fetch: others need it to check our signatures."""
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, negotiation.DATA_FIRST)
    if chosen == negotiation.HTML:
        return RedirectResponse(route_url(request, "pages.home"), 303, headers=VARY)
    return jsonld(federation(request).node.actor_document(), accept, chosen)


async def _collection(request: Request, total: int, items_for_page: Any) -> Response:
    """An OrderedCollection: the summary without ?page, a keyset page with ?page=<cursor>."""
    await require_signed_get(request)
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, negotiation.DATA_FIRST)
    if chosen == negotiation.HTML:
        return RedirectResponse(route_url(request, "pages.home"), 303, headers=VARY)
    base = f"{runtime(request).settings.base_url}{request.url.path}"
    page = request.query_params.get("page")
    if page is None:
        return jsonld(
            documents.ordered_collection(base, total, f"{base}?page=first"), accept, chosen
        )
    cursor = None
    if page != "first":
        try:
            cursor = int(page)
        except ValueError:
            raise BadRequest("page: expected 'first' or a number from a 'next' link") from None
    items, next_cursor = await items_for_page(cursor)
    next_url = f"{base}?page={next_cursor}" if next_cursor is not None else None
    return jsonld(
        documents.ordered_collection_page(f"{base}?page={page}", base, items, next=next_url),
        accept,
        chosen,
    )


async def outbox_collection(request: Request) -> Response:
    engine = runtime(request).engine

    async def items(cursor: int | None) -> tuple[list[Any], int | None]:
        async with db.read(engine) as conn:
            return await outbox_page(conn, before_id=cursor, limit=PAGE_SIZE)

    async with db.read(engine) as conn:
        total = await outbox_total(conn)
    return await _collection(request, total, items)


async def followers_collection(request: Request) -> Response:
    return await _follow_collection(request, followers, "actor")


async def following_collection(request: Request) -> Response:
    return await _follow_collection(request, following, "actor")


async def _follow_collection(request: Request, table: Any, column: str) -> Response:
    engine = runtime(request).engine

    async def items(cursor: int | None) -> tuple[list[Any], int | None]:
        query = select(table.c.id, table.c[column]).where(table.c.state == follows.ACCEPTED)
        if cursor is not None:
            query = query.where(table.c.id > cursor)
        async with db.read(engine) as conn:
            rows = list(await conn.execute(query.order_by(table.c.id).limit(PAGE_SIZE + 1)))
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        return [row[1] for row in rows], rows[-1][0] if more and rows else None

    async with db.read(engine) as conn:
        total = await follows.count(conn, table)
    return await _collection(request, total, items)


async def activity(request: Request) -> Response:
    await require_signed_get(request)
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, negotiation.JSONLD_TYPES)
    iri = iris.activity(runtime(request).settings.base_url, request.path_params["id"])
    async with db.read(runtime(request).engine) as conn:
        row = (
            await conn.execute(
                select(outbox.c.body).where(outbox.c.activity_id == iri, outbox.c.public)
            )
        ).first()
    if row is None:
        raise NotFound(f"there is no public activity {iri}", headers=VARY)
    return jsonld(row.body.encode(), accept, chosen)


def _resource_is_us(request: Request, resource: str) -> bool:
    """Whether `resource` (an acct: URI or one of the actor's IRIs) names the node actor."""
    settings = runtime(request).settings
    node = federation(request).node
    if resource in (node.actor_iri, iris.home(settings.base_url), settings.base_url):
        return True
    name = resource[5:] if resource.startswith("acct:") else resource
    user, _, host = name.lstrip("@").rpartition("@")
    try:
        same_host = normalize_host(host) == normalize_host(settings.domain)
    except InvalidHost:
        return False
    return same_host and user.lower() == settings.node.handle.lower()


async def webfinger(request: Request) -> Response:
    resource = request.query_params.get("resource")
    if not resource:
        raise BadRequest(
            "resource: the WebFinger query needs ?resource=acct:user@host",
            errors=[{"field": "resource", "message": "required"}],
        )
    if _resource_is_us(request, resource.strip()):
        body = federation(request).node.webfinger()
    else:
        from registry.http.activitypub.groups import group_webfinger  # it builds on this module

        found = await group_webfinger(request, resource.strip())
        if found is None:
            raise NotFound(f"{resource} is not an account on this node")
        body = found
    return Response(
        orjson.dumps(body), media_type=JRD, headers={"Access-Control-Allow-Origin": "*"}
    )


async def nodeinfo_links(request: Request) -> Response:
    node = federation(request).node
    return json_response(
        documents.nodeinfo_links(node.base, node.actor_iri),
        headers={"Access-Control-Allow-Origin": "*"},
    )


async def nodeinfo(request: Request) -> Response:
    engine = runtime(request).engine
    async with db.read(engine) as conn:
        local = (
            await conn.execute(
                select(func.count())
                .select_from(assets)
                .where(
                    assets.c.origin == LOCAL,
                    assets.c.moderation == PUBLISHED,
                    assets.c.deleted_at.is_(None),
                    exported(),
                )
            )
        ).scalar_one()
    usage = {"users": {"total": 1, "activeMonth": 1, "activeHalfyear": 1}, "localPosts": local}
    profile = "http://nodeinfo.diaspora.software/ns/schema/2.1#"
    return json_response(
        federation(request).node.nodeinfo(usage),
        media_type=f'application/json; profile="{profile}"',
        headers={"Access-Control-Allow-Origin": "*"},
    )


async def host_meta(request: Request) -> Response:
    return Response(
        documents.host_meta_xml(runtime(request).settings.base_url),
        media_type="application/xrd+xml",
    )


routes = [
    Route("/actor", actor, methods=["GET"], name="ap.actor"),
    Route("/actor/inbox", inbox, methods=["POST"], name="ap.inbox"),
    Route("/inbox", inbox, methods=["POST"], name="ap.shared_inbox"),
    Route("/actor/outbox", outbox_collection, methods=["GET"], name="ap.outbox"),
    Route("/actor/followers", followers_collection, methods=["GET"], name="ap.followers"),
    Route("/actor/following", following_collection, methods=["GET"], name="ap.following"),
    Route("/activities/{id}", activity, methods=["GET"], name="ap.activity"),
    Route("/.well-known/webfinger", webfinger, methods=["GET"], name="ap.webfinger"),
    Route("/.well-known/nodeinfo", nodeinfo_links, methods=["GET"], name="ap.nodeinfo_links"),
    Route("/nodeinfo/2.1", nodeinfo, methods=["GET"], name="ap.nodeinfo"),
    Route("/.well-known/host-meta", host_meta, methods=["GET"], name="ap.host_meta"),
]
