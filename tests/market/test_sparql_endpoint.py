"""/sparql (free catalog) and /sparql/data (buys up to a budget): the protocol, content negotiation, and the
three clients SPARQLWrapper, rdflib's SPARQLStore and Comunica against a live server."""

import base64
import json
import subprocess
import time
import urllib.error
from pathlib import Path

import pytest
from SPARQLWrapper import JSON, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from marketplace.money.services import wallet_balance

from .conftest import EX, SECRETS

COMUNICA_DIR = Path(__file__).parent / "comunica"
NAMES = f"SELECT ?p ?name WHERE {{ ?p <{EX}name> ?name }}"
VOID_DATASETS = (
    "SELECT ?d ?title WHERE { ?d a <http://rdfs.org/ns/void#Dataset> ; <http://purl.org/dc/terms/title> ?title }"
)


@pytest.mark.django_db
def test_catalog_answers_get_post_form_and_post_direct(market, client):
    expected = {"Shop", "Reviews", "Labels"}
    got = client.get("/sparql", {"query": VOID_DATASETS}, HTTP_ACCEPT="application/sparql-results+json")
    assert {b["title"]["value"] for b in got.json()["results"]["bindings"]} == expected
    form = client.post("/sparql", {"query": VOID_DATASETS}, HTTP_ACCEPT="application/sparql-results+json")
    assert {b["title"]["value"] for b in form.json()["results"]["bindings"]} == expected
    direct = client.post(
        "/sparql",
        VOID_DATASETS,
        content_type="application/sparql-query",
        HTTP_ACCEPT="application/sparql-results+json",
    )
    assert {b["title"]["value"] for b in direct.json()["results"]["bindings"]} == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "content_type", "marker"),
    [
        ("application/sparql-results+xml", "application/sparql-results+xml", b"<sparql"),
        ("text/csv", "text/csv", b"d,title"),
        ("text/tab-separated-values", "text/tab-separated-values", b"?d\t?title"),
        (
            "text/html;q=0.9, application/sparql-results+json;q=1.0",
            "application/sparql-results+json",
            b'"bindings"',
        ),
    ],
)
def test_catalog_negotiates_the_result_format(market, client, accept, content_type, marker):
    response = client.get("/sparql", {"query": VOID_DATASETS}, HTTP_ACCEPT=accept)
    assert response.status_code == 200 and response["Content-Type"].startswith(content_type)
    assert marker in response.content


@pytest.mark.django_db
def test_catalog_describes_price_models_and_graphs_in_turtle(market, client):
    query = "CONSTRUCT { ?d ?p ?o } WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> ; ?p ?o }"
    response = client.get("/sparql", {"query": query}, HTTP_ACCEPT="text/turtle")
    assert response["Content-Type"].startswith("text/turtle") and b"dcat#" in response.content
    kinds = client.get(
        "/sparql",
        {
            "query": "SELECT ?k WHERE { ?d ?pm ?m . ?m ?kind ?k FILTER(STRENDS(STR(?kind), 'market#kind')) }",
            "format": "json",
        },
    ).json()
    assert {b["k"]["value"].rsplit("#", 1)[1] for b in kinds["results"]["bindings"]} == {
        "per_triple",
        "per_row",
        "access_fee",
    }
    assert client.get("/sparql", {"query": VOID_DATASETS}, HTTP_ACCEPT="image/png").status_code == 406
    assert client.get("/sparql", {"query": "SELEC"}).status_code == 400
    assert client.get("/sparql").status_code == 400


