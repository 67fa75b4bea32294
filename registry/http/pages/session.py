"""Browser sessions for members: the cookie, sign-in and sign-out, CSRF checks, and the
decorator that guards member and admin pages.

Every state-changing form carries the session's CSRF secret in a hidden `csrf_token` field
(the synchronizer-token pattern) and must come from our own origin when the browser says
where it comes from. The sign-in form, which has no session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from registry.core.errors import Forbidden, PayloadTooLarge, Problem, TooManyRequests
from registry.http.auth import runtime
from registry.people import members
from registry.people.members import Session
from registry.web.i18n import N_
from registry.web.public_urls import route_url
from registry.web.render import render

COOKIE = "commons_session"
SIGNIN_COOKIE = "commons_signin"
FAILURES_ALLOWED, FAILURE_WINDOW = 10, 15 * 60.0  # per (address, username)

Handler = Callable[[Request, Session], Awaitable[Response]]


class LengthRequired(Problem):
    status, slug, title = 411, "length-required", N_("Length required")


class CsrfFailure(Forbidden):
    slug, title = "csrf-failed", N_("The form could not be checked")


def _secure(request: Request) -> bool:
    return runtime(request).settings.base_url.startswith("https://")


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


async def load_session(request: Request) -> Session | None:
    """The signed-in member's session (also kept on request.state for rendering)."""
    if not hasattr(request.state, "web_session"):
        secret = request.cookies.get(COOKIE, "")
        found = await members.find_session(runtime(request).engine, secret) if secret else None
        request.state.web_session = found
    return request.state.web_session


def check_origin(request: Request) -> None:
    """Refuse a form posted from another site (when the browser names the origin)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    base = urlsplit(runtime(request).settings.base_url)
    here = f"{base.scheme}://{base.netloc}".lower()
    if origin.lower() != here:
        raise CsrfFailure("this form was sent from another site")


async def read_form(request: Request) -> FormData:
    """The posted form, refused unread when it says it is larger than the API accepts."""
    limit = runtime(request).settings.server.max_body_bytes
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise LengthRequired("send forms with a Content-Length")
    if int(length) > limit:
        raise PayloadTooLarge(f"a form may have at most {limit} bytes")
    return await request.form(max_files=0, max_fields=200)


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


async def check_csrf(request: Request, session: Session) -> None:
    check_origin(request)
    form = await read_form(request)
    if not _same(str(form.get("csrf_token", "")), session.csrf_secret):
        raise CsrfFailure("the form's security token is missing or stale: reload the page")


def signin_url(request: Request) -> str:
    return route_url(request, "pages.signin", {"next": request.url.path})


def member_page(*, admin: bool = False) -> Callable[[Handler], Callable[[Request], Awaitable]]:
    """Guard a page: a signed-in member (an admin when `admin`), and a valid CSRF token on
    every POST. Without a session a browser is sent to the sign-in page and back."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            session = await load_session(request)
            if session is None:
                if request.method == "POST":
                    raise CsrfFailure("your sign-in has expired: sign in and send the form again")
                return RedirectResponse(signin_url(request), 303)
            if admin and not session.member.is_admin:
                raise Forbidden("this page is for the node's admins")
            if request.method == "POST":
                await check_csrf(request, session)
            return await handler(request, session)

        return guarded

    return wrap


class FailedSignins:
    """Failed sign-ins per (client address, username), so passwords cannot be guessed fast."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self.failures: dict[tuple[str, str], deque[float]] = {}
        self.max_keys = max_keys

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        times = self.failures.get(key, deque())
        while times and times[0] < time.monotonic() - FAILURE_WINDOW:
            times.popleft()
        return times

    def blocked(self, key: tuple[str, str]) -> bool:
        return len(self._recent(key)) >= FAILURES_ALLOWED

    def record(self, key: tuple[str, str]) -> None:
        if len(self.failures) >= self.max_keys:
            self.failures.pop(next(iter(self.failures)))
        times = self._recent(key)
        times.append(time.monotonic())
        self.failures[key] = times

    def clear(self, key: tuple[str, str]) -> None:
        self.failures.pop(key, None)


def _failed_signins(request: Request) -> FailedSignins:
    state = request.app.state
    if not hasattr(state, "failed_signins"):
        state.failed_signins = FailedSignins()
    return state.failed_signins


def _next_path(raw: str | None) -> str:
    """Only a path on this node: never `//elsewhere` or an absolute URL."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return ""


def _signin_form(request: Request, *, error: str = "", username: str = "", status: int = 200):
    token = request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "signin.html",
        status_code=status,
        signin_token=token,
        error=error,
        username=username,
        next=_next_path(request.query_params.get("next")),
    )
    set_cookie(request, response, SIGNIN_COOKIE, token, 3600)
    return response


async def signin_page(request: Request) -> Response:
    session = await load_session(request)
    if session is not None:
        return RedirectResponse(_home_of(request, session), 303)
    return _signin_form(request)


def _home_of(request: Request, session: Session) -> str:
    return route_url(request, "pages.admin" if session.member.is_admin else "pages.my")


async def signin(request: Request) -> Response:
    check_origin(request)
    form = await read_form(request)
    if not _same(str(form.get("signin_token", "")), request.cookies.get(SIGNIN_COOKIE, "")):
        raise CsrfFailure("the sign-in form is stale: reload the page and try again")
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))[:1024]
    client = request.client.host if request.client else "?"
    key = (client, username.lower())
    failures = _failed_signins(request)
    if failures.blocked(key):
        raise TooManyRequests(
            "too many failed sign-ins for this username: wait a quarter of an hour",
            headers={"Retry-After": str(int(FAILURE_WINDOW))},
        )
    svc = runtime(request)
    member = await members.verify_password(svc.engine, username, password) if username else None
    if member is None:
        failures.record(key)
        return _signin_form(
            request,
            error=N_("The username or the password is not right, or the account is disabled."),
            username=username,
            status=401,
        )
    failures.clear(key)
    secret, session = await members.start_session(
        svc.engine, member, svc.settings.web.session_hours
    )
    target = _next_path(str(form.get("next", ""))) or _home_of(request, session).removeprefix(
        svc.settings.base_url
    )
    response = RedirectResponse(svc.settings.base_url + target, 303)
    set_cookie(request, response, COOKIE, secret, int(svc.settings.web.session_hours * 3600))
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


@member_page()
async def signout(request: Request, session: Session) -> Response:
    await members.end_session(runtime(request).engine, request.cookies.get(COOKIE, ""))
    response = RedirectResponse(route_url(request, "pages.home"), 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    return response


routes = [
    Route("/signin", signin_page, methods=["GET"], name="pages.signin"),
    Route("/signin", signin, methods=["POST"], name="pages.signin.submit"),
    Route("/signout", signout, methods=["POST"], name="pages.signout"),
]
