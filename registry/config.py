"""Configuration: one TOML file, every key overridable by an environment variable.

Each section is a dataclass; each field's metadata carries its documentation, so that the
example file, the validation messages and the environment names all come from one place.
A key `port` in section `server` is read from `[server] port` in the file and from
`COMMONS_SERVER_PORT` in the environment (the environment wins).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "COMMONS_"
CONFIG_ENV = "COMMONS_CONFIG"


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message names the key."""


def key(
    default: Any,
    doc: str,
    *,
    choices: tuple[str, ...] = (),
    minimum: float | None = None,
    maximum: float | None = None,
    example: Any = None,
) -> Any:
    """Declare one configuration key with its documentation and constraints."""
    meta = {"doc": doc, "choices": choices, "min": minimum, "max": maximum, "example": example}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


# The web interface's catalogs (registry/web/locale/{lang}/LC_MESSAGES/messages.po): the
# languages are found here, without importing the web package, so that checking a
# configuration stays cheap. English is the source language and needs none.
LOCALE_DIR = Path(__file__).parent / "web" / "locale"
INTERFACE_LANGUAGES = (
    "en",
    *sorted(p.parent.parent.name for p in LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")),
)


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
        "How long a web process may serve an asset's JSON-LD document from memory; changes "
        "it commits itself show at once, others' (another worker, an import) within this "
        "time. 0 turns the cache off.",
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


@dataclass(frozen=True)
class FederationSection:
    """ActivityPub: followers, partners, signatures, deliveries."""

    manually_approves_followers: bool = key(
        False,
        "When true, follow requests wait for an admin (`commons-registry followers "
        "approve`); when false they are accepted at once (unless blocked).",
    )
    discoverable: bool = key(True, "Let fediverse servers list the node actor in directories.")
    indexable: bool = key(True, "Let fediverse servers index the node's public posts for search.")
    icon_url: str = key(
        "",
        "URL of the node's icon: the actor's avatar and the pages' icon "
        "(empty: the default image the node serves at /static/avatar.png).",
    )
    also_known_as: list[str] = key(
        [],
        "Other actor IRIs that are this same node (`alsoKnownAs`), e.g. its actor on a "
        "previous domain, so that a move can be verified.",
    )
    authorized_fetch: bool = key(
        False,
        "Require HTTP signatures on GETs of ActivityPub documents (Mastodon's "
        "'secure mode'); WebFinger and NodeInfo stay open.",
    )
    blocked_domains: list = key(
        [], "Domains whose activities and follow requests are refused (subdomains included)."
    )
    clock_skew_past_seconds: int = key(
        3600, "How old a signed request's Date may be.", minimum=30, maximum=43200
    )
    clock_skew_future_seconds: int = key(
        300, "How far in the future a signed request's Date may be.", minimum=0, maximum=3600
    )
    fetch_timeout_seconds: float = key(
        10.0, "Overall deadline of one fetch from another server.", minimum=1, maximum=120
    )
    fetch_max_bytes: int = key(
        1_048_576,
        "Largest document fetched from another server.",
        minimum=65536,
        maximum=64 * 1_048_576,
    )
    delivery_max_age_days: float = key(
        3.0,
        "How long a delivery to an unreachable server is retried before it is dropped.",
        minimum=0.01,
        maximum=60,
    )
    delivery_retry_base_seconds: float = key(
        30.0,
        "First retry delay of a failed delivery; each retry doubles it, up to an hour.",
        minimum=0.1,
        maximum=3600,
    )
    delivery_concurrency: int = key(
        16, "Deliveries in flight at once, per worker.", minimum=1, maximum=512
    )
    delivery_per_host: int = key(
        4, "Deliveries in flight at once to one host.", minimum=1, maximum=64
    )
    inbox_lease_seconds: float = key(
        120.0,
        "How long a worker holds an incoming activity it is applying; if the worker dies, "
        "another takes the activity over after this.",
        minimum=1,
        maximum=3600,
    )
    delivery_lease_seconds: float = key(
        60.0,
        "How long a worker holds the deliveries it claimed; if the worker dies, another "
        "takes them over after this. At least twice fetch_timeout_seconds.",
        minimum=2,
        maximum=3600,
    )
    push_imports: bool = key(
        False,
        "Announce assets loaded by `commons-registry import` to followers one by one. "
        "Off by default: a bulk import would flood fediverse timelines; partners still get "
        "them through sync.",
    )
    workers_in_server: bool = key(
        True,
        "Run the delivery and inbox workers inside the web server. Set false when "
        "running separate `commons-registry worker` processes (PostgreSQL).",
    )
    allow_private_addresses: bool = key(
        False, "DEVELOPMENT AND TESTS ONLY: federate with loopback and private addresses."
    )
    allow_http: bool = key(False, "DEVELOPMENT AND TESTS ONLY: federate over plain http.")
    # What an unauthenticated sender may cost the node (docs/security.md, second round).
    key_max_age_hours: float = key(
        24.0,
        "A stored public key of another actor older than this is fetched again before use "
        "(a failed verification refetches at once regardless).",
        minimum=0,
        maximum=8760,
    )
    failed_host_seconds: float = key(
        30.0,
        "After a timeout, reset or 5xx from a host, its actors, keys and objects are not "
        "fetched again for this long (the negative cache).",
        minimum=0,
        maximum=86400,
    )
    failed_url_seconds: float = key(
        600.0,
        "A URL that answered 404, 410 or a document of the wrong kind is not fetched again "
        "for this long.",
        minimum=0,
        maximum=86400,
    )
    unverified_per_address: int = key(
        8,
        "Inbox requests one client address may have being verified at once (a key fetch may "
        "be under way); more are answered 429 with Retry-After.",
        minimum=1,
        maximum=1000,
    )
    max_key_fetches: int = key(
        64,
        "Actor and key fetches running at once in one process; an inbox request that needs "
        "one more is answered 503 with Retry-After.",
        minimum=1,
        maximum=10000,
    )
    inbox_keep_days: float = key(
        7.0,
        "How long the ids of applied (or ignored) incoming activities are kept, so that a "
        "late duplicate is recognised; their content is dropped as soon as they are applied.",
        minimum=0.01,
        maximum=365,
    )
    plain_json_hosts: list = key(
        [],
        "Compatibility rule: hosts whose actors and objects may be served as plain "
        "application/json. Everyone else must answer application/activity+json or "
        "application/ld+json with the ActivityStreams profile (Mastodon CVE-2024-25623).",
    )


@dataclass(frozen=True)
class MirrorSection:
    """Partner-state mirroring: copies of partners' catalogs."""

    partners: list = key(
        [],
        "Actor URLs or hosts of partner nodes whose follow requests are accepted at once, "
        "even when federation.manually_approves_followers is true.",
    )
    partners_only: bool = key(
        False,
        "Allowlist mode: federate with partner nodes (those listed above and those "
        "added with `commons-registry partner add`) and with nobody else.",
    )
    reshare: bool = key(
        True,
        "Re-share partners' new and changed assets to this node's own followers with "
        "Announce (never re-issued under this node's name).",
    )
    sync_interval_minutes: float = key(
        60.0,
        "How often each partner's changes feed is pulled to repair what pushes missed.",
        minimum=0.05,
        maximum=10080,
    )
    sync_lease_seconds: float = key(
        45.0,
        "How long a worker holds a partner it is syncing without renewing the hold (it renews "
        "every third of this while it works). After a crash the sync resumes within this.",
        minimum=3,
        maximum=3600,
    )
    tombstone_days: float = key(
        30.0,
        "How long deletions are listed in this node's changes feed. A partner away for "
        "longer gets a full comparison of catalogs instead.",
        minimum=0.01,
        maximum=3650,
    )
    unreachable_after_hours: float = key(
        72.0,
        "A partner whose syncs have failed for this long is marked unreachable: its copies "
        "stay served and searchable, shown as 'origin unreachable since ...', with their "
        "proofs, until the partner answers again or its groups move elsewhere.",
        minimum=0.0001,
        maximum=87600,
    )
    mass_delete_guard_percent: float = key(
        25.0,
        "A full comparison that would delete more than this share of a partner's copies "
        "stops and asks for `commons-registry sync --force`.",
        minimum=0,
        maximum=100,
    )
    page_size: int = key(
        100, "Assets per page of the catalog and changes collections.", minimum=10, maximum=1000
    )


@dataclass(frozen=True)
class LimitsSection:
    """Rate and input limits."""

    rate_limits: bool = key(
        True,
        "Answer 429 with Retry-After to clients over the rates below. Each process counts on "
        "its own (token buckets in memory), so with N web workers a client may get up to N "
        "times these rates.",
    )
    inbox_per_minute: int = key(
        300,
        "Activities accepted per minute from one remote host (the signing key's host).",
        minimum=1,
        maximum=1_000_000,
    )
    inbox_burst: int = key(
        600, "How many activities one remote host may send at once.", minimum=1, maximum=1_000_000
    )
    partner_per_minute: int = key(
        6000,
        "Activities (and signed GETs) per minute from a partner node: high, so that a "
        "partner's backlog is never throttled into loss.",
        minimum=1,
        maximum=1_000_000,
    )
    partner_burst: int = key(
        20000, "How many requests a partner node may send at once.", minimum=1, maximum=1_000_000
    )
    unverified_per_minute: int = key(
        30,
        "Inbox requests per minute, per client address, whose signature does not verify.",
        minimum=1,
        maximum=1_000_000,
    )
    unverified_burst: int = key(
        60, "Burst of unverifiable inbox requests per client address.", minimum=1, maximum=1_000_000
    )
    get_per_minute: int = key(
        600,
        "GET requests per minute from one client address without a bearer token.",
        minimum=1,
        maximum=1_000_000,
    )
    get_burst: int = key(
        1200, "Burst of GET requests from one client address.", minimum=1, maximum=1_000_000
    )
    api_writes_per_minute: int = key(
        120,
        "API writes (POST, PUT, PATCH, DELETE under /api) per minute per bearer token.",
        minimum=1,
        maximum=1_000_000,
    )
    api_writes_burst: int = key(
        240, "Burst of API writes per bearer token.", minimum=1, maximum=1_000_000
    )
    tracked_clients: int = key(
        100_000,
        "Most buckets kept in memory; the least recently seen are forgotten first.",
        minimum=100,
        maximum=10_000_000,
    )
    max_json_depth: int = key(
        64,
        "Deepest nesting of arrays and objects accepted in an API or inbox JSON body.",
        minimum=8,
        maximum=512,
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


def _field_type(section_cls: type, name: str) -> type:
    hints = typing.get_type_hints(section_cls)
    tp = hints[name]
    if isinstance(tp, types.UnionType):
        tp = next(t for t in tp.__args__ if t is not type(None))
    return tp


def _coerce(value: Any, tp: type, where: str, meta: dict) -> Any:
    """Turn a TOML or environment value into the declared type, or raise ConfigError."""
    from_env = isinstance(value, str) and tp is not str
    if tp is bool:
        if isinstance(value, bool):
            return value
        if from_env and value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if from_env and value.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            number = tp(value.strip()) if isinstance(value, str) else value
            if tp is int and isinstance(number, float):
                if not number.is_integer():
                    raise ValueError
                number = int(number)
        except ValueError:
            kind = "an integer" if tp is int else "a number"
            raise ConfigError(f"{where}: expected {kind}, got {value!r}") from None
        lo, hi = meta.get("min"), meta.get("max")
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise ConfigError(f"{where}: {number} is outside the allowed range {lo}..{hi}")
        return number
    if tp is list or typing.get_origin(tp) is list:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return value


def _validate(settings: Settings) -> None:
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


def load_settings(
    path: str | os.PathLike[str] | None = None, environ: typing.Mapping[str, str] | None = None
) -> Settings:
    """Read the TOML file (if any), apply environment overrides, validate everything."""
    environ = os.environ if environ is None else environ
    if path is None:
        path = environ.get(CONFIG_ENV) or ("config.toml" if Path("config.toml").exists() else None)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None
    unknown_sections = set(data) - set(SECTIONS)
    if unknown_sections:
        raise ConfigError(f"unknown section(s) in {path}: {', '.join(sorted(unknown_sections))}")
    sections = {}
    for section_name, section_cls in SECTIONS.items():
        given = data.get(section_name, {})
        if not isinstance(given, dict):
            raise ConfigError(f"{section_name}: expected a [{section_name}] table")
        known = {f.name for f in fields(section_cls)}
        unknown = set(given) - known
        if unknown:
            raise ConfigError(f"unknown key(s) in [{section_name}]: {', '.join(sorted(unknown))}")
        values = {}
        for f in fields(section_cls):
            tp = _field_type(section_cls, f.name)
            env_name = f"{ENV_PREFIX}{section_name}_{f.name}".upper()
            if env_name in environ:
                values[f.name] = _coerce(
                    environ[env_name], tp, f"{section_name}.{f.name} (from {env_name})", f.metadata
                )
            elif f.name in given:
                values[f.name] = _coerce(given[f.name], tp, f"{section_name}.{f.name}", f.metadata)
        sections[section_name] = section_cls(**values)
    settings = Settings(**sections)
    _validate(settings)
    return settings


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def example_toml() -> str:
    """The documented example configuration: every key, its default and what it does."""
    lines = [
        "# Commons registry configuration. Every key is optional; the values shown are the",
        f"# defaults. Pass the file with --config PATH or {CONFIG_ENV}=PATH (./config.toml is",
        "# read if present). Every key can be overridden by an environment variable named",
        f"# {ENV_PREFIX}<SECTION>_<KEY>, e.g. {ENV_PREFIX}SERVER_PORT=8080. A bad value stops",
        "# start-up with a message naming the key.",
    ]
    for section_name, section_cls in SECTIONS.items():
        lines += ["", f"[{section_name}]"]
        doc = (section_cls.__doc__ or "").strip()
        if doc:
            lines.append(f"# {doc}")
        for f in fields(section_cls):
            lines.append("")
            for chunk in _wrap(f.metadata["doc"]):
                lines.append(f"# {chunk}")
            if f.metadata.get("choices"):
                lines.append(f"# One of: {', '.join(f.metadata['choices'])}.")
            env_name = f"{ENV_PREFIX}{section_name}_{f.name}".upper()
            lines.append(f"# Environment: {env_name}")
            default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
            lines.append(f"{f.name} = {_toml_value(default)}")
            if f.metadata.get("example") is not None:
                lines.append(f"# {f.name} = {_toml_value(f.metadata['example'])}")
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int = 96) -> list[str]:
    words, out, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        out.append(line)
    return out
