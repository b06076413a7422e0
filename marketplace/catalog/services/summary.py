"""Dataset summaries: sizes, predicates and classes with counts, computed by SPARQL over the dataset itself."""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from sparql import SourceError, summarize

from ..models import ClassCount, Dataset, DatasetSummary, PredicateCount
from .safety import UnsafeInput
from .sources import dataset_select, engine_source

logger = logging.getLogger(__name__)

MAX_LISTED = 5000  # predicates or classes kept per dataset; beyond that the summary says "at least"

COUNTS = "SELECT (COUNT(*) AS ?t) (COUNT(DISTINCT ?s) AS ?s_) (COUNT(DISTINCT ?o) AS ?o_) WHERE { ?s ?p ?o }"
PREDICATES = f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }} GROUP BY ?p ORDER BY DESC(?n) LIMIT {MAX_LISTED}"
CLASSES = f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a ?c }} GROUP BY ?c ORDER BY DESC(?n) LIMIT {MAX_LISTED}"


@dataclass
class SummaryData:
    triples: int = 0
    distinct_subjects: int = 0
    distinct_objects: int = 0
    predicates: list[tuple[str, int]] = field(default_factory=list)
    classes: list[tuple[str, int]] = field(default_factory=list)
    engine: dict = field(default_factory=dict)


def summary_compute(*, dataset: Dataset) -> SummaryData:
    counts = dataset_select(dataset, COUNTS)
    row = counts[0] if counts else {}
    engine = _engine_summary(dataset)
    return SummaryData(
        triples=int(row.get("t", 0) or 0),
        distinct_subjects=int(row.get("s_", 0) or 0),
        distinct_objects=int(row.get("o_", 0) or 0),
        predicates=_predicate_counts(dataset, engine),
        classes=[(r["c"], int(r["n"])) for r in dataset_select(dataset, CLASSES) if "c" in r],
        engine=engine,
    )


def _predicate_counts(dataset: Dataset, engine: dict) -> list[tuple[str, int]]:
    """The engine's summary counted the predicates already; ask the dataset only when it has none."""
    if engine.get("predicates") is not None:
        ranked = sorted(engine["predicates"].items(), key=lambda item: (-item[1], item[0]))
        return ranked[:MAX_LISTED]
    return [(r["p"], int(r["n"])) for r in dataset_select(dataset, PREDICATES) if "p" in r]


def _engine_summary(dataset: Dataset) -> dict:
    """The engine's summary, or {} (the engine then falls back to predicate and class counts and probes)."""
    if dataset.kind == Dataset.Kind.HOSTED and dataset.store_path is None:
        return {}
    try:
        return summarize(engine_source(dataset, name=str(dataset.pk)))
    except (SourceError, UnsafeInput) as exc:
        logger.warning("No engine summary for dataset %s: %s", dataset.pk, exc)
        return {}


@transaction.atomic
def summary_store(*, dataset: Dataset, data: SummaryData) -> DatasetSummary:
    summary, _ = DatasetSummary.objects.update_or_create(
        dataset=dataset,
        defaults={
            "triples": data.triples,
            "distinct_subjects": data.distinct_subjects,
            "distinct_objects": data.distinct_objects,
            "engine": data.engine,
            "computed_at": timezone.now(),
        },
    )
    PredicateCount.objects.filter(dataset=dataset).delete()
    ClassCount.objects.filter(dataset=dataset).delete()
    PredicateCount.objects.bulk_create(PredicateCount(dataset=dataset, iri=i, triples=n) for i, n in data.predicates)
    ClassCount.objects.bulk_create(ClassCount(dataset=dataset, iri=i, instances=n) for i, n in data.classes)
    return summary


def summary_refresh(*, dataset: Dataset) -> DatasetSummary:
    return summary_store(dataset=dataset, data=summary_compute(dataset=dataset))
