"""Dataset summaries for source selection: predicates and classes of a source, with triple counts."""

from __future__ import annotations

from .sources import Source

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def summarize(source: Source) -> dict[str, dict[str, int]]:
    """``{"predicates": {iri: count}, "classes": {iri: count}}``: two aggregate queries to the source.

    The result is what ``Federation(summaries={name: summarize(source)})`` expects; refresh it when the
    dataset changes (a source whose summary lacks a predicate is never asked about it)."""
    predicates = source.select("SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p")
    classes = source.select(f"SELECT ?c (COUNT(*) AS ?n) WHERE {{ ?s <{RDF_TYPE}> ?c }} GROUP BY ?c")
    return {
        "predicates": {row["p"].value: int(row["n"].value) for row in predicates.rows if "p" in row},
        "classes": {row["c"].value: int(row["n"].value) for row in classes.rows if "c" in row},
    }
