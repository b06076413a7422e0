"""What a catalog query costs through /sparql: the catalog store kept between changes (catalog_graph) and each
query run in a forked child (market/sandbox.py), against the store rebuilt and the query run in process.

    .venv/bin/python bench/market/catalog.py               # the demo catalog, 30 repetitions per query

The demo catalog is loaded into a temporary SQLite database. Each query goes through the /sparql view with
Django's test client, as a client's request would. Three variants, interleaved in the same run:
"rebuilt, in process" (the store built for every request and the query run in the web process: the peer),
"kept, in process", and "kept, forked child" (what the endpoint does). Prints a Markdown table of medians.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workdir import bench_environment  # noqa: E402

WORK = bench_environment("bench-catalog-", ALLOWED_HOSTS="testserver")

QUERIES = {
    "datasets (VoID)": "SELECT ?d ?title WHERE { ?d a <http://rdfs.org/ns/void#Dataset> ; "
    "<http://purl.org/dc/terms/title> ?title }",
    "every triple": "SELECT * WHERE { ?s ?p ?o }",
    "count by predicate": "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p",
    "describe all (CONSTRUCT)": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
}


def in_process(store, query, render, **limits):
    """The peer: the sandbox's contract, evaluated in this process."""
    from marketplace.market.sandbox import Outcome, Rendered

    try:
        body, content_type = render(store.query(query))
        return Outcome(200, body, content_type)
    except Rendered as exc:
        return Outcome(exc.status, str(exc).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from marketplace.market import catalog_graph, sandbox, sparql_views

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    client = Client()
    forked, ttl = sandbox.run_limited, catalog_graph.STORE_TTL
    variants = {
        "rebuilt, in process": (in_process, 0.0),
        "kept, in process": (in_process, ttl),
        "kept, forked child": (forked, ttl),
    }
    rows = []
    try:
        for name, query in QUERIES.items():
            times: dict[str, list[float]] = {label: [] for label in variants}
            for _ in range(args.repeat):
                for label, (runner, keep_for) in variants.items():
                    sparql_views.sandbox.run_limited, catalog_graph.STORE_TTL = runner, keep_for
                    start = time.perf_counter()
                    response = client.get("/sparql", {"query": query})
                    times[label].append(time.perf_counter() - start)
                    assert response.status_code == 200, response.content[:200]
            rows.append((name, len(response.content), *(statistics.median(times[k]) * 1000 for k in variants)))
    finally:
        sparql_views.sandbox.run_limited, catalog_graph.STORE_TTL = forked, ttl
        shutil.rmtree(WORK, ignore_errors=True)
    rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024
    print(f"Demo catalog, median of {args.repeat} requests each, web process {rss} MB resident.\n")
    print(
        "| query | answer (bytes) | rebuilt, in process (ms) | kept, in process (ms) | kept, forked child (ms) "
        "| forked / rebuilt in process |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, size, rebuilt, kept, child in rows:
        print(f"| {name} | {size:,} | {rebuilt:.1f} | {kept:.1f} | {child:.1f} | {child / rebuilt:.2f} |")


if __name__ == "__main__":
    main()
