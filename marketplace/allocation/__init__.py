"""Which answer rows a buyer buys: enumeration, min cut, a Lagrangian bound, integer program (HiGHS) or greedy;
pure, no Django."""

from .dispatch import MILP_MAX_DERIVATIONS, SOLVED_BY, STRATEGIES, allocate
from .model import (
    Allocation,
    AllocationError,
    InvalidAmount,
    InvalidProblem,
    NegativeBudget,
    NegativePrice,
    NegativeValue,
    Problem,
    Row,
    StrategyNotApplicable,
    UnknownItem,
    UnknownStrategy,
)

__all__ = [
    "MILP_MAX_DERIVATIONS",
    "SOLVED_BY",
    "STRATEGIES",
    "Allocation",
    "AllocationError",
    "InvalidAmount",
    "InvalidProblem",
    "NegativeBudget",
    "NegativePrice",
    "NegativeValue",
    "Problem",
    "Row",
    "StrategyNotApplicable",
    "UnknownItem",
    "UnknownStrategy",
    "allocate",
]
