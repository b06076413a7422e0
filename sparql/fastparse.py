"""A hand-written SPARQL 1.1 query parser that builds exactly the tree of rdflib's pyparsing grammar
(``rdflib.plugins.sparql.parser.parseQuery``), many times faster.

It mirrors rdflib's grammar rule by rule with PEG semantics (ordered choice, greedy loops), scanning the text
with regexes at the current position rather than from a token list, because rdflib's grammar is scannerless:
``<`` is an IRI or an operator, ``a`` or ``?`` or ``+`` mean different things, depending on the rule. The tree is
built with rdflib's own classes, term constructors and post-parse functions (expandTriples, expandCollection,
neg), so terms normalise under ``rdflib.NORMALIZE_LITERALS`` exactly as rdflib's would.

Where a choice would need backtracking that is not provably equivalent, or the text is malformed, it raises
``Unsupported``: the caller then uses rdflib's grammar, which also words the syntax error.
"""

from __future__ import annotations

import re

from pyparsing import ParseResults
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.compat import decodeUnicodeEscape
from rdflib.namespace import RDF, XSD
from rdflib.plugins.sparql import operators as op
from rdflib.plugins.sparql import parser as rp
from rdflib.plugins.sparql.parserutils import CompValue, Expr


class Unsupported(Exception):
    """Outside what this parser mirrors exactly (or malformed): parse with rdflib's grammar instead."""


def parse(text: str) -> ParseResults:
    """What ``rdflib.plugins.sparql.parser.parseQuery(text)`` returns, or Unsupported."""
    try:
        return _Parser(text).query_unit()
    except Unsupported:
        raise
    except Exception as exc:  # rdflib's constructors and actions raise too (e.g. neg() of a decimal)
        raise Unsupported(f"{type(exc).__name__}: {exc}") from None


# ---- lexical rules: rdflib's own regexes where it has them, so both match the same text.
_SKIP = re.compile(r"(?:[ \t\n\r]+|#[^\n\x00]*)*").match  # pyparsing's whitespace, then rdflib's comments
_GAP_START = " \t\n\r#"
_IRIREF = re.compile(r'<([^<>"{}|^`\\\x00-\x20]*)>').match
_VAR = re.compile(rf"[?$]({rp.VARNAME.re.pattern})").match
# PNAME_NS then an optional PN_LOCAL: the prefix regex cannot end before a ':' it skipped, so one regex
# matches what pyparsing's Optional(PN_PREFIX) + ':' + PN_LOCAL matches.
_PNAME = re.compile(rf"(?:({rp.PN_PREFIX.re.pattern}))?:({rp.PN_LOCAL.re.pattern})?", re.X | re.U).match
_BNODE_LABEL = rp.BLANK_NODE_LABEL.re.match
_LANGTAG = re.compile(r"@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)").match
_STRINGS = {  # in rdflib's order: long form first
    "'": ((rp.STRING_LITERAL_LONG1.re.match, 3), (rp.STRING_LITERAL1.re.match, 1)),
    '"': ((rp.STRING_LITERAL_LONG2.re.match, 3), (rp.STRING_LITERAL2.re.match, 1)),
}
_NUMBERS = (
    (rp.DOUBLE.re.match, XSD.double),
    (rp.DECIMAL.re.match, XSD.decimal),
    (rp.INTEGER.re.match, XSD.integer),
)
_INTEGER = rp.INTEGER.re.match
_WORD = re.compile(r"[A-Za-z0-9_$]+").match
_IDENT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")  # pyparsing's keyword chars, upper-cased
# 'ı' and 'ſ' upper-case to 'I' and 'S': pyparsing's caseless keywords match them, the ASCII word scan
# here would not (no other character upper-cases to a single keyword character).
_ODD_UPPER = re.compile("[\u0131\u017f]").search
_NUMBER_START = "0123456789.+-"
_SERVICE_WORD = re.compile(r"(?<![A-Za-z0-9_$])service(?![A-Za-z0-9_$])", re.I).finditer

