"""ONNX files built in the test are classified from their graphs and initialisers."""

from __future__ import annotations

import json

import numpy as np
from onnx import TensorProto

from modelhub.inspection import inspect_artifact


def _weights(report):
    return {row.weight_name: row for row in report.layers}


def test_fp32_model_reports_no_compression_and_counts_every_parameter(tmp_path, build, rng):
    w1 = rng.normal(size=(16, 32)).astype(np.float32)
    w2 = rng.normal(size=(32, 10)).astype(np.float32)
    report = inspect_artifact(build.mlp_fp32(tmp_path / "fp32.onnx", w1, w2))
    assert report.format == "onnx"
    assert report.method == "none" and report.methods == ["none"]
    assert report.weight_bits == 32 and report.activation_bits == 32
    assert report.parameter_count == w1.size + 32 + w2.size
    assert report.bytes_by_dtype == {"float32": 4 * (w1.size + 32 + w2.size)}
    assert report.sparsity == 0.0
    assert report.granularity is None and report.codebook_size is None
    assert _weights(report)["w1"].distinct_values == w1.size
    json.dumps(report.to_dict())  # the Django side stores it as JSON


def test_qdq_int8_per_tensor_is_linear_symmetric_per_tensor(tmp_path, build, rng):
    w_q = rng.integers(-127, 128, size=(16, 32)).astype(np.int8)
    path = build.qdq_matmul(tmp_path / "pt.onnx", w_q, np.array(0.01), np.array(0, np.int8))
    report = inspect_artifact(path)
    assert report.method == "linear_quantization"
    assert (report.weight_bits, report.activation_bits) == (8, 8)
    assert report.granularity == "per_tensor"
    assert report.symmetric is True
    assert report.activation_symmetric is False  # activation zero point 131 on uint8
    assert report.activation_quantization == "static"
    assert report.parameter_count == w_q.size  # scales and zero points are not parameters
    row = _weights(report)["w_q"]
    assert row.op_type == "MatMul (QDQ)" and row.dtype == "int8" and row.role == "weight"
    assert row.sparsity == round(float(np.mean(w_q == 0)), 6)


def test_qdq_int8_per_channel_reports_axis(tmp_path, build, rng):
    w_q = rng.integers(-127, 128, size=(16, 32)).astype(np.int8)
    scale = rng.uniform(0.001, 0.02, size=32)
    path = build.qdq_matmul(tmp_path / "pc.onnx", w_q, scale, np.zeros(32, np.int8), axis=1)
    report = inspect_artifact(path)
    assert report.granularity == "per_channel"
    assert report.symmetric is True
    assert _weights(report)["w_q"].axis == 1


def test_qlinearconv_weights_are_per_channel_int8_with_int32_bias_counted(tmp_path, build, rng):
    w_q = rng.integers(-127, 128, size=(8, 3, 3, 3))
    path = build.qlinear_conv(tmp_path / "qconv.onnx", w_q, rng.uniform(0.01, 0.1, 8), rng.integers(-500, 500, 8))
    report = inspect_artifact(path)
    assert report.method == "linear_quantization"
    assert report.granularity == "per_channel" and report.symmetric is True
    assert (report.weight_bits, report.activation_bits) == (8, 8)
    assert report.parameter_count == w_q.size + 8
    assert report.activation_symmetric is True  # uint8 zero point 128: the symmetric convention
    assert _weights(report)["bias"].role == "bias"


def test_uint8_weights_with_offset_zero_point_are_asymmetric(tmp_path, build, rng):
    w_q = rng.integers(0, 256, size=(16, 32)).astype(np.uint8)
    path = build.qdq_matmul(
        tmp_path / "u8.onnx", w_q, np.array(0.01), np.array(117, np.uint8), w_type=TensorProto.UINT8
    )
    report = inspect_artifact(path)
    assert report.symmetric is False
    assert report.weight_bits == 8
    assert _weights(report)["w_q"].dtype == "uint8"
    assert _weights(report)["w_q"].sparsity == round(float(np.mean(w_q == 117)), 6)  # zero is the zero point


def test_uint8_zero_point_128_counts_as_symmetric(tmp_path, build, rng):
    w_q = rng.integers(0, 256, size=(16, 32)).astype(np.uint8)
    path = build.qdq_matmul(
        tmp_path / "u8s.onnx", w_q, np.array(0.01), np.array(128, np.uint8), w_type=TensorProto.UINT8
    )
    assert inspect_artifact(path).symmetric is True


