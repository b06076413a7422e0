"""Running a query job in process: the few statements from its task's message to its quote, the datasets it
records, the end written only while the job is still queued or running, and the claim, progress and cancel
watcher that only queries running longer than WATCH_AFTER get."""

import threading

import pytest
from django.db import connection

from marketplace.catalog.models import Dataset
from marketplace.market.models import QueryJob
from marketplace.market.services import queries
from marketplace.market.services.queries import _Watcher, job_cancel, job_create, job_message, job_run

from ..conftest import wait_until
from .conftest import EX, make_remote, set_price

REVIEWED = f"SELECT ?p ?name ?rating WHERE {{ ?p <{EX}name> ?name . ?r <{EX}about> ?p ; <{EX}rating> ?rating }}"
SLOW = f"SELECT * WHERE {{ ?a <{EX}x> ?b . ?b <{EX}y> ?c . ?c <{EX}z> ?d }}"


class FakeFederation:
    def __init__(self):
        self.cancelled = threading.Event()

    def cancel(self):
        self.cancelled.set()


def _titles(job) -> set[str]:
    return set(Dataset.objects.filter(pk__in=job.dataset_ids).values_list("title", flat=True))


def _after_the_query(monkeypatch, then) -> None:
    """The engine answers as usual, then ``then(progress)`` runs before the job goes on (``progress`` is the
    job's watcher's report, bound to the watcher)."""
    real = queries.Federation.query

    def query_then(self, *args, progress=None, **kwargs):
        result = real(self, *args, progress=progress, **kwargs)
        then(progress)
        return result

    monkeypatch.setattr(queries.Federation, "query", query_then)


@pytest.mark.django_db(transaction=True)
def test_a_job_goes_from_its_message_to_a_quote_in_a_few_statements(market, buyer, django_assert_max_num_queries):
    # the catalog version with the buyer's subscriptions, the datasets on sale with price models and summary
    # rows, the fee rate; then in one transaction: the job's end with its held answer, the quote, its lines
    # (PostgreSQL's BEGIN and COMMIT count too)
    first = job_create(buyer=buyer, query=REVIEWED, run=False)
    with django_assert_max_num_queries(8):
        first = job_run(job_id=first.pk, asked=job_message(first))
    # the next job finds the catalog unchanged and reads only the version (with the subscriptions)
    job = job_create(buyer=buyer, query=REVIEWED, run=False)
    with django_assert_max_num_queries(6):
        job = job_run(job_id=job.pk, asked=job_message(job))
    for done in (first, job):
        assert done.status == QueryJob.Status.QUOTED, done.error
        stored = QueryJob.objects.get(pk=done.pk)
        assert stored.status == QueryJob.Status.QUOTED and stored.buyer_id == buyer.pk
        assert stored.started_at is not None and stored.finished_at >= stored.started_at >= stored.created_at
        assert _titles(stored) == {"Shop", "Reviews", "Labels"}
        assert stored.progress["phase"] == "done" and stored.rows_available == 3 and stored.quotes.count() == 1


@pytest.mark.django_db
def test_a_job_is_run_once(market, buyer):
    job = job_create(buyer=buyer, query=REVIEWED, run=False)
    first = job_run(job_id=job.pk, asked=job_message(job))
    # a redelivered task runs it again, but only the first end is written
    again = job_run(job_id=job.pk, asked=job_message(job))
    # and a message without the ask (queued before messages carried it) reads the job and leaves it alone
    old = job_run(job_id=job.pk)
    assert first.status == again.status == old.status == QueryJob.Status.QUOTED
    assert again.quotes.count() == 1 and _titles(again) == {"Shop", "Reviews", "Labels"}


@pytest.mark.django_db
def test_a_job_cancelled_while_it_runs_unclaimed_keeps_no_quote(market, buyer, monkeypatch):
    # a fast query is not claimed: a cancel that lands before its end marks it cancelled, and its end is dropped
    job = job_create(buyer=buyer, query=REVIEWED, run=False)
    _after_the_query(monkeypatch, lambda progress: job_cancel(job=QueryJob.objects.get(pk=job.pk), by=buyer))
    ended = job_run(job_id=job.pk, asked=job_message(job))
    stored = QueryJob.objects.get(pk=job.pk)
    assert ended.status == stored.status == QueryJob.Status.CANCELLED
    assert stored.quotes.count() == 0 and stored.answer is None


