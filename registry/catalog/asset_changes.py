"""What happened to an asset, as the change listeners (publishing, caches) are told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry.catalog.store import (
    StoredAsset,
)


@dataclass(frozen=True)
class AssetChange:
    """What happened to an asset, for listeners that run inside the writing transaction."""

    action: str  # "create" | "update" | "delete"
    asset_id: int
    iri: str
    document: dict[str, Any]
    published: bool  # whether the change is public (moderation passed)
    at: datetime
    source: str = "api"  # "api" or "import"
    visibility: str = "public"  # who may see it now (registry.catalog.visibility)
    was: str | None = None  # who could see it before this change, when it was published
    group_id: int | None = None


def deletion(asset: StoredAsset, now: datetime) -> AssetChange:
    """The deletion of an asset, told to those who could see it."""
    return AssetChange(
        "delete",
        asset.id,
        asset.iri,
        asset.document,
        asset.is_public,
        now,
        visibility=asset.visibility,
        was=asset.visibility,
        group_id=asset.group_id,
    )
