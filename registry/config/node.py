"""The node's own sections: identity, server, database, search, web, network, monitoring."""

from __future__ import annotations

from dataclasses import dataclass

from registry.config.keys import INTERFACE_LANGUAGES, key


@dataclass(frozen=True)
class NodeSection:
    """Who this node is."""

    name: str = key(
        "Commons Registry", "Human name of this registry, shown on pages and to followers."
    )
    summary: str = key(
        "A registry of commons assets, federated with partner nodes.",
        "One or two sentences on what this registry is and who runs it.",
    )
    base_url: str = key(
        "http://127.0.0.1:8000",
        "Public base URL of the node. Every IRI (assets, actor, vocabularies) is built from it, "
        "so set it before publishing anything; https is required to federate in production.",
    )
    handle: str = key("registry", "Handle of the node actor: people follow @handle@domain.")
    data_dir: str = key("./data", "Directory for the embedded database and other local state.")
    operator: str = key(
        "", "Who runs this node (a municipality, a cooperative), shown on the home page."
    )
    contact_email: str = key(
        "", "Contact address of the operator, published in NodeInfo and on the node actor."
    )
    default_language: str = key(
        "en",
        "The node's language: the web interface's for visitors who neither chose one nor "
        "sent an Accept-Language this node has a catalog for, and the language (`contentMap`) "
        "of the posts it publishes.",
        choices=INTERFACE_LANGUAGES,
    )
    website: str = key("", "The operator's website, shown as a field on the node actor's profile.")


@dataclass(frozen=True)
class ServerSection:
    """The HTTP listener."""

    host: str = key("127.0.0.1", "Address to listen on.")
    port: int = key(8000, "TCP port to listen on.", minimum=1, maximum=65535)
    workers: int = key(
        1, "Number of web worker processes (PostgreSQL only when above 1).", minimum=1, maximum=64
    )
    max_body_bytes: int = key(
        1_048_576,
        "Largest request body accepted by the API and the inbox.",
        minimum=1024,
        maximum=64 * 1_048_576,
    )
    log_level: str = key("info", "Logging level.", choices=("debug", "info", "warning", "error"))
    log_format: str = key(
        "text",
        "How log lines are written on stderr: plain text, or one JSON object per line "
        "(time, level, logger, message, request_id) for a log collector.",
        choices=("text", "json"),
    )
    document_cache_seconds: float = key(
        5.0,
        "A web process serves assets' JSON-LD documents from memory and asks the database "
        "at most this often whether the catalog changed: changes it commits itself show at "
        "once, others' (another worker, an import) within this time. 0 turns the cache off.",
        minimum=0,
        maximum=3600,
    )


@dataclass(frozen=True)
class DatabaseSection:
    """Where the catalog lives."""

    url: str = key(
        "",
        "SQLAlchemy URL. Empty means SQLite at {data_dir}/registry.db. For PostgreSQL use "
        "postgresql://user@host:5432/dbname (the asyncpg driver is chosen for you).",
        example="postgresql://postgres@127.0.0.1:5432/registry",
    )
    pool_size: int = key(
        10, "Connections kept open to PostgreSQL per process.", minimum=1, maximum=200
    )


@dataclass(frozen=True)
class ModerationSection:
    """How group submissions are published."""

    require_approval: bool = key(
        False,
        "When true, assets created or changed by groups wait for an admin's approval "
        "before they are public; when false they publish at once.",
    )


@dataclass(frozen=True)
class SearchSection:
    """Search and listing."""

    page_size: int = key(
        20, "Results per page when the client does not ask for a size.", minimum=1, maximum=500
    )
    max_page_size: int = key(100, "Largest page a client may ask for.", minimum=1, maximum=1000)
    count_limit: int = key(
        10000,
        "A search counts its matches and their facets up to this many: past it the API "
        "says total_exact false (more than this many; facet counts are at least), so that "
        "a broad search in a large catalog costs no more than this many rows.",
        minimum=100,
        maximum=10_000_000,
    )
    map_summary_seconds: float = key(
        30,
        "How far behind the catalog, in seconds, the whole-world map's clusters may be. "
        "They are counted from a summary of the public catalog per kind and grid cell, "
        "rebuilt in the background when the catalog has changed; 0: only a summary that "
        "counts the catalog as it is now (meanwhile the positions are counted exactly).",
        minimum=0,
        maximum=3600,
    )


