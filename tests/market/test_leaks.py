"""No value from providers' data reaches a buyer before payment: not through the quote, the API, the pages,
the errors, ASK, FILTER tricks, SERVICE, or the /sparql endpoints."""

import json
import socket
import threading

import pytest
from django.urls import reverse

from marketplace.market.errors import InvalidAsk
from marketplace.market.models import QueryJob

from .conftest import EX, SECRETS, ask, make_remote, set_price

DATA_IRIS = [f"{EX}p{i}" for i in range(1, 5)] + [f"{EX}r{i}" for i in range(1, 4)]


def assert_no_data(text: str) -> None:
    for value in SECRETS + DATA_IRIS + ["colour-SECRET"]:
        assert value not in text, f"{value!r} leaked"


def everything_the_buyer_sees(client, api, job) -> str:
    parts = [
        api.get(f"/api/queries/{job.pk}/").content.decode(),
        api.get("/api/queries/").content.decode(),
        api.get(f"/api/queries/{job.pk}/results/").content.decode(),
        client.get(reverse("market:job", kwargs={"pk": job.pk})).content.decode(),
        client.get(reverse("market:job-status", kwargs={"pk": job.pk})).content.decode(),
        client.get(reverse("market:results", kwargs={"pk": job.pk}), follow=True).content.decode(),
        client.get(reverse("market:download", kwargs={"pk": job.pk, "fmt": "json"})).content.decode(),
        client.get(reverse("market:receipt", kwargs={"pk": job.pk}), follow=True).content.decode(),
    ]
    return "\n".join(parts)


@pytest.fixture
def seen(client, token_client, buyer):
    client.force_login(buyer)
    return lambda job: everything_the_buyer_sees(client, token_client, job)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        f"SELECT ?p ?name WHERE {{ ?p <{EX}name> ?name }}",
        # FILTER and BIND tricks: errors on values, values turned into IRIs or numbers
        f"SELECT ?p WHERE {{ ?p <{EX}name> ?n FILTER(<http://www.w3.org/2001/XMLSchema#integer>(?n) > 0) }}",
        f'SELECT ?x WHERE {{ ?p <{EX}name> ?n BIND(IRI(CONCAT("http://leak.example/", ?n)) AS ?x) }}',
        f"SELECT (GROUP_CONCAT(?n) AS ?all) (COUNT(*) AS ?c) WHERE {{ ?p <{EX}name> ?n }}",
        f'SELECT ?p WHERE {{ ?p <{EX}name> ?n FILTER(STRSTARTS(?n, "Widget")) }}',
        f"CONSTRUCT {{ ?p <{EX}label> ?n }} WHERE {{ ?p <{EX}name> ?n }}",
        f'ASK {{ ?p <{EX}name> ?n FILTER(STRSTARTS(?n, "Widget")) }}',
    ],
)
def test_nothing_of_the_data_is_visible_before_payment(market, buyer, seen, query):
    job = ask(buyer, query)
    assert job.status == QueryJob.Status.QUOTED, job.error
    assert_no_data(seen(job))


@pytest.mark.django_db
def test_ask_quote_is_the_same_whether_the_answer_is_true_or_false(market, buyer, token_client):
    true_job = ask(buyer, f'ASK {{ ?p <{EX}name> "{SECRETS[0]}" }}')
    false_job = ask(buyer, f'ASK {{ ?p <{EX}name> "not-there" }}')
    a = token_client.get(f"/api/queries/{true_job.pk}/").json()["quote"]
    b = token_client.get(f"/api/queries/{false_job.pk}/").json()["quote"]
    for key in ("rows_available", "rows_in_quote", "price", "subtotal", "fee"):
        assert a[key] == b[key], key
    assert [(x["dataset"], x["amount"], x["items"]) for x in a["lines"]] == [
        (x["dataset"], x["amount"], x["items"]) for x in b["lines"]
    ]
    assert a["price"] > 0  # the answer is still sold


