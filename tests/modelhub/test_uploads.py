"""Uploads stream through the hashing handler: bounded memory, early 413, nothing left behind on failure."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.urls import reverse

from tests.conftest import ROOT

from .upload_probe import BOUNDARY, MultipartStream

pytestmark = pytest.mark.django_db


def test_two_gigabyte_upload_streams_with_bounded_memory(tmp_path):
    size = 2 * 1024**3
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("upload_probe.py")), str(tmp_path), str(size)],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["size"] == size and report["stored_size"] == size
    assert report["sha256"] == report["expected_sha256"]
    growth = report["peak_rss"] - report["baseline_rss"]
    assert growth < 32 * 1024**2, f"RSS grew by {growth / 1024**2:.1f} MiB while streaming 2 GiB"
    assert report["tmp_left"] == []  # the temporary file was moved, not copied


def _tmp_files(settings) -> list[str]:
    root = Path(settings.UPLOAD_TMP_ROOT)
    return sorted(p.name for p in root.iterdir() if p.is_file() and p.name.endswith(".upload"))


class BrokenStream(MultipartStream):
    """A client that goes away after sending some of the file."""

    def __init__(self, path: Path, filename: str, fail_after: int):
        super().__init__(path, filename)
        self.sent, self.fail_after = 0, fail_after

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        self.sent += len(data)
        if self.sent > self.fail_after:
            raise OSError("connection reset by peer")
        return data


def _request(body, path: str, user=None) -> WSGIRequest:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.input": body,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(body.length),
    }
    return WSGIRequest(environ)


def test_interrupted_page_upload_leaves_no_temporary_file(settings, media, make_variant, tmp_path):
    from modelhub.views import artifact_upload

    settings.UPLOAD_TMP_ROOT = tmp_path / "uploads"
    settings.FILE_UPLOAD_TEMP_DIR = str(settings.UPLOAD_TMP_ROOT)
    settings.UPLOAD_TMP_ROOT.mkdir()
    variant = make_variant("fp32")
    source = tmp_path / "model.onnx"
    source.write_bytes(os.urandom(8 * 1024 * 1024))
    request = _request(BrokenStream(source, "model.onnx", fail_after=5 * 1024 * 1024), "/upload/")
    request.user = variant.model.publisher.owner
    request._dont_enforce_csrf_checks = True
    with pytest.raises(OSError):
        artifact_upload(request, variant.model.slug, variant.pk)
    assert list(settings.UPLOAD_TMP_ROOT.iterdir()) == []
    assert not variant.artifacts.exists()


def test_interrupted_api_upload_leaves_no_temporary_file(settings, media, make_variant, tmp_path):
    from rest_framework.test import force_authenticate

    from modelhub.api import ArtifactViewSet

    settings.UPLOAD_TMP_ROOT = tmp_path / "uploads"
    settings.FILE_UPLOAD_TEMP_DIR = str(settings.UPLOAD_TMP_ROOT)
    settings.UPLOAD_TMP_ROOT.mkdir()
    variant = make_variant("fp32")
    source = tmp_path / "model.onnx"
    source.write_bytes(os.urandom(8 * 1024 * 1024))
    request = _request(BrokenStream(source, "model.onnx", fail_after=5 * 1024 * 1024), "/api/artifacts/")
    force_authenticate(request, user=variant.model.publisher.owner)
    with pytest.raises(OSError):
        ArtifactViewSet.as_view({"post": "create"})(request)
    assert list(settings.UPLOAD_TMP_ROOT.iterdir()) == []
    assert not variant.artifacts.exists()


def test_upload_over_the_limit_is_refused_by_content_length_with_413(client, api_client, settings, media, make_variant):
    settings.MODELHUB_UPLOAD_MAX_BYTES = 1024
    variant = make_variant("fp32")
    owner = variant.model.publisher.owner
    client.force_login(owner)
    page = client.generic(
        "POST",
        reverse("modelhub:upload", args=[variant.model.slug, variant.pk]),
        b"x",
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(10 * 1024 * 1024),
    )
    assert page.status_code == 413
    api_client.force_authenticate(owner)
    api = api_client.generic(
        "POST",
        "/api/artifacts/",
        b"x",
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(10 * 1024 * 1024),
    )
    assert api.status_code == 413


def test_upload_larger_than_declared_limit_is_stopped_while_streaming(settings, media, make_variant, tmp_path):
    """A lying or absent Content-Length does not help: the handler counts the bytes it receives."""
    from modelhub import upload

    settings.UPLOAD_TMP_ROOT = tmp_path / "uploads"
    settings.FILE_UPLOAD_TEMP_DIR = str(settings.UPLOAD_TMP_ROOT)
    settings.UPLOAD_TMP_ROOT.mkdir()
    source = tmp_path / "model.onnx"
    source.write_bytes(os.urandom(3 * 1024 * 1024))
    request = _request(MultipartStream(source, "model.onnx"), "/x/")
    handler = upload.install(request, limit=1024 * 1024)
    assert "file" not in request.FILES
    assert handler.too_large
    handler.discard()
    assert list(settings.UPLOAD_TMP_ROOT.iterdir()) == []


def test_api_upload_stores_the_file_with_its_sha256(api_client, media, make_variant, fp32_file):
    variant = make_variant("fp32")
    api_client.force_authenticate(variant.model.publisher.owner)
    with open(fp32_file, "rb") as handle:
        response = api_client.post("/api/artifacts/", {"variant": variant.pk, "file": handle}, format="multipart")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["sha256"] == hashlib.sha256(fp32_file.read_bytes()).hexdigest()
    assert data["size_bytes"] == fp32_file.stat().st_size
    artifact = variant.artifacts.get()
    assert Path(artifact.file.path).read_bytes() == fp32_file.read_bytes()


def test_only_the_publisher_can_upload(api_client, media, make_variant, make_user, fp32_file):
    variant = make_variant("fp32")
    api_client.force_authenticate(make_user("mallory"))
    with open(fp32_file, "rb") as handle:
        response = api_client.post("/api/artifacts/", {"variant": variant.pk, "file": handle}, format="multipart")
    assert response.status_code == 403
    assert not variant.artifacts.exists()


def test_page_upload_checks_the_csrf_token_after_installing_the_handler(media, make_variant, fp32_file):
    from django.test import Client

    variant = make_variant("fp32")
    client = Client(enforce_csrf_checks=True)
    client.force_login(variant.model.publisher.owner)
    url = reverse("modelhub:upload", args=[variant.model.slug, variant.pk])
    token = client.get(url).context["csrf_token"]
    with open(fp32_file, "rb") as handle:
        assert client.post(url, {"file": handle}).status_code == 403
    assert not variant.artifacts.exists()
    with open(fp32_file, "rb") as handle:
        response = client.post(url, {"file": handle, "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    artifact = variant.artifacts.get()
    assert artifact.sha256 == hashlib.sha256(fp32_file.read_bytes()).hexdigest()
