"""Property paths: followed from their bound ends step by step (each step a bound request per source),
or fetched whole when no end is bound; zero-length steps make their nodes exist locally."""

from __future__ import annotations

import math

import pyoxigraph as ox
from rdflib import URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath
from rdflib.plugins.sparql.parserutils import CompValue

from .errors import UnsupportedQuery
from .planning import PathPattern, TriplePattern
from .terms import Term, node_to_sparql, ox_to_sparql, to_ox, var_name

Solution = dict[str, Term]


class PathFetching:
    """The Fetcher's property-path steps (a mixin: it uses the Fetcher's requests and records)."""

    def _fetch_path(self, pp: PathPattern, sols: list[Solution]) -> None:
        link_list = path_links(pp.path, True)
        depth = _max_len(pp.path)
        start: set[Term] | None = None
        forward = True
        s_name, o_name = var_name(pp.s), var_name(pp.o)
        if s_name is None:
            start = {to_ox(pp.s)}
        elif o_name is None:
            start, forward = {to_ox(pp.o)}, False
        elif all(s_name in s for s in sols):
            start = {s[s_name] for s in sols}
        elif all(o_name in s for s in sols):
            start, forward = {s[o_name] for s in sols}, False
        if _min_len(pp.path) == 0:
            # A zero-length step matches every node of the merged graph: make the nodes exist locally.
            if start is None:
                self._fetch_everything()
                return
            for node in (pp.s, pp.o):
                if var_name(node) is None:
                    self._fetch_node_witness(to_ox(node))
        if start is None or any(isinstance(t, ox.BlankNode) for t in start):
            self._fetch_links_whole(link_list)
            return
        seen = set(start)
        frontier = set(start)
        steps = 0
        while frontier and steps < depth:
            steps += 1
            if any(isinstance(t, ox.BlankNode) for t in frontier):
                # blank nodes cannot be shipped in VALUES: take the links whole instead
                self._fetch_links_whole(link_list)
                return
            new: set[Term] = set()
            for pred, fwd in link_list:
                direction = fwd if forward else not fwd
                nodes = [t for t in frontier if direction is False or not isinstance(t, ox.Literal)]
                new |= self._expand(pred, direction, nodes)
            frontier = new - seen
            seen |= new

    def _fetch_everything(self) -> None:
        jobs = [(src, "SELECT ?x ?p ?y WHERE { ?x ?p ?y }") for src in self.sources]
        for (src, _), rows in zip(jobs, self._run(jobs), strict=False):
            self._record_link_rows(("not", frozenset()), src, rows)

    def _fetch_node_witness(self, node: Term) -> None:
        """One real triple mentioning ``node`` (if any source has one), so that it is a node locally."""
        text = ox_to_sparql(node)
        queries = [f"SELECT ?x ?p ?y WHERE {{ ?x ?p ?y FILTER(?y = {text}) }} LIMIT 1"]
        if not isinstance(node, ox.Literal):
            queries.append(f"SELECT ?x ?p ?y WHERE {{ VALUES ?x {{ {text} }} ?x ?p ?y }} LIMIT 1")
            queries[0] = f"SELECT ?x ?p ?y WHERE {{ VALUES ?y {{ {text} }} ?x ?p ?y }} LIMIT 1"
        jobs = [(src, q) for src in self.sources for q in queries]
        for (src, _), rows in zip(jobs, self._run(jobs), strict=False):
            self._record_link_rows(("not", frozenset()), src, rows)

    def _link_sources(self, pred: object) -> tuple[str, ...]:
        if isinstance(pred, URIRef):
            tp = TriplePattern(Variable("x"), pred, Variable("y"))
            return self.selector.select([tp])[tp]
        return tuple(self.sources)

    def _link_query(self, pred: object, values: str) -> str:
        if isinstance(pred, URIRef):
            return f"SELECT DISTINCT ?x ?y WHERE {{ {values} ?x {node_to_sparql(pred)} ?y . }}"
        excluded = ", ".join(node_to_sparql(p) for p in sorted(pred[1]))
        if not excluded:
            return f"SELECT DISTINCT ?x ?p ?y WHERE {{ {values} ?x ?p ?y . }}"
        return f"SELECT DISTINCT ?x ?p ?y WHERE {{ {values} ?x ?p ?y . FILTER(?p NOT IN ({excluded})) }}"

    def _record_link_rows(self, pred: object, source: str, rows: list[Solution]) -> None:
        for row in rows:
            p = to_ox(pred) if isinstance(pred, URIRef) else row.get("p")
            tp_row = {"x": row.get("x"), "y": row.get("y")}
            if p is not None and tp_row["x"] is not None and tp_row["y"] is not None:
                if not isinstance(tp_row["x"], ox.Literal):
                    self._record(ox.Triple(tp_row["x"], p, tp_row["y"]), source)

    def _fetch_links_whole(self, link_list: list[tuple[object, bool]]) -> None:
        done = set()
        for pred, _ in link_list:
            if pred in done:
                continue
            done.add(pred)
            jobs = [(src, self._link_query(pred, "")) for src in self._link_sources(pred)]
            for (src, _), rows in zip(jobs, self._run(jobs), strict=False):
                self._record_link_rows(pred, src, rows)

    def _expand(self, pred: object, forward: bool, nodes: list[Term]) -> set[Term]:
        if not nodes:
            return set()
        var = "x" if forward else "y"
        ordered = sorted(nodes, key=str)
        jobs = []
        for src in self._link_sources(pred):
            for i in range(0, len(ordered), self.batch_size):
                chunk = " ".join(ox_to_sparql(t) for t in ordered[i : i + self.batch_size])
                jobs.append((src, self._link_query(pred, f"VALUES ?{var} {{ {chunk} }}")))
        reached: set[Term] = set()
        other = "y" if forward else "x"
        for (src, _), rows in zip(jobs, self._run(jobs), strict=False):
            self._record_link_rows(pred, src, rows)
            reached |= {row[other] for row in rows if other in row}
        return reached


