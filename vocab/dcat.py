"""A DCAT-AP 3 catalog page in JSON-LD, for open-data portals (CKAN with ckanext-dcat, udata,
data.europa.eu harvesters).

Every asset is a `dcat:Dataset` (its commons kind kept as `dct:type`): ckanext-dcat and the
European Data Portal import only Datasets. Each Dataset has a description (a plain-language one
is written when the group gave none), a publisher, a contact point, its place (GeoJSON, bbox and
centroid), themes from the EU data-theme authority list, and four distributions (the JSON-LD
document, GeoJSON, CSV and the HTML page), each carrying the licence: ckanext-dcat reads the
licence from distributions only. Every IRI-valued node is typed with the class DCAT-AP's range
shapes expect, so the page validates offline without the EU vocabularies.

Paging is Hydra: the page node carries both the current terms (PartialCollectionView,
next/first/last) and the older ones that ckanext-dcat writes and reads (PagedCollection,
nextPage/firstPage/lastPage). Every page repeats the same catalog description and the same one
`dct:modified` (the whole catalog's), so merging the pages gives one consistent catalog.
The context is inline, so rdflib or any harvester parses the page without a fetch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vocab import concepts, geoshape, licenses
from vocab.document import AssetMeta
from vocab.geojson import feature_geometry
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
    XSD,
)
from vocab.record import AssetRecord
from vocab.times import iso_utc

VCARD = "http://www.w3.org/2006/vcard/ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA_MEDIA = "https://www.iana.org/assignments/media-types/"

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
    "vcard": VCARD,
    "skos": SKOS,
    "owl": OWL,
    "rdfs": RDFS,
    "dcatap": "http://data.europa.eu/r5r/",
}

# ISO 639-1 -> the EU language authority list (ISO 639-3 codes), for the languages we label in.
LANGUAGES = {"en": "ENG", "es": "SPA", "fr": "FRA", "de": "DEU", "ca": "CAT", "it": "ITA"}

# EU data themes per asset kind (labels as the authority list gives them in English).
THEME_LABELS = {
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "EDUC": "Education, culture and sport",
    "ECON": "Economy and finance",
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ENVI": "Environment",
    "REGI": "Regions and cities",
    "GOVE": "Government and public sector",
}
KIND_THEMES = {
    "community-land-trust": ("REGI", "SOCI"),
    "open-hardware": ("TECH",),
    "fablab": ("TECH", "EDUC"),
    "tool-library": ("SOCI",),
    "community-garden": ("AGRI", "ENVI"),
    "cooperative": ("ECON", "SOCI"),
    "open-dataset": ("GOVE",),
    "other": ("SOCI",),
}


@dataclass(frozen=True)
class CatalogMeta:
    iri: str
    title: str
    description: str
    publisher_name: str
    publisher_iri: str | None = None
    homepage: str | None = None
    modified: datetime | None = None  # the whole catalog's latest change, the same on every page
    language: str | None = None  # e.g. "en"
    contact_email: str | None = None


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


@dataclass(frozen=True)
class DatasetLinks:
    """Where this node serves one asset in each of its forms (absolute URLs)."""

    page: str  # HTML
    jsonld: str
    geojson: str
    csv: str


def default_links(meta: AssetMeta) -> DatasetLinks:
    page = meta.url or meta.iri
    return DatasetLinks(page=page, jsonld=meta.iri, geojson=f"{page}.geojson", csv=f"{page}.csv")


def _literal(value: Any, datatype: str | None = None) -> dict[str, Any]:
    return {"@value": value, "@type": datatype} if datatype else {"@value": value}


def _in_languages(plain: str, tagged: dict[str, str], plain_language: str | None = None) -> Any:
    """One literal per language (DCAT-AP repeats dct:title for parallel language versions),
    and the untagged text (tagged `plain_language` when known) unless it is one of them."""
    if not tagged:
        return plain
    values = [{"@value": text, "@language": tag} for tag, text in sorted(tagged.items())]
    if plain in tagged.values() or plain_language in tagged:
        return values
    first = {"@value": plain, "@language": plain_language} if plain_language else plain
    return [first, *values]


def _when(value: datetime) -> dict[str, Any]:
    return _literal(iso_utc(value), "xsd:dateTime")


def _agent(name: str, iri: str | None) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": iri} if iri else {}
    return {**node, "@type": "foaf:Agent", "foaf:name": name}


def _concept(iri: str, label: str) -> dict[str, Any]:
    return {"@id": iri, "@type": "skos:Concept", "skos:prefLabel": label}


def _document(iri: str) -> dict[str, Any]:
    return {"@id": iri, "@type": "foaf:Document"}


def license_node(spdx_id: str) -> dict[str, Any]:
    """The SPDX IRI as a licence document, with CKAN's title and IRI for it when CKAN's
    default register has one (ckanext-dcat matches by IRI, then by title)."""
    node: dict[str, Any] = {"@id": licenses.spdx_iri(spdx_id), "@type": "dct:LicenseDocument"}
    ckan = licenses.ckan_license(spdx_id)
    if ckan is not None:
        node["dct:title"] = ckan.title
        node["owl:sameAs"] = {"@id": ckan.url}
    return node


def language_node(code: str) -> dict[str, Any]:
    three = LANGUAGES.get(code.lower().split("-")[0], "MUL")
    return {"@id": EU_LANGUAGE + three, "@type": "dct:LinguisticSystem"}


def plain_description(record: AssetRecord, publisher_name: str) -> str:
    """What the catalog says about an asset whose group wrote no description."""
    kind = concepts.concept("kinds", record.kind)
    what = kind.label("en").lower() if kind is not None else record.kind
    place = None
    if record.location is not None:
        parts = [record.location.locality, record.location.region, record.location.country]
        place = ", ".join(p for p in parts if p)
    where = f" in {place}" if place else ""
    steward = record.steward.name if record.steward else publisher_name
    return f"{record.name} is a {what}{where}, listed in the commons registry by {steward}."


def _spatial(record: AssetRecord) -> dict[str, Any] | None:
    geometry = geoshape.rfc7946(feature_geometry(record))
    if geometry is None:
        return None
    spatial: dict[str, Any] = {
        "@type": "dct:Location",
        "locn:geometry": _literal(json.dumps(geometry, separators=(",", ":")), GEOJSON_MEDIA_TYPE),
    }
    box = geoshape.bbox(geometry)
    if box is not None:
        spatial["dcat:bbox"] = _literal(geoshape.wkt_box(box), "gsp:wktLiteral")
    location = record.location
    if location is not None and location.latitude is not None and location.longitude is not None:
        centroid = geoshape.wkt_point(location.longitude, location.latitude)
    elif box is not None:
        centroid = geoshape.wkt_point((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    else:
        centroid = None
    if centroid:
        spatial["dcat:centroid"] = _literal(centroid, "gsp:wktLiteral")
    return spatial


def _contact(record: AssetRecord, name: str, fallback_email: str | None, page: str) -> Any:
    node: dict[str, Any] = {"@type": ["vcard:Kind", "vcard:Organization"], "vcard:fn": name}
    email = record.email or fallback_email
    if email:
        node["vcard:hasEmail"] = {"@id": f"mailto:{email}"}
    node["vcard:hasURL"] = {"@id": record.website or page}
    return node


# (key, title, IANA media type, EU file type) of the four forms every dataset is served in.
FORMS = (
    ("jsonld", "JSON-LD document", "application/ld+json", "JSON_LD"),
    ("geojson", "GeoJSON feature", "application/geo+json", "GEOJSON"),
    ("csv", "CSV row", "text/csv", "CSV"),
    ("page", "Web page", "text/html", "HTML"),
)
FORM_DESCRIPTIONS = {
    "jsonld": "The asset's linked-data record (ActivityStreams, schema.org, DCAT terms).",
    "geojson": "The asset as one GeoJSON feature (RFC 7946); null geometry when unplaced.",
    "csv": "The asset as one CSV row, in the registry's import and export columns.",
    "page": "The asset's page for people.",
}
AVAILABLE = {
    "@id": "http://publications.europa.eu/resource/authority/planned-availability/AVAILABLE",
    "@type": "skos:Concept",
    "skos:prefLabel": "available",
}
THEME_SCHEME = {
    "@id": EU_THEME[:-1],
    "@type": "skos:ConceptScheme",
    "dct:title": "Data theme",
}


def _distributions(record: AssetRecord, links: DatasetLinks) -> list[dict[str, Any]]:
    out = []
    for key, title, media, file_type in FORMS:
        url = getattr(links, key)
        node: dict[str, Any] = {
            "@id": f"{links.page}#distribution-{key}",
            "@type": "dcat:Distribution",
            "dct:title": title,
            "dct:description": FORM_DESCRIPTIONS[key],
            "dcat:accessURL": {"@id": url},
            "dcatap:availability": AVAILABLE,
            "dcat:mediaType": {"@id": IANA_MEDIA + media, "@type": "dct:MediaType"},
            "dct:format": {"@id": EU_FILE_TYPE + file_type, "@type": "dct:MediaTypeOrExtent"},
        }
        if key != "page":
            node["dcat:downloadURL"] = {"@id": url}
        if record.license:
            node["dct:license"] = license_node(record.license)
        if record.rights:
            node["dct:rights"] = {"@type": "dct:RightsStatement", "rdfs:label": record.rights}
        out.append(node)
    return out


def dcat_dataset(
    record: AssetRecord,
    meta: AssetMeta,
    publisher: dict[str, Any],
    links: DatasetLinks,
    contact_email: str | None = None,
) -> dict[str, Any]:
    """One asset as a DCAT-AP Dataset node."""
    kind = concepts.concept("kinds", record.kind)
    status = concepts.concept("status", record.status)
    steward = record.steward
    agent = _agent(steward.name, steward.id) if steward else publisher
    node: dict[str, Any] = {
        "@id": meta.iri,
        "@type": "dcat:Dataset",
        "dct:title": _in_languages(record.name, dict(record.name_map)),
        "dct:description": _in_languages(
            record.description
            or record.summary
            or plain_description(record, publisher["foaf:name"]),
            {**dict(record.summary_map), **dict(record.description_map)},
            None if record.description or record.summary else "en",  # ours is English
        ),
        "dct:identifier": record.identifier or meta.iri,
        "dct:type": _concept(
            concepts.concept_iri("kinds", record.kind), kind.label("en") if kind else record.kind
        ),
        "adms:status": _concept(
            concepts.concept_iri("status", record.status),
            status.label("en") if status else record.status,
        ),
        "dcat:theme": [
            _concept(EU_THEME + code, THEME_LABELS[code])
            for code in KIND_THEMES.get(record.kind, ("SOCI",))
        ],
        "dcat:keyword": list(dict.fromkeys([*record.tags, record.kind])),
        "dct:publisher": agent,
        "dcat:contactPoint": _contact(record, agent["foaf:name"], contact_email, links.page),
        "dcat:landingPage": _document(links.page),
        "dcat:distribution": _distributions(record, links),
    }
    if record.access_rights:
        node["dct:accessRights"] = {
            "@id": ACCESS_RIGHTS.iris[record.access_rights],
            "@type": "dct:RightsStatement",
        }
    if meta.updated is not None:
        node["dct:modified"] = _when(meta.updated)
    if meta.published is not None:
        node["dct:issued"] = _when(meta.published)
    if record.website:
        node["foaf:homepage"] = _document(record.website)
    spatial = _spatial(record)
    if spatial:
        node["dct:spatial"] = spatial
    if record.derived_from:  # the source record (DCAT-AP's dct:source must be a CatalogRecord)
        node["prov:wasDerivedFrom"] = {"@id": record.derived_from}
        node["foaf:page"] = _document(record.derived_from)
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
    links: Callable[[AssetMeta], DatasetLinks] = default_links,
) -> dict[str, Any]:
    """One page of the catalog as a JSON-LD document with an inline context."""
    publisher = _agent(catalog_meta.publisher_name, catalog_meta.publisher_iri)
    datasets = [
        dcat_dataset(record, meta, publisher, links(meta), catalog_meta.contact_email)
        for record, meta in items
    ]
    catalog: dict[str, Any] = {
        "@id": catalog_meta.iri,
        "@type": "dcat:Catalog",
        "dct:title": catalog_meta.title,
        "dct:description": catalog_meta.description,
        "dct:publisher": publisher,
        "dcat:themeTaxonomy": THEME_SCHEME,
        "dcat:dataset": datasets,
    }
    if catalog_meta.modified is not None:
        catalog["dct:modified"] = _when(catalog_meta.modified)
    if catalog_meta.homepage:
        catalog["foaf:homepage"] = _document(catalog_meta.homepage)
    if catalog_meta.language:
        catalog["dct:language"] = language_node(catalog_meta.language)
    graph = [catalog]
    if page_info is not None:
        catalog["hydra:view"] = {"@id": page_info.page}
        graph.append(_paging(page_info))
    return {"@context": dict(DCAT_CONTEXT), "@graph": graph}
