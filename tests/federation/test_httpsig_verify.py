"""verify_request: both schemes, both key types, every rejection, key rotation."""

import base64
import contextlib
import hashlib
import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import formatdate

import pytest
from starlette.datastructures import Headers

from federation.httpsig import (
    BadSignature,
    CavageAuth,
    KeyUnavailable,
    Rfc9421Auth,
    SignatureError,
    SkewWindow,
    verify_request,
)
from federation.httpsig.rfc9421 import sign_message
from federation.keys import PublicKeyInfo
from tests.federation.sigtools import KEY_ID, OWNER, Resolver, hand_signed, signed

INBOX = "https://registry.example/inbox"
BODY = b'{"type":"Follow","actor":"https://peer.example/actor"}'
SCHEMES = [CavageAuth, Rfc9421Auth]


@pytest.fixture(params=["rsa", "ed25519"])
def key(request, rsa_key, ed_key):
    return rsa_key if request.param == "rsa" else ed_key


@pytest.mark.parametrize("auth_class", SCHEMES)
async def test_round_trip_post_and_get(auth_class, key) -> None:
    auth = auth_class(KEY_ID, key)
    resolver = Resolver(key.public_key())
    post = signed(auth, "POST", INBOX, BODY, **{"Content-Type": "application/activity+json"})
    result = await verify_request("POST", str(post.url), post.headers, post.content, resolver)
    assert (result.key_id, result.owner) == (KEY_ID, OWNER)
    assert result.scheme == ("rfc9421" if auth_class is Rfc9421Auth else "cavage")
    get = signed(auth, "GET", "https://registry.example/outbox?page=2&after=abc")
    result = await verify_request("GET", str(get.url), get.headers, b"", resolver)
    assert result.key_id == KEY_ID
    assert resolver.calls == [(KEY_ID, False), (KEY_ID, False)]


@pytest.mark.parametrize("auth_class", SCHEMES)
async def test_starlette_headers_and_pairs_are_accepted(auth_class, rsa_key) -> None:
    post = signed(auth_class(KEY_ID, rsa_key), "POST", INBOX, BODY)
    raw = [(k.encode(), v.encode()) for k, v in post.headers.multi_items()]
    for headers in (Headers(raw=raw), list(post.headers.multi_items()), dict(post.headers)):
        await verify_request("POST", INBOX, headers, BODY, Resolver(rsa_key.public_key()))


@pytest.mark.parametrize("auth_class", SCHEMES)
async def test_query_string_is_part_of_the_signature(auth_class, rsa_key) -> None:
    get = signed(auth_class(KEY_ID, rsa_key), "GET", "https://registry.example/outbox?page=2")
    with pytest.raises(BadSignature):
        await verify_request(
            "GET",
            "https://registry.example/outbox?page=3",
            get.headers,
            b"",
            Resolver(rsa_key.public_key()),
        )


async def test_mastodon_legacy_request_target_without_query_is_accepted(rsa_key) -> None:
    fields = hand_signed(
        rsa_key, ["(request-target)", "host", "date"], method="GET", path="/outbox", body=b""
    )
    result = await verify_request(
        "GET", "https://registry.example/outbox?page=2", fields, b"", Resolver(rsa_key.public_key())
    )
    assert result.scheme == "cavage"


async def test_unsigned_request() -> None:
    with pytest.raises(SignatureError, match="not signed"):
        await verify_request("POST", INBOX, {"Host": "registry.example"}, BODY, Resolver(None))


async def test_authorization_signature_form(rsa_key) -> None:
    post = signed(CavageAuth(KEY_ID, rsa_key), "POST", INBOX, BODY)
    headers = dict(post.headers)
    headers["authorization"] = "Signature " + headers.pop("signature")
    await verify_request("POST", INBOX, headers, BODY, Resolver(rsa_key.public_key()))


@pytest.mark.parametrize("auth_class", SCHEMES)
async def test_wrong_key_fails_after_one_refetch(auth_class, rsa_key, other_rsa_key) -> None:
    post = signed(auth_class(KEY_ID, rsa_key), "POST", INBOX, BODY)
    resolver = Resolver(other_rsa_key.public_key())
    with pytest.raises(BadSignature, match="has not changed"):
        await verify_request("POST", INBOX, post.headers, BODY, resolver)
    assert resolver.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.parametrize("auth_class", SCHEMES)
async def test_key_rotation_refetches_once_and_passes(auth_class, rsa_key, other_rsa_key) -> None:
    post = signed(auth_class(KEY_ID, rsa_key), "POST", INBOX, BODY)
    resolver = Resolver(other_rsa_key.public_key(), fresh=rsa_key.public_key())
    result = await verify_request("POST", INBOX, post.headers, BODY, resolver)
    assert result.key_id == KEY_ID
    assert resolver.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.parametrize("auth_class", SCHEMES)
