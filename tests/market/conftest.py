"""Fixtures of the query-market tests: real `oxigraph serve` endpoints and a hosted store as providers,
publishers with price models, funded buyers, and helpers to run a query to its quote."""

import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest

from tests.conftest import wait_until
from tests.servers import OxigraphServer, free_port, send_body

# The worker process reads these from its environment: set before any worker starts.
os.environ.setdefault("ALLOW_PRIVATE_ENDPOINTS", "1")
if "RDF_STORE_ROOT" not in os.environ:
    _OWN_STORE_ROOT = tempfile.mkdtemp(prefix="market-stores-")
    os.environ["RDF_STORE_ROOT"] = _OWN_STORE_ROOT
else:
    _OWN_STORE_ROOT = None

EX = "http://example.org/shop/"
SECRETS = ["Widget-SECRET-7731", "Gadget-SECRET-4410", "Doohickey-SECRET-0923", "Sprocket-SECRET-5512"]

SHOP_NT = (
    "\n".join(
        [f"<{EX}p{i}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}Product> ." for i in range(1, 5)]
        + [f'<{EX}p{i}> <{EX}name> "{SECRETS[i - 1]}" .' for i in range(1, 5)]
        + [f'<{EX}p{i}> <{EX}price> "{10 * i}"^^<http://www.w3.org/2001/XMLSchema#integer> .' for i in range(1, 5)]
    )
    + "\n"
)
REVIEWS_NT = (
    "\n".join(
        [f"<{EX}r{i}> <{EX}about> <{EX}p{i}> ." for i in range(1, 4)]
        + [f'<{EX}r{i}> <{EX}rating> "{i + 2}"^^<http://www.w3.org/2001/XMLSchema#integer> .' for i in range(1, 4)]
    )
    + "\n"
)
# The hosted dataset repeats two of the shop's names: those rows have two alternative derivations.
LABELS_NT = (
    "\n".join(
        [f'<{EX}p{i}> <{EX}name> "{SECRETS[i - 1]}" .' for i in (1, 2)]
        + [f'<{EX}p{i}> <{EX}colour> "colour-SECRET-{i}" .' for i in range(1, 5)]
    )
    + "\n"
)


@pytest.fixture(autouse=True)
def _market_settings(settings):
    settings.ALLOW_PRIVATE_ENDPOINTS = True
    settings.RDF_STORE_ROOT = Path(os.environ["RDF_STORE_ROOT"])
    settings.MARKET_QUOTES_PER_HOUR = 1000
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _server(tmp_path_factory, name: str, data: str) -> OxigraphServer:
    path = tmp_path_factory.mktemp(name) / f"{name}.nt"
    path.write_text(data)
    return OxigraphServer(path)


@pytest.fixture(scope="session")
def shop_server(tmp_path_factory):
    server = _server(tmp_path_factory, "shop", SHOP_NT)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def reviews_server(tmp_path_factory):
    server = _server(tmp_path_factory, "reviews", REVIEWS_NT)
    yield server
    server.stop()


class SlowEndpoint:
    """A SPARQL endpoint that takes `delay` seconds per request and answers 'true' / no rows; with `fail` set,
    it answers ASK 'true' but fails every SELECT with an error page that echoes the query (as some servers do)."""

    def __init__(self, delay: float = 2.0, fail: bool = False):
        self.delay, self.fail = delay, fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, query: str):
                time.sleep(outer.delay)
                is_ask = query.lstrip().upper().startswith("ASK")
                if outer.fail and not is_ask:
                    body = f"Internal error while evaluating: {query}".encode()
                    send_body(self, body, status=500, content_type="text/plain")
                    return
                doc = {"head": {}, "boolean": True} if is_ask else {"head": {"vars": []}, "results": {"bindings": []}}
                send_body(self, json.dumps(doc).encode())

            def do_GET(self):
                from urllib.parse import parse_qs, urlsplit

                self._answer(parse_qs(urlsplit(self.path).query).get("query", [""])[0])

            def do_POST(self):
                from urllib.parse import parse_qs

                length = int(self.headers.get("Content-Length", 0))
                self._answer(parse_qs(self.rfile.read(length).decode()).get("query", [""])[0])

        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.port}/query"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def slow_endpoint():
    server = SlowEndpoint(delay=1.5)
    yield server
    server.stop()


