"""Check a publisher's declared compression metadata against what the artifact itself says."""

from __future__ import annotations

from typing import Any

from .report import ArtifactReport, Check

VERIFIED, CONTRADICTED, NOT_CHECKABLE = "verified", "contradicted", "not_checkable"
SPARSITY_TOLERANCE = 0.02  # absolute, as a fraction
SIZE_TOLERANCE = 0.01  # relative

# Facts a file cannot hold: measured quality and speed, training history.
NOT_FROM_FILE = {
    "accuracy",
    "reference_accuracy",
    "evaluation_set",
    "latency",
    "latency_ms",
    "memory",
    "memory_bytes",
    "hardware",
    "teacher",
    "calibration",
    "calibration_method",
    "calibration_samples",
    "ranks",
    "notes",
}
_METHOD_ALIASES = {
    "none": {"none", "fp32", "float32", "fp16", "float16", "float", "reference", "baseline", "uncompressed"},
    "linear_quantization": {
        "linear",
        "affine",
        "linear_quantization",
        "affine_quantization",
        "quantization",
        "int8",
        "static_int8",
        "dynamic_int8",
        "int4",
        "w4a8",
        "w8a8",
        "w4a16",
        "ptq",
        "qat",
        "static_quantization",
        "dynamic_quantization",
    },
    "kmeans": {"kmeans", "k_means", "kmeans_weight_sharing", "k_means_weight_sharing", "weight_sharing"},
    "fixed_point": {"fixed_point", "qm.n", "fixed_point_qm.n"},
    "dynamic_fixed_point": {"dynamic_fixed_point", "dynamic_fixed_point_per_layer"},
    "pruning": {"pruning", "pruned", "sparse", "sparsity", "magnitude_pruning"},
    "codebook_quantization": {"codebook_quantization", "vector_quantization", "iq"},
}
_UNCHECKABLE_METHODS = {
    "low_rank",
    "low_rank_factorization",
    "svd",
    "depth_factorization",
    "distillation",
    "knowledge_distillation",
}
# Declared → observed methods that satisfy it (fixed point is linear quantisation with power-of-two scales).
_COMPATIBLE = {
    "linear_quantization": {"linear_quantization", "fixed_point", "dynamic_fixed_point"},
    "fixed_point": {"fixed_point", "dynamic_fixed_point"},
    "dynamic_fixed_point": {"dynamic_fixed_point", "fixed_point"},
}
_GRANULARITY = {
    "per_tensor": {"per_tensor", "tensor", "per_layer", "layer"},
    "per_channel": {"per_channel", "channel", "per_axis", "axis", "channelwise"},
    "per_group": {"per_group", "group", "per_block", "block", "blockwise", "groupwise"},
}


def _norm(text: Any) -> str:
    s = str(text).strip().lower().replace("-", "_").replace(" ", "_")
    return s.replace("quantisation", "quantization").replace("factorisation", "factorization")


def normalise_method(text: Any) -> str:
    """Canonical method name for a declared value (unknown names come back normalised but unchanged)."""
    s = _norm(text)
    for canonical, aliases in _METHOD_ALIASES.items():
        if s in aliases:
            return canonical
    return s


def _check_method(declared: Any, report: ArtifactReport) -> Check:
    parts = declared if isinstance(declared, (list, tuple)) else str(declared).replace(",", "+").split("+")
    methods = [normalise_method(p) for p in parts if str(p).strip()]
    observed = report.methods or [report.method]
    checkable = [m for m in methods if m not in _UNCHECKABLE_METHODS]
    if not checkable:
        return Check(NOT_CHECKABLE, declared, observed, f"{methods} leave no trace the file can show")
    if any(m not in _METHOD_ALIASES for m in checkable):
        unknown = [m for m in checkable if m not in _METHOD_ALIASES]
        return Check(NOT_CHECKABLE, declared, observed, f"unknown method name(s) {unknown}")
    missing = [m for m in checkable if m != "none" and not (_COMPATIBLE.get(m, {m}) & set(observed))]
    if "none" in checkable and observed != ["none"]:
        return Check(CONTRADICTED, declared, observed, f"declared uncompressed, but the file shows {observed}")
    if missing:
        return Check(CONTRADICTED, declared, observed, f"declared {missing}, but the file shows {observed}")
    extra = [m for m in observed if m != "none" and not any(m in _COMPATIBLE.get(c, {c}) for c in checkable)]
    note = f"; the file also shows {extra}" if extra else ""
    return Check(VERIFIED, declared, observed, f"the file shows {observed}{note}")


