"""Open-data views of the catalog: GeoJSON and CSV (filters as in search, every match in one
streamed document), and a paged DCAT-AP 3 catalog that CKAN's ckanext-dcat can harvest.

Every link these views hand out is built from `node.base_url`, never from the request."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import AsyncIterator, Iterable
from datetime import datetime

import orjson
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

import vocab
from registry.catalog.dataset_links import asset_links, with_provenance
from registry.catalog.search import search
from registry.catalog.search_query import SearchQuery, parse_query
from registry.catalog.store import StoredAsset
from registry.catalog.visibility import exported
from registry.config import INTERFACE_LANGUAGES
from registry.core import db, iris
from registry.core.schema import PUBLISHED, assets
from registry.http.auth import optional_principal, runtime
from registry.web.public_urls import public_url
from vocab.languages import languages_of

EXPORT_BATCH = 500  # rows read per query while streaming; memory stays flat whatever the total
DCAT_PAGE = 100  # ckanext-dcat's own default page size
GEOJSON = "application/geo+json"


async def _query(
    request: Request, page_size: int, max_page_size: int, *, whole: bool = False
) -> SearchQuery:
    params = dict(request.query_params)
    params.setdefault("facets", "false")
    if whole:  # an export is one document: paging parameters do not apply
        params.pop("cursor", None)
        params["limit"] = str(page_size)
    return parse_query(
        params,
        page_size=page_size,
        max_page_size=max_page_size,
        principal=await optional_principal(request),
    )


async def _every(request: Request, first: SearchQuery) -> AsyncIterator[list[StoredAsset]]:
    """Every matching asset, a batch at a time (keyset pages, so nothing is seen twice). A
    walk of the whole catalog reads each document once: it leaves the parsed-document cache
    to what is read again."""
    engine, query = runtime(request).engine, first
    while True:
        page = await search(engine, query, remember=False)
        yield page.items
        if not page.next_cursor:
            return
        query = dataclasses.replace(query, cursor=page.next_cursor)


async def geojson(request: Request) -> Response:
    """Every matching asset as one FeatureCollection, streamed; unplaced ones with a null
    geometry, so that GDAL and QGIS count exactly what search counts."""
    first = await _query(request, EXPORT_BATCH, EXPORT_BATCH, whole=True)

    async def body() -> AsyncIterator[bytes]:
        yield b'{"type":"FeatureCollection","features":['
        separator = b""
        async for batch in _every(request, first):
            chunk = b",".join(orjson.dumps(vocab.feature(*with_provenance(a))) for a in batch)
            if chunk:
                yield separator + chunk
                separator = b","
        yield b"]}"

    return StreamingResponse(body(), media_type=GEOJSON)


async def csv_export(request: Request) -> Response:
    first = await _query(request, EXPORT_BATCH, EXPORT_BATCH, whole=True)

    async def rows() -> AsyncIterator[str]:
        languages: list[str] | None = None
        async for batch in _every(request, first):
            items = [with_provenance(a) for a in batch]
            header = languages is None
            if languages is None:  # columns fixed by the first batch: see export_languages
                languages = export_languages(record for record, _ in items)
            yield _csv_chunk(items, header, languages)

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="assets.csv"'},
    )


def export_languages(records: Iterable[vocab.AssetRecord]) -> list[str]:
    """The per-language columns of a streamed export: the interface's languages and those of
    the first batch (the header is written before later batches are read)."""
    found = {tag for record in records for tag in languages_of(record)}
    return sorted(found | set(INTERFACE_LANGUAGES))


async def asset_csv(request: Request) -> Response:
    """One public asset as a CSV file (a header and its row), a distribution in the catalog."""
    stored = await runtime(request).assets.get(request.path_params["uid"])
    return Response(
        _csv_chunk([with_provenance(stored)], header=True),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{stored.uid}.csv"'},
    )


def _csv_chunk(
    items: Iterable[tuple[vocab.AssetRecord, vocab.AssetMeta]],
    header: bool,
    languages: list[str] | None = None,
) -> str:
    buffer = io.StringIO()
    vocab.write_csv(items, buffer, languages)
    text = buffer.getvalue()
    return text if header else text.split("\n", 1)[1] if "\n" in text else ""


async def latest_public_change(request: Request) -> datetime | None:
    """When the public catalog last changed: one `dct:modified` for every page."""
    async with db.read(runtime(request).engine) as conn:
        latest = await conn.scalar(
            select(func.max(assets.c.updated_at)).where(
                assets.c.deleted_at.is_(None), assets.c.moderation == PUBLISHED, exported()
            )
        )
    return latest


async def dcat(request: Request) -> Response:
    svc = runtime(request)
    settings = svc.settings
    base = settings.base_url
    query = await _query(request, DCAT_PAGE, DCAT_PAGE)
    query = dataclasses.replace(query, facets=query.cursor is None)
    page = await search(svc.engine, query, count_limit=settings.search.count_limit)
    page_info = vocab.PageInfo(
        page=public_url(request),
        first=public_url(request, cursor=None),
        next=public_url(request, cursor=page.next_cursor) if page.next_cursor else None,
        total_items=page.total if page.total_exact else None,
        items_per_page=query.limit,
    )
    meta = vocab.CatalogMeta(
        iri=iris.dcat_catalog(base),
        title=settings.node.name,
        description=settings.node.summary,
        publisher_name=settings.node.operator or settings.node.name,
        publisher_iri=iris.actor(base),
        homepage=iris.home(base),
        modified=await latest_public_change(request),
        language="en",
        contact_email=settings.node.contact_email or None,
    )
    links = {a.meta.iri: asset_links(base, a) for a in page.items}
    body = vocab.dcat_catalog(
        (with_provenance(a) for a in page.items), meta, page_info, links=lambda m: links[m.iri]
    )
    return Response(orjson.dumps(body), media_type="application/ld+json")


routes = [
    Route("/api/assets.geojson", geojson, methods=["GET"], name="opendata.geojson"),
    Route("/api/assets.csv", csv_export, methods=["GET"], name="opendata.csv"),
    Route("/assets/{uid}.csv", asset_csv, methods=["GET"], name="opendata.asset_csv"),
    Route("/dcat/catalog.jsonld", dcat, methods=["GET"], name="opendata.dcat"),
]
