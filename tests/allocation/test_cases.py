"""Hand-made allocation cases: shared items, budgets, alternative providers, free items, input errors."""

from __future__ import annotations

import pytest

from marketplace.allocation import (
    InvalidAmount,
    NegativeBudget,
    NegativePrice,
    NegativeValue,
    Problem,
    Row,
    StrategyNotApplicable,
    UnknownItem,
    UnknownStrategy,
    allocate,
    exhaustive,
)
from marketplace.allocation.dispatch import ENUMERATE_FIRST_DERIVATIONS

EXACT = ["auto", "milp"]
ALL = ["auto", "milp", "greedy"]


def d(*items: str) -> frozenset[str]:
    return frozenset(items)


@pytest.mark.parametrize("strategy", [*ALL, "mincut"])
def test_shared_item_makes_a_pair_of_rows_worth_buying_together(strategy: str) -> None:
    # alone each row pays 1 + 3 for a value of 3; together they pay 1 + 1 + 3 for 6
    problem = Problem(
        rows=[Row(3, (d("a", "shared"),)), Row(3, (d("b", "shared"),))],
        prices={"a": 1, "b": 1, "shared": 3},
    )
    alloc = allocate(problem, strategy=strategy)
    assert alloc.rows == (0, 1)
    assert alloc.items == {"a", "b", "shared"}
    assert alloc.cost == 5
    assert alloc.objective == 1


@pytest.mark.parametrize("strategy", [*ALL, "mincut"])
def test_row_alone_is_not_bought_when_it_costs_more_than_it_is_worth(strategy: str) -> None:
    problem = Problem(rows=[Row(3, (d("a", "shared"),))], prices={"a": 1, "shared": 3})
    alloc = allocate(problem, strategy=strategy)
    assert alloc.rows == ()
    assert alloc.cost == 0


@pytest.mark.parametrize("strategy", ALL)
def test_budget_forces_a_choice_of_the_better_row(strategy: str) -> None:
    problem = Problem(
        rows=[Row(10, (d("x"),)), Row(9, (d("y"),))],
        prices={"x": 6, "y": 3},
        budget=7,
    )
    alloc = allocate(problem, strategy=strategy)
    assert alloc.rows == (1,)
    assert alloc.cost == 3
    assert alloc.objective == 6


@pytest.mark.parametrize("strategy", EXACT)
def test_budget_picks_the_best_combination_not_the_best_ratio(strategy: str) -> None:
    # best ratio (row 0) leaves no room; rows 1 and 2 together fill the budget for more
    problem = Problem(
        rows=[Row(13, (d("a"),)), Row(10, (d("b"),)), Row(10, (d("c"),))],
        prices={"a": 6, "b": 5, "c": 5},
        budget=10,
    )
    alloc = allocate(problem, strategy=strategy)
    assert alloc.rows == (1, 2)
    assert alloc.objective == 10
    assert allocate(problem, strategy="greedy").objective <= alloc.objective
    assert alloc.optimal


@pytest.mark.parametrize("strategy", ALL)
def test_alternative_derivations_pick_the_cheaper_provider(strategy: str) -> None:
    problem = Problem(
        rows=[Row(10, (d("t@expensive"), d("t@cheap")))],
        prices={"t@expensive": 5, "t@cheap": 2},
    )
    alloc = allocate(problem, strategy=strategy)
    assert alloc.derivation == {0: 1}
    assert alloc.items == {"t@cheap"}
    assert alloc.cost == 2


@pytest.mark.parametrize("strategy", ALL)
def test_alternative_provider_shared_with_other_rows_wins_over_a_cheaper_private_one(strategy: str) -> None:
    # row 0 could use its own item (2) but the provider already needed by row 1 (3) is free at the margin
    problem = Problem(
        rows=[Row(10, (d("own"), d("common"))), Row(10, (d("common"),))],
        prices={"own": 2, "common": 3},
    )
    alloc = allocate(problem, strategy=strategy)
    assert alloc.items == {"common"}
    assert alloc.derivation == {0: 1, 1: 0}
    assert alloc.objective == 17


