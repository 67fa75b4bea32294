"""What a change waiting for approval changes: field by field, public version beside it."""

from __future__ import annotations

from dataclasses import dataclass

import vocab
from registry.web import forms


@dataclass(frozen=True)
class FieldChange:
    column: str
    label: str  # a msgid; templates translate it
    before: str
    after: str
    language: str | None = None  # of a per-language text (`name@ca`)


def changes(public: vocab.AssetRecord, proposed: vocab.AssetRecord) -> list[FieldChange]:
    """The inputs whose text differs, in form order (the form's words and labels)."""
    old, new = forms.from_record(public), forms.from_record(proposed)
    found = []
    for section in forms.grouped_inputs(forms.form_languages((), {**old, **new})):
        for i in section.inputs:
            before, after = old.get(i.column, ""), new.get(i.column, "")
            if before != after:
                found.append(FieldChange(i.column, i.label, before, after, section.language))
    return found
