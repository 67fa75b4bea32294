"""Kinds made of other values: lists, tags, amenities, the description and GeoJSON geometry.
The nested location and steward objects are in vocab.nested."""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any
from urllib.parse import quote

from vocab import ldvalues
from vocab.errors import ErrorList
from vocab.geometry import GEOMETRY_TYPES, MAX_POSITIONS, check_geometry
from vocab.htmltext import html_to_text
from vocab.kinds import Field, Kind, Text
from vocab.ldvalues import INVALID, MISSING
from vocab.namespaces import AS, GEOJSON_MEDIA_TYPE, SCHEMA


def split_cell(text: str) -> list[str]:
    """A list cell's items: `;` separates them, a backslash escapes the next character."""
    items, current, chars = [], [], iter(text)
    for char in chars:
        if char == "\\":
            current.append(next(chars, ""))
        elif char == ";":
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    return [*items, "".join(current)]


class ListOf(Kind):
    container = "@set"

    def __init__(self, item: Kind, max_items: int) -> None:
        self.item, self.max_items = item, max_items
        self.ld_type = item.ld_type

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        if not isinstance(value, (list, tuple)):
            errs.add(path, "expected a list")
            return INVALID
        if len(value) > self.max_items * 4:  # junk of any length stops here
            errs.add(path, f"at most {self.max_items} items")
            return INVALID
        items, ok = [], True
        for i, raw in enumerate(value):
            checked = None if raw is None else self.item.check(raw, f"{path}[{i}]", errs)
            if checked is None:
                errs.add(f"{path}[{i}]", "must not be empty")
            if checked is None or checked is INVALID:
                ok = False
            else:
                items.append(checked)
        if not ok:
            return INVALID
        items = self.dedupe(items)
        if len(items) > self.max_items:
            errs.add(path, f"at most {self.max_items} items")
            return INVALID
        return tuple(items) or None

    def dedupe(self, items: list[Any]) -> list[Any]:
        return list(dict.fromkeys(items))

    def dump(self, value: Any) -> Any:
        return [self.item.dump(v) for v in value]

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "maxItems": self.max_items, "items": self.item.schema()}

    def write_ld(self, value: Any) -> Any:
        return [self.item.write_ld(v) for v in value]

    def from_compact(self, value: Any) -> Any:
        if not isinstance(value, list):
            return INVALID
        items = [self.item.from_compact(v) for v in value]
        return INVALID if INVALID in items else items

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        items = [self.item.read_ld([v], f"{path}[{i}]", errs) for i, v in enumerate(values)]
        return INVALID if INVALID in items else items

    def to_cell(self, value: Any) -> str:
        cells = (self.item.to_cell(v).replace("\\", "\\\\").replace(";", "\\;") for v in value)
        return ";".join(cells)

    def from_cell(self, text: str) -> Any:
        parts = (p.strip() for p in split_cell(text))
        return [self.item.from_cell(p) for p in parts if p]


class Tag(Text):
    def __init__(self) -> None:
        super().__init__(64)

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        if isinstance(value, str):
            value = value.strip().removeprefix("#")
            if any(ch.isspace() for ch in value):
                errs.add(path, "a tag has no spaces")
                return INVALID
        return super().check(value, path, errs)

    def schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": r"^\s*#?\S{1,64}\s*$",
            "maxLength": self.max_length + 1,  # and a leading '#'
        }


class Tags(ListOf):
    """Plain tags as `keywords` (dcat:keyword) and, for the fediverse, as AS2 Hashtags."""

    def __init__(self, max_items: int = 30) -> None:
        super().__init__(Tag(), max_items)

    def dedupe(self, items: list[Any]) -> list[Any]:
        seen: dict[str, str] = {}
        for tag in items:
            seen.setdefault(tag.casefold(), tag)  # keep the first spelling
        return list(seen.values())

    def write_node(self, value: Any, field: Field, out: dict[str, Any], tag_base: str) -> None:
        out["tag"] = [
            {"type": "Hashtag", "name": f"#{name}", "href": f"{tag_base}/{tag_segment(t)}"}
            for t in value
            if (name := hashtag_name(t))
        ]
        out[field.term] = list(value)

    def read_node(self, node: dict[str, Any], field: Field, errs: ErrorList) -> Any:
        keywords = ldvalues.values_of(node, field.iri)
        if keywords:
            return [
                ldvalues.pick_text([v], f"{field.name}[{i}]", errs) for i, v in enumerate(keywords)
            ]
        hashtags = [
            t
            for t in ldvalues.values_of(node, AS + "tag")
            if ldvalues.is_node(t) and AS + "Hashtag" in t.get("@type", ())
        ]
        names = [
            ldvalues.pick_text(ldvalues.values_of(t, AS + "name"), f"{field.name}[{i}]", errs)
            for i, t in enumerate(hashtags)
        ]
        return [n.removeprefix("#") if isinstance(n, str) else n for n in names] or MISSING


