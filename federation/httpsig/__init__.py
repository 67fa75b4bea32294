"""HTTP signatures: draft-cavage and RFC 9421, signing and one verification entry point."""

from federation.httpsig.cavage import CavageAuth, parse_signature_header, sign_request
from federation.httpsig.common import BadSignature, KeyUnavailable, SignatureError, SkewWindow
from federation.httpsig.rfc9421 import Rfc9421Auth
from federation.httpsig.verify import KeyResolver, VerifiedSignature, verify_request
from federation.keys import PublicKeyInfo

__all__ = [
    "BadSignature",
    "CavageAuth",
    "KeyResolver",
    "KeyUnavailable",
    "PublicKeyInfo",
    "Rfc9421Auth",
    "SignatureError",
    "SkewWindow",
    "VerifiedSignature",
    "parse_signature_header",
    "sign_request",
    "verify_request",
]
