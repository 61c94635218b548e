"""Brute-force limits: 429 with a time to come back; the sign-in budget of each account."""

import re

import pytest
from django.core import mail
from django.test import Client

from accounts import ratelimits
from tests.conftest import links_in, path_of

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def one_window(request):
    """Each test runs within one window of its limits: the clock stands still at an
    hour's start (servers in other processes keep the real one)."""
    if "embedded_site" not in request.fixturenames:
        request.getfixturevalue("clock")


def fail(client, username, times, ip="10.0.0.1"):
    for _ in range(times):
        client.post(LOGIN, {"username": username, "password": "wrong guess"}, REMOTE_ADDR=ip)


def stranger(times, username="alice", first_ip=1):
    """Wrong guesses from `times` browsers on `times` addresses, none seen before."""
    for n in range(times):
        fail(Client(), username, 1, ip=f"198.51.{(first_ip + n) // 250}.{(first_ip + n) % 250}")


def trusted_browser(member, password) -> Client:
    """The owner's browser: signed in once (it gets the device cookie), then out."""
    browser = Client()
    assert (
        browser.post(LOGIN, {"username": member.username, "password": password}).status_code == 302
    )
    assert ratelimits.DEVICE_COOKIE in browser.cookies
    browser.post("/accounts/logout/")
    return browser


def test_ten_failures_lock_a_name_for_new_browsers_under_every_spelling(member, password):
    stranger(4, "alice")
    stranger(3, "ALICE", first_ip=10)
    stranger(3, "\uff21lice", first_ip=20)
    response = Client().post(LOGIN, {"username": "Alice", "password": password})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    # Her address is another name, with a budget of its own (tests/test_lock_names.py).
    stranger(5, "alice@example.com", first_ip=30)
    stranger(5, "Alice@Example.COM", first_ip=40)
    response = Client().post(LOGIN, {"username": "ALICE@example.com", "password": password})
    assert response.status_code == 429


def test_a_stranger_cannot_lock_the_owner_out_of_a_browser_they_used_before(member, password):
    owner = trusted_browser(member, password)
    stranger(60)  # from sixty addresses: far past the lock for new browsers
    assert Client().post(LOGIN, {"username": "alice", "password": password}).status_code == 429
    response = owner.post(LOGIN, {"username": "alice", "password": password})
    assert response.status_code == 302
    assert owner.session["_auth_user_id"] == str(member.pk)


def test_a_trusted_browser_has_its_own_budget_and_new_browsers_keep_theirs(member, password):
    owner = trusted_browser(member, password)
    fail(owner, "alice", 10, ip="10.0.0.2")
    assert owner.post(LOGIN, {"username": "alice", "password": password}).status_code == 429
    # The owner's slips did not use up what other browsers may try.
    assert Client().post(LOGIN, {"username": "alice", "password": password}).status_code == 302


def test_a_forged_or_borrowed_device_cookie_buys_no_guesses(member, password, roles):
    from tests.factories import UserFactory

    bob = UserFactory(username="bob", email="bob@example.com")
    bobs_browser = trusted_browser(bob, password)
    stranger(10)
    # Bob's device cookie is for bob, a tampered one for nobody.
    assert bobs_browser.post(LOGIN, {"username": "alice", "password": password}).status_code == 429
    forged = Client()
    forged.cookies[ratelimits.DEVICE_COOKIE] = bobs_browser.cookies[
        ratelimits.DEVICE_COOKIE
    ].value.replace(str(bob.pk), str(member.pk), 1)
    assert forged.post(LOGIN, {"username": "alice", "password": password}).status_code == 429


SHARED_NETWORK = "203.0.113.7"  # one NAT, office or carrier NAT: owner and stranger alike


