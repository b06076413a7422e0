"""The hourly quota on asks: counted and enforced in the statement that inserts the job."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.market.errors import TooManyQuotes
from marketplace.market.models import QueryJob
from marketplace.market.services.queries import job_create

from ..fresh_process import check_in_fresh_process

ASK = "SELECT ?s WHERE { ?s ?p ?o }"


@pytest.mark.django_db
def test_a_buyer_gets_so_many_asks_an_hour(settings, make_user):
    settings.MARKET_QUOTES_PER_HOUR = 2
    buyer, other = make_user("carol"), make_user("dave")
    old = job_create(buyer=buyer, query=ASK, run=False)
    QueryJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1, seconds=1))
    job_create(buyer=other, query=ASK, run=False)  # another buyer's asks do not count
    first = job_create(buyer=buyer, query=ASK, run=False)
    job_create(buyer=buyer, query=ASK, run=False)
    with pytest.raises(TooManyQuotes, match="At most 2 queries an hour"):
        job_create(buyer=buyer, query=ASK, run=False)
    assert QueryJob.objects.filter(buyer=buyer).count() == 3  # the refused ask left no row
    # the row is the ORM's: every field reads back as it was set
    stored = QueryJob.objects.get(pk=first.pk)
    for field in QueryJob._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(first, field.attname), field.name


@pytest.mark.django_db
def test_the_api_answers_429_past_the_quota(settings, token_client):
    settings.MARKET_QUOTES_PER_HOUR = 1
    assert token_client.post("/api/queries/", {"query": ASK}, format="json").status_code == 201
    refused = token_client.post("/api/queries/", {"query": ASK}, format="json")
    assert refused.status_code == 429 and "an hour" in refused.json()["detail"]


SQLITE_CHECK = """
import django
from django.core.management import call_command
django.setup()
from django.conf import settings
from marketplace.accounts.models import User
from marketplace.market.errors import TooManyQuotes
from marketplace.market.models import QueryJob
from marketplace.market.services.queries import job_create
call_command("migrate", verbosity=0)
settings.MARKET_QUOTES_PER_HOUR = 2
buyer = User.objects.create_user("carol", "carol@example.org", "pw-Secret-123")
jobs = [job_create(buyer=buyer, query="ASK { ?s ?p ?o }", include=["acme"], budget=5, run=False) for _ in range(2)]
try:
    job_create(buyer=buyer, query="ASK { ?s ?p ?o }", run=False)
    raise AssertionError("a third ask went through")
except TooManyQuotes:
    pass
stored = QueryJob.objects.get(pk=jobs[0].pk)
assert (stored.kind, stored.include, stored.budget, stored.status) == ("ASK", ["acme"], 5, "queued"), stored
assert stored.created_at == jobs[0].created_at and QueryJob.objects.count() == 2
print("ok")
"""


def test_the_quota_holds_on_sqlite(tmp_path):
    check_in_fresh_process(SQLITE_CHECK, tmp_path)
