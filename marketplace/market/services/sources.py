"""Which datasets a buyer's query may use, and the engine's sources and summaries for them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet

from marketplace.catalog.models import ClassCount, Dataset, DatasetSummary, PredicateCount
from marketplace.catalog.services.safety import UnsafeInput, check_public_url
from sparql import HostedStore, RemoteEndpoint, Source, SourceError

from ..models import PriceModel
from ..selectors import active_subscription_dataset_ids


def source_name(dataset_id: int) -> str:
    return str(dataset_id)


def datasets_on_sale() -> QuerySet[Dataset]:
    """Approved datasets of approved publishers that have a price model."""
    return (
        Dataset.objects.filter(
            status=Dataset.Status.APPROVED, publisher__status="approved", price_model__isnull=False
        )
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


def select_datasets(*, buyer, include: Sequence[str], exclude: Sequence[str]) -> Selection:
    """The datasets on sale, narrowed by the buyer's include/exclude lists (publisher slugs or dataset ids).

    Subscription-only datasets take part only for their subscribers."""
    subscribed = active_subscription_dataset_ids(buyer=buyer)
    chosen, notes = [], []
    for dataset in datasets_on_sale():
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
        name = source_name(dataset.pk)
        if dataset.kind == Dataset.Kind.HOSTED:
            try:
                sources.append(HostedStore(dataset.store_path, name=name))
            except SourceError:
                notes.append(f"“{dataset.title}” is not available right now.")
            continue
        try:
            check_public_url(dataset.endpoint_url, allow_private=settings.ALLOW_PRIVATE_ENDPOINTS)
        except UnsafeInput:
            notes.append(f"“{dataset.title}” was skipped: its endpoint address is not allowed.")
            continue
        auth = (dataset.endpoint_username, dataset.endpoint_password) if dataset.endpoint_username else None
        sources.append(
            RemoteEndpoint(
                dataset.endpoint_url, name=name, auth=auth, timeout=settings.REMOTE_ENDPOINT_TIMEOUT
            )
        )
    return sources, notes


def build_summaries(datasets: Sequence[Dataset]) -> dict[str, dict]:
    """Predicates and classes per dataset, for source selection; datasets without a summary get probed.

    Three queries whatever the number of datasets: this runs on every ask."""
    ids = [d.pk for d in datasets]
    summarised = set(DatasetSummary.objects.filter(dataset_id__in=ids).values_list("dataset_id", flat=True))
    out: dict[str, dict] = {source_name(pk): {"predicates": {}, "classes": {}} for pk in summarised}
    for pk, iri, n in PredicateCount.objects.filter(dataset_id__in=summarised).values_list(
        "dataset_id", "iri", "triples"
    ):
        out[source_name(pk)]["predicates"][iri] = n
    for pk, iri, n in ClassCount.objects.filter(dataset_id__in=summarised).values_list(
        "dataset_id", "iri", "instances"
    ):
        out[source_name(pk)]["classes"][iri] = n
    return out
