"""Pareto fronts over variants: higher accuracy is better, lower cost (size or latency) is better."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_front(points: Sequence[tuple[float, float]]) -> list[bool]:
    """For each (accuracy, cost), True when no other point has accuracy >= and cost <= with one strict."""
    flags = []
    for i, (acc, cost) in enumerate(points):
        dominated = any(a >= acc and c <= cost and (a > acc or c < cost) for j, (a, c) in enumerate(points) if j != i)
        flags.append(not dominated)
    return flags
