"""A search as asked: the query string of GET /api/assets (and the search page) read and
checked into a `SearchQuery`, with the answer's shape (`SearchPage`)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

import vocab
from registry.catalog.store import StoredAsset
from registry.catalog.visibility import PUBLIC_AUDIENCE, Audience
from registry.core.errors import N_, BadRequest, Unauthorized
from registry.core.schema import PENDING, PUBLISHED, REJECTED, assets
from registry.people.accounts import Principal

SORTS = ("relevance", "newest", "name", "distance")
ORIGINS = ("local", "mirrored", "all")
MODERATION_STATES = (PUBLISHED, PENDING, REJECTED, "all")
FACETS = {"kind": assets.c.kind, "country": assets.c.country, "status": assets.c.status}


class InvalidParameter(BadRequest):
    slug, title = "invalid-parameter", N_("A query parameter is not valid")


@dataclass(frozen=True)
class Near:
    latitude: float
    longitude: float
    km: float


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None  # min lon, min lat, max lon, max lat
    near: Near | None = None
    origin: str = "all"
    group: str | None = None
    moderation: str = PUBLISHED
    sort: str = "newest"
    limit: int = 20
    cursor: str | None = None
    facets: bool = True
    group_scope: int | None = None  # set for group tokens asking for unpublished assets
    modified_since: datetime | None = None
    modified_until: datetime | None = None  # inclusive; OGC API's datetime intervals
    offset: int = 0  # numbered pages (the HTML search); API clients page by cursor
    # Who asked (registry.catalog.visibility): public exports always ask as the public.
    audience: Audience = PUBLIC_AUDIENCE

    def fingerprint(self) -> str:
        parts = [
            self.q,
            self.kinds,
            self.tags,
            self.countries,
            self.statuses,
            self.bbox,
            self.near and (self.near.latitude, self.near.longitude, self.near.km),
            self.origin,
            self.group,
            self.moderation,
            self.sort,
            self.group_scope,
            self.modified_since and self.modified_since.isoformat(),
            self.modified_until and self.modified_until.isoformat(),
            [self.audience.admin, sorted(self.audience.groups), self.audience.partner],
        ]
        return hashlib.sha256(orjson.dumps(parts)).hexdigest()[:16]


@dataclass
class SearchPage:
    items: list[StoredAsset]
    next_cursor: str | None
    facets: dict[str, dict[str, int]] | None = None
    total: int | None = None
    total_exact: bool = True  # False: the search stopped counting; total and facets are at least
    distances: dict[int, float] = field(default_factory=dict)


def invalid_parameter(name: str, message: str) -> InvalidParameter:
    return InvalidParameter(f"{name}: {message}", errors=[{"field": name, "message": message}])


def _many(params: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """Values given as ?x=a&x=b or ?x=a,b."""
    getlist = getattr(params, "getlist", None)
    raw = getlist(name) if getlist else ([params[name]] if name in params else [])
    values: list[str] = []
    for item in raw:
        values.extend(v.strip() for v in str(item).split(",") if v.strip())
    return tuple(dict.fromkeys(values))


def _floats(name: str, raw: str, count: int) -> list[float]:
    parts = raw.split(",")
    if len(parts) != count:
        raise invalid_parameter(name, f"expected {count} comma-separated numbers")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise invalid_parameter(name, f"expected {count} comma-separated numbers") from None
    if not all(math.isfinite(n) for n in numbers):
        raise invalid_parameter(name, "numbers must be finite")
    return numbers


def parse_bbox(name: str, raw: str) -> tuple[float, float, float, float]:
    """min lon, min lat, max lon, max lat; a box may cross the antimeridian (min lon > max lon)."""
    min_lon, min_lat, max_lon, max_lat = _floats(name, raw, 4)
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise invalid_parameter(name, "longitudes must lie in -180..180")
    if not (-90 <= min_lat <= max_lat <= 90):
        raise invalid_parameter(name, "latitudes must lie in -90..90 with min <= max")
    return (min_lon, min_lat, max_lon, max_lat)


def parse_query(
    params: Mapping[str, Any],
    *,
    page_size: int,
    max_page_size: int,
    principal: Principal | None,
    audience: Audience = PUBLIC_AUDIENCE,
) -> SearchQuery:
    """Read and check the query string of GET /api/assets (and the HTML search). Results are
    what `audience` may see listed; the public unless the caller says otherwise."""
    q = str(params.get("q", "") or "").strip()
    if len(q) > 500:
        raise invalid_parameter("q", "at most 500 characters")
    kinds = _many(params, "kind")
    for kind in kinds:
        if vocab.concept("kinds", kind) is None:
            raise invalid_parameter(
                "kind", f"unknown kind {kind!r}; one of {', '.join(vocab.slugs('kinds'))}"
            )
    statuses = _many(params, "status")
    for status in statuses:
        if vocab.concept("status", status) is None:
            raise invalid_parameter(
                "status", f"unknown status {status!r}; one of {', '.join(vocab.slugs('status'))}"
            )
    countries = tuple(c.upper() for c in _many(params, "country"))
    for country in countries:
        if len(country) != 2 or not country.isascii() or not country.isalpha():
            raise invalid_parameter("country", f"{country!r} is not an ISO 3166-1 alpha-2 code")
    tags = tuple(t.lstrip("#").casefold() for t in _many(params, "tag"))
    if any(not t or len(t) > 64 for t in tags):
        raise invalid_parameter("tag", "tags are 1 to 64 characters")
    bbox = parse_bbox("bbox", str(params["bbox"])) if params.get("bbox") else None
    near = None
    if params.get("near"):
        lat, lon, km = _floats("near", str(params["near"]), 3)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise invalid_parameter("near", "latitude in -90..90 and longitude in -180..180")
        if not (0 < km <= 20_000):
            raise invalid_parameter("near", "the radius must be between 0 and 20000 km")
        near = Near(lat, lon, km)
    origin = str(params.get("origin", "all") or "all")
    if origin not in ORIGINS:
        raise invalid_parameter("origin", f"one of {', '.join(ORIGINS)}")
    moderation = str(params.get("moderation", PUBLISHED) or PUBLISHED)
    if moderation not in MODERATION_STATES:
        raise invalid_parameter("moderation", f"one of {', '.join(MODERATION_STATES)}")
    group_scope = None
    if moderation != PUBLISHED:
        if principal is None:
            raise Unauthorized("only a signed-in group or admin may list unpublished assets")
        if not principal.is_admin:
            group_scope = principal.group_id
    default_sort = "relevance" if q else ("distance" if near else "newest")
    sort = str(params.get("sort", default_sort) or default_sort)
    if sort not in SORTS:
        raise invalid_parameter("sort", f"one of {', '.join(SORTS)}")
    if sort == "relevance" and not q:
        raise invalid_parameter("sort", "relevance needs a text query q")
    if sort == "distance" and not near:
        raise invalid_parameter("sort", "distance needs near=lat,lon,km")
    try:
        limit = int(params.get("limit", page_size))
    except (TypeError, ValueError):
        raise invalid_parameter("limit", "expected an integer") from None
    if not 1 <= limit <= max_page_size:
        raise invalid_parameter("limit", f"between 1 and {max_page_size}")
    facets = str(params.get("facets", "true")).lower() not in ("0", "false", "no")
    group = str(params["group"]) if params.get("group") else None
    cursor = str(params["cursor"]) if params.get("cursor") else None
    modified_since = None
    if params.get("modified_since"):
        try:
            raw = str(params["modified_since"]).replace("Z", "+00:00")
            modified_since = datetime.fromisoformat(raw)
            if modified_since.tzinfo is None:
                modified_since = modified_since.replace(tzinfo=UTC)
            modified_since = modified_since.astimezone(UTC)  # stored times are UTC
        except (ValueError, OverflowError):  # overflow: 0001-01-01T00:00+01:00 is before year 1
            raise invalid_parameter(
                "modified_since", "expected an ISO 8601 date or date-time"
            ) from None
    return SearchQuery(
        q=q,
        kinds=kinds,
        tags=tags,
        countries=countries,
        statuses=statuses,
        bbox=bbox,
        near=near,
        origin=origin,
        group=group,
        moderation=moderation,
        sort=sort,
        limit=limit,
        cursor=cursor,
        facets=facets,
        group_scope=group_scope,
        modified_since=modified_since,
        audience=audience,
    )
