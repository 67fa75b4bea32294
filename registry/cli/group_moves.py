"""Groups that move: `group export|import|moved|claim|copies|key`, `key export`.

Every command checks all of its input before it writes anything; a refusal is one line on
stderr and exit status 1 (bad input) or 2 (a file that cannot be read).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

import vocab
from federation import keys, proofs
from federation.actors import ActorError
from registry.cli.shared import with_engine, with_federation
from registry.cli.table import arg, command, command_group
from registry.config import Settings
from registry.core import db
from registry.core.errors import NotFound
from registry.core.node_keys import load_node_keys
from registry.fediverse.claims import build_claim, copies_document, load_claim_key
from registry.fediverse.federation import Federation
from registry.fediverse.former_actors import actor_key_file, move_followers, read_actor_key
from registry.fediverse.moves import (
    Adopted,
    AdoptItem,
    adopt,
    announce,
    mapping_document,
    move_out,
    read_mapping,
)
from registry.fediverse.portability import (
    ArchiveError,
    GroupRules,
    export_group,
    group_iri,
    proof_key_id,
    read_archive,
)
from registry.people import accounts

Runner = Callable[[Settings, Callable[..., Awaitable[int]]], int]


def _write(path: str, data: bytes, *, secret: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc}") from None


def _run(settings: Settings, args: argparse.Namespace) -> int:
    base = settings.base_url
    command = args.group_command
    if command == "export":

        async def export(engine: AsyncEngine) -> int:
            key = (await load_node_keys(engine)).ed25519_private_key
            archive = await export_group(engine, base, key, args.slug, to=args.to)
            _write(args.out, orjson.dumps(archive))
            listed = archive["manifest"]["assets"]
            print(
                f"group {args.slug}: {len(listed)} assets ({len(archive['documents'])} live), "
                f"{len(archive['manifest']['members'])} members written to {args.out}"
            )
            return 0

        return with_engine(settings, export)
    if command == "key":

        async def key(engine: AsyncEngine) -> int:
            try:
                group = await accounts.get_group(engine, args.slug)
            except NotFound as exc:
                raise ArchiveError(exc.detail) from None
            held = await actor_key_file(engine, base, group.id, group.slug)
            _write(args.out, orjson.dumps(held), secret=True)
            print(
                f"the key of {held['actor']} is in {args.out} (mode 600): the group's admins "
                "keep it off this server, to move its followers if this node ever dies"
            )
            return 0

        return with_engine(settings, key)
    if command == "copies":

        async def copies(engine: AsyncEngine) -> int:
            held = await copies_document(engine, args.origin)
            _write(args.out, orjson.dumps(held))
            print(f"{len(held['documents'])} copies of {held['origin']} written to {args.out}")
            return 0

        return with_engine(settings, copies)
    if command == "import":
        archive = read_archive(_read(args.file))  # every check before anything is written
        if archive.origin == base:
            raise ArchiveError("this archive was exported by this node: import it on another")
        if args.announce and (
            archive.authorization is None or archive.authorization["target"] != base
        ):
            raise ArchiveError(
                "the archive does not authorise a move to this node: export it with "
                f"`group export {archive.slug} --to {base}` (or let the old node send the Moves)"
            )
        former_key = read_actor_key(_read(args.group_key), archive) if args.group_key else None

        async def do_import(runtime: Any, federation: Federation) -> int:
            await _confirm_origin_key(federation, archive.key_id, archive.public_key)
            items = []
            for asset in archive.assets:
                if asset.document is None:
                    continue  # a deletion: history, nothing to recreate
                record, meta = vocab.read_asset_document(asset.document)
                aliases = tuple(a for a in meta.also_known_as if a != asset.iri)
                items.append(
                    AdoptItem(asset.iri, record, asset.published, asset.moderation, aliases)
                )
            slug = args.slug or archive.slug
            rules = archive.rules
            was = (archive.group_iri, *rules.also_known_as)  # the group's actors until now
            adopted = await adopt(
                runtime.assets,
                slug=slug,
                name=archive.name,
                items=items,
                people=archive.members,
                rules=dataclasses.replace(rules, also_known_as=was),
            )
            instrument = archive.authorization if args.announce else None
            if former_key is not None:
                async with db.write(runtime.engine) as conn:
                    told = await move_followers(
                        conn, federation.node, adopted.slug, archive, former_key
                    )
                print(
                    f"{told} followers of {archive.group_iri} were sent its Move, "
                    "signed with its key"
                )
            return await _finish(
                federation, archive.origin, archive.slug, adopted, instrument, args
            )

        return with_federation(settings, do_import)
    if command == "claim":
        if args.origin.rstrip("/") == base:
            raise ArchiveError("a node cannot claim its own assets: run the claim on another")
        key = load_claim_key(_read(args.key))
        copies_file = orjson.loads(_read(args.copies))
        found = build_claim(
            key, origin=args.origin, slug=args.slug, target=base, copies=copies_file
        )

        async def do_claim(runtime: Any, federation: Federation) -> int:
            origin = args.origin.rstrip("/")
            await _confirm_origin_key(federation, proof_key_id(origin), key.public_key())
            adopted = await adopt(
                runtime.assets,
                slug=args.new_slug or args.slug,
                name=args.new_slug or args.slug,
                items=found.items,
                rules=GroupRules(also_known_as=(group_iri(origin, args.slug),)),
            )
            if found.unproven:
                print(f"{found.unproven} copies were left out: no proof by this key")
            return await _finish(federation, origin, args.slug, adopted, found.authorization, args)

        return with_federation(settings, do_claim)
    # moved
    mapping = orjson.loads(_read(args.map))

    async def do_moved(runtime: Any, federation: Federation) -> int:
        _old_group, target, pairs = read_mapping(mapping, origin=base)
        if args.to and not target.startswith(args.to.rstrip("/") + "/"):
            raise ArchiveError(f"the mapping moves the group to {target}, not to {args.to}")
        await _check_mapping_proof(federation, mapping)
        sent = await move_out(runtime.engine, federation.node, args.slug, pairs, target)
        federation.delivery.wake()
        print(
            f"group {args.slug} moved to {target}: {len(pairs)} IRIs now redirect; "
            f"{sent} Move activities queued for followers and partners"
        )
        return 0

    return with_federation(settings, do_moved)


async def _finish(
    federation: Federation,
    origin: str,
    old_slug: str,
    adopted: Adopted,
    instrument: dict[str, Any] | None,
    args: argparse.Namespace,
) -> int:
    node = federation.node
    mapping = mapping_document(
        node.keys.ed25519_private_key,
        node.base,
        origin=origin,
        old_slug=old_slug,
        new_slug=adopted.slug,
        pairs=adopted.pairs,
        authorization=instrument,
    )
    out = args.map_out or f"{adopted.slug}.moved.json"
    _write(out, orjson.dumps(mapping))
    print(f"group {adopted.slug}: {len(adopted.pairs)} assets recreated under new IRIs")
    if adopted.members:
        print(
            f"{len(adopted.members)} members recreated without passwords, disabled until an "
            "admin sets one; taken here already: " + (", ".join(adopted.skipped_members) or "none")
        )
    print(f"mapping written to {out}")
    if instrument is not None:
        async with db.write(federation.engine) as conn:
            sent = await announce(conn, node, adopted.pairs, instrument)
        federation.delivery.wake()
        print(f"{sent} Move activities queued for followers and partners")
    else:
        print(f"on {origin}: commons-registry group moved {old_slug} --map {out}")
    return 0


async def _confirm_origin_key(federation: Federation, key_id: str, public: Any) -> None:
    """Provenance: the old node, if it still answers, must publish the key that signed."""
    try:
        held = await federation.directory.resolve_key(key_id, False)
    except ActorError as exc:
        print(f"note: {key_id} cannot be fetched ({exc}); provenance rests on the key itself")
        return
    if held is not None and not keys.same_public_key(held.public_key, public):
        raise ArchiveError(f"{key_id} is not the key that signed this (the origin says otherwise)")


async def _check_mapping_proof(federation: Federation, mapping: dict[str, Any]) -> None:
    """The mapping must be signed by the new node's key, as that node publishes it."""
    key_id = proof_key_id(str(mapping.get("actor", "")).removesuffix("/actor"))
    try:
        if proofs.verification_method(mapping) != key_id:
            raise proofs.ProofError(f"it is not signed by {key_id}")
        key = await federation.directory.resolve_key(key_id, False)
        if key is None:
            raise ArchiveError(f"the new node publishes no key {key_id}")
        proofs.verify_object(mapping, key.public_key)
    except ActorError as exc:
        raise ArchiveError(f"the new node's key cannot be fetched: {exc}") from None
    except proofs.ProofError as exc:
        raise ArchiveError(f"the mapping's proof fails: {exc.reason}") from None


