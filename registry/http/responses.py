"""JSON and problem responses, rendered with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from registry.core.errors import Problem

PROBLEM_JSON = "application/problem+json"


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(
    content: Any,
    status_code: int = 200,
    *,
    media_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSON:
    return JSON(content, status_code=status_code, media_type=media_type, headers=headers)


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    return Response(
        orjson.dumps(problem.to_json(instance)),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )
