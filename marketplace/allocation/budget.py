"""Allocation under a binding budget on large instances: a Lagrangian bound over hubs and parts, and allocations
that meet it.

Counting every price mu >= 1 times and adding (mu - 1) x budget lifts the budget: what is left is the
budget-free problem hubs.py solves, and its optimum bounds the objective of every allocation within the budget.
The bound is convex and piecewise linear in mu; its least value is found by cutting planes, for each set of
hubs on its own (a hub, such as an access fee, is often a large share of the budget, and mixing hub sets under
one multiplier leaves a wide gap).

Allocations: each relaxation's purchase, cut down to the budget (worst value for money first) and filled up
(best first). Then, since rows are knapsack items once the groups bought are fixed, the rows nearest to paying
their price at the multiplier of the least bound are decided exactly by dynamic programming over the budget
they share (256 rows, then 2,048, then 16,384), the others as the relaxation decides. Objectives are whole
minor units: an allocation within 1 of the bound is optimal, and says so. On generated answers of 800 to
100,000 rows that was every one (bench/allocation); when it is not, the result says how far from the bound
it may be.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compiled import Compiled
from .exhaustive import _NONE
from .hubs import Passes, _Plan
from .solution import Solution

# row costs kept per (hub set, local set, row): 32 MB of int64 at the limit, and as much in float64 for a
# relaxation of one hub set
MAX_TABLE = 1 << 22
MAX_ITERATIONS = 100
# rows x budget cells of the knapsack over the rows nearest the margin (bytes of its choice table)
MAX_CORE_CELLS = 1 << 25
CORE_SIZES = (256, 2048, 16384)


@dataclass
class _Point:
    """The relaxation's optimum at one multiplier."""

    mu: float
    bound: float  # the relaxation's value: a bound on every allocation within the budget
    spent: int  # what its purchase costs at face value
    hubs: int
    local: np.ndarray  # per component: its local set
    take: np.ndarray  # per row: bought
    objective: int  # value - cost of its purchase


class _Relaxation:
    def __init__(self, c: Compiled, p: _Plan) -> None:
        self.c, self.plan = c, p
        self.ev = ev = Passes(c, p)
        n_hubs = 1 << len(p.hubs)
        self.cost = np.empty((n_hubs, ev.n_local, c.n_rows), dtype=np.int64)
        for h in range(n_hubs):
            for t in range(ev.n_local):
                self.cost[h, t] = ev.row_cost(h, t)
        self.usable = self.cost < _NONE
        self.value = c.value.astype(np.float64)
        self.local_price = ev.local_price.T.astype(np.float64)  # (local set, component)
        self.hub_price = ev.hub_price.astype(np.float64)
        self.rows = np.arange(c.n_rows)

    def at(self, mu: float, h: int) -> _Point:
        """The relaxation's optimum at multiplier ``mu`` among allocations buying hub set ``h``."""
        c, ev = self.c, self.ev
        gain = np.where(self.usable[h], self.value - mu * self.cost[h], 0.0)
        take = gain > 0
        parts = ev.per_component(np.where(take, gain, 0.0)) - mu * self.local_price
        local = parts.argmax(axis=0)  # per component
        t_row = local[self.plan.component]
        taken = take[t_row, self.rows]
        row_cost = self.cost[h, t_row, self.rows]
        spent = self._fixed_cost(h, local) + int(row_cost[taken].sum())
        objective = int(c.value[taken].sum()) - spent
        bound = float(parts.max(axis=0).sum() - mu * self.hub_price[h]) + (mu - 1.0) * c.budget
        # a float sum of up to MAX_TABLE terms (relative error < 1e-9 of their magnitude): a margin keeps it a
        # bound
        magnitude = float(c.value[taken].sum()) + mu * spent + (mu - 1.0) * c.budget
        return _Point(mu, bound + 1e-9 * max(1.0, magnitude), spent, h, local, taken, objective)

    def _fixed_cost(self, h: int, local: np.ndarray) -> int:
        return int(self.ev.hub_price[h]) + int(self.ev.local_price[np.arange(len(local)), local].sum())

    def row_costs(self, point: _Point) -> np.ndarray:
        return self.cost[point.hubs, point.local[self.plan.component], self.rows]

    def repaired(self, point: _Point) -> _Point:
        """The point's purchase cut down to the budget (worst value for money first), then filled up with the
        rows that fit (best value for money first)."""
        c = self.c
        cost = self.row_costs(point)
        take = point.take.copy()
        budget = c.budget
        spent = point.spent
        ratio = c.value / np.maximum(cost, 1)  # rows costing nothing come first and are never dropped
        if spent > budget:
            held = np.flatnonzero(take)
            held = held[np.lexsort((-cost[held], ratio[held]))]
            over = np.cumsum(cost[held]) - (spent - budget)
            k = int(np.searchsorted(over, 0))  # drop held[:k + 1] at most; the first k + 1 cover the excess
            drop = held[: k + 1]
            take[drop] = False
            spent -= int(cost[drop].sum())
            if spent > budget:
                return point  # the groups alone cost too much
        free = np.flatnonzero(~take & (cost < _NONE) & (c.value > cost))
        free = free[np.lexsort((cost[free], -ratio[free]))]
        left = budget - spent
        fits = cost[free].tolist()
        for r, w in zip(free.tolist(), fits, strict=True):
            if w <= left:
                take[r] = True
                left -= w
                if left == 0:
                    break
        spent = budget - left
        objective = int(c.value[take].sum()) - spent
        return _Point(point.mu, point.bound, spent, point.hubs, point.local, take, objective)

    def completed(self, point: _Point, core_size: int) -> _Point | None:
        """The best purchase of the point's groups when only the ``core_size`` rows nearest to paying their
        price at the point's multiplier are decided exactly (a knapsack over them, by dynamic programming on
        the budget they share); rows that pay better are bought, the others not. None when the rows that pay
        better do not fit, or the table would be too large."""
        c = self.c
        cost = self.row_costs(point)
        candidates = np.flatnonzero((cost < _NONE) & (c.value > cost))
        reduced = c.value[candidates] - point.mu * cost[candidates]
        if len(candidates) > core_size:
            core = candidates[np.argpartition(np.abs(reduced), core_size)[:core_size]]
        else:
            core = candidates
        take = np.zeros(c.n_rows, dtype=bool)
        take[candidates[reduced > 0]] = True
        take[core] = False
        core = core[cost[core] > 0]  # rows costing nothing are simply bought
        take[candidates[cost[candidates] == 0]] = True
        fixed = self._fixed_cost(point.hubs, point.local)
        spent = fixed + int(cost[take].sum())
        room = min(c.budget - spent, int(cost[core].sum()))
        if room < 0 or len(core) * (room + 1) > MAX_CORE_CELLS:
            return None
        weight, profit = cost[core], c.value[core] - cost[core]
        best = np.zeros(room + 1, dtype=np.int64)  # best[w]: most profit of core rows costing at most w
        kept = np.zeros((len(core), room + 1), dtype=bool)
        for i, (w, v) in enumerate(zip(weight.tolist(), profit.tolist(), strict=True)):
            if w > room:
                continue
            with_it = best[:-w] + v if w else best + v
            better = with_it > best[w:]
            kept[i, w:] = better
            best[w:] = np.where(better, with_it, best[w:])
        w = room
        for i in range(len(core) - 1, -1, -1):
            if kept[i, w]:
                take[core[i]] = True
                w -= int(weight[i])
        spent = fixed + int(cost[take].sum())
        objective = int(c.value[take].sum()) - spent
        return _Point(point.mu, point.bound, spent, point.hubs, point.local, take, objective)


