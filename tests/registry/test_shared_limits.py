"""Several processes serve one node on PostgreSQL: they share one replay memory and one inbox
rate limit (issue 13). Two `serve` processes on two ports and a `worker`, all on one
database; a remote actor served on 127.0.0.1 signs the requests."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import httpx
import pytest

from federation.httpsig import sign_request
from tests.nodes import free_port
from tests.remote_actor import RemoteActor, serving

AP = {"Content-Type": "application/activity+json"}


def second_server(node, port: int) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    """Another `serve` process of the same node (same database, same public URL)."""
    env = {**node.env(), "COMMONS_SERVER_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "registry.cli", "serve"],
        env=env,
        cwd=node.workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/.well-known/nodeinfo", timeout=1).is_success:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the second server did not start")


def signed(node, remote: RemoteActor, body: bytes, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    url = f"{node.base_url}/inbox"
    return sign_request("POST", url, {**AP, **extra}, body, remote.key_id, remote.key)


@pytest.mark.timeout(180)
async def test_two_servers_and_a_worker_share_one_replay_memory_and_one_rate_limit(
    node_factory,
) -> None:
    node = node_factory(
        "A",
        on="postgresql",
        env={
            "COMMONS_LIMITS_RATE_LIMITS": "true",
            "COMMONS_LIMITS_INBOX_PER_MINUTE": "1",
            "COMMONS_LIMITS_INBOX_BURST": "4",
            "COMMONS_FEDERATION_WORKERS_IN_SERVER": "false",
        },
    )
    port = free_port()
    other = second_server(node, port)
    worker = node.spawn("worker")
    try:
        async with serving(RemoteActor()) as remote:
            first_url, second_url = node.base_url, f"http://127.0.0.1:{port}"
            follow = remote.activity("Follow", node.actor)
            body = httpx.Request("POST", "/", json=follow).content
            headers = signed(node, remote, body)
            # The public URL's Host, as a reverse proxy in front of both would send it.
            host = {"Host": f"127.0.0.1:{node.port}"}
            async with httpx.AsyncClient(timeout=30) as http:
                taken = await http.post(f"{first_url}/inbox", content=body, headers=headers)
                assert taken.status_code == 202, taken.text
                # The captured request, replayed to the other process: refused there too.
                replay = await http.post(
                    f"{second_url}/inbox", content=body, headers={**headers, **host}
                )
                assert replay.status_code == 401 and "replay" in replay.json()["detail"]
                # The same signature moved into `Authorization: Signature`: still a replay.
                moved = {k: v for k, v in headers.items() if k.lower() != "signature"}
                moved["Authorization"] = "Signature " + headers["Signature"]
                again = await http.post(
                    f"{second_url}/inbox", content=body, headers={**moved, **host}
                )
                assert again.status_code == 401 and "replay" in again.json()["detail"]
                # One rate limit: a burst of 4 (one spent above), shared by both processes.
                answers = []
                for n in range(4):
                    note = remote.activity("Follow", node.actor, suffix=f"burst-{n}")
                    note_body = httpx.Request("POST", "/", json=note).content
                    url = first_url if n % 2 else second_url
                    answer = await http.post(
                        f"{url}/inbox",
                        content=note_body,
                        headers={**signed(node, remote, note_body), **host},
                    )
                    answers.append(answer)
                statuses = [a.status_code for a in answers]
                assert statuses[:3] == [202, 202, 202], [a.text for a in answers]
                assert statuses[3] == 429 and answers[3].headers["Retry-After"].isdigit()
            # The worker (a third process) applied the Follow once: one Accept came back.
            deadline = time.monotonic() + 30
            while not remote.received and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert [a["type"] for a in remote.received][:1] == ["Accept"]
    finally:
        for process in (other, worker):
            process.terminate()
            process.wait(timeout=15)
