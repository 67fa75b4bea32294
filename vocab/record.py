"""The asset record and the one field table that drives everything an asset is turned into.

Each row of FIELDS names a field's REST name, its JSON-LD term and property IRI, and its value
kind; validation, the JSON Schema, the JSON-LD context terms, serialisation, parsing and CSV
columns are all derived from these rows. Adding a field is one row here plus its typed
attribute on AssetRecord (an import-time check keeps the two in step).
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import Any

from vocab.compound import Amenities, Description, Geometry, ListOf, Tags
from vocab.errors import MAX_ERRORS, ErrorList, FieldError, ValidationError
from vocab.kinds import Bool, Country, Field, Integer, Number, Summary, Text, nullable
from vocab.languages import LanguageMap
from vocab.ldvalues import INVALID
from vocab.linked import ACCESS_RIGHTS, Concept, License, Url
from vocab.namespaces import ADMS, AS, COMMONS, DCAT, DCT, LOCN, PROV, SCHEMA, VF
from vocab.nested import Agent, Place


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float | None = None
    longitude: float | None = None
    street_address: str | None = None
    locality: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Steward:
    """The group with primary responsibility for the asset."""

    name: str
    id: str | None = None


@dataclass(frozen=True)
class AssetRecord:
    """One commons asset as plain, immutable data (lists are tuples)."""

    name: str
    kind: str
    summary: str | None = None
    description: str | None = None
    ownership_model: str | None = None
    governance_model: str | None = None
    status: str = "active"
    steward: Steward | None = None
    access_conditions: str | None = None
    access_rights: str | None = None
    public_access: bool | None = None
    free_of_charge: bool | None = None
    license: str | None = None
    location: Location | None = None
    geometry: dict[str, Any] | None = field(default=None, hash=False)
    tags: tuple[str, ...] = ()
    website: str | None = None
    same_as: tuple[str, ...] = ()
    email: str | None = None
    telephone: str | None = None
    opening_hours: tuple[str, ...] = ()
    capacity: int | None = None
    amenities: tuple[str, ...] = ()
    identifier: str | None = None
    derived_from: str | None = None
    rights: str | None = None
    # (language tag, text) pairs ordered by tag: the texts above per language (vocab.languages)
    name_map: tuple[tuple[str, str], ...] = ()
    summary_map: tuple[tuple[str, str], ...] = ()
    description_map: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The REST form: snake_case names, empty fields left out."""
        out: dict[str, Any] = {}
        for f in FIELDS:
            value = getattr(self, f.name)
            if value is not None and value != ():
                out[f.name] = f.kind.dump(value)
        return out


def _both_or_neither(values: dict[str, Any], path: str, errs: ErrorList) -> None:
    lat, lon = values.get("latitude"), values.get("longitude")
    if (lat is None) != (lon is None):
        missing = "longitude" if lon is None else "latitude"
        errs.add(f"{path}.{missing}", "latitude and longitude go together: give both or neither")


def _line(limit: int = 200) -> Text:
    return Text(limit)


LOCATION_KIND = Place(
    Location,
    place_fields=(
        Field("latitude", "latitude", AS + "latitude", Number(-90, 90), description="WGS 84"),
        Field("longitude", "longitude", AS + "longitude", Number(-180, 180), description="WGS 84"),
    ),
    address_fields=(
        Field("street_address", "streetAddress", SCHEMA + "streetAddress", _line()),
        Field(
            "locality",
            "addressLocality",
            SCHEMA + "addressLocality",
            _line(),
            description="Town or city",
        ),
        Field("region", "addressRegion", SCHEMA + "addressRegion", _line()),
        Field("postal_code", "postalCode", SCHEMA + "postalCode", _line()),
        Field(
            "country",
            "addressCountry",
            SCHEMA + "addressCountry",
            Country(),
            description="ISO 3166-1 alpha-2 code",
        ),
    ),
    cross_check=_both_or_neither,
)

