"""safetensors inspection from the JSON header alone (dtypes, shapes, __metadata__): no tensor is loaded.

Packed quantisation layouts (GPTQ, AWQ, compressed-tensors, bitsandbytes 4-bit) are counted in logical
parameters: a packed int32 holds several weights, and scales, zero points and index tensors are not
parameters.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

from .detect import read_safetensors_header
from .errors import CorruptArtifact
from .report import ArtifactReport, LayerReport
from .stats import summarise

_DTYPES = {  # safetensors dtype -> (our name, bits)
    "F64": ("float64", 64),
    "F32": ("float32", 32),
    "F16": ("float16", 16),
    "BF16": ("bfloat16", 16),
    "F8_E4M3": ("float8_e4m3", 8),
    "F8_E5M2": ("float8_e5m2", 8),
    "F8_E8M0": ("float8_e8m0", 8),
    "F6_E2M3": ("float6_e2m3", 6),
    "F6_E3M2": ("float6_e3m2", 6),
    "F4": ("float4_e2m1", 4),
    "I64": ("int64", 64),
    "I32": ("int32", 32),
    "I16": ("int16", 16),
    "I8": ("int8", 8),
    "U64": ("uint64", 64),
    "U32": ("uint32", 32),
    "U16": ("uint16", 16),
    "U8": ("uint8", 8),
    "BOOL": ("bool", 8),
    "C64": ("complex64", 64),
}
# Tensors that describe a quantisation rather than hold weights.
_AUX_SUFFIXES = (
    ".scales",
    ".qzeros",
    ".g_idx",
    ".zeros",
    ".weight_scale",
    ".weight_zero_point",
    ".weight_g_idx",
    ".weight_shape",
    ".weight_global_scale",
    ".input_scale",
    ".input_zero_point",
    ".output_scale",
    ".k_scale",
    ".v_scale",
    ".absmax",
    ".quant_map",
    ".nested_absmax",
    ".nested_quant_map",
    ".SCB",
    ".weight_format",
    "_scale",
    "_scale_inv",
    "_zero_point",
)
_FLOAT_NAMES = {"float64", "float32", "float16", "bfloat16"}


def _valid_entry(entry) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("dtype"), str):
        return False
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    ints = (list, tuple)
    return (
        isinstance(shape, ints)
        and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        and isinstance(offsets, ints)
        and len(offsets) == 2
        and all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)
    )


def _is_aux(name: str) -> bool:
    return name.endswith(_AUX_SUFFIXES) or ".quant_state." in name


def _small_int_tensor(path: Path, data_start: int, entry: dict) -> list[int] | None:
    """Read a tiny integer tensor (e.g. compressed-tensors' weight_shape) by offset; None if not tiny."""
    begin, end = entry["data_offsets"]
    if end - begin > 64 or entry["dtype"] not in ("I64", "I32"):
        return None
    fmt = "<%dq" if entry["dtype"] == "I64" else "<%di"
    with path.open("rb") as fh:
        fh.seek(data_start + begin)
        raw = fh.read(end - begin)
    n = len(raw) // (8 if entry["dtype"] == "I64" else 4)
    return list(struct.unpack(fmt % n, raw[: n * (8 if entry["dtype"] == "I64" else 4)]))


def inspect_safetensors(path: Path, size: int) -> ArtifactReport:
    header = read_safetensors_header(path)
    with path.open("rb") as fh:
        (header_len,) = struct.unpack("<Q", fh.read(8))
    data_start = 8 + header_len
    report = ArtifactReport(format="safetensors", size_bytes=size)
    meta = header.pop("__metadata__", None) or {}
    report.metadata = {"__metadata__": meta, "tensor_count": len(header)}
    entries: dict[str, dict] = {}
    for name, entry in header.items():
        if not _valid_entry(entry):
            raise CorruptArtifact(f"{path.name}: header entry {name!r} needs dtype, shape and data_offsets")
        begin, end = entry["data_offsets"]
        if data_start + end > size or begin > end:
            raise CorruptArtifact(f"{path.name}: tensor {name!r} lies beyond the end of the file (truncated?)")
        entries[name] = entry
    bytes_by_dtype: dict[str, int] = {}
    rows: list[LayerReport] = []
    bits_hint = _bits_from_metadata(meta)
    for name, entry in entries.items():
        dtype, bits = _DTYPES.get(entry["dtype"], (entry["dtype"].lower(), None))
        begin, end = entry["data_offsets"]
        bytes_by_dtype[dtype] = bytes_by_dtype.get(dtype, 0) + (end - begin)
        if _is_aux(name):
            continue
        shape = [int(d) for d in entry["shape"]]
        numel = math.prod(shape) if shape else 1
        base = name.rsplit(".", 1)[0]
        row = LayerReport(
            name=base,
            op_type="tensor",
            weight_name=name,
            role="weight" if len(shape) >= 2 else "bias" if name.endswith("bias") else "other",
            shape=shape,
            dtype=dtype,
            bits=bits,
            parameter_count=numel,
        )
        if name.endswith(".qweight") or name.endswith(".weight_packed"):
            _packed(row, path, data_start, entries, base, name, bits_hint, report)
        elif name.endswith(".weight") and f"{name}.absmax" in entries:
            row.bits, row.parameter_count, row.quantization = 4, numel * 2, "linear"  # bitsandbytes 4-bit
            row.granularity, row.dtype = "per_group", "nf4/fp4(packed)"
        elif dtype in ("int8", "uint8", "int4", "uint4", "float8_e4m3", "float8_e5m2") and (
            f"{base}.weight_scale" in entries
            or f"{base}.scales" in entries
            or f"{name}_scale_inv" in entries
            or f"{base}.SCB" in entries  # bitsandbytes LLM.int8
        ):
            row.quantization = "linear"
            scale = (
                entries.get(f"{base}.weight_scale")
                or entries.get(f"{base}.scales")
                or entries.get(f"{name}_scale_inv")
                or entries[f"{base}.SCB"]
            )
            scale_numel = math.prod(scale["shape"]) if scale["shape"] else 1
            row.granularity = (
                "per_tensor" if scale_numel == 1 else "per_channel" if scale_numel == shape[0] else "per_group"
            )
        elif dtype.startswith(("int", "uint", "bool")):
            continue  # integer buffers (position ids, counters) without scales are not parameters
        rows.append(row)
    report.layers = rows
    report.bytes_by_dtype = bytes_by_dtype
    report.unverifiable += ["sparsity", "codebook_size", "activation_bits", "symmetric"]
    report.findings.append("safetensors read from its header only: values (sparsity, weight sharing) not inspected")
    summarise(report)
    return report


def _bits_from_metadata(meta: dict) -> int | None:
    for key in ("quantization_config", "quant_config"):
        raw = meta.get(key)
        if raw:
            try:
                bits = json.loads(raw).get("bits")
                return int(bits) if bits else None
            except (ValueError, AttributeError, TypeError):
                return None
    return None


def _packed(row, path, data_start, entries, base, name, bits_hint, report) -> None:
    """Logical size of a GPTQ/AWQ qweight or a compressed-tensors weight_packed (int32 words)."""
    shape = row.shape
    row.quantization, row.granularity = "linear", "per_group"
    if name.endswith(".weight_packed"):
        shp = entries.get(f"{base}.weight_shape")
        logical = _small_int_tensor(path, data_start, shp) if shp else None
        if logical:
            row.parameter_count = math.prod(logical)
            row.bits = max(1, round(32 * math.prod(shape) / row.parameter_count)) if row.dtype == "int32" else row.bits
            row.shape = logical
            row.dtype = f"int{row.bits}(packed)"
        return
    scales = entries.get(f"{base}.scales")
    qzeros = entries.get(f"{base}.qzeros")
    g_idx = entries.get(f"{base}.g_idx")
    bits = bits_hint
    if scales and qzeros and len(scales["shape"]) == 2 and len(qzeros["shape"]) == 2:
        out = scales["shape"][1]
        if qzeros["shape"][1] and out:
            bits = bits or max(1, round(32 * qzeros["shape"][1] / out))
    if not bits:
        bits = 4
        report.warnings.append(f"{name}: packing width unknown, assumed 4-bit")
    per_word = 32 // bits
    if scales and len(scales["shape"]) == 2 and scales["shape"][1] == shape[1]:
        logical = [g_idx["shape"][0] if g_idx else shape[0] * per_word, shape[1]]  # GPTQ: packed along inputs
    else:
        logical = [shape[0], shape[1] * per_word]  # AWQ: packed along outputs
    row.parameter_count, row.shape, row.bits = math.prod(logical), logical, bits
    row.dtype = f"int{bits}(packed)"
