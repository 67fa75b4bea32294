"""A backfill's page goes whole to a check worker, which parses and reads it as well
(registry.fediverse.check_worker.examine_page): what it takes and refuses, the deletions,
moves and sequence numbers it reads, must be exactly what the syncing process reads of the
same page. The worker learns the next page from the Link header, which must name the page's
own `next`.

Real parts: spawned worker processes, partners serving their actors and keys on 127.0.0.1,
the node's own actor directory."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import orjson
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from federation import keys
from registry.core import db
from registry.core.schema import assets
from registry.fediverse import sync
from registry.fediverse.copy_checks import CheckPool, CopyChecker
from registry.fediverse.feed_pages import CheckedPage, check_page, check_page_text
from registry.fediverse.page_items import next_link, page_parts
from registry.fediverse.partners import Partner as PartnerRow
from registry.runtime import Runtime
from tests.registry.test_copy_checks import signed
from tests.registry.test_security_helpers import Partner, make_partner, running_node
from tests.remote_actor import serving


@pytest.fixture
async def checker(victims_mirror: Runtime, victim: Partner) -> AsyncIterator[CopyChecker]:
    """A checker of the victim's pages whose one worker process is up."""
    made = CopyChecker(victims_mirror.federation.directory, host(victim), CheckPool(1))
    made.pool.start()
    assert made.pool.warming is not None
    await made.pool.warming
    try:
        yield made
    finally:
        made.pool.close()


def host(partner: Partner) -> str:
    return f"127.0.0.1:{partner.port}"


def feed_page(
    victim: Partner,
    attacker: Partner,
    prefix: str,
    next_url: str | None,
    *,
    moved: bool = True,
    first_seq: int = 99,
) -> bytes:
    """A changes-feed page as a partner serves it, the context given once for all its
    documents: valid copies with a forged one, one signed with another host's key and one
    that is no asset among them, a deletion naming where its asset moved, an item that is no
    object, and a horizon."""
    documents = [signed(victim, f"{prefix}{n}") for n in range(30)]
    forged = signed(victim, f"{prefix}-forged")
    forged["name"] = "Changed after signing"
    not_an_asset = signed(victim, f"{prefix}-kindless")
    del not_an_asset["name"]
    documents[3:3] = [forged, signed(victim, f"{prefix}-wrong", attacker), not_an_asset]
    context = documents[0]["@context"]
    items: list[object] = [
        {"type": "Update", "commons:seq": first_seq + 1 + n, "object": without_context(d, context)}
        for n, d in enumerate(documents)
    ]
    tombstone = {
        "id": f"{victim.base}/assets/{prefix}-old",
        "type": "Tombstone",
        "deleted": "2026-12-01T10:00:00Z",
    }
    if moved:
        tombstone["movedTo"] = f"https://elsewhere.example/assets/{prefix}-new"
    items += [{"type": "Delete", "commons:seq": first_seq, "object": tombstone}, "not an object"]
    page = {
        "@context": context,
        "type": "OrderedCollectionPage",
        "orderedItems": items,
        "commons:horizon": 7,
    }
    if next_url is not None:
        page["next"] = next_url
    return orjson.dumps(page)


@dataclass
class FeedPartner(Partner):
    """A partner serving a changes feed: `pages` by `since`, each with its next page named
    in a Link header as our nodes name it, or `link` instead where it is set."""

    pages: dict[int, tuple[bytes, str | None]] = field(default_factory=dict)
    link: dict[int, str] = field(default_factory=dict)

    def app(self) -> Starlette:
        app = super().app()

        async def changes(request: Request) -> Response:
            since = int(request.query_params.get("since", "0"))
            if since not in self.pages:
                return Response(status_code=404)
            body, next_url = self.pages[since]
            link = self.link.get(since, next_url)
            headers = {"Link": f'<{link}>; rel="next"'} if link else {}
            return Response(body, media_type="application/activity+json", headers=headers)

        app.router.routes.append(Route("/changes", changes))
        return app

    def feed(self, attacker: Partner, count: int) -> None:
        """`count` pages of `feed_page`; the first item of page n is numbered n * 200 + 99."""
        since = 0
        for n in range(count):
            last = n * 200 + 132
            next_url = f"{self.base}/changes?since={last}" if n < count - 1 else None
            body = feed_page(self, attacker, f"f{n}-", next_url, moved=False, first_seq=last - 33)
            self.pages[since] = (body, next_url)
            since = last


