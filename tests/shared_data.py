"""Where the workplace's third-party data lives (../shared/data next to the project, see its
README for licences). A clone made somewhere else finds it through COMMONS_SHARED_DATA or the
workplace's usual place."""

from __future__ import annotations

import os
from pathlib import Path

_CANDIDATES = [
    os.environ.get("COMMONS_SHARED_DATA", ""),
    str(Path(__file__).resolve().parents[2] / "shared" / "data"),
    "/work/shared/data",
]


def shared_data() -> Path:
    for candidate in filter(None, _CANDIDATES):
        if (Path(candidate) / "okw-fablabs.json").is_file():
            return Path(candidate)
    raise FileNotFoundError(
        "the shared data set (okw-fablabs.json) is missing: set COMMONS_SHARED_DATA to the "
        f"folder that holds it (looked in {', '.join(filter(None, _CANDIDATES))})"
    )


SHARED_DATA = shared_data()
