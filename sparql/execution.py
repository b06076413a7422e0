"""Execution: fetch from the sources only the triples that can take part in an answer.

Each BGP is answered by bound joins (VALUES blocks of bindings already found, batched, sent in parallel);
OPTIONAL, MINUS and EXISTS patterns are bounded by the solutions of their left side; property paths are
followed from their bound ends. The fetched triples (a subset of the merge that contains every triple of
every answer) are then queried locally, which gives exact SPARQL semantics.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.plugins.sparql.parserutils import CompValue

from .algebra import NotShippable, ParsedQuery, conjuncts, exists_graph, exists_in, expr_to_sparql, expr_vars
from .errors import AnswerTooLarge, QueryCancelled, SourceError, UnsupportedQuery
from .members import ANY_PREDICATE, member_key
from .paths import PathFetching
from .planning import (
    SourceSelector,
    TriplePattern,
    Unit,
    estimate,
    local_join,
    make_units,
    order_patterns,
    order_units,
    split_bgp,
)
from .results import QueryResult
from .sources import Source, SourceCounters
from .summaries import iri_allowed, namespace
from .terms import Term, ox_to_sparql, to_ox, var_name
from .whole import answer_at, sole_source

Solution = dict[str, Term]
SMALL_PRODUCT = 64.0  # estimated rows up to which one source's unconnected units are asked in one subquery
STAR_FANOUT = 1.5  # triples per anchor value above which a pattern counts as many-valued in a star
PASS_THROUGH_RESET = {"Project", "Slice", "Distinct", "Reduced", "OrderBy", "Group", "AggregateJoin"}


@dataclass(frozen=True)
class PushedFilter:
    text: str
    vars: frozenset[str]


@dataclass
class FetchStats:
    requests: int = 0
    bytes_received: int = 0
    per_source: dict[str, SourceCounters] = field(default_factory=dict)


class Fetcher(PathFetching):
    """Walks the algebra of one query and fills ``triples`` (triple -> names of sources holding it)."""

    def __init__(
        self,
        sources: Mapping[str, Source],
        summaries: Mapping[str, Mapping] | None,
        ask_cache: dict[tuple[str, str], bool],
        pool: ThreadPoolExecutor,
        *,
        partial: bool = False,
        cancel_event: threading.Event | None = None,
        progress: Callable[[dict], None] | None = None,
        batch_size: int = 64,
        count_probe_batches: int = 4,
        max_triples: int | None = None,
        max_solutions: int | None = None,
    ) -> None:
        """``max_solutions``: the most intermediate solutions a join may make (AnswerTooLarge past it): the
        engine joins them in this process, checking for a cancel as it goes."""
        self.sources = dict(sources)
        self.max_triples = max_triples
        self.max_solutions = max_solutions
        self.summaries = summaries
        self.pool = pool
        self.partial = partial
        self.cancel_event = cancel_event
        self.progress = progress
        self.batch_size = batch_size
        self.count_probe_batches = count_probe_batches
        self.triples: dict[ox.Triple, set[str]] = {}
        self.failed: dict[str, str] = {}
        self.stats = FetchStats(per_source={n: SourceCounters() for n in self.sources})
        self._lock = threading.Lock()
        self._orders: dict[tuple, list[TriplePattern]] = {}
        self._estimates: dict[tuple, float] = {}
        self._units: dict[tuple[TriplePattern, ...], list[Unit]] = {}
        self.selector = SourceSelector(list(self.sources), summaries, self._probe, ask_cache, pool)

    def _join(self, left: list[Solution], right: list[Solution], shared: list[str]) -> list[Solution]:
        """Joined in this process: at most ``max_solutions`` rows, and stopped by a cancel."""
        return _join(left, right, shared, self.max_solutions, self._check_cancel)

    # -- requests -----------------------------------------------------------------------------------
    def _check_cancel(self) -> None:
        if self.cancel_event is not None and self.cancel_event.is_set():
            raise QueryCancelled("query cancelled")

    def _account(self, name: str, nbytes: int, rows: int) -> None:
        with self._lock:
            self.stats.requests += 1
            self.stats.bytes_received += nbytes
            counters = self.stats.per_source[name]
            counters.requests += 1
            counters.bytes_received += nbytes
            counters.rows += rows
            snapshot = {
                "phase": "fetching",
                "requests": self.stats.requests,
                "bytes_received": self.stats.bytes_received,
                "sources_contacted": sorted(n for n, c in self.stats.per_source.items() if c.requests),
                "triples": len(self.triples),
                "failed_sources": sorted(self.failed),
            }
        if self.progress is not None:
            self.progress(snapshot)

    def _fail(self, exc: SourceError) -> None:
        if not self.partial:
            raise exc
        with self._lock:
            self.failed.setdefault(exc.source, exc.reason)

    def _request(self, name: str, send: Callable[[Source], tuple[object, int, int]], otherwise: object):
        """One request to a source, ``send`` giving (value, bytes received, rows): the cancel is checked first
        and the cost counted. A source that fails (or failed before) raises, or under partial gives
        ``otherwise``."""
        self._check_cancel()
        if name in self.failed:
            return otherwise
        try:
            value, nbytes, rows = send(self.sources[name])
        except SourceError as exc:
            self._fail(exc)
            return otherwise
        self._account(name, nbytes, rows)
        return value

    def _probe(self, name: str, pattern_key: str) -> bool:
        return self._request(name, lambda source: (*source.ask(f"ASK {{ {pattern_key} }}"), 0), False)

    def _select(self, name: str, query: str) -> list[Solution]:
        def send(source: Source) -> tuple[list[Solution], int, int]:
            answer = source.select(query)
            return answer.rows, answer.nbytes, len(answer.rows)

        return self._request(name, send, [])

    def units_of(self, plain: list[TriplePattern]) -> list[Unit]:
        """The local groups of a BGP's patterns (planning.make_units), worked out once per query: whole-query
        shipping asks before the fetch does. Fresh copies, as the fetch attaches OPTIONALs to them."""
        key = tuple(plain)
        if key not in self._units:
            self._units[key] = make_units(plain, self.selector.select(plain), self.summaries)
        return [dataclasses.replace(unit, optionals=[]) for unit in self._units[key]]

    def answer_whole(self, parsed: ParsedQuery) -> QueryResult | None:
        """The query answered by the one source that can match all of it (whole.py), or None; None too when
        that source failed under partial, and the normal path then answers without it."""
        name = sole_source(parsed, self.units_of)
        if name is None:
            return None
        return self._request(name, lambda source: answer_at(source, parsed), None)

    def _run(self, jobs: list[tuple[str, str]]) -> list[list[Solution]]:
        if len(jobs) <= 1:
            return [self._select(*job) for job in jobs]
        return list(self.pool.map(lambda job: self._select(*job), jobs))

    def _record(self, triple: ox.Triple | None, source: str) -> None:
        if triple is None:
            return
        sources = self.triples.get(triple)
        if sources is None:
            if self.max_triples is not None and len(self.triples) >= self.max_triples:
                raise AnswerTooLarge(f"it needs more than {self.max_triples:,} triples from the sources")
            sources = self.triples[triple] = set()
        sources.add(source)

    # -- algebra walk -------------------------------------------------------------------------------
    def fetch(self, node: object, seed: list[Solution] | None, filters: list[PushedFilter]) -> list | None:
        """Fetch what ``node`` needs; returns its solutions when they are known (to bound what follows)."""
        if not isinstance(node, CompValue):
            return None
        name = node.name
        if name in ("SelectQuery", "AskQuery", "ConstructQuery"):
            self.fetch(node.p, None, [])
            return None
        if name in PASS_THROUGH_RESET:
            # Below a projection, grouping or slice every solution counts, not only compatible ones.
            self.fetch(node.p, None, [])
            for expr in (node.get("expr"), node.get("A")):
                self._fetch_exists(expr, None)
            return None
        if name == "Filter":
            sols = self.fetch(node.p, seed, [*filters, *_shippable(node.expr)])
            self._fetch_exists(node.expr, sols)
            return sols
        if name == "Extend":
            sols = self.fetch(node.p, seed, filters)
            self._fetch_exists(node.expr, sols)
            return sols
        if name == "Join":
            first, second = node.p1, node.p2
            if _is_values(second) and not _is_values(first):
                first, second = second, first
            if _shares_no_variable(first, second):
                # neither side bounds the other: fetch both at once, each bounded by the outer seed
                left, right = self._side_by_side(
                    [functools.partial(self.fetch, part, seed, filters) for part in (first, second)]
                )
            else:
                left = self.fetch(first, seed, filters)
                right = self.fetch(second, left if left is not None else seed, filters)
            return left if left is not None else right
        if name == "LeftJoin":
            # OPTIONAL after OPTIONAL: each one is bounded by the same left side (the innermost
            # mandatory part), so their fetches do not depend on each other and run side by side.
            chain = []
            base = node
            while isinstance(base, CompValue) and base.name == "LeftJoin":
                chain.append(base)
                base = base.p1
            chain.reverse()
            # An OPTIONAL sharing no variable with the mandatory part is not bounded by it (its subqueries
            # would be the same): fetched beside it, a round trip earlier. If the mandatory part turns out
            # empty, those requests were not needed; the answer is the same.
            is_apart = [_apart(base, lj) for lj in chain]
            apart = [lj for lj, a in zip(chain, is_apart, strict=True) if a]
            bound = [lj for lj, a in zip(chain, is_apart, strict=True) if not a]
            mandatory = functools.partial(self._fetch_mandatory, base, bound, seed, filters)
            steps = [mandatory, *(functools.partial(self._fetch_optional, lj, None) for lj in apart)]
            left, rest = self._side_by_side(steps)[0]
            self._side_by_side([functools.partial(self._fetch_optional, lj, left) for lj in rest])
            return left
        if name == "Minus":
            left = self.fetch(node.p1, seed, filters)
            self.fetch(node.p2, left, [])
            return left
        if name == "Union":
            a, b = self._side_by_side(
                [functools.partial(self.fetch, part, seed, filters) for part in (node.p1, node.p2)]
            )
            return a + b if a is not None and b is not None else None
        if name == "BGP":
            return self.fetch_bgp(node.triples, seed, filters)
        if name == "ToMultiSet":
            if isinstance(node.p, CompValue) and node.p.name == "values":
                return _values_rows(node.p)
            self.fetch(node.p, None, [])  # a subquery: its own scope, every solution counts
            return None
        if name in ("values",):
            return _values_rows(node)
        if name in ("Graph", "ServiceGraphPattern"):
            raise UnsupportedQuery(f"{name} is not supported: the federation queries the merge of default graphs")
        for key, value in node.items():
            if key != "_vars" and isinstance(value, CompValue):
                self.fetch(value, None, [])
        return None

    def _fetch_mandatory(
        self, base: object, chain: list[CompValue], seed: list[Solution] | None, filters: list[PushedFilter]
    ) -> tuple[list[Solution] | None, list[CompValue]]:
        """The mandatory part under a chain of OPTIONALs, with the OPTIONALs local to one of its units fetched
        in that unit's subquery; its solutions and the OPTIONALs still to fetch."""
        candidates = [i for i, lj in enumerate(chain) if _plain_optional(lj)]
        attached: set[int] = set()
        if isinstance(base, CompValue) and base.name == "BGP" and candidates and self.summaries:
            optionals = [split_bgp(chain[i].p2.triples)[0] for i in candidates]
            left = self.fetch_bgp(base.triples, seed, filters, optionals, attached)
            attached = {candidates[i] for i in attached}
        else:
            left = self.fetch(base, seed, filters)
        return left, [lj for i, lj in enumerate(chain) if i not in attached]

    def _fetch_optional(self, node: CompValue, left: list[Solution] | None) -> None:
        # The optional side is bounded by the left side only: an outer seed would change which
        # left rows keep their optional values.
        self.fetch(node.p2, left, _shippable(node.get("expr")))
        if node.get("expr") is not None:
            self._fetch_exists(node.expr, left)

    def _side_by_side(self, steps: list[Callable[[], object]]) -> list:
        """Run independent fetch steps at once; their results in order. Their own requests go to the shared
        pool, so the steps get threads of their own (a step waiting on the pool must not hold one of its
        workers)."""
        if len(steps) <= 1:
            return [step() for step in steps]
        with ThreadPoolExecutor(len(steps)) as runner:
            futures = [runner.submit(step) for step in steps]
            return [future.result() for future in futures]

    def _fetch_exists(self, expr: object, sols: list[Solution] | None) -> None:
        if expr is None:
            return
        for e in exists_in(expr):
            self.fetch(exists_graph(e), sols, [])

    # -- BGPs ---------------------------------------------------------------------------------------
    def fetch_bgp(
        self,
        triples: Iterable[tuple],
        seed: list[Solution] | None,
        filters: list[PushedFilter],
        optionals: list[list[TriplePattern]] | None = None,
        attached: set[int] | None = None,
    ):
        """Fetch a BGP by bound joins. ``optionals`` are OPTIONAL groups on top of it: those local to one of
        its units are fetched inside that unit's subquery, and their indexes are added to ``attached``."""
        plain, paths = split_bgp(triples)
        if seed is not None and not seed:
            return []
        bgp_vars: set[str] = set()
        for tp in plain:
            bgp_vars |= tp.vars()
        for pp in paths:
            bgp_vars |= pp.vars()
        sols: list[Solution] = [{}]
        if seed is not None:
            sols = _distinct([{k: v for k, v in s.items() if k in bgp_vars} for s in seed])
        if plain:
            relevant = self.selector.select(plain)
            if any(not relevant[tp] for tp in plain):
                return []
            bound = {v for s in sols for v in s}
            units = self._merge_small_exclusive(self.units_of(plain), bound)
            if optionals and attached is not None:
                attached |= self._attach_optionals(units, relevant, optionals)
            # Parts sharing no variable do not bound each other: fetched at once, then combined.
            filter_vars = [f.vars for f in filters]
            answers = self._side_by_side(
                [
                    functools.partial(
                        self._join_units,
                        order_units(part, bound, self.summaries, filter_vars, self._estimate),
                        sols,
                        filters,
                    )
                    for part in _connected(units)
                ]
            )
            sols = answers[0]
            for answer in answers[1:]:
                common = sorted({v for s in sols for v in s} & {v for s in answer for v in s})
                sols = self._join(sols, answer, common)
            if not sols:
                return []
        for pp in paths:
            self._fetch_path(pp, sols)
        return sols

    def _merge_small_exclusive(self, units: list[Unit], bound: set[str]) -> list[Unit]:
        """Units only one and the same source can answer become one subquery when the product of their
        estimated sizes is small (an offer's price, vendor and product, each found from the offer's IRI):
        one request instead of one each; the source joins them as the merge would."""
        by_source: dict[str, list[Unit]] = {}
        for unit in units:
            if len(unit.sources) == 1:
                by_source.setdefault(unit.sources[0], []).append(unit)
        out = [u for u in units if len(u.sources) != 1]
        for source, group in by_source.items():
            merged: list[Unit] = []
            rows = 1.0
            for unit in group:
                size = min(self._estimate(tp, bound) for tp in unit.patterns)
                if merged and rows * size <= SMALL_PRODUCT:
                    merged[-1] = Unit((*merged[-1].patterns, *unit.patterns), (source,))
                    rows *= size
                else:
                    merged.append(unit)
                    rows = max(size, 1.0)
            out.extend(merged)
        return out

    def _attach_optionals(
        self, units: list[Unit], relevant: Mapping[TriplePattern, tuple[str, ...]], optionals: list[list[TriplePattern]]
    ) -> set[int]:
        """OPTIONAL groups whose every triple joining a unit's answer must come from the source of that answer
        (local joins, as for local groups) ride in the unit's subquery: an OPTIONAL fetched where the unit
        is fetched is the whole of what the left side can use. At most one group that may match several
        times per row, so rows do not multiply."""
        done: set[int] = set()
        many: set[int] = set()
        for i, group in enumerate(optionals):
            if not group or not all(isinstance(tp.p, URIRef) for tp in group):
                continue
            local = {**relevant, **self.selector.select(group)}
            if any(not local[tp] for tp in group):
                done.add(i)  # no source can match it: nothing to fetch
                continue
            for unit in units:
                if not all(isinstance(tp.p, URIRef) for tp in unit.patterns):
                    continue
                if not _locally_attached(unit.patterns, group, local, self.summaries):
                    continue
                multiple = len(group) > 1 or self._fanout(Unit(group, ()), _anchor(group[0], unit.vars())) > STAR_FANOUT
                if multiple and id(unit) in many:
                    continue
                if multiple:
                    many.add(id(unit))
                unit.optionals.append(tuple(group))
                done.add(i)
                break
        return done

    def _join_units(self, todo: list[Unit], sols: list[Solution], filters: list[PushedFilter]) -> list[Solution]:
        """Bound joins of the units in order (stars routed by namespace where summaries allow)."""
        todo = list(todo)
        while todo:
            unit = todo.pop(0)
            star = self._star(unit, todo, sols)
            if star:
                todo = [u for u in todo if all(u is not m for m in star)]
                sols = self._routed_join([unit, *star], sols, filters)
            else:
                sols = self._bound_join(unit, sols, filters)
            if not sols:
                return []
        return sols

    def _estimate(self, tp: TriplePattern, bound: set[str]) -> float:
        """The planner's size estimate, once per pattern and set of its bound variables."""
        key = (tp, frozenset(v for v in tp.vars() if v in bound))
        if key not in self._estimates:
            self._estimates[key] = estimate(tp, bound, self.summaries)
        return self._estimates[key]

    def _written_order(self, unit: Unit, bound: list[str]) -> list[TriplePattern]:
        if len(unit.patterns) == 1:
            return list(unit.patterns)
        # keyed by the patterns, never by id(unit): units of finished steps are freed, and a unit made later
        # (or in a step running beside) can get the same id and would be written with another unit's patterns
        key = (unit.patterns, tuple(bound))
        if key not in self._orders:
            self._orders[key] = order_patterns(unit.patterns, set(bound), self.summaries, self._estimate)
        return self._orders[key]

    def _unit_query(self, unit: Unit, shared: list[str], keys: list[tuple], filters: list[str]) -> str:
        out_vars = sorted(unit.vars())
        body = []
        if keys:
            head = " ".join("?" + v for v in shared)
            rows = " ".join(
                "(" + " ".join("UNDEF" if t is None else ox_to_sparql(t) for t in key) + ")" for key in keys
            )
            body.append(f"VALUES ({head}) {{ {rows} }}")
        body.extend(tp.text() for tp in self._written_order(unit, shared if keys else []))
        body.extend(f"FILTER {f}" if f.startswith("(") else f"FILTER({f})" for f in filters)
        for group in unit.optionals:
            body.append("OPTIONAL { " + " ".join(tp.text() for tp in group) + " }")
            out_vars = sorted(set(out_vars).union(*(tp.vars() for tp in group)))
        projection = " ".join("?" + v for v in out_vars) if out_vars else "*"
        return f"SELECT DISTINCT {projection} WHERE {{ {' '.join(body)} }}"

    def _bound_join(self, unit: Unit, sols: list[Solution], filters: list[PushedFilter]) -> list[Solution]:
        uvars = unit.vars()
        pushed = [f.text for f in filters if f.vars <= uvars]
        shared = sorted(v for v in uvars if any(v in s for s in sols))
        keys: list[tuple] | None = None  # None: one unrestricted request per source
        if shared:
            keyset = set()
            for s in sols:
                key = tuple(None if isinstance(s.get(v), ox.BlankNode) else s.get(v) for v in shared)
                keyset.add(key)
            # a binding that restricts nothing means one unrestricted request
            if not any(all(t is None for t in key) for key in keyset):
                keys = sorted(keyset, key=lambda k: tuple(str(t) for t in k))
        per_source: dict[str, list[list[tuple]]] = {}
        for source in unit.sources:
            if keys is None:
                per_source[source] = [[]]
                continue
            # join-aware pruning: a source gets only the bindings its summary does not rule out
            mine = self._keys_for(unit, source, shared, keys)
            per_source[source] = [mine[i : i + self.batch_size] for i in range(0, len(mine), self.batch_size)]
        whole = self._cheaper_whole(unit, pushed, per_source)
        jobs = []
        for source, batches in per_source.items():
            for batch in [[]] if source in whole else batches:
                jobs.append((source, self._unit_query(unit, shared if batch else [], batch, pushed)))
        found: dict[tuple, Solution] = {}
        recorded = [*unit.patterns, *(tp for group in unit.optionals for tp in group)]
        order = sorted(uvars)
        for (source, _), rows in zip(jobs, self._run(jobs), strict=False):
            for row in rows:
                for tp in recorded:
                    self._record(tp.instantiate(row), source)
                key = tuple(row.get(v) for v in order)
                if key not in found:
                    found[key] = {v: row[v] for v in order if v in row} if unit.optionals else row
        return self._join(sols, list(found.values()), shared)

    def _key_filter(
        self, unit: Unit, source: str, shared: list[str], members: bool = True
    ) -> Callable[[tuple], bool] | None:
        """Whether ``source`` may match a binding tuple: every IRI bound at a subject or object of the
        unit's patterns must lie in a namespace the source's summary lists for that predicate and, with
        ``members``, pass the source's membership filter. None when the summary rules out nothing."""
        summary = (self.summaries or {}).get(source)
        if summary is None or "authorities" not in summary:
            return None
        bloom = self.selector.members.get(source) if members else None
        index = {v: i for i, v in enumerate(shared)}
        checks = []
        for tp in unit.patterns:
            predicate = str(tp.p) if isinstance(tp.p, URIRef) else None
            if predicate is None and (bloom is None or var_name(tp.p) in index):
                continue
            for position, node in (("s", tp.s), ("o", tp.o)):
                name = var_name(node)
                if name in index:
                    checks.append((index[name], predicate, position))
        if not checks:
            return None
        allowed: dict[tuple[int, str, str, str], bool] = {}

        def ok(key: tuple) -> bool:
            for i, pred, position in checks:
                term = key[i]
                if not isinstance(term, ox.NamedNode):
                    continue
                if pred is not None:
                    # iri_allowed depends on the IRI's namespace only (prefixes end at '/' or '#')
                    memo = (i, pred, position, namespace(term.value))
                    if memo not in allowed:
                        allowed[memo] = iri_allowed(summary, pred, position, term.value)
                    if not allowed[memo]:
                        return False
                if bloom is not None and member_key(pred or ANY_PREDICATE, position, term.value) not in bloom:
                    return False
            return True

        return ok

    def _keys_for(self, unit: Unit, source: str, shared: list[str], keys: list[tuple]) -> list[tuple]:
        """The binding tuples that ``source`` may match, given its summary."""
        ok = self._key_filter(unit, source, shared)
        return keys if ok is None else [key for key in keys if ok(key)]

    # -- stars routed by namespace -------------------------------------------------------------------
    def _star(self, unit: Unit, todo: list[Unit], sols: list[Solution]) -> list[Unit]:
        """Later units that share a bound subject or object variable with ``unit``: with namespace
        summaries, the bindings that only one source can match send the whole star there. A local group
        (several patterns) may take part: its answers come from one source anyway."""
        if not self.summaries or not any("authorities" in s for s in self.summaries.values()):
            return []
        if unit.optionals or not all(isinstance(tp.p, URIRef) for tp in unit.patterns):
            return []
        bound = {v for s in sols for v in s}

        def ends(u: Unit) -> set[str]:
            return {n for tp in u.patterns for n in (var_name(tp.s), var_name(tp.o)) if n} & bound

        anchors = ends(unit)
        for anchor in sorted(anchors):
            # Several many-valued parts in one star multiply their rows: keep at most one.
            many = self._fanout(unit, anchor) > STAR_FANOUT
            star = []
            for u in todo:
                if u.optionals or not all(isinstance(tp.p, URIRef) for tp in u.patterns) or anchor not in ends(u):
                    continue
                if self._fanout(u, anchor) > STAR_FANOUT:
                    if many:
                        continue
                    many = True
                star.append(u)
            if star:
                return star
        return []

    def _fanout(self, unit: Unit, anchor: str) -> float:
        """Most triples per distinct ``anchor`` value that a source holds for the unit's pattern
        (infinite when summaries do not say, and for a group of several patterns)."""
        if len(unit.patterns) > 1:
            return math.inf
        tp = unit.patterns[0]
        end = "s" if var_name(tp.s) == anchor else "o"
        worst = 0.0
        for summary in (self.summaries or {}).values():
            count = (summary.get("predicates") or {}).get(str(tp.p))
            if not count:
                continue
            distinct = summary.get("distinct")
            n = distinct.get(end, {}).get(str(tp.p)) if isinstance(distinct, Mapping) else None
            if not n:
                return math.inf
            worst = max(worst, count / n)
        return worst

    @staticmethod
    def _route(key: tuple, filters_by_unit: list, dropped: object) -> object:
        """The one source every pattern of a star must come from for ``key``, ``dropped`` when some
        pattern has no source for it, None when several sources may contribute."""
        common: set[str] | None = None
        for per_source in filters_by_unit:
            allowed = {src for src, ok in per_source if ok is None or ok(key)}
            if not allowed:
                return dropped
            if len(allowed) != 1 or (common is not None and allowed != common):
                return None
            common = allowed
        return next(iter(common)) if common else None

    def _routed_join(self, units: list[Unit], sols: list[Solution], filters: list[PushedFilter]) -> list[Solution]:
        """Bindings whose every pattern only one and the same source can match go there as one star
        query; a binding no source can match for some pattern is dropped; the rest are bound-joined
        pattern by pattern."""
        gvars: set[str] = set()
        for u in units:
            gvars |= u.vars()
        shared = sorted(v for v in gvars if any(v in s for s in sols))
        key_of = {id(s): tuple(None if isinstance(s.get(v), ox.BlankNode) else s.get(v) for v in shared) for s in sols}
        # namespaces only: routing decides once per namespace signature, which a per-IRI filter would break
        filters_by_unit = [[(src, self._key_filter(u, src, shared, members=False)) for src in u.sources] for u in units]
        route: dict[tuple, object] = {}
        dropped = object()
        # Summaries decide by namespace only: one decision per namespace signature, not per binding.
        by_signature: dict[tuple, object] = {}
        for key in set(key_of.values()):
            if any(t is None for t in key):
                route[key] = None
                continue
            signature = tuple(namespace(t.value) if isinstance(t, ox.NamedNode) else t for t in key)
            if signature not in by_signature:
                by_signature[signature] = self._route(key, filters_by_unit, dropped)
            route[key] = by_signature[signature]
        routed: dict[str, list[tuple]] = {}
        rest: list[Solution] = []
        routed_sols: list[Solution] = []
        for s in sols:
            target = route[key_of[id(s)]]
            if target is None:
                rest.append(s)
            elif isinstance(target, str):
                routed_sols.append(s)
        for key, target in route.items():
            if isinstance(target, str):
                routed.setdefault(target, []).append(key)
        out: list[Solution] = []
        if routed:
            star = Unit(tuple(tp for u in units for tp in u.patterns), ())
            pushed = [f.text for f in filters if f.vars <= gvars]
            jobs = []
            for source, keys in sorted(routed.items()):
                keys.sort(key=lambda k: tuple(str(t) for t in k))
                for i in range(0, len(keys), self.batch_size):
                    jobs.append((source, self._unit_query(star, shared, keys[i : i + self.batch_size], pushed)))
            found: dict[tuple, Solution] = {}
            order = sorted(gvars)
            for (source, _), rows in zip(jobs, self._run(jobs), strict=False):
                for row in rows:
                    for tp in star.patterns:
                        self._record(tp.instantiate(row), source)
                    found.setdefault(tuple(row.get(v) for v in order), row)
            out = self._join(routed_sols, list(found.values()), shared)
        if rest:
            for u in units:
                rest = self._bound_join(u, rest, filters)
                if not rest:
                    break
            out.extend(rest)
        return _distinct(out)

    def _cheaper_whole(self, unit: Unit, pushed: list[str], per_source: Mapping[str, list[list[tuple]]]) -> set[str]:
        """Sources where fetching the unit unrestricted moves no more rows than the bound join would
        send bindings, decided by one COUNT probe each; only worth asking when there are many batches."""
        probed = [s for s, batches in per_source.items() if len(batches) >= self.count_probe_batches]
        if not probed:
            return set()
        text = self._unit_query(unit, [], [], pushed)
        count_query = f"SELECT (COUNT(*) AS ?n) WHERE {{ {text} }}"
        jobs = [(source, count_query) for source in probed]
        whole = set()
        for (source, _), rows in zip(jobs, self._run(jobs), strict=True):
            try:
                count = int(rows[0]["n"].value) if rows else None
            except (KeyError, ValueError):
                count = None
            if count is not None and count <= sum(len(b) for b in per_source[source]):
                whole.add(source)
        return whole


