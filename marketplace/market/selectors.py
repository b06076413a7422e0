"""Read paths of the query market."""

from django.db.models import QuerySet
from django.utils import timezone

from .models import PriceModel, QueryJob, Quote, Subscription


def active_subscriptions(*, buyer_id) -> QuerySet[Subscription]:
    now = timezone.now()
    return Subscription.objects.filter(buyer_id=buyer_id, starts_at__lte=now, ends_at__gt=now)


def active_subscription_dataset_ids(*, buyer) -> set[int]:
    if buyer is None or not buyer.is_authenticated:
        return set()
    return set(active_subscriptions(buyer_id=buyer.pk).values_list("dataset_id", flat=True))


def subscriptions_of(*, buyer) -> QuerySet[Subscription]:
    return Subscription.objects.filter(buyer=buyer).select_related("dataset", "dataset__publisher")


def jobs_of(*, buyer) -> QuerySet[QueryJob]:
    return QueryJob.objects.filter(buyer=buyer).order_by("-created_at")


def latest_quote(*, job: QueryJob) -> Quote | None:
    return job.quotes.exclude(status=Quote.Status.SUPERSEDED).order_by("-created_at").first()


def purchased_quote(*, job: QueryJob) -> Quote | None:
    return job.quotes.filter(status=Quote.Status.PURCHASED).order_by("-purchased_at").first()


def price_model_of(dataset) -> PriceModel | None:
    return PriceModel.objects.filter(dataset=dataset).first()
