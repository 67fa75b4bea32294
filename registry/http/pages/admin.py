"""Pages for the node's admins: the moderation queue, partners, followers, domain blocks and
tokens. Each page is a list with small forms; each form posts back to its page, which
redirects (so a reload never repeats an action) with a short notice of what was done."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

import vocab
from registry.catalog.moderation_queue import moderation_queue
from registry.core import db
from registry.core.errors import Problem, ServiceUnavailable, Unprocessable
from registry.fediverse import blocks, following, partners
from registry.http.auth import runtime
from registry.http.pages.session import member_page
from registry.people import accounts
from registry.people.members import Session, list_members
from registry.web import messages
from registry.web.confirm import confirm_page, confirmed
from registry.web.diff import changes
from registry.web.i18n import N_
from registry.web.public_urls import route_url
from registry.web.render import _, render

# What a redirect's ?done= may say; only these keys are shown, never text from the URL.
NOTICES = {
    "approved": N_("The asset is approved and public."),
    "rejected": N_("The asset is rejected; its group sees the reason."),
    "partner-added": N_("The partner is added; mirroring starts when it accepts our follow."),
    "partner-removed": N_("The partner is removed."),
    "sync-requested": N_("A sync is requested; the worker pulls at its next round."),
    "follower-approve": N_("The follower is approved."),
    "follower-reject": N_("The follow request is rejected."),
    "follower-remove": N_("The follower is removed."),
    "blocked": N_("The domain is blocked."),
    "unblocked": N_("The domain is unblocked."),
    "revoked": N_("The token is revoked."),
}


def _back(request: Request, page: str, done: str) -> Response:
    return RedirectResponse(route_url(request, page, {"done": done}), 303)


def _notice(request: Request) -> str:
    return NOTICES.get(request.query_params.get("done", ""), "")


def _field(form, name: str, limit: int = 2000) -> str:  # type: ignore[no-untyped-def]
    return str(form.get(name, "")).strip()[:limit]


@member_page(admin=True)
async def queue(request: Request, session: Session) -> Response:
    return await _queue_page(request)


async def _queue_page(request: Request, error: tuple[str, str] | None = None) -> Response:
    items = []
    for asset in await moderation_queue(runtime(request).engine):
        # A published asset with a change waiting: show the change, which is what is decided,
        # and what it changes in the public version.
        if asset.pending is not None:
            proposed = vocab.read_asset_document(asset.pending)[0]
            items.append((asset, proposed, changes(asset.record, proposed)))
        else:
            items.append((asset, asset.record, None))
    return render(
        request,
        "admin_queue.html",
        status_code=422 if error else 200,
        items=items,
        notice=_notice(request),
        error=error,
    )


@member_page(admin=True)
async def decide(request: Request, session: Session) -> Response:
    form = await request.form()
    action = _field(form, "action")
    if action not in ("approve", "reject"):
        raise Unprocessable("action: approve or reject")
    reason = _field(form, "reason") or None
    if action == "reject" and not reason:
        return await _queue_page(
            request,
            error=(request.path_params["uid"], _("Say why, so that the group can fix it.")),
        )
    await runtime(request).assets.moderate(
        session.member.principal,
        request.path_params["uid"],
        approve=action == "approve",
        reason=reason,
    )
    return _back(request, "pages.admin", "approved" if action == "approve" else "rejected")


def _federation(request: Request):  # type: ignore[no-untyped-def]
    federation = runtime(request).federation
    if federation is None:
        raise ServiceUnavailable("federation is not running in this process")
    return federation


@member_page(admin=True)
async def partners_page(request: Request, session: Session) -> Response:
    error, technical = "", ""
    if request.method == "POST":
        form = await request.form()
        action, target = _field(form, "action"), _field(form, "target")
        if action == "remove" and not confirmed(form):
            return confirm_page(
                request,
                form,
                "pages.admin.partners",
                title=_("Remove the partner %(target)s?") % {"target": target},
                lines=[
                    _(
                        "We stop following it and stop mirroring its assets; the copies held "
                        "here are kept until their origin deletes them."
                    ),
                ],
                button=_("Remove the partner"),
            )
        try:
            if not target:
                raise Unprocessable("say which node: its URL, its actor URL or @handle@host")
            if action == "add":
                await partners.add(_federation(request), target)
                return _back(request, "pages.admin.partners", "partner-added")
            if action == "remove":
                await partners.remove(_federation(request), target)
                return _back(request, "pages.admin.partners", "partner-removed")
            if action == "sync":
                return await _sync(request, target)
            raise Unprocessable("action: add, remove or sync")
        except Problem as problem:  # show it on the page, beside the form
            error, technical = messages.human(problem.detail or problem.title)
    items = await partners.list_partners(runtime(request).engine)
    return render(
        request,
        "admin_partners.html",
        status_code=422 if error else 200,
        items=items,
        error=error,
        technical=technical,
        notice=_notice(request),
    )


async def _sync(request: Request, target: str) -> Response:
    engine = runtime(request).engine
    chosen = (
        await partners.list_partners(engine)
        if target == "all"
        else [await partners.find(engine, target)]
    )
    async with db.write(engine) as conn:
        for partner in chosen:
            await partners.request_sync(conn, partner.actor)
    return _back(request, "pages.admin.partners", "sync-requested")


@member_page(admin=True)
async def followers_page(request: Request, session: Session) -> Response:
    if request.method == "POST":
        form = await request.form()
        action = _field(form, "action")
        if action not in ("approve", "reject", "remove"):
            raise Unprocessable("action: approve, reject or remove")
        if action != "approve" and not confirmed(form):
            who = _field(form, "actor")
            return confirm_page(
                request,
                form,
                "pages.admin.followers",
                title=(
                    _("Remove the follower %(who)s?")
                    if action == "remove"
                    else _("Refuse the follow request of %(who)s?")
                )
                % {"who": who},
                lines=[_("They no longer receive this registry's posts. They may ask again.")],
                button=_("Remove") if action == "remove" else _("Refuse"),
            )
        await following.decide(_federation(request), _field(form, "actor"), action)
        return _back(request, "pages.admin.followers", f"follower-{action}")
    rows = await following.followers(_federation(request))
    return render(request, "admin_followers.html", items=rows, notice=_notice(request))


@member_page(admin=True)
async def blocks_page(request: Request, session: Session) -> Response:
    engine = runtime(request).engine
    error, entered = "", {"domain": "", "reason": ""}
    if request.method == "POST":
        form = await request.form()
        action, domain = _field(form, "action"), _field(form, "domain", 255)
        by = session.member.principal.describe()
        if action == "block" and domain and not confirmed(form):
            return confirm_page(
                request,
                form,
                "pages.admin.blocks",
                title=_("Block %(domain)s?") % {"domain": domain},
                lines=[
                    _(
                        "Nothing from %(domain)s will be accepted: its activities, its follows "
                        "and its fetches. Its followers of this registry are removed."
                    )
                    % {"domain": domain},
                ],
                button=_("Block the domain"),
            )
        try:
            if action == "block":
                entered = {"domain": domain, "reason": _field(form, "reason")}
                await blocks.block_domain(engine, domain, reason=entered["reason"], by=by)
                return _back(request, "pages.admin.blocks", "blocked")
            if action == "unblock":
                await blocks.unblock_domain(engine, domain, by=by)
                return _back(request, "pages.admin.blocks", "unblocked")
            raise Unprocessable("action: block or unblock")
        except Problem as problem:
            error = problem.detail
    return render(
        request,
        "admin_blocks.html",
        status_code=422 if error else 200,
        items=await blocks.list_domain_blocks(engine),
        error=error,
        entered=entered,
        notice=_notice(request),
    )


@member_page(admin=True)
async def tokens_page(request: Request, session: Session) -> Response:
    engine = runtime(request).engine
    principal = session.member.principal
    error, new_token = "", None
    if request.method == "POST":
        form = await request.form()
        action = _field(form, "action")
        try:
            if action == "create":
                scope = _field(form, "scope")
                info, token = await accounts.issue_token(
                    engine,
                    principal,
                    group_slug=None if scope == "admin" else scope,
                    admin=scope == "admin",
                    label=_field(form, "label", 200),
                )
                new_token = (info, token)  # shown on this response only, never again
            elif action == "revoke":
                token_id = _field(form, "id")
                if not token_id.isdigit():
                    raise Unprocessable("id: the number of a token")
                if not confirmed(form):
                    return confirm_page(
                        request,
                        form,
                        "pages.admin.tokens",
                        title=_("Revoke token %(id)s?") % {"id": token_id},
                        lines=[
                            _(
                                "Every program that uses this token is refused from now on. "
                                "A revoked token cannot be brought back; create a new one."
                            ),
                        ],
                        button=_("Revoke the token"),
                    )
                await accounts.revoke_token(engine, principal, int(token_id))
                return _back(request, "pages.admin.tokens", "revoked")
            else:
                raise Unprocessable("action: create or revoke")
        except Problem as problem:
            error = problem.detail
    response = render(
        request,
        "admin_tokens.html",
        status_code=422 if error else 200,
        items=await accounts.list_tokens(engine, principal),
        groups=await accounts.list_groups(engine),
        members=await list_members(engine),
        new_token=new_token,
        error=error,
        notice=_notice(request),
    )
    return response


routes = [
    Route("/admin", queue, methods=["GET"], name="pages.admin"),
    Route("/admin/moderation/{uid}", decide, methods=["POST"], name="pages.admin.decide"),
    Route("/admin/partners", partners_page, methods=["GET", "POST"], name="pages.admin.partners"),
    Route(
        "/admin/followers", followers_page, methods=["GET", "POST"], name="pages.admin.followers"
    ),
    Route("/admin/domain-blocks", blocks_page, methods=["GET", "POST"], name="pages.admin.blocks"),
    Route("/admin/tokens", tokens_page, methods=["GET", "POST"], name="pages.admin.tokens"),
]
