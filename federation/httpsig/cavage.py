"""HTTP signatures as draft-cavage-http-signatures-12 describes and Mastodon practises them.

Signing covers `(request-target) host date` plus `digest` when there is a body, with
`(request-target)` = lowercase method, space, path *with* query. RSA keys sign as
`rsa-sha256`; Ed25519 keys as `hs2019` (the algorithm then comes from the key type).

Verification is split in two so that a request failing the cheap policy checks never costs
a key fetch: `check_request` (header set, clock, digest) and `verify_signature` (crypto).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation.httpsig.common import (
    BadSignature,
    HeaderInput,
    SignatureError,
    SkewWindow,
    check_lifetime,
    check_private_key,
    check_time,
    header_dict,
)
from federation.keys import PrivateKey, PublicKey, key_type_name

ALGORITHMS = ("rsa-sha256", "hs2019")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
_MAX_HEADER = 8192
_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^\s",]*))\s*(?:,|$)')


@dataclass(frozen=True)
class CavageSignature:
    """A parsed `Signature` header."""

    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes
    created: int | None = None
    expires: int | None = None


def body_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def _pseudo(name: str, value: int | None) -> str:
    if value is None:
        raise SignatureError(f"'{name}' is signed but the signature has no {name[1:-1]} parameter")
    return f"{name}: {value}"


def signing_string(
    names: Sequence[str],
    method: str,
    path_with_query: str,
    headers: dict[str, str],
    *,
    created: int | None = None,
    expires: int | None = None,
) -> str:
    """The text that is signed; `headers` must have lowercase names (see `header_dict`)."""
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {path_with_query}")
        elif name == "(created)":
            lines.append(_pseudo(name, created))
        elif name == "(expires)":
            lines.append(_pseudo(name, expires))
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise SignatureError(f"signed header '{name}' is missing from the request")
    return "\n".join(lines)


def _sign(private_key: PrivateKey, data: bytes) -> tuple[str, bytes]:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return "rsa-sha256", private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return "hs2019", private_key.sign(data)


def _signature_headers(
    method: str,
    path_with_query: str,
    host: str,
    date: str,
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
) -> dict[str, str]:
    if '"' in key_id:
        raise ValueError("a keyId cannot contain a double quote")
    added = {"host": host, "date": date}
    names = ["(request-target)", "host", "date"]
    if body or method.upper() in BODY_METHODS:
        added["digest"] = body_digest(body or b"")
        names.append("digest")
    text = signing_string(names, method, path_with_query, added)
    algorithm, raw = _sign(private_key, text.encode("utf-8"))
    added["signature"] = (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(raw).decode("ascii")}"'
    )
    return added


def sign_request(
    method: str,
    url: str,
    headers: HeaderInput,
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    *,
    now: float | None = None,
) -> dict[str, str]:
    """The request's headers plus `Host`, `Date`, `Digest` (for bodies) and `Signature`.

    An existing `Host` or `Date` is kept (and signed) as is; `Digest` is always recomputed.
    """
    check_private_key(private_key)
    given = header_dict(headers)
    target = httpx.URL(url)
    host = given.get("host") or target.netloc.decode("ascii")
    date = given.get("date") or formatdate(time.time() if now is None else now, usegmt=True)
    added = _signature_headers(
        method, target.raw_path.decode("ascii"), host, date, body, key_id, private_key
    )
    kept = {name: value for name, value in given.items() if name not in added}
    return {**kept, **{name.title(): value for name, value in added.items()}}


class CavageAuth(httpx.Auth):
    """Signs every request (GETs too, for authorized fetch) with draft-cavage signatures."""

    requires_request_body = True

    def __init__(self, key_id: str, private_key: PrivateKey) -> None:
        check_private_key(private_key)
        self.key_id = key_id
        self.private_key = private_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        host = request.headers.get("host") or request.url.netloc.decode("ascii")
        date = request.headers.get("date") or formatdate(usegmt=True)
        added = _signature_headers(
            request.method,
            request.url.raw_path.decode("ascii"),
            host,
            date,
            request.content,
            self.key_id,
            self.private_key,
        )
        for name, value in added.items():
            request.headers[name.title()] = value
        yield request


def parse_signature_header(value: str) -> CavageSignature:
    """Parse `keyId="…",algorithm="…",headers="…",signature="…"`. Raises `SignatureError`."""
    if not isinstance(value, str) or not value.strip():
        raise SignatureError("the Signature header is empty")
    if len(value) > _MAX_HEADER:
        raise SignatureError(f"the Signature header is longer than {_MAX_HEADER} characters")
    params: dict[str, str] = {}
    position = 0
    text = value.strip()
    while position < len(text):
        match = _PARAM.match(text, position)
        if match is None or match.end() == position:
            snippet = text[position : position + 30]
            raise SignatureError(f"malformed Signature header near {snippet!r}")
        name = match.group(1).lower()
        if name in params:
            raise SignatureError(f"the Signature header repeats '{name}'")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
    for required, spelled in (("keyid", "keyId"), ("signature", "signature")):
        if not params.get(required):
            raise SignatureError(f"the Signature header has no {spelled}")
    try:
        raw = base64.b64decode(params["signature"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("the signature is not valid base64") from exc
    return CavageSignature(
        key_id=params["keyid"],
        algorithm=params.get("algorithm", "hs2019").lower(),
        headers=tuple(params.get("headers", "date").lower().split()),
        signature=raw,
        created=_int_param(params, "created"),
        expires=_int_param(params, "expires"),
    )


def _int_param(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        return int(float(params[name]))
    except (ValueError, OverflowError) as exc:
        raise SignatureError(f"the signature's {name} parameter is not a number") from exc


def check_digest(value: str, body: bytes) -> None:
    """`Digest: SHA-256=…` (algorithm names compared case-insensitively) against the body."""
    entries = []
    for part in value.split(","):
        algorithm, sep, encoded = part.strip().partition("=")
        if not sep or not encoded:
            raise SignatureError(f"the Digest header is malformed: {value[:60]!r}")
        entries.append((algorithm.strip().lower(), encoded.strip()))
    supported = [(name, encoded) for name, encoded in entries if name in _DIGESTS]
    if not supported:
        used = ", ".join(name for name, _ in entries)
        raise SignatureError(f"the Digest uses {used}; only SHA-256 and SHA-512 are accepted")
    for name, encoded in supported:
        try:
            expected = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureError(f"the {name} digest is not valid base64") from exc
        if not hmac.compare_digest(expected, _DIGESTS[name](body).digest()):
            raise SignatureError("digest does not match the body")


def check_request(
    sig: CavageSignature,
    method: str,
    headers: dict[str, str],
    body: bytes,
    *,
    window: SkewWindow,
    require_digest: bool = True,
    now: float | None = None,
) -> None:
    """Everything that can be checked without the key (Mastodon's rules). `headers` lowercased."""
    now = time.time() if now is None else now
    method = method.upper()
    names = set(sig.headers)
    if sig.algorithm not in ALGORITHMS:
        raise SignatureError(
            f"unsupported signature algorithm '{sig.algorithm}'; only rsa-sha256 and hs2019"
        )
    if "date" not in names and "(created)" not in names:
        raise SignatureError("signed headers lack 'date' (or '(created)')")
    if "(request-target)" not in names and "digest" not in names:
        raise SignatureError("signed headers lack '(request-target)' (or 'digest')")
    if method in ("GET", "HEAD") and "host" not in names:
        raise SignatureError(f"signed headers lack 'host' on a {method}")
    if method in BODY_METHODS and require_digest and "digest" not in names:
        raise SignatureError(f"signed headers lack 'digest' on a {method}")
    for name in sig.headers:
        if not name.startswith("(") and name not in headers:
            raise SignatureError(f"signed header '{name}' is missing from the request")
    for pseudo, value in (("(created)", sig.created), ("(expires)", sig.expires)):
        if pseudo in names and value is None:
            raise SignatureError(
                f"'{pseudo}' is signed but the signature has no {pseudo[1:-1]} parameter"
            )
    check_lifetime(
        sig.created if "(created)" in names else None,
        sig.expires if "(expires)" in names else None,
        now,
        window,
    )
    if "date" in names:
        try:
            date = parsedate_to_datetime(headers["date"])
        except (TypeError, ValueError) as exc:
            message = f"the Date header is not an HTTP date: {headers['date']!r}"
            raise SignatureError(message) from exc
        if date.tzinfo is None:
            raise SignatureError(f"the Date header has no time zone: {headers['date']!r}")
        check_time("Date header", date.timestamp(), now, window)
    if "digest" in headers:
        check_digest(headers["digest"], body)


def _verify_rsa(key: rsa.RSAPublicKey, signature: bytes, data: bytes, pss_too: bool) -> bool:
    schemes = [(padding.PKCS1v15(), hashes.SHA256())]
    if pss_too:  # hs2019 with RSA is PKCS#1 v1.5/SHA-256 in practice, PSS/SHA-512 on paper
        pss = padding.PSS(padding.MGF1(hashes.SHA512()), padding.PSS.AUTO)
        schemes.append((pss, hashes.SHA512()))
    for pad, digest in schemes:
        try:
            key.verify(signature, data, pad, digest)
            return True
        except (InvalidSignature, ValueError):
            continue
    return False


def verify_signature(
    sig: CavageSignature,
    method: str,
    path_with_query: str,
    headers: dict[str, str],
    public_key: PublicKey,
) -> None:
    """The cryptographic check. Raises `BadSignature` (worth a key refetch) on failure."""
    ed_key = isinstance(public_key, ed25519.Ed25519PublicKey)
    if not isinstance(public_key, rsa.RSAPublicKey) and not (ed_key and sig.algorithm == "hs2019"):
        raise BadSignature(
            f"algorithm {sig.algorithm} cannot be used with the {key_type_name(public_key)} "
            f"key {sig.key_id}"
        )
    targets = [path_with_query]
    if "?" in path_with_query and "(request-target)" in sig.headers:
        # Mastodon before 4.3 left the query out of (request-target); still accept that.
        targets.append(path_with_query.split("?", 1)[0])
    for target in targets:
        text = signing_string(
            sig.headers, method, target, headers, created=sig.created, expires=sig.expires
        ).encode("utf-8")
        if _crypto_ok(public_key, sig, text):
            return
    raise BadSignature(f"the signature does not verify with the key {sig.key_id}")


def _crypto_ok(public_key: PublicKey, sig: CavageSignature, text: bytes) -> bool:
    if isinstance(public_key, rsa.RSAPublicKey):
        return _verify_rsa(public_key, sig.signature, text, pss_too=sig.algorithm == "hs2019")
    try:
        public_key.verify(sig.signature, text)
        return True
    except (InvalidSignature, ValueError):
        return False


def verify(
    method: str,
    path_with_query: str,
    headers: HeaderInput,
    body: bytes,
    public_key: PublicKey,
    *,
    window: SkewWindow | None = None,
    require_digest: bool = True,
    now: float | None = None,
) -> CavageSignature:
    """Parse, check and verify a cavage-signed request against a key already in hand.

    Incoming requests normally go through `verify_request`, which also resolves the key.
    """
    fields = header_dict(headers)
    if "signature" not in fields:
        raise SignatureError("the request is not signed (no Signature header)")
    sig = parse_signature_header(fields["signature"])
    check_request(
        sig,
        method,
        fields,
        body,
        window=window or SkewWindow(),
        require_digest=require_digest,
        now=now,
    )
    verify_signature(sig, method, path_with_query, fields, public_key)
    return sig
