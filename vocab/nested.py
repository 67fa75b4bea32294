"""Kinds that are nested objects with their own small field table: the location (an AS2
Place with a schema.org PostalAddress) and the steward (an AS2 Organization)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vocab import ldvalues
from vocab.errors import ErrorList
from vocab.kinds import Field, Kind, nullable
from vocab.ldvalues import INVALID
from vocab.namespaces import SCHEMA


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

    def from_compact(self, value: Any) -> Any:
        return _by_term(value, self.fields)


def _by_term(node: Any, fields: tuple[Field, ...]) -> Any:
    """The REST values of a compact node's fields, by their terms (vocab.own_form)."""
    if not isinstance(node, dict):
        return INVALID
    out = {f.name: f.kind.from_compact(node[f.term]) for f in fields if f.term in node}
    return INVALID if INVALID in out.values() else out


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

    def from_compact(self, value: Any) -> Any:
        place = _by_term(value, self.place_fields)
        if place is INVALID or "address" not in value:
            return place
        address = _by_term(value["address"], self.address_fields)
        return INVALID if address is INVALID else {**place, **address}

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
