"""Which way top-ups are paid: real Stripe (PaymentIntents + Stripe.js) or the labelled test-payment mode."""

from django.conf import settings


def stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_PUBLISHABLE_KEY)


def test_payments_active() -> bool:
    """Test payments credit at once with no money moved: only when asked for (or no Stripe keys), and
    never when DEBUG is off while Stripe keys are set."""
    if stripe_configured() and not settings.DEBUG:
        return False
    requested = settings.MONEY_TEST_PAYMENTS
    if requested is None:
        return not stripe_configured()
    return bool(requested)


def stripe_js_enabled() -> bool:
    """Load Stripe.js from js.stripe.com only with real (non-local) Stripe keys."""
    return (
        stripe_configured()
        and not test_payments_active()
        and settings.STRIPE_API_BASE.startswith("https://api.stripe.com")
    )
