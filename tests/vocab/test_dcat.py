"""The DCAT 3 catalog: parsed by rdflib without any fetch, harvestable by ckanext-dcat."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import rdflib

import vocab
from tests.dcat_ap import shacl

from .conftest import expected_meta, expected_record

# rdflib's own JSON-LD parser still builds a ConjunctiveGraph inside; not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# Open namespaces: rdflib's bundled DCAT predates DCAT 3 (no dcat:resource).
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
FOAF = rdflib.Namespace("http://xmlns.com/foaf/0.1/")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
LOCN = rdflib.Namespace("http://www.w3.org/ns/locn#")
OWL = rdflib.Namespace("http://www.w3.org/2002/07/owl#")
RDF_TYPE = rdflib.URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DATETIME = rdflib.URIRef("http://www.w3.org/2001/XMLSchema#dateTime")
GEOJSON = rdflib.URIRef("https://www.iana.org/assignments/media-types/application/vnd.geo+json")
CATALOG = vocab.CatalogMeta(
    iri="https://bcn.example.org/catalog",
    title="Barcelona commons",
    description="Commons assets registered in Barcelona",
    publisher_name="Ajuntament",
    publisher_iri="https://bcn.example.org/actor",
    homepage="https://bcn.example.org/",
    modified=datetime(2025, 3, 2, 12, tzinfo=UTC),
    language="en",
)
PAGE = vocab.PageInfo(
    page="https://bcn.example.org/catalog.jsonld?page=2",
    first="https://bcn.example.org/catalog.jsonld?page=1",
    next="https://bcn.example.org/catalog.jsonld?page=3",
    previous="https://bcn.example.org/catalog.jsonld?page=1",
    total_items=250,
    items_per_page=100,
)


def items() -> list[tuple[vocab.AssetRecord, vocab.AssetMeta]]:
    dataset = vocab.validate_asset_input(
        {
            "name": "Street trees",
            "kind": "open-dataset",
            "license": "ODbL-1.0",
            "summary": "Every street tree",
            "tags": ["trees"],
        }
    )
    mirrored = vocab.AssetMeta(
        iri="https://gir.example.org/assets/7",
        url="https://gir.example.org/assets/7",
        origin="https://gir.example.org/actor",
    )
    return [(expected_record(), expected_meta()), (dataset, mirrored)]


def parse(doc: dict) -> rdflib.Graph:
    return rdflib.Graph().parse(data=json.dumps(doc), format="json-ld")


def test_rdflib_finds_the_catalog_and_its_resources(no_network: list[str]) -> None:
    doc = vocab.dcat_catalog(items(), CATALOG, PAGE)
    assert isinstance(doc["@context"], dict)  # inline: nothing to fetch
    graph = parse(doc)
    catalog = rdflib.URIRef(CATALOG.iri)
    fablab = rdflib.URIRef(expected_meta().iri)
    trees = rdflib.URIRef("https://gir.example.org/assets/7")
    assert (catalog, RDF_TYPE, DCAT.Catalog) in graph
    assert graph.value(catalog, DCTERMS.title) == rdflib.Literal("Barcelona commons")
    assert graph.value(catalog, DCTERMS.description)
    assert graph.value(graph.value(catalog, DCTERMS.publisher), FOAF.name) == rdflib.Literal(
        "Ajuntament"
    )
    assert graph.value(catalog, DCTERMS.modified) == rdflib.Literal(
        "2025-03-02T12:00:00Z", datatype=DATETIME
    )
    assert graph.value(catalog, DCTERMS.language) == rdflib.URIRef(
        "http://publications.europa.eu/resource/authority/language/ENG"
    )
    assert set(graph.objects(catalog, DCAT.dataset)) == {fablab, trees}
    for dataset in (fablab, trees):  # every kind is a Dataset; the kind stays as dct:type
        assert (dataset, RDF_TYPE, DCAT.Dataset) in graph
    assert no_network == []


def test_each_resource_carries_the_dcat_ap_core() -> None:
    graph = parse(vocab.dcat_catalog(items(), CATALOG, PAGE))
    fablab = rdflib.URIRef(expected_meta().iri)
    assert graph.value(fablab, DCTERMS.title) == rdflib.Literal("Fab Lab Poblenou")
    assert str(graph.value(fablab, DCTERMS.description)).startswith("A public workshop")
    assert graph.value(fablab, DCTERMS.identifier) == rdflib.Literal("fablabs.io:fablabpoblenou")
    assert set(map(str, graph.objects(fablab, DCAT.keyword))) == {"fablab", "makerspace"}
    distributions = list(graph.objects(fablab, DCAT.distribution))
    assert len(distributions) == 4
    spdx = rdflib.URIRef("https://spdx.org/licenses/CC-BY-SA-4.0")
    for distribution in distributions:
        assert graph.value(distribution, DCTERMS.license) == spdx
        assert graph.value(distribution, DCAT.accessURL) is not None
    # CKAN's licence register knows CC BY-SA by its opendefinition.org IRI and title
    assert graph.value(spdx, OWL.sameAs) == rdflib.URIRef(
        "http://www.opendefinition.org/licenses/cc-by-sa"
    )
    assert str(graph.value(spdx, DCTERMS.title)) == "Creative Commons Attribution Share-Alike"
    assert graph.value(fablab, DCTERMS.modified) == rdflib.Literal(
        "2025-03-02T12:00:00Z", datatype=DATETIME
    )
    assert graph.value(fablab, DCAT.landingPage) == rdflib.URIRef(expected_meta().url)
    assert graph.value(fablab, DCTERMS.type) == rdflib.URIRef(
        "https://w3id.org/commons-registry/vocab/kinds/fablab"
    )
    assert graph.value(graph.value(fablab, DCTERMS.publisher), FOAF.name) == rdflib.Literal(
        "Coop Fabricació"
    )
    spatial = graph.value(fablab, DCTERMS.spatial)
    geometry = graph.value(spatial, LOCN.geometry)
    assert geometry.datatype == GEOJSON
    assert json.loads(str(geometry))["type"] == "Polygon"
    assert str(graph.value(spatial, DCAT.centroid)) == "POINT(2.1943 41.3965)"
    assert str(graph.value(spatial, DCAT.bbox)).startswith("POLYGON((")


def test_mirrored_items_say_where_they_come_from() -> None:
    graph = parse(vocab.dcat_catalog(items(), CATALOG, PAGE))
    trees = rdflib.URIRef("https://gir.example.org/assets/7")
    assert graph.value(trees, PROV.wasAttributedTo) == rdflib.URIRef(
        "https://gir.example.org/actor"
    )
    fablab = rdflib.URIRef(expected_meta().iri)
    assert graph.value(fablab, PROV.wasAttributedTo) is None
    # the local asset names the record it was made from
    assert graph.value(fablab, PROV.wasDerivedFrom) == rdflib.URIRef(
        "https://www.fablabs.io/labs/fablabpoblenou"
    )


def test_hydra_paging_in_both_the_current_and_the_ckan_spelling() -> None:
    graph = parse(vocab.dcat_catalog(items(), CATALOG, PAGE))
    page = rdflib.URIRef(PAGE.page)
    assert (page, RDF_TYPE, HYDRA.PartialCollectionView) in graph
    assert (page, RDF_TYPE, HYDRA.PagedCollection) in graph
    for current, legacy, url in (
        (HYDRA.next, HYDRA.nextPage, PAGE.next),
        (HYDRA.first, HYDRA.firstPage, PAGE.first),
        (HYDRA.previous, HYDRA.previousPage, PAGE.previous),
    ):
        assert graph.value(page, current) == rdflib.URIRef(url)
        assert graph.value(page, legacy) == rdflib.URIRef(url)
    assert graph.value(page, HYDRA.last) is None
    assert graph.value(page, HYDRA.totalItems).toPython() == 250
    assert graph.value(rdflib.URIRef(CATALOG.iri), HYDRA.view) == page


def test_an_asset_without_a_description_gets_a_plain_one() -> None:
    graph = parse(vocab.dcat_catalog(items(), CATALOG, PAGE))
    trees = rdflib.URIRef("https://gir.example.org/assets/7")
    assert str(graph.value(trees, DCTERMS.description)) == "Every street tree"
    bare = vocab.validate_asset_input(
        {"name": "Can Batlló", "kind": "community-garden", "location": {"locality": "Barcelona"}}
    )
    meta = vocab.AssetMeta(iri="https://bcn.example.org/assets/9")
    graph = parse(vocab.dcat_catalog([(bare, meta)], CATALOG))
    described = str(graph.value(rdflib.URIRef(meta.iri), DCTERMS.description))
    assert described.startswith("Can Batlló is a community garden in Barcelona")
    assert "Ajuntament" in described


def test_the_page_meets_dcat_ap_3_shapes() -> None:
    report = shacl.check(parse(vocab.dcat_catalog(items(), CATALOG, PAGE)))
    assert report.violations == []
