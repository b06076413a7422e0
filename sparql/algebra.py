"""Parsing with rdflib's SPARQL parser and algebra, plus the few algebra helpers the planner needs."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import threading
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.plugins.sparql import algebra as rdflib_algebra
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Prologue, Query

from .errors import QuerySyntaxError, UnsupportedQuery
from .grammar import parse_query_tree
from .service import refuse_service
from .terms import node_to_sparql, var_name

_PARSE_LOCK = threading.Lock()
KINDS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT"}


def _load_private_algebra():
    """A private copy of rdflib's algebra module whose BGPs keep their triples in the written order. rdflib
    sorts them for its own evaluator, which we do not use (the planner orders patterns itself); the sort
    took a third of the translation of a FedShop query. A copy, because rdflib's module is shared by every
    rdflib user in the process."""
    spec = importlib.util.spec_from_file_location("rdflib.plugins.sparql._algebra_as_written", rdflib_algebra.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.reorderTriples = list
    return module


algebra = _load_private_algebra()


class _Prologue(Prologue):
    """rdflib's Prologue with the query's own prefixes in a dict. rdflib's builds a Graph and binds some thirty
    default prefixes for every query, half the translation time of a short query, and drops a prefix when a
    later one names the same namespace. Undeclared prefixes are unknown (Oxigraph's check refuses them too)."""

    def __init__(self) -> None:
        self.base = ""
        self.prefixes: dict[str, str] = {}

    def resolvePName(self, prefix: str | None, localname: str | None) -> URIRef:  # noqa: N802 - rdflib's name
        namespace = self.prefixes.get(prefix or "")
        if namespace is None:
            raise QuerySyntaxError(f"unknown prefix {prefix or ''}:")
        return URIRef(namespace + (localname or ""))

    def bind(self, prefix: str | None, uri: object) -> None:
        self.prefixes[prefix or ""] = str(uri)


def translate_query(tree, base: str | None = None) -> Query:
    """``rdflib.plugins.sparql.algebra.translateQuery`` (rdflib 7.6, step for step) with the prologue above and
    BGPs as written."""
    prologue = algebra.translatePrologue(tree[0], base, prologue=_Prologue())
    query = algebra.traverse(tree[1], visitPost=functools.partial(algebra.translatePName, prologue=prologue))
    pattern, projected = algebra.translate(query)
    if query.name == "ConstructQuery":
        template = algebra.triples(query.template) if query.template else None
        root = CompValue(query.name, p=pattern, template=template, datasetClause=query.datasetClause)
    else:
        root = CompValue(query.name, p=pattern, datasetClause=query.datasetClause, PV=projected)
    root = algebra.traverse(root, visitPost=_translate_exists)
    root = algebra.traverse(root, visitPost=algebra.simplify)
    algebra._traverseAgg(root, visitor=algebra.analyse)
    algebra._traverseAgg(root, algebra._addVars)
    return Query(prologue, root)


def _translate_exists(node: object) -> None:
    """rdflib translates the pattern of an EXISTS in FILTER and BIND only; one in a projection, ORDER BY or
    HAVING stays a parse tree, its property paths untranslated (the planner could not read it). Translated
    here the way rdflib's translate does: paths first, then the group."""
    if isinstance(node, CompValue) and node.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
        if node.graph.name in ("GroupGraphPatternSub", "GroupGraphPattern"):
            # the item, not an attribute (which CompValue's items would not show to later passes)
            node["graph"] = algebra.translateGroupGraphPattern(
                algebra.traverse(node.graph, visitPost=algebra.translatePath)
            )
            if node.graph.name == "Filter":
                node.graph.no_isolated_scope = True  # as rdflib's translateExists: filters see outer variables


@dataclass
class ParsedQuery:
    text: str
    kind: str
    algebra: CompValue
    base_iri: str | None


def check_query(text: str, base_iri: str | None = None) -> str:
    """The query's kind (SELECT, ASK or CONSTRUCT) once it is known to parse, Oxigraph agrees, and it is a query
    the engine answers. The same checks as ``parse_query`` without the translation to algebra, which is most of
    a parse (0.2-1.3 ms of a FedShop query's 0.3-1.8): a caller that only takes the query in, for another
    process to run, saves it."""
    refuse_service(text)  # before Oxigraph's check, which would call the service
    with _PARSE_LOCK, _literals_as_written():
        tree = _tree(text)
    _oxigraph_check(text, base_iri)
    _check_kind(tree[1].name, dict.get(tree[1], "datasetClause"))
    return KINDS[tree[1].name]


def parse_query(text: str, base_iri: str | None = None, *, strict: bool = True) -> ParsedQuery:
    """Parse and translate ``text``; syntax errors become QuerySyntaxError with the parser's message.

    ``strict=False`` skips Oxigraph's second opinion on the syntax, for a text that has had it already."""
    refuse_service(text)  # before Oxigraph's check, and before Oxigraph evaluates the query over fetched data
    with _PARSE_LOCK, _literals_as_written():
        tree = _tree(text)
        try:
            translated = translate_query(tree, base=base_iri)
        except RecursionError:
            raise UnsupportedQuery("the query is nested too deeply for the planner") from None
        except QuerySyntaxError:
            raise
        except Exception as exc:  # rdflib raises several unrelated types
            raise QuerySyntaxError(str(exc) or exc.__class__.__name__) from None
    if strict:
        _oxigraph_check(text, base_iri)
    root = translated.algebra
    _check_kind(root.name, root.get("datasetClause"))
    return ParsedQuery(text, KINDS[root.name], root, base_iri)


@contextlib.contextmanager
def _literals_as_written():
    # Literal normalisation would turn "01"^^xsd:integer into "1" and then match other triples.
    saved = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = saved


def _tree(text: str):
    try:
        return parse_query_tree(text)
    except RecursionError:
        # recursion per nesting level (nested SERVICE hits it too): a clear refusal
        raise UnsupportedQuery("the query is nested too deeply for the planner") from None
    except Exception as exc:  # pyparsing and rdflib raise several unrelated types
        raise QuerySyntaxError(str(exc) or exc.__class__.__name__) from None


def _oxigraph_check(text: str, base_iri: str | None) -> None:
    """rdflib's grammar is laxer than the standard (e.g. ungrouped projections): confirm with Oxigraph's parser,
    by running the query on an empty store (0.02-0.5 ms for a FedShop query)."""
    try:
        check = ox.Store().query(text, base_iri=base_iri)
        del check  # pyoxigraph results must be dropped on the thread that made them
    except SyntaxError as exc:
        raise QuerySyntaxError(str(exc)) from None


def _check_kind(name: str, dataset_clause: object) -> None:
    if name not in KINDS:
        raise UnsupportedQuery(f"{name} is not supported (SELECT, ASK and CONSTRUCT are)")
    if dataset_clause:
        raise UnsupportedQuery("FROM / FROM NAMED: the federation queries the merge of default graphs")


def exists_graph(expr: CompValue) -> CompValue:
    graph = expr.graph
    if graph.name in ("GroupGraphPatternSub", "GroupGraphPattern"):
        graph = algebra.translateGroupGraphPattern(graph)
    return graph


def walk_expr(expr: object):
    """Every CompValue inside an expression (lists included), depth first."""
    if isinstance(expr, CompValue):
        yield expr
        for key, value in expr.items():
            if key != "_vars":
                yield from walk_expr(value)
    elif isinstance(expr, (list, tuple)):
        for item in expr:
            yield from walk_expr(item)


def exists_in(expr: object) -> list[CompValue]:
    return [e for e in walk_expr(expr) if e.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS")]


# Expression serialisation, only for what is safe to ship to a source inside a FILTER.
_UNARY = {
    "Builtin_STR": "STR",
    "Builtin_LANG": "LANG",
    "Builtin_DATATYPE": "DATATYPE",
    "Builtin_isIRI": "isIRI",
    "Builtin_isURI": "isIRI",
    "Builtin_isBLANK": "isBLANK",
    "Builtin_isLITERAL": "isLITERAL",
    "Builtin_isNUMERIC": "isNUMERIC",
    "Builtin_LCASE": "LCASE",
    "Builtin_UCASE": "UCASE",
    "Builtin_STRLEN": "STRLEN",
    "Builtin_YEAR": "YEAR",
    "Builtin_MONTH": "MONTH",
    "Builtin_DAY": "DAY",
    "Builtin_ABS": "ABS",
}
_BINARY = {
    "Builtin_CONTAINS": "CONTAINS",
    "Builtin_STRSTARTS": "STRSTARTS",
    "Builtin_STRENDS": "STRENDS",
    "Builtin_LANGMATCHES": "LANGMATCHES",
    "Builtin_sameTerm": "sameTerm",
}


class NotShippable(Exception):
    pass


def expr_to_sparql(expr: object) -> str:
    """SPARQL text of an expression, or NotShippable when it uses something we do not ship."""
    if isinstance(expr, (Variable, URIRef, Literal)):
        return node_to_sparql(expr)
    if isinstance(expr, BNode):
        raise NotShippable("blank node")
    if not isinstance(expr, CompValue):
        raise NotShippable(repr(expr))
    name = expr.name
    if name in ("ConditionalOrExpression", "ConditionalAndExpression"):
        op = " || " if name == "ConditionalOrExpression" else " && "
        parts = [expr_to_sparql(expr.expr)] + [expr_to_sparql(o) for o in expr.other or []]
        return "(" + op.join(parts) + ")"
    if name == "RelationalExpression":
        left = expr_to_sparql(expr.expr)
        if expr.op in ("IN", "NOT IN"):
            items = ", ".join(expr_to_sparql(o) for o in expr.other)
            return f"({left} {expr.op} ({items}))"
        return f"({left} {expr.op} {expr_to_sparql(expr.other)})"
    if name in ("AdditiveExpression", "MultiplicativeExpression"):
        text = expr_to_sparql(expr.expr)
        for op, other in zip(expr.op or [], expr.other or [], strict=False):
            text = f"({text} {op} {expr_to_sparql(other)})"
        return text
    if name == "UnaryNot":
        return f"(!{expr_to_sparql(expr.expr)})"
    if name == "UnaryMinus":
        return f"(-{expr_to_sparql(expr.expr)})"
    if name == "UnaryPlus":
        return f"(+{expr_to_sparql(expr.expr)})"
    if name in _UNARY:
        return f"{_UNARY[name]}({expr_to_sparql(expr.arg)})"
    if name in _BINARY:
        return f"{_BINARY[name]}({expr_to_sparql(expr.arg1)}, {expr_to_sparql(expr.arg2)})"
    if name == "Builtin_BOUND":
        return f"BOUND({expr_to_sparql(expr.arg)})"
    if name == "Builtin_REGEX":
        args = [expr_to_sparql(expr.text), expr_to_sparql(expr.pattern)]
        if expr.flags is not None:
            args.append(expr_to_sparql(expr.flags))
        return "REGEX(" + ", ".join(args) + ")"
    if name == "Function" and not expr.get("distinct"):
        args = ", ".join(expr_to_sparql(a) for a in expr.expr or [])
        return f"{node_to_sparql(expr.iri)}({args})"
    raise NotShippable(name)


def expr_vars(expr: object) -> set[str]:
    found: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, Variable):
            found.add(str(node))
        elif isinstance(node, CompValue):
            for key, value in node.items():
                if key != "_vars":
                    visit(value)
        elif isinstance(node, (list, tuple)):
            for item in node:
                visit(item)

    visit(expr)
    return found


def conjuncts(expr: object) -> list[object]:
    """Split a filter on its top-level && so that each part can be pushed on its own."""
    if isinstance(expr, CompValue) and expr.name == "ConditionalAndExpression":
        out = conjuncts(expr.expr)
        for other in expr.other or []:
            out.extend(conjuncts(other))
        return out
    return [expr]


def path_to_sparql(path: object) -> str:
    if isinstance(path, URIRef):
        return node_to_sparql(path)
    if isinstance(path, InvPath):
        return f"^({path_to_sparql(path.arg)})"
    if isinstance(path, SequencePath):
        return "(" + "/".join(path_to_sparql(a) for a in path.args) + ")"
    if isinstance(path, AlternativePath):
        return "(" + "|".join(path_to_sparql(a) for a in path.args) + ")"
    if isinstance(path, MulPath):
        return f"({path_to_sparql(path.path)}){path.mod}"
    if isinstance(path, NegatedPath):
        return "!(" + "|".join(path_to_sparql(a) for a in path.args) + ")"
    if isinstance(path, CompValue) and path.name == "InversePath":
        return "^<?>"  # rdflib drops the IRI of a negated inverse step
    raise TypeError(repr(path))


def pattern_text(s: object, p: object, o: object) -> str:
    pred = path_to_sparql(p) if isinstance(p, Path) else node_to_sparql(p)
    return f"{node_to_sparql(s)} {pred} {node_to_sparql(o)}"


__all__ = ["ParsedQuery", "check_query", "parse_query", "var_name"]
