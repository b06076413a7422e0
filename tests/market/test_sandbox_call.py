"""sandbox.call_limited: a call in a forked child, its result or exception brought back, killed past its limits."""

import os
import time

import pytest

from marketplace.market import sandbox
from sparql import AnswerTooLarge


def _children() -> set[int]:
    with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children", encoding="ascii") as f:
        return {int(pid) for pid in f.read().split()}


def test_the_result_comes_back_and_the_child_is_reaped():
    before = _children()
    assert sandbox.call_limited(lambda: {"rows": [1, 2, 3]}, seconds=10, max_bytes=10_000, max_memory=10**8) == {
        "rows": [1, 2, 3]
    }
    assert _children() == before


def test_the_child_s_exception_is_raised_in_the_parent():
    def too_large():
        raise AnswerTooLarge("its answer has more than 2 rows")

    with pytest.raises(AnswerTooLarge, match="more than 2 rows"):
        sandbox.call_limited(too_large, seconds=10, max_bytes=10_000, max_memory=10**8)

    class Unpicklable(Exception):  # a local class does not pickle: its words come back
        pass

    def odd():
        raise Unpicklable("odd")

    with pytest.raises(RuntimeError, match="Unpicklable: odd"):
        sandbox.call_limited(odd, seconds=10, max_bytes=10_000, max_memory=10**8)


@pytest.mark.parametrize(
    ("call", "kind"),
    [
        (lambda: time.sleep(3600), "time"),
        (lambda: bytearray(200_000_000), "memory"),
        (lambda: b"x" * 100_000, "size"),
    ],
)
def test_a_call_past_a_limit_is_stopped(call, kind):
    before = _children()
    started = time.monotonic()
    with pytest.raises(sandbox.LimitExceeded) as raised:
        sandbox.call_limited(call, seconds=1.0, max_bytes=10_000, max_memory=50_000_000)
    assert raised.value.kind == kind
    assert time.monotonic() - started < 5
    assert _children() == before
