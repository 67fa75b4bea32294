"""Hypothesis-generated activities, signed with a real key, POSTed to a real node's inboxes
and then applied by its inbox processor: random and missing types, ids, actors and objects,
commons-asset documents with fields knocked out or replaced by junk, huge and deeply nested
values, any unicode. No request may get a 500, and neither the web side nor the processor may
log an error or a traceback.

The remote is a followed partner, so that Create/Update/Delete/Announce reach the mirror.
Every URL points at 127.0.0.1: nothing generated here makes the node look up another host.
CI sends a few hundred activities; `FUZZ_EXAMPLES=2000` sends more.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import hypothesis.strategies as st
import orjson
import pytest
from hypothesis import given
from sqlalchemy import func, insert, select

from federation.tables import following, inbox_items
from tests.fuzz.conftest import ThreadedServer, fuzz_settings, query, serve_in_thread, wait_for
from tests.remote_actor import AS, RemoteActor
from vocab import AssetMeta, asset_document, validate_asset_input

# The node under test runs in a thread of this process and uses `random` (retry jitter) while
# Hypothesis draws examples; Hypothesis notices and warns, though its own draws are unaffected.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

CI_EXAMPLES = 300
TYPES = (
    "Create",
    "Update",
    "Delete",
    "Announce",
    "Follow",
    "Accept",
    "Reject",
    "Undo",
    "Like",
    "Add",
    "Remove",
    "Move",
    "Flag",
    "Block",
    "Tombstone",
    "CommonsAsset",
)
ASSET = {
    "name": "Fuzzed tool library",
    "kind": "tool-library",
    "summary": "Drills & ladders",
    "description": "Borrow tools.\n\nOpen on Saturdays.",
    "tags": ["tools", "Sants"],
    "location": {"latitude": 41.37, "longitude": 2.13, "locality": "Barcelona", "country": "ES"},
    "steward": {"name": "Veïns de Sants"},
    "same_as": ["http://127.0.0.1:9/elsewhere"],
    "capacity": 12,
}


@pytest.fixture
def partner(fuzz_server: ThreadedServer) -> Any:
    """A remote actor on its own 127.0.0.1 port that the node follows (accepted)."""
    remote = RemoteActor()
    server, thread = serve_in_thread(remote.app(), remote.port)

    async def follow(conn: Any) -> None:
        await conn.execute(
            insert(following).values(
                actor=remote.actor,
                host=f"127.0.0.1:{remote.port}",
                follow_id=f"{fuzz_server.base_url}/activities/follow-fuzz",
                state="accepted",
                created_at=datetime.now(UTC),
                decided_at=datetime.now(UTC),
            )
        )

    query(fuzz_server.settings, follow, write=True)
    yield remote
    server.should_exit = True
    thread.join(timeout=30)


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    leaves = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**63), max_value=2**63 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=40)
    )
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def nasty_values() -> st.SearchStrategy[Any]:
    """Values that break careless code: huge, deep, odd numbers, odd text."""
    return st.sampled_from(
        [
            "x" * 300_000,
            ["y"] * 20_000,
            {"k": "v" * 5000},
            "\u202e\u0000\ufeff\U0001f9f0",
            "<script>alert(1)</script>",
            "javascript:alert(1)",
            "http://",
            "http://127.0.0.1:99999/",
            "http://[::1",
            "//127.0.0.1/x",
            "",
            " ",
            -1,
            2**63 - 1,
            1e308,
            -0.0,
            [],
            {},
            _nested(60),
            _nested(70),
        ]
    )


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def _urls(remote: RemoteActor, node: ThreadedServer) -> st.SearchStrategy[str]:
    paths = st.text(max_size=30).map(lambda s: s.replace("#", "%23"))
    bases = st.sampled_from(
        [remote.base, remote.actor, f"{remote.base}/assets", node.base_url, "http://127.0.0.1:9"]
    )
    return st.builds(lambda base, path: f"{base}/{path}", bases, paths)


@st.composite
def asset_documents(draw: st.DrawFn, remote: RemoteActor, node: ThreadedServer) -> dict:
    """A commons-asset document from the partner, then bent: fields dropped or replaced."""
    record = validate_asset_input(ASSET)
    iri = draw(
        st.one_of(
            st.just(f"{remote.base}/assets/1"),
            st.builds(lambda n: f"{remote.base}/assets/{n}", st.integers(0, 5)),
            _urls(remote, node),
        )
    )
    meta = AssetMeta(
        iri=iri,
        url=f"{remote.base}/p/1",
        attributed_to=remote.actor,
        published=datetime(2026, 1, 1, tzinfo=UTC),
        updated=draw(st.datetimes(timezones=st.just(UTC))),
    )
    doc = asset_document(record, meta, f"{remote.base}/tags")
    for key in draw(st.lists(st.sampled_from(sorted(doc)), max_size=4, unique=True)):
        if draw(st.booleans()):
            del doc[key]
        else:
            doc[key] = draw(json_values() | nasty_values())
    return doc


@st.composite
def activities(draw: st.DrawFn, remote: RemoteActor, node: ThreadedServer) -> dict:
    kind = draw(
        st.sampled_from(("Create", "Update", "Delete", "Announce"))
        | st.sampled_from(TYPES)
        | st.lists(st.sampled_from(TYPES), min_size=1, max_size=3)
        | st.text(max_size=20)
    )
    objects = (
        asset_documents(remote, node)
        | asset_documents(remote, node)
        | asset_documents(remote, node)
        | st.just(f"{node.base_url}/actor")
        | st.just(remote.actor)
        | _urls(remote, node)
        | st.builds(
            lambda t, o: {
                "id": f"{remote.actor}/activities/inner",
                "type": t,
                "actor": remote.actor,
                "object": o,
            },
            st.sampled_from(TYPES),
            st.just(f"{node.base_url}/actor") | _urls(remote, node),
        )
        | json_values()
        | nasty_values()
    )
    activity: dict[str, Any] = {
        "@context": draw(st.just(AS) | st.just([AS, {"x": "http://127.0.0.1:9/x"}])),
        "id": draw(
            st.uuids().map(lambda u: f"{remote.actor}/activities/{u}")
            | st.uuids().map(lambda u: f"{remote.actor}/activities/{u}")
            | st.text(min_size=1).map(lambda s: f"{remote.actor}/activities/{s}")
            | _urls(remote, node)
        ),
        "type": kind,
        "actor": draw(
            st.just(remote.actor)
            | st.just(remote.actor)
            | st.just({"id": remote.actor})
            | _urls(remote, node)
        ),
        "object": draw(objects),
    }
    extras = draw(
        st.dictionaries(
            st.sampled_from(("to", "cc", "target", "published", "proof")),
            json_values() | nasty_values(),
            max_size=2,
        )
    )
    activity.update(extras)
    for key in draw(st.lists(st.sampled_from(sorted(activity)), max_size=2, unique=True)):
        if draw(st.booleans()):
            del activity[key]
        else:
            activity[key] = draw(json_values() | nasty_values())
    return activity


def _raw_bodies() -> st.SearchStrategy[bytes]:
    """Bodies that are not a JSON document at all, or barely."""
    return st.sampled_from(
        [
            b"",
            b"null",
            b"[]",
            b'"Create"',
            b"{",
            b'{"id": "\\ud800"}',
            b'{"id": 1e999999}',
            b'{"id": 123456789012345678901234567890}',
            b"[" * 5000 + b"]" * 5000,
            b"\xff\xfe{}",
        ]
    ) | st.binary(max_size=200)


def test_inbox_survives_generated_activities(
    fuzz_server: ThreadedServer, partner: RemoteActor
) -> None:
    node = fuzz_server
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    serial = itertools.count()
    http = httpx.Client(base_url=node.base_url, timeout=60)

    @fuzz_settings(CI_EXAMPLES)
    @given(
        body=activities(partner, node) | _raw_bodies(),
        path=st.sampled_from(["/inbox", "/actor/inbox"]),
        media=st.sampled_from(
            [
                "application/activity+json",
                'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                "application/ld+json",  # no profile: 415, as text/plain
                "text/plain",
            ]
        ),
    )
    def post(body: dict | bytes, path: str, media: str) -> None:
        if isinstance(body, dict):
            if isinstance(body.get("id"), str):  # shrinking repeats ids; repeats are no-ops
                body["id"] += f"-{next(serial)}"
            body = orjson.dumps(body)
        response = http.post(
            path, content=body, auth=partner.auth(), headers={"Content-Type": media}
        )
        with lock:
            statuses[response.status_code] += 1
        assert response.status_code < 500, f"{body[:500]!r} -> {response.text[:2000]}"
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")

    post()
    http.close()

    async def unprocessed(conn: Any) -> int:
        # Pending and never tried (unhandled types are settled, as ignored, on arrival).
        query = select(func.count()).where(
            inbox_items.c.attempts == 0, inbox_items.c.state == "pending"
        )
        return (await conn.execute(query.select_from(inbox_items))).scalar_one()

    async def states(conn: Any) -> dict[str, int]:
        rows = await conn.execute(
            select(inbox_items.c.state, func.count()).group_by(inbox_items.c.state)
        )
        return dict(rows.all())

    wait_for(lambda: query(node.settings, unprocessed) == 0, what="the inbox to be processed")
    print(
        f"inbox fuzz: {sum(statuses.values())} POSTs, statuses {dict(statuses)}, "
        f"stored activities by state {query(node.settings, states)}"
    )
    assert not node.errors.records, node.errors.report()
    assert statuses[202] >= 10, "too few activities got through to the processor"
