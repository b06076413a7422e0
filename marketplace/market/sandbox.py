"""Running a query from anyone within a time, memory and size limit: in a forked child, killed past the limit.
(``run_limited`` for a catalog query; ``call_limited`` for any call, e.g. a data query's last step.)

pyoxigraph cannot be interrupted once a query runs, and the catalog endpoint is free and needs no sign-in: a
query joining the catalog with itself six times would otherwise hold a web thread, and a core, for days. The
child inherits the store built for the request (copy on write), runs the query, writes the serialised answer
to a pipe and exits without running any of the parent's clean-up; the parent reads with a deadline and kills
the child past it or past the size limit.
"""

from __future__ import annotations

import faulthandler
import json
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pyoxigraph as ox


@dataclass
class Outcome:
    status: int  # HTTP status: 200, or the error's
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


class Rendered(Exception):
    """Raised by a renderer to answer with an error status (e.g. 406) instead of results."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


Renderer = Callable[[object], tuple[bytes, str]]  # pyoxigraph answer -> (body, content type)
T = TypeVar("T")


def run_limited(
    store: ox.Store, query: str, render: Renderer, *, seconds: float, max_bytes: int, max_memory: int
) -> Outcome:
    """``render`` turns the answer into bytes (it may raise Rendered, SyntaxError, OSError or ValueError)."""
    data, refused, status = _forked(lambda out: _child(store, query, render, out, max_memory), seconds, max_bytes)
    return refused or _outcome(data, status)


def _forked(child: Callable[[int], None], seconds: float, max_bytes: int) -> tuple[bytes, Outcome | None, int]:
    """Fork; ``child(fd)`` writes to the pipe and exits. What it wrote, the refusal (time or size), and its exit
    status, once reaped: no child is left running, nor a zombie, whatever happens here."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # the child: never returns
        os.close(read_end)
        child(write_end)
    os.close(write_end)
    try:
        data, refused = _read(read_end, seconds, max_bytes)
    except BaseException:  # interrupted while waiting
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(read_end)
    if refused is not None:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return data, refused, status


def _child(store: ox.Store, query: str, render: Renderer, out: int, max_memory: int) -> None:
    def answer() -> bytes:
        try:
            body, content_type = render(store.query(query))
            head = {"status": 200, "content_type": content_type}
        except Rendered as exc:
            body, head = str(exc).encode(), {"status": exc.status}
        except SyntaxError as exc:
            body, head = f"The query does not parse: {exc}".encode(), {"status": 400}
        except MemoryError:
            body, head = b"The query needs more memory than this endpoint allows.", {"status": 413}
        except (OSError, ValueError) as exc:
            body, head = f"The query could not be evaluated: {exc}".encode(), {"status": 400}
        return json.dumps(head).encode() + b"\n" + body

    _write_and_exit(answer, out, max_memory)


def _write_and_exit(produce: Callable[[], bytes], out: int, max_memory: int) -> None:
    """In the child: limit its memory, write what ``produce`` makes to the pipe, and exit."""
    code = 0
    try:
        _limit_memory(max_memory)
        _write_all(out, produce())
    except BaseException:  # noqa: BLE001 - the parent reports a child that wrote nothing
        code = 1
    finally:
        os._exit(code)  # no atexit, no Django clean-up, no flushing of the parent's buffers


class LimitExceeded(Exception):
    """A call in a child ran past a limit; ``kind``: "time", "memory" or "size"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self):  # raised in the child, pickled to the parent
        return type(self), (self.kind, str(self))


def call_limited(fn: Callable[[], T], *, seconds: float, max_bytes: int, max_memory: int) -> T:
    """``fn()`` in a forked child, killed past the limits (LimitExceeded); what it returns, pickled, or the
    exception it raised, raised here. ``max_bytes`` bounds the pickled result."""
    data, refused, status = _forked(lambda out: _call_in_child(fn, out, max_memory), seconds, max_bytes)
    if refused is not None:
        raise LimitExceeded("time" if refused.status == 504 else "size", refused.body.decode())
    head, _, body = data.partition(b"\n")
    if head not in (b"returned", b"raised"):  # died before writing: killed for memory, or crashed
        if os.WIFSIGNALED(status):
            raise LimitExceeded("memory", f"it needed more than {max_memory:,} bytes of memory")
        raise RuntimeError("the child process ended without an answer")
    value = pickle.loads(body)  # written by our own child
    if head == b"raised":
        raise value
    return value


def _call_in_child(fn: Callable[[], object], out: int, max_memory: int) -> None:
    def result() -> bytes:
        try:
            head, payload = b"returned", pickle.dumps(fn(), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            error = LimitExceeded("memory", f"it needed more than {max_memory:,} bytes of memory")
            head, payload = b"raised", pickle.dumps(error)
        except Exception as exc:  # noqa: BLE001 - raised again in the parent
            try:
                head, payload = b"raised", pickle.dumps(exc)
            except Exception:  # noqa: BLE001 - an exception that does not pickle: its words
                head, payload = b"raised", pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        return head + b"\n" + payload

    _write_and_exit(result, out, max_memory)


def _limit_memory(max_memory: int) -> None:
    # on top of what the child shares with its parent already: the limit counts the whole address space
    limit = _address_space() + max_memory
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # Oxigraph aborts when an allocation fails: no core dump of the web process's image, no traceback
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    faulthandler.disable()


def _address_space() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BrokenPipeError:  # the parent gave up on us
            return
        view = view[written:]


def _read(fd: int, seconds: float, max_bytes: int) -> tuple[bytes, Outcome | None]:
    """What the child wrote, or the refusal when it ran past the time or size limit."""
    deadline = time.monotonic() + seconds
    poller = select.poll()  # not select.select: a busy web process may hold file descriptors past 1024
    poller.register(fd, select.POLLIN)
    chunks: list[bytes] = []
    size = 0
    head_size = None  # the header line's length, once read
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            return b"", Outcome(504, f"The query ran longer than this endpoint allows ({seconds:g} s).".encode())
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), None
        chunks.append(chunk)
        size += len(chunk)
        if head_size is None and b"\n" in chunk:
            head_size = size - len(chunk) + chunk.index(b"\n") + 1
        if size - (head_size or 0) > max_bytes:
            message = f"The answer is larger than this endpoint returns ({max_bytes:,} bytes); add a LIMIT."
            return b"", Outcome(413, message.encode())


def _outcome(data: bytes, status: int) -> Outcome:
    head, _, body = data.partition(b"\n")
    try:
        meta = json.loads(head)
    except ValueError:  # the child died before writing (killed for memory, or crashed)
        if os.WIFSIGNALED(status):
            return Outcome(413, b"The query needed more than this endpoint's limits allow.")
        return Outcome(500, b"The query could not be evaluated.")
    return Outcome(meta["status"], body, meta.get("content_type", "text/plain; charset=utf-8"))
