"""Federation benchmark: our engine against Comunica and the merged-store bounds on FedShop-like endpoints.

    .venv/bin/python bench/federation/run.py --triples 1000000 --endpoints 20 50
    .venv/bin/python bench/federation/run.py --quick          # 100k triples over 5 endpoints

For each endpoint count: generate the data (cached in --workdir), load one Oxigraph store per source, serve
each on loopback behind a counting proxy, instantiate the 12 FedShop templates, and run every engine on the
same endpoints, query by query (engines interleaved). The bounds: one Oxigraph endpoint holding the RDF
merge of all sources (one HTTP request per query), and pyoxigraph in process over the same merge.
Prints Markdown tables to standard output.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from endpoints import build_world, load_stores, start_cluster  # noqa: E402
from engines import (  # noqa: E402
    MergedEndpoint,
    MergedStore,
    Outcome,
    Worker,
    comunica_worker,
    ours_summaries_worker,
    ours_worker,
)

from marketplace.demo.fedshop import TEMPLATE_DIR, instantiate_queries  # noqa: E402

ENGINES = {"ours": ours_worker, "comunica": comunica_worker, "ours-summaries": ours_summaries_worker}
DEFAULT_ENGINES = ["ours", "comunica"]
WARM_UP = "SELECT * WHERE { ?s a ?class } LIMIT 1"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def best(outcomes: list[Outcome]) -> Outcome:
    """The median-time outcome of the repetitions (the first failure if any failed)."""
    for outcome in outcomes:
        if not outcome.ok:
            return outcome
    ordered = sorted(outcomes, key=lambda o: o.seconds or 0.0)
    return ordered[len(ordered) // 2]


def run_scale(args: argparse.Namespace, n_endpoints: int) -> dict:
    data_dir = Path(args.workdir) / f"t{args.triples}-e{n_endpoints}-s{args.seed}"
    started = time.monotonic()
    world = build_world(args.triples, n_endpoints, data_dir, seed=args.seed)
    log(
        f"{n_endpoints} endpoints: {world.triples} triples, {world.n_products} products "
        f"({time.monotonic() - started:.1f} s)"
    )
    started = time.monotonic()
    locations = load_stores(world, data_dir / "stores")
    log(f"stores loaded ({time.monotonic() - started:.1f} s)")
    queries = instantiate_queries(
        TEMPLATE_DIR,
        n_products=world.n_products,
        n_vendors=world.n_vendors,
        n_ratingsites=world.n_ratingsites,
        seed=world.seed,
    )
    if args.queries:
        queries = [(n, q) for n, q in queries if n in args.queries]
    merged = MergedStore([s.path for s in world.sources])
    results: dict[str, dict[str, dict]] = {name: {} for name, _ in queries}
    for name, text in queries:
        results[name]["bound"] = asdict(best([merged.run(text) for _ in range(args.repeat)]))
    del merged
    cluster = start_cluster(world, locations, latency_ms=args.latency)
    workers: dict[str, Worker] = {}
    try:
        central = MergedEndpoint(cluster.merged_url)
        central.run(WARM_UP, args.timeout)
        for engine in args.engines:
            workers[engine] = ENGINES[engine]()
            # Warm-up (not measured): module loading, JIT, connection pools.
            workers[engine].run(WARM_UP, cluster.urls, args.timeout)
        for name, text in queries:
            # the merged endpoint is measured as the engines are: each run after the same quiet pause
            merged_runs = []
            for _ in range(args.repeat):
                cluster.wait_quiet()
                merged_runs.append(central.run(text, args.timeout))
            results[name]["merged"] = asdict(best(merged_runs))
            for engine, worker in workers.items():
                outcomes = []
                for _ in range(args.repeat):
                    cluster.wait_quiet()
                    outcome = worker.run(text, cluster.urls, args.timeout)
                    outcome.requests, outcome.bytes_received = cluster.counters()
                    outcomes.append(outcome)
                    if not outcome.ok:
                        break
                chosen = best(outcomes)
                results[name][engine] = asdict(chosen)
                shown = f"{chosen.seconds:.2f} s" if chosen.seconds is not None else "-"
                log(
                    f"{n_endpoints} endpoints {name} {engine}: rows={chosen.rows} {shown} "
                    f"req={chosen.requests} bytes={chosen.bytes_received} {chosen.error or ''}"
                )
    finally:
        for worker in workers.values():
            worker.stop()
        cluster.stop()
    return {
        "timeout": args.timeout,
        "latency_ms": args.latency,
        "endpoints": n_endpoints,
        "triples": world.triples,
        "products": world.n_products,
        "vendors": world.n_vendors,
        "ratingsites": world.n_ratingsites,
        "queries": results,
    }


def _time(o: dict | None) -> str:
    if o is None:
        return "-"
    if o["error"]:
        return "timeout" if o["error"].startswith("timeout") else "error"
    return f"{o['seconds']:.3f}"


def _ratio(a: dict | None, b: dict | None) -> float | None:
    """a's time over b's time, when both answered."""
    if not a or not b or a["error"] or b["error"] or not b["seconds"]:
        return None
    return a["seconds"] / b["seconds"]


def _speedup(q: dict, timeout: float) -> tuple[float, bool] | None:
    """(Comunica time / ours, is a lower bound): a Comunica timeout counts as the timeout itself."""
    ours, comunica = q.get("ours"), q.get("comunica")
    if not ours or ours["error"] or not ours["seconds"] or not comunica:
        return None
    if not comunica["error"]:
        return comunica["seconds"] / ours["seconds"], False
    if comunica["error"].startswith("timeout"):
        return timeout / ours["seconds"], True
    return None


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _fmt_speedup(value: tuple[float, bool] | None) -> str:
    if value is None:
        return "-"
    return f">= {value[0]:.1f}x" if value[1] else f"{value[0]:.2f}x"


def _num(o: dict | None, key: str, scale: float = 1.0) -> str:
    if o is None or o.get(key) is None:
        return "-"
    return f"{o[key] / scale:,.0f}" if scale != 1.0 else f"{o[key]:,}"


ROW_ENGINES = {
    "ours": "ours",
    "comunica": "Comunica",
    "ours-summaries": "ours + summaries",
    "merged": "merged",
    "bound": "in-process",
}


def _present(scale: dict) -> list[str]:
    return [e for e in ROW_ENGINES if any(e in q for q in scale["queries"].values())]


def _rows(q: dict, engines: list[str] | None = None) -> tuple[str, bool]:
    counts = [q[e]["rows"] if q.get(e) and not q[e]["error"] else None for e in engines or ROW_ENGINES]
    answered = [c for c in counts if c is not None]
    agree = len(set(answered)) <= 1
    text = "/".join("-" if c is None else str(c) for c in counts)
    return (text if agree else f"**{text}**"), agree


def scale_table(scale: dict) -> str:
    lines = [
        f"### {scale['endpoints']} endpoints ({scale['triples']:,} triples: 1 catalog, {scale['vendors']} "
        f"vendors, {scale['ratingsites']} rating sites, {scale['products']:,} products)",
        "",
        f"| query | rows {'/'.join(ROW_ENGINES[e] for e in _present(scale))} | ours s | Comunica s "
        "| merged endpoint s "
        "| in-process s | Comunica / ours | ours / merged endpoint | ours / in-process "
        "| requests ours | requests Comunica | KB ours | KB Comunica |",
        "| --- | --- |" + " ---: |" * 11,
    ]
    for name, q in scale["queries"].items():
        ours, comunica = q.get("ours"), q.get("comunica")
        merged, bound = q.get("merged"), q.get("bound")
        rows, _ = _rows(q, _present(scale))
        lines.append(
            f"| {name} | {rows} | {_time(ours)} | {_time(comunica)} | {_time(merged)} | {_time(bound)} "
            f"| {_fmt_speedup(_speedup(q, scale.get('timeout', 120.0)))} "
            f"| {_fmt_ratio(_ratio(ours, merged))} | {_fmt_ratio(_ratio(ours, bound))} "
            f"| {_num(ours, 'requests')} | {_num(comunica, 'requests')} "
            f"| {_num(ours, 'bytes_received', 1000)} | {_num(comunica, 'bytes_received', 1000)} |"
        )
    if any("ours-summaries" in q for q in scale["queries"].values()):
        lines += [
            "",
            "With summaries (ours given each source's `sparql.summarize` summary, computed before the run):",
            "",
            "| query | ours s | ours + summaries s | merged endpoint s | ours + summaries / merged endpoint "
            "| requests ours | requests ours + summaries | KB ours + summaries |",
            "| --- |" + " ---: |" * 7,
        ]
        for name, q in scale["queries"].items():
            ours, summarised, merged = q.get("ours"), q.get("ours-summaries"), q.get("merged")
            lines.append(
                f"| {name} | {_time(ours)} | {_time(summarised)} | {_time(merged)} "
                f"| {_fmt_ratio(_ratio(summarised, merged))} | {_num(ours, 'requests')} "
                f"| {_num(summarised, 'requests')} | {_num(summarised, 'bytes_received', 1000)} |"
            )
    return "\n".join(lines)


def goals_table(scales: list[dict]) -> str:
    lines = ["### Goals", "", "| goal | " + " | ".join(f"{s['endpoints']} endpoints" for s in scales) + " |"]
    lines.append("| --- |" + " --- |" * len(scales))

    def per_scale(fn) -> str:
        return " | ".join(fn(s) for s in scales)

    def median_speedup(s: dict) -> str:
        values = [r for q in s["queries"].values() if (r := _speedup(q, s.get("timeout", 120.0)))]
        if not values:
            return "-"
        # A timeout stands for its own duration, a lower bound; the median is then a lower bound too.
        prefix = ">= " if any(lower for _, lower in values) else ""
        return f"{prefix}{statistics.median(v for v, _ in values):.2f}x (n={len(values)})"

    def bounds(s: dict, peer: str = "merged", engine: str = "ours") -> list[float]:
        return [r for q in s["queries"].values() if (r := _ratio(q.get(engine), q.get(peer)))]

    def median(values: list[float]) -> str:
        return f"{statistics.median(values):.2f}x (n={len(values)})" if values else "-"

    def fewer_requests(s: dict) -> str:
        # Requests counted until a timeout are a lower bound of what the run would have sent, so a
        # finished run of ours with fewer requests than a timed-out Comunica run is still a win.
        wins = total = 0
        for q in s["queries"].values():
            ours, comunica = q.get("ours"), q.get("comunica")
            if not ours or not comunica or ours["error"] or ours["requests"] is None:
                continue
            if comunica["error"] and not comunica["error"].startswith("timeout"):
                continue
            total += 1
            wins += ours["requests"] < comunica["requests"]
        return f"{wins} of {total}"

    def answered(engine: str):
        return lambda s: f"{sum(1 for q in s['queries'].values() if q.get(engine) and not q[engine]['error'])}"

    def agreeing(s: dict) -> str:
        results = [_rows(q)[1] for q in s["queries"].values()]
        return f"{sum(results)} of {len(results)}"

    lines.append(f"| median Comunica time / ours (goal >= 3x) | {per_scale(median_speedup)} |")
    lines.append(f"| median ours / merged endpoint (goal <= 3x) | {per_scale(lambda s: median(bounds(s)))} |")
    lines.append(f"| max ours / merged endpoint | {per_scale(lambda s: _fmt_ratio(max(bounds(s), default=None)))} |")
    lines.append(f"| median ours / in-process merged store | {per_scale(lambda s: median(bounds(s, 'bound')))} |")
    lines.append(f"| queries where ours sent fewer requests than Comunica (goal: all) | {per_scale(fewer_requests)} |")
    lines.append(f"| queries answered by ours | {per_scale(answered('ours'))} |")
    lines.append(f"| queries answered by Comunica | {per_scale(answered('comunica'))} |")
    lines.append(f"| queries where all engines' row counts agree | {per_scale(agreeing)} |")
    if any("ours-summaries" in q for s in scales for q in s["queries"].values()):
        lines.append(
            "| median ours + summaries / merged endpoint "
            f"| {per_scale(lambda s: median(bounds(s, 'merged', 'ours-summaries')))} |"
        )
    if len(scales) >= 2:
        first, last = scales[0], scales[-1]
        growth_lines = []
        for engine in ("ours", "comunica"):
            common = [
                n
                for n in first["queries"]
                if all(
                    s["queries"].get(n, {}).get(engine) and not s["queries"][n][engine]["error"] for s in (first, last)
                )
            ]
            if common:
                t0 = sum(first["queries"][n][engine]["seconds"] for n in common)
                t1 = sum(last["queries"][n][engine]["seconds"] for n in common)
                growth_lines.append(f"{engine} {t1 / t0:.2f}x over {len(common)} queries")
        endpoint_ratio = last["endpoints"] / first["endpoints"]
        lines.append("")
        lines.append(
            f"Growth of total time from {first['endpoints']} to {last['endpoints']} endpoints "
            f"({endpoint_ratio:.1f}x the endpoints; goal: at most linear): " + "; ".join(growth_lines) + "."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=1_000_000, help="at least this many triples per world")
    parser.add_argument("--endpoints", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--quick", action="store_true", help="smoke run: 100k triples over 5 endpoints")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per query and engine")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="milliseconds added to every request by the proxies (a network)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per query; the median is reported")
    parser.add_argument(
        "--engines",
        nargs="+",
        default=DEFAULT_ENGINES,
        choices=list(ENGINES),
        help="ours-summaries: ours given the sources' summaries (sparql.summarize), computed before the run",
    )
    parser.add_argument("--queries", nargs="*", help="only these templates (q01 ... q12)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default="/tmp/fedbench", help="generated data and stores, reused")
    parser.add_argument("--json", help="also write the raw measurements to this file")
    parser.add_argument("--render", help="print the tables of a --json file instead of running")
    args = parser.parse_args(argv)
    if args.render:
        print(report(json.loads(Path(args.render).read_text()), args))
        return 0
    if args.quick:
        args.triples, args.endpoints = 100_000, [5]
        args.timeout = min(args.timeout, 60.0)
    scales = []
    for n in args.endpoints:
        scales.append(run_scale(args, n))
        if args.json:  # after each scale, so that a cut-short run keeps what it measured
            Path(args.json).write_text(json.dumps(scales, indent=1))
    print(report(scales, args))
    return 0


def report(scales: list[dict], args: argparse.Namespace) -> str:
    timeout = scales[0].get("timeout", args.timeout) if scales else args.timeout
    latency = scales[0].get("latency_ms", 0.0) if scales else args.latency
    network = f", {latency:g} ms added to every request" if latency else ""
    parts = [f"## Federation benchmark (FedShop-like, timeout {timeout:g} s per query and engine{network})", ""]
    parts += [scale_table(scale) + "\n" for scale in scales]
    parts.append(goals_table(scales))
    return "\n".join(parts)


if __name__ == "__main__":
    sys.exit(main())
