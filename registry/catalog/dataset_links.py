"""An asset as the open-data outputs name it: its record with the origin node for mirrored
copies, and where this node serves it in each form (page, JSON-LD, GeoJSON, CSV)."""

from __future__ import annotations

import dataclasses

import vocab
from registry.catalog.store import StoredAsset
from registry.core import iris
from registry.core.schema import LOCAL


def with_provenance(asset: StoredAsset) -> tuple[vocab.AssetRecord, vocab.AssetMeta]:
    """The record and meta, with the origin node named for mirrored assets."""
    origin = None if asset.origin == LOCAL else asset.origin
    return asset.record, dataclasses.replace(asset.meta, origin=origin)


def asset_links(base: str, asset: StoredAsset) -> vocab.DatasetLinks:
    """Where this node serves one asset in each of its forms."""
    page = iris.asset_page(base, asset.uid, local=asset.origin == LOCAL)
    return vocab.DatasetLinks(
        page=page,
        jsonld=asset.iri if asset.origin == LOCAL else page,
        geojson=iris.asset_geojson(base, asset.uid),
        csv=iris.asset_csv(base, asset.uid),
    )
