"""Planning: triple patterns, source selection (summaries + cached ASK), exclusive groups, join order."""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.paths import InvPath, Path, SequencePath

from .algebra import ParsedQuery, exists_graph, pattern_text
from .members import ANY_PREDICATE, member_key
from .summaries import authorities_at, iri_allowed, iri_possible, members_of
from .terms import Term, node_to_sparql, to_ox, var_name

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DEFAULT_PREDICATE_SIZE = 1000.0


@dataclass(frozen=True)
class TriplePattern:
    """A triple pattern whose predicate is an IRI or a variable (paths are kept apart)."""

    s: object
    p: object
    o: object

    def text(self) -> str:
        return f"{node_to_sparql(self.s)} {node_to_sparql(self.p)} {node_to_sparql(self.o)} ."

    def key(self) -> str:
        """Text with variables renamed by position, so that equal shapes share one ASK."""
        return self._key

    @functools.cached_property
    def _key(self) -> str:
        names: dict[str, str] = {}
        parts = []
        for node in (self.s, self.p, self.o):
            name = var_name(node)
            if name is None:
                parts.append(node_to_sparql(node))
            else:
                parts.append(names.setdefault(name, f"?v{len(names)}"))
        return " ".join(parts) + " ."

    @functools.cached_property
    def _template(self) -> tuple[tuple[str | None, Term | None], ...]:
        # (variable name, None) or (None, constant): instantiate runs per pattern and answer row, thousands
        # of times per query when provenance is listed, so names and constants are worked out once
        return tuple((var_name(n), None if var_name(n) else to_ox(n)) for n in (self.s, self.p, self.o))

    def vars(self) -> set[str]:
        return {name for name, _ in self._template if name}

    def instantiate(self, solution: Mapping[str, Term]) -> ox.Triple | None:
        # unrolled: this runs per pattern and derivation, up to hundreds of thousands of times per query
        (s_name, s), (p_name, p), (o_name, o) = self._template
        if s_name:
            s = solution.get(s_name)
        if p_name:
            p = solution.get(p_name)
        if o_name:
            o = solution.get(o_name)
        if s is None or o is None or isinstance(s, ox.Literal) or not isinstance(p, ox.NamedNode):
            return None
        return ox.Triple(s, p, o)


@dataclass(frozen=True)
class PathPattern:
    """A triple pattern with a property path that is not a plain sequence of (inverse) IRIs."""

    s: object
    path: Path
    o: object

    def vars(self) -> set[str]:
        return {n for n in (var_name(self.s), var_name(self.o)) if n}

    def text(self) -> str:
        return pattern_text(self.s, self.path, self.o)


@dataclass
class Unit:
    """Patterns answered together by each of ``sources`` (a local group) or a single pattern."""

    patterns: tuple[TriplePattern, ...]
    sources: tuple[str, ...]
    # OPTIONAL groups fetched inside this unit's subquery (local to it: see Fetcher.fetch, "LeftJoin")
    optionals: list[tuple[TriplePattern, ...]] = field(default_factory=list)

    @property
    def exclusive(self) -> bool:
        return len(self.sources) == 1 and len(self.patterns) > 1

    def vars(self) -> set[str]:
        out: set[str] = set()
        for tp in self.patterns:
            out |= tp.vars()
        return out


@dataclass
class BGPPlan:
    patterns: list[TriplePattern]
    paths: list[PathPattern]
    units: list[Unit] = field(default_factory=list)


@dataclass
class QueryPlan:
    kind: str
    bgps: list[BGPPlan]

    def describe(self) -> str:
        lines = []
        for i, bgp in enumerate(self.bgps):
            lines.append(f"BGP {i}:")
            for unit in bgp.units:
                label = "exclusive group" if unit.exclusive else "local group" if len(unit.patterns) > 1 else "pattern"
                pats = " ".join(tp.text() for tp in unit.patterns)
                lines.append(f"  {label} @ {','.join(unit.sources) or '-'}: {pats}")
            for path in bgp.paths:
                lines.append(f"  path: {path.text()}")
        return "\n".join(lines)


_fresh = [0]


