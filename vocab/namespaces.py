"""Namespace IRIs of the vocabularies vocab/ reuses, written once.

Every other module builds full IRIs from these, so a typo in a namespace can only happen here.
"""

from __future__ import annotations

AS = "https://www.w3.org/ns/activitystreams#"
SCHEMA = "http://schema.org/"  # the RDF namespace; schema.org serves its context over https
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
VF = "https://w3id.org/valueflows/ont/vf#"
LOCN = "http://www.w3.org/ns/locn#"
ADMS = "http://www.w3.org/ns/adms#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
FOAF = "http://xmlns.com/foaf/0.1/"
HYDRA = "http://www.w3.org/ns/hydra/core#"
GSP = "http://www.opengis.net/ont/geosparql#"
COMMONS = "https://w3id.org/commons-registry/ns#"

AS_PUBLIC = AS + "Public"
SPDX_LICENSES = "https://spdx.org/licenses/"
EU_ACCESS_RIGHT = "http://publications.europa.eu/resource/authority/access-right/"
GEOJSON_MEDIA_TYPE = "https://www.iana.org/assignments/media-types/application/vnd.geo+json"
VOCAB_BASE = "https://w3id.org/commons-registry/vocab"
