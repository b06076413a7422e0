"""Compression jobs with a real worker: the demo model is compressed into verified, measured, unpublished
variants that the publisher then prices and publishes; a queued job can be cancelled."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import wait_until

pytestmark = pytest.mark.worker


def _all_inspected(model) -> bool:
    from modelhub.models import Artifact

    qs = Artifact.objects.filter(variant__model=model)
    return qs.exists() and not qs.exclude(inspection_status__in=["done", "failed"]).exists()


def test_compression_job_makes_measured_verified_variants(worker, cleanup_files, api_client, client, publisher):
    from modelhub.demo_loader import DEMO_DIR, demo_models_load
    from modelhub.models import CompressionJob, Variant

    model = demo_models_load(publisher)
    reference = model.variants.get(name="fp32")
    wait_until(lambda: _all_inspected(model), timeout=60, message="reference inspection")
    api_client.force_authenticate(publisher.owner)
    with open(DEMO_DIR / "digits_eval.npz", "rb") as npz:
        response = api_client.post(
            "/api/compression-jobs/",
            {
                "source": reference.pk,
                "eval_set": npz,
                "eval_name": "digits test split",
                "methods": '[{"method": "static_int8", "options": {}}, {"method": "kmeans", "options": {"bits": 4}}]',
            },
            format="multipart",
        )
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    job = wait_until(
        lambda: (j := CompressionJob.objects.get(pk=job_id)).finished and j, timeout=150, message="compression job"
    )
    assert job.status == "succeeded", job.error
    made = list(Variant.objects.filter(pk__in=job.result["variants"]))
    assert {v.method for v in made} == {"linear_quantization", "kmeans"}
    for v in made:
        assert not v.published and v.derived_from_id == reference.pk
        assert v.accuracy is not None and v.reference_accuracy is not None and v.evaluation_set == "digits test split"
        assert v.size_bytes < reference.artifacts.get().size_bytes
        assert v.sensitivity and v.histograms
    wait_until(lambda: _all_inspected(model), timeout=60, message="variant inspections")
    for v in made:
        checks = v.artifacts.get().checks
        assert checks["method"]["status"] == "verified", checks["method"]
        assert checks["weight_bits"]["status"] == "verified", checks["weight_bits"]
    int8 = next(v for v in made if v.method == "linear_quantization")
    client.force_login(publisher.owner)
    page = client.get(reverse("modelhub:variant", args=[model.slug, int8.pk])).content.decode()
    assert "Per-layer sensitivity" in page and "weights of" in page and page.count("<svg") >= 3
    # the publisher publishes the int8 variant at a price
    response = client.post(
        reverse("modelhub:publish", args=[model.slug]), {"variant": [int8.pk], f"price_{int8.pk}": "250"}
    )
    assert response.status_code == 302
    int8.refresh_from_db()
    assert int8.published and int8.price == 250
    names = {v["name"] for v in api_client.get(f"/api/models/{model.slug}/compare/").json()["variants"]}
    assert int8.name in names


def test_queued_job_can_be_cancelled(worker, cleanup_files, client, publisher):
    from modelhub.demo_loader import DEMO_DIR, demo_models_load
    from modelhub.models import CompressionJob
    from modelhub.services.compression import job_cancel, job_run

    model = demo_models_load(publisher)
    reference = model.variants.get(name="fp32")
    job = CompressionJob.objects.create(
        source=reference,
        created_by=publisher.owner,
        eval_path=str(DEMO_DIR / "missing.npz"),
        methods=[{"method": "static_int8"}],
    )
    job_cancel(user=publisher.owner, job=job)
    job = job_run(job_id=job.pk)
    assert job.status == "cancelled"
    client.force_login(publisher.owner)
    status = client.get(reverse("modelhub:job", args=[job.pk]), HTTP_ACCEPT="application/json").json()
    assert status["finished"] is True and status["status_label"] == "Cancelled"


def test_running_job_stops_when_cancelled_and_leaves_no_variants(worker, cleanup_files, client, publisher):
    from modelhub.demo_loader import DEMO_DIR, demo_models_load
    from modelhub.models import CompressionJob
    from modelhub.services.compression import DEFAULT_METHODS, job_create

    model = demo_models_load(publisher)
    reference = model.variants.get(name="fp32")
    job = job_create(
        user=publisher.owner, source=reference, eval_file=DEMO_DIR / "digits_eval.npz", methods=DEFAULT_METHODS
    )
    wait_until(lambda: CompressionJob.objects.get(pk=job.pk).status == "running", timeout=60, message="job start")
    client.force_login(publisher.owner)
    assert client.post(reverse("modelhub:job_cancel", args=[job.pk])).status_code == 302
    job = wait_until(lambda: (j := CompressionJob.objects.get(pk=job.pk)).finished and j, timeout=120, message="stop")
    assert job.status == "cancelled"
    assert list(model.variants.values_list("name", flat=True)) == ["fp32"]
