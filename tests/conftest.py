"""Fixtures shared by every test: a real Celery worker on the test database, users and publishers."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    """Poll instead of sleeping: return the predicate's first truthy value, fail after the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@pytest.fixture(autouse=True)
def _query_watchers_only_where_they_can_see_the_job(request, monkeypatch):
    """A query job's watcher claims the job from its own database connection, which cannot see the rows a
    test's transaction holds. Past WATCH_AFTER a timer starts it, so a job run slowly (a loaded machine) in such
    a test would find its job gone and stop: there it starts only where the test asks for it."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        in_transaction = not marker.kwargs.get("transaction")
    else:
        in_transaction = "db" in request.fixturenames and "transactional_db" not in request.fixturenames
    if in_transaction:
        from marketplace.market.services import queries

        monkeypatch.setattr(queries, "WATCH_AFTER", 3600.0)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real `celery worker` process using the test database and the configured broker.

    Tests that use it need committed data: mark them `transactional_db` (or use the `worker` fixture)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        pytest.fail("Worker tests need PostgreSQL: set DATABASE_URL (the README's test command does).")
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env.setdefault("SECRET_KEY", "test-secret")
    # The worker shares the test process's folders; tests point it at SPARQL servers on loopback.
    env["VAR_DIR"] = str(settings.VAR_DIR)
    env["RDF_STORE_ROOT"] = str(settings.RDF_STORE_ROOT)
    env["UPLOAD_TMP_ROOT"] = str(settings.UPLOAD_TMP_ROOT)
    env["ALLOW_PRIVATE_ENDPOINTS"] = "1"
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=threads",
                "--concurrency=4",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_until(lambda: b"ready" in log.read_bytes() or process.poll() is not None, timeout=60, message="celery worker")
    if process.poll() is not None:
        pytest.fail(f"The Celery worker did not start:\n{log.read_text()[-3000:]}")
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def worker(celery_worker_process, transactional_db):
    return celery_worker_process


@pytest.fixture
def make_user(db):
    from marketplace.accounts.models import User

    def make(username: str = "buyer", **extra):
        user = User.objects.create_user(
            username=username, email=f"{username}@example.org", password="pw-Secret-123", **extra
        )
        return user

    return make


@pytest.fixture
def publisher(db, make_user):
    """An approved publisher organisation with one owner (`publisher.owner`)."""
    from marketplace.accounts.services import organisation_apply, organisation_approve

    owner = make_user("alice")
    organisation = organisation_apply(user=owner, name="Acme Data")
    organisation_approve(organisation=organisation, by=None)
    organisation.owner = owner
    return organisation


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
