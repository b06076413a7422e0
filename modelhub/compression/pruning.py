"""Magnitude pruning without retraining (SlimNet's first step): zero the smallest weights to a target sparsity."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .artifact import METHOD_PRUNING, CompressedArtifact
from .errors import UnsupportedOptionError
from .evalset import EvalSet
from .graph import (
    float_parameter_count,
    initializer_array,
    load_model,
    replace_initializer,
    save_with_metadata,
    weighted_layers,
)

SCOPES = ("global", "per_layer")


def magnitude_prune(
    model_path: str | Path,
    eval_set: EvalSet | None,
    out_path: str | Path,
    *,
    sparsity: float = 0.5,
    scope: str = "global",
) -> CompressedArtifact:
    """Zero the `sparsity` fraction of smallest |w| of the weighted layers (biases kept), stored dense fp32.

    "global" ranks all layers' weights together (layers with small weights lose more), "per_layer" prunes
    every layer to the same sparsity.
    """
    if not 0.0 <= sparsity < 1.0:
        raise UnsupportedOptionError(f"sparsity must be in [0, 1), not {sparsity}")
    if scope not in SCOPES:
        raise UnsupportedOptionError(f"scope must be one of {SCOPES}, not {scope!r}")
    model_path, out_path = Path(model_path), Path(out_path)
    model = load_model(model_path)
    layers = weighted_layers(model)
    weights = {ly.weight_name: initializer_array(model, ly.weight_name) for ly in layers}
    if scope == "global" and weights:
        everything = np.concatenate([np.abs(w).reshape(-1) for w in weights.values()])
        threshold = np.quantile(everything, sparsity) if sparsity > 0 else -1.0
        thresholds = dict.fromkeys(weights, threshold)
    else:
        thresholds = {k: (np.quantile(np.abs(w), sparsity) if sparsity > 0 else -1.0) for k, w in weights.items()}
    per_layer, zeros, total = [], 0, 0
    for layer in layers:
        w = weights[layer.weight_name]
        pruned = np.where(np.abs(w) <= thresholds[layer.weight_name], 0.0, w).astype(np.float32)
        replace_initializer(model, layer.weight_name, pruned)
        layer_zeros = int((pruned == 0).sum())
        zeros, total = zeros + layer_zeros, total + pruned.size
        per_layer.append(
            {
                "layer": layer.node_name,
                "op_type": layer.op_type,
                "weight": layer.weight_name,
                "parameters": layer.parameters,
                "sparsity": layer_zeros / pruned.size,
                "weight_bits": 32,
            }
        )
    parameter_count = float_parameter_count(model)
    metadata = {
        "method": METHOD_PRUNING,
        "format": "dense_fp32",
        "weight_bits": 32,
        "activation_bits": 32,
        "granularity": None,  # DESIGN's per tensor/channel/group describe quantisation scales, not pruning
        "pruning_structure": "unstructured",
        "pruning_scope": scope,
        "target_sparsity": sparsity,
        "sparsity": zeros / total if total else 0.0,
        "calibration": None,
        "parameter_count": parameter_count,
        "nonzero_parameter_count": parameter_count - zeros,
        "per_layer": per_layer,
    }
    return CompressedArtifact(out_path, save_with_metadata(model, out_path, metadata))
