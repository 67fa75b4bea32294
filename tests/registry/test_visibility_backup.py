"""Backups keep the visibility rule: the copy holds every asset with its visibility, and a
node restored from it serves each asset only to whom it may (real server processes)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.nodes import Node

VISIBILITIES = ("public", "unlisted", "partners", "group")


@pytest.mark.timeout(180)
async def test_backup_holds_the_rule_and_restore_keeps_it(node_factory, tmp_path: Path) -> None:
    a: Node = node_factory("A")
    token = a.cli("group", "create", "Keepers").split()[-1]
    uids = {}
    async with a.client(token) as http:
        for vis in VISIBILITIES:
            body = {"name": f"Kept {vis}", "kind": "fablab", "visibility": vis}
            response = await http.post("/api/assets", json=body)
            assert response.status_code == 201, response.text
            uids[vis] = response.json()["id"]
    path = tmp_path / "backups" / "registry.db"
    a.cli("backup", str(path))
    with sqlite3.connect(path) as conn:
        held = dict(conn.execute("SELECT uid, visibility FROM assets").fetchall())
    assert held == {uid: vis for vis, uid in uids.items()}

    b = Node(name="B", workdir=tmp_path / "B", database_url="")
    b.database_url = f"sqlite:///{b.workdir / 'data' / 'registry.db'}"
    b.workdir.mkdir()
    assert "restored" in b.cli("restore", str(path))
    b.admin_token = a.admin_token
    b.start()
    try:
        async with b.client() as http:
            http.headers.pop("authorization", None)
            for vis, uid in uids.items():
                status = (await http.get(f"/api/assets/{uid}")).status_code
                assert status == (200 if vis in ("public", "unlisted") else 404), vis
            listed = (await http.get("/api/assets")).json()["items"]
            assert [item["id"] for item in listed] == [uids["public"]]
        async with b.client(token) as http:  # the group's token came with the database
            for uid in uids.values():
                assert (await http.get(f"/api/assets/{uid}")).status_code == 200
    finally:
        b.stop()
