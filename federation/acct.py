"""Account handles (`@user@host`, `user@host`, `acct:user@host`) and WebFinger queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from federation.hosts import InvalidHost, normalize_host, origin_of

_USER = re.compile(r"^[^\s@/?#:]+$")


class InvalidHandle(ValueError):
    """The text is neither an account handle nor an http(s) URL."""


@dataclass(frozen=True)
class Acct:
    """A user on a host; `host` is normalised (punycode, lowercase, port kept if given)."""

    user: str
    host: str

    def __str__(self) -> str:
        return f"{self.user}@{self.host}"

    @property
    def uri(self) -> str:
        return f"acct:{self.user}@{self.host}"

    def webfinger_url(self, *, scheme: str = "https") -> str:
        return webfinger_url(self, scheme=scheme)


def parse_acct(text: str) -> Acct:
    """`@user@host`, `user@host` or `acct:user@host` → `Acct`. Raises `InvalidHandle`."""
    if not isinstance(text, str):
        raise InvalidHandle("a handle must be text")
    handle = text.strip()
    if handle[:5].lower() == "acct:":
        handle = handle[5:]
    handle = handle.removeprefix("@")
    user, sep, host = handle.rpartition("@")
    if not sep or not _USER.match(user) or not host:
        raise InvalidHandle(f"{text!r} is not a user@host handle")
    try:
        return Acct(user, normalize_host(host))
    except InvalidHost as exc:
        raise InvalidHandle(f"{text!r} has an invalid host: {exc.args[0]}") from exc


def parse_reference(text: str) -> Acct | str:
    """A handle (→ `Acct`) or an http(s) URL (returned stripped). Raises `InvalidHandle`."""
    stripped = text.strip() if isinstance(text, str) else text
    if isinstance(stripped, str) and stripped[:8].lower().startswith(("https://", "http://")):
        try:
            origin_of(stripped)
        except InvalidHost as exc:
            raise InvalidHandle(f"{text!r} is not a usable URL: {exc.args[0]}") from exc
        return stripped
    return parse_acct(text)


def webfinger_url(resource: Acct | str, *, scheme: str = "https") -> str:
    """The WebFinger query for a handle, or for a URL (FEP-d556: `resource=https://host/`)."""
    if isinstance(resource, Acct):
        host, subject = resource.host, resource.uri
    else:
        url_scheme, host = origin_of(resource)
        scheme, subject = url_scheme, resource
    return f"{scheme}://{host}/.well-known/webfinger?resource={quote(subject, safe=':@/')}"
