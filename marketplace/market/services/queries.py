"""Asking: create a query job, run it over the federation (in a worker, with progress and cancel), hold the
answer with its provenance, then quote it. Errors shown to the buyer never carry a source's own message,
because a source's error can echo bindings shipped to it from another provider."""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from marketplace.allocation import STRATEGIES
from sparql import AnswerTooLarge, Federation, QueryCancelled, QuerySyntaxError, SourceError, UnsupportedQuery
from sparql.algebra import check_query
from sparql.federation import Evaluation, evaluate_fetched
from sparql.planning import PathPattern
from sparql.provenance import collect_patterns
from sparql.results import QueryResult

from .. import held, sandbox
from ..errors import InvalidAsk, NotAllowed, TooManyQuotes
from ..models import QueryJob
from ..pricing import BLANKET
from ..protocol import check_no_service
from . import sources as market_sources
from . import timers

logger = logging.getLogger(__name__)
MAX_QUERY_CHARS = 100_000
PROGRESS_INTERVAL = 0.3
TIMED_OUT = "The query ran longer than this endpoint allows; ask it through the API, which runs it in the background"
JOB_TIMED_OUT = "The query ran longer than the market allows a query to run"
TOO_LARGE = "The query is too large for the market"
WATCH_AFTER = 0.2  # seconds before a query gets its progress and cancel watcher
_HELD_FIELDS = ["variables", "rows_available", "answer", "provenance", "federation_seconds"]


@functools.lru_cache(maxsize=64)
def parse_cached(query: str):
    """The engine's parse of a job's query, whose syntax was checked in full when it was asked (no second
    opinion from Oxigraph); kept per process for a text asked again."""
    return Federation([]).parse(query, strict=False)


@functools.lru_cache(maxsize=256)
def query_kind(query: str) -> str:
    """SELECT, ASK or CONSTRUCT for a query the market can take, else InvalidAsk saying why. Asking only checks
    the query (check_query: no translation to algebra); the worker that runs it parses it in full."""
    check_no_service(query)  # the market's own words for it, before the engine's refusal
    try:
        return check_query(query)
    except QuerySyntaxError as exc:
        raise InvalidAsk(f"The query does not parse: {exc.message}") from None
    except UnsupportedQuery as exc:
        raise InvalidAsk(f"The query is not supported: {exc}") from None


def _clean_entries(entries: Sequence | None) -> list[str]:
    out = []
    for entry in entries or []:
        text = str(entry).strip()
        if text:
            out.append(text[:200])
    return out[:100]


def job_create(
    *,
    buyer,
    query: str,
    value_per_row: int | None = None,
    budget: int | None = None,
    include: Sequence | None = None,
    exclude: Sequence | None = None,
    strategy: str = "auto",
    via: str = "ui",
    run: bool = True,
) -> QueryJob:
    """Check the ask cheaply (syntax, amounts, quota) and queue it; `run=False` leaves the running to the caller."""
    if not buyer.is_authenticated:
        raise NotAllowed("Sign in to ask a query.")
    query = (query or "").strip()
    if not query:
        raise InvalidAsk("The query is empty.")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidAsk(f"The query is longer than {MAX_QUERY_CHARS} characters.")
    for name, amount in (("value per row", value_per_row), ("budget", budget)):
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount < 0):
            raise InvalidAsk(f"The {name} must be a whole number of minor units, 0 or more.")
    if strategy not in STRATEGIES:
        raise InvalidAsk(f"The strategy must be one of {', '.join(STRATEGIES)}.")
    job = QueryJob(
        buyer=buyer,
        query=query,
        kind=query_kind(query),
        value_per_row=value_per_row,
        budget=budget,
        include=_clean_entries(include),
        exclude=_clean_entries(exclude),
        strategy=strategy,
        via=via,
    )
    limit = settings.MARKET_QUOTES_PER_HOUR
    if not _insert_within_quota(job, since=job.created_at - timedelta(hours=1), limit=limit):
        raise TooManyQuotes(f"At most {limit} queries an hour; try again later.")
    if run:
        from ..tasks import run_query_job

        transaction.on_commit(lambda: run_query_job.delay(str(job.pk), job_message(job)))
    return job


