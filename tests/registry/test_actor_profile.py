"""The node actor as a profile: stable `published`, `featured` and `featuredTags` that answer,
an icon, PropertyValue fields from the configuration, `alsoKnownAs`; WebFinger gives the same
acct: subject and aliases whichever resource names the actor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

import vocab
from registry.runtime import Runtime
from tests.conftest import BASE_URL, FEDERATION_DEV
from tests.jsonld_checks import blank_predicates
from tests.registry.test_assets_api import GARDEN, create

AS_JSON = {"Accept": "application/activity+json"}
NODE = {
    "operator": "Ajuntament <de> Barcelona",
    "contact_email": "commons@bcn.example",
    "website": "https://bcn.example/commons",
}


@pytest.fixture
async def profiled(make_app: Callable[..., object]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(
        node=NODE, federation={**FEDERATION_DEV, "also_known_as": ["https://old.example/actor"]}
    )
    runtime: Runtime = app.state.runtime  # type: ignore[attr-defined]
    await runtime.start_federation(run_workers=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url=BASE_URL,
        ) as http:
            yield http
    finally:
        await runtime.stop_federation()


async def _actor(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/actor", headers=AS_JSON)
    assert response.status_code == 200
    return response.json()


async def test_the_actor_is_a_complete_profile(profiled: httpx.AsyncClient) -> None:
    first = await _actor(profiled)
    assert first["published"] == (await _actor(profiled))["published"]  # stable across fetches
    assert first["alsoKnownAs"] == ["https://old.example/actor"]
    icon = first["icon"]
    assert icon["type"] == "Image" and icon["mediaType"] == "image/png"
    shipped = await profiled.get(icon["url"].removeprefix(BASE_URL))
    assert shipped.status_code == 200 and shipped.content.startswith(b"\x89PNG")
    fields = {f["name"]: f["value"] for f in first["attachment"]}
    assert all(f["type"] == "PropertyValue" for f in first["attachment"])
    assert fields == {
        "Operator": "Ajuntament &lt;de&gt; Barcelona",
        "Contact": '<a href="mailto:commons@bcn.example">commons@bcn.example</a>',
        "Website": '<a href="https://bcn.example/commons" rel="me nofollow noopener noreferrer">'
        "bcn.example/commons</a>",
    }
    # every term is defined: nothing expands to a blank-node predicate
    assert blank_predicates(vocab.expand(first)) == []


async def test_featured_collections_answer(
    profiled: httpx.AsyncClient, engine: Any, group_token: str
) -> None:
    actor = await _actor(profiled)
    featured = (
        await profiled.get(actor["featured"].removeprefix(BASE_URL), headers=AS_JSON)
    ).json()
    assert featured["type"] == "OrderedCollection" and featured["orderedItems"] == []
    assert featured["id"] == actor["featured"]
    await create(profiled, group_token, {**GARDEN, "tags": ["garden", "2024", "open-data"]})
    await create(profiled, group_token, {**GARDEN, "name": "Another", "tags": ["garden"]})
    tags_url = actor["featuredTags"].removeprefix(BASE_URL)
    tags = (await profiled.get(tags_url, headers=AS_JSON)).json()
    assert tags["type"] == "Collection" and tags["id"] == actor["featuredTags"]
    names = [t["name"] for t in tags["items"]]
    assert names[0] == "#garden" and "#opendata" in names  # most used first; "2024" is no hashtag
    assert all(t["type"] == "Hashtag" and t["href"].startswith(BASE_URL) for t in tags["items"])
    assert blank_predicates(vocab.expand(tags)) == []


@pytest.mark.parametrize(
    "resource",
    [
        "acct:registry@registry.test",
        "registry@registry.test",
        f"{BASE_URL}/actor",
        f"{BASE_URL}/",
        BASE_URL,
    ],
)
async def test_webfinger_answers_the_same_whichever_resource(
    profiled: httpx.AsyncClient, resource: str
) -> None:
    response = await profiled.get("/.well-known/webfinger", params={"resource": resource})
    assert response.status_code == 200, response.text
    jrd = response.json()
    assert jrd["subject"] == "acct:registry@registry.test"
    assert jrd["aliases"] == [f"{BASE_URL}/actor", f"{BASE_URL}/"]
    assert {"rel": "self", "type": "application/activity+json", "href": f"{BASE_URL}/actor"} in (
        jrd["links"]
    )
