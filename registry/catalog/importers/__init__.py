"""Importers: adapters that turn other sources into asset records, and the batch loader."""

from registry.catalog.importers.base import (
    ADAPTERS,
    ImportReport,
    SourceRow,
    adapter_for,
    run_import,
)

__all__ = ["ADAPTERS", "ImportReport", "SourceRow", "adapter_for", "run_import"]
