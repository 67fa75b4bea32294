"""FEP-8b32 object integrity proofs with the `eddsa-jcs-2022` cryptosuite.

The signed data is SHA-256(JCS(proof options)) ‖ SHA-256(JCS(document without proof)), signed
with Ed25519 (W3C Data Integrity EdDSA Cryptosuites v1.0, JCS variant). When the document has
an `@context`, the proof carries a copy of it, so the context is covered by the proof hash;
a verifier then checks that the document's context starts with the proof's (the spec lets a
holder append contexts, never change the signed ones).
"""

from __future__ import annotations

import collections
import copy
import functools
import hashlib
from datetime import datetime
from typing import Any

import orjson
import rfc8785
from cryptography.hazmat.primitives.asymmetric import ed25519
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from federation import multibase, shared_contexts
from vocab.times import iso_utc

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
ASSERTION = "assertionMethod"


class ProofError(Exception):
    """An integrity proof is missing, malformed, or does not verify; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedProof(ProofError):
    """No key could make this proof verify: it is missing or malformed. (Any other
    ProofError may be a key the signer has rotated since.)"""


# RFC 8785 allows integers only where an IEEE 754 double holds them exactly.
_SAFE_INTEGER = 2**53 - 1


def _orjson_agrees(value: Any) -> bool:
    """Whether `orjson.dumps(value, option=OPT_SORT_KEYS)` is exactly its JCS form.

    They agree on strings (both write UTF-8 and escape only `"`, `\\` and controls, the same
    way), on null, booleans and the integers RFC 8785 accepts, and on key order while no key
    holds a character beyond U+FFFF (orjson sorts by code point, JCS by UTF-16 code unit; the
    two differ only between astral characters and U+E000-U+FFFF). Floats: both write the
    shortest digits that round-trip, and lay them out the same (plain decimals) for
    non-integral values with 1e-4 <= |x| < 1e16 - coordinates, for one. Elsewhere (1.0 is
    "1" in JCS, "1.0" in orjson; exponents differ) and for any type outside plain JSON
    (orjson would write dates, dataclasses, ...), rfc8785 writes it.
    """
    pending = [value]
    if type(value) is dict and "@context" in value:
        context = value["@context"]
        if not (_agreeing_shared(context) or _known_context(context)):
            if not _orjson_agrees(context):
                return False
            _remember_context(context)
        pending = [{key: item for key, item in value.items() if key != "@context"}]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if (kind is dict or kind is list) and _agreeing_shared(item):
            continue
        if kind is dict:
            for key in item:
                if type(key) is not str or (not key.isascii() and max(key) > "\uffff"):
                    return False
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is int:
            if not -_SAFE_INTEGER <= item <= _SAFE_INTEGER:
                return False
        elif kind is float:
            # NaN and infinities fail the range test; integral floats are excluded.
            if item.is_integer() or not 1e-4 <= abs(item) < 1e16:
                return False
        else:
            return False
    return True


# Contexts already walked and found to agree. Nearly every document a node reads or writes
# carries one of a few contexts, and the context is most of a document (5 of 7 KB for an
# asset); comparing with `==` runs in C, several times faster than walking it again.
# The newest first; a peer sending many contexts only pushes the oldest out.
_KNOWN_CONTEXTS: collections.deque[Any] = collections.deque(maxlen=16)


# Shared contexts (federation.shared_contexts) judged once, by identity: id -> whether they agree.
_SHARED_JUDGED: dict[int, bool] = {}


def _agreeing_shared(value: Any) -> bool:
    """Whether `value` is a shared context that orjson writes as JCS does."""
    judged = _SHARED_JUDGED.get(id(value))
    if judged is None:
        if shared_contexts.shared(value) is None:
            return False
        _SHARED_JUDGED[id(value)] = False  # while judging, walk it like any other value
        judged = _SHARED_JUDGED[id(value)] = _orjson_agrees(value)
    return judged


def _known_context(context: Any) -> bool:
    return any(context == known for known in _KNOWN_CONTEXTS)


def _remember_context(context: Any) -> None:
    """Keep an agreeing context whose equal values all serialise alike: with no int, bool or
    integral float in it, `==` cannot match a value that orjson would write differently
    (1 == 1.0 == True, each written otherwise); strings, None, containers and non-integral
    floats equal only their own kind."""
    pending = [context]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is bool or kind is int or (kind is float and item.is_integer()):
            return
    _KNOWN_CONTEXTS.appendleft(copy.deepcopy(context))  # the caller's value may change later


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) serialisation of `value`; raises as `rfc8785.dumps` does.

    orjson writes it where the two give the same bytes (`_orjson_agrees`; pinned against
    `rfc8785` by a property test, tests/federation/test_jcs.py): nearly every ActivityPub
    document, about 10x faster than the pure-Python `rfc8785` (a 5 KB asset: 19 µs, 207 µs).
    """
    if _orjson_agrees(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # lone surrogates, nesting too deep: let rfc8785 decide
    return rfc8785.dumps(value)


def _jcs_hash(value: Any, what: str) -> bytes:
    try:
        return hashlib.sha256(canonical_json(value)).digest()
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise ProofError(f"the {what} cannot be canonicalised (JCS): {exc}") from exc


def _signed_bytes(options: dict[str, Any], unsecured: dict[str, Any]) -> bytes:
    return _jcs_hash(options, "proof options") + _jcs_hash(unsecured, "document")


def _signed_bytes_fast(options: dict[str, Any], body: dict[str, Any]) -> bytes | None:
    """`_signed_bytes(options + the body's @context, body)` with the document walked once:
    where every option (the context aside) is a string and `_orjson_agrees(body)`, both are
    written by orjson (the context, the largest part, is checked once instead of twice).
    None where that does not hold; then the caller takes the general path."""
    if not all(type(v) is str for k, v in options.items() if k != "@context"):
        return None
    if not _orjson_agrees(body):
        return None
    if "@context" in body:
        options = {**options, "@context": body["@context"]}
    try:
        head = shared_contexts.dumps_sorted(options)
        document = shared_contexts.dumps_sorted(body)
    except orjson.JSONEncodeError:
        return None
    return hashlib.sha256(head).digest() + hashlib.sha256(document).digest()


def sign_object(
    doc: dict[str, Any],
    private_key: ed25519.Ed25519PrivateKey,
    verification_method: str,
    created: datetime | None = None,
    *,
    proof_purpose: str = ASSERTION,
    owned: bool = False,
) -> dict[str, Any]:
    """A copy of `doc` with a `proof` (replacing any existing one). With `owned` the caller
    hands `doc` over (it was built for this call): the result may share its values."""
    if not isinstance(private_key, ed25519.Ed25519PrivateKey):
        raise TypeError("eddsa-jcs-2022 proofs need an Ed25519 private key")
    body = {name: value for name, value in doc.items() if name != "proof"}
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
        "created": iso_utc(created),
    }
    signed = _signed_bytes_fast(options, body)
    # Deep copies, so that the signed document shares nothing with `doc` but its shared
    # contexts (never changed in place): through orjson where it writes the body exactly
    # (several times faster than `copy.deepcopy`).
    duplicate = shared_contexts.deep_copy if signed else copy.deepcopy
    unsecured = body if owned else duplicate(body)
    if "@context" in unsecured:
        options["@context"] = duplicate(unsecured["@context"])
    signature = private_key.sign(signed or _signed_bytes(options, unsecured))
    return {**unsecured, "proof": {**options, "proofValue": multibase.encode(signature)}}


