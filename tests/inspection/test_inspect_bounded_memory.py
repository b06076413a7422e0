"""Inspecting a large file reads its header, not its tensors."""

from __future__ import annotations

import gc

import psutil

from modelhub.inspection import inspect_artifact

LARGE = 200 * 1024 * 1024
RSS_BUDGET = 20 * 1024 * 1024


def test_large_safetensors_is_inspected_in_bounded_memory(tmp_path, build):
    small = build.sparse_safetensors(tmp_path / "small.safetensors", 1024 * 1024)
    inspect_artifact(small)  # warm up imports and caches before measuring
    big = build.sparse_safetensors(tmp_path / "big.safetensors", LARGE)
    assert big.stat().st_size > LARGE
    assert big.stat().st_blocks * 512 < 1024 * 1024  # sparse on disk: nothing to page in by accident
    gc.collect()
    process = psutil.Process()
    before = process.memory_info().rss
    report = inspect_artifact(big)
    delta = process.memory_info().rss - before
    assert report.parameter_count == LARGE // 4
    assert report.bytes_by_dtype == {"float32": LARGE}
    assert delta < RSS_BUDGET, f"RSS grew by {delta / 2**20:.1f} MiB inspecting a 200 MiB file"
