"""Hostile pickles are refused without running; damaged files raise typed errors."""

from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import pytest

from modelhub.inspection import (
    CorruptArtifact,
    InspectionError,
    UnsafeArtifact,
    UnsupportedFormat,
    inspect_artifact,
)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _torch_zip(path, pkl: bytes):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/version", "3\n")
    return path


def test_hostile_pickle_in_torch_zip_is_refused_and_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = _torch_zip(tmp_path / "evil.pt", pickle.dumps({"w": _Exploit(marker)}, protocol=2))
    with pytest.raises(UnsafeArtifact, match="system"):
        inspect_artifact(path)
    assert not marker.exists()


def test_hostile_bare_pickle_is_refused_and_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.bin"
    path.write_bytes(pickle.dumps(_Exploit(marker), protocol=4))
    with pytest.raises(UnsafeArtifact):
        inspect_artifact(path)
    assert not marker.exists()


def test_pickle_importing_builtins_eval_is_refused(tmp_path):
    payload = b"\x80\x02cbuiltins\neval\nX\x0a\x00\x00\x00__import__q\x85R."
    with pytest.raises(UnsafeArtifact, match="builtins.eval"):
        inspect_artifact(_torch_zip(tmp_path / "eval.pt", payload))


def test_zip_without_data_pkl_is_not_a_torch_file(tmp_path):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(CorruptArtifact, match="data.pkl"):
        inspect_artifact(path)


def _truncate(src, dst, keep: float):
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def test_truncated_onnx_is_corrupt(tmp_path, build, rng):
    src = build.mlp_fp32(
        tmp_path / "ok.onnx",
        rng.normal(size=(16, 32)).astype(np.float32),
        rng.normal(size=(32, 10)).astype(np.float32),
    )
    with pytest.raises(CorruptArtifact):
        inspect_artifact(_truncate(src, tmp_path / "cut.onnx", 0.5))


def test_truncated_safetensors_is_corrupt(tmp_path, rng):
    from safetensors.numpy import save_file

    src = tmp_path / "ok.safetensors"
    save_file({"w": rng.normal(size=(64, 64)).astype(np.float32)}, str(src))
    with pytest.raises(CorruptArtifact, match="beyond the end"):
        inspect_artifact(_truncate(src, tmp_path / "cut.safetensors", 0.5))


def test_truncated_torch_zip_is_corrupt(tmp_path, build):
    with pytest.raises(CorruptArtifact):
        inspect_artifact(_truncate(build.data / "tiny_state_dict.pt", tmp_path / "cut.pt", 0.6))


def test_truncated_tflite_is_corrupt(tmp_path, build, rng):
    w = rng.normal(size=(10, 16)).astype(np.float32)
    tensors = [
        {"name": "input", "shape": [1, 16], "type": 0},
        {"name": "w", "shape": [10, 16], "type": 0, "data": w},
        {"name": "output", "shape": [1, 10], "type": 0},
    ]
    src = build.tflite_model(tmp_path / "ok.tflite", tensors, 9, [0, 1], [2])
    with pytest.raises(CorruptArtifact):
        inspect_artifact(_truncate(src, tmp_path / "cut.tflite", 0.3))


def test_truncated_gguf_is_corrupt(tmp_path, rng):
    import gguf

    src = tmp_path / "ok.gguf"
    writer = gguf.GGUFWriter(str(src), "llama")
    writer.add_tensor("w", rng.normal(size=(64, 64)).astype(np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(CorruptArtifact):
        inspect_artifact(_truncate(src, tmp_path / "cut.gguf", 0.5))


def test_garbage_that_looks_like_protobuf_is_corrupt(tmp_path, rng):
    path = tmp_path / "garbage.onnx"
    path.write_bytes(b"\x08" + rng.integers(0, 256, size=4096, dtype=np.uint8).tobytes())
    with pytest.raises(CorruptArtifact):
        inspect_artifact(path)


def test_empty_file_is_corrupt(tmp_path):
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    with pytest.raises(CorruptArtifact, match="empty"):
        inspect_artifact(path)


def test_other_formats_are_unsupported_whatever_their_name(tmp_path):
    for magic in (b"\x89PNG\r\n\x1a\n", b"\x89HDF\r\n\x1a\n"):
        path = tmp_path / "model.onnx"
        path.write_bytes(magic + bytes(64))
        with pytest.raises(UnsupportedFormat):
            inspect_artifact(path)


def test_random_bytes_raise_an_inspection_error(tmp_path, rng):
    for i in range(20):
        path = tmp_path / f"r{i}.bin"
        path.write_bytes(rng.integers(0, 256, size=2048, dtype=np.uint8).tobytes())
        with pytest.raises(InspectionError):
            inspect_artifact(path)


def test_format_comes_from_content_not_name(tmp_path, build, rng):
    src = build.mlp_fp32(
        tmp_path / "a.onnx",
        rng.normal(size=(16, 32)).astype(np.float32),
        rng.normal(size=(32, 10)).astype(np.float32),
    )
    disguised = tmp_path / "weights.safetensors"
    disguised.write_bytes(src.read_bytes())
    assert inspect_artifact(disguised).format == "onnx"
