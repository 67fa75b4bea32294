import base64
import hashlib
import time

import pytest

from federation.httpsig import (
    CavageAuth,
    Rfc9421Auth,
    SignatureError,
    cavage,
    parse_signature_header,
    rfc9421,
    sign_request,
)
from federation.httpsig.cavage import check_digest
from federation.httpsig.common import SkewWindow
from tests.federation.sigtools import KEY_ID, signed

URL = "https://registry.example/inbox?page=2&x=%2F"


def test_sign_request_adds_host_date_digest_signature(rsa_key) -> None:
    out = sign_request(
        "POST", URL, {"Content-Type": "application/activity+json"}, b"{}", KEY_ID, rsa_key
    )
    assert out["Host"] == "registry.example"
    assert out["Digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(b"{}").digest()).decode()
    assert out["content-type"] == "application/activity+json"
    sig = parse_signature_header(out["Signature"])
    assert sig.key_id == KEY_ID and sig.algorithm == "rsa-sha256"
    assert sig.headers == ("(request-target)", "host", "date", "digest")
    assert len(sig.signature) == 256


def test_ed25519_signs_as_hs2019_and_gets_without_digest(ed_key) -> None:
    request = signed(CavageAuth(KEY_ID, ed_key), "GET", URL)
    sig = parse_signature_header(request.headers["signature"])
    assert sig.algorithm == "hs2019"
    assert sig.headers == ("(request-target)", "host", "date")
    assert "digest" not in request.headers


def test_existing_date_and_host_are_signed_as_given(rsa_key) -> None:
    given = {"Host": "registry.example:8443", "Date": "Mon, 23 Nov 2026 06:00:00 GMT"}
    out = sign_request("GET", URL, given, None, KEY_ID, rsa_key)
    assert out["Host"] == "registry.example:8443"
    assert out["Date"] == "Mon, 23 Nov 2026 06:00:00 GMT"
    assert len([name for name in out if name.lower() == "host"]) == 1


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("garbage", "malformed"),
        ('keyId="a",signature="AAAA",keyId="b"', "repeats"),
        ('algorithm="rsa-sha256",signature="AAAA"', "no keyId"),
        ('keyId="a",algorithm="rsa-sha256"', "no signature"),
        ('keyId="a",signature="not base64!!"', "base64"),
        ('keyId="a" signature="AAAA"', "malformed"),
        ('keyId="a",created=soon,signature="AAAA"', "not a number"),
        ('keyId="unterminated,signature="AAAA"', "malformed"),
        ("x" * 9000, "longer"),
    ],
)
def test_parse_rejects_malformed_headers(value: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        parse_signature_header(value)


def test_parse_defaults_follow_the_draft() -> None:
    sig = parse_signature_header('keyId="k", signature="AAAA"')
    assert sig.algorithm == "hs2019" and sig.headers == ("date",)
    sig = parse_signature_header(
        'keyId="k",algorithm="RSA-SHA256",created=1700000000,signature="AAAA"'
    )
    assert sig.algorithm == "rsa-sha256" and sig.created == 1700000000


@pytest.mark.parametrize(
    "header",
    [
        "SHA-256=" + base64.b64encode(hashlib.sha256(b"body").digest()).decode(),
        "sha-256=" + base64.b64encode(hashlib.sha256(b"body").digest()).decode(),  # bovine
        "SHA-512=" + base64.b64encode(hashlib.sha512(b"body").digest()).decode(),
        "MD5=abc, SHA-256=" + base64.b64encode(hashlib.sha256(b"body").digest()).decode(),
    ],
)
def test_digest_accepts_sha256_and_sha512_in_any_case(header: str) -> None:
    check_digest(header, b"body")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (
            "SHA-256=" + base64.b64encode(hashlib.sha256(b"other").digest()).decode(),
            "does not match",
        ),
        ("MD5=" + base64.b64encode(hashlib.md5(b"body").digest()).decode(), "only SHA-256"),
        ("SHA-256=%%%%", "base64"),
        ("SHA-256", "malformed"),
    ],
)
def test_digest_rejections(header: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        check_digest(header, b"body")


def test_window_defaults_to_one_hour_back_five_minutes_ahead() -> None:
    window = SkewWindow()
    assert window.past.total_seconds() == 3600 and window.future.total_seconds() == 300


def test_signing_is_fast_enough(rsa_key) -> None:
    start = time.perf_counter()
    for _ in range(20):
        sign_request("POST", URL, {}, b"{}", KEY_ID, rsa_key)
    assert time.perf_counter() - start < 1.0


def test_verify_with_a_key_in_hand(rsa_key, ed_key) -> None:
    request = signed(CavageAuth(KEY_ID, ed_key), "POST", URL, b"{}")
    sig = cavage.verify("POST", "/inbox?page=2&x=%2F", request.headers, b"{}", ed_key.public_key())
    assert sig.key_id == KEY_ID
    with pytest.raises(SignatureError, match="not signed"):
        cavage.verify("POST", "/inbox", {}, b"{}", ed_key.public_key())
    request = signed(Rfc9421Auth(KEY_ID, rsa_key), "POST", URL, b"{}")
    assert (
        rfc9421.verify("POST", URL, request.headers, b"{}", rsa_key.public_key()).key_id == KEY_ID
    )
