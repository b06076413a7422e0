"""Celery tasks of the model hub: thin wrappers around services."""

from celery import shared_task


@shared_task(acks_late=True)
def inspect_artifact_task(artifact_id: int) -> None:
    from .services.inspection import artifact_inspect

    artifact_inspect(artifact_id=artifact_id)


@shared_task(acks_late=True)
def compression_task(job_id: int) -> None:
    from .services.compression import job_run

    job_run(job_id=job_id)
