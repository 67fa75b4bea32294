"""The OpenAPI paths of accounts (groups, tokens) and moderation (domain blocks, the admin log):
registry/http/api/accounts.py and registry/http/api/moderation.py."""

from __future__ import annotations

from typing import Any

from registry.http.api.openapi_schemas import (
    GROUP_ACTOR_KEY,
    GROUP_DEFAULTS,
    json_content,
    op,
    path,
    query,
)

GROUP = {
    "type": "object",
    "properties": {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "suspended": {"type": "boolean"},
    },
}
TOKEN = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "role": {"type": "string"},
        "group": {"type": ["string", "null"]},
        "token": {"type": "string"},
    },
}


def account_paths() -> dict[str, Any]:
    return {
        "/api/me": {
            "get": op(
                "Who this token acts for",
                tag="accounts",
                ok={
                    "200": json_content(
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
            "get": op(
                "List groups (admin)",
                tag="accounts",
                ok={
                    "200": json_content(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": GROUP}},
                        }
                    )
                },
                errors=(401, 403),
                operation_id="listGroups",
            ),
            "post": op(
                "Create a group and its first token (admin)",
                tag="accounts",
                ok={"201": json_content(GROUP, "Created")},
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
        "/api/groups/{slug}/defaults": {
            "get": op(
                "What a group's new assets get: visibility and licence (admin or the group)",
                tag="accounts",
                ok={"200": json_content(GROUP_DEFAULTS)},
                errors=(401, 404),
                params=[path("slug", "Group slug")],
                operation_id="getGroupDefaults",
            ),
            "patch": op(
                "Set a group's default visibility and licence (admin or the group)",
                tag="accounts",
                ok={"200": json_content(GROUP_DEFAULTS)},
                errors=(400, 401, 404, 413, 415, 422),
                params=[path("slug", "Group slug")],
                body=GROUP_DEFAULTS,
                operation_id="setGroupDefaults",
            ),
        },
        "/api/groups/{slug}/actor-key": {
            "get": op(
                "The group actor's private key, for the group's people to keep off the node "
                "(admin or the group; logged)",
                tag="accounts",
                ok={"200": json_content(GROUP_ACTOR_KEY)},
                errors=(401, 404),
                params=[path("slug", "Group slug")],
                operation_id="getGroupActorKey",
            ),
        },
        "/api/groups/{slug}/suspension": {
            "post": op(
                "Suspend a group (admin)",
                tag="accounts",
                ok={"200": json_content(GROUP)},
                errors=(400, 401, 403, 404, 413, 415, 422),
                params=[path("slug", "Group slug")],
                body={
                    "type": "object",
                    "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 2000}},
                },
                operation_id="suspendGroup",
            ),
            "delete": op(
                "Lift a group's suspension (admin)",
                tag="accounts",
                ok={"200": json_content(GROUP)},
                errors=(401, 403, 404),
                params=[path("slug", "Group slug")],
                operation_id="unsuspendGroup",
            ),
        },
        "/api/tokens": {
            "get": op(
                "List tokens (admins: all; groups: their own)",
                tag="accounts",
                ok={
                    "200": json_content(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": TOKEN}},
                        }
                    )
                },
                errors=(401, 403),
                params=[query("group", "Group slug", {"type": "string"})],
                operation_id="listTokens",
            ),
            "post": op(
                "Create a token",
                tag="accounts",
                ok={"201": json_content(TOKEN, "Created")},
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
            "delete": op(
                "Revoke a token",
                tag="accounts",
                ok={"200": json_content(TOKEN)},
                errors=(401, 403, 404, 422),
                params=[path("token_id", "Token id", {"type": "integer"})],
                operation_id="revokeToken",
            ),
        },
    }


def moderation_paths() -> dict[str, Any]:
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
            "get": op(
                "Blocked domains (admin)",
                tag="moderation",
                ok={
                    "200": json_content(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": block}},
                        }
                    )
                },
                errors=(401, 403),
                operation_id="listDomainBlocks",
            ),
            "post": op(
                "Block a domain and its subdomains, purging what the node holds from them (admin)",
                tag="moderation",
                ok={"201": json_content(block, "Blocked")},
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
            "delete": op(
                "Lift a domain block (admin)",
                tag="moderation",
                ok={"204": {"description": "Unblocked"}},
                errors=(401, 403, 404, 422),
                params=[
                    path(
                        "domain",
                        "The blocked domain",
                        {"type": "string", "minLength": 1, "maxLength": 255},
                    )
                ],
                operation_id="unblockDomain",
            ),
        },
        "/api/admin/log": {
            "get": op(
                "What admins did: blocks, suspensions, revocations; newest first (admin)",
                tag="moderation",
                ok={
                    "200": json_content(
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
                    query("limit", "Page size", {"type": "integer", "minimum": 1, "maximum": 500}),
                    query("before", "Entries older than this id", {"type": "integer"}),
                    query("action", "Only this action, e.g. domain.block", {"type": "string"}),
                ],
                operation_id="adminLog",
            ),
        },
    }
