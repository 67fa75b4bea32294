"""The SSRF guard: which addresses we may connect to, enforced where the socket is opened.

`GuardedBackend` is an httpcore network backend. It resolves the host itself, refuses the
connection if any resolved address is not public, and then connects to one of the addresses
it checked, never to the name again, so a DNS answer that changes between check and connect
(rebinding) cannot reach an internal address. Redirects open new connections and therefore
pass through the same check.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

import httpcore

from federation.fetch_errors import BlockedAddress, ConnectionFailed, Timeout
from federation.hosts import InvalidHost, normalize_host

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


async def system_resolver(host: str, port: int) -> list[str]:
    """All addresses the system resolver gives for `host`, in its order of preference."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0]).split("%")[0]  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    return addresses


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """IPv4 addresses an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    found = []
    if ip.ipv4_mapped is not None:
        found.append(("IPv4-mapped", ip.ipv4_mapped))
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:
        found.append(("IPv4-compatible", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    if ip.sixtofour is not None:
        found.append(("6to4", ip.sixtofour))
    if ip.teredo is not None:
        found.extend([("Teredo server", ip.teredo[0]), ("Teredo client", ip.teredo[1])])
    if ip in _NAT64:
        found.append(("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return found


def _ipv4_problem(ip: ipaddress.IPv4Address) -> str | None:
    checks = [
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip in _CGNAT, "shared (CGNAT 100.64.0.0/10)"),
        (ip.is_link_local, "link-local (cloud metadata lives here)"),
        (ip.is_multicast, "multicast"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not globally routable"),
    ]
    return next((reason for hit, reason in checks if hit), None)


def address_problem(ip: IPAddress) -> str | None:
    """Why we must not connect to `ip`, or None if it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _ipv4_problem(ip)
    for kind, inner in _embedded_ipv4(ip):
        problem = _ipv4_problem(inner)
        if problem:
            return f"{kind} form of {inner}, which is {problem}"
    checks = [
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_site_local, "site-local"),
        (ip.is_multicast, "multicast"),
        (ip in _UNIQUE_LOCAL, "unique-local (fc00::/7)"),
        (ip.is_reserved, "reserved"),
        (ip.is_private or not ip.is_global, "not globally routable"),
    ]
    return next((reason for hit, reason in checks if hit), None)


def parse_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def mapped_resolver(mapping: Mapping[str, str], fallback: Resolver | None = None) -> Resolver:
    """A resolver that answers the names in `mapping` with their fixed address and asks
    `fallback` (the system resolver) for every other name. For tests and staging, where
    real host names must reach machines that DNS does not know; the answer still passes
    the address policy, so a mapped name gains no access the policy would refuse."""
    fixed = {normalize_host(name): address for name, address in mapping.items()}
    other = fallback or system_resolver

    async def resolve(host: str, port: int) -> list[str]:
        try:
            address = fixed.get(normalize_host(host))
        except InvalidHost:
            address = None
        return [address] if address is not None else await other(host, port)

    return resolve


@dataclass(frozen=True)
class AddressPolicy:
    """`allow_private` turns the guard off (tests, dev); `allowed_hosts` exempts some hosts;
    `allowed_networks` exempts addresses inside those networks, and only those.

    Entries of `allowed_hosts` are `host` (any port) or `host:port`, normalised on creation.
    """

    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def create(
        cls,
        *,
        allow_private: bool = False,
        allowed_hosts: Iterable[str] = (),
        allowed_networks: Iterable[str] = (),
    ) -> AddressPolicy:
        return cls(
            allow_private,
            frozenset(normalize_host(entry) for entry in allowed_hosts),
            tuple(ipaddress.ip_network(entry, strict=False) for entry in allowed_networks),
        )

    def exempt(self, host: str, port: int) -> bool:
        if self.allow_private:
            return True
        try:
            name = normalize_host(f"[{host}]" if ":" in host else host)
        except InvalidHost:
            return False
        return name in self.allowed_hosts or f"{name}:{port}" in self.allowed_hosts

    def check_address(self, host: str, address: str) -> None:
        ip = parse_ip(address)
        if ip is None:
            raise BlockedAddress(f"{host} resolved to {address!r}, which is not an IP address")
        if any(ip.version == net.version and ip in net for net in self.allowed_networks):
            return
        problem = address_problem(ip)
        if problem:
            via = "" if parse_ip(host) == ip else f"{host} resolves to "
            raise BlockedAddress(f"refusing to connect: {via}{ip} is {problem}")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address against the policy, then connects to a checked address."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver or system_resolver
        self.inner = inner or httpcore.AnyIOBackend()

    async def resolve(self, host: str, port: int, limit: float | None) -> list[str]:
        if parse_ip(host) is not None:
            return [host.strip("[]")]
        try:
            async with asyncio.timeout(limit):
                addresses = await self.resolver(host, port)
        except TimeoutError as exc:
            raise Timeout(f"resolving {host} took longer than {limit} s") from exc
        except OSError as exc:
            raise ConnectionFailed(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise ConnectionFailed(f"{host} has no addresses")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.resolve(host, port, timeout)
        if not self.policy.exempt(host, port):
            for address in addresses:
                self.policy.check_address(host, address)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, OSError) as exc:
                failure = exc
        raise ConnectionFailed(f"cannot connect to {host}:{port}: {failure}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("unix sockets are never used for federation")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
