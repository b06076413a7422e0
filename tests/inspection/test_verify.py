"""Declared compression metadata is checked against what the file says."""

from __future__ import annotations

import numpy as np

from modelhub.inspection import (
    CONTRADICTED,
    NOT_CHECKABLE,
    VERIFIED,
    ArtifactReport,
    inspect_artifact,
    verify,
)


def _int8_per_tensor(tmp_path, build, rng):
    w_q = rng.integers(-127, 128, size=(16, 32)).astype(np.int8)
    return inspect_artifact(build.qdq_matmul(tmp_path / "m.onnx", w_q, np.array(0.01), np.array(0, np.int8)))


def test_matching_declaration_is_verified_field_by_field(tmp_path, build, rng):
    report = _int8_per_tensor(tmp_path, build, rng)
    declared = {
        "method": "linear",
        "weight_bits": 8,
        "activation_bits": 8,
        "granularity": "per-tensor",
        "symmetric": True,
        "parameter_count": 512,
        "size_bytes": report.size_bytes,
        "format": "ONNX",
    }
    checks = verify(declared, report)
    assert {f: c.status for f, c in checks.items()} == {f: VERIFIED for f in declared}


def test_contradicting_declaration_is_flagged_with_what_the_file_says(tmp_path, build, rng):
    report = _int8_per_tensor(tmp_path, build, rng)
    checks = verify(
        {
            "method": "kmeans",
            "weight_bits": 4,
            "granularity": "per_channel",
            "symmetric": False,
            "parameter_count": 1000,
            "codebook_size": 16,
        },
        report,
    )
    assert checks["weight_bits"].status == CONTRADICTED and checks["weight_bits"].observed == 8
    assert "8" in checks["weight_bits"].message
    assert checks["method"].status == CONTRADICTED and checks["method"].observed == ["linear_quantization"]
    assert checks["granularity"].status == CONTRADICTED and checks["granularity"].observed == "per_tensor"
    assert checks["symmetric"].status == CONTRADICTED and checks["symmetric"].observed is True
    assert checks["parameter_count"].status == CONTRADICTED and checks["parameter_count"].observed == 512
    assert checks["codebook_size"].status == NOT_CHECKABLE  # no weight sharing in the file to compare


def test_uncompressed_claim_on_quantised_file_is_contradicted(tmp_path, build, rng):
    report = _int8_per_tensor(tmp_path, build, rng)
    assert verify({"method": "fp32"}, report)["method"].status == CONTRADICTED


def test_measured_and_historical_fields_are_not_checkable(tmp_path, build, rng):
    report = _int8_per_tensor(tmp_path, build, rng)
    declared = {
        "accuracy": 0.98,
        "latency_ms": 1.2,
        "teacher": "resnet50",
        "calibration_samples": 64,
        "method": "distillation",
        "favourite_colour": "blue",
    }
    checks = verify(declared, report)
    assert all(c.status == NOT_CHECKABLE for c in checks.values())


def test_sparsity_is_checked_with_tolerance_and_percentages(tmp_path, build, rng):
    w1 = rng.normal(size=(16, 32)).astype(np.float32)
    w2 = rng.normal(size=(32, 10)).astype(np.float32)
    w1[:, :16] = 0.0
    w2[:16, :] = 0.0
    report = inspect_artifact(build.mlp_fp32(tmp_path / "p.onnx", w1, w2))
    assert report.sparsity == 0.5
    assert verify({"sparsity": 0.51, "method": "pruning"}, report)["sparsity"].status == VERIFIED
    assert verify({"sparsity": 50}, report)["sparsity"].status == VERIFIED
    assert verify({"sparsity": 0.9}, report)["sparsity"].status == CONTRADICTED
    assert verify({"method": "pruning"}, report)["method"].status == VERIFIED


def test_kmeans_declaration_is_verified_and_combined_methods_are_split(tmp_path, build, rng):
    codebook = np.sort(rng.normal(size=16))
    codebook[0] = 0.0
    indices = rng.integers(1, 16, size=(16, 32))
    indices[:, :20] = 0  # zero centroid on most weights: pruned and shared
    report = inspect_artifact(build.kmeans_gather(tmp_path / "km.onnx", codebook, indices))
    checks = verify({"method": "pruning+k-means", "codebook_size": 16, "weight_bits": 4}, report)
    assert {f: c.status for f, c in checks.items()} == {f: VERIFIED for f in checks}
    assert verify({"codebook_size": 8}, report)["codebook_size"].status == CONTRADICTED


def test_report_round_trips_through_json_dict(tmp_path, build, rng):
    report = _int8_per_tensor(tmp_path, build, rng)
    again = ArtifactReport.from_dict(report.to_dict())
    assert again == report
    assert verify({"weight_bits": 8}, again)["weight_bits"].to_dict()["status"] == VERIFIED


def test_per_layer_declarations_are_matched_by_weight_name(tmp_path, build, rng):
    report = _int8_per_tensor(tmp_path, build, rng)
    good = [{"layer": "fc", "weight": "w_q", "weight_bits": 8, "parameters": 512, "granularity": "per_tensor"}]
    assert verify({"per_layer": good}, report)["per_layer"].status == VERIFIED
    bad = [{"layer": "fc", "weight_bits": 4, "parameters": 512}]  # matched by layer name
    check = verify({"per_layer": bad}, report)["per_layer"]
    assert check.status == CONTRADICTED
    assert check.observed == [{"layer": "fc", "weight_bits": 4, "file": 8}]
    assert verify({"per_layer": [{"layer": "nowhere", "weight_bits": 8}]}, report)["per_layer"].status == NOT_CHECKABLE


def test_format_accepts_a_file_format_or_a_weight_layout(tmp_path, build, rng):
    report = _int8_per_tensor(tmp_path, build, rng)
    assert report.storage == ["qdq"]
    statuses = {d: verify({"format": d}, report)["format"].status for d in ("onnx", "qdq", "gguf", "integer_ops")}
    assert statuses == {"onnx": VERIFIED, "qdq": VERIFIED, "gguf": CONTRADICTED, "integer_ops": CONTRADICTED}
    assert verify({"mode": "static"}, report)["mode"].status == VERIFIED
    assert verify({"mode": "dynamic"}, report)["mode"].status == CONTRADICTED
