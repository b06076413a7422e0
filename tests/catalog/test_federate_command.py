"""`manage.py federate` as DESIGN.md specifies it, over real oxigraph endpoints and no database rows."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import OxigraphServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fed")
    (folder / "a.nt").write_text(
        '<http://e/p1> <http://e/label> "Widget" .\n<http://e/p2> <http://e/label> "Gadget" .\n'
    )
    (folder / "b.nt").write_text(
        '<http://e/o1> <http://e/product> <http://e/p1> .\n<http://e/o1> <http://e/price> "5" .\n'
        '<http://e/p1> <http://e/label> "Widget" .\n'
    )
    servers = [OxigraphServer(folder / "a.nt"), OxigraphServer(folder / "b.nt")]
    yield [s.url for s in servers]
    for s in servers:
        s.stop()


def federate(urls, query: str, tmp_path, *extra):
    query_file = tmp_path / "q.rq"
    query_file.write_text(query)
    args = [a for url in urls for a in ("--endpoint", url)]
    return subprocess.run(
        [sys.executable, "manage.py", "federate", *args, *extra, str(query_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_federate_joins_across_endpoints_and_counts_shared_triples_once(endpoints, tmp_path):
    run = federate(
        endpoints,
        "SELECT ?label ?price WHERE { ?o <http://e/product> ?p . ?p <http://e/label> ?label . "
        "?o <http://e/price> ?price }",
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)["results"]["bindings"]
    assert rows == [{"label": {"type": "literal", "value": "Widget"}, "price": {"type": "literal", "value": "5"}}]
    count = federate(endpoints, "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://e/label> ?l }", tmp_path)
    assert json.loads(count.stdout)["results"]["bindings"][0]["n"]["value"] == "2"


def test_federate_writes_csv_and_ntriples(endpoints, tmp_path):
    csv = federate(endpoints, "SELECT ?l WHERE { <http://e/p2> <http://e/label> ?l }", tmp_path, "--format", "csv")
    assert csv.stdout.splitlines() == ["l", "Gadget"]
    construct = federate(
        endpoints,
        "CONSTRUCT { ?p a <http://e/Thing> } WHERE { ?p <http://e/label> ?l }",
        tmp_path,
        "--format",
        "ntriples",
    )
    assert sorted(construct.stdout.splitlines()) == [
        "<http://e/p1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://e/Thing> .",
        "<http://e/p2> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://e/Thing> .",
    ]


def test_federate_exits_2_on_a_syntax_error(endpoints, tmp_path):
    run = federate(endpoints, "SELECT ?x WHERE { ?x ", tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip()
    assert run.stdout == ""
