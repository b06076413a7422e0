"""System check: refuse a deployment where test payments could be on with real Stripe keys."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def money_test_payments_check(app_configs, **kwargs):
    if settings.MONEY_TEST_PAYMENTS and settings.STRIPE_SECRET_KEY and not settings.DEBUG:
        return [
            Error(
                "MONEY_TEST_PAYMENTS is on while Stripe keys are set and DEBUG is off; test payments stay disabled.",
                id="money.E001",
            )
        ]
    return []
