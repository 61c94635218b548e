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
import select
import socket
import threading
import time
import weakref

from django.conf import settings
from django.db.backends.postgresql import base
from psycopg import pq


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
        self.answered = None  # (connection, time.monotonic()) of the last round trip answered
        self.execute_wrappers.append(self._execute_within_deadline)

    @property
    def deadline_seconds(self) -> float:
        return settings.DATABASE_CLIENT_TIMEOUT

    @contextlib.contextmanager
    def within_deadline(self, limit: float | None = None):
        seconds = self.deadline_seconds
        if seconds and limit:
            seconds = min(seconds, limit)
        try:
            # A connection psycopg knows is lost has no socket to watch; the call
            # itself then fails with an error Django wraps (and `is_usable` says
            # no), instead of psycopg's escaping before Django's handler runs.
            socket_number = None if self.connection is None else self.connection.fileno()
        except self.Database.Error:
            socket_number = None
        if not seconds or socket_number is None or self.alarm is not None:
            yield
            self.answered = (self.connection, time.monotonic())
            return
        alarm = (time.monotonic() + seconds, socket_number)
        WATCHDOG.watch(self)
        self.alarm = alarm
        try:
            yield
            self.answered = (self.connection, time.monotonic())
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

    # A connection that answered this recently and has nothing unread is not
    # asked `SELECT 1` before a request's first query.
    QUIET_HEALTH_SECONDS = 1.0

    def close_if_health_check_failed(self):
        """`CONN_HEALTH_CHECKS` without a round trip for a connection seen alive.

        A server that restarts, or ends a session (`pg_terminate_backend`, an
        idle timeout, a pooler going away), sends its error and closes the
        socket: the socket has something to read before we asked anything.
        So a connection that answered less than `QUIET_HEALTH_SECONDS` ago, is
        idle, and has nothing to read is healthy as far as `SELECT 1` could
        tell, and is used without asking. Anything else -- readable, idle
        longer (where a silent network drop hides), not idle -- is asked
        `SELECT 1` as Django does, and replaced when it fails.
        """
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and self._seen_alive()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _seen_alive(self) -> bool:
        connection = self.connection
        if self.answered is None or self.answered[0] is not connection:
            return False
        if time.monotonic() - self.answered[1] >= self.QUIET_HEALTH_SECONDS:
            return False
        if connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return False
        try:
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)  # nothing unread: no goodbye from the server
        except (OSError, ValueError, self.Database.Error):
            # No socket to watch (psycopg says the connection is gone): ask instead.
            return False

    def is_usable(self):
        # The health check before a request's first query: a connection that
        # takes a second to answer SELECT 1 is replaced rather than waited on.
        with self.within_deadline(limit=1.0):
            return super().is_usable()