def use_up_the_network(stranger_browser, username="alice"):
    """A stranger behind the owner's address: guesses at the owner's account, then
    made-up names, past the per-network limit (and the account's lock for new browsers)."""
    fail(stranger_browser, username, 10, ip=SHARED_NETWORK)
    for n in range(ratelimits.LIMITS["signin_ip"].count):
        fail(stranger_browser, f"made-up-{n}", 1, ip=SHARED_NETWORK)


def test_a_stranger_on_the_owners_network_cannot_lock_out_her_trusted_browser(member, password):
    """Attack F3: the per-network limit must not refuse a browser the account trusts."""
    owner = Client(REMOTE_ADDR=SHARED_NETWORK)
    assert owner.post(LOGIN, {"username": "alice", "password": password}).status_code == 302
    assert ratelimits.DEVICE_COOKIE in owner.cookies
    owner.post("/accounts/logout/")
    thief = Client(REMOTE_ADDR=SHARED_NETWORK)
    use_up_the_network(thief)
    # The stranger's own attempts stay capped, under any name.
    assert thief.post(LOGIN, {"username": "someone", "password": "x"}).status_code == 429
    assert thief.post(LOGIN, {"username": "alice", "password": password}).status_code == 429
    # A new browser on that network is still refused, even with the right password.
    newcomer = Client(REMOTE_ADDR=SHARED_NETWORK)
    assert newcomer.post(LOGIN, {"username": "alice", "password": password}).status_code == 429
    # The owner's browser signs in: it is limited by its own budget only.
    response = owner.post(LOGIN, {"username": "Alice", "password": password})
    assert response.status_code == 302
    assert owner.session["_auth_user_id"] == str(member.pk)


def test_a_trusted_browser_on_a_locked_network_keeps_exactly_its_own_budget(member, password):
    owner = Client(REMOTE_ADDR=SHARED_NETWORK)
    assert owner.post(LOGIN, {"username": "alice", "password": password}).status_code == 302
    owner.post("/accounts/logout/")
    use_up_the_network(Client(REMOTE_ADDR=SHARED_NETWORK), username="someone-else")
    # Its slips are still counted, per (account, device): ten, then refused.
    for _ in range(ratelimits.LIMITS["signin_device"].count):
        assert owner.post(LOGIN, {"username": "alice", "password": "wrong"}).status_code == 200
    assert owner.post(LOGIN, {"username": "alice", "password": password}).status_code == 429
    # Its device cookie is for alice alone: another account's name meets the network limit.
    assert owner.post(LOGIN, {"username": "someone", "password": "x"}).status_code == 429


def test_guesses_per_account_are_bounded_whatever_the_addresses(member, monkeypatch):
    checked = []
    original = type(member).check_password
    monkeypatch.setattr(
        type(member), "check_password", lambda user, raw: checked.append(raw) or original(user, raw)
    )
    stranger(100)
    limit = ratelimits.LIMITS["signin_account"]
    assert len(checked) == limit.count  # 10 per 15 minutes: 40 an hour
    assert 3600 // limit.period * limit.count == 40


def test_a_locked_account_answers_exactly_like_a_locked_address(member, roles, clock):
    clock.at(0)
    stranger(10)  # alice is locked for new browsers
    locked_account = Client().post(
        LOGIN, {"username": "alice", "password": "x"}, REMOTE_ADDR="10.9.9.9"
    )
    fail(Client(), "nobody-at-all", 30, ip="10.7.7.7")  # this address is used up
    clock.at(0.5)  # half a second later: the same whole seconds left
    locked_address = Client().post(
        LOGIN, {"username": "carol", "password": "x"}, REMOTE_ADDR="10.7.7.7"
    )
    assert locked_account.status_code == locked_address.status_code == 429
    assert locked_account["Retry-After"] == locked_address["Retry-After"]
    # The page echoes the name each visitor typed, and nothing else differs.
    strip = lambda response: re.sub(  # noqa: E731
        r'name="csrfmiddlewaretoken" value="[^"]+"|nonce="[^"]+"|name="username" value="[^"]+"'
        r'|<time datetime="[^"]+">[^<]+</time>|"challenge": "[^"]+"|name="token" value="[^"]+"',
        "",
        response.content.decode(),
    )
    assert strip(locked_account) == strip(locked_address)