def _shippable(expr: object) -> list[PushedFilter]:
    """The conjuncts of a filter that sources can evaluate (no EXISTS, nothing local to the engine)."""
    out = []
    for part in conjuncts(expr) if expr is not None else []:
        if exists_in(part):
            continue
        try:
            out.append(PushedFilter(expr_to_sparql(part), frozenset(expr_vars(part))))
        except NotShippable:
            pass
    return out


def _plain_optional(node: CompValue) -> bool:
    """An OPTIONAL of plain triple patterns without a filter of its own."""
    expr = node.get("expr")
    if expr is not None and not (isinstance(expr, CompValue) and expr.name == "TrueFilter"):
        return False
    right = node.p2
    if not (isinstance(right, CompValue) and right.name == "BGP"):
        return False
    plain, paths = split_bgp(right.triples)
    return bool(plain) and not paths


def _locally_attached(
    base: tuple[TriplePattern, ...],
    group: list[TriplePattern],
    relevant: Mapping[TriplePattern, tuple[str, ...]],
    summaries: Mapping[str, Mapping] | None,
) -> bool:
    """Whether every pattern of ``group`` is tied to ``base`` by a chain of local joins."""
    reached = list(base)
    todo = list(group)
    while todo:
        nxt = next((tp for tp in todo if any(local_join(r, tp, relevant, summaries) for r in reached)), None)
        if nxt is None:
            return False
        todo.remove(nxt)
        reached.append(nxt)
    return True


