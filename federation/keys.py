"""Key pairs: RSA-2048 for HTTP signatures, Ed25519 for object proofs (and optionally HTTP).

PEM is PKCS#8 for private keys and SubjectPublicKeyInfo for public keys, which is what
Mastodon publishes in `publicKey.publicKeyPem`. Ed25519 public keys are also published as
FEP-521a Multikeys (`publicKeyMultibase`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation import multibase
from federation.hosts import InvalidHost, host_of

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey

# Below 1024 bits is forgeable; above 8192 verification gets slow enough to be a DoS lever.
MIN_RSA_BITS, MAX_RSA_BITS = 1024, 8192


class KeyFormatError(ValueError):
    """A key could not be read, or is of a type we do not accept."""


def generate_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def generate_ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def generate_rsa_private_pem() -> str:
    return private_key_to_pem(generate_rsa_key())


def generate_ed25519_private_pem() -> str:
    return private_key_to_pem(generate_ed25519_key())


def private_key_to_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_to_pem(key: PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _as_bytes(pem: str | bytes) -> bytes:
    if isinstance(pem, str):
        try:
            return pem.strip().encode("ascii")
        except UnicodeEncodeError as exc:
            raise KeyFormatError("PEM text must be ASCII") from exc
    if isinstance(pem, bytes):
        return pem.strip()
    raise KeyFormatError(f"expected PEM text, got {type(pem).__name__}")


def _check_public(key: object) -> PublicKey:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, rsa.RSAPublicKey):
        if not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
            raise KeyFormatError(f"RSA key of {key.key_size} bits is outside the accepted range")
        return key
    raise KeyFormatError(f"unsupported key type {type(key).__name__}; only RSA and Ed25519")


def load_private_key_pem(pem: str | bytes) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(_as_bytes(pem), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"not a readable unencrypted private key PEM: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise KeyFormatError(f"unsupported private key type {type(key).__name__}")
    return key


def load_public_key_pem(pem: str | bytes) -> PublicKey:
    """SPKI PEM (and, for old peers, PKCS#1 `RSA PUBLIC KEY`)."""
    try:
        key = serialization.load_pem_public_key(_as_bytes(pem))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"not a readable public key PEM: {exc}") from exc
    return _check_public(key)


def public_key_of(key: PrivateKey) -> PublicKey:
    return key.public_key()