@pytest.mark.django_db
def test_data_endpoint_needs_a_token_and_buys_within_budget(market, buyer, token_client):
    assert token_client.__class__  # noqa: B018 (fixture creates the token)
    from rest_framework.test import APIClient

    assert APIClient().get("/sparql/data", {"query": NAMES}).status_code == 401
    before = wallet_balance(user=buyer)
    response = token_client.get(
        "/sparql/data", {"query": NAMES, "budget": "1000"}, HTTP_ACCEPT="application/sparql-results+json"
    )
    assert response.status_code == 200, response.content
    assert sorted(b["name"]["value"] for b in json.loads(response.content)["results"]["bindings"]) == sorted(SECRETS)
    assert wallet_balance(user=buyer) == before - int(response["X-Price"])
    assert int(response["X-Price"]) > 0
    basic = base64.b64encode(f"carol:{token_client.token}".encode()).decode()
    again = APIClient().get(
        "/sparql/data",
        {"query": NAMES, "budget": "1000", "format": "csv"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert again.status_code == 200 and again["Content-Type"].startswith("text/csv")


@pytest.mark.django_db
def test_data_endpoint_ask_is_bought_like_any_answer(market, token_client):
    query = f'ASK {{ ?p <{EX}name> "{SECRETS[1]}" }}'
    assert token_client.get("/sparql/data", {"query": query}).status_code == 402
    response = token_client.get(
        "/sparql/data", {"query": query, "budget": "100"}, HTTP_ACCEPT="application/sparql-results+json"
    )
    assert response.status_code == 200 and json.loads(response.content)["boolean"] is True


@pytest.fixture
def live_market(transactional_db, market, buyer, live_server, token_client):
    return {"url": live_server.url, "token": token_client.token, "buyer": buyer}


def test_sparqlwrapper_reads_the_catalog_and_buys_data(live_market):
    catalog = SPARQLWrapper(live_market["url"] + "/sparql")
    catalog.setQuery(VOID_DATASETS)
    catalog.setReturnFormat(JSON)
    titles = {b["title"]["value"] for b in catalog.query().convert()["results"]["bindings"]}
    assert titles == {"Shop", "Reviews", "Labels"}

    data = SPARQLWrapper(live_market["url"] + "/sparql/data")
    data.setQuery(NAMES)
    data.setReturnFormat(JSON)
    data.addCustomHttpHeader("Authorization", f"Token {live_market['token']}")
    with pytest.raises((SPARQLWrapperException, urllib.error.HTTPError)) as refused:
        data.query()  # no budget
    assert getattr(refused.value, "code", 402) == 402
    data.addCustomHttpHeader("X-Budget", "1000")
    names = sorted(b["name"]["value"] for b in data.query().convert()["results"]["bindings"])
    assert names == sorted(SECRETS)


def test_rdflib_sparqlstore_reads_the_catalog_and_buys_data(live_market):
    from rdflib import Graph
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    catalog = Graph(store=SPARQLStore(live_market["url"] + "/sparql"))
    assert {str(row.title) for row in catalog.query(VOID_DATASETS)} == {"Shop", "Reviews", "Labels"}
    headers = {"Authorization": f"Token {live_market['token']}", "X-Budget": "1000"}
    data = Graph(store=SPARQLStore(live_market["url"] + "/sparql/data", headers=headers))
    assert sorted(str(row.name) for row in data.query(NAMES)) == sorted(SECRETS)
    posted = Graph(store=SPARQLStore(live_market["url"] + "/sparql/data", headers=headers, method="POST"))
    assert len(list(posted.query(NAMES))) == 4


@pytest.fixture(scope="session")
def comunica():
    binary = COMUNICA_DIR / "node_modules" / ".bin" / "comunica-sparql"
    if not binary.exists():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=COMUNICA_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci failed in {COMUNICA_DIR}:\n{done.stderr[-2000:]}")
    return binary


def _comunica(binary, source: str, query: str, *extra: str) -> list[dict]:
    done = subprocess.run(
        [str(binary), f"sparql@{source}", query, "-t", "application/sparql-results+json", *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)["results"]["bindings"]


def test_comunica_reads_the_catalog_and_buys_data(live_market, comunica):
    rows = _comunica(comunica, live_market["url"] + "/sparql", VOID_DATASETS)
    assert {r["title"]["value"] for r in rows} == {"Shop", "Reviews", "Labels"}
    before = wallet_balance(user=live_market["buyer"])
    # Comunica takes HTTP Basic credentials per source, in the source URL.
    authed = live_market["url"].replace("http://", f"http://carol:{live_market['token']}@")
    rows = _comunica(comunica, authed + "/sparql/data?budget=1000", NAMES)
    assert sorted(r["name"]["value"] for r in rows) == sorted(SECRETS)
    assert wallet_balance(user=live_market["buyer"]) < before


@pytest.mark.django_db
def test_catalog_queries_are_stopped_past_the_time_limit_and_the_endpoint_goes_on(market, client, settings):
    # six copies of the catalog joined: days of work for Oxigraph, which cannot be interrupted in process
    settings.MARKET_CATALOG_TIME_LIMIT = 1.0
    product = " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(6))
    started = time.monotonic()
    slow = client.get("/sparql", {"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ {product} }}"})
    assert slow.status_code == 504 and b"longer than this endpoint allows" in slow.content
    assert time.monotonic() - started < 5
    assert client.get("/sparql", {"query": VOID_DATASETS}, HTTP_ACCEPT="text/csv").status_code == 200


@pytest.mark.django_db
def test_catalog_answers_past_the_size_limit_are_refused(market, client, settings):
    settings.MARKET_CATALOG_MAX_BYTES = 2_000
    big = client.get("/sparql", {"query": "SELECT * WHERE { ?s ?p ?o }"}, HTTP_ACCEPT="text/csv")
    assert big.status_code == 413 and b"add a LIMIT" in big.content
    small = client.get("/sparql", {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"}, HTTP_ACCEPT="text/csv")
    assert small.status_code == 200 and len(small.content.splitlines()) == 4


@pytest.mark.django_db
def test_catalog_queries_past_the_memory_limit_are_refused(market, client, settings):
    settings.MARKET_CATALOG_MAX_MEMORY = 64_000_000
    product = " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(4))
    hungry = client.get("/sparql", {"query": f"SELECT * WHERE {{ {product} }} ORDER BY ?o0 ?o1 ?o2 ?o3"})
    assert hungry.status_code == 413, hungry.content


def _titles(client) -> set[str]:
    response = client.get("/sparql", {"query": VOID_DATASETS}, HTTP_ACCEPT="application/sparql-results+json")
    return {b["title"]["value"] for b in response.json()["results"]["bindings"]}


@pytest.mark.django_db(transaction=True)  # a kept catalog is only used outside transactions, as in production
def test_the_catalog_is_kept_until_it_changes(market, client, django_assert_max_num_queries, monkeypatch):
    from marketplace.catalog.models import Dataset
    from marketplace.market import catalog_graph

    assert _titles(client) == {"Shop", "Reviews", "Labels"}
    with django_assert_max_num_queries(1):  # the catalog version only
        assert _titles(client) == {"Shop", "Reviews", "Labels"}
    Dataset.objects.filter(pk=market["shop"].pk).update(title="Shop, renamed")  # a raw update: the trigger
    assert _titles(client) == {"Shop, renamed", "Reviews", "Labels"}
    # what the version does not cover (tags, the model hub) is read again past STORE_TTL
    monkeypatch.setattr(catalog_graph, "STORE_TTL", 0.0)
    with django_assert_max_num_queries(50) as captured:
        _titles(client)
    assert len(captured) > 1
