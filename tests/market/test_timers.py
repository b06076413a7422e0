"""The market's timers: one thread per process runs callbacks at their time, in order, unless cancelled."""

import multiprocessing
import threading
import time

from marketplace.market.services import timers


def test_callbacks_run_at_their_time_in_order_and_cancelled_ones_do_not():
    ran: list[str] = []
    done = threading.Event()
    start = time.monotonic()
    timers.call_later(0.2, lambda: ran.append("second"))
    cancelled = timers.call_later(0.1, lambda: ran.append("cancelled"))
    timers.call_later(0.05, lambda: ran.append("first"))
    timers.call_later(0.3, done.set)
    cancelled.cancel()
    assert done.wait(5)
    assert ran == ["first", "second"]
    assert time.monotonic() - start >= 0.3


def test_a_failing_callback_does_not_stop_the_others(caplog):
    done = threading.Event()
    timers.call_later(0.0, lambda: 1 / 0)
    timers.call_later(0.01, done.set)
    assert done.wait(5)
    assert "timer callback failed" in caplog.text


def _in_child(result) -> None:
    fired = threading.Event()
    timers.call_later(0.01, fired.set)
    result.put(fired.wait(5))


def test_a_process_forked_after_the_timers_ran_gets_its_own():
    timers.call_later(0.0, lambda: None)  # the parent's thread exists
    context = multiprocessing.get_context("fork")
    result = context.Queue()
    child = context.Process(target=_in_child, args=(result,))
    child.start()
    assert result.get(timeout=10) is True
    child.join(10)
    assert child.exitcode == 0
