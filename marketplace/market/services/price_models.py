"""Publishers set their datasets' price models; validated here for the UI and the API alike."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from marketplace.accounts.selectors import can_publish_for
from marketplace.catalog.models import Dataset

from ..errors import InvalidPriceModel, NotAllowed
from ..models import PriceModel

MAX_AMOUNT = 10**12


def _decimal(value) -> Decimal:
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidPriceModel("The rate must be a decimal number of minor units.") from None
    if not rate.is_finite() or rate < 0 or rate >= MAX_AMOUNT:
        raise InvalidPriceModel("The rate must be 0 or more (and finite).")
    if rate != rate.quantize(Decimal("0.0001")):
        raise InvalidPriceModel("The rate has at most 4 decimal places (of a minor unit).")
    return rate


def _amount(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_AMOUNT:
        raise InvalidPriceModel(f"The {name} must be a whole number of minor units, 0 or more.")
    return value


@transaction.atomic
def price_model_set(
    *,
    user,
    dataset: Dataset,
    kind: str,
    rate=0,
    access_fee: int = 0,
    subscription_price: int | None = None,
    subscription_period_days: int = 30,
) -> PriceModel:
    """Create or replace a dataset's price model; only its publisher's members (or staff) may."""
    if not can_publish_for(user=user, organisation=dataset.publisher):
        raise NotAllowed("Only the dataset's publisher sets its prices.")
    if kind not in PriceModel.Kind.values:
        raise InvalidPriceModel(f"The price model must be one of {', '.join(PriceModel.Kind.values)}.")
    rate = _decimal(rate)
    access_fee = _amount(access_fee, "access fee")
    if subscription_price is not None:
        subscription_price = _amount(subscription_price, "subscription price")
    if (
        isinstance(subscription_period_days, bool)
        or not isinstance(subscription_period_days, int)
        or not 1 <= subscription_period_days <= 3660
    ):
        raise InvalidPriceModel("The subscription period is 1 to 3660 days.")
    if kind in (PriceModel.Kind.PER_TRIPLE, PriceModel.Kind.PER_ROW) and rate <= 0:
        raise InvalidPriceModel("A per-triple or per-row price needs a rate above 0 (use “free” for open data).")
    if kind == PriceModel.Kind.ACCESS_FEE and access_fee <= 0:
        raise InvalidPriceModel("An access fee must be above 0.")
    if kind == PriceModel.Kind.SUBSCRIPTION and subscription_price is None:
        raise InvalidPriceModel("A subscription-only dataset needs a subscription price.")
    if kind not in (PriceModel.Kind.PER_TRIPLE, PriceModel.Kind.PER_ROW):
        rate = Decimal("0")
    if kind != PriceModel.Kind.ACCESS_FEE:
        access_fee = 0
    model, _ = PriceModel.objects.update_or_create(
        dataset=dataset,
        defaults={
            "kind": kind,
            "rate": rate,
            "access_fee": access_fee,
            "subscription_price": subscription_price,
            "subscription_period_days": subscription_period_days,
        },
    )
    return model
