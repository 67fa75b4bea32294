"""Confine a peer process to the loopback interface.

Imported first by the peer launchers (`pasture_launcher.py`, `herd_launcher.py`), which run
inside the peers' own virtualenvs. It makes sure that nothing the peers do (bovine fetching a
JSON-LD context from w3id.org, following a link found in an activity, a DNS lookup through
c-ares) leaves the machine: name resolution of anything but a loopback name or address fails
at once, and so does a TCP/UDP connect to a non-loopback address. Only the standard library
is used here, so it runs under any Python the peers use.
"""

from __future__ import annotations

import ipaddress
import socket
import sys

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback_host(host: object) -> bool:
    if host is None:  # getaddrinfo(None, port): a wildcard/passive lookup, no network
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].lower().rstrip(".")
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class NonLoopbackBlocked(OSError):
    pass


_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not is_loopback_host(host):
        sys.stderr.write(f"[loopback_guard] refused name lookup of {host!r}\n")
        raise socket.gaierror(socket.EAI_NONAME, f"loopback_guard: {host!r} is not loopback")
    return _real_getaddrinfo(host, *args, **kwargs)


def _check_address(sock: socket.socket, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) else address
        if not is_loopback_host(host):
            sys.stderr.write(f"[loopback_guard] refused connection to {address!r}\n")
            raise NonLoopbackBlocked(f"loopback_guard: {address!r} is not loopback")


def _guarded_connect(self, address):
    _check_address(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _check_address(self, address)
    return _real_connect_ex(self, address)


def _guarded_sendto(self, data, *args):
    _check_address(self, args[-1])
    return _real_sendto(self, data, *args)


def install() -> None:
    socket.getaddrinfo = _guarded_getaddrinfo
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.socket.sendto = _guarded_sendto
    # aiohttp picks aiodns (c-ares, which opens its own sockets in C) as resolver when it is
    # installed, and bovine uses aiodns directly for FEP-612d lookups: route everything
    # through the guarded getaddrinfo instead.
    try:
        import aiodns

        class _NoDNS:
            def __init__(self, *args, **kwargs):
                raise NonLoopbackBlocked("loopback_guard: aiodns is disabled in interop peers")

        aiodns.DNSResolver = _NoDNS
    except ImportError:
        pass
    try:
        import aiohttp.connector
        import aiohttp.resolver

        aiohttp.resolver.DefaultResolver = aiohttp.resolver.ThreadedResolver
        aiohttp.connector.DefaultResolver = aiohttp.resolver.ThreadedResolver
    except ImportError:
        pass


install()