# ---- keywords
_PATTERN_KEYWORDS = {"OPTIONAL", "MINUS", "GRAPH", "SERVICE", "FILTER", "BIND", "VALUES"}
_MODIFIER_KEYWORDS = {"GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES"}
_AGGREGATES = {
    "COUNT": "Aggregate_Count",
    "SUM": "Aggregate_Sum",
    "MIN": "Aggregate_Min",
    "MAX": "Aggregate_Max",
    "AVG": "Aggregate_Avg",
    "SAMPLE": "Aggregate_Sample",
    "GROUP_CONCAT": "Aggregate_GroupConcat",
}
# Builtin calls: keyword -> (CompValue name, eval function, argument shape). A shape is a tuple of
# parameter names, each an Expression between '(' ',' ')', a trailing '?' marking an optional last one;
# or one of the named shapes handled in builtin().
_ONE, _TWO = ("arg",), ("arg1", "arg2")
_BUILTINS = {
    "STR": ("Builtin_STR", op.Builtin_STR, _ONE),
    "LANG": ("Builtin_LANG", op.Builtin_LANG, _ONE),
    "LANGMATCHES": ("Builtin_LANGMATCHES", op.Builtin_LANGMATCHES, _TWO),
    "DATATYPE": ("Builtin_DATATYPE", op.Builtin_DATATYPE, _ONE),
    "BOUND": ("Builtin_BOUND", op.Builtin_BOUND, "var"),
    "IRI": ("Builtin_IRI", op.Builtin_IRI, _ONE),
    "URI": ("Builtin_URI", op.Builtin_IRI, _ONE),
    "BNODE": ("Builtin_BNODE", op.Builtin_BNODE, "bnode"),
    "RAND": ("Builtin_RAND", op.Builtin_RAND, "nil"),
    "ABS": ("Builtin_ABS", op.Builtin_ABS, _ONE),
    "CEIL": ("Builtin_CEIL", op.Builtin_CEIL, _ONE),
    "FLOOR": ("Builtin_FLOOR", op.Builtin_FLOOR, _ONE),
    "ROUND": ("Builtin_ROUND", op.Builtin_ROUND, _ONE),
    "CONCAT": ("Builtin_CONCAT", op.Builtin_CONCAT, "list"),
    "SUBSTR": ("Builtin_SUBSTR", op.Builtin_SUBSTR, ("arg", "start", "length?")),
    "STRLEN": ("Builtin_STRLEN", op.Builtin_STRLEN, _ONE),
    "REPLACE": (
        "Builtin_REPLACE",
        op.Builtin_REPLACE,
        ("arg", "pattern", "replacement", "flags?"),
    ),
    "UCASE": ("Builtin_UCASE", op.Builtin_UCASE, _ONE),
    "LCASE": ("Builtin_LCASE", op.Builtin_LCASE, _ONE),
    "ENCODE_FOR_URI": ("Builtin_ENCODE_FOR_URI", op.Builtin_ENCODE_FOR_URI, _ONE),
    "CONTAINS": ("Builtin_CONTAINS", op.Builtin_CONTAINS, _TWO),
    "STRSTARTS": ("Builtin_STRSTARTS", op.Builtin_STRSTARTS, _TWO),
    "STRENDS": ("Builtin_STRENDS", op.Builtin_STRENDS, _TWO),
    "STRBEFORE": ("Builtin_STRBEFORE", op.Builtin_STRBEFORE, _TWO),
    "STRAFTER": ("Builtin_STRAFTER", op.Builtin_STRAFTER, _TWO),
    "YEAR": ("Builtin_YEAR", op.Builtin_YEAR, _ONE),
    "MONTH": ("Builtin_MONTH", op.Builtin_MONTH, _ONE),
    "DAY": ("Builtin_DAY", op.Builtin_DAY, _ONE),
    "HOURS": ("Builtin_HOURS", op.Builtin_HOURS, _ONE),
    "MINUTES": ("Builtin_MINUTES", op.Builtin_MINUTES, _ONE),
    "SECONDS": ("Builtin_SECONDS", op.Builtin_SECONDS, _ONE),
    "TIMEZONE": ("Builtin_TIMEZONE", op.Builtin_TIMEZONE, _ONE),
    "TZ": ("Builtin_TZ", op.Builtin_TZ, _ONE),
    "NOW": ("Builtin_NOW", op.Builtin_NOW, "nil"),
    "UUID": ("Builtin_UUID", op.Builtin_UUID, "nil"),
    "STRUUID": ("Builtin_STRUUID", op.Builtin_STRUUID, "nil"),
    "MD5": ("Builtin_MD5", op.Builtin_MD5, _ONE),
    "SHA1": ("Builtin_SHA1", op.Builtin_SHA1, _ONE),
    "SHA256": ("Builtin_SHA256", op.Builtin_SHA256, _ONE),
    "SHA384": ("Builtin_SHA384", op.Builtin_SHA384, _ONE),
    "SHA512": ("Builtin_SHA512", op.Builtin_SHA512, _ONE),
    "COALESCE": ("Builtin_COALESCE", op.Builtin_COALESCE, "list"),
    "IF": ("Builtin_IF", op.Builtin_IF, ("arg1", "arg2", "arg3")),
    "STRLANG": ("Builtin_STRLANG", op.Builtin_STRLANG, _TWO),
    "STRDT": ("Builtin_STRDT", op.Builtin_STRDT, _TWO),
    "SAMETERM": ("Builtin_sameTerm", op.Builtin_sameTerm, _TWO),
    "ISIRI": ("Builtin_isIRI", op.Builtin_isIRI, _ONE),
    "ISURI": ("Builtin_isURI", op.Builtin_isIRI, _ONE),
    "ISBLANK": ("Builtin_isBLANK", op.Builtin_isBLANK, _ONE),
    "ISLITERAL": ("Builtin_isLITERAL", op.Builtin_isLITERAL, _ONE),
    "ISNUMERIC": ("Builtin_isNUMERIC", op.Builtin_isNUMERIC, _ONE),
    "REGEX": ("Builtin_REGEX", op.Builtin_REGEX, ("text", "pattern", "flags?")),
    "EXISTS": ("Builtin_EXISTS", op.Builtin_EXISTS, "exists"),
    "NOT": ("Builtin_NOTEXISTS", op.Builtin_EXISTS, "notexists"),
}
_CALL_WORDS = _BUILTINS.keys() | _AGGREGATES.keys()


def _expr(name: str, fn, **params) -> Expr:
    """A CompValue with rdflib's eval function bound, as rdflib's Comp(...).setEvalFn(fn) makes it."""
    return Expr(name, fn, **params)


