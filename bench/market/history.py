"""A buyer with a long history: the hourly quota check (every ask) and the first page of their queries, with
the (buyer, newest first) index on query jobs and without it, in the same run.

    psql -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS mkt_history" -c "CREATE DATABASE mkt_history"
    .venv/bin/python bench/market/history.py --database-url postgres://postgres@127.0.0.1:5432/mkt_history

Jobs are inserted with SQL (one a minute, going back in time), not run: only their rows matter here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench")


def timed(call, repeat: int) -> float:
    """Median milliseconds of `repeat` calls after one warm-up."""
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1_000, 10_000, 200_000])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from marketplace.accounts.models import User
    from marketplace.market.models import QueryJob
    from marketplace.market.selectors import jobs_of

    call_command("migrate", verbosity=0)
    buyer = User.objects.create_user("history-buyer", "history@example.org", "x")
    other = User.objects.create_user("other-buyer", "other@example.org", "x")
    index = next(i for i in QueryJob._meta.indexes if i.name == "queryjob_buyer_recent")
    table = QueryJob._meta.db_table

    def insert(user, count: int, offset: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (id, buyer_id, query, kind, include, exclude, strategy, via, status, error, "
                "progress, notes, variables, rows_available, cancel_requested, created_at) "
                "SELECT md5(random()::text || g)::uuid, %s, 'SELECT * WHERE { ?s ?p ?o }', 'SELECT', '[]', '[]', "
                "'auto', 'api', 'quoted', '', '{}', '[]', '[]', 0, false, now() - (g || ' minutes')::interval "
                "FROM generate_series(%s, %s) g",
                [user.pk, offset + 1, offset + count],
            )
            cursor.execute(f"ANALYZE {table}")

    def quota() -> int:
        hour_ago = timezone.now() - timedelta(hours=1)
        return QueryJob.objects.filter(buyer=buyer, created_at__gte=hour_ago).count()

    def first_page() -> list:
        return list(jobs_of(buyer=buyer)[:20])

    print("| buyer's jobs | step | without the index (ms) | with it (ms) | with / without |")
    print("| ---: | --- | ---: | ---: | ---: |")
    done = 0
    for total in args.jobs:
        insert(buyer, total - done, done)
        insert(other, total - done, done)  # another buyer as busy, so the table is twice the buyer's history
        done = total
        for label, call in (("hourly quota (every ask)", quota), ("first page of their queries", first_page)):
            with_index = timed(call, args.repeat)
            with connection.schema_editor() as editor:
                editor.remove_index(QueryJob, index)
            without = timed(call, args.repeat)
            with connection.schema_editor() as editor:
                editor.add_index(QueryJob, index)
            print(f"| {total:,} | {label} | {without:.2f} | {with_index:.2f} | {with_index / without:.3f} |")


if __name__ == "__main__":
    main()
