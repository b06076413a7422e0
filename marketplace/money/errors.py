"""Typed errors of the money services; the API turns them into 4xx (registered in apps.py)."""

from .currency import format_amount


class MoneyError(Exception):
    """Base class: the request was refused and nothing was booked."""


class InsufficientFunds(MoneyError):
    def __init__(self, *, needed: int, available: int):
        self.needed = needed
        self.available = available
        super().__init__(f"Insufficient funds: {format_amount(needed)} needed, {format_amount(available)} available.")


class InsufficientEarnings(MoneyError):
    def __init__(self, *, needed: int, available: int):
        self.needed = needed
        self.available = available
        super().__init__(
            f"Only {format_amount(available)} of earnings are available for payout, {format_amount(needed)} requested."
        )


class IdempotencyConflict(MoneyError):
    """The idempotency key was already used for a different charge."""


class RefundTooLarge(MoneyError):
    """A refund would return more than was paid."""


class TestPaymentsDisabled(MoneyError):
    """Test-payment mode is off (real Stripe keys, or DEBUG off with keys)."""


class PaymentProviderError(MoneyError):
    """Stripe (or the payout transfer) refused or failed; nothing was booked, or the booking was reversed."""