def applicable(c: Compiled, p: _Plan | None) -> bool:
    return (
        c.budget is not None
        and p is not None
        and not c.unlimited.any()
        and (1 << len(p.hubs)) * (1 << p.width) * c.n_rows <= MAX_TABLE
    )


def solve_budget(c: Compiled, p: _Plan) -> Solution:
    """The best allocation found within the budget, with the bound: the least relaxation of each hub set, the
    largest over hub sets (each hub set is a branch of its own, which keeps the price of a hub, often large
    against the budget, from blurring the bound)."""
    relax = _Relaxation(c, p)
    searched = {h: _search(relax, h) for h in range(1 << len(p.hubs)) if relax.ev.hub_price[h] <= c.budget}
    bounds = {h: min(q.bound for q in points) for h, points in searched.items()}
    bound = max(bounds.values())
    repaired = (relax.repaired(q) for points in searched.values() for q in points)
    best = max((q for q in repaired if q.spent <= c.budget), key=lambda q: q.objective)
    # the relaxation's least point and the two around it, in each hub set that may hold a better allocation
    near = {h: sorted(points, key=lambda q: q.bound)[:3] for h, points in searched.items()}
    for core_size in CORE_SIZES:
        if bound - best.objective < 1.0:
            break
        for h, points in near.items():
            if bounds[h] - best.objective < 1.0:
                continue  # nothing better in this hub set
            for q in points:
                done = relax.completed(q, core_size)
                if done is not None and done.objective > best.objective:
                    best = done
    notes = [
        f"Lagrangian bound after {sum(map(len, searched.values()))} relaxations over {len(p.hubs)} shared item "
        f"groups, then {p.n_components} parts of at most {p.width}"
    ]
    chosen = relax.ev.chosen(best.hubs, best.local, best.take)
    optimal = bound - best.objective < 1.0  # objectives are whole minor units
    return Solution(chosen=chosen, strategy="lagrangian", upper_bound=bound, optimal=optimal, notes=notes)


def _search(relax: _Relaxation, h: int) -> list[_Point]:
    """Relaxations of hub set ``h`` down to the least one, by cutting planes: where the supporting lines of a
    multiplier that overspends and one that does not meet."""
    budget = relax.c.budget
    low = relax.at(1.0, h)
    if low.spent <= budget:  # the best allocation without the budget fits it
        return [low]
    high = relax.at(1.0 + float(relax.c.value.sum()), h)  # every purchase costs more than any row is worth
    points = [low, high]
    for _ in range(MAX_ITERATIONS):
        g_low, g_high = budget - low.spent, budget - high.spent  # the bound's slopes
        mu = (high.bound - low.bound + g_low * low.mu - g_high * high.mu) / (g_low - g_high)
        if not low.mu < mu < high.mu:
            mu = (low.mu + high.mu) / 2
        line = low.bound + g_low * (mu - low.mu)
        point = relax.at(mu, h)
        points.append(point)
        if point.spent == budget or point.bound <= line + 1e-9 * max(1.0, abs(line)):
            break  # the lines meet on the bound: its least value
        if point.spent > budget:
            low = point
        else:
            high = point
    return points
