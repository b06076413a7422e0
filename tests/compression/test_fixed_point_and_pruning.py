"""Dynamic fixed point (per-layer Qm.n) and magnitude pruning."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from modelhub.compression import dynamic_fixed_point, magnitude_prune, read_metadata
from modelhub.compression.fixed_point import fixed_point_format, quantise_fixed
from modelhub.compression.graph import initializer_array, weighted_layers
from modelhub.compression.measure import top_k_accuracy

from .helpers import logits


def test_fixed_point_integer_bits_cover_the_layer_range():
    weight = np.array([0.3, -2.7, 1.1], np.float32)
    m, n = fixed_point_format(weight, 8)
    assert (m, n) == (2, 5)
    codes, _, _ = quantise_fixed(weight, 8)
    assert np.abs(codes * 2.0**-n - weight).max() <= 2.0 ** -(n + 1)


@pytest.mark.parametrize("storage", ["int8", "packed"])
def test_eight_bit_dynamic_fixed_point_runs_and_keeps_accuracy(tmp_path, demo_model, demo_eval, storage):
    out = tmp_path / f"dfp_{storage}.onnx"
    dynamic_fixed_point(demo_model, demo_eval, out, bits=8, storage=storage)
    reference = top_k_accuracy(logits(demo_model, demo_eval), demo_eval.labels, 1)
    assert top_k_accuracy(logits(out, demo_eval), demo_eval.labels, 1) >= reference - 0.01
    meta = read_metadata(out)
    assert meta["method"] == "dynamic_fixed_point"
    assert [row["format"] for row in meta["per_layer"]] == [
        f"Q{row['integer_bits']}.{row['fractional_bits']}" for row in meta["per_layer"]
    ]
    assert all(row["scale"] == 2.0 ** -row["fractional_bits"] for row in meta["per_layer"])


def test_int8_fixed_point_is_stored_as_dequantize_linear_with_power_of_two_scales(tmp_path, demo_model, demo_eval):
    out = tmp_path / "dfp.onnx"
    dynamic_fixed_point(demo_model, demo_eval, out, bits=6, storage="int8")
    model = onnx.load(str(out))
    dq = [n for n in model.graph.node if n.op_type == "DequantizeLinear"]
    assert len(dq) == 4
    scales = [float(initializer_array(model, n.input[1])) for n in dq]
    assert all(np.log2(s) == round(np.log2(s)) for s in scales)
    codes = [initializer_array(model, n.input[0]) for n in dq]
    assert all(c.min() >= -32 and c.max() <= 31 for c in codes)


def test_automatic_widths_differ_per_layer_within_bounds(tmp_path, demo_model, demo_eval):
    out = tmp_path / "auto.onnx"
    artifact = dynamic_fixed_point(
        demo_model,
        demo_eval,
        out,
        bits=None,
        min_bits=2,
        max_bits=8,
        max_relative_error=0.1,
        storage="packed",
    )
    widths = [row["weight_bits"] for row in artifact.metadata["per_layer"]]
    assert all(2 <= w <= 8 for w in widths)
    assert all(row["relative_error"] <= 0.1 for row in artifact.metadata["per_layer"])


@pytest.mark.parametrize("scope", ["global", "per_layer"])
def test_magnitude_pruning_reaches_the_target_sparsity(tmp_path, demo_model, demo_eval, scope):
    out = tmp_path / "pruned.onnx"
    artifact = magnitude_prune(demo_model, demo_eval, out, sparsity=0.6, scope=scope)
    model = onnx.load(str(out))
    weights = [initializer_array(model, ly.weight_name) for ly in weighted_layers(model)]
    zeros = sum(int((w == 0).sum()) for w in weights) / sum(w.size for w in weights)
    assert zeros == pytest.approx(0.6, abs=0.01)
    assert artifact.metadata["sparsity"] == pytest.approx(zeros)
    if scope == "per_layer":
        assert all(row["sparsity"] == pytest.approx(0.6, abs=0.01) for row in artifact.metadata["per_layer"])


def test_half_pruned_demo_model_stays_within_two_points(tmp_path, demo_model, demo_eval):
    out = tmp_path / "pruned.onnx"
    magnitude_prune(demo_model, demo_eval, out, sparsity=0.5)
    reference = top_k_accuracy(logits(demo_model, demo_eval), demo_eval.labels, 1)
    assert top_k_accuracy(logits(out, demo_eval), demo_eval.labels, 1) >= reference - 0.02
