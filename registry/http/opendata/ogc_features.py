"""OGC API - Features (Part 1: Core, GeoJSON, OpenAPI 3.0) at /ogc, what QGIS, ArcGIS and
GDAL open natively (`ogrinfo OAPIF:{base}/ogc`).

One collection per asset kind plus `all`. Items are the GeoJSON features of the exports (null
geometry for unplaced assets), with `bbox`, `limit`, `datetime` (on the last change) and
property filters (`kind`, `status`, `country`, `tag`, `origin`), cursor `next` links built
from `node.base_url`, and one page per feature. Layout after pygeoapi's, written for our
search.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import vocab
from registry.catalog.dataset_links import with_provenance
from registry.catalog.search import search
from registry.catalog.search_query import InvalidParameter, parse_query
from registry.core.errors import NotFound
from registry.http.auth import runtime
from registry.http.responses import json_response
from registry.web.public_urls import public_url, route_url

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
JSON, GEOJSON, OPENAPI = (
    "application/json",
    "application/geo+json",
    "application/vnd.oai.openapi+json;version=3.0",
)
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
FILTERS = ("kind", "status", "country", "tag", "origin")
ALLOWED = {"bbox", "limit", "datetime", "cursor", "f", *FILTERS}


def _base(request: Request) -> str:
    return route_url(request, "ogc.landing")


def _link(href: str, rel: str, media: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media}
    return {**link, "title": title} if title else link


def _collection_ids() -> list[str]:
    return ["all", *vocab.slugs("kinds")]


def _collection(request: Request, cid: str) -> dict[str, Any]:
    concept = vocab.concept("kinds", cid)
    title = "Every commons asset" if concept is None else concept.label("en")
    return {
        "id": cid,
        "title": title,
        "description": f"{title}: places, groups and resources registered on this node.",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]], "crs": CRS84}},
        "links": [
            _link(route_url(request, "ogc.collection", cid=cid), "self", JSON, title),
            _link(route_url(request, "ogc.items", cid=cid), "items", GEOJSON, f"{title} (GeoJSON)"),
        ],
    }


def _collection_id(request: Request) -> str:
    cid = request.path_params["cid"]
    if cid not in _collection_ids():
        raise NotFound(f"there is no collection {cid!r}; there are {', '.join(_collection_ids())}")
    return cid


async def landing(request: Request) -> Response:
    settings = runtime(request).settings
    return json_response(
        {
            "title": settings.node.name,
            "description": settings.node.summary,
            "links": [
                _link(_base(request), "self", JSON, "This document"),
                _link(route_url(request, "ogc.api"), "service-desc", OPENAPI, "The API definition"),
                _link(
                    route_url(request, "ogc.conformance"),
                    "conformance",
                    JSON,
                    "Conformance classes",
                ),
                _link(route_url(request, "ogc.collections"), "data", JSON, "Collections"),
            ],
        }
    )


async def conformance(request: Request) -> Response:
    return json_response({"conformsTo": CONFORMANCE})


async def collections(request: Request) -> Response:
    return json_response(
        {
            "links": [_link(route_url(request, "ogc.collections"), "self", JSON)],
            "collections": [_collection(request, cid) for cid in _collection_ids()],
        }
    )


async def collection(request: Request) -> Response:
    return json_response(_collection(request, _collection_id(request)))


def _datetime_bounds(raw: str) -> tuple[datetime | None, datetime | None]:
    """An instant or an interval (`a/b`, `../b`, `a/..`) in RFC 3339, as inclusive bounds."""

    def one(text: str) -> datetime | None:
        if text in ("", ".."):
            return None
        parsed = vocab.document.parse_utc(text)
        if parsed is None:
            raise InvalidParameter(
                f"datetime: {text!r} is not an RFC 3339 date-time",
                errors=[
                    {"field": "datetime", "message": "expected RFC 3339, e.g. 2026-01-31T00:00:00Z"}
                ],
            )
        return parsed.replace(tzinfo=parsed.tzinfo or UTC)

    if "/" in raw:
        start, _, stop = raw.partition("/")
        return one(start), one(stop)
    instant = one(raw)
    return instant, instant


def _items_query(request: Request, cid: str) -> Any:
    params = request.query_params
    unknown = sorted(set(params) - ALLOWED)
    if unknown:
        raise InvalidParameter(
            f"unknown parameter {unknown[0]!r}; this API filters on {', '.join(sorted(ALLOWED))}",
            errors=[{"field": name, "message": "unknown parameter"} for name in unknown],
        )
    if params.get("f", "json") not in ("json", "geojson"):
        raise InvalidParameter("f: only json is served", errors=[{"field": "f", "message": "json"}])
    search_params: dict[str, Any] = {k: v for k, v in params.items() if k in FILTERS}
    if cid != "all":
        search_params["kind"] = cid
    if params.get("bbox"):
        parts = params["bbox"].split(",")
        # A 3D box (six numbers): keep its horizontal extent.
        search_params["bbox"] = ",".join([*parts[:2], *parts[3:5]] if len(parts) == 6 else parts)
    try:
        limit = min(max(int(params.get("limit", DEFAULT_LIMIT)), 1), MAX_LIMIT)
    except ValueError:
        raise InvalidParameter(
            "limit: expected an integer", errors=[{"field": "limit", "message": "an integer"}]
        ) from None
    search_params.update(limit=str(limit), facets="true", sort="newest")
    if params.get("cursor"):
        search_params["cursor"] = params["cursor"]
    query = parse_query(search_params, page_size=limit, max_page_size=MAX_LIMIT, principal=None)
    if params.get("datetime"):
        since, until = _datetime_bounds(params["datetime"])
        query = dataclasses.replace(query, modified_since=since, modified_until=until)
    return query


def _feature(asset: Any) -> dict[str, Any]:
    feature = vocab.feature(*with_provenance(asset))
    feature["id"] = asset.uid
    return feature


async def items(request: Request) -> Response:
    cid = _collection_id(request)
    svc = runtime(request)
    query = _items_query(request, cid)
    page = await search(svc.engine, query, svc.facet_cache, svc.settings.search.count_limit)
    features = [_feature(a) for a in page.items]
    links = [
        _link(public_url(request), "self", GEOJSON, "This page"),
        _link(route_url(request, "ogc.collection", cid=cid), "collection", JSON),
    ]
    if page.next_cursor:
        links.append(_link(public_url(request, cursor=page.next_cursor), "next", GEOJSON, "Next"))
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": len(features),
        "timeStamp": vocab.document.iso_utc(datetime.now(UTC)),
        "links": links,
    }
    if page.total is not None and page.total_exact:  # optional: left out when not counted
        body["numberMatched"] = page.total
    return json_response(body, media_type=GEOJSON)


async def item(request: Request) -> Response:
    cid = _collection_id(request)
    svc = runtime(request)
    asset = await svc.assets.get(request.path_params["fid"], exported_only=True)
    if cid != "all" and asset.record.kind != cid:
        raise NotFound(f"the feature {asset.uid!r} is not in the collection {cid!r}")
    feature = _feature(asset)
    feature["links"] = [
        _link(route_url(request, "ogc.item", cid=cid, fid=asset.uid), "self", GEOJSON),
        _link(route_url(request, "ogc.collection", cid=cid), "collection", JSON),
        _link(asset.meta.iri, "alternate", "application/ld+json", "Linked data"),
    ]
    return json_response(feature, media_type=GEOJSON)


def _parameter(name: str, schema: dict[str, Any], where: str = "query", **extra: Any) -> Any:
    return {"name": name, "in": where, "required": where == "path", "schema": schema, **extra}


def openapi_document(base: str) -> dict[str, Any]:
    """A small OpenAPI 3.0 description of this API (the oas30 conformance class)."""
    geo = {GEOJSON: {"schema": {"type": "object"}}}
    js = {JSON: {"schema": {"type": "object"}}}
    item_params = [
        _parameter("cid", {"type": "string", "enum": _collection_ids()}, "path"),
        _parameter(
            "bbox",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            style="form",
            explode=False,
        ),
        _parameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        ),
        _parameter("datetime", {"type": "string"}),
        _parameter("cursor", {"type": "string"}),
        _parameter("f", {"type": "string", "enum": ["json", "geojson"]}),
        *[_parameter(name, {"type": "string"}) for name in FILTERS],
    ]
    ok = lambda content: {"200": {"description": "OK", "content": content}}  # noqa: E731
    return {
        "openapi": "3.0.3",
        "info": {"title": "OGC API - Features of a commons registry", "version": "1.0.0"},
        "servers": [{"url": base}],
        "paths": {
            "/": {"get": {"operationId": "landing", "responses": ok(js)}},
            "/conformance": {"get": {"operationId": "conformance", "responses": ok(js)}},
            "/collections": {"get": {"operationId": "collections", "responses": ok(js)}},
            "/collections/{cid}": {
                "get": {
                    "operationId": "collection",
                    "parameters": item_params[:1],
                    "responses": ok(js),
                }
            },
            "/collections/{cid}/items": {
                "get": {"operationId": "items", "parameters": item_params, "responses": ok(geo)}
            },
            "/collections/{cid}/items/{fid}": {
                "get": {
                    "operationId": "item",
                    "parameters": [item_params[0], _parameter("fid", {"type": "string"}, "path")],
                    "responses": ok(geo),
                }
            },
        },
    }


async def api(request: Request) -> Response:
    return json_response(openapi_document(_base(request)), media_type=OPENAPI)


routes = [
    Route("/ogc", landing, methods=["GET"], name="ogc.landing"),
    Route("/ogc/", landing, methods=["GET"], name="ogc.landing_slash"),
    Route("/ogc/api", api, methods=["GET"], name="ogc.api"),
    Route("/ogc/conformance", conformance, methods=["GET"], name="ogc.conformance"),
    Route("/ogc/collections", collections, methods=["GET"], name="ogc.collections"),
    Route("/ogc/collections/{cid}", collection, methods=["GET"], name="ogc.collection"),
    Route("/ogc/collections/{cid}/items", items, methods=["GET"], name="ogc.items"),
    Route("/ogc/collections/{cid}/items/{fid}", item, methods=["GET"], name="ogc.item"),
]
