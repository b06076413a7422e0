"""safetensors, GGUF, TFLite and PyTorch files are read without loading their weights."""

from __future__ import annotations

import json

import gguf
import numpy as np
from gguf import GGMLQuantizationType as QT
from safetensors.numpy import save_file

from modelhub.inspection import inspect_artifact

FULLY_CONNECTED = 9


def test_safetensors_header_gives_dtypes_shapes_metadata_and_parameters(tmp_path, rng):
    path = tmp_path / "model.safetensors"
    tensors = {
        "fc1.weight": rng.normal(size=(32, 16)).astype(np.float32),
        "fc1.bias": np.zeros(32, np.float32),
        "fc2.weight": rng.normal(size=(10, 32)).astype(np.float16),
        "pos_ids": np.arange(8, dtype=np.int64),
    }
    save_file(tensors, str(path), metadata={"format": "pt", "source": "unit test"})
    report = inspect_artifact(path)
    assert report.format == "safetensors"
    assert report.metadata["__metadata__"] == {"format": "pt", "source": "unit test"}
    rows = {r.weight_name: r for r in report.layers}
    assert rows["fc1.weight"].shape == [32, 16] and rows["fc1.weight"].dtype == "float32"
    assert rows["fc2.weight"].dtype == "float16" and rows["fc2.weight"].bits == 16
    assert "pos_ids" not in rows  # integer buffers are not parameters
    assert report.parameter_count == 32 * 16 + 32 + 10 * 32
    assert report.bytes_by_dtype == {"float32": (512 + 32) * 4, "float16": 320 * 2, "int64": 64}
    assert report.method == "none" and report.sparsity is None  # values are not read


