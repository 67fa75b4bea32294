"""GET /api/places?q=: places by name for the search and the asset form
(registry.catalog.places)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from registry.catalog.places import MAX_TYPED, find_places
from registry.catalog.search_query import InvalidParameter
from registry.http.auth import runtime
from registry.http.responses import json_response


async def places(request: Request) -> Response:
    svc = runtime(request)
    typed = request.query_params.get("q", "").strip()
    if not typed or len(typed) > MAX_TYPED:
        message = f"the place's name, 1 to {MAX_TYPED} characters"
        raise InvalidParameter(f"q: {message}", errors=[{"field": "q", "message": message}])
    found = await find_places(svc.engine, svc.geocoder, typed)
    return json_response({"items": [p.as_json() for p in found]})


routes = [Route("/api/places", places, methods=["GET"], name="api.places")]
