"""Local groups and membership filters: joins the summaries prove source-local go to each source as one
subquery, and a source whose Bloom filter lacks a constant or a binding is not asked; answers stay those
of the merge."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from sparql import Federation, HostedStore, Source, summarize
from sparql.members import Members, member_key
from sparql.sources import SelectAnswer
from sparql.summaries import MEMBER_PAGE

from .compare import reference, row_bag
from .test_namespace_pruning import EX, P, _aggregator_lines, _catalog_lines, _store, _vendor_lines


@pytest.fixture(scope="module")
def shop() -> tuple[list[HostedStore], ox.Store, dict]:
    parts = {f"vendor{k}": _vendor_lines(k) for k in range(4)}
    parts["catalog"] = _catalog_lines()
    parts["aggregator"] = _aggregator_lines()
    sources = [HostedStore(_store(lines), name=name) for name, lines in parts.items()]
    merged = _store([line for lines in parts.values() for line in lines])
    return sources, merged, {s.name: summarize(s) for s in sources}


def _same_as_merge(result, merged: ox.Store, text: str, expect_rows: bool = True) -> None:
    _, (variables, rows) = reference(merged, text)
    assert bool(rows) == expect_rows
    assert row_bag(result.rows, variables) == row_bag(rows, variables)


def test_members_never_forget_a_key_and_rarely_invent_one():
    keys = [member_key(EX + "p", "s", f"http://a.example/{i}") for i in range(5000)]
    members = Members.of(keys, len(keys))
    assert all(key in members for key in keys)
    absent = [member_key(EX + "p", "s", f"http://b.example/{i}") for i in range(20000)]
    assert sum(key in members for key in absent) / len(absent) < 0.03
    again = Members.from_json(members.to_json())
    assert again is not None and all(key in again for key in keys)
    assert Members.from_json({"bits": 64, "hashes": 3, "data": "not base64!"}) is None
    assert Members.from_json({"bits": 6400, "hashes": 3, "data": "AAAA"}) is None  # wrong length
    assert Members.from_json(None) is None


def test_summary_members_hold_every_iri_at_both_ends(shop):
    sources, _, summaries = shop
    vendor = sources[1]
    members = Members.from_json(summaries[vendor.name]["members"])
    assert members is not None
    checked = 0
    for quad in vendor.store:
        for position, term in (("s", quad.subject), ("o", quad.object)):
            if isinstance(term, ox.NamedNode):
                assert member_key(quad.predicate.value, position, term.value) in members
                checked += 1
    assert checked > 50


class _Remote(Source):
    """A source that is not hosted: its answers come whole, as from an endpoint (no streaming)."""

    def __init__(self, hosted: HostedStore, cap: int | None = None) -> None:
        self.hosted, self.cap, self.name = hosted, cap, hosted.name

    def select(self, query: str) -> SelectAnswer:
        answer = self.hosted.select(query)
        if self.cap is not None:  # as Virtuoso's ResultSetMaxRows does
            answer.rows = answer.rows[: self.cap]
        return answer

    def ask(self, query: str) -> tuple[bool, int]:
        return self.hosted.ask(query)


def test_a_remote_source_gets_the_same_filter_as_its_hosted_twin(shop):
    sources, _, summaries = shop
    assert summarize(_Remote(sources[1]))["members"] == summaries[sources[1].name]["members"]


def test_a_source_that_truncates_its_answers_gets_no_membership_filter(shop):
    sources, _, _ = shop
    summary = summarize(_Remote(sources[1], cap=10))
    assert summary["members"] is None
    assert summary["authorities"]  # the rest of the summary is still there


def test_a_remote_source_with_more_pairs_than_one_answer_gets_no_filter(shop, monkeypatch):
    sources, _, _ = shop
    monkeypatch.setattr("sparql.summaries.MEMBER_PAGE", 7)
    assert MEMBER_PAGE > 7
    assert summarize(_Remote(sources[1]))["members"] is None
    assert summarize(sources[1])["members"] is not None  # a hosted store is streamed, whatever its size


def test_a_constant_no_source_holds_costs_no_request(shop):
    sources, merged, summaries = shop
    text = P + "SELECT ?local ?label WHERE { ?local ex:sameAs <http://catalog.example/Product250> ; ex:label ?label }"
    result = Federation(sources, summaries=summaries).query(text)
    _same_as_merge(result, merged, text, expect_rows=False)
    assert result.stats["requests"] == 0
    without = {name: {k: v for k, v in s.items() if k != "members"} for name, s in summaries.items()}
    assert Federation(sources, summaries=without).query(text).stats["requests"] >= 4


def test_a_constant_goes_only_to_the_sources_that_hold_it(shop):
    sources, merged, summaries = shop
    text = P + "SELECT ?offer WHERE { ?offer ex:vendor <http://v2.example/Vendor> }"
    result = Federation(sources, summaries=summaries).query(text)
    _same_as_merge(result, merged, text)
    contacted = {n for n, c in result.stats["per_source"].items() if c["requests"]}
    assert contacted == {"vendor2"}


def test_a_vendor_local_chain_is_one_subquery_per_vendor(shop):
    sources, merged, summaries = shop
    text = P + (
        "SELECT ?offer ?price ?label WHERE { ?offer ex:vendor ?v ; ex:price ?price ; ex:product ?local ."
        " ?local ex:label ?label }"
    )
    federation = Federation(sources, summaries=summaries)
    units = federation.plan(text).bgps[0].units
    assert len(units) == 1 and len(units[0].patterns) == 4
    assert sorted(units[0].sources) == [f"vendor{k}" for k in range(4)]
    assert "local group" in federation.plan(text).describe()
    result = federation.query(text)
    _same_as_merge(result, merged, text)
    assert result.stats["requests"] == 4


def test_a_join_another_source_may_complete_is_not_local(shop):
    sources, merged, summaries = shop
    # the aggregator notes vendor 1's offers: ?offer is not local to the vendors for ex:note
    text = P + "SELECT ?offer ?price ?note WHERE { ?offer ex:price ?price . ?offer ex:note ?note }"
    units = Federation(sources, summaries=summaries).plan(text).bgps[0].units
    assert all(len(u.patterns) == 1 for u in units)
    _same_as_merge(Federation(sources, summaries=summaries).query(text), merged, text)


def test_equal_literals_in_two_sources_still_join(shop):
    sources, merged, summaries = shop
    extra = [
        HostedStore(_store([f'<http://x.example/a> <{EX}code> "shared" .']), name="x"),
        HostedStore(_store([f'<http://y.example/b> <{EX}code2> "shared" .']), name="y"),
    ]
    merged_too = _store([f'<http://x.example/a> <{EX}code> "shared" .', f'<http://y.example/b> <{EX}code2> "shared" .'])
    text = P + "SELECT ?a ?b WHERE { ?a ex:code ?c . ?b ex:code2 ?c }"
    everything = {**summaries, **{s.name: summarize(s) for s in extra}}
    result = Federation([*sources, *extra], summaries=everything).query(text)
    _same_as_merge(result, merged_too, text)


def test_overlapping_prefixes_are_found_as_by_comparing_every_pair():
    import random

    from sparql.planning import _overlapping

    rng = random.Random(7)

    def prefix() -> str:
        path = "".join(rng.choice(["a/", "b/", "ab/", "x#", "c/"]) for _ in range(rng.randint(0, 3)))
        return f"http://{rng.choice(['h1', 'h2'])}.example/{path}"

    for _ in range(2000):
        first = {prefix(): {rng.choice("XYZ")} for _ in range(rng.randint(0, 5))}
        second = {prefix(): {rng.choice("XYZ")} for _ in range(rng.randint(0, 5))}
        fast = sorted((sorted(a), sorted(b)) for a, b in _overlapping(first, second))
        every_pair = sorted(
            (sorted(xs), sorted(ys))
            for f, xs in first.items()
            for g, ys in second.items()
            if f.startswith(g) or g.startswith(f)
        )
        assert fast == every_pair


def test_a_local_optional_rides_in_the_subquery_of_its_group(shop):
    sources, merged, summaries = shop
    text = P + (
        "SELECT ?offer ?local ?price ?label WHERE { ?offer ex:product ?local ."
        " OPTIONAL { ?offer ex:price ?price } OPTIONAL { ?local ex:label ?label } }"
    )
    result = Federation(sources, summaries=summaries).query(text)
    _same_as_merge(result, merged, text)
    assert result.stats["requests"] == 4  # one per vendor, the optionals included


def test_an_optional_another_source_may_answer_is_fetched_on_its_own(shop):
    sources, merged, summaries = shop
    # the aggregator notes vendor 1's offers: the note is not local to the vendors
    text = P + "SELECT ?offer ?price ?note WHERE { ?offer ex:price ?price OPTIONAL { ?offer ex:note ?note } }"
    result = Federation(sources, summaries=summaries).query(text)
    _same_as_merge(result, merged, text)
    assert result.stats["per_source"]["aggregator"]["requests"] > 0
    assert any("note" in row for row in result.rows)


def test_small_unconnected_parts_one_source_holds_are_one_request(shop):
    sources, merged, summaries = shop
    text = P + (
        "SELECT * WHERE { <http://v2.example/Offer3> ex:price ?price . <http://v2.example/Offer3> ex:vendor ?v ."
        " <http://v2.example/Offer3> ex:product ?local }"
    )
    result = Federation(sources, summaries=summaries).query(text)
    _same_as_merge(result, merged, text)
    assert result.stats["requests"] == 1


def test_a_units_written_order_is_its_own_even_when_an_earlier_units_id_is_reused():
    """Units of finished steps are freed and their ids reused (CPython reuses the memory at once): the order
    a subquery is written in must come from the unit's own patterns, never from a cache keyed by id."""
    from rdflib import URIRef, Variable

    from sparql.execution import Fetcher
    from sparql.planning import TriplePattern, Unit

    def patterns(predicate: str) -> tuple[TriplePattern, ...]:
        return tuple(TriplePattern(Variable("s"), URIRef(f"{EX}{predicate}{i}"), Variable(f"o{i}")) for i in range(2))

    fetcher = Fetcher({}, None, {}, pool=None)
    reused = 0
    for k in range(50):
        first = Unit(patterns(f"p{k}_"), ("a",))
        first_id = id(first)
        assert set(fetcher._written_order(first, [])) == set(first.patterns)
        later = patterns(f"q{k}_")
        del first
        second = Unit(later, ("a",))  # made right after the first is freed: usually at its address
        reused += id(second) == first_id
        assert set(fetcher._written_order(second, [])) == set(second.patterns)
    assert reused > 0  # the situation the test is about did happen
