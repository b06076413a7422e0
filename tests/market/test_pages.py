"""The buyer's pages: ask, progress, quote, buy, paginated results, downloads, receipt."""

import pytest
from django.urls import reverse

from marketplace.allocation import SOLVED_BY
from marketplace.market.models import QueryJob
from marketplace.market.services.queries import job_run

from .conftest import EX, SECRETS


@pytest.mark.django_db
def test_ask_follow_buy_and_read_results_in_the_ui(market, buyer, client):
    client.force_login(buyer)
    query = f"SELECT ?p ?name WHERE {{ ?p <{EX}name> ?name }} ORDER BY ?name"
    response = client.post(reverse("market:jobs"), {"query": query, "strategy": "auto", "include": "acme-data"})
    assert response.status_code == 302
    job = QueryJob.objects.get(buyer=buyer)
    page = client.get(response["Location"]).content.decode()
    assert "data-poll-url" in page and "Cancel" in page
    status = client.get(reverse("market:job-status", kwargs={"pk": job.pk})).json()
    assert status["finished"] is False and 0 <= status["progress"] <= 100
    job_run(job_id=job.pk)
    page = client.get(reverse("market:job", kwargs={"pk": job.pk})).content.decode()
    assert "Rows available" in page and "data-buy" in page and "?name" in page
    assert not any(secret in page for secret in SECRETS)
    quote = job.quotes.get()
    assert f'<abbr title="{SOLVED_BY[quote.strategy]}">{quote.strategy}</abbr>' in page  # the solver, in words
    bought = client.post(reverse("market:job-buy", kwargs={"pk": job.pk}), {"quote": quote.pk})
    assert bought.status_code == 302 and bought["Location"] == reverse("market:receipt", kwargs={"pk": job.pk})
    receipt = client.get(bought["Location"]).content.decode()
    assert "Shop" in receipt and "per triple" in receipt
    results = client.get(reverse("market:results", kwargs={"pk": job.pk})).content.decode()
    assert all(secret in results for secret in SECRETS)
    csv = client.get(reverse("market:download", kwargs={"pk": job.pk, "fmt": "csv"}))
    assert csv["Content-Type"].startswith("text/csv") and csv.content.count(b"SECRET") == 4
    assert client.get(reverse("market:download", kwargs={"pk": job.pk, "fmt": "exe"})).status_code == 400


@pytest.mark.django_db
def test_results_are_paginated(market, buyer, client, monkeypatch):
    from marketplace.market import views
    from marketplace.market.services.purchases import quote_purchase

    from .conftest import ask

    monkeypatch.setattr(views, "RESULTS_PER_PAGE", 3)
    job = ask(buyer, f"SELECT ?p ?name WHERE {{ ?p <{EX}name> ?name }} ORDER BY ?name", include=["acme-data"])
    quote_purchase(buyer=buyer, job=job)
    client.force_login(buyer)
    first = client.get(reverse("market:results", kwargs={"pk": job.pk})).content.decode()
    second = client.get(reverse("market:results", kwargs={"pk": job.pk}) + "?page=2").content.decode()
    ordered = sorted(SECRETS)
    assert all(s in first for s in ordered[:3]) and ordered[3] not in first
    assert ordered[3] in second and "Page 2 of 2" in second


@pytest.mark.django_db
def test_a_job_computing_its_answer_says_so(market, buyer, client):
    from marketplace.market.services.queries import job_create

    client.force_login(buyer)
    job = job_create(buyer=buyer, query=f"SELECT ?p WHERE {{ ?p <{EX}name> ?n }}", run=False)
    progress = {"phase": "evaluating", "requests": 4, "sources_contacted": 2, "triples_fetched": 120}
    QueryJob.objects.filter(pk=job.pk).update(status=QueryJob.Status.RUNNING, progress=progress)
    status = client.get(reverse("market:job-status", kwargs={"pk": job.pk})).json()
    assert status["status_label"] == (
        "Running the query: 2 sources contacted, 4 requests, 120 triples; computing the answer and which data each row"
        " needs"
    )
    assert status["finished"] is False
