"""An OPTIONAL that shares no variable with the mandatory part is fetched beside it, in the same round of
requests, and the answer stays that of the merge (also when the mandatory part has no solution)."""

from __future__ import annotations

import threading

import pyoxigraph as ox

from sparql import Federation, HostedStore, Source
from sparql.sources import SelectAnswer

from .compare import reference, row_bag

EX = "http://example.org/"


def _store(lines: list[str]) -> ox.Store:
    store = ox.Store()
    store.load(("\n".join(lines) + "\n").encode(), format=ox.RdfFormat.N_TRIPLES)
    return store


class MeetsAnother(Source):
    """Answers only once a request to the other source is in flight too (a barrier of two): a federation
    that asks them one after the other fails with BrokenBarrierError."""

    def __init__(self, store: ox.Store, name: str, barrier: threading.Barrier) -> None:
        self.inner = HostedStore(store, name=name)
        self.name = name
        self.barrier = barrier

    def select(self, query: str) -> SelectAnswer:
        self.barrier.wait()
        return self.inner.select(query)

    def ask(self, query: str) -> tuple[bool, int]:
        return self.inner.ask(query)


PRODUCTS = [f'<{EX}product/{i}> <{EX}label> "product {i}" .' for i in range(3)]
REVIEWS = [f"<{EX}review/{i}> <{EX}about> <{EX}product/1> ." for i in range(2)]
QUERY = f"SELECT ?p ?label ?r WHERE {{ ?p <{EX}label> ?label . OPTIONAL {{ ?r <{EX}about> <{EX}product/1> }} }}"


def _summaries(stores: dict[str, ox.Store]) -> dict:
    from sparql import summarize

    return {name: summarize(HostedStore(store, name=name)) for name, store in stores.items()}


def test_an_optional_apart_from_the_mandatory_part_is_fetched_beside_it():
    stores = {"products": _store(PRODUCTS), "reviews": _store(REVIEWS)}
    barrier = threading.Barrier(2, timeout=5)
    sources = [MeetsAnother(store, name, barrier) for name, store in stores.items()]
    result = Federation(sources, _summaries(stores)).query(QUERY, provenance=False)
    _, (variables, rows) = reference(_store(PRODUCTS + REVIEWS), QUERY)
    assert len(rows) == 6 and row_bag(result.rows, variables) == row_bag(rows, variables)


def test_an_empty_mandatory_part_still_gives_the_merges_empty_answer():
    stores = {"products": _store(PRODUCTS), "reviews": _store(REVIEWS)}
    text = QUERY.replace(f"<{EX}label>", f"<{EX}title>")  # nobody has titles
    result = Federation([HostedStore(s, name=n) for n, s in stores.items()], _summaries(stores)).query(
        text, provenance=False
    )
    assert result.rows == []
