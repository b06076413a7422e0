"""Which answer rows a buyer buys: min cut, enumeration, integer program (HiGHS) or greedy; pure, no Django."""

from .dispatch import MILP_MAX_DERIVATIONS, STRATEGIES, allocate
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