def _equal(field: str, declared: Any, observed: Any, cast) -> Check:
    try:
        want = cast(declared)
    except (TypeError, ValueError):
        return Check(NOT_CHECKABLE, declared, observed, f"declared {field} {declared!r} is not a valid value")
    if want == observed:
        return Check(VERIFIED, declared, observed, f"{field} is {observed} in the file")
    if observed == "mixed":
        return Check(CONTRADICTED, declared, observed, f"declared {field} {declared!r}, but layers differ in the file")
    return Check(CONTRADICTED, declared, observed, f"declared {field} {declared!r}, the file says {observed!r}")


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    s = _norm(value)
    if s in ("symmetric", "true", "yes", "1"):
        return True
    if s in ("asymmetric", "affine", "false", "no", "0"):
        return False
    raise ValueError(value)


def _as_granularity(value: Any) -> str:
    s = _norm(value)
    for canonical, aliases in _GRANULARITY.items():
        if s in aliases:
            return canonical
    raise ValueError(value)


def _check_sparsity(declared: Any, observed: float) -> Check:
    try:
        want = float(declared)
    except (TypeError, ValueError):
        return Check(NOT_CHECKABLE, declared, observed, f"declared sparsity {declared!r} is not a number")
    if want > 1:
        want /= 100  # declared as a percentage
    ok = abs(want - observed) <= SPARSITY_TOLERANCE
    return Check(
        VERIFIED if ok else CONTRADICTED,
        declared,
        observed,
        f"{observed:.1%} of weights are exact zeros in the file (tolerance ±{SPARSITY_TOLERANCE:.0%})",
    )


def _check_codebook(declared: Any, observed: int) -> Check:
    try:
        want = int(declared)
    except (TypeError, ValueError):
        return Check(NOT_CHECKABLE, declared, observed, f"declared codebook size {declared!r} is not an integer")
    if observed == want:
        return Check(VERIFIED, declared, observed, f"{observed} shared values per tensor at most")
    if observed < want:
        # k-means can leave clusters empty; fewer distinct values than entries is consistent
        return Check(VERIFIED, declared, observed, f"at most {observed} of {want} codebook entries are used")
    return Check(CONTRADICTED, declared, observed, f"declared {want} shared values, the file has {observed}")


def _check_size(declared: Any, observed: int) -> Check:
    try:
        want = int(declared)
    except (TypeError, ValueError):
        return Check(NOT_CHECKABLE, declared, observed, f"declared size {declared!r} is not an integer")
    ok = abs(want - observed) <= SIZE_TOLERANCE * max(observed, 1)
    return Check(VERIFIED if ok else CONTRADICTED, declared, observed, f"the file is {observed} bytes (tolerance 1%)")


_PRUNING_STRUCTURES = {
    "unstructured": "unstructured",
    "structured": "structured",
    "channel_structured": "structured",
    "structured_channels": "structured",
    "filter": "structured",
}


def _check_granularity(declared: Any, report: ArtifactReport) -> Check:
    # Pruning variants declare how zeros are laid out, quantised ones how scales are shared.
    structure = _PRUNING_STRUCTURES.get(_norm(declared))
    if structure is not None:
        observed = report.pruning_structure
        if observed is None:
            return Check(NOT_CHECKABLE, declared, None, "no pruning in the file to compare a layout with")
        status = VERIFIED if observed == structure else CONTRADICTED
        return Check(status, declared, observed, f"the zeros in the file are {observed}")
    if report.granularity is None:
        return Check(NOT_CHECKABLE, declared, None, "no quantisation granularity in this file")
    return _equal("granularity", declared, report.granularity, _as_granularity)


_FILE_FORMATS = {"onnx", "safetensors", "gguf", "tflite", "pytorch", "pytorch_legacy", "pickle"}
_STORAGE_ALIASES = {  # declared storage layout -> report.storage entry
    "qdq": "qdq",
    "dequantize_linear_int8": "qdq",
    "qoperator": "qoperator",
    "qlinear": "qoperator",
    "integer_ops": "integer_ops",
    "matmul_nbits": "matmul_nbits",
    "bitpacked_codebook": "decoded",
    "bitpacked_affine": "decoded",
    "codebook_gather": "codebook_gather",
    "dense": "dense",
    "dense_fp32": "dense",
    "dense_fp16": "dense",
}


def _check_format(declared: Any, report: ArtifactReport) -> Check:
    """A file format (onnx, gguf, ...) or a weight layout inside the file (qdq, bitpacked_codebook, ...)."""
    want = _norm(declared)
    if want in _FILE_FORMATS:
        return _equal("format", declared, report.format, _norm)
    layout = _STORAGE_ALIASES.get(want)
    if layout is None:
        return Check(NOT_CHECKABLE, declared, report.storage, f"unknown format or weight layout {declared!r}")
    if layout in report.storage:
        return Check(VERIFIED, declared, report.storage, f"weights stored as {report.storage} in the file")
    return Check(CONTRADICTED, declared, report.storage, f"declared {declared!r}, weights are {report.storage}")


