"""Pages for a group's members: their group's assets with moderation states, and the form to
create and edit an asset. Validation is the asset service's own; errors come back beside the
inputs they concern, with everything the member typed kept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import desc
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

import vocab
from registry.catalog.store import StoredAsset, select_assets, stored_from_row
from registry.catalog.visibility import checked
from registry.config import INTERFACE_LANGUAGES
from registry.core import db
from registry.core.errors import Forbidden, Unprocessable
from registry.core.schema import LOCAL, assets
from registry.http.auth import runtime
from registry.http.pages.session import member_page
from registry.people.members import Session
from registry.web import countries, forms
from registry.web.public_urls import route_url
from registry.web.render import _, preferred_language, render
from vocab.countries import COUNTRY_CODES


async def group_assets(request: Request, session: Session) -> list[StoredAsset]:
    """The member's group's own assets, newest change first (admins: assets without a group)."""
    query = select_assets().where(assets.c.origin == LOCAL, assets.c.deleted_at.is_(None))
    group_id = session.member.group_id
    query = query.where(
        assets.c.group_id == group_id if group_id is not None else assets.c.group_id.is_(None)
    )
    query = query.order_by(desc(assets.c.updated_at), desc(assets.c.id)).limit(500)
    async with db.read(runtime(request).engine) as conn:
        return [stored_from_row(row) for row in await conn.execute(query)]


@member_page()
async def dashboard(request: Request, session: Session) -> Response:
    return render(
        request,
        "my_assets.html",
        items=await group_assets(request, session),
        saved=request.query_params.get("saved", ""),
        deleted=request.query_params.get("deleted", ""),
        require_approval=runtime(request).settings.moderation.require_approval,
    )


def _form_page(
    request: Request,
    *,
    values: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    asset: StoredAsset | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "asset_form.html",
        status_code=status_code,
        groups=forms.grouped_inputs(forms.form_languages(INTERFACE_LANGUAGES, values)),
        labels={
            **{column: i.label for column, i in forms.INPUTS.items()},
            **{c: forms.language_input(c).label for c in values if c not in forms.INPUTS},
        },
        values=values,
        errors=errors or {},
        asset=asset,
        country_options=countries.picker(sorted(COUNTRY_CODES), preferred_language(request)),
    )


def _invalid(request: Request, problem: Unprocessable, values: dict[str, str], asset: Any):
    errors = forms.errors_by_column(problem.errors or [{"field": "", "message": problem.detail}])
    return _form_page(request, values=values, errors=errors, asset=asset, status_code=422)


def _posted(form: Any) -> dict[str, str]:
    values = {column: str(form.get(column, "")) for column in forms.posted_columns(form)}
    values["visibility"] = str(form.get("visibility", ""))
    return values


def _visibility(values: dict[str, str]) -> str | None:
    """The form's visibility (empty: the group's default), checked by the one rule."""
    chosen = values.pop("visibility", "")
    return checked(chosen) if chosen else None


@member_page()
async def new_asset(request: Request, session: Session) -> Response:
    if request.method == "GET":
        return _form_page(request, values={"status": "active"})
    values = _posted(await request.form())
    svc = runtime(request)
    try:
        visibility = _visibility(dict(values))
        created = await svc.assets.create(
            session.member.principal, forms.to_input(values), visibility=visibility
        )
    except Unprocessable as problem:
        return _invalid(request, problem, values, None)
    return RedirectResponse(route_url(request, "pages.my", {"saved": created.uid}), 303)


@member_page()
async def edit_asset(request: Request, session: Session) -> Response:
    svc = runtime(request)
    uid = request.path_params["uid"]
    principal = session.member.principal
    asset = await svc.assets.get(uid, principal)
    if asset.origin != LOCAL or not principal.may_manage_group(asset.group_id):
        raise Forbidden("only the group that registered this asset may edit it here")
    if request.method == "GET":
        return _form_page(request, values=forms.from_record(_newest(asset)), asset=asset)
    values = _posted(await request.form())
    try:
        visibility = _visibility(dict(values))
        await svc.assets.update(
            principal, uid, forms.to_input(values), partial=False, visibility=visibility
        )
    except Unprocessable as problem:
        return _invalid(request, problem, values, asset)
    return RedirectResponse(route_url(request, "pages.my", {"saved": uid}), 303)


async def _own_asset(request: Request, session: Session) -> StoredAsset:
    svc = runtime(request)
    principal = session.member.principal
    asset = await svc.assets.get(request.path_params["uid"], principal)
    if asset.origin != LOCAL or not principal.may_manage_group(asset.group_id):
        raise Forbidden("only the group that registered this asset may change it here")
    return asset


@member_page()
async def withdraw_asset(request: Request, session: Session) -> Response:
    """Mark an asset closed: it stays listed (and federated) as no longer running."""
    svc = runtime(request)
    asset = await _own_asset(request, session)
    if request.method == "GET":
        lines = [
            _("“%(name)s” will be marked as closed.") % {"name": asset.record.name},
            _("It stays in the catalog and on partner nodes, shown as closed, so that links "
              "to it keep working. You can open it again by editing its status."),
        ]  # fmt: skip
        if svc.settings.moderation.require_approval and not session.member.is_admin:
            lines.append(_("An admin will look at the change before it is public."))
        return render(
            request,
            "confirm.html",
            title=_("Withdraw %(name)s?") % {"name": asset.record.name},
            lines=lines,
            action=route_url(request, "pages.my.withdraw", uid=asset.uid),
            button=_("Withdraw it"),
            cancel=route_url(request, "pages.my"),
            danger=False,
        )
    await svc.assets.update(session.member.principal, asset.uid, {"status": "closed"}, partial=True)
    return RedirectResponse(route_url(request, "pages.my", {"saved": asset.uid}), 303)


@member_page()
async def delete_asset(request: Request, session: Session) -> Response:
    """Delete an asset: a tombstone here and on every partner; it cannot be undone."""
    svc = runtime(request)
    asset = await _own_asset(request, session)
    if request.method == "GET":
        return render(
            request,
            "confirm.html",
            title=_("Delete %(name)s?") % {"name": asset.record.name},
            lines=[
                _(
                    "“%(name)s” will be removed from this registry and from the partner nodes "
                    "and fediverse servers that hold a copy. Its address will say it was deleted."
                )
                % {"name": asset.record.name},
                _("This cannot be undone. To show that it no longer runs, withdraw it instead."),
            ],
            action=route_url(request, "pages.my.delete", uid=asset.uid),
            button=_("Delete it for good"),
            cancel=route_url(request, "pages.my"),
            danger=True,
        )
    await svc.assets.delete(session.member.principal, asset.uid)
    return RedirectResponse(route_url(request, "pages.my", {"deleted": asset.record.name}), 303)


def _newest(asset: StoredAsset) -> Any:
    """What the member last submitted: a change waiting for approval wins over the public one."""
    if asset.pending is not None:
        record, _ = vocab.read_asset_document(asset.pending)
        return record
    return asset.record


routes = [
    Route("/my", dashboard, methods=["GET"], name="pages.my"),
    Route("/my/assets/new", new_asset, methods=["GET", "POST"], name="pages.my.new"),
    Route("/my/assets/{uid}/edit", edit_asset, methods=["GET", "POST"], name="pages.my.edit"),
    Route(
        "/my/assets/{uid}/withdraw",
        withdraw_asset,
        methods=["GET", "POST"],
        name="pages.my.withdraw",
    ),
    Route("/my/assets/{uid}/delete", delete_asset, methods=["GET", "POST"], name="pages.my.delete"),
]
