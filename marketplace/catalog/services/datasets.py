"""Registering and editing datasets, approving them, and checking remote endpoints."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketplace.accounts.models import Organisation

from ..models import Dataset, Tag
from .safety import check_public_url
from .sources import remote_health


def _set_tags(dataset: Dataset, tags: list[str]) -> None:
    names = sorted({t.strip().lower()[:64] for t in tags if t.strip()})
    dataset.tags.set([Tag.objects.get_or_create(name=name)[0] for name in names])


@transaction.atomic
def dataset_create(
    *,
    publisher: Organisation,
    title: str,
    kind: str,
    description: str = "",
    licence: str = "proprietary",
    tags: list[str] | None = None,
    endpoint_url: str = "",
    endpoint_username: str = "",
    endpoint_password: str = "",
) -> Dataset:
    if kind == Dataset.Kind.REMOTE:
        check_public_url(endpoint_url, allow_private=settings.ALLOW_PRIVATE_ENDPOINTS)
    dataset = Dataset(
        publisher=publisher,
        title=title,
        kind=kind,
        description=description,
        licence=licence,
        endpoint_url=endpoint_url if kind == Dataset.Kind.REMOTE else "",
        endpoint_username=endpoint_username,
        endpoint_password=endpoint_password,
    )
    dataset.slug = _unique_slug(publisher, title)
    dataset.save()
    _set_tags(dataset, tags or [])
    if kind == Dataset.Kind.REMOTE:
        from ..tasks import check_endpoint

        transaction.on_commit(lambda: check_endpoint.delay(dataset.pk))
    return dataset


def _unique_slug(publisher: Organisation, title: str) -> str:
    from django.utils.text import slugify

    base = slugify(title)[:180] or "dataset"
    slug, n = base, 2
    while Dataset.objects.filter(publisher=publisher, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def dataset_update(*, dataset: Dataset, tags: list[str] | None = None, **fields) -> Dataset:
    if dataset.kind == Dataset.Kind.REMOTE and fields.get("endpoint_url"):
        check_public_url(fields["endpoint_url"], allow_private=settings.ALLOW_PRIVATE_ENDPOINTS)
    for name, value in fields.items():
        setattr(dataset, name, value)
    dataset.save()
    if tags is not None:
        _set_tags(dataset, tags)
    return dataset


def dataset_set_status(*, dataset: Dataset, status: str) -> Dataset:
    dataset.status = status
    dataset.save(update_fields=["status", "updated_at"])
    return dataset


def endpoint_check(*, dataset: Dataset) -> Dataset:
    health = remote_health(dataset)
    dataset.healthy = health.healthy
    dataset.health_message = health.message
    dataset.health_latency_ms = health.latency_ms
    dataset.health_checked_at = timezone.now()
    dataset.save(update_fields=["healthy", "health_message", "health_latency_ms", "health_checked_at"])
    return dataset
