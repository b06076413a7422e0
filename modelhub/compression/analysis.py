"""Per-layer analysis: sensitivity (quantise one weighted layer at a time) and weight/activation histograms."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from .errors import UnsupportedOptionError
from .evalset import EvalSet
from .graph import initializer_array, load_model, replace_initializer, weighted_layers
from .kmeans import assign, kmeans_1d
from .measure import top_k_accuracy

SENSITIVITY_METHODS = ("linear", "kmeans")


@dataclass(frozen=True)
class SensitivityPoint:
    method: str
    bits: int
    top1: float
    drop_points: float  # fp32 top-1 minus this top-1, in percentage points


@dataclass
class SensitivityRow:
    layer: str
    op_type: str
    weight: str
    parameters: int
    points: list[SensitivityPoint] = field(default_factory=list)


@dataclass
class SensitivityTable:
    baseline_top1: float
    rows: list[SensitivityRow]

    def to_dict(self) -> dict:
        return asdict(self)


def fake_quantise_linear(weight: np.ndarray, bits: int, channel_axis: int = 0) -> np.ndarray:
    """Symmetric per-output-channel uniform quantise-dequantise."""
    levels = (1 << (bits - 1)) - 1
    axes = tuple(a for a in range(weight.ndim) if a != channel_axis)
    peak = np.max(np.abs(weight), axis=axes, keepdims=True)
    scale = np.where(peak > 0, peak / max(levels, 1), 1.0)
    return (np.clip(np.round(weight / scale), -levels - 1, levels) * scale).astype(np.float32)


def fake_quantise_kmeans(weight: np.ndarray, bits: int) -> np.ndarray:
    centroids = kmeans_1d(weight, 1 << bits)
    return centroids[assign(weight, centroids)].reshape(weight.shape)


def _session(model: onnx.ModelProto) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def _top1(model: onnx.ModelProto, eval_set: EvalSet) -> float:
    session = _session(model)
    logits = np.concatenate([session.run(None, eval_set.batch(i, 256))[0] for i in range(0, len(eval_set), 256)])
    return top_k_accuracy(logits, eval_set.labels, 1)


def layer_sensitivity(
    model_path: str | Path,
    eval_set: EvalSet,
    *,
    bits: tuple[int, ...] = (2, 4, 8),
    methods: tuple[str, ...] = ("linear", "kmeans"),
) -> SensitivityTable:
    """One row per weighted layer: accuracy when only that layer's weights are quantised (QUENN)."""
    for method in methods:
        if method not in SENSITIVITY_METHODS:
            raise UnsupportedOptionError(f"sensitivity methods are {SENSITIVITY_METHODS}, not {method!r}")
    model = load_model(model_path)
    baseline = _top1(model, eval_set)
    rows = []
    for layer in weighted_layers(model):
        weight = initializer_array(model, layer.weight_name)
        row = SensitivityRow(layer.node_name, layer.op_type, layer.weight_name, layer.parameters)
        for method in methods:
            for b in bits:
                quantised = fake_quantise_linear(weight, b) if method == "linear" else fake_quantise_kmeans(weight, b)
                replace_initializer(model, layer.weight_name, quantised)
                top1 = _top1(model, eval_set)
                row.points.append(SensitivityPoint(method, b, top1, round((baseline - top1) * 100, 4)))
        replace_initializer(model, layer.weight_name, weight)
        rows.append(row)
    return SensitivityTable(baseline, rows)


def histogram(values: np.ndarray, bins: int = 64) -> dict:
    """JSON-ready histogram and summary statistics of a tensor."""
    flat = values.reshape(-1).astype(np.float64)
    counts, edges = np.histogram(flat, bins=bins)
    return {
        "bin_edges": [float(e) for e in edges],
        "counts": [int(c) for c in counts],
        "min": float(flat.min()),
        "max": float(flat.max()),
        "mean": float(flat.mean()),
        "std": float(flat.std()),
        "count": int(flat.size),
        "zeros": int((flat == 0).sum()),
    }


def layer_histograms(model_path: str | Path, eval_set: EvalSet, *, bins: int = 64, samples: int = 256) -> list[dict]:
    """Per weighted layer: histogram of its weights and of its output activations on up to `samples` inputs."""
    model = load_model(model_path)
    layers = weighted_layers(model)
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    existing = {o.name for o in probe.graph.output}
    for layer in layers:
        if layer.output_name not in existing:
            probe.graph.output.append(
                onnx.helper.make_tensor_value_info(layer.output_name, onnx.TensorProto.FLOAT, None)
            )
    names = [layer.output_name for layer in layers]
    activations = _session(probe).run(names, eval_set.batch(0, samples))
    return [
        {
            "layer": layer.node_name,
            "op_type": layer.op_type,
            "weight": layer.weight_name,
            "weights": histogram(initializer_array(model, layer.weight_name), bins),
            "activations": histogram(act, bins),
            "activation_samples": int(min(samples, len(eval_set))),
        }
        for layer, act in zip(layers, activations, strict=True)
    ]


def quantised_accuracy(model_path: str | Path, eval_set: EvalSet, *, method: str, bits: int) -> float:
    """Top-1 with every weighted layer fake-quantised (weights only, float activations), nothing stored."""
    if method not in SENSITIVITY_METHODS:
        raise UnsupportedOptionError(f"methods are {SENSITIVITY_METHODS}, not {method!r}")
    model = load_model(model_path)
    for layer in weighted_layers(model):
        weight = initializer_array(model, layer.weight_name)
        quantised = fake_quantise_linear(weight, bits) if method == "linear" else fake_quantise_kmeans(weight, bits)
        replace_initializer(model, layer.weight_name, quantised)
    return _top1(model, eval_set)


def model_top1(model_path: str | Path, eval_set: EvalSet) -> float:
    """Top-1 of an ONNX file on the evaluation set, in process (no latency or memory)."""
    return _top1(onnx.load(str(model_path)), eval_set)
