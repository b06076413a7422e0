"""The hub as linked data: models, variants and files in schema.org / DCAT terms plus our small compression
vocabulary (published at /vocab/compression#). The /sparql endpoint adds catalog_triples() to its free graph."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from django.conf import settings
from django.urls import reverse

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SCHEMA = "https://schema.org/"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"


def vocab_base() -> str:
    return f"{settings.SITE_URL}/vocab/compression#"


@dataclass(frozen=True)
class Term:
    name: str
    kind: str  # Class | ObjectProperty | DatatypeProperty | individual of cmp:Method
    label: str
    comment: str
    range: str = ""


TERMS: tuple[Term, ...] = (
    Term(
        "Model", "Class", "model", "A trained neural-network model offered on the hub; its files are in its variants."
    ),
    Term("Variant", "Class", "variant", "One form of a model (reference, quantised, pruned, ...) with its own files."),
    Term("Method", "Class", "compression method", "A way of making a model smaller or faster."),
    Term("variantOf", "ObjectProperty", "variant of", "The model this variant belongs to.", "Model"),
    Term("method", "ObjectProperty", "method", "The compression method applied to make the variant.", "Method"),
    Term("weightBits", "DatatypeProperty", "weight bits", "Bits per stored weight value.", XSD + "integer"),
    Term(
        "activationBits",
        "DatatypeProperty",
        "activation bits",
        "Bits per activation value at run time.",
        XSD + "integer",
    ),
    Term(
        "granularity",
        "DatatypeProperty",
        "granularity",
        "Scope of one quantisation scale: per_tensor, per_channel or per_group.",
        XSD + "string",
    ),
    Term(
        "symmetric",
        "DatatypeProperty",
        "symmetric",
        "True when the quantisation grid is symmetric around zero (no zero point).",
        XSD + "boolean",
    ),
    Term(
        "calibrationMethod",
        "DatatypeProperty",
        "calibration method",
        "How activation ranges were calibrated (minmax, entropy, percentile).",
        XSD + "string",
    ),
    Term(
        "calibrationSamples",
        "DatatypeProperty",
        "calibration samples",
        "Number of samples used for calibration.",
        XSD + "integer",
    ),
    Term(
        "codebookSize",
        "DatatypeProperty",
        "codebook size",
        "Number of shared values per tensor (k-means weight sharing).",
        XSD + "integer",
    ),
    Term("sparsity", "DatatypeProperty", "sparsity", "Fraction of weights that are exactly zero.", XSD + "double"),
    Term("teacher", "DatatypeProperty", "teacher", "The teacher model of a distilled variant.", XSD + "string"),
    Term(
        "parameterCount",
        "DatatypeProperty",
        "parameter count",
        "Logical parameters (packed values counted one by one; scales and indices not counted).",
        XSD + "integer",
    ),
    Term(
        "accuracy",
        "DatatypeProperty",
        "accuracy",
        "Top-1 accuracy (fraction) of the variant on its evaluation set.",
        XSD + "double",
    ),
    Term(
        "referenceAccuracy",
        "DatatypeProperty",
        "reference accuracy",
        "Top-1 accuracy of the uncompressed reference on the same evaluation set.",
        XSD + "double",
    ),
    Term(
        "evaluationSet",
        "DatatypeProperty",
        "evaluation set",
        "Name of the evaluation set the accuracies were measured on.",
        XSD + "string",
    ),
    Term(
        "latencyMs",
        "DatatypeProperty",
        "latency (ms)",
        "Median batch-1 latency in milliseconds on the named hardware.",
        XSD + "double",
    ),
    Term(
        "memoryBytes",
        "DatatypeProperty",
        "memory (bytes)",
        "Peak memory while running on the named hardware.",
        XSD + "integer",
    ),
    Term(
        "hardware",
        "DatatypeProperty",
        "hardware",
        "The hardware and runtime the latency and memory were measured on.",
        XSD + "string",
    ),
    Term("sha256", "DatatypeProperty", "SHA-256", "Hex SHA-256 checksum of a file.", XSD + "string"),
    Term("none", "Method", "none", "The uncompressed reference."),
    Term(
        "linear_quantization",
        "Method",
        "linear quantisation",
        "Affine or symmetric integer quantisation with scales (and zero points).",
    ),
    Term(
        "fixed_point", "Method", "fixed point Qm.n", "Quantisation with power-of-two scales, one format for the model."
    ),
    Term("dynamic_fixed_point", "Method", "dynamic fixed point", "Fixed point with a fraction length per layer."),
    Term(
        "kmeans",
        "Method",
        "k-means weight sharing",
        "Weights replaced by indices into a small codebook of shared values.",
    ),
    Term("pruning", "Method", "pruning", "Weights set to zero."),
    Term(
        "low_rank_factorization",
        "Method",
        "low-rank factorisation",
        "Weight matrices replaced by products of thin matrices.",
    ),
    Term(
        "depth_factorization", "Method", "depth factorisation", "Convolutions split into depthwise and pointwise parts."
    ),
    Term("distillation", "Method", "distillation", "A smaller model trained to imitate a teacher."),
)


def vocabulary_triples() -> list[ox.Triple]:
    base = vocab_base()
    onto = ox.NamedNode(base.rstrip("#"))
    out = [
        ox.Triple(onto, ox.NamedNode(RDF + "type"), ox.NamedNode(OWL + "Ontology")),
        ox.Triple(onto, ox.NamedNode(RDFS + "label"), ox.Literal("Model compression vocabulary", language="en")),
    ]
    for term in TERMS:
        node = ox.NamedNode(base + term.name)
        kind = ox.NamedNode(base + "Method") if term.kind == "Method" else ox.NamedNode(OWL + term.kind)
        if term.kind == "Class":
            kind = ox.NamedNode(OWL + "Class")
        out += [
            ox.Triple(node, ox.NamedNode(RDF + "type"), kind),
            ox.Triple(node, ox.NamedNode(RDFS + "label"), ox.Literal(term.label, language="en")),
            ox.Triple(node, ox.NamedNode(RDFS + "comment"), ox.Literal(term.comment, language="en")),
            ox.Triple(node, ox.NamedNode(RDFS + "isDefinedBy"), onto),
        ]
        if term.range:
            rng = term.range if term.range.startswith("http") else base + term.range
            out.append(ox.Triple(node, ox.NamedNode(RDFS + "range"), ox.NamedNode(rng)))
        if term.kind.endswith("Property") and term.name not in ("variantOf", "method"):
            out.append(ox.Triple(node, ox.NamedNode(RDFS + "domain"), ox.NamedNode(base + "Variant")))
    return out


def vocabulary_turtle() -> str:
    return ox.serialize(
        vocabulary_triples(),
        format=ox.RdfFormat.TURTLE,
        prefixes={"cmp": vocab_base(), "rdfs": RDFS, "owl": OWL, "xsd": XSD},
    ).decode()


def model_iri(model) -> str:
    return f"{settings.SITE_URL}{reverse('modelhub:model', args=[model.slug])}#model"


def variant_iri(variant) -> str:
    """The variant's page with a fragment: dereferencing the IRI gives its description."""
    return f"{settings.SITE_URL}{reverse('modelhub:variant', args=[variant.model.slug, variant.pk])}#variant"


