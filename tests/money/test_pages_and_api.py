"""Wallet and earnings pages, the REST API, test-payment mode and its guard, the demo credit command."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from marketplace import api_errors
from marketplace.money import services as money
from marketplace.money.errors import InsufficientFunds, TestPaymentsDisabled
from marketplace.money.models import TopUp
from marketplace.money.modes import stripe_js_enabled, test_payments_active
from marketplace.money.services import ChargeLine, charge

pytestmark = pytest.mark.django_db


def test_wallet_page_topup_in_test_mode_is_labelled_and_credits_at_once(client, buyer, test_payment_settings):
    client.force_login(buyer)
    page = client.get("/wallet/")
    assert page.status_code == 200 and b"TEST-PAYMENT MODE" in page.content
    assert b"js.stripe.com" not in page.content
    response = client.post("/wallet/", {"amount": "12.50"})
    assert response.status_code == 302
    assert money.wallet_balance(user=buyer) == 1_250
    assert TopUp.objects.get().provider == TopUp.Provider.TEST


@pytest.mark.parametrize("amount", ["abc", "0.001", "-5", "", "0.5", "99999999"])
def test_wallet_page_answers_bad_amounts_with_a_form_error(client, buyer, test_payment_settings, amount):
    client.force_login(buyer)
    response = client.post("/wallet/", {"amount": amount})
    assert response.status_code == 400
    assert b"errorlist" in response.content
    assert money.wallet_balance(user=buyer) == 0


def test_statement_shows_running_balance_and_receipt(client, funded_buyer, publisher):
    purchase = charge(
        buyer=funded_buyer,
        lines=[ChargeLine(publisher, 2_000, "42 rows")],
        fee=200,
        idempotency_key="p",
        description="Query 7",
    )
    client.force_login(funded_buyer)
    html = client.get("/wallet/").content.decode()
    assert "7,800.00 EUR" not in html  # formatting is minor units / 100
    assert "78.00 EUR" in html and "100.00 EUR" in html and "-22.00 EUR" in html
    receipt = client.get(f"/wallet/receipts/{purchase.pk}/")
    assert receipt.status_code == 200 and b"Acme Data" in receipt.content and b"22.00 EUR" in receipt.content


def test_receipts_are_private(client, funded_buyer, publisher, make_user):
    purchase = charge(
        buyer=funded_buyer,
        lines=[ChargeLine(publisher, 100, "x")],
        fee=0,
        idempotency_key="p",
        description="d",
    )
    client.force_login(make_user("eve"))
    assert client.get(f"/wallet/receipts/{purchase.pk}/").status_code == 403


def test_earnings_page_shows_balances_and_an_svg_chart(client, funded_buyer, publisher, make_user):
    charge(
        buyer=funded_buyer,
        lines=[ChargeLine(publisher, 3_000, "x")],
        fee=0,
        idempotency_key="p",
        description="d",
    )
    client.force_login(publisher.owner)
    html = client.get(f"/wallet/earnings/{publisher.slug}/").content.decode()
    assert '<svg id="revenue-chart"' in html and "<rect" in html and "30.00 EUR" in html
    response = client.post(f"/wallet/earnings/{publisher.slug}/", {"amount": "10.00"})
    assert response.status_code == 400 and "available for payout" in response.content.decode()
    client.force_login(make_user("eve"))
    assert client.get(f"/wallet/earnings/{publisher.slug}/").status_code == 403


def test_api_wallet_topups_statement_purchases_and_earnings(api_client, funded_buyer, publisher):
    purchase = charge(
        buyer=funded_buyer,
        lines=[ChargeLine(publisher, 500, "x")],
        fee=50,
        idempotency_key="p",
        description="d",
    )
    api_client.force_authenticate(funded_buyer)
    assert api_client.get("/api/wallet/").json() == {
        "balance": 9_450,
        "currency": "EUR",
        "exponent": 2,
        "test_payments": True,
    }
    created = api_client.post("/api/wallet/topups/", {"amount": 550}, format="json")
    assert created.status_code == 201 and created.json()["status"] == "succeeded"
    statement = api_client.get("/api/wallet/statement/").json()
    assert [row["balance"] for row in statement] == [10_000, 9_450, 10_000]
    purchases = api_client.get("/api/purchases/").json()["results"]
    assert purchases[0]["id"] == purchase.pk and {line["amount"] for line in purchases[0]["lines"]} == {
        500,
        50,
    }
    assert api_client.get(f"/api/publishers/{publisher.slug}/earnings/").status_code == 403
    api_client.force_authenticate(publisher.owner)
    earnings = api_client.get(f"/api/publishers/{publisher.slug}/earnings/").json()
    assert (earnings["balance"], earnings["pending"]) == (500, 500)
    refused = api_client.post("/api/payouts/", {"publisher": publisher.slug, "amount": 100}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "InsufficientEarnings"


def test_api_refunds_are_for_operators_only(api_client, funded_buyer, publisher, make_user):
    purchase = charge(
        buyer=funded_buyer,
        lines=[ChargeLine(publisher, 500, "x")],
        fee=0,
        idempotency_key="p",
        description="d",
    )
    api_client.force_authenticate(funded_buyer)
    assert api_client.post("/api/refunds/", {"purchase": purchase.pk}, format="json").status_code == 403
    api_client.force_authenticate(make_user("op", is_staff=True))
    response = api_client.post("/api/refunds/", {"purchase": purchase.pk, "amount": 200}, format="json")
    assert response.status_code == 201 and response.json()["amount"] == 200
    too_much = api_client.post("/api/refunds/", {"purchase": purchase.pk, "amount": 301}, format="json")
    assert too_much.status_code == 400
    assert money.wallet_balance(user=funded_buyer) == 9_700


def test_insufficient_funds_becomes_402_in_the_api():
    response = api_errors.exception_handler(InsufficientFunds(needed=500, available=100), {})
    assert response.status_code == 402 and response.data["code"] == "InsufficientFunds"


def test_test_payments_are_never_active_with_stripe_keys_and_debug_off(settings, buyer):
    settings.DEBUG = False
    settings.STRIPE_SECRET_KEY = "sk_live_x"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_live_x"
    settings.MONEY_TEST_PAYMENTS = True
    assert not test_payments_active()
    with pytest.raises(TestPaymentsDisabled):
        money.test_topup(user=buyer, amount=1_000)
    assert money.wallet_balance(user=buyer) == 0
    assert stripe_js_enabled()


def test_test_payments_default_on_only_without_keys(settings):
    settings.MONEY_TEST_PAYMENTS = None
    settings.STRIPE_SECRET_KEY = settings.STRIPE_PUBLISHABLE_KEY = ""
    assert test_payments_active() and not stripe_js_enabled()
    settings.STRIPE_SECRET_KEY, settings.STRIPE_PUBLISHABLE_KEY = "sk_test_x", "pk_test_x"
    settings.STRIPE_API_BASE = "http://127.0.0.1:1"
    assert not test_payments_active()
    assert not stripe_js_enabled(), "Stripe.js is only loaded for the real Stripe API"


def test_topup_page_loads_stripe_js_only_with_real_keys(client, buyer, settings):
    settings.STRIPE_SECRET_KEY, settings.STRIPE_PUBLISHABLE_KEY = "sk_live_x", "pk_live_x"
    settings.STRIPE_API_BASE = "https://api.stripe.com"
    topup = TopUp.objects.create(
        user=buyer,
        amount=1_000,
        currency="EUR",
        provider="stripe",
        payment_intent_id="pi_x",
        client_secret="pi_x_secret_y",
    )
    client.force_login(buyer)
    html = client.get(f"/wallet/topups/{topup.pk}/").content.decode()
    assert "https://js.stripe.com/v3/" in html and "pi_x_secret_y" in html
    settings.STRIPE_API_BASE = "http://127.0.0.1:1"
    assert "js.stripe.com" not in client.get(f"/wallet/topups/{topup.pk}/").content.decode()
    assert client.get(f"/wallet/topups/{topup.pk}/status/").json()["finished"] is False


def test_demo_credit_command_gives_a_starting_balance(buyer, test_payment_settings, capsys):
    call_command("money_demo_credit", "bob", "50.00")
    assert money.wallet_balance(user=buyer) == 5_000
    with pytest.raises(CommandError):
        call_command("money_demo_credit", "nobody", "5")
    with pytest.raises(CommandError):
        call_command("money_demo_credit", "bob", "lots")


def test_operator_admin_pages_and_refund_action(client, funded_buyer, publisher, make_user):
    from marketplace.money.models import Refund

    purchase = charge(
        buyer=funded_buyer,
        lines=[ChargeLine(publisher, 700, "x")],
        fee=70,
        idempotency_key="p",
        description="d",
    )
    operator = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(operator)
    for model in (
        "account",
        "journalentry",
        "purchase",
        "topup",
        "refund",
        "payout",
        "feerate",
        "providerevent",
        "payoutdestination",
    ):
        assert client.get(f"/admin/money/{model}/").status_code == 200, model
    entry = purchase.entry_id
    assert client.get(f"/admin/money/journalentry/{entry}/change/").status_code == 200
    response = client.post(
        "/admin/money/purchase/",
        {"action": "refund_to_wallet", "_selected_action": [purchase.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert Refund.objects.get(purchase=purchase).amount == 770
    assert money.wallet_balance(user=funded_buyer) == 10_000
    response = client.post("/admin/money/feerate/add/", {"percent": "12.5"})
    assert response.status_code == 302 and money.platform_fee_for(100) == 13


def test_reconcile_task_is_a_thin_wrapper(stripe_settings):
    from marketplace.money.tasks import reconcile_topups

    assert reconcile_topups.apply().get() == {"credited": 0, "failed": 0, "abandoned": 0, "pending": 0}
