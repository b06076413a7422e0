"""Callbacks at a later time from one thread per process: a query job's time limit and the start of its
progress watcher. A thread (or threading.Timer) per job cost 0.1-0.9 ms to start here, more than the rest of
asking a query costs the web process; a job now pays a heap push.

Callbacks run on the timers' thread and must be quick (set an event, start a thread). The thread is started
on first use in each process; a process forked from one that used it starts afresh (the thread is not copied,
and its lock may have been held at the fork).

A cancelled timer stays queued until its time (a few dozen bytes).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Timer:
    """A scheduled callback; ``cancel`` before its time keeps it from running."""

    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class _Timers:
    def __init__(self) -> None:
        self._order = itertools.count()  # ties run in the order they were set
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._changed = threading.Condition()
        self._started = False

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(callback)
        with self._changed:
            if not self._started:
                self._started = True
                threading.Thread(
                    target=self._run, args=(self._changed, self._heap), name="market-timers", daemon=True
                ).start()
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._order), timer))
            self._changed.notify()
        return timer

    @staticmethod
    def _run(changed: threading.Condition, heap: list) -> None:
        while True:
            with changed:
                while not heap or heap[0][0] > time.monotonic():
                    changed.wait(heap[0][0] - time.monotonic() if heap else None)
                _, _, timer = heapq.heappop(heap)
            if timer.cancelled:
                continue
            try:
                timer.callback()
            except Exception:  # one failing callback must not stop the others
                logger.exception("timer callback failed")


_TIMERS = _Timers()


def call_later(delay: float, callback: Callable[[], None]) -> Timer:
    """Run ``callback`` on the timers' thread ``delay`` seconds from now, unless cancelled first."""
    return _TIMERS.call_later(delay, callback)
