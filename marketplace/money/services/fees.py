"""The platform fee: a Decimal percentage set by operators in the admin (latest row wins)."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from ..models import FeeRate


def fee_percent() -> Decimal:
    latest = FeeRate.objects.order_by("-set_at", "-pk").values_list("percent", flat=True).first()
    if latest is None:
        return Decimal(str(getattr(settings, "MARKETPLACE_FEE_PERCENT", "10")))
    return latest


def platform_fee_for(amount: int, percent: Decimal | None = None) -> int:
    """The fee on a price of `amount` minor units, rounded half up to a whole minor unit; `percent` is a rate
    the caller read once with `fee_percent` for several amounts (by default the current rate is read now)."""
    if amount < 0:
        raise ValueError("amount must be >= 0")
    if percent is None:
        percent = fee_percent()
    return int((Decimal(amount) * percent / Decimal(100)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
