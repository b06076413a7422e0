"""Celery tasks of the catalog: thin wrappers around services."""

from celery import shared_task

from .models import Dataset
from .services.datasets import endpoint_check
from .services.ingest import ingest_run
from .services.summary import summary_refresh


@shared_task(acks_late=True)
def ingest_dataset(job_id: int) -> None:
    ingest_run(job_id=job_id)


@shared_task
def check_endpoint(dataset_id: int) -> None:
    dataset = Dataset.objects.get(pk=dataset_id)
    endpoint_check(dataset=dataset)
    if dataset.healthy:
        summary_refresh(dataset=dataset)


@shared_task
def check_all_endpoints() -> None:
    for dataset_id in Dataset.objects.filter(kind=Dataset.Kind.REMOTE).values_list("pk", flat=True):
        check_endpoint.delay(dataset_id)


@shared_task
def refresh_summary(dataset_id: int) -> None:
    summary_refresh(dataset=Dataset.objects.get(pk=dataset_id))
