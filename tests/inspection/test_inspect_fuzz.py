"""Damaged files of every format end in a report or a typed InspectionError, never another exception."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save_file

from modelhub.inspection import InspectionError, inspect_artifact

from .conftest import DATA, packed_decoder, qdq_matmul, tflite_model


def _samples(tmp: Path) -> dict[str, bytes]:
    rng = np.random.default_rng(7)
    out = {}
    out["onnx"] = qdq_matmul(
        tmp / "q.onnx", rng.integers(-127, 128, size=(16, 32)).astype(np.int8), np.array(0.01), np.array(0, np.int8)
    ).read_bytes()
    out["packed"] = packed_decoder(
        tmp / "p.onnx", rng.integers(0, 16, size=(16, 32)), codebook=np.linspace(-1, 1, 16)
    ).read_bytes()
    save_file({"w": rng.normal(size=(8, 8)).astype(np.float32)}, str(tmp / "s.safetensors"))
    out["safetensors"] = (tmp / "s.safetensors").read_bytes()
    writer = gguf.GGUFWriter(str(tmp / "g.gguf"), "llama")
    writer.add_tensor(
        "w",
        gguf.quants.quantize(rng.normal(size=(2, 64)).astype(np.float32), gguf.GGMLQuantizationType.Q8_0),
        raw_dtype=gguf.GGMLQuantizationType.Q8_0,
    )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    out["gguf"] = (tmp / "g.gguf").read_bytes()
    tensors = [
        {"name": "in", "shape": [1, 8], "type": 9, "scale": [0.1], "zp": [0]},
        {
            "name": "w",
            "shape": [4, 8],
            "type": 9,
            "data": rng.integers(-5, 5, (4, 8), dtype=np.int8),
            "scale": [0.1] * 4,
            "zp": [0] * 4,
        },
        {"name": "out", "shape": [1, 4], "type": 9, "scale": [0.1], "zp": [0]},
    ]
    out["tflite"] = tflite_model(tmp / "t.tflite", tensors, 9, [0, 1], [2]).read_bytes()
    out["pytorch"] = (DATA / "tiny_state_dict.pt").read_bytes()
    return out


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    return _samples(tmp_path_factory.mktemp("fuzz"))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["onnx", "packed", "safetensors", "gguf", "tflite", "pytorch"]),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=6),
)
def test_damaged_files_raise_only_typed_errors(tmp_path, samples, kind, cut, flips):
    data = bytearray(samples[kind])
    for where, value in flips:
        data[min(int(where * len(data)), len(data) - 1)] = value
    if cut < 0.5:
        data = data[: int(len(data) * cut * 2)]
    path = tmp_path / f"damaged.{kind}"
    path.write_bytes(bytes(data))
    try:
        report = inspect_artifact(path)
    except InspectionError:
        return
    report.to_dict()
