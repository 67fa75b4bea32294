"""CSV as spreadsheets write it: semicolons and tabs, other encodings, and our own export
edited and read back (updates, never copies), with a dry run first."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for, run_import
from registry.config import Settings
from tests.registry.test_linked_data import seed

ROWS = [
    ("Fab Lab Sants", "fablab", "Barcelona", "ES"),
    ("Bibliothèque d'outils", "tool-library", "Liège", "BE"),
]


def _write(path: Path, delimiter: str, encoding: str = "utf-8") -> Path:
    lines = [delimiter.join(("name", "kind", "locality", "country"))]
    lines += [delimiter.join(row) for row in ROWS]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


async def _import(engine: AsyncEngine, settings: Settings, path: Path, **options: object):
    adapter = adapter_for(path, None, **{k: v for k, v in options.items() if k == "encoding"})
    dry_run = bool(options.get("dry_run"))
    return await run_import(AssetService(engine, settings), adapter, path, dry_run=dry_run)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
async def test_separator_is_detected(
    engine: AsyncEngine,
    settings: Settings,
    client: httpx.AsyncClient,
    tmp_path: Path,
    delimiter: str,
) -> None:
    report = await _import(engine, settings, _write(tmp_path / "labs.csv", delimiter))
    assert (report.created, report.skipped_total) == (2, 0), report.lines()
    names = {a["name"] for a in (await client.get("/api/assets")).json()["items"]}
    assert names == {row[0] for row in ROWS}


async def test_another_encoding_gets_a_clear_message_then_imports(
    engine: AsyncEngine, settings: Settings, tmp_path: Path
) -> None:
    path = _write(tmp_path / "labs.csv", ";", encoding="latin-1")
    with pytest.raises(ValueError, match=r"not utf-8-sig text.*line 3.*--encoding"):
        await _import(engine, settings, path)
    report = await _import(engine, settings, path, encoding="latin-1")
    assert report.created == 2


async def test_a_file_without_known_columns_is_refused_clearly(
    engine: AsyncEngine, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "other.csv"
    path.write_text("Lab|Town\nFab Lab Sants|Barcelona\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no column is named like an asset field.*--mapping"):
        await _import(engine, settings, path)


async def test_an_edited_sorted_export_updates_and_never_duplicates(
    engine: AsyncEngine,
    settings: Settings,
    client: httpx.AsyncClient,
    group_token: str,
    auth: Callable[[str], dict],
    tmp_path: Path,
) -> None:
    created = await seed(client, group_token, auth)
    exported = list(csv.reader(io.StringIO((await client.get("/api/assets.csv")).text)))
    header = exported[0]
    rows = sorted(exported[1:], key=lambda r: r[header.index("name")])
    rows[0][header.index("name")] = "Garden zero (renamed)"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows([header, *reversed(rows)])
    path = tmp_path / "edited.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")

    dry = await _import(engine, settings, path, dry_run=True)
    assert (dry.created, dry.updated, dry.unchanged) == (0, 1, 2), dry.lines()
    assert (await client.get("/api/assets")).json()["total"] == 3  # nothing written

    report = await _import(engine, settings, path)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2), report.lines()
    listing = (await client.get("/api/assets")).json()
    assert listing["total"] == 3
    renamed = next(a for a in listing["items"] if a["id"] == created[0]["id"])
    assert renamed["name"] == "Garden zero (renamed)"
    assert renamed["group"] == created[0]["group"]  # still its group's asset
    again = await _import(engine, settings, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
