"""One entry point for incoming signed requests, whichever scheme the peer used.

`Signature-Input` present means RFC 9421, otherwise draft-cavage (`Signature`, or
`Authorization: Signature …`). Policy checks (header set, clock, digest) run before the key
is resolved, so junk never costs a fetch. A cryptographic failure with a cached key triggers
one refetch (`refresh=True`) and one retry: peers rotate keys without telling anyone.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from federation.hosts import InvalidHost, normalize_host
from federation.httpsig import cavage, rfc9421
from federation.httpsig.common import (
    BadSignature,
    HeaderInput,
    KeyUnavailable,
    SignatureError,
    SkewWindow,
    header_dict,
    header_pairs,
)
from federation.keys import PublicKeyInfo, same_public_key

KeyResolver = Callable[[str, bool], Awaitable[PublicKeyInfo | None]]
Scheme = Literal["cavage", "rfc9421"]


@dataclass(frozen=True)
class VerifiedSignature:
    """Who signed. The caller still checks that `owner` is the activity's actor."""

    key_id: str
    scheme: Scheme
    owner: str
    # The signature bytes, whichever header carried them (`Signature`, `Authorization:
    # Signature`, RFC 9421's `Signature`): one signature is one request, however it is sent.
    value: bytes = b""


def _path_with_query(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise SignatureError(f"the request URL is malformed: {url!r}") from exc
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _check_host(fields: dict[str, str], url: str) -> None:
    """A signature made for another server must not be replayable here (cavage signs `host`)."""
    if "host" not in fields:
        return
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower() or None
        same = normalize_host(fields["host"], scheme=scheme) == normalize_host(
            parts.netloc.rpartition("@")[2], scheme=scheme
        )
    except (InvalidHost, ValueError):
        same = False
    if not same:
        raise SignatureError(f"the Host header {fields['host']!r} does not name this server")


async def _resolve(resolver: KeyResolver, key_id: str, refresh: bool) -> PublicKeyInfo:
    try:
        info = resolver(key_id, refresh)
        if inspect.isawaitable(info):
            info = await info
    except SignatureError:
        raise
    except Exception as exc:  # the resolver fetches over the network; anything can go wrong
        if getattr(exc, "retry_after", None) is not None:
            raise  # the resolver is busy (admission): not a verdict on the signature
        raise KeyUnavailable(f"cannot get the key {key_id}: {exc}") from exc
    if info is None:
        raise KeyUnavailable(f"the key {key_id} could not be found")
    return info


async def verify_request(
    method: str,
    url: str,
    headers: HeaderInput,
    body: bytes,
    key_resolver: KeyResolver,
    *,
    window: SkewWindow | None = None,
    require_digest: bool = True,
    now: float | None = None,
) -> VerifiedSignature:
    """Verify an incoming request's signature; raise `SignatureError` with the reason if not.

    `url` is the absolute URL the client requested (scheme and host as the client saw them,
    path and query as sent on the wire); `body` the exact bytes received.
    `key_resolver(key_id, refresh)` returns the key and its owner (refetching when `refresh`).
    """
    window = window or SkewWindow()
    body = body or b""
    pairs = header_pairs(headers)  # read once: `headers` may be a one-shot iterable
    fields = header_dict(pairs)
    if "signature-input" in fields:
        sig9421 = rfc9421.parse_signature(fields)
        rfc9421.check_request(
            sig9421, method, fields, body, window=window, require_digest=require_digest, now=now
        )
        key_id, scheme, value = sig9421.key_id, "rfc9421", sig9421.value

        def check(info: PublicKeyInfo) -> None:
            rfc9421.verify_signature(
                sig9421, method, url, pairs, body, info.public_key, window=window
            )
    else:
        value = fields.get("signature")
        authorization = fields.get("authorization", "")
        if value is None and authorization[:10].lower() == "signature ":
            value = authorization[10:]
        if value is None:
            raise SignatureError("the request is not signed (no Signature header)")
        sig = cavage.parse_signature_header(value)
        cavage.check_request(
            sig, method, fields, body, window=window, require_digest=require_digest, now=now
        )
        path = _path_with_query(url)
        _check_host(fields, url)
        key_id, scheme, value = sig.key_id, "cavage", sig.signature

        def check(info: PublicKeyInfo) -> None:
            cavage.verify_signature(sig, method, path, fields, info.public_key)

    info = await _resolve(key_resolver, key_id, False)
    try:
        check(info)
    except BadSignature as first:
        fresh = await _resolve(key_resolver, key_id, True)
        if same_public_key(fresh.public_key, info.public_key):
            reason = f"{first.reason} (the key was refetched and has not changed)"
            raise BadSignature(reason) from first
        check(fresh)
        info = fresh
    return VerifiedSignature(key_id=key_id, scheme=scheme, owner=info.owner, value=value)