def _the_proof(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise MalformedProof("the document is not a JSON object")
    proof = doc.get("proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            raise MalformedProof(f"expected one proof, found {len(proof)} (proof sets unsupported)")
        proof = proof[0]
    if not isinstance(proof, dict):
        raise MalformedProof("the document has no proof")
    return proof


def verification_method(doc: dict[str, Any]) -> str:
    """The `verificationMethod` (key id) of the document's proof. Raises `MalformedProof`."""
    method = _the_proof(doc).get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise MalformedProof("the proof has no verificationMethod")
    return method


def _as_list(context: Any) -> list[Any]:
    return context if isinstance(context, list) else [context]


def verify_object(
    doc: dict[str, Any],
    public_key: ed25519.Ed25519PublicKey,
    *,
    proof_purpose: str = ASSERTION,
) -> bool:
    """True if the proof verifies with `public_key`; otherwise raises `ProofError`.

    Resolving `verification_method(doc)` to a key, and checking that the key's controller may
    speak for the object, is the caller's job.
    """
    signature = proof_signature(doc, proof_purpose=proof_purpose)
    proof = _the_proof(doc)
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise ProofError("eddsa-jcs-2022 proofs verify only with an Ed25519 key")
    unsecured = {name: value for name, value in doc.items() if name != "proof"}
    options = {name: value for name, value in proof.items() if name != "proofValue"}
    if "@context" in options:
        signed, present = _as_list(options["@context"]), _as_list(unsecured.get("@context", []))
        if present[: len(signed)] != signed:
            raise ProofError("the document's @context does not start with the proof's @context")
        unsecured["@context"] = options["@context"]
    hashed = None
    if "@context" in options or "@context" not in unsecured:  # then one walk serves both
        hashed = _signed_bytes_fast(options, unsecured)
    try:
        _verifier(public_key.public_bytes_raw()).verify(
            hashed or _signed_bytes(options, unsecured), signature
        )
    except BadSignatureError as exc:
        raise ProofError("the proof does not verify: the document or proof was altered") from exc
    return True


@functools.lru_cache(maxsize=1024)
def _verifier(raw_key: bytes) -> VerifyKey:
    """The key as libsodium (PyNaCl) verifies with it: 55 µs a signature on this project's
    2-core machines against 101 µs through `cryptography`, and every copy a backfill or the
    inbox takes is verified (docs/performance.md, tenth pass). Keys, signing and HTTP
    signatures stay on `cryptography`. libsodium also refuses small-order keys and
    non-canonical encodings, which no honest signer produces."""
    return VerifyKey(raw_key)


def proof_signature(doc: dict[str, Any], *, proof_purpose: str = ASSERTION) -> bytes:
    """The proof's signature bytes after every check that needs no key; `MalformedProof` if
    the proof is malformed."""
    value = _checked_proof(doc, proof_purpose).get("proofValue")
    try:
        signature = multibase.decode(value)  # type: ignore[arg-type]
    except multibase.MultibaseError as exc:
        raise MalformedProof(f"proofValue is not base58btc multibase: {exc}") from exc
    if len(signature) != 64:
        raise MalformedProof(f"proofValue holds {len(signature)} bytes, an Ed25519 signature is 64")
    return signature


def check_proof_form(doc: dict[str, Any], *, proof_purpose: str = ASSERTION) -> None:
    """What `proof_signature` checks, its value only read as base58 text, not decoded
    (decoding was most of the cost, and a large sync runs this on every document). A caller
    runs it before fetching any key, so that a malformed proof costs no network work; a
    value of the wrong length is left to `verify_object`, which raises MalformedProof."""
    try:
        multibase.check_encoded(_checked_proof(doc, proof_purpose).get("proofValue"))
    except multibase.MultibaseError as exc:
        raise MalformedProof(f"proofValue is not base58btc multibase: {exc}") from exc


def _checked_proof(doc: dict[str, Any], proof_purpose: str) -> dict[str, Any]:
    proof = _the_proof(doc)
    for name, expected in (("type", PROOF_TYPE), ("cryptosuite", CRYPTOSUITE)):
        if proof.get(name) != expected:
            raise MalformedProof(f"proof {name} is {proof.get(name)!r}, expected {expected!r}")
    if proof.get("proofPurpose") != proof_purpose:
        raise MalformedProof(
            f"proof purpose is {proof.get('proofPurpose')!r}, not {proof_purpose!r}"
        )
    verification_method(doc)
    if "created" in proof:
        try:
            datetime.fromisoformat(str(proof["created"]).replace("Z", "+00:00"))
        except ValueError as exc:
            raise MalformedProof(f"proof created time {proof['created']!r} is not a date") from exc
    return proof
