"""Migration 0004 turns a job's dataset links into pks on its row, and back."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from marketplace.market.models import QueryJob

from .conftest import make_remote

BEFORE = [("market", "0003_queryjob_buyer_recent")]


def _migrate(target=None):
    """To ``target``, or back to the latest migrations."""
    executor = MigrationExecutor(connection)
    target = target or executor.loader.graph.leaf_nodes()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_a_jobs_datasets_survive_the_move_to_pks_and_back(publishers, buyer):
    acme = publishers["acme-data"]
    shop, reviews = (
        make_remote(acme, "Shop", "http://shop.example/sparql"),
        make_remote(acme, "Reviews", "http://r.example/sparql"),
    )
    job = QueryJob.objects.create(buyer=buyer, query="ASK {}", dataset_ids=[reviews.pk, shop.pk, 10**9])
    bare = QueryJob.objects.create(buyer=buyer, query="ASK {}")
    try:
        old = _migrate(BEFORE)
        through = old.get_model("market", "QueryJob").datasets.through
        links = set(through.objects.values_list("queryjob_id", "dataset_id"))
        # a pk whose dataset is gone has no link to go back to
        assert links == {(job.pk, shop.pk), (job.pk, reviews.pk)}
    finally:
        _migrate()
    assert QueryJob.objects.get(pk=job.pk).dataset_ids == sorted([shop.pk, reviews.pk])
    assert QueryJob.objects.get(pk=bare.pk).dataset_ids == []
