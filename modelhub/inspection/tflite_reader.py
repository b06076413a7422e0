"""TFLite inspection with a small bounds-checked flatbuffer walker over a memory map (no TensorFlow).

Reads the tensors of each subgraph (shape, type, constant buffer, quantisation parameters) following the
public schema.fbs field order; tensor data is viewed in place, never copied whole.
"""

from __future__ import annotations

import math
import mmap
import struct
from collections import Counter
from pathlib import Path

import numpy as np

from .errors import CorruptArtifact
from .report import ArtifactReport, LayerReport
from .stats import classify_float_values, distinct_values, pruning_structure, summarise, zero_fraction

# schema.fbs TensorType -> (name, numpy dtype or None, bits)
_TYPES = {
    0: ("float32", np.float32, 32),
    1: ("float16", np.float16, 16),
    2: ("int32", np.int32, 32),
    3: ("uint8", np.uint8, 8),
    4: ("int64", np.int64, 64),
    5: ("string", None, 0),
    6: ("bool", np.bool_, 8),
    7: ("int16", np.int16, 16),
    8: ("complex64", np.complex64, 64),
    9: ("int8", np.int8, 8),
    10: ("float64", np.float64, 64),
    11: ("complex128", np.complex128, 128),
    12: ("uint64", np.uint64, 64),
    15: ("uint32", np.uint32, 32),
    16: ("uint16", np.uint16, 16),
    17: ("int4", None, 4),
    18: ("bfloat16", None, 16),
}
_FLOATS = {"float32", "float16", "float64", "bfloat16"}
_OPS = {
    0: "ADD",
    3: "CONV_2D",
    4: "DEPTHWISE_CONV_2D",
    6: "DEQUANTIZE",
    9: "FULLY_CONNECTED",
    114: "QUANTIZE",
}
_OPS_WITH_WEIGHTS = {"CONV_2D": {1}, "DEPTHWISE_CONV_2D": {1}, "FULLY_CONNECTED": {1}}


class _Buf:
    """Bounds-checked reads of flatbuffer tables, vectors and scalars."""

    def __init__(self, data, name: str) -> None:
        self.d = data
        self.n = len(data)
        self.name = name

    def _u(self, fmt: str, pos: int):
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > self.n:
            raise CorruptArtifact(f"{self.name}: flatbuffer offset {pos} outside the file (truncated?)")
        return struct.unpack_from(fmt, self.d, pos)[0]

    def root(self) -> int:
        return self._u("<I", 0)

    def field(self, table: int, index: int) -> int:
        vtable = table - self._u("<i", table)
        vt_size = self._u("<H", vtable)
        slot = 4 + 2 * index
        return self._u("<H", vtable + slot) if slot < vt_size else 0

    def scalar(self, table: int, index: int, fmt: str, default=0):
        off = self.field(table, index)
        return self._u(fmt, table + off) if off else default

    def ref(self, table: int, index: int) -> int | None:
        off = self.field(table, index)
        if not off:
            return None
        pos = table + off
        return pos + self._u("<I", pos)

    def vector(self, table: int, index: int) -> tuple[int, int]:
        """(start, length) of a vector field, (0, 0) when absent."""
        pos = self.ref(table, index)
        if pos is None:
            return 0, 0
        length = self._u("<I", pos)
        return pos + 4, length

    def tables(self, table: int, index: int) -> list[int]:
        start, length = self.vector(table, index)
        return [start + 4 * i + self._u("<I", start + 4 * i) for i in range(length)]

    def scalars(self, table: int, index: int, fmt: str) -> list:
        start, length = self.vector(table, index)
        size = struct.calcsize(fmt)
        if start + length * size > self.n:
            raise CorruptArtifact(f"{self.name}: vector runs past the end of the file")
        return list(struct.unpack_from(f"<{length}{fmt.lstrip('<')}", self.d, start)) if length else []

    def string(self, table: int, index: int) -> str:
        start, length = self.vector(table, index)
        return bytes(self.d[start : start + length]).decode("utf-8", errors="replace") if length else ""


def inspect_tflite(path: Path, size: int) -> ArtifactReport:
    report = ArtifactReport(format="tflite", size_bytes=size)
    with path.open("rb") as fh:
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        _read(_Buf(mm, path.name), mm, report)
    except (struct.error, ValueError, IndexError, OverflowError, UnicodeDecodeError) as exc:
        raise CorruptArtifact(f"{path.name}: malformed TFLite flatbuffer ({exc})") from exc
    finally:
        try:
            mm.close()
        except BufferError:
            pass  # views still held by a traceback: the map is released when they are collected
    summarise(report)
    return report


