"""Licence IRIs for open-data portals: the SPDX IRI, and the IRI a CKAN portal knows.

CKAN matches a harvested licence against its licence register by the register's URL (or its
title); the default register names licences by opendefinition.org URLs, not SPDX. So every
licence we publish is the SPDX IRI, typed `dct:LicenseDocument`, carrying CKAN's title and
`owl:sameAs` CKAN's URL when CKAN has a matching entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vocab.namespaces import SPDX_LICENSES

_OD = "http://www.opendefinition.org/licenses/"


@dataclass(frozen=True)
class CkanLicense:
    id: str
    url: str
    title: str


# CKAN's default licence register (ckan/model/license.py), by SPDX id pattern.
_CKAN: tuple[tuple[str, CkanLicense], ...] = (
    (r"CC0-1\.0", CkanLicense("cc-zero", _OD + "cc-zero", "Creative Commons CCZero")),
    (
        r"CC-BY-SA-[0-9.]+(-.*)?",
        CkanLicense("cc-by-sa", _OD + "cc-by-sa", "Creative Commons Attribution Share-Alike"),
    ),
    (
        r"CC-BY-NC.*",
        CkanLicense(
            "cc-nc",
            "http://creativecommons.org/licenses/by-nc/2.0/",
            "Creative Commons Non-Commercial (Any)",
        ),
    ),
    (r"CC-BY-[0-9.]+(-.*)?", CkanLicense("cc-by", _OD + "cc-by", "Creative Commons Attribution")),
    (
        r"ODbL-1\.0",
        CkanLicense("odc-odbl", _OD + "odc-odbl", "Open Data Commons Open Database License (ODbL)"),
    ),
    (
        r"ODC-By-1\.0",
        CkanLicense("odc-by", _OD + "odc-by", "Open Data Commons Attribution License"),
    ),
    (
        r"PDDL-1\.0",
        CkanLicense(
            "odc-pddl",
            _OD + "odc-pddl",
            "Open Data Commons Public Domain Dedication and License (PDDL)",
        ),
    ),
    (r"GFDL-.*", CkanLicense("gfdl", _OD + "gfdl", "GNU Free Documentation License")),
    (
        r"OGL-UK-.*",
        CkanLicense(
            "uk-ogl",
            "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
            "UK Open Government Licence (OGL)",
        ),
    ),
)


def spdx_iri(spdx_id: str) -> str:
    return SPDX_LICENSES + spdx_id


def ckan_license(spdx_id: str) -> CkanLicense | None:
    """CKAN's default-register entry for an SPDX licence, if it has one."""
    for pattern, entry in _CKAN:
        if re.fullmatch(pattern, spdx_id):
            return entry
    return None