async def sync_with_workers(runtime: Runtime, feed: FeedPartner) -> sync.SyncReport:
    """`sync_partner` of the feed with a check worker that is up from the first page."""
    await make_partner(runtime, feed)
    pool = CheckPool(1)
    pool.start()
    assert pool.warming is not None
    await pool.warming
    try:
        return await sync.sync_partner(runtime.federation, partner_row(feed), pool=pool)
    finally:
        pool.close()


async def test_a_sync_sends_each_page_with_a_next_link_whole_to_the_workers(
    make_app: Callable[..., object], attacker: Partner
) -> None:
    async with (
        running_node(make_app) as (_http, runtime),
        serving(FeedPartner(name="feed")) as feed,
    ):
        feed.feed(attacker, 3)
        report = await sync_with_workers(runtime, feed)
        async with db.read(runtime.engine) as conn:
            held = await conn.scalar(
                select(func.count()).where(
                    assets.c.origin == host(feed), assets.c.deleted_at.is_(None)
                )
            )
    assert (report.pages, report.pages_read_by_workers) == (3, 2)  # the last has no next
    assert report.created == held == 90 and report.refused == 12
    assert report.checkpoint == 2 * 200 + 132


async def test_a_link_header_that_is_not_the_pages_next_stops_the_sync(
    make_app: Callable[..., object], attacker: Partner
) -> None:
    """A partner whose Link header and page disagree on the next page: the pages before are
    stored, and the sync stops there, saying why."""
    async with (
        running_node(make_app) as (_http, runtime),
        serving(FeedPartner(name="liar")) as feed,
    ):
        feed.feed(attacker, 3)
        feed.link[132] = f"{feed.base}/changes?since=999"  # the second page's
        with pytest.raises(sync.SyncError, match="Link header names"):
            await sync_with_workers(runtime, feed)
        async with db.read(runtime.engine) as conn:
            held = await conn.scalar(
                select(func.count()).where(
                    assets.c.origin == host(feed), assets.c.deleted_at.is_(None)
                )
            )
    assert held == 30


def without_context(document: dict, context: object) -> dict:
    assert document["@context"] == context
    return {name: value for name, value in document.items() if name != "@context"}


def partner_row(victim: Partner) -> PartnerRow:
    """The partner as a sync holds it (a page's reading needs only its host)."""
    base = victim.base
    return PartnerRow(
        1,
        victim.actor,
        host(victim),
        None,
        f"{base}/changes",
        f"{base}/catalog",
        0,
        None,
        None,
        None,
        "accepted",
    )


async def read_here(checker: CopyChecker, victim: Partner, body: bytes, url: str) -> CheckedPage:
    """The page as the syncing process reads and checks it itself."""
    here = CopyChecker(checker.directory, checker.from_host, CheckPool(0))
    page = orjson.loads(body)
    items, _next = page_parts(page, url)
    return await (await check_page(here, partner_row(victim), page, items)).checked


async def test_a_worker_reads_a_whole_page_as_the_syncing_process_would(
    checker: CopyChecker, victim: Partner, attacker: Partner
) -> None:
    url, next_url = f"{victim.base}/changes?since=0", f"{victim.base}/changes?since=132"
    body = feed_page(victim, attacker, "p", next_url)
    await checker._raw_key(victim.proof_key_id)  # as after the first page
    in_worker = await check_page_text(checker, partner_row(victim), body, url, next_url).checked
    expected = await read_here(checker, victim, body, url)
    assert in_worker == expected
    assert len(in_worker.copies) == 30 and all(c.proof_checked for c in in_worker.copies)
    assert [c.record for c in in_worker.copies] == [c.record for c in expected.copies]
    assert len(in_worker.refusals) == 4  # three documents, one item
    assert in_worker.last_seq == 132 and in_worker.horizon == 7
    assert in_worker.moves == [
        (f"{victim.base}/assets/p-old", "https://elsewhere.example/assets/p-new")
    ]
    assert [iri for iri, _when in in_worker.deletions] == [f"{victim.base}/assets/p-old"]


