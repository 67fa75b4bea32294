import copy
from datetime import UTC, datetime

import pytest

from federation import keys
from federation.proofs import (
    MalformedProof,
    ProofError,
    check_proof_form,
    sign_object,
    verification_method,
    verify_object,
)

CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
VECTOR_KEY = keys.ed25519_private_from_multibase("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
KEY_ID = "https://registry.example/actor#ed25519-key"

# W3C Data Integrity EdDSA Cryptosuites v1.0, TestVectors/eddsa-jcs-2022 (w3c/vc-di-eddsa).
W3C_CREDENTIAL = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
    ],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_METHOD = "https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_PROOF_VALUE = (
    "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"
)

# FEP-8b32's own example (fep-8b32.feature): a proof without @context.
FEP_SIGNED = {
    "@context": [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/data-integrity/v1",
    ],
    "type": "Create",
    "actor": "https://server.example/users/alice",
    "object": {"type": "Note", "content": "Hello world"},
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": "https://server.example/users/alice#ed25519-key",
        "proofPurpose": "assertionMethod",
        "proofValue": (
            "z3sXaxjKs4M3BRicwWA9peyNPJvJqxtGsDmpt1jjoHCjgeUf71TRFz56osPSfDErszyLp5Ks1EhYSgpDaNM977Rg2"
        ),
        "created": "2023-02-24T23:36:38Z",
    },
}

NOTE = {
    "@context": [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/data-integrity/v1",
    ],
    "id": "https://registry.example/assets/1",
    "type": "Page",
    "name": "Fab Lab Poblenou",
    "tag": [{"type": "Hashtag", "name": "#fablab"}],
    "location": {"latitude": 41.3965, "longitude": 2.1943},
}


def test_w3c_vector_signs_to_the_published_proof_value() -> None:
    signed = sign_object(W3C_CREDENTIAL, VECTOR_KEY, W3C_METHOD, CREATED)
    assert signed["proof"] == {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": W3C_METHOD,
        "proofPurpose": "assertionMethod",
        "created": "2023-02-24T23:36:38Z",
        "@context": W3C_CREDENTIAL["@context"],
        "proofValue": W3C_PROOF_VALUE,
    }
    assert verify_object(signed, VECTOR_KEY.public_key())


def test_fep_8b32_example_verifies() -> None:
    assert verify_object(FEP_SIGNED, VECTOR_KEY.public_key())
    assert verification_method(FEP_SIGNED) == "https://server.example/users/alice#ed25519-key"
    tampered = copy.deepcopy(FEP_SIGNED)
    tampered["object"]["content"] = "Goodbye world"
    with pytest.raises(ProofError, match="does not verify"):
        verify_object(tampered, VECTOR_KEY.public_key())


def test_round_trip_leaves_the_input_alone(ed_key) -> None:
    original = copy.deepcopy(NOTE)
    signed = sign_object(NOTE, ed_key, KEY_ID)
    assert original == NOTE and "proof" not in NOTE
    assert signed["proof"]["created"].endswith("Z")
    assert signed["proof"]["proofValue"].startswith("z")
    assert verify_object(signed, ed_key.public_key())
    signed["tag"][0]["name"] = "#changed"
    assert NOTE["tag"][0]["name"] == "#fablab"


def test_resigning_replaces_the_proof(ed_key, other_ed_key) -> None:
    twice = sign_object(sign_object(NOTE, ed_key, KEY_ID), other_ed_key, KEY_ID)
    assert verify_object(twice, other_ed_key.public_key())


TAMPERINGS = [
    ("name", lambda d: d.__setitem__("name", "Fab Lab Poble Nou")),
    ("added field", lambda d: d.__setitem__("summary", "new")),
    ("removed field", lambda d: d.pop("tag")),
    ("nested", lambda d: d["location"].__setitem__("latitude", 41.3966)),
    ("list", lambda d: d["tag"].append({"type": "Hashtag", "name": "#x"})),
    ("context", lambda d: d.__setitem__("@context", "https://www.w3.org/ns/activitystreams")),
    ("proof created", lambda d: d["proof"].__setitem__("created", "2020-01-01T00:00:00Z")),
    (
        "proof method",
        lambda d: d["proof"].__setitem__("verificationMethod", "https://evil.example/k"),
    ),
    (
        "proof context",
        lambda d: d["proof"].__setitem__("@context", ["https://www.w3.org/ns/activitystreams"]),
    ),
]


@pytest.mark.parametrize(("what", "tamper"), TAMPERINGS, ids=[t[0] for t in TAMPERINGS])
def test_tampering_breaks_the_proof(ed_key, what, tamper) -> None:
    signed = sign_object(NOTE, ed_key, KEY_ID)
    tamper(signed)
    with pytest.raises(ProofError):
        verify_object(signed, ed_key.public_key())


