"""Provenance: for each answer row, the derivations (pattern -> source) and the triples used per source."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib.plugins.sparql.parserutils import CompValue

from .algebra import exists_graph, exists_in, pattern_text
from .paths import path_links
from .planning import PathPattern, TriplePattern, split_bgp
from .terms import Term, to_ox, var_name

MAX_ALTERNATIVES = 64
MAX_SOLUTIONS = 200_000


@dataclass
class Derivation:
    """One way to obtain a row: which source supplied the triple of each pattern, and those triples."""

    sources: dict[int, str]
    triples: dict[str, list[ox.Triple]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "sources": {str(k): v for k, v in sorted(self.sources.items())},
            "triples": {src: [str(t) for t in ts] for src, ts in sorted(self.triples.items())},
        }


@dataclass
class PatternInfo:
    index: int
    pattern: TriplePattern | PathPattern
    role: str  # "mandatory" | "optional" | "negative"

    @property
    def text(self) -> str:
        return self.pattern.text().rstrip(" .")


def collect_patterns(root: CompValue) -> list[PatternInfo]:
    """Every pattern of the query, with its role: needed by every row, optional, or negated."""
    out: list[PatternInfo] = []

    def add_bgp(node: CompValue, role: str) -> None:
        plain, paths = split_bgp(node.triples)
        for tp in plain:
            out.append(PatternInfo(len(out), tp, role))
        for pp in paths:
            out.append(PatternInfo(len(out), pp, role))

    def exprs(expr: object, role: str) -> None:
        if expr is None:
            return
        for e in exists_in(expr):
            walk(
                exists_graph(e),
                "negative" if e.name == "Builtin_NOTEXISTS" or role == "negative" else "optional",
            )

    def walk(node: object, role: str, top: bool = False) -> None:
        if not isinstance(node, CompValue):
            return
        name = node.name
        if name == "BGP":
            add_bgp(node, role)
            return
        if name in ("SelectQuery", "AskQuery", "ConstructQuery"):
            walk(node.p, role, top=True)
            return
        if name in ("Project", "Group", "AggregateJoin", "Slice", "Distinct", "Reduced", "OrderBy"):
            walk(node.p, role if top else ("negative" if role == "negative" else "optional"), top)
            exprs(node.get("expr"), role)
            return
        if name in ("Filter", "Extend"):
            walk(node.p, role, top)
            exprs(node.expr, role)
            return
        if name == "Join":
            walk(node.p1, role, top)
            walk(node.p2, role, top)
            return
        if name == "LeftJoin":
            walk(node.p1, role, top)
            walk(node.p2, "negative" if role == "negative" else "optional", False)
            exprs(node.get("expr"), role)
            return
        if name == "Minus":
            walk(node.p1, role, top)
            walk(node.p2, "negative", False)
            return
        if name == "Union":
            sub = "negative" if role == "negative" else "optional"
            walk(node.p1, sub, False)
            walk(node.p2, sub, False)
            return
        for key, value in node.items():
            if key != "_vars" and isinstance(value, CompValue):
                walk(value, role, False)

    walk(root, "mandatory", top=True)
    return out


def _has_aggregate(root: CompValue) -> bool:
    node = root
    while isinstance(node, CompValue) and "p" in node:
        if node.name in ("Group", "AggregateJoin"):
            return True
        node = node.p
    return False


def _alternatives(
    used: list[tuple[int, ox.Triple]], index: Mapping[ox.Triple, set[str]], sources_of: dict | None = None
) -> list[Derivation]:
    """Every way (up to MAX_ALTERNATIVES) to take each used triple from a source holding it. ``sources_of``
    keeps each triple's sorted sources across the rows of one query: rows share most of their triples."""
    if sources_of is None:
        sources_of = {}
    choices = []
    for _, triple in used:
        sources = sources_of.get(triple)
        if sources is None:
            sources = sources_of[triple] = sorted(index.get(triple, ())) or ["?"]
        choices.append(sources)
    out = []
    for combo in itertools.islice(itertools.product(*choices), MAX_ALTERNATIVES):
        sources = {}
        triples: dict[str, list[ox.Triple]] = {}
        for (idx, triple), src in zip(used, combo, strict=False):
            sources[idx] = src
            bucket = triples.setdefault(src, [])
            if triple not in bucket:
                bucket.append(triple)
        out.append(Derivation(sources, triples))
    return out


