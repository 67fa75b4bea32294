"""Turn every error into an RFC 9457 problem document; nothing escapes as a bare 500."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from registry.core import errors
from registry.http.negotiation import HTML, choose
from registry.http.responses import PROBLEM_JSON, problem_response
from registry.web import i18n
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
    status, slug, title = 500, "internal-error", errors.N_("Internal error")


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
            problem=exc,
            headers=exc.headers,
        )
    return problem_response(exc, request.url.path, answer_language(request))


def answer_language(request: Request) -> str:
    """The request's language for problem documents: as for pages (registry.web.i18n), but
    English when that language's catalog is not complete enough to speak it."""
    default = request.app.state.runtime.settings.node.default_language
    return i18n.interface_language(i18n.negotiate(request, default))


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    cls = _BY_STATUS.get(exc.status_code, errors.BadRequest)
    params: dict[str, str] | None = None
    if exc.status_code == 404:
        detail, params = errors.N_("nothing is published at %(path)s"), {"path": request.url.path}
    elif exc.status_code == 405:
        detail = errors.N_("%(method)s is not allowed on %(path)s")
        params = {"method": request.method, "path": request.url.path}
    else:
        detail = str(exc.detail)
    problem = cls(detail, headers=dict(exc.headers or {}), params=params)
    if exc.status_code not in _BY_STATUS:
        problem.status = exc.status_code
    return await on_problem(request, problem)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        InternalError(errors.N_("the server failed to handle this request; the error was logged")),
        request.url.path,
        answer_language(request),
    )


HANDLERS = {errors.Problem: on_problem, HTTPException: on_http_exception, Exception: on_unexpected}
