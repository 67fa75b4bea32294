"""Every table the node stores, on one metadata, and which package owns each.

The federation layer declares its protocol state (`federation/tables.py`), the application its
catalog, people and partners (`registry/core/schema.py`); both put their tables on
`federation.sql.metadata`, which migrations and test set-up use.
"""

from __future__ import annotations

from sqlalchemy import MetaData, Table

from federation import tables as federation_tables
from federation.sql import metadata
from registry.core import schema

__all__ = ["metadata", "owners"]


def owners() -> dict[str, str]:
    """Table name → the package that declares it ("federation" or "registry")."""
    found: dict[str, str] = {}
    for package, module in (("federation", federation_tables), ("registry", schema)):
        for value in vars(module).values():
            if isinstance(value, Table):
                found[value.name] = package
    return found


def all_metadata() -> list[MetaData]:
    """The one metadata, as the list Alembic's `target_metadata` accepts."""
    return [metadata]
