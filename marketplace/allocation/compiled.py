"""Turns a Problem into flat integer arrays the solvers share, dropping what cannot matter.

Free items are left out of derivations (they are always available), derivations that are supersets of
another derivation of the same row are dropped (prices are >= 0, so they are never cheaper), and rows worth
nothing are left to the zero-cost fill step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import Problem


@dataclass
class Compiled:
    """Candidate rows and their derivations over priced items, as CSR-style arrays.

    Candidate derivation k belongs to row `deriv_row[k]`, is derivation `deriv_orig[k]` of that row in the
    problem, and uses priced items `deriv_items[deriv_ptr[k]:deriv_ptr[k + 1]]`. Derivations of one row are
    contiguous: `row_ptr[r]:row_ptr[r + 1]` for candidate row r, whose problem index is `row_index[r]`.
    """

    row_index: np.ndarray  # int64, problem row index of each candidate row
    value: np.ndarray  # int64, 0 for unlimited rows
    unlimited: np.ndarray  # bool
    row_ptr: np.ndarray  # int64, len = n_rows + 1
    deriv_row: np.ndarray  # int64, candidate row of each derivation
    deriv_orig: np.ndarray  # int64
    deriv_ptr: np.ndarray  # int64, len = n_derivs + 1
    deriv_items: np.ndarray  # int64, compiled item indices
    price: np.ndarray  # int64, > 0
    item_ids: list[str]
    budget: int | None  # None when absent or not binding
    _demand: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return len(self.row_index)

    @property
    def n_items(self) -> int:
        return len(self.price)

    @property
    def n_derivs(self) -> int:
        return len(self.deriv_row)

    def incidences(self, derivs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in `derivs`, item) for every item of the given derivations, in order."""
        starts = self.deriv_ptr[derivs]
        lengths = self.deriv_ptr[derivs + 1] - starts
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return np.repeat(np.arange(len(derivs)), lengths), self.deriv_items[np.repeat(starts, lengths) + offsets]

    def is_closure(self) -> bool:
        """One derivation per row and no binding budget: a maximum-weight closure problem."""
        return self.budget is None and bool(np.all(np.diff(self.row_ptr) == 1))

    def demand(self) -> np.ndarray:
        """How many distinct rows could use each item (computed once)."""
        if self._demand is None:
            inc_deriv = np.repeat(np.arange(self.n_derivs), np.diff(self.deriv_ptr))
            inc_row = self.deriv_row[inc_deriv]
            single = np.diff(self.row_ptr)[inc_row] == 1
            # single-derivation rows use each of their items once; only multi-derivation rows need dedup
            counts = np.bincount(self.deriv_items[single], minlength=self.n_items)
            if not single.all():
                width = max(1, self.n_items)
                pairs = np.unique(inc_row[~single] * width + self.deriv_items[~single])
                counts += np.bincount(pairs % width, minlength=self.n_items)
            self._demand = counts
        return self._demand


def _prune(derivations: list[tuple[int, frozenset]]) -> list[tuple[int, frozenset]]:
    """Keep derivations that are not supersets of another (ties: the first one)."""
    derivations = sorted(derivations, key=lambda kd: (len(kd[1]), kd[0]))
    kept: list[tuple[int, frozenset]] = []
    for k, d in derivations:
        if not any(e <= d for _, e in kept):
            kept.append((k, d))
    return kept


def compile_problem(problem: Problem) -> Compiled:
    prices = problem.prices
    # every priced item gets an index up front so the hot loop is one dict lookup per item; free items map
    # to None and drop out
    item_ids = [i for i, p in prices.items() if p > 0]
    index = {i: j for j, i in enumerate(item_ids)}
    get = index.get

    row_index: list[int] = []
    value: list[int] = []
    unlimited: list[bool] = []
    row_ptr = [0]
    deriv_row: list[int] = []
    deriv_orig: list[int] = []
    deriv_ptr = [0]
    deriv_items: list[int] = []

    for s, row in enumerate(problem.rows):
        v = row.value
        derivations = row.derivations
        if (v is not None and v <= 0) or not derivations:
            continue
        r = len(row_index)
        row_index.append(s)
        value.append(0 if v is None else v)
        unlimited.append(v is None)
        if len(derivations) == 1:
            deriv_row.append(r)
            deriv_orig.append(0)
            ids = list(map(get, derivations[0]))
            if None in ids:
                ids = [j for j in ids if j is not None]
            deriv_items.extend(ids)
            deriv_ptr.append(len(deriv_items))
        else:
            priced = [(k, frozenset(j for j in map(get, d) if j is not None)) for k, d in enumerate(derivations)]
            for k, d in _prune(priced):
                deriv_row.append(r)
                deriv_orig.append(k)
                deriv_items.extend(d)
                deriv_ptr.append(len(deriv_items))
        row_ptr.append(len(deriv_row))

    items = np.array(deriv_items, dtype=np.int64)
    # each derivation's items in index order: a derivation is a set, whose iteration order follows Python's
    # per-process string hashing, and the solvers break ties by item order (same problem, same allocation)
    width = max(1, len(item_ids))
    key = np.repeat(np.arange(len(deriv_ptr) - 1, dtype=np.int64) * width, np.diff(deriv_ptr)) + items
    items = np.sort(key, kind="stable") % width  # nearly sorted already: a merge sort's best case
    # keep only items some derivation uses, renumbered densely
    is_used = np.bincount(items, minlength=len(item_ids)) > 0
    used = np.flatnonzero(is_used)
    items = (np.cumsum(is_used) - 1)[items]
    all_prices = np.fromiter((prices[i] for i in item_ids), dtype=np.int64, count=len(item_ids))
    price = all_prices[used]
    budget = problem.budget
    if budget is not None and int(price.sum()) <= budget:
        budget = None  # buying every useful item fits: the budget cannot bind
    return Compiled(
        row_index=np.array(row_index, dtype=np.int64),
        value=np.array(value, dtype=np.int64),
        unlimited=np.array(unlimited, dtype=bool),
        row_ptr=np.array(row_ptr, dtype=np.int64),
        deriv_row=np.array(deriv_row, dtype=np.int64),
        deriv_orig=np.array(deriv_orig, dtype=np.int64),
        deriv_ptr=np.array(deriv_ptr, dtype=np.int64),
        deriv_items=items.astype(np.int64),
        price=price,
        item_ids=[item_ids[j] for j in used.tolist()],
        budget=budget,
    )
