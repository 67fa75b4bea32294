"""A confirmation page before an action that cannot be taken back with one more click.

The admin's form posts as before; without `confirmed=yes` the page answers with what will
happen and the same fields again, hidden, plus `confirmed=yes`. Nothing changes until then."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from registry.web.public_urls import route_url
from registry.web.render import render


def confirmed(form: Any) -> bool:
    return str(form.get("confirmed", "")) == "yes"


def confirm_page(
    request: Request, form: Any, page: str, *, title: str, lines: list[str], button: str
) -> Response:
    """`page` names the route of the admin page the form posts to (`pages.admin.partners`)."""
    hidden = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "confirmed")}
    return render(
        request,
        "confirm.html",
        title=title,
        lines=lines,
        action=route_url(request, page),
        hidden={**hidden, "confirmed": "yes"},
        button=button,
        cancel=route_url(request, page),
        danger=True,
    )
