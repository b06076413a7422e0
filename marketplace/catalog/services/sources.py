"""One dataset as a data source: plain SELECTs for summaries and health checks, and the federation engine's
source object (hosted store or remote endpoint) that buyers' queries and engine summaries go through."""

import json
import time
from dataclasses import dataclass

import pyoxigraph as ox
import requests
from django.conf import settings

from sparql import HostedStore, RemoteEndpoint, Source

from ..models import Dataset
from . import stores
from .safety import check_public_url

MAX_RESPONSE_BYTES = 50 * 1024 * 1024


class SourceUnavailable(RuntimeError):
    pass


def _plain(term) -> str:
    if isinstance(term, ox.Literal):
        return term.value
    return getattr(term, "value", str(term))


def dataset_select(dataset: Dataset, query: str) -> list[dict[str, str]]:
    if dataset.kind == Dataset.Kind.HOSTED:
        if dataset.store_path is None:
            return []
        store = stores.open_read_only(dataset.store_path)
        solutions = store.query(query)
        names = [v.value for v in solutions.variables]
        return [{n: _plain(s[n]) for n in names if s[n] is not None} for s in solutions]
    return remote_select(dataset, query)


def remote_select(dataset: Dataset, query: str, timeout: float | None = None) -> list[dict[str, str]]:
    check_public_url(dataset.endpoint_url, allow_private=settings.ALLOW_PRIVATE_ENDPOINTS)
    auth = (dataset.endpoint_username, dataset.endpoint_password) if dataset.endpoint_username else None
    try:
        response = requests.post(
            dataset.endpoint_url,
            data={"query": query},
            headers={"Accept": "application/sparql-results+json"},
            auth=auth,
            timeout=timeout or settings.REMOTE_ENDPOINT_TIMEOUT,
            allow_redirects=False,
            stream=True,
        )
        body = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise SourceUnavailable(f"{dataset.endpoint_url} did not answer: {exc.__class__.__name__}") from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise SourceUnavailable(f"{dataset.endpoint_url} answered more than {MAX_RESPONSE_BYTES} bytes.")
    if response.status_code != 200:
        raise SourceUnavailable(f"{dataset.endpoint_url} answered HTTP {response.status_code}.")
    try:
        bindings = json.loads(body)["results"]["bindings"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceUnavailable(f"{dataset.endpoint_url} did not answer SPARQL JSON results.") from exc
    return [{name: cell.get("value", "") for name, cell in row.items()} for row in bindings]


@dataclass
class Health:
    healthy: bool
    message: str
    latency_ms: int | None


def remote_health(dataset: Dataset) -> Health:
    started = time.monotonic()
    try:
        remote_select(dataset, "SELECT * WHERE { ?s ?p ?o } LIMIT 1", timeout=10)
    except Exception as exc:  # any failure is a health verdict, shown to the publisher
        return Health(False, str(exc)[:500], None)
    return Health(True, "Answered a SPARQL query.", int((time.monotonic() - started) * 1000))


def engine_source(dataset: Dataset, *, name: str) -> Source:
    """The engine's source for a dataset; a remote URL is checked again (DNS may have changed) and raises
    UnsafeInput when it now points at a private address. A hosted store that cannot open raises SourceError."""
    if dataset.kind == Dataset.Kind.HOSTED:
        return HostedStore(dataset.store_path, name=name)
    check_public_url(dataset.endpoint_url, allow_private=settings.ALLOW_PRIVATE_ENDPOINTS)
    auth = (dataset.endpoint_username, dataset.endpoint_password) if dataset.endpoint_username else None
    return RemoteEndpoint(
        dataset.endpoint_url,
        name=name,
        auth=auth,
        timeout=settings.REMOTE_ENDPOINT_TIMEOUT,
        max_response_bytes=settings.REMOTE_ENDPOINT_MAX_BYTES,
    )