def key_type_name(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "Ed25519"
    return type(key).__name__


def ed25519_to_multikey(key: ed25519.Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return multibase.encode(multibase.ED25519_PUB + raw)


def multikey_to_ed25519(value: str) -> ed25519.Ed25519PublicKey:
    try:
        raw = multibase.decode_with_prefix(value, multibase.ED25519_PUB, 32)
    except multibase.MultibaseError as exc:
        raise KeyFormatError(f"not an Ed25519 Multikey: {exc}") from exc
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def ed25519_private_from_multibase(value: str) -> ed25519.Ed25519PrivateKey:
    """A `secretKeyMultibase` / `privateKeyMultibase` (multicodec 0x1300), as in test vectors."""
    try:
        raw = multibase.decode_with_prefix(value, multibase.ED25519_PRIV, 32)
    except multibase.MultibaseError as exc:
        raise KeyFormatError(f"not an Ed25519 private Multikey: {exc}") from exc
    return ed25519.Ed25519PrivateKey.from_private_bytes(raw)


def same_public_key(a: PublicKey, b: PublicKey) -> bool:
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_bytes(serialization.Encoding.DER, fmt) == b.public_bytes(
        serialization.Encoding.DER, fmt
    )


@dataclass(frozen=True)
class PublicKeyInfo:
    """A verification key and the actor that owns it (the resolver's answer)."""

    key_id: str
    owner: str
    public_key: PublicKey


def _entries(value: Any) -> Iterator[dict[str, Any]]:
    for entry in value if isinstance(value, list) else [value]:
        if isinstance(entry, dict):
            yield entry


def _read_entry(entry: dict[str, Any]) -> PublicKey | None:
    if isinstance(entry.get("publicKeyPem"), str):
        return load_public_key_pem(entry["publicKeyPem"])
    if entry.get("type") == "Multikey" and isinstance(entry.get("publicKeyMultibase"), str):
        return multikey_to_ed25519(entry["publicKeyMultibase"])
    return None


def _on_host(iri: str, host: str) -> bool:
    try:
        return host_of(iri) == host
    except InvalidHost:
        return False


def _may_own(key_id: str, actor_id: str) -> bool:
    """A fragment key id (`…/users/a#main-key`) belongs to the document before the `#`."""
    base, _, fragment = key_id.partition("#")
    return not fragment or base == actor_id


def keys_from_actor(actor: dict[str, Any]) -> list[PublicKeyInfo]:
    """Every key an actor document publishes for itself (`publicKey`, FEP-521a Multikeys).

    Keys whose `owner`/`controller` names another actor are skipped: a document may not
    vouch for keys on someone else's behalf. So are key ids on another host than the actor
    (a key id belongs to one actor, on that actor's host), and unreadable keys.
    """
    actor_id = actor.get("id")
    if not isinstance(actor_id, str):
        return []
    try:
        actor_host = host_of(actor_id)
    except InvalidHost:
        return []
    found: dict[str, PublicKeyInfo] = {}
    sources = [("publicKey", "owner")] + [
        (name, "controller") for name in ("assertionMethod", "authentication", "verificationMethod")
    ]
    for prop, owner_prop in sources:
        for entry in _entries(actor.get(prop)):
            key_id = entry.get("id")
            if not isinstance(key_id, str) or entry.get(owner_prop, actor_id) != actor_id:
                continue
            if not _on_host(key_id, actor_host) or not _may_own(key_id, actor_id):
                continue
            try:
                key = _read_entry(entry)
            except KeyFormatError:
                continue
            if key is not None and key_id not in found:
                found[key_id] = PublicKeyInfo(key_id, actor_id, key)
    return list(found.values())


def key_from_document(document: dict[str, Any], key_id: str) -> PublicKeyInfo | None:
    """The key `key_id` from what dereferencing it returned: an actor or a bare key document.

    A bare key document (GoToSocial-style `…/main-key`) only *claims* its owner; the caller
    must fetch that owner and check that it lists the key (`keys_from_actor`) before trusting it.
    """
    if not isinstance(document, dict):
        return None
    if document.get("id") == key_id and "inbox" not in document:
        owner = document.get("owner") or document.get("controller")
        try:
            key = _read_entry(document)
        except KeyFormatError:
            return None
        if key is not None and isinstance(owner, str):
            return PublicKeyInfo(key_id, owner, key)
    return next((info for info in keys_from_actor(document) if info.key_id == key_id), None)


@dataclass(frozen=True)
class NodeKeys:
    """The node actor's two private keys, as stored, with parsed forms cached on first use."""

    rsa_private_pem: str
    ed25519_private_pem: str

    @classmethod
    def generate(cls) -> NodeKeys:
        return cls(generate_rsa_private_pem(), generate_ed25519_private_pem())

    @classmethod
    def from_pems(cls, *, rsa_private_pem: str, ed25519_private_pem: str) -> NodeKeys:
        keys = cls(rsa_private_pem, ed25519_private_pem)
        if not isinstance(keys.rsa_private_key, rsa.RSAPrivateKey):
            raise KeyFormatError("the RSA slot holds a non-RSA key")
        if not isinstance(keys.ed25519_private_key, ed25519.Ed25519PrivateKey):
            raise KeyFormatError("the Ed25519 slot holds a non-Ed25519 key")
        return keys

    @cached_property
    def rsa_private_key(self) -> rsa.RSAPrivateKey:
        return load_private_key_pem(self.rsa_private_pem)  # type: ignore[return-value]

    @cached_property
    def ed25519_private_key(self) -> ed25519.Ed25519PrivateKey:
        return load_private_key_pem(self.ed25519_private_pem)  # type: ignore[return-value]

    @cached_property
    def rsa_public_pem(self) -> str:
        return public_key_to_pem(self.rsa_private_key.public_key())

    @cached_property
    def ed25519_public_key(self) -> ed25519.Ed25519PublicKey:
        return self.ed25519_private_key.public_key()

    @cached_property
    def ed25519_multikey(self) -> str:
        return ed25519_to_multikey(self.ed25519_public_key)
