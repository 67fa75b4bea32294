"""Nodes in production mode for tests: each behind Debian's nginx with TLS from a test CA,
reached by host name (pinned to a loopback address of its own), federating over https only.

Nothing here loosens the node: `federation.allow_http` and `allow_private_addresses` stay
off; the nodes trust the test CA through `network.ca_bundle`, find each other's names
through `network.host_addresses` and may reach exactly the proxies' /24 through
`network.allowed_networks`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpcore
import httpx
import trustme

ROOT = Path(__file__).resolve().parents[2]
SITE_TEMPLATE = ROOT / "deploy" / "nginx" / "commons-registry.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NETWORK = "127.0.19.0/24"  # the proxies' addresses: the only private network nodes may reach


def nginx_available() -> bool:
    return Path(NGINX).is_file() and os.access(NGINX, os.X_OK)


def free_port_on(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def render_site(values: dict[str, str]) -> str:
    """The shipped site file with its @PLACEHOLDERS@ filled in, as the deployment guide says."""
    lines = [line for line in SITE_TEMPLATE.read_text().splitlines() if not line.startswith("#")]
    text = "\n".join(lines)
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = re.findall(r"@[A-Z_]+@", text)
    assert not left, f"placeholders left unfilled: {left}"
    return text


@dataclass
class Site:
    name: str  # host name, e.g. alpha.test
    address: str  # the loopback address nginx listens on for it
    port: int
    http_port: int
    upstream_port: int

    @property
    def public_url(self) -> str:
        return f"https://{self.name}:{self.port}"


@dataclass
class Proxy:
    """One nginx serving several sites, with a test CA that issued each site's certificate."""

    workdir: Path
    ca: trustme.CA = field(default_factory=trustme.CA)
    sites: list[Site] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def ca_bundle(self) -> Path:
        path = self.workdir / "ca.pem"
        if not path.exists():
            self.workdir.mkdir(parents=True, exist_ok=True)
            self.ca.cert_pem.write_to_path(str(path))
        return path

    def add(self, name: str, address: str, upstream_port: int) -> Site:
        site = Site(name, address, free_port_on(address), free_port_on(address), upstream_port)
        self.sites.append(site)
        return site

    def host_addresses(self) -> str:
        return ",".join(f"{site.name}={site.address}" for site in self.sites)

    def _write_config(self, max_body: int) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        servers = []
        for site in self.sites:
            cert = self.ca.issue_cert(site.name)
            chain, key = self.workdir / f"{site.name}.pem", self.workdir / f"{site.name}.key"
            cert.private_key_pem.write_to_path(str(key))
            chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
            servers.append(
                render_site(
                    {
                        "SERVER_NAME": site.name,
                        "PUBLIC_URL": site.public_url,
                        "LISTEN": f"{site.address}:{site.port} ssl",
                        "HTTP_LISTEN": f"{site.address}:{site.http_port}",
                        "CERT": str(chain),
                        "KEY": str(key),
                        "UPSTREAM": f"127.0.0.1:{site.upstream_port}",
                        "MAX_BODY": str(max_body),
                    }
                )
            )
        # A site file expects Debian's nginx.conf around it; this is the least of that.
        user = "user root root;\n" if os.geteuid() == 0 else ""  # temp files under tmp_path
        temp = self.workdir / "temp"
        temp.mkdir(exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(
            f"{user}worker_processes 1;\npid {self.workdir / 'nginx.pid'};\n"
            f"error_log {self.workdir / 'error.log'} warn;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            f"  access_log {self.workdir / 'access.log'};\n"
            f"  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
            f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n"
            f"  scgi_temp_path {temp}/scgi;\n"
            "  types { text/css css; application/javascript js; }\n" + "\n".join(servers) + "\n}\n"
        )
        return conf

    def start(self, max_body: int = 1_048_576) -> None:
        conf = self._write_config(max_body)
        base = [NGINX, "-p", str(self.workdir), "-c", str(conf), "-e", str(self.workdir / "e.log")]
        check = subprocess.run([*base, "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(
            [*base, "-g", "daemon off;"], stderr=subprocess.STDOUT, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.sites[0].address, self.sites[0].port), 1):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nginx did not start: {self.log()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """The test's own client: host names answered from a fixed table, like the nodes do."""

    def __init__(self, table: dict[str, str], local_address: str | None = None) -> None:
        self.table, self.local_address = table, local_address
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # type: ignore[no-untyped-def]
        return await self.inner.connect_tcp(
            self.table.get(host, host), port, timeout, self.local_address, socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def https_client(
    proxy: Proxy, *, local_address: str | None = None, headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    """An httpx client that trusts the test CA and resolves the sites' names to their proxies."""
    context = ssl.create_default_context(cafile=str(proxy.ca_bundle))
    table = {site.name: site.address for site in proxy.sites}
    transport = httpx.AsyncHTTPTransport(verify=context)
    transport._pool = httpcore.AsyncConnectionPool(  # the one way to give httpx a resolver
        ssl_context=context, network_backend=PinnedBackend(table, local_address)
    )
    return httpx.AsyncClient(transport=transport, headers=headers or {}, timeout=30)


def production_env(proxy: Proxy, site: Site, extra: Iterable[tuple[str, str]] = ()) -> dict:
    """The node's settings for running behind `proxy` with no development flag set."""
    return {
        "COMMONS_NODE_BASE_URL": site.public_url,
        "COMMONS_FEDERATION_ALLOW_HTTP": "false",
        "COMMONS_FEDERATION_ALLOW_PRIVATE_ADDRESSES": "false",
        "COMMONS_NETWORK_ALLOWED_NETWORKS": NETWORK,
        "COMMONS_NETWORK_HOST_ADDRESSES": proxy.host_addresses(),
        "COMMONS_NETWORK_CA_BUNDLE": str(proxy.ca_bundle),
        "COMMONS_NETWORK_TRUSTED_PROXIES": "127.0.0.1",
        **dict(extra),
    }
