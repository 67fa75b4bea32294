"""An asset as a schema.org Dataset about a Place, the JSON-LD that search engines' dataset
search reads from a page (`<script type="application/ld+json">`)."""

from __future__ import annotations

from typing import Any

from vocab import concepts, geoshape, licenses
from vocab.dcat import FORMS, DatasetLinks, plain_description
from vocab.document import AssetMeta
from vocab.languages import languages_of
from vocab.record import AssetRecord
from vocab.times import iso_utc


def _place(record: AssetRecord) -> dict[str, Any] | None:
    location = record.location
    place: dict[str, Any] = {"@type": "Place", "name": record.name}
    if location is not None and location.latitude is not None:
        place["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": location.latitude,
            "longitude": location.longitude,
        }
    elif record.geometry is not None:
        box = geoshape.bbox(record.geometry)
        if box is not None:  # schema.org's box is "south west north east"
            place["geo"] = {"@type": "GeoShape", "box": f"{box[1]} {box[0]} {box[3]} {box[2]}"}
    if location is not None:
        address = {
            "streetAddress": location.street_address,
            "addressLocality": location.locality,
            "addressRegion": location.region,
            "postalCode": location.postal_code,
            "addressCountry": location.country,
        }
        if any(address.values()):
            place["address"] = {
                "@type": "PostalAddress",
                **{k: v for k, v in address.items() if v},
            }
    return place if len(place) > 2 else None


def schema_org_dataset(
    record: AssetRecord,
    meta: AssetMeta,
    links: DatasetLinks,
    catalog_name: str,
    catalog_url: str,
) -> dict[str, Any]:
    kind = concepts.concept("kinds", record.kind)
    publisher = record.steward.name if record.steward else catalog_name
    node: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": meta.iri,
        "name": record.name,
        "description": record.description
        or record.summary
        or plain_description(record, catalog_name),
        "url": links.page,
        "identifier": record.identifier or meta.iri,
        "keywords": list(dict.fromkeys([*record.tags, kind.label("en") if kind else record.kind])),
        "isAccessibleForFree": True,
        "publisher": {"@type": "Organization", "name": publisher},
        "includedInDataCatalog": {"@type": "DataCatalog", "name": catalog_name, "url": catalog_url},
        "distribution": [
            {"@type": "DataDownload", "encodingFormat": media, "contentUrl": getattr(links, key)}
            for key, _, media, _ in FORMS
            if key != "page"
        ],
    }
    if record.license:
        node["license"] = licenses.spdx_iri(record.license)
    if meta.updated is not None:
        node["dateModified"] = iso_utc(meta.updated)
    if meta.published is not None:
        node["datePublished"] = iso_utc(meta.published)
    same_as = [*record.same_as, *([record.website] if record.website else [])]
    if same_as:
        node["sameAs"] = list(dict.fromkeys(same_as))
    place = _place(record)
    if place is not None:
        node["spatialCoverage"] = place
    if record.rights:
        node["creditText"] = record.rights
    languages = languages_of(record)
    if languages:  # the asset's languages; its other names, language-tagged
        node["inLanguage"] = languages
    others = [{"@value": t, "@language": tag} for tag, t in record.name_map if t != record.name]
    if others:
        node["alternateName"] = others
    return node
