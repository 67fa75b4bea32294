"""A deployment's narrow allowlist: `allowed_networks` opens the networks listed and no other
private address; `mapped_resolver` pins names to addresses, and the pinned address still
passes the policy."""

from __future__ import annotations

import pytest

from federation.fetcher import BlockedAddress, SafeFetcher
from federation.netguard import mapped_resolver
from tests.federation.httpserver import LocalServer, respond_json

ACTOR = {"id": "x", "type": "Application"}


async def test_only_the_listed_network_is_reachable(server: LocalServer) -> None:
    @server.route("/actor")
    async def actor(request, writer) -> None:  # type: ignore[no-untyped-def]
        await respond_json(writer, ACTOR)

    async with SafeFetcher(allow_http=True, allowed_networks=["127.0.0.0/30"]) as fetcher:
        assert (await fetcher.get_json(server.url("/actor"))).data == ACTOR
    async with SafeFetcher(allow_http=True, allowed_networks=["127.0.19.0/24"]) as fetcher:
        with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1 is loopback"):
            await fetcher.get_json(server.url("/actor"))
        for url in ("http://10.0.0.1/", "http://169.254.169.254/", "http://[::1]/"):
            with pytest.raises(BlockedAddress):
                await fetcher.get_json(url)
    assert server.connections == 1


async def test_pinned_names_resolve_and_are_still_checked(server: LocalServer) -> None:
    @server.route("/actor")
    async def actor(request, writer) -> None:  # type: ignore[no-untyped-def]
        await respond_json(writer, ACTOR)

    resolver = mapped_resolver({"Partner.Test.": "127.0.0.1"})
    assert await resolver("partner.test", 443) == ["127.0.0.1"]
    url = server.url("/actor", host="partner.test")
    async with SafeFetcher(allow_http=True, resolver=resolver) as fetcher:
        with pytest.raises(BlockedAddress, match=r"partner\.test resolves to 127\.0\.0\.1"):
            await fetcher.get_json(url)
    allowed = {"allowed_networks": ["127.0.0.1/32"]}
    async with SafeFetcher(allow_http=True, resolver=resolver, **allowed) as fetcher:
        assert (await fetcher.get_json(url)).data == ACTOR
    assert server.requests[-1].header("host") == f"partner.test:{server.port}"
