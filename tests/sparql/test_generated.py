"""Every query over the three shop endpoints equals the same query over the merged data."""

from __future__ import annotations

import pytest

from sparql import Federation, RemoteEndpoint
from sparql.summaries import summarize

from .compare import bnode_count, reference, row_bag, same_graph
from .generated import EX, QUERIES, P


@pytest.fixture(scope="module", params=[64, 3], ids=["batch64", "batch3"])
def federation(shop_endpoints, request) -> Federation:
    """Large VALUES blocks, and tiny ones that make the engine weigh bound joins against COUNT probes."""
    endpoints = [RemoteEndpoint(s.url, name=f"shop{i}") for i, s in enumerate(shop_endpoints)]
    return Federation(endpoints, batch_size=request.param)


def test_split_really_overlaps(shop_parts):
    sets = [set(part) for part in shop_parts]
    assert sets[0] & sets[1] and sets[1] & sets[2] and sets[0] & sets[2]
    assert sum(len(s) for s in sets) > len(sets[0] | sets[1] | sets[2])


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_federated_answer_equals_answer_over_merge(name, federation, merged_store):
    text = QUERIES[name]
    result = federation.query(text, provenance=True)
    kind, expected = reference(merged_store, text)
    assert result.kind == kind
    if kind == "ASK":
        assert result.boolean == expected
    elif kind == "CONSTRUCT":
        assert same_graph(result.triples, expected)
    else:
        variables, rows = expected
        assert result.variables == variables
        assert row_bag(result.rows, variables) == row_bag(rows, variables)
        assert bnode_count(result.rows) == bnode_count(rows)
        assert len(result.provenance) == len(result.rows)
    assert result.stats["requests"] > 0


def test_selective_query_moves_a_small_fraction_of_the_data(federation, shop_lines):
    result = federation.query(P + "SELECT ?o ?price WHERE { ?o ex:vendor ex:vendor2 ; ex:offerPrice ?price }")
    assert result.rows
    assert result.stats["triples_fetched"] < len(shop_lines) / 10


def test_bound_join_ships_bindings_instead_of_fetching_the_second_pattern_whole(federation, merged_store):
    text = P + "SELECT ?p ?l WHERE { ?p ex:price ?price FILTER(?price > 190) ?p ex:label ?l }"
    result = federation.query(text)
    all_labels = len(reference(merged_store, P + "SELECT * WHERE { ?p ex:label ?l }")[1][1])
    prices = len(reference(merged_store, P + "SELECT * WHERE { ?p ex:price ?price }")[1][1])
    assert result.rows
    assert result.stats["triples_fetched"] < prices + all_labels / 4


def test_optional_side_is_bounded_by_the_left_side(federation, merged_store):
    text = P + "SELECT ?o ?d WHERE { ?o ex:vendor ex:vendor1 OPTIONAL { ?o ex:deliveryDays ?d } }"
    result = federation.query(text)
    _, (_, rows) = reference(merged_store, text)
    assert len(result.rows) == len(rows)
    all_offers = len(reference(merged_store, P + "SELECT * WHERE { ?o ex:vendor ?v }")[1][1])
    assert result.stats["triples_fetched"] < all_offers


def test_summaries_skip_sources_and_keep_the_answer(shop_endpoints, merged_store):
    endpoints = [RemoteEndpoint(s.url, name=f"shop{i}") for i, s in enumerate(shop_endpoints)]
    summaries = {e.name: summarize(e) for e in endpoints}
    assert summaries["shop0"]["predicates"][EX + "price"] > 0
    text = P + "SELECT ?o ?d WHERE { ?o ex:deliveryDays ?d ; ex:vendor ?v . ?v ex:name ?n }"
    with_summaries = Federation(endpoints, summaries=summaries).query(text)
    probing = Federation(endpoints).query(text)
    _, (variables, rows) = reference(merged_store, text)
    assert row_bag(with_summaries.rows, variables) == row_bag(rows, variables)
    assert with_summaries.stats["requests"] < probing.stats["requests"]
