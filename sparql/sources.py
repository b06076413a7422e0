"""Sources behind one interface: remote SPARQL endpoints and hosted pyoxigraph stores."""

from __future__ import annotations

import functools
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
import urllib3

from .errors import SourceError
from .terms import Term, term_from_json


class _ResendOnDrop(urllib3.Retry):
    """A failed request is the source's failure, with one exception: a kept-alive connection that the endpoint
    closed as the request went out is tried once more on a new one (a SPARQL query is safe to send again).
    A timeout is never retried: a slow endpoint is not waited for twice."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if isinstance(error, urllib3.exceptions.TimeoutError):  # a failed connect too (NewConnectionError)
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)


# Redirects are not followed: the marketplace checks an endpoint's address before it calls it, and a redirect
# could lead to an address that was never checked (a private one); the 3xx answer becomes an error naming
# the source. Connection and read errors get the one resend above; statuses none.
RESEND_ON_DROP = _ResendOnDrop(total=1, connect=0, read=1, status=0, redirect=False, allowed_methods=None)
# An answer larger than this is refused (RemoteEndpoint's default; the market sets its own).
MAX_RESPONSE_BYTES = 256 * 2**20


@dataclass
class SourceCounters:
    """What one source cost during one query."""

    requests: int = 0
    bytes_received: int = 0
    rows: int = 0


@dataclass
class SelectAnswer:
    variables: list[str]
    rows: list[dict[str, Term]] = field(default_factory=list)
    nbytes: int = 0


def _new_http_pool() -> urllib3.PoolManager:
    # maxsize: idle connections kept per endpoint; several queries of one process may use it at once
    return urllib3.PoolManager(num_pools=256, maxsize=32, retries=RESEND_ON_DROP)


# One pool of keep-alive connections per process, shared by every RemoteEndpoint: a federation is built per
# query, and a new connection to each endpoint per query costs about as much as a fast request itself. A
# forked child (a Celery worker) starts with a pool of its own, never with its parent's sockets.
_HTTP = _new_http_pool()


def _reset_http_pool() -> None:
    global _HTTP
    _HTTP = _new_http_pool()


os.register_at_fork(after_in_child=_reset_http_pool)


def http_pool() -> urllib3.PoolManager:
    return _HTTP


@functools.lru_cache(maxsize=32)
def _timeout(seconds: float) -> urllib3.Timeout:
    # shared: a federation over 50 endpoints is built per query, and these objects are not free
    return urllib3.Timeout(connect=seconds, read=seconds)


class Source:
    """A dataset that answers SPARQL SELECT and ASK over its default graph."""

    name: str

    def select(self, query: str) -> SelectAnswer:  # pragma: no cover - interface
        raise NotImplementedError

    def ask(self, query: str) -> tuple[bool, int]:  # pragma: no cover - interface
        raise NotImplementedError


class RemoteEndpoint(Source):
    """A SPARQL 1.1 Protocol endpoint; at most ``max_concurrent`` requests in flight to it."""

    def __init__(
        self,
        url: str,
        name: str | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float = 30.0,
        max_concurrent: int = 4,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.url = url
        self.name = name or url
        self.auth = auth
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._timeout = _timeout(timeout)
        self._headers = {
            "Accept": "application/sparql-results+json",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        if auth is not None:
            self._headers.update(urllib3.make_headers(basic_auth=f"{auth[0]}:{auth[1]}"))
        # Labels of blank nodes are stable per endpoint (Oxigraph, Virtuoso): one local node per label.
        self._bnodes: dict[str, ox.BlankNode] = {}
        self._bnode_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RemoteEndpoint({self.url!r}, name={self.name!r})"

    def _request(self, query: str) -> bytes:
        encoded = urlencode({"query": query})
        try:
            # urllib3 directly: requests costs about a millisecond of CPU per request on top (environment
            # lookups, hooks), which a bound join with hundreds of small requests feels.
            # Always POST (SPARQL 1.1 Protocol, URL-encoded): no URL length cap, and urllib3 checks a GET's
            # URL character by character in Python, a few tenths of a millisecond for a bound join's VALUES.
            with self._slots:
                response = http_pool().request(
                    "POST",
                    self.url,
                    body=encoded.encode(),
                    headers=self._headers,
                    timeout=self._timeout,
                    retries=RESEND_ON_DROP,
                    preload_content=False,
                )
                body = self._read_body(response)
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            # after its retries urllib3 reports the cause of a failed request as the MaxRetryError's reason;
            # a refused connection is a subclass of its timeouts, but no timeout
            reason = getattr(exc, "reason", None) or exc
            if isinstance(reason, urllib3.exceptions.NewConnectionError):
                raise SourceError(self.name, "unreachable: the connection was refused or failed") from None
            if isinstance(reason, (urllib3.exceptions.TimeoutError, TimeoutError)):
                raise SourceError(self.name, f"timed out after {self.timeout} s") from None
            raise SourceError(self.name, f"unreachable: {reason.__class__.__name__}") from None
        if response.status != 200:
            raise SourceError(self.name, f"HTTP {response.status}: {body[:200]!r}")
        return body

    def _read_body(self, response: urllib3.BaseHTTPResponse) -> bytes:
        """The body, up to max_response_bytes: an endpoint answering without end must not fill the memory."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.stream(1 << 16):
            size += len(chunk)
            if size > self.max_response_bytes:
                response.close()  # the rest stays unread: this connection is closed, its pool slot given back
                response.release_conn()
                raise SourceError(self.name, f"answered more than {self.max_response_bytes:,} bytes")
            chunks.append(chunk)
        response.release_conn()
        return b"".join(chunks)

    def _parse(self, body: bytes) -> dict:
        try:
            doc = json.loads(body)
        except ValueError:
            raise SourceError(self.name, f"malformed results: {body[:80]!r}") from None
        if not isinstance(doc, dict):
            raise SourceError(self.name, "malformed results: not a JSON object")
        return doc

    def select(self, query: str) -> SelectAnswer:
        body = self._request(query)
        doc = self._parse(body)
        try:
            variables = list(doc["head"]["vars"])
            rows = []
            with self._bnode_lock:
                for binding in doc["results"]["bindings"]:
                    rows.append({k: term_from_json(v, self._bnodes) for k, v in binding.items()})
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError(self.name, f"malformed results: {exc!r}") from None
        return SelectAnswer(variables, rows, len(body))

    def ask(self, query: str) -> tuple[bool, int]:
        body = self._request(query)
        doc = self._parse(body)
        value = doc.get("boolean")
        if not isinstance(value, bool):
            raise SourceError(self.name, "malformed ASK result")
        return value, len(body)


