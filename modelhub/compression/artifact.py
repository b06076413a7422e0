"""The value every compression method returns: the written file, its metadata and a runtime copy for timing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Method names written to metadata_props["method"]; the hub's inspector and filters use the same strings.
METHOD_NONE = "none"
METHOD_LINEAR = "linear_quantization"
METHOD_KMEANS = "kmeans"
METHOD_DYNAMIC_FIXED_POINT = "dynamic_fixed_point"
METHOD_PRUNING = "pruning"


@dataclass
class CompressedArtifact:
    """`path` is the file to publish; `runtime_path` is an equivalent graph that runs at full speed, if different."""

    path: Path
    metadata: dict[str, Any]
    runtime_path: Path | None = None
    extra_files: list[Path] = field(default_factory=list)

    @property
    def timing_path(self) -> Path:
        return self.runtime_path or self.path
