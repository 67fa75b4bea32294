"""The building blocks of the OpenAPI document: operation and parameter helpers, the shared
schemas (the asset from the vocabulary's field table, pages, problems) and the search's
query parameters, which the REST search, the map and the exports share."""

from __future__ import annotations

from typing import Any

import vocab
from registry.catalog.search_query import MODERATION_STATES, ORIGINS, SORTS
from registry.catalog.visibility import VISIBILITIES

PROBLEM = {"$ref": "#/components/responses/Problem"}
ASSET = {"$ref": "#/components/schemas/Asset"}


def problems(*codes: int) -> dict[str, Any]:
    return {str(code): PROBLEM for code in codes}


def op(
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
    """One operation; `secured` ones need a bearer token, the others take one if given."""
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "operationId": operation_id,
        "responses": {**ok, **problems(*errors)},
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    if params:
        operation["parameters"] = params
    operation["security"] = [{"bearer": []}] if secured else [{}, {"bearer": []}]
    return operation


def json_content(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def path(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string", "minLength": 1, "maxLength": 64},
    }


def items_of(item: dict[str, Any], **more: dict[str, Any]) -> dict[str, Any]:
    """`{"items": [item, ...], ...more}`, the shape of every listing."""
    return {
        "type": "object",
        "properties": {"items": {"type": "array", "items": item}, **more},
    }


def search_params() -> list[dict[str, Any]]:
    """What registry.catalog.search.parse_query reads (a test holds the two together)."""
    return [
        query("q", "Full-text query", {"type": "string", "maxLength": 500}),
        query(
            "kind",
            "Asset kind (repeat or comma-separate)",
            {"type": "string", "enum": vocab.slugs("kinds")},
        ),
        query("tag", "Tag", {"type": "string", "minLength": 1, "maxLength": 64}),
        query(
            "country",
            "ISO 3166-1 alpha-2 country code",
            {"type": "string", "pattern": "^[A-Za-z]{2}$"},
        ),
        query("status", "Lifecycle status", {"type": "string", "enum": vocab.slugs("status")}),
        query("bbox", "minLon,minLat,maxLon,maxLat", {"type": "string"}),
        query("near", "lat,lon,km", {"type": "string"}),
        query("origin", "Local, mirrored or all assets", {"type": "string", "enum": list(ORIGINS)}),
        query("group", "Group slug", {"type": "string", "maxLength": 64}),
        query(
            "moderation",
            "Moderation state (other than published needs a token)",
            {"type": "string", "enum": list(MODERATION_STATES)},
        ),
        query(
            "modified_since",
            "Only assets changed at or after this ISO 8601 date or date-time (UTC if no zone)",
            {"type": "string", "format": "date-time"},
        ),
        query("sort", "Order of results", {"type": "string", "enum": list(SORTS)}),
        query("limit", "Page size", {"type": "integer", "minimum": 1, "maximum": 1000}),
        query("cursor", "Cursor from a previous page", {"type": "string"}),
        query("facets", "Include facet counts", {"type": "boolean"}),
    ]


VISIBILITY = {
    "type": "string",
    "enum": list(VISIBILITIES),
    "description": "Who may see the asset (default: the group's default_visibility): public; "
    "unlisted (at its IRI and federated, in no list or export); partners (partner nodes "
    "only); group (the group's members only, never federated)",
}
GROUP_ACTOR_KEY = {
    "type": "object",
    "required": ["type", "actor", "keyId", "privateKeyPem"],
    "properties": {
        "type": {"const": "commons:GroupActorKey"},
        "actor": {"type": "string", "format": "uri"},
        "keyId": {"type": "string", "format": "uri"},
        "privateKeyPem": {"type": "string", "description": "PKCS#8 PEM of the RSA key"},
    },
}

GROUP_DEFAULTS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "default_visibility": {"type": "string", "enum": list(VISIBILITIES)},
        "default_license": {
            "type": ["string", "null"],
            "maxLength": 100,
            "description": "SPDX licence id given to new assets without one",
        },
    },
}


def asset_inputs() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The asset as written: whole (PUT), on creation (may name a group), as a merge patch."""
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
            "visibility": VISIBILITY,
        },
    }
    patch_input = {k: v for k, v in asset_input.items() if k != "required"}
    patch_input["properties"] = {**patch_input.get("properties", {}), "visibility": VISIBILITY}
    return asset_input, create_input, patch_input


SEARCH_PAGE = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {"type": "array", "items": ASSET},
        "cursor": {"type": ["string", "null"]},
        "next": {"type": ["string", "null"]},
        "total": {"type": "integer"},
        "total_exact": {
            "type": "boolean",
            "description": "false when the search stopped counting at search.count_limit: "
            "there are more than `total` results, and each facet count is a lower bound",
        },
        "facets": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
            },
        },
    },
}

MAP_ANSWER = {
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

PLACES_ANSWER = items_of(
    {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "latitude": {"type": "number"},
            "longitude": {"type": "number"},
            "country": {"type": ["string", "null"]},
            "source": {"type": "string", "enum": ["catalog", "geocoder"]},
            "assets": {"type": "integer"},
        },
    }
)

PROBLEM_SCHEMA = {
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


def components(asset_input: dict[str, Any]) -> dict[str, Any]:
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
                    "visibility": VISIBILITY,
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
    return {
        "schemas": {"Asset": asset, "AssetInput": asset_input, "Problem": PROBLEM_SCHEMA},
        "responses": {
            "Problem": {
                "description": "An RFC 9457 problem document",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
        },
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    }
