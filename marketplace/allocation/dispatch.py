"""Chooses a strategy for an allocation problem, runs it and reports what was done."""

from __future__ import annotations

import math
import time

import numpy as np

from . import budget, exhaustive, hubs
from .compiled import Compiled, compile_problem
from .greedy import cost_sharing_bound, solve_greedy
from .milp import lp_bound, solve_milp
from .mincut import solve_mincut
from .model import Allocation, Problem, StrategyNotApplicable, UnknownStrategy
from .solution import Solution, finish

STRATEGIES = ("auto", "mincut", "milp", "greedy")
# what each solver's name on a quote means, for people reading one
SOLVED_BY = {
    "exhaustive": "every choice of the shared items enumerated: exact",
    "mincut": "a minimum cut (each row has one way to be derived, no budget): exact",
    "lagrangian": "a bound that prices the budget in, met by the rows bought: exact when it says optimal",
    "milp": "an integer program (HiGHS): exact when it says optimal",
    "greedy": "rows taken best value for money first: within the gap of the best",
}
# From bench/allocation/run.py (docs/benchmarks/allocation.md). With a binding budget the integer program
# takes 1-2.4 s at 10k rows (15k derivations) and does not finish at 100k, while the greedy stays within 1%
# of the optimum; HiGHS may also overrun its time limit in presolve on large models. Without one (run without
# presolve) it proves 100k rows with 182k derivations optimal in 6 s; at 383k derivations it overran a 10 s
# limit by 8 s.
MILP_MAX_DERIVATIONS = 20_000
MILP_MAX_DERIVATIONS_WITHOUT_BUDGET = 200_000
# The LP relaxation gives the greedy a bound; above this size only the cost-sharing bound (O(n log n)).
LP_BOUND_MAX_DERIVATIONS = 50_000
# Up to about this many derivations enumeration is faster than setting the min cut up (0.05-0.2 ms against
# 0.4 ms a quote, measured on closure instances of 1-200 rows), and just as exact.
ENUMERATE_FIRST_DERIVATIONS = 100


def allocate(
    problem: Problem, *, strategy: str = "auto", time_limit: float = 10.0, lp_bound_for_greedy: bool | None = None
) -> Allocation:
    """Decide which rows to buy. strategy: auto | mincut | milp | greedy; time_limit bounds the MILP/LP.

    auto: exact enumeration for tiny instances, min cut for closure instances (one derivation per row, no
    binding budget), else exact enumeration (exhaustive.py: shared item groups, or every item set under a
    budget) when small, else without a budget the enumeration of hubs and parts (hubs.py), with one the
    Lagrangian bound over them and allocations meeting it (budget.py; rows all with values or all without),
    else the integer program up to MILP_MAX_DERIVATIONS (MILP_MAX_DERIVATIONS_WITHOUT_BUDGET when no budget
    binds; falling back to or improved by the greedy if it runs out of time), else greedy; the best allocation
    found is kept.
    lp_bound_for_greedy: compute the LP bound for a greedy result (None = when small enough).
    """
    if strategy not in STRATEGIES:
        raise UnknownStrategy(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    start = time.perf_counter()
    deadline = start + time_limit
    compiled = compile_problem(problem)

    if strategy == "auto" and compiled.n_derivs <= ENUMERATE_FIRST_DERIVATIONS and exhaustive.applicable(compiled):
        solution = exhaustive.solve_exhaustive(compiled)
    elif strategy == "mincut" or (strategy == "auto" and compiled.is_closure()):
        try:
            solution = solve_mincut(compiled)
        except StrategyNotApplicable:
            if strategy == "mincut":
                raise
            solution = _by_size(compiled, deadline, lp_bound_for_greedy)
    elif strategy == "milp":
        solution = solve_milp(compiled, time_limit)
        if solution is None:
            solution = _greedy(compiled, deadline, lp_bound_for_greedy)
            solution.notes.append("milp found no allocation within the time limit; greedy used")
    elif strategy == "greedy":
        solution = _greedy(compiled, deadline, lp_bound_for_greedy)
    else:
        solution = _by_size(compiled, deadline, lp_bound_for_greedy)
    return finish(problem, compiled, solution, time.perf_counter() - start)


def _by_size(c: Compiled, deadline: float, lp: bool | None) -> Solution:
    # starting HiGHS costs several milliseconds even on a few rows; tiny instances are enumerated exactly
    if exhaustive.applicable(c):
        return exhaustive.solve_exhaustive(c)
    plan = hubs.plan(c)
    if plan is not None and c.budget is None:
        return hubs.solve_hubs(c, plan)
    relaxed = None
    if budget.applicable(c, plan):
        relaxed = budget.solve_budget(c, plan)
        if relaxed.optimal:
            return relaxed
    if c.n_derivs <= (MILP_MAX_DERIVATIONS if c.budget is not None else MILP_MAX_DERIVATIONS_WITHOUT_BUDGET):
        solution = _exact_or_greedy(c, deadline, lp)
    else:
        solution = _greedy(c, deadline, lp)
    return solution if relaxed is None else _better(c, solution, relaxed)


def _exact_or_greedy(c: Compiled, deadline: float, lp: bool | None) -> Solution:
    exact = solve_milp(c, max(0.01, deadline - time.perf_counter()))
    if exact is not None and exact.optimal:
        return exact
    greedy = _greedy(c, deadline, False)
    if exact is None:
        greedy.notes.append("milp found no allocation within the time limit; greedy used")
        return greedy
    return _better(c, exact, greedy, "milp ran out of time")


def _better(c: Compiled, first: Solution, second: Solution, why: str = "") -> Solution:
    """The better of two allocations (the first on ties), with the tighter of their bounds."""
    best, other = (first, second) if _objective(c, first) >= _objective(c, second) else (second, first)
    best.upper_bound = min(best.upper_bound, other.upper_bound)
    if best is not first:
        best.notes.append(f"{why + '; ' if why else ''}the {best.strategy} allocation was better")
    return best


def _greedy(c: Compiled, deadline: float, lp: bool | None) -> Solution:
    solution = solve_greedy(c)
    bought_unlimited = int(((solution.chosen >= 0) & c.unlimited).sum())
    bound = cost_sharing_bound(c, bought_unlimited)
    if lp or (lp is None and c.n_derivs <= LP_BOUND_MAX_DERIVATIONS):
        remaining = deadline - time.perf_counter()
        if remaining > 0:
            lp_value = lp_bound(c, bought_unlimited, remaining)
            if lp_value is not None:
                bound = min(bound, lp_value)
            else:
                solution.notes.append("LP bound did not finish in time; cost-sharing bound reported")
    solution.upper_bound = bound
    return solution


def _objective(c: Compiled, s: Solution) -> float:
    """Finite objective of a solution, ranked first by how many unlimited rows it buys."""
    taken = s.chosen >= 0
    if not taken.any():
        return 0.0
    items = np.unique(c.incidences(s.chosen[taken])[1])
    value = float(c.value[taken].sum()) - float(c.price[items].sum())
    return int((taken & c.unlimited).sum()) * math.ldexp(1.0, 80) + value
