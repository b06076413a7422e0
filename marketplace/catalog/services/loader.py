"""Streaming RDF into an embedded Oxigraph store with memory that does not grow with the file.

Oxigraph's bulk loader buffers a whole input in memory before writing it, so inputs go to it in bounded
chunks: line-based N-Triples as runs of whole lines (native parsing, fastest), every other format through
the streaming parser in batches of quads, merged into the default graph."""

import itertools
from collections.abc import Callable
from typing import BinaryIO

import pyoxigraph as ox

from .formats import RdfFormatInfo

CHUNK_BYTES = 16 * 1024 * 1024
QUAD_BATCH = 250_000


def load(
    store: ox.Store, stream: BinaryIO, info: RdfFormatInfo, *, base_iri: str, progress: Callable[[], None]
) -> None:
    """Load `stream` into the store's default graph; SyntaxError.lineno is the line in the whole file."""
    if info.key == "ntriples":
        _load_line_chunks(store, stream, info, progress)
    else:
        _load_parsed(store, stream, info, base_iri, progress)


def _load_line_chunks(store: ox.Store, stream: BinaryIO, info: RdfFormatInfo, progress) -> None:
    lines_before = 0
    while True:
        lines = stream.readlines(CHUNK_BYTES)
        if not lines:
            return
        try:
            store.bulk_load(input=b"".join(lines), format=info.oxigraph)
        except SyntaxError as exc:
            raise _shift_lines(exc, lines_before) from None
        lines_before += len(lines)
        progress()


def _shift_lines(exc: SyntaxError, offset: int) -> SyntaxError:
    shifted = SyntaxError(exc.msg)
    shifted.lineno = (exc.lineno or 0) + offset or None
    return shifted


def _load_parsed(store: ox.Store, stream: BinaryIO, info: RdfFormatInfo, base_iri: str, progress) -> None:
    quads = ox.parse(input=stream, format=info.oxigraph, base_iri=base_iri)
    # The marketplace sells each dataset's default graph: named graphs of N-Quads, TriG and JSON-LD merge into it.
    default = (ox.Quad(q.subject, q.predicate, q.object) for q in quads)
    while batch := list(itertools.islice(default, QUAD_BATCH)):
        store.bulk_extend(batch)
        progress()
