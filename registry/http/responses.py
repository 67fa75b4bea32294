"""JSON and problem responses, rendered with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from registry.core.errors import Problem
from registry.web import i18n

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


def problem_response(
    problem: Problem, instance: str | None = None, language: str = "en"
) -> Response:
    """The problem document, its title and (where the catalog has it) its detail in
    `language`; Content-Language says so, and names English too when the detail stayed
    English."""
    headers = dict(problem.headers)
    gettext = None
    if language != "en":
        gettext = i18n.translations(language).gettext
        detail_translated = problem.translated_detail(gettext) is not None
        headers["Content-Language"] = language if detail_translated else f"{language}, en"
    else:
        headers["Content-Language"] = "en"
    return Response(
        orjson.dumps(problem.to_json(instance, gettext)),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )
