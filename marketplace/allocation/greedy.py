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
        self.deriv_ptr = c.deriv_ptr.tolist()
        self.deriv_items = c.deriv_items.tolist()
        # derivations using each item, as CSR
        self.inc_deriv = inc_deriv = np.repeat(np.arange(c.n_derivs), np.diff(c.deriv_ptr))
        order = np.argsort(c.deriv_items, kind="stable")
        counts = np.bincount(c.deriv_items, minlength=c.n_items)
        self.item_ptr = np.concatenate([[0], np.cumsum(counts)]).tolist()
        self.item_derivs_array = inc_deriv[order]
        self.item_derivs = self.item_derivs_array.tolist()
        share = c.price / np.maximum(c.demand(), 1)
        self.share = share.tolist()
        self.bought = [False] * c.n_items
        self.chosen = [-1] * c.n_rows
        self.remaining = math.inf if c.budget is None else c.budget
        # prices are integers below 2**53, so the float sums are exact
        self.cost = (
            np.bincount(inc_deriv, weights=c.price[c.deriv_items], minlength=c.n_derivs).astype(np.int64).tolist()
        )
        self.shared_cost = np.bincount(inc_deriv, weights=share[c.deriv_items], minlength=c.n_derivs).tolist()

    def items_of(self, k: int) -> list[int]:
        """Derivation k's items (sliced when asked for: most derivations are never looked at one by one)."""
        return self.deriv_items[self.deriv_ptr[k] : self.deriv_ptr[k + 1]]

    def derivs_using(self, j: int) -> list[int]:
        return self.item_derivs[self.item_ptr[j] : self.item_ptr[j + 1]]

    def buy_item(self, j: int) -> None:
        self.bought[j] = True
        self.remaining -= self.price[j]
        p, s = self.price[j], self.share[j]
        cost, shared_cost = self.cost, self.shared_cost
        for k in self.derivs_using(j):
            cost[k] -= p
            shared_cost[k] -= s

    def unbuy_item(self, j: int) -> None:
        self.bought[j] = False
        self.remaining += self.price[j]
        p, s = self.price[j], self.share[j]
        for k in self.derivs_using(j):
            self.cost[k] += p
            self.shared_cost[k] += s


class _RatioQueue:
    """Derivations of rows not yet taken, best first: unlimited rows by marginal cost, then finite rows by
    value per marginal cost (ties by index).

    Buying an item lowers the marginal cost of every derivation that uses it, which must then come earlier.
    Most items are used by a row or two, whose derivations go into a heap. An item used by a large share of
    all derivations and of what is still queued (an access fee, a popular shared triple) would flood that
    heap, so instead the queue's sorted run is rebuilt with numpy. An entry is current while its key equals
    `key[k]`.
    """

    def __init__(self, st: _State, cost: list) -> None:
        self.st, self.cost = st, cost
        c = st.c
        self.key = [0.0] * c.n_derivs
        self.heap: list[tuple[float, int]] = []
        self.unlimited_heap: list[tuple[float, int]] = []
        open_row = self._of_open_rows()
        for k in np.flatnonzero(open_row & c.unlimited[c.deriv_row]).tolist():
            self._push(k)
        self.run_ids: list[int] = []
        self.run_keys: list[float] = []
        self.at = 0
        self._rebuild(np.flatnonzero(open_row & ~c.unlimited[c.deriv_row]))

    def _of_open_rows(self) -> np.ndarray:
        """Per derivation: its row is not taken yet."""
        return np.array(self.st.chosen, dtype=np.int64)[self.st.c.deriv_row] < 0

    def _finite_key(self, k: int) -> float:
        cost = self.cost[k]
        return -self.st.value[self.st.deriv_row[k]] / cost if cost > 1e-12 else -math.inf

    def _push(self, k: int) -> None:
        if self.st.unlimited[self.st.deriv_row[k]]:
            self.key[k] = key = float(self.cost[k])
            heapq.heappush(self.unlimited_heap, (key, k))
        else:
            self.key[k] = key = self._finite_key(k)
            heapq.heappush(self.heap, (key, k))

    def _rebuild(self, ids: np.ndarray) -> None:
        """The sorted run becomes `ids` (finite derivations of open rows) by their current keys."""
        cost = np.asarray(self.cost, dtype=float)[ids]
        value = self.st.c.value[self.st.c.deriv_row[ids]]
        with np.errstate(divide="ignore"):
            keys = np.where(cost > 1e-12, -value / np.where(cost > 1e-12, cost, 1.0), -np.inf)
        order = np.lexsort((ids, keys))
        self.run_ids, self.run_keys, self.at = ids[order].tolist(), keys[order].tolist(), 0
        current = np.array(self.key)
        current[ids] = keys
        self.key = current.tolist()

    def lowered(self, j: int) -> None:
        """Item j was bought: the derivations using it cost less."""
        chosen, deriv_row = self.st.chosen, self.st.deriv_row
        users = self.st.derivs_using(j)
        # Rebuilding costs O(all derivations) in numpy: only for an item used by a sixty-fourth of them at
        # least (a bounded number of items), and only while its users are a sixteenth of what is queued.
        if 16 * len(users) <= len(self.run_ids) - self.at or 64 * len(users) < len(self.key):
            for k in users:
                if chosen[deriv_row[k]] < 0:
                    self._push(k)
            return
        c = self.st.c
        open_row = self._of_open_rows()
        affected = self.st.item_derivs_array[self.st.item_ptr[j] : self.st.item_ptr[j + 1]]
        affected = affected[open_row[affected]]
        for k in affected[c.unlimited[c.deriv_row[affected]]].tolist():
            self._push(k)
        queued = np.zeros(c.n_derivs, dtype=bool)
        queued[self.run_ids[self.at :]] = True
        queued[affected[~c.unlimited[c.deriv_row[affected]]]] = True
        # heap entries of rebuilt derivations stay in the heap and are skipped as stale
        self._rebuild(np.flatnonzero(queued))

    def pop(self) -> int:
        """The best current derivation, or -1 when none is left (the caller checks that its row is open)."""
        key, unlimited_heap = self.key, self.unlimited_heap
        while unlimited_heap:
            entry, k = heapq.heappop(unlimited_heap)
            if key[k] == entry:
                return k
        heap, run_ids, run_keys = self.heap, self.run_ids, self.run_keys
        while True:
            if self.at < len(run_ids) and not (heap and heap[0] < (run_keys[self.at], run_ids[self.at])):
                entry, k = run_keys[self.at], run_ids[self.at]
                self.at += 1
            elif heap:
                entry, k = heapq.heappop(heap)
            else:
                return -1
            if key[k] == entry:
                return k


