"""A group's portability archive: one signed JSON(-LD) file a group takes to another node.

The archive holds a signed manifest and the documents it lists:

- `manifest` (signed with the exporting node's Ed25519 key, an FEP-8b32 `eddsa-jcs-2022`
  proof, the same key that signs every asset document): the group (name, slug, its IRI
  `{base}/groups/{slug}`, with its default visibility and licence and the actors it was before
  as `alsoKnownAs`), its members by name and role (never passwords), and one entry per
  asset the node ever held for the group, live or deleted: IRI, published, updated, deleted,
  moderation state and the SHA-256 of the JCS form of its document. The public key is carried
  as `publicKeyMultibase`, so the archive verifies even when its node is gone.
- `documents`: each live asset's stored document, verbatim with its own proof.
- `authorization` (only with `export --to NODE`): a small signed `commons:MoveAuthorization`
  naming the node the group moves to. It lets that node announce the move itself when the
  old node cannot (registry/fediverse/moves.py); a claim made with a held key has the same form.

Reading verifies everything before anything is written: the manifest's proof, every digest,
every document's own proof with the same key, and that nothing is missing or extra.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import select

import vocab
from federation import keys, proofs
from federation.hosts import InvalidHost, host_of
from registry.catalog.group_settings import checked_license
from registry.catalog.visibility import PUBLIC, VISIBILITIES
from registry.core import db, iris
from registry.core.errors import Unprocessable
from registry.core.iris import group_iri, proof_key_id
from registry.core.schema import LOCAL, asset_documents, assets, groups, members
from registry.fediverse import group_actors
from vocab.context import DATA_INTEGRITY_CONTEXT
from vocab.document import parse_utc
from vocab.times import as_utc, iso, utcnow

ARCHIVE_TERMS: dict[str, Any] = {
    "@version": 1.1,
    "commons": vocab.COMMONS_NS,
    "GroupArchive": "commons:GroupArchive",
    "GroupArchiveManifest": "commons:GroupArchiveManifest",
    "MoveAuthorization": "commons:MoveAuthorization",
    "origin": {"@id": "commons:origin", "@type": "@id"},
    "slug": "commons:slug",
    "digest": "commons:digest",
    "moderation": "commons:moderation",
    "role": "commons:role",
    "members": "commons:member",
    "assets": "commons:asset",
    "documents": {"@id": "commons:document", "@type": "@json"},
    "manifest": "commons:manifest",
    "authorization": "commons:authorization",
    "publicKeyMultibase": "https://w3id.org/security#publicKeyMultibase",
    "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
    "defaultVisibility": "commons:defaultVisibility",
    "defaultLicense": "commons:defaultLicense",  # an SPDX identifier
    "publicKeyPem": "https://w3id.org/security#publicKeyPem",
    "followedBy": "commons:followedBy",
}
ARCHIVE_CONTEXT: list[Any] = [vocab.AS_CONTEXT, DATA_INTEGRITY_CONTEXT, ARCHIVE_TERMS]
FORMAT = "commons-registry group archive 1"


class ArchiveError(Exception):
    """An archive (or authorization) that cannot be trusted or used; the message says why."""


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(proofs.canonical_json(document)).hexdigest()


@dataclass(frozen=True)
class ArchivedAsset:
    iri: str
    published: datetime
    updated: datetime
    deleted: datetime | None
    moderation: str
    document: dict[str, Any] | None  # None for a deleted asset


@dataclass(frozen=True)
class GroupRules:
    """What a group carries beside its assets: its defaults for new assets, and the actors
    it was before (when it has moved already)."""

    default_visibility: str = PUBLIC
    default_license: str | None = None
    also_known_as: tuple[str, ...] = ()


@dataclass(frozen=True)
class Archive:
    """A verified archive."""

    origin: str  # the exporting node's base URL
    slug: str
    name: str
    members: list[dict[str, str]]
    assets: list[ArchivedAsset]
    public_key: ed25519.Ed25519PublicKey
    key_id: str
    authorization: dict[str, Any] | None
    rules: GroupRules = GroupRules()
    actor_public_pem: str | None = None  # the group actor's RSA key, as its node published it
    followers: tuple[dict[str, str], ...] = ()  # who followed the group actor there

    @property
    def group_iri(self) -> str:
        return group_iri(self.origin, self.slug)


async def export_group(
    engine: Any, base: str, private_key: ed25519.Ed25519PrivateKey, slug: str, *, to: str | None
) -> dict[str, Any]:
    """The signed archive of group `slug` (see the module docstring)."""
    async with db.read(engine) as conn:
        group = (await conn.execute(select(groups).where(groups.c.slug == slug))).first()
    if group is None:
        raise ArchiveError(f"there is no group {slug!r}")
    actor_keys = await group_actors.keys_of(engine, group.id)
    async with db.read(engine) as conn:
        followers = await group_actors.follower_records(conn, group.id)
        people = await conn.execute(
            select(members.c.username, members.c.display_name, members.c.role)
            .where(members.c.group_id == group.id)
            .order_by(members.c.username)
        )
        rows = await conn.execute(
            select(
                assets.c.iri,
                assets.c.moderation,
                assets.c.created_at,
                assets.c.updated_at,
                assets.c.deleted_at,
                asset_documents.c.document,
            )
            .select_from(assets.join(asset_documents, asset_documents.c.asset_id == assets.c.id))
            .where(assets.c.group_id == group.id, assets.c.origin == LOCAL)
            .order_by(assets.c.id)
        )
        entries, documents = [], {}
        for row in rows:
            entry = {
                "id": row.iri,
                "published": iso(as_utc(row.created_at)),
                "updated": iso(as_utc(row.updated_at)),
                "moderation": row.moderation,
            }
            if row.deleted_at is not None:
                entry["deleted"] = iso(as_utc(row.deleted_at))
            else:
                document = orjson.loads(row.document)
                entry["digest"] = digest(document)
                documents[row.iri] = document
            entries.append(entry)
        member_list = [
            {"username": p.username, "displayName": p.display_name, "role": p.role} for p in people
        ]
    manifest = {
        "@context": ARCHIVE_CONTEXT,
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": "GroupArchiveManifest",
        "name": FORMAT,
        "attributedTo": iris.actor(base),
        "origin": base,
        "published": iso(utcnow()),
        "object": {
            "id": group_iri(base, slug),
            "slug": slug,
            "name": group.name,
            "defaultVisibility": group.default_visibility,
            **({"defaultLicense": group.default_license} if group.default_license else {}),
            **({"alsoKnownAs": orjson.loads(group.also_known_as)} if group.also_known_as else {}),
            "publicKeyPem": actor_keys.rsa_public_pem,
            "followedBy": followers,
        },
        "publicKeyMultibase": keys.ed25519_to_multikey(private_key.public_key()),
        "members": member_list,
        "assets": entries,
    }
    archive = {
        "@context": ARCHIVE_CONTEXT,
        "type": "GroupArchive",
        "manifest": proofs.sign_object(manifest, private_key, proof_key_id(base)),
        "documents": documents,
    }
    if to:
        archive["authorization"] = authorization(private_key, base, slug, to)
    return archive


def authorization(
    private_key: ed25519.Ed25519PrivateKey,
    origin: str,
    slug: str,
    to: str,
    *,
    key_id: str | None = None,
) -> dict[str, Any]:
    """A signed statement by `origin`'s key (by default its node key, `key_id` for another
    key on its host, e.g. a group actor's) that group `slug` moves to the node at `to`."""
    target = to.rstrip("/")
    try:
        host_of(target)
    except InvalidHost as exc:
        raise ArchiveError(f"{to!r} is not a node URL: {exc}") from None
    doc = {
        "@context": ARCHIVE_CONTEXT,
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": "MoveAuthorization",
        "actor": f"{origin}/actor",
        "origin": origin,
        "object": group_iri(origin, slug),
        "target": target,
        "published": iso(utcnow()),
    }
    return proofs.sign_object(doc, private_key, key_id or proof_key_id(origin))


