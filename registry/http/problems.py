"""Turn every error into an RFC 9457 problem document; nothing escapes as a bare 500."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from registry.core import errors
from registry.http.negotiation import HTML, choose
from registry.http.responses import PROBLEM_JSON, problem_response
from registry.web.render import render

log = logging.getLogger("registry.http")

_BY_STATUS: dict[int, type[errors.Problem]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    406: errors.NotAcceptable,
    409: errors.Conflict,
    410: errors.Gone,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMediaType,
    422: errors.Unprocessable,
    429: errors.TooManyRequests,
    503: errors.ServiceUnavailable,
}


class InternalError(errors.Problem):
    status, slug, title = 500, "internal-error", "Internal error"


def _wants_page(request: Request) -> bool:
    """Outside the API, a browser asking for HTML gets an error page, not JSON."""
    if request.url.path.startswith("/api/"):
        return False
    accept = request.headers.get("accept", "")
    try:
        return choose(accept, (HTML, PROBLEM_JSON)) == HTML and "text/html" in accept
    except errors.NotAcceptable:
        return False


async def on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.Problem)
    if _wants_page(request):
        return render(
            request,
            "error.html",
            status_code=exc.status,
            title=exc.title,
            detail=exc.detail,
            headers=exc.headers,
        )
    return problem_response(exc, request.url.path)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    cls = _BY_STATUS.get(exc.status_code, errors.BadRequest)
    if exc.status_code == 404:
        detail = f"nothing is published at {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    else:
        detail = str(exc.detail)
    problem = cls(detail, headers=dict(exc.headers or {}))
    if exc.status_code not in _BY_STATUS:
        problem.status = exc.status_code
    return await on_problem(request, problem)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        InternalError("the server failed to handle this request; the error was logged"),
        request.url.path,
    )


HANDLERS = {errors.Problem: on_problem, HTTPException: on_http_exception, Exception: on_unexpected}