def test_appended_context_is_allowed_by_the_spec(ed_key) -> None:
    signed = sign_object(NOTE, ed_key, KEY_ID)
    signed["@context"] = [*signed["@context"], {"extra": "https://example.org/extra#"}]
    assert verify_object(signed, ed_key.public_key())


def test_other_key_fails(ed_key, other_ed_key, rsa_key) -> None:
    signed = sign_object(NOTE, ed_key, KEY_ID)
    with pytest.raises(ProofError, match="does not verify"):
        verify_object(signed, other_ed_key.public_key())
    with pytest.raises(ProofError, match="Ed25519"):
        verify_object(signed, rsa_key.public_key())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sign_object(NOTE, rsa_key, KEY_ID)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "Ed25519Signature2020"}, "proof type"),
        ({"cryptosuite": "eddsa-rdfc-2022"}, "cryptosuite"),
        ({"proofPurpose": "authentication"}, "purpose"),
        ({"verificationMethod": None}, "verificationMethod"),
        ({"proofValue": "uAAAA"}, "multibase"),
        ({"proofValue": "z111"}, "64"),
        ({"proofValue": None}, "multibase"),
        ({"created": "yesterday"}, "not a date"),
    ],
)
def test_malformed_proofs(ed_key, change, reason) -> None:
    signed = sign_object(NOTE, ed_key, KEY_ID)
    signed["proof"].update(change)
    with pytest.raises(ProofError, match=reason):
        verify_object(signed, ed_key.public_key())


@pytest.mark.parametrize(
    ("change", "checked_first"),
    [
        ({"cryptosuite": "eddsa-rdfc-2022"}, True),
        ({"proofValue": "uAAAA"}, True),
        ({"proofValue": "z0OIl"}, True),  # not base58 digits
        ({"proofValue": "z" + "5" * 129}, True),
        ({"proofValue": "z111"}, False),  # base58, but not 64 bytes: only decoding tells
    ],
)
def test_a_malformed_proof_is_one_no_key_could_fix(ed_key, change, checked_first) -> None:
    """`check_proof_form` (run before any key is fetched) refuses what it can without
    decoding; `verify_object` refuses the rest as malformed too, so that no caller fetches
    the key again for it, while a proof that does not verify is a plain ProofError."""
    signed = sign_object(NOTE, ed_key, KEY_ID)
    check_proof_form(signed)
    signed["proof"].update(change)
    if checked_first:
        with pytest.raises(MalformedProof):
            check_proof_form(signed)
    else:
        check_proof_form(signed)
    with pytest.raises(MalformedProof):
        verify_object(signed, ed_key.public_key())
    tampered = sign_object({**NOTE, "content": "signed"}, ed_key, KEY_ID)
    tampered["content"] = "changed"
    with pytest.raises(ProofError) as caught:
        verify_object(tampered, ed_key.public_key())
    assert not isinstance(caught.value, MalformedProof)


def test_missing_or_multiple_proofs(ed_key) -> None:
    with pytest.raises(ProofError, match="no proof"):
        verify_object(NOTE, ed_key.public_key())
    signed = sign_object(NOTE, ed_key, KEY_ID)
    signed["proof"] = [signed["proof"], signed["proof"]]
    with pytest.raises(ProofError, match="expected one proof"):
        verify_object(signed, ed_key.public_key())
    signed["proof"] = signed["proof"][:1]
    assert verify_object(signed, ed_key.public_key())
    with pytest.raises(ProofError):
        verify_object("not a document", ed_key.public_key())  # type: ignore[arg-type]


def test_values_jcs_cannot_represent(ed_key) -> None:
    with pytest.raises(ProofError, match="canonicalised"):
        sign_object({**NOTE, "big": 2**60}, ed_key, KEY_ID)


@pytest.mark.parametrize("doc", [NOTE, W3C_CREDENTIAL, {**NOTE, "@context": [{"v": 1.5}, "x"]}])
def test_the_fast_signing_path_hashes_the_same_bytes(doc) -> None:
    """The orjson path of signing and verifying (one walk of the document) hashes exactly
    what the general JCS path would (the W3C vector above pins the result)."""
    from federation import proofs

    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": KEY_ID,
        "proofPurpose": "assertionMethod",
        "created": "2023-02-24T23:36:38Z",
    }
    with_context = {**options, "@context": doc["@context"]} if "@context" in doc else options
    assert proofs._signed_bytes_fast(options, doc) == proofs._signed_bytes(with_context, doc)
    assert proofs._signed_bytes_fast({**options, "n": 1}, doc) is None  # a non-string option
