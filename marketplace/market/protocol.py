"""SPARQL 1.1 Protocol plumbing: reading the query from GET / POST (both encodings), negotiating the result
format, and refusing SERVICE (it would make the server call out with bindings of providers' data)."""

from __future__ import annotations

from dataclasses import dataclass

from sparql.service import mentions_service

from .errors import InvalidAsk

RESULT_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_TYPES = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
}
ALIASES = {
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/plain": "ntriples",
    "application/x-turtle": "turtle",
    "text/n3": "turtle",
}


@dataclass
class ProtocolRequest:
    query: str
    default_graphs: list[str]
    named_graphs: list[str]


def read_request(request) -> ProtocolRequest:
    """The query of a GET, a urlencoded POST or a direct POST (application/sparql-query)."""
    if request.method == "GET":
        params = request.GET
        query = params.get("query", "")
    elif request.method == "POST":
        content_type = (request.content_type or "").lower()
        if content_type == "application/sparql-query":
            query = request.body.decode("utf-8", errors="replace")
            params = request.GET
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
            params = request.POST
            query = params.get("query", "")
        else:
            raise InvalidAsk(f"Unsupported content type {content_type[:60]!r}: use a form or application/sparql-query.")
    else:
        raise InvalidAsk("Use GET or POST.")
    if not query.strip():
        raise InvalidAsk("No query: pass the SPARQL query in the 'query' parameter or as the request body.")
    return ProtocolRequest(query, params.getlist("default-graph-uri"), params.getlist("named-graph-uri"))


_NO_SERVICE = "SERVICE is not allowed here: the marketplace itself chooses the sources."


def check_no_service(query: str) -> None:
    """Refuse SERVICE: evaluating it would send bindings (providers' data) to an address of the asker's choice.

    Read from the text (sparql.service), which finds every SERVICE a parse tree holds (tested on the W3C and
    FedBench queries) and also those in queries rdflib cannot parse and Oxigraph would run."""
    if mentions_service(query):
        raise InvalidAsk(_NO_SERVICE)


def _accepted(header: str) -> list[tuple[str, float]]:
    out = []
    for position, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if media:
            out.append((media, q - position * 1e-6))  # ties keep the client's order
    return sorted(out, key=lambda m: -m[1])


def negotiate(request, *, graph: bool) -> str | None:
    """The format key to answer with (a 'format' parameter wins over Accept); None: nothing acceptable."""
    table = GRAPH_TYPES if graph else RESULT_TYPES
    form = request.method == "POST" and request.content_type == "application/x-www-form-urlencoded"
    requested = request.GET.get("format") or (request.POST.get("format") if form else None)
    if requested:
        requested = ALIASES.get(requested, requested)
        for key, media in table.items():
            if requested in (key, media):
                return key
    header = request.headers.get("Accept", "") or "*/*"
    for media, q in _accepted(header):
        if q <= 0:
            continue
        if media in ("*/*", "application/*", "text/*"):
            return next(iter(table))
        key = ALIASES.get(media, media)
        for k, m in table.items():
            if key in (k, m):
                return k
    return None


def content_type(key: str) -> str:
    media = {**RESULT_TYPES, **GRAPH_TYPES}[key]
    return f"{media}; charset=utf-8"
