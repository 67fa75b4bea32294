"""Every table the node stores, across packages, for migrations and test set-up."""

from sqlalchemy import MetaData

from federation import tables as federation_tables
from registry.core import schema


def all_metadata() -> list[MetaData]:
    """The registry's tables and the federation layer's tables (added as it grows)."""
    return [schema.metadata, federation_tables.metadata]
