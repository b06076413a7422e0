"""Long-running processes take what they loaded at startup out of the garbage collector's way.

A full (oldest-generation) collection walks every container object in the process, and a worker or web
process holds hundreds of thousands from Django, rdflib, SciPy and the rest. Answering a query allocates
enough to trigger one now and then: in bench/gc/run.py, 60-80 ms added to about one federated query in three.
Frozen objects are left out of every collection (they are never garbage: modules, classes, grammars)."""

from __future__ import annotations

import gc
import importlib

# What a query or a quote imports on first use; loaded before freezing so that it is frozen too.
WARM_MODULES = (
    "sparql",
    "sparql.fastparse",
    "sparql.algebra",
    "sparql.federation",
    "marketplace.allocation",
    "marketplace.market.services.queries",
    "marketplace.market.services.quotes",
)


def freeze_startup_heap() -> int:
    """Import the modules queries use, collect once, freeze everything alive; the number of objects frozen."""
    for name in WARM_MODULES:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
