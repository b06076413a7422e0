"""Delivering a bought answer: only the bought rows, only to their buyer, in the W3C result formats."""

from __future__ import annotations

from sparql import QueryResult
from sparql.results import CONTENT_TYPES, serialize

from .. import held
from ..errors import InvalidAsk, NotAllowed, PaymentRequired
from ..models import QueryJob
from ..selectors import purchased_quote

SELECT_FORMATS = ("json", "xml", "csv", "tsv")
GRAPH_FORMATS = ("ntriples", "turtle")
EXTENSIONS = {"json": "srj", "xml": "srx", "csv": "csv", "tsv": "tsv", "ntriples": "nt", "turtle": "ttl"}


def formats_for(kind: str) -> tuple[str, ...]:
    return GRAPH_FORMATS if kind == "CONSTRUCT" else SELECT_FORMATS


def bought_answer(*, buyer, job: QueryJob) -> QueryResult:
    if buyer is None or not buyer.is_authenticated or job.buyer_id != buyer.pk:
        raise NotAllowed("Only the buyer of this answer can download it.")
    quote = purchased_quote(job=job)
    if quote is None or job.answer is None:
        raise PaymentRequired("Buy the quote first: no row is released before payment.")
    return held.decode_answer(job.answer, rows=quote.rows)


def render(result: QueryResult, fmt: str) -> tuple[bytes, str]:
    if fmt not in formats_for(result.kind):
        raise InvalidAsk(f"A {result.kind} answer is delivered as {', '.join(formats_for(result.kind))}.")
    return serialize(result, fmt), CONTENT_TYPES[fmt]