def check_authorization(doc: Any, public_key: ed25519.Ed25519PublicKey) -> dict[str, Any]:
    """The authorization's origin, group and target, once its proof verifies with the key."""
    if not isinstance(doc, dict) or doc.get("type") != "MoveAuthorization":
        raise ArchiveError("the move authorization is not a MoveAuthorization object")
    try:
        proofs.verify_object(doc, public_key)
    except proofs.ProofError as exc:
        raise ArchiveError(f"the move authorization's proof fails: {exc.reason}") from None
    fields = {name: doc.get(name) for name in ("origin", "object", "target")}
    if not all(isinstance(v, str) for v in fields.values()):
        raise ArchiveError("the move authorization lacks its origin, object or target")
    try:
        same_host = host_of(proofs.verification_method(doc)) == host_of(str(fields["origin"]))
    except InvalidHost:
        same_host = False
    if not same_host:
        raise ArchiveError("the move authorization is not signed by a key of its origin")
    return fields


def _when(value: Any, what: str) -> datetime:
    when = parse_utc(value) if isinstance(value, str) else None
    if when is None:
        raise ArchiveError(f"{what} is not a date-time: {value!r}")
    return when


def read_archive(data: bytes) -> Archive:
    """Parse and verify an archive; ArchiveError names the first thing that is wrong."""
    try:
        archive = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ArchiveError(f"the archive is not JSON: {exc}") from None
    manifest = archive.get("manifest") if isinstance(archive, dict) else None
    documents = archive.get("documents") if isinstance(archive, dict) else None
    if not isinstance(manifest, dict) or not isinstance(documents, dict):
        raise ArchiveError("not a group archive: it needs a `manifest` and `documents`")
    if manifest.get("name") != FORMAT:
        raise ArchiveError(f"not a group archive of this format ({FORMAT!r})")
    origin = manifest.get("origin")
    if not isinstance(origin, str):
        raise ArchiveError("the manifest names no origin node")
    try:
        public_key = keys.multikey_to_ed25519(str(manifest.get("publicKeyMultibase")))
        method = proofs.verification_method(manifest)
        proofs.verify_object(manifest, public_key)
    except (proofs.ProofError, keys.KeyFormatError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, proofs.ProofError) else str(exc)
        raise ArchiveError(f"the manifest's signature does not hold: {reason}") from None
    if method != proof_key_id(origin):
        raise ArchiveError(f"the manifest is signed by {method}, not by its origin's key")
    group = manifest.get("object")
    if not isinstance(group, dict) or not isinstance(group.get("slug"), str):
        raise ArchiveError("the manifest names no group")
    listed: list[ArchivedAsset] = []
    for entry in manifest.get("assets") or []:
        iri = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(iri, str) or not iri.startswith(origin + "/"):
            raise ArchiveError(f"the manifest lists an asset off its origin: {iri!r}")
        document = documents.get(iri)
        deleted = entry.get("deleted")
        if deleted is None:
            if not isinstance(document, dict) or digest(document) != entry.get("digest"):
                raise ArchiveError(f"the document of {iri} is missing or altered (digest)")
            try:
                proofs.verify_object(document, public_key)
            except proofs.ProofError as exc:
                raise ArchiveError(f"the proof of {iri} fails: {exc.reason}") from None
            if document.get("id") != iri:
                raise ArchiveError(f"the document listed as {iri} is {document.get('id')!r}")
        listed.append(
            ArchivedAsset(
                iri,
                _when(entry.get("published"), f"{iri} published"),
                _when(entry.get("updated"), f"{iri} updated"),
                _when(deleted, f"{iri} deleted") if deleted is not None else None,
                str(entry.get("moderation") or "published"),
                document if deleted is None else None,
            )
        )
    extra = set(documents) - {a.iri for a in listed}
    if extra:
        raise ArchiveError(f"the archive holds documents its manifest does not list: {len(extra)}")
    auth = archive.get("authorization")
    if auth is not None:
        fields = check_authorization(auth, public_key)
        if fields["origin"] != origin or fields["object"] != group_iri(origin, group["slug"]):
            raise ArchiveError("the archive's move authorization is for another group")
    people = [
        {k: str(p.get(k) or "") for k in ("username", "displayName", "role")}
        for p in manifest.get("members") or []
        if isinstance(p, dict) and isinstance(p.get("username"), str)
    ]
    return Archive(
        origin,
        group["slug"],
        str(group.get("name") or group["slug"]),
        people,
        listed,
        public_key,
        method,
        auth,
        _rules(group),
        group.get("publicKeyPem") if isinstance(group.get("publicKeyPem"), str) else None,
        _followers(group.get("followedBy")),
    )


