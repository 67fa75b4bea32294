"""Helpers for signature tests: key resolvers that record calls, hand-made signatures."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from email.utils import formatdate

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from federation.httpsig import cavage
from federation.keys import PrivateKey, PublicKey, PublicKeyInfo

KEY_ID = "https://peer.example/actor#main-key"
OWNER = "https://peer.example/actor"


@dataclass
class Resolver:
    """Answers with `first` for cached lookups and `fresh` (default: `first`) on refresh."""

    first: PublicKey
    fresh: PublicKey | None = None
    calls: list[tuple[str, bool]] = field(default_factory=list)

    async def __call__(self, key_id: str, refresh: bool) -> PublicKeyInfo:
        self.calls.append((key_id, refresh))
        key = self.fresh if refresh and self.fresh is not None else self.first
        return PublicKeyInfo(key_id, OWNER, key)


def signed(auth: httpx.Auth, method: str, url: str, body: bytes = b"", **headers: str):
    """Run an httpx auth flow on a request and return it, signed, without sending it."""
    request = httpx.Request(method, url, content=body or None, headers=headers)
    return next(auth.auth_flow(request))


def hand_signed(
    key: PrivateKey,
    names: list[str],
    *,
    method: str = "POST",
    path: str = "/inbox",
    headers: dict[str, str] | None = None,
    body: bytes = b"{}",
    algorithm: str | None = None,
    created: int | None = None,
    expires: int | None = None,
    now: float | None = None,
) -> dict[str, str]:
    """A cavage-signed header set over exactly `names` (to build odd, weak or stale requests)."""
    fields = {"host": "registry.example", "date": formatdate(now, usegmt=True)}
    if body:
        fields["digest"] = cavage.body_digest(body)
    fields.update(headers or {})
    text = cavage.signing_string(
        names, method, path, fields, created=created, expires=expires
    ).encode()
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(text, padding.PKCS1v15(), hashes.SHA256())
        algorithm = algorithm or "rsa-sha256"
    else:
        raw = key.sign(text)
        algorithm = algorithm or "hs2019"
    params = f'keyId="{KEY_ID}",algorithm="{algorithm}",headers="{" ".join(names)}"'
    if created is not None:
        params += f",created={created}"
    if expires is not None:
        params += f",expires={expires}"
    fields["signature"] = params + f',signature="{base64.b64encode(raw).decode()}"'
    return fields
