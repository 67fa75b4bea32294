"""Record <-> JSON-LD asset document.

`asset_document` writes our compact form: an AS2 `Page`, the post fediverse servers show
(vocab.post), that is also a `commons:CommonsAsset` (by rdf:type, outside `type`).
`read_asset_document` accepts any equivalent JSON-LD: documents in our own compact form are
expanded by the fast path (no pyld), all others by pyld with the offline loader; one reader
then maps expanded IRIs to the record, and the REST validation runs on the result, so a
document can never yield a record the API would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vocab import fastpath, ldvalues
from vocab.context import ASSET_CONTEXT, ASSET_TYPE
from vocab.errors import ErrorList, FieldError, ValidationError
from vocab.languages import canonical_tag
from vocab.ldvalues import INVALID, MISSING
from vocab.namespaces import AS, AS_PUBLIC, COMMONS, RDF_TYPE
from vocab.post import place_name, post_properties
from vocab.record import FIELDS, AssetRecord, build_record
from vocab.times import as_utc, iso_utc

ASSET_CLASS = COMMONS + "CommonsAsset"
_NOT_AN_ASSET = FieldError(
    "type",
    f"not a commons asset: the type (or rdfType) must include {ASSET_TYPE} ({ASSET_CLASS})",
)


@dataclass(frozen=True)
class AssetMeta:
    """Where an asset lives and who publishes it; not part of what the asset is."""

    iri: str
    url: str | None = None  # the HTML page
    attributed_to: str | None = None  # the publishing node's actor
    published: datetime | None = None
    updated: datetime | None = None
    followers: str | None = None  # collection to cc
    origin: str | None = None  # for a mirrored asset: the node it comes from
    language: str | None = None  # of the post's text (BCP 47); None: English
    # Earlier IRIs of the same asset (it moved here from another node): `alsoKnownAs`.
    also_known_as: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, hash=False)  # merged into the document


def parse_utc(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except (ValueError, TypeError):
        return None
    return as_utc(when)


def asset_document(
    record: AssetRecord, meta: AssetMeta, tag_base: str, language: str | None = None
) -> dict[str, Any]:
    """The asset as JSON-LD in our compact form (context inline, AS2 first). `language`:
    the post's, where `meta` has none (else English)."""
    doc: dict[str, Any] = {
        # Shared by every document, never changed in place (federation.shared_contexts).
        "@context": ASSET_CONTEXT,
        "id": meta.iri,
        "type": "Page",
        "rdfType": ASSET_TYPE,
    }
    tag_base = tag_base.rstrip("/")
    for f in FIELDS:
        value = getattr(record, f.name)
        if value is not None and value != ():
            f.kind.write_node(value, f, doc, tag_base)
    for key, value in (("url", meta.url), ("attributedTo", meta.attributed_to)):
        if value:
            doc[key] = value
    language = meta.language or language or "en"
    doc.update(post_properties(record, meta.url or meta.iri, tag_base, language))
    where = place_name(record)
    if where and isinstance(doc.get("location"), dict):
        doc["location"]["name"] = where  # what servers that show a place print
    if meta.published is not None:
        doc["published"] = iso_utc(meta.published)
    # `updated` only after a real edit: servers mark a post whose `updated` differs from
    # `published` as edited, and treat any `updated` as an edit (docs/renderers.md).
    if meta.updated is not None and (
        meta.published is None or iso_utc(meta.updated) != iso_utc(meta.published)
    ):
        doc["updated"] = iso_utc(meta.updated)
    if meta.also_known_as:
        doc["alsoKnownAs"] = list(meta.also_known_as)
    doc["to"] = [AS_PUBLIC]
    if meta.followers:
        doc["cc"] = [meta.followers]
    doc.update(meta.extra)
    return doc


def read_asset_document(doc: dict[str, Any] | list[Any]) -> tuple[AssetRecord, AssetMeta]:
    """The record and meta of any JSON-LD document equivalent to an asset document (compact
    or expanded, any context); ValidationError with field-level errors otherwise. Never
    raises anything else."""
    expanded = fastpath.expand_own(doc) if isinstance(doc, dict) else None
    if expanded is None:
        expanded = expand_with_pyld(doc)
    return read_expanded(expanded)


