"""Small ONNX files built with onnx.helper for the hub's integration tests: an fp32 MLP and its int8 QDQ form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def fp32_mlp(path: Path, *, inputs: int = 16, hidden: int = 32, outputs: int = 10) -> Path:
    """x → MatMul(W1) + b1 → Relu → MatMul(W2) + b2: float32 initialisers only."""
    rng = _rng()
    w1 = rng.normal(size=(inputs, hidden)).astype(np.float32)
    w2 = rng.normal(size=(hidden, outputs)).astype(np.float32)
    b1, b2 = np.zeros(hidden, np.float32), np.zeros(outputs, np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"], name="fc1"),
        helper.make_node("Add", ["h0", "b1"], ["h1"], name="fc1_bias"),
        helper.make_node("Relu", ["h1"], ["h2"], name="relu"),
        helper.make_node("MatMul", ["h2", "w2"], ["o0"], name="fc2"),
        helper.make_node("Add", ["o0", "b2"], ["y"], name="fc2_bias"),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, inputs])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, outputs])],
        [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (w2, "w2"), (b1, "b1"), (b2, "b2"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def int8_qdq_mlp(
    path: Path, *, inputs: int = 16, hidden: int = 32, outputs: int = 10, per_channel: bool = True
) -> Path:
    """The same MLP with int8 symmetric weights (per output channel) and uint8 activations, in QDQ form."""
    rng = _rng()
    nodes, inits = [], []

    def weight(name: str, shape: tuple[int, int]) -> str:
        w = rng.normal(size=shape).astype(np.float32)
        if per_channel:
            scale = (np.abs(w).max(axis=0) / 127).astype(np.float32)
            q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
            zero = np.zeros(shape[1], np.int8)
            attrs = {"axis": 1}
        else:
            scale = np.array(np.abs(w).max() / 127, np.float32)
            q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
            zero = np.array(0, np.int8)
            attrs = {}
        inits.extend(
            [
                numpy_helper.from_array(q, f"{name}_q"),
                numpy_helper.from_array(scale, f"{name}_scale"),
                numpy_helper.from_array(zero, f"{name}_zero"),
            ]
        )
        nodes.append(
            helper.make_node(
                "DequantizeLinear", [f"{name}_q", f"{name}_scale", f"{name}_zero"], [name], name=f"{name}_dq", **attrs
            )
        )
        return name

    def activation(src: str, name: str) -> str:
        inits.extend(
            [
                numpy_helper.from_array(np.array(0.05, np.float32), f"{name}_s"),
                numpy_helper.from_array(np.array(128, np.uint8), f"{name}_z"),
            ]
        )
        nodes.append(
            helper.make_node("QuantizeLinear", [src, f"{name}_s", f"{name}_z"], [f"{name}_q"], name=f"{name}_ql")
        )
        nodes.append(
            helper.make_node("DequantizeLinear", [f"{name}_q", f"{name}_s", f"{name}_z"], [name], name=f"{name}_dql")
        )
        return name

    x = activation("x", "xa")
    w1 = weight("w1", (inputs, hidden))
    nodes.append(helper.make_node("MatMul", [x, w1], ["h0"], name="fc1"))
    nodes.append(helper.make_node("Relu", ["h0"], ["h1"], name="relu"))
    h = activation("h1", "ha")
    w2 = weight("w2", (hidden, outputs))
    nodes.append(helper.make_node("MatMul", [h, w2], ["y"], name="fc2"))
    graph = helper.make_graph(
        nodes,
        "mlp_int8",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, inputs])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, outputs])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path
