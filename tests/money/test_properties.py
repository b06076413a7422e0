"""Hypothesis-generated sequences of top-ups, purchases, refunds and payouts keep every ledger invariant,
and wallets hold exactly what a simple model of them says."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from marketplace.money import services as money
from marketplace.money.errors import InsufficientEarnings, InsufficientFunds, MoneyError, RefundTooLarge
from marketplace.money.models import Payout, Refund, TopUp
from marketplace.money.services import ChargeLine

from .invariants import assert_ledger_invariants

amounts = st.integers(min_value=0, max_value=900)
ops = st.one_of(
    st.tuples(st.just("topup"), st.integers(0, 1), st.integers(100, 6_000)),
    st.tuples(
        st.just("buy"),
        st.integers(0, 1),
        st.lists(amounts, min_size=1, max_size=2),
        st.integers(0, 300),
        st.integers(0, 5),
    ),
    st.tuples(st.just("refund"), st.integers(0, 9), st.one_of(st.none(), st.integers(1, 1_500))),
    st.tuples(st.just("card_refund"), st.integers(0, 9), st.one_of(st.none(), st.integers(1, 4_000))),
    st.tuples(st.just("payout"), st.integers(0, 1), st.integers(1, 1_500)),
    st.tuples(st.just("settle"), st.integers(0, 9), st.booleans()),
)


class Rollback(Exception):
    pass


@pytest.fixture
def cast(make_user, publisher, settings):
    from marketplace.accounts.services import organisation_apply, organisation_approve

    settings.STRIPE_SECRET_KEY = ""
    settings.MONEY_TEST_PAYMENTS = True
    settings.MONEY_EARNINGS_HOLD_DAYS = 0
    other = organisation_approve(organisation=organisation_apply(user=make_user("carol"), name="Other Data"), by=None)
    return {
        "buyers": [make_user("b0"), make_user("b1")],
        "publishers": [publisher, other],
        "operator": make_user("op", is_staff=True),
    }


def run(sequence, cast) -> None:
    buyers, publishers, operator = cast["buyers"], cast["publishers"], cast["operator"]
    wallets = [2_000, 500]
    used_keys: dict[tuple[int, int], tuple] = {}
    purchases, payouts = [], []
    topups = [money.test_topup(user=b, amount=a) for b, a in zip(buyers, wallets, strict=True)]
    for op in sequence:
        kind = op[0]
        if kind == "topup":
            topups.append(money.test_topup(user=buyers[op[1]], amount=op[2]))
            wallets[op[1]] += op[2]
        elif kind == "buy":
            _, who, prices, fee, key = op
            lines = [ChargeLine(publishers[i], p, f"item {i}") for i, p in enumerate(prices)]
            signature = (tuple(prices), fee)
            total = sum(prices) + fee
            try:
                purchase = money.charge(
                    buyer=buyers[who], lines=lines, fee=fee, idempotency_key=f"k{key}", description="q"
                )
            except money.IdempotencyConflict:
                assert used_keys.get((who, key)) not in (None, signature)
            except InsufficientFunds as exc:
                assert (who, key) not in used_keys and total > wallets[who] and exc.available == wallets[who]
            else:
                if (who, key) in used_keys:
                    assert used_keys[(who, key)] == signature and purchase in purchases
                else:
                    assert total <= wallets[who]
                    wallets[who] -= total
                    used_keys[(who, key)] = signature
                    purchases.append(purchase)
                    event("purchase")
        elif kind == "refund" and purchases:
            purchase = purchases[op[1] % len(purchases)]
            left = purchase.total - sum(r.amount for r in Refund.objects.filter(purchase=purchase))
            try:
                refund = money.purchase_refund(purchase=purchase, amount=op[2], by=operator)
            except RefundTooLarge:
                assert op[2] is not None and op[2] > left
            except MoneyError:
                assert left == 0
            else:
                assert refund.amount == (left if op[2] is None else op[2]) <= left
                wallets[[b.pk for b in buyers].index(purchase.buyer_id)] += refund.amount
                event("purchase refunded")
        elif kind == "card_refund" and topups:
            topup = topups[op[1] % len(topups)]
            who = buyers.index(topup.user)
            try:
                refund = money.topup_refund(topup=topup, amount=op[2], by=operator)
            except (RefundTooLarge, InsufficientFunds, MoneyError):
                pass
            else:
                assert refund.status == Refund.Status.SUCCEEDED
                event("card refunded")
                wallets[who] -= refund.amount
        elif kind == "payout":
            organisation = publishers[op[1]]
            available = money.earnings_for(organisation=organisation).available
            try:
                payouts.append(money.payout_request(organisation=organisation, amount=op[2], by=None))
            except InsufficientEarnings:
                assert op[2] > available
            else:
                assert op[2] <= available
                event("payout requested")
        elif kind == "settle" and payouts:
            payout = payouts[op[1] % len(payouts)]
            try:
                (money.payout_settle if op[2] else money.payout_fail)(payout=payout, by=operator)
            except MoneyError:
                assert Payout.objects.get(pk=payout.pk).status != Payout.Status.REQUESTED
        assert [money.wallet_balance(user=b) for b in buyers] == wallets
        assert_ledger_invariants()
    assert TopUp.objects.filter(provider=TopUp.Provider.TEST).count() == len(topups)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(ops, min_size=3, max_size=20))
def test_random_sequences_keep_every_invariant(cast, sequence):
    try:
        with transaction.atomic():
            run(sequence, cast)
            raise Rollback
    except Rollback:
        pass
