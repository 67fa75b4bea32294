"""A real node and a real Chromium for the browser tests.

Chromium is Debian's package, found on PATH (`.ci/run` installs it); Playwright drives
it and never downloads a browser. One node serves every browser test: starting a
node and a browser is most of what these tests cost.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.people import accounts, members
from tests.conftest import BASE_URL
from tests.nodes import Node

CHROMIUM = os.environ.get("TEST_CHROMIUM", "chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# A tile server that cannot answer: every page must work without map tiles.
DEAD_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"
# A map whose markers are all drawn and whose view is fitted to them: map.js holds aria-busy
# until then (a search map's clusters are added in chunks, then split as the view zooms in).
MAP_READY = "#map[data-markers]:not([aria-busy='true'])"

BLOCKING = ("serious", "critical")  # axe impacts that fail a page

MEMBER, MEMBER_PASSWORD = "alice", "alice-password-1"
ADMIN, ADMIN_PASSWORD = "root", "root-password-1"


def chromium_path() -> str:
    found = shutil.which(CHROMIUM)
    if not found:
        pytest.skip(f"Chromium ({CHROMIUM}) not found on PATH (apt-get install -y chromium)")
    return found


@dataclass
class WebNode:
    node: Node
    admin_token: str
    group_token: str

    @property
    def url(self) -> str:
        return self.node.base_url

    def api(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )


def _cli(node: Node, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "registry.cli", *args],
        env=node.env(),
        cwd=node.workdir,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


@pytest.fixture(scope="session")
def web_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebNode]:
    chromium_path()  # skip before paying for a node when there is no browser
    workdir = tmp_path_factory.mktemp("webnode")
    node = Node(
        name="web",
        workdir=workdir,
        database_url=f"sqlite:///{workdir / 'data' / 'registry.db'}",
        extra_env={
            "COMMONS_MODERATION_REQUIRE_APPROVAL": "true",
            "COMMONS_WEB_TILE_URL": DEAD_TILES,
            "COMMONS_NODE_OPERATOR": "Ajuntament de Prova",
        },
    )
    node.init()
    out = _cli(node, "group", "create", "Coop Fabricació", "--slug", "coop-fab")
    group_token = out.strip().split()[-1]
    _cli(node, "member", "create", MEMBER, "--group", "coop-fab", "--password-stdin",
         stdin=MEMBER_PASSWORD + "\n")  # fmt: skip
    _cli(node, "member", "create", ADMIN, "--admin", "--password-stdin",
         stdin=ADMIN_PASSWORD + "\n")  # fmt: skip
    node.start()
    try:
        yield WebNode(node, node.admin_token, group_token)
    finally:
        node.stop()


# Per module: Playwright's sync API keeps an event loop running in this thread while it is
# open, and the async tests that follow need the thread free.
@pytest.fixture(scope="module")
def browser(web_node: WebNode) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield launched
        finally:
            launched.close()


def sign_in(page, base: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def check(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    blocking = [v for v in result if v["impact"] in BLOCKING]
    screenshot(page, name)
    assert not blocking, f"{name}: {blocking}"


# In-process pages (no browser): a node requiring approval, and its groups and members.
PASSWORD = "a-long-password"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, at test costs: the real costs take ~0.2 s a hash on a CI core."""
    monkeypatch.setattr(members, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
async def web(make_app: Callable[..., object]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(moderation={"require_approval": True})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url=BASE_URL,
    ) as http:
        yield http


@pytest.fixture
async def people(engine: AsyncEngine) -> dict[str, str]:
    await accounts.create_group(engine, "Coop Fabricació", "coop-fab")
    await accounts.create_group(engine, "Jardí del Barri", "jardi")
    await members.create_member(engine, "alice", PASSWORD, group_slug="coop-fab")
    await members.create_member(engine, "bob", PASSWORD, group_slug="jardi")
    await members.create_member(engine, "root", PASSWORD, admin=True)
    return {"group": "coop-fab"}
