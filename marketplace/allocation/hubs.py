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

MAX_HUBS = 12  # 4,096 hub sets at most; MAX_PASSES bounds hub sets x local sets
# passes x derivations: about 2 s of numpy at the limit (100k rows with alternatives: 16 passes; 10k rows from
# eight providers with access fees: 2,048 passes, 35M cells)
MAX_CELLS = 1 << 26
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
    the plan exceeds MAX_CELLS."""
    if c.n_rows == 0:
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


class Passes:
    """Per-derivation and per-row costs of one hub set and one set of local groups per component."""

    def __init__(self, c: Compiled, p: _Plan) -> None:
        self.c, self.plan = c, p
        group_of, group_price = p.group_of, p.group_price
        inc_deriv = _incidence(c)
        self._inc_deriv = inc_deriv
        is_private = group_of < 0
        self.private_cost = np.zeros(c.n_derivs, dtype=np.int64)
        np.add.at(self.private_cost, inc_deriv, np.where(is_private, c.price, 0)[c.deriv_items])
        # bit of each group among the hubs or within its component; one slot more, so that group -1 (a private
        # item) reads "no bit"
        hub_bit = np.full(len(group_price) + 1, -1, dtype=np.int64)
        hub_bit[p.hubs] = np.arange(len(p.hubs))
        self._item_group = group_of[c.deriv_items]
        self.hub_mask, self.local_mask = self._masks(hub_bit), self._masks(np.append(p.local_bit, -1))
        # rows in component order, so that per-component sums are one reduceat
        self.order = np.argsort(p.component, kind="stable")
        self.comp_starts = np.r_[0, np.flatnonzero(np.diff(p.component[self.order])) + 1]
        self.n_local = 1 << p.width
        # local_price[j, t]: price of the local groups of set t in component j
        self.local_price = np.zeros((p.n_components, self.n_local), dtype=np.int64)
        locals_ = np.flatnonzero(p.local_bit >= 0)
        for t in range(self.n_local):
            inside = locals_[(t >> p.local_bit[locals_]) & 1 == 1]
            np.add.at(self.local_price[:, t], p.group_component[inside], group_price[inside])
        hub_prices = group_price[p.hubs]
        sets = np.arange(1 << len(p.hubs))
        # hub_price[h]: price of hub set h
        self.hub_price = (((sets[:, None] >> np.arange(len(p.hubs))) & 1) * hub_prices).sum(axis=1).astype(np.int64)
        self.starts = c.row_ptr[:-1]

    def _masks(self, bit_of_group: np.ndarray) -> np.ndarray:
        bit = bit_of_group[self._item_group]
        mask = np.zeros(self.c.n_derivs, dtype=np.int64)
        np.bitwise_or.at(mask, self._inc_deriv, np.where(bit >= 0, np.left_shift(1, np.maximum(bit, 0)), 0))
        return mask

    def derivation_cost(self, hubs_bought: int, local) -> np.ndarray:
        """Private cost of each derivation under hub set `hubs_bought` and local set `local` (an int for every
        component, or an array with each component's own), _NONE where it needs a group not bought."""
        c = self.c
        if not isinstance(local, int):
            local = local[self.plan.component[c.deriv_row]]
        fits = ((self.hub_mask & ~hubs_bought) == 0) & ((self.local_mask & ~local) == 0)
        return np.where(fits, self.private_cost, _NONE)

    def row_cost(self, hubs_bought: int, local) -> np.ndarray:
        """Each row's cheapest derivation cost under those sets (_NONE if none fits)."""
        return np.minimum.reduceat(self.derivation_cost(hubs_bought, local), self.starts)

    def per_component(self, per_row: np.ndarray) -> np.ndarray:
        """Sums over each component's rows (last axis)."""
        return np.add.reduceat(per_row[..., self.order], self.comp_starts, axis=-1)

    def chosen(self, hubs_bought: int, t_of_component: np.ndarray, bought: np.ndarray) -> np.ndarray:
        """Each bought row's first derivation of least cost under those sets; -1 for the others."""
        c = self.c
        cost = self.derivation_cost(hubs_bought, t_of_component)
        cheapest = np.flatnonzero(cost == np.minimum.reduceat(cost, self.starts)[c.deriv_row])
        rows, first = np.unique(c.deriv_row[cheapest], return_index=True)
        chosen = np.full(c.n_rows, -1, dtype=np.int64)
        chosen[rows] = cheapest[first]
        chosen[~bought] = -1
        return chosen


def solve_hubs(c: Compiled, p: _Plan) -> Solution:
    """Best (unlimited rows bought, value - cost) without a budget."""
    ev = Passes(c, p)

    def evaluate(hubs_bought: int, local):
        """Per row for hub set `hubs_bought` and local set(s) `local`: whether bought, gain."""
        best = ev.row_cost(hubs_bought, local)
        usable = best < _NONE
        gain = np.where(c.unlimited, -best, c.value - best)
        bought = usable & (c.unlimited | (gain > 0))
        return bought, np.where(bought, gain, 0)

    top_unlimited, top_objective, top = -1, _NO, None
    for hubs_bought in range(1 << len(p.hubs)):
        units = np.empty((p.n_components, ev.n_local), dtype=np.int64)
        values = np.empty((p.n_components, ev.n_local), dtype=np.int64)
        for t in range(ev.n_local):
            bought, gain = evaluate(hubs_bought, t)
            units[:, t] = ev.per_component((bought & c.unlimited).astype(np.int64))
            values[:, t] = ev.per_component(gain) - ev.local_price[:, t]
        # per component: the most unlimited rows, then the best objective, then the first set
        most = units.max(axis=1, keepdims=True)
        ranked = np.where(units == most, values, _NO)
        t_best = ranked.argmax(axis=1)
        unlimited = int(most.sum())
        objective = int(ranked[np.arange(p.n_components), t_best].sum()) - int(ev.hub_price[hubs_bought])
        if (unlimited, objective) > (top_unlimited, top_objective):
            top_unlimited, top_objective, top = unlimited, objective, (hubs_bought, t_best)

    hubs_bought, t_best = top
    bought, _ = evaluate(hubs_bought, t_best)
    notes = [f"enumerated {len(p.hubs)} shared item groups, then {p.n_components} parts of at most {p.width}"]
    chosen = ev.chosen(hubs_bought, t_best, bought)
    return Solution(chosen=chosen, strategy="exhaustive", upper_bound=float(top_objective), optimal=True, notes=notes)
