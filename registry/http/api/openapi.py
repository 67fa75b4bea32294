"""The OpenAPI 3.1 description of the REST API, served at /api/openapi.json.

Written out rather than inferred from docstrings: the asset schema comes from the vocabulary's
field table, so the description cannot drift from what validation accepts. The blocks are in
openapi_schemas.py; accounts, moderation and federation have their own paths modules.
tests/registry/test_openapi_routes.py holds the document to the route table and to the query
parameters the search reads.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from registry import __version__
from registry.http.api.openapi_accounts import account_paths, moderation_paths
from registry.http.api.openapi_federation import federation_paths
from registry.http.api.openapi_schemas import (
    ASSET,
    MAP_ANSWER,
    PLACES_ANSWER,
    SEARCH_PAGE,
    asset_inputs,
    components,
    items_of,
    json_content,
    op,
    path,
    query,
    search_params,
)
from registry.http.auth import runtime
from registry.http.responses import json_response

# The exports are whole documents: no paging, no facets.
NOT_FOR_EXPORTS = ("limit", "cursor", "facets")


def _export(summary: str, media_type: str, operation_id: str) -> dict[str, Any]:
    """Every matching asset in one file (registry/http/opendata/exports.py)."""
    operation = op(
        summary,
        tag="open data",
        ok={"200": {"description": "OK", "content": {media_type: {"schema": {}}}}},
        errors=(400, 401),
        params=[p for p in search_params() if p["name"] not in NOT_FOR_EXPORTS],
        secured=False,
        operation_id=operation_id,
    )
    return {"get": operation}


def asset_paths() -> dict[str, Any]:
    asset_input, create_input, patch_input = asset_inputs()
    uid = path("uid", "The asset's id")
    params = search_params()
    return {
        "/api/assets": {
            "get": op(
                "Search assets",
                tag="assets",
                ok={"200": json_content(SEARCH_PAGE)},
                errors=(400, 401, 403),
                params=params,
                secured=False,
                operation_id="searchAssets",
            ),
            "post": op(
                "Create an asset",
                tag="assets",
                ok={"201": json_content(ASSET, "Created")},
                errors=(400, 401, 403, 413, 415, 422),
                body=create_input,
                operation_id="createAsset",
            ),
        },
        "/api/assets/{uid}": {
            "get": op(
                "Read an asset",
                tag="assets",
                ok={"200": json_content(ASSET)},
                errors=(401, 403, 404, 410),
                params=[uid],
                secured=False,
                operation_id="getAsset",
            ),
            "put": op(
                "Replace an asset",
                tag="assets",
                ok={"200": json_content(ASSET)},
                errors=(400, 401, 403, 404, 410, 413, 415, 422),
                body=asset_input,
                params=[uid],
                operation_id="replaceAsset",
            ),
            "patch": op(
                "Change some fields (JSON merge patch)",
                tag="assets",
                ok={"200": json_content(ASSET)},
                errors=(400, 401, 403, 404, 410, 413, 415, 422),
                body=patch_input,
                params=[uid],
                operation_id="patchAsset",
            ),
            "delete": op(
                "Delete an asset (leaves a tombstone)",
                tag="assets",
                ok={"204": {"description": "Deleted"}},
                errors=(401, 403, 404, 410),
                params=[uid],
                operation_id="deleteAsset",
            ),
        },
        "/api/assets/{uid}/approve": {
            "post": op(
                "Approve a submission (admin)",
                tag="moderation",
                ok={"200": json_content(ASSET)},
                errors=(401, 403, 404, 410, 422),
                params=[uid],
                operation_id="approveAsset",
            ),
        },
        "/api/assets/{uid}/reject": {
            "post": op(
                "Reject a submission with a reason (admin)",
                tag="moderation",
                ok={"200": json_content(ASSET)},
                errors=(400, 401, 403, 404, 410, 413, 415, 422),
                params=[uid],
                operation_id="rejectAsset",
                body={
                    "type": "object",
                    "required": ["reason"],
                    "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 2000}},
                },
            ),
        },
        "/api/map": {
            "get": op(
                "Every placed search result for a map: points, or clusters per zoom and view",
                tag="assets",
                ok={"200": json_content(MAP_ANSWER)},
                errors=(400, 401),
                params=[
                    *[p for p in params if p["name"] not in ("sort", "limit", "cursor")],
                    query(
                        "zoom", "Map zoom level", {"type": "integer", "minimum": 0, "maximum": 19}
                    ),
                    query("view", "The map's box: minLon,minLat,maxLon,maxLat", {"type": "string"}),
                ],
                secured=False,
                operation_id="mapData",
            ),
        },
        "/api/places": {
            "get": op(
                "Places by name: the catalog's towns, then the configured geocoder",
                tag="assets",
                ok={"200": json_content(PLACES_ANSWER)},
                errors=(400,),
                params=[
                    query(
                        "q", "A place's name", {"type": "string", "minLength": 1, "maxLength": 200}
                    )
                ],
                secured=False,
                operation_id="findPlaces",
            ),
        },
        "/api/moderation/queue": {
            "get": op(
                "Submissions waiting for a decision (admin)",
                tag="moderation",
                ok={"200": json_content(items_of(ASSET))},
                errors=(401, 403),
                operation_id="moderationQueue",
            ),
        },
        "/api/assets.geojson": _export(
            "Every matching asset as one GeoJSON FeatureCollection",
            "application/geo+json",
            "exportGeoJSON",
        ),
        "/api/assets.csv": _export(
            "Every matching asset as CSV, one row each", "text/csv", "exportCSV"
        ),
        "/api/openapi.json": {
            "get": op(
                "This document",
                tag="meta",
                ok={"200": json_content({"type": "object"})},
                errors=(),
                secured=False,
                operation_id="openapi",
            )
        },
    }


def build_spec(base_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Commons registry API",
            "version": __version__,
            "description": "Register, search and moderate commons assets.",
        },
        "servers": [{"url": base_url}],
        "paths": {
            **asset_paths(),
            **account_paths(),
            **moderation_paths(),
            **federation_paths(op, json_content),
        },
        "components": components(asset_inputs()[0]),
    }


async def openapi(request: Request) -> Response:
    spec = getattr(request.app.state, "openapi_spec", None)
    if spec is None:
        spec = build_spec(runtime(request).settings.base_url)
        request.app.state.openapi_spec = spec
    return json_response(spec)


routes = [Route("/api/openapi.json", openapi, methods=["GET"], name="api.openapi")]
