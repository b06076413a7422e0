"""Compression jobs: run the compression library on an fp32 ONNX variant and turn each output into a variant."""

from __future__ import annotations

import ast
import json
import logging
import shutil
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketplace.accounts.selectors import can_publish_for

from ..models import Artifact, CompressionJob, Method, Variant
from .artifacts import artifact_add_path, local_copy
from .errors import JobError, NotAllowed

logger = logging.getLogger(__name__)
DEFAULT_METHODS: list[dict[str, Any]] = [
    {"method": "static_int8", "options": {}},
    {"method": "dynamic_int8", "options": {}},
    {"method": "kmeans", "options": {"bits": 4}},
    {"method": "dynamic_fixed_point", "options": {}},
    {"method": "pruning", "options": {"sparsity": 0.5}},
]
_METHOD_FIELD = {
    "linear": Method.LINEAR,
    "linear_quantization": Method.LINEAR,
    "kmeans": Method.KMEANS,
    "dynamic_fixed_point": Method.DYNAMIC_FIXED_POINT,
    "fixed_point": Method.FIXED_POINT,
    "pruning": Method.PRUNING,
    "none": Method.NONE,
}


def job_create(
    *, user, source: Variant, eval_file, eval_name: str = "", methods: list[dict] | None = None
) -> CompressionJob:
    """Queue a job; `eval_file` is an uploaded .npz (inputs, labels) or a path on the server."""
    if not can_publish_for(user=user, organisation=source.model.publisher):
        raise NotAllowed("Only the model's publisher can compress it.")
    onnx_artifact = (
        source.artifacts.filter(format="onnx").first() or source.artifacts.filter(filename__iendswith=".onnx").first()
    )
    if onnx_artifact is None:
        raise JobError("The source variant has no ONNX file.")
    jobs_dir = Path(settings.MODELHUB_JOB_ROOT)
    jobs_dir.mkdir(parents=True, exist_ok=True)
    target = jobs_dir / f"eval-{uuid.uuid4().hex}.npz"
    if isinstance(eval_file, (str, Path)):
        shutil.copyfile(eval_file, target)
        eval_name = eval_name or Path(eval_file).stem
    else:
        with open(target, "wb") as out:
            for chunk in eval_file.chunks():
                out.write(chunk)
        eval_name = eval_name or Path(eval_file.name).stem
    job = CompressionJob.objects.create(
        source=source,
        created_by=user,
        methods=methods or DEFAULT_METHODS,
        eval_path=str(target),
        eval_name=eval_name[:200],
    )
    from ..tasks import compression_task

    transaction.on_commit(lambda: compression_task.delay(job.pk))
    return job