def _anchor(tp: TriplePattern, bound: set[str]) -> str:
    """The end of ``tp`` that joins what is bound (its subject when both do)."""
    for node in (tp.s, tp.o):
        name = var_name(node)
        if name in bound:
            return name
    return var_name(tp.s) or ""


def _connected(units: list[Unit]) -> list[list[Unit]]:
    """Units grouped by shared variables (connected components, in the given order)."""
    parts: list[tuple[set[str], list[Unit]]] = []
    for unit in units:
        uvars = unit.vars()
        touching = [p for p in parts if p[0] & uvars]
        merged_vars, merged_units = set(uvars), []
        for p in touching:
            merged_vars |= p[0]
            merged_units.extend(p[1])
            parts.remove(p)
        parts.append((merged_vars, [*merged_units, unit]))
    return [p[1] for p in parts]


def _apart(base: object, optional: CompValue) -> bool:
    """An OPTIONAL whose pattern and filter share no variable with the mandatory part below it."""
    expr = optional.get("expr")
    if expr is not None and exists_in(expr):
        return False
    inner = _node_vars(optional.p2)
    if expr is not None and (inner is None or not expr_vars(expr) <= {str(v) for v in inner}):
        return False
    return _shares_no_variable(base, optional.p2)


def _node_vars(node: object) -> set | frozenset | None:
    """The variables rdflib's translation lists for an algebra node (None when it lists none)."""
    found = node.get("_vars") if isinstance(node, CompValue) else None
    return found if isinstance(found, (set, frozenset)) else None


