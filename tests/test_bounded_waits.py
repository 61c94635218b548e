"""Bounded waits: every wait on PostgreSQL and Redis has an end, each failure is tried
once per request, /healthz answers within a second, and an outage logs one line per cause.

The same with real frozen and unreachable servers: tests/test_outages.py.
"""

import io
import logging
import threading
import time

import pytest
from django.contrib import auth
from django.db import OperationalError
from redis.exceptions import RedisError

from harness.servers import Blackhole
from offbrand import views
from offbrand.health import Prober
from offbrand.logfilters import OutageFilter
from tests.test_deploy_settings import fresh_settings

POSTGRES = "postgres://offbrand@db.example.com:5432/offbrand"


def test_postgres_connections_carry_every_timeout_by_default():
    found = fresh_settings("DATABASES", "DATABASE_CLIENT_TIMEOUT", DATABASE_URL=POSTGRES)
    database = found["DATABASES"]["default"]
    assert database["ENGINE"] == "offbrand.postgresql"
    assert database["OPTIONS"] == {
        "connect_timeout": 3,
        "options": "-c statement_timeout=5000",
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": 5000,
    }
    assert found["DATABASE_CLIENT_TIMEOUT"] == 6.0


def test_every_postgres_timeout_is_set_from_the_environment():
    found = fresh_settings(
        "DATABASES",
        "DATABASE_CLIENT_TIMEOUT",
        DATABASE_URL=POSTGRES,
        DATABASE_CONNECT_TIMEOUT="2",
        DATABASE_STATEMENT_TIMEOUT="1500",
        DATABASE_KEEPALIVES_IDLE="4",
        DATABASE_KEEPALIVES_INTERVAL="2",
        DATABASE_KEEPALIVES_COUNT="2",
        DATABASE_TCP_USER_TIMEOUT="3000",
        DATABASE_CLIENT_TIMEOUT="2.5",
    )
    options = found["DATABASES"]["default"]["OPTIONS"]
    assert options["connect_timeout"] == 2
    assert options["options"] == "-c statement_timeout=1500"
    assert (options["keepalives_idle"], options["keepalives_interval"]) == (4, 2)
    assert (options["keepalives_count"], options["tcp_user_timeout"]) == (2, 3000)
    assert found["DATABASE_CLIENT_TIMEOUT"] == 2.5


def test_redis_calls_time_out_quickly_and_are_not_retried():
    found = fresh_settings("CACHES", REDIS_URL="redis://127.0.0.1:6379/3")
    assert found["CACHES"]["default"]["BACKEND"] == "offbrand.cache.RedisCache"
    assert found["CACHES"]["default"]["OPTIONS"] == {
        "socket_connect_timeout": 0.5,
        "socket_timeout": 0.5,
        "retry_on_timeout": False,
        "retry": None,
        "fail_fast": 1.0,
    }
    found = fresh_settings(
        "CACHES",
        REDIS_URL="redis://127.0.0.1:6379/3",
        REDIS_CONNECT_TIMEOUT="0.2",
        REDIS_SOCKET_TIMEOUT="0.3",
        REDIS_FAIL_FAST="5",
    )
    options = found["CACHES"]["default"]["OPTIONS"]
    assert (options["socket_connect_timeout"], options["socket_timeout"]) == (0.2, 0.3)
    assert options["fail_fast"] == 5.0


def test_after_a_redis_failure_a_process_fails_fast_then_tries_again():
    """A request that asks Redis twice waits for one timeout, not two."""
    from offbrand.cache import RedisCache

    with Blackhole() as hole:
        cache = RedisCache(
            f"redis://127.0.0.1:{hole.port}/0",
            {"OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3, "fail_fast": 1}},
        )
        started = time.monotonic()
        for _ in range(5):
            with pytest.raises(RedisError):
                cache.get("limit:ip:203.0.113.9")
        assert time.monotonic() - started < 0.6  # one 0.3 s timeout, then at once
        time.sleep(1.05)
        started = time.monotonic()
        with pytest.raises(RedisError, match="Timeout"):
            cache.get("limit:ip:203.0.113.9")  # tried again
        assert time.monotonic() - started >= 0.25


def test_an_unreachable_database_is_tried_once_per_signed_in_request(member_client, monkeypatch):
    attempts = []

    def unreachable(request):
        attempts.append(request.path)
        raise OperationalError("connection to server at 10.255.255.1 failed: timeout expired")

    monkeypatch.setattr(auth, "get_user", unreachable)
    member_client.raise_request_exception = False
    response = member_client.get("/accounts/profile/")
    assert response.status_code == 503
    assert "Back in a moment" in response.content.decode()
    assert attempts == ["/accounts/profile/"]


def stuck(release: threading.Event):
    def check():
        release.wait(10)
        return {}

    return check


def test_healthz_answers_503_within_a_second_while_the_database_does_not_answer(
    client, db, monkeypatch
):
    release = threading.Event()
    prober = Prober("database", stuck(release), cleanup=lambda: None)
    monkeypatch.setattr(views, "PROBERS", [prober, views.PROBERS[1]])
    threads = []
    try:
        for _ in range(3):
            started = time.monotonic()
            response = client.get("/healthz")
            assert time.monotonic() - started < 1.0
            assert response.status_code == 503
            assert response.json()["database"] == "timeout"
            threads.append(threading.active_count())
        # A stuck check is waited on again, not started again.
        assert threads[0] == threads[-1]
    finally:
        release.set()
    assert wait_for(lambda: client.get("/healthz").status_code == 200)


def test_healthz_answers_503_within_a_second_while_the_cache_does_not_answer(
    client, db, monkeypatch
):
    release = threading.Event()
    prober = Prober("cache", stuck(release), cleanup=lambda: None)
    monkeypatch.setattr(views, "PROBERS", [views.PROBERS[0], prober])
    try:
        started = time.monotonic()
        response = client.get("/healthz")
        assert time.monotonic() - started < 1.0
        assert response.status_code == 503
        assert response.json()["cache"] == "timeout"
        assert response.json()["database"] == "ok"
    finally:
        release.set()


def wait_for(predicate, seconds=5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def site_log():
    """What the console handler of the production LOGGING writes, filter included."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(OutageFilter(window=60))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_an_outage_logs_one_line_with_the_cause_not_a_flood(member_client, monkeypatch, site_log):
    def unreachable(request):
        raise OperationalError("connection to server at 10.255.255.1 failed: timeout expired")

    monkeypatch.setattr(auth, "get_user", unreachable)
    member_client.raise_request_exception = False
    for _ in range(30):
        assert member_client.get("/accounts/profile/").status_code == 503
    lines = site_log.getvalue().splitlines()
    assert "Traceback" not in site_log.getvalue()
    assert len(lines) == 1, lines
    assert "10.255.255.1 failed: timeout expired" in lines[0]


def test_the_next_line_of_an_outage_counts_what_was_held_back():
    records = []
    log = logging.getLogger("offbrand.test_outage")
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(OutageFilter(window=0.2))
    log.addHandler(handler)
    try:
        for _ in range(5):
            log.error("Database unavailable: %s", OperationalError("refused"))
        time.sleep(0.25)
        log.error("Database unavailable: %s", OperationalError("refused"))
        log.error("A bug, not an outage: %s", ValueError("x"))
    finally:
        log.removeHandler(handler)
    messages = [record.getMessage() for record in records]
    assert messages == [
        "Database unavailable: refused",
        "Database unavailable: refused [and 4 more like this in the last 0 s]",
        "A bug, not an outage: x",
    ]
