"""The whole configuration: its sections and the checks across keys."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from registry.config.federation import FederationSection, LimitsSection, MirrorSection
from registry.config.keys import ConfigError
from registry.config.node import (
    DatabaseSection,
    ModerationSection,
    MonitoringSection,
    NetworkSection,
    NodeSection,
    SearchSection,
    ServerSection,
    WebSection,
)


@dataclass(frozen=True)
class Settings:
    node: NodeSection = field(default_factory=NodeSection)
    server: ServerSection = field(default_factory=ServerSection)
    database: DatabaseSection = field(default_factory=DatabaseSection)
    moderation: ModerationSection = field(default_factory=ModerationSection)
    search: SearchSection = field(default_factory=SearchSection)
    federation: FederationSection = field(default_factory=FederationSection)
    mirror: MirrorSection = field(default_factory=MirrorSection)
    limits: LimitsSection = field(default_factory=LimitsSection)
    web: WebSection = field(default_factory=WebSection)
    network: NetworkSection = field(default_factory=NetworkSection)
    monitoring: MonitoringSection = field(default_factory=MonitoringSection)

    @property
    def base_url(self) -> str:
        return self.node.base_url.rstrip("/")

    @property
    def domain(self) -> str:
        """host[:port] of the base URL, as used in acct: handles."""
        return urlsplit(self.base_url).netloc.lower()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{Path(self.node.data_dir) / 'registry.db'}"


SECTIONS: dict[str, type] = {f.name: f.default_factory().__class__ for f in fields(Settings)}  # type: ignore[misc]


def validate(settings: Settings) -> None:
    """Cross-field checks that a single key's type cannot express."""
    parts = urlsplit(settings.node.base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"node.base_url: expected an absolute http(s) URL without query or fragment, "
            f"got {settings.node.base_url!r}"
        )
    handle = settings.node.handle
    if not handle or not all(c.isascii() and (c.isalnum() or c in "_-.") for c in handle):
        raise ConfigError(f"node.handle: use letters, digits, '_', '-' or '.', got {handle!r}")
    url = settings.database.url
    if url and url.split(":", 1)[0].split("+")[0] not in ("sqlite", "postgresql", "postgres"):
        raise ConfigError(
            f"database.url: only sqlite and postgresql URLs are supported, got {url!r}"
        )
    if settings.search.max_page_size < settings.search.page_size:
        raise ConfigError("search.max_page_size: must be at least search.page_size")
    _validate_network(settings.network)
    fed = settings.federation
    if fed.delivery_lease_seconds < 2 * fed.fetch_timeout_seconds + 0.2:
        raise ConfigError(
            "federation.delivery_lease_seconds: must be at least twice "
            "federation.fetch_timeout_seconds (a send must end inside its lease)"
        )


def _validate_network(net: NetworkSection) -> None:
    for where, entries in (
        ("network.trusted_proxies", net.trusted_proxies),
        ("network.allowed_networks", net.allowed_networks),
    ):
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ConfigError(f"{where}: {entry!r} is not an IP address or network") from None
    for entry in net.host_addresses:
        name, _, address = entry.partition("=")
        try:
            ipaddress.ip_address(address.strip())
        except ValueError:
            raise ConfigError(
                f"network.host_addresses: expected 'name=address', got {entry!r}"
            ) from None
        if not name.strip():
            raise ConfigError(f"network.host_addresses: no host name in {entry!r}")
    if net.ca_bundle and not Path(net.ca_bundle).is_file():
        raise ConfigError(f"network.ca_bundle: {net.ca_bundle} is not a file")
