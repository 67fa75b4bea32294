"""Migrations run forward on a populated database: a node filled at revision 0001 (groups,
tokens, keys, 200 real fablabs, a deletion, a pending submission) and 0002 (followers,
follows, the outbox, deliveries, the inbox) is upgraded to head on SQLite and PostgreSQL;
every row that existed is still there, unchanged, and the node works on the result."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import MetaData, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from federation import activities
from federation.outbox import publish
from federation.tables import followers, following, inbox_items
from registry.app import create_app
from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for, run_import
from registry.config import Settings, load_settings
from registry.core import db, migrate
from registry.core.errors import Unauthorized
from registry.core.node_keys import ensure_node_keys, load_node_keys
from registry.core.stored_documents import MARK, from_stored
from registry.fediverse import blocks
from registry.people import accounts
from tests.conftest import PG_URL
from tests.nodes import fresh_pg_database
from tests.registry.test_assets_api import GARDEN
from tests.sample_data import fablab_records

BASE = "http://registry.test"


@pytest.fixture
async def empty_url(database: str, tmp_path: Path) -> str:
    if database == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    prefix = urlsplit(PG_URL).path.lstrip("/") or "test"
    return await fresh_pg_database(PG_URL, f"{prefix}_migrations")


def settings_for(url: str, tmp_path: Path) -> Settings:
    base = load_settings(environ={})
    return replace(
        base,
        node=replace(base.node, base_url=BASE, data_dir=str(tmp_path)),
        database=replace(base.database, url=url),
    )


async def snapshot(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, by table, in primary-key order."""
    metadata = MetaData()
    async with engine.connect() as conn:
        await conn.run_sync(lambda sync: metadata.reflect(sync))
        tables = {}
        for table in metadata.sorted_tables:
            if table.name == "alembic_version" or table.name.startswith("asset_fts"):
                continue  # the revision changes by design; FTS5 shadow tables are internal
            order = list(table.primary_key.columns) or list(table.columns)
            rows = await conn.execute(select(table).order_by(*order))
            tables[table.name] = [as_read(table.name, dict(row._mapping)) for row in rows]
    return tables