@dataclass(frozen=True)
class WebSection:
    """The web interface for people: maps, sign-in sessions."""

    tile_url: str = key(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "Map tile URL template ({z}, {x}, {y}); empty for maps without a background. Pages "
        "and result lists work when tiles cannot load.",
    )
    tile_attribution: str = key(
        "© OpenStreetMap contributors", "Attribution shown on maps for the tiles (plain text)."
    )
    session_hours: float = key(
        12, "How long a web sign-in lasts, in hours.", minimum=0.1, maximum=24 * 90
    )
    # Places by name (issue 17): the catalog's own towns first, then this geocoder if set.
    geocoder_url: str = key(
        "",
        "Search URL of a Nominatim- or Photon-compatible geocoder (e.g. "
        "https://nominatim.openstreetmap.org/search or https://photon.komoot.io/api), asked "
        "with ?q= when a typed place is not a town of the catalog; empty: the catalog only. "
        "Answers are cached; mind the service's usage policy.",
    )
    geocoder_timeout: float = key(
        3.0,
        "Seconds to wait for the geocoder before answering without it.",
        minimum=0.1,
        maximum=30,
    )
    near_km: float = key(
        25, "Radius in km of a search near a place typed by name.", minimum=0.1, maximum=20000
    )


@dataclass(frozen=True)
class NetworkSection:
    """Deployment networking: the reverse proxy in front, and how this node reaches others."""

    trusted_proxies: list = key(
        [],
        "Addresses (or networks) of the reverse proxies in front of the node. Only requests "
        "from these may set the client address and scheme with X-Forwarded-For and "
        "X-Forwarded-Proto; from anyone else the headers are ignored. X-Forwarded-Host and "
        "Host never change a link: every link is built from node.base_url.",
        example=["127.0.0.1", "::1"],
    )
    ca_bundle: str = key(
        "",
        "A PEM file of extra certificate authorities that the node trusts, besides the "
        "public ones, when it fetches from or delivers to other servers (a city's internal "
        "CA; a test CA). Empty: public CAs only.",
        example="/etc/commons-registry/internal-ca.pem",
    )
    allowed_networks: list = key(
        [],
        "Private networks (CIDR) the node may federate with although they are not public, "
        "e.g. partners on a city's internal network. Keep it narrow: every other private, "
        "loopback and link-local address stays refused. Unlike "
        "federation.allow_private_addresses this opens only the networks listed.",
        example=["10.20.0.0/16"],
    )
    host_addresses: list = key(
        [],
        "TESTS AND STAGING ONLY: 'name=address' pairs that resolve those host names to fixed "
        "addresses instead of asking DNS (like /etc/hosts, for this node's outgoing requests "
        "only). The address still has to pass the address policy.",
        example=["registry.staging.example=10.20.0.5"],
    )

    def host_address_map(self) -> dict[str, str]:
        return dict(entry.split("=", 1) for entry in self.host_addresses)


@dataclass(frozen=True)
class MonitoringSection:
    """Health checks and metrics for the load balancer and the monitoring system."""

    metrics: bool = key(
        False,
        "Serve Prometheus metrics at /metrics. Set monitoring.metrics_token too, or keep "
        "/metrics unreachable from outside (the shipped proxy sites refuse it).",
    )
    metrics_token: str = key(
        "", "When set, /metrics answers only requests with 'Authorization: Bearer <token>'."
    )
    worker_stale_seconds: float = key(
        60.0,
        "/readyz reports not ready when no inbox/delivery worker (in a server or a "
        "`commons-registry worker`) has reported alive for this long.",
        minimum=5,
        maximum=3600,
    )
