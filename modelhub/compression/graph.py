"""Reading, checking and writing ONNX models: weighted layers, logical parameter counts, metadata_props."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from .errors import InvalidModelError

WEIGHTED_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")
SCHEMA = "modelhub.compression/1"
# DESIGN.md's compression metadata fields: every variant file carries all of them (JSON null when they do
# not apply), so readers never have to guess whether a field is missing or not applicable.
DESIGN_FIELDS = (
    "method",
    "weight_bits",
    "activation_bits",
    "granularity",
    "symmetric",
    "calibration",
    "codebook_size",
    "sparsity",
    "parameter_count",
    "size_bytes",
    "per_layer",
)


@dataclass(frozen=True)
class WeightedLayer:
    """A node whose weight is a float initializer: the unit of per-layer quantisation and sensitivity."""

    node_name: str
    op_type: str
    weight_name: str
    bias_name: str | None
    shape: tuple[int, ...]
    output_name: str
    channel_axis: int = 0  # axis of the weight that indexes output channels

    @property
    def parameters(self) -> int:
        return int(np.prod(self.shape))


def load_model(path: str | Path) -> onnx.ModelProto:
    """Load and check an ONNX file without following external-data paths (CVE-2024-27318)."""
    path = Path(path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises several unrelated types on garbage input
        raise InvalidModelError(f"{path.name} is not a readable ONNX model: {exc}") from exc
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            raise InvalidModelError(f"{path.name} stores tensor {tensor.name!r} as external data; upload one file")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise InvalidModelError(f"{path.name} fails the ONNX checker: {str(exc).splitlines()[0]}") from exc
    if not model.graph.output:
        raise InvalidModelError(f"{path.name} has no graph outputs")
    return model


def weighted_layers(model: onnx.ModelProto) -> list[WeightedLayer]:
    """Conv/Gemm/MatMul nodes whose weight (input 1) is a float32 initializer, in graph order."""
    inits = {t.name: t for t in model.graph.initializer}
    layers = []
    for i, node in enumerate(model.graph.node):
        if node.op_type not in WEIGHTED_OPS or len(node.input) < 2 or node.input[1] not in inits:
            continue
        weight = inits[node.input[1]]
        if weight.data_type != onnx.TensorProto.FLOAT or len(weight.dims) < 2:
            continue
        bias = node.input[2] if len(node.input) > 2 and node.input[2] in inits else None
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        # Conv: (out, in, kh, kw); ConvTranspose: (in, out, ...); MatMul: (in, out); Gemm: B or B^T.
        if node.op_type == "Gemm":
            axis = 0 if attrs.get("transB", 0) else 1
        else:
            axis = {"Conv": 0, "ConvTranspose": 1, "MatMul": len(weight.dims) - 1}[node.op_type]
        layers.append(
            WeightedLayer(
                node_name=node.name or f"{node.op_type}_{i}",
                op_type=node.op_type,
                weight_name=weight.name,
                bias_name=bias,
                shape=tuple(int(d) for d in weight.dims),
                output_name=node.output[0],
                channel_axis=axis,
            )
        )
    return layers


def opset_version(model: onnx.ModelProto) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def float_parameter_count(model: onnx.ModelProto) -> int:
    """Logical parameters of an fp32 model: elements of its float initializers (weights and biases)."""
    return int(sum(np.prod(t.dims) for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT))


def initializer_array(model: onnx.ModelProto, name: str) -> np.ndarray:
    for tensor in model.graph.initializer:
        if tensor.name == name:
            return numpy_helper.to_array(tensor)
    raise KeyError(name)


def replace_initializer(model: onnx.ModelProto, name: str, array: np.ndarray) -> None:
    for i, tensor in enumerate(model.graph.initializer):
        if tensor.name == name:
            model.graph.initializer[i].CopyFrom(numpy_helper.from_array(array, name))
            return
    raise KeyError(name)


def _encode(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def set_metadata(model: onnx.ModelProto, metadata: dict[str, Any]) -> None:
    """Write each metadata field as one metadata_props entry: strings raw, everything else as JSON text."""
    keep = [p for p in model.metadata_props if p.key not in metadata and p.key != "compression_schema"]
    del model.metadata_props[:]
    for prop in keep:
        model.metadata_props.add(key=prop.key, value=prop.value)
    model.metadata_props.add(key="compression_schema", value=SCHEMA)
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=_encode(value))


def read_metadata(path: str | Path) -> dict[str, Any]:
    """metadata_props of an ONNX file decoded as `set_metadata` wrote them (JSON where it parses)."""
    model = onnx.load(str(path), load_external_data=False)
    out: dict[str, Any] = {}
    for prop in model.metadata_props:
        try:
            out[prop.key] = json.loads(prop.value)
        except ValueError:
            out[prop.key] = prop.value
    return out


def save_with_metadata(model: onnx.ModelProto, path: Path, metadata: dict[str, Any]) -> dict[str, Any]:
    """Save `model` with `metadata` plus its own `size_bytes`; returns the metadata as written."""
    metadata = {**dict.fromkeys(DESIGN_FIELDS), **metadata}
    size = 0
    # size_bytes is part of the file it measures: rewrite until the number stops changing (two passes).
    for _ in range(4):
        metadata["size_bytes"] = size
        set_metadata(model, metadata)
        onnx.save(model, str(path))
        new_size = path.stat().st_size
        if new_size == size:
            break
        size = new_size
    return metadata