def test_int4_blocked_qdq_opset21_is_four_bit_per_group(tmp_path, build, rng):
    w_q = rng.integers(-8, 8, size=(32, 8))
    scale = rng.uniform(0.01, 0.1, size=(2, 8))  # one scale per 16 rows of each column
    path = build.qdq_matmul(
        tmp_path / "int4.onnx",
        w_q,
        scale,
        np.zeros((2, 8), np.int8),
        w_type=TensorProto.INT4,
        axis=0,
        block_size=16,
        opset=21,
    )
    report = inspect_artifact(path)
    assert report.weight_bits == 4 and report.activation_bits == 8
    assert report.granularity == "per_group"
    row = _weights(report)["w_q"]
    assert row.dtype == "int4" and row.block_size == 16
    assert report.parameter_count == 32 * 8
    assert report.bytes_by_dtype["int4"] == (32 * 8 + 2 * 8) // 2  # weights and zero points, two per byte


def test_int4_qdq_in_com_microsoft_domain_below_opset21(tmp_path, build, rng):
    w_q = rng.integers(-8, 8, size=(16, 32))
    path = build.qdq_matmul(
        tmp_path / "int4ms.onnx",
        w_q,
        rng.uniform(0.01, 0.1, 32),
        np.zeros(32, np.int8),
        w_type=TensorProto.INT4,
        axis=1,
        domain="com.microsoft",
    )
    report = inspect_artifact(path)
    assert (report.weight_bits, report.granularity, report.symmetric) == (4, "per_channel", True)


def test_matmulnbits_counts_logical_parameters_not_packed_bytes(tmp_path, build, rng):
    report = inspect_artifact(build.matmul_nbits(tmp_path / "nbits.onnx", k=64, n=8, block=32, rng=rng))
    assert report.method == "linear_quantization"
    assert report.weight_bits == 4 and report.activation_bits == 32
    assert report.granularity == "per_group" and report.symmetric is True
    assert report.parameter_count == 64 * 8  # the uint8 tensor holds 256 bytes = 512 weights
    row = report.layers[0]
    assert row.op_type == "MatMulNBits" and row.block_size == 32 and row.shape == [64, 8]


def test_codebook_indices_and_gather_are_kmeans_weight_sharing(tmp_path, build, rng):
    codebook = np.sort(rng.normal(size=16))
    indices = rng.integers(0, 16, size=(16, 32))
    report = inspect_artifact(build.kmeans_gather(tmp_path / "km.onnx", codebook, indices))
    assert report.method == "kmeans"
    assert report.codebook_size == 16
    assert report.weight_bits == 4
    assert report.parameter_count == indices.size  # the codebook is not a parameter
    assert report.layers[0].op_type == "MatMul (Gather codebook)"


def test_float_weights_with_few_distinct_values_are_kmeans(tmp_path, build, rng):
    centroids = rng.normal(size=8).astype(np.float32)
    w1 = centroids[rng.integers(0, 8, size=(16, 32))]
    w2 = centroids[rng.integers(0, 8, size=(32, 10))]
    report = inspect_artifact(build.mlp_fp32(tmp_path / "km_float.onnx", w1, w2))
    assert report.method == "kmeans"
    assert report.codebook_size == 8
    assert report.weight_bits == 3
    assert _weights(report)["w1"].distinct_values == 8


def test_pruned_model_reports_sparsity_and_pruning(tmp_path, build, rng):
    w1 = rng.normal(size=(16, 32)).astype(np.float32)
    w2 = rng.normal(size=(32, 10)).astype(np.float32)
    w1[rng.random(w1.shape) < 0.6] = 0.0
    w2[rng.random(w2.shape) < 0.6] = 0.0
    report = inspect_artifact(build.mlp_fp32(tmp_path / "pruned.onnx", w1, w2))
    expected = (np.count_nonzero(w1 == 0) + np.count_nonzero(w2 == 0)) / (w1.size + w2.size)
    assert report.method == "pruning"
    assert abs(report.sparsity - expected) < 1e-6
    assert report.weight_bits == 32


def test_weights_on_power_of_two_grids_are_dynamic_fixed_point(tmp_path, build, rng):
    w1 = np.round(rng.normal(size=(16, 32)) * 2**6).clip(-128, 127) / 2**6
    w2 = np.round(rng.normal(size=(32, 10)) * 2**4).clip(-128, 127) / 2**4
    report = inspect_artifact(build.mlp_fp32(tmp_path / "dfp.onnx", w1.astype(np.float32), w2.astype(np.float32)))
    assert report.method == "dynamic_fixed_point"
    rows = _weights(report)
    assert (rows["w1"].fixed_point_frac_bits, rows["w2"].fixed_point_frac_bits) == (6, 4)
    assert report.weight_bits == 8