def test_the_wait_is_the_time_left_in_the_window_not_the_whole_window(member, password, clock):
    clock.at(0)
    stranger(10)  # alice is locked for new browsers until the 15-minute window ends
    clock.at(5 * 60 + 20)
    response = Client().post(LOGIN, {"username": "alice", "password": password})
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60 - (5 * 60 + 20))  # 580 s, not 900
    html = response.content.decode()
    assert 'data-retry-after="580"' in html
    assert "You can try again in <strong data-countdown>10 minutes</strong>" in html
    clock.at(15 * 60)  # the next window: the budget is back
    assert Client().post(LOGIN, {"username": "alice", "password": password}).status_code == 302


def test_a_refused_form_says_the_time_left_in_its_window(client, roles, clock):
    clock.at(0)
    for _ in range(20):
        client.post("/accounts/register/", {"email": "bad"})
    clock.at(45)
    response = client.post("/accounts/register/", {"email": "bad"})
    assert response.status_code == 429
    assert response["Retry-After"] == "15"
    assert "You can try again in <strong data-countdown>15 seconds</strong>" in (
        response.content.decode()
    )


def test_a_locked_account_and_a_locked_address_say_the_same_wait_at_the_same_moment(
    member, roles, clock
):
    clock.at(0)
    stranger(10)  # alice is locked for new browsers
    clock.at(7 * 60)
    fail(Client(), "nobody-at-all", 30, ip="10.7.7.7")  # this address is used up later
    clock.at(9 * 60 + 17)
    locked_account = Client().post(
        LOGIN, {"username": "alice", "password": "x"}, REMOTE_ADDR="10.9.9.9"
    )
    locked_address = Client().post(
        LOGIN, {"username": "carol", "password": "x"}, REMOTE_ADDR="10.7.7.7"
    )
    assert locked_account.status_code == locked_address.status_code == 429
    assert locked_account["Retry-After"] == locked_address["Retry-After"] == str(900 - 557)


def test_ipv6_clients_are_counted_per_64_network(roles):
    for n in range(30):
        fail(Client(), f"someone{n}", 1, ip=f"2001:db8:1:2::{n + 1:x}")
    rotated = Client().post(
        LOGIN, {"username": "x", "password": "y"}, REMOTE_ADDR="2001:db8:1:2:ffff:1:2:3"
    )
    assert rotated.status_code == 429
    neighbour = Client().post(
        LOGIN, {"username": "x", "password": "y"}, REMOTE_ADDR="2001:db8:1:3::1"
    )
    assert neighbour.status_code == 200


def test_thirty_failures_from_one_address_lock_that_address(client, roles):
    for n in range(30):
        fail(client, f"someone{n}", 1, ip="10.0.0.5")
    blocked = client.post(LOGIN, {"username": "x", "password": "y"}, REMOTE_ADDR="10.0.0.5")
    assert blocked.status_code == 429
    other = client.post(LOGIN, {"username": "x", "password": "y"}, REMOTE_ADDR="10.0.0.6")
    assert other.status_code == 200


