"""Compression library: turn an fp32 ONNX model into quantised, weight-shared and pruned variants and measure them.

Pure Python on onnx/onnxruntime/numpy; no Django. The Celery task calls `run_compression`.
"""

from .analysis import SensitivityTable, layer_histograms, layer_sensitivity
from .artifact import (
    METHOD_DYNAMIC_FIXED_POINT,
    METHOD_KMEANS,
    METHOD_LINEAR,
    METHOD_NONE,
    METHOD_PRUNING,
    CompressedArtifact,
)
from .errors import (
    CompressionCancelled,
    CompressionError,
    EvalSetMismatchError,
    InvalidModelError,
    UnsupportedOptionError,
)
from .evalset import EvalSet, load_eval_set
from .fixed_point import dynamic_fixed_point
from .graph import load_model, read_metadata
from .job import METHODS, CompressionResult, MethodSpec, VariantResult, run_compression
from .kmeans import kmeans_weights
from .linear import dynamic_int8, static_int8
from .measure import Hardware, LatencyStats, Measurement, hardware_info, measure_model
from .packing import fold_constants
from .pareto import pareto_front
from .pruning import magnitude_prune

__all__ = [
    "METHODS",
    "METHOD_DYNAMIC_FIXED_POINT",
    "METHOD_KMEANS",
    "METHOD_LINEAR",
    "METHOD_NONE",
    "METHOD_PRUNING",
    "CompressedArtifact",
    "CompressionCancelled",
    "CompressionError",
    "CompressionResult",
    "EvalSet",
    "EvalSetMismatchError",
    "Hardware",
    "InvalidModelError",
    "LatencyStats",
    "Measurement",
    "MethodSpec",
    "SensitivityTable",
    "UnsupportedOptionError",
    "VariantResult",
    "dynamic_fixed_point",
    "dynamic_int8",
    "fold_constants",
    "hardware_info",
    "kmeans_weights",
    "layer_histograms",
    "layer_sensitivity",
    "load_eval_set",
    "load_model",
    "magnitude_prune",
    "measure_model",
    "pareto_front",
    "read_metadata",
    "run_compression",
    "static_int8",
]
