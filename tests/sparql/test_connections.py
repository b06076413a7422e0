"""Connections to endpoints are kept alive across queries (a federation is built per query); a forked worker
never shares its parent's sockets; a kept connection the endpoint dropped is resent once, a timeout never."""

from __future__ import annotations

import http.server
import os
import socket
import threading
import time

import pytest

from sparql import Federation, RemoteEndpoint, SourceError
from sparql.sources import http_pool
from tests.servers import CountingServer, send_body

QUERY = "SELECT * WHERE { ?s ?p ?o } LIMIT 3"


def test_later_queries_reuse_the_connections_of_earlier_ones(shop_endpoints):
    urls = [server.url for server in shop_endpoints]

    def ask() -> None:
        federation = Federation([RemoteEndpoint(url, name=f"e{i}") for i, url in enumerate(urls)])
        assert len(federation.query(QUERY, provenance=False).rows) == 3

    ask()
    opened = {url: http_pool().connection_from_url(url).num_connections for url in urls}
    assert all(n >= 1 for n in opened.values())
    for _ in range(5):
        ask()
    assert {url: http_pool().connection_from_url(url).num_connections for url in urls} == opened


def test_a_forked_child_starts_with_a_pool_of_its_own():
    parent = http_pool()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave at once, without pytest's teardown
        os.write(write_end, b"new" if http_pool() is not parent else b"same")
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    assert os.read(read_end, 8) == b"new"
    assert http_pool() is parent


class _ClosesKeptConnections(http.server.BaseHTTPRequestHandler):
    """Answers the first request of each connection and keeps it open, then closes it without answering the
    next one: an endpoint's idle timeout firing just as a request goes out."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests += 1  # type: ignore[attr-defined]
        if getattr(self, "answered", False):
            self.close_connection = True
            return
        self.answered = True
        send_body(
            self, b'{"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {"type": "literal", "value": "1"}}]}}'
        )

    def log_message(self, *args):
        pass


@pytest.fixture
def closing_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ClosesKeptConnections)
    server.daemon_threads = True
    server.requests = 0  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_kept_connection_the_endpoint_dropped_is_resent_on_a_new_one(closing_server):
    url = f"http://127.0.0.1:{closing_server.server_port}/query"
    for _ in range(3):
        assert len(RemoteEndpoint(url, name="flaky").select("SELECT ?x WHERE {}").rows) == 1
    # each later request met a dropped connection once, then went out again
    assert closing_server.requests == 5


def test_a_refused_connection_is_unreachable_not_a_timeout():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceError) as failure:
        RemoteEndpoint(f"http://127.0.0.1:{port}/query", name="gone").select("SELECT * WHERE {}")
    assert failure.value.source == "gone" and "unreachable" in failure.value.reason


def test_a_timeout_is_not_retried():
    server = CountingServer(delay=0.6)
    try:
        with pytest.raises(SourceError) as failure:
            RemoteEndpoint(server.url, name="slow", timeout=0.2).select("SELECT * WHERE {}")
        assert "timed out" in failure.value.reason
        time.sleep(0.8)
        assert server.httpd.total == 1  # type: ignore[attr-defined]
    finally:
        server.stop()
