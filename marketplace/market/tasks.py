"""Celery tasks of the query market: thin wrappers around services."""

from celery import shared_task
from django.conf import settings

from .services.queries import JOB_TIMED_OUT, job_run


@shared_task(name="market.run_query_job")
def run_query_job(job_id: str, asked: dict | None = None) -> None:
    job_run(job_id=job_id, asked=asked, time_limit=settings.MARKET_JOB_TIME_LIMIT, timed_out=JOB_TIMED_OUT)
