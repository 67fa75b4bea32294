"""The asset form: which inputs it has, how posted text becomes the REST input, and where
each validation error goes.

The form has one input per flat column of the CSV form of a record (`vocab.csv_io.COLUMNS`),
and one set (name, summary, description: the CSV's `name@ca`… columns) per language, each
interface language and any other the asset has; posted text is turned into values the way
CSV cells are (`Kind.from_cell`); checking is left entirely to the record validation that
the API uses, so the two can never disagree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import vocab
from registry.web.i18n import N_
from vocab.compound import Description, Geometry, ListOf
from vocab.csv_io import COLUMNS, language_column, language_columns
from vocab.kinds import Bool, Country, Field, Integer, Kind, Number, Text
from vocab.languages import MAP_FIELDS, TAG_MESSAGE, texts
from vocab.linked import Choice, Concept

MORE_DETAILS = N_("More details")
DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")


LABELS: dict[str, tuple[str, str]] = {
    # column: (label, help) in plain words; help may be empty
    "name": (N_("Name"), N_("What people call it.")),
    "kind": (N_("Kind of asset"), ""),
    "summary": (N_("Summary"), N_("One line, shown in lists and in fediverse timelines.")),
    "description": (N_("Description"), N_("Plain text; leave a blank line between paragraphs.")),
    "ownership_model": (N_("Who owns it"), ""),
    "governance_model": (N_("How it is governed"), ""),
    "status": (N_("Status"), ""),
    "steward_name": (N_("Steward"), N_("The group or person who looks after it.")),
    "steward_id": (N_("Steward's web address"), N_("A link to the steward, if it has one.")),
    "access_conditions": (N_("Conditions of access"), ""),
    "access_rights": (N_("Access"), ""),
    "public_access": (N_("Open to the public"), ""),
    "free_of_charge": (N_("Free of charge"), ""),
    "license": (N_("Licence"), N_("An SPDX identifier, such as CC-BY-4.0 or CERN-OHL-S-2.0.")),
    "latitude": (N_("Latitude"), N_("Such as 41.3965 or 41,3965; or pick the place below.")),
    "longitude": (N_("Longitude"), N_("Such as 2.1943 or 2,1943.")),
    "street_address": (N_("Street address"), ""),
    "locality": (N_("Town or city"), ""),
    "region": (N_("Region"), ""),
    "postal_code": (N_("Postal code"), ""),
    "country": (N_("Country"), ""),
    "geometry": (N_("Shape on the map"), N_("GeoJSON geometry; leave empty to use the point.")),
    "tags": (N_("Tags"), N_("One per line, without spaces.")),
    "website": (N_("Website"), ""),
    "same_as": (N_("The same asset elsewhere"), N_("Links, one per line (Wikidata, OSM…).")),
    "email": (N_("Email"), ""),
    "telephone": (N_("Telephone"), ""),
    "opening_hours": (N_("Opening hours"), N_("One rule per line, e.g. Mo-Fr 10:00-20:00.")),
    "capacity": (N_("Capacity"), N_("How many people it holds.")),
    "amenities": (N_("Amenities"), N_("One per line.")),
    "identifier": (N_("Identifier elsewhere"), ""),
    "derived_from": (N_("Source record"), N_("Link to the record this one was made from.")),
    "rights": (N_("Rights over this data"), ""),
}

SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # (key, title, columns): templates test the key, never the (translated) title
    ("what", N_("What it is"), ("name", "kind", "summary", "description", "status", "tags")),
    (
        "where",
        N_("Where it is"),
        ("street_address", "postal_code", "locality", "region", "country", "latitude", "longitude"),
    ),
    (
        "who",
        N_("Who looks after it"),
        ("steward_name", "steward_id", "ownership_model", "governance_model"),
    ),
    (
        "using",
        N_("Using it"),
        (
            "access_rights",
            "public_access",
            "free_of_charge",
            "access_conditions",
            "opening_hours",
            "capacity",
            "amenities",
        ),
    ),
    ("contact", N_("Contact and links"), ("website", "email", "telephone")),
    # Folded under "More details" (open when one of them has a value or an error).
    (
        "more",
        MORE_DETAILS,
        ("geometry", "same_as", "license", "identifier", "derived_from", "rights"),
    ),
)

# Validation messages in the words of the people filling the form, by how they start.
PLAIN_MESSAGES: tuple[tuple[str, str], ...] = (
    ("expected an ISO 3166-1 alpha-2", N_("Choose a country from the list.")),
    ("expected a number", N_("Type a number, such as 41.3965 (a comma works too).")),
    ("expected a finite number", N_("Type a number, such as 41.3965 (a comma works too).")),
    ("expected an absolute http", N_("Type a full web address, starting with https://")),
    ("expected an email address", N_("Type an email address, such as name@example.org.")),
    ("expected a telephone number", N_("Type a telephone number, such as +34 934 123 456.")),
    ("expected a whole number", N_("Type a whole number, such as 20.")),
    ("expected an SPDX", N_("Type a licence identifier, such as CC-BY-4.0.")),
    ("not an SPDX", N_("Type a licence identifier, such as CC-BY-4.0.")),
    ("expected a GeoJSON geometry", N_("Paste a GeoJSON geometry, or leave this empty.")),
    ("a tag has no spaces", N_("Write each tag without spaces, one per line.")),
    ("required", N_("Fill this in.")),
    ("latitude and longitude go together", N_("Give both latitude and longitude, or neither.")),
    (TAG_MESSAGE, N_("Use a language code, such as ca, es or pt-BR.")),
)


def plain(message: str) -> str:
    for start, words in PLAIN_MESSAGES:
        if message.startswith(start):
            return words
    return message


@dataclass(frozen=True)
class FormInput:
    column: str
    label: str
    help: str
    widget: str  # "text" | "textarea" | "select" | "number"
    required: bool
    options: tuple[tuple[str, str], ...] = ()  # (value, label msgid) for plain choices
    scheme: str | None = None  # concept scheme whose labels fill a select
    lines: bool = False  # a list, one item per line
    inputmode: str | None = None
    autocomplete: str | None = None


def _widget(kind: Kind) -> dict[str, Any]:
    if isinstance(kind, Country):
        return {"widget": "country"}
    if isinstance(kind, Concept):
        return {"widget": "select", "scheme": kind.scheme}
    if isinstance(kind, Bool):
        return {
            "widget": "select",
            "options": (("", N_("Not said")), ("yes", N_("Yes")), ("no", N_("No"))),
        }
    if isinstance(kind, Choice):
        names = {
            "public": N_("Open to the public"),
            "restricted": N_("Restricted"),
            "non_public": N_("Not public"),
        }
        return {
            "widget": "select",
            "options": (("", N_("Not said")), *((w, names.get(w, w)) for w in kind.iris)),
        }
    if isinstance(kind, ListOf):
        return {"widget": "textarea", "lines": True}
    if isinstance(kind, (Description, Geometry)) or (isinstance(kind, Text) and kind.multiline):
        return {"widget": "textarea"}
    if isinstance(kind, Number):
        return {"widget": "text", "inputmode": "decimal"}
    if isinstance(kind, Integer):
        return {"widget": "text", "inputmode": "numeric"}
    return {"widget": "text"}


_AUTOCOMPLETE = {
    "street_address": "street-address",
    "postal_code": "postal-code",
    "locality": "address-level2",
    "region": "address-level1",
    "country": "country",
    "email": "email",
    "telephone": "tel",
    "website": "url",
}


def _inputs() -> dict[str, FormInput]:
    out = {}
    for column, f, sub in COLUMNS:
        kind = (sub or f).kind
        label, help_text = LABELS.get(column, (column, ""))
        required = f.required if sub is None else False
        out[column] = FormInput(
            column,
            label,
            help_text,
            required=required,
            autocomplete=_AUTOCOMPLETE.get(column),
            **_widget(kind),
        )
    return out


INPUTS = _inputs()
ITEM = re.compile(r"\[(\d+)\]")
_COLUMN_OF_PATH = {
    (f.name if sub is None else f"{f.name}.{sub.name}"): column for column, f, sub in COLUMNS
}
_KIND_OF_COLUMN: dict[str, tuple[Field, Field | None]] = {c: (f, s) for c, f, s in COLUMNS}


@dataclass(frozen=True)
class FormSection:
    key: str  # what templates test ("where", "more", "lang-ca")
    title: str  # msgid; a language's section is titled by its `language`
    inputs: list[FormInput]
    language: str | None = None
    folded: bool = False  # shown closed unless one of its inputs has a value or an error

    def is_open(self, values: Mapping[str, str], errors: Mapping[str, object]) -> bool:
        return any(values.get(i.column) or i.column in errors for i in self.inputs)


def grouped_inputs(languages: Iterable[str] = ()) -> list[FormSection]:
    """The inputs in their fieldsets, every column exactly once; then a folded set of the
    texts per language."""
    placed = [c for _, _, columns in SECTIONS for c in columns]
    leftover = [c for c in INPUTS if c not in placed]
    groups = [
        FormSection(key, title, [INPUTS[c] for c in columns if c in INPUTS], folded=key == "more")
        for key, title, columns in SECTIONS
    ]
    if leftover:  # a field added to vocab later still gets an input
        groups.append(FormSection("other", N_("More"), [INPUTS[c] for c in leftover]))
    for tag in dict.fromkeys(languages):
        inputs = [language_input(column) for column in language_columns([tag])]
        groups.append(FormSection(f"lang-{tag}", "", inputs, language=tag, folded=True))
    return groups


def language_input(column: str) -> FormInput:
    """`name@ca`: the input for one field's text in one language, labelled as the field."""
    name, _ = language_column(column) or (column, "")
    label, _help = LABELS.get(name, (name, ""))
    widget = "textarea" if name == "description" else "text"
    return FormInput(column, label, "", widget, required=False)


