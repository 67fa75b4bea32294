"""Open Know-Where facility exports (the IoP Alliance's fablabs.io-derived data set)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from registry.catalog.importers.base import SourceRow, register, source_bytes

SOURCE_LICENSE = "CC-BY-4.0"  # the licence the IoP Alliance states for the data set
ATTRIBUTION = (
    "Open Know-Where facilities data, Internet of Production Alliance (2024), "
    "from fablabs.io, CC BY 4.0"
)


def _text(value: Any, limit: int = 200) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:limit] or None


class OkwAdapter:
    name = "okw"
    default_group = ("Open Know-Where (fablabs.io)", "open-know-where")
    attribution = ATTRIBUTION

    def rows(self, path: Path) -> Iterator[SourceRow]:
        data = json.loads(source_bytes(path))
        if not isinstance(data, list):
            raise ValueError(f"{path.name}: expected a JSON array of facility records")
        for index, item in enumerate(data):
            yield self.row(index, item)

    def row(self, index: int, item: Any) -> SourceRow:
        if not isinstance(item, dict):
            return SourceRow(f"#{index}", skip_reason="not a JSON object")
        facility = item.get("facility") or {}
        ref = f"okw:{facility.get('facility_id') or index}"
        name = _text(facility.get("name"))
        if not name:
            return SourceRow(ref, skip_reason="no name")
        fields: dict[str, Any] = {
            "name": name,
            "kind": "fablab",
            "status": "active",
            "tags": ["fablab"],
        }
        description = _text(facility.get("description"), 5000)
        if description and description.casefold() not in ("fablab", "fab lab"):
            fields["summary"] = _text(description, 500)
            fields["description"] = description
        page = _text(facility.get("url"), 2000)
        if page and page.startswith(("http://", "https://")):
            fields["same_as"] = [page]
            fields["derived_from"] = page
        fields["rights"] = ATTRIBUTION
        fields["license"] = SOURCE_LICENSE
        if facility.get("facility_id"):
            fields["identifier"] = str(facility["facility_id"])
        location = self.location(item)
        if location:
            fields["location"] = location
        return SourceRow(ref, fields=fields)

    @staticmethod
    def location(item: dict[str, Any]) -> dict[str, Any]:
        location: dict[str, Any] = {}
        geocoding = item.get("geocoding") or {}
        lat, lon = geocoding.get("latitude"), geocoding.get("longitude")
        if isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and (lat or lon):
            location["latitude"], location["longitude"] = float(lat), float(lon)
        address = item.get("address") or {}
        region = item.get("region") or {}
        for key, value in (
            ("street_address", address.get("extended")),
            ("postal_code", address.get("zip_code")),
            ("locality", region.get("city_town")),
            ("region", region.get("state_region")),
        ):
            text = _text(value)
            if text:
                location[key] = text
        country = _text(region.get("country"))
        if country and len(country) == 2 and country.isalpha():
            location["country"] = country.upper()
        return location


register("okw")(OkwAdapter)
