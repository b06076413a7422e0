"""Value statistics of weight tensors and the roll-up of per-layer rows into report-level fields."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from .report import ArtifactReport, LayerReport

DISTINCT_CAP = 4096  # above this a tensor is certainly not weight-shared; stop counting
_CHUNK = 1 << 20
# A float tensor whose exact zeros reach this share is called pruned; quantised tensors round small
# weights to the zero point, so they need a higher share before we call it pruning.
PRUNED_FLOAT = 0.3
PRUNED_QUANTISED = 0.5
PRUNED_MODEL_SHARE = 0.25  # share of weight parameters in pruned layers for the model to count as pruned
_MIN_PRUNABLE = 64
_MAX_CODEBOOK = 256
_MAX_FIXED_POINT_BITS = 16

METHOD_ORDER = [
    "kmeans",
    "codebook_quantization",
    "dynamic_fixed_point",
    "fixed_point",
    "linear_quantization",
    "pruning",
    "none",
]


def zero_fraction(values: np.ndarray, zero: np.ndarray | int | float = 0) -> float:
    """Fraction of elements equal to `zero` (a scalar or an array broadcastable to `values`)."""
    if values.size == 0:
        return 0.0
    if np.ndim(zero) == 0:
        flat = values.reshape(-1)
        zeros = 0
        for start in range(0, flat.size, _CHUNK):
            zeros += int(np.count_nonzero(flat[start : start + _CHUNK] == zero))
        return zeros / values.size
    return float(np.count_nonzero(values == zero)) / values.size


def distinct_values(values: np.ndarray, cap: int = DISTINCT_CAP) -> np.ndarray | None:
    """Sorted distinct values, or None as soon as there are more than `cap` (chunked, early exit)."""
    flat = values.reshape(-1)
    seen: np.ndarray | None = None
    for start in range(0, flat.size, _CHUNK):
        chunk = np.unique(flat[start : start + _CHUNK])
        seen = chunk if seen is None else np.union1d(seen, chunk)
        if seen.size > cap:
            return None
    return seen if seen is not None else np.array([])


def classify_float_values(uniques: np.ndarray | None, size: int) -> dict | None:
    """Tell weight sharing apart from a fixed-point or uniform grid, given a float tensor's distinct values.

    Returns {"quantization": "fixed_point", "frac_bits": n, "bits": b} when every value is k·2^-n with a
    small integer k, {"quantization": "linear", "bits": b} for a uniform grid of another step, and
    {"quantization": "kmeans", "codebook_size": k} for any other small set of values; None otherwise.
    """
    if uniques is None or uniques.size < 3 or size < _MIN_PRUNABLE:
        return None  # a handful of values can sit on any grid by chance
    u = uniques.astype(np.float64)
    u = u[np.isfinite(u)]
    if u.size < 3:
        return None
    # A random float32 needs ~23 fractional bits, so a grid of at most 16 bits is not chance.
    for frac_bits in range(0, 25):
        scaled = u * (2.0**frac_bits)
        if np.all(scaled == np.round(scaled)):
            bits = _integer_bits(float(scaled.min()), float(scaled.max()))
            if bits <= _MAX_FIXED_POINT_BITS:
                return {"quantization": "fixed_point", "frac_bits": frac_bits, "bits": max(bits, 1)}
            break
    if u.size > _MAX_CODEBOOK or size < 4 * u.size:
        return None  # few values only because the tensor is small
    if u.size >= 4:
        diffs = np.diff(u)
        step = float(diffs.min())
        ratios = diffs / step
        if step > 0 and np.allclose(ratios, np.round(ratios), rtol=0, atol=1e-3):
            levels = (u[-1] - u[0]) / step + 1
            return {"quantization": "linear", "bits": int(math.ceil(math.log2(levels)))}
    return {"quantization": "kmeans", "codebook_size": int(u.size)}


def _integer_bits(k_min: float, k_max: float) -> int:
    """Width of the smallest two's-complement (or unsigned, if k_min >= 0) integer holding [k_min, k_max]."""
    if k_min >= 0:
        return int(math.ceil(math.log2(k_max + 1)))
    return 1 + max(int(math.ceil(math.log2(-k_min))), int(math.ceil(math.log2(max(k_max, 0) + 1))))


