"""ONNX graph plumbing for the inspector: the node/constant index (subgraphs included) and dtype facts."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import onnx
from onnx import TensorProto

FLOAT_TYPES = {
    TensorProto.FLOAT,
    TensorProto.FLOAT16,
    TensorProto.BFLOAT16,
    TensorProto.DOUBLE,
}
_NAMES = {
    TensorProto.FLOAT: "float32",
    TensorProto.DOUBLE: "float64",
    TensorProto.FLOAT16: "float16",
    TensorProto.BFLOAT16: "bfloat16",
}


def dtype_name(elem_type: int) -> str:
    if elem_type in _NAMES:
        return _NAMES[elem_type]
    try:
        return TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return f"unknown({elem_type})"


def dtype_bits(elem_type: int) -> int:
    name = dtype_name(elem_type)
    if name in ("int4", "uint4", "float4e2m1"):
        return 4
    if name == "bool":
        return 8
    if name == "string":
        return 0
    try:
        return int(np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)).itemsize * 8)
    except (KeyError, ValueError, TypeError):
        return 0  # an unknown or undefined type: no size we could vouch for


def is_unsigned(elem_type: int) -> bool:
    return dtype_name(elem_type).startswith("uint")


class Graph:
    """All nodes and constant tensors of a model, subgraphs included."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.tensors: dict[str, TensorProto] = {}
        self.consumers: dict[str, list[tuple[onnx.NodeProto, int]]] = defaultdict(list)
        self.producer: dict[str, onnx.NodeProto] = {}
        self.sparse: list[onnx.SparseTensorProto] = []
        self._walk(model.graph)

    def _walk(self, graph: onnx.GraphProto) -> None:
        for t in graph.initializer:
            self.tensors[t.name] = t
        self.sparse.extend(graph.sparse_initializer)
        for node in graph.node:
            self.nodes.append(node)
            for i, name in enumerate(node.input):
                if name:
                    self.consumers[name].append((node, i))
            for out in node.output:
                self.producer[out] = node
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                for attr in node.attribute:
                    if attr.name == "value" and attr.type == onnx.AttributeProto.TENSOR:
                        tensor = TensorProto()
                        tensor.CopyFrom(attr.t)
                        tensor.name = node.output[0]
                        self.tensors[node.output[0]] = tensor
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    self._walk(attr.g)
                elif attr.type == onnx.AttributeProto.GRAPHS:
                    for g in attr.graphs:
                        self._walk(g)


def node_attr(node: onnx.NodeProto, name: str, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def input_at(node: onnx.NodeProto, i: int) -> str | None:
    return node.input[i] if len(node.input) > i and node.input[i] else None


def is_external(t: TensorProto) -> bool:
    return t.data_location == TensorProto.EXTERNAL


def tensor_numel(t: TensorProto) -> int:
    return int(math.prod(t.dims)) if t.dims else 1


def stored_bytes(t: TensorProto) -> int:
    if is_external(t):
        for entry in t.external_data:
            if entry.key == "length":
                return int(entry.value)
        return 0
    if t.raw_data:
        return len(t.raw_data)
    return int(math.ceil(tensor_numel(t) * dtype_bits(t.data_type) / 8))
