"""Which datasets a buyer's query may use, and the engine's sources and summaries for them."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet

from marketplace.catalog.models import ClassCount, Dataset, DatasetSummary, PredicateCount
from marketplace.catalog.services.safety import UnsafeInput
from marketplace.catalog.services.sources import engine_source
from sparql import Source, SourceError

from ..models import PriceModel
from ..selectors import active_subscriptions


def source_name(dataset_id: int) -> str:
    return str(dataset_id)


def datasets_on_sale() -> QuerySet[Dataset]:
    """Approved datasets of approved publishers that have a price model."""
    return (
        Dataset.objects.filter(status=Dataset.Status.APPROVED, publisher__status="approved", price_model__isnull=False)
        .select_related("publisher", "price_model")
        .order_by("pk")
    )


def _matches(dataset: Dataset, entries: Sequence[str]) -> bool:
    for entry in entries:
        entry = str(entry).strip()
        if entry.isdigit() and int(entry) == dataset.pk:
            return True
        if entry == dataset.publisher.slug:
            return True
    return False


@dataclass
class Selection:
    datasets: list[Dataset]
    notes: list[str] = field(default_factory=list)
    subscribed: set[int] = field(default_factory=set)


def select_datasets(*, buyer_id, include: Sequence[str], exclude: Sequence[str]) -> Selection:
    """The datasets on sale, narrowed by the buyer's include/exclude lists (publisher slugs or dataset ids).

    Subscription-only datasets take part only for their subscribers. The datasets' summary rows come with them
    (for `build_summaries`), without the engine's summary itself."""
    chosen, notes, subscribed = [], [], set()
    # The buyer's subscriptions come in the same statement. The engine's summary (up to a few MB with its
    # membership filter) is read by build_summaries, from its cache.
    subscriptions = active_subscriptions(buyer_id=buyer_id).filter(dataset_id=OuterRef("pk"))
    on_sale = datasets_on_sale().select_related("summary").defer("summary__engine")
    for dataset in on_sale.annotate(buyer_subscribes=Exists(subscriptions)):
        if dataset.buyer_subscribes:
            subscribed.add(dataset.pk)
        if not dataset.is_queryable:
            continue
        if include and not _matches(dataset, include):
            continue
        if exclude and _matches(dataset, exclude):
            continue
        if dataset.price_model.kind == PriceModel.Kind.SUBSCRIPTION and dataset.pk not in subscribed:
            notes.append(f"“{dataset.title}” is sold by subscription only; subscribe to include it.")
            continue
        chosen.append(dataset)
    return Selection(chosen, notes, subscribed)


def build_sources(datasets: Sequence[Dataset]) -> tuple[list[Source], list[str]]:
    """Engine sources; remote URLs are re-checked now, as DNS may have changed since registration."""
    sources: list[Source] = []
    notes: list[str] = []
    for dataset in datasets:
        try:
            sources.append(engine_source(dataset, name=source_name(dataset.pk)))
        except SourceError:
            notes.append(f"“{dataset.title}” is not available right now.")
        except UnsafeInput:
            notes.append(f"“{dataset.title}” was skipped: its endpoint address is not allowed.")
    return sources, notes


_ENGINE_CACHE: OrderedDict[tuple, dict] = OrderedDict()
ENGINE_CACHE_SIZE = 64  # summaries kept per process (a refreshed summary has a new version, so a new key)


def _engine_summaries(versions: dict[int, tuple]) -> dict[int, dict]:
    """dataset pk -> its engine summary, for {dataset pk: (summary pk, computed_at)}; one query for those not
    in this process's cache."""
    found: dict[int, dict] = {}
    missing = {}
    for dataset_pk, version in versions.items():
        if version in _ENGINE_CACHE:
            _ENGINE_CACHE.move_to_end(version)
            found[dataset_pk] = _ENGINE_CACHE[version]
        else:
            missing[version[0]] = dataset_pk
    if missing:
        rows = DatasetSummary.objects.filter(pk__in=missing).values_list("pk", "computed_at", "engine")
        for summary_pk, computed_at, engine in rows:
            found[missing[summary_pk]] = engine = engine or {}
            _ENGINE_CACHE[(summary_pk, computed_at)] = engine
            while len(_ENGINE_CACHE) > ENGINE_CACHE_SIZE:
                _ENGINE_CACHE.popitem(last=False)
    return found


def build_summaries(datasets: Sequence[Dataset]) -> dict[str, dict]:
    """The engine's summaries per dataset (predicates, classes, distinct counts, IRI namespaces and membership
    filters for pruning); datasets summarised before the engine's summaries existed fall back to predicate and
    class counts, and datasets without any summary get probed. This runs on every ask: engine summaries are
    kept in the process per summary version (they weigh up to a few MB each), the counts are read only for
    datasets that need them."""
    out: dict[str, dict] = {}
    counts_only = []
    versions = {}
    for dataset in datasets:
        summary = getattr(dataset, "summary", None)  # the reverse one-to-one raises an AttributeError if absent
        if summary is not None:
            versions[dataset.pk] = (summary.pk, summary.computed_at)
    engines = _engine_summaries(versions)
    for dataset_pk, engine in engines.items():
        if engine:
            out[source_name(dataset_pk)] = engine
        else:
            out[source_name(dataset_pk)] = {"predicates": {}, "classes": {}}
            counts_only.append(dataset_pk)
    if not counts_only:
        return out
    for pk, iri, n in PredicateCount.objects.filter(dataset_id__in=counts_only).values_list(
        "dataset_id", "iri", "triples"
    ):
        out[source_name(pk)]["predicates"][iri] = n
    for pk, iri, n in ClassCount.objects.filter(dataset_id__in=counts_only).values_list(
        "dataset_id", "iri", "instances"
    ):
        out[source_name(pk)]["classes"][iri] = n
    return out
