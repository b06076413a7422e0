"""Celery tasks of the query market: thin wrappers around services."""

from celery import shared_task
from django.conf import settings

from .services.queries import JOB_TIMED_OUT, STALE_GRACE, job_run, jobs_fail_stale


# The job stops itself past MARKET_JOB_TIME_LIMIT at the engine's next request. Oxigraph's evaluation of the
# fetched triples cannot be interrupted, so a prefork worker also kills the task's process a grace later, and
# fail_stale_jobs then tells the buyer. A thread pool (`make run`) cannot: there the evaluation runs in a child
# process killed at the limit (MARKET_WORKER_EVALUATES_APART).
@shared_task(name="market.run_query_job", time_limit=settings.MARKET_JOB_TIME_LIMIT + STALE_GRACE / 2)
def run_query_job(job_id: str, asked: dict | None = None) -> None:
    job_run(
        job_id=job_id,
        asked=asked,
        time_limit=settings.MARKET_JOB_TIME_LIMIT,
        timed_out=JOB_TIMED_OUT,
        evaluate_apart=settings.MARKET_WORKER_EVALUATES_APART,
    )


@shared_task(name="market.fail_stale_jobs")
def fail_stale_jobs() -> int:
    return jobs_fail_stale()
