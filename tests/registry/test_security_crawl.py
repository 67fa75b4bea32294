"""Collection crawls are bounded: a partner's changes feed whose `next` loops back, or that
never ends, stops the sync with an error instead of crawling forever (PeerTube caps crawls at
2,000 pages; ours is `registry.fediverse.sync.MAX_PAGES`, lowered here so the test is quick)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from registry.fediverse import sync
from registry.fediverse.partners import Partner as PartnerRow
from tests.registry.test_security_helpers import Partner, running_node
from tests.remote_actor import serving


@dataclass
class TrapFeed(Partner):
    """A partner whose changes feed is a trap: `loop` pages point back, or pages never end."""

    trap: str = "endless"
    pages: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        app = super().app()

        async def changes(request: Request) -> JSONResponse:
            since = int(request.query_params.get("since", "0"))
            self.pages.append(str(request.url))
            if self.trap == "self":
                following = since
            elif self.trap == "cycle":
                following = (since + 1) % 3
            else:
                following = since + 1
            page = {
                "type": "OrderedCollectionPage",
                "orderedItems": [],
                "next": f"{self.base}/changes?since={following}",
            }
            return JSONResponse(page, media_type="application/activity+json")

        app.router.routes.append(Route("/changes", changes))
        return app


def row(feed: TrapFeed) -> PartnerRow:
    return PartnerRow(
        id=1,
        actor=feed.actor,
        host=f"127.0.0.1:{feed.port}",
        name=None,
        changes_url=f"{feed.base}/changes",
        catalog_url=f"{feed.base}/catalog",
        checkpoint_seq=0,
        backfilled_at=None,
        last_sync_at=None,
        last_sync_error=None,
        follow_state="accepted",
    )


@pytest.fixture
async def federation(make_app: Callable[..., object]) -> AsyncIterator[object]:
    async with running_node(make_app) as (_, runtime):
        yield runtime.federation


@pytest.mark.parametrize("trap", ["self", "cycle"])
async def test_a_feed_that_loops_stops_the_sync(federation, trap: str) -> None:  # type: ignore[no-untyped-def]
    async with serving(TrapFeed(trap=trap)) as feed:
        with pytest.raises(sync.SyncError, match="loops or never ends"):
            await sync.sync_partner(federation, row(feed))
    assert len(feed.pages) == (1 if trap == "self" else 3)


async def test_an_endless_feed_stops_at_the_page_limit(
    federation, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sync, "MAX_PAGES", 7)
    async with serving(TrapFeed(trap="endless")) as feed:
        with pytest.raises(sync.SyncError, match="loops or never ends"):
            await sync.sync_partner(federation, row(feed))
    assert len(feed.pages) == 7
