"""Bit-packed b-bit weight codes (2..8 bits) with an ONNX decode subgraph, and load-time decoding.

A packed weight is a uint8 initializer plus a few scalars; standard ops (Range, Div, Mod, Gather) unpack it
into indices, then a codebook Gather (k-means) or a scale (fixed point) gives the float weight. The packed
file is for download and size; `fold_constants` decodes it once into plain initializers for fast inference.
"""

from __future__ import annotations

import zlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

from .errors import UnsupportedOptionError
from .graph import opset_version

MIN_BITS, MAX_BITS = 1, 8
MIN_OPSET = 13  # Range (11) and Reshape/Gather/Div/Mod semantics as used here are stable from opset 13


def require_opset(model: onnx.ModelProto, what: str) -> None:
    """Packed formats add standard ops to the graph: refuse models whose default opset predates them."""
    version = opset_version(model)
    if version < MIN_OPSET:
        raise UnsupportedOptionError(f"{what} needs ONNX opset >= {MIN_OPSET}; the model uses opset {version}")


def pack_codes(codes: np.ndarray, bits: int) -> np.ndarray:
    """Little-endian bit packing of unsigned `bits`-bit codes, plus one pad byte so decoding may read k+1."""
    if not MIN_BITS <= bits <= MAX_BITS:
        raise ValueError(f"bits must be in {MIN_BITS}..{MAX_BITS}")
    flat = codes.reshape(-1).astype(np.uint16)
    if flat.size and int(flat.max()) >= 1 << bits:
        raise ValueError(f"code {int(flat.max())} does not fit in {bits} bits")
    bit_matrix = ((flat[:, None] >> np.arange(bits, dtype=np.uint16)) & 1).astype(np.uint8)
    packed = np.packbits(bit_matrix.reshape(-1), bitorder="little")
    return np.concatenate([packed, np.zeros(1, np.uint8)])


