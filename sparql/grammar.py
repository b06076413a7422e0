"""rdflib's SPARQL parse tree, fast: the hand-written parser in fastparse.py first, then, for what it leaves
aside, rdflib's grammar about twice as fast as rdflib runs it: comments are removed from the text first, so that
pyparsing need not try the comment rule before every token (half of rdflib's parse time).

rdflib attaches that rule to its grammar objects, shared by every rdflib user in the process, so this
module loads a private copy of rdflib's parser module and strips the rule from the copy only. The trees
are rdflib's own (same classes), and any text the fast path cannot parse goes to rdflib's parser
unchanged, so a mistake here can cost time but never change a parse.
"""

from __future__ import annotations

import importlib.util
import re

import pyparsing
from rdflib.plugins.sparql import parser as rdflib_parser

from . import fastparse

# Tokens that may contain '#' (kept whole) and comments (dropped), scanned left to right.
_TOKENS = re.compile(
    r"""(?P<keep><[^<>"{}|^`\\\x00-\x20]*>"""  # IRIREF
    r'''|"""(?:[^"\\]|\\.|"(?!""))*"""'''  # STRING_LITERAL_LONG2
    r"""|'''(?:[^'\\]|\\.|'(?!''))*'''"""  # STRING_LITERAL_LONG1
    r'''|"(?:[^"\\\n\r]|\\.)*"'''  # STRING_LITERAL2
    r"""|'(?:[^'\\\n\r]|\\.)*'"""  # STRING_LITERAL1
    r"""|\\.)"""  # an escape in a prefixed name (PN_LOCAL_ESC: ex:a\#b)
    r"""|(?P<comment>\#[^\n\r]*)""",
    re.DOTALL,
)


def _load_private_grammar():
    spec = importlib.util.spec_from_file_location(
        "rdflib.plugins.sparql._sparql_private_parser", rdflib_parser.__file__
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    seen: set[int] = set()
    todo = [module.Query]
    while todo:
        element = todo.pop()
        if id(element) in seen or not isinstance(element, pyparsing.ParserElement):
            continue
        seen.add(id(element))
        element.ignoreExprs = []
        if getattr(element, "expr", None) is not None:
            todo.append(element.expr)
        todo.extend(getattr(element, "exprs", None) or [])
    return module


_private = _load_private_grammar()


def strip_comments(text: str) -> str:
    return _TOKENS.sub(lambda m: "" if m.group("comment") is not None else m.group(0), text)


def parse_query_tree(text: str):
    """rdflib's parse tree of a query (``rdflib.plugins.sparql.parser.parseQuery``), faster: by the hand-written
    parser (fastparse.py, about 25x faster) where it mirrors rdflib exactly, else by the grammar above."""
    try:
        return fastparse.parse(text)
    except fastparse.Unsupported:
        pass
    expanded = _private.expandUnicodeEscapes(text)
    try:
        return _private.Query.parse_string(strip_comments(expanded), parse_all=True)
    except Exception:  # pyparsing's errors and any surprise: rdflib's own parser decides
        return rdflib_parser.parseQuery(text)