STEWARD_KIND = Agent(
    Steward,
    (
        Field("name", "name", AS + "name", _line(), required=True),
        Field("id", "id", "@id", Url(), description="IRI of the group, if it has one"),
    ),
    csv_prefix="steward_",
)

_PHONE = r"\+?[0-9()./\- ]*[0-9][0-9()./\- ]*"
_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"

FIELDS: tuple[Field, ...] = (
    Field("name", "name", AS + "name", _line(), required=True, description="Plain text"),
    Field("kind", "assetKind", DCT + "type", Concept("kinds"), required=True),
    Field(
        "summary",
        "abstract",
        DCT + "abstract",
        Summary(500),
        description="One line of plain text, shown by fediverse clients",
    ),
    Field(
        "description",
        "description",
        DCT + "description",
        Description(20_000),
        description="Plain text; blank lines separate paragraphs",
    ),
    Field("ownership_model", "ownershipModel", COMMONS + "ownershipModel", Concept("ownership")),
    Field(
        "governance_model", "governanceModel", COMMONS + "governanceModel", Concept("governance")
    ),
    Field("status", "lifecycleStatus", ADMS + "status", Concept("status"), default="active"),
    Field("steward", "steward", VF + "primaryAccountable", STEWARD_KIND),
    Field(
        "access_conditions",
        "conditionsOfAccess",
        SCHEMA + "conditionsOfAccess",
        Text(2000, multiline=True),
    ),
    Field("access_rights", "accessRights", DCT + "accessRights", ACCESS_RIGHTS),
    Field("public_access", "publicAccess", SCHEMA + "publicAccess", Bool()),
    Field("free_of_charge", "isAccessibleForFree", SCHEMA + "isAccessibleForFree", Bool()),
    Field("license", "license", DCT + "license", License()),
    Field("location", "location", AS + "location", LOCATION_KIND),
    Field(
        "geometry",
        "geometry",
        LOCN + "geometry",
        Geometry(),
        description="GeoJSON geometry of at most 10,000 positions; wins over the location's "
        "point on maps",
    ),
    Field(
        "tags",
        "keywords",
        DCAT + "keyword",
        Tags(30),
        description="Without spaces; a leading # is dropped",
    ),
    Field("website", "website", SCHEMA + "url", Url(), description="The asset's own website"),
    Field(
        "same_as",
        "sameAs",
        SCHEMA + "sameAs",
        ListOf(Url(), 20),
        description="The same asset elsewhere (Wikidata, OpenStreetMap, fablabs.io)",
    ),
    Field(
        "email",
        "email",
        SCHEMA + "email",
        Text(254, pattern=_EMAIL, pattern_message="expected an email address"),
    ),
    Field(
        "telephone",
        "telephone",
        SCHEMA + "telephone",
        Text(50, pattern=_PHONE, pattern_message="expected a telephone number"),
    ),
    Field(
        "opening_hours",
        "openingHours",
        SCHEMA + "openingHours",
        ListOf(_line(), 14),
        description="schema.org / OpenStreetMap syntax, e.g. 'Mo-Fr 10:00-20:00'",
    ),
    Field("capacity", "maximumAttendeeCapacity", SCHEMA + "maximumAttendeeCapacity", Integer(0)),
    Field("amenities", "amenityFeature", SCHEMA + "amenityFeature", Amenities(50)),
    Field(
        "identifier",
        "identifier",
        DCT + "identifier",
        _line(),
        description="An identifier of the asset in another system",
    ),
    Field(
        "derived_from",
        "wasDerivedFrom",
        PROV + "wasDerivedFrom",
        Url(),
        description="URL of the record this one was made from",
    ),
    Field(
        "rights",
        "rights",
        DCT + "rights",
        Text(1000, multiline=True),
        description="Rights over this record's data, e.g. the attribution a source requires",
    ),
    # Per-language texts. `nameMap` is AS2's own term; summary and description keep their
    # own properties (an AS2 `summaryMap` would be a content warning on most servers).
    Field(
        "name_map",
        "nameMap",
        AS + "name",
        LanguageMap(_line()),
        description='The name in other languages: BCP 47 tag -> text, e.g. {"ca": "…"}',
    ),
    Field(
        "summary_map",
        "abstractMap",
        DCT + "abstract",
        LanguageMap(Summary(500), legacy_iri=AS + "summary"),
        description="The summary per language (BCP 47 tag -> text)",
    ),
    Field(
        "description_map",
        "descriptionMap",
        DCT + "description",
        LanguageMap(Description(20_000)),
        description="The description per language (BCP 47 tag -> text)",
    ),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}

