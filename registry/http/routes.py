"""The node's route table, in one place: every room's routes in the order they are matched.

Every route has a dotted name (`api.assets.list`, `pages.asset`, `ap.actor`, ...) so links are
built from the table (`public_urls.route_url`) instead of by hand. `python -m registry.http.routes`
prints the table: name, methods, path and the function that serves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from registry.http import health
from registry.http.activitypub import actor as ap_actor
from registry.http.activitypub import featured as ap_featured
from registry.http.activitypub import groups as ap_groups
from registry.http.activitypub import partner_feeds as ap_partner_feeds
from registry.http.api import accounts as api_accounts
from registry.http.api import assets as api_assets
from registry.http.api import federation as api_federation
from registry.http.api import map as api_map
from registry.http.api import moderation as api_moderation
from registry.http.api import openapi as api_openapi
from registry.http.api import places as api_places
from registry.http.opendata import exports as opendata_exports
from registry.http.opendata import ogc_features
from registry.http.pages import admin as pages_admin
from registry.http.pages import alternates as pages_alternates
from registry.http.pages import catalog as pages_catalog
from registry.http.pages import member as pages_member
from registry.http.pages import search as pages_search
from registry.http.pages import session as pages_session
from registry.ops import metrics

STATIC = Path(__file__).parent.parent / "web" / "static"

# Order matters where paths overlap: /api/assets.geojson before /api/assets/{uid},
# /assets/{uid}.jsonld and .geojson before /assets/{uid}.
ROOMS: tuple[list[BaseRoute], ...] = (
    opendata_exports.routes,
    ogc_features.routes,
    api_assets.routes,
    api_map.routes,
    api_places.routes,
    api_accounts.routes,
    api_federation.routes,
    api_moderation.routes,
    api_openapi.routes,
    pages_alternates.routes,
    pages_catalog.routes,
    pages_search.routes,
    pages_session.routes,
    pages_member.routes,
    pages_admin.routes,
    ap_actor.routes,
    ap_groups.routes,
    ap_featured.routes,
    ap_partner_feeds.routes,
    health.routes,
    metrics.routes,
)


def all_routes() -> list[BaseRoute]:
    """Every route of the node, in matching order, ending with the static files."""
    static = Mount("/static", StaticFiles(directory=STATIC), name="static")
    return [route for room in ROOMS for route in room] + [static]


@dataclass(frozen=True)
class RouteRow:
    name: str
    path: str
    methods: tuple[str, ...]
    endpoint: str  # module:function, where to read the code


def table(routes: list[BaseRoute] | None = None) -> list[RouteRow]:
    """The route table as rows, in matching order (HEAD, implied by GET, left out)."""
    rows = []
    for route in routes if routes is not None else all_routes():
        if isinstance(route, Route):
            methods = tuple(m for m in sorted(route.methods or ()) if m != "HEAD")
            where = f"{route.endpoint.__module__}:{route.endpoint.__qualname__}"
            rows.append(RouteRow(route.name, route.path, methods, where))
        elif isinstance(route, Mount):
            rows.append(RouteRow(route.name or "", f"{route.path}/{{path}}", ("GET",), "static"))
    return rows


def format_table(rows: list[RouteRow]) -> str:
    width = max(len(row.name) for row in rows)
    path_width = max(len(row.path) for row in rows)
    return "\n".join(
        f"{row.name:<{width}}  {','.join(row.methods):<12}  {row.path:<{path_width}}  "
        f"{row.endpoint}"
        for row in rows
    )


if __name__ == "__main__":
    print(format_table(table()))