@pytest.mark.django_db
def test_a_failed_job_still_records_its_datasets(publishers, buyer, failing_endpoint):
    broken = make_remote(publishers["acme-data"], "Broken", failing_endpoint.url)
    set_price(broken, "free")
    job = job_create(buyer=buyer, query=SLOW, run=False)
    job = job_run(job_id=job.pk)
    assert job.status in (QueryJob.Status.FAILED, QueryJob.Status.QUOTED)
    assert QueryJob.objects.get(pk=job.pk).dataset_ids == [broken.pk]


@pytest.mark.django_db(transaction=True)  # the watcher claims from its own connection
def test_a_runner_whose_watcher_lost_the_claim_writes_nothing_even_if_its_query_ended(market, buyer, monkeypatch):
    # a redelivered task's runner: its query ends just as its watcher finds the job claimed by the first runner
    job = job_create(buyer=buyer, query=REVIEWED, run=False)

    def lose_the_claim(progress):
        QueryJob.objects.filter(pk=job.pk).update(status=QueryJob.Status.RUNNING)  # the first runner's claim
        watcher = progress.__self__
        watcher._began -= 60  # as if the query had run long enough to be watched
        progress({"phase": "fetching", "requests": 9, "sources_contacted": ["1"], "triples": 9})
        assert watcher.lost

    _after_the_query(monkeypatch, lose_the_claim)
    ended = job_run(job_id=job.pk, asked=job_message(job))
    stored = QueryJob.objects.get(pk=job.pk)
    assert ended.status == stored.status == QueryJob.Status.RUNNING
    assert stored.quotes.count() == 0 and stored.answer is None


@pytest.mark.django_db
def test_a_fast_query_gets_no_watcher_thread(market, buyer, monkeypatch):
    started = []
    monkeypatch.setattr(_Watcher, "run", lambda self: started.append(self))
    monkeypatch.setattr(queries, "WATCH_AFTER", 60.0)
    job = job_run(job_id=job_create(buyer=buyer, query=REVIEWED, run=False).pk)
    assert job.status == QueryJob.Status.QUOTED and started == []


@pytest.mark.django_db(transaction=True)  # the watcher claims from its own connection
def test_a_query_that_reports_nothing_past_watch_after_is_shown_running(market, buyer, monkeypatch):
    # computing the answer from the fetched triples reports nothing: a timer starts the watcher
    monkeypatch.setattr(queries, "WATCH_AFTER", 0.1)
    job = job_create(buyer=buyer, query=REVIEWED, run=False)
    real = queries.Federation.query
    seen = {}

    def quiet(self, *args, progress=None, **kwargs):
        progress({"phase": "evaluating", "requests": 2, "sources_contacted": ["1"], "triples": 7})  # too early
        stored = wait_until(
            lambda: QueryJob.objects.filter(pk=job.pk, status=QueryJob.Status.RUNNING).first(), timeout=10
        )
        seen["progress"] = stored.progress
        return real(self, *args, progress=progress, **kwargs)

    monkeypatch.setattr(queries.Federation, "query", quiet)
    done = job_run(job_id=job.pk, asked=job_message(job))
    assert seen["progress"] == {"phase": "evaluating", "requests": 2, "sources_contacted": 1, "triples_fetched": 7}
    assert done.status == QueryJob.Status.QUOTED


@pytest.mark.django_db(transaction=True)
def test_the_watcher_starts_late_and_looks_at_the_job_before_the_engine_goes_on(market, buyer):
    job = job_create(buyer=buyer, query=REVIEWED, run=False)
    QueryJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    federation = FakeFederation()
    watcher = _Watcher(job.pk, federation, after=0.3)
    try:
        watcher.update({"phase": "fetching", "requests": 1, "sources_contacted": ["1"], "triples": 2})
        assert watcher.thread is None and not federation.cancelled.is_set()
        watcher._began -= 0.3  # as if the query had run that long
        watcher.update({"phase": "fetching", "requests": 2, "sources_contacted": ["1", "2"], "triples": 5})
        # started by this report, which returns only after the first look: the job is claimed with its
        # progress, and the cancel is already passed on
        assert watcher.thread is not None and federation.cancelled.is_set() and not watcher.lost
        stored = QueryJob.objects.get(pk=job.pk)
        assert stored.status == QueryJob.Status.RUNNING and stored.started_at == watcher.started_at
        assert stored.progress == {"phase": "fetching", "requests": 2, "sources_contacted": 2, "triples_fetched": 5}
    finally:
        watcher.close()
    assert not watcher.thread.is_alive()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", [QueryJob.Status.RUNNING, QueryJob.Status.CANCELLED, QueryJob.Status.QUOTED])
