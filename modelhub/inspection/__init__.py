"""Artifact inspector: reads compression metadata from model files and checks declarations against it.

A pure library (no Django). Entry points: inspect_artifact(path) and verify(declared, report).
"""

from __future__ import annotations

from pathlib import Path

from . import detect
from .errors import CorruptArtifact, InspectionError, UnsafeArtifact, UnsupportedFormat
from .report import ArtifactReport, Check, LayerReport
from .verify import CONTRADICTED, NOT_CHECKABLE, VERIFIED, normalise_method, verify

__all__ = [
    "ArtifactReport",
    "CONTRADICTED",
    "Check",
    "CorruptArtifact",
    "InspectionError",
    "LayerReport",
    "NOT_CHECKABLE",
    "UnsafeArtifact",
    "UnsupportedFormat",
    "VERIFIED",
    "detect_format",
    "inspect_artifact",
    "normalise_method",
    "verify",
]

detect_format = detect.detect_format


def inspect_artifact(path: str | Path) -> ArtifactReport:
    """Detect the format from the file's content and return what the file says about its compression.

    Raises UnsupportedFormat, CorruptArtifact or UnsafeArtifact (all InspectionError).
    """
    path = Path(path)
    if not path.is_file():
        raise UnsupportedFormat(f"{path}: not a regular file")
    size = path.stat().st_size
    fmt = detect.detect_format(path)
    if fmt == detect.ONNX:
        from .onnx_reader import inspect_onnx

        return inspect_onnx(path, size)
    if fmt == detect.SAFETENSORS:
        from .safetensors_reader import inspect_safetensors

        return inspect_safetensors(path, size)
    if fmt == detect.GGUF:
        from .gguf_reader import inspect_gguf

        return inspect_gguf(path, size)
    if fmt == detect.TFLITE:
        from .tflite_reader import inspect_tflite

        return inspect_tflite(path, size)
    from .torch_reader import inspect_pytorch

    return inspect_pytorch(path, size, zipped=fmt == detect.PYTORCH)
