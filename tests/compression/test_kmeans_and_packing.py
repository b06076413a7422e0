"""k-means weight sharing (packed indices + codebook), bit packing, and load-time decoding."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import numpy_helper

from modelhub.compression import UnsupportedOptionError, fold_constants, kmeans_weights, read_metadata
from modelhub.compression.kmeans import kmeans_1d
from modelhub.compression.measure import top_k_accuracy
from modelhub.compression.packing import pack_codes, unpack_codes

from .helpers import logits


@settings(max_examples=60, deadline=None)
@given(bits=st.integers(1, 8), count=st.integers(1, 300), seed=st.integers(0, 2**31 - 1))
def test_bit_packing_round_trips_every_width(bits, count, seed):
    codes = np.random.default_rng(seed).integers(0, 1 << bits, count)
    packed = pack_codes(codes, bits)
    assert packed.size == -(-count * bits // 8) + 1
    assert np.array_equal(unpack_codes(packed, bits, count), codes)


def test_four_bit_kmeans_is_five_times_smaller_and_within_three_points(tmp_path, demo_model, demo_eval):
    out = tmp_path / "k4.onnx"
    artifact = kmeans_weights(demo_model, demo_eval, out, bits=4)
    ratio = demo_model.stat().st_size / out.stat().st_size  # the packed file: codebooks included
    assert ratio >= 5.0
    reference = top_k_accuracy(logits(demo_model, demo_eval), demo_eval.labels, 1)
    assert top_k_accuracy(logits(out, demo_eval), demo_eval.labels, 1) >= reference - 0.03
    assert artifact.runtime_path is not None and artifact.runtime_path.exists()


def test_kmeans_metadata_codebook_size_matches_the_codebooks_in_the_file(tmp_path, demo_model, demo_eval):
    out = tmp_path / "k3.onnx"
    kmeans_weights(demo_model, demo_eval, out, bits=3)
    meta = read_metadata(out)
    codebooks = [t for t in onnx.load(str(out)).graph.initializer if t.name.endswith("codebook")]
    assert meta["method"] == "kmeans" and meta["weight_bits"] == 3 and meta["codebook_size"] == 8
    assert len(codebooks) == len(meta["per_layer"]) == 4
    assert all(numpy_helper.to_array(c).size == 8 for c in codebooks)
    assert meta["parameter_count"] == 59202  # logical parameters, not bytes of packed indices


def test_packed_and_decoded_kmeans_models_compute_the_same_logits(tmp_path, demo_model, demo_eval):
    artifact = kmeans_weights(demo_model, demo_eval, tmp_path / "k5.onnx", bits=5)
    packed, decoded = logits(artifact.path, demo_eval), logits(artifact.runtime_path, demo_eval)
    np.testing.assert_allclose(packed, decoded, rtol=1e-5, atol=1e-5)
    ops = {n.op_type for n in onnx.load(str(artifact.runtime_path)).graph.node}
    assert "Range" not in ops and "Gather" not in ops


def test_fold_constants_leaves_a_plain_model_unchanged(demo_model):
    model = onnx.load(str(demo_model))
    assert fold_constants(model) is model


def test_kmeans_1d_recovers_well_separated_clusters():
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(c, 0.01, 200) for c in (-1.0, 0.0, 2.0)])
    np.testing.assert_allclose(kmeans_1d(values, 3), [-1.0, 0.0, 2.0], atol=0.01)


def test_kmeans_rejects_widths_outside_two_to_eight_bits(tmp_path, demo_model, demo_eval):
    with pytest.raises(UnsupportedOptionError, match="2 to 8 bits"):
        kmeans_weights(demo_model, demo_eval, tmp_path / "k.onnx", bits=9)
