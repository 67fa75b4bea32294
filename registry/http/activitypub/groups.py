"""Each commons group as a fediverse actor: `/groups/{slug}` (the actor document, or its
profile page for browsers), its inbox, outbox and followers, and WebFinger for `@slug@host`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from registry.catalog.search import search
from registry.catalog.search_query import parse_query
from registry.core import db, iris
from registry.core.errors import NotFound
from registry.fediverse import group_actors
from registry.fediverse.group_actors import GroupActor
from registry.http import negotiation
from registry.http.activitypub.actor import PAGE_SIZE, _collection, inbox
from registry.http.activitypub.signed import federation
from registry.http.auth import runtime
from registry.http.pages.catalog import VARY, jsonld
from registry.http.pages.session import load_session
from registry.web.render import render


async def _group(request: Request) -> GroupActor:
    group = await federation(request).groups.by_slug(request.path_params["slug"])
    if group is None:
        raise NotFound(f"there is no group {request.path_params['slug']!r}", headers=VARY)
    return group


async def group_actor(request: Request) -> Response:
    """The Group actor (exempt from authorized fetch, like the node's: others need its key),
    or for browsers its profile page with the group's public assets (a redirect to its new
    home when it moved away)."""
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, negotiation.PAGE_FIRST)
    group = await _group(request)
    if chosen != negotiation.HTML:
        return jsonld(group.actor_document(), accept, chosen)
    if group.moved_to:  # people follow the group to its new home
        return RedirectResponse(group.moved_to, status_code=308, headers=VARY)
    await load_session(request)
    svc = runtime(request)
    query = parse_query(
        {"group": group.slug, "limit": "50", "facets": "false"},
        page_size=50,
        max_page_size=50,
        principal=None,
    )
    page = await search(svc.engine, query)
    return render(request, "group.html", group=group, recent=page.items, headers=VARY)


async def _group_collection(request: Request, page: Any, total: Any) -> Response:
    """One of a group's paged collections: `page(conn, group_id, cursor, limit)` and
    `total(conn, group_id)` from registry.fediverse.group_actors."""
    group = await _group(request)
    engine = runtime(request).engine

    async def items(cursor: int | None) -> tuple[list[Any], int | None]:
        async with db.read(engine) as conn:
            return await page(conn, group.group_id, cursor, PAGE_SIZE)

    async with db.read(engine) as conn:
        count = await total(conn, group.group_id)
    return await _collection(request, count, items)


async def group_outbox(request: Request) -> Response:
    return await _group_collection(request, group_actors.outbox_page, group_actors.outbox_total)


async def group_followers(request: Request) -> Response:
    return await _group_collection(request, group_actors.follower_page, group_actors.follower_total)


async def group_following(request: Request) -> Response:
    await _group(request)  # a group follows nobody; an unknown one is a 404

    async def items(cursor: int | None) -> tuple[list[Any], int | None]:
        return [], None

    return await _collection(request, 0, items)


async def group_webfinger(request: Request, resource: str) -> dict[str, Any] | None:
    """The JRD of the group a WebFinger resource names (`acct:slug@domain` or its IRI)."""
    settings = runtime(request).settings
    fed = federation(request)
    if resource.startswith(iris.group_iri(settings.base_url, "")):
        group = await fed.groups.by_iri(resource)
        return group.webfinger() if group else None
    name = resource[5:] if resource.startswith("acct:") else resource
    user, _, host = name.lstrip("@").rpartition("@")
    if not user or host.lower() != settings.domain.lower():
        return None
    group = await fed.groups.by_slug(user.lower())
    return group.webfinger() if group else None


routes = [
    Route("/groups/{slug}", group_actor, methods=["GET"], name="ap.group"),
    Route("/groups/{slug}/inbox", inbox, methods=["POST"], name="ap.group.inbox"),
    Route("/groups/{slug}/outbox", group_outbox, methods=["GET"], name="ap.group.outbox"),
    Route("/groups/{slug}/followers", group_followers, methods=["GET"], name="ap.group.followers"),
    Route("/groups/{slug}/following", group_following, methods=["GET"], name="ap.group.following"),
]
