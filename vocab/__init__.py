"""What a commons asset means: contexts, concept schemes, the asset record, and its JSON-LD,
DCAT, GeoJSON and CSV forms. Pure functions over data: no database, no network; never imports
`federation` or `registry`."""

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
from vocab.errors import ContextNotAllowed, FieldError, ValidationError
from vocab.geojson import feature, feature_collection
from vocab.loader import LOCK, OfflineLoader, compact, document_loader, expand, to_rdf
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
