"""Other servers' actors and their keys: fetched through the safe fetcher, checked, cached.

A fetched actor is only believed if its `id` lives on the host it was fetched from (after
redirects); a key is only believed if the actor that owns it lists it. Keys are cached so a
busy peer costs one fetch, and refetched once when a signature fails (key rotation).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urldefrag

import orjson
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation import acct, keys
from federation.fetch_errors import is_permanent
from federation.fetch_failures import FailureCache
from federation.fetcher import JRD_CONTENT_TYPES, FetchError, FetchResult, SafeFetcher
from federation.hosts import InvalidHost, host_of
from federation.key_cache import KeyCache  # re-exported: imported from here too
from federation.tables import remote_actors, remote_keys
from federation.transactions import read, write
from federation.upserts import insert_new, upsert

log = logging.getLogger("federation.actors")

ACTOR_TYPES = frozenset({"Application", "Group", "Organization", "Person", "Service"})
APPLICATION_REL = "https://www.w3.org/ns/activitystreams#Application"
ACTOR_MAX_AGE = timedelta(days=1)
# A stored key older than this is refetched before use (peers rotate keys without telling).
KEY_MAX_AGE = timedelta(hours=24)


class ActorError(Exception):
    """An actor could not be found or is not believable; the message says why.

    `permanent` is False only when asking again later may succeed (a timeout, a reset, a
    5xx): a handler then retries; otherwise it gives up at once."""

    def __init__(self, reason: str, *, permanent: bool = True) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class RemoteActor:
    iri: str
    host: str
    type: str
    preferred_username: str | None
    name: str | None
    inbox: str | None
    shared_inbox: str | None
    outbox: str | None
    document: dict[str, Any]

    @property
    def delivery_inbox(self) -> str | None:
        """Where to deliver public activities: the shared inbox when there is one."""
        return self.shared_inbox or self.inbox

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> RemoteActor:
        endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
        types = doc.get("type")
        kind = next(
            (t for t in (types if isinstance(types, list) else [types]) if t in ACTOR_TYPES), None
        )
        return cls(
            iri=doc["id"],
            host=host_of(doc["id"]),
            type=kind or "Unknown",
            preferred_username=_text(doc.get("preferredUsername")),
            name=_text(doc.get("name")),
            inbox=_text(doc.get("inbox")),
            shared_inbox=_text(endpoints.get("sharedInbox")),
            outbox=_text(doc.get("outbox")),
            document=doc,
        )


def _text(value: Any) -> str | None:
    return value[:2048] if isinstance(value, str) else None


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def check_actor_document(doc: Any, fetched_from: str) -> dict[str, Any]:
    """The document if it is an actor whose id lives where we fetched it; ActorError if not."""
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        raise ActorError(f"{fetched_from} did not return an object with an id")
    types = doc.get("type")
    if not any(t in ACTOR_TYPES for t in (types if isinstance(types, list) else [types])):
        raise ActorError(f"{doc['id']} is a {types!r}, not an actor")
    try:
        if host_of(doc["id"]) != host_of(fetched_from):
            raise ActorError(f"{fetched_from} served an actor of another host: {doc['id']}")
    except InvalidHost as exc:
        raise ActorError(f"bad actor id {doc['id']!r}: {exc}") from None
    if not isinstance(doc.get("inbox"), str):
        raise ActorError(f"{doc['id']} has no inbox")
    return doc


def may_name(handle_host: str, actor_host: str) -> bool:
    """Whether a handle on `handle_host` may stand for an actor on `actor_host`: the same
    host, or a subdomain of it (split-domain setups such as @user@example.org served from
    social.example.org); both normalised."""
    return actor_host == handle_host or actor_host.endswith("." + handle_host)


class ActorDirectory:
    """Finds, checks and caches remote actors and keys."""

    def __init__(
        self,
        engine: AsyncEngine,
        fetcher: SafeFetcher,
        *,
        key_max_age: timedelta = KEY_MAX_AGE,
        failures: FailureCache | None = None,
        max_fetches: int = 64,
    ) -> None:
        self.max_fetches = max_fetches
        self._fetching = 0
        self.engine = engine
        self.fetcher = fetcher
        self.key_cache = KeyCache()
        self.key_max_age = key_max_age
        self.failures = failures or FailureCache()

    async def cached(self, iri: str) -> RemoteActor | None:
        async with read(self.engine) as conn:
            row = (
                await conn.execute(
                    select(remote_actors.c.document, remote_actors.c.fetched_at).where(
                        remote_actors.c.iri == iri
                    )
                )
            ).first()
        return RemoteActor.from_document(orjson.loads(row.document)) if row else None

    async def get(self, iri: str, *, refresh: bool = False) -> RemoteActor:
        """The actor, from the cache when fresh enough, else fetched (signed) and stored."""
        iri = urldefrag(iri).url
        if not refresh:
            async with read(self.engine) as conn:
                row = (
                    await conn.execute(
                        select(remote_actors.c.document, remote_actors.c.fetched_at).where(
                            remote_actors.c.iri == iri
                        )
                    )
                ).first()
            if row is not None and _now() - _utc(row.fetched_at) < ACTOR_MAX_AGE:
                return RemoteActor.from_document(orjson.loads(row.document))
        result = await self._fetch(iri, "actor")
        return await self._accept(result.data, result.url_final, iri)

    async def _fetch(self, url: str, what: str) -> FetchResult:
        """One fetch, through the negative cache: a URL or host that just failed is not
        asked again for a while, and a failure is never retried within one request. At most
        `max_fetches` run at once; beyond that `Busy` (the inbox answers 503)."""
        if self._fetching >= self.max_fetches:
            from federation.admission import Busy

            raise Busy(f"{self.max_fetches} actor and key fetches are already running")
        self._fetching += 1
        try:
            return await self.failures.fetch(self.fetcher, url)
        except FetchError as exc:
            raise ActorError(
                f"cannot fetch the {what} {url}: {exc}", permanent=is_permanent(exc)
            ) from exc
        finally:
            self._fetching -= 1

    async def _accept(self, data: Any, fetched_from: str, asked: str) -> RemoteActor:
        doc = check_actor_document(data, fetched_from)
        if doc["id"] != asked:
            # Mastodon-style: whatever we asked for, we key the actor by the id it states,
            # which check_actor_document has tied to the host it came from.
            log.info("actor %s is known as %s", asked, doc["id"])
        actor = RemoteActor.from_document(doc)
        async with write(self.engine) as conn:
            owned = await self.store(conn, actor)
        # Only once committed: the cache never holds a key the database does not.
        self.key_cache.replace_owner(actor.iri, owned)
        return actor

    async def store(self, conn: AsyncConnection, actor: RemoteActor) -> list[keys.PublicKeyInfo]:
        """Store the actor and the keys it owns; returns those keys.

        A key id belongs to the first actor that held it (on its own host, see
        `keys.keys_from_actor`): a later document listing the same key id is not believed
        for it, so it can neither replace, shadow nor lock out the owner's key. The owner
        itself replaces its keys whenever its document is fetched again (rotation).
        """
        now = _now()
        values = {
            "host": actor.host,
            "type": actor.type,
            "preferred_username": actor.preferred_username,
            "name": actor.name,
            "inbox": actor.inbox,
            "shared_inbox": actor.shared_inbox,
            "outbox": actor.outbox,
            "document": orjson.dumps(actor.document).decode(),
            "fetched_at": now,
        }
        await upsert(conn, remote_actors, {"iri": actor.iri}, values)
        await conn.execute(delete(remote_keys).where(remote_keys.c.owner == actor.iri))
        owned = []
        for info in keys.keys_from_actor(actor.document):
            taken = await insert_new(
                conn,
                remote_keys,
                {
                    "key_id": info.key_id,
                    "owner": info.owner,
                    "fetched_at": now,
                    "public_key_pem": keys.public_key_to_pem(info.public_key),
                },
                unique=["key_id"],
            )
            if taken:
                owned.append(info)
            else:
                log.warning("%s lists the key %s of another actor; ignored", actor.iri, info.key_id)
        return owned

    async def resolve_key(self, key_id: str, refresh: bool) -> keys.PublicKeyInfo | None:
        """The key resolver for signature verification (see federation.httpsig).

        A key is answered with the actor that owns it in our records, never with whoever
        listed it last. A stored key older than `key_max_age` is refetched (the stored one
        still serves if the owner cannot be reached); `refresh=True` (a verification just
        failed: the key may have rotated) skips the in-process cache and the stored key.
        """
        stale: keys.PublicKeyInfo | None = None
        if not refresh:
            cached = self.key_cache.get(key_id)
            if cached is not None:
                return cached
            stored, fetched_at = await self._stored_key(key_id)
            if stored is not None and _now() - fetched_at < self.key_max_age:
                self.key_cache.put(stored)
                return stored
            stale = stored
        try:
            await self._fetch_key_owner(key_id)
        except ActorError:
            if stale is None:
                raise
            log.info("the key %s is past its age and its owner cannot be reached", key_id)
            return stale
        info, _ = await self._stored_key(key_id)
        return info

    async def _stored_key(self, key_id: str) -> tuple[keys.PublicKeyInfo | None, datetime]:
        async with read(self.engine) as conn:
            row = (
                await conn.execute(select(remote_keys).where(remote_keys.c.key_id == key_id))
            ).first()
        if row is None:
            return None, _now()
        info = keys.PublicKeyInfo(
            row.key_id, row.owner, keys.load_public_key_pem(row.public_key_pem)
        )
        return info, _utc(row.fetched_at)

    async def _fetch_key_owner(self, key_id: str) -> None:
        """Fetch (once) what `key_id` names and store its owner's keys.

        Mastodon-style key ids (`…/actor#main-key`) name the actor; GoToSocial-style ones
        (`…/main-key`) dereference to a key document naming its owner, which must then list
        the key itself (and be on the key's host, `keys.keys_from_actor`).
        """
        url = urldefrag(key_id).url
        result = await self._fetch(url, "key")
        data = result.data
        types = data.get("type") if isinstance(data, dict) else None
        if any(t in ACTOR_TYPES for t in (types if isinstance(types, list) else [types])):
            await self._accept(data, result.url_final, url)
            return
        claim = keys.key_from_document(data, key_id)
        if claim is None:
            raise ActorError(f"{key_id} names neither an actor nor a key")
        await self.get(claim.owner, refresh=True)

    async def resolve(self, reference: str) -> RemoteActor:
        """An actor from `@user@host`, `user@host`, an actor URL, or a node's base URL."""
        try:
            parsed = acct.parse_reference(reference)
        except acct.InvalidHandle as exc:
            raise ActorError(str(exc)) from None
        if isinstance(parsed, acct.Acct):
            actor = await self.get(await self._webfinger(parsed))
            if not may_name(parsed.host, actor.host):
                # Mastodon CVE-2023-42451: a server's WebFinger may not hand out others' actors.
                raise ActorError(
                    f"WebFinger at {parsed.host} names {actor.iri}, an actor of another host"
                )
            return actor
        try:
            return await self.get(parsed, refresh=True)
        except ActorError:
            application = await self._nodeinfo_application(parsed)
            if application is None:
                raise
            return await self.get(application, refresh=True)

    def _scheme(self) -> str:
        return "http" if self.fetcher.allow_http else "https"

    async def _webfinger(self, handle: acct.Acct) -> str:
        url = (
            handle.webfinger_url()
            if self._scheme() == "https"
            else acct.webfinger_url(handle, scheme="http")
        )
        try:
            jrd = (await self.fetcher.get_jrd(url)).data
        except FetchError as exc:
            raise ActorError(f"WebFinger lookup of {handle.uri} failed: {exc}") from exc
        links = jrd.get("links") if isinstance(jrd, dict) else None
        for link in links if isinstance(links, list) else []:
            if (
                isinstance(link, dict)
                and link.get("rel") == "self"
                and isinstance(link.get("href"), str)
                and "json" in str(link.get("type", "json"))
            ):
                return link["href"]
        raise ActorError(f"WebFinger for {handle.uri} names no ActivityPub actor")

    async def _nodeinfo_application(self, base_url: str) -> str | None:
        """FEP-2677: the node's Application actor, from its NodeInfo links."""
        try:
            scheme, host = base_url.split("://", 1)[0], host_of(base_url)
        except (InvalidHost, ValueError):
            return None
        url = f"{scheme}://{host}/.well-known/nodeinfo"
        try:
            jrd = (
                await self.fetcher.get_json(
                    url, accept="application/json", content_types=JRD_CONTENT_TYPES, sign=False
                )
            ).data
        except FetchError:
            return None
        for link in jrd.get("links", []) if isinstance(jrd, dict) else []:
            if isinstance(link, dict) and link.get("rel") == APPLICATION_REL:
                href = link.get("href")
                return href if isinstance(href, str) else None
        return None