def test_spoofed_forwarded_for_does_not_reset_the_limit(client, roles):
    for n in range(30):
        client.post(
            LOGIN,
            {"username": f"u{n}", "password": "y"},
            REMOTE_ADDR="10.0.0.7",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    response = client.post(
        LOGIN,
        {"username": "u", "password": "y"},
        REMOTE_ADDR="10.0.0.7",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert response.status_code == 429


def test_trusted_proxy_count_takes_the_client_from_forwarded_for(rf, settings):
    settings.OFFBRAND_TRUSTED_PROXIES = 1
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert ratelimits.client_ip(request) == "203.0.113.5"


def test_the_admin_signs_in_on_the_site_page_so_the_same_budget_covers_it(administrator, password):
    # The admin has no password form of its own to guess against.
    client = Client()
    response = client.post("/admin/login/", {"username": "boss", "password": password})
    assert response["Location"] == "/accounts/login/?next=/admin/"
    assert "_auth_user_id" not in client.session
    stranger(10, "boss")
    response = client.post(LOGIN + "?next=/admin/", {"username": "Boss", "password": password})
    assert response.status_code == 429


@pytest.mark.parametrize(
    ("url", "field", "extra"),
    [
        (
            "/accounts/password/change/",
            "old_password",
            {"new_password1": "n3w passphrase!", "new_password2": "n3w passphrase!"},
        ),
        ("/accounts/email/change/", "password", {"new_email": "elsewhere@example.com"}),
    ],
)
def test_current_password_fields_draw_on_the_sign_in_budget(
    member, password, url, field, extra, settings, monkeypatch
):
    """A stolen session cannot guess the password faster than the sign-in form."""
    # The forms' own per-member limits are lifted, to see the sign-in budget alone.
    for name in ("password_change_user", "email_change_user", "email_change_ip"):
        monkeypatch.setitem(ratelimits.LIMITS, name, ratelimits.Limit(100, 60))
    settings.OFFBRAND_REAUTH_SECONDS = 10**6
    thief = Client()
    thief.force_login(member)
    session = thief.session
    session["_offbrand_authenticated_at"] = int(__import__("time").time())
    session.save()
    for n in range(10):
        thief.post(url, {field: f"guess {n}", **extra}, REMOTE_ADDR=f"10.2.0.{n}")
    assert thief.post(url, {field: password, **extra}).status_code == 429
    assert Client().post(LOGIN, {"username": "alice", "password": password}).status_code == 429


def test_a_password_reset_lets_its_browser_in_while_strangers_stay_locked(member, password):
    stranger(10)
    owner = Client()
    assert owner.post(LOGIN, {"username": "alice", "password": password}).status_code == 429
    owner.post("/accounts/password/reset/", {"email": member.email})
    set_url = owner.get(path_of(links_in(mail.outbox[0])[0]), follow=True).redirect_chain[-1][0]
    new = "fresh passphrase 2026"
    owner.post(set_url, {"new_password1": new, "new_password2": new})
    assert owner.post(LOGIN, {"username": "alice", "password": new}).status_code == 302
    # The lock for other browsers was not lifted for a stranger to go on guessing.
    assert Client().post(LOGIN, {"username": "alice", "password": new}).status_code == 429


def test_a_member_keyed_limit_never_counts_anonymous_requests(rf, roles):
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse
    from django.views import View

    from accounts.mixins import RateLimitMixin

    class Guarded(RateLimitMixin, View):
        rate_limits = {"password_change_user": "user", "email_change_user": "member_browser"}

        def post(self, request):
            return HttpResponse("ok")

    for n in range(20):
        request = rf.post("/", REMOTE_ADDR=f"10.3.0.{n}")
        request.user = AnonymousUser()
        assert Guarded.as_view()(request).status_code == 200
    assert ratelimits.peek("password_change_user", "user:None").allowed
    assert ratelimits.peek("email_change_user", "user:None").allowed


def test_sign_up_notices_to_a_taken_address_are_few_per_hour(member, settings):
    for n in range(10):
        Client().post(
            "/accounts/register/",
            {
                "email": member.email,
                "username": f"taker{n}",
                "password1": "a sturdy passphrase 9",
                "password2": "a sturdy passphrase 9",
            },
            REMOTE_ADDR=f"10.4.0.{n}",
        )
    notices = [m for m in mail.outbox if m.to == [member.email]]
    assert len(notices) == ratelimits.LIMITS["registration_notice_email"].count == 3


@pytest.mark.parametrize(
    ("url", "data", "limit"),
    [
        ("/accounts/password/reset/", {"email": "alice@example.com"}, 5),
        ("/accounts/register/", {"email": "x@example.com"}, 20),
    ],
)
def test_requests_past_the_limit_get_429(client, member, url, data, limit):
    statuses = [client.post(url, data).status_code for _ in range(limit + 1)]
    assert 429 not in statuses[:limit]
    assert statuses[-1] == 429


def test_resend_and_email_change_are_limited_per_member(
    client, unconfirmed, member, password, clock
):
    clock.at(0)  # the start of a 3-minute window
    client.force_login(unconfirmed)
    assert client.post("/accounts/confirm/resend/").status_code == 302
    assert len(mail.outbox) == 1
    again = client.post("/accounts/confirm/resend/", {"next": "/"}, follow=True)
    assert again.redirect_chain == [("/", 302)]  # back on the page, not a dead end
    assert "you can ask again in 3 minutes" in again.content.decode()
    assert len(mail.outbox) == 1
    client.force_login(member)
    statuses = [
        client.post(
            "/accounts/email/change/", {"new_email": f"n{n}@example.com", "password": password}
        ).status_code
        for n in range(4)
    ]
    assert statuses == [302, 302, 302, 429]


def test_limiter_fails_closed_with_a_clear_message_when_the_cache_is_down(
    client, member, password, monkeypatch
):
    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("cache down")

            return fail

    monkeypatch.setattr(ratelimits, "cache", Down())
    response = client.post(LOGIN, {"username": "alice", "password": password})
    assert response.status_code == 429
    assert "Temporarily unavailable" in response.content.decode()


def test_unicode_look_alikes_of_a_name_share_its_lock(member, password):
    stranger(10, "alice")
    # "ａlice" (full-width a) is "alice" once normalised, as the form does.
    response = Client().post(LOGIN, {"username": "\uff41lice", "password": password})
    assert response.status_code == 429


def test_a_refused_form_stays_on_its_page_with_what_was_typed_and_when_to_retry(
    client, roles, clock
):
    clock.at(0)
    data = {"email": "x@example.com", "username": "xavier", "password1": "a sturdy passphrase"}
    for _ in range(20):
        client.post("/accounts/register/", {"email": "bad"})
    response = client.post("/accounts/register/", data)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    html = response.content.decode()
    assert "<h1>Create your account</h1>" in html  # the same page, not a dead end
    assert 'value="x@example.com"' in html and 'value="xavier"' in html
    assert "a sturdy passphrase" not in html
    assert 'data-retry-after="60"' in html
    assert "You can try again in <strong data-countdown>1 minute</strong>, at" in html
    assert "data-error-summary" not in html  # nothing was checked


def test_a_locked_sign_in_stays_on_the_form_and_offers_the_reset(member, password, clock):
    clock.at(0)
    stranger(10)
    response = Client().post(LOGIN, {"username": "alice", "password": password})
    assert response.status_code == 429
    html = response.content.decode()
    assert "<h1>Sign in</h1>" in html
    assert 'name="username" value="alice"' in html
    assert 'href="/accounts/password/reset/">reset your password</a>' in html
    assert "You can try again in <strong data-countdown>15 minutes</strong>" in html
    assert "don&#x27;t match" not in html  # the password was not even checked


def test_sign_in_warns_before_the_last_allowed_attempt(member):
    browser = Client()
    for n in range(8):
        page = browser.post(LOGIN, {"username": "alice", "password": f"wrong {n}"})
        assert "One more try" not in page.content.decode()
    page = browser.post(LOGIN, {"username": "alice", "password": "wrong 9"})
    assert "One more try" in page.content.decode()  # the tenth is the last


# --- The embedded default: two gunicorn workers, one SQLite file ------------------


@pytest.fixture(scope="module")
def embedded_site(tmp_path_factory):
    """The site as `deploy` leaves it with nothing but DEBUG off: SQLite, no Redis."""
    from tests.servers import Deployment, Gunicorn

    folder = tmp_path_factory.mktemp("embedded")
    deployment = Deployment(
        database_url=f"sqlite:///{folder / 'db.sqlite3'}", redis_url="", extra={"CACHE_URL": ""}
    )
    server = Gunicorn(deployment, workers=2)
    try:
        deployment.prepare()  # migrate creates the cache table too
        server.start()
        yield server
    finally:
        server.stop()
        deployment.destroy()


def test_two_workers_on_the_embedded_default_share_exact_counts(embedded_site):
    import threading

    from tests.conftest import wait_for_a_fresh_window
    from tests.servers import MEMBER_USERNAME
    from tests.servers import Client as Browser

    wait_for_a_fresh_window(ratelimits.SIGN_IN_WINDOW)

    browsers = [Browser(embedded_site.url, timeout=60) for _ in range(30)]
    pairs = [browser.csrf_pair() for browser in browsers]
    barrier = threading.Barrier(len(browsers), timeout=60)
    replies = [None] * len(browsers)

    def guess(index):
        barrier.wait()
        replies[index] = browsers[index].post(
            LOGIN,
            {
                "csrfmiddlewaretoken": pairs[index][1],
                "username": MEMBER_USERNAME,
                "password": f"wrong {index}",
            },
        )

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    statuses = sorted(reply.status for reply in replies)
    assert statuses == [200] * 10 + [429] * 20, statuses


def test_a_squatter_cannot_flood_a_mailbox_with_confirmation_links(client, unconfirmed):
    """Someone who registered another's address could press "send again" every
    3 minutes: 20 links an hour to a stranger's mailbox. At most 5 an hour now."""
    client.force_login(unconfirmed)
    for _ in range(8):
        ratelimits.clear("confirm_resend_user", f"user:{unconfirmed.pk}")  # 3 minutes pass
        client.post("/accounts/confirm/resend/")
    assert len(mail.outbox) == ratelimits.LIMITS["confirm_resend_user_hour"].count == 5
    refused = client.post("/accounts/confirm/resend/", {"next": "/"}, follow=True)
    assert "you can ask again in" in refused.content.decode()


def test_reset_links_to_one_address_are_few_per_hour(client, member):
    """5 per 5 minutes let anyone send a member 60 reset mails an hour; 10 now."""
    for _ in range(15):
        ratelimits.clear("password_reset_email", "alice@example.com")  # 5 minutes pass
        client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert len(mail.outbox) == ratelimits.LIMITS["password_reset_email_hour"].count == 10


# --- Other limits keyed on the network: the owner's trusted browser (issue 11) ----------

NETWORK_LIMITED_ACTIONS = [
    # (page, its network limit, a post that asks for it)
    ("/accounts/password/change/", "password_change_ip", "password change"),
    ("/accounts/email/change/", "email_change_ip", "email change"),
    ("/accounts/confirm/resend/", "confirm_resend_ip", "confirmation"),
]


def post_action(browser, url, password, n=0):
    data = {
        "/accounts/password/change/": {
            "old_password": password,
            "new_password1": f"another sturdy phrase {n}",
            "new_password2": f"another sturdy phrase {n}",
        },
        "/accounts/email/change/": {"new_email": f"moved{n}@example.com", "password": password},
        "/accounts/confirm/resend/": {},
    }[url]
    return browser.post(url, data, follow=True)


def refused(response) -> bool:
    """A form page answers 429; "send again" goes back to its page with the notice."""
    return response.status_code == 429 or "ask again in" in response.content.decode()


def signed_in_on_the_shared_network(user) -> Client:
    """A browser on the shared network signed in to `user` (a session, no device cookie)."""
    browser = Client(REMOTE_ADDR=SHARED_NETWORK)
    browser.force_login(user)
    return browser


def use_up_a_network_limit(limit_name, url, password):
    """Strangers behind the owner's address, each with an account of their own (free to
    make), post the action until the network's limit is spent."""
    from tests.factories import UserFactory

    for n in range(ratelimits.LIMITS[limit_name].count):
        own = UserFactory(username=f"stranger{n}", email=f"stranger{n}@example.com")
        own.set_password(password)
        own.save()
        assert not refused(post_action(signed_in_on_the_shared_network(own), url, password, n))


@pytest.mark.parametrize(("url", "limit_name", "what"), NETWORK_LIMITED_ACTIONS)
def test_strangers_on_the_owners_network_cannot_stop_her_trusted_browser_changing_her_account(
    member, unconfirmed, password, url, limit_name, what
):
    """The owner, in the browser she signs in with, wants to change her password or address
    (say, after a scare) or to have her confirmation link sent again. Strangers sharing
    her network spend its limit on that page with accounts of their own. Her browser
    is still let through: her own per-member limits are what bound it."""
    owner_account = unconfirmed if url == "/accounts/confirm/resend/" else member
    unconfirmed.set_password(password)
    unconfirmed.save()
    owner = Client(REMOTE_ADDR=SHARED_NETWORK)
    assert (
        owner.post(LOGIN, {"username": owner_account.username, "password": password}).status_code
        == 302
    )
    use_up_a_network_limit(limit_name, url, password)
    # A browser without the account's device cookie still meets the network's limit.
    assert refused(post_action(signed_in_on_the_shared_network(owner_account), url, password))
    sent = len(mail.outbox)
    response = post_action(owner, url, password)
    assert response.status_code == 200 and not refused(response), what
    assert len(mail.outbox) == sent + 1  # the new link, or the notice of the change


def test_the_owners_trusted_browser_keeps_her_own_limits(member, password):
    """Off the network's limit is not off every limit: her address changes stay at
    three per five minutes in the browser she signs in with."""
    owner = Client(REMOTE_ADDR=SHARED_NETWORK)
    assert owner.post(LOGIN, {"username": "alice", "password": password}).status_code == 302
    statuses = [
        refused(post_action(owner, "/accounts/email/change/", password, n)) for n in range(4)
    ]
    assert statuses == [False, False, False, True]
    assert ratelimits.LIMITS["email_change_user"].count == 3


def test_a_trusted_browser_still_meets_network_limits_that_no_member_limit_backs(member, password):
    """Sign-up has no per-member limit: a signed-in member's own browser cannot use it
    to make accounts past the network's 20 a minute."""
    owner = Client(REMOTE_ADDR=SHARED_NETWORK)
    assert owner.post(LOGIN, {"username": "alice", "password": password}).status_code == 302
    limit = ratelimits.LIMITS["signup_ip"].count
    statuses = [
        owner.post("/accounts/register/", {"email": f"x{n}@example.com"}).status_code
        for n in range(limit + 1)
    ]
    assert 429 not in statuses[:limit] and statuses[-1] == 429


def test_right_passwords_from_new_browsers_use_up_none_of_the_budget(member, password):
    """Counted before the check, given back after it (on Redis in the round trip
    that counts the new-sign-in notice's cap): the owner signing in from new
    browsers leaves strangers exactly the guesses they had."""
    stranger(9)
    for n in range(5):
        browser = Client()
        signed_in = browser.post(
            LOGIN, {"username": "alice", "password": password}, REMOTE_ADDR=f"10.0.1.{n}"
        )
        assert signed_in.status_code == 302
    last_guess = Client().post(
        LOGIN, {"username": "alice", "password": "wrong guess"}, REMOTE_ADDR="10.0.2.1"
    )
    assert last_guess.status_code == 200  # the tenth guess is still checked
    refused = Client().post(
        LOGIN, {"username": "alice", "password": password}, REMOTE_ADDR="10.0.2.2"
    )
    assert refused.status_code == 429