class HostedStore(Source):
    """A dataset hosted by the marketplace: an embedded pyoxigraph store opened from a directory."""

    def __init__(self, location: str | Path | ox.Store, name: str | None = None) -> None:
        if isinstance(location, ox.Store):
            self.store = location
            self.name = name or "hosted"
        else:
            try:
                self.store = ox.Store.read_only(str(location))
            except OSError as exc:
                raise SourceError(name or str(location), f"cannot open store: {exc}") from None
            self.name = name or str(location)

    def __repr__(self) -> str:
        return f"HostedStore(name={self.name!r})"

    def select(self, query: str) -> SelectAnswer:
        solutions = None
        try:
            solutions = self.store.query(query)
            variables = [v.value for v in solutions.variables]
            rows = []
            nbytes = 0
            for solution in solutions:
                row = {}
                for name in variables:
                    value = solution[name]
                    if value is not None:
                        row[name] = value
                        nbytes += len(str(value))
                rows.append(row)
        except (SyntaxError, OSError, ValueError) as exc:
            raise SourceError(self.name, str(exc)) from None
        finally:
            # dropped here, on the thread that made them: an error's traceback would keep this frame alive
            # until it is freed on another thread, where pyoxigraph refuses to drop them
            solutions = None  # noqa: F841
        return SelectAnswer(variables, rows, nbytes)

    def stream(self, query: str):
        """The rows of a SELECT one at a time (for reading a whole store without holding it)."""
        try:
            solutions = self.store.query(query)
            variables = [v.value for v in solutions.variables]
            for solution in solutions:
                yield {name: solution[name] for name in variables if solution[name] is not None}
        except (SyntaxError, OSError, ValueError) as exc:
            raise SourceError(self.name, str(exc)) from None

    def ask(self, query: str) -> tuple[bool, int]:
        try:
            return bool(self.store.query(query)), 5
        except (SyntaxError, OSError, ValueError) as exc:
            raise SourceError(self.name, str(exc)) from None