async def test_wrong_key_type(auth_class, rsa_key, ed_key) -> None:
    post = signed(auth_class(KEY_ID, rsa_key), "POST", INBOX, BODY)
    with pytest.raises(BadSignature, match="cannot be used with the Ed25519 key"):
        await verify_request("POST", INBOX, post.headers, BODY, Resolver(ed_key.public_key()))


async def test_resolver_failures_become_key_unavailable(rsa_key) -> None:
    post = signed(CavageAuth(KEY_ID, rsa_key), "POST", INBOX, BODY)

    async def broken(key_id: str, refresh: bool) -> PublicKeyInfo:
        raise ConnectionError("peer.example is down")

    async def missing(key_id: str, refresh: bool) -> None:
        return None

    with pytest.raises(KeyUnavailable, match=r"peer\.example is down"):
        await verify_request("POST", INBOX, post.headers, BODY, broken)
    with pytest.raises(KeyUnavailable, match="could not be found"):
        await verify_request("POST", INBOX, post.headers, BODY, missing)


@pytest.mark.parametrize("auth_class", SCHEMES)
async def test_tampered_body(auth_class, rsa_key) -> None:
    post = signed(auth_class(KEY_ID, rsa_key), "POST", INBOX, BODY)
    resolver = Resolver(rsa_key.public_key())
    reason = (
        "content-digest does not match" if auth_class is Rfc9421Auth else "digest does not match"
    )
    with pytest.raises(SignatureError, match=reason):
        await verify_request(
            "POST", INBOX, post.headers, BODY.replace(b"Follow", b"Delete"), resolver
        )
    assert resolver.calls == []  # refused before any key lookup


