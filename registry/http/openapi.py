"""The OpenAPI 3.1 description of the REST API, served at /api/openapi.json.

Written out here rather than inferred from docstrings: the asset schema comes from the
vocabulary's field table, so the description cannot drift from what validation accepts.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

import vocab
from registry import __version__
from registry.http.auth import services
from registry.http.openapi_federation import federation_paths
from registry.http.responses import json_response
from registry.search import MODERATION_STATES, ORIGINS, SORTS

PROBLEM = {"$ref": "#/components/responses/Problem"}


def _problems(*codes: int) -> dict[str, Any]:
    return {str(code): PROBLEM for code in codes}


def _op(
    summary: str,
    *,
    tag: str,
    ok: dict[str, Any],
    errors: tuple[int, ...],
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    secured: bool = True,
    operation_id: str,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "operationId": operation_id,
        "responses": {**ok, **_problems(*errors)},
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    if secured:
        op["security"] = [{"bearer": []}]
    else:
        op["security"] = [{}, {"bearer": []}]
    return op


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _path(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string", "minLength": 1, "maxLength": 64},
    }


def _moderation_paths() -> dict[str, Any]:
    """Domain blocks and the admin log (registry/http/api_moderation.py)."""
    block = {
        "type": "object",
        "properties": {
            "domain": {"type": "string"},
            "reason": {"type": "string"},
            "created": {"type": "string"},
            "created_by": {"type": "string"},
        },
    }
    entry = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "at": {"type": "string"},
            "actor": {"type": "string"},
            "action": {"type": "string"},
            "target": {"type": "string"},
            "detail": {"type": "string"},
        },
    }
    return {
        "/api/admin/domain-blocks": {
            "get": _op(
                "Blocked domains (admin)",
                tag="moderation",
                ok={
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": block}},
                        }
                    )
                },
                errors=(401, 403),
                operation_id="listDomainBlocks",
            ),
            "post": _op(
                "Block a domain and its subdomains, purging what the node holds from them (admin)",
                tag="moderation",
                ok={"201": _json(block, "Blocked")},
                errors=(400, 401, 403, 413, 415, 422),
                body={
                    "type": "object",
                    "required": ["domain"],
                    "properties": {
                        "domain": {"type": "string", "minLength": 1, "maxLength": 255},
                        "reason": {"type": "string", "maxLength": 2000},
                    },
                },
                operation_id="blockDomain",
            ),
        },
        "/api/admin/domain-blocks/{domain}": {
            "delete": _op(
                "Lift a domain block (admin)",
                tag="moderation",
                ok={"204": {"description": "Unblocked"}},
                errors=(401, 403, 404, 422),
                params=[
                    _path(
                        "domain",
                        "The blocked domain",
                        {"type": "string", "minLength": 1, "maxLength": 255},
                    )
                ],
                operation_id="unblockDomain",
            ),
        },
        "/api/admin/log": {
            "get": _op(
                "What admins did: blocks, suspensions, revocations; newest first (admin)",
                tag="moderation",
                ok={
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "items": {"type": "array", "items": entry},
                                "next_before": {"type": "integer"},
                            },
                        }
                    )
                },
                errors=(401, 403, 422),
                params=[
                    _query("limit", "Page size", {"type": "integer", "minimum": 1, "maximum": 500}),
                    _query("before", "Entries older than this id", {"type": "integer"}),
                    _query("action", "Only this action, e.g. domain.block", {"type": "string"}),
                ],
                operation_id="adminLog",
            ),
        },
    }


def build_spec(base_url: str) -> dict[str, Any]:
    asset_input = vocab.asset_json_schema()
    create_input = {
        **asset_input,
        "properties": {
            **asset_input.get("properties", {}),
            "group": {
                "type": "string",
                "maxLength": 64,
                "description": "Group slug (admins only)",
            },
        },
    }
    patch_input = {k: v for k, v in asset_input.items() if k != "required"}
    ref = {"$ref": "#/components/schemas/Asset"}
    uid = _path("uid", "The asset's id")
    search_params = [
        _query("q", "Full-text query", {"type": "string", "maxLength": 500}),
        _query(
            "kind",
            "Asset kind (repeat or comma-separate)",
            {"type": "string", "enum": vocab.slugs("kinds")},
        ),
        _query("tag", "Tag", {"type": "string", "minLength": 1, "maxLength": 64}),
        _query(
            "country",
            "ISO 3166-1 alpha-2 country code",
            {"type": "string", "pattern": "^[A-Za-z]{2}$"},
        ),
        _query("status", "Lifecycle status", {"type": "string", "enum": vocab.slugs("status")}),
        _query("bbox", "minLon,minLat,maxLon,maxLat", {"type": "string"}),
        _query("near", "lat,lon,km", {"type": "string"}),
        _query(
            "origin", "Local, mirrored or all assets", {"type": "string", "enum": list(ORIGINS)}
        ),
        _query("group", "Group slug", {"type": "string", "maxLength": 64}),
        _query(
            "moderation",
            "Moderation state (other than published needs a token)",
            {"type": "string", "enum": list(MODERATION_STATES)},
        ),
        _query("sort", "Order of results", {"type": "string", "enum": list(SORTS)}),
        _query("limit", "Page size", {"type": "integer", "minimum": 1, "maximum": 1000}),
        _query("cursor", "Cursor from a previous page", {"type": "string"}),
        _query("facets", "Include facet counts", {"type": "boolean"}),
    ]
    page = {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": ref},
            "cursor": {"type": ["string", "null"]},
            "next": {"type": ["string", "null"]},
            "total": {"type": "integer"},
            "facets": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": {"type": "integer"},
                },
            },
        },
    }
    map_answer = {
        "type": "object",
        "required": ["shown", "mode", "zoom", "points", "clusters"],
        "properties": {
            "total": {"type": "integer", "description": "results (without a view)"},
            "placed": {"type": "integer", "description": "results with a place (without a view)"},
            "shown": {"type": "integer", "description": "placed results in the view"},
            "mode": {"type": "string", "enum": ["points", "clusters"]},
            "zoom": {"type": "integer"},
            "focus": {"type": ["array", "null"], "items": {"type": "number"}},
            "points": {"type": "array", "description": "[lat, lon, name, page path]"},
            "clusters": {"type": "array", "description": "[lat, lon, count]"},
        },
    }
    places_answer = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "latitude": {"type": "number"},
                        "longitude": {"type": "number"},
                        "country": {"type": ["string", "null"]},
                        "source": {"type": "string", "enum": ["catalog", "geocoder"]},
                        "assets": {"type": "integer"},
                    },
                },
            }
        },
    }
    group = {
        "type": "object",
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "suspended": {"type": "boolean"},
        },
    }
    token = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "role": {"type": "string"},
            "group": {"type": ["string", "null"]},
            "token": {"type": "string"},
        },
    }
    paths = {
        "/api/assets": {
            "get": _op(
                "Search assets",
                tag="assets",
                ok={"200": _json(page)},
                errors=(400, 401, 403),
                params=search_params,
                secured=False,
                operation_id="searchAssets",
            ),
            "post": _op(
                "Create an asset",
                tag="assets",
                ok={"201": _json(ref, "Created")},
                errors=(400, 401, 403, 413, 415, 422),
                body=create_input,
                operation_id="createAsset",
            ),
        },
        "/api/assets/{uid}": {
            "get": _op(
                "Read an asset",
                tag="assets",
                ok={"200": _json(ref)},
                errors=(401, 403, 404, 410),
                params=[uid],
                secured=False,
                operation_id="getAsset",
            ),
            "put": _op(
                "Replace an asset",
                tag="assets",
                ok={"200": _json(ref)},
                errors=(400, 401, 403, 404, 410, 413, 415, 422),
                body=asset_input,
                params=[uid],
                operation_id="replaceAsset",
            ),
            "patch": _op(
                "Change some fields (JSON merge patch)",
                tag="assets",
                ok={"200": _json(ref)},
                errors=(400, 401, 403, 404, 410, 413, 415, 422),
                body=patch_input,
                params=[uid],
                operation_id="patchAsset",
            ),
            "delete": _op(
                "Delete an asset (leaves a tombstone)",
                tag="assets",
                ok={"204": {"description": "Deleted"}},
                errors=(401, 403, 404, 410),
                params=[uid],
                operation_id="deleteAsset",
            ),
        },
        "/api/assets/{uid}/approve": {
            "post": _op(
                "Approve a submission (admin)",
                tag="moderation",
                ok={"200": _json(ref)},
                errors=(401, 403, 404, 410, 422),
                params=[uid],
                operation_id="approveAsset",
            ),
        },
        "/api/assets/{uid}/reject": {
            "post": _op(
                "Reject a submission with a reason (admin)",
                tag="moderation",
                ok={"200": _json(ref)},
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
            "get": _op(
                "Every placed search result for a map: points, or clusters per zoom and view",
                tag="assets",
                ok={"200": _json(map_answer)},
                errors=(400, 401),
                params=[
                    *[p for p in search_params if p["name"] not in ("sort", "limit", "cursor")],
                    _query(
                        "zoom", "Map zoom level", {"type": "integer", "minimum": 0, "maximum": 19}
                    ),
                    _query(
                        "view", "The map's box: minLon,minLat,maxLon,maxLat", {"type": "string"}
                    ),
                ],
                secured=False,
                operation_id="mapData",
            ),
        },
        "/api/places": {
            "get": _op(
                "Places by name: the catalog's towns, then the configured geocoder",
                tag="assets",
                ok={"200": _json(places_answer)},
                errors=(400,),
                params=[
                    _query(
                        "q", "A place's name", {"type": "string", "minLength": 1, "maxLength": 200}
                    )
                ],
                secured=False,
                operation_id="findPlaces",
            ),
        },
        "/api/moderation/queue": {
            "get": _op(
                "Submissions waiting for a decision (admin)",
                tag="moderation",
                ok={
                    "200": _json(
                        {"type": "object", "properties": {"items": {"type": "array", "items": ref}}}
                    )
                },
                errors=(401, 403),
                operation_id="moderationQueue",
            ),
        },
        "/api/me": {
            "get": _op(
                "Who this token acts for",
                tag="accounts",
                ok={
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "role": {"type": "string"},
                                "group": {"type": ["string", "null"]},
                            },
                        }
                    )
                },
                errors=(401, 403),
                operation_id="me",
            ),
        },
        "/api/groups": {
            "get": _op(
                "List groups (admin)",
                tag="accounts",
                ok={
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": group}},
                        }
                    )
                },
                errors=(401, 403),
                operation_id="listGroups",
            ),
            "post": _op(
                "Create a group and its first token (admin)",
                tag="accounts",
                ok={"201": _json(group, "Created")},
                errors=(400, 401, 403, 409, 413, 415, 422),
                body={
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "slug": {"type": "string", "minLength": 1, "maxLength": 64},
                    },
                },
                operation_id="createGroup",
            ),
        },
        "/api/groups/{slug}/suspension": {
            "post": _op(
                "Suspend a group (admin)",
                tag="accounts",
                ok={"200": _json(group)},
                errors=(400, 401, 403, 404, 413, 415, 422),
                params=[_path("slug", "Group slug")],
                body={
                    "type": "object",
                    "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 2000}},
                },
                operation_id="suspendGroup",
            ),
            "delete": _op(
                "Lift a group's suspension (admin)",
                tag="accounts",
                ok={"200": _json(group)},
                errors=(401, 403, 404),
                params=[_path("slug", "Group slug")],
                operation_id="unsuspendGroup",
            ),
        },
        "/api/tokens": {
            "get": _op(
                "List tokens (admins: all; groups: their own)",
                tag="accounts",
                ok={
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": token}},
                        }
                    )
                },
                errors=(401, 403),
                params=[_query("group", "Group slug", {"type": "string"})],
                operation_id="listTokens",
            ),
            "post": _op(
                "Create a token",
                tag="accounts",
                ok={"201": _json(token, "Created")},
                errors=(400, 401, 403, 404, 413, 415, 422),
                body={
                    "type": "object",
                    "properties": {
                        "role": {"type": "string", "enum": ["group", "admin"]},
                        "group": {"type": "string", "minLength": 1, "maxLength": 64},
                        "label": {"type": "string", "minLength": 1, "maxLength": 200},
                    },
                },
                operation_id="createToken",
            ),
        },
        "/api/tokens/{token_id}": {
            "delete": _op(
                "Revoke a token",
                tag="accounts",
                ok={"200": _json(token)},
                errors=(401, 403, 404, 422),
                params=[_path("token_id", "Token id", {"type": "integer"})],
                operation_id="revokeToken",
            ),
        },
        **_moderation_paths(),
        **federation_paths(_op, _json),
    }
    asset = {
        "allOf": [
            asset_input,
            {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "iri": {"type": "string", "format": "uri"},
                    "url": {"type": "string"},
                    "origin": {"type": "string"},
                    "group": {"type": ["string", "null"]},
                    "moderation": {"type": "object"},
                    "created": {"type": "string"},
                    "updated": {"type": "string"},
                    "links": {"type": "object"},
                    "origin_unreachable_since": {
                        "type": "string",
                        "description": "A mirrored copy whose origin has not answered since "
                        "then (mirror.unreachable_after_hours); absent otherwise.",
                    },
                    "origin_key": {
                        "type": ["object", "null"],
                        "description": "With origin_unreachable_since: the origin's Ed25519 "
                        "key (Multikey) this node verified the copy's proof with.",
                    },
                },
            },
        ]
    }
    problem_schema = {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Commons registry API",
            "version": __version__,
            "description": "Register, search and moderate commons assets.",
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": {"Asset": asset, "AssetInput": asset_input, "Problem": problem_schema},
            "responses": {
                "Problem": {
                    "description": "An RFC 9457 problem document",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


async def openapi(request: Request) -> Response:
    spec = getattr(request.app.state, "openapi_spec", None)
    if spec is None:
        spec = build_spec(services(request).settings.base_url)
        request.app.state.openapi_spec = spec
    return json_response(spec)
