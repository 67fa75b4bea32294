"""The command line is one table: every command is registered once, with its help, and the
parser, the dispatch and the documentation all agree with that table."""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from registry import cli
from registry.cli import table
from registry.cli.table import COMMANDS, arg, command

ROOT = Path(__file__).resolve().parents[2]


def parser_paths(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> set[str]:
    """Every command name the built parser accepts, walked from argparse's own structure."""
    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.add(" ".join((*path, name)))
                found |= parser_paths(sub, (*path, name))
    return found


def test_the_parser_holds_exactly_the_table() -> None:
    assert parser_paths(cli.build_parser()) == set(COMMANDS)
    # The documented commands are all there (a sample of each room).
    for name in ("init", "serve", "config example", "token create", "import", "followers approve"):
        assert name in COMMANDS


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_has_help_and_a_handler(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    entry = COMMANDS[name]
    assert entry.help.strip(), f"{name} has no help"
    children = [other for other in COMMANDS if other.startswith(f"{name} ")]
    # A command without subcommands must do something when it is run.
    assert entry.run is not None or children, f"{name} has neither a handler nor subcommands"
    with pytest.raises(SystemExit) as exit_:
        cli.main([*name.split(), "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: commons-registry {name} ")
    for child in children:
        if child.count(" ") == name.count(" ") + 1:
            assert COMMANDS[child].help in out


def test_the_installed_command_and_python_m_run_the_same_table() -> None:
    script = Path(sys.executable).parent / "commons-registry"
    listing = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    for name in COMMANDS:
        if " " not in name:
            assert f"    {name} " in listing, name
    done = subprocess.run(
        [sys.executable, "-m", "registry.cli", "token", "create"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "one of the arguments --group --admin is required" in done.stderr


def test_commands_are_defined_only_in_the_table() -> None:
    # No module builds argparse subcommands by hand: they come from COMMANDS alone.
    builders = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "registry").rglob("*.py")
        if re.search(r"\.add_(sub)?parsers?\(", path.read_text(encoding="utf-8"))
    ]
    assert builders == ["registry/cli/table.py"]
    # Each handler lives in the CLI room that registered it.
    for entry in COMMANDS.values():
        if entry.run is not None:
            assert entry.run.__module__.removeprefix("registry.cli.") in cli.ROOMS, entry.name


def test_a_command_cannot_be_registered_twice_or_without_its_group() -> None:
    def nothing(settings: object, args: argparse.Namespace) -> int:
        return 0

    with pytest.raises(ValueError, match="registered twice"):
        command("group create", help="again", arguments=[arg("name")])(nothing)
    with pytest.raises(ValueError, match="needs its group"):
        command("nosuch create", help="orphan")(nothing)
    assert "nosuch create" not in COMMANDS and table.COMMANDS["group create"].run is not nothing


def test_the_documentation_names_only_registered_commands() -> None:
    before = r"(?:`|^\s*|\$ |&& )(?:\.venv/bin/)?"  # as code: quoted, a shell line, a chain
    written = re.compile(before + r"commons-registry((?: [a-z][a-z-]*){1,2})")
    seen = set()
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in doc.read_text(encoding="utf-8").splitlines():
            for match in written.finditer(line):
                words = match.group(1).split()
                assert words[0] in COMMANDS, f"{doc.name}: {line.strip()}"
                group = COMMANDS[words[0]]
                if group.run is None:
                    assert len(words) > 1 and " ".join(words[:2]) in COMMANDS, (
                        f"{doc.name}: {line.strip()}"
                    )
                seen.add(words[0])
    assert {"init", "serve", "import", "partner", "worker"} <= seen


# Run elsewhere, against real peers, servers or files: test_cli.py (serve, import),
# test_backup.py (backup, restore), test_samples.py (sample remove), test_partner_mirroring.py and
# test_federation_nodes.py (follow, partner add), tests/deploy (doctor, worker, unfollow),
ELSEWHERE = {"serve", "worker", "doctor", "backup", "restore", "import", "sample remove"}
ELSEWHERE |= {"follow", "unfollow", "partner add", "partner remove", "config example"}
# test_portability.py and test_group_moves.py (a group moving between real nodes; key claims).
ELSEWHERE |= {"group export", "group import", "group moved", "group claim", "group copies"}
ELSEWHERE |= {"group key"}
ELSEWHERE |= {"key export"}


def test_every_handler_runs_on_both_databases(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COMMONS_DATABASE_URL", database_url)
    monkeypatch.setenv("COMMONS_NODE_DATA_DIR", str(tmp_path))
    ran: set[str] = set()

    def run(*argv: str, code: int = 0, stdin: str = "") -> str:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        assert cli.main(list(argv)) == code, capsys.readouterr()
        ran.add(cli.build_parser().parse_args(list(argv)).entry.name)
        out, err = capsys.readouterr()
        return out + err

    assert "admin token" in run("init")
    assert "configuration is valid" in run("config", "check")
    assert "database at revision" in run("migrate")
    assert "group coop created" in run("group", "create", "Co-op", "--slug", "coop")
    assert "coop\tCo-op" in run("group", "list")
    assert "group coop suspended" in run("group", "suspend", "coop", "--reason", "spam")
    assert "group coop active" in run("group", "unsuspend", "coop")
    set_defaults = ("group", "defaults", "coop", "--visibility", "unlisted", "--license", "CC0-1.0")
    assert "new assets are unlisted, licence CC0-1.0" in run(*set_defaults)
    assert "(group) (shown once)" in run("token", "create", "--group", "coop", "--label", "ci")
    assert "\tci" in run("token", "list", "--group", "coop")
    assert "token #3 revoked" in run("token", "revoke", "3")
    made = run(
        "member", "create", "alice", "--group", "coop", "--password-stdin", stdin="s3cret pw!\n"
    )
    assert "member alice created (coop)" in made
    assert "alice\tcoop" in run("member", "list")
    assert "alice disabled" in run("member", "disable", "alice")
    assert run("following") == ""
    assert run("followers") == "" and run("followers", "list", "--state", "pending") == ""
    for decision in ("approve", "reject", "remove"):
        assert "is not a follower" in run(
            "followers", decision, "https://nowhere.test/actor", code=1
        )
    assert run("partner", "list") == ""
    assert "no partners yet" in run("sync")
    assert "spam.test blocked" in run("block", "spam.test", "--reason", "spam")
    assert "spam.test" in run("blocks")
    assert "spam.test unblocked" in run("unblock", "spam.test")
    assert "fablabs" in run("sample", "list")
    leaves = {name for name, entry in COMMANDS.items() if entry.run is not None}
    assert leaves - ran == ELSEWHERE
