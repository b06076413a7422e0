"""Small helpers shared by the compression tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from modelhub.compression import EvalSet


def logits(path: Path, eval_set: EvalSet) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {eval_set.input_name: eval_set.inputs})[0]
