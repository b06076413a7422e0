"""Concurrent purchases against one wallet: row locks keep it from being overdrawn."""

import threading

import pytest
from django.db import connection

from marketplace.money import services as money
from marketplace.money.models import Purchase
from marketplace.money.services import ChargeLine, InsufficientFunds, charge, wallet_balance

from .invariants import assert_ledger_invariants


@pytest.fixture(params=["sql", "orm"], autouse=True)
def booking_path(request, settings):
    """Every charge test runs on both booking paths: PostgreSQL's single statement and the portable ORM one."""
    settings.MONEY_SQL_FAST_PATH = request.param == "sql"
    return request.param


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_purchases_never_overdraw_the_wallet(make_user, publisher, test_payment_settings):
    buyer = make_user("racer")
    money.test_topup(user=buyer, amount=3_000)  # room for exactly 30 purchases of 100
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buy(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            charge(
                buyer=buyer,
                lines=[ChargeLine(publisher, 90, f"rows {i}")],
                fee=10,
                idempotency_key=f"race-{i}",
                description="race",
            )
            result = "bought"
        except InsufficientFunds:
            result = "refused"
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(outcomes) == 50 and not [o for o in outcomes if o.startswith("error")], outcomes
    assert outcomes.count("bought") == 30
    assert outcomes.count("refused") == 20
    assert wallet_balance(user=buyer) == 0
    assert Purchase.objects.count() == 30
    assert_ledger_invariants()


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_with_one_idempotency_key_charge_once(make_user, publisher, test_payment_settings):
    buyer = make_user("double-clicker")
    money.test_topup(user=buyer, amount=1_000)
    barrier = threading.Barrier(8)
    ids: list[int] = []

    def buy() -> None:
        try:
            barrier.wait(timeout=30)
            ids.append(
                charge(
                    buyer=buyer,
                    lines=[ChargeLine(publisher, 100, "x")],
                    fee=0,
                    idempotency_key="same",
                    description="d",
                ).pk
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=buy) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(ids) == 8 and len(set(ids)) == 1
    assert wallet_balance(user=buyer) == 900
    assert_ledger_invariants()
