"""Errors that the HTTP layer turns into RFC 9457 problem documents.

Each class has a stable `type` IRI and an HTTP status; the message says what is wrong in words
a person can act on. The rooms raise these; they never build responses themselves.

Titles are catalog msgids, and so is a detail given with `params` (`NotFound("there is no
asset %(uid)s", params={"uid": ...})`): the HTTP layer answers in the request's language
(registry/http/problems.py); `detail` itself is always the English text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def N_(message: str) -> str:
    """Mark a msgid for the catalogs (registry.web.i18n has the same marker)."""
    return message


PROBLEM_BASE = "https://w3id.org/commons-registry/problems/"


class Problem(Exception):
    status = 400
    slug = "bad-request"
    title = N_("Bad request")

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        self.message, self.params = detail, params
        detail = detail % params if params is not None else detail
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug

    def translated_detail(self, gettext: Callable[[str], str]) -> str | None:
        """The detail in the catalog's language, or None when the catalog does not have it."""
        found = gettext(self.message)
        if found == self.message and self.message.strip():
            return None
        return found % self.params if self.params is not None else found

    def to_json(
        self, instance: str | None = None, gettext: Callable[[str], str] | None = None
    ) -> dict[str, Any]:
        """The problem document; with `gettext`, its title and (when the catalog has it) its
        detail in that catalog's language."""
        detail = (self.translated_detail(gettext) if gettext else None) or self.detail
        body: dict[str, Any] = {
            "type": self.type,
            "title": gettext(self.title) if gettext else self.title,
            "status": self.status,
            "detail": detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class BadRequest(Problem):
    pass


class MalformedBody(Problem):
    slug, title = "malformed-body", N_("The request body is not valid JSON")


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", N_("Authentication required")

    def __init__(self, detail: str, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="commons-registry"'})
        super().__init__(detail, **kwargs)


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", N_("Not allowed")


class NotFound(Problem):
    status, slug, title = 404, "not-found", N_("Not found")


class MethodNotAllowed(Problem):
    status, slug, title = 405, "method-not-allowed", N_("Method not allowed")


class NotAcceptable(Problem):
    status, slug, title = 406, "not-acceptable", N_("No acceptable representation")


class Conflict(Problem):
    status, slug, title = 409, "conflict", N_("Conflict")


class Gone(Problem):
    status, slug, title = 410, "gone", N_("Gone")


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", N_("Request body too large")


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", N_("Unsupported media type")


class Unprocessable(Problem):
    status, slug, title = 422, "validation-error", N_("The input is not valid")


class TooManyRequests(Problem):
    status, slug, title = 429, "rate-limited", N_("Too many requests")


class ServiceUnavailable(Problem):
    status, slug, title = 503, "unavailable", N_("Service unavailable")
