"""Self-tests of the interop harness, without our server: the peers against each other.

(i)  two bovine-herd servers: one follows the other, the followed one accepts, publishes a
     Note, and it reaches the follower's inbox;
(ii) fediverse-pasture's verify_actor against a bovine-herd actor returns a parsed result.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.interop.peers import (
    HERE,
    IDEAL_PASTURE_RESULT,
    PASTURE_ACTORS,
    BovineHerd,
    PastureVerifier,
    format_result,
    is_ideal,
)

pytestmark = pytest.mark.interop


def test_is_ideal_accepts_the_documented_profile() -> None:
    ok, summary = is_ideal({"result": IDEAL_PASTURE_RESULT, "messages": []})
    assert ok, summary
    assert summary.startswith("alice get✓ post✗ | bob get✓ post✓")


def test_is_ideal_explains_each_deviation() -> None:
    result = {**IDEAL_PASTURE_RESULT, "alice": {"get_actor": True, "post_inbox": True}}
    result["claire"] = {"get_actor": True, "post_inbox": False}
    result["webfinger"] = False
    ok, why = is_ideal(result)
    assert not ok
    lines = why.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("alice.post_inbox: expected False")
    assert "signed GET" in lines[1]
    assert lines[2].startswith("webfinger: expected True")


def test_loopback_guard_refuses_other_hosts() -> None:
    """The guard the peers import: no lookup of a public name, no connect to a non-loopback
    address (checked in a child process: importing it patches the socket module)."""
    script = (
        "import loopback_guard, socket\n"
        "assert loopback_guard.is_loopback_host('127.0.0.1')\n"
        "assert loopback_guard.is_loopback_host('localhost')\n"
        "assert loopback_guard.is_loopback_host('::1')\n"
        "assert not loopback_guard.is_loopback_host('10.0.0.1')\n"
        "socket.getaddrinfo('127.0.0.1', 80)\n"
        "try:\n"
        "    socket.getaddrinfo('w3id.org', 443)\n"
        "except socket.gaierror as e:\n"
        "    assert 'loopback_guard' in str(e)\n"
        "else:\n"
        "    raise SystemExit('lookup not refused')\n"
        "s = socket.socket()\n"
        "try:\n"
        "    s.connect(('192.0.2.1', 80))\n"
        "except OSError as e:\n"
        "    assert 'loopback_guard' in str(e), e\n"
        "else:\n"
        "    raise SystemExit('connect not refused')\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=HERE, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


async def test_two_herds_follow_accept_and_deliver_a_note(
    herd_factory: Callable[..., BovineHerd],
) -> None:
    follower, followed = await asyncio.gather(
        asyncio.to_thread(herd_factory, "milkdrinker"),
        asyncio.to_thread(herd_factory, "cowherd"),
    )
    assert follower.port != followed.port
    logs = lambda: (  # noqa: E731
        f"\n--- follower log ---\n{follower.log_tail(40)}"
        f"\n--- followed log ---\n{followed.log_tail(40)}"
    )

    # 1. Follow travels from the follower's outbox to the followed actor's inbox
    follow_id = await follower.follow(followed.actor_uri)
    assert follow_id.startswith(follower.base_url + "/"), follow_id
    follow = await followed.wait_for_inbox(
        lambda item: item.get("type") == "Follow" and item.get("id") == follow_id,
        what="the Follow in the followed actor's inbox",
    )
    assert follow["actor"] == follower.actor_uri, follow

    # 2. Accept (bovine-herd does not auto-accept: the harness has the actor send it)
    accepts = await followed.accept_follows()
    assert len(accepts) == 1, accepts
    assert await followed.accept_follows() == []  # idempotent
    accept = await follower.wait_for_inbox(
        lambda item: item.get("type") == "Accept", what="the Accept in the follower's inbox"
    )
    accepted = accept["object"]
    assert (accepted.get("id") if isinstance(accepted, dict) else accepted) == follow_id, accept
    assert await follower.wait_for(
        lambda: _contains(follower.following(), followed.actor_uri), what="following updated"
    ), logs()
    assert followed.actor_uri in await follower.following()
    assert follower.actor_uri in await followed.followers()

    # 3. Create(Note) to the followers reaches the follower's inbox
    create_id = await followed.publish_note("<p>Fresh milk at the commons</p>")
    create = await follower.wait_for_inbox(
        lambda item: item.get("type") == "Create" and item.get("id") == create_id,
        what="the Create in the follower's inbox",
    )
    assert create["actor"] == followed.actor_uri, create
    note = create["object"]
    assert isinstance(note, dict), create
    assert note["type"] == "Note", note
    assert note["content"] == "<p>Fresh milk at the commons</p>", note
    assert note["attributedTo"] == followed.actor_uri, note

    # 4. Undo(Follow) removes the follower again
    await follower.unfollow(followed.actor_uri)
    assert await followed.wait_for(
        lambda: _lacks(followed.followers(), follower.actor_uri), what="follower removed"
    ), logs()


async def test_pasture_verifies_a_herd_actor(pasture: PastureVerifier, herd: BovineHerd) -> None:
    result = await pasture.verify(herd.actor_uri)
    inner = result["result"]
    assert set(inner) == {*PASTURE_ACTORS, "webfinger"}, result
    assert result["messages"] and all(isinstance(step, str) for step in result["messages"])

    # bovine-herd serves actors only to signed GETs (authorized fetch), so the actors that
    # fetch without a signature (alice, dean) cannot get it; everything signed works.
    summary = format_result(result)
    expected = {
        "alice": {"get_actor": False, "post_inbox": False},
        "bob": {"get_actor": True, "post_inbox": True},
        "claire": {"get_actor": True, "post_inbox": True},
        "dean": {"get_actor": False, "post_inbox": False},
        "emily": {"get_actor": True, "post_inbox": True},
        "frank": {"get_actor": True, "post_inbox": True},
        "webfinger": True,
    }
    assert inner == expected, (
        f"{summary}\n" + "\n".join(result["messages"][-30:]) + "\n" + herd.log_tail()
    )
    ok, why = is_ideal(result)
    assert not ok
    assert why.splitlines()[0].startswith("alice.get_actor: expected True"), why

    # the acct: form goes through WebFinger first and gives the same answer
    by_acct = await pasture.verify(herd.acct, only=["bob"])
    assert by_acct["result"]["bob"] == {"get_actor": True, "post_inbox": True}, by_acct
    assert by_acct["result"]["webfinger"] is True
    assert any(herd.actor_uri in step for step in by_acct["messages"]), by_acct["messages"]


async def _contains(items_coro, value) -> bool:
    return value in await items_coro


async def _lacks(items_coro, value) -> bool:
    return value not in await items_coro
