"""Fixtures for the compression library tests: the checked-in digits CNN and its held-out evaluation set."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelhub.compression import EvalSet, MethodSpec, load_eval_set, load_model, run_compression

DEMO = Path(__file__).resolve().parents[2] / "modelhub" / "demo"


@pytest.fixture(scope="session")
def demo_model() -> Path:
    return DEMO / "digits_cnn.onnx"


@pytest.fixture(scope="session")
def demo_eval_npz() -> Path:
    return DEMO / "digits_eval.npz"


@pytest.fixture(scope="session")
def demo_eval(demo_model: Path, demo_eval_npz: Path) -> EvalSet:
    return load_eval_set(demo_eval_npz, load_model(demo_model))


@pytest.fixture(scope="session")
def demo_job(tmp_path_factory: pytest.TempPathFactory, demo_model: Path, demo_eval_npz: Path):
    """One full job over the demo model, shared by the tests that read its result (few latency repeats)."""
    out = tmp_path_factory.mktemp("job") / "variants"
    events: list[tuple[int, int, str]] = []
    specs = [
        MethodSpec("static_int8", {"calibration": "minmax", "per_channel": True}, name="int8_minmax_pc"),
        MethodSpec("dynamic_int8", name="int8_dynamic"),
        MethodSpec("kmeans", {"bits": 4}, name="kmeans4"),
        MethodSpec("dynamic_fixed_point", {"bits": None, "storage": "packed"}, name="dfp_auto"),
        MethodSpec("pruning", {"sparsity": 0.5}, name="pruned50"),
    ]
    result = run_compression(
        demo_model,
        demo_eval_npz,
        specs,
        out,
        progress=lambda d, t, m: events.append((d, t, m)),
        latency_repeats=5,
        sensitivity_bits=(2, 8),
    )
    return result, events