def _read(b: _Buf, mm, report: ArtifactReport) -> None:
    model = b.root()
    report.metadata["schema_version"] = b.scalar(model, 0, "<I")
    report.metadata["description"] = b.string(model, 3)
    codes = []
    for oc in b.tables(model, 1):
        code = b.scalar(oc, 3, "<i") or b.scalar(oc, 0, "<b")
        codes.append(b.string(oc, 1) or _OPS.get(code, f"BUILTIN_{code}"))
    buffers = b.tables(model, 4)
    rows: list[LayerReport] = []
    bytes_by_dtype: Counter[str] = Counter()
    act_bits: Counter[int] = Counter()
    op_counts: Counter[str] = Counter()
    for sg in b.tables(model, 2):
        tensors = b.tables(sg, 0)
        uses: dict[int, tuple[str, int]] = {}
        for op in b.tables(sg, 3):
            idx = b.scalar(op, 0, "<I")
            name = codes[idx] if idx < len(codes) else f"op{idx}"
            op_counts[name] += 1
            for slot, t in enumerate(b.scalars(op, 1, "<i")):
                uses.setdefault(t, (name, slot))
        for ti, t in enumerate(tensors):
            shape = b.scalars(t, 0, "<i")
            tname, np_dtype, bits = _TYPES.get(b.scalar(t, 1, "<b"), ("unknown", None, None))
            buf_index = b.scalar(t, 2, "<I")
            data = _buffer_bytes(b, mm, buffers, buf_index)
            q = b.ref(t, 4)
            scale = b.scalars(q, 2, "<f") if q is not None else []
            zps = b.scalars(q, 3, "<q") if q is not None else []
            if data is None:  # an activation
                if scale and bits:
                    act_bits[bits] += 1
                elif tname in _FLOATS:
                    act_bits[bits] += 1
                continue
            bytes_by_dtype[tname] += len(data)
            op_name, slot = uses.get(ti, ("", -1))
            if tname not in _FLOATS and not scale:
                continue  # shape vectors and other integer constants
            weighty = slot in _OPS_WITH_WEIGHTS.get(op_name, set()) or len(shape) >= 2
            row = LayerReport(
                name=b.string(t, 3),
                op_type=op_name or "constant",
                weight_name=b.string(t, 3),
                role="weight" if weighty else "bias",
                shape=shape,
                dtype=tname,
                bits=bits,
                parameter_count=math.prod(shape) if shape else 1,
            )
            values = np.frombuffer(data, dtype=np_dtype) if np_dtype is not None else None
            if scale:
                axis = b.scalar(q, 6, "<i")
                row.quantization = "linear"
                row.granularity = "per_tensor" if len(scale) == 1 else "per_channel"
                row.axis = axis if len(scale) > 1 else None
                centre = 128 if tname == "uint8" else 0
                row.symmetric = all(z == centre for z in zps) if zps else tname.startswith("int")
                if values is not None:
                    zero = zps[0] if len(set(zps)) == 1 else 0
                    row.sparsity = round(zero_fraction(values, zero), 6)
            elif values is not None:
                row.sparsity = round(zero_fraction(values), 6)
                if values.size == row.parameter_count:
                    row.pruning_structure = pruning_structure(values.reshape(shape))
                uniq = distinct_values(values)
                row.distinct_values = None if uniq is None else int(uniq.size)
                shared = classify_float_values(uniq, values.size) if row.role == "weight" else None
                if shared and shared["quantization"] == "kmeans":
                    row.quantization, row.codebook_size = "kmeans", shared["codebook_size"]
            rows.append(row)
    report.layers = rows
    report.bytes_by_dtype = dict(bytes_by_dtype)
    report.metadata["op_types"] = dict(op_counts)
    if act_bits:
        report.activation_bits = act_bits.most_common(1)[0][0]


def _buffer_bytes(b: _Buf, mm, buffers: list[int], index: int):
    if index == 0 or index >= len(buffers):
        return None  # buffer 0 is the schema's empty sentinel
    buf = buffers[index]
    start, length = b.vector(buf, 0)
    if length:
        if start + length > b.n:
            raise CorruptArtifact(f"{b.name}: tensor buffer runs past the end of the file")
        return memoryview(mm)[start : start + length]
    offset, size = b.scalar(buf, 1, "<Q"), b.scalar(buf, 2, "<Q")
    if offset > 1 and size:
        if offset + size > b.n:
            raise CorruptArtifact(f"{b.name}: tensor buffer runs past the end of the file")
        return memoryview(mm)[offset : offset + size]
    return None
