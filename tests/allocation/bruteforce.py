"""Reference answer by enumerating every set of items (tiny instances only)."""

from __future__ import annotations

from itertools import combinations

from marketplace.allocation import Problem


def best(problem: Problem) -> tuple[int, int]:
    """(unlimited rows bought, finite objective) of the best allocation, ranked in that order."""
    items = sorted(problem.prices)
    top = (-1, 0)
    for size in range(len(items) + 1):
        for subset in combinations(items, size):
            chosen = set(subset)
            cost = sum(problem.prices[i] for i in chosen)
            if problem.budget is not None and cost > problem.budget:
                continue
            unlimited = value = 0
            for row in problem.rows:
                if any(d <= chosen for d in row.derivations):
                    if row.value is None:
                        unlimited += 1
                    else:
                        value += row.value
            top = max(top, (unlimited, value - cost))
    return top
