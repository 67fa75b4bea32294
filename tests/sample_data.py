"""The fablabs data set the tests and benchmarks use: the sample shipped inside the package
(registry/catalog/samples; CC BY 4.0, see its ATTRIBUTION.txt), so that a clone needs nothing
beside it."""

from __future__ import annotations

import json
from typing import Any

from registry.catalog.importers.base import source_bytes
from registry.catalog.samples import FABLABS

FABLABS_FILE = FABLABS.path  # gzip-compressed OKW JSON; the importer reads it as it is


def fablab_records() -> list[dict[str, Any]]:
    """The 2,237 raw OKW records."""
    return json.loads(source_bytes(FABLABS_FILE))
