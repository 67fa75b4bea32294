"""Texts in several languages: BCP 47 tags, the language-map kind of the field table, and the
record as a reader of one language sees it.

An asset's `name`, `summary` and `description` are its texts in no stated language (what a
reader gets when nothing better matches); `name_map`, `summary_map` and `description_map`
give them per language. In JSON-LD the maps are language-tagged literals of the same property
(`nameMap` is AS2's own term; `abstractMap` and `descriptionMap` are ours, see
vocab.context), so any RDF reader sees `dct:title "…"@ca`-style values.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from vocab import ldvalues
from vocab.errors import ErrorList
from vocab.htmltext import html_to_text
from vocab.kinds import Field, Kind, Text
from vocab.ldvalues import INVALID, MISSING

# RFC 5646 "well-formed" tags (grandfathered irregular tags are refused): language with up to
# three extlangs, script, region, variants, extensions, private use.
_A = "a-zA-Z"  # subtags are case-insensitive; spelt out so the JSON Schema pattern agrees
_TAG = re.compile(
    rf"(?:(?P<lang>[{_A}]{{2,3}}(?:-[{_A}]{{3}}){{0,3}}|[{_A}]{{4,8}})"
    rf"(?:-(?P<script>[{_A}]{{4}}))?"
    rf"(?:-(?P<region>[{_A}]{{2}}|\d{{3}}))?"
    rf"(?P<rest>(?:-(?:[{_A}\d]{{5,8}}|\d[{_A}\d]{{3}}))*"
    rf"(?:-[\da-wyzA-WYZ](?:-[{_A}\d]{{2,8}})+)*"
    rf"(?:-[xX](?:-[{_A}\d]{{1,8}})+)?)"
    rf"|[xX](?:-[{_A}\d]{{1,8}})+)"
)
TAG_PATTERN = "^" + re.sub(r"\?P<\w+>", "", _TAG.pattern) + "$"
TAG_MESSAGE = "not a BCP 47 language tag, such as ca, es or pt-BR"

MAP_FIELDS = {"name": "name_map", "summary": "summary_map", "description": "description_map"}


def canonical_tag(tag: object) -> str | None:
    """The tag in its conventional case (`pt-BR`, `zh-Hant-TW`), or None if it is not one."""
    if not isinstance(tag, str) or len(tag) > 64:
        return None
    found = _TAG.fullmatch(tag)
    if found is None:
        return None
    if found.group("lang") is None:  # private use only
        return found.group(0).lower()
    parts = [found.group("lang").lower()]
    if found.group("script"):
        parts.append(found.group("script").title())
    if found.group("region"):
        parts.append(found.group("region").upper())
    return "-".join(parts) + found.group("rest").lower()


class LanguageMap(Kind):
    """Language tag → text, as a JSON object in the API and a `@language` map in JSON-LD.

    The record holds it as a tuple of (tag, text) pairs ordered by tag, so records stay
    hashable and compare equal however the map was written."""

    container = "@language"

    def __init__(self, item: Text, max_languages: int = 40, legacy_iri: str | None = None):
        self.item, self.max_languages, self.legacy_iri = item, max_languages, legacy_iri

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        if not isinstance(value, dict):
            errs.add(path, "expected an object of language tag -> text")
            return INVALID
        if len(value) > self.max_languages:
            errs.add(path, f"at most {self.max_languages} languages")
            return INVALID
        texts: dict[str, str] = {}
        ok = True
        for key, raw in value.items():
            tag = canonical_tag(key)
            if tag is None:
                errs.add(f"{path}.{str(key)[:100]}", TAG_MESSAGE)
                ok = False
                continue
            if tag in texts:
                errs.add(f"{path}.{key}", f"the language {tag} is given twice")
                ok = False
                continue
            text = None if raw is None else self.item.check(raw, f"{path}.{tag}", errs)
            if text is INVALID:
                ok = False
            elif text is not None:
                texts[tag] = text
        if not ok:
            return INVALID
        return tuple(sorted(texts.items())) or None

    def dump(self, value: Any) -> Any:
        return dict(value)

    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "maxProperties": self.max_languages,
            "propertyNames": {"pattern": TAG_PATTERN},
            "additionalProperties": {"type": ["string", "null"], "maxLength": self.item.max_length},
            "description": "Language tag (BCP 47) -> text",
        }

    def write_node(self, value: Any, field: Field, out: dict[str, Any], tag_base: str) -> None:
        out[field.term] = dict(value)

    def read_node(self, node: dict[str, Any], field: Field, errs: ErrorList) -> Any:
        tagged = _tagged(ldvalues.values_of(node, field.iri))
        if not tagged and self.legacy_iri:  # AS2 summaryMap of older documents: HTML
            legacy = _tagged(ldvalues.values_of(node, self.legacy_iri))
            tagged = {tag: html_to_text(text) for tag, text in legacy.items()}
        return tagged or MISSING


def _tagged(values: list[Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        if ldvalues.is_value(item) and isinstance(item.get("@language"), str):
            text = item["@value"]
            tag = canonical_tag(item["@language"])
            if isinstance(text, str) and tag and tag not in out:
                out[tag] = text
    return out


def texts(record: Any, name: str) -> dict[str, str]:
    """One field's texts by language (`texts(record, "name")`)."""
    return dict(getattr(record, MAP_FIELDS[name]))


def languages_of(record: Any) -> list[str]:
    """Every language the record has a text in, ordered by tag."""
    found = {tag for name in MAP_FIELDS for tag in texts(record, name)}
    return sorted(found)


def match(wanted: str, available: list[str] | tuple[str, ...]) -> str | None:
    """The available tag for a wanted one: the same tag, else the same base language
    (`ca` for `ca-ES`, `pt-BR` for `pt`)."""
    tag = canonical_tag(wanted)
    if tag is None:
        return None
    if tag in available:
        return tag
    base = tag.split("-")[0]
    return next((a for a in available if a.split("-")[0] == base), None)


def plain_language(record: Any, default: str) -> str:
    """The language of the untagged texts: the map language whose name is the same text
    (the node's default first), else the node's default language."""
    names = texts(record, "name")
    if names.get(default) == record.name:
        return default
    return next((tag for tag, text in names.items() if text == record.name), default)


@dataclass(frozen=True)
class Localised:
    """The record as a reader of `wanted` sees it, and whether any text fell back."""

    record: Any
    wanted: str
    language: str | None  # the language of what is shown, when known
    fell_back: bool  # the record has languages but not the wanted one
    tagged: frozenset[str] = frozenset()  # the fields whose text is in `language` for sure


def localised(record: Any, wanted: str, default: str = "en", borrow: bool = True) -> Localised:
    """Name, summary and description in `wanted` where the record has them; else the untagged
    text; else (`borrow`) the text in the untagged texts' language, else in the first one."""
    available = languages_of(record)
    if not available:
        return Localised(record, wanted, None, False)
    tag = match(wanted, available)
    plain = plain_language(record, default)
    changes, own = {}, set()
    for name in MAP_FIELDS:
        given = texts(record, name)
        if tag in given:
            changes[name] = given[tag]
            own.add(name)
        elif borrow and getattr(record, name) is None and given:
            changes[name] = given.get(plain) or next(iter(given.values()))
    shown = dataclasses.replace(record, **changes) if changes else record
    if tag is None:
        return Localised(shown, wanted, plain if plain in available else None, True)
    return Localised(shown, wanted, tag, False, frozenset(own))
