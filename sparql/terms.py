"""Conversions between rdflib algebra terms, pyoxigraph terms and SPARQL/N-Triples text."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef, Variable

Term = ox.NamedNode | ox.BlankNode | ox.Literal
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def var_name(node: object) -> str | None:
    """Name of a query variable; blank nodes in query patterns behave as variables."""
    if isinstance(node, Variable):
        return str(node)
    if isinstance(node, BNode):
        return "_b" + "".join(c for c in str(node) if c.isalnum())
    return None


def to_ox(node: object) -> Term:
    """An rdflib constant (URIRef or Literal) as a pyoxigraph term."""
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype is not None and str(node.datatype) != XSD_STRING:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))
    raise TypeError(f"not a constant: {node!r}")


def ox_to_sparql(term: Term) -> str:
    """A pyoxigraph IRI or literal as SPARQL text (N-Triples syntax is valid SPARQL)."""
    if isinstance(term, ox.BlankNode):
        raise ValueError("blank nodes cannot be shipped to another source")
    return str(term)


def node_to_sparql(node: object) -> str:
    """An rdflib pattern node (variable, blank node, IRI, literal) as SPARQL text."""
    name = var_name(node)
    if name is not None:
        return "?" + name
    return ox_to_sparql(to_ox(node))


def term_from_json(binding: dict, bnodes: dict[str, ox.BlankNode]) -> Term:
    """A term of SPARQL 1.1 JSON results; ``bnodes`` keeps one local blank node per source label."""
    kind = binding["type"]
    value = binding["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        node = bnodes.get(value)
        if node is None:
            node = bnodes[value] = ox.BlankNode()
        return node
    if kind in ("literal", "typed-literal"):
        lang = binding.get("xml:lang")
        if lang:
            return ox.Literal(value, language=lang)
        datatype = binding.get("datatype")
        if datatype and datatype not in (XSD_STRING, RDF_LANG_STRING):
            return ox.Literal(value, datatype=ox.NamedNode(datatype))
        return ox.Literal(value)
    raise ValueError(f"unknown term type {kind!r}")
