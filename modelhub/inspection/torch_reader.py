"""PyTorch state-dict inspection without torch and without running the pickle's code.

A restricted unpickler resolves only torch's tensor/storage rebuild globals, each to an inert placeholder;
any other global (os.system, builtins.eval, ...) is refused with UnsafeArtifact before it can run.
"""

from __future__ import annotations

import io
import math
import pickle
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CorruptArtifact, UnsafeArtifact
from .report import ArtifactReport, LayerReport
from .stats import summarise

_MAX_PICKLE = 64 * 1024 * 1024  # data.pkl holds structure, not tensor data; a larger one is not a state dict
# What zipfile raises on damaged archives (bad names, unknown methods, short reads, bad CRCs, ...).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    UnicodeDecodeError,
    NotImplementedError,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    zlib.error,
)
_SMALL_STORAGE = 1 << 20  # storages read for quantiser zero points; weights themselves are never read
_BUFFER_SUFFIXES = (".running_mean", ".running_var", ".num_batches_tracked")  # buffers, not parameters
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": ("float32", 32),
    "DoubleStorage": ("float64", 64),
    "HalfStorage": ("float16", 16),
    "BFloat16Storage": ("bfloat16", 16),
    "LongStorage": ("int64", 64),
    "IntStorage": ("int32", 32),
    "ShortStorage": ("int16", 16),
    "CharStorage": ("int8", 8),
    "ByteStorage": ("uint8", 8),
    "BoolStorage": ("bool", 8),
    "ComplexFloatStorage": ("complex64", 64),
    "ComplexDoubleStorage": ("complex128", 128),
    "QInt8Storage": ("qint8", 8),
    "QUInt8Storage": ("quint8", 8),
    "QInt32Storage": ("qint32", 32),
    "QUInt4x2Storage": ("quint4x2", 4),
    "QUInt2x4Storage": ("quint2x4", 2),
}


@dataclass
class _StorageType:
    name: str

    @property
    def dtype(self) -> tuple[str, int | None]:
        if self.name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[self.name]
        m = re.match(r"(.+)Storage$", self.name)
        return ((m.group(1).lower() if m else self.name), None)


@dataclass
class _Storage:
    storage_type: Any
    key: str
    location: str
    numel: int


@dataclass
class _Tensor:
    storage: Any
    offset: int
    shape: list[int]
    quantizer: Any = None
    is_parameter: bool = False
    extra: dict = field(default_factory=dict)


@dataclass
class _Placeholder:
    """Stands for an allowed torch global that carries no code we need (qscheme names, Parameter, ...)."""

    qualname: str

    def __call__(self, *args, **kwargs):
        return _Placeholder(self.qualname)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, *extra):
    return _Tensor(storage, int(storage_offset), [int(s) for s in size])


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _Tensor(storage, int(storage_offset), [int(s) for s in size])


def _rebuild_qtensor(storage, storage_offset, size, stride, quantizer_params, requires_grad, backward_hooks):
    return _Tensor(storage, int(storage_offset), [int(s) for s in size], quantizer=quantizer_params)


def _rebuild_parameter(data, requires_grad, backward_hooks, *state):
    if isinstance(data, _Tensor):
        data.is_parameter = True
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    result = func(*args)
    if isinstance(result, _Tensor) and isinstance(new_type, _Placeholder) and "Parameter" in new_type.qualname:
        result.is_parameter = True
    return result


class _StateDict(dict):
    """OrderedDict stand-in; torch's state_dict carries a `_metadata` attribute set by BUILD."""


def _ordered_dict(*args):
    return _StateDict(*args)


def _codecs_encode(text, encoding="utf-8"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise UnsafeArtifact("pickle calls _codecs.encode with unexpected arguments; refused")
    return text.encode(encoding)


_ALLOWED = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_qtensor"): _rebuild_qtensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch.nn.parameter", "Parameter"): _Placeholder("torch.nn.parameter.Parameter"),
    ("collections", "OrderedDict"): _ordered_dict,
    ("_codecs", "encode"): _codecs_encode,
}
_ALLOWED_TORCH_NAMES = {
    "per_tensor_affine",
    "per_channel_affine",
    "per_tensor_symmetric",
    "per_channel_symmetric",
    "per_channel_affine_float_qparams",
}


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the allow-listed globals above; everything else raises UnsafeArtifact."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and (name.endswith("Storage") and name.isidentifier()):
            return _StorageType(name)
        if module == "torch" and name in _ALLOWED_TORCH_NAMES:
            return _Placeholder(f"torch.{name}")
        raise UnsafeArtifact(f"pickle references {module}.{name}, which is not a tensor-rebuild global; refused")

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage":
            return _Storage(pid[1], str(pid[2]), str(pid[3]), int(pid[4]))
        raise UnsafeArtifact(f"pickle uses an unexpected persistent id {str(pid)[:80]!r}; refused")


def _unpickle(fh) -> Any:
    try:
        return RestrictedUnpickler(fh).load()
    except UnsafeArtifact:
        raise
    except Exception as exc:  # truncated or malformed pickle streams raise many different errors
        raise CorruptArtifact(f"pickle stream is unreadable ({exc.__class__.__name__}: {exc})") from exc


