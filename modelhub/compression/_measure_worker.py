"""Child-process entry for `measure.measure_model`: prints one JSON line of accuracy, latency and memory.

Run as a script (`python _measure_worker.py ARGS_JSON`): it imports only numpy and onnxruntime, so a child
starts fast and does not load the rest of the package."""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np
import onnxruntime as ort


def top_k_accuracy(logits: np.ndarray, labels: np.ndarray, k: int) -> float:
    top = np.argpartition(-logits, kth=min(k, logits.shape[1]) - 1, axis=1)[:, :k]
    return float((top == labels[:, None]).any(axis=1).mean())


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux >= 4.0), so imports do not count."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_bytes() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def main(args: dict) -> dict:
    with np.load(args["eval"]) as data:
        inputs, labels = data["inputs"], data["labels"]
    name = args["input"]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args["threads"]
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    _reset_peak()
    baseline = _rss_bytes()
    start = time.perf_counter()
    session = ort.InferenceSession(args["model"], opts, providers=["CPUExecutionProvider"])
    load_ms = (time.perf_counter() - start) * 1e3
    logits = np.concatenate([session.run(None, {name: inputs[i : i + 256]})[0] for i in range(0, len(inputs), 256)])
    classes = logits.shape[1]
    latency = []
    for batch_size in args["batch_sizes"]:
        # Tile the eval set if it is smaller than the batch, so every batch size can be timed.
        reps = -(-batch_size // len(inputs))
        feed = {name: np.concatenate([inputs] * reps)[:batch_size]}
        for _ in range(args["warmup"]):
            session.run(None, feed)
        times = []
        for _ in range(args["repeats"]):
            t0 = time.perf_counter_ns()
            session.run(None, feed)
            times.append((time.perf_counter_ns() - t0) / 1e6)
        latency.append(
            {
                "batch_size": batch_size,
                "repeats": args["repeats"],
                "median_ms": float(np.median(times)),
                "p95_ms": float(np.percentile(times, 95)),
                "mean_ms": float(np.mean(times)),
            }
        )
    peak = _peak_bytes()
    return {
        "top1": top_k_accuracy(logits, labels, 1),
        "top5": top_k_accuracy(logits, labels, 5) if classes > 5 else None,
        "samples": len(labels),
        "latency": latency,
        "peak_memory_bytes": int(max(peak - baseline, 0)),
        "peak_rss_bytes": int(peak),
        "session_load_ms": load_ms,
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
