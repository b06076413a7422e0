"""The engine's summaries of the datasets a query uses: read from the database once per summary version."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace.catalog.models import DatasetSummary
from marketplace.market.services import sources as market_sources

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    market_sources._ENGINE_CACHE.clear()
    yield
    market_sources._ENGINE_CACHE.clear()


def _selected(buyer):
    return market_sources.select_datasets(buyer_id=buyer.pk, include=[], exclude=[]).datasets


def test_engine_summaries_are_read_once_per_version(market, buyer):
    shop = market["shop"]
    engine = {"predicates": {"http://e/p": 3}, "classes": {}, "members": {"bits": 8, "hashes": 1, "data": "AA=="}}
    DatasetSummary.objects.create(dataset=shop, triples=3, engine=engine)
    first = market_sources.build_summaries(_selected(buyer))
    assert first[str(shop.pk)] == engine
    with CaptureQueriesContext(connection) as queries:
        again = market_sources.build_summaries(_selected(buyer))
    assert again[str(shop.pk)] == engine
    assert not [q for q in queries.captured_queries if "engine" in q["sql"]]  # from the cache

    # a refreshed summary is a new version: read again
    fresh = {**engine, "predicates": {"http://e/q": 5}}
    DatasetSummary.objects.filter(dataset=shop).update(engine=fresh, computed_at=timezone.now())
    assert market_sources.build_summaries(_selected(buyer))[str(shop.pk)] == fresh


def test_datasets_without_an_engine_summary_fall_back_to_their_counts(market, buyer):
    from marketplace.catalog.models import PredicateCount

    labels = market["labels"]
    DatasetSummary.objects.create(dataset=labels, triples=2, engine={})
    PredicateCount.objects.create(dataset=labels, iri="http://e/label", triples=2)
    out = market_sources.build_summaries(_selected(buyer))
    assert out[str(labels.pk)] == {"predicates": {"http://e/label": 2}, "classes": {}}
    assert str(market["reviews"].pk) not in out  # no summary at all: probed