@pytest.mark.parametrize("strategy", [*ALL, "mincut"])
def test_free_items_are_listed_but_cost_nothing(strategy: str) -> None:
    problem = Problem(
        rows=[Row(0, (d("open"),)), Row(4, (d("open", "paid"),))],
        prices={"open": 0, "paid": 3},
    )
    alloc = allocate(problem, strategy=strategy)
    assert alloc.rows == (0, 1)
    assert alloc.items == {"open", "paid"}
    assert alloc.cost == 3


@pytest.mark.parametrize("strategy", [*ALL, "mincut"])
def test_unlimited_row_is_bought_whatever_it_costs_and_reported_apart(strategy: str) -> None:
    problem = Problem(rows=[Row(None, (d("dear"),)), Row(1, (d("cheap"),))], prices={"dear": 100, "cheap": 5})
    alloc = allocate(problem, strategy=strategy)
    assert alloc.rows == (0,)
    assert alloc.unlimited_rows == 1
    assert alloc.value == 0
    assert alloc.objective == -100


@pytest.mark.parametrize("strategy", ALL)
def test_unlimited_row_still_respects_the_budget(strategy: str) -> None:
    problem = Problem(
        rows=[Row(None, (d("dear"),)), Row(None, (d("cheap"),)), Row(50, (d("mid"),))],
        prices={"dear": 100, "cheap": 5, "mid": 10},
        budget=20,
    )
    alloc = allocate(problem, strategy=strategy)
    assert alloc.rows == (1, 2)
    assert alloc.unlimited_rows == 1
    assert alloc.cost == 15


def test_auto_enumerates_tiny_instances_and_uses_min_cut_for_larger_closure_instances() -> None:
    rows = [Row(5, (d("a"),)), Row(5, (d("b"),))]
    prices = {"a": 3, "b": 4}
    assert allocate(Problem(rows=rows, prices=prices)).strategy == "exhaustive"
    assert allocate(Problem(rows=rows, prices=prices, budget=4)).strategy == "exhaustive"
    many = [Row(5, (d(f"i{k}", "fee"),)) for k in range(ENUMERATE_FIRST_DERIVATIONS + 1)]
    many_prices = {**{f"i{k}": 3 for k in range(len(many))}, "fee": 20}
    alloc = allocate(Problem(rows=many, prices=many_prices))
    assert alloc.strategy == "mincut" and len(alloc.rows) == len(many)
    # a budget that covers every item cannot bind: still a closure instance
    budget = sum(many_prices.values())
    assert allocate(Problem(rows=many, prices=many_prices, budget=budget)).strategy == "mincut"


def test_result_reports_bound_gap_and_time() -> None:
    problem = Problem(rows=[Row(5, (d("a"),)), Row(5, (d("a", "b"),))], prices={"a": 3, "b": 1}, budget=3)
    alloc = allocate(problem, strategy="milp")
    assert alloc.optimal
    assert alloc.upper_bound == pytest.approx(alloc.objective)
    assert alloc.gap == 0.0
    assert alloc.solve_seconds >= 0.0


def test_mincut_refuses_a_budgeted_instance() -> None:
    problem = Problem(rows=[Row(5, (d("a"),)), Row(5, (d("b"),))], prices={"a": 3, "b": 4}, budget=4)
    with pytest.raises(StrategyNotApplicable):
        allocate(problem, strategy="mincut")


def test_values_beyond_int32_fall_back_from_min_cut_to_the_integer_program() -> None:
    big = 2**40
    problem = Problem(rows=[Row(big, (d("a"),)), Row(1, (d("b"),))], prices={"a": big - 1, "b": 2})
    alloc = allocate(problem)
    assert alloc.strategy == "exhaustive"  # a tiny instance: enumerated rather than given to HiGHS
    assert alloc.rows == (0,)
    assert alloc.objective == 1


