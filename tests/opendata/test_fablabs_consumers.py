"""The 2,237 fablabs, served by a real node on each database, read by the consumers that
open-data officers use: ckanext-dcat's parser (CKAN), pyshacl with the DCAT-AP 3.0.1 shapes,
and GDAL (QGIS reads through it) on the GeoJSON export and on OGC API - Features.

The node is loaded once per database for the whole module: the import is the slow part."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
import rdflib

from tests.conftest import PG_URL, run_blocking
from tests.dcat_ap import shacl
from tests.nodes import Node, fresh_pg_database
from tests.opendata.consumers import ckan_harvest, ogr_rows, ogrinfo_count
from tests.sample_data import FABLABS_FILE, fablab_records

FABLABS = FABLABS_FILE
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.timeout(1200),  # the first run builds the ckan venv (a few minutes)
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fablab_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    workdir = tmp_path_factory.mktemp(f"fablabs-{request.param}")
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("set TEST_DATABASE_URL to run on PostgreSQL")
        prefix = urlsplit(PG_URL).path.lstrip("/") or "test"
        url = run_blocking(fresh_pg_database(PG_URL, f"{prefix}_opendata"))
    else:
        url = f"sqlite:///{workdir / 'data' / 'registry.db'}"
    node = Node(name=f"fablabs-{request.param}", workdir=workdir, database_url=url)
    node.init()
    node.cli("import", str(FABLABS), timeout=600)
    node.start()
    yield node
    node.stop()


def public_assets(node: Node) -> dict[str, dict]:
    """Every public asset as the REST API lists it, by IRI."""
    out, cursor = {}, None
    while True:
        params = {"limit": 100, "facets": "false", **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{node.base_url}/api/assets", params=params, timeout=60).json()
        out.update({a["iri"]: a for a in page["items"]})
        cursor = page["cursor"]
        if not cursor:
            return out


@pytest.fixture(scope="module")
def expected(fablab_node: Node) -> dict[str, dict]:
    assets = public_assets(fablab_node)
    named = [r for r in fablab_records() if r["facility"]["name"].strip()]
    assert len(assets) == len(named) == 2237
    return assets


def test_ckan_harvests_every_fablab(fablab_node: Node, expected: dict[str, dict]) -> None:
    harvest = ckan_harvest(f"{fablab_node.base_url}/dcat/catalog.jsonld")
    datasets = {d["uri"]: d for d in harvest["datasets"]}
    assert harvest["pages"] == -(-len(expected) // 100)
    assert len(harvest["datasets"]) == len(datasets) == len(expected)
    assert set(datasets) == set(expected)
    for iri, dataset in datasets.items():
        asset = expected[iri]
        assert dataset["title"] == asset["name"]
        assert dataset["notes"]  # the group's description or the plain-language one
        assert dataset["license_id"] == "cc-by"  # CC-BY-4.0 found in CKAN's licence register
        assert len(dataset["resources"]) == 4
        location = asset.get("location") or {}
        if "latitude" in location:
            geometry = json.loads(dataset["spatial"])
            assert geometry["coordinates"] == [location["longitude"], location["latitude"]]
        else:
            assert dataset["spatial"] is None


def test_the_whole_catalog_meets_dcat_ap_3(
    fablab_node: Node, expected: dict[str, dict], shacl_warnings: dict[str, dict[str, int]]
) -> None:
    graph, url = rdflib.Graph(), f"{fablab_node.base_url}/dcat/catalog.jsonld"
    while url:
        page = rdflib.Graph().parse(data=httpx.get(url, timeout=60).text, format="json-ld")
        graph += page
        nexts = list(page.objects(None, rdflib.URIRef("http://www.w3.org/ns/hydra/core#next")))
        url = str(nexts[0]) if nexts else None
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    catalog = rdflib.URIRef(f"{fablab_node.base_url}/dcat/catalog.jsonld")
    assert len(set(graph.objects(catalog, dcat.dataset))) == len(expected)
    assert (
        len(list(graph.objects(catalog, rdflib.URIRef("http://purl.org/dc/terms/modified")))) == 1
    )
    report = shacl.check(graph)
    shacl_warnings[fablab_node.name] = dict(report.warnings)
    assert report.violations == []


def _point(wkt: str) -> tuple[float, float] | None:
    if not wkt:
        return None
    assert wkt.startswith("POINT ("), wkt
    lon, lat = wkt[len("POINT (") : -1].split()
    return float(lon), float(lat)


def _check_geometries(rows: list[dict[str, str]], expected: dict[str, dict], key: str) -> None:
    by_iri = {row[key]: row for row in rows}
    assert len(rows) == len(by_iri) == len(expected)
    assert set(by_iri) == set(expected)
    for iri, row in by_iri.items():
        location = expected[iri].get("location") or {}
        point = _point(row["WKT"])
        if "latitude" in location:
            assert point == pytest.approx((location["longitude"], location["latitude"]))
        else:
            assert point is None


def test_gdal_reads_every_asset_from_the_geojson_export(
    fablab_node: Node, expected: dict[str, dict]
) -> None:
    url = f"{fablab_node.base_url}/api/assets.geojson"
    total = httpx.get(f"{fablab_node.base_url}/api/assets", params={"limit": 1}).json()["total"]
    assert ogrinfo_count(url, "assets") == total == len(expected)
    _check_geometries(ogr_rows(url), expected, "url")


def test_gdal_reads_every_asset_through_ogc_api_features(
    fablab_node: Node, expected: dict[str, dict]
) -> None:
    source = f"OAPIF:{fablab_node.base_url}/ogc"
    assert ogrinfo_count(source, "all", ("PAGE_SIZE=1000",)) == len(expected)
    rows = ogr_rows(source, "all", open_options=("PAGE_SIZE=1000",))
    _check_geometries(rows, expected, "url")
    fablabs = ogr_rows(source, "fablab", open_options=("PAGE_SIZE=1000",))
    assert len(fablabs) == len(expected)
    assert ogr_rows(source, "tool-library") == []
