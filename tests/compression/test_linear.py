"""Static (one calibration batch) and dynamic INT8 on the demo digits CNN."""

from __future__ import annotations

import onnx
import pytest

from modelhub.compression import dynamic_int8, read_metadata, static_int8
from modelhub.compression.measure import top_k_accuracy

from .helpers import logits


def _top1(path, eval_set) -> float:
    return top_k_accuracy(logits(path, eval_set), eval_set.labels, 1)


@pytest.mark.parametrize(
    ("calibration", "per_channel"),
    [("minmax", True), ("minmax", False), ("percentile", True)],
)
def test_static_int8_stays_within_two_points_and_is_three_times_smaller(
    tmp_path, demo_model, demo_eval, calibration, per_channel
):
    out = tmp_path / "int8.onnx"
    artifact = static_int8(demo_model, demo_eval, out, calibration=calibration, per_channel=per_channel)
    reference = _top1(demo_model, demo_eval)
    assert _top1(out, demo_eval) >= reference - 0.02
    assert demo_model.stat().st_size / out.stat().st_size >= 3.0
    meta = artifact.metadata
    assert meta["calibration"] == {"method": calibration, "samples": 32, "batches": 1}
    assert meta["granularity"] == ("per_channel" if per_channel else "per_tensor")


def test_static_int8_graph_holds_int8_qdq_weights(tmp_path, demo_model, demo_eval):
    out = tmp_path / "int8.onnx"
    static_int8(demo_model, demo_eval, out, per_channel=True)
    model = onnx.load(str(out))
    ops = {node.op_type for node in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    int8_weights = [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8 and len(t.dims) >= 2]
    assert len(int8_weights) == 4


def test_static_int8_calibrates_on_the_requested_single_batch(tmp_path, demo_model, demo_eval):
    artifact = static_int8(demo_model, demo_eval, tmp_path / "a.onnx", calibration_samples=8)
    assert artifact.metadata["calibration"]["samples"] == 8


def test_real_entropy_calibration_differs_from_minmax_and_keeps_accuracy(tmp_path, demo_model, demo_eval):
    # With onnxruntime's default 128 bins the entropy threshold equals the max: same file as MinMax.
    static_int8(demo_model, demo_eval, tmp_path / "mm.onnx", calibration="minmax", per_channel=False)
    static_int8(demo_model, demo_eval, tmp_path / "en.onnx", calibration="entropy", per_channel=False)
    assert _top1(tmp_path / "en.onnx", demo_eval) >= _top1(demo_model, demo_eval) - 0.02
    assert demo_model.stat().st_size / (tmp_path / "en.onnx").stat().st_size >= 3.0

    def scales(path):
        model = onnx.load(str(path))
        return {
            t.name: onnx.numpy_helper.to_array(t).tolist()
            for t in model.graph.initializer
            if t.name.endswith("_scale") and "weight" not in t.name
        }

    assert scales(tmp_path / "mm.onnx") != scales(tmp_path / "en.onnx")


def test_dynamic_int8_stays_within_two_points(tmp_path, demo_model, demo_eval):
    out = tmp_path / "dyn.onnx"
    dynamic_int8(demo_model, demo_eval, out)
    assert _top1(out, demo_eval) >= _top1(demo_model, demo_eval) - 0.02
    meta = read_metadata(out)
    assert meta["method"] == "linear_quantization" and meta["mode"] == "dynamic"
    assert meta["size_bytes"] == out.stat().st_size


def test_dynamic_per_channel_metadata_reports_what_onnxruntime_really_did(tmp_path, demo_model, demo_eval):
    artifact = dynamic_int8(demo_model, demo_eval, tmp_path / "dyn_pc.onnx", per_channel=True)
    by_op = {(row["op_type"], row["granularity"]) for row in artifact.metadata["per_layer"]}
    # ConvInteger weights stay per tensor; MatMulInteger weights follow per_channel.
    assert by_op == {("Conv", "per_tensor"), ("Gemm", "per_channel")}
    assert artifact.metadata["granularity"] == "mixed"
