"""Top-ups through Stripe PaymentIntents, against localstripe started by a fixture; webhooks to live_server."""

from datetime import timedelta

import pytest
import stripe
from django.urls import reverse
from django.utils import timezone

from marketplace.money.errors import PaymentProviderError, RefundTooLarge
from marketplace.money.models import Account, ProviderEvent, Refund, TopUp
from marketplace.money.services import topup_refund, topup_start, topups_reconcile, wallet_balance
from marketplace.money.services.ledger import balance_from_lines
from marketplace.money.services.topups import topup_payment_succeeded
from tests.conftest import wait_until

from .conftest import register_webhook, sign, succeeded_event
from .invariants import assert_ledger_invariants

WEBHOOK = "/wallet/stripe/webhook/"


def browser_confirms(localstripe: str, intent_id: str, payment_method: str = "pm_card_visa"):
    """What Stripe.js does on the page: attach the card and confirm the intent (with the publishable side)."""
    stripe.api_base = localstripe
    stripe.PaymentIntent.modify(intent_id, payment_method=payment_method, api_key="sk_test_local")
    return stripe.PaymentIntent.confirm(intent_id, api_key="sk_test_local")


def test_topup_end_to_end_credits_wallet_after_signed_webhook(
    stripe_settings, localstripe, live_server, buyer, api_client
):
    register_webhook(localstripe, live_server.url + reverse("money:stripe_webhook"))
    api_client.force_authenticate(buyer)
    response = api_client.post("/api/wallet/topups/", {"amount": 2_500}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["provider"] == "stripe"
    assert body["client_secret"].startswith(body["payment_intent_id"])
    assert wallet_balance(user=buyer) == 0, "nothing is credited before the payment succeeded"

    assert browser_confirms(localstripe, body["payment_intent_id"]).status == "succeeded"

    wait_until(lambda: wallet_balance(user=buyer) == 2_500, timeout=20, message="the webhook to credit the wallet")
    topup = TopUp.objects.get(pk=body["id"])
    assert topup.status == TopUp.Status.SUCCEEDED
    assert ProviderEvent.objects.filter(type="payment_intent.succeeded").count() == 1
    assert api_client.get("/api/wallet/").json()["balance"] == 2_500
    assert_ledger_invariants()


def test_declined_card_credits_nothing(stripe_settings, localstripe, live_server, buyer):
    register_webhook(localstripe, live_server.url + reverse("money:stripe_webhook"))
    topup = topup_start(user=buyer, amount=1_000)
    with pytest.raises(stripe.CardError):
        browser_confirms(localstripe, topup.payment_intent_id, "pm_card_chargeCustomerFail")
    wait_until(
        lambda: TopUp.objects.get(pk=topup.pk).status == TopUp.Status.FAILED,
        timeout=20,
        message="payment_failed webhook",
    )
    assert wallet_balance(user=buyer) == 0
    assert topups_reconcile(older_than=timedelta(0))["credited"] == 0
    assert wallet_balance(user=buyer) == 0


def test_replayed_webhook_credits_once(stripe_settings, buyer, client):
    topup = topup_start(user=buyer, amount=4_200)
    payload = succeeded_event(event_id="evt_replay_1", intent_id=topup.payment_intent_id, amount=4_200)
    answers = [
        client.post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload)).content
        for _ in range(10)
    ]
    assert answers == [b"ok"] + [b"duplicate"] * 9
    assert wallet_balance(user=buyer) == 4_200
    assert ProviderEvent.objects.filter(event_id="evt_replay_1").count() == 1
    # A different event for the same intent (Stripe may send one) still credits nothing more.
    payload2 = succeeded_event(event_id="evt_replay_2", intent_id=topup.payment_intent_id, amount=4_200)
    assert (
        client.post(
            WEBHOOK, payload2, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload2)
        ).status_code
        == 200
    )
    assert wallet_balance(user=buyer) == 4_200
    assert_ledger_invariants()


