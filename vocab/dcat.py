"""A DCAT 3 catalog page in JSON-LD, for open-data portals (CKAN with ckanext-dcat, udata,
data.europa.eu harvesters).

Every asset is a `dcat:Resource` (DCAT 3 lets a catalog list any resource); open datasets are
also `dcat:Dataset`. ckanext-dcat's harvester only imports `dcat:Dataset` subjects, so a node
that wants CKAN to take every asset passes `all_as_datasets=True`. Paging is Hydra: the page
node carries both the current terms (PartialCollectionView, next/first/last) and the older
ones that ckanext-dcat writes and reads (PagedCollection, nextPage/firstPage/lastPage).
The context is inline, so rdflib or any harvester parses the page without a fetch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vocab import concepts
from vocab.document import AssetMeta, iso_utc
from vocab.linked import ACCESS_RIGHTS
from vocab.namespaces import (
    ADMS,
    DCAT,
    DCT,
    FOAF,
    GEOJSON_MEDIA_TYPE,
    GSP,
    HYDRA,
    LOCN,
    PROV,
    SPDX_LICENSES,
    XSD,
)
from vocab.record import AssetRecord

DCAT_CONTEXT: dict[str, Any] = {
    "dcat": DCAT,
    "dct": DCT,
    "foaf": FOAF,
    "locn": LOCN,
    "prov": PROV,
    "hydra": HYDRA,
    "xsd": XSD,
    "gsp": GSP,
    "adms": ADMS,
}


@dataclass(frozen=True)
class CatalogMeta:
    iri: str
    title: str
    description: str
    publisher_name: str
    publisher_iri: str | None = None
    homepage: str | None = None
    modified: datetime | None = None
    language: str | None = None  # e.g. "en"


@dataclass(frozen=True)
class PageInfo:
    """Where this page sits in the whole catalog (all URLs absolute)."""

    page: str
    first: str | None = None
    next: str | None = None
    previous: str | None = None
    last: str | None = None
    total_items: int | None = None
    items_per_page: int | None = None


def _literal(value: Any, datatype: str | None = None) -> dict[str, Any]:
    return {"@value": value, "@type": datatype} if datatype else {"@value": value}


def _when(value: datetime) -> dict[str, Any]:
    return _literal(iso_utc(value), "xsd:dateTime")


def _agent(name: str, iri: str | None) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": iri} if iri else {}
    return {**node, "@type": "foaf:Agent", "foaf:name": name}


def _spatial(record: AssetRecord) -> dict[str, Any] | None:
    location = record.location
    point = None
    if location is not None and location.latitude is not None:
        point = {"type": "Point", "coordinates": [location.longitude, location.latitude]}
    geometry = record.geometry or point
    if geometry is None:
        return None
    spatial: dict[str, Any] = {
        "@type": "dct:Location",
        "locn:geometry": _literal(json.dumps(geometry, separators=(",", ":")), GEOJSON_MEDIA_TYPE),
    }
    if point is not None:
        lon, lat = point["coordinates"]
        spatial["dcat:centroid"] = _literal(f"POINT({lon!r} {lat!r})", "gsp:wktLiteral")
    return spatial


def dcat_resource(
    record: AssetRecord, meta: AssetMeta, publisher: dict[str, Any], as_dataset: bool = False
) -> dict[str, Any]:
    """One asset as a DCAT resource node."""
    is_dataset = as_dataset or record.kind == "open-dataset"
    node: dict[str, Any] = {
        "@id": meta.iri,
        "@type": ["dcat:Resource", "dcat:Dataset"] if is_dataset else ["dcat:Resource"],
        "dct:title": record.name,
        "dct:identifier": record.identifier or meta.iri,
        "dct:type": {"@id": concepts.concept_iri("kinds", record.kind)},
        "adms:status": {"@id": concepts.concept_iri("status", record.status)},
    }
    description = record.description or record.summary
    if description:
        node["dct:description"] = description
    if record.tags:
        node["dcat:keyword"] = list(record.tags)
    if record.license:
        node["dct:license"] = {"@id": SPDX_LICENSES + record.license}
    if record.rights:
        node["dct:rights"] = record.rights
    if record.access_rights:
        node["dct:accessRights"] = {"@id": ACCESS_RIGHTS.iris[record.access_rights]}
    if meta.updated is not None:
        node["dct:modified"] = _when(meta.updated)
    if meta.published is not None:
        node["dct:issued"] = _when(meta.published)
    if meta.url:
        node["dcat:landingPage"] = {"@id": meta.url}
    if record.website:
        node["foaf:homepage"] = {"@id": record.website}
    spatial = _spatial(record)
    if spatial:
        node["dct:spatial"] = spatial
    steward = record.steward
    node["dct:publisher"] = _agent(steward.name, steward.id) if steward else publisher
    source = record.derived_from or (meta.iri if meta.origin else None)
    if source:
        node["dct:source"] = {"@id": source}
    if meta.origin:  # a mirrored asset: say whose record it is
        node["prov:wasAttributedTo"] = {"@id": meta.origin}
    return node


def _paging(page_info: PageInfo) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@id": page_info.page,
        "@type": ["hydra:PartialCollectionView", "hydra:PagedCollection"],
    }
    for name, url in (
        ("first", page_info.first),
        ("next", page_info.next),
        ("previous", page_info.previous),
        ("last", page_info.last),
    ):
        if url:
            node[f"hydra:{name}"] = {"@id": url}
            node[f"hydra:{name}Page"] = {"@id": url}  # the pre-2015 Hydra terms CKAN reads
    if page_info.total_items is not None:
        node["hydra:totalItems"] = _literal(page_info.total_items, "xsd:integer")
    if page_info.items_per_page is not None:
        node["hydra:itemsPerPage"] = _literal(page_info.items_per_page, "xsd:integer")
    return node


def dcat_catalog(
    items: Iterable[tuple[AssetRecord, AssetMeta]],
    catalog_meta: CatalogMeta,
    page_info: PageInfo | None = None,
    *,
    all_as_datasets: bool = False,
) -> dict[str, Any]:
    """One page of the catalog as a JSON-LD document with an inline context."""
    publisher = _agent(catalog_meta.publisher_name, catalog_meta.publisher_iri)
    resources = [dcat_resource(record, meta, publisher, all_as_datasets) for record, meta in items]
    catalog: dict[str, Any] = {
        "@id": catalog_meta.iri,
        "@type": "dcat:Catalog",
        "dct:title": catalog_meta.title,
        "dct:description": catalog_meta.description,
        "dct:publisher": publisher,
        "dcat:resource": resources,
        "dcat:dataset": [{"@id": r["@id"]} for r in resources if "dcat:Dataset" in r["@type"]],
    }
    if catalog_meta.modified is not None:
        catalog["dct:modified"] = _when(catalog_meta.modified)
    if catalog_meta.homepage:
        catalog["foaf:homepage"] = {"@id": catalog_meta.homepage}
    if catalog_meta.language:
        catalog["dct:language"] = catalog_meta.language
    graph = [catalog]
    if page_info is not None:
        catalog["hydra:view"] = {"@id": page_info.page}
        graph.append(_paging(page_info))
    return {"@context": dict(DCAT_CONTEXT), "@graph": graph}
