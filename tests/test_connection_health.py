"""`CONN_HEALTH_CHECKS` without a `SELECT 1` for a connection seen alive
(`offbrand/postgresql/base.py`): a connection the server ended is still replaced
before a request uses it."""

import select
import time

import psycopg
import pytest
from django.db import connection

from accounts.models import User

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend"),
]


def a_request_starts():
    """What `close_old_connections` does on `request_started` (the test client skips it)."""
    connection.close_if_unusable_or_obsolete()


@pytest.fixture
def asked(monkeypatch):
    """How many times the connection was asked `SELECT 1`."""
    calls = []
    usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: calls.append(1) or usable())
    return calls


def end_from_the_server(backend_pid: int) -> None:
    """The server ends the session, as a restart or an idle timeout does."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    assert poller.poll(5000), "the server's goodbye never arrived"


def test_a_connection_the_server_ended_is_replaced_before_the_next_request(asked):
    a_request_starts()
    User.objects.count()
    ended = connection.connection.info.backend_pid
    end_from_the_server(ended)
    a_request_starts()
    assert User.objects.count() == 0  # no error: a fresh connection answered
    assert connection.connection.info.backend_pid != ended
    assert asked == [1]


def test_a_connection_that_just_answered_is_not_asked_select_1(asked):
    a_request_starts()
    User.objects.count()
    for _ in range(3):
        a_request_starts()
        User.objects.count()
    assert asked == []


def test_a_connection_quiet_for_longer_is_asked_select_1(asked):
    a_request_starts()
    User.objects.count()
    connection.answered = (connection.connection, time.monotonic() - 2)
    a_request_starts()
    User.objects.count()
    assert asked == [1]


def test_a_connection_psycopg_knows_is_lost_is_replaced_not_a_500(asked):
    """A query past its deadline leaves the connection lost (the watchdog ends it,
    or the server did): the next request's check must replace it. It used to ask
    the lost socket for its number first, and psycopg's error escaped Django's
    handler: every later request of that worker was a 500."""
    a_request_starts()
    User.objects.count()
    connection.errors_occurred = True  # as the query past its deadline left it
    connection.connection.pgconn.finish()  # lost: psycopg has no socket for it any more
    a_request_starts()
    assert User.objects.count() == 0  # a fresh connection answered


def test_a_socket_psycopg_refuses_to_name_means_asking_not_a_500(asked, monkeypatch):
    """The shortcut asks psycopg for the socket number too: if psycopg says the
    connection is gone between its `closed` flag and that call, the request
    falls back to `SELECT 1` instead of letting psycopg's error escape."""
    a_request_starts()
    User.objects.count()

    def gone():
        raise psycopg.OperationalError("the connection is lost")

    monkeypatch.setattr(connection.connection, "fileno", gone)
    a_request_starts()
    assert User.objects.count() == 0
    assert asked == [1]
