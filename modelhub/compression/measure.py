"""Measuring a variant: size on disk, top-1/top-5 accuracy, latency (median, p95) and peak memory.

Accuracy, latency and memory are measured in a fresh Python process per model, so that one model's
allocations do not hide another's peak (ru_maxrss only grows) and a crashing model cannot take the job down.
Subprocesses, not multiprocessing: Celery prefork workers are daemonic and may not fork children that way.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import onnxruntime as ort

from ._measure_worker import top_k_accuracy
from .errors import CompressionError, InvalidModelError

__all__ = ["Hardware", "LatencyStats", "Measurement", "hardware_info", "measure_model", "top_k_accuracy"]

WORKER = Path(__file__).resolve().with_name("_measure_worker.py")


@dataclass(frozen=True)
class Hardware:
    cpu_model: str
    logical_cpus: int
    isa: list[str]
    onnxruntime: str
    intra_op_threads: int
    platform: str

    @property
    def label(self) -> str:
        return f"{self.cpu_model}, {self.intra_op_threads} thread(s), onnxruntime {self.onnxruntime}"


@dataclass(frozen=True)
class LatencyStats:
    batch_size: int
    repeats: int
    median_ms: float
    p95_ms: float
    mean_ms: float


@dataclass
class Measurement:
    size_bytes: int
    size_gzip_bytes: int
    top1: float
    top5: float | None
    samples: int
    latency: list[LatencyStats] = field(default_factory=list)
    peak_memory_bytes: int = 0
    peak_rss_bytes: int = 0
    session_load_ms: float = 0.0

    def latency_for(self, batch_size: int) -> LatencyStats | None:
        return next((row for row in self.latency if row.batch_size == batch_size), None)

    def to_dict(self) -> dict:
        return asdict(self)


def hardware_info(intra_op_threads: int = 1) -> Hardware:
    """CPU model and instruction-set extensions that matter for int8 (from /proc/cpuinfo on Linux)."""
    model, flags = None, set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model is None:
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    model = model or platform.processor() or "unknown CPU"
    interesting = ["avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8"]
    return Hardware(
        cpu_model=model,
        logical_cpus=os.cpu_count() or 1,
        isa=[f for f in interesting if f in flags],
        onnxruntime=ort.__version__,
        intra_op_threads=intra_op_threads,
        platform=platform.platform(),
    )


def gzip_size(path: Path) -> int:
    """Bytes after gzip -6: what sparsity (pruning) saves in transfer even though the file stays dense."""
    return len(gzip.compress(path.read_bytes(), compresslevel=6))


def measure_model(
    model_path: str | Path,
    eval_npz: str | Path,
    input_name: str,
    *,
    batch_sizes: tuple[int, ...] = (1, 32),
    repeats: int = 50,
    warmup: int = 5,
    intra_op_threads: int = 1,
    timeout_s: float = 600.0,
) -> Measurement:
    """Measure one ONNX file on a canonical eval `.npz` (keys `inputs`, `labels`) in a child process."""
    model_path = Path(model_path)
    args = {
        "model": str(model_path),
        "eval": str(eval_npz),
        "input": input_name,
        "batch_sizes": list(batch_sizes),
        "repeats": repeats,
        "warmup": warmup,
        "threads": intra_op_threads,
    }
    try:
        proc = subprocess.run(
            [sys.executable, str(WORKER), json.dumps(args)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CompressionError(f"measuring {model_path.name} took longer than {timeout_s:.0f} s") from exc
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InvalidModelError(f"onnxruntime could not run {model_path.name}: {tail}")
    raw = json.loads(proc.stdout.strip().splitlines()[-1])
    return Measurement(
        size_bytes=model_path.stat().st_size,
        size_gzip_bytes=gzip_size(model_path),
        top1=raw["top1"],
        top5=raw["top5"],
        samples=raw["samples"],
        latency=[LatencyStats(**row) for row in raw["latency"]],
        peak_memory_bytes=raw["peak_memory_bytes"],
        peak_rss_bytes=raw["peak_rss_bytes"],
        session_load_ms=raw["session_load_ms"],
    )
