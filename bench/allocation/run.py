"""Benchmark of the allocation strategies: solve time and welfare of min cut, integer program and greedy.

Each solve runs in a forked child under a hard deadline (HiGHS can overrun its own time limit in presolve);
what does not finish is reported as such. CPU times are compared as ratios to a peer solved in the same run:
min cut on closure instances, otherwise the integer program.

    .venv/bin/python bench/allocation/run.py              # 1k, 10k, 100k rows
    .venv/bin/python bench/allocation/run.py --full       # adds 1M rows
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from generate import generate  # noqa: E402

from marketplace.allocation import Problem, allocate  # noqa: E402

VARIANTS = {
    "closure": {},
    "alternatives": {"alternatives": 0.2},
    "budget": {"budget_fraction": 0.3},
    "alternatives+budget": {"alternatives": 0.2, "budget_fraction": 0.3},
    # no value per row: the most rows within the budget, then the least cost (objective = - cost)
    "no values+budget": {"alternatives": 0.2, "budget_fraction": 0.3, "valued": False},
    # eight providers, each with an access fee: 9 hubs (the fees and the most popular label), 512 hub sets
    "8 providers+budget": {"alternatives": 0.2, "budget_fraction": 0.3, "providers": 8},
}

_PROBLEM: Problem | None = None  # set before forking, so children share it copy-on-write


def _child(strategy: str, time_limit: float, conn) -> None:
    cpu = time.process_time()
    a = allocate(_PROBLEM, strategy=strategy, time_limit=time_limit, lp_bound_for_greedy=False)
    conn.send(
        {
            "seconds": a.solve_seconds,
            "cpu": time.process_time() - cpu,
            "objective": a.objective,
            "optimal": a.optimal,
            "gap": a.gap,
            "upper": a.upper_bound,
            "strategy": a.strategy,
            "rows": len(a.rows),
            "unlimited": a.unlimited_rows,
            "notes": a.notes,
        }
    )
    conn.close()


def solve(strategy: str, time_limit: float, hard_limit: float) -> dict | None:
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(strategy, time_limit, child))
    proc.start()
    child.close()
    result = parent.recv() if parent.poll(hard_limit) else None
    if result is None:
        proc.kill()
    proc.join()
    return result


def main() -> None:
    global _PROBLEM
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--full", action="store_true", help="also 1,000,000 rows")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--time-limit", type=float, default=30.0, help="time limit given to each solve (s)")
    ap.add_argument("--hard-limit", type=float, default=300.0, help="kill min cut / greedy after this (s)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([1_000_000] if args.full else [])
    milp_hard = 2 * args.time_limit + 10

    print(
        f"MILP time limit {args.time_limit:g} s (killed after {milp_hard:g} s); min cut and greedy killed after "
        f"{args.hard_limit:g} s; cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}"
    )
    print()
    print(
        "| instance | rows | derivations | strategy | wall (s) | CPU (s) | time / peer | objective | proven optimal "
        "| gap | welfare / exact |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|")
    gave_up: set[tuple[str, str]] = set()
    for variant in args.variants.split(","):
        for n in sizes:
            _PROBLEM = generate(n, seed=args.seed, **VARIANTS[variant])
            n_derivs = sum(len(r.derivations) for r in _PROBLEM.rows)
            # auto: what a quote uses (on instances without a budget, enumeration of hubs and parts, hubs.py)
            strategies = (["mincut"] if variant == "closure" else ["auto"]) + ["milp", "greedy"]
            results: dict[str, dict | None] = {}
            for strategy in strategies:
                if (variant, strategy) in gave_up:
                    results[strategy] = {"skipped": True}
                    continue
                hard = milp_hard if strategy == "milp" else args.hard_limit
                results[strategy] = solve(strategy, args.time_limit, hard)
                if results[strategy] is None or not results[strategy].get("optimal", True) and strategy == "milp":
                    gave_up.add((variant, strategy))  # larger sizes would not finish either
            peer = "mincut" if variant == "closure" else "milp"
            peer_result = results.get(peer)
            exact = next(
                (r for s, r in results.items() if s != "greedy" and r and not r.get("skipped") and r["optimal"]),
                None,
            )
            for strategy in strategies:
                r = results[strategy]
                if r is None or r.get("skipped"):
                    hard = milp_hard if strategy == "milp" else args.hard_limit
                    why = "not run (smaller size did not finish)" if r else f"did not finish in {hard:g} s"
                    print(f"| {variant} | {n:,} | {n_derivs:,} | {strategy} | {why} | | | | | | |")
                    continue
                ratio = ""
                if peer_result and not peer_result.get("skipped") and strategy != peer:
                    ratio = f"{r['cpu'] / peer_result['cpu']:.2f}"
                elif strategy == peer:
                    ratio = "1.00"
                welfare = ""
                if strategy == "greedy":
                    if exact and exact["unlimited"]:
                        welfare = f"{r['unlimited'] / exact['unlimited']:.4f} of the rows"
                    elif exact:
                        welfare = f"{r['objective'] / exact['objective']:.4f}"
                    else:
                        best_bound = min(x["upper"] for x in results.values() if x and not x.get("skipped"))
                        welfare = f"≥ {r['objective'] / best_bound:.4f} (vs bound)"
                if strategy == "auto":
                    note = f" → {r['strategy']}"
                else:
                    note = "" if r["strategy"] == strategy else f" (fell back to {r['strategy']})"
                print(
                    f"| {variant} | {n:,} | {n_derivs:,} | {strategy}{note} | {r['seconds']:.3f} | {r['cpu']:.3f} | {ratio} | "
                    f"{r['objective']:,} | {'yes' if r['optimal'] else 'no'} | {r['gap']:.4f} | {welfare} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
