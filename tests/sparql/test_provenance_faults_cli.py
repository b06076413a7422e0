"""Provenance on hand-made cases, faults naming the source, partial answers, syntax errors, the CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import URIRef

from sparql import Federation, HostedStore, QueryCancelled, QuerySyntaxError, RemoteEndpoint, SourceError
from sparql.cli import main
from sparql.results import serialize
from tests.servers import CountingServer, OxigraphServer, free_port
from tests.shared import shared_path

EX = "http://example.org/"
P = f"PREFIX : <{EX}>\n"


def _store(lines: list[str]) -> ox.Store:
    store = ox.Store()
    store.load("\n".join(lines).encode(), format=ox.RdfFormat.N_TRIPLES)
    return store


A = [f"<{EX}alice> <{EX}knows> <{EX}bob> .", f'<{EX}alice> <{EX}name> "Alice" .']
B = [f"<{EX}alice> <{EX}knows> <{EX}bob> .", f'<{EX}bob> <{EX}name> "Bob" .']


@pytest.fixture(scope="module")
def pair():
    return Federation([HostedStore(_store(A), name="a"), HostedStore(_store(B), name="b")])


def test_triple_held_by_two_sources_gives_two_alternative_derivations(pair):
    result = pair.query(P + "SELECT ?x WHERE { :alice :knows ?x }")
    assert len(result.rows) == 1  # the merge counts the shared triple once
    derivations = result.provenance[0]
    assert sorted(d.sources[0] for d in derivations) == ["a", "b"]
    triple = ox.Triple(ox.NamedNode(EX + "alice"), ox.NamedNode(EX + "knows"), ox.NamedNode(EX + "bob"))
    assert all(list(d.triples.values()) == [[triple]] for d in derivations)


def test_join_across_sources_names_each_source_per_pattern(pair):
    result = pair.query(P + "SELECT ?n WHERE { :alice :name ?an ; :knows ?x . ?x :name ?n }")
    assert [r["n"].value for r in result.rows] == ["Bob"]
    patterns = result.patterns
    name_of_friend = next(i for i, p in enumerate(patterns) if p.startswith("?x"))
    for derivation in result.provenance[0]:
        assert derivation.sources[name_of_friend] == "b"
    used = result.triples_used(0)
    assert set(used) == {"a", "b"}
    assert any(t.object == ox.Literal("Bob") for t in used["b"])


def test_provenance_is_in_the_json_serialisation(pair):
    result = pair.query(P + "SELECT ?x WHERE { :alice :knows ?x }")
    doc = json.loads(serialize(result, "json", provenance=True))
    assert doc["results"]["bindings"][0]["x"]["value"] == EX + "bob"
    assert {d["sources"]["0"] for d in doc["provenance"][0]} == {"a", "b"}


def test_syntax_error_is_typed_with_the_parsers_message(pair):
    with pytest.raises(QuerySyntaxError) as info:
        pair.query("SELECT ?x WHERE { ?x ")
    assert info.value.message


def test_dead_endpoint_error_names_the_source(pair):
    dead = RemoteEndpoint(f"http://127.0.0.1:{free_port()}/query", name="dead", timeout=2)
    fed = Federation([HostedStore(_store(A), name="a"), dead])
    with pytest.raises(SourceError) as info:
        fed.query(P + "SELECT ?x WHERE { :alice :knows ?x }")
    assert info.value.source == "dead"
    assert "dead" in str(info.value)


def test_partial_answer_keeps_rows_not_needing_the_failed_source():
    dead = RemoteEndpoint(f"http://127.0.0.1:{free_port()}/query", name="dead", timeout=2)
    fed = Federation([HostedStore(_store(A), name="a"), dead])
    result = fed.query(P + "SELECT ?x WHERE { :alice :knows ?x }", partial=True)
    assert [r["x"].value for r in result.rows] == [EX + "bob"]
    assert result.partial and "dead" in result.failed_sources


def test_timeout_error_names_the_source(slow_server):
    fed = Federation([HostedStore(_store(A), name="a"), RemoteEndpoint(slow_server.url, name="slow", timeout=0.5)])
    with pytest.raises(SourceError) as info:
        fed.query(P + "SELECT ?x WHERE { ?s :knows ?x }")
    assert info.value.source == "slow" and "timed out" in info.value.reason


def test_malformed_results_error_names_the_source(junk_server):
    fed = Federation([HostedStore(_store(A), name="a"), RemoteEndpoint(junk_server.url, name="junk")])
    with pytest.raises(SourceError) as info:
        fed.query(P + "SELECT ?x WHERE { ?s :knows ?x }")
    assert info.value.source == "junk" and "malformed" in info.value.reason
    result = fed.query(P + "SELECT ?x WHERE { ?s :knows ?x }", partial=True)
    assert len(result.rows) == 1 and result.failed_sources.keys() == {"junk"}


def test_requests_to_one_endpoint_are_capped_but_run_in_parallel():
    many = [f"<{EX}s{i}> <{EX}knows> <{EX}o{i}> ." for i in range(12)]
    server = CountingServer(delay=0.1)
    try:
        endpoint = RemoteEndpoint(server.url, name="counting", max_concurrent=2)
        fed = Federation([HostedStore(_store(many), name="a"), endpoint], batch_size=1, max_workers=8)
        result = fed.query(P + "SELECT ?s ?n WHERE { ?s :knows ?o . OPTIONAL { ?o :name ?n } }")
        assert len(result.rows) == 12
        assert result.stats["per_source"]["counting"]["requests"] >= 12
        assert server.httpd.peak == 2
    finally:
        server.stop()


def test_cancelled_query_raises():
    event = threading.Event()
    event.set()
    fed = Federation([HostedStore(_store(A), name="a")], cancel_event=event)
    with pytest.raises(QueryCancelled):
        fed.query(P + "SELECT ?x WHERE { ?s :knows ?x }")


def test_progress_reports_requests(pair):
    seen = []
    pair.query(P + "SELECT ?x WHERE { ?s :knows ?x }", progress=seen.append)
    assert seen and seen[-1]["phase"] == "done"
    assert any(e.get("sources_contacted") for e in seen)
    # the answer is computed from the fetched triples after the last request: said before it starts
    evaluating = seen[-2]
    assert evaluating["phase"] == "evaluating" and evaluating["triples"] > 0
    assert evaluating["requests"] == seen[-1]["requests"] and evaluating["sources_contacted"]


def test_hosted_store_opens_an_oxigraph_directory(tmp_path):
    data = tmp_path / "a.nt"
    data.write_text("\n".join(A) + "\n")
    server = OxigraphServer(location=tmp_path / "db", data=data)  # loads the directory with `oxigraph load`
    server.stop()
    fed = Federation([HostedStore(tmp_path / "db", name="hosted"), HostedStore(_store(B), name="b")])
    result = fed.query(P + "SELECT ?n WHERE { :alice :knows ?x . ?x :name ?n }")
    assert [r["n"].value for r in result.rows] == ["Bob"]


@pytest.fixture(scope="module")
def cli_endpoints(tmp_path_factory):
    servers = []
    for i, lines in enumerate((A, B)):
        root = tmp_path_factory.mktemp(f"cli{i}")
        (root / "d.nt").write_text("\n".join(lines) + "\n")
        servers.append(OxigraphServer(location=root / "db", data=root / "d.nt"))
    yield servers
    for server in servers:
        server.stop()


def _cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, out, err)
    return code, out.getvalue(), err.getvalue()


def test_cli_writes_json_results_with_provenance(cli_endpoints, tmp_path):
    query = tmp_path / "q.rq"
    query.write_text(P + "SELECT ?n WHERE { :alice :knows ?x . ?x :name ?n }")
    args = [a for s in cli_endpoints for a in ("--endpoint", s.url)]
    code, out, _ = _cli([*args, "--provenance", str(query)])
    doc = json.loads(out)
    assert code == 0
    assert doc["results"]["bindings"] == [{"n": {"type": "literal", "value": "Bob"}}]
    assert doc["provenance"][0]


@pytest.mark.parametrize("fmt,needle", [("csv", "n\r\nBob"), ("tsv", '?n\n"Bob"'), ("xml", "<literal>Bob</literal>")])
def test_cli_other_formats(cli_endpoints, tmp_path, fmt, needle):
    query = tmp_path / "q.rq"
    query.write_text(P + "SELECT ?n WHERE { :alice :knows ?x . ?x :name ?n }")
    args = [a for s in cli_endpoints for a in ("--endpoint", s.url)]
    code, out, _ = _cli([*args, "--format", fmt, str(query)])
    assert code == 0 and needle in out


def test_cli_construct_defaults_to_ntriples(cli_endpoints, tmp_path):
    query = tmp_path / "q.rq"
    query.write_text(P + "CONSTRUCT { ?x :knownBy :alice } WHERE { :alice :knows ?x }")
    code, out, _ = _cli(["--endpoint", cli_endpoints[0].url, str(query)])
    assert code == 0 and out.strip() == f"<{EX}bob> <{EX}knownBy> <{EX}alice> ."


def test_cli_syntax_error_exits_2(cli_endpoints, tmp_path):
    query = tmp_path / "bad.rq"
    query.write_text("SELECT WHERE {")
    code, out, err = _cli(["--endpoint", cli_endpoints[0].url, str(query)])
    assert code == 2 and out == "" and "syntax error" in err


def test_cli_partial_answer_is_flagged(cli_endpoints, tmp_path):
    query = tmp_path / "q.rq"
    query.write_text(P + "SELECT ?x WHERE { :alice :knows ?x }")
    dead = f"http://127.0.0.1:{free_port()}/query"
    code, out, err = _cli(["--endpoint", cli_endpoints[0].url, "--endpoint", dead, "--partial", str(query)])
    assert code == 0
    doc = json.loads(out)
    assert doc["partial"] is True and dead in doc["failed_sources"]
    assert "partial" in err
    code, _, err = _cli(["--endpoint", cli_endpoints[0].url, "--endpoint", dead, str(query)])
    assert code == 1 and dead in err


def test_python_dash_m_runs_the_cli(cli_endpoints, tmp_path):
    query = tmp_path / "q.rq"
    query.write_text(P + "ASK { :alice :knows :bob }")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "sparql", "--endpoint", cli_endpoints[1].url, str(query)],
        cwd=root,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["boolean"] is True


FEDBENCH = sorted(shared_path("fedbench").rglob("*.rq"))
assert len(FEDBENCH) >= 37, "the FedBench and FedShop query texts are missing"


@pytest.mark.parametrize("path", FEDBENCH, ids=[f"{p.parent.name}/{p.name}" for p in FEDBENCH])
def test_benchmark_query_parses_and_plans(path):
    names = ["dbpedia", "nytimes", "drugbank", "kegg", "geonames"]
    summaries = {
        "dbpedia": {"predicates": {"http://www.w3.org/2002/07/owl#sameAs": 1000}},
        "drugbank": {"predicates": {}, "classes": {}},
    }
    fed = Federation([RemoteEndpoint(f"http://127.0.0.1:9/{n}", name=n) for n in names], summaries=summaries)
    plan = fed.plan(path.read_text(encoding="utf-8"))
    assert plan.bgps
    for bgp in plan.bgps:
        planned = [tp for unit in bgp.units for tp in unit.patterns]
        assert sorted(map(str, planned)) == sorted(map(str, bgp.patterns))
        for unit in bgp.units:
            # an empty predicate summary rules a source out of every pattern with an IRI predicate
            if all(isinstance(tp.p, URIRef) for tp in unit.patterns):
                assert "drugbank" not in unit.sources
    assert plan.describe()


def test_property_path_rows_carry_the_triples_of_a_witness_walk():
    chain_a = [f"<{EX}n0> <{EX}next> <{EX}n1> .", f"<{EX}n2> <{EX}next> <{EX}n3> ."]
    chain_b = [f"<{EX}n1> <{EX}next> <{EX}n2> ."]
    fed = Federation([HostedStore(_store(chain_a), name="a"), HostedStore(_store(chain_b), name="b")])
    result = fed.query(P + "SELECT ?end WHERE { :n0 :next+ ?end }")
    by_end = {row["end"].value: i for i, row in enumerate(result.rows)}
    assert set(by_end) == {EX + "n1", EX + "n2", EX + "n3"}
    used = result.triples_used(by_end[EX + "n3"])
    assert {len(used["a"]), len(used["b"])} == {2, 1}
    assert len(result.triples_used(by_end[EX + "n1"])["a"]) == 1


def test_a_redirect_is_not_followed_and_names_the_source():
    """A redirect could lead to an address the marketplace never checked (a private one)."""
    import http.server

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/private")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = RemoteEndpoint(f"http://127.0.0.1:{server.server_port}/query", name="moved")
        with pytest.raises(SourceError) as caught:
            endpoint.select("SELECT * WHERE { ?s ?p ?o }")
        assert caught.value.source == "moved" and "HTTP 302" in str(caught.value)
    finally:
        server.shutdown()
        server.server_close()