_names = [f.name for f in FIELDS]
if _names != [f.name for f in dataclasses.fields(AssetRecord)]:  # pragma: no cover
    raise RuntimeError("vocab.record: FIELDS and AssetRecord disagree; add the field to both")


def validate_asset_input(data: object) -> AssetRecord:
    """The record for a REST JSON body; ValidationError naming every bad field otherwise.

    Never raises anything else, whatever `data` is."""
    errs = ErrorList()
    record = build_record(data, errs)
    errs.raise_if_any()
    return record


def build_record(data: object, errs: ErrorList) -> Any:
    """Check `data` field by field, adding every problem to `errs`; the record or None."""
    if not isinstance(data, dict):
        errs.add("", "expected a JSON object")
        return None
    if not data.keys() <= FIELDS_BY_NAME.keys():
        for key in data:
            if key not in FIELDS_BY_NAME and len(errs.items) < MAX_ERRORS:
                errs.add(str(key)[:100], _unknown(key))
    values: dict[str, Any] = {}
    for f, absent in _ABSENT:
        raw = data.get(f.name)
        checked = None if raw is None else f.kind.check(raw, f.name, errs)
        if checked is None:
            if f.required:
                errs.add(f.name, "required")
            checked = absent
        values[f.name] = checked
    if errs or INVALID in values.values():
        return None
    return AssetRecord(**values)


def _empty(f: Field) -> Any:
    return () if isinstance(f.kind, (ListOf, LanguageMap)) else None


# Each field with the value a record holds when it is not given: every record read (each
# copy a sync checks) asked this of some twenty fields.
_ABSENT = tuple((f, f.default if f.default is not None else _empty(f)) for f in FIELDS)


def _unknown(key: object) -> str:
    guessable = isinstance(key, str) and len(key) <= 64
    close = difflib.get_close_matches(key, _names, n=1) if guessable else []
    return f"unknown field; did you mean {close[0]!r}?" if close else "unknown field"


def asset_json_schema() -> dict[str, Any]:
    """JSON Schema (2020-12, as OpenAPI 3.1 uses) of the REST input form. Optional fields
    accept null, which means the same as leaving them out."""
    properties = {}
    for f in FIELDS:
        prop = f.kind.schema() if f.required else nullable(f.kind.schema())
        if f.description:
            prop = {**prop, "description": f.description}
        if f.default is not None:
            prop = {**prop, "default": f.default}
        properties[f.name] = prop
    return {
        "title": "Commons asset",
        "type": "object",
        "additionalProperties": False,
        "required": [f.name for f in FIELDS if f.required],
        "properties": properties,
    }


def patch_record(record: AssetRecord, patch: dict[str, Any]) -> AssetRecord:
    """Apply a JSON merge patch (RFC 7396: null removes a member) and validate the result."""
    if not isinstance(patch, dict):
        raise ValidationError([FieldError("", "a merge patch must be a JSON object")])
    return validate_asset_input(merge_patch(record.to_json(), patch))


def merge_patch(target: Any, patch: Any, depth: int = 0) -> Any:
    if not isinstance(patch, dict):
        return patch
    if depth > 8:  # deeper than any asset goes: hand it on whole, validation refuses it
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value, depth + 1)
    return result
