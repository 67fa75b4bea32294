"""Resources that people and machines share a URL for: assets, concepts, the home and search
pages. Each negotiates between HTML and JSON-LD, and always answers `Vary: Accept`."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

import vocab
from registry import db, partners, samples
from registry.accounts import iso
from registry.asset_store import StoredAsset, published_document
from registry.errors import Gone, NotFound, Problem
from registry.http import negotiation
from registry.http.auth import services
from registry.http.moved import moved_by_uid, moved_response
from registry.http.open_data import with_provenance
from registry.http.responses import json_response
from registry.http.signed import require_signed_get
from registry.http.web_session import load_session
from registry.schema import LOCAL, PUBLISHED
from registry.search import parse_query, search
from registry.web.render import render

VARY = {"Vary": "Accept"}


def jsonld(
    body: bytes | dict[str, Any] | list[Any],
    accept: str | None,
    chosen: str,
    status_code: int = 200,
) -> Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(
        content,
        status_code=status_code,
        headers=VARY,
        media_type=negotiation.jsonld_content_type(accept, chosen),
    )


def html_problem(request: Request, problem: Problem) -> Response:
    response = render(
        request,
        "error.html",
        status_code=problem.status,
        title=problem.title,
        detail=problem.detail,
        headers=VARY,
    )
    return response


def asset_page_url(base: str, asset: StoredAsset) -> str:
    return f"{base}/assets/{asset.uid}" if asset.origin == LOCAL else f"{base}/mirror/{asset.uid}"


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
    svc = services(request)
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
    body = svc.documents.get(uid)  # the hot path: no database round trip on a hit
    if body is None:
        async with db.read(svc.engine) as conn:
            row = await published_document(conn, uid)
        if row is None or row.origin != LOCAL or row.moderation != PUBLISHED:
            raise NotFound(f"there is no asset {uid!r}", headers=VARY)
        if row.deleted_at is not None:
            moved = await moved_response(svc.engine, row.iri, accept, row.deleted_at)
            return moved or jsonld(tombstone(row.iri, row.deleted_at), accept, chosen, 410)
        body = row.document.encode()
        svc.documents.put(uid, body)
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
    page_url = f"{services(request).settings.base_url}/vocab/{name}"
    if chosen == negotiation.HTML:
        return render(request, "scheme.html", scheme=scheme, page_url=page_url, headers=VARY)
    return jsonld(vocab.scheme_document(name), accept, chosen)


async def concept_resource(request: Request) -> Response:
    accept = request.headers.get("accept")
    chosen = negotiation.choose(accept, negotiation.PAGE_FIRST)
    name, slug = request.path_params["scheme"], request.path_params["slug"]
    concept = _concept_or_404(name, slug)
    page_url = f"{services(request).settings.base_url}/vocab/{name}/{slug}"
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
    svc = services(request)
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
    svc = services(request)
    stored = await svc.assets.get(request.path_params["uid"])
    return json_response(vocab.feature(*with_provenance(stored)), media_type="application/geo+json")


async def tag(request: Request) -> Response:
    """Hashtag links in our documents point here; people land on the search for the tag."""
    base = services(request).settings.base_url
    return RedirectResponse(f"{base}/search?tag={request.path_params['tag']}", 303)


routes = [
    Route("/", home, methods=["GET"]),
    Route("/assets/{uid}.geojson", asset_geojson, methods=["GET"]),
    Route("/assets/{uid}", asset, methods=["GET"]),
    Route("/tags/{tag}", tag, methods=["GET"]),
    Route("/vocab/{scheme}", scheme_resource, methods=["GET"]),
    Route("/vocab/{scheme}/{slug}", concept_resource, methods=["GET"]),
    Route("/context.jsonld", context, methods=["GET"]),
]
