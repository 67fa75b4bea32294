"""Shared fixtures: every database-backed test runs on SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set (`.ci/run` sets it to the machine's server)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from federation import shared_contexts
from registry.app import create_app
from registry.config import Settings, load_settings
from registry.core import db, migrate
from registry.core.node_keys import ensure_node_keys
from registry.core.tables import all_metadata
from registry.people import accounts

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
DATABASES = ["sqlite", "postgresql"]
BASE_URL = "http://registry.test"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="set TEST_DATABASE_URL to run on PostgreSQL")
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("database") == "postgresql" and not PG_URL:
            item.add_marker(skip_pg)


@pytest.fixture(autouse=True)
def shared_contexts_stay_unchanged() -> Iterator[None]:
    """Documents share each registered context (federation.shared_contexts): a test, or the
    code it runs, that changed one in place would change every document after it."""
    yield
    for context in shared_contexts.registered():
        assert orjson.dumps(context.value).decode() == context.text, (
            f"the shared context {context.ident} was changed in place"
        )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "registry.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_ready() -> str:
    """The PostgreSQL test database, emptied and migrated once per session."""

    async def reset() -> None:
        engine = db.create_engine(PG_URL)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())
    migrate.upgrade(PG_URL)
    return PG_URL


def run_blocking(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def table_names() -> list[str]:
    return [t.name for metadata in all_metadata() for t in metadata.sorted_tables]


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(database: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if database == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "registry.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_ready")
    run_blocking(_truncate(url))
    return url


async def _truncate(url: str) -> None:
    engine = db.create_engine(url)
    async with engine.begin() as conn:
        names = ", ".join(f'"{name}"' for name in table_names())
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    base = load_settings(environ={})
    return replace(
        base,
        node=replace(base.node, base_url=BASE_URL, data_dir=str(tmp_path)),
        database=replace(base.database, url=database_url),
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(settings.database_url)
    await ensure_node_keys(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def make_app(engine: AsyncEngine, settings: Settings) -> Callable[..., object]:
    def build(**overrides: object) -> object:
        effective = settings
        for section, values in overrides.items():
            effective = replace(
                effective, **{section: replace(getattr(effective, section), **values)}
            )  # type: ignore[arg-type]
        return create_app(effective, engine)

    return build


@pytest.fixture
async def client(make_app: Callable[..., object]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url=BASE_URL,
    ) as http:
        yield http


@pytest.fixture
async def admin_token(engine: AsyncEngine) -> str:
    _, token = await accounts.create_admin_token(engine)
    return token


@pytest.fixture
def auth() -> Callable[[str], dict[str, str]]:
    return lambda token: {"Authorization": f"Bearer {token}"}


FEDERATION_DEV = {"allow_private_addresses": True, "allow_http": True}


@pytest.fixture
async def federated(
    make_app: Callable[..., object],
) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    """An in-process node with federation started (workers not running: tests drive them),
    allowed to talk to servers on 127.0.0.1; yields its client and its runtime."""
    app = make_app(federation=FEDERATION_DEV)
    runtime = app.state.runtime  # type: ignore[attr-defined]
    await runtime.start_federation(run_workers=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url=BASE_URL,
    ) as http:
        yield http, runtime
    await runtime.stop_federation()


@pytest.fixture
async def group_token(engine: AsyncEngine) -> str:
    _, token = await accounts.create_group(engine, "Coop Fabricació", "coop-fab")
    return token


@pytest.fixture
async def other_group_token(engine: AsyncEngine) -> str:
    _, token = await accounts.create_group(engine, "Jardí del Barri", "jardi")
    return token


@pytest.fixture
def node_factory(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Make real nodes (server processes), each on SQLite or on a PostgreSQL database of its
    own (`on=`). All are stopped at the end of the test."""
    from tests.nodes import Node, fresh_pg_database

    made: list[Node] = []

    def make(
        name: str, *, on: str = "sqlite", env: dict[str, str] | None = None, start: bool = True
    ) -> Node:
        if on == "postgresql":
            if not PG_URL:
                pytest.skip("set TEST_DATABASE_URL to run on PostgreSQL")
            # Named after the test database, so that runs on other test databases never collide.
            prefix = urlsplit(PG_URL).path.lstrip("/") or "test"
            url = run_blocking(fresh_pg_database(PG_URL, f"{prefix}_node_{name.lower()}"))
        else:
            url = f"sqlite:///{tmp_path / name / 'data' / 'registry.db'}"
        node = Node(name=name, workdir=tmp_path / name, database_url=url, extra_env=env or {})
        node.init()
        made.append(node)
        if start:
            node.start()
        return node

    yield make
    for node in made:
        node.stop()


def venv_or_skip(build: Callable[[], object]) -> None:
    """Build (or reuse) an interop peer's environment, or skip the test saying why; with
    COMMONS_INTEROP_REQUIRED=1 a peer that cannot be built fails the test instead."""
    from tests.interop.peers import REQUIRED_ENV, VenvError

    try:
        build()
    except VenvError as exc:
        if os.environ.get(REQUIRED_ENV, "") not in ("", "0"):
            pytest.fail(f"interop venv required ({REQUIRED_ENV}) but not buildable:\n{exc}")
        pytest.skip(f"interop peer venv unavailable: {exc}")


@pytest.fixture(scope="session")
def fedify(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Fedify 1.5 (and jsonld.js) on 127.0.0.1, one per session (tests/interop and the group
    moves use it); npm packages installed once under $COMMONS_INTEROP_HOME/node."""
    from tests.interop.fedify_peer import FedifyPeer, ensure_fedify_install

    venv_or_skip(ensure_fedify_install)
    peer = FedifyPeer(workdir=tmp_path_factory.mktemp("fedify"))
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()
