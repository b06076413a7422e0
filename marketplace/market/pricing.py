"""From held rows' provenance and the providers' tariffs to an allocation problem, and back to a price breakdown.

Pure functions, no Django. Prices in the problem are in 1/SCALE minor units so that Decimal rates with four
decimal places stay exact; each provider's amount is rounded up to whole minor units at the end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from marketplace.allocation import Allocation, Problem, Row

SCALE = 10_000
BLANKET = "*"  # a derivation source the engine could not name: charged as every contributing dataset

# Kinds of tariff; "subscribed" is a subscription dataset (or any dataset) the buyer has an active subscription to.
PER_TRIPLE, PER_ROW, ACCESS_FEE, FREE, SUBSCRIBED = (
    "per_triple",
    "per_row",
    "access_fee",
    "free",
    "subscribed",
)


@dataclass(frozen=True)
class Tariff:
    """What one dataset costs this buyer: kind, rate (per triple/row) and access fee, in minor units."""

    dataset_id: int
    kind: str
    rate: Decimal = Decimal("0")
    access_fee: int = 0

    @property
    def rate_scaled(self) -> int:
        return int(self.rate * SCALE)


# A row's derivations: each maps a dataset id (or BLANKET) to the N-Triples of the triples it supplied.
Derivations = Sequence[Mapping[str, Sequence[str]]]


@dataclass
class PricedProblem:
    problem: Problem
    # item id -> (dataset id, kind of item)
    item_dataset: dict[str, int]
    # row -> derivation -> datasets used (for the per-provider row counts)
    row_datasets: list[list[frozenset[int]]]


def _scaled(amount: int | None) -> int | None:
    return None if amount is None else amount * SCALE


def build_problem(
    rows: Sequence[Derivations],
    tariffs: Mapping[int, Tariff],
    *,
    value_per_row: int | None,
    budget_scaled: int | None,
    contributors: Mapping[int, int] | None = None,
) -> PricedProblem:
    """Items: (dataset, triple) per triple, (row, dataset) per row, (dataset) access fee, zero-priced for free.

    A derivation naming BLANKET stands for every contributing dataset (``contributors``: dataset id -> rows it
    sent), priced as if all it sent were used: an unknown source must never make data free.
    """
    contributors = contributors or {}
    prices: dict[str, int] = {}
    item_dataset: dict[str, int] = {}
    out_rows: list[Row] = []
    row_datasets: list[list[frozenset[int]]] = []

    def add(item: str, dataset_id: int, price: int) -> str:
        prices[item] = price
        item_dataset[item] = dataset_id
        return item

    for s, derivations in enumerate(rows):
        row_derivs: list[frozenset[str]] = []
        used_sets: list[frozenset[int]] = []
        for derivation in derivations:
            items: set[str] = set()
            used: set[int] = set()
            for source, triples in derivation.items():
                dataset_ids = list(contributors) if source == BLANKET else [int(source)]
                for ds in dataset_ids:
                    tariff = tariffs[ds]
                    used.add(ds)
                    if tariff.kind == PER_TRIPLE:
                        if source == BLANKET:
                            items.add(add(f"b{ds}", ds, tariff.rate_scaled * max(1, contributors[ds])))
                        for t in triples if source != BLANKET else ():
                            items.add(add(f"t{ds}|{t}", ds, tariff.rate_scaled))
                    elif tariff.kind == PER_ROW:
                        items.add(add(f"r{ds}|{s}", ds, tariff.rate_scaled))
                    elif tariff.kind == ACCESS_FEE:
                        items.add(add(f"a{ds}", ds, tariff.access_fee * SCALE))
                    else:
                        items.add(add(f"z{ds}", ds, 0))
            row_derivs.append(frozenset(items))
            used_sets.append(frozenset(used))
        out_rows.append(Row(value=_scaled(value_per_row), derivations=tuple(row_derivs)))
        row_datasets.append(used_sets)
    return PricedProblem(Problem(out_rows, prices, budget_scaled), item_dataset, row_datasets)


@dataclass
class LineAmount:
    dataset_id: int
    items: int = 0
    rows: int = 0
    triples: int = 0
    scaled: int = 0

    @property
    def amount(self) -> int:
        return math.ceil(self.scaled / SCALE)


@dataclass
class Breakdown:
    lines: dict[int, LineAmount] = field(default_factory=dict)

    @property
    def subtotal(self) -> int:
        return sum(line.amount for line in self.lines.values())


def breakdown(priced: PricedProblem, allocation: Allocation) -> Breakdown:
    """Per dataset: priced items bought, quoted rows using it, its distinct triples, its amount."""
    out = Breakdown()
    prices = priced.problem.prices
    for item in allocation.items:
        ds = priced.item_dataset[item]
        line = out.lines.setdefault(ds, LineAmount(ds))
        line.scaled += prices[item]
        if item[0] in "tra":
            line.items += 1
        if item[0] == "t":
            line.triples += 1
    for s, k in allocation.derivation.items():
        for ds in priced.row_datasets[s][k]:
            out.lines.setdefault(ds, LineAmount(ds)).rows += 1
    return out
