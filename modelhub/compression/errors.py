"""Typed errors raised by the compression library; callers translate them to user messages in one place."""


class CompressionError(Exception):
    """Base class for every error this library raises on purpose."""


class InvalidModelError(CompressionError):
    """The model file cannot be read, fails the ONNX checker, or onnxruntime cannot load it."""


class EvalSetMismatchError(CompressionError):
    """The evaluation set is unreadable or does not fit the model's input signature or outputs."""


class UnsupportedOptionError(CompressionError):
    """A method or option value this library does not implement."""


class CompressionCancelled(CompressionError):
    """The caller's `cancelled()` callback asked the job to stop."""