async def test_cavage_digest_header_swapped_for_the_new_body(rsa_key) -> None:
    post = signed(CavageAuth(KEY_ID, rsa_key), "POST", INBOX, BODY)
    forged = b'{"type":"Delete"}'
    headers = dict(post.headers)
    headers["digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(forged).digest()).decode()
    with pytest.raises(BadSignature):
        await verify_request("POST", INBOX, headers, forged, Resolver(rsa_key.public_key()))


async def test_lowercase_digest_as_bovine_sends_it(rsa_key) -> None:
    fields = hand_signed(rsa_key, ["(request-target)", "host", "date", "digest"], body=BODY)
    fields["digest"] = fields["digest"].replace("SHA-256=", "sha-256=")
    fields = hand_signed(
        rsa_key,
        ["(request-target)", "host", "date", "digest"],
        body=BODY,
        headers={"digest": fields["digest"]},
    )
    await verify_request("POST", INBOX, fields, BODY, Resolver(rsa_key.public_key()))


async def test_date_three_hours_old(rsa_key) -> None:
    fields = hand_signed(
        rsa_key,
        ["(request-target)", "host", "date", "digest"],
        body=BODY,
        now=time.time() - 3 * 3600,
    )
    with pytest.raises(SignatureError, match="Date header is 3 h old; the window is 1 h"):
        await verify_request("POST", INBOX, fields, BODY, Resolver(rsa_key.public_key()))


async def test_date_one_hour_ahead(rsa_key) -> None:
    fields = hand_signed(
        rsa_key, ["(request-target)", "host", "date", "digest"], body=BODY, now=time.time() + 3600
    )
    with pytest.raises(SignatureError, match="Date header is 1 h in the future; at most 5 min"):
        await verify_request("POST", INBOX, fields, BODY, Resolver(rsa_key.public_key()))


async def test_window_is_configurable(rsa_key) -> None:
    fields = hand_signed(
        rsa_key, ["(request-target)", "host", "date", "digest"], body=BODY, now=time.time() - 600
    )
    resolver = Resolver(rsa_key.public_key())
    await verify_request("POST", INBOX, fields, BODY, resolver)
    with pytest.raises(SignatureError, match="10 min old; the window is 5 min"):
        await verify_request(
            "POST", INBOX, fields, BODY, resolver, window=SkewWindow(past=timedelta(minutes=5))
        )


@pytest.mark.parametrize(
    ("names", "method", "reason"),
    [
        (["date"], "POST", "lack '\\(request-target\\)'"),
        (["(request-target)", "host", "digest"], "POST", "lack 'date'"),
        (["(request-target)", "host", "date"], "POST", "lack 'digest' on a POST"),
        (["(request-target)", "date"], "GET", "lack 'host' on a GET"),
    ],
)
async def test_weak_signatures_are_refused(rsa_key, names, method, reason) -> None:
    body = BODY if method == "POST" else b""
    fields = hand_signed(rsa_key, names, method=method, body=body)
    resolver = Resolver(rsa_key.public_key())
    with pytest.raises(SignatureError, match=reason):
        await verify_request(method, INBOX, fields, body, resolver)
    assert resolver.calls == []


async def test_post_without_digest_allowed_when_not_required(rsa_key) -> None:
    fields = hand_signed(rsa_key, ["(request-target)", "host", "date"], body=b"")
    await verify_request(
        "POST", INBOX, fields, b"", Resolver(rsa_key.public_key()), require_digest=False
    )


async def test_signed_header_missing_from_request(rsa_key) -> None:
    fields = hand_signed(rsa_key, ["(request-target)", "host", "date", "digest"], body=BODY)
    del fields["host"]
    with pytest.raises(SignatureError, match="signed header 'host' is missing"):
        await verify_request("POST", INBOX, fields, BODY, Resolver(rsa_key.public_key()))


async def test_unknown_algorithm(rsa_key) -> None:
    fields = hand_signed(
        rsa_key, ["(request-target)", "host", "date", "digest"], algorithm="rsa-sha512"
    )
    with pytest.raises(SignatureError, match="unsupported signature algorithm 'rsa-sha512'"):
        await verify_request("POST", INBOX, fields, b"{}", Resolver(rsa_key.public_key()))


async def test_created_and_expires_are_honoured(ed_key) -> None:
    names = ["(request-target)", "(created)", "(expires)", "host", "digest"]
    now = int(time.time())
    resolver = Resolver(ed_key.public_key())
    fresh = hand_signed(
        ed_key, names, headers={"date": "junk"}, created=now - 10, expires=now + 300
    )
    await verify_request("POST", INBOX, fresh, b"{}", resolver)
    expired = hand_signed(ed_key, names, created=now - 1000, expires=now - 900)
    with pytest.raises(SignatureError, match="expired 15 min ago"):
        await verify_request("POST", INBOX, expired, b"{}", resolver)
    stale = hand_signed(ed_key, names, created=now - 7300, expires=now + 60)
    with pytest.raises(SignatureError, match="created time is 2 h old"):
        await verify_request("POST", INBOX, stale, b"{}", resolver)


async def test_created_signed_but_missing(ed_key) -> None:
    fields = hand_signed(ed_key, ["(request-target)", "host", "date", "digest"])
    fields["signature"] = fields["signature"].replace('headers="', 'headers="(created) ')
    with pytest.raises(SignatureError, match="no created parameter"):
        await verify_request("POST", INBOX, fields, b"{}", Resolver(ed_key.public_key()))


async def test_bad_date_header(rsa_key) -> None:
    fields = hand_signed(
        rsa_key, ["(request-target)", "host", "date", "digest"], headers={"date": "yesterday"}
    )
    with pytest.raises(SignatureError, match="not an HTTP date"):
        await verify_request("POST", INBOX, fields, b"{}", Resolver(rsa_key.public_key()))


async def test_rfc9421_rejections(rsa_key) -> None:
    post = signed(Rfc9421Auth(KEY_ID, rsa_key), "POST", INBOX, BODY)
    resolver = Resolver(rsa_key.public_key())
    headers = dict(post.headers)

    two = {
        **headers,
        "signature-input": headers["signature-input"]
        + ", "
        + headers["signature-input"].replace("sig1", "sig2"),
        "signature": headers["signature"] + ", " + headers["signature"].replace("sig1", "sig2"),
    }
    with pytest.raises(SignatureError, match="exactly one signature"):
        await verify_request("POST", INBOX, two, BODY, resolver)

    no_created = {
        **headers,
        "signature-input": headers["signature-input"].replace(";created=", ";x="),
    }
    with pytest.raises(SignatureError, match="no created"):
        await verify_request("POST", INBOX, no_created, BODY, resolver)

    no_target = {
        **headers,
        "signature-input": headers["signature-input"].replace(' "@target-uri"', ""),
    }
    with pytest.raises(SignatureError, match="lack '@target-uri'"):
        await verify_request("POST", INBOX, no_target, BODY, resolver)

    no_digest = {
        **headers,
        "signature-input": headers["signature-input"].replace(' "content-digest"', ""),
    }
    with pytest.raises(SignatureError, match="lack 'content-digest' on a POST"):
        await verify_request("POST", INBOX, no_digest, BODY, resolver)

    missing_digest = {k: v for k, v in headers.items() if k != "content-digest"}
    with pytest.raises(SignatureError, match="Content-Digest header is missing"):
        await verify_request("POST", INBOX, missing_digest, BODY, resolver)

    unknown_alg = {
        **headers,
        "signature-input": headers["signature-input"].replace("rsa-v1_5-sha256", "hmac-sha256"),
    }
    with pytest.raises(SignatureError, match="unsupported signature algorithm 'hmac-sha256'"):
        await verify_request("POST", INBOX, unknown_alg, BODY, resolver)

    garbage = {**headers, "signature-input": "sig1=(((", "signature": "sig1=:AAAA:"}
    with pytest.raises(SignatureError, match="structured-field"):
        await verify_request("POST", INBOX, garbage, BODY, resolver)

    with pytest.raises(BadSignature):
        await verify_request(
            "POST", "https://registry.example/other-inbox", headers, BODY, resolver
        )


async def test_rfc9421_stale_and_future_created(rsa_key) -> None:
    resolver = Resolver(rsa_key.public_key())
    for shift, reason in ((-2 * 3600, "2 h old"), (3600, "1 h in the future")):
        request = signed(Rfc9421Auth(KEY_ID, rsa_key), "GET", "https://registry.example/actor")
        sign_message(
            request,
            KEY_ID,
            rsa_key,
            body=None,
            created=datetime.now(UTC) + timedelta(seconds=shift),
        )
        with pytest.raises(SignatureError, match=reason):
            await verify_request("GET", str(request.url), request.headers, b"", resolver)


async def test_rfc9421_pss_and_explicit_algorithms(rsa_key, ed_key) -> None:
    auth = Rfc9421Auth(KEY_ID, rsa_key, algorithm="rsa-pss-sha512")
    post = signed(auth, "POST", INBOX, BODY)
    assert 'alg="rsa-pss-sha512"' in post.headers["signature-input"]
    await verify_request("POST", INBOX, post.headers, BODY, Resolver(rsa_key.public_key()))
    with pytest.raises(ValueError):
        Rfc9421Auth(KEY_ID, ed_key, algorithm="rsa-pss-sha512")


GARBAGE = [
    "",
    " ",
    ",",
    "=",
    '"',
    "keyId",
    'keyId="',
    "a=b=c",
    "\x00\x01\x02",
    "é" * 50,
    "sig1=:",
    "sig1=()",
    'sig1=("@method");created=1',
    "sig1=:@@@:",
    'keyId="k",signature="' + "A" * 5000 + '"',
    'keyId="k",headers="(request-target) host date digest",signature="AAAA"',
]


@pytest.mark.parametrize("value", GARBAGE)
async def test_garbage_never_escapes_as_another_exception(rsa_key, value) -> None:
    resolver = Resolver(rsa_key.public_key())
    base = {"host": "registry.example", "date": formatdate(usegmt=True), "digest": "SHA-256=AAAA"}
    for headers in (
        {**base, "signature": value},
        {**base, "signature-input": value, "signature": value},
        {
            **base,
            "signature-input": 'sig1=("@method" "@target-uri");created=1;keyid="k"',
            "signature": value,
        },
        {**base, "authorization": "Signature " + value},
        {**base, "signature": value, "digest": value},
        {**base, "signature-input": value, "signature": "sig1=:AAAA:", "content-digest": value},
    ):
        with pytest.raises(SignatureError):
            await verify_request("POST", INBOX, headers, BODY, resolver)


async def test_random_mutations_of_valid_headers(rsa_key, ed_key) -> None:
    rng = random.Random(1234)
    for key, auth_class in ((rsa_key, CavageAuth), (ed_key, Rfc9421Auth)):
        post = signed(auth_class(KEY_ID, key), "POST", INBOX, BODY)
        resolver = Resolver(key.public_key())
        for _ in range(150):
            headers = dict(post.headers)
            name = rng.choice(
                ["signature", "signature-input", "digest", "content-digest", "date", "host"]
            )
            if name not in headers:
                continue
            value = list(headers[name])
            for _ in range(rng.randint(1, 4)):
                value[rng.randrange(len(value))] = chr(rng.randrange(32, 127))
            headers[name] = "".join(value)
            with contextlib.suppress(SignatureError):
                await verify_request("POST", INBOX, headers, BODY, resolver)


async def test_signature_made_for_another_server_is_refused(rsa_key) -> None:
    post = signed(CavageAuth(KEY_ID, rsa_key), "POST", "https://other.example/inbox", BODY)
    resolver = Resolver(rsa_key.public_key())
    with pytest.raises(SignatureError, match="does not name this server"):
        await verify_request("POST", INBOX, post.headers, BODY, resolver)
    assert resolver.calls == []


async def test_default_ports_do_not_count_as_another_server(rsa_key) -> None:
    post = signed(CavageAuth(KEY_ID, rsa_key), "POST", INBOX, BODY, Host="Registry.Example:443")
    await verify_request("POST", INBOX, post.headers, BODY, Resolver(rsa_key.public_key()))


@pytest.mark.parametrize("auth_class", SCHEMES)
async def test_one_shot_header_iterables(auth_class, rsa_key) -> None:
    post = signed(auth_class(KEY_ID, rsa_key), "POST", INBOX, BODY)
    pairs = iter(list(post.headers.multi_items()))
    await verify_request("POST", INBOX, pairs, BODY, Resolver(rsa_key.public_key()))
