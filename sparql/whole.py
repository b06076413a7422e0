"""Whole-query shipping, as FedX does for single-source queries: when one source alone can match every
triple pattern of a query, its answer to the query is the answer over the merge, so the query goes there
as it is, in one request, and nothing is fetched or evaluated here.

Why that is exact: a query reads the graph only through its basic graph patterns. Source selection never
drops a source that holds a match, and a local group's answers each take all their triples from one of its
sources (planning.make_units). So when every pattern and group of every BGP has that one source alone, each
BGP has the same solutions over its graph as over the merge, and so has the query (bags, order, limits and
aggregates included). Left to the normal path: property paths, because a zero-length path matches every
node of the merged graph, not only those of matching triples; CONSTRUCT, because sources answer SELECT and
ASK only; GRAPH and SERVICE, which the normal path refuses. Provenance needs the triples themselves, so a
query asked with provenance is never shipped whole."""

from __future__ import annotations

from collections.abc import Callable

from .algebra import ParsedQuery
from .planning import TriplePattern, Unit, iter_bgps, iter_nodes, split_bgp
from .results import QueryResult
from .sources import Source

SHIPPABLE_KINDS = ("SELECT", "ASK")
# The normal path refuses these (the federation answers over the merge of default graphs); a source would
# answer them over its named graphs, or call another endpoint.
REFUSED = frozenset({"Graph", "ServiceGraphPattern"})


def sole_source(parsed: ParsedQuery, units_of: Callable[[list[TriplePattern]], list[Unit]]) -> str | None:
    """The one source that can match every pattern of the query, or None (several, none, or a path);
    ``units_of`` gives a BGP's local groups with their sources (Fetcher.units_of)."""
    if parsed.kind not in SHIPPABLE_KINDS or parsed.base_iri is not None or _refused(parsed):
        return None
    relevant: set[str] = set()
    for bgp in iter_bgps(parsed.algebra):
        plain, paths = split_bgp(bgp.triples)
        if paths:
            return None
        for unit in units_of(plain):
            relevant.update(unit.sources)
            if len(relevant) > 1:
                return None
    return next(iter(relevant)) if relevant else None


def answer_at(source: Source, parsed: ParsedQuery) -> tuple[QueryResult, int, int]:
    """The source's answer to the whole query, with the bytes received and the rows; raises SourceError."""
    result = QueryResult(kind=parsed.kind)
    if parsed.kind == "ASK":
        result.boolean, nbytes = source.ask(parsed.text)
        return result, nbytes, 0
    answer = source.select(parsed.text)
    result.variables = list(answer.variables)
    result.rows = answer.rows
    return result, answer.nbytes, len(answer.rows)


def _refused(parsed: ParsedQuery) -> bool:
    """Whether the query uses GRAPH or SERVICE anywhere, inside EXISTS too."""
    return any(node.name in REFUSED for node in iter_nodes(parsed.algebra))
