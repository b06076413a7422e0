"""The charge service: the contract other apps call to take money from a wallet."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError

from marketplace.money.models import Account, FeeRate, ImmutableError, JournalLine, Purchase
from marketplace.money.services import (
    ChargeLine,
    IdempotencyConflict,
    InsufficientFunds,
    MoneyError,
    charge,
    platform_fee_for,
    wallet_balance,
)
from marketplace.money.services.ledger import balance_from_lines

from .invariants import assert_ledger_invariants

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["sql", "orm"], autouse=True)
def booking_path(request, settings):
    """Every charge test runs on both booking paths: PostgreSQL's single statement and the portable ORM one."""
    settings.MONEY_SQL_FAST_PATH = request.param == "sql"
    return request.param


def earnings(org) -> int:
    account = Account.objects.filter(kind=Account.Kind.EARNINGS, organisation=org).first()
    return balance_from_lines(account) if account else 0


def fees() -> int:
    account = Account.objects.filter(kind=Account.Kind.PLATFORM_FEES).first()
    return balance_from_lines(account) if account else 0


def test_charge_debits_wallet_and_credits_publisher_and_platform(funded_buyer, publisher):
    purchase = charge(
        buyer=funded_buyer,
        lines=[ChargeLine(publisher, 1_234, "42 triples")],
        fee=123,
        idempotency_key="q-1",
        description="Answer to query 1",
    )
    assert isinstance(purchase, Purchase) and purchase.pk and purchase.entry.pk
    assert purchase.total == 1_357
    assert wallet_balance(user=funded_buyer) == 10_000 - 1_357
    assert earnings(publisher) == 1_234
    assert fees() == 123
    assert_ledger_invariants()


def test_same_idempotency_key_returns_first_purchase_and_charges_once(funded_buyer, publisher):
    lines = [ChargeLine(publisher, 500, "rows")]
    first = charge(buyer=funded_buyer, lines=lines, fee=50, idempotency_key="q-2", description="d")
    second = charge(buyer=funded_buyer, lines=lines, fee=50, idempotency_key="q-2", description="d")
    assert second.pk == first.pk
    assert wallet_balance(user=funded_buyer) == 10_000 - 550
    assert Purchase.objects.count() == 1


def test_same_key_with_different_amounts_is_a_conflict(funded_buyer, publisher):
    charge(
        buyer=funded_buyer,
        lines=[ChargeLine(publisher, 500, "rows")],
        fee=50,
        idempotency_key="q-3",
        description="d",
    )
    with pytest.raises(IdempotencyConflict):
        charge(
            buyer=funded_buyer,
            lines=[ChargeLine(publisher, 600, "rows")],
            fee=50,
            idempotency_key="q-3",
            description="d",
        )
    assert wallet_balance(user=funded_buyer) == 10_000 - 550


def test_insufficient_funds_is_typed_and_books_nothing(funded_buyer, publisher):
    with pytest.raises(InsufficientFunds) as caught:
        charge(
            buyer=funded_buyer,
            lines=[ChargeLine(publisher, 10_000, "all")],
            fee=1,
            idempotency_key="q-4",
            description="d",
        )
    assert caught.value.needed == 10_001
    assert caught.value.available == 10_000
    assert isinstance(caught.value, MoneyError)
    assert "needed" in str(caught.value)
    assert wallet_balance(user=funded_buyer) == 10_000
    assert not Purchase.objects.exists()
    assert earnings(publisher) == 0


def test_buyer_without_wallet_has_zero_and_cannot_buy(make_user, publisher):
    user = make_user("nobody")
    assert wallet_balance(user=user) == 0
    with pytest.raises(InsufficientFunds):
        charge(buyer=user, lines=[ChargeLine(publisher, 1, "x")], fee=0, idempotency_key="k", description="d")


def test_free_lines_are_recorded_on_the_receipt(funded_buyer, publisher):
    purchase = charge(
        buyer=funded_buyer,
        lines=[ChargeLine(publisher, 0, "open data")],
        fee=0,
        idempotency_key="free",
        description="d",
    )
    assert purchase.total == 0
    assert purchase.entry.lines.filter(description="open data", amount=0).exists()


def test_negative_amounts_are_refused(funded_buyer, publisher):
    with pytest.raises(MoneyError):
        charge(
            buyer=funded_buyer,
            lines=[ChargeLine(publisher, -5, "x")],
            fee=0,
            idempotency_key="neg",
            description="d",
        )
    with pytest.raises(MoneyError):
        charge(
            buyer=funded_buyer,
            lines=[ChargeLine(publisher, 5, "x")],
            fee=-1,
            idempotency_key="neg2",
            description="d",
        )


def test_several_publishers_each_get_their_share(funded_buyer, publisher, make_user):
    from marketplace.accounts.services import organisation_apply, organisation_approve

    other = organisation_approve(organisation=organisation_apply(user=make_user("carol"), name="Other Data"), by=None)
    charge(
        buyer=funded_buyer,
        lines=[ChargeLine(publisher, 300, "a"), ChargeLine(other, 700, "b")],
        fee=100,
        idempotency_key="multi",
        description="d",
    )
    assert (earnings(publisher), earnings(other), fees()) == (300, 700, 100)
    assert_ledger_invariants()


@pytest.mark.parametrize(
    ("percent", "amount", "fee"),
    [
        ("10", 5, 1),
        ("10", 4, 0),
        ("10", 15, 2),
        ("2.5", 20, 1),
        ("2.5", 19, 0),
        ("0", 999, 0),
        ("12.345", 10_000, 1_235),
    ],
)
def test_platform_fee_uses_the_operator_rate_rounded_half_up(percent, amount, fee):
    FeeRate.objects.create(percent=Decimal(percent))
    assert platform_fee_for(amount) == fee


def test_latest_fee_rate_wins(settings):
    settings.MARKETPLACE_FEE_PERCENT = "7"
    assert platform_fee_for(100) == 7
    FeeRate.objects.create(percent=Decimal("5"))
    FeeRate.objects.create(percent=Decimal("20"))
    assert platform_fee_for(100) == 20


def test_journal_lines_cannot_be_changed_through_the_orm(funded_buyer):
    line = JournalLine.objects.first()
    line.amount = 1_000_000
    with pytest.raises(ImmutableError):
        line.save()
    with pytest.raises(ImmutableError):
        line.delete()
    with pytest.raises(ImmutableError):
        line.entry.delete()


def test_database_refuses_to_update_journal_lines(funded_buyer):
    assert connection.vendor == "postgresql", "the money tests run on PostgreSQL"
    with pytest.raises(InternalError, match="immutable"), transaction.atomic():
        JournalLine.objects.update(amount=1)
    with pytest.raises(InternalError, match="immutable"), transaction.atomic():
        JournalLine.objects.all().delete()


def test_database_refuses_a_negative_wallet(funded_buyer):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(user=funded_buyer).update(cached_balance=-1)