def pruning_structure(values: np.ndarray) -> str | None:
    """'structured' when the exact zeros fill whole slices (channels, rows) along one axis, else
    'unstructured'; None without zeros or for vectors."""
    if values.ndim < 2:
        return None
    zero = values == 0
    zeros = int(np.count_nonzero(zero))
    if zeros == 0:
        return None
    for axis in range(values.ndim):
        others = tuple(i for i in range(values.ndim) if i != axis)
        empty = np.all(zero, axis=others)
        if int(empty.sum()) * (values.size // values.shape[axis]) == zeros:
            return "structured"
    return "unstructured"


def summarise(report: ArtifactReport) -> None:
    """Fill the report-level fields from report.layers."""
    rows = report.layers
    weights = [r for r in rows if r.role == "weight" and r.parameter_count > 0]
    report.parameter_count = sum(r.parameter_count for r in rows)
    params_by_dtype: Counter[str] = Counter()
    for r in rows:
        params_by_dtype[r.dtype] += r.parameter_count
    report.params_by_dtype = dict(params_by_dtype)

    quantised = [r for r in weights if r.quantization]
    methods: list[str] = []
    if any(r.quantization == "kmeans" for r in quantised):
        methods.append("kmeans")
    fixed = [r for r in quantised if r.quantization == "fixed_point"]
    if fixed:
        frac = {r.fixed_point_frac_bits for r in fixed}
        methods.append("dynamic_fixed_point" if len(frac) > 1 else "fixed_point")
    if any(r.quantization == "linear" for r in quantised):
        methods.append("linear_quantization")
    if any(r.quantization == "codebook" for r in quantised):
        methods.append("codebook_quantization")  # GGUF IQ*: fixed non-uniform grids, not learnt k-means

    known = [r for r in weights if r.sparsity is not None]
    total = sum(r.parameter_count for r in known)
    if total:
        report.sparsity = round(sum(r.sparsity * r.parameter_count for r in known) / total, 6)
        pruned = sum(
            r.parameter_count
            for r in known
            if r.parameter_count >= _MIN_PRUNABLE
            and r.sparsity >= (PRUNED_QUANTISED if r.quantization in ("linear", "fixed_point") else PRUNED_FLOAT)
        )
        if pruned / total >= PRUNED_MODEL_SHARE:
            methods.append("pruning")
    if "pruning" in methods:
        structures = {r.pruning_structure for r in known if r.pruning_structure}
        report.pruning_structure = (
            "structured" if structures == {"structured"} else "unstructured" if structures else None
        )
    if not methods and report.method != "none":
        methods.append(report.method)  # a reader may have set it from metadata (e.g. GGUF types)
    report.methods = sorted(set(methods) or {"none"}, key=METHOD_ORDER.index)
    report.method = report.methods[0]

    if not report.storage:
        report.storage = sorted({_storage_of(r) for r in weights})

    if report.weight_bits is None:
        report.weight_bits = _dominant_bits(quantised or weights)
        bit_set = {r.bits for r in (quantised or weights) if r.bits}
        if len(bit_set) > 1:
            report.warnings.append(f"mixed weight bit widths {sorted(bit_set)}; weight_bits is the dominant one")
    if quantised and len(quantised) < len(weights):
        floats = [r.weight_name for r in weights if not r.quantization]
        report.findings.append(f"{len(floats)} of {len(weights)} weight tensors are not quantised: {floats[:5]}")

    linear = [r for r in quantised if r.granularity]
    if report.granularity is None and linear:
        grains: dict[str, list[str]] = {}
        for r in linear:
            grains.setdefault(r.granularity, []).append(f"{r.name} ({r.op_type})")
        report.granularity = next(iter(grains)) if len(grains) == 1 else "mixed"
        if len(grains) > 1:
            detail = "; ".join(f"{g}: {', '.join(names[:4])}" for g, names in grains.items())
            report.warnings.append(f"granularity differs between layers — {detail}")
    if report.symmetric is None:
        sym = {r.symmetric for r in quantised if r.quantization in ("linear", "fixed_point")} - {None}
        if len(sym) == 1:
            report.symmetric = sym.pop()
        elif len(sym) > 1:
            report.warnings.append("some weight tensors are symmetric and some are not")
    books = [r.codebook_size for r in quantised if r.quantization == "kmeans" and r.codebook_size]
    if books and report.codebook_size is None:
        report.codebook_size = max(books)


def _storage_of(row: LayerReport) -> str:
    op = row.op_type
    if op.endswith("(QDQ)"):
        return "qdq"
    if op.endswith("(decoded)"):
        return "decoded"
    if op.endswith("(Gather codebook)"):
        return "codebook_gather"
    if op == "MatMulNBits":
        return "matmul_nbits"
    if op in ("MatMulInteger", "ConvInteger", "DynamicQuantizeMatMul"):
        return "integer_ops"
    if op.startswith("QLinear") or op == "QGemm":
        return "qoperator"
    if row.dtype.endswith("(packed)"):
        return "packed_int"
    if row.quantization in ("linear", "codebook") and op == "tensor" and row.block_size:
        return "block_quantized"
    return "dense"


def _dominant_bits(rows: list[LayerReport]) -> int | None:
    weight: Counter[int] = Counter()
    for r in rows:
        if r.bits:
            weight[r.bits] += r.parameter_count
    return weight.most_common(1)[0][0] if weight else None
