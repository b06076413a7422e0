"""ONNX inspection: quantisation nodes, scales and zero points, initialiser dtypes, sparsity, weight sharing.

External data is never loaded (CVE-2024-27318): references are reported as findings.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from .errors import CorruptArtifact
from .onnx_fold import NotFoldable, constant_derived, fold
from .onnx_graph import (
    FLOAT_TYPES,
    Graph,
    dtype_bits,
    dtype_name,
    input_at,
    is_external,
    is_unsigned,
    node_attr,
    stored_bytes,
    tensor_numel,
)
from .report import ArtifactReport, LayerReport
from .stats import classify_float_values, distinct_values, pruning_structure, summarise, zero_fraction

_MS = "com.microsoft"
_PROTOBUF_LIMIT = 2**31  # larger models must keep weights in external data
_QUANT_DOMAINS = {"", "ai.onnx", _MS}
# Which input positions of a quantised op hold (weight, scale, zero point); the rest are activations.
_QLINEAR_WEIGHTS = {
    "QLinearConv": [(3, 4, 5)],
    "QLinearMatMul": [(0, 1, 2), (3, 4, 5)],
    "QGemm": [(0, 1, 2), (3, 4, 5)],
}
_QLINEAR_AUX_SLOTS = {"QGemm": {1, 2, 4, 5, 7, 8}}  # scales and zero points; default below
_DEFAULT_AUX_SLOTS = {1, 2, 4, 5, 6, 7}
_INT_BIAS_SLOT = {"QLinearConv": 8, "QGemm": 6}
_INTEGER_OPS = {"MatMulInteger": (1, 3, 0, 2), "ConvInteger": (1, 3, 0, 2)}  # weight, w_zp, act, act_zp
_WEIGHT_SLOTS = {  # float ops: input positions that hold weights (rest of their initialisers are biases)
    "Conv": {1},
    "ConvTranspose": {1},
    "Gemm": {0, 1},
    "MatMul": {0, 1},
    "LSTM": {1, 2},
    "GRU": {1, 2},
    "RNN": {1, 2},
    "Gather": {0},
    "Einsum": {0, 1, 2},
}


@dataclass
class _Quant:
    """A weight quantisation found in the graph (by a DQ/Q node or a quantised op's weight slot)."""

    weight: str
    scale: str | None
    zero_point: str | None
    axis: int
    block_size: int
    node: onnx.NodeProto
    elem_type: int | None = None  # quantised dtype when the weight is stored as float (Q of a float)


class OnnxInspector:
    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        if size >= _PROTOBUF_LIMIT:
            # protobuf cannot parse it, and onnx.load would read it all first: refuse before reading
            raise CorruptArtifact(f"{path.name}: {size} bytes is over the 2 GiB ONNX protobuf limit")
        try:
            self.model = onnx.load(str(path), load_external_data=False)
        except Exception as exc:  # protobuf raises DecodeError, RuntimeError, ... depending on the damage
            raise CorruptArtifact(f"{path.name}: not a readable ONNX model ({exc.__class__.__name__}: {exc})") from exc
        if not self.model.HasField("graph") or not (self.model.graph.node or self.model.graph.initializer):
            raise CorruptArtifact(f"{path.name}: parses as protobuf but holds no ONNX graph")
        _check_strings(self.model, path.name)
        self.g = Graph(self.model)
        self.report = ArtifactReport(format="onnx", size_bytes=size)
        self._arrays: dict[str, np.ndarray | None] = {}
        self.non_params: set[str] = set()
        self.act_bits: Counter[int] = Counter()
        self.act_symmetric: set[bool] = set()
        self.dynamic = False
        self.static = False

    # ---- values -------------------------------------------------------------------------------------
    def array(self, name: str | None) -> np.ndarray | None:
        """The tensor's values, or None if it is not a constant or lives in (unfollowed) external data."""
        if name is None or name not in self.g.tensors:
            return None
        if name not in self._arrays:
            t = self.g.tensors[name]
            if is_external(t):
                self._arrays[name] = None
            else:
                try:
                    arr = numpy_helper.to_array(t)
                except Exception as exc:
                    raise CorruptArtifact(f"{self.path.name}: tensor {name!r} cannot be decoded ({exc})") from exc
                if arr.dtype.kind not in "biuf":  # ml_dtypes int4/float8: widen to plain numpy
                    arr = arr.astype(np.float32 if "float" in str(arr.dtype) else np.int16)
                self._arrays[name] = arr
        return self._arrays[name]

    def elem_type(self, name: str | None) -> int | None:
        return self.g.tensors[name].data_type if name in self.g.tensors else None

    # ---- main ---------------------------------------------------------------------------------------
    def run(self) -> ArtifactReport:
        r = self.report
        m = self.model
        r.metadata = {
            "ir_version": m.ir_version,
            "opset": {(o.domain or "ai.onnx"): o.version for o in m.opset_import},
            "producer": f"{m.producer_name} {m.producer_version}".strip(),
            "metadata_props": {p.key: p.value for p in m.metadata_props},
            "op_types": dict(Counter(f"{n.domain + '.' if n.domain else ''}{n.op_type}" for n in self.g.nodes)),
        }
        self._check_external()
        quants, kmeans = self._collect()
        rows: list[LayerReport] = []
        done: set[str] = set()
        for q in quants:
            if q.weight in done:
                continue
            done.add(q.weight)
            rows.append(self._quant_row(q))
        for gather, data, indices in kmeans:
            done.update({data, indices})
            rows.append(self._kmeans_row(gather, data, indices))
        rows.extend(self._decoded_rows(done))
        for name, t in self.g.tensors.items():
            if name in done or name in self.non_params:
                continue
            row = self._plain_row(name, t)
            if row:
                rows.append(row)
        for sp in self.g.sparse:
            rows.append(self._sparse_row(sp))
        r.layers = rows
        by_dtype: Counter[str] = Counter()
        for t in self.g.tensors.values():
            by_dtype[dtype_name(t.data_type)] += stored_bytes(t)
        r.bytes_by_dtype = dict(by_dtype)
        if self.act_bits:
            r.activation_bits = self.act_bits.most_common(1)[0][0]
            if len(self.act_bits) > 1:
                r.warnings.append(f"mixed activation bit widths {sorted(self.act_bits)}")
        else:
            r.activation_bits = self._float_input_bits()
        r.activation_quantization = "dynamic" if self.dynamic else "static" if self.static else None
        if len(self.act_symmetric) == 1:
            r.activation_symmetric = next(iter(self.act_symmetric))
        summarise(r)
        self._checker()
        return r

    def _check_external(self) -> None:
        for t in self.g.tensors.values():
            if not is_external(t):
                continue
            location = next((e.value for e in t.external_data if e.key == "location"), "")
            hostile = location.startswith(("/", "\\")) or ".." in Path(location).parts or ":" in location
            msg = f"tensor {t.name!r} references external data {location!r}: not followed, values unverifiable"
            self.report.findings.append(msg)
            if hostile:
                self.report.warnings.append(f"external data path {location!r} points outside the upload")
            self.report.unverifiable.append(t.name)

    def _checker(self) -> None:
        if self.report.unverifiable:
            return  # the checker resolves external-data paths; never let it touch them
        try:
            onnx.checker.check_model(self.model)
        except Exception as exc:  # findings, not failures: custom domains and odd exporters trip it
            self.report.warnings.append(f"onnx.checker: {str(exc).splitlines()[0][:300]}")

    def _float_input_bits(self) -> int | None:
        for value in self.model.graph.input:
            if value.name in self.g.tensors:
                continue
            elem = value.type.tensor_type.elem_type
            if elem in FLOAT_TYPES:
                return dtype_bits(elem)
        return None

    # ---- graph patterns -----------------------------------------------------------------------------
    def _collect(self) -> tuple[list[_Quant], list[tuple[onnx.NodeProto, str, str]]]:
        quants: list[_Quant] = []
        kmeans: list[tuple[onnx.NodeProto, str, str]] = []
        const = self.g.tensors
        for node in self.g.nodes:
            op, dom = node.op_type, node.domain
            if dom not in _QUANT_DOMAINS:
                continue
            if op in ("DequantizeLinear", "QuantizeLinear"):
                x, scale, zp = input_at(node, 0), input_at(node, 1), input_at(node, 2)
                self.non_params.update(n for n in (scale, zp) if n)
                axis, block = int(node_attr(node, "axis", 1)), int(node_attr(node, "block_size", 0))
                if x in const and op == "DequantizeLinear":
                    quants.append(_Quant(x, scale, zp, axis, block, node))
                elif x in const:  # Q of a float weight: stored float, quantised when run
                    elem = self.elem_type(zp) or int(node_attr(node, "output_dtype", 0)) or TensorProto.UINT8
                    quants.append(_Quant(x, scale, zp, axis, block, node, elem_type=elem))
                elif op == "QuantizeLinear":
                    self.static = True
                    elem = self.elem_type(zp) or int(node_attr(node, "output_dtype", 0)) or TensorProto.UINT8
                    self._activation(elem, zp)
            elif op in _QLINEAR_WEIGHTS or (op.startswith("QLinear") and dom in ("", _MS)):
                self.static = True
                aux = _QLINEAR_AUX_SLOTS.get(op, _DEFAULT_AUX_SLOTS)
                self.non_params.update(n for i, n in enumerate(node.input) if n and i in aux)
                weight_slots = _QLINEAR_WEIGHTS.get(op, [])
                for w, s, z in weight_slots:
                    name = input_at(node, w)
                    if name in const:
                        axis = 0 if op == "QLinearConv" else -1
                        quants.append(_Quant(name, input_at(node, s), input_at(node, z), axis, 0, node))
                    elif name:
                        zp = input_at(node, z)
                        self._activation(self.elem_type(zp) or TensorProto.UINT8, zp)
                if not weight_slots:
                    zp = input_at(node, 2)
                    self._activation(self.elem_type(zp) or TensorProto.UINT8, zp)
            elif op in _INTEGER_OPS:
                w, wz, a, az = _INTEGER_OPS[op]
                self.non_params.update(n for n in (input_at(node, wz), input_at(node, az)) if n)
                scale = self._integer_op_scale(node)
                for wi, zi in ((w, wz), (a, az)):
                    name = input_at(node, wi)
                    if name in const:
                        axis = 0 if op == "ConvInteger" else -1
                        quants.append(_Quant(name, scale, input_at(node, zi), axis, 0, node))
                    elif name:
                        producer = self.g.producer.get(name)
                        if producer is not None and producer.op_type == "DynamicQuantizeLinear":
                            self.dynamic = True
                            self._activation(TensorProto.UINT8, None, symmetric=False)
                        else:
                            zp = input_at(node, zi)
                            self._activation(self.elem_type(zp) or TensorProto.UINT8, zp)
            elif op == "DynamicQuantizeLinear":
                self.dynamic = True
                self._activation(TensorProto.UINT8, None, symmetric=False)
            elif op == "DynamicQuantizeMatMul" and dom == _MS:
                self.dynamic = True
                self._activation(TensorProto.INT8, None, symmetric=False)
                b, bs, bz = input_at(node, 1), input_at(node, 2), input_at(node, 3)
                self.non_params.update(n for n in (bs, bz) if n)
                if b in const:
                    quants.append(_Quant(b, bs, bz, -1, 0, node))
            elif op == "MatMulNBits" and dom == _MS:
                self.non_params.update(n for n in node.input[2:5] if n)
                b = input_at(node, 1)
                if b in const:
                    quants.append(
                        _Quant(b, input_at(node, 2), input_at(node, 3), 0, int(node_attr(node, "block_size", 0)), node)
                    )
            elif op == "Gather" and dom in ("", "ai.onnx"):
                data, idx = input_at(node, 0), input_at(node, 1)
                if data in const and idx in const:
                    t_data, t_idx = const[data], const[idx]
                    if t_data.data_type in FLOAT_TYPES and tensor_numel(t_data) < tensor_numel(t_idx):
                        kmeans.append((node, data, idx))
        return quants, kmeans

    def _integer_op_scale(self, node: onnx.NodeProto) -> str | None:
        """The weight scale of a MatMulInteger/ConvInteger: its output is Cast, then multiplied by
        (activation scale x weight scale), the way onnxruntime's dynamic quantiser writes it."""
        nxt = self._consumer(node.output[0])
        if nxt is not None and nxt.op_type == "Cast":
            nxt = self._consumer(nxt.output[0])
        if nxt is None or nxt.op_type != "Mul":
            return None
        for name in nxt.input:
            combined = self.g.producer.get(name)
            if combined is not None and combined.op_type == "Mul":
                for candidate in combined.input:
                    if candidate in self.g.tensors:
                        self.non_params.add(candidate)
                        return candidate
        return None

    def _activation(self, elem: int, zp: str | None, symmetric: bool | None = None) -> None:
        self.act_bits[dtype_bits(elem)] += 1
        if symmetric is None:
            symmetric = self._symmetric(elem, self.array(zp) if zp else None, zp is not None)
            if zp is not None and self.array(zp) is None:
                symmetric = None
        if symmetric is not None:
            self.act_symmetric.add(symmetric)

    @staticmethod
    def _symmetric(elem: int, zp: np.ndarray | None, has_zp: bool) -> bool:
        # Convention (documented): a signed type is symmetric when every zero point is 0; an unsigned one
        # when every zero point is the midpoint 2^(bits-1) (128 for uint8, 8 for uint4). A missing zero
        # point is 0, which for an unsigned type is a one-sided, asymmetric range.
        bits = dtype_bits(elem)
        centre = 2 ** (bits - 1) if is_unsigned(elem) else 0
        if zp is None:
            return not is_unsigned(elem) if not has_zp else False
        return bool(np.all(zp.astype(np.int64) == centre))

    # ---- rows ---------------------------------------------------------------------------------------
    def _consumer(self, name: str) -> onnx.NodeProto | None:
        uses = self.g.consumers.get(name, [])
        return uses[0][0] if uses else None

    def _layer_for(self, q: _Quant) -> tuple[str, str, str]:
        """(layer name, op type, role) of the compute node that uses this quantised weight."""
        node = q.node
        slot = 1
        if node.op_type in ("DequantizeLinear", "QuantizeLinear"):
            out = node.output[0]
            nxt = self._consumer(out)
            if nxt is not None and nxt.op_type == "DequantizeLinear":  # Q -> DQ pair on a float weight
                out, nxt = nxt.output[0], self._consumer(nxt.output[0])
            if nxt is not None:
                slot = next((i for i, n in enumerate(nxt.input) if n == out), 1)
                return nxt.name or nxt.output[0], f"{nxt.op_type} (QDQ)", self._role(nxt, slot, q.weight)
        return node.name or node.output[0], node.op_type, "weight"

    def _role(self, node: onnx.NodeProto, slot: int, name: str) -> str:
        slots = _WEIGHT_SLOTS.get(node.op_type)
        t = self.g.tensors.get(name)
        if slots is not None:
            if slot not in slots:
                return "bias"
            return "weight" if t is None or len(t.dims) >= 2 else "other"  # 1-D: a look-up table, not a layer
        if t is not None and len(t.dims) >= 2:
            return "weight"
        return "bias" if name.lower().endswith(("bias", "bias_quantized", ".b")) else "other"

    def _quant_row(self, q: _Quant) -> LayerReport:
        t = self.g.tensors[q.weight]
        layer, op_type, role = self._layer_for(q)
        shape = list(t.dims)
        stored_elem = t.data_type
        quant_elem = q.elem_type or stored_elem
        bits = dtype_bits(quant_elem)
        params = tensor_numel(t)
        block = q.block_size
        if q.node.op_type == "MatMulNBits":
            bits = int(node_attr(q.node, "bits", 4))
            k, n = int(node_attr(q.node, "K", 0)), int(node_attr(q.node, "N", 0))
            params, shape, block = k * n, [k, n], int(node_attr(q.node, "block_size", 0))
            op_type, role = "MatMulNBits", "weight"
        row = LayerReport(
            name=layer,
            op_type=op_type,
            weight_name=q.weight,
            role=role,
            shape=shape,
            dtype=dtype_name(quant_elem) if q.node.op_type != "MatMulNBits" else f"uint{bits}(packed)",
            bits=bits,
            parameter_count=params,
            quantization="linear",
        )
        scale = self.array(q.scale)
        zp = self.array(q.zero_point)
        values = self.array(q.weight)
        if q.node.op_type == "MatMulNBits":
            self._nbits_stats(row, q, values, scale, zp, bits, block)
            return row
        axis = q.axis + len(t.dims) if q.axis < 0 else q.axis
        row.granularity, row.axis, row.block_size = self._granularity(shape, scale, zp, axis, block)
        row.symmetric = self._symmetric(quant_elem, zp, q.zero_point is not None)
        if q.zero_point is not None and zp is None:
            row.symmetric = None
        if scale is not None and row.symmetric and scale.size and np.all(scale > 0):
            exps = np.log2(scale.astype(np.float64))
            if np.all(exps == np.round(exps)) and len(set(exps.reshape(-1).tolist())) == 1:
                row.quantization, row.fixed_point_frac_bits = "fixed_point", int(-exps.reshape(-1)[0])
        if values is None:
            return row
        if q.elem_type is not None:  # float weight quantised at run time: zeros are float zeros
            row.sparsity = round(zero_fraction(values), 6)
            row.pruning_structure = pruning_structure(values)
        else:
            zero = self._broadcast_zp(zp, values.shape, row.axis, row.granularity)
            row.sparsity = round(zero_fraction(values, zero), 6)
        uniq = distinct_values(values)
        row.distinct_values = None if uniq is None else int(uniq.size)
        return row

    def _nbits_stats(self, row, q, packed, scale, zp, bits, block) -> None:
        row.granularity, row.block_size, row.axis = "per_group", block or None, None
        centre = 2 ** (bits - 1)
        if q.zero_point is None:
            row.symmetric = True
            zp_values = None
        elif zp is not None and zp.dtype.kind == "u" and bits == 4:
            zp_values = np.stack([zp & 0x0F, zp >> 4], axis=-1).reshape(-1)
            n_groups = scale.size if scale is not None else zp_values.size
            row.symmetric = bool(np.all(zp_values[:n_groups] == centre))
        else:
            zp_values = None
            row.symmetric = None
        if packed is not None and bits == 4:
            vals = np.stack([packed & 0x0F, packed >> 4], axis=-1).reshape(-1)[: row.parameter_count]
            if row.symmetric:
                row.sparsity = round(zero_fraction(vals, centre), 6)
            uniq = distinct_values(vals)
            row.distinct_values = None if uniq is None else int(uniq.size)

    @staticmethod
    def _granularity(shape, scale, zp, axis, block) -> tuple[str | None, int | None, int | None]:
        if scale is None:
            ref = zp
            if ref is None or ref.size == 1:
                return ("per_tensor", None, None) if ref is not None else (None, None, None)
            scale = ref
        if scale.size == 1:
            return "per_tensor", None, None
        if block and block > 0:
            return "per_group", axis, block
        if scale.ndim == 1 and 0 <= axis < len(shape) and scale.size == shape[axis]:
            return "per_channel", axis, None
        matching = [i for i, n in enumerate(shape) if n == scale.size]
        if scale.ndim == 1 and len(matching) == 1:
            return "per_channel", matching[0], None
        if scale.ndim == len(shape):
            for i, (n, m) in enumerate(zip(shape, scale.shape, strict=True)):
                if m not in (n, 1):
                    return "per_group", i, int(math.ceil(n / m))
        return "unknown", axis, None

    @staticmethod
    def _broadcast_zp(zp, shape, axis, granularity):
        if zp is None:
            return 0
        zp = zp.astype(np.int64)
        if zp.size == 1:
            return int(zp.reshape(-1)[0])
        if granularity == "per_channel" and axis is not None:
            view = [1] * len(shape)
            view[axis] = zp.size
            return zp.reshape(view)
        if granularity == "per_group" and axis is not None and zp.ndim == len(shape):
            rep = int(math.ceil(shape[axis] / zp.shape[axis]))
            return np.repeat(zp, rep, axis=axis)[tuple(slice(0, n) for n in shape)]
        return 0

    def _kmeans_row(self, gather: onnx.NodeProto, data: str, indices: str) -> LayerReport:
        t_idx, t_data = self.g.tensors[indices], self.g.tensors[data]
        self.non_params.add(data)
        book = self.array(data)
        idx = self.array(indices)
        k = tensor_numel(t_data)
        consumer = self._consumer(gather.output[0])
        while consumer is not None and consumer.op_type in ("Reshape", "Transpose", "Cast", "Identity"):
            consumer = self._consumer(consumer.output[0])
        row = LayerReport(
            name=(consumer.name or consumer.output[0]) if consumer is not None else gather.name,
            op_type=f"{consumer.op_type} (Gather codebook)" if consumer is not None else "Gather",
            weight_name=indices,
            role="weight",
            shape=list(t_idx.dims),
            dtype=dtype_name(t_idx.data_type),
            bits=min(dtype_bits(t_idx.data_type), max(1, math.ceil(math.log2(k)))),
            parameter_count=tensor_numel(t_idx),
            quantization="kmeans",
            codebook_size=k,
            granularity="per_tensor" if len(t_data.dims) <= 1 else "per_channel",
        )
        if book is not None and idx is not None:
            decoded = book.reshape(-1)[idx.astype(np.int64)]
            row.sparsity = round(zero_fraction(decoded), 6)
            uniq = distinct_values(idx)
            row.distinct_values = None if uniq is None else int(uniq.size)
        return row

    def _plain_row(self, name: str, t: TensorProto) -> LayerReport | None:
        uses = self.g.consumers.get(name, [])
        if not uses:
            return None
        node, slot = uses[0]
        int_bias = _INT_BIAS_SLOT.get(node.op_type) == slot
        if t.data_type not in FLOAT_TYPES and not int_bias:
            return None  # shapes, axes, indices: not parameters
        if node.op_type == "BatchNormalization" and slot in (3, 4):
            return None  # running mean and variance are buffers, not parameters (as in torch)
        numel = tensor_numel(t)
        role = "bias" if int_bias else self._role(node, slot, name)
        if numel <= 1 and role != "weight":
            return None  # scalar constants of activation formulas, not parameters
        row = LayerReport(
            name=node.name or node.output[0],
            op_type=node.op_type,
            weight_name=name,
            role=role,
            shape=list(t.dims),
            dtype=dtype_name(t.data_type),
            bits=dtype_bits(t.data_type),
            parameter_count=numel,
        )
        values = self.array(name)
        if values is None:
            return row
        row.sparsity = round(zero_fraction(values), 6)
        row.pruning_structure = pruning_structure(values)
        uniq = distinct_values(values)
        row.distinct_values = None if uniq is None else int(uniq.size)
        if role == "weight":
            shared = classify_float_values(uniq, numel)
            if shared:
                self._apply_shared(row, shared)
        return row

    def _decoded_rows(self, done: set[str]) -> list[LayerReport]:
        """Weights computed by a constant subgraph (packed codes + decoder): decode, then inspect the values."""
        derived = constant_derived(self.g.nodes, set(self.g.tensors))
        rows = []
        for node in self.g.nodes:
            for slot in sorted(_WEIGHT_SLOTS.get(node.op_type, ())):
                name = input_at(node, slot)
                if name is None or name not in derived or name in done:
                    continue
                producer = self.g.producer.get(name)
                if (
                    producer.op_type in ("DequantizeLinear", "QuantizeLinear")
                    and input_at(producer, 0) in self.g.tensors
                ):
                    continue  # a stored quantised weight: read from its own tensor above
                try:
                    values, leaves, evaluated = fold(name, self.g.producer, self.array)
                except NotFoldable as exc:
                    self.report.findings.append(f"weight {name!r} of {node.op_type} not decoded: {exc}")
                    continue
                except (ValueError, TypeError, IndexError, ZeroDivisionError, FloatingPointError) as exc:
                    raise CorruptArtifact(f"{self.path.name}: decoder of {name!r} fails ({exc})") from exc
                if leaves & done:
                    continue  # decoded from tensors already reported (codebook + indices Gather)
                done.add(name)
                self.non_params.update(leaves)
                rows.append(self._decoded_row(node, slot, name, values, leaves, evaluated))
        return rows

    def _decoded_row(self, node, slot, name, values, leaves, evaluated) -> LayerReport:
        stored = sorted({dtype_name(self.g.tensors[leaf].data_type) for leaf in leaves})
        row = LayerReport(
            name=node.name or node.output[0],
            op_type=f"{node.op_type} (decoded)",
            weight_name=name,
            role=self._role(node, slot, name),
            shape=list(values.shape),
            dtype="packed",
            bits=dtype_bits(TensorProto.FLOAT) if values.dtype == np.float32 else int(values.dtype.itemsize * 8),
            parameter_count=int(values.size),
        )
        row.sparsity = round(zero_fraction(values), 6)
        row.pruning_structure = pruning_structure(values)
        uniq = distinct_values(values)
        row.distinct_values = None if uniq is None else int(uniq.size)
        shared = classify_float_values(uniq, values.size) if values.dtype.kind == "f" else None
        book = self._codebook_in(evaluated, leaves)
        if book is not None and (shared is None or shared["quantization"] == "kmeans"):
            shared = {"quantization": "kmeans", "codebook_size": book}  # the table in the file, used or not
        if shared:
            self._apply_shared(row, shared)
        ops = sorted({n.op_type for n in evaluated})
        self.report.findings.append(
            f"{name!r} is decoded at load time by {len(evaluated)} nodes ({', '.join(ops)}) from {stored} constants"
        )
        return row

    def _codebook_in(self, evaluated, leaves) -> int | None:
        """Size of a float look-up table that a decoder Gathers from (k-means codebook), if there is one."""
        for node in evaluated:
            data = input_at(node, 0)
            if node.op_type == "Gather" and data in leaves:
                t = self.g.tensors[data]
                if t.data_type in FLOAT_TYPES and len(t.dims) == 1:
                    return tensor_numel(t)
        return None

    @staticmethod
    def _apply_shared(row: LayerReport, shared: dict) -> None:
        row.quantization = shared["quantization"]
        if shared["quantization"] == "kmeans":
            row.codebook_size = shared["codebook_size"]
            row.bits = max(1, math.ceil(math.log2(shared["codebook_size"])))
            row.granularity = "per_tensor"  # one codebook per weight tensor
        else:
            row.bits = shared["bits"]
            row.fixed_point_frac_bits = shared.get("frac_bits")
            row.granularity, row.symmetric = "per_tensor", True

    def _sparse_row(self, sp: onnx.SparseTensorProto) -> LayerReport:
        numel = int(math.prod(sp.dims)) if sp.dims else 1
        nnz = tensor_numel(sp.values)
        node = self._consumer(sp.values.name)
        return LayerReport(
            name=(node.name if node is not None else sp.values.name),
            op_type=node.op_type if node is not None else "sparse_initializer",
            weight_name=sp.values.name,
            role="weight" if len(sp.dims) >= 2 else "other",
            shape=list(sp.dims),
            dtype=dtype_name(sp.values.data_type),
            bits=dtype_bits(sp.values.data_type),
            parameter_count=numel,
            sparsity=round(1 - nnz / numel, 6) if numel else None,
        )


def _check_strings(model: onnx.ModelProto, name: str) -> None:
    """proto2 string fields are not UTF-8-checked on parse and come back as bytes when invalid."""

    def walk(graph: onnx.GraphProto) -> None:
        for t in graph.initializer:
            if not isinstance(t.name, str):
                raise CorruptArtifact(f"{name}: an initialiser name is not valid UTF-8")
        for node in graph.node:
            fields = [node.op_type, node.domain, node.name, *node.input, *node.output]
            if not all(isinstance(f, str) for f in fields):
                raise CorruptArtifact(f"{name}: a node's names are not valid UTF-8")
            if not node.output:
                raise CorruptArtifact(f"{name}: a {node.op_type} node has no output")
            for a in node.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
                elif a.type == onnx.AttributeProto.GRAPHS:
                    for g in a.graphs:
                        walk(g)

    walk(model.graph)


def inspect_onnx(path: Path, size: int) -> ArtifactReport:
    return OnnxInspector(path, size).run()
