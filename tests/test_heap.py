"""Long-running processes freeze what they loaded at startup (config/heap.py): the web process on import of
config.wsgi, the worker's process and each forked child through Celery's signals."""

from __future__ import annotations

from .fresh_process import check_in_fresh_process

CHECK = """
import sys
import gc
import config.wsgi  # loads Django and freezes, as a web server does
from config.heap import WARM_MODULES

frozen = gc.get_freeze_count()
assert frozen > 50_000, frozen  # Django, rdflib, SciPy...
assert all(name in sys.modules for name in WARM_MODULES)
assert len(gc.get_objects()) < frozen / 10  # what a full collection still walks

from celery.signals import worker_process_init, worker_ready
import config.celery
for signal in (worker_ready, worker_process_init):
    assert any("_freeze_startup_heap" in repr(receiver) for _, receiver, *_ in signal.receivers), signal
print("ok")
"""


def test_the_web_process_freezes_its_startup_heap_and_the_worker_is_wired_to(tmp_path):
    check_in_fresh_process(CHECK, tmp_path)