def expand_with_pyld(doc: Any) -> list[Any]:
    if not isinstance(doc, (dict, list)):
        raise ValidationError([FieldError("", "expected a JSON-LD object or array")])
    # pyld is imported when a document first needs it: a process that reads only our own
    # form (a sync's check worker) never pays for importing it.
    from vocab import loader

    try:
        expanded = loader.expand(doc)
    except loader.ContextNotAllowed as error:
        raise ValidationError(
            [FieldError("@context", f"context not allowed: {error.url[:300]}")]
        ) from None
    except Exception as error:  # pyld raises assorted errors on junk; none may escape
        raise ValidationError([FieldError("", f"not valid JSON-LD: {_reason(error)}")]) from None
    return expanded if isinstance(expanded, list) else [expanded]


def _reason(error: Exception) -> str:
    return str(error.args[0] if error.args else type(error).__name__)[:300]


def read_expanded(nodes: list[Any]) -> tuple[AssetRecord, AssetMeta]:
    node = next((n for n in nodes if isinstance(n, dict) and _is_asset_node(n)), None)
    if node is None:
        raise ValidationError([_NOT_AN_ASSET])
    errs = ErrorList()
    data: dict[str, Any] = {}
    for f in FIELDS:
        value = f.kind.read_node(node, f, errs)
        if value is not MISSING and value is not INVALID:
            data[f.name] = value
    meta = _read_meta(node, errs)
    checks = ErrorList()
    record = build_record(data, checks)
    # A field that could not be read is left out of `data`; the REST checks would then
    # report it again ("required", "give both latitude and longitude"): keep the first word.
    reported = errs.fields()
    for error in checks.items:
        if not any(_related(error.field, seen) for seen in reported):
            errs.add(error.field, error.message)
    errs.raise_if_any()
    return record, meta


def _is_asset_node(node: dict[str, Any]) -> bool:
    """Typed CommonsAsset by `@type` (older documents, other forms) or by rdf:type (ours)."""
    if ASSET_CLASS in (node.get("@type") or ()):
        return True
    typed = node.get(RDF_TYPE)
    return isinstance(typed, list) and any(
        isinstance(v, dict) and v.get("@id") == ASSET_CLASS for v in typed
    )


def _related(path: str, other: str) -> bool:
    return (
        path == other
        or path.startswith((other + ".", other + "["))
        or other.startswith((path + ".", path + "["))
    )


def _read_meta(node: dict[str, Any], errs: ErrorList) -> AssetMeta | None:
    iri = node.get("@id")
    if not isinstance(iri, str) or iri.startswith("_:"):
        errs.add("id", "an asset document needs an IRI (`id`)")
        return None
    found: dict[str, Any] = {"iri": iri}
    for name, prop in (("url", "url"), ("attributed_to", "attributedTo")):
        values = ldvalues.values_of(node, AS + prop)
        if values:
            found[name] = _link(values, name, errs)
    for name in ("published", "updated"):
        values = ldvalues.values_of(node, AS + name)
        if values:
            text = ldvalues.pick_literal(values, name, errs, "a date-time")
            when = parse_utc(text) if isinstance(text, str) else None
            if when is None and text is not INVALID:
                errs.add(name, "expected an ISO 8601 date-time")
            found[name] = when
    aliases = tuple(
        v["@id"]
        for v in ldvalues.values_of(node, AS + "alsoKnownAs")
        if ldvalues.is_node(v) and isinstance(v.get("@id"), str) and not v["@id"].startswith("_:")
    )
    if aliases:
        found["also_known_as"] = aliases
    cc = [v.get("@id") for v in ldvalues.values_of(node, AS + "cc") if ldvalues.is_node(v)]
    followers = [c for c in cc if isinstance(c, str) and c != AS_PUBLIC]
    if followers:
        found["followers"] = followers[0]
    return AssetMeta(**{k: v for k, v in found.items() if v is not INVALID})


def post_language(doc: dict[str, Any]) -> str | None:
    """The language of a compact document's post: the `contentMap` key whose body is the
    `content`. A copy rebuilt with it has the origin's `content` (registry.fediverse.mirror)."""
    content, bodies = doc.get("content"), doc.get("contentMap")
    if not isinstance(bodies, dict):
        return None
    return next((canonical_tag(k) for k, v in bodies.items() if v == content), None)


def _link(values: list[Any], path: str, errs: ErrorList) -> Any:
    """An IRI given directly or as a Link / object: `url` is often `{type: Link, href}`."""
    for item in values:
        if ldvalues.is_node(item):
            href = ldvalues.values_of(item, AS + "href")
            if href:
                return ldvalues.pick_iri(href, path, errs)
            if isinstance(item.get("@id"), str):
                return item["@id"]
    errs.add(path, "expected an IRI")
    return INVALID
