"""Values of the allocation problem: the buyer's rows, the priced items, the chosen allocation, and typed errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


class AllocationError(ValueError):
    """Base class of every error raised by the allocation package."""


class InvalidProblem(AllocationError):
    """The problem is malformed; subclasses say how."""


class NegativePrice(InvalidProblem):
    """An item has a negative price."""


class NegativeBudget(InvalidProblem):
    """The budget is negative."""


class NegativeValue(InvalidProblem):
    """A row has a negative value (use 0 for a row the buyer does not want to pay for)."""


class UnknownItem(InvalidProblem):
    """A derivation uses an item that has no price."""


class InvalidAmount(InvalidProblem):
    """A price, value or budget is not an integer (money is integer minor units)."""


class UnknownStrategy(AllocationError):
    """The strategy is not one of auto, mincut, milp, greedy."""


class StrategyNotApplicable(AllocationError):
    """The requested strategy cannot solve this instance (e.g. mincut with a budget)."""


def _is_int(x: object) -> bool:
    # bool is an int subclass but never a sensible amount of money
    return isinstance(x, int) and not isinstance(x, bool)


@dataclass(frozen=True, slots=True)
class Row:
    """One answer row: its value to the buyer (None = no limit) and its alternative derivations.

    Each derivation is a set of priced item ids; buying every item of one derivation makes the row available.
    """

    value: int | None
    derivations: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class Problem:
    """Rows, item prices (integer minor units) and an optional budget; validated on construction."""

    rows: Sequence[Row]
    prices: Mapping[str, int]
    budget: int | None = None

    def __post_init__(self) -> None:
        if self.budget is not None:
            if not _is_int(self.budget):
                raise InvalidAmount(f"budget must be an integer amount of minor units, got {self.budget!r}")
            if self.budget < 0:
                raise NegativeBudget(f"budget must be >= 0, got {self.budget}")
        for item, price in self.prices.items():
            if not _is_int(price):
                raise InvalidAmount(f"price of item {item!r} must be an integer, got {price!r}")
            if price < 0:
                raise NegativePrice(f"price of item {item!r} is negative: {price}")
        prices = self.prices
        for index, row in enumerate(self.rows):
            if row.value is not None:
                if not _is_int(row.value):
                    raise InvalidAmount(f"value of row {index} must be an integer or None, got {row.value!r}")
                if row.value < 0:
                    raise NegativeValue(f"value of row {index} is negative: {row.value}")
            for derivation in row.derivations:
                for item in derivation:
                    if item not in prices:
                        raise UnknownItem(f"row {index} uses item {item!r}, which has no price")


@dataclass(frozen=True)
class Allocation:
    """The rows to buy and how; what it costs and how good it is.

    `value` counts rows with a finite value only; rows with value None ("no limit") are counted in
    `unlimited_rows` instead and contribute nothing to `value`, `objective`, `upper_bound` or `gap`.
    `objective` = value - cost. `upper_bound` bounds the objective of any allocation buying as many
    unlimited rows as this one (from the LP relaxation, the MILP dual bound or a cost-sharing bound).
    `gap` = (upper_bound - objective) / max(1, |upper_bound|).
    """

    rows: tuple[int, ...]
    derivation: dict[int, int]
    items: frozenset[str]
    cost: int
    value: int
    unlimited_rows: int
    objective: int
    strategy: str
    upper_bound: float
    gap: float
    solve_seconds: float
    optimal: bool
    notes: tuple[str, ...] = field(default=())
