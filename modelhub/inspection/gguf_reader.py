"""GGUF inspection through gguf.GGUFReader (memory-mapped): tensor quantisation types and metadata keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import CorruptArtifact
from .report import ArtifactReport, LayerReport
from .stats import summarise

# type name -> (nominal bits, symmetric, kind); kind: float | linear | codebook | int
_TYPES: dict[str, tuple[int, bool | None, str]] = {
    "F64": (64, None, "float"),
    "F32": (32, None, "float"),
    "F16": (16, None, "float"),
    "BF16": (16, None, "float"),
    "Q4_0": (4, True, "linear"),
    "Q4_1": (4, False, "linear"),
    "Q5_0": (5, True, "linear"),
    "Q5_1": (5, False, "linear"),
    "Q8_0": (8, True, "linear"),
    "Q8_1": (8, True, "linear"),
    "Q2_K": (2, False, "linear"),
    "Q3_K": (3, True, "linear"),
    "Q4_K": (4, False, "linear"),
    "Q5_K": (5, False, "linear"),
    "Q6_K": (6, True, "linear"),
    "Q8_K": (8, True, "linear"),
    "Q1_0": (1, True, "linear"),
    "TQ1_0": (2, True, "linear"),
    "TQ2_0": (2, True, "linear"),
    "MXFP4": (4, True, "linear"),
    "NVFP4": (4, True, "linear"),
    "IQ1_S": (1, True, "codebook"),
    "IQ1_M": (1, True, "codebook"),
    "IQ2_XXS": (2, True, "codebook"),
    "IQ2_XS": (2, True, "codebook"),
    "IQ2_S": (2, True, "codebook"),
    "IQ3_XXS": (3, True, "codebook"),
    "IQ3_S": (3, True, "codebook"),
    "IQ4_NL": (4, True, "codebook"),
    "IQ4_XS": (4, True, "codebook"),
    "I8": (8, None, "int"),
    "I16": (16, None, "int"),
    "I32": (32, None, "int"),
    "I64": (64, None, "int"),
}
_ARRAY_PREVIEW = 8


def _field_value(field):
    import gguf

    if field.types and field.types[0] == gguf.GGUFValueType.ARRAY:
        n = len(field.data)
        if n > _ARRAY_PREVIEW:
            return {"array_length": n}
    try:
        return field.contents()
    except Exception:  # a malformed value should not hide the rest of the metadata
        return None


def inspect_gguf(path: Path, size: int) -> ArtifactReport:
    import gguf

    try:
        reader = gguf.GGUFReader(str(path))
    except Exception as exc:  # GGUFReader raises ValueError/IndexError/struct errors on damage
        raise CorruptArtifact(f"{path.name}: not a readable GGUF file ({exc.__class__.__name__}: {exc})") from exc
    report = ArtifactReport(format="gguf", size_bytes=size)
    meta = {}
    for name, field in reader.fields.items():
        if name.startswith("GGUF."):
            continue
        meta[name] = _field_value(field)
    file_type = meta.get("general.file_type")
    if isinstance(file_type, int):
        try:
            meta["general.file_type_name"] = gguf.LlamaFileType(file_type).name
        except ValueError:
            pass
    report.metadata = meta
    rows: list[LayerReport] = []
    bytes_by_dtype: dict[str, int] = {}
    types: dict[str, int] = {}
    for t in reader.tensors:
        tname = t.tensor_type.name
        bits, symmetric, kind = _TYPES.get(tname, (None, None, "unknown"))
        # GGUF lists dims fastest-first; report them as numpy/PyTorch order
        shape = [int(d) for d in np.asarray(t.shape)[::-1]]
        block = gguf.GGML_QUANT_SIZES.get(t.tensor_type, (1, 0))[0]
        row = LayerReport(
            name=t.name.rsplit(".", 1)[0],
            op_type="tensor",
            weight_name=t.name,
            role="weight" if len(shape) >= 2 else "bias" if t.name.endswith("bias") else "other",
            shape=shape,
            dtype=tname.lower(),
            bits=bits,
            parameter_count=int(t.n_elements),
        )
        if kind in ("linear", "codebook"):
            row.quantization = kind
            row.granularity, row.block_size, row.symmetric = "per_group", block, symmetric
        rows.append(row)
        bytes_by_dtype[row.dtype] = bytes_by_dtype.get(row.dtype, 0) + int(t.n_bytes)
        types[tname] = types.get(tname, 0) + 1
    report.layers = rows
    report.bytes_by_dtype = bytes_by_dtype
    report.metadata["tensor_types"] = types
    report.unverifiable += ["sparsity", "activation_bits"]
    summarise(report)
    return report
