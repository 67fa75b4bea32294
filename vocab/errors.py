"""The errors vocab/ raises: field-level validation errors and refused JSON-LD contexts."""

from __future__ import annotations

from dataclasses import dataclass

# Enough to name every field of an asset several times over; a flood of junk input must not
# turn into a flood of error objects.
MAX_ERRORS = 100


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field: `field` is a dotted path (`location.latitude`, `tags[3]`)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field or '(document)'}: {self.message}"


class ValidationError(ValueError):
    """Input that is not a valid asset; `.errors` names every bad field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(error) for error in self.errors) or "invalid input")


class ErrorList:
    """Collects field errors for one validation run, keeping at most MAX_ERRORS."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append(FieldError(field, message))

    def fields(self) -> set[str]:
        return {error.field for error in self.items}

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(self.items)
