"""Compression benchmark on the demo digits CNN: every method against the fp32 model in the same run.

Prints Markdown: (1) a table per method family (size ratio, accuracy change, latency ratio, job time),
(2) k-means versus linear weight quantisation at equal bits (QUENN's comparison), (3) single-batch
calibration size versus the float model (Settle et al.'s claim).

    .venv/bin/python bench/compression/run.py            # default: about a minute on 2 shared cores
    .venv/bin/python bench/compression/run.py --repeats 300 --calibration-sizes 1 8 32 128 450
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from modelhub.compression import (  # noqa: E402
    MethodSpec,
    dynamic_fixed_point,
    kmeans_weights,
    load_eval_set,
    load_model,
    run_compression,
    static_int8,
)
from modelhub.compression.analysis import model_top1, quantised_accuracy  # noqa: E402

DEMO = ROOT / "modelhub" / "demo"
MODEL, EVAL = DEMO / "digits_cnn.onnx", DEMO / "digits_eval.npz"


def main_specs() -> list[MethodSpec]:
    specs = []
    for calibration in ("minmax", "entropy", "percentile"):
        for per_channel in (False, True):
            gran = "pc" if per_channel else "pt"
            specs.append(
                MethodSpec(
                    "static_int8",
                    {"calibration": calibration, "per_channel": per_channel},
                    name=f"static_int8_{calibration}_{gran}",
                )
            )
    specs.append(MethodSpec("dynamic_int8", {"per_channel": True}, name="dynamic_int8_pc"))
    specs += [MethodSpec("kmeans", {"bits": b}, name=f"kmeans_{b}bit") for b in (2, 3, 4, 5, 6, 8)]
    specs.append(MethodSpec("dynamic_fixed_point", {"bits": 8, "storage": "int8"}, name="dfp_8bit_int8"))
    specs.append(MethodSpec("dynamic_fixed_point", {"bits": 4, "storage": "packed"}, name="dfp_4bit_packed"))
    specs.append(MethodSpec("dynamic_fixed_point", {"bits": None, "storage": "packed"}, name="dfp_auto_packed"))
    specs += [MethodSpec("pruning", {"sparsity": s}, name=f"pruned_{int(s * 100)}") for s in (0.5, 0.8)]
    return specs


def method_table(result) -> str:
    ref, again = result.reference, result.reference_repeat

    def baseline(batch: int) -> float:
        # Mean of the fp32 timings before and after the variants, as run_compression's ratios use.
        return (ref.measurement.latency_for(batch).median_ms + again.latency_for(batch).median_ms) / 2

    b1_ref, b32_ref = baseline(1), baseline(32)
    first = ref.measurement.latency_for(1)
    lines = [
        f"fp32 reference: {ref.measurement.size_bytes / 1024:.1f} KiB, top-1 {ref.measurement.top1 * 100:.2f}%, "
        f"top-5 {ref.measurement.top5 * 100:.2f}%, batch 1 median {b1_ref * 1000:.1f} µs "
        f"(p95 {first.p95_ms * 1000:.1f} µs), batch 32 median {b32_ref * 1000:.1f} µs, "
        f"peak memory {ref.measurement.peak_memory_bytes / 2**20:.1f} MiB. Drift: the fp32 model timed again "
        f"after all variants ran at {result.latency_drift:.2f}x its first batch-1 median and "
        f"{again.latency_for(32).median_ms / ref.measurement.latency_for(32).median_ms:.2f}x at batch 32 "
        "(ratios below use the mean of both).",
        "",
        "| variant | size KiB | size ratio | gzip ratio | top-1 % | Δ top-1 (points) | latency ratio b1 | "
        "latency ratio b32 | published-file latency ratio b1 | p95 b1 µs | peak MiB | job s | "
        "Pareto size / latency |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    for v in result.variants:
        b1, b32 = v.timing.latency_for(1), v.timing.latency_for(32)
        gz = ref.measurement.size_gzip_bytes / v.measurement.size_gzip_bytes
        lines.append(
            f"| {v.name} | {v.measurement.size_bytes / 1024:.1f} | {v.size_ratio:.2f}x | {gz:.2f}x | "
            f"{v.measurement.top1 * 100:.2f} | {v.accuracy_change_points:+.2f} | {b1.median_ms / b1_ref:.2f} | "
            f"{b32.median_ms / b32_ref:.2f} | {v.measurement.latency_for(1).median_ms / b1_ref:.2f} | "
            f"{b1.p95_ms * 1000:.1f} | {v.timing.peak_memory_bytes / 2**20:.1f} | {v.job_seconds:.2f} | "
            f"{'●' if v.pareto_size else '·'} / {'●' if v.pareto_latency else '·'} |"
        )
    return "\n".join(lines)


def quenn_table(eval_set, work: Path, reference_top1: float) -> str:
    size_fp32 = MODEL.stat().st_size
    lines = [
        "| bits | k-means top-1 % (Δ) | linear per-channel top-1 % (Δ) | fixed point Qm.n top-1 % (Δ) | "
        "k-means size ratio | fixed point size ratio |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for bits in (2, 3, 4, 5, 6, 8):
        km = kmeans_weights(MODEL, eval_set, work / f"q_km{bits}.onnx", bits=bits)
        fx = dynamic_fixed_point(MODEL, eval_set, work / f"q_fx{bits}.onnx", bits=bits, storage="packed")
        accs = [
            model_top1(km.path, eval_set),
            quantised_accuracy(MODEL, eval_set, method="linear", bits=bits),
            model_top1(fx.path, eval_set),
        ]
        cells = " | ".join(f"{a * 100:.2f} ({(a - reference_top1) * 100:+.2f})" for a in accs)
        lines.append(
            f"| {bits} | {cells} | {size_fp32 / km.path.stat().st_size:.2f}x | "
            f"{size_fp32 / fx.path.stat().st_size:.2f}x |"
        )
    return "\n".join(lines)


def settle_table(eval_set, work: Path, reference_top1: float, sizes: list[int]) -> str:
    lines = [
        "| calibration | " + " | ".join(f"batch of {n}" for n in sizes) + " |",
        "| --- | " + " | ".join("---:" for _ in sizes) + " |",
    ]
    for calibration in ("minmax", "entropy", "percentile"):
        cells = []
        for n in sizes:
            out = work / f"s_{calibration}_{n}.onnx"
            started = time.perf_counter()
            static_int8(MODEL, eval_set, out, calibration=calibration, per_channel=True, calibration_samples=n)
            seconds = time.perf_counter() - started
            acc = model_top1(out, eval_set)
            cells.append(f"{(acc - reference_top1) * 100:+.2f} ({seconds:.1f} s)")
        lines.append(f"| {calibration} (per channel) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=100, help="latency runs per batch size and variant")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--calibration-sizes", type=int, nargs="+", default=[1, 8, 32, 450])
    args = parser.parse_args()
    eval_set = load_eval_set(EVAL, load_model(MODEL))
    with tempfile.TemporaryDirectory(prefix="bench-compression-") as tmp:
        work = Path(tmp)
        captured = io.StringIO()
        # onnxruntime's calibrators print progress lines; keep stdout for the Markdown.
        with contextlib.redirect_stdout(captured):
            started = time.perf_counter()
            result = run_compression(
                MODEL,
                EVAL,
                main_specs(),
                work / "variants",
                latency_repeats=args.repeats,
                intra_op_threads=args.threads,
                sensitivity_bits=(2, 3, 4, 8),
            )
            job_seconds = time.perf_counter() - started
            ref_top1 = result.reference.measurement.top1
            quenn = quenn_table(eval_set, work, ref_top1)
            settle = settle_table(eval_set, work, ref_top1, args.calibration_sizes)
        hw = result.hardware
        print(
            f"Hardware: {hw.cpu_model} ({hw.logical_cpus} logical CPUs; {', '.join(hw.isa)}), "
            f"onnxruntime {hw.onnxruntime}, {hw.intra_op_threads} intra-op thread(s), {args.repeats} timed runs "
            f"per batch size after 5 warm-up runs. Evaluation set: {result.eval_set['name']} "
            f"({result.eval_set['samples']} held-out digits). Whole job: {job_seconds:.1f} s.\n"
        )
        print("### Variants against the fp32 model (same run)\n")
        print(method_table(result))
        print("\n### Per-layer sensitivity (accuracy drop in points when only that layer is quantised)\n")
        points = [(p.method, p.bits) for p in result.sensitivity.rows[0].points]
        print("| layer | params | " + " | ".join(f"{m} {b}b" for m, b in points) + " |")
        print("| --- | ---: | " + " | ".join("---:" for _ in points) + " |")
        for row in result.sensitivity.rows:
            print(
                f"| {row.layer} | {row.parameters} | " + " | ".join(f"{p.drop_points:+.2f}" for p in row.points) + " |"
            )
        print("\n### k-means versus linear weight quantisation at equal bits (weights only, no retraining)\n")
        print(quenn)
        print("\n### Single-batch calibration versus the float model (static INT8, Δ top-1 in points, time)\n")
        print(settle)


if __name__ == "__main__":
    main()
