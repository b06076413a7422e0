"""Reading an artifact with the inspector and marking each declared field verified, contradicted or not checkable."""

from __future__ import annotations

import logging

from django.db import transaction

from ..inspection import ArtifactReport, InspectionError, inspect_artifact, verify
from ..models import Artifact, Variant
from .artifacts import local_copy

logger = logging.getLogger(__name__)


def artifact_inspect(*, artifact_id: int) -> Artifact:
    """Inspect the file (in the worker), store the report and the verdicts; unknown files are marked failed."""
    artifact = Artifact.objects.select_related("variant").get(pk=artifact_id)
    Artifact.objects.filter(pk=artifact.pk).update(inspection_status=Artifact.Inspection.RUNNING)
    try:
        with local_copy(artifact) as path:
            report = inspect_artifact(path)
    except InspectionError as exc:
        Artifact.objects.filter(pk=artifact.pk).update(
            inspection_status=Artifact.Inspection.FAILED, inspection_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return Artifact.objects.get(pk=artifact.pk)
    with transaction.atomic():
        variant = Variant.objects.select_for_update().get(pk=artifact.variant_id)
        # facts the file states are filled in where the publisher declared nothing
        changed = []
        for field in ("size_bytes", "parameter_count"):
            if getattr(variant, field) is None and getattr(report, field, None) is not None:
                setattr(variant, field, getattr(report, field))
                changed.append(field)
        if changed:
            variant.save(update_fields=changed)
        checks = {k: c.to_dict() for k, c in verify(variant.declared(), report).items()}
        Artifact.objects.filter(pk=artifact.pk).update(
            inspection_status=Artifact.Inspection.DONE,
            inspection_error="",
            format=report.format,
            report=report.to_dict(),
            checks=checks,
        )
    return Artifact.objects.get(pk=artifact.pk)


def variant_reverify(*, variant: Variant) -> None:
    """After the publisher edits the declarations: check them against the stored reports (no re-reading)."""
    declared = variant.declared()
    for artifact in variant.artifacts.filter(inspection_status=Artifact.Inspection.DONE):
        report = ArtifactReport.from_dict(artifact.report)
        artifact.checks = {k: c.to_dict() for k, c in verify(declared, report).items()}
        artifact.save(update_fields=["checks"])


def verification_summary(artifact: Artifact) -> dict[str, int]:
    counts = {"verified": 0, "contradicted": 0, "not_checkable": 0}
    for check in (artifact.checks or {}).values():
        counts[check["status"]] = counts.get(check["status"], 0) + 1
    return counts