def _shares_no_variable(a: object, b: object) -> bool:
    va, vb = _node_vars(a), _node_vars(b)
    return va is not None and vb is not None and not (va & vb)


def _is_values(node: object) -> bool:
    return isinstance(node, CompValue) and node.name in ("ToMultiSet", "values")


def _values_rows(node: CompValue) -> list[Solution]:
    rows = []
    for res in node.get("res") or []:
        row = {}
        for key, value in res.items():
            if type(value) is str and value == "UNDEF":
                continue
            try:
                row[str(key)] = to_ox(value)
            except TypeError:
                continue
        rows.append(row)
    return rows


def _distinct(rows: list[Solution]) -> list[Solution]:
    seen = {}
    for row in rows:
        seen.setdefault(frozenset(row.items()), row)
    return list(seen.values())


CHECK_EVERY = 1024  # rows a join looks at between two looks at the cancel event


def _join(
    left: list[Solution],
    right: list[Solution],
    shared: list[str],
    limit: int | None = None,
    check: Callable[[], None] | None = None,
) -> list[Solution]:
    """``limit``: AnswerTooLarge past that many rows; ``check`` is called now and then (it may raise)."""
    if limit is not None and not shared and len(left) * len(right) > limit:
        # parts sharing no variable: their product, refused before it is made (eight copies of 30 triples
        # would be 6.6e11 rows)
        raise AnswerTooLarge(f"parts of it that share no variable combine into more than {limit:,} rows")
    index: dict[tuple, list[Solution]] = {}
    for r in right:
        index.setdefault(tuple(r.get(v) for v in shared), []).append(r)
    out = {}
    work, next_check = 0, 0  # rows looked at: a row with an unbound key is compared with all of ``right``
    for sol in left:
        if check is not None and work >= next_check:
            check()
            next_check = work + CHECK_EVERY
        key = tuple(sol.get(v) for v in shared)
        if all(k is not None for k in key):
            matches = index.get(key, [])
            work += 1
        else:
            matches = [r for r in right if all(sol.get(v) is None or sol[v] == r.get(v) for v in shared)]
            work += len(right)
        for r in matches:
            merged = {**sol, **r}
            out.setdefault(frozenset(merged.items()), merged)
        if limit is not None and len(out) > limit:
            raise AnswerTooLarge(f"its joins make more than {limit:,} intermediate rows")
    return list(out.values())