def test_auto_uses_the_integer_program_above_the_enumeration_size() -> None:
    n = exhaustive.MAX_ITEMS + 1
    # two derivations per row keep it off the min cut; one item more than enumeration takes
    rows = [Row(10, (d(f"i{j}"), d(f"i{(j + 1) % n}"))) for j in range(n)]
    problem = Problem(rows=rows, prices={f"i{j}": 3 + j % 2 for j in range(n)}, budget=20)
    alloc = allocate(problem)
    assert alloc.strategy == "milp"
    assert alloc.optimal
    assert alloc.cost <= 20
    assert alloc.objective == allocate(problem, strategy="milp").objective


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"rows": [], "prices": {"a": -1}}, NegativePrice),
        ({"rows": [Row(1, (d("ghost"),))], "prices": {"a": 1}}, UnknownItem),
        ({"rows": [], "prices": {}, "budget": -5}, NegativeBudget),
        ({"rows": [Row(-1, (d("a"),))], "prices": {"a": 1}}, NegativeValue),
        ({"rows": [], "prices": {"a": 1.5}}, InvalidAmount),
        ({"rows": [], "prices": {}, "budget": 2.0}, InvalidAmount),
    ],
)
def test_invalid_input_raises_a_typed_error(kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        Problem(**kwargs)


def test_unknown_strategy_is_rejected() -> None:
    with pytest.raises(UnknownStrategy):
        allocate(Problem(rows=[], prices={}), strategy="simplex")


def test_row_without_derivations_is_never_bought() -> None:
    alloc = allocate(Problem(rows=[Row(None, ()), Row(3, ())], prices={}))
    assert alloc.rows == ()


def _chain_problem(n: int, budget: int | None) -> Problem:
    # rows pair up on shared items and each has two providers: not a closure instance
    rows = [Row(5 + s % 7, (d(f"own{s}", f"shared{s // 2}"), d(f"alt{s}"))) for s in range(n)]
    prices = {}
    for s in range(n):
        prices[f"own{s}"] = 1 + s % 3
        prices[f"shared{s // 2}"] = 4
        prices[f"alt{s}"] = 6 + s % 5
    return Problem(rows=rows, prices=prices, budget=budget)


def test_auto_switches_to_greedy_above_the_size_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    from marketplace.allocation import budget, dispatch

    problem = _chain_problem(40, budget=60)
    monkeypatch.setattr(dispatch, "MILP_MAX_DERIVATIONS", 10)
    monkeypatch.setattr(budget, "MAX_TABLE", 0)  # nor small enough for the Lagrangian bound's table
    alloc = allocate(problem)
    assert alloc.strategy == "greedy"
    assert alloc.cost <= 60
    exact = allocate(problem, strategy="milp")
    assert alloc.objective <= exact.objective <= alloc.upper_bound + 1e-6


def test_without_a_budget_parts_are_enumerated_when_they_are_small(monkeypatch: pytest.MonkeyPatch) -> None:
    from marketplace.allocation import dispatch

    # 20 pairs of rows, each pair sharing one item: 20 parts of one shared item each, nothing for hubs
    problem = _chain_problem(40, budget=None)
    monkeypatch.setattr(dispatch, "MILP_MAX_DERIVATIONS", 10)
    alloc = allocate(problem)
    exact = allocate(problem, strategy="milp")
    assert alloc.strategy == "exhaustive" and alloc.optimal and alloc.objective == exact.objective
    assert alloc.notes == ("enumerated 0 shared item groups, then 20 parts of at most 1",)


def test_without_a_budget_the_integer_program_is_used_on_larger_instances(monkeypatch: pytest.MonkeyPatch) -> None:
    from marketplace.allocation import dispatch, hubs

    problem = _chain_problem(40, budget=None)
    monkeypatch.setattr(dispatch, "MILP_MAX_DERIVATIONS", 10)
    monkeypatch.setattr(hubs, "MAX_CELLS", 0)  # as if the parts were too large to enumerate
    alloc = allocate(problem)
    assert alloc.strategy == "milp" and alloc.optimal
    monkeypatch.setattr(dispatch, "MILP_MAX_DERIVATIONS_WITHOUT_BUDGET", 10)
    assert allocate(problem).strategy == "greedy"


def test_integer_program_out_of_time_still_returns_an_allocation_within_budget() -> None:
    problem = _chain_problem(400, budget=500)
    alloc = allocate(problem, strategy="milp", time_limit=0.001)
    assert alloc.cost <= 500
    assert alloc.objective <= alloc.upper_bound
    if not alloc.optimal:
        assert alloc.notes


@pytest.mark.parametrize("bundle_price", [1, 2, 5, 40])
def test_enumeration_of_shared_items_matches_the_integer_program_on_a_bundle_structure(bundle_price: int) -> None:
    # like a federated answer: each row from one of four private triples, or from a bundle shared by all rows
    bundle = [f"b{j}" for j in range(6)]
    rows = [Row(None, tuple(d(f"r{r}s{s}") for s in range(4)) + (d(f"x{r}", *bundle),)) for r in range(30)]
    prices = {f"r{r}s{s}": 3 + (r * 7 + s * 5) % 6 for r in range(30) for s in range(4)}
    prices |= {f"x{r}": 1 for r in range(30)} | {b: bundle_price for b in bundle}
    problem = Problem(rows=rows, prices=prices)
    alloc = allocate(problem)
    exact = allocate(problem, strategy="milp")
    assert alloc.strategy == "exhaustive"
    assert (alloc.unlimited_rows, alloc.objective) == (exact.unlimited_rows, exact.objective) == (30, alloc.objective)
    assert alloc.cost == sum(prices[i] for i in alloc.items)


def _generated(n_rows: int, seed: int = 1, **shape) -> Problem:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "allocation"))
    from generate import generate

    return generate(n_rows, seed=seed, **shape)


