"""The federation sections: the protocol's limits, mirroring partners, request limits."""

from __future__ import annotations

from dataclasses import dataclass

from registry.config.keys import key


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
        "fetched again for this long (the negative cache). A failure answered within a "
        "second (connection refused, a quick 5xx) rests the host for 2 seconds only.",
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
    mass_delete_guard_percent: float = key(
        25.0,
        "A full comparison that would delete more than this share of a partner's copies "
        "stops and asks for `commons-registry sync --force`.",
        minimum=0,
        maximum=100,
    )
    page_size: int = key(
        100,
        "Assets per page of the catalog and changes collections. A changes page also ends "
        "before 768 KiB of documents, so that partners' fetchers (1 MiB by default) can read "
        "it whatever the assets' texts.",
        minimum=10,
        maximum=1000,
    )
    check_processes: int = key(
        -1,
        "Worker processes that check partners' documents (their proofs, and what is "
        "understood) while a large sync, such as a backfill, stores the pages before: "
        "-1 for one per CPU core (none on a one-core machine), 0 to check in the syncing "
        "process. They run at a lower priority than the node's own processes, and end "
        "with the sync that started them.",
        minimum=-1,
        maximum=64,
    )

    unreachable_after_hours: float = key(
        72.0,
        "A partner whose syncs have failed for this long is marked unreachable: its copies "
        "stay served and searchable, shown as 'origin unreachable since ...', with their "
        "proofs, until the partner answers again or its groups move elsewhere.",
        minimum=0.0001,
        maximum=87600,
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
