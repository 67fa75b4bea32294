from pathlib import Path

import pytest

from registry.config import ConfigError, example_toml, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_listen_on_loopback_with_embedded_sqlite() -> None:
    settings = load_settings(environ={})
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8000)
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("data/registry.db")


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[server]\nport = 9000\n[node]\nname = "Ajuntament"\n')
    settings = load_settings(path, environ={"COMMONS_SERVER_PORT": "9100"})
    assert settings.server.port == 9100
    assert settings.node.name == "Ajuntament"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"COMMONS_SERVER_PORT": "eighty"}, "server.port"),
        ({"COMMONS_SERVER_PORT": "70000"}, "server.port"),
        ({"COMMONS_MODERATION_REQUIRE_APPROVAL": "maybe"}, "moderation.require_approval"),
        ({"COMMONS_NODE_BASE_URL": "ftp://x"}, "node.base_url"),
        ({"COMMONS_SERVER_LOG_LEVEL": "loud"}, "server.log_level"),
        ({"COMMONS_DATABASE_URL": "mysql://x/y"}, "database.url"),
    ],
)
def test_bad_values_name_the_key(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_settings(environ=environ)


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[server]\nprot = 1\n")
    with pytest.raises(ConfigError, match="prot"):
        load_settings(path, environ={})


def test_example_file_documents_every_key_and_parses() -> None:
    example = ROOT / "config.example.toml"
    assert example.read_text() == example_toml(), (
        "config.example.toml is stale: run `commons-registry config example > config.example.toml`"
    )
    load_settings(example, environ={})


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    block = readme.split("```")[1].split("\n", 1)[1]  # skip the fence's language tag
    commands = [
        line.strip()
        for line in block.strip().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(commands) == 2, "the README starts with exactly two commands"
    assert commands[1] in ci
