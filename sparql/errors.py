"""Typed exceptions raised by the federation engine."""

from __future__ import annotations


class FederationError(Exception):
    """Base class of every error the engine raises on purpose."""


class QuerySyntaxError(FederationError):
    """The query text does not parse; ``message`` is the parser's own message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedQuery(FederationError):
    """The query uses a feature the federation does not offer (GRAPH, SERVICE, FROM, DESCRIBE...)."""


class SourceError(FederationError):
    """A source is down, timed out or answered with something that is not a SPARQL result."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"source {source!r} failed: {reason}")
        self.source = source
        self.reason = reason


class QueryCancelled(FederationError):
    """The caller set the cancel event while the query was running."""


class AnswerTooLarge(FederationError):
    """The query needs more triples from the sources than the caller allows (``Federation(max_triples=...)``)."""
