"""The calls the marketplace makes to Stripe (or localstripe), in one place, configured from settings."""

from dataclasses import dataclass
from typing import Protocol

import stripe
from django.conf import settings
from django.utils.module_loading import import_string

from .errors import PaymentProviderError


def _options() -> dict:
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentProviderError("Stripe is not configured (STRIPE_SECRET_KEY is empty).")
    stripe.api_base = settings.STRIPE_API_BASE
    stripe.max_network_retries = 1
    return {"api_key": settings.STRIPE_SECRET_KEY}


@dataclass(frozen=True)
class IntentState:
    id: str
    status: str  # Stripe's PaymentIntent status: succeeded, processing, requires_payment_method, canceled, ...
    amount: int
    currency: str
    client_secret: str


def _state(intent) -> IntentState:
    return IntentState(
        intent.id, intent.status, int(intent.amount), str(intent.currency).upper(), intent.client_secret or ""
    )


def intent_create(*, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str) -> IntentState:
    try:
        intent = stripe.PaymentIntent.create(
            amount=amount,
            currency=currency.lower(),
            payment_method_types=["card"],
            metadata=metadata,
            idempotency_key=idempotency_key,
            **_options(),
        )
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"Stripe refused the payment: {exc.user_message or exc}") from exc
    return _state(intent)


def intent_retrieve(payment_intent_id: str) -> IntentState:
    try:
        return _state(stripe.PaymentIntent.retrieve(payment_intent_id, **_options()))
    except stripe.StripeError as exc:
        raise PaymentProviderError(str(exc)) from exc


def intent_cancel(payment_intent_id: str) -> None:
    try:
        stripe.PaymentIntent.cancel(payment_intent_id, **_options())
    except stripe.StripeError as exc:
        raise PaymentProviderError(str(exc)) from exc


def refund_create(*, payment_intent_id: str, amount: int, idempotency_key: str) -> str:
    try:
        refund = stripe.Refund.create(
            payment_intent=payment_intent_id, amount=amount, idempotency_key=idempotency_key, **_options()
        )
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"Stripe refused the refund: {exc.user_message or exc}") from exc
    if refund.status not in ("succeeded", "pending"):
        raise PaymentProviderError(f"Stripe refund {refund.id} is {refund.status}.")
    return refund.id


def event_verify(*, payload: bytes, signature: str):
    """The verified event, or stripe.SignatureVerificationError / ValueError."""
    return stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)


class PayoutTransfers(Protocol):
    """Moves money to a publisher's connected account; returns the transfer id or raises PaymentProviderError."""

    def transfer(self, *, destination: str, amount: int, currency: str, idempotency_key: str) -> str: ...


class StripeConnectTransfers:
    """Production payouts: a Stripe Connect transfer (localstripe has no Connect; tests use a fake)."""

    def transfer(self, *, destination: str, amount: int, currency: str, idempotency_key: str) -> str:
        try:
            transfer = stripe.Transfer.create(
                amount=amount,
                currency=currency.lower(),
                destination=destination,
                idempotency_key=idempotency_key,
                **_options(),
            )
        except stripe.StripeError as exc:
            raise PaymentProviderError(f"Stripe refused the transfer: {exc.user_message or exc}") from exc
        return transfer.id


def payout_transfers() -> PayoutTransfers:
    return import_string(settings.MONEY_PAYOUT_TRANSFERS)()