def as_read(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row as the node reads it: a document's contexts put back (0013 stores them by
    reference: registry.core.stored_documents)."""
    if table == "asset_documents":
        for name in ("document", "pending_document"):
            if isinstance(row.get(name), str):
                row[name] = from_stored(row[name])
    return row


async def populate_0001(settings: Settings, engine: AsyncEngine, tmp_path: Path) -> tuple[str, str]:
    """Fill a revision-0001 database: today's code writes a node at head (a scratch SQLite
    file), and the columns 0001 has are copied over, table by table, as 0001 held them."""
    scratch_url = f"sqlite:///{tmp_path / 'scratch-head.db'}"
    migrate.upgrade(scratch_url)
    scratch = db.create_engine(scratch_url)
    try:
        tokens = await populate_with_todays_code(
            replace(settings, database=replace(settings.database, url=scratch_url)),
            scratch,
            tmp_path,
        )
        await copy_as_0001(scratch, engine)
    finally:
        await scratch.dispose()
    return tokens


async def copy_as_0001(source: AsyncEngine, target: AsyncEngine) -> None:
    """Every row of the target's tables (0001's), with only the columns 0001 has."""
    old, new = MetaData(), MetaData()
    async with target.begin() as conn:
        await conn.run_sync(lambda sync: old.reflect(sync))
    async with source.begin() as conn:
        await conn.run_sync(lambda sync: new.reflect(sync))
    async with source.connect() as src, target.begin() as dst:
        for table in old.sorted_tables:
            if table.name == "alembic_version" or table.name.startswith("asset_fts"):
                continue
            columns = [c.name for c in table.columns if c.name != "search_vector"]
            query = select(*(new.tables[table.name].c[c] for c in columns))
            rows = [
                as_read(
                    table.name,
                    {
                        k: v.replace(tzinfo=UTC)
                        if isinstance(v, datetime) and v.tzinfo is None
                        else v
                        for k, v in row._mapping.items()
                    },
                )
                for row in await src.execute(query)
            ]
            if rows:
                await dst.execute(insert(table), rows)


async def populate_with_todays_code(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> tuple[str, str]:
    await ensure_node_keys(engine)
    _, admin = await accounts.create_admin_token(engine, "first admin")
    _, token = await accounts.create_group(engine, "Fab Lab Network", "fablabs")
    service = AssetService(engine, settings)
    principal = await accounts.authenticate(engine, token)
    garden = await service.create(principal, GARDEN)
    gone = await service.create(principal, {**GARDEN, "name": "Closed garden"})
    await service.delete(principal, gone.uid)
    await accounts.revoke_token(engine, accounts.CLI_ADMIN, 1)  # the admin token, revoked
    subset = tmp_path / "okw-200.json"
    subset.write_text(json.dumps(fablab_records()[:200]))
    report = await run_import(service, adapter_for(subset, "okw"), subset, group_slug="fablabs")
    assert report.created >= 190
    await service.update(
        principal, garden.uid, {"summary": "Edited before the upgrade"}, partial=True
    )
    return admin, token


async def populate_0002(engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    async with db.write(engine) as conn:
        for i, host in enumerate(["social.example", "a.spam.example", "partner.example"]):
            await conn.execute(
                insert(followers).values(
                    actor=f"https://{host}/users/{i}",
                    host=host,
                    inbox=f"https://{host}/users/{i}/inbox",
                    shared_inbox=f"https://{host}/inbox",
                    follow_id=f"https://{host}/follows/{i}",
                    state="accepted",
                    created_at=now,
                    decided_at=now,
                )
            )
        await conn.execute(
            insert(following).values(
                actor="https://partner.example/actor",
                host="partner.example",
                follow_id=f"{BASE}/activities/follow-1",
                state="accepted",
                created_at=now,
            )
        )
        note = activities.follow(
            id=f"{BASE}/activities/follow-1", actor=f"{BASE}/actor", object="https://p.example/a"
        )
        await publish(conn, note, ["https://partner.example/inbox"], public=False)
        await conn.execute(
            insert(inbox_items).values(
                activity_id="https://social.example/activities/1",
                actor="https://social.example/users/0",
                host="social.example",
                type="Follow",
                body=json.dumps({"type": "Follow"}),
                signer="https://social.example/users/0#main-key",
                received_at=now,
                state="done",
                attempts=1,
                available_at=now,
            )
        )


@pytest.mark.timeout(180)
async def test_upgrade_keeps_every_row_and_the_node_works(empty_url: str, tmp_path: Path) -> None:
    settings = settings_for(empty_url, tmp_path)
    migrate.upgrade(empty_url, "0001")
    engine = db.create_engine(empty_url)
    try:
        admin_token, group_token = await populate_0001(settings, engine, tmp_path)
        migrate.upgrade(empty_url, "0002")
        await populate_0002(engine)
        before = await snapshot(engine)
        assert len(before["assets"]) >= 192 and before["followers"]
        assert await migrate.current_revision(engine) == "0002"

        migrate.upgrade(empty_url)
        await migrate.check_schema(engine)  # what the server checks at start
        after = await snapshot(engine)
        for name, rows in before.items():
            kept = [{k: row[k] for k in rows[0]} for row in after[name]] if rows else []
            assert kept == rows, f"{name} changed in the upgrade"
        assert set(after) - set(before) >= {"partners", "node_state", "domain_blocks", "admin_log"}
        async with engine.connect() as conn:  # 0013 stored the documents held by reference
            stored = (await conn.execute(text("SELECT document FROM asset_documents"))).scalars()
            assert all(document.startswith(MARK) for document in stored)
            if not db.is_sqlite(conn):  # 0014: new documents compressed with lz4, if offered
                offered = await conn.scalar(
                    text(
                        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                        "WHERE name = 'default_toast_compression'"
                    )
                )
                method = await conn.scalar(
                    text(
                        "SELECT attcompression::text FROM pg_attribute WHERE attname = 'document' "
                        "AND attrelid = 'asset_documents'::regclass"
                    )
                )
                assert method == ("l" if offered else ""), method

        # The node works on the upgraded data: keys, tokens, search, and the new tables.
        assert (await load_node_keys(engine)).ed25519_private_key is not None
        principal = await accounts.authenticate(engine, group_token)
        assert principal.group_slug == "fablabs"
        with pytest.raises(Unauthorized):
            await accounts.authenticate(engine, admin_token)  # revoked before the upgrade
        app = create_app(settings, engine)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url=BASE,
        ) as http:
            name = next(r["name"] for r in before["assets"] if r["source_ref"])
            found = (await http.get("/api/assets", params={"q": name})).json()["items"]
            assert name in [item["name"] for item in found]
            garden = (await http.get("/api/assets", params={"q": GARDEN["name"]})).json()
            [item] = garden["items"]
            assert item["summary"] == "Edited before the upgrade"
        await blocks.block_domain(engine, "spam.example", reason="test", by="cli")
        async with db.read(engine) as conn:
            hosts = {r.host for r in await conn.execute(select(followers.c.host))}
        assert hosts == {"social.example", "partner.example"}
    finally:
        await engine.dispose()