def test_hostile_external_data_is_reported_and_never_opened(tmp_path, build):
    import sys

    opened: list[str] = []
    watching = {"on": False}

    def hook(event, args):
        if watching["on"] and event == "open" and "passwd" in str(args[0]):
            opened.append(str(args[0]))

    sys.addaudithook(hook)  # cannot be removed; inert once watching is off
    for location in ("/etc/passwd", "../../../../etc/passwd"):
        path = build.with_external(tmp_path / "hostile.onnx", location)
        watching["on"] = True
        try:
            report = inspect_artifact(path)
        finally:
            watching["on"] = False
        assert opened == []
        assert any(location in f and "not followed" in f for f in report.findings)
        assert any("outside the upload" in w for w in report.warnings)
        assert report.layers[0].sparsity is None and report.layers[0].distinct_values is None
        assert "root:" not in json.dumps(report.to_dict())


def test_bit_packed_codes_with_codebook_decoder_are_kmeans(tmp_path, build, rng):
    codes = rng.integers(0, 16, size=(16, 32))
    codebook = np.sort(rng.normal(size=16))
    report = inspect_artifact(build.packed_decoder(tmp_path / "packed_km.onnx", codes, codebook=codebook))
    assert report.method == "kmeans" and report.codebook_size == 16 and report.weight_bits == 4
    assert report.parameter_count == codes.size  # packed bytes, codebook and decoder constants are not
    row = report.layers[0]
    assert row.op_type == "MatMul (decoded)" and row.shape == [16, 32] and row.dtype == "packed"
    assert report.bytes_by_dtype["uint8"] == codes.size // 2


def test_bit_packed_codes_scaled_by_power_of_two_are_fixed_point(tmp_path, build, rng):
    codes = rng.integers(0, 16, size=(16, 32))
    report = inspect_artifact(build.packed_decoder(tmp_path / "packed_fp.onnx", codes, scale=2.0**-5))
    assert report.method == "fixed_point"
    assert report.layers[0].fixed_point_frac_bits == 5 and report.weight_bits == 4
    assert report.symmetric is True and report.parameter_count == codes.size


def test_decoder_that_would_allocate_without_limit_is_not_run(tmp_path, build, rng):
    import psutil

    codes = rng.integers(0, 16, size=(16, 32))
    path = build.packed_decoder(tmp_path / "bomb.onnx", codes, codebook=np.arange(16.0), range_limit=10**12)
    before = psutil.Process().memory_info().rss
    report = inspect_artifact(path)
    assert psutil.Process().memory_info().rss - before < 50 * 2**20
    assert any("not decoded" in f and "exceeds" in f for f in report.findings)
    assert not [row for row in report.layers if row.role == "weight"]
    assert report.method == "none"


def test_whole_zero_channels_are_structured_pruning(tmp_path, build, rng):
    w1 = rng.normal(size=(16, 32)).astype(np.float32)
    w2 = rng.normal(size=(32, 10)).astype(np.float32)
    w1[:, ::2] = 0.0  # half the output columns removed
    w2[::2, :] = 0.0
    report = inspect_artifact(build.mlp_fp32(tmp_path / "structured.onnx", w1, w2))
    assert report.method == "pruning" and report.pruning_structure == "structured"
    w1[0, 1] = 0.0  # one stray zero breaks the pattern
    report = inspect_artifact(build.mlp_fp32(tmp_path / "unstructured.onnx", w1, w2))
    assert report.pruning_structure == "unstructured"


def test_external_data_file_is_never_opened_even_by_native_code(tmp_path, build):
    import errno
    import os
    import threading

    fifo = tmp_path / "weights.bin"
    os.mkfifo(fifo)
    opened = threading.Event()
    stop = threading.Event()

    def watch():
        # A FIFO can be opened for writing without blocking only while someone has it open for reading.
        while not stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                assert exc.errno == errno.ENXIO
                stop.wait(0.001)
                continue
            opened.set()
            os.close(fd)
            return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        for location in ("weights.bin", str(fifo)):
            report = inspect_artifact(build.with_external(tmp_path / "m.onnx", location))
            assert report.unverifiable == ["w"]
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert not opened.is_set()
