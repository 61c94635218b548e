"""Races: many real HTTP requests at once against the live server, on PostgreSQL.

SQLite serialises every write, so these races only exist on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/offbrand \\
        .venv/bin/pytest -q tests/test_concurrency.py

Each thread is its own browser (its own cookies and CSRF token). The requests
of one race are held at a barrier until every thread is ready, then sent together.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Role, User, iexact
from accounts.ratelimits import LIMITS, Limit
from accounts.tokens import password_reset_tokens
from tests.factories import UserFactory
from tests.servers import CSRF_INPUT, Client

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

SIGNUPS = 50
RESETS = 10
SEEDERS = 8
BARRIER_TIMEOUT = 60  # seconds for every thread to get ready
PASSWORD = "tangerine orbit 9137 quiet"


def mixed_case(address: str, pattern: int) -> str:
    """`address` with the letters whose bit is set in `pattern` upper-cased."""
    letters = iter(range(len(address)))
    return "".join(
        char.upper() if char.isalpha() and pattern >> next(letters) & 1 else char
        for char in address
    )


def run_together(count: int, work) -> list:
    """Run `work(index, barrier)` in `count` threads; return results (or raised exceptions)."""
    barrier = threading.Barrier(count, timeout=BARRIER_TIMEOUT)

    def guarded(index):
        try:
            return work(index, barrier)
        except Exception as error:  # reported by the test, with the others' outcomes
            barrier.abort()
            return error
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(guarded, range(count), timeout=5 * BARRIER_TIMEOUT))


@pytest.fixture
def server(live_server):
    """The live server, able to queue every thread's connection at once.

    Django's test server listens with a backlog of 10: fifty simultaneous
    connections overflow it and the kernel resets some of them before Django
    sees them. Linux lets listen() be called again to widen the queue.
    """
    live_server.thread.httpd.socket.listen(256)
    return live_server


@pytest.fixture
def signups_unthrottled(monkeypatch):
    # Every thread signs up from 127.0.0.1, and 20 sign-ups a minute per address
    # is the limit: raise it, or the race would be refused before it starts.
    monkeypatch.setitem(LIMITS, "signup_ip", Limit(1000, 60))


def test_parallel_signups_with_one_email_in_any_case_create_one_account(
    server, roles, signups_unthrottled
):
    emails = [mixed_case("race@example.com", pattern) for pattern in range(1, SIGNUPS + 1)]
    assert len({email.casefold() for email in emails}) == 1
    assert len(set(emails)) == SIGNUPS

    def sign_up(index, barrier):
        browser = Client(server.url, timeout=60)
        page = browser.get("/accounts/register/")
        token = CSRF_INPUT.search(page.text).group(1)
        barrier.wait()
        return browser.post(
            "/accounts/register/",
            {
                "csrfmiddlewaretoken": token,
                "email": emails[index],
                "username": f"racer{index}",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )

    replies = run_together(SIGNUPS, sign_up)

    errors = [reply for reply in replies if isinstance(reply, Exception)]
    assert not errors, errors[:3]
    assert not [reply.status for reply in replies if reply.status >= 500]
    # A taken address is not an error (the visitor must not learn who is registered).
    assert {reply.status for reply in replies} == {302}
    assert User.objects.filter(iexact("email", "race@example.com")).count() == 1


def test_one_password_reset_link_used_in_parallel_works_once(server, member):
    uidb64 = urlsafe_base64_encode(force_bytes(member.pk))
    link = f"/accounts/password/reset/{uidb64}/{password_reset_tokens.make_token(member)}/"
    passwords = [f"fresh passphrase {index} of many" for index in range(RESETS)]

    def reset(index, barrier):
        browser = Client(server.url, timeout=60)
        opened = browser.get(link)  # stores the token in this browser's session
        assert opened.status == 302, opened.status
        form = browser.get(opened.location)
        token = CSRF_INPUT.search(form.text).group(1)
        barrier.wait()
        return browser.post(
            opened.location,
            {
                "csrfmiddlewaretoken": token,
                "new_password1": passwords[index],
                "new_password2": passwords[index],
            },
        )

    replies = run_together(RESETS, reset)

    errors = [reply for reply in replies if isinstance(reply, Exception)]
    assert not errors, errors[:3]
    assert not [reply.status for reply in replies if reply.status >= 500]
    winners = [
        index
        for index, reply in enumerate(replies)
        if reply.status == 302 and reply.location == "/accounts/password/reset/complete/"
    ]
    assert len(winners) == 1, [(reply.status, reply.location) for reply in replies]
    for index, reply in enumerate(replies):
        if index not in winners:
            assert reply.status == 200
            assert "This link doesn't work" in reply.text
    member.refresh_from_db()
    assert member.check_password(passwords[winners[0]])


def test_parallel_seed_roles_on_an_empty_table_makes_three_roles_and_one_default():
    Role.objects.all().delete()
    assert not Role.objects.exists()

    def seed(index, barrier):
        barrier.wait()
        call_command("seed_roles", stdout=StringIO())

    outcomes = run_together(SEEDERS, seed)

    assert [outcome for outcome in outcomes if outcome is not None] == []
    assert sorted(Role.objects.values_list("name", flat=True)) == [
        "Administrator",
        "Moderator",
        "User",
    ]
    assert list(Role.objects.filter(default=True).values_list("name", flat=True)) == ["User"]


def test_parallel_seed_roles_gives_every_roleless_member_the_default_role(roles):
    UserFactory.create_batch(5, role=None)

    def seed(index, barrier):
        barrier.wait()
        call_command("seed_roles", stdout=StringIO())

    outcomes = run_together(SEEDERS, seed)

    assert [outcome for outcome in outcomes if outcome is not None] == []
    assert not User.objects.filter(role__isnull=True).exists()
    assert Role.objects.filter(default=True).count() == 1


GUESSES = 40


def test_simultaneous_wrong_guesses_check_at_most_the_limit(server, member, monkeypatch, clock):
    """Counted before the password is checked: 40 guesses at once, 10 checked."""
    checked = []
    original = User.check_password
    monkeypatch.setattr(
        User, "check_password", lambda user, raw: checked.append(raw) or original(user, raw)
    )
    pairs = []
    for _ in range(GUESSES):  # each browser gets its CSRF pair before the race
        browser = Client(server.url, timeout=60)
        pairs.append((browser, browser.csrf_pair()))

    def guess(index, barrier):
        browser, (_, token) = pairs[index]
        barrier.wait()
        return browser.post(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": member.username, "password": f"no{index}"},
        )

    replies = run_together(GUESSES, guess)
    assert not [reply for reply in replies if isinstance(reply, Exception)]
    limit = LIMITS["signin_account"].count
    assert len(checked) <= limit
    assert sorted(reply.status for reply in replies) == [200] * len(checked) + [429] * (
        GUESSES - len(checked)
    )
