"""The search page for people: filters shown as removable chips, countries by name, numbered
pages, sorting, "did you mean", and the map of every placed result (from GET /api/map)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import vocab
from registry.catalog import samples
from registry.catalog.places import find_places
from registry.catalog.search import search
from registry.catalog.search_query import SearchPage, SearchQuery, parse_query
from registry.catalog.suggest import did_you_mean
from registry.core.errors import BadRequest
from registry.http.auth import runtime
from registry.http.pages.catalog import asset_page_url
from registry.http.pages.session import load_session
from registry.web import countries
from registry.web.public_urls import route_url
from registry.web.render import _, concept_label, preferred_language, render

MAX_PAGE = 500  # numbered pages stop here; the API's cursors go on
NOT_FILTERS = ("page", "cursor", "limit", "facets", "lang", "sort")


def _items(request: Request, drop: tuple[str, ...] = (), **extra: str) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in request.query_params.multi_items() if v and k not in drop]
    return kept + [(k, v) for k, v in extra.items() if v]


def link(request: Request, items: list[tuple[str, str]]) -> str:
    return route_url(request, "pages.search", items)


def chips(request: Request, query: SearchQuery, lang: str) -> list[dict[str, str]]:
    """Each active filter with the link that removes it (only it, and back to page 1)."""
    found: list[dict[str, str]] = []

    def without(name: str, value: str) -> str:
        items = [
            (k, v)
            for k, v in _items(request, ("page", "cursor"))
            if not (k == name and (v == value or name not in ("kind", "status", "tag", "country")))
            and not (name == "near" and k == "place")
        ]
        if name in ("kind", "status", "tag", "country"):  # ?kind=a,b: drop only this one
            items = [
                (k, ",".join(p for p in v.split(",") if p.strip().lower() != value.lower()))
                if k == name
                else (k, v)
                for k, v in items
            ]
        return link(request, [(k, v) for k, v in items if v])

    for kind in query.kinds:
        found.append(
            {
                "what": _("Kind"),
                "value": concept_label("kinds", kind, lang),
                "remove": without("kind", kind),
            }
        )
    for status in query.statuses:
        found.append(
            {
                "what": _("Status"),
                "value": concept_label("status", status, lang),
                "remove": without("status", status),
            }
        )
    for code in query.countries:
        raw = next(
            (
                v
                for v in request.query_params.getlist("country")
                if countries.country_code(v) == code
            ),
            code,
        )
        found.append(
            {
                "what": _("Country"),
                "value": countries.country_name(code, lang),
                "remove": without("country", raw),
            }
        )
    for tag in query.tags:
        found.append({"what": _("Tag"), "value": f"#{tag}", "remove": without("tag", tag)})
    if query.origin != "all":
        held = _("Registered here") if query.origin == "local" else _("Mirrored from partners")
        found.append({"what": _("Held"), "value": held, "remove": without("origin", "")})
    if query.bbox:
        found.append(
            {"what": _("Area"), "value": _("the map area you chose"), "remove": without("bbox", "")}
        )
    if query.near:
        near = query.near
        where = request.query_params.get("place") or f"{near.latitude:.4f}, {near.longitude:.4f}"
        value = _("within %(km)s km of %(where)s") % {"km": f"{near.km:g}", "where": where}
        found.append({"what": _("Near"), "value": value, "remove": without("near", "")})
    if query.group:
        found.append({"what": _("Group"), "value": query.group, "remove": without("group", "")})
    return found


def page_numbers(current: int, last: int) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 40: the first, the last and two either side; None is a gap."""
    shown = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
    numbers: list[int | None] = []
    for n in shown:
        if numbers and n - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(n)
    return numbers


def _country_params(request: Request) -> tuple[list[tuple[str, str]], str | None]:
    """The query with country names turned into codes, or a plain error for an unknown one."""
    items = _items(request, ("page", "cursor", "lang"))
    converted = []
    for key, value in items:
        if key == "country":
            codes = []
            for part in value.split(","):
                code = countries.country_code(part) if part.strip() else None
                if part.strip() and code is None:
                    return items, _(
                        "We do not know a country called “%(name)s”. Choose one from the list."
                    ) % {"name": part.strip()}
                if code:
                    codes.append(code)
            value = ",".join(codes)
        converted.append((key, value))
    return converted, None


