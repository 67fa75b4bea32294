"""The command line, driven in-process as an operator would use it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from registry.cli import main
from registry.core import db
from tests.sample_data import FABLABS_FILE


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[node]\ndata_dir = "{tmp_path / "data"}"\n')
    monkeypatch.setenv("COMMONS_CONFIG", str(config))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_is_idempotent_and_keeps_keys(node: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "init")
    assert code == 0 and "admin token" in out and "node keys created" in out
    code, out, _ = run(capsys, "init")
    assert code == 0 and "keys already present" in out and "admin token already exists" in out


def test_groups_tokens_and_import(node: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    code, out, _ = run(capsys, "group", "create", "Tool Library Gràcia")
    assert code == 0 and "group tool-library-gracia created" in out
    token = out.strip().split()[-1]
    assert token.startswith("cr_")
    code, out, _ = run(capsys, "token", "list")
    assert token not in out and "tool-library-gracia" in out
    code, out, _ = run(capsys, "token", "revoke", "2")
    assert code == 0 and "revoked" in out
    code, _, err = run(capsys, "group", "create", "Tool Library Gràcia")
    assert code == 1 and "already exists" in err
    code, out, _ = run(capsys, "import", str(FABLABS_FILE))
    assert code == 0 and "2237 created" in out and "attribution:" in out


def test_server_refuses_a_schema_that_is_behind(
    node: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "serve")
    assert code == 2 and "not initialised" in err
    run(capsys, "init")
    url = f"sqlite:///{node / 'data' / 'registry.db'}"

    async def age() -> None:
        engine = db.create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
        await engine.dispose()

    asyncio.run(age())
    code, _, err = run(capsys, "serve")
    assert code == 2 and "schema is at revision 0000" in err and "migrate" in err


def test_bad_configuration_names_the_key(
    node: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMONS_SERVER_PORT", "http")
    code, _, err = run(capsys, "serve")
    assert code == 2 and "server.port" in err and "COMMONS_SERVER_PORT" in err


def test_csv_import_with_a_column_mapping(node: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    table = node / "tools.csv"
    table.write_text(
        "Library,Town,Land,Lat,Lon,Web\n"
        "Eina Comuna,Barcelona,ES,41.40,2.16,https://eina.example.org\n"
        "Werkzeugkiste,Köln,DE,50.94,6.96,not a url\n"
        ",Nowhere,FR,,,\n",
        encoding="utf-8",
    )
    mapping = node / "tools.toml"
    mapping.write_text(
        '[columns]\nLibrary = "name"\nTown = "locality"\nLand = "country"\n'
        'Lat = "latitude"\nLon = "longitude"\nWeb = "website"\n'
        '[defaults]\nkind = "tool-library"\n',
        encoding="utf-8",
    )
    code, out, _ = run(
        capsys, "import", str(table), "--mapping", str(mapping), "--group", "tool-libraries"
    )
    assert code == 0, out
    assert "1 created" in out and "2 skipped" in out and "website" in out and "name" in out
    bad = node / "bad.toml"
    bad.write_text('[columns]\nLibrary = "nom"\n', encoding="utf-8")
    code, _, err = run(capsys, "import", str(table), "--mapping", str(bad))
    assert code == 2 and "nom" in err


def test_init_with_the_sample_then_remove_it(
    node: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "init", "--sample")
    assert code == 0 and "2237 created" in out and "CC BY 4.0" in out
    assert "sample remove fablabs" in out
    code, out, _ = run(capsys, "init", "--sample")
    assert code == 0 and "0 created" in out and "2237 unchanged" in out
    code, out, _ = run(capsys, "sample", "list")
    assert code == 0 and "loaded: 2237 assets in group sample-fablabs" in out
    code, out, _ = run(capsys, "sample", "remove", "fablabs")
    assert code == 0 and "2237 assets deleted" in out
    code, out, _ = run(capsys, "sample", "list")
    assert "not loaded" in out
    code, out, _ = run(capsys, "import", "--sample", "fablabs")
    assert code == 0 and "2237 created" in out
    with pytest.raises(SystemExit) as refused:
        run(capsys, "import", "--sample", "gardens")
    assert refused.value.code == 2 and "invalid choice: 'gardens'" in capsys.readouterr().err
