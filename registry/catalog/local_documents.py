"""Our own assets as stored and served: the JSON-LD document of a record, addressed by its
visibility, attributed to the node and signed with its FEP-8b32 proof, and the rows it is
stored as."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import vocab
from federation import proofs
from registry.catalog import addressing
from registry.catalog.store import AssetRow
from registry.core import iris
from registry.core.iris import group_followers_iri
from registry.core.schema import LOCAL

if TYPE_CHECKING:
    from registry.catalog.assets import AssetService


def local_document(
    service: AssetService,
    record: vocab.AssetRecord,
    uid: str,
    published: datetime,
    updated: datetime,
    *,
    visibility: str = "public",
    group_slug: str | None = None,
    also_known_as: tuple[str, ...] = (),
) -> dict[str, Any]:
    iri = service.iri_for(uid)
    node_actor = iris.actor(service.base)
    followers = [iris.followers(service.base)]
    extra: dict[str, Any] = {}
    if group_slug is not None:
        # The group's followers are addressed too. The document stays attributed to the
        # node (servers require attributedTo to be the sending actor, and the node's
        # proof covers it); the group actor's own activities carry it attributed to the
        # group (registry.fediverse.publishing).
        followers.append(group_followers_iri(service.base, group_slug))
    extra.update(addressing.addressing(visibility, followers))
    meta = vocab.AssetMeta(
        iri=iri,
        url=iri,
        attributed_to=node_actor,
        published=published,
        updated=updated,
        followers=followers[0],
        language=service.settings.node.default_language,
        also_known_as=also_known_as,  # the IRIs it had before it moved here (fediverse.moves)
        extra=extra,
    )
    document = vocab.asset_document(record, meta, tag_base=iris.tags(service.base))
    if service.proof_key is None:
        raise RuntimeError("the node's keys are not loaded (call load_keys first)")
    # FEP-8b32: any node re-serving the document can show it came unaltered from here.
    return proofs.sign_object(
        document, service.proof_key, iris.proof_key_id(service.base), created=updated, owned=True
    )


def local_row(
    service: AssetService,
    record: vocab.AssetRecord,
    *,
    uid: str,
    group_id: int | None,
    moderation: str,
    created: datetime,
    updated: datetime,
    seq: int,
    source_ref: str | None = None,
    visibility: str = "public",
    group_slug: str | None = None,
    also_known_as: tuple[str, ...] = (),
) -> AssetRow:
    return AssetRow(
        uid=uid,
        iri=service.iri_for(uid),
        origin=LOCAL,
        group_id=group_id,
        moderation=moderation,
        record=record,
        document=local_document(
            service,
            record,
            uid,
            created,
            updated,
            visibility=visibility,
            group_slug=group_slug,
            also_known_as=also_known_as,
        ),
        created=created,
        updated=updated,
        seq=seq,
        source_ref=source_ref,
        visibility=visibility,
    )
