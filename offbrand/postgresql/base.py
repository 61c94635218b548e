"""Django's PostgreSQL backend, with a client-side deadline on every round trip.

`statement_timeout` is enforced by the server, and TCP keepalives and
`tcp_user_timeout` by the kernel; neither helps when the server process is
alive on the network but does not answer (frozen, swapping, stuck on a disk):
the kernel acknowledges every packet and psycopg waits for ever. Here each
query, commit, rollback and health check arms a deadline; a watchdog thread
shuts the connection's socket down when one passes, so the waiting call fails
at once with an `OperationalError` that names the cause.
"""

import contextlib
import os
import socket
import threading
import time
import weakref

from django.conf import settings
from django.db.backends.postgresql import base


class Watchdog:
    """One thread per process that breaks the connections whose deadline passed."""

    TICK = 0.1  # seconds between looks: the precision of every deadline

    def __init__(self) -> None:
        self._watched: weakref.WeakSet = weakref.WeakSet()
        self._lock = threading.Lock()
        self._pid = None

    def watch(self, wrapper: "DatabaseWrapper") -> None:
        if wrapper in self._watched:
            return
        with self._lock:
            self._watched.add(wrapper)
            if self._pid != os.getpid():  # first use, or a forked child
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="db-deadline", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self._lock:
                wrappers = list(self._watched)
            for wrapper in wrappers:
                alarm = wrapper.alarm
                if alarm is not None and alarm[0] <= now:
                    wrapper.fired = alarm
                    break_socket(alarm[1])


def break_socket(fileno: int) -> None:
    """Shut a socket down under its owner: its blocked read returns at once."""
    with contextlib.suppress(OSError):
        sock = socket.socket(fileno=os.dup(fileno))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()


WATCHDOG = Watchdog()


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.alarm = None  # (deadline, socket) of the round trip in progress
        self.fired = None
        self.execute_wrappers.append(self._execute_within_deadline)

    @property
    def deadline_seconds(self) -> float:
        return settings.DATABASE_CLIENT_TIMEOUT

    @contextlib.contextmanager
    def within_deadline(self, limit: float | None = None):
        seconds = self.deadline_seconds
        if seconds and limit:
            seconds = min(seconds, limit)
        if not seconds or self.connection is None or self.alarm is not None:
            yield
            return
        alarm = (time.monotonic() + seconds, self.connection.fileno())
        WATCHDOG.watch(self)
        self.alarm = alarm
        try:
            yield
        except Exception as error:
            if self.fired is alarm:
                raise type(error)(
                    f"PostgreSQL did not answer within {seconds:g} s (DATABASE_CLIENT_TIMEOUT)"
                ) from error
            raise
        finally:
            self.alarm = None

    def _execute_within_deadline(self, execute, sql, params, many, context):
        with self.within_deadline():
            return execute(sql, params, many, context)

    def init_connection_state(self):
        with self.within_deadline():
            return super().init_connection_state()

    def _commit(self):
        with self.within_deadline():
            return super()._commit()

    def _rollback(self):
        with self.within_deadline():
            return super()._rollback()

    def _set_autocommit(self, autocommit):
        with self.within_deadline():
            return super()._set_autocommit(autocommit)

    def is_usable(self):
        # The health check before a request's first query: a connection that
        # takes a second to answer SELECT 1 is replaced rather than waited on.
        with self.within_deadline(limit=1.0):
            return super().is_usable()