def _lit(value, datatype: str) -> ox.Literal:
    if datatype == "boolean":
        return ox.Literal("true" if value else "false", datatype=ox.NamedNode(XSD + "boolean"))
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))


_VARIANT_FIELDS = (
    ("weight_bits", "weightBits", "integer"),
    ("activation_bits", "activationBits", "integer"),
    ("granularity", "granularity", "string"),
    ("symmetric", "symmetric", "boolean"),
    ("calibration_method", "calibrationMethod", "string"),
    ("calibration_samples", "calibrationSamples", "integer"),
    ("codebook_size", "codebookSize", "integer"),
    ("sparsity", "sparsity", "double"),
    ("teacher", "teacher", "string"),
    ("parameter_count", "parameterCount", "integer"),
    ("accuracy", "accuracy", "double"),
    ("reference_accuracy", "referenceAccuracy", "double"),
    ("evaluation_set", "evaluationSet", "string"),
    ("latency_ms", "latencyMs", "double"),
    ("memory_bytes", "memoryBytes", "integer"),
    ("hardware", "hardware", "string"),
)


def catalog_triples() -> list[ox.Triple]:
    """Every published model and variant with its compression metadata and files, for the free catalog graph."""
    from .models import HubModel

    return model_triples(HubModel.objects.all())


