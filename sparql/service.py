"""SERVICE: the one SPARQL feature that makes Oxigraph call out. Oxigraph evaluates SERVICE itself, over HTTP,
to any address, and it does so as soon as a query's results are created: checking a query by running it on an
empty store is enough. The engine never answers SERVICE, so a query text that has SERVICE anywhere the
keyword can stand is refused before Oxigraph or rdflib sees it.

The check reads the text the way the SPARQL grammar does: strings, IRIs, escaped characters of prefixed names
and comments cannot hold a keyword, everything else can. It errs on the side of refusing: a text it cannot
read cleanly (an unterminated string, say) is searched as if none of it were a string. It runs twice, on the
text as written and with its \\u escapes expanded, as the standard says a parser may do before reading."""

from __future__ import annotations

import re

from .errors import UnsupportedQuery

# What can hide a word from the parser, in the order the grammar tries them at a position.
_OPAQUE = re.compile(
    r"'''(?:[^'\\]|\\.|'(?!''))*'''"  # long strings first: ''' is not an empty string and a quote
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r'|<(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>'  # IRIs, \u escapes included
    r"|\\."  # an escaped character of a prefixed name (ex:a\#b): not a comment, not a quote
    r"|#[^\n\r]*"
)
# the keyword, not part of a variable (?SERVICE), a prefixed name (ex:SERVICE, SERVICE:x) or a longer word
_SERVICE = re.compile(r"(?<![\w?$:])SERVICE(?![\w:])", re.IGNORECASE)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _expand(text: str) -> str:
    def char(match: re.Match) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _ESCAPE.sub(char, text)


def mentions_service(text: str) -> bool:
    """Whether SERVICE stands as a keyword anywhere in the query text."""
    return any(_SERVICE.search(_OPAQUE.sub(" ", version)) for version in (text, _expand(text)))


def refuse_service(text: str) -> None:
    if mentions_service(text):
        raise UnsupportedQuery("SERVICE is not supported: the federation itself chooses the sources")