def test_a_watcher_that_cannot_claim_its_job_stops_the_engine_and_writes_nothing(market, buyer, status):
    job = job_create(buyer=buyer, query=REVIEWED, run=False)
    QueryJob.objects.filter(pk=job.pk).update(status=status, progress={"phase": "theirs"})
    federation = FakeFederation()
    watcher = _Watcher(job.pk, federation, after=0.0)
    try:
        watcher.update({"phase": "fetching", "requests": 1, "sources_contacted": ["1"], "triples": 2})
        assert watcher.lost and federation.cancelled.is_set()
    finally:
        watcher.close()
    stored = QueryJob.objects.get(pk=job.pk)
    assert stored.status == status and stored.progress == {"phase": "theirs"} and stored.started_at is None


@pytest.mark.django_db(transaction=True)
def test_the_end_of_a_query_does_not_start_the_watcher(market, buyer):
    job = job_create(buyer=buyer, query=REVIEWED, run=False)
    watcher = _Watcher(job.pk, FakeFederation(), after=0.0)
    watcher.update({"phase": "done", "rows": 3, "requests": 4})
    watcher.close()
    assert watcher.thread is None


def _run_in_thread(job_id) -> threading.Thread:
    def run():
        try:
            job_run(job_id=job_id)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_slow_query_shows_live_progress(publishers, buyer, slow_endpoint):
    slow = make_remote(publishers["acme-data"], "Slow", slow_endpoint.url)
    set_price(slow, "free")
    job = job_create(buyer=buyer, query=SLOW, run=False)
    thread = _run_in_thread(job.pk)
    try:

        def live():
            row = QueryJob.objects.get(pk=job.pk)
            return row.status == QueryJob.Status.RUNNING and row.progress.get("requests", 0) >= 1

        wait_until(live, timeout=20, interval=0.02, message="progress written while running")
    finally:
        thread.join(timeout=60)
    assert QueryJob.objects.get(pk=job.pk).status == QueryJob.Status.QUOTED


@pytest.mark.django_db(transaction=True)
def test_a_slow_query_is_cancelled_in_process(publishers, buyer, slow_endpoint):
    slow = make_remote(publishers["acme-data"], "Slow", slow_endpoint.url)
    set_price(slow, "free")
    job = job_create(buyer=buyer, query=SLOW, run=False)
    thread = _run_in_thread(job.pk)
    try:
        wait_until(
            lambda: QueryJob.objects.get(pk=job.pk).status == QueryJob.Status.RUNNING,
            timeout=20,
            interval=0.01,
            message="the job running",
        )
        job_cancel(job=QueryJob.objects.get(pk=job.pk), by=buyer)
    finally:
        thread.join(timeout=60)
    job = QueryJob.objects.get(pk=job.pk)
    assert job.status == QueryJob.Status.CANCELLED and job.quotes.count() == 0
    assert job.dataset_ids == [slow.pk]


@pytest.mark.django_db(transaction=True)
def test_the_data_endpoint_stops_a_query_past_its_time_limit(publishers, buyer, token_client, slow_endpoint, settings):
    import time

    slow = make_remote(publishers["acme-data"], "Slow", slow_endpoint.url)
    set_price(slow, "free")
    settings.MARKET_SPARQL_TIME_LIMIT = 0.5
    started = time.monotonic()
    response = token_client.get("/sparql/data", {"query": SLOW}, HTTP_ACCEPT="application/sparql-results+json")
    elapsed = time.monotonic() - started
    assert response.status_code == 504, response.content
    assert b"ran longer than this endpoint allows" in response.content
    # the engine stops at its next request: one slow request (1.5 s) may still finish, not the whole query
    assert elapsed < 4.0
    job = QueryJob.objects.filter(buyer=buyer).latest("created_at")
    assert job.status == QueryJob.Status.FAILED and job.error.startswith(queries.TIMED_OUT)


