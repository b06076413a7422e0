"""Dataset descriptions for machines: VoID and DCAT in Turtle, schema.org Dataset JSON-LD for search engines."""

import json

import pyoxigraph as ox

from ..models import Dataset

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_INT = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
LICENCE_IRIS = {
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "ODbL-1.0": "https://opendatacommons.org/licenses/odbl/1-0/",
}
PREFIXES = {"void": VOID, "dcat": DCAT, "dct": DCT, "xsd": "http://www.w3.org/2001/XMLSchema#"}


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=XSD_INT)


def dataset_triples(dataset: Dataset, *, vocabulary: str) -> list[ox.Triple]:
    """VoID (vocabulary='void') or DCAT (vocabulary='dcat') triples describing a dataset and its summary."""
    node = ox.NamedNode(dataset.iri)
    publisher = ox.NamedNode(f"{dataset.iri.rsplit('/datasets/', 1)[0]}/publishers/{dataset.publisher.slug}")
    out = [
        ox.Triple(node, ox.NamedNode(DCT + "title"), ox.Literal(dataset.title)),
        ox.Triple(node, ox.NamedNode(DCT + "publisher"), publisher),
        ox.Triple(publisher, ox.NamedNode("http://xmlns.com/foaf/0.1/name"), ox.Literal(dataset.publisher.name)),
    ]
    if dataset.description:
        out.append(ox.Triple(node, ox.NamedNode(DCT + "description"), ox.Literal(dataset.description)))
    if dataset.licence in LICENCE_IRIS:
        out.append(ox.Triple(node, ox.NamedNode(DCT + "license"), ox.NamedNode(LICENCE_IRIS[dataset.licence])))
    for tag in dataset.tags.all():
        out.append(ox.Triple(node, ox.NamedNode(DCAT + "keyword"), ox.Literal(tag.name)))
    summary = getattr(dataset, "summary", None)
    if vocabulary == "void":
        out.append(ox.Triple(node, RDF_TYPE, ox.NamedNode(VOID + "Dataset")))
        if summary:
            out += [
                ox.Triple(node, ox.NamedNode(VOID + "triples"), _int(summary.triples)),
                ox.Triple(node, ox.NamedNode(VOID + "distinctSubjects"), _int(summary.distinct_subjects)),
                ox.Triple(node, ox.NamedNode(VOID + "distinctObjects"), _int(summary.distinct_objects)),
                ox.Triple(node, ox.NamedNode(VOID + "properties"), _int(dataset.predicates.count())),
                ox.Triple(node, ox.NamedNode(VOID + "classes"), _int(dataset.classes.count())),
            ]
        for p in dataset.predicates.all():
            part = ox.BlankNode()
            out += [
                ox.Triple(node, ox.NamedNode(VOID + "propertyPartition"), part),
                ox.Triple(part, ox.NamedNode(VOID + "property"), ox.NamedNode(p.iri)),
                ox.Triple(part, ox.NamedNode(VOID + "triples"), _int(p.triples)),
            ]
        for c in dataset.classes.all():
            part = ox.BlankNode()
            out += [
                ox.Triple(node, ox.NamedNode(VOID + "classPartition"), part),
                ox.Triple(part, ox.NamedNode(VOID + "class"), ox.NamedNode(c.iri)),
                ox.Triple(part, ox.NamedNode(VOID + "entities"), _int(c.instances)),
            ]
    else:
        out.append(ox.Triple(node, RDF_TYPE, ox.NamedNode(DCAT + "Dataset")))
        out.append(ox.Triple(node, ox.NamedNode(DCAT + "landingPage"), ox.NamedNode(dataset.iri)))
        service = ox.NamedNode(dataset.iri + "#access")
        out += [
            ox.Triple(node, ox.NamedNode(DCAT + "distribution"), service),
            ox.Triple(service, RDF_TYPE, ox.NamedNode(DCAT + "Distribution")),
            ox.Triple(
                service,
                ox.NamedNode(DCAT + "accessURL"),
                ox.NamedNode(dataset.iri.rsplit("/datasets/", 1)[0] + "/sparql"),
            ),
        ]
        if summary:
            out.append(ox.Triple(node, ox.NamedNode(VOID + "triples"), _int(summary.triples)))
    return out


def dataset_turtle(dataset: Dataset, *, vocabulary: str) -> bytes:
    return ox.serialize(dataset_triples(dataset, vocabulary=vocabulary), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)


def dataset_schema_org(dataset: Dataset) -> str:
    """schema.org Dataset JSON-LD, safe to embed in a <script> element."""
    summary = getattr(dataset, "summary", None)
    data = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": dataset.iri,
        "name": dataset.title,
        "description": dataset.description or dataset.title,
        "url": dataset.iri,
        "keywords": [t.name for t in dataset.tags.all()],
        "creator": {"@type": "Organization", "name": dataset.publisher.name},
        "isAccessibleForFree": False,
    }
    if dataset.licence in LICENCE_IRIS:
        data["license"] = LICENCE_IRIS[dataset.licence]
    if summary:
        data["size"] = f"{summary.triples} triples"
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
