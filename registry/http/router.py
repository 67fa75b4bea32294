"""Routing by the path's first segment, keeping the table's matching order.

Starlette tries every route in order until one matches: with about a hundred routes, a request
for `/assets/{uid}` (the hottest path, a federated document) ran some fifty regular
expressions first, about a third of the time it took to answer from the document cache.
`IndexedRouter` keeps, for each literal first segment of the table (`assets`, `api`,
`groups`, ...), the routes that could match a path beginning with it, in table order: those
with that first segment and those whose first segment is not a literal (a parameter, or the
root). A request whose first segment is in the index is matched against that shortlist only;
any other request goes through the whole table as before, so the answer (the matched route,
a 405, a slash redirect or a 404) is always the one the full table would give.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Mount, Route, Router, get_route_path
from starlette.types import Receive, Scope, Send


def _first_segment(path: str) -> str:
    return path[1:].split("/", 1)[0]


def _literal_first_segment(route: BaseRoute) -> str | None:
    """The route's first path segment when it is plain text (no `{param}` in it), else None."""
    path = route.path if isinstance(route, Route | Mount) else None
    if path is None:
        return None
    segment = _first_segment(path)
    return segment if segment and "{" not in segment else None


class IndexedRouter(Router):
    def __init__(self, routes: Sequence[BaseRoute], **kwargs: object) -> None:
        super().__init__(routes=list(routes), **kwargs)  # type: ignore[arg-type]
        segments = {_literal_first_segment(route) for route in self.routes} - {None}
        self.shortlists: dict[str, Router] = {}
        for segment in segments:
            subset = [r for r in self.routes if _literal_first_segment(r) in (segment, None)]
            shortlist = Router(routes=subset, redirect_slashes=self.redirect_slashes)
            shortlist.default = self.default  # type: ignore[method-assign]
            self.shortlists[str(segment)] = shortlist

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "router" not in scope:
            shortlist = self.shortlists.get(_first_segment(get_route_path(scope)))
            if shortlist is not None:
                scope["router"] = self  # links are built from the whole table
                await shortlist.app(scope, receive, send)
                return
        await super().app(scope, receive, send)
