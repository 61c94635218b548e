"""Two app servers, one PostgreSQL and one Redis: nothing lives in a single instance.

Both gunicorn instances (2 workers each, DEBUG off) share a throwaway
PostgreSQL cluster and a throwaway Redis on free ports of 127.0.0.1.
"""

import pytest

from accounts.ratelimits import LIMITS
from tests.conftest import wait_for_a_fresh_window
from tests.servers import (
    MEMBER_PASSWORD,
    MEMBER_USERNAME,
    Client,
    offbrand_stack,
    require_servers,
    shows_signed_in,
)

pytestmark = [pytest.mark.postgres, pytest.mark.servers]


@pytest.fixture(scope="module")
def instances():
    require_servers()
    with offbrand_stack(instances=2) as (_, _, servers):
        yield servers


def on(server, cookies: dict) -> Client:
    """A browser pointed at `server`, carrying `cookies` from another one."""
    browser = Client(server.url)
    browser.cookies.update(cookies)
    return browser


def test_a_session_made_on_one_instance_is_signed_in_on_the_other(instances):
    a, b = instances
    browser_a = Client(a.url)
    assert browser_a.sign_in(MEMBER_USERNAME, MEMBER_PASSWORD).status == 302
    assert "sessionid" in browser_a.cookies

    browser_b = on(b, browser_a.cookies)
    assert shows_signed_in(browser_b.get("/"), MEMBER_USERNAME)
    assert browser_b.get("/accounts/profile/").status == 200
    # And back: whatever B did to the session, A still knows the member.
    assert shows_signed_in(on(a, browser_b.cookies).get("/"), MEMBER_USERNAME)


def test_failed_sign_ins_lock_the_account_across_instances(instances):
    a, b = instances
    wait_for_a_fresh_window(LIMITS["signin_account"].period)
    for attempt in range(LIMITS["signin_account"].count):
        server = (a, b)[attempt % 2]
        reply = Client(server.url).sign_in(MEMBER_USERNAME, "not the password at all")
        assert reply.status == 200, f"attempt {attempt + 1} on {server.url}: {reply.status}"

    for server in (a, b):
        reply = Client(server.url).sign_in(MEMBER_USERNAME, MEMBER_PASSWORD)
        assert reply.status == 429, f"{server.url}: {reply.status}"
        assert "Too many attempts" in reply.text
        assert int(reply.headers["Retry-After"]) > 0
