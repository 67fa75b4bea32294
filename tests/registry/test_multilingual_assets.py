"""An asset in Catalan and Spanish, end to end, on both databases: registered through the API,
found by a Spanish stemmed query, shown in Catalan to a Catalan browser (and said to fall back
to a German one), delivered to a fediverse follower with a contentMap body per language, and
harvested by ckanext-dcat with both language-tagged titles."""

from __future__ import annotations

import asyncio
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import rdflib
from starlette.applications import Starlette

import vocab
from registry.people.accounts import create_admin_token
from registry.runtime import Runtime
from registry.web.i18n import SUPPORTED
from tests.dcat_ap import shacl
from tests.nodes import free_port
from tests.opendata.consumers import ckan_harvest
from tests.registry.test_languages import english_msgids, visible_text
from tests.remote_actor import RemoteActor, follow_node, serving

BASE = "http://registry.test"
CA = "Biblioteca d'eines de Gràcia"
ES = "Biblioteca de herramientas de Gràcia"
ASSET = {
    "name": CA,
    "kind": "tool-library",
    "name_map": {"ca": CA, "es": ES},
    "summary_map": {"ca": "Eines en préstec per al veïnat", "es": "Herramientas en préstamo"},
    "description_map": {"ca": "Trepants i serres.", "es": "Taladros y sierras."},
    "location": {"latitude": 41.40, "longitude": 2.16, "locality": "Barcelona", "country": "ES"},
}
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.timeout(1200),  # the first run builds the ckan venv
]


@dataclass
class Served:
    """The in-process node on a real 127.0.0.1 port, for consumers in other processes."""

    node: Starlette
    port: int

    def app(self) -> Starlette:
        return self.node


def text_of(page: str, tag: str) -> str:
    found = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", page, re.S)
    assert found, f"no <{tag}> in the page"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


async def test_an_asset_in_catalan_and_spanish_end_to_end(
    make_app: Callable[..., Any],
) -> None:
    app = make_app(federation={"allow_private_addresses": True, "allow_http": True})
    runtime: Runtime = app.state.runtime
    await runtime.start_federation(run_workers=False)
    fed = runtime.federation
    assert fed is not None
    async with (
        serving(RemoteActor()) as follower,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http,
    ):
        # a fediverse account follows the node
        await follow_node(http, follower, fed, f"{BASE}/actor")

        admin = {"Authorization": f"Bearer {(await create_admin_token(runtime.engine))[1]}"}
        group = await http.post("/api/groups", json={"name": "Veïns"}, headers=admin)
        token = {"Authorization": f"Bearer {group.json()['token']}"}
        created = await http.post("/api/assets", json=ASSET, headers=token)
        assert created.status_code == 201, created.text
        asset = created.json()
        assert asset["name_map"] == ASSET["name_map"]
        await fed.delivery.run_once()

        # found by a Spanish query whose words are only in the Spanish texts, stemmed
        found = await http.get("/api/assets", params={"q": "herramienta bibliotecas"})
        assert [item["iri"] for item in found.json()["items"]] == [asset["iri"]]

        # shown in Catalan to a Catalan browser, in Spanish to a Spanish one
        for language, name, summary in (
            ("ca", CA, ASSET["summary_map"]["ca"]),
            ("es", ES, ASSET["summary_map"]["es"]),
        ):
            page = await http.get(
                asset["iri"].removeprefix(BASE),
                headers={"Accept": "text/html", "Accept-Language": f"{language},en;q=0.5"},
            )
            assert page.status_code == 200
            assert page.headers["content-language"] == language
            assert text_of(page.text, "h1") == name
            assert f'<h1 lang="{language}">' in page.text
            assert summary in page.text and "not described in" not in page.text
        # a German browser gets the untagged (Catalan) texts, and is told so
        german = await http.get(
            asset["iri"].removeprefix(BASE),
            headers={"Accept": "text/html", "Accept-Language": "de"},
        )
        assert text_of(german.text, "h1") == CA
        notice = re.search(r'<p class="notice" role="status">(.*?)</p>', german.text, re.S)
        assert notice and "Katalanisch" in html.unescape(notice.group(1))

        # the follower's Create carries a body per language
        [create] = [a for a in follower.received if a["type"] == "Create"]
        post = create["object"]
        assert set(post["contentMap"]) == {"ca", "es"}
        assert ES in post["contentMap"]["es"] and CA in post["contentMap"]["ca"]
        assert post["content"] == post["contentMap"]["ca"]
        assert post["nameMap"] == ASSET["name_map"]

        # the CSV export has a column per language, and reads back to the same texts
        exported = (await http.get("/api/assets.csv")).text
        header = exported.splitlines()[0].split(",")
        assert {"name@ca", "name@es", "summary@ca", "description@es"} <= set(header)
        [(_, back)] = list(vocab.read_csv(io.StringIO(exported)))
        assert isinstance(back, vocab.AssetRecord)
        assert dict(back.name_map) == ASSET["name_map"]
        assert dict(back.description_map) == ASSET["description_map"]

        # ckanext-dcat harvests the catalog from a real port: both titles, each portal
        # language's own as the dataset title
        served = Served(app, free_port())
        async with serving(served):  # type: ignore[arg-type]
            url = f"http://127.0.0.1:{served.port}/dcat/catalog.jsonld"
            graph = rdflib.Graph().parse(
                data=(await http.get("/dcat/catalog.jsonld")).text, format="json-ld"
            )
            titles = set(graph.objects(rdflib.URIRef(asset["iri"]), rdflib.DCTERMS.title))
            assert titles == {rdflib.Literal(CA, lang="ca"), rdflib.Literal(ES, lang="es")}
            notes = set(graph.objects(rdflib.URIRef(asset["iri"]), rdflib.DCTERMS.description))
            # the groups' own words per language, and the catalog's English sentence (the
            # asset has no untagged description), said to be English
            assert {n.language for n in notes} == {"ca", "es", "en"}
            assert shacl.check(graph).violations == []  # DCAT-AP 3.0.1 shapes
            for locale, title in (("ca", CA), ("es", ES)):
                harvest = await asyncio.to_thread(ckan_harvest, url, locale)
                [dataset] = harvest["datasets"]
                assert dataset["uri"] == asset["iri"]
                assert dataset["title"] == title
                assert dataset["titles"] == {"ca": CA, "es": ES}
    await runtime.stop_federation()


@pytest.mark.parametrize("lang", [code for code in SUPPORTED if code != "en"])
async def test_the_asset_page_leaves_no_english_behind(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict], lang: str
) -> None:
    """The page of a Catalan and Spanish asset, in every interface language: its texts in
    that language or a notice naming the one shown, and no English string of the catalog."""
    created = await client.post("/api/assets", json=ASSET, headers=auth(group_token))
    page = await client.get(
        created.json()["iri"].removeprefix(BASE),
        headers={"Accept": "text/html", "Accept-Language": lang},
    )
    english = english_msgids(lang)
    left = [text for text in visible_text(page.text) if text in english]
    assert not left, f"{lang}: {left}"
    fell_back = '<p class="notice" role="status">' in page.text
    assert fell_back == (lang not in ("ca", "es"))