def job_cancel(*, user, job: CompressionJob) -> CompressionJob:
    if not can_publish_for(user=user, organisation=job.source.model.publisher):
        raise NotAllowed("Only the model's publisher can cancel its jobs.")
    CompressionJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    CompressionJob.objects.filter(pk=job.pk, status=CompressionJob.Status.QUEUED).update(
        status=CompressionJob.Status.CANCELLED, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def job_run(*, job_id: int) -> CompressionJob:
    """The worker side: run the library with progress and cancellation; new variants are created unpublished."""
    from ..compression import CompressionCancelled, CompressionError, MethodSpec, run_compression

    job = CompressionJob.objects.select_related("source__model").get(pk=job_id)
    if job.status != CompressionJob.Status.QUEUED:
        return job
    CompressionJob.objects.filter(pk=job.pk).update(status=CompressionJob.Status.RUNNING, started_at=timezone.now())
    out_dir = Path(settings.MODELHUB_JOB_ROOT) / f"job-{job.pk}-{uuid.uuid4().hex[:8]}"

    def progress(done: int, total: int, message: str) -> None:
        CompressionJob.objects.filter(pk=job.pk).update(progress=int(100 * done / max(total, 1)), message=message[:300])

    def cancelled() -> bool:
        return CompressionJob.objects.filter(pk=job.pk, cancel_requested=True).exists()

    source_artifact = job.source.artifacts.filter(format="onnx").first() or job.source.artifacts.first()
    try:
        specs = [MethodSpec(m["method"], dict(m.get("options") or {}), m.get("name")) for m in job.methods]
        with local_copy(source_artifact) as model_path:
            result = run_compression(model_path, job.eval_path, specs, out_dir, progress=progress, cancelled=cancelled)
        variants = _variants_from(job, result)
    except CompressionCancelled:
        _finish(job, CompressionJob.Status.CANCELLED, error="Cancelled by the publisher.")
        return CompressionJob.objects.get(pk=job.pk)
    except CompressionError as exc:
        _finish(job, CompressionJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        return CompressionJob.objects.get(pk=job.pk)
    finally:
        Path(job.eval_path).unlink(missing_ok=True)
        shutil.rmtree(out_dir, ignore_errors=True)
    summary = {
        "variants": [v.pk for v in variants],
        "pareto_size": [v.pk for v, r in variants.items() if r.pareto_size],
        "pareto_latency": [v.pk for v, r in variants.items() if r.pareto_latency],
        "hardware": result.hardware.label,
        "eval_set": result.eval_set,
    }
    _finish(job, CompressionJob.Status.SUCCEEDED, result=summary)
    return CompressionJob.objects.get(pk=job.pk)


def _finish(job: CompressionJob, status: str, *, error: str = "", result: dict | None = None) -> None:
    CompressionJob.objects.filter(pk=job.pk).update(
        status=status,
        error=error[:4000],
        result=result,
        finished_at=timezone.now(),
        progress=100 if status == CompressionJob.Status.SUCCEEDED else job.progress,
    )


def _variants_from(job: CompressionJob, result) -> dict[Variant, Any]:
    source = job.source
    user = job.created_by
    reference = result.reference
    out: dict[Variant, Any] = {}
    # the source itself gets its measured reference figures if it has none
    _apply_measurement(source, reference, reference, job.eval_name, result.hardware.label, only_missing=True)
    source.save()
    for variant_result in result.variants:
        name = _unique_name(source, variant_result.name)
        meta = {k: _value(v) for k, v in variant_result.metadata.items()}
        calibration = meta.get("calibration") if isinstance(meta.get("calibration"), dict) else {}
        variant = Variant(
            model=source.model,
            name=name,
            derived_from=source,
            published=False,
            price=source.model.price,
            method=_METHOD_FIELD.get(str(meta.get("method")), Method.LINEAR),
            weight_bits=meta.get("weight_bits"),
            activation_bits=meta.get("activation_bits"),
            granularity=meta.get("granularity") or "",
            symmetric=meta.get("symmetric"),
            codebook_size=meta.get("codebook_size"),
            sparsity=meta.get("sparsity"),
            calibration_method=str(calibration.get("method") or "")[:64],
            calibration_samples=calibration.get("samples"),
            parameter_count=meta.get("parameter_count"),
            layers=meta.get("per_layer") or [],
            sensitivity=_plain(result.sensitivity),
            histograms=_plain(result.histograms),
        )
        _apply_measurement(variant, variant_result, reference, job.eval_name, result.hardware.label)
        variant.save()
        artifact_add_path(user=user, variant=variant, path=variant_result.path)
        out[variant] = variant_result
    # the reference's charts belong to the source too
    if source.sensitivity is None:
        Variant.objects.filter(pk=source.pk).update(
            sensitivity=_plain(result.sensitivity), histograms=_plain(result.histograms)
        )
    return out


def _apply_measurement(
    variant: Variant, vr, reference, eval_name: str, hardware: str, only_missing: bool = False
) -> None:
    timing = vr.timing
    values = {
        "accuracy": vr.measurement.top1,
        "reference_accuracy": reference.measurement.top1,
        "evaluation_set": eval_name[:200],
        "latency_ms": timing.latency[0].median_ms if timing.latency else None,
        "memory_bytes": timing.peak_memory_bytes or None,
        "hardware": hardware[:200],
        "size_bytes": vr.measurement.size_bytes,
    }
    for key, value in values.items():
        if only_missing and getattr(variant, key) not in (None, ""):
            continue
        setattr(variant, key, value)


def _value(raw):
    """The library hands back the file's metadata_props as strings ("8", "True", "None", "{...}")."""
    if not isinstance(raw, str):
        return raw
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        try:
            return json.loads(raw)
        except ValueError:
            return raw


def _unique_name(source: Variant, name: str) -> str:
    candidate, n = name[:120], 1
    while Variant.objects.filter(model=source.model, name=candidate).exists():
        n += 1
        candidate = f"{name[:110]}-{n}"
    return candidate


def _plain(value):
    if value is None:
        return None
    import dataclasses

    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    return json.loads(json.dumps(value, default=str))


def variants_publish(*, user, variants: list[Variant], prices: dict[int, int]) -> None:
    """The publisher picks which job outputs to publish and at what price."""
    for variant in variants:
        if not can_publish_for(user=user, organisation=variant.model.publisher):
            raise NotAllowed("Only the model's publisher can publish its variants.")
    with transaction.atomic():
        for variant in variants:
            variant.published = True
            if variant.pk in prices:
                variant.price = max(int(prices[variant.pk]), 0)
            variant.save(update_fields=["published", "price"])


def artifacts_pending(variant: Variant) -> bool:
    return variant.artifacts.exclude(
        inspection_status__in=[Artifact.Inspection.DONE, Artifact.Inspection.FAILED]
    ).exists()