class _PathWitness:
    """A shortest walk through the fetched triples that satisfies a path pattern for given end points:
    one derivation of the path, so that its triples can be priced."""

    def __init__(self, index: Mapping[ox.Triple, set[str]]) -> None:
        self.out: dict[Term, list[ox.Triple]] = {}
        self.inc: dict[Term, list[ox.Triple]] = {}
        for triple in index:
            self.out.setdefault(triple.subject, []).append(triple)
            self.inc.setdefault(triple.object, []).append(triple)

    def witness(self, pattern: PathPattern, ext: Mapping[str, Term]) -> list[ox.Triple]:
        ends = []
        for node in (pattern.s, pattern.o):
            name = var_name(node)
            term = ext.get(name) if name else to_ox(node)
            if term is None:
                return []
            ends.append(term)
        start, goal = ends
        if start == goal:
            return []
        links = path_links(pattern.path, True)
        previous: dict[Term, tuple[Term, ox.Triple] | None] = {start: None}
        frontier = [start]
        while frontier and goal not in previous:
            nxt = []
            for node in frontier:
                for pred, forward in links:
                    edges = self.out.get(node, []) if forward else self.inc.get(node, [])
                    for triple in edges:
                        if isinstance(pred, tuple):
                            if triple.predicate.value in {str(x) for x in pred[1]}:
                                continue
                        elif triple.predicate.value != str(pred):
                            continue
                        other = triple.object if forward else triple.subject
                        if other not in previous:
                            previous[other] = (node, triple)
                            nxt.append(other)
            frontier = nxt
        if goal not in previous:
            return []
        walk = []
        node = goal
        while previous[node] is not None:
            node, triple = previous[node]
            walk.append(triple)
        return walk[::-1]


def compute_provenance(
    root: CompValue,
    patterns: list[PatternInfo],
    store: ox.Store,
    index: Mapping[ox.Triple, set[str]],
    rows: list[dict[str, Term]] | None,
) -> list[list[Derivation]]:
    """Derivations per row (or one list for ASK/CONSTRUCT when ``rows`` is None)."""
    mandatory = [p for p in patterns if p.role == "mandatory" and isinstance(p.pattern, TriplePattern)]
    optional = [p for p in patterns if p.role == "optional" and isinstance(p.pattern, TriplePattern)]
    mand_vars: set[str] = set()
    for p in mandatory:
        mand_vars |= p.pattern.vars()
    keyvars = sorted({v for row in rows or () for v in row} & mand_vars)
    # Rows are matched to solutions by their key; when every row binds its whole key, a solution with
    # another key is never used, so it is skipped before its terms are converted.
    wanted = None
    if rows is not None and all(row.get(v) is not None for row in rows for v in keyvars):
        wanted = {tuple(row[v] for v in keyvars) for row in rows}
    solutions: list[dict[str, Term]] = [{}]
    if mandatory:
        text = "SELECT * WHERE { " + " ".join(p.pattern.text() for p in mandatory) + " }"
        solutions = []
        answer = store.query(text)
        names = [v.value for v in answer.variables]  # SELECT *: the mandatory patterns' variables
        at = [names.index(v) for v in keyvars]
        for sol in itertools.islice(answer, MAX_SOLUTIONS):
            if wanted is not None and tuple(sol[i] for i in at) not in wanted:
                continue
            solutions.append({name: term for name, term in zip(names, sol, strict=True) if term is not None})
        del answer

    path_patterns = [p for p in patterns if p.role != "negative" and isinstance(p.pattern, PathPattern)]
    walker = _PathWitness(index) if path_patterns else None
    sources_of: dict[ox.Triple, list[str]] = {}

    def derivations_of(sol: dict[str, Term], row: dict[str, Term]) -> list[Derivation]:
        ext = {**row, **sol}
        used = [(p.index, p.pattern.instantiate(ext)) for p in mandatory]
        for p in optional:
            triple = p.pattern.instantiate(ext)
            if triple is not None and triple in index:
                used.append((p.index, triple))
        for p in path_patterns:
            used.extend((p.index, t) for t in walker.witness(p.pattern, ext))
        return _alternatives([(i, t) for i, t in used if t is not None], index, sources_of)

    if rows is None:
        out: list[Derivation] = []
        for sol in solutions:
            out.extend(derivations_of(sol, {}))
        return [out]

    aggregate = _has_aggregate(root)
    by_key: dict[tuple, list[dict[str, Term]]] = {}
    for sol in solutions:
        by_key.setdefault(tuple(sol.get(v) for v in keyvars), []).append(sol)
    result = []
    for row in rows:
        key = tuple(row.get(v) for v in keyvars)
        if all(k is not None for k in key):
            matching = by_key.get(key, [])
        else:
            matching = [s for s in solutions if all(row.get(v) is None or row[v] == s.get(v) for v in keyvars)]
        if aggregate:
            # An aggregate row depends on every solution of its group: one derivation using all of them.
            merged = Derivation({})
            for sol in matching:
                for d in derivations_of(sol, {k: v for k, v in row.items() if k in keyvars})[:1]:
                    for idx, src in d.sources.items():
                        merged.sources.setdefault(idx, src)
                    for src, ts in d.triples.items():
                        bucket = merged.triples.setdefault(src, [])
                        bucket.extend(t for t in ts if t not in bucket)
            result.append([merged] if matching else [])
            continue
        derivs: list[Derivation] = []
        for sol in matching:
            derivs.extend(derivations_of(sol, row))
            if len(derivs) >= MAX_ALTERNATIVES:
                break
        result.append(derivs[:MAX_ALTERNATIVES])
    return result


def pattern_texts(patterns: list[PatternInfo]) -> list[str]:
    return [p.text for p in patterns]


__all__ = ["Derivation", "PatternInfo", "collect_patterns", "compute_provenance", "pattern_text"]
