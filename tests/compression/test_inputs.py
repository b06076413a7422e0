"""Broken models and mismatched evaluation sets fail with typed, readable errors and no output."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper

from modelhub.compression import (
    EvalSetMismatchError,
    InvalidModelError,
    MethodSpec,
    load_eval_set,
    load_model,
    run_compression,
)

SPECS = [MethodSpec("static_int8")]


def _run(model, npz, out):
    return run_compression(model, npz, SPECS, out, latency_repeats=2, sensitivity=False, histograms=False)


def _save_eval(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_garbage_model_file_fails_with_invalid_model_error_and_no_output(tmp_path, demo_eval_npz):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not a protobuf \x00\xff" * 10)
    out = tmp_path / "out"
    with pytest.raises(InvalidModelError, match="broken.onnx"):
        _run(broken, demo_eval_npz, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.onnx"]


def test_model_failing_the_checker_is_reported(tmp_path, demo_eval_npz):
    graph = helper.make_graph(
        [helper.make_node("Relu", ["missing"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])],
    )
    path = tmp_path / "dangling.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(InvalidModelError, match="ONNX checker"):
        load_model(path)


def test_model_with_external_data_is_refused(tmp_path, demo_model):
    model = onnx.load(str(demo_model))
    onnx.save(model, str(tmp_path / "ext.onnx"), save_as_external_data=True, size_threshold=0, location="w.bin")
    with pytest.raises(InvalidModelError, match="external data"):
        load_model(tmp_path / "ext.onnx")


def test_eval_set_with_wrong_dtype_names_expected_and_actual(tmp_path, demo_model, demo_eval):
    npz = _save_eval(tmp_path / "e.npz", inputs=demo_eval.inputs.astype(np.float64), labels=demo_eval.labels)
    out = tmp_path / "out"
    with pytest.raises(EvalSetMismatchError, match="expects dtype FLOAT.*float64"):
        _run(demo_model, npz, out)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["e.npz"]


def test_eval_set_with_wrong_shape_is_rejected(tmp_path, demo_model, demo_eval):
    npz = _save_eval(tmp_path / "e.npz", inputs=demo_eval.inputs.reshape(-1, 1, 4, 16), labels=demo_eval.labels)
    with pytest.raises(EvalSetMismatchError, match=r"expects shape \['batch', 1, 8, 8\]"):
        load_eval_set(npz, load_model(demo_model))


def test_eval_set_labels_outside_the_model_classes_are_rejected(tmp_path, demo_model, demo_eval):
    npz = _save_eval(tmp_path / "e.npz", inputs=demo_eval.inputs, labels=demo_eval.labels + 5)
    with pytest.raises(EvalSetMismatchError, match="10 classes"):
        load_eval_set(npz, load_model(demo_model))


def test_eval_set_without_labels_lists_the_keys_found(tmp_path, demo_model, demo_eval):
    npz = _save_eval(tmp_path / "e.npz", inputs=demo_eval.inputs)
    with pytest.raises(EvalSetMismatchError, match=r"found keys \['inputs'\]"):
        load_eval_set(npz, load_model(demo_model))


def test_eval_set_keyed_by_the_model_input_name_is_accepted(tmp_path, demo_model, demo_eval):
    npz = _save_eval(tmp_path / "e.npz", input=demo_eval.inputs, y=demo_eval.labels)
    loaded = load_eval_set(npz, load_model(demo_model))
    assert len(loaded) == len(demo_eval) and loaded.num_classes == 10


def test_unreadable_eval_file_is_a_mismatch_error(tmp_path, demo_model):
    bad = tmp_path / "e.npz"
    bad.write_text("nope")
    with pytest.raises(EvalSetMismatchError, match="not a readable .npz"):
        load_eval_set(bad, load_model(demo_model))
