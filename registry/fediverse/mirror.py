"""The mirror: how partners' assets become (and stay) copies in the local catalog.

A copy is keyed by its origin IRI and stored verbatim (proof included), so it can be served
onwards and its content hash matches the origin's. Only the origin's host may change a copy;
an older version never replaces a newer one; a deletion leaves a tombstone that a late Create
or Update cannot bring back.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy.ext.asyncio import AsyncConnection

import vocab
from federation import proofs
from federation.actors import ActorDirectory, ActorError
from federation.hosts import InvalidHost, host_of
from registry.catalog import store as asset_store
from registry.catalog import visibility
from registry.catalog.projection import StoredForm, stored_form
from registry.catalog.store import AssetRow, next_change_seq
from registry.core import stored_documents
from registry.core.schema import LOCAL, PUBLISHED
from vocab.document import post_language
from vocab.own_form import read_own_form, writes_back
from vocab.times import as_utc, utcnow

log = logging.getLogger("registry.fediverse.mirror")


class CopyRefused(Exception):
    """A remote document that is not taken into the catalog; the message says why."""


@dataclass(frozen=True)
class RemoteCopy:
    """A checked copy, ready to store: its stored form is made here, outside the write
    transaction. It crosses processes (copy_checks) as that form: the document's dict,
    costly to pickle, is read back from the stored text only where it is used."""

    form: StoredForm
    record: vocab.AssetRecord
    meta: vocab.AssetMeta
    origin: str  # the host the asset belongs to
    proof_checked: bool
    visibility: str  # registry.catalog.visibility, as the document addresses it

    @classmethod
    def of(
        cls,
        document: dict[str, Any],
        record: vocab.AssetRecord,
        meta: vocab.AssetMeta,
        origin: str,
        proof_checked: bool,
        stored_text: str | None = None,
    ) -> RemoteCopy:
        copy = cls(
            stored_form(record, document, stored_text),
            record,
            meta,
            origin,
            proof_checked,
            visibility.of_document(document),
        )
        copy.__dict__["document"] = document  # what `document` would read back
        return copy

    @functools.cached_property
    def document(self) -> dict[str, Any]:
        return stored_documents.load(self.form.text)

    def __getstate__(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if name != "document"}


def is_commons_asset(value: Any) -> bool:
    """Whether an embedded object says it is a commons asset (any spelling of the type)."""
    if not isinstance(value, dict):
        return False
    types = [value.get("type"), value.get("rdfType")]  # rdfType: ours, since the type is "Page"
    types = [t for item in types for t in (item if isinstance(item, list) else [item])]
    return any(
        isinstance(t, str) and t.rsplit("#", 1)[-1].rsplit(":", 1)[-1] == "CommonsAsset"
        for t in types
    )


async def check_copy(document: Any, *, from_host: str, directory: ActorDirectory) -> RemoteCopy:
    """Validate a remote asset document and its origin (network: the proof key may be fetched).

    `from_host` is the host that vouches for the document: the signer of a Create/Update, or
    the host it was fetched from. It must be the document's own host.
    """
    method = precheck(document, from_host)
    key = await proof_key(method, directory, fresh=False)
    try:
        return examine(document, from_host, key)
    except proofs.ProofError as first:
        # The origin may have rotated its key: look once more before refusing.
        key = await proof_key(method, directory, fresh=True)
        try:
            if key is None:
                raise first
            return examine(document, from_host, key)
        except proofs.ProofError as exc:
            iri = document.get("id")
            log.warning("refused %s: its integrity proof fails: %s", iri, exc.reason)
            raise CopyRefused(f"the integrity proof of {iri} fails: {exc.reason}") from None


def precheck(document: Any, from_host: str) -> str | None:
    """What needs no key and little work, before any key is fetched: a well-formed proof (its
    key's id returned; None without a proof), an id and a key on `from_host`."""
    if not isinstance(document, dict) or "proof" not in document:
        return None
    try:  # cheap and capped: a malformed proof costs no JSON-LD reading and no fetch
        proofs.proof_signature(document)
        method = proofs.verification_method(document)
    except proofs.ProofError as exc:
        raise CopyRefused(f"the proof of {document.get('id')!r} is malformed: {exc}") from None
    iri = document.get("id")
    if isinstance(iri, str) and not on_host(iri, from_host):
        raise CopyRefused(f"{from_host} may not speak for {iri}: only its own host may")
    if not on_host(method, from_host):
        raise CopyRefused(f"the proof of {iri!r} names a key off its host: {method!r}")
    return method


async def proof_key(
    method: str | None, directory: ActorDirectory, *, fresh: bool
) -> ed25519.Ed25519PublicKey | None:
    """The key `precheck` named (None without a proof); `fresh` fetches it again."""
    if method is None:
        return None
    try:
        key = await directory.resolve_key(method, fresh)
    except ActorError as exc:
        raise CopyRefused(f"the proof key {method} cannot be fetched: {exc}") from None
    if key is None:
        raise CopyRefused(f"the proof key {method} was not found")
    return key.public_key  # type: ignore[return-value]  # verify_object refuses any other type


def examine(
    document: Any,
    from_host: str,
    key: ed25519.Ed25519PublicKey | None,
    stored_text: str | None = None,
) -> RemoteCopy:
    """The CPU part of `check_copy`, after `precheck`, with the proof's key (None when the
    document has no proof). Raises CopyRefused, or ProofError when the proof fails (the key
    may have been rotated: the caller may try again with a fresh one). `stored_text`: the
    document in its stored form, kept when the document is stored as sent."""
    record, meta, origin, kept = _as_written(document, from_host) or _read(document, from_host)
    if key is not None:
        proofs.verify_object(document, key)
    text = stored_text if kept is document else None
    return RemoteCopy.of(kept, record, meta, origin, key is not None, text)


Examined = tuple[vocab.AssetRecord, vocab.AssetMeta, str, Any]  # record, meta, origin, kept


def _as_written(document: Any, from_host: str) -> Examined | None:
    """A document exactly as our nodes write it, read by term (vocab.own_form) and kept as
    sent; None for any other, which `_read` reads in full and reports on."""
    own = read_own_form(document)
    if own is None:
        return None
    record, meta = own
    if not on_host(meta.iri, from_host):
        return None
    if not writes_back(document, _rebuilt(document, record, meta)):
        return None
    return record, meta, from_host, document


def _read(document: Any, from_host: str) -> Examined:
    try:
        record, meta = vocab.read_asset_document(document)
    except vocab.ValidationError as exc:
        fields = ", ".join(sorted({e.field or "(document)" for e in exc.errors}))[:300]
        raise CopyRefused(f"not a valid commons asset ({fields}): {exc}") from None
    try:
        origin = host_of(meta.iri)
    except InvalidHost as exc:
        raise CopyRefused(f"the asset id {meta.iri!r} is not usable: {exc}") from None
    if origin != from_host:
        raise CopyRefused(f"{from_host} may not speak for {meta.iri}: only its own host may")
    return record, meta, origin, understood(document, record, meta)


def understood(document: dict[str, Any], record: vocab.AssetRecord, meta: vocab.AssetMeta) -> Any:
    """The document as it will be stored and served onwards: only what we understood.

    Each property is checked against the same asset rebuilt from the record we read out of it
    (plain text, our own escaping). When every property the origin sent is one we write, with
    our value (as every node of ours publishes), the original is kept with its proof, so its
    content hash is the origin's. Otherwise the copy is stored in our own form of what we
    read: side documents in `@included` or `@graph`, `content` with raw HTML and anything
    unknown are gone, and older forms (AS2 `summary` for the summary, `content` for the
    description) are carried over into today's terms rather than lost. The proof, which no
    longer covers what is stored, goes too. Nothing forged is served from `/mirror/{id}` or
    the changes feed.
    """
    host = host_of(meta.iri)
    rebuilt = _rebuilt(document, record, meta)
    unsigned = {name: value for name, value in document.items() if name != "proof"}
    kept: dict[str, Any] = {}
    for name, value in unsigned.items():
        if name not in rebuilt:
            continue
        same = value == rebuilt[name] or (name == "tag" and _same_tags(value, rebuilt[name], host))
        kept[name] = value if same else rebuilt[name]
    if kept == unsigned:
        return document
    log.info("stored %s without what was not understood: %s", meta.iri, _extra(unsigned, kept))
    return rebuilt


def _rebuilt(
    document: dict[str, Any], record: vocab.AssetRecord, meta: vocab.AssetMeta
) -> dict[str, Any]:
    """The asset as we write it from what was read, with the addressing the origin may set
    (who it is for, and whose it is) as sent."""
    scheme, host = meta.iri.split("://", 1)[0], host_of(meta.iri)
    # The post in the origin's language, and every language's name, summary and description
    # in the record's maps: a partner's nameMap/contentMap is kept, not flattened to one.
    meta = dataclasses.replace(meta, language=meta.language or post_language(document))
    rebuilt = vocab.asset_document(record, meta, f"{scheme}://{host}/tags")
    for name in ADDRESSING:
        if name in document and _origin_iris(document[name], host):
            rebuilt[name] = document[name]
    return rebuilt


ADDRESSING = ("to", "cc", "attributedTo")


def _origin_iris(value: Any, host: str) -> bool:
    """IRIs (one or a list) each on the origin's host or the public collection: the
    addressing and attribution an origin may give its own asset."""
    items = value if isinstance(value, list) else [value]
    return all(
        isinstance(item, str) and (item == visibility.AS_PUBLIC or on_host(item, host))
        for item in items
    )


def _same_tags(given: Any, ours: Any, host: str) -> bool:
    """Hashtags that differ from ours only in where the origin links them (on its own host)."""
    if not isinstance(given, list) or not isinstance(ours, list) or len(given) != len(ours):
        return False
    for theirs, mine in zip(given, ours, strict=True):
        if not isinstance(theirs, dict) or set(theirs) != set(mine):
            return False
        if any(theirs[k] != mine[k] for k in mine if k != "href"):
            return False
        if "href" in mine and not (
            isinstance(theirs["href"], str) and on_host(theirs["href"], host)
        ):
            return False
    return True


def _extra(document: dict[str, Any], kept: dict[str, Any]) -> str:
    names = [name for name in document if document[name] != kept.get(name)]
    return ", ".join(sorted(names))[:300]


def on_host(iri: str, host: str) -> bool:
    """Whether `iri` lives on `host` (False for anything that is not a usable URL)."""
    try:
        return host_of(iri) == host
    except InvalidHost:
        return False


def copy_row(copy: RemoteCopy, *, uid: str, seq: int, updated: datetime) -> AssetRow:
    """A partner's copy as stored here, under its origin IRI."""
    return AssetRow(
        uid=uid,
        iri=copy.meta.iri,
        origin=copy.origin,
        group_id=None,
        moderation=PUBLISHED,
        record=copy.record,
        document=None,  # its stored form is made: the document is not read again
        created=copy.meta.published or updated,
        updated=updated,
        seq=seq,
        # A copy keeps the origin's rule: a partners-only asset stays with partners here.
        visibility=copy.visibility,
        form=copy.form,
    )


async def apply_copies(conn: AsyncConnection, copies: list[RemoteCopy]) -> dict[str, int]:
    """Store each copy unless the one held is as new, deleted, or ours; in one batch."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
    for outcome in await store_copies(conn, copies):
        counts[outcome] += 1
    return counts


async def store_copies(conn: AsyncConnection, copies: list[RemoteCopy]) -> list[str]:
    """`apply_copies`, telling what became of each copy: created, updated, unchanged (not
    newer than the one held, or deleted) or refused (our own asset)."""
    if not copies:
        return []
    # The change-sequence lock first (on PostgreSQL it serialises every catalog write), and
    # only then look for the copies held: the inbox worker, the background sync and
    # `commons-registry sync` may bring the same asset at once, and a look taken before the
    # lock would miss a row another of them is committing (a unique-constraint error).
    seq = await next_change_seq(conn)
    held = {
        row.iri: row for row in await asset_store.find_by_iris(conn, [c.meta.iri for c in copies])
    }
    outcomes: list[str] = []
    newest: dict[str, tuple[int, AssetRow]] = {}  # a new IRI -> (its copy's index, its row)
    changed: list[tuple[int, AssetRow]] = []
    for index, copy in enumerate(copies):
        row = held.get(copy.meta.iri)
        updated = copy.meta.updated or copy.meta.published or utcnow()
        if row is not None and (row.origin == LOCAL or row.deleted_at is not None):
            # Never overwrite our own asset; a tombstone outranks any late copy.
            outcomes.append("refused" if row.origin == LOCAL else "unchanged")
            continue
        if row is not None and as_utc(row.updated_at) >= updated:
            outcomes.append("unchanged")
            continue
        stored = copy_row(
            copy, uid=row.uid if row else asset_store.new_uid(), seq=seq, updated=updated
        )
        seq += 1
        if row is not None:
            changed.append((row.id, stored))
            outcomes.append("updated")
            continue
        # The same new IRI twice in one batch: only the newest is stored.
        earlier = newest.get(stored.iri)
        if earlier is not None and earlier[1].updated >= stored.updated:
            outcomes.append("unchanged")
            continue
        if earlier is not None:
            outcomes[earlier[0]] = "unchanged"
        newest[stored.iri] = (index, stored)
        outcomes.append("created")
    await asset_store.insert_assets(conn, [row for _, row in newest.values()])
    await asset_store.replace_assets(conn, changed)
    return outcomes


COPY_OUTCOMES = {
    "created": "created",
    "updated": "updated",
    "refused": "refused",
    "unchanged": "ignored: not newer than the copy held, or deleted",
}


async def apply_copy(conn: AsyncConnection, copy: RemoteCopy) -> tuple[str, bool]:
    """One copy (a live Create, Update or Announce); returns (what happened, changed)."""
    (outcome,) = await store_copies(conn, [copy])
    return COPY_OUTCOMES[outcome], outcome in ("created", "updated")


async def apply_delete(
    conn: AsyncConnection, iri: str, *, from_host: str, at: datetime | None = None
) -> tuple[str, bool]:
    """Tombstone a copy (or remember the deletion of one never seen)."""
    if host_of(iri) != from_host:
        raise CopyRefused(f"{from_host} may not delete {iri}: only its own host may")
    seq = await next_change_seq(conn)  # the lock before the look, as in apply_copies
    held = await asset_store.find_by_iri(conn, iri)
    now = utcnow()
    if held is None:
        await asset_store.insert_tombstone(conn, iri=iri, origin=from_host, at=at or now, seq=seq)
        return "tombstone recorded for an asset never seen", True
    if held.origin == LOCAL:
        return "refused: this node is the asset's origin", False
    if held.deleted_at is not None:
        return "already deleted", False
    await asset_store.mark_deleted(conn, held.id, at or now, seq)
    return "deleted", True
