"""Places by name: a town typed in the search or the asset form becomes a position.

The catalog's own localities answer first (the mean position of the assets in a town), so a
node needs no outside service; when `web.geocoder_url` is set, a Nominatim- or
Photon-compatible geocoder answers what the catalog does not know. Its answers are cached in
memory, as public geocoders ask.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from sqlalchemy import Float, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from registry import __version__
from registry.catalog.visibility import exported
from registry.core import db
from registry.core.schema import PUBLISHED, assets

MAX_TYPED = 200
MAX_ANSWER_BYTES = 512 * 1024


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float
    country: str | None = None
    source: str = "catalog"  # or "geocoder"
    assets: int = 0  # how many assets the catalog has there

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


async def catalog_places(engine: AsyncEngine, typed: str, limit: int = 5) -> list[Place]:
    """Localities of published assets starting with the typed text (case-insensitive)."""
    text = typed.strip().lower()
    if not text:
        return []
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    locality = assets.c.locality
    query = (
        select(
            func.min(locality),
            assets.c.country,
            cast(func.avg(assets.c.latitude), Float),
            cast(func.avg(assets.c.longitude), Float),
            func.count(),
        )
        .where(
            assets.c.deleted_at.is_(None),
            assets.c.moderation == PUBLISHED,
            exported(),
            assets.c.latitude.is_not(None),
            func.lower(locality).like(pattern, escape="\\"),
        )
        .group_by(func.lower(locality), assets.c.country)
        .order_by(func.count().desc())
        .limit(limit)
    )
    async with db.read(engine) as conn:
        rows = list(await conn.execute(query))
    exact = [r for r in rows if r[0].lower() == text]
    ordered = exact + [r for r in rows if r[0].lower() != text]
    return [Place(r[0], round(r[2], 5), round(r[3], 5), r[1], "catalog", r[4]) for r in ordered]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_geocoder(data: Any) -> list[Place]:
    """Nominatim's JSON list or Photon's GeoJSON FeatureCollection -> places."""
    found: list[Place] = []
    if isinstance(data, list):  # Nominatim (format=json / jsonv2)
        for item in data:
            if not isinstance(item, dict):
                continue
            lat, lon = _number(item.get("lat")), _number(item.get("lon"))
            address = item.get("address") if isinstance(item.get("address"), dict) else {}
            code = address.get("country_code")
            name = str(item.get("display_name") or item.get("name") or "")[:300]
            if lat is not None and lon is not None and name:
                found.append(Place(name, lat, lon, code.upper() if code else None, "geocoder"))
    elif isinstance(data, dict) and isinstance(data.get("features"), list):  # Photon
        for feature in data["features"]:
            if not isinstance(feature, dict):
                continue
            coordinates = (feature.get("geometry") or {}).get("coordinates") or []
            props = feature.get("properties") or {}
            if len(coordinates) < 2 or not isinstance(props, dict):
                continue
            lon, lat = _number(coordinates[0]), _number(coordinates[1])
            parts = [props.get(k) for k in ("name", "city", "state", "country")]
            name = ", ".join(dict.fromkeys(str(p) for p in parts if p))[:300]
            code = props.get("countrycode")
            if lat is not None and lon is not None and name:
                found.append(Place(name, lat, lon, code.upper() if code else None, "geocoder"))
    return [p for p in found if -90 <= p.latitude <= 90 and -180 <= p.longitude <= 180]


class Geocoder:
    """A configured geocoding service, with a small cache; failures answer nothing."""

    def __init__(self, url: str, timeout: float, size: int = 512) -> None:
        self.url, self.timeout, self.size = url, timeout, size
        self.cache: OrderedDict[str, list[Place]] = OrderedDict()

    async def search(self, typed: str, limit: int = 5) -> list[Place]:
        key = typed.strip().casefold()
        if not self.url or not key:
            return []
        if key in self.cache:
            self.cache.move_to_end(key)
            return self.cache[key][:limit]
        params = {"q": typed.strip(), "limit": str(limit), "format": "jsonv2"}
        headers = {"User-Agent": f"commons-registry/{__version__}", "Accept": "application/json"}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as http:
                response = await http.get(self.url, params=params, headers=headers)
            if response.status_code != 200 or len(response.content) > MAX_ANSWER_BYTES:
                return []
            places = parse_geocoder(response.json())[:limit]
        except (httpx.HTTPError, ValueError):
            return []  # the catalog's answer stands alone; the page says nothing was found
        self.cache[key] = places
        if len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return places


async def find_places(
    engine: AsyncEngine, geocoder: Geocoder | None, typed: str, limit: int = 5
) -> list[Place]:
    """The catalog's towns first, then the geocoder's places (when one is configured)."""
    typed = typed.strip()[:MAX_TYPED]
    found = await catalog_places(engine, typed, limit)
    if (
        len(found) < limit
        and geocoder is not None
        and not any(p.name.lower() == typed.lower() for p in found)
    ):
        found += await geocoder.search(typed, limit - len(found))
    return found
