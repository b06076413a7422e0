"""Storing artifact files: uploads arrive hashed in a temporary file and are moved into storage."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction

from marketplace.accounts.selectors import can_publish_for

from ..models import Artifact, Variant
from ..upload import HashedUploadedFile
from .errors import NotAllowed, UploadRejected, UploadTooLarge

SUFFIXES = (".onnx", ".safetensors", ".gguf", ".tflite", ".pt", ".pth", ".bin", ".ckpt")


def _safe_name(filename: str) -> str:
    name = Path(filename or "artifact").name.replace("\x00", "")[:200]
    return name or "artifact"


def artifact_create(*, user, variant: Variant, upload: HashedUploadedFile) -> Artifact:
    """Keep an upload that the hashing handler has already written to disk; inspection is queued."""
    if not can_publish_for(user=user, organisation=variant.model.publisher):
        raise NotAllowed("Only the model's publisher can add files to it.")
    if upload.size > settings.MODELHUB_UPLOAD_MAX_BYTES:
        raise UploadTooLarge(f"The file is larger than the limit of {settings.MODELHUB_UPLOAD_MAX_BYTES:,} bytes.")
    if upload.size == 0:
        raise UploadRejected("The file is empty.")
    sha256 = getattr(upload, "sha256", "") or _sha256_of(upload)
    return _store(
        variant=variant, content=upload, filename=_safe_name(upload.name), sha256=sha256, size=upload.size, user=user
    )


def artifact_add_path(*, user, variant: Variant, path: str | Path, filename: str | None = None) -> Artifact:
    """Add a file from the server's disk (compression outputs, demo models); it is copied, never moved."""
    path = Path(path)
    with open(path, "rb") as handle:
        sha256 = _sha256_of(handle)
        handle.seek(0)
        return _store(
            variant=variant,
            content=File(handle),
            filename=_safe_name(filename or path.name),
            sha256=sha256,
            size=path.stat().st_size,
            user=user,
        )


def _sha256_of(handle) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def _store(*, variant: Variant, content, filename: str, sha256: str, size: int, user) -> Artifact:
    artifact = Artifact(variant=variant, filename=filename, sha256=sha256, size_bytes=size, uploaded_by=user)
    # FileSystemStorage moves a temporary upload (no copy) when the content has temporary_file_path()
    artifact.file.save(filename, content, save=False)
    try:
        with transaction.atomic():
            artifact.save()
    except BaseException:
        artifact.file.delete(save=False)
        raise
    from ..tasks import inspect_artifact_task

    transaction.on_commit(lambda: inspect_artifact_task.delay(artifact.pk))
    return artifact


def local_copy(artifact: Artifact):
    """A context manager giving a local path of the file (storage path, or a temporary copy for remote storage)."""
    import contextlib

    @contextlib.contextmanager
    def manager():
        try:
            yield Path(artifact.file.path)
            return
        except NotImplementedError:
            pass
        with tempfile.NamedTemporaryFile(suffix=Path(artifact.filename).suffix, dir=settings.UPLOAD_TMP_ROOT) as tmp:
            with artifact.file.open("rb") as src:
                shutil.copyfileobj(src, tmp, 1024 * 1024)
            tmp.flush()
            yield Path(tmp.name)

    return manager()
