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
minor units: an allocation within 1 of the bound is optimal, and says so. On the generated answers of 800 to
1,000,000 rows tried (docs/benchmarks/allocation.md) that was every one; when it is not, the result says how
far from the bound it may be, and the dispatcher tries the other strategies.

Rows without a value (a buyer buying as many rows as the budget allows) are ranked by how many are bought,
then by cost. Both are found the same way: the most rows within the budget, each row worth 1 and prices
counted mu >= 0 times; then the least cost of that many rows, each row worth nu and the budget dropped (the
cheapest allocation of that many rows fits it). Once the groups are fixed, the cheapest rows first are the
best purchase for both.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .compiled import Compiled
from .exhaustive import _NONE
from .hubs import Passes, _Plan
from .solution import Solution

# row costs kept per (hub set, local set, row), hub sets computed when needed and the least recently used
# dropped: 64 MB of int32 at the limit (1M rows with 16 sets all kept: 1M-row answers with a budget are exact
# in 11-30 s CPU, faster than the greedy), and a float64 copy of one hub set's share for a relaxation
MAX_TABLE = 1 << 24
MAX_ITERATIONS = 100
# rows x budget cells of the knapsack over the rows nearest the margin (bytes of its choice table)
MAX_CORE_CELLS = 1 << 25
CORE_SIZES = (256, 2048, 16384)


@dataclass
class _Point:
    """The relaxation's optimum at one multiplier, and the purchase it makes."""

    x: float  # the multiplier
    bound: float  # the relaxation's value: a bound on every allocation the stage admits
    slope: float  # of the bound in x (a subgradient)
    hubs: int
    local: np.ndarray  # per component: its local set
    take: np.ndarray  # per row: bought
    spent: int  # what the purchase costs at face value
    objective: int  # the purchase's objective in the stage's terms


@dataclass
class _Relaxed:
    value: float
    local: np.ndarray
    take: np.ndarray
    spent: int
    magnitude: float  # of the terms summed into value