def _take_by_ratio(st: _State, shared: bool) -> None:
    """Take derivations best ratio first while they pay for their (shared) marginal cost and fit the budget."""
    cost = st.shared_cost if shared else st.cost
    queue = _RatioQueue(st, cost)
    chosen, deriv_row, value, unlimited = st.chosen, st.deriv_row, st.value, st.unlimited
    while (k := queue.pop()) >= 0:
        r = deriv_row[k]
        if chosen[r] >= 0:
            continue
        if st.cost[k] > st.remaining:
            continue  # comes back if some of its items get bought
        if not unlimited[r] and value[r] < cost[k] - 1e-9:
            continue
        chosen[r] = k
        for j in st.items_of(k):
            if not st.bought[j]:
                st.buy_item(j)
                queue.lowered(j)


def _chosen_pairs(st: _State) -> tuple[np.ndarray, np.ndarray]:
    """(item, row) for every item of every chosen derivation."""
    chosen = np.array(st.chosen, dtype=np.int64)
    rows = np.flatnonzero(chosen >= 0)
    position, items = st.c.incidences(chosen[rows])
    return items, rows[position]


def _drop_unpaid_items(st: _State) -> None:
    """Unbuy items that cost more than the value of the rows that depend on them alone."""
    for _ in range(10):
        if not _drop_pass(st):
            break


def _without_alternative(st: _State) -> np.ndarray:
    """Per candidate row: no derivation but (at most) its chosen one has all its items bought."""
    c = st.c
    if c.n_rows == 0:
        return np.zeros(0, dtype=bool)
    missing = np.bincount(st.inc_deriv, weights=~np.array(st.bought, dtype=bool)[c.deriv_items], minlength=c.n_derivs)
    return np.add.reduceat((missing == 0).astype(np.int64), c.row_ptr[:-1]) <= 1


def _alternative(st: _State, r: int, without: int) -> int:
    """A derivation of row r whose items are all bought, other than item `without`, or -1."""
    for k in range(st.row_ptr[r], st.row_ptr[r + 1]):
        its = st.items_of(k)
        if without not in its and all(st.bought[i] for i in its):
            return k
    return -1


def _drop_pass(st: _State) -> bool:
    """One pass over the bought items, dearest first; True if some item was unbought."""
    c = st.c
    items, rows = _chosen_pairs(st)
    # Most items are needed by rows that have no bought alternative and pay for them: settled in numpy.
    # Within a pass an item may stop being needed as others go; the next pass sees it.
    sole = _without_alternative(st)[rows]
    worth = np.where(c.unlimited[rows[sole]], np.inf, c.value[rows[sole]])
    needed_surely = np.bincount(items[sole], weights=worth, minlength=c.n_items) >= c.price
    item_ptr = np.concatenate([[0], np.cumsum(np.bincount(items, minlength=c.n_items))]).tolist()
    rows_by_item = rows[np.argsort(items, kind="stable")].tolist()
    users: dict[int, set[int]] = {}

    def users_of(j: int) -> set[int]:
        if j not in users:
            users[j] = set(rows_by_item[item_ptr[j] : item_ptr[j + 1]])
        return users[j]

    def needed(j: int) -> bool:
        # stop as soon as the rows that would be lost pay for the item
        loss, price = 0, st.price[j]
        for r in users_of(j):
            if _alternative(st, r, j) < 0:
                if st.unlimited[r]:
                    return True
                loss += st.value[r]
                if loss >= price:
                    return True
        return False

    doubtful = np.flatnonzero(np.array(st.bought, dtype=bool) & ~needed_surely)
    changed = False
    for j in doubtful[np.argsort(-c.price[doubtful], kind="stable")].tolist():
        if not st.bought[j] or needed(j):
            continue
        changed = True
        for r in list(users_of(j)):
            alt = _alternative(st, r, j)
            for i in st.items_of(st.chosen[r]):
                users_of(i).discard(r)
            st.chosen[r] = alt
            if alt >= 0:
                for i in st.items_of(alt):
                    users_of(i).add(r)
        st.unbuy_item(j)
    return changed


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
        st.buy_item(j)


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
