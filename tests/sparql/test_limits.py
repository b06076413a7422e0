"""What one query may take in: an endpoint's answer is read up to a size, and a federation fetches up to a
number of distinct triples."""

from __future__ import annotations

import http.server
import json
import threading

import pyoxigraph as ox
import pytest

from sparql import AnswerTooLarge, Federation, HostedStore, RemoteEndpoint, SourceError
from tests.servers import send_body

ROWS = [{"s": {"type": "uri", "value": f"http://x.example/{i}"}} for i in range(20_000)]
BIG = json.dumps({"head": {"vars": ["s"]}, "results": {"bindings": ROWS}}).encode()
SMALL = json.dumps({"head": {"vars": ["s"]}, "results": {"bindings": ROWS[:2]}}).encode()


class _Answers(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        send_body(self, BIG if self.path == "/big" else SMALL)

    def log_message(self, *args):
        pass


@pytest.fixture
def answering_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_answer_past_the_size_limit_is_a_source_error_and_the_connection_is_not_reused(answering_server):
    assert len(BIG) > 500_000
    endpoint = RemoteEndpoint(answering_server + "/big", name="big", max_response_bytes=100_000)
    with pytest.raises(SourceError, match="answered more than 100,000 bytes"):
        endpoint.select("SELECT ?s WHERE { ?s ?p ?o }")
    # the same endpoint, under its limit, and a small answer on the same host: nothing left half-read
    assert len(RemoteEndpoint(answering_server + "/big", name="big").select("SELECT ?s {}").rows) == 20_000
    small = RemoteEndpoint(answering_server + "/small", name="small", max_response_bytes=100_000)
    for _ in range(3):
        assert len(small.select("SELECT ?s WHERE { ?s ?p ?o }").rows) == 2


def _hosted(n: int) -> HostedStore:
    store = ox.Store()
    for i in range(n):
        store.add(
            ox.Quad(ox.NamedNode(f"http://x.example/{i}"), ox.NamedNode("http://x.example/p"), ox.Literal(str(i)))
        )
    return HostedStore(store, name="x")


def test_a_federation_fetches_at_most_max_triples_and_answers_at_most_max_rows():
    query = "SELECT * WHERE { ?s <http://x.example/p> ?o }"
    with pytest.raises(AnswerTooLarge, match="more than 50 triples"):
        Federation([_hosted(200)], max_triples=50).query(query)
    with pytest.raises(AnswerTooLarge, match="more than 150 rows"):
        Federation([_hosted(200)], max_rows=150).query(query)
    construct = "CONSTRUCT { ?s <http://x.example/q> ?o } WHERE { ?s <http://x.example/p> ?o }"
    with pytest.raises(AnswerTooLarge, match="more than 150 triples"):
        Federation([_hosted(200)], max_rows=150).query(construct)
    assert len(Federation([_hosted(200)], max_rows=200).query(construct).triples) == 200
    assert len(Federation([_hosted(200)], max_triples=200).query(query).rows) == 200
    assert len(Federation([_hosted(200)]).query(query).rows) == 200


def test_the_engine_refuses_to_join_more_intermediate_rows_than_max_solutions():
    import time

    # each copy of the pattern is fetched on its own; the engine would join the copies in Python
    product = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(6)) + " }"
    started = time.monotonic()
    with pytest.raises(AnswerTooLarge, match="share no variable combine into more than 1,000 rows"):
        Federation([_hosted(30), HostedStore(ox.Store(), name="y")], max_solutions=1000).query(product)
    assert time.monotonic() - started < 2.0
    # joins on a shared variable: counted as they grow
    chain = "SELECT * WHERE { ?a <http://x.example/p> ?o . ?b <http://x.example/p> ?o }"
    assert (
        len(Federation([_hosted(200), HostedStore(ox.Store(), name="y")], max_solutions=1000).query(chain).rows) == 200
    )
    two = "SELECT * WHERE { ?a <http://x.example/p> ?o . ?b <http://x.example/p> ?c }"
    with pytest.raises(AnswerTooLarge, match="more than 1,000"):
        Federation([_hosted(40), HostedStore(ox.Store(), name="y")], max_solutions=1000).query(two)
    assert len(Federation([_hosted(30), HostedStore(ox.Store(), name="y")], max_solutions=1000).query(two).rows) == 900


def test_a_join_in_the_engine_stops_at_a_cancel():
    from sparql import QueryCancelled
    from sparql.execution import _join

    looks = []

    def check():  # as the Fetcher's cancel check, once the time limit has set the event
        looks.append(1)
        if len(looks) > 1:
            raise QueryCancelled("stopped")

    with pytest.raises(QueryCancelled):
        _join([{"a": i} for i in range(5000)], [{"b": 1}], [], None, check)
    assert len(looks) == 2  # looked again after 1,024 rows
    # a row whose key is unbound is compared with every row of the other side: that counts as much work
    looks.clear()
    unbound = [{"a": i} for i in range(10)]  # ?b unbound on the left
    with pytest.raises(QueryCancelled):
        _join(unbound, [{"a": j, "b": j} for j in range(5000)], ["a", "b"], None, check)
    assert len(looks) == 2  # after the first row's 5,000 comparisons, not after 1,024 rows