@functools.lru_cache(maxsize=4096)  # a catalog's tags repeat; each asset's post names them
def hashtag_name(tag: str) -> str | None:
    """The tag as a fediverse hashtag, or None when it cannot be one. Mastodon keeps only
    word characters (and `_`, `·` inside) and drops a name without a letter, so `open-data`
    becomes `opendata` and `2024` gets no hashtag (both stay keywords as written)."""
    name = _NOT_IN_HASHTAG.sub("", tag).strip("·")
    return name if any(c.isalpha() for c in name) else None


_NOT_IN_HASHTAG = re.compile(r"[^\w·]")


@functools.lru_cache(maxsize=4096)
def tag_segment(tag: str) -> str:
    """The tag as the last segment of its tag page's URL (every character but letters,
    digits and `_.-~` percent-encoded)."""
    return quote(tag, safe="")


class Amenities(ListOf):
    """Short names, written as schema.org LocationFeatureSpecification nodes."""

    def __init__(self, max_items: int = 50) -> None:
        super().__init__(Text(100), max_items)
        self.ld_type = None

    def write_ld(self, value: Any) -> Any:
        return [{"type": "LocationFeatureSpecification", "name": v, "value": True} for v in value]

    def from_compact(self, value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            return INVALID
        return [v.get("name") for v in value]

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        names = []
        for i, item in enumerate(values):
            if ldvalues.is_value(item):
                names.append(ldvalues.pick_text([item], f"{path}[{i}]", errs))
                continue
            present = ldvalues.values_of(item, SCHEMA + "value")
            if present and ldvalues.is_value(present[0]) and present[0]["@value"] is False:
                continue  # a feature explicitly marked absent
            label = ldvalues.values_of(item, AS + "name") or ldvalues.values_of(
                item, SCHEMA + "name"
            )
            names.append(ldvalues.pick_text(label, f"{path}[{i}]", errs) if label else INVALID)
            if not label:
                errs.add(f"{path}[{i}]", "an amenity needs a name")
        return INVALID if INVALID in names else names


class Description(Text):
    """Plain text as dct:description; AS2 `content` is the post (vocab.post). Older documents
    carried it in `content` (HTML) and `source` (text/plain), still read; a `content` with a
    language-tagged value (our `contentMap`) is a post, never read as the description."""

    def __init__(self, max_length: int = 20_000) -> None:
        super().__init__(max_length, multiline=True)

    def read_node(self, node: dict[str, Any], field: Field, errs: ErrorList) -> Any:
        values = ldvalues.untagged(ldvalues.values_of(node, field.iri))
        if values:
            return ldvalues.pick_text(values, field.name, errs)
        for source in ldvalues.values_of(node, AS + "source"):
            if not ldvalues.is_node(source):
                continue
            media = ldvalues.values_of(source, AS + "mediaType")
            plain = not media or (
                ldvalues.is_value(media[0]) and media[0]["@value"] == "text/plain"
            )
            text = ldvalues.values_of(source, AS + "content")
            if plain and text:
                return ldvalues.pick_text(text, field.name, errs)
        content = ldvalues.values_of(node, AS + "content")
        if not content or any(ldvalues.is_value(v) and "@language" in v for v in content):
            return MISSING
        markup = ldvalues.pick_text(content, field.name, errs)
        return markup if markup is INVALID else html_to_text(markup)


class Geometry(Kind):
    """A GeoJSON geometry object, carried as a JSON literal (`@type: @json`)."""

    ld_type = "@json"

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        found = check_geometry(value, path, errs)
        return INVALID if found is None else found

    def dump(self, value: Any) -> Any:
        return copy.deepcopy(value)

    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["type"],
            "description": f"GeoJSON geometry of at most {MAX_POSITIONS:,} positions",
            "properties": {
                "type": {"type": "string", "enum": list(GEOMETRY_TYPES)},
                "coordinates": {"type": "array", "maxItems": MAX_POSITIONS},
                "geometries": {"type": "array", "maxItems": MAX_POSITIONS},
            },
        }

    def write_ld(self, value: Any) -> Any:
        return copy.deepcopy(value)

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        for item in values:
            if ldvalues.is_value(item) and item.get("@type") == "@json":
                return item["@value"]  # check_geometry builds a fresh normalised copy
            if ldvalues.is_value(item) and item.get("@type") == GEOJSON_MEDIA_TYPE:
                return self.from_cell(item["@value"]) if isinstance(item["@value"], str) else None
        errs.add(path, "expected a GeoJSON geometry as a JSON literal")
        return INVALID

    def to_cell(self, value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    def from_cell(self, text: str) -> Any:
        try:
            return json.loads(text) if len(text) < 2_000_000 else text
        except ValueError:
            return text
