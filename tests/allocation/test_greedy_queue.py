"""The greedy's ratio queue (a sorted run rebuilt for widely used items, a heap for the rest) takes exactly what
a plain recompute-everything greedy takes, in the same order."""

from __future__ import annotations

import math
import random

import pytest

from marketplace.allocation import Problem, Row
from marketplace.allocation.compiled import compile_problem
from marketplace.allocation.greedy import _State, _take_by_ratio


def instance(seed: int, n_rows: int) -> Problem:
    """Rows of three triples at one or two of four providers; two providers charge an access fee (an item
    used by a large share of the rows, which makes the queue rebuild its run), labels are shared by the
    rows of one organisation, some rows have no value limit."""
    rng = random.Random(seed)
    fees = {"A": 40, "B": 0, "C": 25, "D": 0}
    per_triple = {"A": 3, "B": 2, "C": 5, "D": 0}
    prices = {f"fee:{p}": fee for p, fee in fees.items()}
    rows = []
    for s in range(n_rows):
        org = min(int(rng.paretovariate(1.2)), n_rows // 10 + 1)
        options = []
        for triple in (f"name/{s}", f"job/{s}", f"label/{org}"):
            holders = rng.sample("ABCD", 2 if rng.random() < 0.2 else 1)
            opts = []
            for p in holders:
                prices[f"{p}:{triple}"] = per_triple[p]
                opts.append(frozenset({f"{p}:{triple}", f"fee:{p}"}))
            options.append(opts)
        derivations = [frozenset()]
        for opts in options:
            derivations = [d | o for d in derivations for o in opts]
        value = None if rng.random() < 0.02 else rng.randint(1, 15)
        rows.append(Row(value, tuple(derivations)))
    budget = int(sum(prices.values()) * rng.uniform(0.1, 0.5))
    return Problem(rows=rows, prices=prices, budget=budget)


def plain_take(st: _State, shared: bool) -> None:
    """The same rule with no queue: each step looks at every live derivation. A derivation leaves when it is
    looked at and comes back when one of its items is bought."""
    cost = st.shared_cost if shared else st.cost

    def key(k: int) -> tuple:
        r = st.deriv_row[k]
        if st.unlimited[r]:
            return (0, float(cost[k]), k)
        return (1, -st.value[r] / cost[k] if cost[k] > 1e-12 else -math.inf, k)

    live = {k for k in range(st.c.n_derivs) if st.chosen[st.deriv_row[k]] < 0}
    while live:
        k = min(live, key=key)
        live.discard(k)
        r = st.deriv_row[k]
        if st.chosen[r] >= 0 or st.cost[k] > st.remaining:
            continue
        if not st.unlimited[r] and st.value[r] < cost[k] - 1e-9:
            continue
        st.chosen[r] = k
        for j in st.items_of(k):
            if not st.bought[j]:
                st.buy_item(j)
                live |= {d for d in st.derivs_using(j) if st.chosen[st.deriv_row[d]] < 0}


@pytest.mark.parametrize("seed", range(6))
def test_queue_takes_what_a_plain_greedy_takes(seed: int) -> None:
    compiled = compile_problem(instance(seed, n_rows=150 + 60 * seed))
    assert compiled.budget is not None
    for shared in (True, False):
        ours, plain = _State(compiled), _State(compiled)
        _take_by_ratio(ours, shared)
        plain_take(plain, shared)
        assert ours.chosen == plain.chosen
        assert ours.bought == plain.bought
        assert sum(k >= 0 for k in ours.chosen) > 0
        assert ours.remaining >= 0
