"""Greedy allocation for very large instances: best marginal value per marginal cost, then repair.

1. Take rows in order of value per *shared* marginal cost, where an item's price is split among the rows
   that could use it (so a pair of rows can jointly pay for an item neither pays for alone), while the
   shared cost is covered by the value and the real marginal cost fits the budget. Unlimited rows go first.
2. Drop every bought item whose price exceeds the value of the rows that cannot do without it.
3. Add every remaining row whose real marginal cost its value covers, best ratio first, within budget.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from .compiled import Compiled
from .solution import Solution


class _State:
    def __init__(self, c: Compiled) -> None:
        self.c = c
        self.price = c.price.tolist()
        self.value = c.value.tolist()
        self.unlimited = c.unlimited.tolist()
        self.deriv_row = c.deriv_row.tolist()
        self.row_ptr = c.row_ptr.tolist()
        ptr = c.deriv_ptr.tolist()
        flat = c.deriv_items.tolist()
        self.items_of = [flat[ptr[k] : ptr[k + 1]] for k in range(c.n_derivs)]
        # derivations using each item, as CSR
        inc_deriv = np.repeat(np.arange(c.n_derivs), np.diff(c.deriv_ptr))
        order = np.argsort(c.deriv_items, kind="stable")
        counts = np.bincount(c.deriv_items, minlength=c.n_items)
        self.item_ptr = np.concatenate([[0], np.cumsum(counts)]).tolist()
        self.item_derivs = inc_deriv[order].tolist()
        self.share = (c.price / np.maximum(c.demand(), 1)).tolist()
        self.bought = [False] * c.n_items
        self.chosen = [-1] * c.n_rows
        self.remaining = math.inf if c.budget is None else c.budget
        self.cost = [sum(self.price[j] for j in its) for its in self.items_of]
        self.shared_cost = [sum(self.share[j] for j in its) for its in self.items_of]

    def buy_item(self, j: int, on_change) -> None:
        self.bought[j] = True
        self.remaining -= self.price[j]
        p, s = self.price[j], self.share[j]
        for k in self.item_derivs[self.item_ptr[j] : self.item_ptr[j + 1]]:
            self.cost[k] -= p
            self.shared_cost[k] -= s
            on_change(k)

    def unbuy_item(self, j: int) -> None:
        self.bought[j] = False
        self.remaining += self.price[j]
        p, s = self.price[j], self.share[j]
        for k in self.item_derivs[self.item_ptr[j] : self.item_ptr[j + 1]]:
            self.cost[k] += p
            self.shared_cost[k] += s


def _take_by_ratio(st: _State, shared: bool) -> None:
    """Lazy max-heap of derivations keyed by value / (shared or real) marginal cost."""
    version = [0] * st.c.n_derivs
    heap: list[tuple[int, float, int, int]] = []

    def key(k: int) -> tuple[int, float]:
        r = st.deriv_row[k]
        if st.unlimited[r]:
            return (0, float(st.cost[k]))  # unlimited rows first, cheapest first
        cost = st.shared_cost[k] if shared else st.cost[k]
        return (1, -st.value[r] / cost if cost > 1e-12 else -math.inf)

    def push(k: int) -> None:
        if st.chosen[st.deriv_row[k]] >= 0:
            return
        version[k] += 1
        cls, ratio = key(k)
        heapq.heappush(heap, (cls, ratio, k, version[k]))

    for k in range(st.c.n_derivs):
        if st.chosen[st.deriv_row[k]] < 0:
            cls, ratio = key(k)
            heap.append((cls, ratio, k, 0))
    heapq.heapify(heap)
    while heap:
        _, _, k, ver = heapq.heappop(heap)
        r = st.deriv_row[k]
        if ver != version[k] or st.chosen[r] >= 0:
            continue
        if st.cost[k] > st.remaining:
            continue  # comes back if some of its items get bought
        if not st.unlimited[r]:
            needed = st.shared_cost[k] if shared else st.cost[k]
            if st.value[r] < needed - 1e-9:
                continue
        st.chosen[r] = k
        for j in st.items_of[k]:
            if not st.bought[j]:
                st.buy_item(j, push)


def _drop_unpaid_items(st: _State) -> None:
    """Unbuy items that cost more than the value of the rows that depend on them alone."""
    users: dict[int, set[int]] = {}
    for r, k in enumerate(st.chosen):
        if k >= 0:
            for j in st.items_of[k]:
                users.setdefault(j, set()).add(r)

    def alternative(r: int, without: int) -> int:
        for k in range(st.row_ptr[r], st.row_ptr[r + 1]):
            its = st.items_of[k]
            if without not in its and all(st.bought[i] for i in its):
                return k
        return -1

    def needed(j: int) -> bool:
        # stop as soon as the rows that would be lost pay for the item: most items are needed
        loss, price = 0, st.price[j]
        for r in users.get(j, ()):
            if alternative(r, j) < 0:
                if st.unlimited[r]:
                    return True
                loss += st.value[r]
                if loss >= price:
                    return True
        return False

    for _ in range(10):
        changed = False
        for j in sorted((j for j in range(st.c.n_items) if st.bought[j]), key=lambda j: -st.price[j]):
            if not st.bought[j] or needed(j):
                continue
            changed = True
            for r in list(users.get(j, ())):
                alt = alternative(r, j)
                for i in st.items_of[st.chosen[r]]:
                    users[i].discard(r)
                st.chosen[r] = alt
                if alt >= 0:
                    for i in st.items_of[alt]:
                        users.setdefault(i, set()).add(r)
            st.unbuy_item(j)
        if not changed:
            break


def _take_all_that_pay(st: _State, shared: bool) -> None:
    """Without a budget the order does not matter: a row that pays for its (shared) marginal cost keeps
    doing so as more items are bought, so take every such row at once until nothing changes (the same
    fixed point the ratio heap reaches, in a few vectorised rounds)."""
    c = st.c
    inc_deriv = np.repeat(np.arange(c.n_derivs), np.diff(c.deriv_ptr))
    weight = np.asarray(st.share if shared else st.price, dtype=float)[c.deriv_items]
    chosen = np.array(st.chosen, dtype=np.int64)
    bought = np.array(st.bought, dtype=bool)
    value = c.value.astype(float)
    while True:
        unpaid = np.bincount(inc_deriv, weights=weight * ~bought[c.deriv_items], minlength=c.n_derivs)
        best = np.minimum.reduceat(unpaid, c.row_ptr[:-1])
        pays = (chosen < 0) & (c.unlimited | (value >= best - 1e-9))
        if not pays.any():
            break
        # the first derivation of each paying row that reaches its row's minimum
        at_min = np.flatnonzero(pays[c.deriv_row] & (unpaid <= best[c.deriv_row]))
        rows, first = np.unique(c.deriv_row[at_min], return_index=True)
        chosen[rows] = at_min[first]
        taken = np.zeros(c.n_derivs, dtype=bool)
        taken[at_min[first]] = True
        bought[c.deriv_items[taken[inc_deriv]]] = True
    st.chosen = chosen.tolist()
    for j in np.flatnonzero(bought & ~np.array(st.bought, dtype=bool)).tolist():
        st.buy_item(j, lambda k: None)


def solve_greedy(c: Compiled) -> Solution:
    st = _State(c)
    take = _take_by_ratio if c.budget is not None else _take_all_that_pay
    take(st, shared=True)
    _drop_unpaid_items(st)
    take(st, shared=False)
    return Solution(
        chosen=np.array(st.chosen, dtype=np.int64),
        strategy="greedy",
        upper_bound=math.inf,
        optimal=False,
    )


def cost_sharing_bound(c: Compiled, unlimited_bought: int) -> float:
    """A valid upper bound in O(n log n): split each item's price among the rows that could use it, and price
    the budget with a Lagrange multiplier.

    Any allocation pays at least the shared cost c_r of each row it buys, so for every lambda >= 0 its finite
    objective is at most sum over finite rows of max(0, v_r - (1 + lambda) c_r), minus (1 + lambda) times
    the shared costs of the cheapest `unlimited_bought` unlimited rows, plus lambda B. The bound is convex
    and piecewise linear in lambda; we take its minimum over the breakpoints (lambda = 0 without a budget).
    """
    if c.n_rows == 0:
        return 0.0
    inc_deriv = np.repeat(np.arange(c.n_derivs), np.diff(c.deriv_ptr))
    share = c.price / np.maximum(c.demand(), 1)
    deriv_cost = np.bincount(inc_deriv, weights=share[c.deriv_items], minlength=c.n_derivs)
    row_cost = np.minimum.reduceat(deriv_cost, c.row_ptr[:-1])
    finite = ~c.unlimited
    v = c.value[finite].astype(float)
    cost = row_cost[finite]
    unlimited_cost = float(np.sort(row_cost[c.unlimited])[:unlimited_bought].sum())
    if c.budget is None:
        return float(np.maximum(0.0, v - cost).sum()) - unlimited_cost
    # breakpoints lambda_r = v_r / c_r - 1 where row r stops paying off; rows with c_r = 0 always pay off
    with np.errstate(divide="ignore"):
        lam = np.where(cost > 0, v / np.where(cost > 0, cost, 1.0) - 1.0, np.inf)
    order = np.argsort(-lam)
    lam, v, cost = lam[order], v[order], cost[order]
    candidates = np.concatenate([[0.0], lam[np.isfinite(lam) & (lam > 0)]])
    # rows with lambda_r > candidate contribute; as lam is sorted descending that is a prefix
    upto = np.searchsorted(-lam, -candidates, side="left")
    cum_v = np.concatenate([[0.0], np.cumsum(v)])
    cum_c = np.concatenate([[0.0], np.cumsum(cost)])
    values = cum_v[upto] - (1 + candidates) * (cum_c[upto] + unlimited_cost) + candidates * c.budget
    return float(values.min())