CROSS = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(8)) + " }"


@pytest.mark.django_db(transaction=True)
def test_the_data_endpoint_refuses_a_product_of_parts_sharing_no_variable_at_once(market, token_client, settings):
    # eight copies of every triple: the engine would join them in the web process, for days
    import time

    settings.MARKET_MAX_INTERMEDIATE_ROWS = 10_000  # (at the default, the first two copies are joined first)
    started = time.monotonic()
    response = token_client.get("/sparql/data", {"query": CROSS}, HTTP_ACCEPT="application/sparql-results+json")
    assert response.status_code == 413, response.content
    assert b"parts of it that share no variable combine into more than 10,000 rows" in response.content
    assert time.monotonic() - started < 5.0


@pytest.mark.django_db(transaction=True)
def test_the_data_endpoint_stops_an_answer_computed_past_its_time_limit(market, token_client, settings, monkeypatch):
    # Oxigraph's evaluation of the fetched triples cannot be interrupted, nor can this one: it runs in a child
    # process, killed at the time limit
    import time

    from sparql import federation

    real = federation.evaluate_fetched
    monkeypatch.setattr(queries, "evaluate_fetched", lambda evaluation: time.sleep(3600))
    settings.MARKET_SPARQL_TIME_LIMIT = 2.0
    started = time.monotonic()
    response = token_client.get("/sparql/data", {"query": REVIEWED}, HTTP_ACCEPT="application/sparql-results+json")
    elapsed = time.monotonic() - started
    assert response.status_code == 504, response.content
    assert b"ran longer than this endpoint allows" in response.content and b"(2 s)" in response.content
    assert elapsed < 6.0
    monkeypatch.setattr(queries, "evaluate_fetched", real)
    answered = token_client.get("/sparql/data", {"query": REVIEWED}, HTTP_ACCEPT="application/sparql-results+json")
    assert answered.status_code in (200, 402), answered.content  # the endpoint goes on answering


@pytest.mark.django_db(transaction=True)
def test_the_data_endpoint_refuses_an_answer_needing_more_memory_than_allowed(
    market, token_client, settings, monkeypatch
):
    # an evaluation that allocates 200 MB, in a child allowed 50 MB more than it shares with the web process
    monkeypatch.setattr(queries, "evaluate_fetched", lambda evaluation: bytearray(200_000_000))
    settings.MARKET_SPARQL_MAX_MEMORY = 50_000_000
    response = token_client.get("/sparql/data", {"query": REVIEWED}, HTTP_ACCEPT="application/sparql-results+json")
    assert response.status_code == 413, response.content
    assert b"too large for the market: it needed more than 50,000,000 bytes of memory" in response.content


@pytest.mark.django_db(transaction=True)  # the watcher claims the job from its own connection
def test_a_job_without_a_time_limit_is_not_stopped(publishers, buyer, slow_endpoint):
    slow = make_remote(publishers["acme-data"], "Slow", slow_endpoint.url)
    set_price(slow, "free")
    job = job_run(job_id=job_create(buyer=buyer, query=SLOW, run=False).pk)
    assert job.status == QueryJob.Status.QUOTED


@pytest.mark.django_db
def test_a_query_needing_more_triples_than_allowed_fails_with_a_clear_reason(market, buyer, settings):
    settings.MARKET_MAX_FETCHED_TRIPLES = 2
    job = job_create(buyer=buyer, query=REVIEWED, run=False)
    ended = job_run(job_id=job.pk, asked=job_message(job))
    stored = QueryJob.objects.get(pk=job.pk)
    assert ended.status == stored.status == QueryJob.Status.FAILED
    assert (
        stored.error
        == "The query is too large for the market: it needs more than 2 triples from the sources. Narrow it down."
    )
    assert stored.quotes.count() == 0 and stored.answer is None
    settings.MARKET_MAX_FETCHED_TRIPLES = 1000
    again = job_create(buyer=buyer, query=REVIEWED, run=False)
    assert job_run(job_id=again.pk).status == QueryJob.Status.QUOTED


