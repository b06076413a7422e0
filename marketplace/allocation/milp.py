"""Exact allocation by an integer program solved with HiGHS (scipy.optimize.milp) under a time limit.

Variables: x_r (buy candidate row r), y_j (buy priced item j), z_k (use derivation k; only for rows with
several derivations, a single derivation is x_r itself). Unlimited rows are handled lexicographically: with
no budget they are fixed to 1; with a budget a first program maximises how many fit, a second one
maximises the finite objective among allocations buying that many.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from .compiled import Compiled
from .solution import Solution


@dataclass
class Model:
    """min c·w s.t. A w <= b, lower <= w <= upper; w = (x, y, z)."""

    c: np.ndarray
    a: sp.csr_matrix
    b: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    multi_derivs: np.ndarray  # candidate derivation index of each z variable
    n_rows: int
    n_items: int


def build_model(c: Compiled) -> Model:
    n_rows, n_items = c.n_rows, c.n_items
    n_derivs_per_row = np.diff(c.row_ptr)
    multi = n_derivs_per_row[c.deriv_row] > 1
    multi_derivs = np.flatnonzero(multi)
    n_z = len(multi_derivs)
    z_of = np.full(c.n_derivs, -1, dtype=np.int64)
    z_of[multi_derivs] = np.arange(n_z)
    x0, y0, z0 = 0, n_rows, n_rows + n_items
    n_vars = z0 + n_z

    inc_deriv = np.repeat(np.arange(c.n_derivs), np.diff(c.deriv_ptr))
    inc_item = c.deriv_items
    # derivation variable: x_r for single-derivation rows, z_k otherwise
    dvar = np.where(multi, z0 + z_of, x0 + c.deriv_row)

    # An item private to one row (in all its derivations) is bought exactly when the row is: its price goes
    # on x_r. An item private to one derivation goes on that derivation's variable. Most per-row triples are
    # private, so this removes most link constraints and item variables.
    item_nderiv = np.bincount(inc_item, minlength=n_items)
    inc_row = c.deriv_row[inc_deriv]
    row_lo = np.full(n_items, n_rows, dtype=np.int64)
    row_hi = np.full(n_items, -1, dtype=np.int64)
    np.minimum.at(row_lo, inc_item, inc_row)
    np.maximum.at(row_hi, inc_item, inc_row)
    one_row = row_lo == row_hi
    to_row = one_row & (item_nderiv == n_derivs_per_row[np.minimum(row_lo, n_rows - 1)])
    to_deriv = ~to_row & (item_nderiv == 1)
    folded = to_row | to_deriv
    fold_var = np.full(n_items, -1, dtype=np.int64)
    fold_var[to_row] = x0 + row_lo[to_row]
    deriv_of_item = np.full(n_items, -1, dtype=np.int64)
    deriv_of_item[inc_item] = inc_deriv  # only read where the item has a single derivation
    fold_var[to_deriv] = dvar[deriv_of_item[to_deriv]]
    folded_items = np.flatnonzero(folded)
    kept_items = np.flatnonzero(~folded)

    # A shared item links each row that may use it: the sum of the row's derivation variables that contain
    # it is at most y_j. One constraint per (row, item) rather than per (derivation, item): fewer rows, and a
    # tighter relaxation, since a row uses one derivation.
    link = ~folded[inc_item]
    pair = c.deriv_row[inc_deriv[link]] * max(1, n_items) + inc_item[link]
    pairs, link_rows = np.unique(pair, return_inverse=True)
    n_link = len(pairs)
    rows_i = [link_rows, np.arange(n_link)]
    cols_i = [dvar[inc_deriv[link]], y0 + pairs % max(1, n_items)]
    vals_i = [np.ones(len(pair)), -np.ones(n_link)]

    multi_rows = np.flatnonzero(n_derivs_per_row > 1)  # x_r - sum_k z_k <= 0
    cover_index = np.full(n_rows, -1, dtype=np.int64)
    cover_index[multi_rows] = n_link + np.arange(len(multi_rows))
    rows_i += [cover_index[multi_rows], cover_index[c.deriv_row[multi_derivs]]]
    cols_i += [x0 + multi_rows, z0 + np.arange(n_z)]
    vals_i += [np.ones(len(multi_rows)), -np.ones(n_z)]
    n_cons = n_link + len(multi_rows)
    b = [np.zeros(n_cons)]
    # price of each variable: kept items on y_j, folded items on the row or derivation variable
    var_price = np.zeros(n_vars)
    var_price[y0 + kept_items] = c.price[kept_items]
    np.add.at(var_price, fold_var[folded_items], c.price[folded_items].astype(float))
    if c.budget is not None:
        priced = np.flatnonzero(var_price)
        rows_i.append(np.full(len(priced), n_cons))
        cols_i.append(priced)
        vals_i.append(var_price[priced])
        b.append(np.array([float(c.budget)]))
        n_cons += 1
    a = sp.csr_matrix(
        (np.concatenate(vals_i), (np.concatenate(rows_i), np.concatenate(cols_i))), shape=(n_cons, n_vars)
    )
    cost = var_price.copy()
    cost[x0:y0] -= c.value.astype(float)
    lower = np.zeros(n_vars)
    upper = np.ones(n_vars)
    upper[y0 + folded_items] = 0.0  # their price is carried by the row or derivation variable
    return Model(cost, a, np.concatenate(b), lower, upper, multi_derivs, n_rows, n_items)


def _unlimited_row(model: Model, unlimited: np.ndarray, at_least: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """-sum_{unlimited} x_r <= -at_least, as a row to stack under A."""
    row = sp.csr_matrix(
        (-np.ones(int(unlimited.sum())), (np.zeros(int(unlimited.sum()), dtype=np.int64), np.flatnonzero(unlimited))),
        shape=(1, model.a.shape[1]),
    )
    return sp.vstack([model.a, row]).tocsr(), np.append(model.b, -float(at_least))


def _run(cost, a, b, lower, upper, time_limit: float, integral: bool, presolve: bool = True):
    if a.shape[0] == 0:  # HiGHS through scipy wants at least one constraint row
        a, b = sp.csr_matrix(np.zeros((1, len(cost)))), np.zeros(1)
    options = {"time_limit": max(0.01, time_limit), "presolve": presolve, "disp": False}
    if integral:
        # The default relative gap (1e-4) would stop short of the optimum; objectives are integers.
        options["mip_rel_gap"] = 0.0
        return milp(
            cost,
            integrality=np.ones(len(cost)),
            bounds=Bounds(lower, upper),
            constraints=LinearConstraint(a, -np.inf, b),
            options=options,
        )
    return linprog(cost, A_ub=a, b_ub=b, bounds=np.column_stack([lower, upper]), method="highs", options=options)


def _chosen_from(model: Model, c: Compiled, w: np.ndarray) -> np.ndarray:
    x = w[: model.n_rows] > 0.5
    chosen = np.full(model.n_rows, -1, dtype=np.int64)
    single = np.diff(c.row_ptr) == 1
    pick = x & single
    chosen[pick] = c.row_ptr[:-1][pick]
    z = w[model.n_rows + model.n_items :] > 0.5
    for k in model.multi_derivs[z].tolist():
        r = int(c.deriv_row[k])
        if x[r] and chosen[r] < 0:
            chosen[r] = k
    return chosen


def lexicographic_setup(model: Model, c: Compiled) -> tuple[np.ndarray, np.ndarray]:
    """Bounds with unlimited rows fixed to 1 when there is no budget (they always fit)."""
    lower = model.lower.copy()
    if c.budget is None:
        lower[: model.n_rows][c.unlimited] = 1.0
    return lower, model.upper


def solve_milp(c: Compiled, time_limit: float) -> Solution | None:
    """Optimal (or best found within the time limit) allocation; None if no solution was found in time."""
    deadline = time.perf_counter() + time_limit
    if c.n_rows == 0:
        return Solution(chosen=np.zeros(0, dtype=np.int64), strategy="milp", upper_bound=0.0, optimal=True)
    model = build_model(c)
    lower, upper = lexicographic_setup(model, c)
    a, b = model.a, model.b
    notes: list[str] = []
    if c.budget is not None and c.unlimited.any():
        count = np.zeros_like(model.c)
        count[: model.n_rows][c.unlimited] = -1.0
        first = _run(count, a, b, lower, upper, (deadline - time.perf_counter()) / 2, integral=True)
        if first.x is None:
            return None
        k = int(round(-first.fun))
        if first.status != 0:
            notes.append(f"time limit while maximising unlimited rows: {k} found, maybe not the most")
        a, b = _unlimited_row(model, c.unlimited, k)
    # Without a budget HiGHS's presolve removes little and costs more than it saves: 3-6 times faster without
    # it on 1k-40k derivations with alternatives (and 18 -> 12 ms on a 56-row market quote); with a budget it
    # pays off as often as not (docs/benchmarks/allocation.md).
    presolve = c.budget is not None
    res = _run(model.c, a, b, lower, upper, deadline - time.perf_counter(), integral=True, presolve=presolve)
    if res.x is None:
        return None
    optimal = res.status == 0 and not notes
    bound = getattr(res, "mip_dual_bound", None)
    upper_bound = -float(bound) if bound is not None and np.isfinite(bound) else -float(res.fun)
    if res.status != 0:
        notes.append("time limit reached: best allocation found, not proven optimal")
    return Solution(
        chosen=_chosen_from(model, c, res.x),
        strategy="milp",
        upper_bound=upper_bound,
        optimal=optimal,
        notes=notes,
    )


def lp_bound(c: Compiled, unlimited_bought: int, time_limit: float) -> float | None:
    """LP-relaxation upper bound on the finite objective among allocations buying `unlimited_bought`
    unlimited rows; None if the LP did not finish in time."""
    if c.n_rows == 0:
        return 0.0
    model = build_model(c)
    lower, upper = lexicographic_setup(model, c)
    a, b = model.a, model.b
    if c.budget is not None and c.unlimited.any():
        a, b = _unlimited_row(model, c.unlimited, unlimited_bought)
    res = _run(model.c, a, b, lower, upper, time_limit, integral=False)
    if res.status != 0 or res.fun is None:
        return None
    return -float(res.fun)
