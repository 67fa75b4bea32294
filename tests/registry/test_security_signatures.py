"""Every way an inbox POST's HTTP signature can be wrong is answered 401 with a problem
document, and changes nothing: no inbox row, no follower, no asset, nothing sent back.
The activities are a Follow and a partner's Create, which a valid signature turns into a
follower and an asset (the control test), so "nothing changed" means something."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from federation import keys
from federation.httpsig import Rfc9421Auth, sign_request
from federation.httpsig.cavage import body_digest, signing_string
from federation.tables import inbox_items
from registry.runtime import Runtime
from tests.registry.test_security_helpers import (
    BASE,
    Partner,
    assert_problem,
    count,
    make_partner,
    nothing_changed,
    process,
    running_node,
)
from tests.remote_actor import serving

INBOX = f"{BASE}/inbox"
JSON = {"Content-Type": "application/activity+json"}


@pytest.fixture
async def partner() -> AsyncIterator[Partner]:
    async with serving(Partner()) as remote:
        yield remote


@pytest.fixture
async def node(
    make_app: Callable[..., object], partner: Partner
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    async with running_node(make_app) as (http, runtime):
        await make_partner(runtime, partner)
        yield http, runtime


def activity_body(partner: Partner, kind: str) -> bytes:
    if kind == "Follow":
        activity = partner.activity("Follow", f"{BASE}/actor")
    else:
        activity = partner.activity("Create", partner.asset())
    return httpx.Request("POST", INBOX, json=activity).content


def hand_signed(
    partner: Partner,
    names: list[str],
    body: bytes,
    *,
    algorithm: str = "rsa-sha256",
    date: str | None = None,
) -> dict[str, str]:
    """A cavage signature over exactly `names`, made with the partner's real key."""
    fields = {
        "host": "registry.test",
        "date": date or email.utils.formatdate(usegmt=True),
        "digest": body_digest(body),
        **JSON,
    }
    text = signing_string(names, "POST", "/inbox", fields).encode()
    raw = partner.key.sign(text, padding.PKCS1v15(), hashes.SHA256())
    fields["signature"] = (
        f'keyId="{partner.key_id}",algorithm="{algorithm}",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(raw).decode()}"'
    )
    return fields


def signed(partner: Partner, body: bytes, **headers: str) -> dict[str, str]:
    return sign_request("POST", INBOX, {**JSON, **headers}, body, partner.key_id, partner.key)


def rfc9421_signed(partner: Partner, body: bytes) -> dict[str, str]:
    request = httpx.Request("POST", INBOX, content=body, headers=JSON)
    return dict(next(Rfc9421Auth(partner.key_id, partner.key).auth_flow(request)).headers)


def ago(seconds: float) -> str:
    return email.utils.formatdate(time.time() - seconds, usegmt=True)


def tampered(body: bytes) -> bytes:
    """Still the same JSON, but not the same bytes."""
    return body[:-1] + b" }"


# Each case: (headers, body actually sent, a word the problem's detail must contain).
def bad_request(case: str, partner: Partner, body: bytes) -> tuple[dict[str, str], bytes, str]:
    full = ["(request-target)", "host", "date", "digest"]
    if case == "missing":
        return JSON, body, "not signed"
    if case == "malformed":
        return {**JSON, "Signature": 'keyId="x",signature="abc'}, body, "malformed"
    if case == "malformed-rfc9421":
        headers = {**JSON, "Signature-Input": "sig1=(", "Signature": "sig1=:AAAA:"}
        return headers, body, "structured-field"
    if case == "wrong-key":
        other = keys.generate_rsa_key()
        return sign_request("POST", INBOX, JSON, body, partner.key_id, other), body, "verify"
    if case == "wrong-algorithm":
        return hand_signed(partner, full, body, algorithm="hmac-sha256"), body, "algorithm"
    if case == "date-3h-old":
        return signed(partner, body, Date=ago(3 * 3600)), body, "old"
    if case == "date-1h-ahead":
        return signed(partner, body, Date=ago(-3600)), body, "future"
    if case == "digest-mismatch":  # body changed after signing, signed Digest kept
        return signed(partner, body), tampered(body), "digest"
    if case == "digest-swapped":  # body changed and Digest recomputed: the signature breaks
        headers = signed(partner, body)
        changed = tampered(body)
        return {**headers, "Digest": body_digest(changed)}, changed, "verify"
    if case == "content-digest-mismatch":
        return rfc9421_signed(partner, body), tampered(body), "content-digest"
    if case == "only-date-signed":
        return hand_signed(partner, ["date"], body), body, "request-target"
    if case == "digest-not-signed":
        return hand_signed(partner, ["(request-target)", "host", "date"], body), body, "digest"
    if case == "date-not-signed":
        return hand_signed(partner, ["(request-target)", "host", "digest"], body), body, "date"
    if case == "host-of-another-server":
        headers = sign_request(
            "POST", "http://elsewhere.test/inbox", JSON, body, partner.key_id, partner.key
        )
        return headers, body, "host"
    raise AssertionError(case)


