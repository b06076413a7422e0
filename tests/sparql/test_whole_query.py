"""Whole-query shipping: a query that one source alone can match goes there as it is, in one request, and
its answer is still that of the merge; paths, CONSTRUCT and provenance keep the normal path."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from sparql import Federation, HostedStore, Source, SourceError, UnsupportedQuery, summarize
from sparql.sources import SelectAnswer

from .compare import reference, row_bag
from .test_namespace_pruning import P, _aggregator_lines, _catalog_lines, _store, _vendor_lines


class Recording(Source):
    """A source that keeps the text of every request, and can be told to fail."""

    def __init__(self, inner: HostedStore) -> None:
        self.inner = inner
        self.name = inner.name
        self.sent: list[str] = []
        self.down = False

    def _check(self, query: str) -> None:
        self.sent.append(query)
        if self.down:
            raise SourceError(self.name, "down")

    def select(self, query: str) -> SelectAnswer:
        self._check(query)
        return self.inner.select(query)

    def ask(self, query: str) -> tuple[bool, int]:
        self._check(query)
        return self.inner.ask(query)


@pytest.fixture(scope="module")
def shop() -> tuple[dict[str, ox.Store], ox.Store, dict]:
    parts = {f"vendor{k}": _vendor_lines(k) for k in range(4)}
    parts["catalog"] = _catalog_lines()
    parts["aggregator"] = _aggregator_lines()
    stores = {name: _store(lines) for name, lines in parts.items()}
    merged = _store([line for lines in parts.values() for line in lines])
    return stores, merged, {name: summarize(HostedStore(s, name=name)) for name, s in stores.items()}


def _federation(shop, with_summaries: bool = True) -> tuple[Federation, dict[str, Recording]]:
    stores, _, summaries = shop
    sources = {name: Recording(HostedStore(store, name=name)) for name, store in stores.items()}
    return Federation(list(sources.values()), summaries if with_summaries else None), sources


def _asked(sources: dict[str, Recording]) -> dict[str, list[str]]:
    return {name: s.sent for name, s in sources.items() if s.sent}


ONE_VENDOR = (
    P + "SELECT ?label (COUNT(*) AS ?n) (MAX(?price) AS ?top) WHERE { "
    "?offer ex:vendor <http://v2.example/Vendor> ; ex:product ?product ; ex:price ?price . "
    "?product ex:label ?label . FILTER(?price > 21) } GROUP BY ?label ORDER BY DESC(?top) LIMIT 5"
)


def test_a_query_only_one_source_can_match_is_sent_to_it_whole(shop):
    _, merged, _ = shop
    federation, sources = _federation(shop)
    result = federation.query(ONE_VENDOR, provenance=False)
    assert _asked(sources) == {"vendor2": [ONE_VENDOR]} and result.stats["requests"] == 1
    _, (variables, rows) = reference(merged, ONE_VENDOR)
    assert len(rows) == 5 and result.variables == variables
    assert [[row.get(v) for v in variables] for row in result.rows] == [[r.get(v) for v in variables] for r in rows]


def test_without_summaries_the_probes_decide(shop):
    # ASK probes cannot tell whose products the labels are (every vendor has labels), but they can tell
    # whose offer an IRI is
    _, merged, _ = shop
    federation, sources = _federation(shop, with_summaries=False)
    federation.query(ONE_VENDOR, provenance=False)
    assert all(ONE_VENDOR not in sent for sent in _asked(sources).values())
    text = P + "SELECT (SUM(?price) AS ?total) WHERE { <http://v3.example/Offer5> ex:price ?price }"
    for source in sources.values():
        source.sent.clear()
    result = federation.query(text, provenance=False)
    assert _asked(sources)["vendor3"][-1] == text
    assert all(text not in sent for name, sent in _asked(sources).items() if name != "vendor3")
    _, (variables, rows) = reference(merged, text)
    assert row_bag(result.rows, variables) == row_bag(rows, variables)


def test_ask_is_shipped_whole_and_answers_as_the_merge(shop):
    federation, sources = _federation(shop)
    for price, expected in (("25", True), ("99", False)):
        text = P + f"ASK {{ ?offer ex:vendor <http://v2.example/Vendor> ; ex:price {price} }}"
        assert federation.query(text, provenance=False).boolean is expected
    assert [len(s) for s in _asked(sources).values()] == [2]


def test_provenance_keeps_the_normal_path(shop):
    federation, sources = _federation(shop)
    result = federation.query(ONE_VENDOR, provenance=True)
    assert ONE_VENDOR not in sources["vendor2"].sent
    assert result.provenance and all(d.sources for derivs in result.provenance for d in derivs)


def test_a_query_two_sources_answer_is_not_shipped(shop):
    _, merged, _ = shop
    federation, sources = _federation(shop)
    text = P + (
        "SELECT ?title ?price WHERE { <http://v1.example/Offer4> ex:product ?local ; ex:price ?price . "
        "?local ex:sameAs ?product . ?product ex:title ?title }"
    )
    result = federation.query(text, provenance=False)
    assert set(_asked(sources)) == {"vendor1", "catalog"}
    assert all(text not in sent for sent in _asked(sources).values())
    _, (variables, rows) = reference(merged, text)
    assert len(rows) == 1 and row_bag(result.rows, variables) == row_bag(rows, variables)


def test_a_zero_length_path_is_not_shipped(shop):
    # Only the catalog has ex:title, but ex:title* also matches every node of the merge at length zero,
    # the vendors' nodes included, which the catalog has never seen.
    _, merged, _ = shop
    federation, sources = _federation(shop)
    text = P + "SELECT ?x WHERE { <http://catalog.example/Product1> ex:title ?t . ?x ex:title* ?x }"
    result = federation.query(text, provenance=False)
    _, (variables, rows) = reference(merged, text)
    assert any("v2.example" in str(row["x"]) for row in rows)
    assert row_bag(result.rows, variables) == row_bag(rows, variables)
    assert all(text not in sent for sent in _asked(sources).values())


def test_a_failed_sole_source_makes_a_partial_answer_or_an_error(shop):
    federation, sources = _federation(shop)
    sources["vendor2"].down = True
    result = federation.query(ONE_VENDOR, provenance=False, partial=True)
    assert result.partial and set(result.failed_sources) == {"vendor2"} and result.rows == []
    with pytest.raises(SourceError) as failure:
        federation.query(ONE_VENDOR, provenance=False)
    assert failure.value.source == "vendor2"


@pytest.mark.parametrize(
    "text",
    [
        P + "SELECT * WHERE { GRAPH ?g { ?offer ex:vendor <http://v2.example/Vendor> } }",
        P + "ASK { ?offer ex:vendor <http://v2.example/Vendor> FILTER EXISTS { GRAPH ?g { ?offer ex:price ?p } } }",
        P + "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?offer ex:vendor <http://v2.example/Vendor> } }",
    ],
)
def test_named_graphs_and_service_are_refused_not_shipped(shop, text):
    # the federation answers over the merge of default graphs: a source must not answer from its named
    # graphs, nor be told to call another endpoint
    federation, sources = _federation(shop)
    with pytest.raises(UnsupportedQuery):
        federation.query(text, provenance=False)
    assert all(text not in sent for sent in _asked(sources).values())
