"""The collections partners pull from (the changes feed and the catalog), and the pages of
mirrored assets."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

import vocab
from federation import documents
from registry.catalog import changes
from registry.catalog.store import published_document
from registry.core import db, iris
from registry.core.errors import BadRequest, NotFound
from registry.core.schema import LOCAL
from registry.http import negotiation
from registry.http.activitypub.signed import require_signed_get
from registry.http.audience import request_audience
from registry.http.auth import runtime
from registry.http.origin_status import annotate
from registry.http.pages.catalog import VARY, jsonld, tombstone
from registry.http.pages.session import load_session
from registry.web.public_urls import route_url
from registry.web.render import render


def _int(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(
            f"{name}: expected a whole number",
            errors=[{"field": name, "message": "expected an integer"}],
        ) from None
    if value < 0:
        raise BadRequest(
            f"{name}: must not be negative", errors=[{"field": name, "message": "must be >= 0"}]
        )
    return value


async def changes_feed(request: Request) -> Response:
    """GET /changes?since=N: what changed after N, oldest first, in pages."""
    await require_signed_get(request)
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, negotiation.JSONLD_TYPES)
    settings = runtime(request).settings
    base = iris.changes(settings.base_url)
    since = _int(request, "since", None)
    audience = await request_audience(request)
    async with db.read(runtime(request).engine) as conn:
        latest, horizon = await changes.latest_and_horizon(conn)
        if since is None:
            body = documents.ordered_collection(base, latest, f"{base}?since=0")
        else:
            items, last = await changes.changes_page(
                conn, since, settings.mirror.page_size, audience
            )
            body = documents.ordered_collection_page(
                f"{base}?since={since}",
                base,
                items,
                next=f"{base}?since={last}" if items and last < latest else None,
            )
    body["@context"] = vocab.ASSET_CONTEXT
    body["commons:latest"] = latest
    body["commons:horizon"] = horizon
    return jsonld(body, accept, chosen, headers=_next_link(body))


async def catalog(request: Request) -> Response:
    """GET /catalog: the IRIs of every live asset of this node (for full comparisons)."""
    await require_signed_get(request)
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, negotiation.DATA_FIRST)
    settings = runtime(request).settings
    if chosen == negotiation.HTML:
        return RedirectResponse(
            route_url(request, "pages.search", {"origin": "local"}), 303, headers=VARY
        )
    base = iris.catalog(settings.base_url)
    page = request.query_params.get("page")
    audience = await request_audience(request)
    async with db.read(runtime(request).engine) as conn:
        if page is None:
            body = documents.ordered_collection(
                base, await changes.catalog_total(conn, audience), f"{base}?page=0"
            )
        else:
            after = _int(request, "page", 0) or None
            members, next_after = await changes.catalog_page(
                conn, after, settings.mirror.page_size * 10, audience
            )
            body = documents.ordered_collection_page(
                f"{base}?page={page}",
                base,
                members,
                next=f"{base}?page={next_after}" if next_after is not None else None,
            )
    return jsonld(body, accept, chosen, headers=_next_link(body))


def _next_link(page: dict[str, Any]) -> dict[str, str] | None:
    """The next page in a Link header as well (RFC 8288): a sync reads it there and can
    hand the whole page to a check worker without parsing it (registry.fediverse.sync)."""
    return {"Link": f'<{page["next"]}>; rel="next"'} if "next" in page else None


async def mirrored_asset(request: Request) -> Response:
    """A partner's asset as held here: its page (with provenance), or the verbatim copy."""
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, negotiation.PAGE_FIRST)
    uid = request.path_params["uid"]
    svc = runtime(request)
    if chosen == negotiation.HTML:
        session = await load_session(request)  # the header shows who is signed in
        asset = await svc.assets.get(uid, session.member.principal if session else None)
        if asset.origin == LOCAL:
            return RedirectResponse(asset.iri, 308, headers=VARY)
        status: dict[str, Any] = {}
        await annotate(svc.engine, svc.settings, [(asset, status)])
        return render(
            request,
            "asset.html",
            asset=asset,
            headers=VARY,
            jsonld_url=route_url(request, "ap.mirror", uid=uid),
            proof_verified="proof" in asset.document,
            origin_unreachable_since=status.get("origin_unreachable_since"),
        )
    await require_signed_get(request)
    audience = await request_audience(request)
    async with db.read(svc.engine) as conn:
        row = await published_document(conn, uid, audience)
    if row is None or row.origin == LOCAL or not row.readable:
        raise NotFound(f"there is no mirrored asset {uid!r}", headers=VARY)
    if row.deleted_at is not None:
        return jsonld(tombstone(row.iri, row.deleted_at), accept, chosen, 410)
    return jsonld(row.document.encode(), accept, chosen)


routes = [
    Route("/changes", changes_feed, methods=["GET"], name="ap.changes"),
    Route("/catalog", catalog, methods=["GET"], name="ap.catalog"),
    Route("/mirror/{uid}", mirrored_asset, methods=["GET"], name="ap.mirror"),
]
