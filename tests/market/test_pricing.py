"""The pure translation from provenance and tariffs to an allocation problem and back to provider amounts."""

from decimal import Decimal

from marketplace.allocation import allocate
from marketplace.market import pricing
from marketplace.market.pricing import BLANKET, Tariff, breakdown, build_problem

TARIFFS = {
    1: Tariff(1, pricing.PER_TRIPLE, Decimal("1.5")),
    2: Tariff(2, pricing.PER_ROW, Decimal("2")),
    3: Tariff(3, pricing.ACCESS_FEE, access_fee=5),
    4: Tariff(4, pricing.FREE),
}


def test_items_follow_each_price_model():
    rows = [[{"1": ["t1", "t2"], "2": ["u1"]}], [{"1": ["t2"], "3": ["v"]}], [{"4": ["w"]}]]
    priced = build_problem(rows, TARIFFS, value_per_row=None, budget_scaled=None)
    p = priced.problem.prices
    assert p["t1|t1"] == p["t1|t2"] == 15_000  # 1.5 minor units, scaled
    assert p["r2|0"] == 20_000 and p["a3"] == 50_000 and p["z4"] == 0
    allocation = allocate(priced.problem)
    lines = breakdown(priced, allocation).lines
    # t2 is shared by rows 0 and 1: paid once.
    assert lines[1].triples == 2 and lines[1].amount == 3
    assert lines[2].amount == 2 and lines[3].amount == 5 and lines[4].amount == 0 and lines[4].rows == 1


def test_the_cheaper_alternative_derivation_is_chosen():
    rows = [[{"3": ["x"]}, {"1": ["x"]}]]
    priced = build_problem(rows, TARIFFS, value_per_row=None, budget_scaled=None)
    allocation = allocate(priced.problem)
    assert set(breakdown(priced, allocation).lines) == {1}


def test_an_unknown_source_is_charged_as_every_contributor():
    rows = [[{BLANKET: []}]]
    priced = build_problem(rows, TARIFFS, value_per_row=None, budget_scaled=None, contributors={1: 4, 3: 2})
    allocation = allocate(priced.problem)
    lines = breakdown(priced, allocation).lines
    assert lines[1].amount == 6 and lines[3].amount == 5


def test_fractions_round_up_per_provider_once():
    tariffs = {1: Tariff(1, pricing.PER_TRIPLE, Decimal("0.0001"))}
    rows = [[{"1": [f"t{i}"]}] for i in range(3)]
    priced = build_problem(rows, tariffs, value_per_row=None, budget_scaled=None)
    assert breakdown(priced, allocate(priced.problem)).subtotal == 1
