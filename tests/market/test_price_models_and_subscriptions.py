"""Publishers set price models (UI and API, validated); buyers subscribe through the wallet and then see
that dataset at zero."""

from decimal import Decimal

import pytest
from django.urls import reverse

from marketplace.market.errors import InvalidPriceModel, MarketError, NotAllowed
from marketplace.market.models import PriceModel, Subscription
from marketplace.market.services.price_models import price_model_set
from marketplace.market.services.subscriptions import subscription_buy
from marketplace.money.services import wallet_balance

from .conftest import EX, ask, set_price

COLOURS = f"SELECT ?p ?c WHERE {{ ?p <{EX}colour> ?c }}"
NAMES = f"SELECT ?p ?name WHERE {{ ?p <{EX}name> ?name }}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "per_triple", "rate": Decimal("0")},
        {"kind": "per_row", "rate": Decimal("-1")},
        {"kind": "per_row", "rate": Decimal("0.00001")},
        {"kind": "access_fee", "access_fee": 0},
        {"kind": "access_fee", "access_fee": 1.5},
        {"kind": "subscription"},
        {"kind": "free", "subscription_price": 10, "subscription_period_days": 0},
        {"kind": "bogus"},
    ],
)
def test_invalid_price_models_are_refused(market, fields):
    owner = market["acme"].memberships.first().user
    with pytest.raises(InvalidPriceModel):
        price_model_set(user=owner, dataset=market["shop"], **fields)


@pytest.mark.django_db
def test_only_the_publisher_sets_a_price_model(market, buyer):
    with pytest.raises(NotAllowed):
        price_model_set(user=buyer, dataset=market["shop"], kind="free")


@pytest.mark.django_db
def test_price_model_api_put_by_publisher_and_refusals(market, buyer):
    from rest_framework.test import APIClient

    owner = APIClient()
    owner.force_authenticate(market["acme"].memberships.first().user)
    url = f"/api/price-models/{market['shop'].pk}/"
    ok = owner.put(url, {"kind": "per_row", "rate": "0.5", "subscription_price": 100}, format="json")
    assert ok.status_code == 200, ok.content
    model = PriceModel.objects.get(dataset=market["shop"])
    assert model.kind == "per_row" and model.rate == Decimal("0.5") and model.subscription_price == 100
    assert owner.put(url, {"kind": "access_fee", "access_fee": 0}, format="json").status_code == 400
    stranger = APIClient()
    stranger.force_authenticate(buyer)
    assert stranger.put(url, {"kind": "free"}, format="json").status_code == 403
    listed = APIClient().get("/api/price-models/").json()
    assert {row["dataset"] for row in listed["results"]} == {market[k].pk for k in ("shop", "reviews", "labels")}


@pytest.mark.django_db
def test_price_model_page_saves_and_shows_form_errors(market, client):
    client.force_login(market["acme"].memberships.first().user)
    url = reverse("market:price-model", kwargs={"pk": market["shop"].pk})
    assert client.get(url).status_code == 200
    bad = client.post(url, {"kind": "per_triple", "rate": "0", "subscription_period_days": 30})
    assert bad.status_code == 200 and b"rate above 0" in bad.content
    good = client.post(url, {"kind": "access_fee", "access_fee": "12", "subscription_period_days": 30})
    assert good.status_code == 302
    assert PriceModel.objects.get(dataset=market["shop"]).access_fee == 12
    client.force_login(market["beta"].memberships.first().user)
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_subscription_only_dataset_is_left_out_for_non_subscribers(market, buyer):
    set_price(market["labels"], "subscription", subscription_price=50, subscription_period_days=30)
    job = ask(buyer, COLOURS)
    assert job.rows_available == 0
    assert any("subscription" in note for note in job.notes)


@pytest.mark.django_db
def test_subscribing_charges_the_wallet_and_prices_the_dataset_at_zero(market, buyer):
    from marketplace.money.services.ledger import balance_from_lines, earnings_of

    set_price(market["labels"], "subscription", subscription_price=50, subscription_period_days=30)
    before = wallet_balance(user=buyer)
    subscription = subscription_buy(buyer=buyer, dataset=market["labels"], idempotency_key="k1")
    assert wallet_balance(user=buyer) == before - 50
    assert balance_from_lines(earnings_of(market["beta"])) == 50
    assert subscription.active and (subscription.ends_at - subscription.starts_at).days == 30
    # Replaying the same request charges once.
    assert subscription_buy(buyer=buyer, dataset=market["labels"], idempotency_key="k1").pk == subscription.pk
    assert wallet_balance(user=buyer) == before - 50
    with pytest.raises(MarketError):
        subscription_buy(buyer=buyer, dataset=market["labels"], idempotency_key="k2")
    job = ask(buyer, COLOURS)
    quote = job.quotes.get()
    assert job.rows_available == 4 and quote.rows_in_quote == 4 and quote.price == 0
    line = quote.lines.get()
    assert line.price_kind == "subscribed" and line.amount == 0 and line.rows == 4


@pytest.mark.django_db
def test_a_subscriber_sees_a_pay_per_use_dataset_at_zero(market, buyer, make_user):
    set_price(market["shop"], "per_triple", rate=Decimal("1"), subscription_price=30)
    subscription_buy(buyer=buyer, dataset=market["shop"])
    mine = ask(buyer, NAMES, include=["acme-data"]).quotes.get()
    theirs = ask(make_user("frank"), NAMES, include=["acme-data"]).quotes.get()
    assert mine.price == 0 and mine.lines.get().price_kind == "subscribed"
    assert theirs.price > 0 and theirs.lines.get().price_kind == "per_triple"


@pytest.mark.django_db
def test_subscription_api(market, token_client):
    set_price(market["reviews"], "per_row", rate=Decimal("2"), subscription_price=20, subscription_period_days=7)
    response = token_client.post("/api/subscriptions/", {"dataset": market["reviews"].pk}, format="json")
    assert response.status_code == 201, response.content
    assert token_client.get("/api/subscriptions/").json()[0]["active"] is True
    assert token_client.post("/api/subscriptions/", {"dataset": market["shop"].pk}, format="json").status_code == 400
    assert Subscription.objects.count() == 1


@pytest.mark.django_db
def test_pages_answer_and_refuse_bad_input_without_errors(market, buyer, client):
    client.force_login(buyer)
    assert client.get(reverse("market:jobs")).status_code == 200
    assert client.get(reverse("market:offers")).status_code == 200
    help_page = client.get(reverse("market:sparql-help"))
    assert help_page.status_code == 200 and b"at most 60 seconds" in help_page.content
    bad = client.post(reverse("market:jobs"), {"query": "SELECT WHERE", "strategy": "auto"})
    assert bad.status_code == 200 and b"does not parse" in bad.content
    bad = client.post(reverse("market:jobs"), {"query": NAMES, "budget": "-3", "strategy": "auto"})
    assert bad.status_code == 200 and b"errorlist" in bad.content