def form_languages(default_languages: Iterable[str], values: Mapping[str, str]) -> list[str]:
    """The languages the form offers: the interface's, then any other the asset has."""
    extra = sorted({found[1] for c in values if (found := language_column(c))})
    return list(dict.fromkeys([*default_languages, *extra]))


def posted_columns(form: Mapping[str, object]) -> list[str]:
    """The columns to read from a posted form: every input, and each language column sent."""
    return [*INPUTS, *(c for c in form if c not in INPUTS and language_column(c))]


def to_input(form: Mapping[str, str]) -> dict[str, Any]:
    """Posted text → the REST input dict; empty inputs are left out, nothing is checked here."""
    data: dict[str, Any] = {}
    for column, raw in form.items():
        found = language_column(column)
        if found and raw and raw.strip():
            data.setdefault(MAP_FIELDS[found[0]], {})[found[1]] = raw.strip()
    for column, (f, sub) in _KIND_OF_COLUMN.items():
        raw = form.get(column)
        if raw is None or not raw.strip():
            continue
        kind = (sub or f).kind
        if isinstance(kind, ListOf):
            value: Any = [
                kind.item.from_cell(line.strip()) for line in raw.splitlines() if line.strip()
            ]
        elif isinstance(kind, Text):
            value = raw.strip()
        elif isinstance(kind, Number) and DECIMAL_COMMA.match(raw):
            value = kind.from_cell(raw.replace(",", "."))  # 47,2184 as written in most of Europe
        else:
            value = kind.from_cell(raw)
        if sub is None:
            data[f.name] = value
        else:
            data.setdefault(f.name, {})[sub.name] = value
    return data


