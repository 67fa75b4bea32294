"""Host normalisation: the one place that decides whether two hosts are the same.

Every comparison of hosts (origin checks, allowlists, acct handles, blocklists) goes through
`normalize_host`, so that `EXAMPLE.org.`, `example.org:443` and `example.org` are one host and a
look-alike such as `еxample.org` (Cyrillic е) is visibly another (`xn--xample-2of.org`).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import urlsplit

import idna

DEFAULT_PORTS = {"http": 80, "https": 443}
_ASCII_HOST = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")


class InvalidHost(ValueError):
    """Not a host we can compare: empty, bad characters, bad IDN, bad port."""


def split_host_port(authority: str) -> tuple[str, int | None]:
    """`host[:port]`, with IPv6 literals in brackets; user info is not accepted here."""
    text = authority.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise InvalidHost(f"unclosed IPv6 bracket in {authority!r}")
        host, rest = text[1:end], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise InvalidHost(f"junk after IPv6 literal in {authority!r}")
        port_text = rest[1:] if rest else None
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        # No colon, or a bare IPv6 address without brackets (no port possible then).
        host, port_text = text, None
    if port_text is None:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidHost(f"bad port {port_text!r} in {authority!r}")
    return host, int(port_text)


def _normalize_name(host: str) -> str:
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise InvalidHost("empty host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    if host.isascii():
        host = host.lower()
        if not _ASCII_HOST.match(host) or len(host) > 253:
            raise InvalidHost(f"{host!r} is not a valid host name")
        if any(len(label) > 63 for label in host.split(".")):
            raise InvalidHost(f"{host!r} has a label longer than 63 characters")
        if "xn--" in host:
            try:  # a punycode label must decode, or two spellings could name one host
                idna.decode(host)
            except (idna.IDNAError, UnicodeError) as exc:
                raise InvalidHost(f"{host!r} holds invalid punycode: {exc}") from exc
        return host
    try:
        # UTS-46 maps case and compatibility forms (full-width letters, ideographic dots)
        # the way browsers do, then encodes to punycode.
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidHost(f"{host!r} is not a valid internationalised host name: {exc}") from exc


def normalize_host(host: str, *, scheme: str | None = None) -> str:
    """Lowercase, IDNA (UTS-46) to punycode, no trailing dot, no default port for `scheme`.

    `host` may carry a port (`example.org:8443`, `[::1]:8080`); it is kept unless it is the
    default port of `scheme`. Raises `InvalidHost`.
    """
    if not isinstance(host, str):
        raise InvalidHost(f"expected a host string, got {type(host).__name__}")
    return _normalized(host, scheme)


@functools.lru_cache(maxsize=4096)
def _normalized(host: str, scheme: str | None) -> str:
    """`normalize_host` remembered: a sync or an inbox batch asks about the same few hosts
    for every document (errors are raised each time, never cached)."""
    name, port = split_host_port(host)
    name = _normalize_name(name)
    if port is None or (scheme and DEFAULT_PORTS.get(scheme.lower()) == port):
        return name
    return f"{name}:{port}"


def origin_of(iri: str) -> tuple[str, str]:
    """(scheme, normalised host[:port]) of an absolute http(s) IRI. Raises `InvalidHost`."""
    if not isinstance(iri, str):  # nothing else is an IRI, nor may reach the cache
        raise InvalidHost(f"not an IRI: {iri!r}"[:300])
    return _origin_of(iri)


@functools.lru_cache(maxsize=4096)
def _origin_of(iri: str) -> tuple[str, str]:
    """`origin_of` remembered: an actor's, its key's and its followers' IRIs are asked about
    with every document it sends, and a copy's own IRI several times while it is checked
    (errors are raised each time, never cached)."""
    try:
        parts = urlsplit(iri)
    except (ValueError, TypeError) as exc:
        raise InvalidHost(f"not an IRI: {iri!r}") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidHost(f"not an http(s) IRI: {iri!r}")
    if "@" in parts.netloc:
        # `https://ournode@evil.example/…` shows one host and names another: never compared.
        raise InvalidHost(f"an IRI with user info is not accepted: {iri[:200]!r}")
    if "\\" in iri.split("?", 1)[0].split("#", 1)[0]:
        # Browsers and some parsers read a backslash as a slash, so the host shown differs.
        raise InvalidHost(f"an IRI with a backslash is not accepted: {iri[:200]!r}")
    return scheme, normalize_host(parts.netloc, scheme=scheme)


def host_of(iri: str) -> str:
    """Normalised `host[:port]` of an IRI (port only when not the scheme's default)."""
    return origin_of(iri)[1]


def same_origin(iri_a: str, iri_b: str) -> bool:
    """Same scheme, host and port after normalisation; False if either is not an http(s) IRI."""
    try:
        return origin_of(iri_a) == origin_of(iri_b)
    except InvalidHost:
        return False
