"""How ActivityPub servers talk: keys, HTTP signatures, the safe fetcher, proofs, documents.

Knows nothing about what is published; never imports `registry` or `vocab`.
"""

from federation.fetcher import FetchError, FetchResult, SafeFetcher
from federation.hosts import normalize_host, same_origin
from federation.httpsig import (
    CavageAuth,
    PublicKeyInfo,
    Rfc9421Auth,
    SignatureError,
    SkewWindow,
    VerifiedSignature,
    verify_request,
)
from federation.keys import NodeKeys
from federation.proofs import ProofError, sign_object, verify_object

__all__ = [
    "CavageAuth",
    "FetchError",
    "FetchResult",
    "NodeKeys",
    "ProofError",
    "PublicKeyInfo",
    "Rfc9421Auth",
    "SafeFetcher",
    "SignatureError",
    "SkewWindow",
    "VerifiedSignature",
    "normalize_host",
    "same_origin",
    "sign_object",
    "verify_object",
    "verify_request",
]
