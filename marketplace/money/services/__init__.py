"""Write paths of the money app (the public contract other apps call)."""

from ..errors import IdempotencyConflict, InsufficientEarnings, InsufficientFunds, MoneyError, RefundTooLarge
from ..models import Purchase
from .fees import fee_percent, platform_fee_for
from .payouts import Earnings, earnings_for, payout_fail, payout_request, payout_settle
from .purchases import ChargeLine, charge
from .refunds import purchase_refund, topup_refund
from .topups import demo_credit, test_topup, topup_start, topups_reconcile, webhook_event_handle


def wallet_balance(*, user) -> int:
    """The user's spendable balance in minor units (0 without a wallet)."""
    from ..models import Account

    return (
        Account.objects.filter(kind=Account.Kind.WALLET, user=user).values_list("cached_balance", flat=True).first()
        or 0
    )


__all__ = [
    "ChargeLine",
    "Earnings",
    "IdempotencyConflict",
    "InsufficientEarnings",
    "InsufficientFunds",
    "MoneyError",
    "Purchase",
    "RefundTooLarge",
    "charge",
    "demo_credit",
    "earnings_for",
    "fee_percent",
    "payout_fail",
    "payout_request",
    "payout_settle",
    "platform_fee_for",
    "purchase_refund",
    "test_topup",
    "topup_refund",
    "topup_start",
    "topups_reconcile",
    "wallet_balance",
    "webhook_event_handle",
]