def _guarded(settings: Settings, args: argparse.Namespace) -> int:
    """Every command here checks all of its input before writing; a refusal is one line."""
    try:
        return _run(settings, args)
    except ArchiveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


@command(
    "group export",
    help="write a group's signed portability archive",
    arguments=[
        arg("slug"),
        arg("--out", required=True, help="the archive file (JSON) to write"),
        arg("--to", help="the node URL the group moves to: lets that node announce the move"),
    ],
)
def group_export(settings: Settings, args: argparse.Namespace) -> int:
    return _guarded(settings, args)


@command(
    "group import",
    help="recreate a group from its archive (new IRIs)",
    arguments=[
        arg("file"),
        arg("--slug", help="the group's slug here (default: its old slug)"),
        arg("--map-out", help="where to write the signed old -> new mapping"),
        arg(
            "--announce",
            action="store_true",
            help="send the Moves from this node (when the old node is gone; needs `export --to`)",
        ),
        arg(
            "--group-key",
            help="the old group actor's key (`group key`): its followers get its Move from here",
        ),
    ],
)
def group_import(settings: Settings, args: argparse.Namespace) -> int:
    return _guarded(settings, args)


@command(
    "group key",
    help="write the group actor's private key, for its admins",
    arguments=[arg("slug"), arg("--out", required=True, help="the key file to write (mode 600)")],
)
def group_key(settings: Settings, args: argparse.Namespace) -> int:
    return _guarded(settings, args)