def _walk(obj: Any, prefix: str, out: dict[str, _Tensor], depth: int = 0) -> None:
    if depth > 8:
        return
    if isinstance(obj, _Tensor):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _walk(v, f"{prefix}.{k}" if prefix else str(k), out, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _walk(v, f"{prefix}.{i}" if prefix else str(i), out, depth + 1)


def _int64_values(t: Any, small: dict[str, bytes]) -> np.ndarray | None:
    if not isinstance(t, _Tensor) or not isinstance(t.storage, _Storage) or t.storage.key not in small:
        return None
    if not isinstance(t.storage.storage_type, _StorageType) or t.storage.storage_type.name != "LongStorage":
        return None
    values = np.frombuffer(small[t.storage.key], dtype="<i8")
    n = math.prod(t.shape) if t.shape else 1
    return values[t.offset : t.offset + n]


def inspect_pytorch(path: Path, size: int, zipped: bool = True) -> ArtifactReport:
    report = ArtifactReport(format="pytorch", size_bytes=size)
    storage_bytes: dict[str, int] = {}
    small: dict[str, bytes] = {}
    if zipped:
        try:
            with zipfile.ZipFile(path) as zf:
                pkl = [i for i in zf.infolist() if i.filename.endswith("data.pkl")]
                if not pkl:
                    raise CorruptArtifact(f"{path.name}: a zip without data.pkl is not a torch.save archive")
                info = pkl[0]
                if info.file_size > _MAX_PICKLE:
                    raise CorruptArtifact(f"{path.name}: data.pkl of {info.file_size} bytes is too large")
                root = info.filename[: -len("data.pkl")]
                for i in zf.infolist():
                    if i.filename.startswith(root + "data/"):
                        storage_bytes[i.filename[len(root + "data/") :]] = i.file_size
                with zf.open(info) as fh:
                    obj = _unpickle(io.BytesIO(fh.read()))
                small = {k: zf.read(root + "data/" + k) for k, n in storage_bytes.items() if n <= _SMALL_STORAGE}
        except _ZIP_ERRORS as exc:
            raise CorruptArtifact(f"{path.name}: damaged zip archive ({exc.__class__.__name__}: {exc})") from exc
    else:
        report.format = "pytorch_legacy"
        with path.open("rb") as fh:
            obj = _unpickle(fh)
            if obj == _LEGACY_MAGIC:
                _unpickle(fh)  # protocol version
                _unpickle(fh)  # sys info
                obj = _unpickle(fh)
            else:
                report.format = "pickle"
    tensors: dict[str, _Tensor] = {}
    _walk(obj, "", tensors)
    if not tensors:
        report.warnings.append("no tensors found in the pickle")
    rows = []
    bytes_by_dtype: dict[str, int] = {}
    seen_storage: set[str] = set()
    for name, t in tensors.items():
        st = t.storage.storage_type if isinstance(t.storage, _Storage) else None
        dtype, bits = st.dtype if isinstance(st, _StorageType) else ("unknown", None)
        numel = math.prod(t.shape) if t.shape else 1
        key = t.storage.key if isinstance(t.storage, _Storage) else name
        if key not in seen_storage:
            seen_storage.add(key)
            nbytes = storage_bytes.get(key)
            if nbytes is None and isinstance(t.storage, _Storage) and bits:
                nbytes = int(math.ceil(t.storage.numel * bits / 8))
            bytes_by_dtype[dtype] = bytes_by_dtype.get(dtype, 0) + (nbytes or 0)
        is_buffer_int = dtype.startswith(("int", "uint", "bool")) and not dtype.startswith("q")
        if is_buffer_int or name.endswith(_BUFFER_SUFFIXES):
            continue  # num_batches_tracked, position ids, ...: integer buffers are not parameters
        row = LayerReport(
            name=name.rsplit(".", 1)[0],
            op_type="tensor",
            weight_name=name,
            role="weight" if len(t.shape) >= 2 else "bias" if name.endswith("bias") else "other",
            shape=t.shape,
            dtype=dtype,
            bits=bits,
            parameter_count=numel,
        )
        if t.quantizer is not None and isinstance(t.quantizer, tuple) and t.quantizer:
            scheme = t.quantizer[0].qualname if isinstance(t.quantizer[0], _Placeholder) else str(t.quantizer[0])
            row.quantization = "linear"
            row.granularity = "per_channel" if "channel" in scheme else "per_tensor"
            if row.granularity == "per_channel" and len(t.quantizer) >= 4:
                row.axis = int(t.quantizer[3])
                zps = _int64_values(t.quantizer[2], small)
                if zps is not None and "symmetric" not in scheme:
                    centre = 0 if dtype == "qint8" else 2 ** ((bits or 8) - 1)
                    row.symmetric = bool(np.all(zps == centre))
            if "symmetric" in scheme:
                row.symmetric = True
            elif row.granularity == "per_tensor" and len(t.quantizer) >= 3:
                zp, signed = int(t.quantizer[2]), dtype == "qint8"
                row.symmetric = zp == (0 if signed else 2 ** ((bits or 8) - 1))
        rows.append(row)
    report.layers = rows
    report.bytes_by_dtype = bytes_by_dtype
    report.unverifiable += ["sparsity", "codebook_size", "activation_bits"]
    summarise(report)
    return report
