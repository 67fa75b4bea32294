"""What a commons asset means: contexts, concept schemes, the asset record, and its JSON-LD,
DCAT, GeoJSON and CSV forms. Pure functions over data: no database, no network; never imports
`federation` or `registry`."""

from typing import TYPE_CHECKING, Any

from vocab.concepts import (
    SCHEMES,
    Concept,
    Scheme,
    concept,
    concept_by_iri,
    concept_document,
    concept_iri,
    label,
    scheme,
    scheme_document,
    slugs,
)
from vocab.context import (
    AS_CONTEXT,
    ASSET_CONTEXT,
    COMMONS_CONTEXT_URL,
    COMMONS_NS,
    asset_context,
    commons_context_document,
)
from vocab.csv_io import (
    ColumnMapping,
    load_column_mapping,
    read_csv,
    read_csv_rows,
    sniff_delimiter,
    write_csv,
)
from vocab.dcat import CatalogMeta, DatasetLinks, PageInfo, dcat_catalog
from vocab.document import AssetMeta, asset_document, read_asset_document
from vocab.errors import FieldError, ValidationError
from vocab.geojson import feature, feature_collection
from vocab.record import (
    FIELDS,
    AssetRecord,
    Location,
    Steward,
    asset_json_schema,
    patch_record,
    validate_asset_input,
)
from vocab.schema_org import schema_org_dataset

if TYPE_CHECKING:
    from vocab.loader import (
        LOCK,
        ContextNotAllowed,
        OfflineLoader,
        compact,
        document_loader,
        expand,
        to_rdf,
    )

# pyld's names (vocab.loader) are imported on first use: importing pyld (and the HTTP client
# it brings) was half of a sync check worker's start, and a worker reads only our own form.
_FROM_LOADER = frozenset(
    ("LOCK", "ContextNotAllowed", "OfflineLoader", "compact", "document_loader", "expand", "to_rdf")
)


def __getattr__(name: str) -> Any:
    if name in _FROM_LOADER:
        from vocab import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'vocab' has no attribute {name!r}")


__all__ = [
    "ASSET_CONTEXT",
    "AS_CONTEXT",
    "COMMONS_CONTEXT_URL",
    "COMMONS_NS",
    "FIELDS",
    "LOCK",
    "SCHEMES",
    "AssetMeta",
    "AssetRecord",
    "CatalogMeta",
    "ColumnMapping",
    "Concept",
    "ContextNotAllowed",
    "DatasetLinks",
    "FieldError",
    "Location",
    "OfflineLoader",
    "PageInfo",
    "Scheme",
    "Steward",
    "ValidationError",
    "asset_context",
    "asset_document",
    "asset_json_schema",
    "commons_context_document",
    "compact",
    "concept",
    "concept_by_iri",
    "concept_document",
    "concept_iri",
    "dcat_catalog",
    "document_loader",
    "expand",
    "feature",
    "feature_collection",
    "label",
    "load_column_mapping",
    "patch_record",
    "read_asset_document",
    "read_csv",
    "read_csv_rows",
    "schema_org_dataset",
    "scheme",
    "scheme_document",
    "slugs",
    "sniff_delimiter",
    "to_rdf",
    "validate_asset_input",
    "write_csv",
]
