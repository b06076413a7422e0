"""Dataset summaries for source selection: predicates and classes of a source with triple counts, and per
predicate the IRI namespaces ("authorities") of its subjects and objects, for join-aware pruning."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping

from .members import ANY_PREDICATE, Members, member_key
from .sources import HostedStore, Source

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
MAX_AUTHORITIES = 50  # per predicate and position; beyond that the position is "any" (None)
MAX_AUTHORITY_ROWS = 50_000  # a larger answer means namespaces per entity: give up on authorities
MAX_MEMBERS = 2_000_000  # (predicate, IRI) pairs per source; beyond that no membership filter (~2.4 MB)
MEMBER_PAGE = 100_000  # pairs per position at most read from a remote endpoint (one answer held in memory)
_HOST = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*/?")


def namespace(iri: str) -> str:
    """The IRI up to its last '/' or '#' (the whole IRI's scheme and host at least)."""
    cut = max(iri.rfind("/"), iri.rfind("#"))
    return iri[: cut + 1]


def _host(prefix: str) -> str:
    match = _HOST.match(prefix)
    return match.group(0) if match else ""


def _cap(prefixes: set[str]) -> list[str] | None:
    """At most MAX_AUTHORITIES prefixes: namespaces, else scheme and host, else None ("any")."""
    if len(prefixes) <= MAX_AUTHORITIES:
        return sorted(prefixes)
    hosts = {_host(p) for p in prefixes}
    if len(hosts) <= MAX_AUTHORITIES and "" not in hosts:
        return sorted(hosts)
    return None


def authorities_at(summary: Mapping | None, position: str) -> Mapping | None:
    """The summary's namespaces per predicate at "s" or "o" ({iri: [prefix] | None}); None when it has none."""
    authorities = summary.get("authorities") if isinstance(summary, Mapping) else None
    by_predicate = authorities.get(position) if isinstance(authorities, Mapping) else None
    return by_predicate if isinstance(by_predicate, Mapping) else None


def iri_allowed(summary: Mapping | None, predicate: str, position: str, iri: str) -> bool:
    """False only when ``summary`` proves that no triple with ``predicate`` has ``iri`` at ``position``
    ("s" or "o"); a summary without authorities, or "any" (None) for the predicate, always allows."""
    by_predicate = authorities_at(summary, position)
    prefixes = by_predicate.get(predicate) if by_predicate is not None else None
    return prefixes is None or any(iri.startswith(prefix) for prefix in prefixes)


def members_of(summary: Mapping | None) -> Members | None:
    """The summary's membership filter, decoded (None when it has none)."""
    return Members.from_json(summary.get("members")) if isinstance(summary, Mapping) else None


def iri_possible(summary: Mapping | None, position: str, iri: str) -> bool:
    """False only when ``summary`` lists namespaces for every predicate of the source and none of them
    allows ``iri`` at ``position`` (for patterns whose predicate is a variable)."""
    prefixes = _possible_prefixes(summary, position) if summary is not None else None
    return prefixes is None or iri.startswith(prefixes)


def _possible_prefixes(summary: Mapping, position: str) -> tuple[str, ...] | None:
    """Every namespace any predicate has at ``position``; None when some predicate has no list ("any").
    Worked out once per summary: sources are checked for each variable-predicate pattern of each query."""
    derived = _derived(summary)
    key = ("possible", position)
    if key not in derived:
        predicates = summary.get("predicates")
        by_predicate = authorities_at(summary, position)
        union: set[str] | None = set()
        if not isinstance(predicates, Mapping) or by_predicate is None:
            union = None
        else:
            for predicate in predicates:
                listed = by_predicate.get(predicate)
                if listed is None:
                    union = None
                    break
                union.update(listed)
        derived[key] = None if union is None else tuple(sorted(union))
    return derived[key]


_DERIVED: OrderedDict[int, tuple[Mapping, dict]] = OrderedDict()
DERIVED_SUMMARIES = 256


def _derived(summary: Mapping) -> dict:
    """Values worked out from one summary object, kept while it is among the last few hundred used. Keyed by
    identity (summaries are read-only once made); the entry holds the summary, so its id is not reused."""
    entry = _DERIVED.get(id(summary))
    if entry is None or entry[0] is not summary:
        entry = (summary, {})
        _DERIVED[id(summary)] = entry
        while len(_DERIVED) > DERIVED_SUMMARIES:
            _DERIVED.popitem(last=False)
    return entry[1]


def _authorities(source: Source, position: str, predicates: Mapping[str, int]) -> dict[str, list | None]:
    var = "?s" if position == "s" else "?o"
    query = (
        f"SELECT ?p ?a WHERE {{ {{ SELECT DISTINCT ?p ?a WHERE {{ ?s ?p ?o FILTER(isIRI({var})) "
        f'BIND(REPLACE(STR({var}), "[^/#]*$", "") AS ?a) }} }} }} LIMIT {MAX_AUTHORITY_ROWS + 1}'
    )
    rows = source.select(query).rows
    if len(rows) > MAX_AUTHORITY_ROWS:
        return {p: None for p in predicates}
    found: dict[str, set[str]] = {p: set() for p in predicates}
    for row in rows:
        if "p" in row and "a" in row:
            found.setdefault(row["p"].value, set()).add(row["a"].value)
    return {p: _cap(prefixes) for p, prefixes in found.items()}


def _member_pairs(source: Source, position: str) -> tuple[str, str]:
    """The query of the distinct (predicate, IRI) pairs at ``position`` and the query counting them."""
    pattern = "?x ?p ?o" if position == "s" else "?s ?p ?x"
    pairs = f"SELECT DISTINCT ?p ?x WHERE {{ {pattern} FILTER(isIRI(?x)) }}"
    return pairs, f"SELECT (COUNT(*) AS ?n) WHERE {{ {pairs} }}"


def _members(source: Source, distinct: Mapping[str, Mapping[str, int]]) -> dict | None:
    """A Bloom filter of which IRIs each predicate has as subject and object; None when there are more than
    MAX_MEMBERS pairs, or, for a remote endpoint, more than one answer of MEMBER_PAGE rows or an answer
    short of its count (an endpoint capping its answers would make the filter forget IRIs: wrong pruning).
    A hosted store is read as a stream, so its size does not matter to memory."""
    # distinct subjects and objects per predicate bound the (predicate, IRI) pairs from above
    bound = sum(distinct.get("s", {}).values()) + sum(distinct.get("o", {}).values())
    if bound > MAX_MEMBERS:
        return None
    # each pair is added twice: under its predicate and under ANY_PREDICATE (for variable predicates)
    members = Members.sized_for(2 * bound)
    for position in ("s", "o"):
        pairs, count = _member_pairs(source, position)
        if isinstance(source, HostedStore):
            rows = source.stream(pairs)
        else:
            answer = source.select(count).rows
            expected = int(answer[0]["n"].value) if answer and "n" in answer[0] else -1
            if not 0 <= expected <= MEMBER_PAGE:
                return None
            rows = source.select(pairs).rows
            if len(rows) != expected:
                return None
        for row in rows:
            if "p" in row and "x" in row:
                members.add(member_key(row["p"].value, position, row["x"].value))
                members.add(member_key(ANY_PREDICATE, position, row["x"].value))
    return members.to_json()


def summarize(source: Source, members: bool = True) -> dict[str, dict]:
    """``{"predicates": {iri: count}, "classes": {iri: count}, "distinct": {"s"|"o": {iri: count}},
    "authorities": {"s"|"o": {iri: [prefix] | None}}, "members": Bloom filter | None}``.

    The result is what ``Federation(summaries={name: summarize(source)})`` expects; refresh it when the
    dataset changes (a source whose summary lacks a predicate is never asked about it, nor about IRIs
    outside the predicate's listed namespaces). "distinct" (distinct subjects and objects per predicate,
    for join order), "authorities" and "members" are optional: without them nothing is pruned by IRI.
    ``members`` (a Bloom filter of which IRIs each predicate has as subject and object, sparql.members)
    reads every distinct (predicate, IRI) pair once: streamed from a hosted store, in one answer of at
    most MEMBER_PAGE pairs per position from a remote endpoint."""
    predicates = source.select("SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p")
    classes = source.select(f"SELECT ?c (COUNT(*) AS ?n) WHERE {{ ?s <{RDF_TYPE}> ?c }} GROUP BY ?c")
    counts = {row["p"].value: int(row["n"].value) for row in predicates.rows if "p" in row}
    distinct = source.select(
        "SELECT ?p (COUNT(DISTINCT ?s) AS ?ns) (COUNT(DISTINCT ?o) AS ?no) WHERE { ?s ?p ?o } GROUP BY ?p"
    )
    per_position = {
        pos: {row["p"].value: int(row["n" + pos].value) for row in distinct.rows if "p" in row} for pos in ("s", "o")
    }
    return {
        "predicates": counts,
        "classes": {row["c"].value: int(row["n"].value) for row in classes.rows if "c" in row},
        "distinct": per_position,
        "authorities": {pos: _authorities(source, pos, counts) for pos in ("s", "o")},
        "members": _members(source, per_position) if members else None,
    }
