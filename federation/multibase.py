"""Base58btc, multibase (`z…`) and the multicodec prefixes used for Ed25519 keys.

Written here rather than pulled in as a dependency: it is a few lines, and the
fediverse only ever uses the base58btc flavour.
"""

from __future__ import annotations

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(ALPHABET)}

# base58 decoding is quadratic in the length (big-integer arithmetic): a 100,000-character
# value costs seconds. Every value we decode is a key (34 bytes, ~48 characters) or an
# Ed25519 signature (64 bytes, ~88 characters), so anything longer is refused unread.
MAX_CHARS = 128

# Multicodec code points as unsigned varints (0xed and 0x1300).
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"


class MultibaseError(ValueError):
    """A string is not valid base58btc / multibase, or has the wrong multicodec prefix."""


def b58encode(data: bytes) -> str:
    # Leading zero bytes have no weight in the integer, so base58 spells each one as "1".
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str, max_chars: int = MAX_CHARS) -> bytes:
    if len(text) > max_chars:
        raise MultibaseError(f"a base58 value of {len(text)} characters (at most {max_chars})")
    number = 0
    for char in text:
        value = _INDEX.get(char)
        if value is None:
            raise MultibaseError(f"{char!r} is not a base58btc character")
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def encode(data: bytes) -> str:
    """Multibase form with the base58btc prefix `z`."""
    return "z" + b58encode(data)


def check_encoded(text: object) -> str:
    """The base58 digits of a multibase base58btc value, checked as `decode` checks them
    but not decoded (decoding is a big-integer loop in Python). Raises MultibaseError."""
    if not isinstance(text, str) or not text.startswith("z"):
        raise MultibaseError("only base58btc multibase values (starting with 'z') are supported")
    digits = text[1:]
    if len(digits) > MAX_CHARS:
        raise MultibaseError(f"a base58 value of {len(digits)} characters (at most {MAX_CHARS})")
    if digits.strip(ALPHABET):  # strip leaves nothing when every character is a digit
        bad = next(char for char in digits if char not in _INDEX)
        raise MultibaseError(f"{bad!r} is not a base58btc character")
    return digits


def decode(text: str) -> bytes:
    return b58decode(check_encoded(text))


def decode_with_prefix(text: str, prefix: bytes, length: int) -> bytes:
    """Decode a multibase value and check its multicodec prefix and payload length."""
    raw = decode(text)
    if not raw.startswith(prefix):
        raise MultibaseError(f"multicodec prefix is {raw[:2].hex()}, expected {prefix.hex()}")
    payload = raw[len(prefix) :]
    if len(payload) != length:
        raise MultibaseError(f"key is {len(payload)} bytes, expected {length}")
    return payload
