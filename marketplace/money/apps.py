from django.apps import AppConfig


class MoneyConfig(AppConfig):
    name = "marketplace.money"
    label = "money"
    verbose_name = "Money: wallets, ledger, payments and payouts"

    def ready(self) -> None:
        from marketplace import api_errors

        from . import checks  # noqa: F401  (registers the system check)
        from .errors import (
            IdempotencyConflict,
            InsufficientEarnings,
            InsufficientFunds,
            MoneyError,
            PaymentProviderError,
        )

        api_errors.register(InsufficientFunds, 402)
        api_errors.register(InsufficientEarnings, 409)
        api_errors.register(IdempotencyConflict, 409)
        api_errors.register(PaymentProviderError, 502)
        api_errors.register(MoneyError, 400)
