"""The inbox's front half: check an incoming activity and persist it once.

Order matters: size and JSON first (cheap), then who sent it (domain policy), then the HTTP
signature (a key fetch), then that the signer is the activity's actor and that the activity
lives on the actor's host, and only then a row. The row's unique activity id makes a replay a
no-op: it is answered 202 like the first, and applied never again. The handlers run later,
from `federation.dispatch`, so the sender gets its 202 at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from federation import media_types, multibase, safejson
from federation.actors import ActorDirectory, ActorError
from federation.admission import Admission, Busy, TooManyInFlight
from federation.hosts import InvalidHost, host_of
from federation.httpsig import KeyUnavailable, SignatureError, SkewWindow, verify_request
from federation.httpsig.common import header_pairs
from federation.httpsig.verify import VerifiedSignature
from federation.inbox_writer import InboxWriter, Replayed
from federation.replay import SharedReplayGuard

log = logging.getLogger("federation.inbox")


REPLAYED = "this signed request was already received: a replay"


class InboxRefused(Exception):
    """An activity that is not taken: `status` is the HTTP answer, `reason` says why, and
    `retry_after` (seconds) when the sender should simply come back later (429, 503)."""

    def __init__(self, status: int, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Receipt:
    activity_id: str
    type: str
    duplicate: bool
    ignored: bool = False


@dataclass
class InboxPolicy:
    window: SkewWindow = field(default_factory=SkewWindow)
    blocked: Callable[[str], bool] = lambda host: False
    max_body_bytes: int = 1_048_576
    max_json_depth: int = safejson.MAX_DEPTH
    unverified_per_address: int = 8
    # Activity types some handler applies; the others are answered 202 and kept as an id only.
    handled: Callable[[str], bool] = lambda kind: True


def first_type(value: Any) -> str | None:
    """An activity or object's type; for a list, the first string in it."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return next((t for t in value if isinstance(t, str)), None)
    return None


