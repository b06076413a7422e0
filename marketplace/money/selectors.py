"""Read paths of the money app: statements with running balances, receipts, revenue over time."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from marketplace.accounts.models import Organisation, User

from .models import Account, JournalLine, Payout, Purchase, TopUp


@dataclass(frozen=True)
class StatementRow:
    at: datetime
    kind: str
    description: str
    amount: int
    balance: int  # running balance after this line
    entry_id: int
    purchase_id: int | None


def wallet_statement(*, user: User, limit: int = 200) -> list[StatementRow]:
    """The wallet's lines, newest first, each with the balance right after it."""
    wallet = Account.objects.filter(kind=Account.Kind.WALLET, user=user).first()
    if wallet is None:
        return []
    lines = list(
        JournalLine.objects.filter(account=wallet).select_related("entry", "entry__purchase").order_by("-pk")[:limit]
    )
    balance = wallet.cached_balance
    rows = []
    for line in lines:
        purchase = getattr(line.entry, "purchase", None)
        rows.append(
            StatementRow(
                at=line.created_at,
                kind=line.entry.get_kind_display(),
                description=line.description or line.entry.description,
                amount=line.amount,
                balance=balance,
                entry_id=line.entry_id,
                purchase_id=purchase.pk if purchase else None,
            )
        )
        balance -= line.amount
    return rows


def purchases_of(*, user: User):
    return Purchase.objects.filter(buyer=user).select_related("entry")


def topups_of(*, user: User):
    return TopUp.objects.filter(user=user)


@dataclass(frozen=True)
class ReceiptLine:
    publisher: Organisation | None
    description: str
    amount: int


def purchase_receipt(*, purchase: Purchase) -> list[ReceiptLine]:
    lines = JournalLine.objects.filter(entry_id=purchase.entry_id, amount__gte=0).select_related(
        "account__organisation"
    )
    return [
        ReceiptLine(line.account.organisation, line.description, line.amount)
        for line in lines
        if line.account.kind in (Account.Kind.EARNINGS, Account.Kind.PLATFORM_FEES)
    ]


def purchase_refunded(*, purchase: Purchase) -> int:
    return purchase.refunds.aggregate(s=Sum("amount"))["s"] or 0


def revenue_by_day(*, organisation: Organisation, days: int = 30) -> list[tuple[date, int]]:
    """Sales credited to the publisher per day (refunds subtracted), oldest first, every day present."""
    today = timezone.now().date()
    start = today - timedelta(days=days - 1)
    rows = (
        JournalLine.objects.filter(
            account__kind=Account.Kind.EARNINGS,
            account__organisation=organisation,
            created_at__date__gte=start,
            entry__kind__in=["purchase", "purchase_refund"],
        )
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(total=Sum("amount"))
    )
    by_day = {r["day"]: r["total"] for r in rows}
    return [(start + timedelta(days=i), by_day.get(start + timedelta(days=i), 0)) for i in range(days)]


def payouts_of(*, organisation: Organisation):
    return Payout.objects.filter(organisation=organisation)


def ledger_totals() -> dict[str, int]:
    """Sum of all lines (always 0) and the balance of each system account, for operators and tests."""
    totals = {"all_lines": JournalLine.objects.aggregate(s=Sum("amount"))["s"] or 0}
    for kind in Account.SYSTEM_KINDS:
        totals[kind] = (
            JournalLine.objects.filter(account__kind=kind, account__user=None, account__organisation=None).aggregate(
                s=Sum("amount")
            )["s"]
            or 0
        )
    return totals
