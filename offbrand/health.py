"""Answering `/healthz` within a second, whatever PostgreSQL and Redis do.

Each dependency is checked by its own long-lived thread (one per process,
keeping its own database connection). A health request asks both at once and
waits at most HEALTHZ_TIMEOUT seconds: a dependency that has not answered by
then is reported as "timeout". While a check is still stuck from an earlier
request, a new request waits on that same check rather than starting another,
so a frozen dependency never piles up threads or connections.
"""

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable


class Pending:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome: tuple[str, object] = ("timeout", None)


class Prober:
    """Runs `check` in a thread of its own; `ask` returns ("ok", value), ("down", cause)
    or ("timeout", None)."""

    def __init__(self, name: str, check: Callable[[], object], cleanup: Callable[[], None]):
        self.name = name
        self.check = check
        self.cleanup = cleanup  # after a failure: drop the broken connection
        self._lock = threading.Lock()
        self._pending: Pending | None = None
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._pid = None

    def start(self) -> Pending:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked gunicorn worker
                self._pid = os.getpid()
                self._requests = queue.SimpleQueue()
                self._pending = None
                threading.Thread(target=self._run, name=f"healthz-{self.name}", daemon=True).start()
            if self._pending is None:
                self._pending = Pending()
                self._requests.put(self._pending)
            return self._pending

    def release(self, timeout: float = 2.0) -> None:
        """Close the checking thread's connection (before a test database is dropped)."""
        if self._pid != os.getpid():
            return
        order = Pending()
        order.release = True
        self._requests.put(order)
        order.done.wait(timeout)

    def _run(self) -> None:
        while True:
            pending = self._requests.get()
            if getattr(pending, "release", False):
                with contextlib.suppress(Exception):
                    self.cleanup()
                pending.done.set()
                continue
            try:
                outcome = ("ok", self.check())
            except Exception as error:  # any failure is the answer
                outcome = ("down", error)
                with contextlib.suppress(Exception):  # the connection is already broken
                    self.cleanup()
            with self._lock:
                if self._pending is pending:
                    self._pending = None
            pending.outcome = outcome
            pending.done.set()


def ask_all(probers: list[Prober], timeout: float) -> dict[str, tuple[str, object]]:
    """Start every check at once; wait for all of them, `timeout` seconds in all."""
    deadline = time.monotonic() + timeout
    started = {prober.name: prober.start() for prober in probers}
    outcomes = {}
    for name, pending in started.items():
        pending.done.wait(max(0.0, deadline - time.monotonic()))
        outcomes[name] = pending.outcome if pending.done.is_set() else ("timeout", None)
    return outcomes
