"""An asset as a client sends it, read through the vocabulary's validation; what is wrong
named field by field."""

from __future__ import annotations

from typing import Any

import vocab
from registry.core.errors import N_, Unprocessable


def validate(data: Any) -> vocab.AssetRecord:
    try:
        return vocab.validate_asset_input(data)
    except vocab.ValidationError as exc:
        raise invalid(exc) from None


def patch(record: vocab.AssetRecord, data: Any) -> vocab.AssetRecord:
    if not isinstance(data, dict):
        raise Unprocessable(
            "a partial update must be a JSON object of the fields to change",
            errors=[{"field": "", "message": "expected a JSON object"}],
        )
    try:
        return vocab.patch_record(record, data)
    except vocab.ValidationError as exc:
        raise invalid(exc) from None


def invalid(exc: vocab.ValidationError) -> Unprocessable:
    errors = [{"field": e.field, "message": e.message} for e in exc.errors]
    fields_named = ", ".join(dict.fromkeys(e["field"] or "(body)" for e in errors))
    detail = N_("the asset is not valid: check %(fields)s")
    return Unprocessable(detail, errors=errors, params={"fields": fields_named})
