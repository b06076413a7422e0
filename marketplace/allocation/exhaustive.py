"""Exact allocation of small instances by enumerating every set of priced items with numpy (no HiGHS start).

Without a budget only the items several rows share are enumerated (each row then picks its cheapest
derivation on its own); with one, every set of priced items is.
An item no chosen derivation uses only adds cost, so the best set never holds one.
"""

from __future__ import annotations

import numpy as np

from .compiled import Compiled
from .solution import Solution

# 2^items subsets times derivations: past this many cells the integer program is as fast (a few ms).
MAX_ITEMS = 14
MAX_CELLS = 1 << 20
# Without a budget only groups of items shared by several rows are enumerated; rows then choose on their own.
MAX_SHARED_ITEMS = 16
# The grouping is a Python loop over the derivations' items: keep the size check cheap on large instances.
MAX_DERIVS = 2048
_NONE = np.int64(1) << np.int64(60)  # "no usable derivation": larger than any cost yet safe to subtract


def applicable(c: Compiled) -> bool:
    """Small enough to enumerate within about a millisecond or two."""
    if c.n_derivs > MAX_DERIVS:
        return False
    if c.budget is None:
        group_of, group_price = _shared_groups(c)
        m = len(group_price)
        n_shared_derivs = len(np.unique(_incidence(c)[group_of[c.deriv_items] >= 0]))
        return m <= MAX_SHARED_ITEMS and (1 << m) * max(1, n_shared_derivs) <= MAX_CELLS
    return c.n_items <= MAX_ITEMS and (1 << c.n_items) * max(1, c.n_derivs) <= MAX_CELLS


def solve_exhaustive(c: Compiled) -> Solution:
    """Best (unlimited rows bought, value - cost); first on ties."""
    if c.budget is None:
        return _solve_shared(c)
    return _solve_items(c)


def _incidence(c: Compiled) -> np.ndarray:
    """The derivation of each entry of deriv_items."""
    return np.repeat(np.arange(c.n_derivs), np.diff(c.deriv_ptr))


def _shared_groups(c: Compiled) -> tuple[np.ndarray, np.ndarray]:
    """Items several rows use, grouped by the exact set of derivations using them (a group is bought whole
    or not at all); group index per item (-1 for items private to one row) and the price of each group."""
    shared = c.demand() >= 2
    at = np.flatnonzero(shared[c.deriv_items])  # incidences of shared items, in derivation order
    items, derivs = c.deriv_items[at], _incidence(c)[at]
    by_item = np.lexsort((derivs, items))  # each item's derivations, ascending (an item is once in each)
    items, derivs, first_seen = items[by_item], derivs[by_item], at[by_item].tolist()
    starts = np.flatnonzero(np.r_[True, np.diff(items) != 0]) if len(items) else np.zeros(0, dtype=np.int64)
    ends = np.append(starts[1:], len(items)) if len(items) else starts
    group_of = np.full(c.n_items, -1, dtype=np.int64)
    index: dict[bytes, int] = {}
    # groups numbered in the order their items first occur, as the derivations list them
    for s, e in sorted(zip(starts.tolist(), ends.tolist(), strict=True), key=lambda se: first_seen[se[0]]):
        group_of[items[s]] = index.setdefault(derivs[s:e].tobytes(), len(index))
    group_price = np.zeros(len(index), dtype=np.int64)
    np.add.at(group_price, group_of[shared], c.price[shared])
    return group_of, group_price


