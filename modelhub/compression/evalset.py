"""Evaluation sets: an `.npz` of inputs and integer labels, validated against a model's input signature."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from .errors import EvalSetMismatchError

INPUT_KEYS = ("inputs", "x", "X")
LABEL_KEYS = ("labels", "y", "Y")

_ONNX_TO_NUMPY = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.FLOAT16: np.float16,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32,
    onnx.TensorProto.UINT8: np.uint8,
    onnx.TensorProto.INT8: np.int8,
    onnx.TensorProto.BOOL: np.bool_,
}


@dataclass(frozen=True)
class EvalSet:
    """Inputs for the model's single input and the expected class index per sample."""

    input_name: str
    inputs: np.ndarray
    labels: np.ndarray
    num_classes: int
    name: str = "eval"

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def batch(self, start: int, size: int) -> dict[str, np.ndarray]:
        return {self.input_name: self.inputs[start : start + size]}


def _dims(value_info: onnx.ValueInfoProto) -> list[int | str]:
    shape = value_info.type.tensor_type.shape
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in shape.dim]


def _initializer_names(model: onnx.ModelProto) -> set[str]:
    return {t.name for t in model.graph.initializer}


def load_eval_set(npz_path: str | Path, model: onnx.ModelProto) -> EvalSet:
    """Read `npz_path` and check it against `model`'s inputs and first output; raise EvalSetMismatchError."""
    path = Path(npz_path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise EvalSetMismatchError(f"evaluation set {path.name} is not a readable .npz file: {exc}") from exc
    inits = _initializer_names(model)
    graph_inputs = [i for i in model.graph.input if i.name not in inits]
    if len(graph_inputs) != 1:
        raise EvalSetMismatchError(
            f"the model has {len(graph_inputs)} inputs; evaluation sets support single-input models only"
        )
    spec = graph_inputs[0]
    input_key = spec.name if spec.name in arrays else next((k for k in INPUT_KEYS if k in arrays), None)
    label_key = next((k for k in LABEL_KEYS if k in arrays), None)
    if input_key is None or label_key is None:
        raise EvalSetMismatchError(
            f"evaluation set must hold an inputs array (key {spec.name!r} or one of {INPUT_KEYS}) and a labels "
            f"array (one of {LABEL_KEYS}); found keys {sorted(arrays)}"
        )
    inputs, labels = arrays[input_key], arrays[label_key]
    expected_dtype = _ONNX_TO_NUMPY.get(spec.type.tensor_type.elem_type)
    if expected_dtype is None or inputs.dtype != np.dtype(expected_dtype):
        want = onnx.TensorProto.DataType.Name(spec.type.tensor_type.elem_type)
        raise EvalSetMismatchError(f"input {spec.name!r} expects dtype {want}, the evaluation set holds {inputs.dtype}")
    dims = _dims(spec)
    if inputs.ndim != len(dims) or any(
        isinstance(d, int) and d > 0 and d != s for d, s in zip(dims[1:], inputs.shape[1:], strict=False)
    ):
        raise EvalSetMismatchError(
            f"input {spec.name!r} expects shape {dims}, the evaluation set holds {list(inputs.shape)}"
        )
    if isinstance(dims[0], int) and dims[0] > 0 and dims[0] != 1:
        raise EvalSetMismatchError(f"input {spec.name!r} has a fixed batch size {dims[0]}; a dynamic batch is needed")
    if labels.ndim != 1 or labels.shape[0] != inputs.shape[0]:
        raise EvalSetMismatchError(
            f"labels must be one integer per sample: got shape {list(labels.shape)} for {inputs.shape[0]} inputs"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise EvalSetMismatchError(f"labels must be integers (class indices), got {labels.dtype}")
    if len(labels) == 0:
        raise EvalSetMismatchError("the evaluation set is empty")
    out_dims = _dims(model.graph.output[0])
    num_classes = out_dims[-1] if out_dims and isinstance(out_dims[-1], int) and out_dims[-1] > 0 else None
    if num_classes is None:
        num_classes = int(labels.max()) + 1
    if labels.min() < 0 or labels.max() >= num_classes:
        raise EvalSetMismatchError(
            f"labels range {int(labels.min())}..{int(labels.max())} does not fit the model's {num_classes} classes"
        )
    return EvalSet(spec.name, inputs, labels.astype(np.int64), int(num_classes), name=path.name)
