"""Publisher earnings, the holding period, and payouts (Connect transfer behind an interface, or by hand)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.money import services as money
from marketplace.money.errors import InsufficientEarnings, MoneyError
from marketplace.money.models import Payout, PayoutDestination
from marketplace.money.services import (
    ChargeLine,
    charge,
    earnings_for,
    payout_fail,
    payout_request,
    payout_settle,
)

from .fakes import RecordingTransfers
from .invariants import assert_ledger_invariants

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale(funded_buyer, publisher, settings):
    settings.MONEY_EARNINGS_HOLD_DAYS = 7
    return charge(
        buyer=funded_buyer,
        lines=[ChargeLine(publisher, 4_000, "rows")],
        fee=400,
        idempotency_key="s1",
        description="d",
    )


@pytest.fixture
def age_sales(monkeypatch):
    """Travel forward in time for the earnings cut-off (journal lines themselves are immutable)."""

    def travel(publisher, days: int) -> None:
        later = timezone.now() + timedelta(days=days)
        monkeypatch.setattr("marketplace.money.services.payouts.timezone.now", lambda: later)

    return travel


def test_new_earnings_are_pending_during_the_holding_period(sale, publisher):
    earnings = earnings_for(organisation=publisher)
    assert (earnings.balance, earnings.available, earnings.pending) == (4_000, 0, 4_000)
    with pytest.raises(InsufficientEarnings) as caught:
        payout_request(organisation=publisher, amount=1, by=publisher.owner)
    assert caught.value.available == 0


def test_earnings_become_available_after_the_holding_period(sale, publisher, age_sales):
    age_sales(publisher, 8)
    earnings = earnings_for(organisation=publisher)
    assert (earnings.available, earnings.pending) == (4_000, 0)


def test_payout_without_connect_waits_for_an_operator_to_settle_by_hand(sale, publisher, make_user, age_sales):
    age_sales(publisher, 8)
    payout = payout_request(organisation=publisher, amount=3_000, by=publisher.owner)
    assert payout.status == Payout.Status.REQUESTED
    assert earnings_for(organisation=publisher).available == 1_000
    with pytest.raises(InsufficientEarnings):
        payout_request(organisation=publisher, amount=1_001, by=publisher.owner)
    operator = make_user("op", is_staff=True)
    payout = payout_settle(payout=payout, by=operator, note="bank transfer 2026-11-29")
    assert (payout.status, payout.method, payout.settled_by) == (
        Payout.Status.PAID,
        Payout.Method.MANUAL,
        operator,
    )
    with pytest.raises(MoneyError):
        payout_settle(payout=payout, by=operator)
    assert_ledger_invariants()


def test_failed_payout_returns_the_money_to_earnings(sale, publisher, age_sales):
    age_sales(publisher, 8)
    payout = payout_request(organisation=publisher, amount=2_500, by=None)
    payout_fail(payout=payout, by=None, note="bank refused")
    assert earnings_for(organisation=publisher).available == 4_000
    assert_ledger_invariants()


def test_payout_with_connect_account_is_transferred(sale, publisher, settings, age_sales):
    settings.MONEY_PAYOUT_TRANSFERS = "tests.money.fakes.RecordingTransfers"
    RecordingTransfers.calls.clear()
    PayoutDestination.objects.create(organisation=publisher, stripe_account_id="acct_123")
    age_sales(publisher, 8)
    payout = payout_request(organisation=publisher, amount=4_000, by=None)
    assert (payout.status, payout.method, payout.transfer_id) == (
        Payout.Status.PAID,
        Payout.Method.CONNECT,
        "tr_test_1",
    )
    assert RecordingTransfers.calls == [
        {
            "destination": "acct_123",
            "amount": 4_000,
            "currency": "EUR",
            "idempotency_key": f"payout-{payout.pk}",
        }
    ]
    assert earnings_for(organisation=publisher).balance == 0
    assert_ledger_invariants()


def test_refused_transfer_leaves_the_payout_for_an_operator(sale, publisher, settings, age_sales):
    settings.MONEY_PAYOUT_TRANSFERS = "tests.money.fakes.RefusingTransfers"
    PayoutDestination.objects.create(organisation=publisher, stripe_account_id="acct_bad")
    age_sales(publisher, 8)
    payout = payout_request(organisation=publisher, amount=1_000, by=None)
    assert payout.status == Payout.Status.REQUESTED and "cannot receive" in payout.note
    assert_ledger_invariants()


def test_refund_after_sale_reduces_earnings_in_proportion(sale, publisher, make_user):
    refund = money.purchase_refund(purchase=sale, amount=1_100, by=make_user("op", is_staff=True))
    assert refund.amount == 1_100
    assert earnings_for(organisation=publisher).balance == 3_000  # 4000 - 1100 * 4000/4400
    assert money.wallet_balance(user=sale.buyer) == 10_000 - 4_400 + 1_100
    with pytest.raises(money.RefundTooLarge):
        money.purchase_refund(purchase=sale, amount=3_301, by=None)
    money.purchase_refund(purchase=sale, by=None)
    assert earnings_for(organisation=publisher).balance == 0
    assert money.wallet_balance(user=sale.buyer) == 10_000
    assert_ledger_invariants()
