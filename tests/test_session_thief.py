"""A stolen copy of a member's session cannot slow the owner's own browser (issue 11's
principle for sign-in, attack report F12): the per-member limits of the password and
address changes are counted per (member, browser the account trusts); every browser
without the account's device cookie shares one count, as the thief's copy does."""

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts import ratelimits

LOGIN = "/accounts/login/"
PASSWORD_CHANGE = "/accounts/password/change/"
EMAIL_CHANGE = "/accounts/email/change/"


@pytest.fixture(autouse=True)
def one_window(clock):
    """Every post of a test in one window of its limits (the clock stands still)."""


@pytest.fixture
def owner(member, password) -> Client:
    """Alice's own browser: she signed in there (it holds her device cookie)."""
    browser = Client(REMOTE_ADDR="198.51.100.210")
    assert browser.post(LOGIN, {"username": "alice", "password": password}).status_code == 302
    assert ratelimits.DEVICE_COOKIE in browser.cookies
    return browser


def thief_of(browser: Client) -> Client:
    """A copy of the browser's session, nothing else (no device cookie), elsewhere."""
    thief = Client(REMOTE_ADDR="203.0.113.160")
    thief.cookies[settings.SESSION_COOKIE_NAME] = browser.cookies[
        settings.SESSION_COOKIE_NAME
    ].value
    return thief


def change_password(browser, old, new):
    return browser.post(
        PASSWORD_CHANGE, {"old_password": old, "new_password1": new, "new_password2": new}
    )


def change_email(browser, new_email, password):
    return browser.post(EMAIL_CHANGE, {"new_email": new_email, "password": password})


def test_a_session_thief_cannot_hold_off_the_owners_password_and_address_changes(
    owner, member, password
):
    thief = thief_of(owner)
    tries = ratelimits.LIMITS["password_change_user"].count + 1
    assert [change_password(thief, "x", "Aa-123456789").status_code for _ in range(tries)][
        -1
    ] == 429
    tries = ratelimits.LIMITS["email_change_user"].count + 1
    assert [change_email(thief, f"alice{n}@evil.test", "x").status_code for n in range(tries)][
        -1
    ] == 429

    # Alice, in her own browser, with her password: at once.
    changed = change_password(owner, password, "Alice-new-pass-1")
    assert changed.status_code == 302, changed.status_code
    member.refresh_from_db()
    assert member.check_password("Alice-new-pass-1")
    sent = len(mail.outbox)
    asked = change_email(owner, "alice-new@example.com", "Alice-new-pass-1")
    assert asked.status_code == 302, asked.status_code
    assert [m.to for m in mail.outbox[sent:]] == [["alice-new@example.com"]]
    # And the password change ended the thief's copy.
    assert thief.get("/accounts/settings/").status_code == 302


def test_browsers_without_the_device_cookie_share_one_count(owner, member):
    """Another session of hers without the cookie (a new browser she never signed in
    with) shares the thief's count: only a browser the account trusts has its own."""
    thief = thief_of(owner)
    for _ in range(ratelimits.LIMITS["email_change_user"].count):
        change_email(thief, "somewhere@evil.test", "x")
    other = Client(REMOTE_ADDR="198.51.100.211")
    other.force_login(member)
    assert change_email(other, "alice-new@example.com", "x").status_code == 429


def test_the_thiefs_current_password_guesses_still_spend_the_accounts_budget(owner, password):
    """His wrong "current password"s count on the budget every browser without her
    device cookie shares (10 a window), as sign-in guesses do."""
    thief = thief_of(owner)
    guesses = ratelimits.LIMITS["password_change_user"].count
    for n in range(guesses):
        assert change_password(thief, f"guess {n}", "Aa-123456789").status_code == 200
    left = ratelimits.LIMITS["signin_account"].count - guesses
    for n in range(left):
        Client().post(LOGIN, {"username": "alice", "password": "no"}, REMOTE_ADDR=f"10.9.0.{n}")
    refused = Client().post(
        LOGIN, {"username": "alice", "password": password}, REMOTE_ADDR="10.9.1.1"
    )
    assert refused.status_code == 429
    # Her own browser keeps its own budget.
    assert change_password(owner, password, "Alice-new-pass-1").status_code == 302
