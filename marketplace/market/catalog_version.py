"""The catalog version: a number that changes in the same commit as anything the market prices from.

A worker keeps the catalog it read (datasets on sale, publishers, price models, summaries, the platform fee)
for as long as this number stays the same, instead of reading it for every query. The database bumps it
with triggers, so that no write (the ORM, a queryset update, the admin, raw SQL) can leave a worker pricing
with an old tariff. The triggers are (re)installed after every `migrate`: a table that SQLite rebuilds to
alter it loses its triggers, and the next migrate puts them back.

On PostgreSQL the triggers are deferred to commit: the version row is locked only while a writer commits,
after all its other locks, so writers of different catalog rows never deadlock on it."""

from __future__ import annotations

import time

from django.apps import apps
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

TRIGGER = "market_catalog_version"
# The next version: one more, and at least the time in microseconds, so that a version row created again
# (a flushed or restored database) never repeats a number a process may still keep a catalog under.
_LATER = {
    "postgresql": "GREATEST(version + 1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)",
    "sqlite": "max(version + 1, CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER))",
}
SUPPORTED = ("postgresql", "sqlite")
WATCHED = (
    ("catalog", "Dataset"),
    ("catalog", "DatasetSummary"),
    ("accounts", "Organisation"),
    ("market", "PriceModel"),
    ("money", "FeeRate"),
)


def watched_tables() -> list[str]:
    return [apps.get_model(app, model)._meta.db_table for app, model in WATCHED]


def _version_table() -> str:
    return apps.get_model("market", "CatalogVersion")._meta.db_table


def install(connection: BaseDatabaseWrapper) -> None:
    """Create the version row and the triggers where they are missing; safe to run any number of times."""
    if connection.vendor not in SUPPORTED:
        return
    qn = connection.ops.quote_name
    version = qn(_version_table())
    bump = f"UPDATE {version} SET version = {_LATER[connection.vendor]} WHERE id = 1"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {version} (id, version) VALUES (1, %s) ON CONFLICT (id) DO NOTHING",
            [time.time_ns() // 1000],
        )
        if connection.vendor == "sqlite":
            for table in watched_tables():
                for event in ("INSERT", "UPDATE", "DELETE"):
                    cursor.execute(
                        f"CREATE TRIGGER IF NOT EXISTS {TRIGGER}_{table}_{event.lower()} AFTER {event} ON {qn(table)} "
                        f"BEGIN {bump}; END"
                    )
            return
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {bump}; RETURN NULL; END $$"
        )
        cursor.execute("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE tgname LIKE %s", [f"{TRIGGER}%"])
        present = {(table.strip('"'), name) for table, name in cursor.fetchall()}
        for table in watched_tables():
            if (table, TRIGGER) not in present:
                cursor.execute(
                    f"CREATE CONSTRAINT TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {qn(table)} "
                    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()"
                )
            if (table, f"{TRIGGER}_truncate") not in present:
                cursor.execute(
                    f"CREATE TRIGGER {TRIGGER}_truncate AFTER TRUNCATE ON {qn(table)} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()"
                )


def current(connection: BaseDatabaseWrapper) -> int | None:
    """The version now, or None where the database keeps none (another engine, or not migrated yet)."""
    if connection.vendor not in SUPPORTED:
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {connection.ops.quote_name(_version_table())} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def install_after_migrate(sender, using: str = "default", **kwargs) -> None:
    install(connections[using])


def installed_on(connection: BaseDatabaseWrapper) -> set[str]:
    """The watched tables that have their triggers (for the checks and tests)."""
    tables = watched_tables()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", [f"{TRIGGER}%"]
            )
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = %s", [TRIGGER])
        else:
            return set()
        return {row[0].strip('"') for row in cursor.fetchall()} & set(tables)
