"""Uploading RDF into a hosted dataset: the file streams to disk, a task bulk-loads it into a fresh store
version with progress, and the dataset switches to that version only when everything loaded."""

import gzip
import logging
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import Dataset, IngestJob
from . import formats, loader, stores
from .safety import UnsafeInput, check_xml_entities

logger = logging.getLogger(__name__)


class IngestError(ValueError):
    pass


class UploadTooLarge(IngestError):
    pass


# Multipart framing around the file: a request this much larger than the file limit is refused unread.
MULTIPART_OVERHEAD = 64 * 1024


def check_declared_size(content_length: str | None) -> None:
    """Refuse an upload by its Content-Length, before Django spools the body to disk."""
    try:
        length = int(content_length or 0)
    except ValueError:
        length = 0
    if length > settings.RDF_UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD:
        raise UploadTooLarge(f"The upload is larger than the limit of {settings.RDF_UPLOAD_MAX_BYTES:,} bytes.")


def ingest_create(
    *, dataset: Dataset, upload: BinaryIO, filename: str, size: int, user, declared_format: str | None = None
) -> IngestJob:
    """Validate an upload cheaply, keep its file for the worker, and queue the load."""
    if dataset.kind != Dataset.Kind.HOSTED:
        raise IngestError("Only hosted datasets take uploads; a remote dataset is served by its endpoint.")
    if size > settings.RDF_UPLOAD_MAX_BYTES:
        raise UploadTooLarge(f"The file is {size:,} bytes; the limit is {settings.RDF_UPLOAD_MAX_BYTES:,} bytes.")
    if size == 0:
        raise IngestError("The file is empty.")
    info, compression = formats.detect(filename, declared_format)
    target_dir = Path(settings.UPLOAD_TMP_ROOT) / "ingest"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{uuid.uuid4().hex}{Path(filename).suffix[:10]}"
    with open(target, "wb") as out:
        shutil.copyfileobj(upload, out, 1024 * 1024)
    try:
        if info.key == "rdfxml":
            with _open_decompressed(target, compression) as stream:
                check_xml_entities(stream)
        job = IngestJob.objects.create(
            dataset=dataset,
            created_by=user,
            original_name=filename[:255],
            format=info.key,
            compression=compression,
            upload_path=str(target),
            size_bytes=target.stat().st_size,
        )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    from ..tasks import ingest_dataset

    transaction.on_commit(lambda: ingest_dataset.delay(job.pk))
    return job


def _open_decompressed(path: Path, compression: str) -> BinaryIO:
    return gzip.open(path, "rb") if compression == "gzip" else open(path, "rb")


def ingest_run(*, job_id: int) -> IngestJob:
    """Load the job's file into a new store version; on any error nothing of it stays and the job says why."""
    job = IngestJob.objects.select_related("dataset").get(pk=job_id)
    if job.finished:
        return job  # a redelivered task must not load twice
    dataset = job.dataset
    version = f"v{job.pk}-{uuid.uuid4().hex[:8]}"
    path = stores.version_path(dataset.pk, version)
    IngestJob.objects.filter(pk=job.pk).update(status=IngestJob.Status.RUNNING, started_at=timezone.now())
    upload = Path(job.upload_path)
    raw = open(upload, "rb")

    def report() -> None:
        IngestJob.objects.filter(pk=job.pk).update(bytes_done=raw.tell())

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        store = ox.Store(str(path))
        stream = gzip.GzipFile(fileobj=raw) if job.compression == "gzip" else raw
        info = formats.BY_KEY[job.format]
        if info.key == "rdfxml":
            check_xml_entities(stream)
        loader.load(store, stream, info, base_iri=f"{dataset.iri}/", progress=report)
        store.flush()
        triples = len(store)
        del store
    except (SyntaxError, UnsafeInput, OSError, EOFError, ValueError) as exc:
        shutil.rmtree(path, ignore_errors=True)
        _fail(job, exc)
        _log_if_unexpected(exc)
        return IngestJob.objects.get(pk=job.pk)
    finally:
        raw.close()
        upload.unlink(missing_ok=True)

    with transaction.atomic():
        Dataset.objects.filter(pk=dataset.pk).update(store_version=version)
        IngestJob.objects.filter(pk=job.pk).update(
            status=IngestJob.Status.SUMMARISING, bytes_done=job.size_bytes, triples_loaded=triples
        )
    stores.remove_other_versions(dataset.pk, keep=version)
    from .summary import summary_refresh

    dataset.refresh_from_db()
    try:
        summary_refresh(dataset=dataset)
    finally:
        IngestJob.objects.filter(pk=job.pk).update(status=IngestJob.Status.SUCCEEDED, finished_at=timezone.now())
    return IngestJob.objects.get(pk=job.pk)


def _log_if_unexpected(exc: BaseException) -> None:
    """Input errors are the uploader's and only end the job; anything else also deserves a traceback in the log."""
    if isinstance(exc, (SyntaxError, UnsafeInput, EOFError, gzip.BadGzipFile, UnicodeDecodeError)):
        return
    if isinstance(exc, ValueError) and "parse" in str(exc).lower():
        return
    logger.exception("Ingest failed unexpectedly", exc_info=exc)


def _fail(job: IngestJob, exc: BaseException) -> None:
    line = None
    if isinstance(exc, SyntaxError):
        line = exc.lineno
        message = f"Syntax error: {exc.msg}" if getattr(exc, "msg", None) else f"Syntax error: {exc}"
    elif isinstance(exc, (gzip.BadGzipFile, EOFError)):
        message = f"The file is not valid gzip: {exc}"
    elif isinstance(exc, UnsafeInput):
        message = str(exc)
    else:
        message = f"The file could not be loaded: {exc}"
    IngestJob.objects.filter(pk=job.pk).update(
        status=IngestJob.Status.FAILED, error=message[:5000], error_line=line, finished_at=timezone.now()
    )
