"""SafeFetcher against real servers on 127.0.0.1 (and refusals that never open a socket)."""

import asyncio
import json
import socket
import struct
import time
from email.utils import formatdate

import httpcore
import pytest

from federation.fetcher import (
    AP_ACCEPT,
    BadContentType,
    BadJson,
    BlockedAddress,
    ConnectionFailed,
    HttpStatusError,
    SafeFetcher,
    Timeout,
    TooLarge,
    TooManyRedirects,
    parse_retry_after,
)
from federation.httpsig import CavageAuth, Rfc9421Auth, SignatureError, verify_request
from tests.federation.httpserver import LocalServer, Request, respond, respond_json
from tests.federation.sigtools import KEY_ID, Resolver

ACTOR = {"id": "https://peer.example/actor", "type": "Application"}


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Wraps the real backend and records every address a connection is opened to."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.connects: list[tuple[str, int]] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connects.append((host, port))
        return await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def static_resolver(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    return resolve


def local_fetcher(server: LocalServer, **options) -> SafeFetcher:
    """A fetcher that may reach exactly this test server (http, its host:port allowlisted)."""
    options.setdefault("allowed_hosts", {f"127.0.0.1:{server.port}"})
    return SafeFetcher(allow_http=True, **options)


async def serve_actor(request: Request, writer) -> None:
    await respond_json(writer, ACTOR)


async def test_loopback_is_blocked_by_default(server: LocalServer) -> None:
    server.route("/actor")(serve_actor)
    async with SafeFetcher(allow_http=True) as fetcher:
        with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1 is loopback"):
            await fetcher.get_json(server.url("/actor"))
    assert server.connections == 0


async def test_plain_http_needs_allow_http(server: LocalServer) -> None:
    async with SafeFetcher(allow_private=True) as fetcher:
        with pytest.raises(BlockedAddress, match="plain http"):
            await fetcher.get_json(server.url("/actor"))
    async with SafeFetcher() as fetcher:
        for url in (
            "ftp://example.org/x",
            "file:///etc/passwd",
            "/relative",
            "https://u:p@example.org/",
        ):
            with pytest.raises(BlockedAddress):
                await fetcher.get_json(url)


async def test_allowed_with_allow_private_or_allowlist(server: LocalServer) -> None:
    server.route("/actor")(serve_actor)
    async with SafeFetcher(
        allow_http=True, allow_private=True, user_agent="test-agent/1"
    ) as fetcher:
        result = await fetcher.get_json(server.url("/actor"))
    assert result.data == ACTOR and result.status == 200
    assert result.url_final == server.url("/actor")
    assert result.headers["content-type"] == "application/activity+json"
    assert server.requests[0].header("accept") == AP_ACCEPT
    assert server.requests[0].header("user-agent") == "test-agent/1"
    async with local_fetcher(server) as fetcher:
        assert (await fetcher.get_json(server.url("/actor"))).data == ACTOR


async def test_host_names_are_resolved_checked_and_connected_by_address(
    server: LocalServer,
) -> None:
    server.route("/actor")(serve_actor)
    backend = RecordingBackend()
    resolver = static_resolver({"partner.test": ["127.0.0.1"]})
    async with SafeFetcher(allow_http=True, resolver=resolver, network_backend=backend) as fetcher:
        with pytest.raises(BlockedAddress, match=r"partner\.test resolves to 127\.0\.0\.1"):
            await fetcher.get_json(server.url("/actor", host="partner.test"))
    assert backend.connects == []
    async with SafeFetcher(
        allow_http=True, resolver=resolver, network_backend=backend, allowed_hosts={"partner.test"}
    ) as fetcher:
        result = await fetcher.get_json(server.url("/actor", host="partner.test"))
    assert result.data == ACTOR
    # The socket went to the address that was checked, never to the name (no rebinding window).
    assert backend.connects == [("127.0.0.1", server.port)]
    assert server.requests[0].header("host") == f"partner.test:{server.port}"


async def test_redirect_to_loopback_from_an_allowed_host_is_refused(server: LocalServer) -> None:
    async def hop(request: Request, writer) -> None:
        await respond(writer, 302, headers={"Location": server.url("/actor")})

    server.route("/hop")(hop)
    server.route("/actor")(serve_actor)
    resolver = static_resolver({"partner.test": ["127.0.0.1"]})
    async with SafeFetcher(
        allow_http=True, resolver=resolver, allowed_hosts={"partner.test"}
    ) as fetcher:
        with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1 is loopback"):
            await fetcher.get_json(server.url("/hop", host="partner.test"))
    assert [r.path for r in server.requests] == ["/hop"]


async def test_redirects_are_followed_up_to_five(server: LocalServer) -> None:
    async def chain(request: Request, writer) -> None:
        step = int(request.target.split("=")[1])
        await respond(writer, 301, headers={"Location": f"/chain?n={step + 1}"})

    async def five(request: Request, writer) -> None:
        step = int(request.target.split("=")[1])
        target = "/actor" if step == 5 else f"/five?n={step + 1}"
        await respond(writer, 307, headers={"Location": target})

    server.route("/chain")(chain)
    server.route("/five")(five)
    server.route("/actor")(serve_actor)
    async with local_fetcher(server) as fetcher:
        result = await fetcher.get_json(server.url("/five?n=1"))
        assert result.url_final == server.url("/actor") and result.data == ACTOR
        server.requests.clear()
        with pytest.raises(TooManyRedirects, match="more than 5 redirects"):
            await fetcher.get_json(server.url("/chain?n=0"))
    assert len(server.requests) == 6


async def test_redirect_loop_is_refused(server: LocalServer) -> None:
    async def ping(request: Request, writer) -> None:
        await respond(writer, 302, headers={"Location": "/pong"})

    async def pong(request: Request, writer) -> None:
        await respond(writer, 302, headers={"Location": "/ping"})

    server.route("/ping")(ping)
    server.route("/pong")(pong)
    async with local_fetcher(server) as fetcher:
        with pytest.raises(TooManyRedirects, match="loop"):
            await fetcher.get_json(server.url("/ping"))


async def test_declared_50_mb_body_is_refused_at_once(server: LocalServer) -> None:
    async def huge(request: Request, writer) -> None:
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n"
        writer.write((head + f"Content-Length: {50 * 1024 * 1024}\r\n\r\n").encode())
        writer.write(b"[" + b" " * 65536)
        await writer.drain()
        await asyncio.sleep(30)

    server.route("/huge")(huge)
    start = time.perf_counter()
    async with local_fetcher(server) as fetcher:
        with pytest.raises(TooLarge, match="declares 52428800 bytes"):
            await fetcher.get_json(server.url("/huge"))
    assert time.perf_counter() - start < 2


async def test_streamed_50_mb_body_is_cut_at_the_cap(server: LocalServer) -> None:
    sent = 0

    async def stream(request: Request, writer) -> None:
        nonlocal sent
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n"
        writer.write((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
        chunk = b" " * 65536
        for _ in range(800):  # 50 MiB
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
            sent += len(chunk)

    server.route("/stream")(stream)
    start = time.perf_counter()
    async with local_fetcher(server) as fetcher:
        with pytest.raises(TooLarge, match="more than 1048576 bytes"):
            await fetcher.get_json(server.url("/stream"))
    assert time.perf_counter() - start < 3
    assert sent < 10 * 1024 * 1024


async def test_drip_feed_is_cut_by_the_overall_deadline(server: LocalServer) -> None:
    async def drip(request: Request, writer) -> None:
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n"
        writer.write((head + "Content-Length: 100\r\n\r\n").encode())
        for _ in range(100):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(1)

    server.route("/drip")(drip)
    start = time.perf_counter()
    async with local_fetcher(server, deadline=1.5, read_timeout=5) as fetcher:
        with pytest.raises(Timeout, match=r"longer than 1\.5 s"):
            await fetcher.get_json(server.url("/drip"))
    assert time.perf_counter() - start < 2.5


async def test_silent_server_hits_the_deadline(server: LocalServer) -> None:
    async def silent(request: Request, writer) -> None:
        await asyncio.sleep(30)

    server.route("/silent")(silent)
    async with local_fetcher(server, deadline=0.5) as fetcher:
        with pytest.raises(Timeout):
            await fetcher.get_json(server.url("/silent"))
        with pytest.raises(Timeout):
            await fetcher.post(server.url("/silent"), b"{}")


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/activity+json", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        ('application/activity+json; charset="utf-8"', True),
        # Mastodon CVE-2024-25623: JSON served as anything else (an uploaded media file,
        # a generic JSON API) is not an ActivityPub document.
        ("application/ld+json", False),
        ('application/ld+json; profile="https://example.org/other"', False),
        ("application/json; charset=utf-8", False),
        ("text/html; charset=utf-8", False),
        ("image/png", False),
        (None, False),
    ],
)
async def test_content_type_check(server: LocalServer, content_type, accepted) -> None:
    async def typed(request: Request, writer) -> None:
        await respond(writer, 200, json.dumps(ACTOR).encode(), content_type=content_type)

    server.route("/typed")(typed)
    async with local_fetcher(server) as fetcher:
        if accepted:
            assert (await fetcher.get_json(server.url("/typed"))).data == ACTOR
        else:
            with pytest.raises(BadContentType):
                await fetcher.get_json(server.url("/typed"))


async def test_plain_json_only_from_hosts_a_compatibility_rule_names(server: LocalServer) -> None:
    async def plain(request: Request, writer) -> None:
        await respond(writer, 200, json.dumps(ACTOR).encode(), content_type="application/json")

    server.route("/plain")(plain)
    host = f"127.0.0.1:{server.port}"
    async with local_fetcher(server, plain_json_hosts=[host]) as fetcher:
        assert (await fetcher.get_json(server.url("/plain"))).data == ACTOR
    async with local_fetcher(server, plain_json_hosts=["127.0.0.1:1"]) as fetcher:
        with pytest.raises(BadContentType):
            await fetcher.get_json(server.url("/plain"))


class BrokenTransportBackend(RecordingBackend):
    """Connects for real, then fails the way anyio under uvloop does when the peer resets a
    connection right after accepting it (an AttributeError on a torn-down transport)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = await super().connect_tcp(host, port, timeout, local_address, socket_options)
        error = self.error

        class Broken(httpcore.AsyncNetworkStream):
            async def read(self, max_bytes, timeout=None):
                raise error

            async def write(self, buffer, timeout=None):
                await stream.write(buffer, timeout)

            async def aclose(self):
                await stream.aclose()

            def get_extra_info(self, info):
                return stream.get_extra_info(info)

        return Broken()


@pytest.mark.parametrize(
    "error",
    [
        AttributeError("'NoneType' object has no attribute 'resume_reading'"),
        ConnectionResetError(104, "Connection reset by peer"),
        OSError(113, "No route to host"),
    ],
)
async def test_every_transport_failure_is_a_fetch_error(server: LocalServer, error) -> None:
    server.route("/actor")(serve_actor)
    backend = BrokenTransportBackend(error)
    async with local_fetcher(server, network_backend=backend) as fetcher:
        with pytest.raises(ConnectionFailed, match=r"broke|reset|route"):
            await fetcher.get_json(server.url("/actor"))
        with pytest.raises(ConnectionFailed):
            await fetcher.post(server.url("/inbox"), b"{}")


async def test_a_peer_that_resets_right_after_accepting(server: LocalServer) -> None:
    async def reset(request: Request, writer) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server.route("/reset")(reset)
    async with local_fetcher(server) as fetcher:
        for _ in range(5):
            with pytest.raises(ConnectionFailed):
                await fetcher.get_json(server.url("/reset"))


async def test_webfinger_jrd(server: LocalServer) -> None:
    async def finger(request: Request, writer) -> None:
        body = json.dumps({"subject": "acct:a@peer.example", "links": []}).encode()
        await respond(writer, 200, body, content_type="application/jrd+json")

    server.route("/.well-known/webfinger")(finger)
    async with local_fetcher(server) as fetcher:
        result = await fetcher.get_jrd(
            server.url("/.well-known/webfinger?resource=acct:a@peer.example")
        )
        assert result.data["subject"] == "acct:a@peer.example"
        with pytest.raises(BadContentType):
            await fetcher.get_json(server.url("/.well-known/webfinger"))
    assert server.requests[0].header("signature") is None


async def test_bad_and_deep_json(server: LocalServer) -> None:
    async def deep(request: Request, writer) -> None:
        await respond(writer, 200, b"[" * 1000 + b"]" * 1000)

    async def broken(request: Request, writer) -> None:
        await respond(writer, 200, b'{"id": ')

    server.route("/deep")(deep)
    server.route("/broken")(broken)
    async with local_fetcher(server) as fetcher:
        with pytest.raises(BadJson, match="deeper than 64"):
            await fetcher.get_json(server.url("/deep"))
        with pytest.raises(BadJson, match="invalid JSON"):
            await fetcher.get_json(server.url("/broken"))


@pytest.mark.parametrize("auth_class", [CavageAuth, Rfc9421Auth])
async def test_signed_get_is_verified_by_the_server(
    server: LocalServer, rsa_key, auth_class
) -> None:
    outcomes = []

    async def guarded(request: Request, writer) -> None:
        url = f"http://{request.header('host')}{request.target}"
        try:
            verified = await verify_request(
                request.method, url, request.headers, request.body, Resolver(rsa_key.public_key())
            )
        except SignatureError as exc:
            outcomes.append(exc.reason)
            await respond(writer, 401, b"{}")
            return
        outcomes.append(verified.scheme)
        await respond_json(writer, ACTOR)

    server.route("/actor")(guarded)
    async with local_fetcher(server, signer=auth_class(KEY_ID, rsa_key)) as fetcher:
        assert (await fetcher.get_json(server.url("/actor?with=query"))).data == ACTOR
        with pytest.raises(HttpStatusError) as refused:
            await fetcher.get_json(server.url("/actor"), sign=False)
    assert refused.value.status == 401
    assert outcomes[0] == ("rfc9421" if auth_class is Rfc9421Auth else "cavage")
    assert "not signed" in outcomes[1]


async def test_429_and_503_surface_retry_after(server: LocalServer) -> None:
    async def busy(request: Request, writer) -> None:
        await respond(writer, 429, b"{}", headers={"Retry-After": "120"})

    async def down(request: Request, writer) -> None:
        later = formatdate(time.time() + 300, usegmt=True)
        await respond(writer, 503, b"{}", headers={"Retry-After": later})

    async def gone(request: Request, writer) -> None:
        await respond(writer, 410, b"{}")

    server.route("/busy")(busy)
    server.route("/down")(down)
    server.route("/gone")(gone)
    async with local_fetcher(server) as fetcher:
        with pytest.raises(HttpStatusError) as busy_error:
            await fetcher.get_json(server.url("/busy"))
        assert (busy_error.value.status, busy_error.value.retry_after) == (429, 120.0)
        assert "retry after 120 s" in busy_error.value.reason
        with pytest.raises(HttpStatusError) as down_error:
            await fetcher.post(server.url("/down"), b"{}")
        assert down_error.value.status == 503 and 290 < (down_error.value.retry_after or 0) <= 300
        with pytest.raises(HttpStatusError) as gone_error:
            await fetcher.get_json(server.url("/gone"))
        assert (gone_error.value.status, gone_error.value.retry_after) == (410, None)


async def test_signed_post_delivery(server: LocalServer, ed_key) -> None:
    received = []

    async def inbox(request: Request, writer) -> None:
        url = f"http://{request.header('host')}{request.target}"
        verified = await verify_request(
            request.method, url, request.headers, request.body, Resolver(ed_key.public_key())
        )
        received.append((verified.scheme, request.header("content-type"), request.body))
        await respond(writer, 202)

    server.route("/inbox")(inbox)
    async with local_fetcher(server, signer=CavageAuth(KEY_ID, ed_key)) as fetcher:
        status = await fetcher.post(server.url("/inbox"), b'{"type":"Create"}')
    assert status == 202
    assert received == [("cavage", "application/activity+json", b'{"type":"Create"}')]


async def test_deliveries_go_through_the_guard(server: LocalServer) -> None:
    server.route("/inbox")(serve_actor)
    async with SafeFetcher(allow_http=True) as fetcher:
        with pytest.raises(BlockedAddress):
            await fetcher.post(server.url("/inbox"), b"{}")
    assert server.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/actor",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/actor",
        "https://[::ffff:127.0.0.1]/actor",
        "https://[fd00::1]/actor",
        "https://100.64.0.1/actor",
        "https://0.0.0.0/actor",
        "https://224.0.0.1/actor",
        "https://[2002:7f00:1::1]/actor",
    ],
)
async def test_internal_addresses_are_refused_without_a_connection(url: str) -> None:
    backend = RecordingBackend()
    async with SafeFetcher(network_backend=backend) as fetcher:
        with pytest.raises(BlockedAddress):
            await fetcher.get_json(url)
        with pytest.raises(BlockedAddress):
            await fetcher.post(url, b"{}")
    assert backend.connects == []


@pytest.mark.parametrize(
    "answers",
    [
        ["10.0.0.1"],
        ["169.254.169.254"],
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["93.184.216.34", "10.0.0.7"],
    ],
)
async def test_names_resolving_to_internal_addresses_are_refused(answers) -> None:
    backend = RecordingBackend()
    resolver = static_resolver({"evil.test": answers})
    async with SafeFetcher(resolver=resolver, network_backend=backend) as fetcher:
        with pytest.raises(BlockedAddress, match=r"evil\.test resolves to"):
            await fetcher.get_json("https://evil.test/actor")
    assert backend.connects == []


async def test_unresolvable_host() -> None:
    async with SafeFetcher(resolver=static_resolver({})) as fetcher:
        with pytest.raises(ConnectionFailed, match="cannot resolve"):
            await fetcher.get_json("https://nowhere.test/actor")


async def test_refused_connection(server: LocalServer) -> None:
    port = server.port
    await server.stop()
    async with SafeFetcher(allow_http=True, allow_private=True) as fetcher:
        with pytest.raises(ConnectionFailed):
            await fetcher.get_json(f"http://127.0.0.1:{port}/actor")
    await server.start()  # the fixture stops it again


def test_parse_retry_after() -> None:
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60) == 60.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 + 60) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


async def test_cookies_are_never_kept(server: LocalServer) -> None:
    async def sets_cookie(request: Request, writer) -> None:
        body = json.dumps(ACTOR).encode()
        await respond(writer, 200, body, headers={"Set-Cookie": "session=abc; Path=/"})

    server.route("/actor")(sets_cookie)
    async with local_fetcher(server) as fetcher:
        await fetcher.get_json(server.url("/actor"))
        await fetcher.get_json(server.url("/actor"))
    assert [r.header("cookie") for r in server.requests] == [None, None]
