"""Property tests: the exact strategies match brute force; the greedy never beats them; invariants hold."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.allocation import Allocation, Problem, Row, allocate, budget, exhaustive, hubs
from marketplace.allocation.compiled import compile_problem
from marketplace.allocation.solution import finish

from .bruteforce import best

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw, closure: bool = False, allow_unlimited: bool = True) -> Problem:
    n_items = draw(st.integers(1, 8))
    items = [f"i{j}" for j in range(n_items)]
    prices = {i: draw(st.one_of(st.just(0), st.integers(0, 12))) for i in items}
    n_rows = draw(st.integers(0, 8))
    derivation = st.frozensets(st.sampled_from(items), min_size=0 if not closure else 1, max_size=4)
    values = st.integers(0, 15) if not allow_unlimited else st.one_of(st.integers(0, 15), st.none())
    rows = []
    for _ in range(n_rows):
        count = 1 if closure else draw(st.integers(0, 3))
        rows.append(Row(draw(values), tuple(draw(derivation) for _ in range(count))))
    budget = None if closure else draw(st.one_of(st.none(), st.integers(0, 40)))
    return Problem(rows=rows, prices=prices, budget=budget)


def check_consistent(problem: Problem, alloc: Allocation) -> None:
    assert set(alloc.derivation) == set(alloc.rows)
    used: set[str] = set()
    for s, k in alloc.derivation.items():
        used |= problem.rows[s].derivations[k]
    assert used == set(alloc.items)
    assert alloc.cost == sum(problem.prices[i] for i in alloc.items)
    assert alloc.value == sum(problem.rows[s].value or 0 for s in alloc.rows)
    assert alloc.unlimited_rows == sum(problem.rows[s].value is None for s in alloc.rows)
    assert alloc.objective == alloc.value - alloc.cost
    assert alloc.upper_bound >= alloc.objective
    if problem.budget is not None:
        assert alloc.cost <= problem.budget


@SETTINGS
@given(problems())
def test_integer_program_equals_brute_force(problem: Problem) -> None:
    alloc = allocate(problem, strategy="milp")
    check_consistent(problem, alloc)
    assert (alloc.unlimited_rows, alloc.objective) == best(problem)
    assert alloc.optimal


@SETTINGS
@given(problems())
def test_auto_equals_brute_force(problem: Problem) -> None:
    alloc = allocate(problem)
    check_consistent(problem, alloc)
    assert (alloc.unlimited_rows, alloc.objective) == best(problem)


@SETTINGS
@given(problems())
def test_exhaustive_enumeration_equals_brute_force(problem: Problem) -> None:
    compiled = compile_problem(problem)
    assert exhaustive.applicable(compiled)  # at most 8 items: always small enough
    solution = exhaustive.solve_exhaustive(compiled)
    alloc = finish(problem, compiled, solution, 0.0)
    check_consistent(problem, alloc)
    assert alloc.strategy == "exhaustive" and alloc.optimal
    assert (alloc.unlimited_rows, alloc.objective) == best(problem)


@SETTINGS
@given(problems())
def test_shared_items_are_grouped_exactly_by_the_derivations_using_them(problem: Problem) -> None:
    compiled = compile_problem(problem)
    group_of, group_price = exhaustive._shared_groups(compiled)
    users: dict[int, set[int]] = {}
    for k in range(compiled.n_derivs):
        for j in compiled.deriv_items[compiled.deriv_ptr[k] : compiled.deriv_ptr[k + 1]].tolist():
            users.setdefault(j, set()).add(k)
    rows_of = {j: {int(compiled.deriv_row[k]) for k in ks} for j, ks in users.items()}
    for j in range(compiled.n_items):
        assert (group_of[j] >= 0) == (len(rows_of.get(j, ())) >= 2)
    shared = [j for j in range(compiled.n_items) if group_of[j] >= 0]
    for i in shared:
        for j in shared:
            assert (group_of[i] == group_of[j]) == (users[i] == users[j])
    assert group_price.tolist() == [
        sum(int(compiled.price[j]) for j in shared if group_of[j] == g) for g in range(len(group_price))
    ]


@SETTINGS
@given(problems(), st.integers(0, 4))
def test_enumerating_hubs_then_parts_equals_brute_force(problem: Problem, n_hubs: int) -> None:
    problem = Problem(rows=problem.rows, prices=problem.prices, budget=None)  # it is for budget-free instances
    compiled = compile_problem(problem)
    plan = hubs.plan(compiled, n_hubs=n_hubs)
    if plan is None:  # no candidate rows
        assert compiled.n_rows == 0
        return
    alloc = finish(problem, compiled, hubs.solve_hubs(compiled, plan), 0.0)
    check_consistent(problem, alloc)
    assert alloc.optimal and alloc.upper_bound == alloc.objective
    assert (alloc.unlimited_rows, alloc.objective) == best(problem)


@SETTINGS
@given(problems(allow_unlimited=False), st.integers(0, 40), st.integers(0, 4))
def test_lagrangian_bound_holds_and_its_proven_optima_are_optima(problem: Problem, limit: int, n_hubs: int) -> None:
    problem = Problem(rows=problem.rows, prices=problem.prices, budget=limit)
    compiled = compile_problem(problem)
    plan = hubs.plan(compiled, n_hubs=n_hubs)
    if not budget.applicable(compiled, plan):  # the budget does not bind, or no candidate rows
        assert compiled.budget is None or compiled.n_rows == 0
        return
    alloc = finish(problem, compiled, budget.solve_budget(compiled, plan), 0.0)
    check_consistent(problem, alloc)
    _, objective = best(problem)
    assert alloc.objective <= objective <= alloc.upper_bound
    if alloc.optimal:
        assert alloc.objective == objective


@SETTINGS
@given(problems(), st.integers(0, 40), st.integers(0, 4))
def test_lagrangian_bound_for_rows_without_a_value_holds_and_its_proven_optima_are_optima(
    problem: Problem, limit: int, n_hubs: int
) -> None:
    # a buyer who gives no value per row: as many rows as the budget allows, then the cheapest
    rows = [Row(None, row.derivations) for row in problem.rows]
    problem = Problem(rows=rows, prices=problem.prices, budget=limit)
    compiled = compile_problem(problem)
    plan = hubs.plan(compiled, n_hubs=n_hubs)
    if not budget.applicable(compiled, plan):
        assert compiled.budget is None or compiled.n_rows == 0
        return
    alloc = finish(problem, compiled, budget.solve_budget(compiled, plan), 0.0)
    check_consistent(problem, alloc)
    most, objective = best(problem)
    assert (alloc.unlimited_rows, alloc.objective) <= (most, objective)
    if alloc.unlimited_rows == most:
        assert objective <= alloc.upper_bound
    if alloc.optimal:
        assert (alloc.unlimited_rows, alloc.objective) == (most, objective)


@SETTINGS
@given(problems(closure=True))
def test_min_cut_equals_brute_force_on_closure_instances(problem: Problem) -> None:
    alloc = allocate(problem, strategy="mincut")
    check_consistent(problem, alloc)
    assert alloc.strategy == "mincut"
    assert (alloc.unlimited_rows, alloc.objective) == best(problem)


@SETTINGS
@given(problems())
def test_greedy_never_beats_exact_and_its_bound_holds(problem: Problem) -> None:
    greedy = allocate(problem, strategy="greedy")
    check_consistent(problem, greedy)
    unlimited, objective = best(problem)
    assert (greedy.unlimited_rows, greedy.objective) <= (unlimited, objective)
    if greedy.unlimited_rows == unlimited:
        assert greedy.upper_bound >= objective - 1e-6


@SETTINGS
@given(problems(), st.sampled_from(["auto", "milp", "greedy"]))
def test_budget_is_never_exceeded(problem: Problem, strategy: str) -> None:
    alloc = allocate(problem, strategy=strategy)
    if problem.budget is not None:
        assert alloc.cost <= problem.budget


@SETTINGS
@given(problems(), st.sampled_from(["auto", "milp", "greedy"]))
def test_free_items_never_cost_money(problem: Problem, strategy: str) -> None:
    free = Problem(rows=problem.rows, prices={i: 0 for i in problem.prices}, budget=problem.budget)
    alloc = allocate(free, strategy=strategy)
    assert alloc.cost == 0
    # everything obtainable is bought when it is all free
    assert set(alloc.rows) == {s for s, row in enumerate(free.rows) if row.derivations}


@SETTINGS
@given(problems(), st.data())
def test_making_an_item_free_never_lowers_the_optimum(problem: Problem, data) -> None:
    item = data.draw(st.sampled_from(sorted(problem.prices)))
    cheaper = Problem(rows=problem.rows, prices={**problem.prices, item: 0}, budget=problem.budget)
    before, after = allocate(problem), allocate(cheaper)
    assert (after.unlimited_rows, after.objective) >= (before.unlimited_rows, before.objective)


@SETTINGS
@given(problems())
def test_cost_sharing_bound_without_lp_bounds_the_optimum(problem: Problem) -> None:
    greedy = allocate(problem, strategy="greedy", lp_bound_for_greedy=False)
    unlimited, objective = best(problem)
    if greedy.unlimited_rows == unlimited:
        assert greedy.upper_bound >= objective - 1e-6


@SETTINGS
@given(problems(), st.sampled_from(["auto", "milp", "greedy"]))
def test_same_problem_gives_the_same_allocation(problem: Problem, strategy: str) -> None:
    first, second = allocate(problem, strategy=strategy), allocate(problem, strategy=strategy)
    assert (first.rows, first.derivation, first.items) == (second.rows, second.derivation, second.items)
