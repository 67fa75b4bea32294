"""`on_host` answers at once for an IRI that spells the host as it is, and must answer as
comparing normalised hosts (federation.hosts) does for every IRI."""

from __future__ import annotations

import pytest

from federation.hosts import InvalidHost, host_of
from registry.fediverse.copy_reading import on_host

HOSTS = [
    "example.org",
    "127.0.0.1:8443",
    "[::1]:8000",
    "xn--bcher-kva.example",
    "example.org:80",  # normalised for https only
    "Example.org",  # not normalised: never taken as it is
]
IRIS = [
    "https://{h}/assets/a",
    "http://{h}/assets/a?x=1#f",
    "https://{h}/",
    "https://{h}",  # no slash: the long way
    "HTTPS://{h}/assets/a",
    "https://{h}/assets/a\\b",  # a backslash: refused by origin_of
    "https://{h}\\@evil.example/a",
    "https://evil.example@{h}/a",
    "https://{h}.evil.example/a",
    "https://{h}:443/a",
    "http://{h}/a",
    "ftp://{h}/a",
    " https://{h}/a",
    "https://EXAMPLE.org/a",
    "https://example.org./a",
    "https://other.example/{h}/",
]


def by_definition(iri: object, host: str) -> bool:
    try:
        return host_of(iri) == host  # type: ignore[arg-type]
    except InvalidHost:
        return False


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("pattern", IRIS)
def test_on_host_answers_as_comparing_normalised_hosts(pattern: str, host: str) -> None:
    iri = pattern.format(h=host)
    assert on_host(iri, host) == by_definition(iri, host), iri


@pytest.mark.parametrize("value", [None, 7, ["https://example.org/a"]])
def test_anything_but_a_string_is_on_no_host(value: object) -> None:
    assert on_host(value, "example.org") is False  # type: ignore[arg-type]
