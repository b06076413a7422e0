"""Federated SPARQL 1.1 engine: exact answers over the RDF merge of remote endpoints and hosted stores."""

from .errors import AnswerTooLarge, FederationError, QueryCancelled, QuerySyntaxError, SourceError, UnsupportedQuery
from .federation import Federation
from .provenance import Derivation
from .results import QueryResult, serialize
from .sources import HostedStore, RemoteEndpoint, Source
from .summaries import summarize

__all__ = [
    "AnswerTooLarge",
    "Derivation",
    "Federation",
    "FederationError",
    "HostedStore",
    "QueryCancelled",
    "QueryResult",
    "QuerySyntaxError",
    "RemoteEndpoint",
    "Source",
    "SourceError",
    "UnsupportedQuery",
    "serialize",
    "summarize",
]