def _insert_within_quota(job: QueryJob, *, since, limit: int) -> bool:
    """Insert the job unless its buyer has asked ``limit`` queries since ``since``. The count and the insert are
    one statement (INSERT ... SELECT ... WHERE), compiled once per process: the ORM's count and create took two
    round trips and compiled both on every ask, 0.45 ms more. Each field prepares its own value, as the
    ORM's insert does."""
    sql, fields = _quota_insert_sql(connection.vendor)
    created_at = QueryJob._meta.get_field("created_at")
    params = [field.get_db_prep_save(field.pre_save(job, True), connection) for field in fields]
    params += [job.buyer_id, created_at.get_db_prep_save(since, connection), limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount != 1:
            return False
    job._state.adding, job._state.db = False, connection.alias
    return True


@functools.lru_cache(maxsize=4)
def _quota_insert_sql(vendor: str) -> tuple[str, list]:
    meta, qn = QueryJob._meta, connection.ops.quote_name
    fields = list(meta.concrete_fields)
    columns = ", ".join(qn(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    buyer, created_at = qn(meta.get_field("buyer").column), qn(meta.get_field("created_at").column)
    recent = f"SELECT COUNT(*) FROM {qn(meta.db_table)} WHERE {buyer} = %s AND {created_at} >= %s"
    return f"INSERT INTO {qn(meta.db_table)} ({columns}) SELECT {values} WHERE ({recent}) < %s", fields


STALE_GRACE = 120  # seconds past MARKET_JOB_TIME_LIMIT before a job still queued or running is given up
STALE = "The query did not finish within the market's time limit"


def jobs_fail_stale(*, now=None) -> int:
    """Mark failed the jobs asked longer ago than the job time limit (and a grace) that are still queued or
    running: their worker died, or was killed in the middle of an evaluation Oxigraph cannot interrupt (the
    worker's hard time limit), or their task was lost. A runner that comes back later writes nothing over
    this (ends are written only while a job is ongoing). Returns how many were marked."""
    now = now or timezone.now()
    limit = settings.MARKET_JOB_TIME_LIMIT + STALE_GRACE
    return QueryJob.objects.filter(
        status__in=(QueryJob.Status.QUEUED, QueryJob.Status.RUNNING), created_at__lt=now - timedelta(seconds=limit)
    ).update(status=QueryJob.Status.FAILED, error=f"{STALE} ({limit:g} s).", finished_at=now)


def job_cancel(*, job: QueryJob, by) -> QueryJob:
    if job.buyer_id != by.pk:
        raise NotAllowed("Only the buyer can cancel this query.")
    if job.finished:
        return job
    job.cancel_requested = True
    job.save(update_fields=["cancel_requested"])
    # A job still in the queue is cancelled at once; a running one stops at its next request.
    QueryJob.objects.filter(pk=job.pk, status=QueryJob.Status.QUEUED).update(
        status=QueryJob.Status.CANCELLED, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


class _Watcher:
    """Claims the job (queued -> running), writes the engine's progress to it and turns the buyer's cancel
    request into the engine's event.

    Its thread starts only once the query has run for WATCH_AFTER seconds, so fast queries pay neither the
    thread nor its database connection, nor a claim: their job goes from queued to its end in one write. It is
    started by the engine's first progress report past that time (after a request), which waits for the first
    look at the job, so that a cancel made in the meantime stops the engine before its next request, as if the
    thread had been there all along; or, once ``arm`` is called, by a timer at that time, so that a query
    evaluating its answer without a report is shown running too. When the claim finds the job no longer
    queued (cancelled meanwhile, or another runner of a redelivered task has it), the engine is stopped and
    ``lost`` tells the runner to write nothing."""

    def __init__(self, job_id, federation: Federation, after: float | None = None, started_at=None) -> None:
        self.job_id = job_id
        self.federation = federation
        self.after = WATCH_AFTER if after is None else after
        self.started_at = started_at or timezone.now()
        self.claimed = False
        self.lost = False
        self.snapshot: dict = {}
        self.written: dict = {}
        self.stop = threading.Event()
        self.looked = threading.Event()
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._began = time.monotonic()
        self._timer: timers.Timer | None = None

    def arm(self) -> None:
        self._timer = timers.call_later(self.after, self._start)

    def update(self, snapshot: dict) -> None:
        self.snapshot = snapshot
        if self.thread is None:
            if snapshot.get("phase") == "done" or time.monotonic() - self._began < self.after:
                return
            self._start()
        self.looked.wait(timeout=1.0)

    def _start(self) -> None:
        with self._lock:
            if self.thread is None and not self.stop.is_set():
                self.thread = threading.Thread(target=self.run, daemon=True)
                self.thread.start()

    def run(self) -> None:
        try:
            self.flush()
            self.looked.set()
            while not self.stop.wait(PROGRESS_INTERVAL):
                self.flush()
        finally:
            self.looked.set()
            connection.close()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def flush(self) -> None:
        snap = self.snapshot
        progress = {
            "phase": snap.get("phase", "planning"),
            "requests": snap.get("requests", 0),
            "sources_contacted": len(snap.get("sources_contacted", [])),
            "triples_fetched": snap.get("triples", 0),
        }
        if not self.claimed:
            fields = {"status": QueryJob.Status.RUNNING, "started_at": self.started_at, "progress": progress}
            if not QueryJob.objects.filter(pk=self.job_id, status=QueryJob.Status.QUEUED).update(**fields):
                self.lost = True
                self.federation.cancel()
                return
            self.claimed, self.written = True, progress
        elif progress != self.written:
            QueryJob.objects.filter(pk=self.job_id, status=QueryJob.Status.RUNNING).update(progress=progress)
            self.written = progress
        if QueryJob.objects.filter(pk=self.job_id, cancel_requested=True).exists():
            self.federation.cancel()


EVALUATION_MAX_BYTES = 2_000_000_000  # of a pickled answer from the child: MARKET_MAX_ANSWER_ROWS bounds it first


def _evaluator_apart(deadline: float):
    def evaluate(evaluation: Evaluation) -> QueryResult:
        return sandbox.call_limited(
            lambda: evaluate_fetched(evaluation),
            seconds=max(0.0, deadline - time.monotonic()),
            max_bytes=EVALUATION_MAX_BYTES,
            max_memory=settings.MARKET_SPARQL_MAX_MEMORY,
        )

    return evaluate


ASKED_FIELDS = ("buyer_id", "query", "kind", "value_per_row", "budget", "include", "exclude", "strategy")


def job_message(job: QueryJob) -> dict:
    """What a runner needs of an ask, as the task's message carries it (JSON): it runs without reading the row."""
    return {name: getattr(job, name) for name in ASKED_FIELDS}


def _job_to_run(job_id, asked: dict | None) -> QueryJob | None:
    """The job to run, from its task's message; read from the database for a message without it (one queued
    before messages carried the ask), and then None unless it is still queued."""
    if asked is None:
        job = QueryJob.objects.get(pk=job_id)
        return job if job.status == QueryJob.Status.QUEUED else None
    job = QueryJob(id=uuid.UUID(str(job_id)), **{name: asked[name] for name in ASKED_FIELDS})
    job._state.adding = False  # the row exists; only its end is written, field by field
    return job


def _write_end(job: QueryJob, fields: Sequence[str]) -> bool:
    """The job's end, written only while it is queued or running: a buyer's cancel, or another runner of a
    redelivered task that ended first, wins. The row is locked from here to the commit."""
    ongoing = (QueryJob.Status.QUEUED, QueryJob.Status.RUNNING)
    values = {name: getattr(job, name) for name in fields}
    return QueryJob.objects.filter(pk=job.pk, status__in=ongoing).update(**values) == 1


_END_FIELDS = ["status", "error", "started_at", "finished_at", "progress", "notes", "dataset_ids"]


def _finish(job: QueryJob, status: str, error: str = "") -> QueryJob:
    job.status = status
    job.error = error
    job.finished_at = timezone.now()
    if not _write_end(job, _END_FIELDS):
        return QueryJob.objects.get(pk=job.pk)
    return job


def _derivations(result, patterns_have_paths: bool) -> list[list[dict[str, list[str]]]]:
    """Per row: alternative derivations as {dataset id | BLANKET: [N-Triples]}; unknown sources become BLANKET."""

    texts: dict = {}  # N-Triples of each triple, written once: a row's alternative derivations share most

    def convert(derivation) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        names = set(derivation.triples) | set(derivation.sources.values())
        for name in names:
            key = name if name.isdigit() else BLANKET
            bucket = out.setdefault(key, [])
            for triple in derivation.triples.get(name, []):
                text = texts.get(triple)
                if text is None:
                    text = texts[triple] = str(triple)
                if text not in bucket:
                    bucket.append(text)
        if patterns_have_paths:
            out.setdefault(BLANKET, [])
        return out

    provenance = result.provenance or []
    if result.kind == "SELECT":
        rows = []
        for index in range(len(result.rows)):
            derivs = [convert(d) for d in provenance[index]] if index < len(provenance) else []
            rows.append(derivs or [{BLANKET: []}])
        return rows
    if result.kind == "CONSTRUCT":
        merged: dict[str, list[str]] = {}
        for derivation in provenance[0] if provenance else []:
            for key, triples in convert(derivation).items():
                bucket = merged.setdefault(key, [])
                bucket.extend(t for t in triples if t not in bucket)
        if result.triples and not merged:
            merged = {BLANKET: []}
        return [[merged]]
    return []  # ASK is priced without looking at the data (see quotes.ask_derivation)


def job_run(
    *,
    job_id,
    asked: dict | None = None,
    time_limit: float | None = None,
    timed_out: str = TIMED_OUT,
    evaluate_apart: bool = False,
) -> QueryJob:
    """Run the federated query of a queued job, hold its answer and provenance, and quote it. ``asked``: the
    job's ``job_message``, as its task carries it. With ``time_limit`` (seconds) the federation is stopped at
    its next request past it and the job fails with ``timed_out``. ``evaluate_apart`` (with a time limit): the
    answer is computed from the fetched triples in a child process, killed at the time limit (Oxigraph's
    evaluation cannot be interrupted; a web request has no worker's hard limit behind it). Returns the job as
    it ended, or as another runner or the buyer left it."""
    from .quotes import ask_derivation, quote_in_transaction

    job = _job_to_run(job_id, asked)
    if job is None:
        return QueryJob.objects.get(pk=job_id)  # cancelled while queued, or a redelivered task
    job.started_at = timezone.now()
    selection = market_sources.select_datasets(buyer_id=job.buyer_id, include=job.include, exclude=job.exclude)
    engine_sources, notes = market_sources.build_sources(selection.datasets)
    job.notes = selection.notes + notes
    job.dataset_ids = [d.pk for d in selection.datasets]
    job.progress = {"phase": "planning"}
    federation = Federation(
        engine_sources,
        market_sources.build_summaries(selection.datasets),
        max_triples=settings.MARKET_MAX_FETCHED_TRIPLES,
        max_rows=settings.MARKET_MAX_ANSWER_ROWS,
        max_solutions=settings.MARKET_MAX_INTERMEDIATE_ROWS,
    )
    watcher = _Watcher(job.pk, federation, started_at=job.started_at)
    expired = threading.Event()  # tells the time limit's cancel from the buyer's

    def expire() -> None:
        expired.set()
        federation.cancel()

    timer = timers.call_later(time_limit, expire) if time_limit else None
    if evaluate_apart and time_limit:
        federation.evaluator = _evaluator_apart(time.monotonic() + time_limit)
    watcher.arm()
    started = time.perf_counter()

    def finish(status: str, error: str) -> QueryJob:
        return _finish(job, status, error)

    try:
        # the worker's one parse: planning and pricing share it
        parsed = parse_cached(job.query)
        result = federation.query(job.query, provenance=True, partial=True, progress=watcher.update, parsed=parsed)
    except QueryCancelled:
        if watcher.lost:
            return QueryJob.objects.get(pk=job.pk)
        if expired.is_set():
            return finish(QueryJob.Status.FAILED, f"{timed_out} ({time_limit:g} s).")
        return finish(QueryJob.Status.CANCELLED, "Cancelled by the buyer.")
    except AnswerTooLarge as exc:
        return finish(QueryJob.Status.FAILED, f"{TOO_LARGE}: {exc}. Narrow it down.")
    except sandbox.LimitExceeded as exc:
        if exc.kind == "time":
            return finish(QueryJob.Status.FAILED, f"{timed_out} ({time_limit:g} s).")
        return finish(QueryJob.Status.FAILED, f"{TOO_LARGE}: {exc}. Narrow it down.")
    except QuerySyntaxError as exc:
        return finish(QueryJob.Status.FAILED, f"The query does not parse: {exc.message}")
    except UnsupportedQuery as exc:
        return finish(QueryJob.Status.FAILED, f"The query is not supported: {exc}")
    except SourceError:
        logger.exception("query job %s: a source failed", job.pk)
        return finish(QueryJob.Status.FAILED, "A provider did not answer; no quote could be made.")
    except Exception:
        logger.exception("query job %s failed", job.pk)
        return finish(QueryJob.Status.FAILED, "The query could not be run (internal error).")
    finally:
        watcher.close()
        if timer is not None:
            timer.cancel()
    if watcher.lost:  # the query ended just as the watcher found the job taken: leave it to whoever has it
        return QueryJob.objects.get(pk=job.pk)
    job.federation_seconds = time.perf_counter() - started
    titles = {str(d.pk): d.title for d in selection.datasets}
    for name in sorted(result.failed_sources):
        job.notes.append(f"“{titles.get(name, name)}” did not answer; its data is missing from this answer.")
    has_paths = any(isinstance(p.pattern, PathPattern) for p in collect_patterns(parsed.algebra))
    if job.kind == "ASK":
        derivations = [[ask_derivation(federation, parsed, has_paths)]]
    else:
        derivations = _derivations(result, has_paths)
    job.variables = list(result.variables) if job.kind == "SELECT" else []
    job.rows_available = len(derivations)
    job.answer = held.encode_answer(result)
    job.provenance = held.encode_provenance(derivations)
    per_source = result.stats.get("per_source", {})
    contributed = {int(n): c.get("rows", 0) for n, c in per_source.items() if n.isdigit() and c.get("rows")}
    job.progress = {
        "phase": "done",
        "requests": result.stats.get("requests", 0),
        "sources_contacted": sum(1 for c in per_source.values() if c.get("requests")),
        "rows": job.rows_available,
        "contributed": {str(k): v for k, v in contributed.items()},
    }
    job.status, job.error, job.finished_at = QueryJob.Status.QUOTED, "", timezone.now()
    try:
        # The job's end with its held answer, then its quote: one transaction, one commit. The quote only needs
        # the job's key and the answer in memory.
        with transaction.atomic():
            if not _write_end(job, [*_END_FIELDS, *_HELD_FIELDS]):
                return QueryJob.objects.get(pk=job.pk)
            quote_in_transaction(
                job=job,
                datasets=selection.datasets,
                subscribed=selection.subscribed,
                fee_rate=selection.fee_rate,
                first=True,
                rows=derivations,  # what encode_provenance just stored, without the decode
            )
            return job
    except Exception:
        logger.exception("query job %s: quoting failed", job.pk)
        return finish(QueryJob.Status.FAILED, "The answer could not be priced (internal error).")