@pytest.fixture
def failing_endpoint():
    server = SlowEndpoint(delay=0.0, fail=True)
    yield server
    server.stop()


def make_hosted_store(dataset, data: str) -> None:
    from django.conf import settings

    version = uuid.uuid4().hex[:12]
    path = Path(settings.RDF_STORE_ROOT) / str(dataset.pk) / version
    path.mkdir(parents=True)
    store = ox.Store(str(path))
    store.load(data.encode(), format=ox.RdfFormat.N_TRIPLES)
    store.flush()
    del store
    dataset.store_version = version
    dataset.save(update_fields=["store_version"])


@pytest.fixture
def publishers(db, make_user):
    from marketplace.accounts.services import organisation_apply, organisation_approve

    out = {}
    for username, name in (("alice", "Acme Data"), ("bob", "Beta Reviews")):
        owner = make_user(username)
        org = organisation_apply(user=owner, name=name)
        organisation_approve(organisation=org, by=None)
        org.owner = owner
        out[org.slug] = org
    return out


def make_remote(publisher, title: str, url: str):
    from marketplace.catalog.models import Dataset

    return Dataset.objects.create(
        publisher=publisher,
        title=title,
        slug=title.lower().replace(" ", "-"),
        kind=Dataset.Kind.REMOTE,
        endpoint_url=url,
        status=Dataset.Status.APPROVED,
    )


def make_hosted(publisher, title: str, data: str):
    from marketplace.catalog.models import Dataset

    dataset = Dataset.objects.create(
        publisher=publisher,
        title=title,
        slug=title.lower().replace(" ", "-"),
        kind=Dataset.Kind.HOSTED,
        status=Dataset.Status.APPROVED,
    )
    make_hosted_store(dataset, data)
    return dataset


def set_price(dataset, kind: str, **fields):
    from marketplace.market.services.price_models import price_model_set

    owner = dataset.publisher.memberships.first().user
    return price_model_set(user=owner, dataset=dataset, kind=kind, **fields)


@pytest.fixture
def market(publishers, shop_server, reviews_server):
    """Three priced datasets: shop (remote, 1 per triple), reviews (remote, 2 per row), labels (hosted, fee 7)."""
    from decimal import Decimal

    acme, beta = publishers["acme-data"], publishers["beta-reviews"]
    shop = make_remote(acme, "Shop", shop_server.url)
    reviews = make_remote(beta, "Reviews", reviews_server.url)
    labels = make_hosted(beta, "Labels", LABELS_NT)
    set_price(shop, "per_triple", rate=Decimal("1"))
    set_price(reviews, "per_row", rate=Decimal("2"))
    set_price(labels, "access_fee", access_fee=7)
    return {"shop": shop, "reviews": reviews, "labels": labels, "acme": acme, "beta": beta}


@pytest.fixture
def buyer(make_user):
    from marketplace.money.services import demo_credit

    user = make_user("carol")
    demo_credit(user=user, amount=10_000)
    return user


@pytest.fixture
def token_client(buyer):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    token = Token.objects.create(user=buyer)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.token = token.key
    return client


def ask(buyer, query: str, **kwargs):
    """Run a query to its quote in this process (the worker path is tested separately)."""
    from marketplace.market.services.queries import job_create, job_run

    job = job_create(buyer=buyer, query=query, run=False, **kwargs)
    return job_run(job_id=job.pk)


def wait_for_status(job_id, statuses, timeout=60.0):
    from marketplace.market.models import QueryJob

    def done():
        job = QueryJob.objects.get(pk=job_id)
        return job if job.status in statuses else None

    return wait_until(done, timeout=timeout, message=f"query job in {statuses}")


@pytest.fixture(scope="session", autouse=True)
def _remove_own_store_root():
    yield
    if _OWN_STORE_ROOT:
        shutil.rmtree(_OWN_STORE_ROOT, ignore_errors=True)
