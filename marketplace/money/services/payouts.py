"""Publisher payouts: earnings become available after a holding period; a payout moves them out through a
Connect transfer (behind gateway.PayoutTransfers) or is settled by hand by an operator."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from marketplace.accounts.models import Organisation, User

from .. import gateway
from ..currency import currency_code
from ..errors import InsufficientEarnings, MoneyError, PaymentProviderError
from ..models import Account, JournalEntry, JournalLine, Payout, PayoutDestination
from .ledger import Posting, earnings_of, post_entry, system_account


@dataclass(frozen=True)
class Earnings:
    balance: int  # everything earned minus refunds and payouts
    available: int  # what may be paid out now
    pending: int  # still in the holding period


def _earnings_of_account(account: Account, now=None) -> Earnings:
    now = now or timezone.now()
    hold_until = now - timedelta(days=settings.MONEY_EARNINGS_HOLD_DAYS)
    lines = JournalLine.objects.filter(account=account)
    sums = lines.aggregate(
        balance=Sum("amount"),
        # Debits count at once, sales only once they are older than the holding period; a failed payout's
        # money was available before, so it is again at once.
        available=Sum(
            "amount",
            filter=Q(amount__lt=0) | Q(created_at__lte=hold_until) | Q(entry__kind=JournalEntry.Kind.PAYOUT_FAILED),
        ),
    )
    balance = sums["balance"] or 0
    available = max(0, min(balance, sums["available"] or 0))
    return Earnings(balance=balance, available=available, pending=max(0, balance - available))


def earnings_for(*, organisation: Organisation) -> Earnings:
    account = Account.objects.filter(kind=Account.Kind.EARNINGS, organisation=organisation).first()
    if account is None:
        return Earnings(0, 0, 0)
    return _earnings_of_account(account)


def payout_request(*, organisation: Organisation, amount: int, by: User | None) -> Payout:
    """Move `amount` of available earnings into transit, then transfer it if a Connect account is set."""
    if not isinstance(amount, int) or amount <= 0:
        raise MoneyError("A payout must be a positive amount.")
    account = earnings_of(organisation)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        earnings = _earnings_of_account(account)
        if amount > earnings.available:
            raise InsufficientEarnings(needed=amount, available=earnings.available)
        description = f"Payout to {organisation.name}"
        entry = post_entry(
            kind=JournalEntry.Kind.PAYOUT,
            postings=[
                Posting(account, -amount, description),
                Posting(system_account(Account.Kind.PAYOUTS), amount, description),
            ],
            description=description,
            created_by=by,
        )
        payout = Payout.objects.create(organisation=organisation, amount=amount, entry=entry, requested_by=by)
    destination = PayoutDestination.objects.filter(organisation=organisation).first()
    if destination is not None:
        try:
            transfer_id = gateway.payout_transfers().transfer(
                destination=destination.stripe_account_id,
                amount=amount,
                currency=currency_code(),
                idempotency_key=f"payout-{payout.pk}",
            )
        except PaymentProviderError as exc:
            # Left requested: an operator retries, settles by hand or fails it (returning the money).
            Payout.objects.filter(pk=payout.pk).update(note=str(exc)[:300])
            payout.refresh_from_db()
            return payout
        return payout_settle(payout=payout, by=None, method=Payout.Method.CONNECT, transfer_id=transfer_id)
    return payout


def payout_settle(
    *,
    payout: Payout,
    by: User | None,
    method: str = Payout.Method.MANUAL,
    transfer_id: str = "",
    note: str = "",
) -> Payout:
    """Mark a requested payout paid (by a Connect transfer, or by hand by an operator: method=manual)."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout.pk)
        if payout.status != Payout.Status.REQUESTED:
            raise MoneyError(f"Payout #{payout.pk} is already {payout.get_status_display().lower()}.")
        description = f"Payout #{payout.pk} sent" + (
            " (settled by hand)" if method == Payout.Method.MANUAL else f" ({transfer_id})"
        )
        payout.settle_entry = post_entry(
            kind=JournalEntry.Kind.PAYOUT_SETTLED,
            postings=[
                Posting(system_account(Account.Kind.PAYOUTS), -payout.amount, description),
                Posting(system_account(Account.Kind.CLEARING), payout.amount, description),
            ],
            description=description,
            created_by=by,
        )
        payout.status = Payout.Status.PAID
        payout.method = method
        payout.transfer_id = transfer_id
        payout.note = note[:300] or payout.note
        payout.settled_by = by
        payout.settled_at = timezone.now()
        payout.save()
        return payout


def payout_fail(*, payout: Payout, by: User | None, note: str = "") -> Payout:
    """A payout that could not be sent: its amount returns to the publisher's earnings."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout.pk)
        if payout.status != Payout.Status.REQUESTED:
            raise MoneyError(f"Payout #{payout.pk} is already {payout.get_status_display().lower()}.")
        account = Account.objects.select_for_update().get(
            kind=Account.Kind.EARNINGS, organisation_id=payout.organisation_id
        )
        description = f"Payout #{payout.pk} failed: returned to earnings"
        payout.settle_entry = post_entry(
            kind=JournalEntry.Kind.PAYOUT_FAILED,
            postings=[
                Posting(system_account(Account.Kind.PAYOUTS), -payout.amount, description),
                Posting(account, payout.amount, description),
            ],
            description=description,
            created_by=by,
            reverses=payout.entry,
        )
        payout.status = Payout.Status.FAILED
        payout.note = note[:300] or payout.note
        payout.settled_by = by
        payout.settled_at = timezone.now()
        payout.save()
        return payout
