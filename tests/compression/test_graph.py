"""Graph helpers on small hand-built models: output-channel axes and opset requirements."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from modelhub.compression import UnsupportedOptionError, kmeans_weights
from modelhub.compression.analysis import fake_quantise_linear
from modelhub.compression.graph import weighted_layers


def _matmul_model(path, weight: np.ndarray, opset: int):
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", weight.shape[0]])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", weight.shape[1]])],
        initializer=[numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_matmul_weights_are_quantised_per_output_column(tmp_path):
    rng = np.random.default_rng(0)
    # Column 0 is a thousand times smaller than column 1: per-row scales would flatten it to zero.
    weight = np.stack([rng.normal(0, 0.001, 16), rng.normal(0, 1.0, 16)], axis=1).astype(np.float32)
    path = _matmul_model(tmp_path / "mm.onnx", weight, 17)
    (layer,) = weighted_layers(onnx.load(str(path)))
    assert layer.channel_axis == 1
    quantised = fake_quantise_linear(weight, 4, layer.channel_axis)
    assert np.abs(quantised[:, 0] - weight[:, 0]).max() < 0.001
    assert np.count_nonzero(quantised[:, 0]) > 8


def test_packed_formats_refuse_models_older_than_opset_13(tmp_path):
    weight = np.ones((4, 3), np.float32)
    path = _matmul_model(tmp_path / "old.onnx", weight, 9)
    with pytest.raises(UnsupportedOptionError, match="opset >= 13"):
        kmeans_weights(path, None, tmp_path / "k.onnx", bits=4)
