"""Resources that people and machines share a URL for: assets, concepts, the home and search
pages. Each negotiates between HTML and JSON-LD, and always answers `Vary: Accept`."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

import vocab
from registry.catalog import samples
from registry.catalog.dataset_links import with_provenance
from registry.catalog.search import search
from registry.catalog.search_query import parse_query
from registry.catalog.store import StoredAsset, published_document
from registry.core import db, iris
from registry.core.errors import Gone, NotFound, Problem
from registry.core.schema import LOCAL, PUBLISHED
from registry.fediverse import partners
from registry.http import negotiation
from registry.http.activitypub.moved import moved_by_uid, moved_response
from registry.http.activitypub.signed import require_signed_get
from registry.http.audience import request_audience
from registry.http.auth import runtime
from registry.http.pages.session import load_session
from registry.http.responses import json_response
from registry.web.public_urls import route_url
from registry.web.render import render
from vocab.times import iso

VARY = {"Vary": "Accept"}


def jsonld(
    body: bytes | dict[str, Any] | list[Any],
    accept: str | None,
    chosen: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(
        content,
        status_code=status_code,
        headers={**VARY, **headers} if headers else VARY,
        media_type=negotiation.jsonld_content_type(accept, chosen),
    )


def html_problem(request: Request, problem: Problem) -> Response:
    response = render(
        request,
        "error.html",
        status_code=problem.status,
        title=problem.title,
        detail=problem.detail,
        problem=problem,
        headers=VARY,
    )
    return response


def asset_page_url(base: str, asset: StoredAsset) -> str:
    return iris.asset_page(base, asset.uid, local=asset.origin == LOCAL)


def tombstone(iri: str, deleted: Any) -> dict[str, Any]:
    return {
        "@context": vocab.AS_CONTEXT,
        "id": iri,
        "type": "Tombstone",
        # `formerType` is `@id`-typed: compact or full IRIs, never a bare name (a relative
        # IRI); full for ours, since the ActivityStreams context does not define our prefix.
        "formerType": ["as:Page", f"{vocab.COMMONS_NS}CommonsAsset"],
        "deleted": iso(deleted),
    }


async def asset(request: Request) -> Response:
    """GET /assets/{uid}: the stored JSON-LD document as it is, or the asset's page."""
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, negotiation.PAGE_FIRST)
    uid = request.path_params["uid"]
    svc = runtime(request)
    if chosen == negotiation.HTML:
        session = await load_session(request)
        try:
            stored = await svc.assets.get(uid, session.member.principal if session else None)
        except (NotFound, Gone) as problem:
            moved = await moved_by_uid(svc.engine, uid, accept)  # a group took it elsewhere
            return moved or html_problem(request, problem)
        if stored.origin != LOCAL:
            return RedirectResponse(asset_page_url(svc.settings.base_url, stored), 308)
        return render(request, "asset.html", asset=stored, jsonld_url=stored.iri, headers=VARY)
    await require_signed_get(request)
    body = await svc.cached_document(uid)  # no database round trip on a hit
    if body is None:
        token = svc.documents.token()
        audience = await request_audience(request)
        async with db.read(svc.engine) as conn:
            row = await published_document(conn, uid, audience)
        if row is None or row.origin != LOCAL or row.moderation != PUBLISHED or not row.readable:
            raise NotFound(f"there is no asset {uid!r}", headers=VARY)
        if row.deleted_at is not None:
            moved = await moved_response(svc.engine, row.iri, accept, row.deleted_at)
            return moved or jsonld(tombstone(row.iri, row.deleted_at), accept, chosen, 410)
        body = row.document.encode()
        if row.open:  # only what anybody may read is kept for anybody
            svc.documents.put(uid, body, token)
    return jsonld(body, accept, chosen)


def _concept_or_404(scheme_name: str, slug: str | None = None) -> Any:
    if scheme_name not in vocab.SCHEMES:
        raise NotFound(
            f"there is no vocabulary {scheme_name!r}; there are {', '.join(vocab.SCHEMES)}",
            headers=VARY,
        )
    if slug is None:
        return vocab.scheme(scheme_name)
    found = vocab.concept(scheme_name, slug)
    if found is None:
        raise NotFound(f"{slug!r} is not a concept of {scheme_name}", headers=VARY)
    return found


async def scheme_resource(request: Request) -> Response:
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, negotiation.PAGE_FIRST)
    name = request.path_params["scheme"]
    scheme = _concept_or_404(name)
    page_url = route_url(request, "pages.scheme", scheme=name)
    if chosen == negotiation.HTML:
        return render(request, "scheme.html", scheme=scheme, page_url=page_url, headers=VARY)
    return jsonld(vocab.scheme_document(name), accept, chosen)


async def concept_resource(request: Request) -> Response:
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, negotiation.PAGE_FIRST)
    name, slug = request.path_params["scheme"], request.path_params["slug"]
    concept = _concept_or_404(name, slug)
    page_url = route_url(request, "pages.concept", scheme=name, slug=slug)
    if chosen == negotiation.HTML:
        return render(
            request,
            "concept.html",
            scheme=vocab.scheme(name),
            concept=concept,
            page_url=page_url,
            headers=VARY,
        )
    return jsonld(vocab.concept_document(name, slug) or {}, accept, chosen)


async def context(request: Request) -> Response:
    return Response(
        orjson.dumps(vocab.commons_context_document()),
        media_type="application/ld+json",
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=86400"},
    )


async def home(request: Request) -> Response:
    svc = runtime(request)
    await load_session(request)
    query = parse_query({"limit": "1"}, page_size=1, max_page_size=1, principal=None)
    page = await search(svc.engine, query, svc.facet_cache)
    known = [
        {"name": p.name or p.host, "host": p.host, "url": "/".join(p.actor.split("/")[:3])}
        for p in await partners.list_partners(svc.engine)
    ]
    newest = parse_query(
        {"limit": "5", "facets": "false"}, page_size=5, max_page_size=5, principal=None
    )
    recent = await search(svc.engine, newest)
    return render(
        request,
        "home.html",
        kind_counts=(page.facets or {}).get("kind", {}),
        partners=known,
        samples=await samples.held(svc.engine),
        recent=recent.items,
        asset_page=lambda a: asset_page_url(svc.settings.base_url, a),
    )


async def asset_geojson(request: Request) -> Response:
    """One public asset as a GeoJSON Feature (its page links here)."""
    svc = runtime(request)
    stored = await svc.assets.get(request.path_params["uid"])
    return json_response(vocab.feature(*with_provenance(stored)), media_type="application/geo+json")


async def tag(request: Request) -> Response:
    """Hashtag links in our documents point here; people land on the search for the tag."""
    return RedirectResponse(
        route_url(request, "pages.search", {"tag": request.path_params["tag"]}), 303
    )


routes = [
    Route("/", home, methods=["GET"], name="pages.home"),
    Route("/assets/{uid}.geojson", asset_geojson, methods=["GET"], name="pages.asset_geojson"),
    Route("/assets/{uid}", asset, methods=["GET"], name="pages.asset"),
    Route("/tags/{tag}", tag, methods=["GET"], name="pages.tag"),
    Route("/vocab/{scheme}", scheme_resource, methods=["GET"], name="pages.scheme"),
    Route("/vocab/{scheme}/{slug}", concept_resource, methods=["GET"], name="pages.concept"),
    Route("/context.jsonld", context, methods=["GET"], name="pages.context"),
]
