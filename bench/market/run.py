"""Market overhead benchmark: time from submit to quote against plain federation on the same endpoints.

    .venv/bin/python bench/market/run.py                 # FedShop-like demo world (6 endpoints), 3 repetitions
    .venv/bin/python bench/market/run.py --products 1000 --repeat 5
    .venv/bin/python bench/market/run.py --database-url postgres://postgres@127.0.0.1:5432/mkt_market_bench

For each FedShop query: (a) plain federation, the engine without provenance (the peer); (b) the engine with
provenance; (c) the market's job run in process: dataset selection, federation with provenance, holding
the answer, building the allocation problem from the price models, solving it and storing the quote
(everything between the worker picking the job up and the quote; the broker's queueing is not pricing).
Runs are interleaved, the median of the repetitions is reported. Prints a Markdown table; "statements" is the
number of SQL statements from submit to quote (commits not counted).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import shutil
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workdir import bench_environment  # noqa: E402

WORK = bench_environment(
    "bench-market-", ALLOW_PRIVATE_ENDPOINTS="1", CELERY_TASK_ALWAYS_EAGER="1", MARKET_QUOTES_PER_HOUR="100000"
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


PHASES = {
    "job_create": "create the job (check the query, hourly quota, insert, commit)",
    "select_datasets": "read the catalog version and subscriptions (the catalog itself only when it changed)",
    "build_sources": "the engine's sources (endpoint addresses checked again)",
    "_write_end": "write the job's end with its held answer",
    "quote_in_transaction": "price the rows, store the quote and its lines",
}


def time_phases(phases: dict[str, list[float]]) -> None:
    """Keep the time of each call of the market's steps (--phases); job_create is timed by the caller, as the
    bench calls it by its imported name."""
    from marketplace.market.services import queries, quotes, sources

    def timed(module, name: str) -> None:
        inner = getattr(module, name)

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                phases.setdefault(PHASES[name], []).append(time.perf_counter() - start)

        setattr(module, name, wrapper)

    for module, name in (
        (sources, "select_datasets"),
        (sources, "build_sources"),
        (queries, "_write_end"),
        (quotes, "quote_in_transaction"),
    ):
        timed(module, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--vendors", type=int, default=3)
    parser.add_argument("--ratingsites", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--summaries",
        action="store_true",
        help="give every dataset its engine summary (sparql.summarize, as the catalog does) and the peer the same",
    )
    parser.add_argument("--queries", default="", help="comma-separated names (q01,q09,...); default: all")
    parser.add_argument("--phases", action="store_true", help="also print where the market's own time goes")
    parser.add_argument(
        "--evaluate-apart",
        action="store_true",
        help="compute each answer in a forked child, as /sparql/data does (its cost: compare with a run without)",
    )
    parser.add_argument("--profile", default="", help="write a cProfile of the market's jobs to this file")
    parser.add_argument(
        "--database-url", default="", help="an empty database to use (default: SQLite in a temporary folder)"
    )
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from config.heap import freeze_startup_heap
    from marketplace.accounts.models import User
    from marketplace.accounts.services import organisation_apply, organisation_approve
    from marketplace.catalog.models import Dataset, DatasetSummary
    from marketplace.demo.fedshop import generate, instantiate_queries
    from marketplace.market.models import QueryJob
    from marketplace.market.services.price_models import price_model_set
    from marketplace.market.services.queries import job_create, job_message, job_run, parse_cached, query_kind
    from sparql import Federation, RemoteEndpoint, summarize
    from tests.servers import OxigraphServer

    scale = {"n_products": args.products, "n_vendors": args.vendors, "n_ratingsites": args.ratingsites}
    log(f"generating {scale}")
    files = generate(WORK / "data", **scale)
    servers = []
    try:
        owner = User.objects.create_user("owner", "owner@example.org", "x")
        buyer = User.objects.create_user("buyer", "buyer@example.org", "x")
        endpoints: dict[str, str] = {}
        summaries: dict[str, dict] = {}
        for k, source in enumerate(files):
            server = OxigraphServer(Path(source.path))
            servers.append(server)
            org = organisation_apply(user=owner, name=f"Publisher {source.name}")
            organisation_approve(organisation=org, by=None)
            dataset = Dataset.objects.create(
                publisher=org,
                title=source.name,
                slug=source.name,
                kind=Dataset.Kind.REMOTE,
                endpoint_url=server.url,
                status=Dataset.Status.APPROVED,
            )
            # A mix of price models: per triple, per row, access fee, in turn.
            kind = ("per_triple", "per_row", "access_fee")[k % 3]
            price_model_set(user=owner, dataset=dataset, kind=kind, rate=Decimal("0.5"), access_fee=25)
            endpoints[str(dataset.pk)] = server.url
            if args.summaries:
                engine = summarize(RemoteEndpoint(server.url, name=str(dataset.pk)))
                DatasetSummary.objects.create(dataset=dataset, triples=source.triples, engine=engine)
                summaries[str(dataset.pk)] = engine
        queries = instantiate_queries(**scale)
        # as a worker process does once it is ready (config/heap.py): peer and market both run frozen
        freeze_startup_heap()
        log(f"{len(servers)} endpoints up; {len(queries)} queries")

        def plain(text: str, provenance: bool) -> tuple[float, int]:
            fed = Federation(
                [RemoteEndpoint(url, name=name) for name, url in endpoints.items()], summaries=summaries or None
            )
            start = time.perf_counter()
            result = fed.query(text, provenance=provenance)
            return time.perf_counter() - start, len(result.rows)

        statements: list[str] = []

        def count(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        phases: dict[str, list[float]] = {}
        if args.phases:
            time_phases(phases)

        profiler = cProfile.Profile() if args.profile else None

        def market(text: str) -> tuple[float, QueryJob]:
            statements.clear()
            if profiler:
                profiler.enable()
            with connection.execute_wrapper(count):  # a list append per statement: microseconds
                # The web process checks the query at submit and the worker parses it: nothing is cached between runs.
                query_kind.cache_clear()
                start = time.perf_counter()
                job = job_create(buyer=buyer, query=text, run=False)
                created = time.perf_counter()
                parse_cached.cache_clear()
                # as the task runs it: with the ask its message carries, under the job time limit
                job = job_run(
                    job_id=job.pk,
                    asked=job_message(job),
                    time_limit=settings.MARKET_JOB_TIME_LIMIT,
                    evaluate_apart=args.evaluate_apart,
                )
                if args.phases:
                    phases.setdefault(PHASES["job_create"], []).append(created - start)
                elapsed = time.perf_counter() - start
                if profiler:
                    profiler.disable()
                return elapsed, job

        if args.queries:
            queries = [(name, text) for name, text in queries if name in args.queries.split(",")]
        rows = []
        for name, text in queries:
            plain(text, False)  # warm-up: connections, parser
            t_plain, t_prov, t_market, t_inner = [], [], [], []
            job = None
            for _ in range(args.repeat):
                t, n = plain(text, False)
                t_plain.append(t)
                t_prov.append(plain(text, True)[0])
                t, job = market(text)
                t_market.append(t)
                t_inner.append(job.federation_seconds or 0.0)
            if job.status != QueryJob.Status.QUOTED:
                log(f"{name}: {job.status} {job.error}")
                continue
            quote = job.quotes.get()
            p, v, m, f = (statistics.median(x) for x in (t_plain, t_prov, t_market, t_inner))
            rows.append(
                (
                    name,
                    job.rows_available,
                    quote.rows_in_quote,
                    p,
                    v,
                    m,
                    f,
                    quote.strategy,
                    quote.solve_seconds,
                    len(statements),
                )
            )
            log(f"{name}: plain {p:.3f}s provenance {v:.3f}s market {m:.3f}s")
        if profiler:
            profiler.dump_stats(args.profile)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(WORK, ignore_errors=True)

    engine = "PostgreSQL" if "postgres" in os.environ["DATABASE_URL"] else "SQLite"
    with_summaries = "with the engine's summaries" if args.summaries else "without summaries (ASK probes)"
    print(
        f"FedShop-like world {scale}, {len(endpoints)} endpoints, {with_summaries}, {engine}, "
        f"median of {args.repeat} runs.\n"
    )
    print(
        "| query | rows | rows quoted | plain federation (s) | + provenance (s) | submit → quote (s) "
        "| of which federation (s) | quote / plain | quote / provenance | market's own (ms) | strategy | solve (ms) "
        "| statements |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    ratios, ratios_prov, own = [], [], []
    for name, avail, quoted, p, v, m, f, strategy, solve, n_statements in rows:
        ratios.append(m / p)
        ratios_prov.append(m / v)
        own.append(m - f)
        print(
            f"| {name} | {avail} | {quoted} | {p:.3f} | {v:.3f} | {m:.3f} | {f:.3f} | {m / p:.2f} | {m / v:.2f} "
            f"| {(m - f) * 1000:.0f} | {strategy} | {solve * 1000:.1f} | {n_statements} |"
        )
    if phases:
        print("\nWhere the market's own time goes (median per job over every run, ms):\n")
        print("| step | ms |\n| --- | ---: |")
        for label, times in phases.items():
            print(f"| {label} | {statistics.median(times) * 1000:.2f} |")
    if ratios:
        print(
            f"\nGeometric mean: submit → quote / plain federation = {statistics.geometric_mean(ratios):.2f}; "
            f"/ federation with provenance = {statistics.geometric_mean(ratios_prov):.2f}. "
            f"The market's own time (submit → quote minus the federation inside the job): median "
            f"{statistics.median(own) * 1000:.0f} ms."
        )


if __name__ == "__main__":
    main()
