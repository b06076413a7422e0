"""SERVICE is refused before Oxigraph sees a query: Oxigraph calls the service as soon as results are created,
so a syntax check by evaluation on an empty store was enough to make the server send a request anywhere."""

from __future__ import annotations

import socket
import threading

import pytest
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from sparql import UnsupportedQuery
from sparql.algebra import check_query, parse_query
from sparql.service import mentions_service
from tests.shared import shared_path

P = "PREFIX ex: <http://e/> "
NAMES_SERVICE = [
    "SELECT * WHERE { SERVICE <http://s/> { ?a ?b ?c } }",
    "select * where { service silent <http://s/> { ?a ?b ?c } }",
    "SELECT * WHERE { ?a ?b ?c.SERVICE <http://s/> { ?a ?b ?d } }",
    "SELECT * WHERE { ?a ?b ?c FILTER EXISTS { SERVICE ?s { ?a ?b ?d } } }",
    "SELECT * WHERE { SERVICE#comment\n <http://s/> { ?a ?b ?c } }",
    P + "SELECT * WHERE { ?s ?p ex:a\\# . SERVICE <http://s/> { ?s ?p ?o } }",  # an escaped # is no comment
    "SELECT * WHERE { ?s ?p <http://x/\\u0041#> . SERVICE <http://s/> { ?s ?p ?o } }",  # \u in an IRI
    "SELECT * WHERE { ?s ?p '''a''b''' . SERVICE <http://s/> { ?s ?p ?o } }",
    'SELECT * WHERE { ?s ?p "a\\"b # " . SERVICE <http://s/> { ?s ?p ?o } }',  # an escaped quote
    "SELECT * WHERE { ?s ?p 'unterminated SERVICE <http://s/> { ?s ?p ?o } }",
    "SELECT * WHERE { \\u0053ERVICE <http://s/> { ?a ?b ?c } }",  # as a parser that expands \u would read it
    "SELECT * WHERE { LATERAL { SERVICE <http://s/> { ?a ?b ?c } } }",  # SPARQL 1.2: rdflib cannot parse it
]
MERELY_MENTIONS = [
    "SELECT ?service WHERE { ?service ?b ?c }",
    P + "SELECT * WHERE { ?a ex:service ?c . ?a ex:SERVICE_x ?d }",
    "SELECT * WHERE { ?a ?b 'SERVICE <http://s/> { }' }",
    'SELECT * WHERE { ?a ?b """a "SERVICE" in a long string""" }',
    "SELECT * WHERE { ?a <http://x/SERVICE> ?c } # SERVICE <http://s/> { }",
    "SELECT * WHERE { ?a <http://x/#SERVICE> ?c }",
    "PREFIX service: <http://x/> SELECT * WHERE { ?a service:p ?c }",
]


@pytest.mark.parametrize("text", NAMES_SERVICE)
def test_the_keyword_is_found_wherever_it_can_stand(text):
    assert mentions_service(text)


@pytest.mark.parametrize("text", MERELY_MENTIONS)
def test_strings_iris_comments_variables_and_names_are_not_the_keyword(text):
    assert not mentions_service(text)


def _has_service(node) -> bool:
    if isinstance(node, CompValue):
        return node.name == "ServiceGraphPattern" or any(_has_service(v) for k, v in node.items() if k != "_vars")
    if isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
        return any(_has_service(v) for v in node)
    return False


def test_it_agrees_with_rdflibs_parse_on_every_w3c_and_fedbench_query():
    checked = 0
    for path in sorted([*shared_path("w3c-sparql11").rglob("*.rq"), *shared_path("fedbench").rglob("*.rq")]):
        text = path.read_text(encoding="utf-8")
        try:
            tree = parseQuery(text)
        except Exception:  # noqa: BLE001 - rdflib rejects it: nothing to compare with
            continue
        assert mentions_service(text) == _has_service(tree), path.name
        checked += 1
    assert checked > 300


class Listener:
    """A TCP port that records whether anything connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/sparql"
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> int:
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()
        return self.connections


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def attacks(url: str) -> list[str]:
    # each calls the service first, so that an empty store is no protection
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"ASK {{ SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"CONSTRUCT {{ ?a ?b ?c }} WHERE {{ SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ LATERAL {{ SERVICE <{url}> {{ ?a ?b ?c }} }} }}",
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?a ?b ?c }} FILTER(?c = 'x'@en--ltr) }}",
    ]


def test_checking_or_parsing_a_query_never_calls_its_service(listener):
    for text in attacks(listener.url):
        for check in (check_query, parse_query):
            with pytest.raises(Exception) as refused:  # noqa: PT011 - SERVICE, or a syntax rdflib refuses
                check(text)
            if "LATERAL" not in text and "ltr" not in text:
                assert isinstance(refused.value, UnsupportedQuery) and "SERVICE" in str(refused.value)
    assert listener.close() == 0
