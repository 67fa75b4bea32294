"""What both signature schemes share: the error type, the clock-skew window, header access."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation.keys import PrivateKey, PublicKey

HeaderInput = Mapping[str, str] | Iterable[tuple[str, str]] | Any


class SignatureError(Exception):
    """A request's signature is missing, malformed, stale, or does not verify.

    `reason` says precisely why, in words an admin can act on.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadSignature(SignatureError):
    """The cryptographic check failed: wrong key, wrong key type, or tampered content.

    Only this failure is worth refetching the key for (the peer may have rotated it).
    """


class KeyUnavailable(SignatureError):
    """The signing key could not be resolved (actor gone, fetch failed, no such key)."""


@dataclass(frozen=True)
class SkewWindow:
    """How old (`past`) and how far ahead (`future`) a signature's time may be."""

    past: timedelta = timedelta(hours=1)
    future: timedelta = timedelta(minutes=5)


def human(seconds: float) -> str:
    """A duration the way a person would say it: `3 h`, `1 h`, `45 min`, `30 s`."""
    seconds = abs(seconds)
    minutes = round(seconds / 60)
    if minutes >= 90 or minutes == 60:
        return f"{round(seconds / 3600)} h"
    if seconds >= 90:
        return f"{minutes} min"
    return f"{round(seconds)} s"


def check_time(what: str, when: float, now: float, window: SkewWindow) -> None:
    """Refuse a signature time (Unix seconds) outside `window` around `now`."""
    past, future = window.past.total_seconds(), window.future.total_seconds()
    if when < now - past:
        raise SignatureError(f"{what} is {human(now - when)} old; the window is {human(past)}")
    if when > now + future:
        raise SignatureError(
            f"{what} is {human(when - now)} in the future; at most {human(future)} is allowed"
        )


def check_lifetime(
    created: float | None, expires: float | None, now: float, window: SkewWindow
) -> None:
    """The signature's `created` inside the clock window and its `expires` not past, whichever
    signature scheme carried them."""
    if created is not None:
        check_time("the signature's created time", created, now, window)
    if expires is not None and expires < now - window.future.total_seconds():
        raise SignatureError(f"the signature expired {human(now - expires)} ago")


def header_pairs(headers: HeaderInput) -> list[tuple[str, str]]:
    """(lowercase name, value) per field line, from a mapping, pairs, or Starlette/httpx headers."""
    if hasattr(headers, "multi_items"):
        items = headers.multi_items()
    elif isinstance(headers, Mapping):
        items = headers.items()
    else:
        items = headers
    pairs = []
    for name, value in items:
        name = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        value = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        pairs.append((name.strip().lower(), value.strip()))
    return pairs


def header_dict(headers: HeaderInput) -> dict[str, str]:
    """Lowercased names, repeated fields joined with `, ` (as both drafts specify)."""
    merged: dict[str, str] = {}
    for name, value in header_pairs(headers):
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


def check_private_key(key: PrivateKey) -> None:
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise TypeError(f"signing needs an RSA or Ed25519 private key, not {type(key).__name__}")


def is_rsa(key: PublicKey | PrivateKey) -> bool:
    return isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)


def is_ed25519(key: PublicKey | PrivateKey) -> bool:
    return isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey)