def from_record(record: vocab.AssetRecord) -> dict[str, str]:
    """A stored record → the text each input starts with when editing."""
    values: dict[str, str] = {}
    for column, (f, sub) in _KIND_OF_COLUMN.items():
        value = getattr(record, f.name)
        if sub is not None:
            value = None if value is None else getattr(value, sub.name)
        if value is None or value == ():
            continue
        kind = (sub or f).kind
        if isinstance(kind, ListOf):
            values[column] = "\n".join(kind.item.to_cell(item) for item in value)
        elif isinstance(kind, Bool):
            values[column] = "yes" if value else "no"
        elif isinstance(kind, Geometry):
            values[column] = json.dumps(value, indent=1)
        else:
            values[column] = kind.to_cell(value)
    for name in MAP_FIELDS:
        for tag, text in texts(record, name).items():
            values[f"{name}@{tag}"] = text
    return values


_TEXT_OF_MAP = {map_name: name for name, map_name in MAP_FIELDS.items()}


def _language_column_of(path: str) -> str:
    """`name_map.ca` → `name@ca`."""
    map_name, dot, tag = path.partition(".")
    return f"{_TEXT_OF_MAP[map_name]}@{tag}" if dot and map_name in _TEXT_OF_MAP else ""


def errors_by_column(errors: list[dict[str, str]]) -> dict[str, list[str]]:
    """Validation errors keyed by the input they belong to (`tags[3]` → `tags`);
    errors that fit no input are keyed by the empty string."""
    out: dict[str, list[str]] = {}
    for error in errors:
        path = error.get("field") or ""
        base = path.split("[", 1)[0]
        column = _COLUMN_OF_PATH.get(base, "") or _language_column_of(base)
        if not column and "." in base:  # a whole sub-record: `location` → its first input
            column = _COLUMN_OF_PATH.get(base.split(".", 1)[0], "")
        if not column and base in ("location", "steward"):
            column = "latitude" if base == "location" else "steward_name"
        message = plain(error.get("message", ""))
        item = ITEM.match(path[len(base) :])
        if column and item:  # say which item of a list is wrong, counting from one
            message = f"line {int(item.group(1)) + 1}: {message}"
        out.setdefault(column, []).append(message)
    return out
