"""Public URLs for links a response hands out (paging, self, alternates, redirects).

They are built from `node.base_url`, never from the request's Host: behind a reverse proxy
the request names an internal address that nobody outside can reach. A link to another
endpoint names its route (registry/http/routes.py), so moving a path moves every link to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from starlette.requests import Request


def public_url(request: Request, path: str | None = None, **changes: str | None) -> str:
    """`base_url` + the request's path (or `path`) + its query with `changes` applied
    (a None value removes the parameter)."""
    base = request.app.state.runtime.settings.base_url
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, v) for k, v in changes.items() if v is not None]
    query = urlencode(params)
    return f"{base}{path if path is not None else request.url.path}" + (
        f"?{query}" if query else ""
    )


Query = Mapping[str, str] | Sequence[tuple[str, str]]


def route_url(request: Request, name: str, /, query: Query | None = None, **path: str) -> str:
    """`base_url` + the path of the route called `name` with its `path` parameters filled in,
    + `query` (pairs keep repeated parameters; empty values are kept as given)."""
    url = request.app.state.runtime.settings.base_url + request.app.url_path_for(name, **path)
    encoded = urlencode(query) if query else ""
    return f"{url}?{encoded}" if encoded else url