def unpack_codes(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    """Inverse of `pack_codes` in numpy (used by tests and for reading packed files without onnxruntime)."""
    bit_arr = np.unpackbits(packed, bitorder="little")[: count * bits].reshape(count, bits)
    return (bit_arr.astype(np.int64) << np.arange(bits)).sum(axis=1)


def decode_subgraph(
    weight_name: str,
    codes: np.ndarray,
    bits: int,
    shape: tuple[int, ...],
    *,
    codebook: np.ndarray | None = None,
    scale: float | None = None,
    offset: float = 0.0,
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """Nodes and initializers that compute `weight_name` (float32, `shape`) from packed codes.

    Exactly one of `codebook` (weight = codebook[code]) or `scale` (weight = code * scale + offset) is given.
    """
    # Short tensor names: with ~20 nodes per weight, long names would cost kilobytes in a small model.
    p = f"pk{zlib.crc32(weight_name.encode()):08x}_"
    c = "pk_"  # constants shared by every decode subgraph (deduplicated by replace_with_packed)
    count = int(np.prod(shape))
    inits = [
        numpy_helper.from_array(pack_codes(codes, bits), p + "packed"),
        numpy_helper.from_array(np.array(count, np.int64), p + "count"),
        numpy_helper.from_array(np.array(bits, np.int64), p + "bits"),
        numpy_helper.from_array(np.array(1 << bits, np.int64), p + "levels"),
        numpy_helper.from_array(np.array(shape, np.int64), p + "shape"),
        numpy_helper.from_array(np.array(0, np.int64), c + "zero"),
        numpy_helper.from_array(np.array(1, np.int64), c + "one"),
        numpy_helper.from_array(np.array(8, np.int64), c + "eight"),
        numpy_helper.from_array(np.array(256, np.int64), c + "byte"),
        numpy_helper.from_array(np.array([1 << i for i in range(8)], np.int64), c + "pow2"),
    ]
    n = helper.make_node
    nodes = [
        n("Range", [c + "zero", p + "count", c + "one"], [p + "pos"]),
        n("Mul", [p + "pos", p + "bits"], [p + "bitoff"]),
        n("Div", [p + "bitoff", c + "eight"], [p + "lo_idx"]),
        n("Mod", [p + "bitoff", c + "eight"], [p + "shift"]),
        n("Add", [p + "lo_idx", c + "one"], [p + "hi_idx"]),
        n("Gather", [p + "packed", p + "lo_idx"], [p + "lo8"]),
        n("Gather", [p + "packed", p + "hi_idx"], [p + "hi8"]),
        n("Cast", [p + "lo8"], [p + "lo"], to=onnx.TensorProto.INT64),
        n("Cast", [p + "hi8"], [p + "hi"], to=onnx.TensorProto.INT64),
        n("Mul", [p + "hi", c + "byte"], [p + "hi_sh"]),
        n("Add", [p + "lo", p + "hi_sh"], [p + "word"]),
        n("Gather", [c + "pow2", p + "shift"], [p + "div"]),
        n("Div", [p + "word", p + "div"], [p + "shifted"]),
        n("Mod", [p + "shifted", p + "levels"], [p + "code"]),
    ]
    if codebook is not None:
        inits.append(numpy_helper.from_array(codebook.astype(np.float32), p + "codebook"))
        nodes.append(n("Gather", [p + "codebook", p + "code"], [p + "flat"]))
    else:
        inits += [
            numpy_helper.from_array(np.array(scale, np.float32), p + "scale"),
            numpy_helper.from_array(np.array(offset, np.float32), p + "offset"),
        ]
        nodes += [
            n("Cast", [p + "code"], [p + "code_f"], to=onnx.TensorProto.FLOAT),
            n("Mul", [p + "code_f", p + "scale"], [p + "scaled"]),
            n("Add", [p + "scaled", p + "offset"], [p + "flat"]),
        ]
    nodes.append(n("Reshape", [p + "flat", p + "shape"], [weight_name]))
    return nodes, inits


def replace_with_packed(
    model: onnx.ModelProto, weight_name: str, nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto]
) -> None:
    """Swap the float initializer `weight_name` for the decode subgraph (placed first: nodes stay sorted)."""
    kept = [t for t in model.graph.initializer if t.name != weight_name]
    names = {t.name for t in kept}
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept + [t for t in inits if t.name not in names])
    old = list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes + old)


def fold_constants(model: onnx.ModelProto) -> onnx.ModelProto:
    """Evaluate every node fed only by initializers (the decode subgraphs) once and store the results."""
    known = {t.name for t in model.graph.initializer}
    constant_nodes = []
    for node in model.graph.node:
        if node.input and all(i in known for i in node.input if i):
            constant_nodes.append(node)
            known.update(node.output)
    if not constant_nodes:
        return model
    produced = {o for nd in constant_nodes for o in nd.output}
    rest = [nd for nd in model.graph.node if nd not in constant_nodes]
    needed = [i for nd in rest for i in nd.input if i in produced]
    needed += [o.name for o in model.graph.output if o.name in produced]
    needed = list(dict.fromkeys(needed))
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {vi.name: vi.type.tensor_type.elem_type for vi in inferred.graph.value_info}
    probe = helper.make_model(
        helper.make_graph(
            constant_nodes,
            "fold",
            [],
            [helper.make_tensor_value_info(n, types.get(n) or onnx.TensorProto.FLOAT, None) for n in needed],
            initializer=list(model.graph.initializer),
        ),
        opset_imports=model.opset_import,
        ir_version=model.ir_version,
    )
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    values = ort.InferenceSession(probe.SerializeToString(), opts, providers=["CPUExecutionProvider"]).run(needed, {})
    used = {i for nd in rest for i in nd.input}
    folded = onnx.ModelProto()
    folded.CopyFrom(model)
    del folded.graph.node[:]
    folded.graph.node.extend(rest)
    inits = [t for t in model.graph.initializer if t.name in used]
    inits += [numpy_helper.from_array(v, name) for name, v in zip(needed, values, strict=True)]
    del folded.graph.initializer[:]
    folded.graph.initializer.extend(inits)
    return folded
