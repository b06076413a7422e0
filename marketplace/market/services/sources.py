"""Which datasets a buyer's query may use, and the engine's sources and summaries for them."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from marketplace.catalog.models import ClassCount, Dataset, DatasetSummary, PredicateCount
from marketplace.catalog.services.safety import UnsafeInput
from marketplace.catalog.services.sources import engine_source
from marketplace.money.services.fees import fee_percent
from sparql import Source, SourceError

from ..models import CatalogVersion, PriceModel, Subscription


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
    fee_rate: Decimal | None = None


@dataclass(frozen=True)
class _Catalog:
    version: int
    datasets: tuple[Dataset, ...]
    fee_rate: Decimal


_catalog: _Catalog | None = None  # this process's copy; its Dataset objects are shared, never modified


def _version_and_subscriptions(buyer_id) -> tuple[int | None, set[int]]:
    """The catalog version and the datasets the buyer subscribes to now, in one statement. Raw SQL, as the
    ORM takes four times as long as the database to compile the union; the subscription condition is
    `selectors.active_subscriptions`' (tests/market/test_catalog_version.py holds them to the same answer)."""
    qn = connection.ops.quote_name
    subscription = Subscription._meta
    column = {name: qn(subscription.get_field(name).column) for name in ("buyer", "dataset", "starts_at", "ends_at")}
    sql = (
        f"SELECT 0, version FROM {qn(CatalogVersion._meta.db_table)} WHERE id = 1 UNION ALL "
        f"SELECT 1, {column['dataset']} FROM {qn(subscription.db_table)} "
        f"WHERE {column['buyer']} = %s AND {column['starts_at']} <= %s AND {column['ends_at']} > %s"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    current, subscribed = None, set()
    with connection.cursor() as cursor:
        cursor.execute(sql, [buyer_id, now, now])
        for is_subscription, number in cursor.fetchall():
            if is_subscription:
                subscribed.add(number)
            else:
                current = number
    return current, subscribed


def catalog_on_sale(*, buyer_id) -> tuple[tuple[Dataset, ...], Decimal, set[int]]:
    """The datasets on sale (with publisher, price model and summary row, without the engine's summary),
    the platform fee rate and the buyer's subscriptions.

    The first two are read again only when the catalog version has changed (`catalog_version`). The version is
    read before the catalog, so a copy is never older than the version it is kept under."""
    global _catalog
    version, subscribed = _version_and_subscriptions(buyer_id)
    # Inside a transaction the version does not show the transaction's own writes (it changes at commit),
    # and what is read there could still be rolled back: read afresh, keep nothing.
    kept = version is not None and not connection.in_atomic_block
    cached = _catalog
    if kept and cached is not None and cached.version == version:
        return cached.datasets, cached.fee_rate, subscribed
    datasets = tuple(datasets_on_sale().select_related("summary").defer("summary__engine"))
    fee_rate = fee_percent()
    if kept:
        _catalog = _Catalog(version, datasets, fee_rate)
    return datasets, fee_rate, subscribed


def select_datasets(*, buyer_id, include: Sequence[str], exclude: Sequence[str]) -> Selection:
    """The datasets on sale, narrowed by the buyer's include/exclude lists (publisher slugs or dataset ids).

    Subscription-only datasets take part only for their subscribers. The datasets' summary rows come with them
    (for `build_summaries`, which reads the engine's summary, up to a few MB, from its own cache)."""
    chosen, notes = [], []
    on_sale, fee_rate, subscribed = catalog_on_sale(buyer_id=buyer_id)
    for dataset in on_sale:
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
    subscribed &= {d.pk for d in on_sale}
    return Selection(chosen, notes, subscribed, fee_rate)


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
