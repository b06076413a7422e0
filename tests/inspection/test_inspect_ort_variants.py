"""Variants that onnxruntime's quantiser makes from the demo CNN are read back as what they are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)

from modelhub.inspection import VERIFIED, inspect_artifact, verify

DEMO = Path(__file__).resolve().parents[2] / "modelhub" / "demo"


class _OneBatch(CalibrationDataReader):
    def __init__(self, name: str, batch: np.ndarray) -> None:
        self._it = iter([{name: batch}])

    def get_next(self):
        return next(self._it, None)


@pytest.fixture(scope="module")
def fp32_model() -> Path:
    return DEMO / "digits_cnn.onnx"


@pytest.fixture(scope="module")
def calibration(fp32_model):
    batch = np.load(DEMO / "digits_eval.npz")["inputs"][:32].astype(np.float32)
    return onnx.load(str(fp32_model)).graph.input[0].name, batch


def test_static_int8_per_channel_keeps_the_logical_parameter_count(tmp_path, fp32_model, calibration):
    reference = inspect_artifact(fp32_model)
    out = tmp_path / "int8.onnx"
    quantize_static(
        str(fp32_model),
        str(out),
        _OneBatch(*calibration),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        reduce_range=True,
    )
    report = inspect_artifact(out)
    assert report.parameter_count == reference.parameter_count
    declared = {
        "method": "static_int8",
        "weight_bits": 8,
        "activation_bits": 8,
        "granularity": "per_channel",
        "symmetric": True,
        "activation_quantization": "static",
        "parameter_count": reference.parameter_count,
    }
    checks = verify(declared, report)
    assert {f: c.status for f, c in checks.items()} == {f: VERIFIED for f in declared}
    assert report.size_bytes * 3 < reference.size_bytes


def test_dynamic_int8_is_reported_as_dynamic_with_scales_not_counted(tmp_path, fp32_model):
    out = tmp_path / "dyn.onnx"
    quantize_dynamic(str(fp32_model), str(out), weight_type=QuantType.QInt8, per_channel=True)
    report = inspect_artifact(out)
    assert report.method == "linear_quantization"
    assert report.activation_quantization == "dynamic"
    assert report.weight_bits == 8 and report.symmetric is True
    assert report.parameter_count == inspect_artifact(fp32_model).parameter_count
    # onnxruntime keeps ConvInteger per tensor even when asked for per channel: the file says so
    assert report.granularity == "mixed"
    assert verify({"granularity": "per_channel"}, report)["granularity"].status == "contradicted"


def test_w4a8_qdq_weights_are_four_bit_per_channel(tmp_path, fp32_model, calibration):
    out = tmp_path / "w4a8.onnx"
    quantize_static(
        str(fp32_model),
        str(out),
        _OneBatch(*calibration),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        weight_type=QuantType.QInt4,
        activation_type=QuantType.QUInt8,
    )
    report = inspect_artifact(out)
    assert (report.weight_bits, report.activation_bits, report.granularity) == (4, 8, "per_channel")