class _Relaxation:
    def __init__(self, c: Compiled, p: _Plan) -> None:
        self.c, self.plan = c, p
        self.ev = ev = Passes(c, p)
        # int32 where every derivation's cost fits (halves the tables)
        small = int(ev.private_cost.max(initial=0)) < np.iinfo(np.int32).max
        self._dtype = np.int32 if small else np.int64
        # each hub set's row costs, computed when first needed; as many kept as MAX_TABLE cells allow
        self._tables: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._keep = max(1, MAX_TABLE // max(1, ev.n_local * c.n_rows))
        self.local_price = ev.local_price.T.astype(np.float64)  # (local set, component)
        self.hub_price = ev.hub_price.astype(np.float64)
        self.rows = np.arange(c.n_rows)
        self.solved = 0  # relaxations solved

    def table(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Row costs of hub set ``h`` per (local set, row), 0 where no derivation fits, and where one does."""
        if h in self._tables:
            self._tables.move_to_end(h)
            return self._tables[h]
        cost = np.stack([self.ev.row_cost(h, t) for t in range(self.ev.n_local)])
        usable = cost < _NONE
        table = np.where(usable, cost, 0).astype(self._dtype), usable
        self._tables[h] = table
        if len(self._tables) > self._keep:
            self._tables.popitem(last=False)
        return table

    def hub_sets(self) -> list[int]:
        return [h for h in range(len(self.hub_price)) if self.ev.hub_price[h] <= self.c.budget]

    def relax(self, h: int, worth: np.ndarray, kappa: float) -> _Relaxed:
        """The most of sum(worth - kappa x cost) over rows bought, less kappa x the groups' price, among
        purchases of hub set ``h``."""
        self.solved += 1
        cost, usable = self.table(h)
        gain = np.where(usable, worth - kappa * cost, 0.0)
        take = gain > 0
        parts = self.ev.per_component(np.where(take, gain, 0.0)) - kappa * self.local_price
        local = parts.argmax(axis=0)  # per component
        t_row = local[self.plan.component]
        taken = take[t_row, self.rows]
        spent = self.fixed_cost(h, local) + int(cost[t_row, self.rows][taken].sum(dtype=np.int64))
        value = float(parts.max(axis=0).sum() - kappa * self.hub_price[h])
        magnitude = float(np.abs(worth[taken]).sum()) + kappa * spent
        return _Relaxed(value, local, taken, spent, magnitude)

    def fixed_cost(self, h: int, local: np.ndarray) -> int:
        return int(self.ev.hub_price[h]) + int(self.ev.local_price[np.arange(len(local)), local].sum())

    def spent(self, q: _Point, take: np.ndarray, cost: np.ndarray) -> int:
        """What buying the rows ``take`` (at ``cost``, from ``row_costs``) with the point's groups costs."""
        return self.fixed_cost(q.hubs, q.local) + int(cost[take].sum())

    def cheapest_first(self, cost: np.ndarray) -> np.ndarray:
        """The rows some derivation fits, cheapest first (``cost`` from ``row_costs``)."""
        usable = np.flatnonzero(cost < _NONE)
        return usable[np.argsort(cost[usable], kind="stable")]

    def row_costs(self, h: int, local: np.ndarray) -> np.ndarray:
        """Each row's cost under those groups, _NONE where no derivation fits."""
        t_row = local[self.plan.component]
        cost, usable = self.table(h)
        return np.where(usable[t_row, self.rows], cost[t_row, self.rows], _NONE)


def _bound(value: float, magnitude: float) -> float:
    # a float sum of up to MAX_TABLE terms (relative error < 1e-9 of their magnitude): a margin keeps it a bound
    return value + 1e-9 * max(1.0, magnitude)


class _MostValue:
    """Rows with values: the most value - cost within the budget; multiplier mu >= 1 on prices."""

    start = 1.0
    best_for_its_groups = False  # a knapsack: refined by ``completed``

    def __init__(self, relax: _Relaxation) -> None:
        self.relax, self.c = relax, relax.c
        self.worth = self.c.value.astype(np.float64)
        self.end = 1.0 + float(self.c.value.sum())  # every purchase costs more than any row is worth

    def at(self, h: int, mu: float) -> _Point:
        c, budget = self.c, self.c.budget
        r = self.relax.relax(h, self.worth, mu)
        bound = _bound(r.value + (mu - 1.0) * budget, r.magnitude + (mu - 1.0) * budget)
        objective = int(c.value[r.take].sum()) - r.spent
        return _Point(mu, bound, budget - r.spent, h, r.local, r.take, r.spent, objective)

    def purchases(self, points: list[_Point]) -> list[_Point]:
        return [self._repaired(q) for q in points]

    def _point(self, q: _Point, take: np.ndarray, cost: np.ndarray) -> _Point:
        spent = self.relax.spent(q, take, cost)
        return _Point(q.x, q.bound, q.slope, q.hubs, q.local, take, spent, int(self.c.value[take].sum()) - spent)

    def _repaired(self, q: _Point) -> _Point:
        """The purchase cut down to the budget (worst value for money first), then filled up with the rows that
        fit (best value for money first)."""
        c = self.c
        cost = self.relax.row_costs(q.hubs, q.local)
        take = q.take.copy()
        spent = q.spent
        ratio = c.value / np.maximum(cost, 1)  # rows costing nothing come first and are never dropped
        if spent > c.budget:
            held = np.flatnonzero(take)
            held = held[np.lexsort((-cost[held], ratio[held]))]
            over = np.cumsum(cost[held]) - (spent - c.budget)
            k = int(np.searchsorted(over, 0))  # drop held[:k + 1] at most; the first k + 1 cover the excess
            take[held[: k + 1]] = False
            spent -= int(cost[held[: k + 1]].sum())
            if spent > c.budget:
                return q  # the groups alone cost too much
        free = np.flatnonzero(~take & (cost < _NONE) & (c.value > cost))
        free = free[np.lexsort((cost[free], -ratio[free]))]
        left = c.budget - spent
        for r, w in zip(free.tolist(), cost[free].tolist(), strict=True):
            if w <= left:
                take[r] = True
                left -= w
                if left == 0:
                    break
        return self._point(q, take, cost)

    def completed(self, q: _Point, core_size: int) -> _Point | None:
        """The best purchase of the point's groups when only the ``core_size`` rows nearest to paying their
        price at the point's multiplier are decided exactly (a knapsack over them, by dynamic programming on
        the budget they share); rows that pay better are bought, the others not. None when the rows that pay
        better do not fit, or the table would be too large."""
        c = self.c
        cost = self.relax.row_costs(q.hubs, q.local)
        candidates = np.flatnonzero((cost < _NONE) & (c.value > cost))
        reduced = c.value[candidates] - q.x * cost[candidates]
        if len(candidates) > core_size:
            core = candidates[np.argpartition(np.abs(reduced), core_size)[:core_size]]
        else:
            core = candidates
        take = np.zeros(c.n_rows, dtype=bool)
        take[candidates[reduced > 0]] = True
        take[core] = False
        core = core[cost[core] > 0]  # rows costing nothing are simply bought
        take[candidates[cost[candidates] == 0]] = True
        spent = self.relax.spent(q, take, cost)
        room = min(c.budget - spent, int(cost[core].sum()))
        if room < 0 or len(core) * (room + 1) > MAX_CORE_CELLS:
            return None
        weight, profit = cost[core], c.value[core] - cost[core]
        best = np.zeros(room + 1, dtype=np.int64)  # best[w]: most profit of core rows costing at most w
        kept = np.zeros((len(core), room + 1), dtype=bool)
        for i, (w, v) in enumerate(zip(weight.tolist(), profit.tolist(), strict=True)):
            if w > room:
                continue
            with_it = best[:-w] + v
            better = with_it > best[w:]
            kept[i, w:] = better
            best[w:] = np.where(better, with_it, best[w:])
        w = room
        for i in range(len(core) - 1, -1, -1):
            if kept[i, w]:
                take[core[i]] = True
                w -= int(weight[i])
        return self._point(q, take, cost)


class _MostRows:
    """Rows without a value, first: the most rows within the budget; each row worth 1, multiplier mu >= 0."""

    start = 0.0
    best_for_its_groups = True  # the cheapest rows first

    def __init__(self, relax: _Relaxation) -> None:
        self.relax, self.c = relax, relax.c
        self.worth = np.ones(self.c.n_rows)
        self.end = 1.0 + self.c.n_rows  # every purchase costs more than all rows are worth

    def at(self, h: int, mu: float) -> _Point:
        budget = self.c.budget
        r = self.relax.relax(h, self.worth, mu)
        bound = _bound(r.value + mu * budget, r.magnitude + mu * budget)
        return _Point(mu, bound, budget - r.spent, h, r.local, r.take, r.spent, int(r.take.sum()))

    def purchases(self, points: list[_Point]) -> list[_Point]:
        """Each point's groups with the cheapest rows first, as many as the budget allows (the most rows those
        groups can buy)."""
        out = []
        for q in points:
            cost = self.relax.row_costs(q.hubs, q.local)
            room = self.c.budget - self.relax.fixed_cost(q.hubs, q.local)
            if room < 0:
                continue
            order = self.relax.cheapest_first(cost)
            n = int(np.searchsorted(np.cumsum(cost[order]), room, side="right"))
            take = np.zeros(self.c.n_rows, dtype=bool)
            take[order[:n]] = True
            out.append(_Point(q.x, q.bound, q.slope, q.hubs, q.local, take, self.relax.spent(q, take, cost), n))
        return out


class _Cheapest:
    """Rows without a value, then: the least cost of ``rows`` rows; each row worth nu >= 0 and prices counted
    once. Objective: minus the cost. The budget is left out: the cheapest allocation of that many rows fits it,
    since one does."""

    start = 0.0
    best_for_its_groups = True  # the cheapest rows

    def __init__(self, relax: _Relaxation, rows: int) -> None:
        self.relax, self.c, self.rows = relax, relax.c, rows
        self.end = 1.0 + float(relax.ev.hub_price.max() + relax.ev.local_price.sum() + relax.ev.private_cost.sum())

    def at(self, h: int, nu: float) -> _Point:
        r = self.relax.relax(h, np.full(self.c.n_rows, nu), 1.0)
        count = int(r.take.sum())
        bound = _bound(r.value - nu * self.rows, r.magnitude + nu * self.rows)
        return _Point(nu, bound, count - self.rows, h, r.local, r.take, r.spent, -r.spent)

    def purchases(self, points: list[_Point]) -> list[_Point]:
        """Each point's groups with their ``rows`` cheapest rows, where they have that many."""
        out = []
        for q in points:
            cost = self.relax.row_costs(q.hubs, q.local)
            order = self.relax.cheapest_first(cost)[: self.rows]
            if len(order) < self.rows:
                continue  # these groups cannot buy that many rows
            take = np.zeros(self.c.n_rows, dtype=bool)
            take[order] = True
            spent = self.relax.spent(q, take, cost)
            if spent <= self.c.budget:
                out.append(_Point(q.x, q.bound, q.slope, q.hubs, q.local, take, spent, -spent))
        return out


def applicable(c: Compiled, p: _Plan | None) -> bool:
    """A budget binds, one hub set's cost table fits, and the rows all have values or none has (as in a market
    quote)."""
    return (
        c.budget is not None
        and p is not None
        and (not c.unlimited.any() or bool(c.unlimited.all()))
        and (1 << p.width) * c.n_rows <= MAX_TABLE
    )


def solve_budget(c: Compiled, p: _Plan) -> Solution:
    """The best allocation found within the budget, with the bound: the least relaxation of each hub set, the
    largest over hub sets (each hub set is a branch of its own)."""
    relax = _Relaxation(c, p)
    if c.unlimited.any():
        most, bound = _solve_stage(relax, _MostRows(relax))
        rows_proven = bound - most.objective < 1.0
        known = _Point(0.0, np.inf, 0.0, most.hubs, most.local, most.take, most.spent, -most.spent)
        best, bound = _solve_stage(relax, _Cheapest(relax, most.objective), known)
        optimal = rows_proven and bound - best.objective < 1.0
    else:
        best, bound = _solve_stage(relax, _MostValue(relax))
        optimal = bound - best.objective < 1.0  # objectives are whole minor units
    notes = [
        f"Lagrangian bound after {relax.solved} relaxations over {len(p.hubs)} shared item groups, then "
        f"{p.n_components} parts of at most {p.width}"
    ]
    chosen = relax.ev.chosen(best.hubs, best.local, best.take)
    return Solution(chosen=chosen, strategy="lagrangian", upper_bound=bound, optimal=optimal, notes=notes)


def _solve_stage(relax: _Relaxation, stage, known: _Point | None = None) -> tuple[_Point, float]:
    """The best purchase found (or ``known``, a purchase the stage admits), and the bound.

    With many hub sets, most cannot hold the best purchase: each is first bounded at one multiplier (that of
    the least bound of the most promising one, searched first), and searched down to its least bound only if
    that first bound leaves room above the best purchase found so far."""
    hub_sets = relax.hub_sets()
    best, bounds = known, {}

    def search(h: int, start: _Point | None = None) -> list[_Point]:
        nonlocal best
        points = _least(stage, h, start)
        if points:  # else the hub set admits no purchase
            bounds[h] = min(q.bound for q in points)
            best = _best_of(relax, stage, points, bounds[h], best)
        return points

    if len(hub_sets) == 1:
        search(hub_sets[0])
    else:
        at_start = {h: stage.at(h, stage.start) for h in hub_sets}
        first = max(hub_sets, key=lambda h: at_start[h].bound)
        points = search(first, at_start[first])
        x = min(points, key=lambda q: q.bound).x if points else stage.start
        probes = {h: stage.at(h, x).bound for h in hub_sets if h != first}
        for h in sorted(probes, key=lambda h: -probes[h]):
            if best is not None and probes[h] - best.objective < 1.0:
                bounds[h] = probes[h]  # nothing better in this hub set
            else:
                search(h, at_start[h])
    bound = max(bounds.values(), default=np.inf)  # (no hub set searched: nothing proven)
    return best, bound


def _best_of(relax: _Relaxation, stage, points: list[_Point], bound: float, best: _Point | None) -> _Point:
    """The best of ``best`` and the purchases of one hub set's relaxations, refined (for a knapsack) over the
    rows at the margin of its least relaxation and the two around it until one meets the hub set's bound."""
    for q in stage.purchases(points):
        if q.spent <= relax.c.budget and (best is None or q.objective > best.objective):
            best = q
    if stage.best_for_its_groups:
        return best
    near = sorted(points, key=lambda q: q.bound)[:3]
    for core_size in CORE_SIZES:
        if best is not None and bound - best.objective < 1.0:
            break
        for q in near:
            done = stage.completed(q, core_size)
            if done is not None and (best is None or done.objective > best.objective):
                best = done
    return best


def _least(stage, h: int, start: _Point | None = None) -> list[_Point]:
    """Relaxations of hub set ``h`` down to the least one, by cutting planes: where the supporting lines of a
    multiplier below the least (slope < 0) and one above it meet. ``start``: its relaxation at the stage's
    start, if solved already."""
    low = start or stage.at(h, stage.start)
    if low.slope >= 0:  # the least is at the start
        return [low]
    high = stage.at(h, stage.end)
    points = [low, high]
    if high.slope < 0:
        return []  # decreasing without end: the hub set admits no allocation
    for _ in range(MAX_ITERATIONS):
        x = (high.bound - low.bound + low.slope * low.x - high.slope * high.x) / (low.slope - high.slope)
        if not low.x < x < high.x:
            x = (low.x + high.x) / 2
        line = low.bound + low.slope * (x - low.x)
        point = stage.at(h, x)
        points.append(point)
        if point.slope == 0 or point.bound <= line + 1e-9 * max(1.0, abs(line)):
            break  # the lines meet on the bound: its least value
        if point.slope < 0:
            low = point
        else:
            high = point
    return points