def test_a_large_budget_instance_is_solved_exactly_by_the_lagrangian_bound() -> None:
    problem = _generated(10_000, budget_fraction=0.3, alternatives=0.2)
    alloc = allocate(problem)
    exact = allocate(problem, strategy="milp", time_limit=60)
    assert alloc.strategy == "lagrangian" and alloc.optimal and exact.optimal
    assert alloc.objective == exact.objective
    assert alloc.cost <= problem.budget


def test_rows_without_a_value_under_a_budget_are_solved_exactly_by_the_lagrangian_bound() -> None:
    # what /sparql buys without a value per row: as many rows as the budget allows, then the cheapest
    generated = _generated(800, seed=0, budget_fraction=0.05)
    rows = [Row(None, row.derivations) for row in generated.rows]
    problem = Problem(rows=rows, prices=generated.prices, budget=generated.budget)
    alloc = allocate(problem)
    exact = allocate(problem, strategy="milp")
    assert alloc.strategy == "lagrangian" and alloc.optimal and exact.optimal
    assert (alloc.unlimited_rows, alloc.cost) == (exact.unlimited_rows, exact.cost)
    assert alloc.cost <= problem.budget


def test_fewer_rows_than_the_budget_allows_are_not_called_optimal() -> None:
    from marketplace.allocation import budget, hubs
    from marketplace.allocation.compiled import compile_problem
    from marketplace.allocation.solution import finish

    # one row fits the budget, but the relaxation only ever buys both shared items or neither: the bound on
    # the cost of buying no row is tight, the bound on how many rows is not
    problem = Problem(
        rows=[Row(None, (d("a"),)), Row(None, (d("b"),)), Row(None, (d("a", "b"),))], prices={"a": 1, "b": 1}, budget=1
    )
    compiled = compile_problem(problem)
    alloc = finish(problem, compiled, budget.solve_budget(compiled, hubs.plan(compiled, n_hubs=0)), 0.0)
    assert alloc.unlimited_rows == 0 and alloc.upper_bound - alloc.objective < 1
    assert not alloc.optimal
    assert allocate(problem).unlimited_rows == 1


