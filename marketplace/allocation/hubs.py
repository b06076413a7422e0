"""Exact allocation without a budget: enumerate the few item groups most rows share, solve the rest by parts.

Rows interact only through priced items several of them may use (grouped as in exhaustive.py: items used by
the same derivations are bought together). In a market answer a few groups are used by a large share of the
rows (a provider's access fee, a triple every row joins on) and the others link few rows (a label several
answers share). Once it is fixed which of those *hub* groups are bought, the rows fall apart into components
linked by the other groups, each holding few of them, and each component is solved exactly on its own by
enumerating its groups: every row takes its cheapest derivation inside what is bought and is bought when that
pays (always, for unlimited rows, which come first: the most of them, then the best objective).

Cost: 2^hubs x 2^(groups of the largest component) vectorised passes over the derivations. The hubs are the
groups with the most rows, as many as make that product smallest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .compiled import Compiled
from .exhaustive import _NONE, _incidence, _shared_groups
from .solution import Solution

MAX_HUBS = 8
# passes x derivations: about 1 s of numpy at the limit (100k rows with alternatives: 16 passes)
MAX_CELLS = 1 << 25
# each pass is a few numpy calls (tens of microseconds on a small answer): past this, the integer program wins
MAX_PASSES = 1 << 12
_NO = np.iinfo(np.int64).min // 4  # "no allocation": below any objective, yet safe to add a few of


@dataclass
class _Plan:
    group_of: np.ndarray  # per item: its shared group, -1 for items one row uses (exhaustive._shared_groups)
    group_price: np.ndarray
    hubs: np.ndarray  # group indices, in bit order
    component: np.ndarray  # per candidate row
    n_components: int
    local_bit: np.ndarray  # per group: its bit within its component (-1 for hubs)
    group_component: np.ndarray  # per group (-1 for hubs)
    width: int  # groups of the largest component

    @property
    def passes(self) -> int:
        return (1 << len(self.hubs)) * (1 << self.width)


def plan(c: Compiled, n_hubs: int | None = None) -> _Plan | None:
    """The hubs that make the enumeration cheapest (or the ``n_hubs`` groups with the most rows), or None when
    there is a budget or the plan exceeds MAX_CELLS."""
    if c.budget is not None or c.n_rows == 0:
        return None
    group_of, group_price = _shared_groups(c)
    deriv_groups = group_of[c.deriv_items]
    shared = deriv_groups >= 0
    pair_rows = c.deriv_row[_incidence(c)[shared]]
    pair_groups = deriv_groups[shared]
    m = len(group_price)
    # rows per group, counted once per row
    unique = np.unique(pair_rows * max(1, m) + pair_groups)
    rows_of_group = np.bincount(unique % max(1, m), minlength=m)
    by_demand = np.argsort(-rows_of_group, kind="stable")
    best: _Plan | None = None
    if n_hubs is not None:
        return _split(c, group_of, group_price, by_demand[:n_hubs], pair_rows, pair_groups)
    for h in range(min(MAX_HUBS, m) + 1):
        if best is not None and (1 << h) >= best.passes:
            break
        candidate = _split(c, group_of, group_price, by_demand[:h], pair_rows, pair_groups)
        if best is None or candidate.passes < best.passes:
            best = candidate
    if best is None or best.passes > MAX_PASSES or best.passes * max(1, c.n_derivs) > MAX_CELLS:
        return None
    return best


def _split(c: Compiled, group_of, group_price, hubs, pair_rows: np.ndarray, pair_groups: np.ndarray) -> _Plan:
    """Components of rows linked by the groups that are not hubs."""
    m = len(group_price)
    is_hub = np.zeros(m, dtype=bool)
    is_hub[hubs] = True
    keep = ~is_hub[pair_groups]
    n = c.n_rows + m
    graph = coo_matrix(
        (np.ones(int(keep.sum()), dtype=np.int8), (pair_rows[keep], c.n_rows + pair_groups[keep])), shape=(n, n)
    )
    _, label = connected_components(graph, directed=False)
    component = label[: c.n_rows]
    # renumber the components that hold rows 0..k-1
    present, component = np.unique(component, return_inverse=True)
    group_component = np.full(m, -1, dtype=np.int64)
    local_bit = np.full(m, -1, dtype=np.int64)
    others = np.flatnonzero(~is_hub)
    if len(others):
        group_component[others] = np.searchsorted(present, label[c.n_rows + others])
        # a group no row uses cannot occur; its bit number counts within its component
        order = np.lexsort((others, group_component[others]))
        comps = group_component[others][order]
        starts = np.r_[0, np.flatnonzero(np.diff(comps)) + 1]
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        local_bit[others[order]] = rank
    width = int(local_bit.max()) + 1 if len(others) else 0
    hubs = np.asarray(hubs, dtype=np.int64)
    return _Plan(group_of, group_price, hubs, component, len(present), local_bit, group_component, width)


def solve_hubs(c: Compiled, p: _Plan) -> Solution:
    group_of, group_price = p.group_of, p.group_price
    inc_deriv = _incidence(c)
    is_private = group_of < 0
    private_cost = np.zeros(c.n_derivs, dtype=np.int64)
    np.add.at(private_cost, inc_deriv, np.where(is_private, c.price, 0)[c.deriv_items])
    # bit of each group among the hubs or within its component; one slot more, so that group -1 (a private
    # item) reads "no bit"
    hub_bit = np.full(len(group_price) + 1, -1, dtype=np.int64)
    hub_bit[p.hubs] = np.arange(len(p.hubs))
    local_bit = np.append(p.local_bit, -1)
    item_group = group_of[c.deriv_items]

    def masks(bit_of_group: np.ndarray) -> np.ndarray:
        bit = bit_of_group[item_group]
        mask = np.zeros(c.n_derivs, dtype=np.int64)
        np.bitwise_or.at(mask, inc_deriv, np.where(bit >= 0, np.left_shift(1, np.maximum(bit, 0)), 0))
        return mask

    hub_mask, local_mask = masks(hub_bit), masks(local_bit)

    # rows in component order, so that per-component sums are one reduceat
    order = np.argsort(p.component, kind="stable")
    comp_starts = np.r_[0, np.flatnonzero(np.diff(p.component[order])) + 1]
    n_local = 1 << p.width
    local_price = np.zeros((p.n_components, n_local), dtype=np.int64)
    locals_ = np.flatnonzero(p.local_bit >= 0)
    for t in range(n_local):
        inside = locals_[(t >> p.local_bit[locals_]) & 1 == 1]
        np.add.at(local_price[:, t], p.group_component[inside], group_price[inside])
    hub_prices = group_price[p.hubs]
    starts = c.row_ptr[:-1]

    def evaluate(hubs_bought: int, t: int, t_of_component: np.ndarray | None = None):
        """Per row for hub set `hubs_bought` and local set `t` (or each component's own): cheapest derivation
        cost, whether bought, gain."""
        local = t if t_of_component is None else t_of_component[p.component[c.deriv_row]]
        fits = ((hub_mask & ~hubs_bought) == 0) & ((local_mask & ~local) == 0)
        cost = np.where(fits, private_cost, _NONE)
        best = np.minimum.reduceat(cost, starts)
        usable = best < _NONE
        gain = np.where(c.unlimited, -best, c.value - best)
        bought = usable & (c.unlimited | (gain > 0))
        return cost, bought, np.where(bought, gain, 0)

    top_unlimited, top_objective, top = -1, _NO, None
    for hubs_bought in range(1 << len(p.hubs)):
        units = np.empty((p.n_components, n_local), dtype=np.int64)
        values = np.empty((p.n_components, n_local), dtype=np.int64)
        for t in range(n_local):
            _, bought, gain = evaluate(hubs_bought, t)
            units[:, t] = np.add.reduceat((bought & c.unlimited)[order].astype(np.int64), comp_starts)
            values[:, t] = np.add.reduceat(gain[order], comp_starts) - local_price[:, t]
        # per component: the most unlimited rows, then the best objective, then the first set
        most = units.max(axis=1, keepdims=True)
        ranked = np.where(units == most, values, _NO)
        t_best = ranked.argmax(axis=1)
        unlimited = int(most.sum())
        hub_cost = int(hub_prices[(hubs_bought >> np.arange(len(p.hubs))) & 1 == 1].sum())
        objective = int(ranked[np.arange(p.n_components), t_best].sum()) - hub_cost
        if (unlimited, objective) > (top_unlimited, top_objective):
            top_unlimited, top_objective, top = unlimited, objective, (hubs_bought, t_best)

    hubs_bought, t_best = top
    cost, bought, _ = evaluate(hubs_bought, 0, t_best)
    # each bought row's first derivation of least cost
    cheapest = np.flatnonzero(cost == np.minimum.reduceat(cost, starts)[c.deriv_row])
    rows, first = np.unique(c.deriv_row[cheapest], return_index=True)
    chosen = np.full(c.n_rows, -1, dtype=np.int64)
    chosen[rows] = cheapest[first]
    chosen[~bought] = -1
    notes = [f"enumerated {len(p.hubs)} shared item groups, then {p.n_components} parts of at most {p.width}"]
    return Solution(chosen=chosen, strategy="exhaustive", upper_bound=float(top_objective), optimal=True, notes=notes)
