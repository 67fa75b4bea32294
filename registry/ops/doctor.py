"""`commons-registry doctor`: why federation does not work, in words an operator can act on.

Each check gives a finding: ok, warn or fail, with what is wrong and how to fix it. The
checks run from where the command runs and through the node's own fetcher (its address
policy, CA bundle and pinned names), so "answers from outside" means: as another server
would reach it, through DNS, TLS and the proxy, at `node.base_url`.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncEngine

from federation import keys
from federation.fetcher import FetchError, SafeFetcher
from registry.config import Settings
from registry.core import db, iris, migrate
from registry.core.node_keys import load_node_keys
from registry.fediverse.federation import build_fetcher
from registry.fediverse.identity import NodeIdentity

SKEW_WARN = timedelta(seconds=30)


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warn | fail
    check: str
    message: str
    fix: str = ""

    def render(self) -> str:
        head = f"{self.level.upper():5} {self.check}: {self.message}"
        return f"{head}\n      fix: {self.fix}" if self.fix else head


def ok(check: str, message: str) -> Finding:
    return Finding("ok", check, message)


def _configuration(settings: Settings) -> Iterable[Finding]:
    fed = settings.federation
    if not settings.base_url.startswith("https://"):
        yield Finding(
            "fail",
            "base_url",
            f"node.base_url is {settings.base_url}: other servers federate only over https",
            "put the node behind a TLS proxy (deploy/nginx) and set node.base_url to its "
            "https:// address before publishing anything",
        )
    else:
        yield ok("base_url", f"{settings.base_url}")
    flags = [name for name in ("allow_http", "allow_private_addresses") if getattr(fed, name)]
    if flags:
        yield Finding(
            "warn",
            "configuration",
            f"development flag(s) set: federation.{', federation.'.join(flags)}",
            "turn them off in production; use network.allowed_networks for internal partners",
        )
    else:
        yield ok("configuration", "no development flag set")


async def _database(settings: Settings, engine: AsyncEngine) -> tuple[list[Finding], bool]:
    try:
        current = await migrate.current_revision(engine)
    except Exception as exc:  # any driver error: the database cannot be reached
        where = settings.database_url.split("@")[-1]
        return [
            Finding(
                "fail",
                "database",
                f"cannot reach {where}: {type(exc).__name__}: {exc}"[:400],
                "check database.url, that the server runs and accepts this user",
            )
        ], False
    head = migrate.head_revision()
    if current is None:
        return [
            Finding("fail", "migrations", "the database is empty", "run `commons-registry init`")
        ], False
    if current != head:
        return [
            Finding(
                "fail",
                "migrations",
                f"the schema is at revision {current}, this version needs {head}",
                "back up the database, then run `commons-registry migrate`",
            )
        ], False
    return [ok("database", "reachable"), ok("migrations", f"schema at {head} (current)")], True


def _date_skew(headers: dict[str, str]) -> timedelta | None:
    value = headers.get("date")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when - datetime.now(UTC) if when and when.tzinfo else None


def _skew_finding(settings: Settings, where: str, skew: timedelta | None) -> Finding:
    if skew is None:
        return Finding("warn", f"clock ({where})", "no usable Date header to compare with")
    fed = settings.federation
    limit = timedelta(seconds=min(fed.clock_skew_future_seconds, fed.clock_skew_past_seconds))
    seconds = skew.total_seconds()
    text = f"{where}'s clock is {abs(seconds):.0f} s {'ahead of' if seconds > 0 else 'behind'} ours"
    fix = "run NTP (systemd-timesyncd or chrony) here and ask the partner to do the same"
    if abs(skew) > limit:
        return Finding(
            "fail", f"clock ({where})", f"{text}: signatures between us are refused", fix
        )
    if abs(skew) > SKEW_WARN:
        return Finding("warn", f"clock ({where})", text, fix)
    return ok(f"clock ({where})", text)


def _hrefs(jrd: object) -> list[str]:
    links = jrd.get("links", []) if isinstance(jrd, dict) else []
    return [link["href"] for link in links if isinstance(link, dict) and "href" in link]


async def _public_url(
    settings: Settings, fetcher: SafeFetcher, node: NodeIdentity
) -> list[Finding]:
    """WebFinger, NodeInfo and the actor, fetched through the public URL and compared."""
    findings: list[Finding] = []
    base = settings.base_url
    fix = (
        "check DNS for the host of node.base_url, the proxy site (deploy/nginx) and that "
        "`commons-registry serve` runs behind it"
    )
    resource = quote(f"acct:{node.handle}", safe="@:")
    try:
        finger = await fetcher.get_jrd(f"{iris.webfinger(base)}?resource={resource}")
        if node.actor_iri not in _hrefs(finger.data):
            findings.append(
                Finding(
                    "fail",
                    "webfinger",
                    f"{base} answers WebFinger for {node.handle} without {node.actor_iri}",
                    "node.base_url must be this node's own public address",
                )
            )
        else:
            findings.append(ok("webfinger", f"acct:{node.handle} -> {node.actor_iri}"))
        index = await fetcher.get_jrd(iris.nodeinfo_links(base))
        nodeinfo = next((h for h in _hrefs(index.data) if "nodeinfo" in h), None)
        if nodeinfo is None:
            findings.append(Finding("fail", "nodeinfo", f"{base} lists no NodeInfo document"))
        else:
            await fetcher.get_json(nodeinfo, content_types={"application/json"}, sign=False)
            findings.append(ok("nodeinfo", nodeinfo))
        actor = await fetcher.get_json(node.actor_iri)
    except FetchError as exc:
        findings.append(Finding("fail", "public URL", f"{base} does not answer: {exc}", fix))
        return findings
    document = actor.data if isinstance(actor.data, dict) else {}
    pem = (document.get("publicKey") or {}).get("publicKeyPem", "")
    if document.get("id") != node.actor_iri or not _same_key(pem, node):
        findings.append(
            Finding(
                "fail",
                "actor",
                f"the actor at {node.actor_iri} is not this node (another id or key): "
                "node.base_url points at another server",
                "set node.base_url to this node's own public address, and point DNS and the "
                "proxy of that host at this node",
            )
        )
    else:
        findings.append(ok("actor", f"{node.actor_iri} serves this node's key"))
    findings.append(_skew_finding(settings, "the public URL", _date_skew(actor.headers)))
    return findings


def _same_key(pem: str, node: NodeIdentity) -> bool:
    try:
        ours = keys.load_public_key_pem(node.keys.rsa_public_pem)
        return keys.same_public_key(keys.load_public_key_pem(pem), ours)
    except Exception:
        return False


async def _partners(settings: Settings, engine: AsyncEngine, fetcher: SafeFetcher) -> list[Finding]:
    from registry.fediverse import partners

    findings = []
    rows = await partners.list_partners(engine)
    if not rows:
        return [Finding("warn", "partners", "none yet", "`commons-registry partner add URL`")]
    stale_after = timedelta(minutes=settings.mirror.sync_interval_minutes * 3)
    now = datetime.now(UTC)
    for partner in rows:
        check = f"partner {partner.host}"
        try:
            answer = await fetcher.get_json(partner.actor)
        except FetchError as exc:
            findings.append(
                Finding(
                    "fail",
                    check,
                    f"unreachable: {exc}",
                    "check the partner's DNS, TLS certificate and proxy, and that "
                    "network.allowed_networks covers it if it is internal",
                )
            )
            continue
        findings.append(ok(check, "reachable"))
        findings.append(_skew_finding(settings, partner.host, _date_skew(answer.headers)))
        last = partner.last_sync_at
        last = last.replace(tzinfo=UTC) if last is not None and last.tzinfo is None else last
        if partner.last_sync_error:
            findings.append(
                Finding("fail", f"{check} sync", partner.last_sync_error, "`commons-registry sync`")
            )
        elif last is None:
            findings.append(Finding("warn", f"{check} sync", "never synced yet"))
        elif now - last > stale_after:
            findings.append(
                Finding(
                    "warn",
                    f"{check} sync",
                    f"last sync {now - last} ago",
                    "is a `commons-registry worker` (or a server with workers) running?",
                )
            )
        else:
            findings.append(ok(f"{check} sync", f"last sync {last.isoformat()}"))
    return findings


async def diagnose(settings: Settings) -> list[Finding]:
    """Every check, in the order an operator would fix them."""
    findings = list(_configuration(settings))
    engine = db.create_engine(settings.database_url, pool_size=1)
    try:
        found, usable = await _database(settings, engine)
        findings += found
        if not usable:
            return findings
        try:
            node_keys = await load_node_keys(engine)
        except RuntimeError as exc:
            return [*findings, Finding("fail", "keys", str(exc), "run `commons-registry init`")]
        findings.append(ok("keys", "RSA and Ed25519 keys present"))
        node = NodeIdentity(settings, node_keys)
        async with build_fetcher(settings, node.signer()) as fetcher:
            findings += await _public_url(settings, fetcher, node)
            findings += await _partners(settings, engine, fetcher)
    finally:
        await engine.dispose()
    return findings


def report(findings: list[Finding]) -> tuple[str, int]:
    """The printed report and the exit status (1 when anything failed)."""
    failed = sum(f.level == "fail" for f in findings)
    warned = sum(f.level == "warn" for f in findings)
    summary = f"{failed} problem(s), {warned} warning(s)" if failed or warned else "all good"
    return "\n".join([*(f.render() for f in findings), summary]), 1 if failed else 0


def run(settings: Settings) -> int:
    import asyncio

    text, status = report(asyncio.run(diagnose(settings)))
    print(text)
    return status