def test_the_knapsack_over_the_rows_at_the_margin_finds_what_the_fill_misses(monkeypatch: pytest.MonkeyPatch) -> None:
    from marketplace.allocation import budget, dispatch
    from marketplace.allocation.milp import solve_milp

    problem = _generated(800, seed=0, budget_fraction=0.15, alternatives=0.3)
    exact = allocate(problem, strategy="milp")
    alloc = allocate(problem)
    assert alloc.strategy == "lagrangian" and alloc.optimal and alloc.objective == exact.objective
    # without it the filled allocations fall short of the bound, and the integer program decides
    monkeypatch.setattr(budget, "CORE_SIZES", ())
    calls = []
    monkeypatch.setattr(dispatch, "solve_milp", lambda c, limit: calls.append(c) or solve_milp(c, limit))
    alloc = allocate(problem)
    assert calls and alloc.strategy == "milp" and alloc.optimal and alloc.objective == exact.objective


DETERMINISM_CHECK = """
import sys
sys.path.insert(0, "bench/allocation")
from generate import generate
from marketplace.allocation import allocate
problem = generate(10000, budget_fraction=0.3, alternatives=0.2, seed=1)
alloc = allocate(problem, strategy="greedy", lp_bound_for_greedy=False)
print(alloc.objective, sorted(alloc.derivation.items()))
"""


def test_the_same_problem_gets_the_same_allocation_in_every_process() -> None:
    # derivations are sets of strings, whose order follows each process's string hashing; ties must not
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        done = subprocess.run(
            [sys.executable, "-c", DETERMINISM_CHECK], env=env, cwd=root, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.add(done.stdout)
    assert len(outputs) == 1


def _clique(n: int) -> Problem:
    from itertools import combinations

    # every pair of n rows shares an item: one part of n(n-1)/2 shared items whatever the hubs
    item = {(a, b): f"x{a}-{b}" for a, b in combinations(range(n), 2)}
    rows = []
    for r in range(n):
        mine = [name for pair, name in item.items() if r in pair]  # n - 1 items; two derivations split them
        rows.append(Row(40, (d(*mine[: n // 2]), d(*mine[n // 2 :]))))
    return Problem(rows=rows, prices={name: 3 for name in item.values()}, budget=None)


@pytest.mark.parametrize("n", [6, 12])  # 2^15 passes over 12 derivations; 2^66 passes
def test_parts_too_tangled_to_enumerate_are_not_enumerated(n: int) -> None:
    from marketplace.allocation import hubs
    from marketplace.allocation.compiled import compile_problem

    assert hubs.plan(compile_problem(_clique(n))) is None


def test_parts_too_tangled_to_enumerate_go_to_the_integer_program() -> None:
    assert allocate(_clique(12)).strategy == "milp"


def test_every_solver_a_quote_can_name_is_explained() -> None:
    import re
    from pathlib import Path

    from marketplace.allocation import SOLVED_BY

    package = Path(__file__).resolve().parents[2] / "marketplace" / "allocation"
    named = {m for f in package.glob("*.py") for m in re.findall(r'strategy="(\w+)"', f.read_text())}
    assert named and named <= set(SOLVED_BY)


def test_eight_providers_with_fees_are_solved_exactly_under_a_budget() -> None:
    from marketplace.allocation import hubs
    from marketplace.allocation.compiled import compile_problem

    # the eight fees and the most popular label are hubs: 512 hub sets, most bounded without a search
    problem = _generated(2000, seed=3, alternatives=0.2, budget_fraction=0.3, providers=8)
    assert len(hubs.plan(compile_problem(problem)).hubs) == 9
    alloc = allocate(problem)
    exact = allocate(problem, strategy="milp", time_limit=60)
    assert alloc.strategy == "lagrangian" and alloc.optimal and exact.optimal
    assert alloc.objective == exact.objective