def _solve_shared(c: Compiled) -> Solution:
    """No budget: enumerate sets S of shared item groups; each row then takes its derivation inside S whose
    private items (used by no other row) cost least, and is bought when that pays (always, for unlimited rows)."""
    group_of, group_price = _shared_groups(c)
    m = len(group_price)
    is_private = group_of < 0
    bit_of = np.where(is_private, 0, np.left_shift(np.int64(1), np.maximum(group_of, 0)))
    private_price = np.where(is_private, c.price, 0)
    inc_deriv = _incidence(c)
    need = np.zeros(c.n_derivs, dtype=np.int64)
    np.bitwise_or.at(need, inc_deriv, bit_of[c.deriv_items])
    private_cost = np.zeros(c.n_derivs, dtype=np.int64)
    np.add.at(private_cost, inc_deriv, private_price[c.deriv_items])

    subsets = np.arange(1 << m, dtype=np.int64)
    bits = np.left_shift(np.int64(1), np.arange(m, dtype=np.int64))
    shared_cost = ((subsets[:, None] & bits[None, :]) != 0).astype(np.int64) @ group_price
    fits = (subsets[:, None] & need[None, :]) == need[None, :]  # subset x derivation
    cost = np.where(fits, private_cost[None, :], _NONE)
    if c.n_rows:
        best = np.minimum.reduceat(cost, c.row_ptr[:-1], axis=1)  # subset x row
    else:
        best = np.zeros((len(subsets), 0), dtype=np.int64)
    usable = best < _NONE
    gain = np.where(c.unlimited[None, :], -best, c.value[None, :] - best)
    bought = usable & (c.unlimited[None, :] | (gain > 0))
    unlimited = (bought & c.unlimited[None, :]).sum(axis=1)
    objective = np.where(bought, gain, 0).sum(axis=1) - shared_cost
    top = unlimited == unlimited.max()
    best_objective = objective[top].max()
    s = int(np.flatnonzero(top & (objective == best_objective))[0])

    chosen = np.full(c.n_rows, -1, dtype=np.int64)
    row_cost = cost[s]
    for r in np.flatnonzero(bought[s]).tolist():
        lo = int(c.row_ptr[r])
        chosen[r] = lo + int(np.argmin(row_cost[lo : int(c.row_ptr[r + 1])]))
    return Solution(chosen=chosen, strategy="exhaustive", upper_bound=float(best_objective), optimal=True)


def _solve_items(c: Compiled) -> Solution:
    """Enumerate every set of priced items within the budget."""
    n_items, n_derivs = c.n_items, c.n_derivs
    subsets = np.arange(1 << n_items, dtype=np.int64)
    bits = np.left_shift(np.int64(1), np.arange(n_items, dtype=np.int64))
    cost = ((subsets[:, None] & bits[None, :]) != 0).astype(np.int64) @ c.price if n_items else np.zeros(1, np.int64)

    inc_deriv = np.repeat(np.arange(n_derivs), np.diff(c.deriv_ptr))
    need = np.zeros(n_derivs, dtype=np.int64)
    np.bitwise_or.at(need, inc_deriv, bits[c.deriv_items] if n_items else np.zeros(0, np.int64))
    fits = (subsets[:, None] & need[None, :]) == need[None, :]  # subset x derivation
    # a row is bought when any of its (contiguous) derivations fits
    starts = c.row_ptr[:-1]
    bought = np.logical_or.reduceat(fits, starts, axis=1) if c.n_rows else np.zeros((len(subsets), 0), bool)

    unlimited = bought[:, c.unlimited].sum(axis=1)
    objective = bought.astype(np.int64) @ c.value - cost
    feasible = np.ones(len(subsets), bool) if c.budget is None else cost <= c.budget
    top_unlimited = unlimited[feasible].max()
    candidates = feasible & (unlimited == top_unlimited)
    best_objective = objective[candidates].max()
    s = int(np.flatnonzero(candidates & (objective == best_objective))[0])

    chosen = np.full(c.n_rows, -1, dtype=np.int64)
    row_fits = fits[s]
    for r in np.flatnonzero(bought[s]).tolist():
        lo = int(c.row_ptr[r])
        chosen[r] = lo + int(np.argmax(row_fits[lo : int(c.row_ptr[r + 1])]))
    return Solution(chosen=chosen, strategy="exhaustive", upper_bound=float(best_objective), optimal=True)