async def search_page(request: Request) -> Response:
    svc = runtime(request)
    await load_session(request)
    lang = preferred_language(request)
    size = svc.settings.search.page_size
    params, error = _country_params(request)
    place_name = request.query_params.get("place", "").strip()
    if place_name and not request.query_params.get("near") and error is None:
        found = await find_places(svc.engine, svc.geocoder, place_name, limit=1)
        if found:
            spot = found[0]
            km = svc.settings.web.near_km
            params.append(("near", f"{spot.latitude:.5f},{spot.longitude:.5f},{km:g}"))
        else:
            error = _("We could not find a place called “%(name)s”.") % {"name": place_name}
    number = 1
    raw_page = request.query_params.get("page", "1") or "1"
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        error = error or _("Pages are numbered from 1 to %(n)d.") % {"n": MAX_PAGE}
    else:
        number = int(raw_page)
    page: SearchPage | None = None
    query = parse_query({}, page_size=size, max_page_size=size, principal=None)
    if error is None:
        try:
            multi = _Multi(params)
            query = parse_query(
                multi,
                page_size=size,
                max_page_size=svc.settings.search.max_page_size,
                principal=None,
            )
            query = replace(query, offset=(number - 1) * query.limit)
            page = await search(svc.engine, query, svc.facet_cache, svc.settings.search.count_limit)
        except BadRequest as problem:
            error = problem.detail
    suggestion = None
    if page is not None and query.q and not page.items and number == 1:
        better = await did_you_mean(svc.engine, query.q, svc.catalog_words)
        if better:
            fixed = _items(request, ("q", "page"), q=better)
            suggestion = {"q": better, "url": link(request, fixed)}
    everything = await search(
        svc.engine,
        parse_query({"limit": "1"}, page_size=1, max_page_size=1, principal=None),
        svc.facet_cache,
    )
    catalog_countries = list((everything.facets or {}).get("country", {}))
    total = page.total if page and page.total is not None else 0
    last = max(1, min(MAX_PAGE, -(-total // query.limit)))
    first_shown = query.offset + 1 if page and page.items else 0
    filters = _items(request, NOT_FILTERS)
    map_items = [(k, v) for k, v in params if k not in NOT_FILTERS and k != "place"]
    context: dict[str, Any] = {
        "query": query,
        "page": page,
        "error": error,
        "number": number,
        "last_page": last,
        "page_numbers": page_numbers(number, last),
        "page_link": lambda n: link(request, _items(request, ("page", "cursor"), page=str(n))),
        "range": (first_shown, query.offset + len(page.items) if page else 0, total),
        # Past the count limit the total and facet counts are lower bounds: "10,000+".
        "more": "" if page is None or page.total_exact else "+",
        "total_label": f"{total:,}" + ("" if page is None or page.total_exact else "+"),
        "chips": chips(request, query, lang) if page else [],
        "suggestion": suggestion,
        "countries": countries.picker(sorted(set(catalog_countries) | set(query.countries)), lang),
        "sorts": [
            s
            for s in ("relevance", "name", "newest", "distance")
            if (s != "relevance" or query.q) and (s != "distance" or query.near)
        ],
        "kind_slugs": vocab.slugs("kinds"),
        "status_slugs": vocab.slugs("status"),
        "hidden": [(k, v) for k, v in filters if k in ("tag", "bbox", "near", "place", "group")],
        "map_url": route_url(request, "api.map", map_items),
        "geojson_url": route_url(request, "opendata.geojson", map_items),
        "csv_url": route_url(request, "opendata.csv", map_items),
        "search_url": link(request, filters),
        "asset_page": lambda a: asset_page_url(svc.settings.base_url, a),
        "samples": await samples.held(svc.engine),
    }
    return render(request, "search.html", status_code=400 if error else 200, **context)


class _Multi(dict):  # type: ignore[type-arg]
    """A mapping with getlist(), as parse_query reads repeated parameters."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        super().__init__()
        self.items_list = items
        for key, value in items:
            self.setdefault(key, value)

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self.items_list if k == key]


routes = [Route("/search", search_page, methods=["GET"], name="pages.search")]
