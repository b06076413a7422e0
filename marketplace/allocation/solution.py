"""What a solver hands back (chosen derivation per candidate row, bound) and how it becomes an Allocation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .compiled import Compiled
from .model import Allocation, Problem


@dataclass
class Solution:
    """chosen[r] is the candidate derivation used by candidate row r, or -1 when the row is not bought."""

    chosen: np.ndarray
    strategy: str
    upper_bound: float
    optimal: bool
    notes: list[str] = field(default_factory=list)


def finish(problem: Problem, compiled: Compiled, solution: Solution, seconds: float) -> Allocation:
    """Map candidate rows back to problem rows, add every row the bought items already pay for, and total up.

    The zero-cost fill also buys rows worth 0 and rows whose derivations became free, so ties go to buying
    ("buy everything worth its price").
    """
    prices = problem.prices
    taken = np.flatnonzero(solution.chosen >= 0)
    derivs = solution.chosen[taken]
    derivation = dict(zip(compiled.row_index[taken].tolist(), compiled.deriv_orig[derivs].tolist(), strict=True))
    item_ids = compiled.item_ids
    bought_priced = {item_ids[j] for j in np.unique(compiled.incidences(derivs)[1]).tolist()}

    available = bought_priced | {i for i, p in prices.items() if p == 0}
    for s, row in enumerate(problem.rows):
        if s in derivation:
            continue
        for k, d in enumerate(row.derivations):
            if d <= available if isinstance(d, (set, frozenset)) else available.issuperset(d):
                derivation[s] = k
                break

    items: set[str] = set()
    value = 0
    unlimited = 0
    for s, k in derivation.items():
        row = problem.rows[s]
        items.update(row.derivations[k])
        if row.value is None:
            unlimited += 1
        else:
            value += row.value
    cost = sum(prices[i] for i in items)
    if problem.budget is not None and cost > problem.budget:
        raise AssertionError(f"allocation costs {cost}, over the budget {problem.budget}")  # solver bug
    objective = value - cost
    upper = max(float(solution.upper_bound), float(objective))
    gap = (upper - objective) / max(1.0, abs(upper))
    # objectives are integers; but under a budget the bound is on allocations buying as many unlimited rows,
    # which may not be the most there are
    settled = problem.budget is None or not compiled.unlimited.any()
    optimal = solution.optimal or (settled and upper - objective < 1.0)
    return Allocation(
        rows=tuple(sorted(derivation)),
        derivation=dict(sorted(derivation.items())),
        items=frozenset(items),
        cost=cost,
        value=value,
        unlimited_rows=unlimited,
        objective=objective,
        strategy=solution.strategy,
        upper_bound=upper,
        gap=0.0 if optimal else gap,
        solve_seconds=seconds,
        optimal=optimal,
        notes=tuple(solution.notes),
    )
