"""The platform fee: a Decimal percentage set by operators in the admin (latest row wins)."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from ..models import FeeRate


def fee_percent() -> Decimal:
    latest = FeeRate.objects.order_by("-set_at", "-pk").values_list("percent", flat=True).first()
    if latest is None:
        return Decimal(str(getattr(settings, "MARKETPLACE_FEE_PERCENT", "10")))
    return latest


def platform_fee_for(amount: int) -> int:
    """The fee on a price of `amount` minor units, rounded half up to a whole minor unit."""
    if amount < 0:
        raise ValueError("amount must be >= 0")
    return int((Decimal(amount) * fee_percent() / Decimal(100)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