@pytest.mark.django_db
def test_a_providers_error_message_never_reaches_the_buyer(market, publishers, buyer, seen, failing_endpoint):
    # The failing provider is asked with bindings shipped from the shop (bound join on ?n) and echoes them.
    failing = make_remote(publishers["beta-reviews"], "Echoing", failing_endpoint.url)
    set_price(failing, "free")
    job = ask(buyer, f"SELECT * WHERE {{ ?p <{EX}name> ?n . ?x <{EX}nickname> ?n }}")
    text = seen(job) + job.error + json.dumps(job.notes)
    assert "Echoing" in text  # the buyer is told which provider failed, not what it said
    assert_no_data(text)


@pytest.mark.django_db
def test_service_is_refused_so_no_bindings_can_be_sent_out(market, buyer):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    hits = []
    threading.Thread(target=lambda: hits.append(_accept(listener)), daemon=True).start()
    query = f"SELECT * WHERE {{ ?p <{EX}name> ?n SERVICE <http://127.0.0.1:{port}/sparql> {{ ?n ?q ?o }} }}"
    with pytest.raises(InvalidAsk):
        ask(buyer, query)
    listener.close()
    assert hits in ([], [False])


@pytest.mark.django_db
def test_no_endpoint_lets_a_query_call_its_service(market, client, token_client):
    # Oxigraph calls SERVICE as soon as results are created, even on an empty store; rdflib cannot parse SPARQL
    # 1.2 (LATERAL, directional language tags), so its tree alone missed those. Nothing may connect.
    from tests.sparql.test_service import Listener, attacks

    listener = Listener()
    try:
        for text in attacks(listener.url):
            catalog = client.get("/sparql", {"query": text}, HTTP_ACCEPT="application/sparql-results+json")
            assert catalog.status_code == 400, (text, catalog.content)
            data = token_client.post("/sparql/data", {"query": text}, HTTP_X_BUDGET="1000")
            assert data.status_code == 400, (text, data.content)
            asked = token_client.post("/api/queries/", {"query": text}, format="json")
            assert asked.status_code == 400, (text, asked.content)
            assert "SERVICE" in catalog.content.decode() + data.content.decode() + asked.content.decode()
    finally:
        connections = listener.close()
    assert connections == 0


def _accept(listener) -> bool:
    try:
        listener.accept()
        return True
    except OSError:
        return False


@pytest.mark.django_db
def test_the_data_endpoint_answers_402_without_values(market, token_client):
    response = token_client.post(
        "/sparql/data", {"query": f"SELECT ?p ?name WHERE {{ ?p <{EX}name> ?name }}"}, HTTP_X_BUDGET="1"
    )
    assert response.status_code == 402
    body = response.json()
    assert body["quote"]["rows_available"] == 4 and body["quote"]["rows_in_quote"] < 4
    assert "quote_url" in body
    assert_no_data(response.content.decode())


@pytest.mark.django_db
def test_the_free_catalog_endpoint_holds_no_provider_data(market, client):
    response = client.get(
        "/sparql",
        {"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"},
        HTTP_ACCEPT="application/sparql-results+json",
    )
    assert response.status_code == 200
    assert "Shop" in response.content.decode()  # the description is public
    assert_no_data(response.content.decode())


@pytest.mark.django_db
def test_a_bought_answer_is_delivered_only_to_its_buyer(market, buyer, make_user, client):
    from marketplace.market.services.purchases import quote_purchase

    job = ask(buyer, f"SELECT ?p ?name WHERE {{ ?p <{EX}name> ?name }}")
    quote_purchase(buyer=buyer, job=job)
    client.force_login(make_user("mallory"))
    for name, kwargs in (("results", {}), ("download", {"fmt": "csv"}), ("receipt", {}), ("job", {})):
        response = client.get(reverse(f"market:{name}", kwargs={"pk": job.pk, **kwargs}))
        assert response.status_code == 404
        assert_no_data(response.content.decode())
