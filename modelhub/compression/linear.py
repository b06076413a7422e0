"""Linear (affine) INT8 quantisation with onnxruntime: static QDQ calibrated on one batch, and dynamic."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    create_calibrator,
    quantize_dynamic,
    quantize_static,
)
from onnxruntime.quantization.calibrate import save_tensors_data

from .artifact import METHOD_LINEAR, CompressedArtifact
from .errors import UnsupportedOptionError
from .evalset import EvalSet
from .graph import (
    float_parameter_count,
    load_model,
    save_with_metadata,
    weighted_layers,
)

CALIBRATIONS = {
    "minmax": CalibrationMethod.MinMax,
    "entropy": CalibrationMethod.Entropy,
    "percentile": CalibrationMethod.Percentile,
}


class _OneBatch(CalibrationDataReader):
    def __init__(self, feed: dict[str, np.ndarray]) -> None:
        self._items = iter([feed])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._items, None)


class _DropPreprocessHint(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _quiet() -> None:
    """quantize_* logs on every call (root logger) that the model was not pre-processed: expected here.

    Drop only that message, once, rather than changing the root level under a multi-threaded worker."""
    root = logging.getLogger()
    if not any(isinstance(f, _DropPreprocessHint) for f in root.filters):
        root.addFilter(_DropPreprocessHint())


def _per_layer(model_path: Path, quantised_path: Path) -> tuple[list[dict], str]:
    """Per weighted layer, the granularity the quantised file really has (onnxruntime's dynamic mode keeps
    Conv weights per tensor even when asked for per channel), and the overall value ("mixed" if they differ)."""
    quantised = load_model(quantised_path)
    scales = {t.name: int(np.prod(t.dims)) for t in quantised.graph.initializer if t.name.endswith("_scale")}
    rows = []
    for ly in weighted_layers(load_model(model_path)):
        size = next((n for name, n in scales.items() if name.startswith(ly.weight_name + "_")), None)
        rows.append(
            {
                "layer": ly.node_name,
                "op_type": ly.op_type,
                "weight": ly.weight_name,
                "parameters": ly.parameters,
                "weight_bits": 8 if size is not None else 32,
                "granularity": None if size is None else ("per_channel" if size > 1 else "per_tensor"),
            }
        )
    kinds = {row["granularity"] for row in rows if row["granularity"]}
    return rows, (kinds.pop() if len(kinds) == 1 else "mixed")


def static_int8(
    model_path: str | Path,
    eval_set: EvalSet,
    out_path: str | Path,
    *,
    calibration: str = "minmax",
    per_channel: bool = True,
    calibration_samples: int = 32,
    reduce_range: bool = True,
    num_bins: int = 2048,
    percentile: float = 99.999,
) -> CompressedArtifact:
    """QDQ INT8 weights and activations, ranges from ONE batch of `calibration_samples` (Settle et al.)."""
    if calibration not in CALIBRATIONS:
        raise UnsupportedOptionError(f"calibration must be one of {sorted(CALIBRATIONS)}, not {calibration!r}")
    model_path, out_path = Path(model_path), Path(out_path)
    _quiet()
    samples = min(calibration_samples, len(eval_set))
    feed = eval_set.batch(0, samples)
    method = CALIBRATIONS[calibration]
    options = {"num_bins": num_bins, "percentile": percentile}
    if calibration == "entropy":
        # quantize_static's own entropy calibrator keeps 128 bins = one candidate threshold (= MinMax).
        options["num_quantized_bins"] = 128
    with tempfile.TemporaryDirectory(prefix="calib.", dir=out_path.parent) as tmp:
        calibrator = create_calibrator(
            model_path,
            None,
            augmented_model_path=str(Path(tmp) / "augmented.onnx"),
            calibrate_method=method,
            extra_options=options,
        )
        calibrator.collect_data(_OneBatch(feed))
        cache = Path(tmp) / "ranges.json"
        save_tensors_data(calibrator.compute_data(), cache)
        del calibrator
        quantize_static(
            model_path,
            out_path,
            calibration_data_reader=None,
            calibration_cache_path=cache,
            quant_format=QuantFormat.QDQ,
            per_channel=per_channel,
            reduce_range=reduce_range,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=method,
        )
    per_layer, granularity = _per_layer(model_path, out_path)
    metadata = {
        "method": METHOD_LINEAR,
        "mode": "static",
        "format": "qdq",
        "weight_bits": 8,
        "activation_bits": 8,
        "granularity": granularity,
        "symmetric": True,
        "activation_symmetric": False,
        # reduce_range keeps weights in 7 bits of the int8 container: avoids saturation on non-VNNI CPUs.
        "reduce_range": reduce_range,
        "calibration": {"method": calibration, "samples": samples, "batches": 1},
        "parameter_count": float_parameter_count(load_model(model_path)),
        "per_layer": per_layer,
    }
    return CompressedArtifact(out_path, save_with_metadata(load_model(out_path), out_path, metadata))


def dynamic_int8(
    model_path: str | Path,
    eval_set: EvalSet,
    out_path: str | Path,
    *,
    per_channel: bool = False,
    reduce_range: bool = True,
) -> CompressedArtifact:
    """INT8 weights; activations quantised at run time per batch, so no calibration data is used.

    per_channel=True only changes MatMul/Gemm weights: onnxruntime keeps ConvInteger weights per tensor, so
    the metadata then says granularity "mixed" (per layer in `per_layer`)."""
    model_path, out_path = Path(model_path), Path(out_path)
    _quiet()
    quantize_dynamic(
        model_path, out_path, per_channel=per_channel, reduce_range=reduce_range, weight_type=QuantType.QInt8
    )
    per_layer, granularity = _per_layer(model_path, out_path)
    metadata = {
        "method": METHOD_LINEAR,
        "mode": "dynamic",
        "format": "integer_ops",
        "weight_bits": 8,
        "activation_bits": 8,
        "granularity": granularity,
        "symmetric": True,
        "activation_symmetric": False,
        "reduce_range": reduce_range,
        "calibration": None,
        "parameter_count": float_parameter_count(load_model(model_path)),
        "per_layer": per_layer,
    }
    return CompressedArtifact(out_path, save_with_metadata(load_model(out_path), out_path, metadata))