def ref(value: Any) -> str | None:
    """The id of a reference that may be an IRI or an embedded object."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def check_multibase(activity: dict[str, Any]) -> None:
    """400 for an over-long proof value in the activity or its object, before anything else:
    base58 decoding is quadratic, and no signature is longer than `multibase.MAX_CHARS`."""
    obj = activity.get("object")
    for holder in (activity, obj if isinstance(obj, dict) else {}):
        proof = holder.get("proof")
        for entry in proof if isinstance(proof, list) else [proof]:
            value = entry.get("proofValue") if isinstance(entry, dict) else None
            if isinstance(value, str) and len(value) > multibase.MAX_CHARS + 1:
                raise InboxRefused(
                    400, f"a proofValue of {len(value)} characters (at most {multibase.MAX_CHARS})"
                )


def check_content_type(headers: list[tuple[str, str]]) -> None:
    """415 unless the body is declared an ActivityStreams document (see `media_types`)."""
    declared = next((value for name, value in headers if name == "content-type"), None)
    if not media_types.is_activitypub(declared):
        raise InboxRefused(
            415,
            f"the body is {declared or 'of no declared type'}; an inbox takes "
            f"{media_types.ACTIVITY_JSON} or "
            f'{media_types.LD_JSON}; profile="{media_types.AS_PROFILE}"',
        )


def _host(iri: str, what: str) -> str:
    try:
        return host_of(iri)
    except InvalidHost as exc:
        raise InboxRefused(400, f"the {what} {iri[:200]!r} is not a valid URL: {exc}") from None


class Inbox:
    def __init__(
        self,
        engine: AsyncEngine,
        directory: ActorDirectory,
        policy: InboxPolicy,
        on_stored: Callable[[], None] = lambda: None,
    ) -> None:
        self.engine = engine
        self.directory = directory
        self.policy = policy
        self.on_stored = on_stored
        window = policy.window.past + policy.window.future
        self.replays = SharedReplayGuard(window.total_seconds())
        self.writer = InboxWriter(engine, self.replays)
        self.admission = Admission(policy.unverified_per_address)

    async def receive(
        self, method: str, url: str, headers: Any, body: bytes, client: str | None = None
    ) -> Receipt:
        """Check and store one POSTed activity; `client` is the sender's address (admission)."""
        try:
            with self.admission.unverified(client):
                checked = await self._check(method, url, headers, body)
        except TooManyInFlight as exc:
            raise InboxRefused(429, str(exc), retry_after=exc.retry_after) from None
        except Busy as exc:
            raise InboxRefused(503, str(exc), retry_after=exc.retry_after) from None
        return await self._store(*checked)

    async def _check(
        self, method: str, url: str, headers: Any, body: bytes
    ) -> tuple[dict[str, Any], str, str, str, str, VerifiedSignature | None]:
        pairs = header_pairs(headers)  # read once: `headers` may be a one-shot iterable
        check_content_type(pairs)
        if len(body) > self.policy.max_body_bytes:
            raise InboxRefused(413, f"the body is over {self.policy.max_body_bytes} bytes")
        try:
            activity = safejson.loads(body, max_depth=self.policy.max_json_depth)
        except safejson.JsonError as exc:
            raise InboxRefused(400, f"the body is not usable JSON: {exc}") from None
        if not isinstance(activity, dict):
            raise InboxRefused(400, "an activity is a JSON object")
        activity_id, kind, actor = (
            activity.get("id"),
            first_type(activity.get("type")),
            ref(activity.get("actor")),
        )
        if not isinstance(activity_id, str) or not activity_id:
            raise InboxRefused(400, "the activity has no id")
        if kind is None:
            raise InboxRefused(400, "the activity has no type")
        if actor is None:
            raise InboxRefused(400, "the activity has no actor")
        if any(
            "\x00" in text for text in (activity_id, kind, actor, ref(activity.get("object")) or "")
        ):
            # PostgreSQL text cannot hold U+0000; no real id or type contains it.
            raise InboxRefused(400, "the activity's id, type, actor or object contains NUL")
        check_multibase(activity)
        actor_host = _host(actor, "actor")
        if self.policy.blocked(actor_host):
            raise InboxRefused(403, f"activities from {actor_host} are not accepted here")
        verified = await self._verify(method, url, pairs, body, activity, actor, kind)
        return activity, activity_id, kind, actor, actor_host, verified

    async def _store(
        self,
        activity: dict[str, Any],
        activity_id: str,
        kind: str,
        actor: str,
        actor_host: str,
        verified: VerifiedSignature | None,
    ) -> Receipt:
        if verified is None:  # an actor deleting itself whose key is gone: nothing to do
            return Receipt(activity_id, kind, duplicate=False, ignored=True)
        signer = verified.key_id
        # Keyed on the signature's bytes, not on the header's text: the same signature moved
        # from `Signature` to `Authorization: Signature` (or re-spaced) is the same request.
        signature = verified.value.hex() or signer
        if self.replays.seen_here(signature):
            raise InboxRefused(401, REPLAYED)
        if _host(activity_id, "activity id") != actor_host:
            raise InboxRefused(
                403, f"the activity {activity_id} is not on its actor's host {actor_host}"
            )
        now = datetime.now(UTC)
        handled = self.policy.handled(kind)
        row: dict[str, Any] = {
            "activity_id": activity_id[:2048],
            "actor": actor[:2048],
            "host": actor_host,
            "type": kind[:64],
            "object_id": (ref(activity.get("object")) or "")[:2048] or None,
            "body": orjson.dumps(activity).decode() if handled else "{}",
            "signer": signer[:2048],
            "received_at": now,
            "state": "pending",
            "attempts": 0,
            "available_at": now,
            "result": None,
            "processed_at": None,
        }
        if not handled:  # nothing would apply it: stored as an id only, already settled
            row.update(state="ignored", result=f"no handler for {kind[:64]}", processed_at=now)
        try:
            stored = await self.writer.store(row, signature)
        except Replayed:
            raise InboxRefused(401, REPLAYED) from None
        if stored:
            self.on_stored()
        else:
            log.info("replayed activity %s ignored", activity_id)
        return Receipt(activity_id, kind, duplicate=not stored)

    async def _verify(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes,
        activity: dict[str, Any],
        actor: str,
        kind: str,
    ) -> VerifiedSignature | None:
        """The verified signature, after every check; None for an unverifiable self-Delete."""
        try:
            verified = await verify_request(
                method, url, headers, body, self.directory.resolve_key, window=self.policy.window
            )
        except KeyUnavailable as exc:
            if kind == "Delete" and ref(activity.get("object")) == actor:
                # The actor is gone and took its key with it; a 401 would only make its
                # server retry for days (PeerTube and BookWyrm answer the same way).
                log.info("unverifiable self-delete of %s accepted and ignored", actor)
                return None
            raise InboxRefused(401, f"the signature cannot be checked: {exc.reason}") from None
        except SignatureError as exc:
            raise InboxRefused(401, f"the signature is not valid: {exc.reason}") from None
        except Busy:
            raise
        except ActorError as exc:
            raise InboxRefused(401, f"the signer cannot be found: {exc}") from None
        if verified.owner != actor:
            raise InboxRefused(
                401, f"signed by {verified.owner}, but the activity's actor is {actor}"
            )
        return verified
