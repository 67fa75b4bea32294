"""Scalar value kinds: how one value is checked, described in JSON Schema, written to our
compact JSON-LD, read back from expanded JSON-LD and put in a CSV cell.

A field table row (`Field`) pairs a kind with the field's REST name and JSON-LD term, so every
format an asset travels in is driven by the same row.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from vocab import ldvalues
from vocab.countries import COUNTRY_CODES
from vocab.errors import ErrorList
from vocab.htmltext import html_to_text
from vocab.ldvalues import INVALID, MISSING
from vocab.namespaces import AS

# Controls other than tab/newline/CR (those are whitespace, normalised below), and lone
# surrogates, which no UTF-8 encoder accepts.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Field:
    """One row of the field table."""

    name: str  # REST / record attribute / CSV column name
    term: str  # key in our compact JSON-LD
    iri: str  # the property IRI the term expands to ("@id" for a node's own IRI)
    kind: Kind
    required: bool = False
    default: Any = None
    description: str = ""


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of an optional field: null is accepted and means "not given"."""
    out = dict(schema)
    if isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


class Kind:
    """A plain value; subclasses narrow it. `check` returns the normalised value, None for an
    empty one, or INVALID after adding errors."""

    ld_type: str | None = None  # type coercion of the context term
    container: str | None = None

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        raise NotImplementedError

    def dump(self, value: Any) -> Any:
        return value

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def write_ld(self, value: Any) -> Any:
        return value

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        return ldvalues.pick_literal(values, path, errs)

    def write_node(self, value: Any, field: Field, out: dict[str, Any], tag_base: str) -> None:
        out[field.term] = self.write_ld(value)

    def read_node(self, node: dict[str, Any], field: Field, errs: ErrorList) -> Any:
        values = ldvalues.values_of(node, field.iri)
        return self.read_ld(values, field.name, errs) if values else MISSING

    def from_compact(self, value: Any) -> Any:
        """The REST value that `write_ld` would write as `value`, or INVALID when there is
        none. A guess that vocab.own_form confirms by writing the record again."""
        return value

    def to_cell(self, value: Any) -> str:
        return str(value)

    def from_cell(self, text: str) -> Any:
        return text


class Text(Kind):
    def __init__(
        self,
        max_length: int,
        multiline: bool = False,
        pattern: str | None = None,
        pattern_message: str = "",
    ) -> None:
        self.max_length = max_length
        self.multiline = multiline
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_message = pattern_message

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        if not isinstance(value, str):
            errs.add(path, "expected a string")
            return INVALID
        if len(value) > self.max_length * 2 + 1000:  # refuse before normalising a huge string
            errs.add(path, f"at most {self.max_length} characters")
            return INVALID
        if _BAD_CHARS.search(value):
            errs.add(path, "must not contain control characters")
            return INVALID
        text = self.normalise(value)
        if len(text) > self.max_length:
            errs.add(path, f"at most {self.max_length} characters")
            return INVALID
        if text and self.pattern and not self.pattern.fullmatch(text):
            errs.add(path, self.pattern_message)
            return INVALID
        return text or None

    def normalise(self, value: str) -> str:
        if not self.multiline:
            return " ".join(value.split())  # one line: whitespace runs become one space
        lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n")

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_length}

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        return ldvalues.pick_text(values, path, errs)


class Summary(Text):
    """One line of plain text under its own term (dct:abstract), never AS2 `summary`: most
    fediverse servers show `summary` as a content warning over the post. Documents written
    before that carried it as AS2 `summary` (HTML); they are still read."""

    def read_node(self, node: dict[str, Any], field: Field, errs: ErrorList) -> Any:
        values = ldvalues.untagged(ldvalues.values_of(node, field.iri))
        if values:
            return ldvalues.pick_text(values, field.name, errs)
        legacy = ldvalues.untagged(ldvalues.values_of(node, AS + "summary"))
        if not legacy:
            return MISSING
        text = ldvalues.pick_text(legacy, field.name, errs)
        return text if text is INVALID else html_to_text(text)


class Country(Text):
    """An ISO 3166-1 alpha-2 code, stored upper-case."""

    def __init__(self) -> None:
        super().__init__(64)

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        text = super().check(value, path, errs)
        if text is INVALID or text is None:
            return text
        if text.upper() not in COUNTRY_CODES:
            errs.add(path, "expected an ISO 3166-1 alpha-2 country code, e.g. ES")
            return INVALID
        return text.upper()

    def schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": r"^\s*([A-Za-z]{2})?\s*$",
            "maxLength": self.max_length,
        }


class Bool(Kind):
    ld_type = "xsd:boolean"
    _CELLS: ClassVar[dict[str, bool]] = {
        "true": True,
        "yes": True,
        "1": True,
        "false": False,
        "no": False,
        "0": False,
    }

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        if not isinstance(value, bool):
            errs.add(path, "expected true or false")
            return INVALID
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        value = ldvalues.pick_literal(values, path, errs, "true or false")
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            return value.strip().lower() in ("true", "1")  # xsd:boolean lexical forms
        return value

    def to_cell(self, value: Any) -> str:
        return "true" if value else "false"

    def from_cell(self, text: str) -> Any:
        return self._CELLS.get(text.strip().lower(), text)


class Integer(Kind):
    ld_type = "xsd:integer"

    def __init__(self, minimum: int = 0, maximum: int = 10_000_000) -> None:
        self.minimum, self.maximum = minimum, maximum

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            errs.add(path, "expected a whole number")
            return INVALID
        if not self.minimum <= value <= self.maximum:
            errs.add(path, f"must be between {self.minimum} and {self.maximum}")
            return INVALID
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        value = ldvalues.pick_literal(values, path, errs, "a whole number")
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        return self.from_cell(value) if isinstance(value, str) else value

    def from_cell(self, text: str) -> Any:
        text = text.strip()
        return int(text) if re.fullmatch(r"[+-]?\d{1,12}", text) else text


class Number(Kind):
    """A finite number in a closed range (latitude, longitude)."""

    ld_type = "xsd:float"

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum, self.maximum = minimum, maximum

    def check(self, value: Any, path: str, errs: ErrorList) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errs.add(path, "expected a number")
            return INVALID
        if isinstance(value, float) and not math.isfinite(value):
            errs.add(path, "expected a finite number")
            return INVALID
        if not self.minimum <= value <= self.maximum:
            errs.add(path, f"must be between {self.minimum:g} and {self.maximum:g}")
            return INVALID
        return float(value)

    def schema(self) -> dict[str, Any]:
        return {"type": "number", "minimum": self.minimum, "maximum": self.maximum}

    def read_ld(self, values: list[Any], path: str, errs: ErrorList) -> Any:
        value = ldvalues.pick_literal(values, path, errs, "a number")
        return self.from_cell(value) if isinstance(value, str) else value

    def to_cell(self, value: Any) -> str:
        return repr(float(value))

    def from_cell(self, text: str) -> Any:
        try:
            return float(text.strip()) if len(text) < 64 else text
        except ValueError:
            return text
