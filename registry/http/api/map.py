"""GET /api/map: the search's placed results for the map, compact (see registry.catalog.map_layer).

It takes the same filters as GET /api/assets, plus `zoom` (0-19) and `view` (the box the map
shows, min lon,min lat,max lon,max lat), which only matter when the results are clustered."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from registry.catalog.map_grid import MAX_ZOOM
from registry.catalog.map_layer import MapRequest, map_layer
from registry.catalog.search_query import InvalidParameter, parse_bbox, parse_query
from registry.catalog.visibility import PUBLIC_AUDIENCE, audience_of
from registry.http.auth import optional_principal, runtime


def map_request(params: dict[str, str]) -> MapRequest:
    raw_zoom = params.get("zoom", "2") or "2"
    try:
        zoom = int(raw_zoom)
    except ValueError:
        zoom = -1
    if not 0 <= zoom <= MAX_ZOOM:
        message = f"a whole number from 0 to {MAX_ZOOM}"
        raise InvalidParameter(f"zoom: {message}", errors=[{"field": "zoom", "message": message}])
    view = parse_bbox("view", params["view"]) if params.get("view") else None
    return MapRequest(zoom=zoom, view=view)


async def map_data(request: Request) -> Response:
    svc = runtime(request)
    principal = await optional_principal(request)
    params = request.query_params
    query = parse_query(
        params,
        page_size=svc.settings.search.page_size,
        max_page_size=svc.settings.search.max_page_size,
        principal=principal,
        audience=audience_of(principal),
    )
    # The sort, page and facets do not change what is on the map: one cache entry for all.
    query = replace(query, sort="", limit=0, cursor=None)
    public = query.audience == PUBLIC_AUDIENCE
    shared = query.moderation == "published" and public
    cache, summaries = (svc.map_cache, svc.map_summaries) if shared else (None, None)
    body = await map_layer(svc.engine, query, map_request(dict(params)), cache, summaries)
    return Response(body, media_type="application/json")


routes = [Route("/api/map", map_data, methods=["GET"], name="api.map")]