def split_bgp(triples: Iterable[tuple]) -> tuple[list[TriplePattern], list[PathPattern]]:
    """Plain patterns and path patterns of a BGP; sequences and inverses of IRIs become plain patterns."""
    from rdflib import Variable

    plain: list[TriplePattern] = []
    paths: list[PathPattern] = []

    def add(s: object, p: object, o: object) -> None:
        if not isinstance(p, Path):
            plain.append(TriplePattern(s, p, o))
        elif isinstance(p, InvPath):
            if isinstance(p.arg, Path):
                add_path(o, p.arg, s)
            else:
                plain.append(TriplePattern(o, p.arg, s))
        elif isinstance(p, SequencePath):
            nodes = [s]
            for _ in p.args[:-1]:
                _fresh[0] += 1
                nodes.append(Variable(f"_seq{_fresh[0]}"))
            nodes.append(o)
            for i, step in enumerate(p.args):
                add(nodes[i], step, nodes[i + 1])
        else:
            add_path(s, p, o)

    def add_path(s: object, p: object, o: object) -> None:
        if isinstance(p, (URIRef, InvPath, SequencePath)):
            add(s, p, o)
        else:
            paths.append(PathPattern(s, p, o))

    for s, p, o in triples:
        add(s, p, o)
    return plain, paths


def iter_nodes(node: object, seen: dict[int, object] | None = None):
    """Every node of an algebra tree once, the graph patterns of EXISTS included (after the EXISTS node).

    ``seen`` holds the nodes themselves, not only their ids: an EXISTS pattern that rdflib left untranslated
    is translated here into a new object, and once freed its id could come back for the next one."""
    from rdflib.plugins.sparql.parserutils import CompValue

    seen = {} if seen is None else seen
    if isinstance(node, CompValue):
        if id(node) in seen:
            return
        seen[id(node)] = node
        yield node
        if node.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
            yield from iter_nodes(exists_graph(node), seen)
            return
        if node.name == "BGP":
            return  # its triples hold terms and paths, no nodes
        for key, value in node.items():
            if key != "_vars":
                yield from iter_nodes(value, seen)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from iter_nodes(item, seen)


def iter_bgps(node: object):
    """Every BGP node of an algebra tree, the patterns of EXISTS included."""
    return (n for n in iter_nodes(node) if n.name == "BGP")


class SourceSelector:
    """Which sources can match a pattern: summaries first, then ASK probes cached across queries."""

    def __init__(
        self,
        names: list[str],
        summaries: Mapping[str, Mapping] | None,
        prober: Callable[[str, str], bool] | None,
        cache: dict[tuple[str, str], bool],
        pool: ThreadPoolExecutor | None = None,
    ) -> None:
        self.names = names
        self.summaries = summaries or {}
        self.prober = prober
        self.cache = cache
        self.pool = pool
        self.members = {name: members_of(summary) for name, summary in self.summaries.items()}
        self._selected: dict[tuple[TriplePattern, ...], dict[TriplePattern, tuple[str, ...]]] = {}

    def _summary_allows(self, name: str, tp: TriplePattern) -> bool:
        summary = self.summaries.get(name)
        if summary is None:
            return True
        predicates = summary.get("predicates")
        if isinstance(tp.p, URIRef) and predicates is not None and str(tp.p) not in predicates:
            return False
        classes = summary.get("classes")
        if (
            isinstance(tp.p, URIRef)
            and str(tp.p) == RDF_TYPE
            and isinstance(tp.o, URIRef)
            and classes is not None
            and str(tp.o) not in classes
        ):
            return False
        members = self.members.get(name)
        for position, node in (("s", tp.s), ("o", tp.o)):
            if not isinstance(node, URIRef):
                continue
            if isinstance(tp.p, URIRef):
                if not iri_allowed(summary, str(tp.p), position, str(node)):
                    return False
            elif var_name(tp.p) is not None and not iri_possible(summary, position, str(node)):
                return False
            predicate = str(tp.p) if isinstance(tp.p, URIRef) else ANY_PREDICATE
            if members is not None and member_key(predicate, position, str(node)) not in members:
                return False
        return True

    def _needs_probe(self, name: str, tp: TriplePattern) -> bool:
        if self.prober is None:
            return False
        if name not in self.summaries:
            return True
        # Summaries know predicates and classes, not subjects or objects.
        other_constants = var_name(tp.s) is None or (var_name(tp.o) is None and str(tp.p) != RDF_TYPE)
        constants = [node for node in (tp.s, tp.o) if var_name(node) is None]
        if other_constants and self.members.get(name) is not None and all(isinstance(c, URIRef) for c in constants):
            return False  # the membership filter has checked every constant (a variable predicate too)
        if other_constants and isinstance(tp.p, URIRef) and "authorities" in self.summaries[name]:
            # The namespaces of the constants were checked already; an ASK then a SELECT at every
            # source that answers yes costs more requests than the SELECT alone.
            return False
        return other_constants

    def select(self, patterns: list[TriplePattern]) -> dict[TriplePattern, tuple[str, ...]]:
        """Relevant sources per pattern; memoised, as whole-query shipping and the fetch both ask."""
        key = tuple(patterns)
        if key not in self._selected:
            self._selected[key] = self._select(patterns)
        return self._selected[key]

    def _select(self, patterns: list[TriplePattern]) -> dict[TriplePattern, tuple[str, ...]]:
        todo: list[tuple[str, str]] = []
        candidates: dict[TriplePattern, list[str]] = {}
        for tp in patterns:
            keep = [n for n in self.names if self._summary_allows(n, tp)]
            candidates[tp] = keep
            for name in keep:
                if self._needs_probe(name, tp) and (name, tp.key()) not in self.cache:
                    todo.append((name, tp.key()))
        todo = list(dict.fromkeys(todo))
        if todo and self.prober is not None:
            prober = self.prober
            if self.pool is not None and len(todo) > 1:
                answers = list(self.pool.map(lambda job: prober(*job), todo))
            else:
                answers = [prober(*job) for job in todo]
            for job, answer in zip(todo, answers, strict=False):
                self.cache[job] = answer
        out = {}
        for tp, keep in candidates.items():
            out[tp] = tuple(n for n in keep if self.cache.get((n, tp.key()), True))
        return out