class _Parser:
    def __init__(self, text: str):
        if "\\" in text:
            text = rp.expandUnicodeEscapes(text)
        if "\t" in text:
            text = text.expandtabs()  # pyparsing's parse_string does this (rdflib keeps tabs off)
        if not text.isascii() and _ODD_UPPER(text):
            raise Unsupported("a character that upper-cases to ASCII")
        self.s = text + "\x00"  # a sentinel no rule matches, so s[pos] never runs off the end
        self.n = len(text)
        self.end = 0  # end of the last token: a gap between end and pos is whitespace or comments
        self.pos = _SKIP(self.s, 0).end()
        self.services: list[tuple[int, int, CompValue]] = []

    # ---- scanning helpers
    def fail(self, what: str):
        raise Unsupported(f"{what} at offset {self.pos}")

    def advance(self, end: int) -> None:
        self.end = end
        self.pos = _SKIP(self.s, end).end() if self.s[end] in _GAP_START else end

    def expect(self, ch: str) -> None:
        if self.s[self.pos] != ch:
            self.fail(f"expected {ch!r}")
        self.advance(self.pos + 1)

    def word(self) -> str:
        """The upper-cased word at pos when pyparsing's CaselessKeyword could match it there, else ''.

        A word right before ':' comes back with the ':' (``STR:``), so that it equals no keyword: there
        rdflib tries a prefixed name first (or the keyword's rule fails on the ':'), except after
        DISTINCT and SILENT, which check for it.
        """
        s, pos = self.s, self.pos
        m = _WORD(s, pos)
        if m is None or (pos and s[pos - 1].upper() in _IDENT):
            return ""
        after = s[m.end()]
        if after.upper() in _IDENT:
            return ""
        return m.group().upper() + ":" if after == ":" else m.group().upper()

    def take_word(self, w: str) -> None:
        self.advance(self.pos + len(w))

    def expect_word(self, w: str) -> None:
        if self.word() != w:
            self.fail(f"expected {w}")
        self.take_word(w)

    def at_nil(self) -> bool:
        """'(' then ')' with only whitespace or comments between (rdflib's NIL)."""
        s = self.s
        return s[self.pos] == "(" and s[_SKIP(s, self.pos + 1).end()] == ")"

    def take_pair(self) -> None:
        """Consume NIL or ANON."""
        self.advance(_SKIP(self.s, self.pos + 1).end() + 1)

    # ---- query forms
    def query_unit(self) -> ParseResults:
        prologue = []
        while True:
            w = self.word()
            if w == "BASE":
                self.take_word(w)
                prologue.append(CompValue("Base", iri=self.iriref()))
            elif w == "PREFIX":
                self.take_word(w)
                m = _PNAME(self.s, self.pos)
                if m is None or m.group(2) is not None:
                    self.fail("expected a prefix")
                decl = CompValue("PrefixDecl")
                if m.group(1) is not None:
                    decl["prefix"] = m.group(1)
                self.advance(m.end())
                decl["iri"] = self.iriref()
                prologue.append(decl)
            else:
                break
        if w == "SELECT":
            query = self.select_query("SelectQuery")
        elif w == "CONSTRUCT":
            query = self.construct_query()
        elif w == "ASK":
            self.take_word(w)
            query = CompValue("AskQuery")
            self.dataset_clauses(query)
            self.where_clause(query)
            self.solution_modifier(query)
        elif w == "DESCRIBE":
            query = self.describe_query()
        else:
            self.fail("expected SELECT, CONSTRUCT, ASK or DESCRIBE")
        if self.pos != self.n:
            self.fail("unexpected text")
        if self.services:
            self.fill_service_strings()
        return ParseResults([ParseResults(prologue), query])

    def iriref(self) -> URIRef:
        m = _IRIREF(self.s, self.pos)
        if m is None:
            self.fail("expected an IRI")
        self.advance(m.end())
        return URIRef(m.group(1))

    def select_query(self, name: str) -> CompValue:
        """SelectQuery and SubSelect: the same clauses (a subquery has no dataset clause)."""
        self.take_word("SELECT")
        query = CompValue(name)
        w = self.word()
        if w in ("DISTINCT", "REDUCED"):
            self.take_word(w)
            query["modifier"] = w
        if self.s[self.pos] == "*":
            self.advance(self.pos + 1)
        else:
            projection = []
            while True:
                c = self.s[self.pos]
                if c in "?$":
                    projection.append(CompValue("vars", var=self.var()))
                elif c == "(":
                    self.advance(self.pos + 1)
                    expr = self.expression()
                    self.expect_word("AS")
                    projection.append(CompValue("vars", expr=expr, evar=self.var()))
                    self.expect(")")
                else:
                    break
            if not projection:
                self.fail("expected a projection")
            query["projection"] = projection
        if name == "SelectQuery":
            self.dataset_clauses(query)
        self.where_clause(query)
        self.solution_modifier(query)
        return query

    def construct_query(self) -> CompValue:
        self.take_word("CONSTRUCT")
        query = CompValue("ConstructQuery")
        if self.s[self.pos] == "{":
            self.advance(self.pos + 1)
            template = []
            while self.s[self.pos] != "}":
                template.append(self.triples_same_subject(path=False))
                if self.s[self.pos] != ".":
                    break
                self.advance(self.pos + 1)
            self.expect("}")
            if template:
                query["template"] = template
            self.dataset_clauses(query)
            self.where_clause(query)
        else:
            # CONSTRUCT WHERE { triples }: rdflib wraps the triples so translation treats them as a
            # group pattern (the misspelt name is rdflib's).
            self.dataset_clauses(query)
            self.expect_word("WHERE")
            self.expect("{")
            if self.s[self.pos] != "}":
                triples = self.triples_template()
                block = CompValue("TriplesBlock", triples=triples)
                query["where"] = CompValue("FakeGroupGraphPatten", part=[block])
            self.expect("}")
        self.solution_modifier(query)
        return query

    def triples_template(self) -> list:
        triples = [self.triples_same_subject(path=False)]
        while self.s[self.pos] == ".":
            self.advance(self.pos + 1)
            if self.s[self.pos] == "}":
                break
            triples.append(self.triples_same_subject(path=False))
        return triples

    def describe_query(self) -> CompValue:
        self.take_word("DESCRIBE")
        query = CompValue("DescribeQuery")
        if self.s[self.pos] == "*":
            self.advance(self.pos + 1)
        else:
            terms = []
            while True:
                c = self.s[self.pos]
                term = self.var() if c in "?$" else self.iri_or_none()
                if term is None:
                    break
                terms.append(term)
            if not terms:
                self.fail("expected DESCRIBE terms")
            query["var"] = terms
        self.dataset_clauses(query)
        if self.s[self.pos] == "{" or self.word() == "WHERE":
            self.where_clause(query)
        self.solution_modifier(query)
        return query

    def dataset_clauses(self, query: CompValue) -> None:
        clauses = []
        while self.word() == "FROM":
            self.take_word("FROM")
            if self.word() == "NAMED":
                self.take_word("NAMED")
                clauses.append(CompValue("DatasetClause", named=self.iri()))
            else:
                clauses.append(CompValue("DatasetClause", default=self.iri()))
        if clauses:
            query["datasetClause"] = clauses

    def where_clause(self, query: CompValue) -> None:
        if self.word() == "WHERE":
            self.take_word("WHERE")
        query["where"] = self.group_graph_pattern()

    def solution_modifier(self, query: CompValue) -> None:
        """GROUP BY, HAVING, ORDER BY, LIMIT/OFFSET, then the trailing VALUES."""
        w = self.word()
        if w == "GROUP":
            self.take_word(w)
            self.expect_word("BY")
            conditions = [self.group_condition()]
            while (cond := self.group_condition(optional=True)) is not None:
                conditions.append(cond)
            query["groupby"] = CompValue("GroupClause", condition=conditions)
            w = self.word()
        if w == "HAVING":
            self.take_word(w)
            conditions = [self.constraint()]
            while (cond := self.constraint(optional=True)) is not None:
                conditions.append(cond)
            query["having"] = CompValue("HavingClause", condition=conditions)
            w = self.word()
        if w == "ORDER":
            self.take_word(w)
            self.expect_word("BY")
            conditions = [self.order_condition()]
            while (cond := self.order_condition(optional=True)) is not None:
                conditions.append(cond)
            query["orderby"] = CompValue("OrderClause", condition=conditions)
            w = self.word()
        if w in ("LIMIT", "OFFSET"):
            clauses = CompValue("LimitOffsetClauses")
            self.take_word(w)
            clauses[w.lower()] = self.integer()
            other = "OFFSET" if w == "LIMIT" else "LIMIT"
            if self.word() == other:
                self.take_word(other)
                clauses[other.lower()] = self.integer()
            query["limitoffset"] = clauses
        if self.word() == "VALUES":
            self.take_word("VALUES")
            query["valuesClause"] = self.data_block("ValuesClause")

    def integer(self) -> Literal:
        m = _INTEGER(self.s, self.pos)
        if m is None:
            self.fail("expected an integer")
        self.advance(m.end())
        return Literal(m.group(), datatype=XSD.integer)

    def group_condition(self, optional: bool = False):
        """BuiltInCall | FunctionCall | '(' Expression ('AS' Var)? ')' | Var."""
        c = self.s[self.pos]
        if c in "?$":
            return self.var()
        if c == "(":
            self.advance(self.pos + 1)
            cond = CompValue("GroupAs", expr=self.expression())
            if self.word() == "AS":
                self.take_word("AS")
                cond["var"] = self.var()
            self.expect(")")
            return cond
        return self.call(optional)

    def order_condition(self, optional: bool = False):
        w = self.word()
        if w in ("ASC", "DESC"):
            self.take_word(w)
            self.expect("(")
            expr = self.expression()
            self.expect(")")
            return CompValue("OrderCondition", order=w, expr=expr)
        if self.s[self.pos] in "?$":
            return CompValue("OrderCondition", expr=self.var())
        cond = self.constraint(optional)
        return None if cond is None else CompValue("OrderCondition", expr=cond)

    def constraint(self, optional: bool = False):
        """BrackettedExpression | BuiltInCall | FunctionCall; with optional, None when none starts here."""
        if self.s[self.pos] == "(":
            self.advance(self.pos + 1)
            expr = self.expression()
            self.expect(")")
            return expr
        return self.call(optional)

    def call(self, optional: bool):
        """BuiltInCall | FunctionCall."""
        w = self.word()
        if w in _CALL_WORDS:
            return self.builtin(w)
        iri = self.iri_or_none()
        if iri is None:
            if optional:
                return None
            self.fail("expected a function call")
        if self.s[self.pos] != "(":
            self.fail("expected an argument list")
        return self.function(iri)

    # ---- graph patterns
    def group_graph_pattern(self) -> CompValue:
        self.expect("{")
        if self.word() == "SELECT":
            pattern = self.select_query("SubSelect")
        else:
            pattern = self.group_graph_pattern_sub()
        self.expect("}")
        return pattern

    def starts_triples(self) -> bool:
        """Whether a TriplesBlock can start here; if it cannot, neither can anything else but the
        GraphPatternNotTriples keywords, '{' and '}' (so committing to triples is safe)."""
        c = self.s[self.pos]
        return c not in "{}" and self.word() not in _PATTERN_KEYWORDS

    def group_graph_pattern_sub(self) -> CompValue:
        parts = []
        if self.starts_triples():
            parts.append(self.triples_block())
        while True:
            if self.s[self.pos] == "{":
                graphs = [self.group_graph_pattern()]
                while self.word() == "UNION":
                    self.take_word("UNION")
                    graphs.append(self.group_graph_pattern())
                parts.append(CompValue("GroupOrUnionGraphPattern", graph=graphs))
            else:
                w = self.word()
                if w not in _PATTERN_KEYWORDS:
                    break
                parts.append(self.pattern_not_triples(w))
            if self.s[self.pos] == ".":
                self.advance(self.pos + 1)
            if self.starts_triples():
                parts.append(self.triples_block())
        if parts:
            return CompValue("GroupGraphPatternSub", part=parts)
        return CompValue("GroupGraphPatternSub")

    def pattern_not_triples(self, w: str) -> CompValue:
        start = self.pos
        self.take_word(w)
        if w == "OPTIONAL":
            return CompValue("OptionalGraphPattern", graph=self.group_graph_pattern())
        if w == "MINUS":
            return CompValue("MinusGraphPattern", graph=self.group_graph_pattern())
        if w == "FILTER":
            return CompValue("Filter", expr=self.constraint())
        if w == "BIND":
            self.expect("(")
            expr = self.expression()
            self.expect_word("AS")
            bind = CompValue("Bind", expr=expr, var=self.var())
            self.expect(")")
            return bind
        if w == "VALUES":
            return self.data_block("InlineData")
        if w == "GRAPH":
            term = self.var_or_iri()
            return CompValue("GraphGraphPattern", term=term, graph=self.group_graph_pattern())
        # SERVICE: rdflib also stores the text of the first SERVICE pattern of the query; filled in at
        # the end, when the first one is known.
        service = CompValue("ServiceGraphPattern", service_string=None)
        w = self.word()
        if w == "SILENT:":  # rdflib reads the keyword, then ':x' as the endpoint
            self.fail("SILENT before ':'")
        if w == "SILENT":
            self.take_word(w)
            service["silent"] = "SILENT"
        service["term"] = self.var_or_iri()
        service["graph"] = self.group_graph_pattern()
        self.services.append((start, self.end, service))
        return service

    def fill_service_strings(self) -> None:
        """rdflib scans the whole query text (comments and strings included) for every match of the
        SERVICE rule, re-parsing each, and gives the text of the first to every SERVICE pattern. Mirrored
        only when every other 'SERVICE' written in the text clearly cannot start a match and no pattern
        holds another (whose re-parse would scan again, endlessly: rdflib fails with RecursionError)."""
        spans = sorted((start, end) for start, end, _ in self.services)
        if any(end > later for (_, end), (later, _) in zip(spans, spans[1:], strict=False)):
            self.fail("a SERVICE pattern nested in another")
        starts = {start for start, _ in spans}
        for m in _SERVICE_WORD(self.s):
            if m.start() not in starts and self.could_start_service(m.end()):
                self.fail("'SERVICE' written outside a SERVICE pattern")
        start, end = spans[0]
        text = self.s[start:end]
        for _, _, service in self.services:
            service["service_string"] = text

    def could_start_service(self, at: int) -> bool:
        """Whether SERVICE SILENT? (Var | iri) '{' might match after a 'SERVICE' keyword ending at ``at``."""
        self.pos = _SKIP(self.s, at).end()
        if self.word() == "SILENT":
            self.take_word("SILENT")
        var = _VAR(self.s, self.pos)
        if var is not None:
            self.advance(var.end())
        elif self.iri_or_none() is None:
            return False
        return self.s[self.pos] == "{"

    def data_block(self, name: str) -> CompValue:
        """InlineDataOneVar | InlineDataFull."""
        block = CompValue(name)
        c = self.s[self.pos]
        if c in "?$":
            block["var"] = [self.var()]
            self.expect("{")
            values = []
            while self.s[self.pos] != "}":
                values.append(self.data_block_value())
            if values:
                block["value"] = values
            self.expect("}")
            return block
        if self.at_nil():
            self.take_pair()
        else:
            self.expect("(")
            variables = []
            while self.s[self.pos] != ")":
                variables.append(self.var())
            self.advance(self.pos + 1)
            if variables:
                block["var"] = variables
        self.expect("{")
        rows = []
        while self.s[self.pos] == "(":
            # rdflib's row rule tries '(' values ')' before NIL, so '()' is an empty row, not rdf:nil
            self.advance(self.pos + 1)
            row = []
            while self.s[self.pos] != ")":
                row.append(self.data_block_value())
            self.advance(self.pos + 1)
            rows.append(ParseResults(row))
        if rows:
            block["value"] = rows
        self.expect("}")
        return block

    def data_block_value(self):
        """iri | RDFLiteral | NumericLiteral | BooleanLiteral | 'UNDEF'."""
        c = self.s[self.pos]
        if c in "\"'":
            return self.rdf_literal()
        if c in _NUMBER_START:
            return self.numeric_literal()
        term = self.iri_or_none()
        if term is not None:
            return term
        w = self.word()
        if w == "UNDEF":
            self.take_word(w)
            return "UNDEF"
        return self.boolean()

    # ---- triples
    def triples_block(self) -> CompValue:
        triples = [self.triples_same_subject(path=True)]
        while self.s[self.pos] == ".":
            self.advance(self.pos + 1)
            if not self.starts_triples():
                break
            triples.append(self.triples_same_subject(path=True))
        return CompValue("TriplesBlock", triples=triples)

    def triples_same_subject(self, path: bool) -> ParseResults:
        """VarOrTerm PropertyListNotEmpty | TriplesNode PropertyList, expanded by rdflib's expandTriples.
        ``path`` selects the *Path variants (WHERE) over the plain ones (CONSTRUCT templates)."""
        c = self.s[self.pos]
        if (c == "[" or c == "(") and not self.at_pair():
            terms = [self.triples_node(path)]
            if self.starts_verb():
                self.property_list(terms, path)
        else:
            terms = [self.var_or_term()]
            self.property_list(terms, path)
        return ParseResults(rp.expandTriples(terms))

    def at_pair(self) -> bool:
        """ANON '[ ]' or NIL '( )'."""
        s = self.s
        close = "]" if s[self.pos] == "[" else ")"
        return s[_SKIP(s, self.pos + 1).end()] == close

    def starts_verb(self) -> bool:
        c = self.s[self.pos]
        if c in ".;,]}{)\x00":
            return False
        return self.word() not in _PATTERN_KEYWORDS

    def property_list(self, terms: list, path: bool) -> None:
        """PropertyList(Path)NotEmpty, appending the flat tokens (with ',' and ';') expandTriples reads."""
        self.verb_and_objects(terms, path)
        while self.s[self.pos] == ";":
            self.advance(self.pos + 1)
            terms.append(";")
            if self.starts_verb():
                self.verb_and_objects(terms, path)

    def verb_and_objects(self, terms: list, path: bool) -> None:
        c = self.s[self.pos]
        if c in "?$":
            terms.append(self.var())  # a variable is VerbSimple: no path wrapper
        elif path:
            terms.append(self.path_alternative())
        else:
            term = self.iri_or_none()
            if term is None:
                if c != "a":
                    self.fail("expected a verb")
                self.advance(self.pos + 1)
                term = RDF.type
            terms.append(term)
        terms.append(self.graph_node(path))
        while self.s[self.pos] == ",":
            self.advance(self.pos + 1)
            terms.append(",")
            terms.append(self.graph_node(path))

    def graph_node(self, path: bool):
        """VarOrTerm | TriplesNode (a python list, as rdflib's actions return it)."""
        c = self.s[self.pos]
        if (c == "[" or c == "(") and not self.at_pair():
            return self.triples_node(path)
        return self.var_or_term()

    def triples_node(self, path: bool) -> list:
        """Collection | BlankNodePropertyList."""
        if self.s[self.pos] == "(":
            self.advance(self.pos + 1)
            items = []
            while self.s[self.pos] != ")":
                items.append(self.graph_node(path))
            if not items:
                self.fail("empty collection")
            self.advance(self.pos + 1)
            return rp.expandCollection(items)[0]
        self.advance(self.pos + 1)
        terms = [BNode()]
        self.property_list(terms, path)
        self.expect("]")
        return rp.expandTriples(terms)

    # ---- property paths
    def path_alternative(self) -> CompValue:
        parts = [self.path_sequence()]
        while self.s[self.pos] == "|":
            self.advance(self.pos + 1)
            parts.append(self.path_sequence())
        return CompValue("PathAlternative", part=parts)

    def path_sequence(self) -> CompValue:
        parts = [self.path_elt_or_inverse()]
        while self.s[self.pos] == "/":
            self.advance(self.pos + 1)
            parts.append(self.path_elt_or_inverse())
        return CompValue("PathSequence", part=parts)

    def path_elt_or_inverse(self) -> CompValue:
        if self.s[self.pos] == "^":
            self.advance(self.pos + 1)
            return CompValue("PathEltOrInverse", part=self.path_elt())
        return self.path_elt()

    def path_elt(self) -> CompValue:
        elt = CompValue("PathElt", part=self.path_primary())
        c = self.s[self.pos]
        if c in "?*+" and self.pos == self.end:  # the modifier must touch the path (leave_whitespace)
            self.advance(self.pos + 1)
            elt["mod"] = c
        return elt

    def path_primary(self):
        """iri | 'a' | '!' PathNegatedPropertySet | '(' Path ')' | 'DISTINCT' '(' Path ')'."""
        c = self.s[self.pos]
        if c == "!":
            self.advance(self.pos + 1)
            return self.negated_property_set()
        if c == "(":
            self.advance(self.pos + 1)
            inner = self.path_alternative()
            self.expect(")")
            return inner
        term = self.iri_or_none()
        if term is not None:
            return term
        if c == "a":  # rdflib's 'a' is a Literal, not a Keyword: it matches the 'a' of any word
            self.advance(self.pos + 1)
            return RDF.type
        self.expect_word("DISTINCT")
        self.expect("(")
        distinct = CompValue("DistinctPath", part=self.path_alternative())
        self.expect(")")
        return distinct

    def negated_property_set(self) -> CompValue:
        if self.s[self.pos] != "(":
            return CompValue("PathNegatedPropertySet", part=[self.path_one_in_property_set()])
        self.advance(self.pos + 1)
        parts = []
        if self.s[self.pos] != ")":
            parts.append(self.path_one_in_property_set())
            while self.s[self.pos] == "|":
                self.advance(self.pos + 1)
                parts.append(self.path_one_in_property_set())
        self.expect(")")
        if parts:
            return CompValue("PathNegatedPropertySet", part=parts)
        return CompValue("PathNegatedPropertySet")

    def path_one_in_property_set(self):
        inverse = self.s[self.pos] == "^"
        if inverse:
            self.advance(self.pos + 1)
        term = self.iri_or_none()
        if term is None:
            if self.s[self.pos] != "a":
                self.fail("expected an IRI or 'a'")
            self.advance(self.pos + 1)
            term = RDF.type
        # rdflib's InversePath rule has no Param: the IRI is dropped and the CompValue is empty
        return CompValue("InversePath") if inverse else term

    # ---- terms
    def var(self) -> Variable:
        m = _VAR(self.s, self.pos)
        if m is None:
            self.fail("expected a variable")
        self.advance(m.end())
        return Variable(m.group(1))

    def iri_or_none(self, at: int | None = None):
        """IRIREF or PrefixedName at pos, or None (nothing consumed) when neither matches."""
        s, pos = self.s, self.pos
        if s[pos] == "<":
            m = _IRIREF(s, pos)
            if m is None:
                return None
            self.advance(m.end())
            return URIRef(m.group(1))
        m = _PNAME(s, pos)
        if m is None:
            return None
        self.advance(m.end())
        prefix, local = m.group(1, 2)
        if prefix is None:
            return CompValue("pname") if local is None else CompValue("pname", localname=local)
        if local is None:
            return CompValue("pname", prefix=prefix)
        return CompValue("pname", prefix=prefix, localname=local)

    def iri(self):
        term = self.iri_or_none()
        if term is None:
            self.fail("expected an IRI")
        return term

    def var_or_iri(self):
        return self.var() if self.s[self.pos] in "?$" else self.iri()

    def var_or_term(self):
        """Var | iri | RDFLiteral | NumericLiteral | BooleanLiteral | BlankNode | NIL."""
        c = self.s[self.pos]
        if c in "?$":
            return self.var()
        if c in "\"'":
            return self.rdf_literal()
        if c in _NUMBER_START:
            return self.numeric_literal()
        if c == "_":
            m = _BNODE_LABEL(self.s, self.pos)
            if m is None:
                self.fail("expected a blank node")
            self.advance(m.end())
            return BNode(m.group()[2:])
        if c == "[" or c == "(":
            if not self.at_pair():
                self.fail("expected a term")
            self.take_pair()
            return BNode() if c == "[" else RDF.nil
        term = self.iri_or_none()
        if term is not None:
            return term
        return self.boolean()

    def boolean(self) -> Literal:
        w = self.word()
        if w == "TRUE":
            self.take_word(w)
            return Literal(True)
        if w == "FALSE":
            self.take_word(w)
            return Literal(False)
        self.fail("expected a term")

    def string(self) -> Literal:
        s, pos = self.s, self.pos
        for match, quotes in _STRINGS.get(s[pos], ()):
            m = match(s, pos)
            if m is not None:
                self.advance(m.end())
                return Literal(decodeUnicodeEscape(m.group()[quotes:-quotes]))
        self.fail("expected a string")

    def rdf_literal(self) -> CompValue:
        """String then, touching it, '@lang' or '^^' iri (rdflib's leave_whitespace)."""
        literal = CompValue("literal", string=self.string())
        if self.pos != self.end:
            return literal
        s, pos = self.s, self.pos
        if s[pos] == "@":
            m = _LANGTAG(s, pos)
            if m is not None:
                self.advance(m.end())
                literal["lang"] = m.group(1)
        elif s.startswith("^^", pos):
            self.pos = pos + 2  # no whitespace allowed before the datatype either
            datatype = self.iri_or_none()
            if datatype is None:
                self.fail("expected a datatype IRI")
            literal["datatype"] = datatype
        return literal

    def numeric_literal(self) -> Literal:
        """NumericLiteralUnsigned | Positive | Negative, with rdflib's actions for the signed ones."""
        s, pos = self.s, self.pos
        sign = s[pos] if s[pos] in "+-" else ""
        at = pos + len(sign)  # the digits must touch the sign
        for match, kind in _NUMBERS:
            m = match(s, at)
            if m is not None:
                datatype = kind
                break
        else:
            self.fail("expected a number")
        self.advance(m.end())
        literal = Literal(m.group(), datatype=datatype)
        if sign == "-":
            return rp.neg(literal)
        if sign == "+" and datatype is XSD.integer:
            return Literal("+" + literal, datatype=XSD.integer)  # rdflib's INTEGER_POSITIVE action
        return literal

    # ---- expressions: every level is kept, as rdflib keeps it (translation simplifies later)
    def expression(self) -> Expr:
        return self._conditional("ConditionalOrExpression", op.ConditionalOrExpression, "||", self.and_expression)

    def and_expression(self) -> Expr:
        return self._conditional("ConditionalAndExpression", op.ConditionalAndExpression, "&&", self.relational)

    def _conditional(self, name: str, evalfn, operator: str, operand) -> Expr:
        """operand (operator operand)*, the shape of rdflib's || and && rules (no list of operators)."""
        expr = operand()
        if not self.s.startswith(operator, self.pos):
            return _expr(name, evalfn, expr=expr)
        others = []
        while self.s.startswith(operator, self.pos):
            self.advance(self.pos + len(operator))
            others.append(operand())
        return _expr(name, evalfn, expr=expr, other=others)

    def relational(self) -> Expr:
        expr = self.additive()
        s, pos = self.s, self.pos
        c = s[pos]
        if c in "=<>" or s.startswith("!=", pos):
            # rdflib tries '<' before '<=': after '<', '=' cannot start an expression, so '<=' wins anyway
            operator = s[pos : pos + 2] if s[pos + 1] == "=" and c != "=" else c
            self.advance(pos + len(operator))
            other = self.additive()
        else:
            w = self.word()
            if w == "IN":
                self.take_word(w)
                operator = "IN"
            elif w == "NOT":
                self.take_word(w)
                self.expect_word("IN")
                operator = "NOT IN"
            else:
                return _expr("RelationalExpression", op.RelationalExpression, expr=expr)
            other = self.expression_list()
        return _expr("RelationalExpression", op.RelationalExpression, expr=expr, op=operator, other=other)

    def additive(self) -> Expr:
        return self._chain("AdditiveExpression", op.AdditiveExpression, "+-", self.multiplicative)

    def multiplicative(self) -> Expr:
        return self._chain("MultiplicativeExpression", op.MultiplicativeExpression, "*/", self.unary)

    def _chain(self, name: str, evalfn, operators: str, operand) -> Expr:
        """operand (operator operand)*, the shape of rdflib's additive and multiplicative rules."""
        expr = operand()
        c = self.s[self.pos]
        if c not in operators:
            return _expr(name, evalfn, expr=expr)
        ops, others = [], []
        while c in operators:
            self.advance(self.pos + 1)
            ops.append(c)
            others.append(operand())
            c = self.s[self.pos]
        return _expr(name, evalfn, expr=expr, op=ops, other=others)

    def unary(self):
        c = self.s[self.pos]
        if c == "!":
            self.advance(self.pos + 1)
            return _expr("UnaryNot", op.UnaryNot, expr=self.primary())
        if c == "+":  # before NumericLiteral: '+1' here is UnaryPlus(1), as in rdflib
            self.advance(self.pos + 1)
            return _expr("UnaryPlus", op.UnaryPlus, expr=self.primary())
        if c == "-":
            self.advance(self.pos + 1)
            return _expr("UnaryMinus", op.UnaryMinus, expr=self.primary())
        return self.primary()

    def primary(self):
        """BrackettedExpression | BuiltInCall | iriOrFunction | RDFLiteral | NumericLiteral
        | BooleanLiteral | Var."""
        c = self.s[self.pos]
        if c == "(":
            self.advance(self.pos + 1)
            expr = self.expression()
            self.expect(")")
            return expr
        if c in "?$":
            return self.var()
        if c in "\"'":
            return self.rdf_literal()
        if c in _NUMBER_START:
            return self.numeric_literal()
        w = self.word()
        if w in _CALL_WORDS:
            return self.builtin(w)
        iri = self.iri_or_none()
        if iri is not None:
            return self.function(iri) if self.s[self.pos] == "(" else iri
        return self.boolean()

    def expression_list(self):
        """NIL | '(' Expression (',' Expression)* ')': rdf:nil or a ParseResults of expressions."""
        if self.at_nil():
            self.take_pair()
            return RDF.nil
        self.expect("(")
        exprs = [self.expression()]
        while self.s[self.pos] == ",":
            self.advance(self.pos + 1)
            exprs.append(self.expression())
        self.expect(")")
        return ParseResults(exprs)

    def function(self, iri) -> Expr:
        """iri ArgList, at the ArgList."""
        if self.at_nil():
            self.take_pair()
            return _expr("Function", op.Function, iri=iri)
        self.expect("(")
        call = _expr("Function", op.Function, iri=iri, distinct=self.distinct())
        exprs = [self.expression()]
        while self.s[self.pos] == ",":
            self.advance(self.pos + 1)
            exprs.append(self.expression())
        self.expect(")")
        call["expr"] = exprs
        return call

    def distinct(self):
        """Param('distinct', Optional(DISTINCT)): the keyword, or an empty ParseResults when absent."""
        w = self.word()
        if w == "DISTINCT:":  # rdflib reads the keyword, then ':x' as the argument
            self.fail("DISTINCT before ':'")
        if w == "DISTINCT":
            self.take_word("DISTINCT")
            return "DISTINCT"
        return ParseResults([])

    def builtin(self, w: str):
        self.take_word(w)
        if w in _AGGREGATES:
            return self.aggregate(w)
        name, fn, shape = _BUILTINS[w]
        if shape == "exists":
            return _expr(name, fn, graph=self.group_graph_pattern())
        if shape == "notexists":
            self.expect_word("EXISTS")
            return _expr(name, fn, graph=self.group_graph_pattern())
        if shape == "list":
            return _expr(name, fn, arg=self.expression_list())
        if shape == "nil" or (shape == "bnode" and self.at_nil()):
            if not self.at_nil():
                self.fail("expected ()")
            self.take_pair()
            return _expr(name, fn)
        self.expect("(")
        if shape == "var":
            call = _expr(name, fn, arg=self.var())
        elif shape == "bnode":
            call = _expr(name, fn, arg=self.expression())
        else:
            call = _expr(name, fn)
            for i, param in enumerate(shape):
                if param.endswith("?"):
                    if self.s[self.pos] != ",":
                        break
                    param = param[:-1]
                if i:
                    self.expect(",")
                call[param] = self.expression()
        self.expect(")")
        return call

    def aggregate(self, w: str) -> CompValue:
        self.expect("(")
        agg = CompValue(_AGGREGATES[w], distinct=self.distinct())
        if w == "COUNT" and self.s[self.pos] == "*":
            self.advance(self.pos + 1)
            agg["vars"] = "*"
        else:
            agg["vars"] = self.expression()
        if w == "GROUP_CONCAT" and self.s[self.pos] == ";":
            self.advance(self.pos + 1)
            self.expect_word("SEPARATOR")
            self.expect("=")
            agg["separator"] = self.string()
        self.expect(")")
        return agg
