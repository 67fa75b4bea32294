"""RFC 9421 HTTP Message Signatures (with RFC 9530 `Content-Digest`), on http-message-signatures.

We sign `@method`, `@target-uri` and, for bodies, `content-digest`, with `created` and
`keyid`: what Mastodon 4.5 requires. Verification follows Mastodon's rules: exactly one
signature, `created` mandatory, `@method` and `@target-uri` covered, `content-digest` covered
and matching on POST. The algorithm comes from the key type (the `alg` parameter, when sent,
must agree with it).
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import http_sf
import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    algorithms,
)

from federation.httpsig.common import (
    BadSignature,
    HeaderInput,
    SignatureError,
    SkewWindow,
    check_lifetime,
    check_private_key,
    header_pairs,
)
from federation.keys import PrivateKey, PublicKey, key_type_name

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
DEFAULT_LABEL = "sig1"
RSA_ALGORITHMS = {
    "rsa-v1_5-sha256": algorithms.RSA_V1_5_SHA256,
    "rsa-pss-sha512": algorithms.RSA_PSS_SHA512,
}
ALGORITHMS = {**RSA_ALGORITHMS, "ed25519": algorithms.ED25519}
_REQUIRED = ("@method", "@target-uri")
_MAX_HEADER = 8192


class _OneKey(HTTPSignatureKeyResolver):
    """The library asks a resolver for keys by id; we always hold exactly the one we mean."""

    def __init__(self, key_id: str, *, private: Any = None, public: Any = None) -> None:
        self.key_id, self.private, self.public = key_id, private, public

    def resolve_private_key(self, key_id: str) -> Any:
        return self.private

    def resolve_public_key(self, key_id: str) -> Any:
        return self.public if key_id == self.key_id else None


class _Fields:
    """The minimum the library reads from headers during verification."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)


@dataclass
class _Message:
    method: str
    url: str
    headers: _Fields


def _signing_algorithm(key: PrivateKey, name: str | None) -> type:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        if name not in (None, "ed25519"):
            raise ValueError(f"an Ed25519 key cannot sign with {name}")
        return algorithms.ED25519
    if name is None:
        return algorithms.RSA_V1_5_SHA256
    if name not in RSA_ALGORITHMS:
        raise ValueError(f"an RSA key cannot sign with {name}")
    return RSA_ALGORITHMS[name]


def sign_message(
    message: Any,
    key_id: str,
    private_key: PrivateKey,
    *,
    body: bytes | None,
    algorithm: str | None = None,
    label: str = DEFAULT_LABEL,
    created: datetime | None = None,
) -> None:
    """Add `Signature-Input`, `Signature` (and `Content-Digest` when `body` is given) in place.

    `message` is anything with `.method`, `.url` and mutable `.headers` (an `httpx.Request`).
    """
    check_private_key(private_key)
    signer = HTTPMessageSigner(
        signature_algorithm=_signing_algorithm(private_key, algorithm),
        key_resolver=_OneKey(key_id, private=private_key),
    )
    for name in [name for name in message.headers if name.lower() == "content-digest"]:
        del message.headers[name]  # ours is computed from the body being sent
    signer.sign(
        message,
        key_id=key_id,
        created=created or datetime.now(UTC),
        label=label,
        covered_component_ids=_REQUIRED,
        body=body,
    )


class Rfc9421Auth(httpx.Auth):
    """Signs every request with an RFC 9421 signature (Content-Digest for bodies)."""

    requires_request_body = True

    def __init__(self, key_id: str, private_key: PrivateKey, *, algorithm: str | None = None):
        check_private_key(private_key)
        _signing_algorithm(private_key, algorithm)  # fail at construction, not per request
        self.key_id, self.private_key, self.algorithm = key_id, private_key, algorithm

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        has_body = bool(request.content) or request.method.upper() in BODY_METHODS
        sign_message(
            request,
            self.key_id,
            self.private_key,
            body=request.content if has_body else None,
            algorithm=self.algorithm,
        )
        yield request


@dataclass(frozen=True)
class Rfc9421Signature:
    """The one signature of a request, as parsed from `Signature-Input` and `Signature`."""

    label: str
    key_id: str
    components: tuple[str, ...]
    created: int
    expires: int | None
    alg: str | None
    value: bytes = b""  # the signature itself (what a replay guard remembers)


def _parse_dictionary(name: str, value: str | None) -> dict[str, Any]:
    if not value:
        raise SignatureError(f"the {name} header is missing")
    if len(value) > _MAX_HEADER:
        raise SignatureError(f"the {name} header is longer than {_MAX_HEADER} characters")
    try:
        parsed = http_sf.parse(value.encode("latin-1"), tltype="dictionary")
    except Exception as exc:  # http_sf raises several types for bad input
        raise SignatureError(f"the {name} header is not a structured-field dictionary") from exc
    if not isinstance(parsed, dict):
        raise SignatureError(f"the {name} header is not a structured-field dictionary")
    return parsed