def path_links(path: object, forward: bool) -> list[tuple[object, bool]]:
    """(predicate or ("not", excluded IRIs), direction) of every step a path can take."""
    if isinstance(path, URIRef):
        return [(path, forward)]
    if isinstance(path, InvPath):
        return path_links(path.arg, not forward)
    if isinstance(path, (SequencePath, AlternativePath)):
        return [link for arg in path.args for link in path_links(arg, forward)]
    if isinstance(path, MulPath):
        return path_links(path.path, forward)
    if isinstance(path, NegatedPath):
        if any(isinstance(a, CompValue) for a in path.args):
            # rdflib loses the IRI of a negated inverse step (!^p): take every predicate, both ways
            return [(("not", frozenset()), forward), (("not", frozenset()), not forward)]
        fwd = frozenset(a for a in path.args if isinstance(a, URIRef))
        inv = frozenset(a.arg for a in path.args if isinstance(a, InvPath))
        out: list[tuple[object, bool]] = []
        if fwd or not inv:
            out.append((("not", fwd), forward))
        if inv:
            out.append((("not", inv), not forward))
        return out
    raise UnsupportedQuery(f"unknown path {path!r}")


def _min_len(path: object) -> float:
    if isinstance(path, (URIRef, NegatedPath)):
        return 1
    if isinstance(path, InvPath):
        return _min_len(path.arg)
    if isinstance(path, SequencePath):
        return sum(_min_len(a) for a in path.args)
    if isinstance(path, AlternativePath):
        return min(_min_len(a) for a in path.args)
    if isinstance(path, MulPath):
        return 0 if path.mod in ("*", "?") else _min_len(path.path)
    return 1


def _max_len(path: object) -> float:
    if isinstance(path, (URIRef, NegatedPath)):
        return 1
    if isinstance(path, InvPath):
        return _max_len(path.arg)
    if isinstance(path, SequencePath):
        return sum(_max_len(a) for a in path.args)
    if isinstance(path, AlternativePath):
        return max(_max_len(a) for a in path.args)
    if isinstance(path, MulPath):
        return _max_len(path.path) if path.mod == "?" else math.inf
    return math.inf
