"""Federation: the public entry point that plans, fetches, evaluates and explains a query."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyoxigraph as ox

from .algebra import ParsedQuery, parse_query
from .errors import AnswerTooLarge, QueryCancelled, SourceError
from .execution import Fetcher
from .planning import QueryPlan, plan_query
from .provenance import collect_patterns, compute_provenance
from .results import QueryResult
from .sources import Source


class Federation:
    """Answers SPARQL 1.1 queries over the RDF merge of the sources' default graphs."""

    def __init__(
        self,
        sources: Sequence[Source],
        summaries: Mapping[str, Mapping] | None = None,
        *,
        max_workers: int = 16,
        batch_size: int = 64,
        count_probe_batches: int = 4,
        cancel_event: threading.Event | None = None,
        max_triples: int | None = None,
        max_rows: int | None = None,
        max_solutions: int | None = None,
    ) -> None:
        """``max_triples``: the most distinct triples a query may fetch; ``max_rows``: the most rows (or
        CONSTRUCT triples) its answer may have; ``max_solutions``: the most intermediate rows of the engine's
        own joins (a product of parts sharing no variable is refused before it is made). AnswerTooLarge past
        any; None: any."""
        names = [s.name for s in sources]
        if len(set(names)) != len(names):
            raise ValueError(f"source names must be unique: {names}")
        self.sources = {s.name: s for s in sources}
        self.summaries = summaries
        self.max_workers = max_workers
        self.batch_size = batch_size
        self.count_probe_batches = count_probe_batches
        self.cancel_event = cancel_event or threading.Event()
        self.max_triples = max_triples
        self.max_rows = max_rows
        self.max_solutions = max_solutions
        # computes the answer from the fetched triples (evaluate_fetched); a caller may run it elsewhere, e.g.
        # in a process it can kill: Oxigraph's evaluation cannot be interrupted
        self.evaluator: Callable[[Evaluation], QueryResult] | None = None
        # ASK answers are cached across queries, as FedX does.
        self.ask_cache: dict[tuple[str, str], bool] = {}

    def cancel(self) -> None:
        """Stop the running query at its next request; it raises QueryCancelled."""
        self.cancel_event.set()

    def parse(self, text: str, base_iri: str | None = None, *, strict: bool = True) -> ParsedQuery:
        return parse_query(text, base_iri, strict=strict)

    def plan(
        self, text: str, base_iri: str | None = None, probe: bool = False, parsed: ParsedQuery | None = None
    ) -> QueryPlan:
        """Source selection, local groups and join order of every BGP, without fetching data."""
        parsed = _reuse(parsed, text, base_iri)
        prober = None
        if probe:
            with ThreadPoolExecutor(self.max_workers) as pool:
                fetcher = Fetcher(self.sources, self.summaries, self.ask_cache, pool)
                return plan_query(parsed, list(self.sources), self.summaries, fetcher._probe)
        return plan_query(parsed, list(self.sources), self.summaries, prober)

    def query(
        self,
        text: str,
        provenance: bool = True,
        partial: bool = False,
        progress: Callable[[dict], None] | None = None,
        base_iri: str | None = None,
        parsed: ParsedQuery | None = None,
    ) -> QueryResult:
        """``parsed``: this text's parse from ``parse`` (rdflib's parser costs milliseconds), if the caller
        has it already."""
        started = time.perf_counter()
        parsed = _reuse(parsed, text, base_iri)
        with ThreadPoolExecutor(self.max_workers) as pool:
            fetcher = Fetcher(
                self.sources,
                self.summaries,
                self.ask_cache,
                pool,
                partial=partial,
                cancel_event=self.cancel_event,
                progress=progress,
                batch_size=self.batch_size,
                count_probe_batches=self.count_probe_batches,
                max_triples=self.max_triples,
                max_solutions=self.max_solutions,
            )
            # without provenance, a query only one source can match is that source's to answer (whole.py)
            result = None if provenance else fetcher.answer_whole(parsed)
            if result is None:
                fetcher.fetch(parsed.algebra, None, [])
        if self.cancel_event.is_set():
            raise QueryCancelled("query cancelled")
        fetched = time.perf_counter()
        patterns = collect_patterns(parsed.algebra)
        if result is None:
            if progress is not None:
                progress(_evaluating(fetcher))
            evaluate = self.evaluator or evaluate_fetched
            result = evaluate(Evaluation(parsed, base_iri, fetcher.triples, patterns, provenance, self.max_rows))
        result.patterns = [p.text for p in patterns]
        result.partial = bool(fetcher.failed)
        result.failed_sources = dict(fetcher.failed)
        stats = fetcher.stats
        result.stats = {
            "requests": stats.requests,
            "bytes_received": stats.bytes_received,
            "triples_fetched": len(fetcher.triples),
            "seconds": round(time.perf_counter() - started, 6),
            "fetch_seconds": round(fetched - started, 6),
            "per_source": {
                name: {"requests": c.requests, "bytes_received": c.bytes_received, "rows": c.rows}
                for name, c in stats.per_source.items()
            },
        }
        if progress is not None:
            progress({"phase": "done", "rows": len(result.rows), "requests": stats.requests})
        return result


