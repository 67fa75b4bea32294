"""A sync checks one feed page while it writes the one before (registry.fediverse.sync): every
page is still stored, in order, and a page that fails to arrive leaves the pages before it
stored, so the next sync resumes after them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from registry.core import db
from registry.core.schema import assets
from registry.fediverse import sync
from tests.registry.test_security_crawl import row
from tests.registry.test_security_helpers import Partner, running_node
from tests.remote_actor import serving

PER_PAGE = 20


@dataclass
class PagedFeed(Partner):
    """A partner whose changes feed lists `pages` pages of assets; `broken` answers 500."""

    pages: int = 3
    broken: int | None = None
    asked: list[int] = field(default_factory=list)

    def app(self) -> Starlette:
        app = super().app()

        async def changes(request: Request) -> JSONResponse:
            page = int(request.query_params.get("since", "0")) // PER_PAGE
            self.asked.append(page)
            if page == self.broken:
                return JSONResponse({"error": "down"}, status_code=500)
            items = []
            for n in range(page * PER_PAGE, (page + 1) * PER_PAGE):
                asset = self.asset(f"a{n}", name=f"Garden {n}")
                items.append({"type": "Create", "commons:seq": n + 1, "object": asset})
            body = {"type": "OrderedCollectionPage", "orderedItems": items}
            if page + 1 < self.pages:
                body["next"] = f"{self.base}/changes?since={(page + 1) * PER_PAGE}"
            return JSONResponse(body, media_type="application/activity+json")

        app.router.routes.append(Route("/changes", changes))
        return app


@pytest.fixture
async def federation(make_app: Callable[..., object]) -> AsyncIterator[object]:
    async with running_node(make_app) as (_, runtime):
        yield runtime.federation


async def names(federation) -> list[str]:  # type: ignore[no-untyped-def]
    async with db.read(federation.engine) as conn:
        return sorted((await conn.execute(select(assets.c.name))).scalars())


async def test_every_page_is_stored_and_counted(federation) -> None:  # type: ignore[no-untyped-def]
    shown: list[int] = []
    async with serving(PagedFeed(pages=4)) as feed:
        report = await sync.sync_partner(
            federation, row(feed), progress=lambda r: shown.append(r.pages)
        )
    assert (report.pages, report.created, report.refused) == (4, 4 * PER_PAGE, 0)
    assert report.checkpoint == 4 * PER_PAGE
    assert shown == [1, 2, 3, 4]  # progress after each page is written, in order
    assert await names(federation) == sorted(f"Garden {n}" for n in range(4 * PER_PAGE))


async def test_a_page_that_fails_leaves_the_pages_before_it_stored(federation) -> None:  # type: ignore[no-untyped-def]
    async with serving(PagedFeed(pages=4, broken=2)) as feed:
        with pytest.raises(sync.SyncError, match="HTTP 500"):
            await sync.sync_partner(federation, row(feed))
        assert feed.asked == [0, 1, 2]
    # Page 1 was being written while page 2 was fetched and failed: it is kept, not lost.
    assert await names(federation) == sorted(f"Garden {n}" for n in range(2 * PER_PAGE))
