"""Ledger invariants every test can assert: the books balance and cached wallet balances are true."""

from django.db.models import Sum

from marketplace.money.models import Account, JournalEntry, JournalLine, Payout, Purchase, Refund, TopUp


def assert_ledger_invariants() -> None:
    assert (JournalLine.objects.aggregate(s=Sum("amount"))["s"] or 0) == 0, "all lines must sum to zero"
    unbalanced = JournalEntry.objects.annotate(s=Sum("lines__amount")).exclude(s=0).exclude(s=None)
    assert not unbalanced.exists(), f"unbalanced entries: {list(unbalanced.values_list('pk', 's'))}"
    for wallet in Account.objects.filter(kind=Account.Kind.WALLET):
        from_lines = wallet.lines.aggregate(s=Sum("amount"))["s"] or 0
        assert wallet.cached_balance == from_lines, (
            f"wallet {wallet.pk}: cached {wallet.cached_balance} != {from_lines}"
        )
        assert from_lines >= 0, f"wallet {wallet.pk} overdrawn: {from_lines}"
    for purchase in Purchase.objects.all():
        refunded = purchase.refunds.aggregate(s=Sum("amount"))["s"] or 0
        assert refunded <= purchase.total
    for line in JournalLine.objects.filter(amount__gt=0, reversals__isnull=False).distinct():
        reversed_ = line.reversals.aggregate(s=Sum("amount"))["s"] or 0
        assert 0 <= -reversed_ <= line.amount, f"line {line.pk} reversed beyond its amount"
    for topup in TopUp.objects.all():
        refunded = topup.refunds.exclude(status=Refund.Status.FAILED).aggregate(s=Sum("amount"))["s"] or 0
        assert refunded <= (topup.amount if topup.status == TopUp.Status.SUCCEEDED else 0)
        assert (topup.entry_id is not None) == (topup.status == TopUp.Status.SUCCEEDED)
    fees = JournalLine.objects.filter(account__kind=Account.Kind.PLATFORM_FEES).aggregate(s=Sum("amount"))["s"] or 0
    assert fees >= 0
    in_transit = JournalLine.objects.filter(account__kind=Account.Kind.PAYOUTS).aggregate(s=Sum("amount"))["s"] or 0
    requested = Payout.objects.filter(status=Payout.Status.REQUESTED).aggregate(s=Sum("amount"))["s"] or 0
    assert in_transit == requested
    in_flight = JournalLine.objects.filter(account__kind=Account.Kind.REFUNDS).aggregate(s=Sum("amount"))["s"] or 0
    pending = Refund.objects.filter(status=Refund.Status.PENDING).aggregate(s=Sum("amount"))["s"] or 0
    assert in_flight == pending
