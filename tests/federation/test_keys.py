import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from federation import keys, multibase
from federation.keys import KeyFormatError, NodeKeys

# W3C vc-di-eddsa test key pair (TestVectors/keyPair.json).
VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_PRIVATE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"


def test_base58_known_values_and_leading_zeros() -> None:
    assert multibase.b58encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"
    assert multibase.b58encode(b"\0\0\x01") == "112"
    assert multibase.b58decode("112") == b"\0\0\x01"
    assert multibase.b58encode(b"") == "" and multibase.b58decode("") == b""


@pytest.mark.parametrize("size", [1, 2, 31, 32, 34, 64])
def test_base58_round_trip(size: int) -> None:
    for _ in range(20):
        data = os.urandom(size)
        assert multibase.b58decode(multibase.b58encode(data)) == data
        assert multibase.decode(multibase.encode(data)) == data


@pytest.mark.parametrize("bad", ["z0OIl", "zabc+", "mAAAA", ""])
def test_multibase_rejects_other_alphabets_and_prefixes(bad: str) -> None:
    with pytest.raises(multibase.MultibaseError):
        multibase.decode(bad)


def test_multikey_matches_the_w3c_vector() -> None:
    private = keys.ed25519_private_from_multibase(VECTOR_PRIVATE)
    assert keys.ed25519_to_multikey(private.public_key()) == VECTOR_PUBLIC
    public = keys.multikey_to_ed25519(VECTOR_PUBLIC)
    assert keys.same_public_key(public, private.public_key())


def test_multikey_rejects_wrong_codec_and_length() -> None:
    rsa_codec = multibase.encode(b"\x85\x24" + bytes(32))
    with pytest.raises(KeyFormatError, match="multicodec"):
        keys.multikey_to_ed25519(rsa_codec)
    with pytest.raises(KeyFormatError, match="expected 32"):
        keys.multikey_to_ed25519(multibase.encode(multibase.ED25519_PUB + bytes(31)))


def test_pem_round_trips(rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey) -> None:
    for key in (rsa_key, ed_key):
        private_pem = keys.private_key_to_pem(key)
        assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
        public_pem = keys.public_key_to_pem(key.public_key())
        assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")  # SPKI
        again = keys.load_private_key_pem(private_pem)
        assert keys.same_public_key(again.public_key(), key.public_key())
        assert keys.same_public_key(keys.load_public_key_pem(public_pem), key.public_key())
    assert rsa_key.key_size == 2048


@pytest.mark.parametrize(
    "bad", ["", "not a pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "é"]
)
def test_garbage_pem_is_a_key_format_error(bad: str) -> None:
    with pytest.raises(KeyFormatError):
        keys.load_public_key_pem(bad)
    with pytest.raises(KeyFormatError):
        keys.load_private_key_pem(bad)


def test_elliptic_curve_keys_are_refused() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(KeyFormatError, match="only RSA and Ed25519"):
        keys.load_public_key_pem(keys.public_key_to_pem(ec_key.public_key()))  # type: ignore[arg-type]


def test_node_keys_load_once_and_expose_public_forms() -> None:
    made = NodeKeys.generate()
    loaded = NodeKeys.from_pems(
        rsa_private_pem=made.rsa_private_pem, ed25519_private_pem=made.ed25519_private_pem
    )
    assert loaded.rsa_private_key is loaded.rsa_private_key  # cached
    assert loaded.rsa_public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert loaded.ed25519_multikey.startswith("z6Mk")
    assert keys.same_public_key(
        keys.multikey_to_ed25519(loaded.ed25519_multikey), loaded.ed25519_public_key
    )


def test_node_keys_refuse_swapped_slots() -> None:
    made = NodeKeys.generate()
    with pytest.raises(KeyFormatError, match="RSA slot"):
        NodeKeys.from_pems(
            rsa_private_pem=made.ed25519_private_pem, ed25519_private_pem=made.ed25519_private_pem
        )


def actor(rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey) -> dict:
    iri = "https://a.example/actor"
    return {
        "id": iri,
        "type": "Application",
        "inbox": f"{iri}/inbox",
        "publicKey": {
            "id": f"{iri}#main-key",
            "owner": iri,
            "publicKeyPem": keys.public_key_to_pem(rsa_key.public_key()),
        },
        "assertionMethod": [
            {
                "id": f"{iri}#ed25519-key",
                "type": "Multikey",
                "controller": iri,
                "publicKeyMultibase": keys.ed25519_to_multikey(ed_key.public_key()),
            }
        ],
    }


def test_keys_from_actor_reads_pem_and_multikey(rsa_key, ed_key) -> None:
    found = {info.key_id: info for info in keys.keys_from_actor(actor(rsa_key, ed_key))}
    assert set(found) == {"https://a.example/actor#main-key", "https://a.example/actor#ed25519-key"}
    assert all(info.owner == "https://a.example/actor" for info in found.values())
    assert isinstance(found["https://a.example/actor#main-key"].public_key, rsa.RSAPublicKey)
    info = keys.key_from_document(actor(rsa_key, ed_key), "https://a.example/actor#ed25519-key")
    assert info is not None and isinstance(info.public_key, ed25519.Ed25519PublicKey)


def test_keys_claiming_another_owner_are_ignored(rsa_key, ed_key) -> None:
    doc = actor(rsa_key, ed_key)
    doc["publicKey"]["owner"] = "https://victim.example/actor"
    doc["assertionMethod"][0]["controller"] = "https://victim.example/actor"
    assert keys.keys_from_actor(doc) == []
    assert keys.key_from_document(doc, "https://a.example/actor#main-key") is None


def test_bare_key_document_names_its_claimed_owner(rsa_key) -> None:
    doc = {
        "id": "https://gts.example/users/a/main-key",
        "type": "CryptographicKey",
        "owner": "https://gts.example/users/a",
        "publicKeyPem": keys.public_key_to_pem(rsa_key.public_key()),
    }
    info = keys.key_from_document(doc, doc["id"])
    assert info is not None and info.owner == "https://gts.example/users/a"
    assert keys.key_from_document(doc, "https://gts.example/other") is None
    assert keys.key_from_document(["not", "a", "dict"], doc["id"]) is None  # type: ignore[arg-type]
