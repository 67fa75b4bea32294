"""The admin federation API (`/api/federation/*`, `/api/partners*`) in the OpenAPI document,
so that it is described, and fuzzed by schemathesis, like the rest (issue 13).

The shapes follow registry/http/api/federation.py; every operation is admin-only.
"""

from __future__ import annotations

from typing import Any

STRING = {"type": "string"}
NULLABLE = {"type": ["string", "null"]}
TARGET = {
    "type": "object",
    "required": ["target"],
    "properties": {
        "target": {
            "type": "string",
            "minLength": 1,
            "maxLength": 2048,
            "description": "An actor URL, a node's base URL, or @user@host",
        }
    },
}
LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "description": "How many rows (1-500)",
    "schema": {"type": "integer", "minimum": 1, "maximum": 500},
}


def _state(*states: str) -> dict[str, Any]:
    return {
        "name": "state",
        "in": "query",
        "required": False,
        "description": "Only rows in this state",
        "schema": {"type": "string", "enum": list(states)},
    }


def _items(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"items": {"type": "array", "items": item}}}


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


PARTNER = _object(
    actor=STRING,
    host=STRING,
    name=NULLABLE,
    follow=NULLABLE,
    checkpoint={"type": "integer"},
    backfilled=NULLABLE,
    last_sync=NULLABLE,
    last_error=NULLABLE,
)


def federation_paths(op: Any, json: Any) -> dict[str, Any]:
    """The paths; `op` and `json` are openapi.py's operation and response builders."""

    def admin(summary: str, operation_id: str, ok: dict[str, Any], **more: Any) -> Any:
        errors = more.pop("errors", (401, 403, 422))
        return op(
            summary, tag="federation", ok=ok, errors=errors, operation_id=operation_id, **more
        )

    posted = (400, 401, 403, 404, 413, 415, 422)
    return {
        "/api/federation/followers": {
            "get": admin(
                "Who follows this node (admin)",
                "listFollowers",
                {
                    "200": json(
                        _items(
                            _object(
                                actor=STRING,
                                state=STRING,
                                inbox=STRING,
                                shared_inbox=NULLABLE,
                                since=NULLABLE,
                            )
                        )
                    )
                },
                params=[_state("pending", "accepted", "rejected")],
            )
        },
        "/api/federation/followers/decide": {
            "post": admin(
                "Approve, reject or remove a follower (admin)",
                "decideFollower",
                {"200": json(_object(actor=STRING, done=STRING))},
                errors=posted,
                body={
                    "type": "object",
                    "required": ["actor", "action"],
                    "properties": {
                        "actor": {"type": "string", "minLength": 1, "maxLength": 2048},
                        "action": {"type": "string", "enum": ["approve", "reject", "remove"]},
                    },
                },
            )
        },
        "/api/federation/following": {
            "get": admin(
                "Whom this node follows (admin)",
                "listFollowing",
                {"200": json(_items(_object(actor=STRING, state=STRING, since=NULLABLE)))},
            ),
            "post": admin(
                "Follow an actor or a node (admin)",
                "follow",
                {"202": json(_object(actor=STRING, state=STRING), "Follow sent")},
                errors=(*posted, 502),
                body=TARGET,
            ),
        },
        "/api/federation/unfollow": {
            "post": admin(
                "Stop following an actor (admin)",
                "unfollow",
                {"200": json(_object(actor=STRING, state=STRING))},
                errors=posted,
                body=TARGET,
            )
        },
        "/api/federation/inbox": {
            "get": admin(
                "Recent incoming activities (admin)",
                "listInbox",
                {
                    "200": json(
                        _items(
                            _object(
                                id=STRING,
                                type=STRING,
                                actor=STRING,
                                object=NULLABLE,
                                state=STRING,
                                attempts={"type": "integer"},
                                result=NULLABLE,
                                received=NULLABLE,
                            )
                        )
                    )
                },
                params=[LIMIT, _state("pending", "done", "ignored", "failed")],
            )
        },
        "/api/federation/queues": {
            "get": admin(
                "Delivery and inbox queues, and the hosts' circuit breakers (admin)",
                "queueStatus",
                {
                    "200": json(
                        _object(
                            deliveries={"type": "object"},
                            inbox={"type": "object"},
                            hosts={"type": "array", "items": {"type": "object"}},
                            recent_deliveries={"type": "array", "items": {"type": "object"}},
                        )
                    )
                },
                params=[LIMIT, _state("pending", "done", "dead")],
            )
        },
        "/api/partners": {
            "get": admin("Partner nodes (admin)", "listPartners", {"200": json(_items(PARTNER))}),
            "post": admin(
                "Add a partner node: follow it and mirror its catalog (admin)",
                "addPartner",
                {"201": json(PARTNER, "Added")},
                errors=(*posted, 409, 502),
                body=TARGET,
            ),
        },
        "/api/partners/remove": {
            "post": admin(
                "Remove a partner node (admin)",
                "removePartner",
                {"200": json(_object(actor=STRING, removed={"type": "boolean"}))},
                errors=posted,
                body=TARGET,
            )
        },
        "/api/partners/sync": {
            "post": admin(
                "Ask for a sync with one partner, or `all` (admin)",
                "syncPartners",
                {"202": json(_object(requested={"type": "array", "items": STRING}), "Queued")},
                errors=posted,
                body=TARGET,
            )
        },
    }
