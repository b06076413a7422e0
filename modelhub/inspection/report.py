"""Values the inspector returns: the artifact report, its per-layer rows and verification checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class LayerReport:
    """One weight tensor (or the layer that consumes it) as read from the file."""

    name: str
    op_type: str
    weight_name: str
    role: str  # weight | bias | other (norm scales, embeddings' companions, ...)
    shape: list[int]
    dtype: str
    bits: int | None
    granularity: str | None = None  # per_tensor | per_channel | per_group | None (not quantised)
    axis: int | None = None
    block_size: int | None = None
    symmetric: bool | None = None
    parameter_count: int = 0
    sparsity: float | None = None
    distinct_values: int | None = None  # None: not computed, or more than DISTINCT_CAP
    codebook_size: int | None = None
    fixed_point_frac_bits: int | None = None
    quantization: str | None = None  # linear | fixed_point | kmeans | codebook | None
    pruning_structure: str | None = None  # structured | unstructured | None (no zeros)


@dataclass
class ArtifactReport:
    """What the file itself says about the model and its compression."""

    format: str
    size_bytes: int
    method: str = "none"
    methods: list[str] = field(default_factory=list)
    weight_bits: int | None = None
    activation_bits: int | None = None
    activation_quantization: str | None = None  # static | dynamic | None
    granularity: str | None = None
    symmetric: bool | None = None
    activation_symmetric: bool | None = None
    codebook_size: int | None = None
    sparsity: float | None = None
    pruning_structure: str | None = None  # structured | unstructured | None (not pruned)
    parameter_count: int | None = None
    # how weights are laid out inside the container: dense | qdq | qoperator | integer_ops | matmul_nbits |
    # codebook_gather | decoded (bit-packed codes + decoder subgraph) | block_quantized (GGUF) | packed_int
    storage: list[str] = field(default_factory=list)
    bytes_by_dtype: dict[str, int] = field(default_factory=dict)
    params_by_dtype: dict[str, int] = field(default_factory=dict)
    layers: list[LayerReport] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unverifiable: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (plain str/int/float/bool/None/list/dict only)."""
        return _jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArtifactReport:
        data = dict(data)
        data["layers"] = [LayerReport(**row) for row in data.get("layers", [])]
        return cls(**data)


@dataclass
class Check:
    """The verdict on one declared field."""

    status: str  # verified | contradicted | not_checkable
    declared: Any
    observed: Any
    message: str

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    # numpy scalars and tuples sneak in from readers; normalise once here
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, bool, type(None))):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _jsonable(value.tolist())
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
