"""Production mode, end to end: three nodes, each behind Debian's nginx terminating TLS with a
certificate from a test CA, reached only by https host names, with no development flag set.
They follow each other, publish, mirror, update, delete and sync through the proxies; a forged
Host or X-Forwarded-Host never shows up in a link; X-Forwarded-For counts only from the proxy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from registry.core import db
from registry.core.schema import LOCAL, assets
from tests.deploy.proxies import Proxy, Site, https_client, nginx_available, production_env
from tests.nodes import Node, eventually

pytestmark = pytest.mark.skipif(
    not nginx_available(), reason="Debian's nginx is not installed (.ci/run installs it)"
)

NAMES = {"A": ("alpha.test", "127.0.19.1"), "B": ("beta.test", "127.0.19.2")}
NAMES["C"] = ("gamma.test", "127.0.19.3")
FORGED = "evil.example"


async def holdings(node: Node, origin: str) -> dict[str, tuple[str, bool]]:
    """iri -> (content hash, deleted) of what `node` holds from `origin` ('local': its own)."""
    engine = db.create_engine(node.database_url)
    try:
        async with db.read(engine) as conn:
            query = select(assets.c.iri, assets.c.content_hash, assets.c.deleted_at)
            rows = await conn.execute(query.where(assets.c.origin == origin))
            return {r.iri: (r.content_hash, r.deleted_at is not None) for r in rows}
    finally:
        await engine.dispose()


def netloc(node: Node) -> str:
    return node.base_url.split("://", 1)[1]


async def mirrors_agree(origin: Node, *others: Node) -> bool:
    """Every other node holds exactly the origin's live assets, tombstones for deleted ones."""
    own = await holdings(origin, LOCAL)
    for other in others:
        if await holdings(other, netloc(origin)) != own:
            return False
    return True