def _evaluating(fetcher: Fetcher) -> dict:
    """The progress report before the answer is computed from the fetched triples (which reports nothing)."""
    per_source = fetcher.stats.per_source
    return {
        "phase": "evaluating",
        "requests": fetcher.stats.requests,
        "sources_contacted": sorted(n for n, c in per_source.items() if c.requests),
        "triples": len(fetcher.triples),
    }


def _reuse(parsed: ParsedQuery | None, text: str, base_iri: str | None) -> ParsedQuery:
    if parsed is not None and parsed.text == text and parsed.base_iri == base_iri:
        return parsed
    return parse_query(text, base_iri)


@dataclass
class Evaluation:
    """The last step of a federated query: its answer (and provenance) from the triples fetched for it."""

    parsed: ParsedQuery
    base_iri: str | None
    triples: Mapping[ox.Triple, set[str]]  # each fetched triple and the sources that hold it
    patterns: list
    provenance: bool
    max_rows: int | None


def evaluate_fetched(evaluation: Evaluation) -> QueryResult:
    """The query over the fetched triples with Oxigraph, then each row's provenance, in this thread."""
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in evaluation.triples)
    parsed = evaluation.parsed
    result = _evaluate(store, parsed.text, evaluation.base_iri, parsed.kind, evaluation.max_rows)
    if evaluation.provenance:
        rows = result.rows if parsed.kind == "SELECT" else None
        result.provenance = compute_provenance(parsed.algebra, evaluation.patterns, store, evaluation.triples, rows)
    return result


def _evaluate(store: ox.Store, text: str, base_iri: str | None, kind: str, max_rows: int | None) -> QueryResult:
    """The original query over the fetched triples, at most ``max_rows`` rows (or triples) of it. Kept out of
    ``Federation.query``: rdflib's parser leaves reference cycles through that frame, and pyoxigraph results
    must not be freed by the cycle collector on another thread."""
    answer = store.query(text, base_iri=base_iri)
    result = QueryResult(kind=kind)
    try:
        if kind == "SELECT":
            result.variables = [v.value for v in answer.variables]
            for solution in answer:
                if max_rows is not None and len(result.rows) >= max_rows:
                    raise AnswerTooLarge(f"its answer has more than {max_rows:,} rows")
                result.rows.append({v: solution[v] for v in result.variables if solution[v] is not None})
        elif kind == "ASK":
            result.boolean = bool(answer)
        else:
            result.triples = list(itertools.islice(answer, None if max_rows is None else max_rows + 1))
            if max_rows is not None and len(result.triples) > max_rows:
                raise AnswerTooLarge(f"its answer has more than {max_rows:,} triples")
    finally:
        answer = None  # dropped on this thread, also when the answer is too large  # noqa: F841
    return result


__all__ = ["Evaluation", "Federation", "SourceError", "evaluate_fetched"]
