"""The README's two commands stay true: the first, run as written in an empty folder (with
this test run's installed package standing in for its `pip install`), gives a node whose search
finds the bundled sample; the second is the command `.ci/run` runs."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.nodes import free_port

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "the README starts with a sh block holding its two commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def registry_steps(command: str) -> list[list[str]]:
    """The `.venv/bin/commons-registry …` steps of a command, run with this environment's."""
    bin_dir = Path(sys.executable).parent
    steps = []
    for part in command.split("&&"):
        argv = shlex.split(part)
        if argv and argv[0] == ".venv/bin/commons-registry":
            steps.append([str(bin_dir / "commons-registry"), *argv[1:]])
    return steps


def test_the_first_command_serves_the_sample(tmp_path: Path) -> None:
    first = readme_commands()[0]
    assert "pip install -e ." in first
    *setup, serve = registry_steps(first)
    assert serve[1:] == ["serve"] and ["init", "--sample"] in [s[1:] for s in setup]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONS_")}
    env["COMMONS_SERVER_PORT"] = str(port)
    for step in setup:
        done = subprocess.run(step, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert "admin token" in done.stdout and "CC BY 4.0" in done.stdout
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(serve, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                found = httpx.get(f"{base}/api/assets", params={"q": "fab", "limit": 1}).json()
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.2)
        assert found["total"] > 2000 and found["items"][0]["group"] == "sample-fablabs"
        page = httpx.get(f"{base}/search", params={"q": "fab"}).text
        assert "Includes sample data" in page and "fablabs.io" in page
    finally:
        server.terminate()
        server.wait(10)
        log.close()
    assert (tmp_path / "data" / "registry.db").is_file()  # under ./data, as the README says


def test_ci_runs_the_second_command() -> None:
    second = readme_commands()[1]
    assert "pytest" in second
    assert second in (ROOT / ".ci" / "run").read_text()
