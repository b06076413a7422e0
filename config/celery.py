"""The Celery application; tasks are thin wrappers around services."""

import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
@worker_process_init.connect
def _freeze_startup_heap(**kwargs) -> None:
    # the worker's own process (thread pool) and each forked child (prefork pool)
    from .heap import freeze_startup_heap

    freeze_startup_heap()
