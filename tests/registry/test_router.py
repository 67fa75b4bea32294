"""The indexed router answers every path as the whole route table would: the same route (or
the same partial match, for a 405), for every route's own path and for paths near them."""

from __future__ import annotations

import re

import pytest
from starlette.routing import BaseRoute, Match, Mount, Route, Router

from registry.http.router import IndexedRouter
from registry.http.routes import all_routes

ROUTES = all_routes()
INDEXED = IndexedRouter(ROUTES)


def _probe_paths() -> list[str]:
    paths = {"/", "/nowhere", "/assets", "/assets/", "/api/", "/static/app.css", "/x/y/z"}
    for route in ROUTES:
        if isinstance(route, Route | Mount):
            path = re.sub(r"\{[^}]+\}", "x1", route.path) or "/"
            paths |= {path, path + "/", path.rstrip("/") + "/extra", path + ".json"}
    return sorted(paths)


def _first(routes: list[BaseRoute], path: str, method: str) -> tuple[str, str] | None:
    """What the router would hand the request to: the first full match, else the first
    partial one (a 405), as (kind, route name); None for neither."""
    scope = {"type": "http", "path": path, "root_path": "", "method": method, "headers": []}
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return ("full", getattr(route, "name", "") or repr(route))
        if match is Match.PARTIAL and partial is None:
            partial = ("partial", getattr(route, "name", "") or repr(route))
    return partial


def _shortlist(path: str) -> Router:
    return INDEXED.shortlists.get(path[1:].split("/", 1)[0], INDEXED)


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "PATCH"])
def test_every_path_finds_the_route_the_whole_table_finds(method: str) -> None:
    paths = _probe_paths()
    assert len(paths) > 300
    for path in paths:
        expected = _first(ROUTES, path, method)
        assert _first(_shortlist(path).routes, path, method) == expected, (method, path)
        # what a slash redirect would look for is in the same shortlist
        other = path.rstrip("/") if path.endswith("/") else path + "/"
        if other:
            assert _first(_shortlist(path).routes, other, method) == _first(
                ROUTES, other, method
            ), (method, other)


def test_the_hot_path_is_matched_against_a_handful_of_routes() -> None:
    assert len(INDEXED.shortlists["assets"].routes) <= 6 < len(ROUTES) // 10
