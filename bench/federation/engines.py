"""The engines under test, each as a persistent worker process answering one query at a time.

A worker that overruns the per-query timeout is killed (its own process group) and restarted, so one slow
query cannot stall the run.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import urllib3

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclass
class Outcome:
    """What one engine did on one query: rows or an error, wall seconds, and the proxies' counters."""

    rows: int | None = None
    seconds: float | None = None
    error: str | None = None
    requests: int | None = None
    bytes_received: int | None = None
    engine_requests: int | None = None  # what the engine itself reports, to cross-check the proxy
    engine_bytes: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.rows is not None


class Worker:
    """A subprocess speaking JSON lines: {"query", "sources"} in, {"rows", "seconds"} or {"error"} out."""

    def __init__(self, name: str, argv: list[str], cwd: Path) -> None:
        self.name, self.argv, self.cwd = name, argv, cwd
        self.process: subprocess.Popen | None = None
        self._buffer = b""

    def _start(self) -> None:
        self.process = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self._buffer = b""
        ready = self._read_line(120.0)
        if ready is None or not json.loads(ready).get("ready"):
            self.stop()
            raise RuntimeError(f"{self.name} worker did not start")

    def _read_line(self, timeout: float) -> str | None:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    return None
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return None
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def run(self, query: str, sources: list[str], timeout: float) -> Outcome:
        if self.process is None or self.process.poll() is not None:
            self._start()
        assert self.process is not None and self.process.stdin is not None
        started = time.monotonic()
        self.process.stdin.write((json.dumps({"query": query, "sources": sources}) + "\n").encode())
        self.process.stdin.flush()
        line = self._read_line(timeout)
        if line is None:
            crashed = self.process.poll() is not None
            self.stop()
            if crashed:
                return Outcome(error="worker crashed", seconds=time.monotonic() - started)
            return Outcome(error=f"timeout ({timeout:g} s)", seconds=None)
        answer = json.loads(line)
        if "error" in answer:
            return Outcome(error=answer["error"], seconds=answer.get("seconds"))
        return Outcome(
            rows=answer["rows"],
            seconds=answer["seconds"],
            engine_requests=answer.get("engine_requests"),
            engine_bytes=answer.get("engine_bytes"),
        )

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        self.process = None


def comunica_worker() -> Worker:
    if not (HERE / "node_modules" / "@comunica" / "query-sparql").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    return Worker("comunica", ["node", str(HERE / "comunica_worker.js")], HERE)


def ours_worker() -> Worker:
    return Worker("ours", [sys.executable, str(HERE / "ours_worker.py")], ROOT)


def ours_summaries_worker() -> Worker:
    return Worker("ours-summaries", [sys.executable, str(HERE / "ours_worker.py"), "--summaries"], ROOT)


class MergedStore:
    """The lower bound: pyoxigraph over the RDF merge of every source, in memory, no network."""

    def __init__(self, paths: list[Path]) -> None:
        self.store = ox.Store()
        for path in paths:
            self.store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES)

    def run(self, query: str) -> Outcome:
        started = time.perf_counter()
        try:
            result = self.store.query(query)
            rows = len(list(result)) if isinstance(result, ox.QuerySolutions) else 1
        except Exception as exc:  # pyoxigraph raises SyntaxError/OSError/ValueError
            return Outcome(error=str(exc)[:300])
        return Outcome(rows=rows, seconds=time.perf_counter() - started)


class MergedEndpoint:
    """The centralised peer: the same query sent once, over HTTP, to one Oxigraph holding the merge. Its
    connection is kept alive between queries, as our engine keeps its connections to the sources."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = urllib3.PoolManager(retries=False)

    def run(self, query: str, timeout: float) -> Outcome:
        body = urllib.parse.urlencode({"query": query}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"}
        started = time.perf_counter()
        try:
            response = self.http.request("POST", self.url, body=body, headers=headers, timeout=timeout)
            payload = response.data
            if response.status != 200:
                return Outcome(error=f"HTTP {response.status}: {payload[:200]!r}")
            rows = len(json.loads(payload)["results"]["bindings"])
        except (OSError, ValueError, KeyError, urllib3.exceptions.HTTPError) as exc:
            return Outcome(error=str(exc)[:300])
        return Outcome(rows=rows, seconds=time.perf_counter() - started, requests=1, bytes_received=len(payload))
