"""Comparing answers: bags of rows (blank nodes compared up to renaming) and graphs up to isomorphism."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox
import rdflib
from rdflib.compare import isomorphic

XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float")}


def _number(term: ox.Literal) -> object:
    """Numbers compare by value within their datatype, as the W3C test harness does ("2.0" = "2")."""
    try:
        kind = "decimal" if term.datatype.value.endswith(("integer", "decimal")) else "double"
        value = Decimal(term.value) if kind == "decimal" else float(term.value)
        return (term.datatype.value, value)
    except (InvalidOperation, ValueError):
        return str(term)


def _shape(row: dict, variables: list[str], bnodes: dict[str, int]) -> tuple:
    out = []
    for v in variables:
        term = row.get(v)
        if term is None:
            out.append((v, None))
        elif isinstance(term, ox.BlankNode):
            out.append((v, "_:"))
        elif isinstance(term, ox.Literal) and term.datatype.value in NUMERIC:
            out.append((v, _number(term)))
        else:
            out.append((v, str(term)))
    return tuple(out)


def row_bag(rows: list[dict], variables: list[str]) -> Counter:
    return Counter(_shape(row, variables, {}) for row in rows)


def bnode_count(rows: list[dict]) -> int:
    return len({t.value for row in rows for t in row.values() if isinstance(t, ox.BlankNode)})


def solutions_to_rows(solutions: ox.QuerySolutions) -> tuple[list[str], list[dict]]:
    variables = [v.value for v in solutions.variables]
    rows = []
    for sol in solutions:
        rows.append({v: sol[v] for v in variables if sol[v] is not None})
    return variables, rows


def to_rdflib(triples) -> rdflib.Graph:
    graph = rdflib.Graph()
    data = "".join(f"{t} .\n" for t in triples)
    graph.parse(data=data, format="nt")
    return graph


def same_graph(a, b) -> bool:
    return isomorphic(to_rdflib(a), to_rdflib(b))


def reference(store: ox.Store, text: str):
    """The answer over one store as plain values: ("ASK", bool), ("CONSTRUCT", triples) or
    ("SELECT", (variables, rows)). A helper, so that no pyoxigraph result outlives it."""
    answer = store.query(text)
    if isinstance(answer, ox.QueryBoolean):
        return "ASK", bool(answer)
    if isinstance(answer, ox.QueryTriples):
        return "CONSTRUCT", list(answer)
    return "SELECT", solutions_to_rows(answer)
