"""k-means weight sharing (QUENN): one codebook of 2^bits float centroids per layer, bit-packed indices."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .artifact import METHOD_KMEANS, CompressedArtifact
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

INITS = ("linear", "density")


def kmeans_1d(values: np.ndarray, clusters: int, *, init: str = "linear", iterations: int = 30) -> np.ndarray:
    """Lloyd's algorithm on scalars; returns sorted centroids. Linear init spreads centroids over [min, max],
    which keeps the rare large weights (Han et al.; QUENN's choice); density init uses quantiles."""
    if init not in INITS:
        raise UnsupportedOptionError(f"k-means init must be one of {INITS}, not {init!r}")
    flat = np.sort(values.reshape(-1).astype(np.float64))
    clusters = min(clusters, np.unique(flat).size)
    if init == "linear":
        centroids = np.linspace(flat[0], flat[-1], clusters)
    else:
        centroids = np.quantile(flat, (np.arange(clusters) + 0.5) / clusters)
    prefix = np.concatenate([[0.0], np.cumsum(flat)])
    for _ in range(iterations):
        # Values are sorted, so each cluster is a contiguous slice bounded by the centroid midpoints.
        bounds = np.searchsorted(flat, (centroids[1:] + centroids[:-1]) / 2)
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [flat.size]])
        counts = ends - starts
        sums = prefix[ends] - prefix[starts]
        updated = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        if np.allclose(updated, centroids, rtol=0, atol=1e-12):
            break
        centroids = np.sort(updated)
    return centroids.astype(np.float32)


def assign(values: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid for each value (centroids sorted)."""
    mids = (centroids[1:] + centroids[:-1]) / 2
    return np.searchsorted(mids, values.reshape(-1)).astype(np.int64)


def kmeans_weights(
    model_path: str | Path,
    eval_set: EvalSet | None,
    out_path: str | Path,
    *,
    bits: int = 4,
    init: str = "linear",
    iterations: int = 30,
) -> CompressedArtifact:
    """Every weighted layer's weight becomes `bits`-bit indices into its own 2^bits-entry codebook.

    The published file keeps the packed indices (runs in onnxruntime through a decode subgraph); the
    runtime copy next to it (`*.decoded.onnx`) holds the decoded float weights, for latency measurements.
    """
    if not 2 <= bits <= 8:
        raise UnsupportedOptionError(f"k-means codebooks need 2 to 8 bits, not {bits}")
    model_path, out_path = Path(model_path), Path(out_path)
    model = load_model(model_path)
    require_opset(model, "k-means packing")
    per_layer = []
    for layer in weighted_layers(model):
        weight = initializer_array(model, layer.weight_name)
        centroids = kmeans_1d(weight, 1 << bits, init=init, iterations=iterations)
        codes = assign(weight, centroids)
        decoded = centroids[codes].reshape(weight.shape)
        nodes, inits = decode_subgraph(layer.weight_name, codes, bits, layer.shape, codebook=centroids)
        replace_with_packed(model, layer.weight_name, nodes, inits)
        per_layer.append(
            {
                "layer": layer.node_name,
                "op_type": layer.op_type,
                "weight": layer.weight_name,
                "parameters": layer.parameters,
                "weight_bits": bits,
                "codebook_size": int(centroids.size),
                "relative_error": float(np.linalg.norm(decoded - weight) / max(np.linalg.norm(weight), 1e-12)),
            }
        )
    metadata = {
        "method": METHOD_KMEANS,
        "format": "bitpacked_codebook",
        "weight_bits": bits,
        "activation_bits": 32,
        "granularity": "per_tensor",
        "symmetric": None,  # centroids are free floats, not an affine grid
        "codebook_size": 1 << bits,
        "kmeans_init": init,
        "calibration": None,
        "parameter_count": float_parameter_count(load_model(model_path)),
        "per_layer": per_layer,
    }
    metadata = save_with_metadata(model, out_path, metadata)
    runtime_path = out_path.with_name(out_path.stem + ".decoded.onnx")
    runtime = fold_constants(model)
    save_with_metadata(runtime, runtime_path, {**metadata, "format": "decoded"})
    return CompressedArtifact(out_path, metadata, runtime_path=runtime_path)