def test_safetensors_gptq_packed_weights_count_logical_parameters(tmp_path):
    in_f, out_f, group = 64, 32, 32
    path = tmp_path / "gptq.safetensors"
    save_file(
        {
            "layer.qweight": np.zeros((in_f // 8, out_f), np.int32),  # 8 four-bit values per int32
            "layer.qzeros": np.zeros((in_f // group, out_f // 8), np.int32),
            "layer.scales": np.ones((in_f // group, out_f), np.float16),
            "layer.g_idx": np.repeat(np.arange(in_f // group, dtype=np.int32), group),
            "layer.bias": np.zeros(out_f, np.float16),
        },
        str(path),
    )
    report = inspect_artifact(path)
    assert report.parameter_count == in_f * out_f + out_f  # not 8*32 int32s, and no scales/zeros/g_idx
    assert report.weight_bits == 4 and report.method == "linear_quantization"
    row = next(r for r in report.layers if r.weight_name == "layer.qweight")
    assert row.shape == [in_f, out_f] and row.granularity == "per_group"


def _write_gguf(path, tensors, file_type):
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_file_type(file_type)
    writer.add_name("tiny")
    for name, array, raw_dtype in tensors:
        writer.add_tensor(name, array, raw_dtype=raw_dtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_gguf_tensor_types_and_metadata_are_read(tmp_path, rng):
    w = rng.normal(size=(8, 64)).astype(np.float32)
    q8 = gguf.quants.quantize(w, QT.Q8_0)
    path = _write_gguf(
        tmp_path / "m.gguf",
        [
            ("blk.0.attn_q.weight", q8, QT.Q8_0),
            ("blk.0.ffn_up.weight", rng.normal(size=(16, 64)).astype(np.float16), None),
            ("output_norm.weight", np.ones(64, np.float32), None),
        ],
        gguf.LlamaFileType.MOSTLY_Q8_0,
    )
    report = inspect_artifact(path)
    assert report.format == "gguf"
    assert report.metadata["general.architecture"] == "llama"
    assert report.metadata["general.file_type_name"] == "MOSTLY_Q8_0"
    assert report.metadata["tensor_types"] == {"Q8_0": 1, "F16": 1, "F32": 1}
    rows = {r.weight_name: r for r in report.layers}
    q = rows["blk.0.attn_q.weight"]
    assert (q.dtype, q.bits, q.shape, q.block_size, q.symmetric) == ("q8_0", 8, [8, 64], 32, True)
    assert rows["blk.0.ffn_up.weight"].dtype == "f16"
    assert report.parameter_count == 8 * 64 + 16 * 64 + 64  # logical, not Q8_0 bytes
    assert report.bytes_by_dtype["q8_0"] == 8 * 64 // 32 * 34  # 32 int8 + one f16 scale per block


def test_gguf_all_f16_is_not_compressed(tmp_path, rng):
    path = _write_gguf(
        tmp_path / "f16.gguf",
        [("w", rng.normal(size=(4, 32)).astype(np.float16), None)],
        gguf.LlamaFileType.MOSTLY_F16,
    )
    report = inspect_artifact(path)
    assert report.method == "none" and report.weight_bits == 16


def test_tflite_int8_fully_connected_is_per_channel_symmetric(tmp_path, build, rng):
    w = rng.integers(-127, 128, size=(10, 16)).astype(np.int8)
    tensors = [
        {"name": "input", "shape": [1, 16], "type": 9, "scale": [0.02], "zp": [-3]},
        {
            "name": "fc/weights",
            "shape": [10, 16],
            "type": 9,
            "data": w,
            "scale": rng.uniform(0.01, 0.1, 10),
            "zp": [0] * 10,
            "axis": 0,
        },
        {
            "name": "fc/bias",
            "shape": [10],
            "type": 2,
            "data": np.arange(10, dtype=np.int32),
            "scale": rng.uniform(0.001, 0.002, 10),
            "zp": [0] * 10,
        },
        {"name": "output", "shape": [1, 10], "type": 9, "scale": [0.05], "zp": [5]},
    ]
    path = build.tflite_model(tmp_path / "m.tflite", tensors, FULLY_CONNECTED, [0, 1, 2], [3])
    report = inspect_artifact(path)
    assert report.format == "tflite"
    assert report.metadata["op_types"] == {"FULLY_CONNECTED": 1}
    assert report.method == "linear_quantization"
    assert (report.weight_bits, report.activation_bits) == (8, 8)
    assert report.granularity == "per_channel" and report.symmetric is True
    assert report.parameter_count == 170
    rows = {r.weight_name: r for r in report.layers}
    assert rows["fc/weights"].sparsity == round(float(np.mean(w == 0)), 6)
    assert rows["fc/bias"].role == "bias"


def test_tflite_float_weights_with_zeros_are_pruned(tmp_path, build, rng):
    w = rng.normal(size=(10, 16)).astype(np.float32)
    w[:, ::2] = 0.0
    tensors = [
        {"name": "input", "shape": [1, 16], "type": 0},
        {"name": "fc/weights", "shape": [10, 16], "type": 0, "data": w},
        {"name": "output", "shape": [1, 10], "type": 0},
    ]
    report = inspect_artifact(build.tflite_model(tmp_path / "p.tflite", tensors, FULLY_CONNECTED, [0, 1], [2]))
    assert report.method == "pruning" and report.sparsity == 0.5
    assert (report.weight_bits, report.activation_bits) == (32, 32)


def test_pytorch_state_dict_lists_tensors_without_torch(build):
    # tiny_state_dict.pt was written by torch 2.13 torch.save: Linear(4,3)+BatchNorm1d(3), a float16 tensor,
    # per-channel and per-tensor qint8 tensors and an nn.Parameter.
    report = inspect_artifact(build.data / "tiny_state_dict.pt")
    assert report.format == "pytorch"
    rows = {r.weight_name: r for r in report.layers}
    assert rows["0.weight"].shape == [3, 4] and rows["0.weight"].dtype == "float32"
    assert rows["half.weight"].dtype == "float16"
    assert rows["q.weight"].granularity == "per_channel" and rows["q.weight"].axis == 0
    assert rows["q.weight"].symmetric is True
    assert rows["q_t.weight"].granularity == "per_tensor"
    assert rows["param"].shape == [3, 3]
    assert "1.running_mean" not in rows and "1.num_batches_tracked" not in rows  # buffers
    assert report.parameter_count == 12 + 3 + 3 + 3 + 10 + 24 + 24 + 9
    json.dumps(report.to_dict())


def test_gguf_k_quant_tensors_are_read_as_asymmetric_super_blocks(tmp_path, rng):
    # gguf cannot produce K-quants, but a reader only needs the bytes' layout: 144 bytes per 256 weights
    raw = rng.integers(0, 256, size=(4, 144), dtype=np.uint8)
    path = _write_gguf(tmp_path / "k.gguf", [("blk.0.ffn_down.weight", raw, QT.Q4_K)], gguf.LlamaFileType.MOSTLY_Q4_K_M)
    report = inspect_artifact(path)
    row = report.layers[0]
    assert (row.dtype, row.bits, row.shape, row.block_size, row.symmetric) == ("q4_k", 4, [4, 256], 256, False)
    assert report.parameter_count == 1024 and report.bytes_by_dtype == {"q4_k": raw.size}
    assert report.metadata["general.file_type_name"] == "MOSTLY_Q4_K_M"


def test_pytorch_module_state_dict_counts_parameters_like_torch(build):
    # tiny_module_state_dict.pt: torch.save(Sequential(Conv2d(1,4,3), BatchNorm2d(4), Flatten(),
    # Linear(144,5)).state_dict()), an OrderedDict with _metadata; buffers are not parameters
    report = inspect_artifact(build.data / "tiny_module_state_dict.pt")
    assert report.parameter_count == (4 * 9 + 4) + (4 + 4) + (144 * 5 + 5)
    assert report.bytes_by_dtype["int64"] == 8  # num_batches_tracked is stored, just not counted


def test_legacy_torch_save_is_read_too(build):
    # tiny_legacy.pt: torch.save(Linear(4,3).state_dict(), _use_new_zipfile_serialization=False)
    report = inspect_artifact(build.data / "tiny_legacy.pt")
    assert report.format == "pytorch_legacy"
    assert {r.weight_name: r.shape for r in report.layers} == {"weight": [3, 4], "bias": [3]}
    assert report.parameter_count == 15


def test_safetensors_int8_with_per_channel_scales_is_linear_quantisation(tmp_path, rng):
    path = tmp_path / "w8a8.safetensors"
    save_file(
        {
            "fc.weight": rng.integers(-127, 128, size=(32, 16), dtype=np.int8),
            "fc.weight_scale": np.ones((32, 1), np.float32),
            "fc.input_scale": np.ones(1, np.float32),
        },
        str(path),
    )
    report = inspect_artifact(path)
    assert (report.method, report.weight_bits, report.granularity) == ("linear_quantization", 8, "per_channel")
    assert report.parameter_count == 32 * 16


def test_safetensors_compressed_tensors_packed_weights_use_the_stored_shape(tmp_path):
    path = tmp_path / "ct.safetensors"
    save_file(
        {
            "fc.weight_packed": np.zeros((32, 16 // 8), np.int32),  # 4-bit values, 8 per int32
            "fc.weight_shape": np.array([32, 16], np.int64),
            "fc.weight_scale": np.ones((32, 1), np.float16),
        },
        str(path),
    )
    report = inspect_artifact(path)
    row = report.layers[0]
    assert (row.shape, row.bits, row.parameter_count) == ([32, 16], 4, 512)
    assert report.parameter_count == 512