CASES = [
    "missing",
    "malformed",
    "malformed-rfc9421",
    "wrong-key",
    "wrong-algorithm",
    "date-3h-old",
    "date-1h-ahead",
    "digest-mismatch",
    "digest-swapped",
    "content-digest-mismatch",
    "only-date-signed",
    "digest-not-signed",
    "date-not-signed",
    "host-of-another-server",
]


@pytest.mark.parametrize("kind", ["Follow", "Create"])
async def test_a_valid_signature_takes_effect(
    node: tuple[httpx.AsyncClient, Runtime], partner: Partner, kind: str
) -> None:
    """The control: the same requests, signed properly, add a follower or an asset."""
    http, runtime = node
    body = activity_body(partner, kind)
    for headers in (signed(partner, body), rfc9421_signed(partner, body)):
        response = await http.post("/inbox", content=body, headers=headers)
        assert response.status_code == 202, response.text
    await process(runtime)
    if kind == "Follow":
        assert [a["type"] for a in partner.received] == ["Accept"]
    else:
        assert (await http.get("/api/assets")).json()["items"][0]["name"].startswith("Jard")


@pytest.mark.parametrize("case", CASES)
async def test_bad_signature_is_401_and_changes_nothing(
    node: tuple[httpx.AsyncClient, Runtime], partner: Partner, case: str
) -> None:
    http, runtime = node
    for kind in ("Follow", "Create"):
        headers, sent, word = bad_request(case, partner, activity_body(partner, kind))
        response = await http.post("/inbox", content=sent, headers=headers)
        assert_problem(response, 401, word)
        assert response.headers["www-authenticate"].startswith("Signature")
    await process(runtime)
    await nothing_changed(runtime, partner)


async def test_captured_request_replayed(make_app: Callable[..., object], partner: Partner) -> None:
    """A captured request sent again is refused: 401 within the window (each signature is
    good for one request) and after it (the signature is stale); applied once either way.
    The same activity signed afresh, as an honest retry is, gets 202 as a duplicate."""
    async with running_node(make_app, federation={"clock_skew_past_seconds": 2}) as (
        http,
        runtime,
    ):
        body = activity_body(partner, "Follow")
        headers = signed(partner, body)
        first = await http.post("/inbox", content=body, headers=headers)
        again = await http.post("/inbox", content=body, headers=headers)
        assert first.status_code == 202
        assert_problem(again, 401, "replay")
        await asyncio.sleep(1.1)  # a retry signs again, with a new Date
        retry = await http.post("/inbox", content=body, headers=signed(partner, body))
        assert retry.status_code == 202 and retry.json()["duplicate"] is True
        await process(runtime)
        await process(runtime)
        assert [a["type"] for a in partner.received] == ["Accept"]
        assert await count(runtime.engine, inbox_items) == 1
        await asyncio.sleep(3.2)
        late = await http.post("/inbox", content=body, headers=headers)
        assert_problem(late, 401, "old")
        await process(runtime)
        assert await count(runtime.engine, inbox_items) == 1
        assert [a["type"] for a in partner.received] == ["Accept"]
