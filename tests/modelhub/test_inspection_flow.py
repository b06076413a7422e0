"""End to end with a real Celery worker: upload → inspection task → each declared field shown as verified,
contradicted (with what the file says) or not checkable."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import wait_until

pytestmark = pytest.mark.worker


def _inspected(artifact_id: int):
    from modelhub.models import Artifact

    artifact = Artifact.objects.get(pk=artifact_id)
    return artifact if artifact.inspection_status in ("done", "failed") else None


def _upload_api(api_client, variant_id: int, path) -> int:
    with open(path, "rb") as handle:
        response = api_client.post("/api/artifacts/", {"variant": variant_id, "file": handle}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_fp32_and_int8_onnx_are_classified_and_declarations_verified(
    worker, cleanup_files, api_client, client, publisher, fp32_file, int8_file
):
    api_client.force_authenticate(publisher.owner)
    model = api_client.post(
        "/api/models/",
        {"publisher": publisher.slug, "name": "MLP", "task": "image-classification", "card": "# MLP"},
        format="json",
    ).json()
    fp32 = api_client.post(
        "/api/variants/",
        {"model": model["slug"], "name": "fp32", "method": "none", "weight_bits": 32, "accuracy": 0.9},
        format="json",
    ).json()
    int8 = api_client.post(
        "/api/variants/",
        {
            "model": model["slug"],
            "name": "int8",
            "derived_from": fp32["id"],
            "method": "linear_quantization",
            "weight_bits": 8,
            "activation_bits": 8,
            "granularity": "per_channel",
            "symmetric": True,
        },
        format="json",
    ).json()
    # the int8 file goes through the page's upload form, the fp32 one through the API
    client.force_login(publisher.owner)
    with open(int8_file, "rb") as handle:
        page = client.post(reverse("modelhub:upload", args=[model["slug"], int8["id"]]), {"file": handle})
    assert page.status_code == 302
    fp32_id = _upload_api(api_client, fp32["id"], fp32_file)
    fp32_artifact = wait_until(lambda: _inspected(fp32_id), timeout=60, message="fp32 inspection")
    from modelhub.models import Artifact

    int8_artifact = wait_until(
        lambda: _inspected(Artifact.objects.get(variant_id=int8["id"]).pk), timeout=60, message="int8 inspection"
    )
    assert fp32_artifact.format == "onnx" and fp32_artifact.report["method"] == "none"
    assert {k: c["status"] for k, c in fp32_artifact.checks.items()} == {
        "method": "verified",
        "weight_bits": "verified",
        "accuracy": "not_checkable",
        "parameter_count": "verified",
        "size_bytes": "verified",
    }
    assert int8_artifact.report["method"] == "linear_quantization"
    assert int8_artifact.report["weight_bits"] == 8
    for field in ("method", "weight_bits", "activation_bits", "granularity", "symmetric"):
        assert int8_artifact.checks[field]["status"] == "verified", (field, int8_artifact.checks[field])
    page = client.get(reverse("modelhub:variant", args=[model["slug"], int8["id"]]))
    assert page.status_code == 200
    assert b'class="check-verified" data-field="weight_bits"' in page.content
    assert b"contradicted" not in page.content


def test_declaration_that_contradicts_the_file_is_flagged_with_what_the_file_says(
    worker, cleanup_files, api_client, client, publisher, int8_file
):
    api_client.force_authenticate(publisher.owner)
    model = api_client.post(
        "/api/models/", {"publisher": publisher.slug, "name": "MLP", "task": "other"}, format="json"
    ).json()
    variant = api_client.post(
        "/api/variants/",
        {
            "model": model["slug"],
            "name": "claims-4bit",
            "method": "kmeans",
            "weight_bits": 4,
            "granularity": "per_tensor",
        },
        format="json",
    ).json()
    artifact_id = _upload_api(api_client, variant["id"], int8_file)
    artifact = wait_until(lambda: _inspected(artifact_id), timeout=60, message="inspection")
    assert artifact.checks["weight_bits"]["status"] == "contradicted"
    assert artifact.checks["weight_bits"]["observed"] == 8
    assert artifact.checks["method"]["status"] == "contradicted"
    assert artifact.checks["granularity"]["status"] == "contradicted"
    client.force_login(publisher.owner)
    page = client.get(reverse("modelhub:variant", args=[model["slug"], variant["id"]])).content.decode()
    row = page.split('data-field="weight_bits"')[1].split("</tr>")[0]
    assert "contradicted" in row and "file says: 8" in row
    api = api_client.get(f"/api/variants/{variant['id']}/").json()
    assert api["verification"]["weight_bits"] == "contradicted"
    # the publisher corrects the declaration: checked again against the stored report, no new inspection
    response = api_client.patch(
        f"/api/variants/{variant['id']}/",
        {"method": "linear_quantization", "weight_bits": 8, "granularity": "per_channel"},
        format="json",
    )
    assert response.status_code == 200, response.content
    api = api_client.get(f"/api/variants/{variant['id']}/").json()
    assert api["verification"]["weight_bits"] == "verified"
    assert api["verification"]["method"] == "verified"


def test_a_file_the_inspector_cannot_read_is_marked_failed(worker, cleanup_files, api_client, publisher, tmp_path):
    api_client.force_authenticate(publisher.owner)
    model = api_client.post(
        "/api/models/", {"publisher": publisher.slug, "name": "Junk", "task": "other"}, format="json"
    ).json()
    variant = api_client.post("/api/variants/", {"model": model["slug"], "name": "x"}, format="json").json()
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a model" * 100)
    artifact_id = _upload_api(api_client, variant["id"], junk)
    artifact = wait_until(lambda: _inspected(artifact_id), timeout=60, message="inspection")
    assert artifact.inspection_status == "failed"
    assert artifact.inspection_error
