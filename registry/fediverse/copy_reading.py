"""Reading a partner's asset document as a copy: what is understood of it, what is kept,
and whether its proof holds. Pure CPU, no network and no database, so that a sync's check
workers (registry.fediverse.check_worker) import this and little else; fetching the proof's
key and storing the copy are registry.fediverse.mirror's.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import operator
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

import vocab
from federation import proofs
from federation.hosts import InvalidHost, host_of
from registry.catalog import addressing
from registry.catalog.projection import Projection, StoredForm, stored_form
from registry.core import stored_documents
from vocab.document import post_language
from vocab.namespaces import AS_PUBLIC
from vocab.own_form import read_own_form, writes_back

log = logging.getLogger("registry.fediverse.mirror")


class CopyRefused(Exception):
    """A remote document that is not taken into the catalog; the message says why."""


@dataclass(frozen=True)
class RemoteCopy:
    """A checked copy, ready to store: its stored form is made here, outside the write
    transaction. It crosses processes (copy_checks) as plain values: its stored form's text,
    hash and projection, and its meta. The document and the record, costly to pickle, are
    read back from the stored text only where they are used (storing a copy needs neither)."""

    form: StoredForm
    meta: vocab.AssetMeta
    origin: str  # the host the asset belongs to
    proof_checked: bool
    visibility: str  # registry.catalog.addressing, as the document addresses it

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
            meta,
            origin,
            proof_checked,
            addressing.of_document(document),
        )
        copy.__dict__["document"] = document  # what `document` would read back
        copy.__dict__["record"] = record  # what `record` would read back
        return copy

    @functools.cached_property
    def document(self) -> dict[str, Any]:
        return stored_documents.load(self.form.text)

    @functools.cached_property
    def record(self) -> vocab.AssetRecord:
        return vocab.read_asset_document(self.document)[0]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Tuples of plain values: pickled and unpickled, the nested dataclasses (and the
        # record) cost ~38 µs a copy across both processes, these ~19 (docs/performance.md).
        form, meta = self.form, self.meta
        return _crossed, (
            form.text,
            form.content_hash,
            _projection_values(form.projection),
            _meta_values(meta),
            self.origin,
            self.proof_checked,
            self.visibility,
        )


_projection_values = operator.attrgetter(*(f.name for f in dataclasses.fields(Projection)))
_meta_values = operator.attrgetter(*(f.name for f in dataclasses.fields(vocab.AssetMeta)))


def _crossed(
    text: str,
    content_hash: str,
    projection: tuple[Any, ...],
    meta: tuple[Any, ...],
    origin: str,
    proof_checked: bool,
    visibility: str,
) -> RemoteCopy:
    """A RemoteCopy as `RemoteCopy.__reduce__` sent it."""
    form = StoredForm(text, content_hash, Projection(*projection))
    return RemoteCopy(form, vocab.AssetMeta(*meta), origin, proof_checked, visibility)


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


def precheck(document: Any, from_host: str) -> str | None:
    """What needs no key and little work, before any key is fetched: a well-formed proof (its
    key's id returned; None without a proof), an id and a key on `from_host`."""
    if not isinstance(document, dict) or "proof" not in document:
        return None
    try:  # cheap and capped: a malformed proof costs no JSON-LD reading and no fetch
        proofs.check_proof_form(document)
        method = proofs.verification_method(document)
    except proofs.MalformedProof as exc:
        raise _malformed(document, exc) from None
    iri = document.get("id")
    if isinstance(iri, str) and not on_host(iri, from_host):
        raise CopyRefused(f"{from_host} may not speak for {iri}: only its own host may")
    if not on_host(method, from_host):
        raise CopyRefused(f"the proof of {iri!r} names a key off its host: {method!r}")
    return method


def examine(
    document: Any,
    from_host: str,
    key: ed25519.Ed25519PublicKey | None,
    stored_text: str | None = None,
) -> RemoteCopy:
    """The CPU part of `check_copy`, after `precheck`, with the proof's key (None when the
    document has no proof). Raises CopyRefused (a malformed proof too), or ProofError when
    the proof fails (the key may have been rotated: the caller may try again with a fresh
    one). `stored_text`: the document in its stored form, kept when it is stored as sent."""
    record, meta, origin, kept = _as_written(document, from_host) or _read(document, from_host)
    if key is not None:
        try:
            proofs.verify_object(document, key)
        except proofs.MalformedProof as exc:  # no key would do: not worth fetching it again
            raise _malformed(document, exc) from None
    text = stored_text if kept is document else None
    return RemoteCopy.of(kept, record, meta, origin, key is not None, text)


def _malformed(document: dict[str, Any], error: proofs.MalformedProof) -> CopyRefused:
    return CopyRefused(f"the proof of {document.get('id')!r} is malformed: {error}")


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
    if not writes_back(document, _rebuilt(document, record, meta, from_host)):
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
    rebuilt = _rebuilt(document, record, meta, host)
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
    document: dict[str, Any], record: vocab.AssetRecord, meta: vocab.AssetMeta, host: str
) -> dict[str, Any]:
    """The asset as we write it from what was read, with the addressing the origin may set
    (who it is for, and whose it is) as sent. `host`: the asset's, `host_of(meta.iri)`
    (the caller has it; parsing each new id again cost ~7 µs a copy)."""
    scheme = meta.iri.split("://", 1)[0]
    # The post in the origin's language, and every language's name, summary and description
    # in the record's maps: a partner's nameMap/contentMap is kept, not flattened to one.
    language = None if meta.language else post_language(document)
    rebuilt = vocab.asset_document(record, meta, f"{scheme}://{host}/tags", language)
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
        isinstance(item, str) and (item == AS_PUBLIC or on_host(item, host)) for item in items
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
    # An IRI that spells its scheme's normalised host (federation.hosts) as it is, up to the
    # first slash, is on it, unless `origin_of` refuses it for a backslash. Every document's
    # id is asked about, and each id is new: parsing it cost ~4 µs a document, twice.
    if isinstance(iri, str) and "\\" not in iri:
        for scheme in ("https", "http"):
            if iri.startswith(f"{scheme}://{host}/") and _normalised(scheme, host):
                return True
    try:
        return host_of(iri) == host
    except InvalidHost:
        return False


@functools.lru_cache(maxsize=256)
def _normalised(scheme: str, host: str) -> bool:
    """Whether `host` is spelled as federation.hosts normalises it for `scheme`."""
    try:
        return host_of(f"{scheme}://{host}/") == host
    except InvalidHost:
        return False