def model_turtle(model) -> str:
    """One model's description (its page answers text/turtle with it)."""
    from .models import HubModel

    triples = model_triples(HubModel.objects.filter(pk=model.pk))
    prefixes = {"cmp": vocab_base(), "schema": SCHEMA, "dcat": DCAT, "dct": DCT, "prov": PROV, "xsd": XSD}
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes).decode()


def model_triples(models) -> list[ox.Triple]:
    from .models import Variant

    cmp = vocab_base()
    a = ox.NamedNode(RDF + "type")
    out: list[ox.Triple] = []
    published = Variant.objects.filter(published=True)
    for model in models.filter(variants__in=published).distinct().select_related("publisher"):
        m = ox.NamedNode(model_iri(model))
        page = f"{settings.SITE_URL}{reverse('modelhub:model', args=[model.slug])}"
        out += [
            ox.Triple(m, a, ox.NamedNode(cmp + "Model")),
            ox.Triple(m, a, ox.NamedNode(SCHEMA + "CreativeWork")),
            ox.Triple(m, a, ox.NamedNode(DCAT + "Resource")),
            ox.Triple(m, ox.NamedNode(SCHEMA + "name"), ox.Literal(model.name)),
            ox.Triple(m, ox.NamedNode(DCT + "title"), ox.Literal(model.name)),
            ox.Triple(m, ox.NamedNode(SCHEMA + "keywords"), ox.Literal(model.task)),
            ox.Triple(m, ox.NamedNode(SCHEMA + "license"), ox.Literal(model.licence)),
            ox.Triple(m, ox.NamedNode(SCHEMA + "publisher"), ox.Literal(model.publisher.name)),
            ox.Triple(m, ox.NamedNode(DCAT + "landingPage"), ox.NamedNode(page)),
        ]
        for variant in published.filter(model=model).prefetch_related("artifacts"):
            variant.model = model
            v = ox.NamedNode(variant_iri(variant))
            out += [
                ox.Triple(v, a, ox.NamedNode(cmp + "Variant")),
                ox.Triple(v, a, ox.NamedNode(DCAT + "Dataset")),
                ox.Triple(v, ox.NamedNode(cmp + "variantOf"), m),
                ox.Triple(m, ox.NamedNode(SCHEMA + "hasPart"), v),
                ox.Triple(v, ox.NamedNode(SCHEMA + "name"), ox.Literal(f"{model.name} {variant.name}")),
                ox.Triple(v, ox.NamedNode(cmp + "method"), ox.NamedNode(cmp + variant.method)),
                ox.Triple(v, ox.NamedNode(SCHEMA + "isAccessibleForFree"), _lit(variant.is_free, "boolean")),
            ]
            if not variant.is_free:
                out.append(ox.Triple(v, ox.NamedNode(SCHEMA + "price"), _lit(variant.price, "integer")))
            if variant.derived_from_id:
                parent = Variant(pk=variant.derived_from_id, model=model)
                out.append(ox.Triple(v, ox.NamedNode(PROV + "wasDerivedFrom"), ox.NamedNode(variant_iri(parent))))
            for field, prop, datatype in _VARIANT_FIELDS:
                value = getattr(variant, field)
                if value is not None and value != "":
                    out.append(ox.Triple(v, ox.NamedNode(cmp + prop), _lit(value, datatype)))
            for artifact in variant.artifacts.all():
                d = ox.NamedNode(variant_iri(variant).replace("#variant", f"#file-{artifact.pk}"))
                out += [
                    ox.Triple(v, ox.NamedNode(DCAT + "distribution"), d),
                    ox.Triple(d, a, ox.NamedNode(DCAT + "Distribution")),
                    ox.Triple(d, ox.NamedNode(DCT + "title"), ox.Literal(artifact.filename)),
                    ox.Triple(d, ox.NamedNode(DCAT + "byteSize"), _lit(artifact.size_bytes, "integer")),
                    ox.Triple(d, ox.NamedNode(cmp + "sha256"), ox.Literal(artifact.sha256)),
                ]
                if artifact.format:
                    out.append(ox.Triple(d, ox.NamedNode(DCT + "format"), ox.Literal(artifact.format)))
    return out
