"""Declaring configuration keys: each key's default, documentation and constraints."""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import Any

ENV_PREFIX = "COMMONS_"
CONFIG_ENV = "COMMONS_CONFIG"


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message names the key."""


def key(
    default: Any,
    doc: str,
    *,
    choices: tuple[str, ...] = (),
    minimum: float | None = None,
    maximum: float | None = None,
    example: Any = None,
) -> Any:
    """Declare one configuration key with its documentation and constraints."""
    meta = {"doc": doc, "choices": choices, "min": minimum, "max": maximum, "example": example}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


# The web interface's catalogs (registry/web/locale/{lang}/LC_MESSAGES/messages.po): the

# languages are found here, without importing the web package, so that checking a
# configuration stays cheap. English is the source language and needs none.
LOCALE_DIR = Path(__file__).parent.parent / "web" / "locale"
INTERFACE_LANGUAGES = (
    "en",
    *sorted(p.parent.parent.name for p in LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")),
)
