"""Realistic allocation instances: answer rows of a three-pattern join priced per triple by a few providers.

Pattern 1 and 2 give each row its own triples (name, employer); pattern 3 is a triple about the employer,
shared by every row with that employer (Zipf-popular organisations). Each triple sits at one provider, and
with probability `alternatives` also at a second one (an alternative derivation). Some providers charge an
access fee, an item shared by every row that uses them; one provider is free (open data).
"""

from __future__ import annotations

import numpy as np

from marketplace.allocation import Problem, Row

# provider: (price per triple, access fee), minor units
PROVIDERS = {"acme": (3, 400), "bibl": (2, 0), "corp": (5, 200), "open": (0, 0)}


def generate(
    n_rows: int,
    *,
    alternatives: float = 0.0,
    budget_fraction: float | None = None,
    valued: bool = True,
    providers: int | None = None,
    seed: int = 0,
) -> Problem:
    """``valued=False``: rows without a value, as a buyer who gives none asks (as many rows as fit the budget).
    ``providers``: that many providers instead of the four above, each with an access fee (50, 100, ...) and
    1-5 a triple, holding triples evenly."""
    if providers is None:
        table, holds, holds_labels = PROVIDERS, [0.35, 0.3, 0.25, 0.1], [0.4, 0.3, 0.3, 0.0]
    else:
        table, holds, holds_labels = {f"p{i}": (1 + i % 5, 50 * (i + 1)) for i in range(providers)}, None, None
    names = list(table)
    rng = np.random.default_rng(seed)
    n_orgs = max(1, n_rows // 20)
    org = np.minimum(rng.zipf(1.6, n_rows) - 1, n_orgs - 1)
    holder = rng.choice(len(names), size=(n_rows, 3), p=holds)
    org_holder = rng.choice(len(names), size=n_orgs, p=holds_labels)
    holder[:, 2] = org_holder[org]
    second = (holder + rng.integers(1, len(names), size=(n_rows, 3))) % len(names)
    has_alt = rng.random((n_rows, 3)) < alternatives
    org_alt = rng.random(n_orgs) < alternatives
    org_second = (org_holder + rng.integers(1, len(names), size=n_orgs)) % len(names)
    has_alt[:, 2] = org_alt[org]
    second[:, 2] = org_second[org]
    values = rng.integers(1, 16, size=n_rows)

    prices: dict[str, int] = {}
    for name, (_, fee) in table.items():
        prices[f"fee:{name}"] = fee
    rows = []
    for s in range(n_rows):
        triples = (f"name/{s}", f"employer/{s}", f"label/{org[s]}")
        options = []
        for t in range(3):
            held = [int(holder[s, t])] + ([int(second[s, t])] if has_alt[s, t] else [])
            opts = []
            for p in held:
                name = names[p]
                item = f"{name}:{triples[t]}"
                prices[item] = table[name][0]
                opts.append((item, f"fee:{name}"))
            options.append(opts)
        derivations = [frozenset()]
        for opts in options:
            derivations = [d | {item, fee} for d in derivations for item, fee in opts]
        rows.append(Row(int(values[s]) if valued else None, tuple(derivations)))
    budget = None
    if budget_fraction is not None:
        everything = sum(prices.values())
        budget = int(everything * budget_fraction)
    return Problem(rows=rows, prices=prices, budget=budget)
