"""Reading a document in exactly our own compact form, term by term, without expanding it.

Most documents a node reads were written by `asset_document` on some node: every partner's
Create, Update and backfill page. For those, expanding the document (even by the fast path,
vocab.fastpath) and then picking each value out of the expanded node cost about half of the
check of a copy. Here each field's value is taken by its compact term and turned back into
its REST value (`Kind.from_compact`), then checked as the API checks it (`build_record`).

That reading is a guess, not a reader of JSON-LD: it knows nothing of other contexts,
prefixes or value objects. It is confirmed by `writes_back`: when writing the record and meta
again gives the document exactly, the document is one `asset_document` writes for that
record, and the full reader, which reads back every record it writes (the round trip tested
in tests/vocab), would have read the same. Anything else goes the long way
(`read_asset_document`), so a document is never read differently for being read here.
"""

from __future__ import annotations

from typing import Any

from vocab import fastpath
from vocab.context import ASSET_TYPE
from vocab.document import AssetMeta, parse_utc
from vocab.errors import ErrorList
from vocab.ldvalues import INVALID
from vocab.namespaces import AS_PUBLIC
from vocab.record import FIELDS, AssetRecord, build_record


def read_own_form(doc: Any) -> tuple[AssetRecord, AssetMeta] | None:
    """The record and meta of a document in our compact form, read by term; None when it
    is not in that form. Unconfirmed: trust it only after `writes_back` holds."""
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "Page"
        or doc.get("rdfType") != ASSET_TYPE
        or not fastpath.is_own_context(doc.get("@context"))
    ):
        return None
    data: dict[str, Any] = {}
    for f in FIELDS:
        if (value := doc.get(f.term)) is not None:
            data[f.name] = f.kind.from_compact(value)
    if INVALID in data.values():
        return None
    errs = ErrorList()
    record = build_record(data, errs)
    meta = None if errs else _meta(doc)
    return None if meta is None else (record, meta)


def writes_back(doc: dict[str, Any], rebuilt: dict[str, Any]) -> bool:
    """Whether `rebuilt` (`asset_document` of what `read_own_form` read, with whatever the
    caller keeps as sent) is `doc` exactly, its proof aside."""
    unsigned = len(doc) - ("proof" in doc)
    # As many names, none of them "proof", and each with the document's value: the rest of
    # the document is its proof. (Compared in C: a walk in Python was ~5 µs a copy.)
    return len(rebuilt) == unsigned and "proof" not in rebuilt and rebuilt.items() <= doc.items()


def _meta(doc: dict[str, Any]) -> AssetMeta | None:
    """The meta as the full reader reads it (vocab.document._read_meta), for the shapes our
    documents have: absolute http(s) IRIs and date-time strings; None for anything else."""
    iri = doc.get("id")
    if not _is_iri(iri):
        return None
    found: dict[str, Any] = {"iri": iri}
    for name, term in (("url", "url"), ("attributed_to", "attributedTo")):
        if term in doc:
            if not _is_iri(doc[term]):
                return None
            found[name] = doc[term]
    for name in ("published", "updated"):
        if name in doc:
            when = parse_utc(doc[name]) if isinstance(doc[name], str) else None
            if when is None:
                return None
            found[name] = when
    aliases, cc = _iris(doc.get("alsoKnownAs")), _iris(doc.get("cc"))
    if aliases is None or cc is None:
        return None
    if aliases:
        found["also_known_as"] = tuple(aliases)
    followers = [iri for iri in cc if iri != AS_PUBLIC]
    if followers:
        found["followers"] = followers[0]
    return AssetMeta(**found)


def _iris(value: Any) -> list[str] | None:
    """An IRI or a list of them (none when absent); None for anything else."""
    items = [] if value is None else value if isinstance(value, list) else [value]
    return items if all(_is_iri(item) for item in items) else None


def _is_iri(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://"))