@pytest.fixture
def proxied_nodes(node_factory: Any, tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Three nodes (C on PostgreSQL when the run has one) behind one nginx, started."""
    proxy = Proxy(tmp_path / "nginx")
    sites: dict[str, Site] = {
        key: proxy.add(name, address, upstream_port=0) for key, (name, address) in NAMES.items()
    }
    nodes: dict[str, Node] = {}
    for key, site in sites.items():
        on = request.param if key == "C" else "sqlite"
        extra = [("COMMONS_SERVER_LOG_FORMAT", "json"), ("COMMONS_SERVER_LOG_LEVEL", "info")]
        env = production_env(proxy, site, extra if key == "A" else ())
        node = node_factory(key, on=on, env=env, start=False)
        node.public_url = site.public_url
        site.upstream_port = node.port
        nodes[key] = node
    proxy.start()
    try:
        for node in nodes.values():
            node.start()
        yield proxy, nodes
    finally:
        proxy.stop()


async def api(proxy: Proxy, node: Node, method: str, path: str, token: str, **kw: Any) -> Any:
    async with https_client(proxy, headers={"Authorization": f"Bearer {token}"}) as http:
        response = await http.request(method, node.base_url + path, **kw)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


@pytest.mark.parametrize("proxied_nodes", ["sqlite", "postgresql"], indirect=True)
async def test_three_nodes_behind_tls_proxies_converge(proxied_nodes: Any) -> None:
    proxy, nodes = proxied_nodes
    a, b, c = nodes["A"], nodes["B"], nodes["C"]
    for node in nodes.values():
        for other in nodes.values():
            if other is not node:
                node.cli("partner", "add", other.base_url)
    await eventually(
        lambda: _all_partners_accepted(nodes), timeout=60, what="every follow accepted via TLS"
    )

    token = a.cli("group", "create", "Coop Fabricació").split()[-1]
    body = {
        "name": "Fab Lab Poblenou",
        "kind": "fablab",
        "summary": "Open workshop",
        "location": {"latitude": 41.3965, "longitude": 2.1943, "country": "ES"},
    }
    created = await api(proxy, a, "POST", "/api/assets", token, json=body)
    uid = created["id"]
    await eventually(lambda: mirrors_agree(a, b, c), timeout=60, what="the create mirrored")

    await api(proxy, a, "PATCH", f"/api/assets/{uid}", token, json={"summary": "New"})
    await eventually(lambda: mirrors_agree(a, b, c), timeout=60, what="the update mirrored")
    await api(proxy, a, "DELETE", f"/api/assets/{uid}", token)
    await eventually(lambda: mirrors_agree(a, b, c), timeout=60, what="the delete mirrored")
    assert all(deleted for _, deleted in (await holdings(b, netloc(a))).values())

    # Sync repairs what pushes missed: C is down while B publishes, then pulls on request.
    c.stop()
    b_token = b.cli("group", "create", "Tool library").split()[-1]
    await api(proxy, b, "POST", "/api/assets", b_token, json={**body, "name": "Eines"})
    await eventually(lambda: mirrors_agree(b, a), timeout=60, what="B's asset reached A")
    c.start()
    c.cli("sync")
    await eventually(lambda: mirrors_agree(b, a, c), timeout=60, what="C synced B's asset")
    listing = c.cli("partner", "list")
    assert netloc(b) in listing and "error" not in listing.lower(), listing
    # All of it went through the proxies: signed deliveries and fetches, over TLS.
    access = (proxy.workdir / "access.log").read_text()
    assert "POST /inbox" in access or "POST /actor/inbox" in access
    assert "GET /changes" in access

    # The doctor finds nothing wrong with a node deployed like this (warnings allowed).
    report = a.cli("doctor")
    assert "FAIL" not in report and "OK    actor" in report, report

    await api(proxy, a, "POST", "/api/assets", token, json={**body, "name": "Second"})
    await api(proxy, a, "POST", "/api/assets", token, json={**body, "name": "Third"})
    await no_link_to_a_forged_host(proxy, a)
    await forwarded_for_counts_only_from_the_proxy(proxy, a)


async def _all_partners_accepted(nodes: dict[str, Node]) -> bool:
    for node in nodes.values():
        out = node.cli("following")
        if out.count("accepted") < len(nodes) - 1:
            return False
    return True


def forged_paths(node: Node, uid: str) -> list[tuple[str, dict[str, str]]]:
    ld = {"Accept": "application/activity+json"}
    html = {"Accept": "text/html"}
    handle = f"acct:registry@{netloc(node)}"
    return [
        ("/", html),
        ("/search?q=fab&limit=1", html),
        (f"/assets/{uid}", html),
        (f"/assets/{uid}", ld),
        (f"/assets/{uid}.geojson", {}),
        ("/api/assets?limit=1", {}),
        ("/api/assets.geojson?limit=1", {}),
        ("/api/assets.csv", {}),
        ("/dcat/catalog.jsonld?limit=1", {}),
        ("/catalog", ld),
        ("/changes?since=0", ld),
        ("/actor", ld),
        ("/actor/outbox", ld),
        ("/actor/outbox?page=true", ld),
        ("/actor/followers", ld),
        (f"/.well-known/webfinger?resource={handle}", {}),
        ("/.well-known/nodeinfo", {}),
        ("/.well-known/host-meta", {}),
        ("/nodeinfo/2.1", {}),
        ("/api/openapi.json", {}),
        ("/tags/commons", html),
        ("/vocab/kinds", html),
        ("/my", html),
        ("/signin", html),
        ("/nowhere", html),
    ]


async def no_link_to_a_forged_host(proxy: Proxy, node: Node) -> None:
    """Every document, page, feed and header answers with node.base_url's links only."""
    async with https_client(proxy) as http:
        listing = (await http.get(node.base_url + "/api/assets?limit=5")).json()
        uid = listing["items"][0]["id"]
        for forged in ({"Host": FORGED}, {"X-Forwarded-Host": FORGED}):
            for path, headers in forged_paths(node, uid):
                response = await http.get(node.base_url + path, headers={**headers, **forged})
                assert response.status_code < 500, (path, response.text)
                where = [f"{k}: {v}" for k, v in response.headers.items() if FORGED in v]
                if FORGED in response.text:
                    at = response.text.index(FORGED)
                    where.append(response.text[max(0, at - 80) : at + 40])
                assert not where, f"GET {path} with {forged} links to {FORGED}: {where}"
    # The plain-http listener redirects to the configured origin, whatever the Host.
    site = next(s for s in proxy.sites if s.name in node.base_url)
    async with httpx.AsyncClient() as plain:
        response = await plain.get(
            f"http://{site.address}:{site.http_port}/actor", headers={"Host": FORGED}
        )
    assert response.status_code == 301
    assert response.headers["location"] == node.base_url + "/actor"


async def forwarded_for_counts_only_from_the_proxy(proxy: Proxy, node: Node) -> None:
    """Through nginx the client's own address is logged; sent straight to the node, a
    made-up X-Forwarded-For is ignored. Each line carries the request id."""
    async with https_client(proxy, local_address="127.0.0.7") as http:
        via_proxy = await http.get(node.base_url + "/healthz?via=proxy")
    spoof = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.5")
    async with httpx.AsyncClient(transport=transport) as direct:
        straight = await direct.get(node.local_url + "/healthz?via=direct", headers=spoof)
    assert via_proxy.status_code == straight.status_code == 200

    def found(query: str) -> dict[str, Any] | None:
        for raw in node.log_path.read_text().splitlines():
            if raw.startswith("{") and query in raw:
                return json.loads(raw)
        return None

    async def line_for(query: str) -> dict[str, Any]:
        # The access line is written once the response has gone: it may trail the answer.
        async def written() -> dict[str, Any] | None:
            return found(query)

        return await eventually(written, timeout=5, interval=0.1, what=f"access line {query}")

    proxied, direct_line = await line_for("via=proxy"), await line_for("via=direct")
    assert proxied["message"].startswith("127.0.0.7 GET /healthz"), proxied
    assert direct_line["message"].startswith("127.0.0.5 GET /healthz"), direct_line
    assert proxied["request_id"] == via_proxy.headers["x-request-id"]
