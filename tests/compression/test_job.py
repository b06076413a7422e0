"""The job entry point: variants, measurements, metadata, analysis, and clean failure."""

from __future__ import annotations

import json

import onnx
import pytest

from modelhub.compression import (
    CompressionCancelled,
    CompressionError,
    MethodSpec,
    read_metadata,
    run_compression,
)
from modelhub.compression.graph import weighted_layers

DESIGN_FIELDS = {
    "method",
    "weight_bits",
    "activation_bits",
    "granularity",
    "symmetric",
    "parameter_count",
    "size_bytes",
    "per_layer",
}


def test_job_writes_every_variant_and_a_result_file(demo_job):
    result, _ = demo_job
    names = sorted(p.name for p in result.out_dir.iterdir())
    assert names == sorted([f"{v.name}.onnx" for v in result.variants] + ["result.json"])
    saved = json.loads((result.out_dir / "result.json").read_text())
    assert [v["name"] for v in saved["variants"]] == [v.name for v in result.variants]


def test_job_reports_progress_up_to_the_total(demo_job):
    _, events = demo_job
    totals = {t for _, t, _ in events}
    assert len(totals) == 1
    done = [d for d, _, _ in events]
    assert done == sorted(done) and done[-1] == totals.pop()


def test_variant_files_carry_design_metadata_matching_the_file(demo_job):
    result, _ = demo_job
    for variant in result.variants:
        meta = read_metadata(variant.path)
        assert DESIGN_FIELDS <= set(meta), variant.name
        assert meta["size_bytes"] == variant.path.stat().st_size == variant.measurement.size_bytes
        assert meta["parameter_count"] == result.reference.metadata["parameter_count"]
        assert meta["evaluation"]["top1"] == variant.measurement.top1
        assert meta["evaluation"]["reference_top1"] == result.reference.measurement.top1
    by_name = {v.name: read_metadata(v.path) for v in result.variants}
    assert by_name["int8_minmax_pc"]["calibration"]["samples"] == 32
    assert by_name["kmeans4"]["codebook_size"] == 16
    assert by_name["pruned50"]["sparsity"] == pytest.approx(0.5, abs=0.01)


def test_every_variant_is_measured_at_batch_one_and_thirty_two(demo_job):
    result, _ = demo_job
    for variant in [result.reference, *result.variants]:
        timing = variant.timing
        assert [row.batch_size for row in timing.latency] == [1, 32]
        assert all(0 < row.median_ms <= row.p95_ms for row in timing.latency)
        assert timing.peak_memory_bytes > 0
        assert 0.9 < variant.measurement.top1 <= variant.measurement.top5 <= 1.0  # ten classes: top-5 reported
    assert result.hardware.cpu_model and result.hardware.cpu_model != "unknown CPU"
    # The fp32 model is timed again after the variants, to expose drift on a shared machine.
    assert result.reference_repeat is not None and result.latency_drift > 0


def test_packed_kmeans_latency_is_measured_on_the_decoded_copy(demo_job):
    result, _ = demo_job
    kmeans = next(v for v in result.variants if v.name == "kmeans4")
    assert kmeans.runtime_measurement is not None
    assert kmeans.runtime_measurement.top1 == kmeans.measurement.top1
    assert not list(result.out_dir.glob("*.decoded.onnx"))


def test_sensitivity_has_one_row_per_weighted_layer(demo_job, demo_model):
    result, _ = demo_job
    layers = weighted_layers(onnx.load(str(demo_model)))
    assert [row.weight for row in result.sensitivity.rows] == [ly.weight_name for ly in layers]
    for row in result.sensitivity.rows:
        assert {(p.method, p.bits) for p in row.points} == {
            ("linear", 2),
            ("linear", 8),
            ("kmeans", 2),
            ("kmeans", 8),
        }
    # Two-bit linear quantisation of any single layer hurts more than eight-bit.
    for row in result.sensitivity.rows:
        drop = {(p.method, p.bits): p.drop_points for p in row.points}
        assert drop[("linear", 2)] >= drop[("linear", 8)]


def test_histograms_are_json_ready_and_count_every_weight(demo_job):
    result, _ = demo_job
    json.dumps(result.histograms)
    assert len(result.histograms) == 4
    for entry, row in zip(result.histograms, result.sensitivity.rows, strict=True):
        assert sum(entry["weights"]["counts"]) == entry["weights"]["count"] == row.parameters
        assert len(entry["weights"]["bin_edges"]) == len(entry["weights"]["counts"]) + 1
        assert entry["activations"]["count"] > 0


def test_pareto_flags_mark_the_smallest_accurate_variant(demo_job):
    result, _ = demo_job
    everyone = [result.reference, *result.variants]
    front = [v for v in everyone if v.pareto_size]
    assert front
    best = max(v.measurement.top1 for v in everyone)
    assert any(v.measurement.top1 == best for v in front)
    smallest = min(everyone, key=lambda v: v.measurement.size_bytes)
    assert smallest.pareto_size


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_failing_method_leaves_no_output_behind(tmp_path, demo_model, demo_eval_npz):
    out = tmp_path / "out"
    specs = [MethodSpec("dynamic_int8"), MethodSpec("kmeans", {"bits": 9})]
    with pytest.raises(CompressionError, match="2 to 8 bits"):
        run_compression(demo_model, demo_eval_npz, specs, out, latency_repeats=2, sensitivity=False, histograms=False)
    assert _leftovers(tmp_path) == []


def test_cancelled_job_stops_and_leaves_no_output(tmp_path, demo_model, demo_eval_npz):
    out = tmp_path / "out"
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(CompressionCancelled):
        run_compression(
            demo_model,
            demo_eval_npz,
            [MethodSpec("dynamic_int8"), MethodSpec("kmeans")],
            out,
            cancelled=cancelled,
            latency_repeats=2,
        )
    assert _leftovers(tmp_path) == []


def test_unknown_method_or_option_is_rejected_before_any_work(tmp_path, demo_model, demo_eval_npz):
    with pytest.raises(CompressionError, match="unknown method"):
        run_compression(demo_model, demo_eval_npz, [MethodSpec("svd")], tmp_path / "a")
    with pytest.raises(CompressionError, match="does not take"):
        run_compression(demo_model, demo_eval_npz, [MethodSpec("kmeans", {"clusters": 16})], tmp_path / "b")
    assert _leftovers(tmp_path) == []


def test_the_hub_inspector_verifies_every_declared_field_of_every_variant(demo_job):
    from modelhub.inspection import VERIFIED, inspect_artifact, verify

    result, _ = demo_job
    checked = (
        "method",
        "weight_bits",
        "activation_bits",
        "granularity",
        "symmetric",
        "codebook_size",
        "sparsity",
        "parameter_count",
        "size_bytes",
    )
    for variant in result.variants:
        meta = read_metadata(variant.path)
        declared = {k: meta[k] for k in checked if meta.get(k) is not None}
        checks = verify(declared, inspect_artifact(variant.path))
        assert {k: c.status for k, c in checks.items()} == dict.fromkeys(declared, VERIFIED), variant.name
