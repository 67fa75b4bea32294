"""Open-data views of the catalog: GeoJSON and CSV (filters as in search), and a paged DCAT 3
catalog that CKAN's ckanext-dcat can harvest."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import AsyncIterator, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

import vocab
from registry.asset_store import StoredAsset
from registry.http.auth import optional_principal, services
from registry.http.responses import json_response
from registry.schema import LOCAL
from registry.search import SearchQuery, parse_query, search

GEOJSON_PAGE, GEOJSON_MAX = 1000, 5000
CSV_BATCH = 500
DCAT_PAGE = 100  # ckanext-dcat's own default page size


def with_provenance(asset: StoredAsset) -> tuple[vocab.AssetRecord, vocab.AssetMeta]:
    """The record and meta, with the origin node named for mirrored assets."""
    origin = None if asset.origin == LOCAL else asset.origin
    return asset.record, dataclasses.replace(asset.meta, origin=origin)


async def _query(request: Request, page_size: int, max_page_size: int) -> SearchQuery:
    params = dict(request.query_params)
    params.setdefault("facets", "false")
    return parse_query(
        params,
        page_size=page_size,
        max_page_size=max_page_size,
        principal=await optional_principal(request),
    )


async def geojson(request: Request) -> Response:
    svc = services(request)
    query = await _query(request, GEOJSON_PAGE, GEOJSON_MAX)
    page = await search(svc.engine, query)
    body: dict[str, Any] = vocab.feature_collection(with_provenance(a) for a in page.items)
    if page.next_cursor:  # a foreign member: GeoJSON has no paging of its own
        body["links"] = [
            {
                "rel": "next",
                "type": "application/geo+json",
                "href": str(request.url.include_query_params(cursor=page.next_cursor)),
            }
        ]
    return json_response(body, media_type="application/geo+json")


async def csv_export(request: Request) -> Response:
    svc = services(request)
    first = await _query(request, CSV_BATCH, CSV_BATCH)

    async def rows() -> AsyncIterator[str]:
        query, header = first, True
        while True:
            page = await search(svc.engine, query)
            yield _csv_chunk((with_provenance(a) for a in page.items), header)
            header = False
            if not page.next_cursor:
                return
            query = dataclasses.replace(query, cursor=page.next_cursor)

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="assets.csv"'},
    )


def _csv_chunk(items: Iterable[tuple[vocab.AssetRecord, vocab.AssetMeta]], header: bool) -> str:
    buffer = io.StringIO()
    vocab.write_csv(items, buffer)
    text = buffer.getvalue()
    return text if header else text.split("\n", 1)[1] if "\n" in text else ""


async def dcat(request: Request) -> Response:
    svc = services(request)
    settings = svc.settings
    query = await _query(request, DCAT_PAGE, DCAT_PAGE)
    query = dataclasses.replace(query, facets=query.cursor is None)
    page = await search(svc.engine, query)
    catalog_iri = f"{settings.base_url}/dcat/catalog.jsonld"
    page_info = vocab.PageInfo(
        page=str(request.url),
        first=str(request.url.remove_query_params("cursor")),
        next=str(request.url.include_query_params(cursor=page.next_cursor))
        if page.next_cursor
        else None,
        total_items=page.total,
        items_per_page=query.limit,
    )
    latest = max((a.updated_at for a in page.items), default=None)
    meta = vocab.CatalogMeta(
        iri=catalog_iri,
        title=settings.node.name,
        description=settings.node.summary,
        publisher_name=settings.node.operator or settings.node.name,
        publisher_iri=f"{settings.base_url}/actor",
        homepage=f"{settings.base_url}/",
        modified=latest,
        language="en",
    )
    body = vocab.dcat_catalog((with_provenance(a) for a in page.items), meta, page_info)
    return json_response(body, media_type="application/ld+json")


routes = [
    Route("/api/assets.geojson", geojson, methods=["GET"]),
    Route("/api/assets.csv", csv_export, methods=["GET"]),
    Route("/dcat/catalog.jsonld", dcat, methods=["GET"]),
]
