"""The JSON-LD contexts a node knows without a network, by URL: what the offline loader
(vocab.loader) serves and the fast path (vocab.fastpath) reads its ActivityStreams terms from.

The documents are files in vocab/contexts (their sources in vocab/contexts/SOURCES.txt) and
our own commons context. No pyld here: pyld and what it imports were half of a sync check
worker's start-up, and a worker reads our own documents by the fast path alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from vocab.context import (
    AS_CONTEXT,
    COMMONS_CONTEXT_DOCUMENT,
    COMMONS_CONTEXT_URL,
    DATA_INTEGRITY_CONTEXT,
)

SECURITY_V1 = "https://w3id.org/security/v1"
SECURITY_V2 = "https://w3id.org/security/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DATA_INTEGRITY_V1 = "https://w3id.org/security/data-integrity/v1"
DATA_INTEGRITY_V2 = DATA_INTEGRITY_CONTEXT


def _file(name: str) -> dict[str, Any]:
    text = resources.files("vocab").joinpath("contexts").joinpath(name).read_text("utf-8")
    return json.loads(text)


BUNDLED: Mapping[str, dict[str, Any]] = {
    AS_CONTEXT: _file("activitystreams.jsonld"),
    SECURITY_V1: _file("security-v1.jsonld"),
    SECURITY_V2: _file("security-v2.jsonld"),
    MULTIKEY_V1: _file("multikey-v1.jsonld"),
    DATA_INTEGRITY_V1: _file("data-integrity-v1.jsonld"),
    DATA_INTEGRITY_V2: _file("data-integrity-v2.jsonld"),
    COMMONS_CONTEXT_URL: COMMONS_CONTEXT_DOCUMENT,
}
