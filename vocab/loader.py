"""The offline pyld document loader, and the one lock every pyld call in vocab/ takes.

Only bundled contexts (vocab.bundled_contexts) are served; any other URL is refused with
ContextNotAllowed (no code here ever opens a network connection). Bundled documents are
returned with `"tag": "static"`, which makes pyld keep the resolved context in its shared
cache (undocumented pyld behaviour; without it pyld calls the loader on every operation).
Documents an admin allows through `extra_allowed` are served untagged, so they never enter
that process-wide cache and stay visible only to the calls that pass them.

pyld's caches are not thread-safe, so `expand`, `compact` and `to_rdf` here hold LOCK.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from pyld import jsonld

from vocab.bundled_contexts import BUNDLED

LOCK = threading.Lock()


class ContextNotAllowed(jsonld.JsonLdError):
    """A JSON-LD document referred to a context URL that is neither bundled nor allowed."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"JSON-LD context {url!r} is not bundled and not allowed; no context is fetched "
            "over the network",
            "vocab.ContextNotAllowed",
            {"url": url},
            code="loading remote context failed",
        )


def _remote(url: str, document: dict[str, Any], static: bool) -> dict[str, Any]:
    remote = {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": document,
    }
    return {**remote, "tag": "static"} if static else remote


class OfflineLoader:
    """A pyld document loader serving bundled documents and, optionally, `extra_allowed`."""

    def __init__(self, extra_allowed: Mapping[str, dict[str, Any]] | None = None) -> None:
        self.extra = dict(extra_allowed or {})

    def __call__(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        if url in BUNDLED:
            return _remote(url, BUNDLED[url], static=True)
        if url in self.extra:
            return _remote(url, self.extra[url], static=False)
        raise ContextNotAllowed(url)


document_loader = OfflineLoader()
jsonld.set_document_loader(document_loader)  # belt and braces: vocab passes it explicitly too


def _options(extra_allowed: Mapping[str, dict[str, Any]] | None) -> dict[str, Any]:
    loader = OfflineLoader(extra_allowed) if extra_allowed else document_loader
    return {"documentLoader": loader}


def _unwrap(error: BaseException) -> None:
    """Raise the ContextNotAllowed that pyld wrapped (it re-raises loader errors as its own)."""
    seen = 0
    cause: BaseException | None = error
    while cause is not None and seen < 20:
        if isinstance(cause, ContextNotAllowed):
            raise cause from error
        cause, seen = cause.__cause__ or cause.__context__, seen + 1


def expand(doc: Any, *, extra_allowed: Mapping[str, dict[str, Any]] | None = None) -> list[Any]:
    with LOCK:
        try:
            return jsonld.expand(doc, _options(extra_allowed))
        except jsonld.JsonLdError as error:
            _unwrap(error)
            raise


def compact(
    doc: Any, ctx: Any, *, extra_allowed: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    with LOCK:
        try:
            return jsonld.compact(doc, ctx, _options(extra_allowed))
        except jsonld.JsonLdError as error:
            _unwrap(error)
            raise


def to_rdf(doc: Any, *, extra_allowed: Mapping[str, dict[str, Any]] | None = None) -> str:
    """The document's RDF as N-Quads."""
    with LOCK:
        try:
            options = {**_options(extra_allowed), "format": "application/n-quads"}
            return jsonld.to_rdf(doc, options)
        except jsonld.JsonLdError as error:
            _unwrap(error)
            raise
