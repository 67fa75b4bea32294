"""`commons-registry backup` / `restore`: an online SQLite copy taken while a real server
writes is consistent, restores into a fresh data directory, and a node started on it has its
assets, keys and tokens; restore refuses a database in use and backups it cannot read."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest

from registry.cli import main
from registry.core.migrate import head_revision
from tests.nodes import Node


def count_assets(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM assets WHERE deleted_at IS NULL").fetchone()[0]


async def actor_document(node: Node) -> dict:
    async with node.client() as http:
        response = await http.get("/actor", headers={"Accept": "application/activity+json"})
        return response.json()


@pytest.mark.timeout(180)
async def test_backup_while_writing_then_restore_and_serve(node_factory, tmp_path: Path) -> None:
    a: Node = node_factory("A")
    token = a.cli("group", "create", "Writers").split()[-1]
    stop = asyncio.Event()
    written: list[str] = []

    async def keep_writing() -> None:
        async with a.client(token) as http:
            i = 0
            while not stop.is_set():
                body = {"name": f"Asset {i}", "kind": "fablab", "tags": ["t", f"n{i}"]}
                response = await http.post("/api/assets", json=body)
                assert response.status_code == 201, response.text
                written.append(response.json()["id"])
                i += 1

    writer = asyncio.create_task(keep_writing())
    while len(written) < 20:
        await asyncio.sleep(0.05)
    backups = []
    for n in range(3):  # each copy is taken in the middle of the writes
        path = tmp_path / "backups" / f"registry-{n}.db"
        before = len(written)
        out = await asyncio.to_thread(a.cli, "backup", str(path))
        assert f"schema revision {head_revision()}" in out
        held = count_assets(path)
        assert before <= held <= len(written)
        backups.append((path, held))
        await asyncio.sleep(0.2)
    stop.set()
    await writer
    assert len(written) > backups[0][1]  # the server really wrote during the backups
    again = a.cli("backup", str(backups[0][0]), check=False)
    assert "already exists" in again
    a_actor = await actor_document(a)

    # A fresh data directory, never initialised: restore, then start a node on it.
    path, held = backups[-1]
    b = Node(name="B", workdir=tmp_path / "B", database_url="")
    b_file = b.workdir / "data" / "registry.db"
    b.database_url = f"sqlite:///{b_file}"
    b.workdir.mkdir()
    assert "restored" in b.cli("restore", str(path))
    b.admin_token = a.admin_token  # the tokens came with the database
    b.start()
    try:
        async with b.client() as http:
            assert count_assets(b_file) == held
            for uid in written[:held:7]:  # the copy has every asset written before it
                assert (await http.get(f"/api/assets/{uid}")).status_code == 200
            for uid in written[held:][:5]:  # and none written after
                assert (await http.get(f"/api/assets/{uid}")).status_code == 404
            assert (await http.get("/api/me")).json()["role"] == "admin"
        async with b.client(token) as http:
            assert (await http.get("/api/me")).json()["group"] == "writers"
        b_actor = await actor_document(b)
        assert b_actor["publicKey"]["publicKeyPem"] == a_actor["publicKey"]["publicKeyPem"]
        assert [m["publicKeyMultibase"] for m in b_actor["assertionMethod"]] == [
            m["publicKeyMultibase"] for m in a_actor["assertionMethod"]
        ]
        # While B runs, its database is in use: restore refuses without --force.
        refused = b.cli("restore", str(backups[0][0]), check=False)
        assert "in use" in refused and "--force" in refused
        assert count_assets(b_file) == held
    finally:
        b.stop()


def test_restore_checks_the_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("COMMONS_DATABASE_URL", f"sqlite:///{data / 'registry.db'}")
    monkeypatch.setenv("COMMONS_NODE_DATA_DIR", str(data))
    assert main(["init"]) == 0
    assert main(["group", "create", "Keepers"]) == 0
    backup = tmp_path / "keep.db"
    assert main(["backup", str(backup)]) == 0
    capsys.readouterr()

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert main(["restore", str(junk)]) == 2
    assert "not an SQLite database" in capsys.readouterr().err

    newer = tmp_path / "newer.db"
    shutil.copy(backup, newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    assert main(["restore", str(newer)]) == 2
    assert "revision 9999" in capsys.readouterr().err

    # A connection left open (a server, a worker) blocks the restore; --force goes ahead.
    assert main(["group", "create", "After the backup"]) == 0
    holder = sqlite3.connect(data / "registry.db")
    holder.execute("SELECT count(*) FROM groups").fetchone()
    try:
        assert main(["restore", str(backup)]) == 2
        assert "in use" in capsys.readouterr().err
    finally:
        holder.close()
    assert main(["restore", str(backup)]) == 0
    capsys.readouterr()
    assert main(["group", "list"]) == 0
    listed = capsys.readouterr().out
    assert "keepers" in listed and "after-the-backup" not in listed


def test_postgresql_backup_names_pg_dump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMMONS_DATABASE_URL", "postgresql://registry:secret@db.internal/commons")
    monkeypatch.setenv("COMMONS_NODE_DATA_DIR", str(tmp_path))
    assert main(["backup", str(tmp_path / "dump")]) == 2
    err = capsys.readouterr().err
    assert "pg_dump --format=custom" in err and "secret" not in err
    assert "postgresql://registry@db.internal/commons" in err
    assert main(["restore", str(tmp_path / "dump")]) == 2
    assert "pg_restore" in capsys.readouterr().err