@pytest.mark.parametrize("tamper", ["payload", "secret", "missing", "stale"])
def test_tampered_signature_gets_400_and_credits_nothing(stripe_settings, buyer, client, tamper):
    topup = topup_start(user=buyer, amount=3_000)
    payload = succeeded_event(event_id=f"evt_tamper_{tamper}", intent_id=topup.payment_intent_id, amount=3_000)
    header = sign(payload)
    if tamper == "payload":
        payload = payload.replace("3000", "300000")
    elif tamper == "secret":
        header = sign(payload, secret="whsec_attacker")
    elif tamper == "stale":
        header = sign(payload, timestamp=int(timezone.now().timestamp()) - 3600)
    extra = {} if tamper == "missing" else {"HTTP_STRIPE_SIGNATURE": header}
    response = client.post(WEBHOOK, payload, content_type="application/json", **extra)
    assert response.status_code == 400
    assert wallet_balance(user=buyer) == 0
    assert not ProviderEvent.objects.exists()
    assert TopUp.objects.get(pk=topup.pk).status == TopUp.Status.PENDING


def test_webhook_amount_mismatch_credits_nothing(stripe_settings, buyer, client):
    topup = topup_start(user=buyer, amount=3_000)
    payload = succeeded_event(event_id="evt_mismatch", intent_id=topup.payment_intent_id, amount=9_000)
    assert (
        client.post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload)).status_code
        == 200
    )
    assert wallet_balance(user=buyer) == 0


def test_reconciliation_credits_when_webhook_never_came(stripe_settings, localstripe, live_server, buyer):
    # Webhooks go nowhere during this test: only reconciliation can find out the payment succeeded.
    register_webhook(localstripe, live_server.url + "/no-such-webhook/")
    paid = topup_start(user=buyer, amount=1_500)
    unpaid = topup_start(user=buyer, amount=700)
    browser_confirms(localstripe, paid.payment_intent_id)
    assert wallet_balance(user=buyer) == 0
    assert topups_reconcile(older_than=timedelta(minutes=5)) == {
        "credited": 0,
        "failed": 0,
        "abandoned": 0,
        "pending": 0,
    }
    counts = topups_reconcile(older_than=timedelta(0))
    assert counts["credited"] == 1 and counts["pending"] == 1
    assert wallet_balance(user=buyer) == 1_500
    assert topups_reconcile(older_than=timedelta(0))["credited"] == 0
    assert wallet_balance(user=buyer) == 1_500, "a second reconciliation credits nothing more"
    assert TopUp.objects.get(pk=unpaid.pk).status == TopUp.Status.PENDING
    assert_ledger_invariants()


def test_abandoned_topup_is_canceled_and_credits_nothing(stripe_settings, localstripe, buyer):
    topup = topup_start(user=buyer, amount=900)
    TopUp.objects.filter(pk=topup.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert topups_reconcile(older_than=timedelta(0))["abandoned"] == 1
    assert TopUp.objects.get(pk=topup.pk).status == TopUp.Status.ABANDONED
    stripe.api_base = localstripe
    assert stripe.PaymentIntent.retrieve(topup.payment_intent_id, api_key="sk_test_local").status == "canceled"
    assert wallet_balance(user=buyer) == 0


def test_card_refund_goes_through_stripe_and_never_exceeds_the_payment(stripe_settings, localstripe, buyer, make_user):
    topup = topup_start(user=buyer, amount=5_000)
    browser_confirms(localstripe, topup.payment_intent_id)
    topups_reconcile(older_than=timedelta(0))
    operator = make_user("op", is_staff=True)
    refund = topup_refund(topup=topup, amount=2_000, by=operator, reason="asked by buyer")
    assert refund.status == Refund.Status.SUCCEEDED and refund.provider_refund_id.startswith("re_")
    assert wallet_balance(user=buyer) == 3_000
    with pytest.raises(RefundTooLarge):
        topup_refund(topup=topup, amount=3_001, by=operator)
    topup_refund(topup=topup, by=operator)
    assert wallet_balance(user=buyer) == 0
    clearing = Account.objects.get(kind=Account.Kind.CLEARING)
    assert balance_from_lines(clearing) == 0, "all card money went back out"
    assert_ledger_invariants()


def test_card_refund_refused_by_stripe_returns_money_to_the_wallet(stripe_settings, buyer, make_user):
    topup = TopUp.objects.create(
        user=buyer, amount=800, currency="EUR", provider="stripe", payment_intent_id="pi_unknown_here"
    )
    topup_payment_succeeded(payment_intent_id="pi_unknown_here", amount=800, currency="eur")
    with pytest.raises(PaymentProviderError):
        topup_refund(topup=topup, by=make_user("op", is_staff=True))
    assert wallet_balance(user=buyer) == 800
    assert Refund.objects.get().status == Refund.Status.FAILED
    assert_ledger_invariants()
