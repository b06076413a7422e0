"""Format detection from the first bytes of a file (never from its name)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from .errors import CorruptArtifact, UnsupportedFormat

ONNX = "onnx"
SAFETENSORS = "safetensors"
GGUF = "gguf"
TFLITE = "tflite"
PYTORCH = "pytorch"  # zip-based torch.save
PICKLE = "pickle"  # bare pickle (legacy torch.save or plain pickle)

# Field tags a serialised onnx.ModelProto can start with (field number << 3 | wire type).
_ONNX_FIRST_TAGS = {0x08, 0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72, 0x7A, 0x82, 0x8A}
_SAFETENSORS_MAX_HEADER = 100 * 1024 * 1024  # same limit as the safetensors library


def detect_format(path: str | Path) -> str:
    """Return one of the format names above, or raise UnsupportedFormat / CorruptArtifact."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise CorruptArtifact(f"{path.name}: empty file")
    with path.open("rb") as fh:
        head = fh.read(16)
    if head[:4] == b"GGUF":
        return GGUF
    if head[4:8] == b"TFL3":
        return TFLITE
    if head[:4] == b"PK\x03\x04":
        return PYTORCH
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return PICKLE
    if len(head) >= 9 and head[8:9] == b"{":
        (header_len,) = struct.unpack("<Q", head[:8])
        if header_len <= _SAFETENSORS_MAX_HEADER:
            if 8 + header_len > size:
                raise CorruptArtifact(
                    f"{path.name}: safetensors header says {header_len} bytes but the file has {size - 8}"
                )
            return SAFETENSORS
    if head[0] in _ONNX_FIRST_TAGS:
        return ONNX
    raise UnsupportedFormat(
        f"{path.name}: unrecognised content (first bytes {head[:8].hex()}); "
        "expected ONNX, safetensors, GGUF, TFLite or a PyTorch zip"
    )


def read_safetensors_header(path: str | Path) -> dict:
    """Parse only the 8-byte length and the JSON header of a safetensors file."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as fh:
        raw_len = fh.read(8)
        if len(raw_len) < 8:
            raise CorruptArtifact(f"{path.name}: shorter than a safetensors header")
        (header_len,) = struct.unpack("<Q", raw_len)
        if header_len > _SAFETENSORS_MAX_HEADER or 8 + header_len > size:
            raise CorruptArtifact(f"{path.name}: safetensors header length {header_len} exceeds the file")
        raw = fh.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptArtifact(f"{path.name}: safetensors header is not valid JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise CorruptArtifact(f"{path.name}: safetensors header is not a JSON object")
    return header
