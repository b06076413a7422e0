"""Builders for small model files in every format the inspector reads (no torch, no downloads)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

RNG_SEED = 1234
DATA = Path(__file__).parent / "data"


def save_model(nodes, inits, path: Path, *, opset: int = 17, ms: bool = False, in_shape=(1, 16), out="y"):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        initializer=inits,
    )
    opsets = [helper.make_opsetid("", opset)] + ([helper.make_opsetid("com.microsoft", 1)] if ms else [])
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 10 if opset >= 21 else 8
    onnx.save(model, str(path))
    return path


def t(name, array, dtype=None):
    array = np.asarray(array)
    if dtype is None:
        return numpy_helper.from_array(array, name)
    return helper.make_tensor(name, dtype, list(array.shape), array.reshape(-1).tolist())


def mlp_fp32(path: Path, w1: np.ndarray, w2: np.ndarray) -> Path:
    """x[1,16] @ w1[16,32] + b1 -> Relu -> @ w2[32,10]."""
    b1 = np.linspace(-0.1, 0.1, w1.shape[1]).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
        helper.make_node("Add", ["h", "b1"], ["hb"], name="fc1_bias"),
        helper.make_node("Relu", ["hb"], ["r"], name="relu"),
        helper.make_node("MatMul", ["r", "w2"], ["y"], name="fc2"),
    ]
    return save_model(nodes, [t("w1", w1), t("b1", b1), t("w2", w2)], path)


def qdq_matmul(
    path: Path,
    w_q: np.ndarray,
    scale: np.ndarray,
    zp: np.ndarray | None,
    *,
    w_type=TensorProto.INT8,
    axis: int = 1,
    block_size: int = 0,
    opset: int = 17,
    domain: str = "",
    act_type=TensorProto.UINT8,
    act_zp: int = 131,
) -> Path:
    """Static QDQ: Q/DQ on the activation, DQ on a stored quantised weight, then MatMul."""
    act_np = np.uint8 if act_type == TensorProto.UINT8 else np.int8
    inits = [
        t("x_scale", np.float32(0.02)),
        t("x_zp", np.array(act_zp, dtype=act_np)),
        t("w_q", w_q, w_type),
        t("w_scale", scale.astype(np.float32)),
    ]
    dq_w_inputs = ["w_q", "w_scale"]
    if zp is not None:
        inits.append(t("w_zp", zp, w_type))
        dq_w_inputs.append("w_zp")
    attrs = {"axis": axis}
    if block_size:
        attrs["block_size"] = block_size
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zp"], ["xq"], name="q_x", domain=domain),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zp"], ["xd"], name="dq_x", domain=domain),
        helper.make_node("DequantizeLinear", dq_w_inputs, ["w"], name="dq_w", domain=domain, **attrs),
        helper.make_node("MatMul", ["xd", "w"], ["y"], name="fc"),
    ]
    return save_model(nodes, inits, path, opset=opset, ms=domain == "com.microsoft")


def qlinear_conv(path: Path, w_q: np.ndarray, w_scale: np.ndarray, bias: np.ndarray) -> Path:
    inits = [
        t("x_scale", np.float32(0.02)),
        t("x_zp", np.uint8(128)),
        t("w_q", w_q.astype(np.int8)),
        t("w_scale", w_scale.astype(np.float32)),
        t("w_zp", np.zeros(w_q.shape[0], np.int8)),
        t("y_scale", np.float32(0.05)),
        t("y_zp", np.uint8(128)),
        t("bias", bias.astype(np.int32)),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zp"], ["xq"], name="q_x"),
        helper.make_node(
            "QLinearConv",
            ["xq", "x_scale", "x_zp", "w_q", "w_scale", "w_zp", "y_scale", "y_zp", "bias"],
            ["yq"],
            name="conv",
            pads=[1, 1, 1, 1],
        ),
        helper.make_node("DequantizeLinear", ["yq", "y_scale", "y_zp"], ["y"], name="dq_y"),
    ]
    return save_model(nodes, inits, path, in_shape=(1, w_q.shape[1], 8, 8))


def matmul_nbits(path: Path, k: int, n: int, block: int, rng: np.random.Generator) -> Path:
    """com.microsoft MatMulNBits, 4-bit, no zero points (symmetric around 8)."""
    blocks = k // block
    nibbles = rng.integers(0, 16, size=(n, blocks, block), dtype=np.uint8)
    packed = (nibbles[..., 0::2] | (nibbles[..., 1::2] << 4)).astype(np.uint8)
    scales = rng.uniform(0.01, 0.1, size=n * blocks).astype(np.float32)
    node = helper.make_node(
        "MatMulNBits",
        ["x", "b_packed", "scales"],
        ["y"],
        name="fc_nbits",
        domain="com.microsoft",
        K=k,
        N=n,
        bits=4,
        block_size=block,
    )
    return save_model([node], [t("b_packed", packed), t("scales", scales)], path, ms=True, in_shape=(1, k))


def kmeans_gather(path: Path, codebook: np.ndarray, indices: np.ndarray, idx_type=TensorProto.UINT4) -> Path:
    """k-means weight sharing stored as a codebook plus packed indices, decoded by Gather before MatMul."""
    inits = [t("codebook", codebook.astype(np.float32)), t("w_idx", indices, idx_type)]
    nodes = [
        helper.make_node("Gather", ["codebook", "w_idx"], ["w"], name="decode_w"),
        helper.make_node("MatMul", ["x", "w"], ["y"], name="fc"),
    ]
    return save_model(nodes, inits, path, opset=21, in_shape=(1, indices.shape[0]))


def packed_decoder(path: Path, codes: np.ndarray, *, codebook=None, scale=None, range_limit=None) -> Path:
    """Weights stored as 4-bit codes packed two per byte, unpacked by Range/Div/Mod/Gather at load time,
    then looked up in a codebook (k-means) or scaled (fixed point). `range_limit` overrides the count."""
    flat = codes.reshape(-1).astype(np.uint8)
    packed = (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8)
    count = flat.size if range_limit is None else range_limit
    i64 = lambda v: np.array(v, np.int64)  # noqa: E731
    inits = [
        t("packed", packed),
        t("zero", i64(0)),
        t("one", i64(1)),
        t("two", i64(2)),
        t("count", i64(count)),
        t("sixteen", i64(16)),
        t("pow16", np.array([1, 16], np.int64)),
        t("shape", i64(codes.shape)),
    ]
    n = helper.make_node
    nodes = [
        n("Range", ["zero", "count", "one"], ["pos"]),
        n("Div", ["pos", "two"], ["byte_idx"]),
        n("Mod", ["pos", "two"], ["half"]),
        n("Gather", ["packed", "byte_idx"], ["byte"]),
        n("Cast", ["byte"], ["byte64"], to=TensorProto.INT64),
        n("Gather", ["pow16", "half"], ["div"]),
        n("Div", ["byte64", "div"], ["shifted"]),
        n("Mod", ["shifted", "sixteen"], ["code"]),
    ]
    if codebook is not None:
        inits.append(t("codebook", codebook.astype(np.float32)))
        nodes.append(n("Gather", ["codebook", "code"], ["flat"]))
    else:
        inits += [t("eight", np.float32(8)), t("scale", np.float32(scale))]
        nodes += [
            n("Cast", ["code"], ["code_f"], to=TensorProto.FLOAT),
            n("Sub", ["code_f", "eight"], ["centred"]),
            n("Mul", ["centred", "scale"], ["flat"]),
        ]
    nodes += [n("Reshape", ["flat", "shape"], ["w"]), n("MatMul", ["x", "w"], ["y"], name="fc")]
    return save_model(nodes, inits, path, in_shape=(1, codes.shape[0]))


def with_external(path: Path, location: str) -> Path:
    """A model whose weight claims to live in an external file at `location`."""
    tensor = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[16, 4])
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "256")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[tensor],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


def sparse_safetensors(path: Path, n_bytes: int) -> Path:
    """A safetensors file of `n_bytes` of F32 data made as a sparse file: nothing is written but the header."""
    n = n_bytes // 4
    header = {
        "__metadata__": {"format": "pt"},
        "big.weight": {"dtype": "F32", "shape": [n // 1024, 1024], "data_offsets": [0, n * 4]},
    }
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", len(raw)) + raw)
        fh.truncate(8 + len(raw) + n * 4)
    return path


def _fb_vector(b, values, kind: str):
    size, prepend = {
        "i32": (4, b.PrependInt32),
        "f32": (4, b.PrependFloat32),
        "i64": (8, b.PrependInt64),
        "off": (4, b.PrependUOffsetTRelative),
    }[kind]
    b.StartVector(size, len(values), size)
    for v in reversed(values):
        prepend(v)
    return b.EndVector()


def tflite_model(path: Path, tensors: list[dict], op_code: int, op_inputs: list[int], op_outputs: list[int]) -> Path:
    """A one-operator TFLite flatbuffer following schema.fbs (tensors: name, shape, type, data, scale, zp, axis)."""
    import flatbuffers

    b = flatbuffers.Builder(1024)
    buffers = []
    for data in [None] + [spec.get("data") for spec in tensors]:
        if data is not None:
            vec = b.CreateByteVector(np.ascontiguousarray(data).tobytes())
            b.StartObject(3)
            b.PrependUOffsetTRelativeSlot(0, vec, 0)
        else:
            b.StartObject(3)
        buffers.append(b.EndObject())
    tensor_offsets = []
    for i, spec in enumerate(tensors):
        name = b.CreateString(spec["name"])
        shape = _fb_vector(b, spec["shape"], "i32")
        quant = None
        if spec.get("scale") is not None:
            scale = _fb_vector(b, list(spec["scale"]), "f32")
            zp = _fb_vector(b, list(spec["zp"]), "i64")
            b.StartObject(7)
            b.PrependUOffsetTRelativeSlot(2, scale, 0)
            b.PrependUOffsetTRelativeSlot(3, zp, 0)
            b.PrependInt32Slot(6, spec.get("axis", 0), 0)
            quant = b.EndObject()
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        b.PrependInt8Slot(1, spec["type"], 0)
        b.PrependUint32Slot(2, i + 1 if spec.get("data") is not None else 0, 0)
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        if quant is not None:
            b.PrependUOffsetTRelativeSlot(4, quant, 0)
        tensor_offsets.append(b.EndObject())
    ins, outs = _fb_vector(b, op_inputs, "i32"), _fb_vector(b, op_outputs, "i32")
    b.StartObject(3)
    b.PrependUint32Slot(0, 0, 0)
    b.PrependUOffsetTRelativeSlot(1, ins, 0)
    b.PrependUOffsetTRelativeSlot(2, outs, 0)
    op = b.EndObject()
    b.StartObject(4)
    b.PrependInt8Slot(0, op_code, 0)
    b.PrependInt32Slot(3, op_code, 0)
    code = b.EndObject()
    tensors_vec = _fb_vector(b, tensor_offsets, "off")
    ops_vec = _fb_vector(b, [op], "off")
    sg_in, sg_out = _fb_vector(b, [op_inputs[0]], "i32"), _fb_vector(b, op_outputs, "i32")
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, tensors_vec, 0)
    b.PrependUOffsetTRelativeSlot(1, sg_in, 0)
    b.PrependUOffsetTRelativeSlot(2, sg_out, 0)
    b.PrependUOffsetTRelativeSlot(3, ops_vec, 0)
    subgraph = b.EndObject()
    codes_vec = _fb_vector(b, [code], "off")
    subgraphs_vec = _fb_vector(b, [subgraph], "off")
    buffers_vec = _fb_vector(b, buffers, "off")
    desc = b.CreateString("built by the inspector tests")
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(1, codes_vec, 0)
    b.PrependUOffsetTRelativeSlot(2, subgraphs_vec, 0)
    b.PrependUOffsetTRelativeSlot(3, desc, 0)
    b.PrependUOffsetTRelativeSlot(4, buffers_vec, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    path.write_bytes(bytes(b.Output()))
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


@pytest.fixture
def build() -> SimpleNamespace:
    """The builders above, as a fixture so that tests need no import path set-up."""
    return SimpleNamespace(
        save_model=save_model,
        t=t,
        mlp_fp32=mlp_fp32,
        qdq_matmul=qdq_matmul,
        qlinear_conv=qlinear_conv,
        matmul_nbits=matmul_nbits,
        kmeans_gather=kmeans_gather,
        with_external=with_external,
        packed_decoder=packed_decoder,
        sparse_safetensors=sparse_safetensors,
        tflite_model=tflite_model,
        data=DATA,
    )
