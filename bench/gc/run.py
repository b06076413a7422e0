"""Federated queries in a process set up like a worker (Django and every module a query uses loaded), before
and after `config.heap.freeze_startup_heap`, in the same run against the same endpoints.

    .venv/bin/python bench/gc/run.py                 # FedShop-like demo world (6 endpoints), 30 runs a query

The peer is the same process before freezing: Python's garbage collector as it comes. Reported per query:
the median, the 90th percentile and the worst run, and how many runs took over 1.5 times the fastest.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="bench-gc-"))
os.environ.update({"DATABASE_URL": f"sqlite:///{WORK / 'db.sqlite3'}", "SECRET_KEY": "bench", "DEBUG": "0"})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# one answer of a thousand rows besides the FedShop queries, as allocation-heavy answers are that size
OFFERS = (
    "offers",
    "PREFIX bsbm: <http://www4.wiwiss.fu-berlin.de/bizer/bsbm/v01/vocabulary/> "
    "SELECT ?o ?p ?price WHERE { ?o bsbm:product ?p ; bsbm:price ?price }",
)


def summary(times: list[float]) -> tuple[float, float, float, int]:
    ordered = sorted(times)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    slow = sum(t > 1.5 * ordered[0] for t in ordered)
    return statistics.median(ordered), p90, ordered[-1], slow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--provenance", action="store_true", help="list provenance, as the market does")
    args = parser.parse_args()

    import django

    django.setup()
    from config.heap import WARM_MODULES, freeze_startup_heap
    from marketplace.demo.fedshop import generate, instantiate_queries
    from sparql import Federation, RemoteEndpoint
    from tests.servers import OxigraphServer

    for name in WARM_MODULES:  # both phases with the same modules loaded: only the freeze differs
        __import__(name)
    scale = {"n_products": 200, "n_vendors": 3, "n_ratingsites": 2}
    servers = [OxigraphServer(Path(source.path)) for source in generate(WORK / "data", **scale)]
    try:
        endpoints = [(str(k), server.url) for k, server in enumerate(servers)]
        queries = [*instantiate_queries(**scale), OFFERS]

        def run(text: str) -> float:
            federation = Federation([RemoteEndpoint(url, name=name) for name, url in endpoints])
            start = time.perf_counter()
            federation.query(text, provenance=args.provenance)
            return time.perf_counter() - start

        results: dict[str, dict[str, tuple]] = {}
        for phase in ("as it comes", "frozen"):
            if phase == "frozen":
                frozen = freeze_startup_heap()
            tracked = len(gc.get_objects())
            for name, text in queries:
                run(text)  # warm-up: connections
                results.setdefault(name, {})[phase] = summary([run(text) for _ in range(args.repeat)])
            print(f"[{phase}] objects the collector tracks: {tracked:,}", file=sys.stderr)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(WORK, ignore_errors=True)

    print(
        f"{len(endpoints)} endpoints, {args.repeat} runs a query, provenance {'on' if args.provenance else 'off'}; "
        f"{frozen:,} objects frozen.\n"
    )
    print(
        "| query | median before (ms) | p90 before | worst before | slow runs before | median after (ms) | p90 after "
        "| worst after | slow runs after | p90 after / before |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, phases in results.items():
        (m0, p0, w0, s0), (m1, p1, w1, s1) = phases["as it comes"], phases["frozen"]
        print(
            f"| {name} | {m0 * 1000:.1f} | {p0 * 1000:.1f} | {w0 * 1000:.1f} | {s0} | {m1 * 1000:.1f} | "
            f"{p1 * 1000:.1f} | {w1 * 1000:.1f} | {s1} | {p1 / p0:.2f} |"
        )


if __name__ == "__main__":
    main()
