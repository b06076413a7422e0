"""The upload path end to end with a real Celery worker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from marketplace.catalog.models import IngestJob
from tests.conftest import wait_until


@pytest.mark.usefixtures("worker")
def test_upload_is_loaded_by_the_worker_with_progress_to_completion(publisher_client, hosted_dataset):
    data = "".join(f'<http://e/s{i}> <http://e/p{i % 7}> "{i}" .\n' for i in range(20000)).encode()
    response = publisher_client.post(
        reverse("catalog:upload", args=[hosted_dataset.pk]), {"file": SimpleUploadedFile("d.nt", data)}
    )
    job_url = response["Location"]
    job = IngestJob.objects.get()
    done = wait_until(lambda: IngestJob.objects.get(pk=job.pk).finished, timeout=60, message="ingest job")
    assert done
    job.refresh_from_db()
    assert job.status == IngestJob.Status.SUCCEEDED, job.error
    assert job.progress_percent == 100
    status = publisher_client.get(job_url, HTTP_ACCEPT="application/json").json()
    assert status["finished"] and status["triples_loaded"] == 20000
    assert hosted_dataset.predicates.count() == 7
