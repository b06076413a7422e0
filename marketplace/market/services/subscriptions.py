"""Subscriptions to a dataset, bought through the wallet for a period."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from marketplace.money.services import ChargeLine, charge

from ..errors import MarketError, NotAllowed
from ..models import Subscription
from ..selectors import active_subscription_dataset_ids
from .sources import datasets_on_sale


@transaction.atomic
def subscription_buy(*, buyer, dataset, idempotency_key: str = "") -> Subscription:
    """Charge the subscription price to the buyer's wallet and grant access for the offer's period."""
    if not buyer.is_authenticated:
        raise NotAllowed("Sign in to subscribe.")
    dataset = datasets_on_sale().filter(pk=dataset.pk).first()
    if dataset is None or not dataset.price_model.offers_subscription:
        raise MarketError("This dataset offers no subscription.")
    model = dataset.price_model
    key = idempotency_key or f"subscription-{buyer.pk}-{dataset.pk}-{timezone.now():%Y%m%d}"
    existing = Subscription.objects.filter(idempotency_key=f"{buyer.pk}:{key}").first()
    if existing is not None:
        return existing
    if dataset.pk in active_subscription_dataset_ids(buyer=buyer):
        raise MarketError("You already have an active subscription to this dataset.")
    purchase = charge(
        buyer=buyer,
        lines=[
            ChargeLine(
                publisher=dataset.publisher,
                amount=int(model.subscription_price),
                description=f"Subscription: {dataset.title}",
            )
        ],
        fee=0,
        idempotency_key=f"market-{key}",
        description=f"Subscription to {dataset.title} for {model.subscription_period_days} days",
    )
    now = timezone.now()
    return Subscription.objects.create(
        buyer=buyer,
        dataset=dataset,
        starts_at=now,
        ends_at=now + timedelta(days=model.subscription_period_days),
        amount=int(model.subscription_price),
        purchase_id=purchase.pk,
        idempotency_key=f"{buyer.pk}:{key}",
    )