@command(
    "group moved",
    help="the group moved: redirect its IRIs, send Moves",
    arguments=[
        arg("slug"),
        arg("--map", required=True, help="the mapping `group import` wrote"),
        arg("--to", help="the new node's URL (checked against the mapping)"),
    ],
)
def group_moved(settings: Settings, args: argparse.Namespace) -> int:
    return _guarded(settings, args)


@command(
    "group claim",
    help="re-establish a dead node's group from partner copies",
    arguments=[
        arg("slug", help="the group's slug on the old node"),
        arg("--origin", required=True, help="the old node's URL"),
        arg("--key", required=True, help="the old node's Ed25519 key (PEM)"),
        arg("--copies", required=True, help="a file from `group copies` on a partner"),
        arg("--slug-here", dest="new_slug", help="the group's slug here"),
        arg("--map-out", help="where to write the signed old -> new mapping"),
    ],
)
def group_claim(settings: Settings, args: argparse.Namespace) -> int:
    return _guarded(settings, args)


@command(
    "group copies",
    help="write the copies held of a partner's assets",
    arguments=[arg("origin", help="the partner's URL or host"), arg("--out", required=True)],
)
def group_copies(settings: Settings, args: argparse.Namespace) -> int:
    return _guarded(settings, args)


command_group("key", help="the node's keys")


@command(
    "key export",
    help="write the node's Ed25519 proof key (PEM), to claim copies later",
    arguments=[arg("--out", required=True)],
)
def key_export(settings: Settings, args: argparse.Namespace) -> int:
    async def work(engine: AsyncEngine) -> int:
        pem = keys.private_key_to_pem((await load_node_keys(engine)).ed25519_private_key)
        _write(args.out, pem.encode(), secret=True)
        print(f"the node's Ed25519 key is in {args.out} (mode 600): store it off this server")
        return 0

    return with_engine(settings, work)
