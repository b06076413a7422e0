"""The job entry point the Celery task calls: compress an fp32 ONNX model several ways and measure everything.

All output is staged in a sibling temporary folder and moved into `out_dir` only when the whole job succeeded,
so a failure or a cancellation leaves nothing half-made behind.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from .analysis import SensitivityTable, layer_histograms, layer_sensitivity
from .artifact import METHOD_NONE, CompressedArtifact
from .errors import (
    CompressionCancelled,
    CompressionError,
    InvalidModelError,
    UnsupportedOptionError,
)
from .evalset import EvalSet, load_eval_set
from .fixed_point import dynamic_fixed_point
from .graph import float_parameter_count, load_model, save_with_metadata
from .kmeans import kmeans_weights
from .linear import dynamic_int8, static_int8
from .measure import Hardware, Measurement, gzip_size, hardware_info, measure_model
from .pareto import pareto_front
from .pruning import magnitude_prune

METHODS: dict[str, Callable[..., CompressedArtifact]] = {
    "static_int8": static_int8,
    "dynamic_int8": dynamic_int8,
    "kmeans": kmeans_weights,
    "dynamic_fixed_point": dynamic_fixed_point,
    "pruning": magnitude_prune,
}

ProgressFn = Callable[[int, int, str], None]
CancelledFn = Callable[[], bool]


@dataclass(frozen=True)
class MethodSpec:
    """One variant to make: a method from METHODS, its keyword options, and an optional file-safe name."""

    method: str
    options: dict[str, Any] = field(default_factory=dict)
    name: str | None = None

    @property
    def variant_name(self) -> str:
        if self.name:
            return self.name
        parts = [self.method] + [f"{k}-{v}" for k, v in sorted(self.options.items())]
        return "_".join(str(p).replace(".", "p").replace("/", "-") for p in parts)


@dataclass
class VariantResult:
    name: str
    method: str
    options: dict[str, Any]
    path: Path
    metadata: dict[str, Any]
    measurement: Measurement
    # For packed files (k-means, packed fixed point): the same weights decoded at load time, for latency.
    runtime_measurement: Measurement | None = None
    job_seconds: float = 0.0
    size_ratio: float = 1.0  # reference size / this size
    accuracy_change_points: float = 0.0  # this top-1 minus reference top-1, percentage points
    latency_ratio: float = 1.0  # this batch-1 median / reference batch-1 median (runtime copy if packed)
    pareto_size: bool = False
    pareto_latency: bool = False

    @property
    def timing(self) -> Measurement:
        return self.runtime_measurement or self.measurement


@dataclass
class CompressionResult:
    reference: VariantResult
    variants: list[VariantResult]
    sensitivity: SensitivityTable | None
    histograms: list[dict] | None
    hardware: Hardware
    eval_set: dict[str, Any]
    out_dir: Path
    job_seconds: float
    # The fp32 model timed again after all variants: its ratio to the first timing shows the machine's drift.
    reference_repeat: Measurement | None = None

    @property
    def latency_drift(self) -> float | None:
        first, again = self.reference.measurement.latency_for(1), self.reference_repeat
        if first is None or again is None or again.latency_for(1) is None:
            return None
        return again.latency_for(1).median_ms / first.median_ms

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=str))


def _check_specs(methods: list[MethodSpec]) -> None:
    names = set()
    for spec in methods:
        fn = METHODS.get(spec.method)
        if fn is None:
            raise UnsupportedOptionError(f"unknown method {spec.method!r}; choose from {sorted(METHODS)}")
        allowed = {p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY}
        unknown = set(spec.options) - allowed
        if unknown:
            raise UnsupportedOptionError(f"{spec.method} does not take {sorted(unknown)}; options: {sorted(allowed)}")
        if spec.variant_name in names:
            raise UnsupportedOptionError(f"two variants are named {spec.variant_name!r}")
        names.add(spec.variant_name)


def _check_runs(model_path: Path) -> None:
    opts = ort.SessionOptions()
    opts.log_severity_level = 4
    try:
        ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types, not exported consistently
        raise InvalidModelError(f"onnxruntime cannot load {model_path.name}: {str(exc).splitlines()[0]}") from exc


def _finish(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        staging.chmod(0o755)  # mkdtemp makes it private; the published folder should not be
        os.replace(staging, out_dir)
        return
    for item in staging.iterdir():
        os.replace(item, out_dir / item.name)
    staging.rmdir()


def run_compression(
    model_path: str | Path,
    eval_npz_path: str | Path,
    methods: list[MethodSpec],
    out_dir: str | Path,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
    *,
    latency_repeats: int = 50,
    batch_sizes: tuple[int, ...] = (1, 32),
    intra_op_threads: int = 1,
    sensitivity: bool = True,
    sensitivity_bits: tuple[int, ...] = (2, 4, 8),
    histograms: bool = True,
    keep_runtime_copies: bool = False,
) -> CompressionResult:
    """Make and measure each variant in `methods`; write `<name>.onnx` files and `result.json` to `out_dir`."""
    started = time.perf_counter()
    model_path, out_dir = Path(model_path), Path(out_dir)
    progress = progress or (lambda done, total, message: None)
    cancelled = cancelled or (lambda: False)
    _check_specs(methods)
    model = load_model(model_path)
    _check_runs(model_path)
    eval_set = load_eval_set(eval_npz_path, model)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise CompressionError(f"output folder {out_dir} is not empty")
    total = 1 + 2 * len(methods) + int(bool(methods)) + int(sensitivity) + int(histograms)
    done = 0

    def step(message: str) -> None:
        if cancelled():
            raise CompressionCancelled(f"cancelled before: {message}")
        progress(done, total, message)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        with tempfile.TemporaryDirectory(prefix="compression-scratch-") as scratch:
            canonical = Path(scratch) / "eval.npz"
            np.savez(canonical, inputs=eval_set.inputs, labels=eval_set.labels)

            def measure(path: Path) -> Measurement:
                return measure_model(
                    path,
                    canonical,
                    eval_set.input_name,
                    batch_sizes=batch_sizes,
                    repeats=latency_repeats,
                    intra_op_threads=intra_op_threads,
                )

            step("measuring the fp32 reference")
            reference = VariantResult(
                name="fp32",
                method=METHOD_NONE,
                options={},
                path=model_path,
                metadata={
                    "method": METHOD_NONE,
                    "weight_bits": 32,
                    "activation_bits": 32,
                    "parameter_count": float_parameter_count(model),
                },
                measurement=measure(model_path),
            )
            done += 1
            variants = []
            for spec in methods:
                step(f"compressing: {spec.variant_name}")
                variants.append(_make_variant(spec, model_path, eval_set, staging, measure, step))
                done += 2
            repeat = None
            if variants:
                step("measuring the fp32 reference again")
                repeat = measure(model_path)
                done += 1
            _compare(reference, variants, repeat)
            for variant in variants:
                _record_evaluation(variant, reference, eval_set, hardware_info(intra_op_threads).label)
                if not keep_runtime_copies and variant.metadata.get("runtime_file"):
                    (staging / variant.metadata.pop("runtime_file")).unlink()
            table = None
            if sensitivity:
                step("per-layer sensitivity")
                table = layer_sensitivity(model_path, eval_set, bits=sensitivity_bits)
                done += 1
            hist = None
            if histograms:
                step("weight and activation histograms")
                hist = layer_histograms(model_path, eval_set)
                done += 1
            step("saving")
            for variant in variants:
                variant.path = out_dir / variant.path.name
            result = CompressionResult(
                reference=reference,
                variants=variants,
                sensitivity=table,
                histograms=hist,
                hardware=hardware_info(intra_op_threads),
                eval_set={
                    "name": eval_set.name,
                    "samples": len(eval_set),
                    "num_classes": eval_set.num_classes,
                    "input": eval_set.input_name,
                },
                out_dir=out_dir,
                job_seconds=time.perf_counter() - started,
                reference_repeat=repeat,
            )
            (staging / "result.json").write_text(json.dumps(result.to_dict(), indent=1))
            _finish(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    progress(total, total, "done")
    return result


def _make_variant(
    spec: MethodSpec,
    model_path: Path,
    eval_set: EvalSet,
    staging: Path,
    measure: Callable[[Path], Measurement],
    step: Callable[[str], None],
) -> VariantResult:
    started = time.perf_counter()
    target = staging / f"{spec.variant_name}.onnx"
    try:
        artifact = METHODS[spec.method](model_path, eval_set, target, **spec.options)
    except CompressionError:
        raise
    except Exception as exc:
        raise CompressionError(f"{spec.variant_name} failed: {type(exc).__name__}: {exc}") from exc
    job_seconds = time.perf_counter() - started
    step(f"measuring: {spec.variant_name}")
    metadata = dict(artifact.metadata)
    runtime_measurement = None
    if artifact.runtime_path is not None:
        runtime_measurement = measure(artifact.runtime_path)
        metadata["runtime_file"] = artifact.runtime_path.name
    return VariantResult(
        name=spec.variant_name,
        method=spec.method,
        options=dict(spec.options),
        path=artifact.path,
        metadata=metadata,
        measurement=measure(artifact.path),
        runtime_measurement=runtime_measurement,
        job_seconds=job_seconds,
    )


def _compare(reference: VariantResult, variants: list[VariantResult], repeat: Measurement | None) -> None:
    """Ratios against the fp32 model; its latency is the mean of its timings before and after the variants,
    so that a machine getting busier or quieter during the job does not bias every ratio one way."""
    timings = [m.latency[0].median_ms for m in (reference.measurement, repeat) if m is not None and m.latency]
    ref_latency = sum(timings) / len(timings) if timings else 0.0
    for variant in variants:
        variant.size_ratio = reference.measurement.size_bytes / variant.measurement.size_bytes
        variant.accuracy_change_points = (variant.measurement.top1 - reference.measurement.top1) * 100
        if ref_latency and variant.timing.latency:
            variant.latency_ratio = variant.timing.latency[0].median_ms / ref_latency
    everyone = [reference, *variants]
    by_size = pareto_front([(v.measurement.top1, v.measurement.size_bytes) for v in everyone])
    latency = [(v.timing.latency[0].median_ms if v.timing.latency else 0.0) for v in everyone]
    by_latency = pareto_front([(v.measurement.top1, t) for v, t in zip(everyone, latency, strict=True)])
    for v, s, t in zip(everyone, by_size, by_latency, strict=True):
        v.pareto_size, v.pareto_latency = s, t


def _record_evaluation(variant: VariantResult, reference: VariantResult, eval_set: EvalSet, hardware: str) -> None:
    """Add the measured accuracy (and the reference's) to the file's metadata_props, then refresh sizes."""
    timing = variant.timing
    variant.metadata["evaluation"] = {
        "eval_set": eval_set.name,
        "samples": len(eval_set),
        "top1": variant.measurement.top1,
        "top5": variant.measurement.top5,
        "reference_top1": reference.measurement.top1,
        "reference_top5": reference.measurement.top5,
        "latency_ms": {str(row.batch_size): {"median": row.median_ms, "p95": row.p95_ms} for row in timing.latency},
        "peak_memory_bytes": timing.peak_memory_bytes,
        "hardware": hardware,
    }
    runtime_file = variant.metadata.pop("runtime_file", None)
    stored = save_with_metadata(load_model(variant.path), variant.path, variant.metadata)
    variant.metadata = {**stored, **({"runtime_file": runtime_file} if runtime_file else {})}
    variant.measurement.size_bytes = variant.path.stat().st_size
    variant.measurement.size_gzip_bytes = gzip_size(variant.path)
    variant.size_ratio = reference.measurement.size_bytes / variant.measurement.size_bytes
