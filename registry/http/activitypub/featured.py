"""The node actor's profile collections: `featured` (pinned posts) and `featuredTags`.

Mastodon and others fetch both when they first see an actor that names them, and log an error
for an address that does not answer. Nothing is pinned yet, so `featured` is empty; the
featured tags are the node's most used hashtags.
"""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from federation import documents
from registry.catalog.visibility import exported
from registry.core import db, iris
from registry.core.schema import LOCAL, PUBLISHED, asset_tags, assets
from registry.http import negotiation
from registry.http.activitypub.signed import federation, require_signed_get
from registry.http.auth import runtime
from registry.http.pages.catalog import VARY, jsonld
from registry.web.public_urls import route_url
from vocab.compound import hashtag_name
from vocab.namespaces import AS

FEATURED_TAGS = 10
# The ActivityStreams context does not define Hashtag (every server uses it anyway).
TAGS_CONTEXT = [documents.AS_CONTEXT, {"Hashtag": AS + "Hashtag"}]


async def _answer(request: Request, body: dict) -> Response:
    await require_signed_get(request)
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, negotiation.DATA_FIRST)
    if chosen == negotiation.HTML:
        return RedirectResponse(route_url(request, "pages.home"), 303, headers=VARY)
    return jsonld(body, accept, chosen)


async def featured(request: Request) -> Response:
    return await _answer(
        request, documents.inline_collection(federation(request).node.featured, [])
    )


async def featured_tags(request: Request) -> Response:
    base = runtime(request).settings.base_url
    count = func.count(asset_tags.c.asset_id)
    query = (
        select(asset_tags.c.tag, count)
        .join(assets, assets.c.id == asset_tags.c.asset_id)
        .where(
            assets.c.origin == LOCAL,
            assets.c.moderation == PUBLISHED,
            assets.c.deleted_at.is_(None),
            exported(),
        )
        .group_by(asset_tags.c.tag)
        .order_by(count.desc(), asset_tags.c.tag)
        .limit(FEATURED_TAGS * 2)  # some tags cannot be hashtags
    )
    async with db.read(runtime(request).engine) as conn:
        rows = list(await conn.execute(query))
    items = [
        {"type": "Hashtag", "name": f"#{name}", "href": iris.tag(base, row.tag)}
        for row in rows
        if (name := hashtag_name(row.tag))
    ][:FEATURED_TAGS]
    body = documents.inline_collection(federation(request).node.featured_tags, items, ordered=False)
    body["@context"] = TAGS_CONTEXT
    return await _answer(request, body)


routes = [
    Route("/actor/featured", featured, methods=["GET"], name="ap.featured"),
    Route("/actor/tags", featured_tags, methods=["GET"], name="ap.featured_tags"),
]
