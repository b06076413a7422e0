"""Top-ups: a Stripe PaymentIntent credited only once the payment succeeded (webhook or reconciliation),
or the labelled test-payment mode that credits at once."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.accounts.models import User

from .. import gateway
from ..currency import currency_code, format_amount
from ..errors import MoneyError, PaymentProviderError, TestPaymentsDisabled
from ..models import Account, JournalEntry, ProviderEvent, TopUp
from ..modes import test_payments_active
from .ledger import Posting, lock_wallet, post_entry, system_account

log = logging.getLogger(__name__)


def _check_amount(amount: int) -> None:
    if not isinstance(amount, int) or amount < settings.MONEY_TOPUP_MIN or amount > settings.MONEY_TOPUP_MAX:
        raise MoneyError(
            f"A top-up must be between {format_amount(settings.MONEY_TOPUP_MIN)} and {format_amount(settings.MONEY_TOPUP_MAX)}."
        )


def _credit(topup: TopUp, description: str) -> None:
    """Inside a transaction that holds the top-up's row lock: book clearing -> wallet, mark succeeded."""
    lock_wallet(topup.user)
    wallet = Account.objects.get(kind=Account.Kind.WALLET, user=topup.user)
    clearing = system_account(Account.Kind.CLEARING)
    topup.entry = post_entry(
        kind=JournalEntry.Kind.TOPUP,
        postings=[Posting(clearing, -topup.amount, description), Posting(wallet, topup.amount, description)],
        description=description,
        created_by=topup.user,
    )
    topup.status = TopUp.Status.SUCCEEDED
    topup.completed_at = timezone.now()
    topup.save(update_fields=["entry", "status", "completed_at"])


def test_topup(*, user: User, amount: int) -> TopUp:
    """Test-payment mode only: a top-up that succeeds at once, no money moved (clearly labelled)."""
    if not test_payments_active():
        raise TestPaymentsDisabled("Test payments are disabled on this marketplace.")
    _check_amount(amount)
    with transaction.atomic():
        topup = TopUp.objects.create(user=user, amount=amount, currency=currency_code(), provider=TopUp.Provider.TEST)
        _credit(topup, "Test top-up (test-payment mode, no money moved)")
    return topup


def demo_credit(*, user: User, amount: int) -> TopUp:
    """Give a demo buyer a starting balance through the test-payment path (demo loader)."""
    return test_topup(user=user, amount=amount)


def stripe_topup_start(*, user: User, amount: int) -> TopUp:
    """Create the PaymentIntent; the page confirms it with Stripe.js, the webhook credits the wallet."""
    _check_amount(amount)
    topup = TopUp.objects.create(user=user, amount=amount, currency=currency_code(), provider=TopUp.Provider.STRIPE)
    try:
        intent = gateway.intent_create(
            amount=amount,
            currency=topup.currency,
            idempotency_key=f"topup-{topup.pk}",
            metadata={"topup_id": str(topup.pk), "user_id": str(user.pk)},
        )
    except PaymentProviderError as exc:
        TopUp.objects.filter(pk=topup.pk).update(status=TopUp.Status.FAILED, failure_message=str(exc)[:300])
        raise
    topup.payment_intent_id = intent.id
    topup.client_secret = intent.client_secret
    topup.save(update_fields=["payment_intent_id", "client_secret"])
    return topup


def topup_start(*, user: User, amount: int) -> TopUp:
    if test_payments_active():
        return test_topup(user=user, amount=amount)
    return stripe_topup_start(user=user, amount=amount)


def topup_payment_succeeded(*, payment_intent_id: str, amount: int, currency: str) -> TopUp | None:
    """Credit the wallet once for a succeeded PaymentIntent (idempotent: the top-up's status is the guard)."""
    with transaction.atomic():
        topup = TopUp.objects.select_for_update().filter(payment_intent_id=payment_intent_id).first()
        if topup is None:
            log.warning("payment_intent.succeeded for unknown intent %s", payment_intent_id)
            return None
        if topup.status == TopUp.Status.SUCCEEDED:
            return topup
        if amount != topup.amount or currency.upper() != topup.currency:
            # Never credit what was not asked for; an operator looks at it.
            log.error(
                "Intent %s paid %s %s, top-up #%s expects %s",
                payment_intent_id,
                amount,
                currency,
                topup.pk,
                topup.amount,
            )
            return topup
        _credit(topup, f"Card top-up ({payment_intent_id})")
        return topup


def topup_payment_failed(*, payment_intent_id: str, message: str, status: str = TopUp.Status.FAILED) -> None:
    TopUp.objects.filter(payment_intent_id=payment_intent_id, status=TopUp.Status.PENDING).update(
        status=status, failure_message=message[:300], completed_at=timezone.now()
    )


def webhook_event_handle(*, event: dict) -> bool:
    """Process one verified Stripe event once; False when the event id was seen before (a replay)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                ProviderEvent.objects.create(event_id=event["id"], type=event["type"])
        except IntegrityError:
            return False
        obj = event["data"]["object"]
        if event["type"] == "payment_intent.succeeded":
            topup_payment_succeeded(payment_intent_id=obj["id"], amount=int(obj["amount"]), currency=obj["currency"])
        elif event["type"] == "payment_intent.payment_failed":
            error = obj.get("last_payment_error") or {}
            topup_payment_failed(payment_intent_id=obj["id"], message=error.get("message") or "Payment failed")
        elif event["type"] == "payment_intent.canceled":
            topup_payment_failed(payment_intent_id=obj["id"], message="Canceled", status=TopUp.Status.ABANDONED)
    return True


def topups_reconcile(*, older_than: timedelta = timedelta(minutes=5)) -> dict[str, int]:
    """Ask Stripe about pending top-ups whose webhook never came; credit the paid ones, close the abandoned."""
    counts = {"credited": 0, "failed": 0, "abandoned": 0, "pending": 0}
    now = timezone.now()
    abandon_before = now - timedelta(hours=settings.MONEY_TOPUP_ABANDON_AFTER_HOURS)
    pending = TopUp.objects.filter(
        provider=TopUp.Provider.STRIPE,
        status=TopUp.Status.PENDING,
        created_at__lte=now - older_than,
        payment_intent_id__isnull=False,
    )
    for topup in pending:
        try:
            intent = gateway.intent_retrieve(topup.payment_intent_id)
        except PaymentProviderError:
            log.exception("Could not reconcile top-up #%s", topup.pk)
            counts["pending"] += 1
            continue
        if intent.status == "succeeded":
            topup_payment_succeeded(payment_intent_id=intent.id, amount=intent.amount, currency=intent.currency)
            counts["credited"] += 1
        elif intent.status == "canceled":
            topup_payment_failed(payment_intent_id=intent.id, message="Canceled", status=TopUp.Status.ABANDONED)
            counts["abandoned"] += 1
        elif topup.created_at <= abandon_before and intent.status in (
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
        ):
            try:
                gateway.intent_cancel(intent.id)
            except PaymentProviderError:
                log.exception("Could not cancel intent %s", intent.id)
                counts["pending"] += 1
                continue
            topup_payment_failed(payment_intent_id=intent.id, message="Abandoned", status=TopUp.Status.ABANDONED)
            counts["abandoned"] += 1
        else:
            counts["pending"] += 1
    return counts
