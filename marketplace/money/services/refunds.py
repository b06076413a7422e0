"""Refunds by an operator: a purchase back to the wallet, or a top-up back to the card (Stripe refund).
Both are reversing entries and never return more than was paid."""

from fractions import Fraction

from django.db import transaction
from django.db.models import Sum

from marketplace.accounts.models import User

from .. import gateway
from ..errors import InsufficientFunds, MoneyError, PaymentProviderError, RefundTooLarge
from ..models import Account, JournalEntry, JournalLine, Purchase, Refund, TopUp
from .ledger import Posting, lock_accounts, lock_wallet, post_entry, system_account


def purchase_refundable(*, purchase: Purchase) -> dict[int, int]:
    """What is left to reverse on each credit line of the purchase (line id -> minor units)."""
    lines = JournalLine.objects.filter(entry_id=purchase.entry_id, amount__gt=0)
    reversed_ = dict(
        JournalLine.objects.filter(reverses__in=lines)
        .values_list("reverses_id")
        .annotate(s=Sum("amount"))
        .values_list("reverses_id", "s")
    )
    return {line.pk: line.amount + (reversed_.get(line.pk) or 0) for line in lines}


def _allocate(amount: int, remaining: dict[int, int]) -> dict[int, int]:
    """Split `amount` over lines in proportion to what each has left, never above it (largest remainders)."""
    total = sum(remaining.values())
    exact = {k: Fraction(amount * v, total) for k, v in remaining.items()}
    shares = {k: int(x) for k, x in exact.items()}
    leftover = amount - sum(shares.values())
    for k in sorted(exact, key=lambda k: (exact[k] - shares[k], -k), reverse=True)[:leftover]:
        shares[k] += 1
    return shares


def purchase_refund(*, purchase: Purchase, amount: int | None = None, by: User | None, reason: str = "") -> Refund:
    """Credit the buyer's wallet, reversing the publishers' and the platform's shares in proportion."""
    with transaction.atomic():
        purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
        remaining = purchase_refundable(purchase=purchase)
        left = sum(remaining.values())
        amount = left if amount is None else amount
        if not isinstance(amount, int) or amount <= 0:
            raise MoneyError("A refund must be a positive amount." if left else "This purchase was fully refunded.")
        if amount > left:
            raise RefundTooLarge(f"At most {left} minor units of this purchase can still be refunded.")
        lines = {line.pk: line for line in JournalLine.objects.filter(pk__in=remaining).select_related("account")}
        wallet = lock_wallet(purchase.buyer)
        lock_accounts([line.account_id for line in lines.values()])
        shares = _allocate(amount, remaining)
        description = f"Refund of purchase #{purchase.pk}" + (f": {reason}" if reason else "")
        postings = [Posting(wallet, amount, description)]
        postings += [
            Posting(lines[k].account, -share, description, reverses_id=k) for k, share in shares.items() if share
        ]
        entry = post_entry(
            kind=JournalEntry.Kind.PURCHASE_REFUND,
            postings=postings,
            description=description,
            created_by=by,
            reverses=purchase.entry,
        )
        return Refund.objects.create(
            kind=Refund.Kind.WALLET,
            purchase=purchase,
            amount=amount,
            status=Refund.Status.SUCCEEDED,
            reason=reason[:300],
            entry=entry,
            settle_entry=entry,
            created_by=by,
        )


def topup_refundable(*, topup: TopUp) -> int:
    taken = topup.refunds.exclude(status=Refund.Status.FAILED).aggregate(s=Sum("amount"))["s"] or 0
    return topup.amount - taken


def topup_refund(*, topup: TopUp, amount: int | None = None, by: User | None, reason: str = "") -> Refund:
    """Send card money back: the wallet is debited first (in flight), then Stripe refunds; a refusal reverses it."""
    with transaction.atomic():
        topup = TopUp.objects.select_for_update().get(pk=topup.pk)
        if topup.status != TopUp.Status.SUCCEEDED:
            raise MoneyError("Only a paid top-up can be refunded.")
        left = topup_refundable(topup=topup)
        amount = left if amount is None else amount
        if not isinstance(amount, int) or amount <= 0:
            raise MoneyError("A refund must be a positive amount." if left else "This top-up was fully refunded.")
        if amount > left:
            raise RefundTooLarge(f"At most {left} minor units of this top-up can still be refunded.")
        wallet = lock_wallet(topup.user)
        if wallet.cached_balance < amount:
            raise InsufficientFunds(needed=amount, available=wallet.cached_balance)
        in_flight = system_account(Account.Kind.REFUNDS)
        description = f"Refund of top-up #{topup.pk} to the card" + (f": {reason}" if reason else "")
        entry = post_entry(
            kind=JournalEntry.Kind.CARD_REFUND,
            postings=[Posting(wallet, -amount, description), Posting(in_flight, amount, description)],
            description=description,
            created_by=by,
            reverses=topup.entry,
        )
        refund = Refund.objects.create(
            kind=Refund.Kind.CARD, topup=topup, amount=amount, reason=reason[:300], entry=entry, created_by=by
        )
    if topup.provider == TopUp.Provider.TEST:
        return _card_refund_settle(refund=refund, provider_refund_id="test")
    try:
        provider_id = gateway.refund_create(
            payment_intent_id=topup.payment_intent_id, amount=amount, idempotency_key=f"refund-{refund.pk}"
        )
    except PaymentProviderError:
        _card_refund_fail(refund=refund)
        raise
    return _card_refund_settle(refund=refund, provider_refund_id=provider_id)


def _card_refund_settle(*, refund: Refund, provider_refund_id: str) -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status != Refund.Status.PENDING:
            return refund
        description = f"Refund #{refund.pk} sent ({provider_refund_id})"
        refund.settle_entry = post_entry(
            kind=JournalEntry.Kind.CARD_REFUND_SETTLED,
            postings=[
                Posting(system_account(Account.Kind.REFUNDS), -refund.amount, description),
                Posting(system_account(Account.Kind.CLEARING), refund.amount, description),
            ],
            description=description,
            created_by=refund.created_by,
        )
        refund.status = Refund.Status.SUCCEEDED
        refund.provider_refund_id = provider_refund_id
        refund.save(update_fields=["settle_entry", "status", "provider_refund_id"])
        return refund


def _card_refund_fail(*, refund: Refund) -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status != Refund.Status.PENDING:
            return refund
        wallet = lock_wallet(refund.topup.user)
        description = f"Refund #{refund.pk} refused by the provider: returned to the wallet"
        refund.settle_entry = post_entry(
            kind=JournalEntry.Kind.CARD_REFUND_FAILED,
            postings=[
                Posting(system_account(Account.Kind.REFUNDS), -refund.amount, description),
                Posting(wallet, refund.amount, description),
            ],
            description=description,
            reverses=refund.entry,
        )
        refund.status = Refund.Status.FAILED
        refund.save(update_fields=["settle_entry", "status"])
        return refund