def _followers(value: Any) -> tuple[dict[str, str], ...]:
    """The followers an archive lists, each with an http(s) id and inbox; others are dropped."""
    found = []
    for entry in value if isinstance(value, list) else []:
        if not isinstance(entry, dict):
            continue
        actor, inbox, shared = entry.get("id"), entry.get("inbox"), entry.get("sharedInbox")
        if all(
            isinstance(v, str) and v.startswith(("https://", "http://")) for v in (actor, inbox)
        ):
            found.append(
                {
                    "id": actor,
                    "inbox": inbox,
                    **({"sharedInbox": shared} if isinstance(shared, str) else {}),
                }
            )
    return tuple(found)


def _rules(group: dict[str, Any]) -> GroupRules:
    """The group's rules as the manifest states them (archives of before they were written
    give the defaults)."""
    default_visibility = group.get("defaultVisibility", PUBLIC)
    if default_visibility not in VISIBILITIES:
        raise ArchiveError(f"the group's default visibility {default_visibility!r} is unknown")
    try:
        license_id = checked_license(group.get("defaultLicense"))
    except Unprocessable as exc:
        raise ArchiveError(f"the group's {exc.detail}") from None
    aliases = group.get("alsoKnownAs") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ArchiveError("the group's alsoKnownAs is not a list of IRIs")
    return GroupRules(default_visibility, license_id, tuple(aliases))
