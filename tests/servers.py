"""Real servers for tests, all on loopback: `oxigraph serve` SPARQL endpoints, and tiny HTTP servers that count
requests or misbehave (slow, junk) for the fault tests."""

from __future__ import annotations

import http.server
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote_plus

import requests

from tests.conftest import wait_until

OXIGRAPH = str(Path(sys.executable).with_name("oxigraph"))  # the venv's oxigraph server CLI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OxigraphServer:
    """``oxigraph serve`` (writable, in memory) or ``serve-read-only`` over a directory loaded first."""

    def __init__(self, data: Path | None = None, *, location: Path | None = None, writable: bool = False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/query"
        self.store_url = f"http://127.0.0.1:{self.port}/store"
        self._own_location = None
        if writable:
            cmd = [OXIGRAPH, "serve", "--bind", f"127.0.0.1:{self.port}"]
        else:
            if location is None:
                location = self._own_location = Path(tempfile.mkdtemp(prefix="oxigraph-"))
            if data is not None:
                subprocess.run(
                    [OXIGRAPH, "load", "--location", str(location), "--file", str(data)],
                    check=True,
                    capture_output=True,
                )
            cmd = [OXIGRAPH, "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{self.port}"]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._ready, message=f"oxigraph on port {self.port}")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"oxigraph exited with {self.process.returncode}")
        try:
            return requests.get(self.url, params={"query": "ASK {}"}, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def put_default_graph(self, ntriples: str) -> None:
        response = requests.put(
            self.store_url + "?default",
            data=ntriples.encode(),
            headers={"Content-Type": "application/n-triples"},
            timeout=10,
        )
        assert response.status_code in (200, 201, 204), response.text

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self._own_location is not None:
            shutil.rmtree(self._own_location, ignore_errors=True)


def send_body(handler, body: bytes, *, status: int = 200, content_type: str = "application/sparql-results+json"):
    """One whole HTTP answer with its length, as an endpoint sends it."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Handler(http.server.BaseHTTPRequestHandler):
    mode = "junk"
    delay = 0.0

    def _answer(self) -> None:
        if self.mode == "slow":
            self.server.release.wait(self.delay)  # type: ignore[attr-defined]
        body = b"<html>this is not a SPARQL result</html>"
        try:
            send_body(self, body)
        except OSError:
            pass

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args) -> None:
        pass


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    """A valid but slow endpoint with no data; it records how many requests were in flight at once."""

    def _answer(self) -> None:
        server = self.server
        with server.lock:  # type: ignore[attr-defined]
            server.active += 1  # type: ignore[attr-defined]
            server.peak = max(server.peak, server.active)  # type: ignore[attr-defined]
            server.total += 1  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else self.path
        time.sleep(server.delay)  # type: ignore[attr-defined]
        if "ASK" in unquote_plus(raw):
            body = b'{"head": {}, "boolean": true}'
        else:
            body = b'{"head": {"vars": []}, "results": {"bindings": []}}'
        with server.lock:  # type: ignore[attr-defined]
            server.active -= 1  # type: ignore[attr-defined]
        send_body(self, body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args) -> None:
        pass


class CountingServer:
    def __init__(self, delay: float = 0.05):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
        self.httpd.daemon_threads = True
        self.httpd.lock = threading.Lock()  # type: ignore[attr-defined]
        self.httpd.active = self.httpd.peak = self.httpd.total = 0  # type: ignore[attr-defined]
        self.httpd.delay = delay  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/query"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FaultyServer:
    """Answers every request with junk, or only after ``delay`` seconds (to trigger timeouts)."""

    def __init__(self, mode: str, delay: float = 5.0):
        handler = type("Handler", (_Handler,), {"mode": mode, "delay": delay})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.release = threading.Event()  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/query"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.release.set()  # type: ignore[attr-defined]
        self.httpd.shutdown()
        self.httpd.server_close()