_LAYER_KEYS = {  # declared per-layer key -> LayerReport attribute
    "weight_bits": "bits",
    "codebook_size": "codebook_size",
    "parameters": "parameter_count",
    "parameter_count": "parameter_count",
    "granularity": "granularity",
    "sparsity": "sparsity",
    "fractional_bits": "fixed_point_frac_bits",
}


def _find_row(entry: dict, report: ArtifactReport):
    by_weight = {r.weight_name: r for r in report.layers}
    by_layer = {r.name: r for r in report.layers if r.role == "weight"}
    weight, layer = entry.get("weight"), entry.get("layer")
    for key, table in ((weight, by_weight), (f"{weight}_quantized", by_weight), (layer, by_layer)):
        if key in table:
            return table[key]
    return by_layer.get(f"{layer}_quant")  # onnxruntime's QOperator node names


def _layer_value_ok(key: str, declared: Any, observed: Any) -> bool:
    if key == "sparsity":
        return abs(float(declared) - float(observed)) <= SPARSITY_TOLERANCE
    if key == "codebook_size":
        return int(observed) <= int(declared)
    if key == "granularity":
        return _as_granularity(declared) == observed
    return int(declared) == int(observed)


def _check_per_layer(declared: Any, report: ArtifactReport) -> Check:
    """Each declared layer entry (matched by weight or layer name) against the file's per-layer table."""
    if not isinstance(declared, (list, tuple)):
        return Check(NOT_CHECKABLE, declared, None, "per_layer should be a list of layer entries")
    mismatches: list[dict] = []
    matched = 0
    for entry in declared:
        row = _find_row(entry, report) if isinstance(entry, dict) else None
        if row is None:
            continue
        matched += 1
        for key, attr in _LAYER_KEYS.items():
            want, got = entry.get(key), getattr(row, attr)
            if want is None or got is None:
                continue
            try:
                ok = _layer_value_ok(key, want, got)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                mismatches.append({"layer": entry.get("layer") or entry.get("weight"), key: want, "file": got})
    if not matched:
        return Check(NOT_CHECKABLE, len(declared), None, "no declared layer matches a weight in the file")
    if mismatches:
        return Check(CONTRADICTED, len(declared), mismatches, f"{len(mismatches)} per-layer values differ")
    return Check(VERIFIED, len(declared), matched, f"{matched} of {len(declared)} layers matched and agree")


_FIELDS = {
    "weight_bits": lambda d, r: _equal("weight_bits", d, r.weight_bits, int),
    "activation_bits": lambda d, r: _equal("activation_bits", d, r.activation_bits, int),
    "granularity": _check_granularity,
    "symmetric": lambda d, r: _equal("symmetric", d, r.symmetric, _as_bool),
    "activation_symmetric": lambda d, r: _equal("activation_symmetric", d, r.activation_symmetric, _as_bool),
    "activation_quantization": lambda d, r: _equal("activation_quantization", d, r.activation_quantization, _norm),
    "codebook_size": lambda d, r: _check_codebook(d, r.codebook_size),
    "sparsity": lambda d, r: _check_sparsity(d, r.sparsity),
    "parameter_count": lambda d, r: _equal("parameter_count", d, r.parameter_count, int),
    "size_bytes": lambda d, r: _check_size(d, r.size_bytes),
    "format": _check_format,
    "storage": _check_format,
    "pruning_structure": lambda d, r: _equal("pruning_structure", d, r.pruning_structure, _norm),
    "per_layer": _check_per_layer,
    "mode": lambda d, r: _equal("activation_quantization", d, r.activation_quantization, _norm),
}


# Declared fields read from another report attribute; None for checks that handle a missing value themselves.
_REPORT_ATTR: dict[str, str | None] = {"mode": "activation_quantization", "granularity": None, "per_layer": None}


def _missing(report: ArtifactReport, attr: str | None) -> bool:
    return attr is not None and getattr(report, attr, None) is None


def verify(declared: dict[str, Any], report: ArtifactReport) -> dict[str, Check]:
    """One Check per declared field: verified, contradicted (with what the file says) or not_checkable."""
    checks: dict[str, Check] = {}
    for field, value in declared.items():
        if value is None:
            continue
        if field in NOT_FROM_FILE:
            checks[field] = Check(NOT_CHECKABLE, value, None, f"{field} is measured or declared, not in the file")
        elif field == "method":
            checks[field] = _check_method(value, report)
        elif field not in _FIELDS:
            checks[field] = Check(NOT_CHECKABLE, value, None, f"the inspector does not read {field!r}")
        elif field in report.unverifiable or _missing(report, _REPORT_ATTR.get(field, field)):
            checks[field] = Check(NOT_CHECKABLE, value, None, f"{field} cannot be read from this {report.format} file")
        else:
            checks[field] = _FIELDS[field](value, report)
    return checks
