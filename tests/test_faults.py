"""Outages, end to end: gunicorn (2 workers, DEBUG off) over a throwaway PostgreSQL and Redis.

The servers are real processes on free ports of 127.0.0.1; the tests stop and
start PostgreSQL and Redis under a running gunicorn, which is never restarted.
A mail server outage is covered by tests/test_email_delivery.py.
"""

import time

import pytest

from tests.servers import (
    MEMBER_PASSWORD,
    MEMBER_USERNAME,
    Client,
    offbrand_stack,
    require_servers,
    shows_signed_in,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.servers]

# A page must answer within this while a backing service is down.
PROMPT = 5.0
# How long the site may take to notice that a service is back.
RECOVERY = 20.0
# After a Redis failure each worker answers from its breaker for REDIS_FAIL_FAST
# seconds (1 s by default, offbrand/cache.py) before it tries Redis again.
REDIS_FAIL_FAST = 1.0


@pytest.fixture(scope="module")
def stack():
    require_servers()
    with offbrand_stack(instances=1) as (cluster, redis, servers):
        yield cluster, redis, servers[0]


@pytest.fixture
def signed_in(stack):
    """A browser with the member signed in on the running server."""
    _, _, server = stack
    browser = Client(server.url)
    reply = browser.sign_in(MEMBER_USERNAME, MEMBER_PASSWORD)
    assert reply.status == 302, reply.text[:500]
    assert shows_signed_in(browser.get("/"), MEMBER_USERNAME)
    return browser


@pytest.fixture
def database_down(stack):
    """PostgreSQL stopped under the running gunicorn; started again afterwards."""
    cluster, _, server = stack
    cluster.stop(mode="fast")
    try:
        yield server
    finally:
        if not cluster.is_running():
            cluster.start()
        wait_until(lambda: Client(server.url).get("/healthz").status == 200, timeout=RECOVERY)


@pytest.fixture
def cache_down(stack):
    """Redis stopped under the running gunicorn; started again afterwards."""
    _, redis, server = stack
    redis.stop()
    try:
        yield server
    finally:
        if redis.process is None:
            redis.start()
        # The next test starts once every worker tries Redis again: a sign-in
        # inside the breaker's second fails closed (429), by design.
        time.sleep(REDIS_FAIL_FAST + 0.2)


def assert_friendly_503(reply, what):
    assert reply.status == 503, f"{what}: {reply.status}\n{reply.text[:500]}"
    assert reply.seconds < PROMPT, f"{what} took {reply.seconds:.1f}s"
    assert "Traceback" not in reply.text


def test_healthz_answers_503_quickly_while_the_database_is_down(database_down):
    for _ in range(4):  # both workers, with and without a pooled connection
        health = Client(database_down.url).get("/healthz")
        assert_friendly_503(health, "/healthz")
        assert '"database": "down"' in health.text


def test_a_signed_in_member_gets_the_friendly_503_while_the_database_is_down(
    signed_in, database_down
):
    for path in ("/", "/", "/accounts/profile/", "/accounts/profile/"):
        page = signed_in.get(path)
        assert_friendly_503(page, f"GET {path} signed in")
        assert "Back in a moment" in page.text
        assert page.headers.get("Retry-After") == "30"


def test_the_site_recovers_by_itself_when_the_database_returns(stack, signed_in):
    cluster, _, server = stack
    anonymous = Client(server.url)
    cluster.stop(mode="fast")
    try:
        assert anonymous.get("/healthz").status == 503
        signed_in.get("/")  # whatever it answers, the workers' connections are now broken
    finally:
        cluster.start()

    assert wait_until(lambda: anonymous.get("/healthz").status == 200, timeout=RECOVERY)
    for _ in range(4):  # every worker reconnects by itself
        assert anonymous.get("/healthz").status == 200
        page = signed_in.get("/")
        assert page.status == 200
        assert shows_signed_in(page, MEMBER_USERNAME)
    assert server.process.poll() is None  # the same gunicorn, never restarted


def test_anonymous_pages_serve_while_the_cache_is_down(cache_down):
    for _ in range(4):
        page = Client(cache_down.url).get("/")
        assert page.status == 200
        assert page.seconds < PROMPT


def test_a_signed_in_member_stays_signed_in_while_the_cache_is_down(signed_in, cache_down):
    # Sessions live in the database: the cached copy is only a shortcut.
    for _ in range(4):
        page = signed_in.get("/")
        assert page.status == 200, f"{page.status}\n{page.text[:500]}"
        assert page.seconds < PROMPT
        assert shows_signed_in(page, MEMBER_USERNAME)


def test_sign_in_fails_closed_while_the_cache_is_down_and_works_once_it_returns(stack):
    _, redis, server = stack
    redis.stop()
    try:
        refused = Client(server.url)
        attempt = refused.sign_in(MEMBER_USERNAME, MEMBER_PASSWORD)
        assert attempt.seconds < PROMPT
        # Fail closed: with the sign-in budget unreadable, nobody signs in.
        assert attempt.status == 429, f"{attempt.status}\n{attempt.text[:500]}"
        assert "Temporarily unavailable" in attempt.text
    finally:
        redis.start()
    assert not shows_signed_in(refused.get("/"), MEMBER_USERNAME)

    browser = Client(server.url)
    assert wait_until(
        lambda: browser.sign_in(MEMBER_USERNAME, MEMBER_PASSWORD).status == 302, timeout=RECOVERY
    )
    assert shows_signed_in(browser.get("/"), MEMBER_USERNAME)
    assert server.process.poll() is None
