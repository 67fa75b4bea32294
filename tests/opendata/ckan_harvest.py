"""Run inside the ckan venv: harvest a DCAT catalog the way ckanext-dcat's RDF harvester
gathers it (page 1, then every hydra next page, stopping when a page repeats), parsing each
page with ckanext-dcat's RDFParser and its DCAT-AP 3 profile. Prints one JSON summary.

A portal's `ckan.locale_default` (LOCALE, default en) decides which of several language-tagged
titles becomes the dataset's `title`; `titles` is what ckanext-dcat's own multilingual reader
(the one a portal with ckanext-fluent's `title_translated` field uses) takes from the page.

Usage: python ckan_harvest.py URL [LOCALE]
"""

import hashlib
import json
import sys
import urllib.request

from ckan.common import config
from ckanext.dcat.processors import RDFParser
from ckanext.dcat.profiles.euro_dcat_ap_3 import EuropeanDCATAP3Profile
from rdflib.namespace import DCTERMS


def extra(dataset, key):
    for item in dataset.get("extras", []):
        if item["key"] == key:
            return item["value"]
    return None


def main(url):
    seen_pages, datasets, pages = set(), [], 0
    while url:
        request = urllib.request.Request(url, headers={"Accept": "application/ld+json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
        digest = hashlib.md5(body).hexdigest()
        if digest in seen_pages:  # what the harvester does against broken paging
            break
        seen_pages.add(digest)
        pages += 1
        parser = RDFParser(profiles=["euro_dcat_ap_3"])
        parser.parse(body.decode("utf-8"), _format="json-ld")
        profile = EuropeanDCATAP3Profile(parser.g)
        titles = {
            str(ref): profile._object_value(ref, DCTERMS.title, multilingual=True)
            for ref in parser._datasets()
        }
        for dataset in parser.datasets():
            datasets.append(
                {
                    "uri": extra(dataset, "uri"),
                    "title": dataset.get("title"),
                    "titles": titles.get(extra(dataset, "uri")),
                    "notes": dataset.get("notes"),
                    "license_id": dataset.get("license_id"),
                    "spatial": extra(dataset, "spatial"),
                    "resources": [r.get("url") for r in dataset.get("resources", [])],
                }
            )
        url = parser.next_page()
    json.dump({"pages": pages, "datasets": datasets}, sys.stdout)


if __name__ == "__main__":
    config["ckan.locale_default"] = sys.argv[2] if len(sys.argv) > 2 else "en"
    main(sys.argv[1])
