"""Other servers' actors and their keys: fetched through the safe fetcher, checked, cached.

A fetched actor is only believed if its `id` lives on the host it was fetched from (after
redirects); a key is only believed if the actor that owns it lists it. Keys are cached so a
busy peer costs one fetch, and refetched once when a signature fails (key rotation).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urldefrag

import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation import acct, keys
from federation.fetcher import JRD_CONTENT_TYPES, FetchError, SafeFetcher
from federation.hosts import InvalidHost, host_of
from federation.tables import remote_actors, remote_keys
from federation.transactions import read, write
from federation.upserts import upsert

log = logging.getLogger("federation.actors")

ACTOR_TYPES = frozenset({"Application", "Group", "Organization", "Person", "Service"})
APPLICATION_REL = "https://www.w3.org/ns/activitystreams#Application"
ACTOR_MAX_AGE = timedelta(days=1)
# Parsed keys kept in the process, so that a busy peer's requests (and every asset of a
# backfill) cost no database read or PEM parse. Bounded in size and age: another process
# that refetched a rotated key is seen within the TTL, and a failed verification here
# refetches at once (refresh=True bypasses the cache).
KEY_CACHE_SIZE = 4096
KEY_CACHE_SECONDS = 300.0


class ActorError(Exception):
    """An actor could not be found or is not believable; the message says why."""


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


class KeyCache:
    """A bounded LRU of parsed public keys by key id, each entry good for `ttl` seconds."""

    def __init__(self, size: int = KEY_CACHE_SIZE, ttl: float = KEY_CACHE_SECONDS) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[str, tuple[float, keys.PublicKeyInfo]] = OrderedDict()

    def get(self, key_id: str) -> keys.PublicKeyInfo | None:
        entry = self._entries.get(key_id)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[key_id]
            return None
        self._entries.move_to_end(key_id)
        return entry[1]

    def put(self, info: keys.PublicKeyInfo) -> None:
        self._entries[info.key_id] = (time.monotonic() + self.ttl, info)
        self._entries.move_to_end(info.key_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def replace_owner(self, owner: str, found: list[keys.PublicKeyInfo]) -> None:
        """The owner's keys are now exactly `found` (its actor was just fetched and stored)."""
        for key_id in [k for k, (_, info) in self._entries.items() if info.owner == owner]:
            del self._entries[key_id]
        for info in found:
            self.put(info)

    def __len__(self) -> int:
        return len(self._entries)


class ActorDirectory:
    """Finds, checks and caches remote actors and keys."""

    def __init__(self, engine: AsyncEngine, fetcher: SafeFetcher) -> None:
        self.engine = engine
        self.fetcher = fetcher
        self.key_cache = KeyCache()

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
            if row is not None:
                fetched = (
                    row.fetched_at.replace(tzinfo=UTC)
                    if row.fetched_at.tzinfo is None
                    else row.fetched_at
                )
                if _now() - fetched < ACTOR_MAX_AGE:
                    return RemoteActor.from_document(orjson.loads(row.document))
        try:
            result = await self.fetcher.get_json(iri)
        except FetchError as exc:
            raise ActorError(f"cannot fetch the actor {iri}: {exc}") from exc
        doc = check_actor_document(result.data, result.url_final)
        if doc["id"] != iri:
            # Mastodon-style: whatever we asked for, we key the actor by the id it states,
            # which check_actor_document has tied to the host it came from.
            log.info("actor %s is known as %s", iri, doc["id"])
        actor = RemoteActor.from_document(doc)
        async with write(self.engine) as conn:
            await self.store(conn, actor)
        # Only once committed: the cache never holds a key the database does not.
        self.key_cache.replace_owner(actor.iri, keys.keys_from_actor(actor.document))
        return actor

    async def store(self, conn: AsyncConnection, actor: RemoteActor) -> None:
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
        found = keys.keys_from_actor(actor.document)
        if found:
            await conn.execute(
                insert(remote_keys),
                [
                    {
                        "key_id": info.key_id,
                        "owner": info.owner,
                        "fetched_at": now,
                        "public_key_pem": keys.public_key_to_pem(info.public_key),
                    }
                    for info in found
                ],
            )

    async def resolve_key(self, key_id: str, refresh: bool) -> keys.PublicKeyInfo | None:
        """The key resolver for signature verification (see federation.httpsig).

        `refresh=True` (a verification just failed: the key may have rotated) skips the
        in-process cache and the stored key and fetches the owner again.
        """
        if not refresh:
            cached = self.key_cache.get(key_id)
            if cached is not None:
                return cached
            async with read(self.engine) as conn:
                row = (
                    await conn.execute(select(remote_keys).where(remote_keys.c.key_id == key_id))
                ).first()
            if row is not None:
                info = keys.PublicKeyInfo(
                    row.key_id, row.owner, keys.load_public_key_pem(row.public_key_pem)
                )
                self.key_cache.put(info)
                return info
        owner_iri = urldefrag(key_id).url
        try:
            actor = await self.get(owner_iri, refresh=True)
        except ActorError:
            # GoToSocial-style key ids (…/main-key) dereference to a key document naming its
            # owner; the owner must then list the key itself.
            try:
                result = await self.fetcher.get_json(key_id)
            except FetchError as exc:
                raise ActorError(f"cannot fetch the key {key_id}: {exc}") from exc
            claim = keys.key_from_document(result.data, key_id)
            if claim is None:
                return None
            actor = await self.get(claim.owner, refresh=True)
        return next((k for k in keys.keys_from_actor(actor.document) if k.key_id == key_id), None)

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
