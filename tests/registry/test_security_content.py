"""What partners send is data, never markup or instructions: HTML in names, summaries and
content is reduced to text and shown escaped; an `@context` off the bundled list is refused
without being fetched; look-alike (homoglyph) hosts are not the partner, while every spelling
of the partner's real host is; allowlist mode takes activities from partners only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from federation.hosts import host_of
from federation.tables import inbox_items
from tests.registry.test_security_helpers import (
    BASE,
    Partner,
    assert_problem,
    count,
    make_partner,
    process,
    running_node,
    stored_asset,
)
from tests.remote_actor import serving

AS = "https://www.w3.org/ns/activitystreams"
HOSTILE_NAME = '<img src=x onerror="alert(1)">Garden'
HOSTILE_SUMMARY = (
    '<p>Plots<script>alert(2)</script> <a href="javascript:alert(3)" onclick="alert(4)">x</a></p>'
)
HOSTILE_CONTENT = '<p>Open <b onmouseover="alert(5)">daily</b></p><style>*{}</style>'


@pytest.fixture
async def partner() -> AsyncIterator[Partner]:
    async with serving(Partner()) as remote:
        yield remote


async def send(http: httpx.AsyncClient, sender: Partner, activity: dict) -> httpx.Response:
    return await http.post(
        "/inbox",
        json=activity,
        auth=sender.auth(),
        headers={"Content-Type": "application/activity+json"},
    )


async def test_partner_html_is_reduced_to_text_and_shown_escaped(
    make_app: Callable[..., object], partner: Partner
) -> None:
    async with running_node(make_app) as (http, runtime):
        await make_partner(runtime, partner)
        # HTML in AS2 `summary` and `content`, as other software (and our older documents)
        # carry the summary and the description
        document = {
            k: v
            for k, v in partner.asset("h1").items()
            if k not in ("abstract", "description", "contentMap")
        }
        document.update(name=HOSTILE_NAME, summary=HOSTILE_SUMMARY, content=HOSTILE_CONTENT)
        assert (await send(http, partner, partner.activity("Create", document))).status_code == 202
        await process(runtime)
        row = await stored_asset(runtime.engine, document["id"])
        assert row is not None
        record = (await http.get(f"/api/assets/{row.uid}")).json()
        assert record["summary"] == "Plots x"  # tags and script text gone
        assert record["description"] == "Open daily"
        assert record["name"] == HOSTILE_NAME  # a plain-text field: kept, shown as text
        pages = [
            (await http.get(f"/mirror/{row.uid}", headers={"Accept": "text/html"})).text,
            (await http.get("/search", params={"q": "garden"})).text,
        ]
        for page in pages:
            assert "Garden" in page
            for bad in ("<script>alert", "<img", 'onerror="', 'onclick="', "javascript:"):
                assert bad not in page
        assert "&lt;img src=x onerror=" in pages[0]


async def test_context_off_the_bundled_list_is_refused_without_a_fetch(
    make_app: Callable[..., object], partner: Partner
) -> None:
    async with running_node(make_app) as (http, runtime):
        await make_partner(runtime, partner)
        document = partner.asset("c1")
        context_url = f"{partner.base}/assets/evil-context"
        document["@context"] = [AS, context_url]
        activity = partner.activity("Create", document)
        assert (await send(http, partner, activity)).status_code == 202
        await process(runtime)
        assert partner.fetched == []  # never dereferenced
        assert await stored_asset(runtime.engine, document["id"]) is None
        assert await count(runtime.engine, inbox_items, inbox_items.c.state == "ignored") == 1


async def test_homoglyph_and_idn_hosts_against_partners_and_blocks(
    make_app: Callable[..., object],
) -> None:
    async with running_node(
        make_app,
        mirror={"partners": ["https://example.org"], "partners_only": True},
        federation={"blocked_domains": ["bücher.example"]},
    ) as (_, runtime):
        fed = runtime.federation
    assert fed is not None
    partner_spellings = [
        "https://example.org/a",
        "https://EXAMPLE.org./a",
        "https://example.org:443/a",
        "https://ｅｘａｍｐｌｅ.org/a",  # full-width letters fold as browsers fold them
    ]
    for iri in partner_spellings:
        assert fed.is_partner(host_of(iri)) and not fed.blocked(host_of(iri)), iri
    look_alikes = [
        "https://еxample.org/a",  # Cyrillic е
        "https://exampIe.org/a",  # capital I for l
        "https://example.org.evil.test/a",
        "https://xn--xample-2of.org/a",  # the punycode of the Cyrillic one
    ]
    for iri in look_alikes:
        assert not fed.is_partner(host_of(iri)) and fed.blocked(host_of(iri)), iri
    # A blocked IDN domain is blocked in every spelling, and its subdomains with it.
    for iri in (
        "https://BÜCHER.example/a",
        "https://xn--bcher-kva.example/a",
        "https://shop.bücher.example/a",
    ):
        assert fed.blocked(host_of(iri)), iri


async def test_allowlist_mode_takes_activities_from_partners_only(
    make_app: Callable[..., object], partner: Partner
) -> None:
    async with (
        serving(Partner(name="stranger")) as stranger,
        running_node(make_app, mirror={"partners": [partner.base], "partners_only": True}) as (
            http,
            runtime,
        ),
    ):
        refused = await send(http, stranger, stranger.activity("Follow", f"{BASE}/actor"))
        assert_problem(refused, 403, "not accepted here")
        homoglyph = partner.activity("Follow", f"{BASE}/actor")
        homoglyph["actor"] = homoglyph["actor"].replace("127.0.0.1", "127.0.0.1.evil.test")
        assert_problem(await send(http, partner, homoglyph), 403, "not accepted here")
        assert await count(runtime.engine, inbox_items) == 0
        accepted = await send(http, partner, partner.activity("Follow", f"{BASE}/actor"))
        assert accepted.status_code == 202
        assert await count(runtime.engine, inbox_items) == 1