def parse_signature(headers: dict[str, str]) -> Rfc9421Signature:
    """Parse and sanity-check the signature headers (lowercase names). Raises `SignatureError`."""
    inputs = _parse_dictionary("Signature-Input", headers.get("signature-input"))
    signatures = _parse_dictionary("Signature", headers.get("signature"))
    if len(inputs) != 1 or len(signatures) != 1:
        raise SignatureError(
            f"expected exactly one signature, found {len(inputs)} inputs and {len(signatures)}"
        )
    ((label, (members, params)),) = inputs.items()
    if label not in signatures:
        raise SignatureError(f"Signature has no entry for the label '{label}'")
    if not isinstance(members, list) or not isinstance(signatures[label][0], bytes):
        raise SignatureError("malformed signature: expected a component list and a byte sequence")
    names = []
    for value, item_params in members:
        if not isinstance(value, str):
            raise SignatureError("malformed signature: component names must be strings")
        names.append(value if not item_params else f"{value};{';'.join(item_params)}")
    key_id, created = params.get("keyid"), params.get("created")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("the signature has no keyid")
    if created is None:
        raise SignatureError("the signature has no created parameter")
    if type(created) is not int:
        raise SignatureError("the signature's created parameter is not an integer")
    expires, alg = params.get("expires"), params.get("alg")
    if expires is not None and type(expires) is not int:
        raise SignatureError("the signature's expires parameter is not an integer")
    if alg is not None and alg not in ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm '{alg}'")
    return Rfc9421Signature(
        label, key_id, tuple(names), created, expires, alg, signatures[label][0]
    )


def check_request(
    sig: Rfc9421Signature,
    method: str,
    headers: dict[str, str],
    body: bytes,
    *,
    window: SkewWindow,
    require_digest: bool = True,
    now: float | None = None,
) -> None:
    """Everything that can be checked without the key."""
    now = time.time() if now is None else now
    check_lifetime(sig.created, sig.expires, now, window)
    for component in _REQUIRED:
        if component not in sig.components:
            raise SignatureError(f"signed components lack '{component}'")
    method = method.upper()
    if method in BODY_METHODS and require_digest:
        if "content-digest" not in sig.components:
            raise SignatureError(f"signed components lack 'content-digest' on a {method}")
        if "content-digest" not in headers:
            raise SignatureError("the Content-Digest header is missing")
    if "content-digest" in headers:
        try:
            ContentDigest.verify(headers["content-digest"], body)
        except HTTPMessageSignaturesException as exc:
            if "does not match" in str(exc):
                raise SignatureError("content-digest does not match the body") from exc
            raise SignatureError(f"bad Content-Digest: {exc}") from exc


def _candidates(sig: Rfc9421Signature, public_key: PublicKey) -> list[type]:
    if isinstance(public_key, rsa.RSAPublicKey):
        if sig.alg is None:
            return list(RSA_ALGORITHMS.values())
        if sig.alg in RSA_ALGORITHMS:
            return [RSA_ALGORITHMS[sig.alg]]
    elif isinstance(public_key, ed25519.Ed25519PublicKey) and sig.alg in (None, "ed25519"):
        return [algorithms.ED25519]
    raise BadSignature(
        f"algorithm {sig.alg} cannot be used with the {key_type_name(public_key)} key {sig.key_id}"
    )


def verify_signature(
    sig: Rfc9421Signature,
    method: str,
    url: str,
    headers: HeaderInput,
    body: bytes,
    public_key: PublicKey,
    *,
    window: SkewWindow,
) -> None:
    """The cryptographic check. Raises `BadSignature` (worth a key refetch) on failure."""
    message = _Message(method.upper(), url, _Fields(header_pairs(headers)))
    failure = ""
    for algorithm in _candidates(sig, public_key):
        verifier = HTTPMessageVerifier(
            signature_algorithm=algorithm, key_resolver=_OneKey(sig.key_id, public=public_key)
        )
        # Times were checked against our window already; the library must not be stricter.
        verifier.max_clock_skew = max(window.future, timedelta(seconds=5))
        try:
            verifier.verify(
                message,
                max_age=None,
                require_components=_REQUIRED,
                body=body if "content-digest" in sig.components else None,
            )
            return
        except Exception as exc:  # hostile input must end as a refusal, whatever the library raises
            failure = str(exc) or type(exc).__name__
    raise BadSignature(f"the signature does not verify with the key {sig.key_id} ({failure})")


def verify(
    method: str,
    url: str,
    headers: HeaderInput,
    body: bytes,
    public_key: PublicKey,
    *,
    window: SkewWindow | None = None,
    require_digest: bool = True,
    now: float | None = None,
) -> Rfc9421Signature:
    """Parse, check and verify an RFC 9421-signed request against a key already in hand."""
    window = window or SkewWindow()
    pairs = header_pairs(headers)
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields[name] = f"{fields[name]}, {value}" if name in fields else value
    sig = parse_signature(fields)
    check_request(sig, method, fields, body, window=window, require_digest=require_digest, now=now)
    verify_signature(sig, method, url, pairs, body, public_key, window=window)
    return sig