def make_units(
    patterns: list[TriplePattern],
    relevant: Mapping[TriplePattern, tuple[str, ...]],
    summaries: Mapping[str, Mapping] | None = None,
) -> list[Unit]:
    """Local groups: patterns joined so that every answer takes all its triples from one source.

    An exclusive group (patterns only one source can match, sharing a variable) is the simple case. With
    namespace summaries a join is also local when no value one source has at one end can appear at the
    other end in another source (Lusail's locality, decided from the summaries as HiBISCuS prunes): the
    vendors' local product IRIs, say. Each group goes to every source that can match all its patterns as
    one subquery, and the union of their answers is the group's answer over the merge."""
    parent = list(range(len(patterns)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(patterns):
        for j in range(i + 1, len(patterns)):
            if root(i) != root(j) and local_join(a, patterns[j], relevant, summaries):
                parent[root(j)] = root(i)
    groups: dict[int, list[TriplePattern]] = {}
    for i, tp in enumerate(patterns):
        groups.setdefault(root(i), []).append(tp)
    units = []
    for members in groups.values():
        common = set(relevant[members[0]])
        for tp in members[1:]:
            common &= set(relevant[tp])
        units.append(Unit(tuple(members), tuple(n for n in relevant[members[0]] if n in common)))
    return units


def local_join(
    a: TriplePattern,
    b: TriplePattern,
    relevant: Mapping[TriplePattern, tuple[str, ...]],
    summaries: Mapping[str, Mapping] | None,
) -> bool:
    """Whether every solution of ``a`` joined with ``b`` takes both triples from one and the same source."""
    shared = a.vars() & b.vars()
    if not shared:
        return False
    pairs = [(x, y) for x in relevant[a] for y in relevant[b] if x != y]
    if not pairs:
        return True  # both can only come from the same single source
    if not isinstance(a.p, URIRef) or not isinstance(b.p, URIRef):
        return False
    for name in shared:
        ends_a = [pos for pos, node in (("s", a.s), ("o", a.o)) if var_name(node) == name]
        ends_b = [pos for pos, node in (("s", b.s), ("o", b.o)) if var_name(node) == name]
        if var_name(a.p) == name or var_name(b.p) == name or not ends_a or not ends_b:
            continue
        # Two objects may be equal literals, which namespaces do not describe; a subject never is one.
        if all(pa == "o" and pb == "o" for pa in ends_a for pb in ends_b):
            continue
        if all(
            _ends_disjoint(summaries, relevant[a], str(a.p), pa, relevant[b], str(b.p), pb)
            for pa in ends_a
            for pb in ends_b
            if not (pa == "o" and pb == "o")
        ):
            return True
    return False


def _ends_disjoint(
    summaries: Mapping[str, Mapping] | None,
    first: Sequence[str],
    p_first: str,
    pos_first: str,
    second: Sequence[str],
    p_second: str,
    pos_second: str,
) -> bool:
    """True when the summaries prove that no IRI is at ``pos_first`` of a ``p_first`` triple in one of the
    ``first`` sources and at ``pos_second`` of a ``p_second`` triple in another, ``second`` source (blank
    nodes never join across sources)."""
    by_prefix: list[dict[str, set[str]]] = []
    for sources, predicate, position in ((first, p_first, pos_first), (second, p_second, pos_second)):
        owners: dict[str, set[str]] = {}
        for source in sources:
            prefixes = namespaces(summaries, source, predicate, position)
            if prefixes is None:
                return False
            for prefix in prefixes:
                owners.setdefault(prefix, set()).add(source)
        by_prefix.append(owners)
    first_owners, second_owners = by_prefix
    # an IRI under two overlapping prefixes may sit in x and in y: allowed only when x and y are one source
    return not any(len(xs | ys) > 1 for xs, ys in _overlapping(first_owners, second_owners))


def _overlapping(first: Mapping[str, set[str]], second: Mapping[str, set[str]]):
    """Owner sets of every pair of prefixes, one from each side, where one prefix starts the other.
    Prefixes end at '/' or '#', so the shorter of a pair is the longer cut at one of those: a lookup per
    cut and a range of the sorted keys, instead of comparing every pair (50 sources: 2,500 pairs)."""
    if not all(p.endswith(("/", "#")) for p in (*first, *second)):
        yield from (
            (xs, ys) for f, xs in first.items() for g, ys in second.items() if f.startswith(g) or g.startswith(f)
        )
        return
    keys = sorted(first)
    for g, ys in second.items():
        for cut, char in enumerate(g):
            if char in "/#" and g[: cut + 1] in first:
                yield first[g[: cut + 1]], ys  # f is g or one of its ancestors
        i = bisect.bisect_left(keys, g)
        while i < len(keys) and keys[i].startswith(g):
            if keys[i] != g:
                yield first[keys[i]], ys  # f lies below g
            i += 1


def namespaces(summaries: Mapping[str, Mapping] | None, source: str, predicate: str, position: str) -> list | None:
    """The IRI namespaces a source's summary lists for a predicate at "s" or "o"; None when unknown."""
    summary = (summaries or {}).get(source)
    by_predicate = authorities_at(summary, position)
    if by_predicate is None:
        return None
    if predicate not in by_predicate:
        # a predicate the source does not have at all contributes nothing
        predicates = summary.get("predicates")
        return [] if isinstance(predicates, Mapping) and predicate not in predicates else None
    return by_predicate[predicate]


def estimate(tp: TriplePattern, bound: set[str], summaries: Mapping[str, Mapping] | None) -> float:
    """Rough cardinality of a pattern once the ``bound`` variables carry values."""
    size = DEFAULT_PREDICATE_SIZE
    s_fixed = var_name(tp.s) is None or var_name(tp.s) in bound
    o_fixed = var_name(tp.o) is None or var_name(tp.o) in bound
    # matches per bound subject and per bound object, where summaries count distinct subjects/objects
    per_end = {"s": 0.0, "o": 0.0}
    per_end_known = True
    if isinstance(tp.p, URIRef):
        total = 0.0
        known = False
        for summary in (summaries or {}).values():
            preds = summary.get("predicates")
            if isinstance(preds, Mapping) and str(tp.p) in preds and preds[str(tp.p)] is not None:
                if any(
                    isinstance(node, URIRef) and not iri_allowed(summary, str(tp.p), end, str(node))
                    for end, node in (("s", tp.s), ("o", tp.o))
                ):
                    continue  # this source cannot hold the constant
                count = float(preds[str(tp.p)])
                total += count
                known = True
                distinct = summary.get("distinct")
                for end in ("s", "o"):
                    n = distinct.get(end, {}).get(str(tp.p)) if isinstance(distinct, Mapping) else None
                    if n:
                        per_end[end] += count / float(n)
                    else:
                        per_end_known = False
        if known:
            size = max(total, 1.0)
        else:
            per_end_known = False
    else:
        size = DEFAULT_PREDICATE_SIZE * 100
        per_end_known = False
    if isinstance(tp.p, URIRef) and str(tp.p) == RDF_TYPE and isinstance(tp.o, URIRef) and summaries:
        instances = [s.get("classes") for s in summaries.values()]
        if all(isinstance(c, Mapping) for c in instances):
            # class summaries count the instances of each class exactly
            size = max(float(sum(c.get(str(tp.o)) or 0 for c in instances)), 1.0)
            return min(size, 10.0) / 10 if s_fixed else size
    if per_end_known and (s_fixed or o_fixed):
        ends = [per_end[end] for end, fixed in (("s", s_fixed), ("o", o_fixed)) if fixed]
        return min(ends) / (10 if s_fixed and o_fixed else 1)
    is_type = isinstance(tp.p, URIRef) and str(tp.p) == RDF_TYPE
    if s_fixed:
        size = min(size, 10.0) / 10
    if o_fixed:
        size = size / (2 if is_type else 50)
    return size


def order_units(
    units: list[Unit],
    bound: set[str],
    summaries: Mapping[str, Mapping] | None = None,
    filter_vars: Sequence[frozenset[str]] = (),
    estimator: Callable[[TriplePattern, set[str]], float] | None = None,
) -> list[Unit]:
    """Greedy join order: cheapest unit connected to what is bound, cartesian products last.

    A filter that a unit can evaluate by itself is shipped with it, so it makes that unit cheaper."""
    size = estimator or (lambda tp, bound: estimate(tp, bound, summaries))
    bound = set(bound)
    todo = list(units)
    ordered: list[Unit] = []

    def cost(unit: Unit) -> tuple[int, float]:
        connected = bool(unit.vars() & bound) or not bound
        best = min(size(tp, bound) for tp in unit.patterns)
        best /= 4 ** sum(1 for fv in filter_vars if fv and fv <= unit.vars())
        return (0 if connected else 1, best / (1 + len(unit.patterns)))

    while todo:
        nxt = min(todo, key=cost)
        todo.remove(nxt)
        ordered.append(nxt)
        bound |= nxt.vars()
    return ordered


def order_patterns(
    patterns: Sequence[TriplePattern],
    bound: set[str],
    summaries: Mapping[str, Mapping] | None = None,
    estimator: Callable[[TriplePattern, set[str]], float] | None = None,
) -> list[TriplePattern]:
    """The patterns of one subquery, most selective first and each joined to what precedes it: endpoints
    such as Oxigraph largely follow the written order (q07's offers: 13 ms written one way, 1 ms the other)."""
    size = estimator or (lambda tp, bound: estimate(tp, bound, summaries))
    bound = set(bound)
    todo = list(patterns)
    ordered: list[TriplePattern] = []
    while todo:
        nxt = min(todo, key=lambda tp: (0 if tp.vars() & bound or not bound else 1, size(tp, bound)))
        todo.remove(nxt)
        ordered.append(nxt)
        bound |= nxt.vars()
    return ordered


def plan_query(
    parsed: ParsedQuery,
    names: list[str],
    summaries: Mapping[str, Mapping] | None = None,
    prober: Callable[[str, str], bool] | None = None,
) -> QueryPlan:
    """Static plan of every BGP (source selection, exclusive groups, order), without fetching data."""
    selector = SourceSelector(names, summaries, prober, {})
    bgps = []
    for node in iter_bgps(parsed.algebra):
        plain, paths = split_bgp(node.triples)
        relevant = selector.select(plain)
        units = order_units(make_units(plain, relevant, summaries), set(), summaries)
        bgps.append(BGPPlan(plain, paths, units))
    return QueryPlan(parsed.kind, bgps)
