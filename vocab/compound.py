"""Kinds made of other values: lists, tags, amenities, the description, GeoJSON geometry, and
the nested location and steward objects (each driven by its own small field table)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from vocab import ldvalues
from vocab.errors import ErrorList
from vocab.geometry import GEOMETRY_TYPES, MAX_POSITIONS, check_geometry
from vocab.htmltext import html_to_text
from vocab.kinds import Field, Kind, Text, nullable
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
            {"type": "Hashtag", "name": f"#{name}", "href": f"{tag_base}/{quote(t, safe='')}"}
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


def hashtag_name(tag: str) -> str | None:
    """The tag as a fediverse hashtag, or None when it cannot be one. Mastodon keeps only
    word characters (and `_`, `·` inside) and drops a name without a letter, so `open-data`
    becomes `opendata` and `2024` gets no hashtag (both stay keywords as written)."""
    name = _NOT_IN_HASHTAG.sub("", tag).strip("·")
    return name if any(c.isalpha() for c in name) else None


_NOT_IN_HASHTAG = re.compile(r"[^\w·]")


class Amenities(ListOf):
    """Short names, written as schema.org LocationFeatureSpecification nodes."""

    def __init__(self, max_items: int = 50) -> None:
        super().__init__(Text(100), max_items)
        self.ld_type = None

    def write_ld(self, value: Any) -> Any:
        return [{"type": "LocationFeatureSpecification", "name": v, "value": True} for v in value]

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


class Record(Kind):
    """A nested object with its own field table (location, steward)."""

    def __init__(
        self,
        make: Callable[..., Any],
        fields: tuple[Field, ...],
        csv_prefix: str,
        cross_check: Callable[[dict[str, Any], str, ErrorList], None] | None = None,
    ) -> None:
        self.make, self.fields, self.csv_prefix = make, fields, csv_prefix
        self.cross_check = cross_check

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        if not isinstance(value, dict):
            errs.add(path, "expected an object")
            return INVALID
        names = {f.name for f in self.fields}
        for key in value:
            if key not in names:
                errs.add(f"{path}.{str(key)[:100]}", "unknown field")
        start, out = len(errs.items), {}
        for f in self.fields:
            raw = value.get(f.name)
            checked = None if raw is None else f.kind.check(raw, f"{path}.{f.name}", errs)
            if checked is None and f.required:
                errs.add(f"{path}.{f.name}", "required")
            out[f.name] = checked
        if self.cross_check and len(errs.items) == start:
            self.cross_check(out, path, errs)
        if len(errs.items) > start or INVALID in out.values():
            return INVALID
        return self.make(**out) if any(v is not None for v in out.values()) else None

    def dump(self, value: Any) -> Any:
        return {
            f.name: f.kind.dump(getattr(value, f.name))
            for f in self.fields
            if getattr(value, f.name) is not None
        }

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object",
            "additionalProperties": False,
            "properties": {f.name: _property(f) for f in self.fields},
        }
        required = [f.name for f in self.fields if f.required]
        return {**schema, "required": required} if required else schema

    def read_fields(
        self,
        node: dict[str, Any],
        fields: tuple[Field, ...],
        path: str,
        errs: ErrorList,
        out: dict[str, Any],
    ) -> None:
        for f in fields:
            if f.iri == "@id":
                iri = node.get("@id")
                if isinstance(iri, str) and not iri.startswith("_:"):
                    out[f.name] = iri
                continue
            values = ldvalues.values_of(node, f.iri)
            found = f.kind.read_ld(values, f"{path}.{f.name}", errs) if values else INVALID
            if found is not INVALID:  # a bad value was reported already
                out[f.name] = found

    def columns(self) -> list[tuple[str, Field]]:
        return [(self.csv_prefix + f.name, f) for f in self.fields]


def _property(f: Field) -> dict[str, Any]:
    schema = f.kind.schema() if f.required else nullable(f.kind.schema())
    return {**schema, "description": f.description} if f.description else schema


class Place(Record):
    """A location: an AS2 Place with latitude/longitude and a schema.org PostalAddress."""

    ld_type = "@id"

    def __init__(
        self,
        make: Callable[..., Any],
        place_fields: tuple[Field, ...],
        address_fields: tuple[Field, ...],
        cross_check: Callable[[dict[str, Any], str, ErrorList], None] | None = None,
    ) -> None:
        super().__init__(make, place_fields + address_fields, "", cross_check)
        self.place_fields, self.address_fields = place_fields, address_fields

    def write_ld(self, value: Any) -> Any:
        node: dict[str, Any] = {"type": "Place"}
        address: dict[str, Any] = {"type": "PostalAddress"}
        for target, fields in ((node, self.place_fields), (address, self.address_fields)):
            for f in fields:
                if getattr(value, f.name) is not None:
                    target[f.term] = f.kind.write_ld(getattr(value, f.name))
        if len(address) > 1:
            node["address"] = address
        return node

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        node = ldvalues.first_node(values, path, errs)
        if node is INVALID:
            return node
        out: dict[str, Any] = {}
        self.read_fields(node, self.place_fields, path, errs, out)
        addresses = ldvalues.values_of(node, SCHEMA + "address")
        if addresses:
            address = ldvalues.first_node(addresses, path, errs)
            if address is not INVALID:
                self.read_fields(address, self.address_fields, path, errs, out)
        return out


class Agent(Record):
    """The steward: an AS2 Organization node with a name and, if it has one, an IRI."""

    ld_type = "@id"

    def write_ld(self, value: Any) -> Any:
        node: dict[str, Any] = {"id": value.id} if value.id else {}
        return {**node, "type": "Organization", "name": value.name}

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        node = ldvalues.first_node(values, path, errs)
        if node is INVALID:
            return node
        out: dict[str, Any] = {}
        self.read_fields(node, self.fields, path, errs, out)
        if "name" not in out and ldvalues.values_of(node, SCHEMA + "name"):
            out["name"] = ldvalues.pick_text(node[SCHEMA + "name"], f"{path}.name", errs)
        return out
