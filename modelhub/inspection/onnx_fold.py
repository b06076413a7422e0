"""Evaluate constant-only ONNX subgraphs (weight decoders) with a small, size-guarded numpy interpreter.

Packed weights (bit-packed codes + codebook Gather, codes * scale + offset, ...) are decoded so their
values can be inspected. Only an allow-list of cheap ops runs, and every intermediate is bounded in size
before it is computed, so a hostile graph cannot make the inspector allocate without limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import onnx
from onnx import helper

MAX_ELEMENTS = 32 * 1024 * 1024  # per intermediate tensor
MAX_NODES = 256  # per decoded weight


FOLDABLE_OPS = {
    "Range", "Add", "Sub", "Mul", "Div", "Mod", "BitwiseAnd", "BitwiseOr", "BitShift", "Pow", "Gather", "Cast",
    "Reshape", "Transpose", "Identity", "Neg", "Abs", "Relu", "Flatten", "Squeeze", "Unsqueeze", "Concat",
    "DequantizeLinear",
}  # fmt: skip


def constant_derived(nodes: list[onnx.NodeProto], constants: set[str]) -> set[str]:
    """Names of tensors computed only from constants through foldable ops (nodes are topologically sorted)."""
    derived: set[str] = set()
    known = set(constants)
    for node in nodes:
        if node.domain in ("", "ai.onnx") and node.op_type in FOLDABLE_OPS:
            if all((i in known) for i in node.input if i):
                known.update(node.output)
                derived.update(node.output)
    return derived


class NotFoldable(Exception):
    """The subgraph uses an op outside the allow-list, a graph input, or would exceed the size limits."""


def _attr(node: onnx.NodeProto, name: str, default):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _guard(n: int) -> None:
    if n > MAX_ELEMENTS:
        raise NotFoldable(f"intermediate of {n} elements exceeds the {MAX_ELEMENTS} limit")


def _int_div(a, b):
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        return (np.trunc(a / b)).astype(np.result_type(a, b))  # ONNX integer Div truncates
    return a / b


def _reshape(data, shape, allowzero):
    shape = [int(s) for s in shape.reshape(-1)]
    if not allowzero:
        shape = [data.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return data.reshape(shape)


def _dequantize(node, x, scale, zp=None):
    axis = int(_attr(node, "axis", 1))
    block = int(_attr(node, "block_size", 0))
    x = x.astype(np.float32)
    if zp is not None:
        zp = zp.astype(np.float32)
    if scale.size > 1:
        axis = axis % x.ndim
        if block:
            scale = np.repeat(scale, block, axis=axis)[tuple(slice(0, n) for n in x.shape)]
            zp = None if zp is None else np.repeat(zp, block, axis=axis)[tuple(slice(0, n) for n in x.shape)]
        else:
            view = [1] * x.ndim
            view[axis] = scale.size
            scale = scale.reshape(view)
            zp = None if zp is None else zp.reshape(view)
    return ((x - zp) if zp is not None else x) * scale.astype(np.float32)


def _run(node: onnx.NodeProto, xs: list[np.ndarray | None]) -> np.ndarray:
    op = node.op_type
    a = xs[0] if xs else None
    if op == "Range":
        start, limit, delta = (float(v) for v in xs[:3])
        _guard(max(0, math.ceil((limit - start) / delta)) if delta else MAX_ELEMENTS + 1)
        return np.arange(xs[0], xs[1], xs[2]).astype(xs[0].dtype)
    if op in ("Add", "Sub", "Mul", "Div", "Mod", "BitwiseAnd", "BitwiseOr", "BitShift", "Pow"):
        _guard(int(np.prod(np.broadcast_shapes(a.shape, xs[1].shape))))
        b = xs[1]
        if op == "Add":
            return a + b
        if op == "Sub":
            return a - b
        if op == "Mul":
            return a * b
        if op == "Div":
            return _int_div(a, b)
        if op == "Mod":
            return np.fmod(a, b) if _attr(node, "fmod", 0) else np.mod(a, b)
        if op == "BitwiseAnd":
            return a & b
        if op == "BitwiseOr":
            return a | b
        if op == "Pow":
            return np.power(a, b).astype(a.dtype)
        return (a << b) if _attr(node, "direction", b"LEFT") in (b"LEFT", "LEFT") else (a >> b)
    if op == "Gather":
        axis = int(_attr(node, "axis", 0)) % max(a.ndim, 1)
        idx = xs[1].astype(np.int64)
        _guard(idx.size * (a.size // max(a.shape[axis], 1)))
        idx = np.where(idx < 0, idx + a.shape[axis], idx)
        return np.take(a, idx, axis=axis)
    if op == "Cast":
        return a.astype(helper.tensor_dtype_to_np_dtype(int(_attr(node, "to", 1))))
    if op == "Reshape":
        return _reshape(a, xs[1], int(_attr(node, "allowzero", 0)))
    if op == "Transpose":
        perm = _attr(node, "perm", None)
        return np.transpose(a, perm)
    if op in ("Identity", "Neg", "Abs", "Relu"):
        return {"Identity": a, "Neg": -a, "Abs": np.abs(a), "Relu": np.maximum(a, 0)}[op]
    if op == "Flatten":
        axis = int(_attr(node, "axis", 1)) % (a.ndim + 1) if a.ndim else 0
        return a.reshape(int(np.prod(a.shape[:axis])), -1)
    if op in ("Squeeze", "Unsqueeze"):
        axes = _attr(node, "axes", None)
        if axes is None and len(xs) > 1 and xs[1] is not None:
            axes = [int(v) for v in xs[1].reshape(-1)]
        if op == "Squeeze":
            return np.squeeze(a, axis=tuple(axes) if axes else None)
        out = a
        for ax in sorted(int(v) % (a.ndim + len(axes)) for v in axes):
            out = np.expand_dims(out, ax)
        return out
    if op == "Concat":
        _guard(sum(x.size for x in xs))
        return np.concatenate(xs, axis=int(_attr(node, "axis", 0)))
    if op == "DequantizeLinear":
        return _dequantize(node, a, xs[1], xs[2] if len(xs) > 2 else None)
    raise NotFoldable(f"op {op} is not evaluated by the inspector")


def fold(
    name: str,
    producer: dict[str, onnx.NodeProto],
    constant: Callable[[str], np.ndarray | None],
) -> tuple[np.ndarray, set[str], list[onnx.NodeProto]]:
    """Value of tensor `name`, the constant tensors it was computed from, and the nodes evaluated.

    `constant(name)` returns a constant's array or None (external data, not a constant).
    """
    memo: dict[str, np.ndarray] = {}
    leaves: set[str] = set()
    nodes: list[onnx.NodeProto] = []

    def value(tensor: str) -> np.ndarray:
        if tensor in memo:
            return memo[tensor]
        arr = constant(tensor)
        if arr is not None:
            leaves.add(tensor)
            memo[tensor] = arr
            return arr
        node = producer.get(tensor)
        if node is None or node.domain not in ("", "ai.onnx") or node.op_type not in FOLDABLE_OPS:
            raise NotFoldable(f"{tensor} is not computed from constants")
        if len(nodes) >= MAX_NODES:
            raise NotFoldable("decoder subgraph too large")
        nodes.append(node)
        inputs = [value(i) if i else None for i in node.input]
        out = np.asarray(_run(node, inputs))
        _guard(out.size)
        memo[node.output[0]] = out
        return out

    return value(name), leaves, nodes
