"""Ledger benchmark: purchases per second through money.charge on PostgreSQL with 1, 4 and 16 concurrent
clients (one wallet shared by all, and many wallets), p50/p99 latency, and a peer in the same run: a bare
INSERT-only transaction on the same server. Checks that no purchase was lost and the books still balance.

    .venv/bin/python bench/ledger/run.py [--seconds 5] [--clients 1,4,16] [--wallets 200]
"""

import argparse
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mkt_money_bench")
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["MONEY_TEST_PAYMENTS"] = "1"
os.environ["STRIPE_SECRET_KEY"] = ""
os.environ["MONEY_TOPUP_MAX"] = str(10**12)
os.environ["LOG_LEVEL"] = "WARNING"


def ensure_database() -> None:
    import dj_database_url
    import psycopg2

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    conn = psycopg2.connect(
        host=cfg["HOST"], port=cfg["PORT"], user=cfg["USER"], password=cfg["PASSWORD"], dbname="postgres"
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    conn.close()


def setup(n_wallets: int):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from marketplace.accounts.models import Organisation, User
    from marketplace.money.services import test_topup

    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bench_ledger_peer (id bigserial PRIMARY KEY, v bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())"
        )
    publisher, _ = Organisation.objects.get_or_create(name="Bench Publisher", defaults={"status": "approved"})
    users = []
    for i in range(n_wallets):
        user, created = User.objects.get_or_create(username=f"bench-{i}", defaults={"email": f"bench-{i}@example.org"})
        if created:
            test_topup(user=user, amount=10**11)
        users.append(user.pk)
    return publisher.pk, users


def worker(kind: str, user_ids: list[int], publisher_id: int, seconds: float, tag: str, start_at: float, out) -> None:
    import django

    django.setup()
    from django.db import connection, transaction

    from marketplace.accounts.models import Organisation, User
    from marketplace.money.services import ChargeLine, charge

    publisher = Organisation.objects.get(pk=publisher_id)
    users = list(User.objects.filter(pk__in=user_ids))
    rng = random.Random(tag)
    latencies, errors, n = [], 0, 0
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        try:
            if kind == "peer":
                with transaction.atomic(), connection.cursor() as cur:
                    cur.execute("INSERT INTO bench_ledger_peer (v) VALUES (%s)", [n])
            else:
                charge(
                    buyer=rng.choice(users),
                    lines=[ChargeLine(publisher, 100, "bench rows")],
                    fee=10,
                    idempotency_key=f"{tag}-{n}",
                    description="bench",
                )
        except Exception:  # noqa: BLE001 - counted; a benchmark must report, not stop
            errors += 1
        latencies.append(time.perf_counter() - t0)
        n += 1
    out.put((n - errors, errors, latencies))


def measure(kind: str, clients: int, wallets: list[int], publisher_id: int, seconds: float, run_id: str) -> dict:
    from django.db import connections

    connections.close_all()
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 1.0
    procs = [
        ctx.Process(target=worker, args=(kind, wallets, publisher_id, seconds, f"{run_id}-{c}", start_at, out))
        for c in range(clients)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    done = sum(r[0] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    return {
        "done": done,
        "errors": sum(r[1] for r in results),
        "per_s": done / seconds,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0,
    }


def check_books(run_id: str, expected: int) -> tuple[int, int]:
    from django.db.models import Sum

    from marketplace.money.models import Account, JournalLine, Purchase

    booked = Purchase.objects.filter(idempotency_key__startswith=f"{run_id}-").count()
    total = JournalLine.objects.aggregate(s=Sum("amount"))["s"] or 0
    bad_wallets = sum(
        1 for a in Account.objects.filter(kind="wallet").annotate(s=Sum("lines__amount")) if a.s != a.cached_balance
    )
    assert total == 0, f"lines sum to {total}"
    assert bad_wallets == 0, f"{bad_wallets} wallets whose cached balance differs from their lines"
    assert booked == expected, f"{expected} purchases reported, {booked} booked"
    return booked, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--wallets", type=int, default=200)
    args = parser.parse_args()
    ensure_database()
    publisher_id, users = setup(args.wallets)
    stamp = str(int(time.time()))
    load_before = os.getloadavg()[0]
    rows = []
    for clients in [int(c) for c in args.clients.split(",")]:
        peer = measure("peer", clients, users[:1], publisher_id, args.seconds, f"peer{stamp}-{clients}")
        for label, wallets in (("one wallet", users[:1]), (f"{args.wallets} wallets", users)):
            run_id = f"b{stamp}-{clients}-{len(wallets)}"
            r = measure("charge", clients, wallets, publisher_id, args.seconds, run_id)
            booked, _ = check_books(run_id, r["done"])
            rows.append((clients, label, r, peer, booked))
    print(
        f"\nLedger benchmark: money.charge on PostgreSQL, {args.seconds:g} s per cell, {os.cpu_count()} CPUs, "
        f"load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after (a shared machine)\n"
    )
    print(
        "| clients | wallets | purchases/s | p50 ms | p99 ms | errors | booked = reported | peer INSERT tx/s | purchases/s ÷ peer |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for clients, label, r, peer, booked in rows:
        print(
            f"| {clients} | {label} | {r['per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | "
            f"{booked} = {r['done']} | {peer['per_s']:.0f} | {r['per_s'] / peer['per_s']:.2f} |"
        )
    print("\nAll lines sum to 0 and every cached wallet balance equals the sum of its lines after every cell.")


if __name__ == "__main__":
    main()
