"""The answer of a federated query and its W3C serialisations (JSON, XML, CSV, TSV, N-Triples, Turtle)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from .provenance import Derivation
from .terms import RDF_LANG_STRING, XSD_STRING, Term

FORMATS = ("json", "xml", "csv", "tsv", "ntriples", "turtle")
CONTENT_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "ntriples": "application/n-triples",
    "turtle": "text/turtle",
}


@dataclass
class QueryResult:
    kind: str
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, Term]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)
    provenance: list[list[Derivation]] | None = None
    patterns: list[str] = field(default_factory=list)
    partial: bool = False
    failed_sources: dict[str, str] = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    def triples_used(self, row: int) -> dict[str, set[ox.Triple]]:
        """Concrete triples of each source used by any derivation of one row (for per-triple pricing)."""
        out: dict[str, set[ox.Triple]] = {}
        for derivation in (self.provenance or [])[row]:
            for src, ts in derivation.triples.items():
                out.setdefault(src, set()).update(ts)
        return out


def term_json(term: Term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value not in (XSD_STRING, RDF_LANG_STRING):
        out["datatype"] = term.datatype.value
    return out


def to_json_dict(result: QueryResult, provenance: bool = False) -> dict:
    if result.kind == "ASK":
        doc: dict = {"head": {}, "boolean": bool(result.boolean)}
    else:
        doc = {
            "head": {"vars": list(result.variables)},
            "results": {
                "bindings": [{k: term_json(v) for k, v in row.items() if v is not None} for row in result.rows]
            },
        }
    if provenance and result.provenance is not None:
        doc["patterns"] = list(result.patterns)
        doc["provenance"] = [[d.to_json() for d in derivs] for derivs in result.provenance]
    if result.partial:
        doc["partial"] = True
        doc["failed_sources"] = dict(result.failed_sources)
    return doc


def _xml_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    attrs = ""
    if term.language:
        attrs = f" xml:lang={quoteattr(term.language)}"
    elif term.datatype.value not in (XSD_STRING, RDF_LANG_STRING):
        attrs = f" datatype={quoteattr(term.datatype.value)}"
    return f"<literal{attrs}>{escape(term.value)}</literal>"


def _to_xml(result: QueryResult) -> str:
    out = ['<?xml version="1.0"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">', "<head>"]
    if result.kind == "ASK":
        out.append("</head>")
        out.append(f"<boolean>{'true' if result.boolean else 'false'}</boolean>")
    else:
        out.extend(f"<variable name={quoteattr(v)}/>" for v in result.variables)
        out.append("</head>")
        out.append("<results>")
        for row in result.rows:
            out.append("<result>")
            for name, term in row.items():
                if term is not None:
                    out.append(f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>")
            out.append("</result>")
        out.append("</results>")
    out.append("</sparql>")
    return "\n".join(out) + "\n"


def _csv_value(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def _to_csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if result.kind == "ASK":
        writer.writerow(["_askResult"])
        writer.writerow(["true" if result.boolean else "false"])
        return buffer.getvalue()
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow([_csv_value(row.get(v)) for v in result.variables])
    return buffer.getvalue()


def _to_tsv(result: QueryResult) -> str:
    if result.kind == "ASK":
        return "?_askResult\n" + ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join("?" + v for v in result.variables)]
    for row in result.rows:
        lines.append("\t".join("" if row.get(v) is None else str(row[v]) for v in result.variables))
    return "\n".join(lines) + "\n"


def serialize(result: QueryResult, fmt: str = "json", provenance: bool = False) -> bytes:
    """The W3C serialisation of a result; ``provenance`` adds members to the JSON form only."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if result.kind == "CONSTRUCT":
        if fmt not in ("ntriples", "turtle"):
            raise ValueError("CONSTRUCT results are graphs: use ntriples or turtle")
        rdf_format = ox.RdfFormat.N_TRIPLES if fmt == "ntriples" else ox.RdfFormat.TURTLE
        return ox.serialize(result.triples, format=rdf_format) or b""
    if fmt in ("ntriples", "turtle"):
        raise ValueError(f"{fmt} is for CONSTRUCT results")
    if fmt == "json":
        return json.dumps(to_json_dict(result, provenance), ensure_ascii=False).encode()
    if fmt == "xml":
        return _to_xml(result).encode()
    if fmt == "csv":
        return _to_csv(result).encode()
    return _to_tsv(result).encode()