async def test_documents_whose_key_the_worker_lacks_are_checked_here_and_the_key_kept(
    checker: CopyChecker, victim: Partner, attacker: Partner
) -> None:
    """The first page sent whole: no key is known yet. Its documents come back, are checked
    here (the key fetched), and the next page's go with the key."""
    url, next_url = f"{victim.base}/changes?since=0", f"{victim.base}/changes?since=132"
    body = feed_page(victim, attacker, "k", next_url)
    assert checker.raw_keys == {}
    first = await check_page_text(checker, partner_row(victim), body, url, next_url).checked
    assert first == await read_here(checker, victim, body, url)
    assert checker.raw_keys[victim.proof_key_id] == victim.ed_key.public_key().public_bytes_raw()


async def test_a_rotated_key_is_fetched_again_for_a_whole_page(
    checker: CopyChecker, victim: Partner, attacker: Partner
) -> None:
    url = f"{victim.base}/changes?since=0"
    await checker._raw_key(victim.proof_key_id)
    victim.ed_key = keys.generate_ed25519_key()  # the origin rotates its proof key
    next_url = f"{victim.base}/changes?since=132"
    body = feed_page(victim, attacker, "r", next_url)
    checked = await check_page_text(checker, partner_row(victim), body, url, next_url).checked
    assert len(checked.copies) == 30 and len(checked.refusals) == 4
    assert checker.raw_keys[victim.proof_key_id] == victim.ed_key.public_key().public_bytes_raw()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"type": "OrderedCollectionPage", "orderedItems": [], "next": "X"}', "Link header"),
        (b'{"type": "OrderedCollectionPage", "orderedItems": {}, "next": "N"}', "not a list"),
        (b'["a page?"]', "not a collection page"),
        (b'{"orderedItems": [', "invalid JSON"),
        (b"[" * 200 + b"]" * 200, "deeper"),
    ],
)
async def test_a_page_the_worker_cannot_read_stops_the_sync_with_a_reason(
    checker: CopyChecker, victim: Partner, body: bytes, error: str
) -> None:
    url = f"{victim.base}/changes?since=0"
    pending = check_page_text(checker, partner_row(victim), body, url, "N")
    with pytest.raises(sync.SyncError, match=error):  # BadPage is one
        await pending.checked


async def test_a_worker_killed_mid_sync_leaves_its_page_to_be_read_here(
    checker: CopyChecker, victim: Partner, attacker: Partner
) -> None:
    url, next_url = f"{victim.base}/changes?since=0", f"{victim.base}/changes?since=132"
    body = feed_page(victim, attacker, "d", next_url)
    for child in multiprocessing.active_children():
        os.kill(child.pid, signal.SIGKILL)
        child.join()
    checked = await check_page_text(checker, partner_row(victim), body, url, next_url).checked
    assert checked == await read_here(checker, victim, body, url)
    assert checker.pool.processes == 0


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ('<https://a.example/changes?since=5>; rel="next"', "https://a.example/changes?since=5"),
        (
            "<https://a.example/p>; rel=prev, <https://a.example/n,1>; rel=next",
            "https://a.example/n,1",
        ),
        ('<https://a.example/n>; title="x"; rel="next last"', "https://a.example/n"),
        ('<https://a.example/p>; rel="prev"', None),
        ("", None),
        (None, None),
        ("rel=next", None),
        ('</changes?since=9>; rel="next"', "https://a.example/changes?since=9"),
    ],
)
def test_the_next_page_is_read_from_a_link_header(header: str | None, target: str | None) -> None:
    assert next_link(header, "https://a.example/changes?since=0") == target
