"""The published draft-cavage-http-signatures-12 vectors (Appendix C), verified end to end."""

from email.utils import parsedate_to_datetime

import pytest

from federation import keys
from federation.httpsig import BadSignature, parse_signature_header, verify_request
from federation.httpsig.cavage import verify_signature
from federation.keys import PublicKeyInfo

# The draft's "Test" key (Appendix C), public half.
TEST_KEY = keys.load_public_key_pem(
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3\n"
    "6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6\n"
    "Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw\n"
    "oYi+1hqp1fIekaxsyQIDAQAB\n"
    "-----END PUBLIC KEY-----\n"
)
URL = "https://example.com/foo?param=value&pet=dog"
BODY = b'{"hello": "world"}'
HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
NOW = parsedate_to_datetime(HEADERS["Date"]).timestamp() + 30
C2 = (
    'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",'
    'signature="qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndm'
    "w2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="
    '"'
)
C3 = (
    'keyId="Test",algorithm="rsa-sha256",'
    'headers="(request-target) host date content-type digest content-length",'
    'signature="vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKB'
    "IvB1q52LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
    '"'
)
LOWERED = {name.lower(): value for name, value in HEADERS.items()}


async def resolver(key_id: str, refresh: bool) -> PublicKeyInfo:
    return PublicKeyInfo(key_id, "https://example.com/test", TEST_KEY)


def test_c2_basic_signature_string() -> None:
    verify_signature(
        parse_signature_header(C2), "POST", "/foo?param=value&pet=dog", LOWERED, TEST_KEY
    )
    with pytest.raises(BadSignature):
        verify_signature(
            parse_signature_header(C2), "PUT", "/foo?param=value&pet=dog", LOWERED, TEST_KEY
        )


async def test_c3_all_headers_through_the_entry_point() -> None:
    result = await verify_request(
        "POST", URL, {**HEADERS, "Signature": C3}, BODY, resolver, now=NOW
    )
    assert result.key_id == "Test" and result.scheme == "cavage"
    with pytest.raises(BadSignature):
        await verify_request(
            "POST", URL.replace("dog", "cat"), {**HEADERS, "Signature": C3}, BODY, resolver, now=NOW
        )
