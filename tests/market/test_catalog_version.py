"""A worker keeps the catalog it read while the catalog version stays the same; every write that changes what
the market sells, however it is made, changes the version in the same commit, so no quote uses an old
tariff, a withdrawn dataset or an old platform fee. Transactional tests: the triggers fire at commit."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from marketplace.accounts.models import Organisation
from marketplace.catalog.models import Dataset, DatasetSummary
from marketplace.market import catalog_version
from marketplace.market.models import CatalogVersion, PriceModel, QueryJob, Subscription
from marketplace.market.selectors import active_subscriptions
from marketplace.market.services import sources
from marketplace.market.services.queries import job_create, job_run
from marketplace.money.models import FeeRate

from ..fresh_process import check_in_fresh_process
from .conftest import EX, set_price

pytestmark = pytest.mark.django_db(transaction=True)

NAMES = f"SELECT ?p ?name WHERE {{ ?p <{EX}name> ?name }}"


def version() -> int:
    return CatalogVersion.objects.get(pk=1).version


def quote_of(buyer, query: str = NAMES):
    job = job_run(job_id=job_create(buyer=buyer, query=query, run=False).pk)
    assert job.status == QueryJob.Status.QUOTED, job.error
    return job.quotes.get()


def test_every_watched_table_has_its_trigger():
    assert catalog_version.installed_on(connection) == set(catalog_version.watched_tables())


@pytest.mark.parametrize(
    "write",
    [
        lambda m: set_price(m["shop"], "per_triple", rate=Decimal("3")),
        lambda m: PriceModel.objects.filter(dataset=m["shop"]).update(rate=Decimal("4")),
        lambda m: Dataset.objects.filter(pk=m["reviews"].pk).update(status=Dataset.Status.REJECTED),
        lambda m: Organisation.objects.filter(pk=m["acme"].pk).update(status="rejected"),
        lambda m: DatasetSummary.objects.create(dataset=m["shop"], triples=3),
        lambda m: FeeRate.objects.create(percent=Decimal("12.5")),
        lambda m: PriceModel.objects.filter(dataset=m["labels"]).delete(),
    ],
    ids=["service", "queryset-update", "dataset", "publisher", "summary", "fee", "delete"],
)
def test_a_write_to_what_the_market_sells_changes_the_version(market, write):
    before = version()
    write(market)
    assert version() > before


def test_a_raw_sql_price_change_is_priced_by_the_next_quote(market, buyer):
    assert quote_of(buyer).lines.get(dataset=market["shop"]).rate == Decimal("1")
    with connection.cursor() as cursor:  # behind the ORM's back: no signal, no save()
        cursor.execute(
            f"UPDATE {PriceModel._meta.db_table} SET rate = %s WHERE dataset_id = %s", [Decimal("5"), market["shop"].pk]
        )
    line = quote_of(buyer).lines.get(dataset=market["shop"])
    assert line.rate == Decimal("5") and line.amount == 5 * line.triples > 0


def test_a_withdrawn_dataset_and_a_new_fee_reach_the_next_quote(market, buyer):
    first = quote_of(buyer)
    assert first.lines.filter(dataset=market["shop"]).exists()
    FeeRate.objects.create(percent=Decimal("50"))
    Dataset.objects.filter(pk=market["shop"].pk).update(status=Dataset.Status.REJECTED)
    second = quote_of(buyer)
    assert not second.lines.filter(dataset=market["shop"]).exists()
    assert second.fee == (second.subtotal + 1) // 2 or second.fee == second.subtotal // 2
    assert market["shop"].pk not in {
        d.pk for d in sources.select_datasets(buyer_id=buyer.pk, include=[], exclude=[]).datasets
    }


def test_an_unchanged_catalog_is_not_read_again(market, buyer, django_assert_num_queries):
    sources.catalog_on_sale(buyer_id=buyer.pk)
    with django_assert_num_queries(1):  # the version, with the buyer's subscriptions
        datasets, fee, _ = sources.catalog_on_sale(buyer_id=buyer.pk)
    assert {d.pk for d in datasets} == {market[k].pk for k in ("shop", "reviews", "labels")}
    set_price(market["labels"], "access_fee", access_fee=9)
    with django_assert_num_queries(3):  # the version changed: datasets and fee read again
        datasets, _, _ = sources.catalog_on_sale(buyer_id=buyer.pk)
    assert {d.pk: d.price_model.access_fee for d in datasets}[market["labels"].pk] == 9


def test_what_a_transaction_read_is_not_kept_after_it_rolls_back(market, buyer):
    sources.catalog_on_sale(buyer_id=buyer.pk)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        PriceModel.objects.filter(dataset=market["shop"]).update(rate=Decimal("99"))
        datasets, _, _ = sources.catalog_on_sale(buyer_id=buyer.pk)
        assert {d.pk: d.price_model.rate for d in datasets}[market["shop"].pk] == Decimal("99")
        raise Undo
    datasets, _, _ = sources.catalog_on_sale(buyer_id=buyer.pk)
    assert {d.pk: d.price_model.rate for d in datasets}[market["shop"].pk] == Decimal("1")


def test_a_version_row_made_again_never_repeats_a_number(market):
    before = version()
    CatalogVersion.objects.all().delete()
    catalog_version.install(connection)
    assert version() > before


def test_the_subscriptions_read_with_the_version_are_the_active_ones(market, buyer):
    now = timezone.now()
    for dataset, starts, ends in (
        (market["shop"], now - timedelta(days=1), now + timedelta(days=1)),  # active
        (market["reviews"], now - timedelta(days=3), now - timedelta(days=1)),  # over
        (market["labels"], now + timedelta(days=1), now + timedelta(days=3)),  # not yet
    ):
        Subscription.objects.create(
            buyer=buyer, dataset=dataset, starts_at=starts, ends_at=ends, amount=1, idempotency_key=f"sub-{dataset.pk}"
        )
    current, subscribed = sources._version_and_subscriptions(buyer.pk)
    assert current == version()
    assert subscribed == set(active_subscriptions(buyer_id=buyer.pk).values_list("dataset_id", flat=True))
    assert subscribed == {market["shop"].pk}


SQLITE_CHECK = """
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from marketplace.market import catalog_version
from marketplace.market.models import CatalogVersion