@pytest.mark.django_db(transaction=True)
def test_a_query_job_in_the_worker_is_stopped_past_the_job_time_limit(publishers, buyer, slow_endpoint, settings):
    from marketplace.market.tasks import run_query_job

    slow = make_remote(publishers["acme-data"], "Slow", slow_endpoint.url)
    set_price(slow, "free")
    settings.MARKET_JOB_TIME_LIMIT = 0.5
    job = job_create(buyer=buyer, query=SLOW, run=False)
    run_query_job.run(str(job.pk), job_message(job))  # the task's body, as the worker runs it
    stored = QueryJob.objects.get(pk=job.pk)
    assert stored.status == QueryJob.Status.FAILED
    assert stored.error == f"{queries.JOB_TIMED_OUT} (0.5 s)."


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_evaluates_apart_stops_a_stuck_evaluation_at_the_job_time_limit(
    market, buyer, settings, monkeypatch
):
    # as `make run`'s thread pool, which cannot kill a task: the evaluation (simulated: a sleep, as
    # uninterruptible as Oxigraph's) runs in a child killed at the limit
    import time

    from marketplace.market.tasks import run_query_job

    monkeypatch.setattr(queries, "evaluate_fetched", lambda evaluation: time.sleep(3600))
    settings.MARKET_WORKER_EVALUATES_APART = True
    settings.MARKET_JOB_TIME_LIMIT = 1.0
    job = job_create(buyer=buyer, query=REVIEWED, run=False)
    started = time.monotonic()
    run_query_job.run(str(job.pk), job_message(job))  # the task's body, as the worker runs it
    assert time.monotonic() - started < 5.0
    stored = QueryJob.objects.get(pk=job.pk)
    assert stored.status == QueryJob.Status.FAILED and stored.error.startswith(queries.JOB_TIMED_OUT)


@pytest.mark.django_db
def test_an_answer_with_more_rows_than_allowed_fails_with_a_clear_reason(market, buyer, settings):
    settings.MARKET_MAX_ANSWER_ROWS = 2  # REVIEWED has 3 rows
    job = job_create(buyer=buyer, query=REVIEWED, run=False)
    ended = job_run(job_id=job.pk, asked=job_message(job))
    assert ended.status == QueryJob.Status.FAILED
    assert ended.error == "The query is too large for the market: its answer has more than 2 rows. Narrow it down."


@pytest.mark.django_db
def test_jobs_still_ongoing_past_the_time_limit_are_failed_and_stay_so(market, buyer, settings):
    from datetime import timedelta

    from django.conf import settings as live_settings
    from django.utils import timezone

    from marketplace.market.tasks import fail_stale_jobs, run_query_job

    settings.MARKET_JOB_TIME_LIMIT = 60
    queued, running, recent, quoted = (job_create(buyer=buyer, query=REVIEWED, run=False) for _ in range(4))
    long_ago = timezone.now() - timedelta(seconds=60 + queries.STALE_GRACE + 1)
    QueryJob.objects.filter(pk__in=[queued.pk, running.pk, quoted.pk]).update(created_at=long_ago)
    QueryJob.objects.filter(pk=running.pk).update(status=QueryJob.Status.RUNNING)
    QueryJob.objects.filter(pk=quoted.pk).update(status=QueryJob.Status.QUOTED)
    assert fail_stale_jobs.run() == 2
    status = dict(QueryJob.objects.values_list("pk", "status"))
    assert [status[j.pk] for j in (queued, running, recent, quoted)] == ["failed", "failed", "queued", "quoted"]
    assert QueryJob.objects.get(pk=queued.pk).error == f"{queries.STALE} ({60 + queries.STALE_GRACE:g} s)."
    # its runner coming back late writes nothing over the failure
    late = job_run(job_id=queued.pk, asked=job_message(queued))
    assert late.status == QueryJob.Status.FAILED and late.quotes.count() == 0
    # the beat runs it every minute, and a prefork worker kills a run_query_job that outlives its own limit
    assert live_settings.CELERY_BEAT_SCHEDULE["market-fail-stale-jobs"]["task"] == fail_stale_jobs.name
    assert run_query_job.time_limit > live_settings.MARKET_JOB_TIME_LIMIT
