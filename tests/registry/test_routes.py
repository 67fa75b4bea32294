"""The route table (registry/http/routes.py) and the IRI builder (registry/core/iris.py) agree:
every route is named once, the app serves exactly the table, every IRI the builder mints
resolves to the named route that serves it, and no module builds a node path by hand."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest
from starlette.routing import BaseRoute, Match, Router

from registry.core import iris
from registry.http import routes

BASE = "https://commons.example/registry"  # a base with a path: links must keep it
ROOT = Path(__file__).resolve().parents[2]

# Every builder in registry/core/iris.py, the route that must serve what it makes, and the
# method to ask with (the inboxes only take POST).
SERVED_BY: dict[str, tuple[Callable[[], str], str, str]] = {
    "home": (lambda: iris.home(BASE), "pages.home", "GET"),
    "asset": (lambda: iris.asset(BASE, "a1b2"), "pages.asset", "GET"),
    "mirrored_asset": (lambda: iris.mirrored_asset(BASE, "a1b2"), "ap.mirror", "GET"),
    "asset_page": (lambda: iris.asset_page(BASE, "a1b2", local=True), "pages.asset", "GET"),
    "api_asset": (lambda: iris.api_asset(BASE, "a1b2"), "api.assets.get", "GET"),
    "asset_geojson": (lambda: iris.asset_geojson(BASE, "a1b2"), "pages.asset_geojson", "GET"),
    "asset_csv": (lambda: iris.asset_csv(BASE, "a1b2"), "opendata.asset_csv", "GET"),
    "tags": (lambda: iris.tags(BASE) + "/x", "pages.tag", "GET"),
    "tag": (lambda: iris.tag(BASE, "repair café"), "pages.tag", "GET"),
    "actor": (lambda: iris.actor(BASE), "ap.actor", "GET"),
    "key_id": (lambda: iris.key_id(BASE), "ap.actor", "GET"),
    "proof_key_id": (lambda: iris.proof_key_id(BASE), "ap.actor", "GET"),
    "actor_inbox": (lambda: iris.actor_inbox(BASE), "ap.inbox", "POST"),
    "shared_inbox": (lambda: iris.shared_inbox(BASE), "ap.shared_inbox", "POST"),
    "outbox": (lambda: iris.outbox(BASE), "ap.outbox", "GET"),
    "followers": (lambda: iris.followers(BASE), "ap.followers", "GET"),
    "following": (lambda: iris.following(BASE), "ap.following", "GET"),
    "featured": (lambda: iris.featured(BASE), "ap.featured", "GET"),
    "featured_tags": (lambda: iris.featured_tags(BASE), "ap.featured_tags", "GET"),
    "activity": (lambda: iris.activity(BASE, "0f3c"), "ap.activity", "GET"),
    "changes": (lambda: iris.changes(BASE), "ap.changes", "GET"),
    "catalog": (lambda: iris.catalog(BASE), "ap.catalog", "GET"),
    "webfinger": (lambda: iris.webfinger(BASE), "ap.webfinger", "GET"),
    "nodeinfo_links": (lambda: iris.nodeinfo_links(BASE), "ap.nodeinfo_links", "GET"),
    "dcat_catalog": (lambda: iris.dcat_catalog(BASE), "opendata.dcat", "GET"),
    "static": (lambda: iris.static(BASE, "avatar.png"), "static", "GET"),
    "group_iri": (lambda: iris.group_iri(BASE, "coop-fab"), "ap.group", "GET"),
    "group_followers_iri": (
        lambda: iris.group_followers_iri(BASE, "coop-fab"),
        "ap.group.followers",
        "GET",
    ),
}


def resolve(table: list[BaseRoute], url: str, method: str) -> str | None:
    """The name of the route the app would dispatch `url` to (full matches before partial,
    as Starlette's router does)."""
    assert url.startswith(BASE), url
    path = url[len(BASE) :].split("#")[0].split("?")[0]
    scope = {"type": "http", "path": unquote(path), "method": method, "root_path": ""}
    partial = None
    for route in table:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return route.name
        if match == Match.PARTIAL and partial is None:
            partial = route.name
    return partial


def test_every_route_has_one_unique_dotted_name() -> None:
    rows = routes.table()
    names = [row.name for row in rows]
    assert all(names), [row.path for row in rows if not row.name]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    rooms = {name.split(".")[0] for name in names}
    assert rooms == {"api", "opendata", "ogc", "pages", "ap", "health", "ops", "static"}


def test_the_app_serves_the_table(make_app: Callable[..., object]) -> None:
    app = make_app()
    served = [(getattr(r, "name", None), getattr(r, "path", None)) for r in app.routes]
    assert served == [(row.name, row.path.removesuffix("/{path}")) for row in routes.table()]


def test_every_iri_the_builder_makes_resolves_to_its_route() -> None:
    builders = {
        name
        for name, value in vars(iris).items()
        if callable(value) and getattr(value, "__module__", "") == iris.__name__
    }
    assert builders == set(SERVED_BY), "give each builder in iris.py its route here"
    table = routes.all_routes()
    for name, (make, route, method) in SERVED_BY.items():
        assert resolve(table, make(), method) == route, (name, make())


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("pages.asset", {"uid": "a1b2"}),
        ("ap.mirror", {"uid": "a1b2"}),
        ("api.assets.get", {"uid": "a1b2"}),
        ("ap.actor", {}),
        ("ap.followers", {}),
        ("ap.changes", {}),
        ("opendata.dcat", {}),
    ],
)
def test_route_paths_and_iris_agree_both_ways(name: str, params: dict[str, str]) -> None:
    path = Router(routes=routes.all_routes()).url_path_for(name, **params)
    assert resolve(routes.all_routes(), BASE + path, "GET") == name


def test_no_module_builds_a_node_path_by_hand() -> None:
    """Paths of this node come from the route table or registry/core/iris.py."""
    by_hand = re.compile(
        r'f"\{[^}]*(base|url)[^}]*\}/(?!\{)|f"/(api|assets|mirror|my|admin|actor|search|vocab|tags|ogc)\b'
    )
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "registry").rglob("*.py"))
        if path != ROOT / "registry" / "core" / "iris.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if by_hand.search(line)
    ]
    assert not found, "\n".join(found)


def test_the_table_prints_from_the_command_line() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "registry.http.routes"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    lines = out.splitlines()
    assert len(lines) == len(routes.table())
    assert any(line.split()[:3] == ["api.assets.list", "GET", "/api/assets"] for line in lines), out