call_command("migrate", verbosity=0)
tables = set(catalog_version.watched_tables())
assert catalog_version.installed_on(connection) == tables, catalog_version.installed_on(connection)
before = CatalogVersion.objects.get(pk=1).version
with connection.cursor() as cursor:
    cursor.execute("INSERT INTO money_feerate (percent, set_at) VALUES (3, '2026-01-01 00:00:00')")
assert CatalogVersion.objects.get(pk=1).version > before
# a migration that rebuilds a table drops its triggers; the next migrate puts them back
with connection.cursor() as cursor:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    for (name,) in cursor.fetchall():
        cursor.execute(f"DROP TRIGGER {name}")
assert catalog_version.installed_on(connection) == set()
call_command("migrate", verbosity=0)
assert catalog_version.installed_on(connection) == tables
print("ok")
"""


@pytest.mark.django_db(transaction=False)
def test_sqlite_gets_the_triggers_too_and_migrate_puts_them_back(tmp_path):
    # the product's embedded default; the rest of the suite runs on PostgreSQL
    check_in_fresh_process(SQLITE_CHECK, tmp_path)


def test_writers_of_different_catalog_rows_do_not_deadlock_on_the_version(market):
    """One transaction changes a dataset, then the price model another has just changed. Were the version
    bumped at once, the first would hold the version row and wait for the price model's row while the second
    held that row and waited for the version: a deadlock. Bumped at commit, the first just waits."""
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (the README's test command sets DATABASE_URL)")
    before = version()
    first_wrote, second_wrote, errors = threading.Event(), threading.Event(), []

    def first() -> None:
        try:
            with transaction.atomic():
                Dataset.objects.filter(pk=market["shop"].pk).update(title="Shop, renamed")
                first_wrote.set()
                assert second_wrote.wait(10), "the second writer was kept waiting"
                PriceModel.objects.filter(dataset=market["reviews"]).update(rate=Decimal("3"))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def second() -> None:
        try:
            assert first_wrote.wait(10)
            with transaction.atomic():
                PriceModel.objects.filter(dataset=market["reviews"]).update(rate=Decimal("4"))
                second_wrote.set()
                time.sleep(0.3)  # the first is now waiting for this row
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == [] and not any(t.is_alive() for t in threads)
    assert PriceModel.objects.get(dataset=market["reviews"]).rate == Decimal("3")  # the first committed last
    assert version() >= before + 2
