"""Dynamic fixed point (Qm.n per layer): power-of-two scales whose integer length follows each layer's range."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .artifact import METHOD_DYNAMIC_FIXED_POINT, CompressedArtifact
from .errors import UnsupportedOptionError
from .evalset import EvalSet
from .graph import (
    float_parameter_count,
    initializer_array,
    load_model,
    save_with_metadata,
    weighted_layers,
)
from .packing import decode_subgraph, fold_constants, replace_with_packed, require_opset

STORAGES = ("int8", "packed")


def fixed_point_format(weight: np.ndarray, bits: int) -> tuple[int, int]:
    """(m, n) of Qm.n for `bits` total bits with a sign bit: m integer bits cover max|w|, the rest is n."""
    peak = float(np.max(np.abs(weight)))
    m = math.ceil(math.log2(peak)) if peak > 0 else 0
    return m, bits - 1 - m


def quantise_fixed(weight: np.ndarray, bits: int) -> tuple[np.ndarray, int, int]:
    """Integer codes in [-2^(bits-1), 2^(bits-1)-1] of `weight` in Qm.n, and (m, n)."""
    m, n = fixed_point_format(weight, bits)
    codes = np.clip(np.round(weight * 2.0**n), -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return codes.astype(np.int64), m, n


def choose_bits(weight: np.ndarray, min_bits: int, max_bits: int, max_relative_error: float) -> int:
    """Fewest bits whose Qm.n rounding keeps ||w - q|| / ||w|| under `max_relative_error`."""
    norm = max(float(np.linalg.norm(weight)), 1e-12)
    for bits in range(min_bits, max_bits + 1):
        codes, _, n = quantise_fixed(weight, bits)
        if np.linalg.norm(codes * 2.0**-n - weight) / norm <= max_relative_error:
            return bits
    return max_bits


def dynamic_fixed_point(
    model_path: str | Path,
    eval_set: EvalSet | None,
    out_path: str | Path,
    *,
    bits: int | None = 8,
    min_bits: int = 2,
    max_bits: int = 8,
    max_relative_error: float = 0.05,
    storage: str = "int8",
) -> CompressedArtifact:
    """Weights in per-layer Qm.n. `bits=None` picks each layer's width from `max_relative_error`.

    storage "int8": DequantizeLinear with int8 codes and scale 2^-n (standard ONNX, any tool reads it);
    "packed": codes bit-packed at their own width (smaller file). Either way a `*.decoded.onnx` copy
    with float weights is written next to it for latency measurements.
    """
    if storage not in STORAGES:
        raise UnsupportedOptionError(f"storage must be one of {STORAGES}, not {storage!r}")
    if bits is not None and not 2 <= bits <= 8:
        raise UnsupportedOptionError(f"fixed point widths are 2 to 8 bits, not {bits}")
    if not 2 <= min_bits <= max_bits <= 8:
        raise UnsupportedOptionError("need 2 <= min_bits <= max_bits <= 8")
    model_path, out_path = Path(model_path), Path(out_path)
    model = load_model(model_path)
    require_opset(model, "fixed point storage")
    per_layer = []
    for layer in weighted_layers(model):
        weight = initializer_array(model, layer.weight_name)
        layer_bits = bits or choose_bits(weight, min_bits, max_bits, max_relative_error)
        codes, m, n = quantise_fixed(weight, layer_bits)
        scale = 2.0**-n
        if storage == "int8":
            q_name, s_name, z_name = (layer.weight_name + s for s in ("__q", "__scale", "__zero_point"))
            nodes = [
                helper.make_node(
                    "DequantizeLinear",
                    [q_name, s_name, z_name],
                    [layer.weight_name],
                    name=layer.weight_name + "__dq",
                )
            ]
            inits = [
                numpy_helper.from_array(codes.astype(np.int8), q_name),
                numpy_helper.from_array(np.array(scale, np.float32), s_name),
                numpy_helper.from_array(np.array(0, np.int8), z_name),
            ]
        else:
            half = 1 << (layer_bits - 1)
            nodes, inits = decode_subgraph(
                layer.weight_name, codes + half, layer_bits, layer.shape, scale=scale, offset=-half * scale
            )
        replace_with_packed(model, layer.weight_name, nodes, inits)
        per_layer.append(
            {
                "layer": layer.node_name,
                "op_type": layer.op_type,
                "weight": layer.weight_name,
                "parameters": layer.parameters,
                "weight_bits": layer_bits,
                "format": f"Q{m}.{n}",
                "integer_bits": m,
                "fractional_bits": n,
                "scale": scale,
                "relative_error": float(np.linalg.norm(codes * scale - weight) / max(np.linalg.norm(weight), 1e-12)),
            }
        )
    widths = [row["weight_bits"] for row in per_layer]
    metadata = {
        "method": METHOD_DYNAMIC_FIXED_POINT,
        "format": "dequantize_linear_int8" if storage == "int8" else "bitpacked_affine",
        "weight_bits": max(widths) if widths else bits,
        "weight_bits_per_layer": "fixed" if bits else "auto",
        "activation_bits": 32,
        "granularity": "per_tensor",
        "symmetric": True,
        "calibration": None,
        "parameter_count": float_parameter_count(load_model(model_path)),
        "per_layer": per_layer,
    }
    metadata = save_with_metadata(model, out_path, metadata)
    # Weight-only formats gain nothing at run time on a CPU: decode once at load time, as for k-means.
    runtime_path = out_path.with_name(out_path.stem + ".decoded.onnx")
    save_with_metadata(fold_constants(model), runtime_path, {**metadata, "format": "decoded"})
    onnx.checker.check_model(str(out_path))
    return CompressedArtifact(out_path, metadata, runtime_path=runtime_path)
