"""Celery tasks of the query market: thin wrappers around services."""

from celery import shared_task

from .services.queries import job_run


@shared_task(name="market.run_query_job")
def run_query_job(job_id: str, asked: dict | None = None) -> None:
    job_run(job_id=job_id, asked=asked)
