"""Loaded as a pytest plugin (`-p tests.environment`) before Django reads its settings.

Each test process gets its own Celery queue, so its worker runs only its tasks, on its own test database."""

import os

os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"tests-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}"
os.environ.setdefault("SECRET_KEY", "tests-only-secret")
