"""Device trust of the sign-in budget (attack 2026-12-06, F3): a browser keeps its
own budget only while the account's password is the one it signed in with, and
an account's trusted browsers together have a bounded budget."""

import pytest
from django.core import mail
from django.test import Client

from accounts import ratelimits
from tests.conftest import links_in, path_of

LOGIN = "/accounts/login/"
NEW = "a brand new passphrase 2026"


@pytest.fixture(autouse=True)
def one_window(clock):
    """Everything within one window of the sign-in limits."""


def sign_in(browser, username, password, ip="10.0.0.1"):
    return browser.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def kept_device_cookies(username, password, count=3) -> list[str]:
    """Someone who knows the password signs in from `count` fresh browsers and keeps
    each browser's device cookie."""
    cookies = []
    for n in range(count):
        browser = Client()
        assert sign_in(browser, username, password, ip=f"203.0.113.{120 + n}").status_code == 302
        cookies.append(browser.cookies[ratelimits.DEVICE_COOKIE].value)
    return cookies


def strangers_use_up_the_shared_budget(username="alice"):
    for n in range(ratelimits.LIMITS["signin_account"].count):
        assert sign_in(Client(), username, f"guess {n}", ip=f"192.0.6.{n}").status_code == 200
    assert sign_in(Client(), username, "one more", ip="192.0.6.99").status_code == 429


def guesses_with(cookie, username="alice") -> list[int]:
    """What each of eleven wrong guesses from a browser holding `cookie` gets."""
    codes = []
    for n in range(11):
        browser = Client()
        browser.cookies[ratelimits.DEVICE_COOKIE] = cookie
        codes.append(sign_in(browser, username, f"device guess {n}", ip="192.0.6.1").status_code)
    return codes


def test_a_password_change_revokes_the_trust_of_browsers_that_knew_the_old_one(
    member, password, monkeypatch
):
    kept = kept_device_cookies("alice", password)
    owner = Client()
    assert sign_in(owner, "alice", password, ip="198.51.100.110").status_code == 302
    response = owner.post(
        "/accounts/password/change/",
        {"old_password": password, "new_password1": NEW, "new_password2": NEW},
        REMOTE_ADDR="198.51.100.110",
    )
    assert response.status_code == 302
    checked = passwords_checked(monkeypatch, member)
    strangers_use_up_the_shared_budget()
    # The kept cookies are strangers now: no guess of theirs is checked.
    for cookie in kept:
        assert guesses_with(cookie) == [429] * 11
    assert len(checked) == ratelimits.LIMITS["signin_account"].count
    # The browser that changed the password keeps its trust: it signs in past the lock.
    owner.post("/accounts/logout/")
    response = sign_in(owner, "alice", NEW, ip="192.0.6.1")
    assert response.status_code == 302
    assert owner.session["_auth_user_id"] == str(member.pk)


def test_a_password_reset_revokes_the_trust_of_browsers_that_knew_the_old_one(member, password):
    kept = kept_device_cookies("alice", password)
    owner = Client()  # a browser new to the account: she forgot her password
    owner.post("/accounts/password/reset/", {"email": member.email})
    set_url = owner.get(path_of(links_in(mail.outbox[-1])[0]), follow=True).redirect_chain[-1][0]
    owner.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    strangers_use_up_the_shared_budget()
    for cookie in kept:
        assert guesses_with(cookie) == [429] * 11
    # The browser that followed the mailed link is trusted with the new password.
    response = sign_in(owner, "alice", NEW, ip="192.0.6.1")
    assert response.status_code == 302
    assert owner.session["_auth_user_id"] == str(member.pk)


def test_a_device_cookie_from_before_the_password_changed_is_a_new_browser(member, password):
    """Also what the sign-in notice reads: an old cookie does not make a browser known."""
    (kept,) = kept_device_cookies("alice", password, count=1)
    member.set_password(NEW)
    member.save(update_fields=["password"])
    mail.outbox.clear()
    browser = Client()
    browser.cookies[ratelimits.DEVICE_COOKIE] = kept
    assert sign_in(browser, "alice", NEW).status_code == 302
    assert [m.subject for m in mail.outbox if "sign-in" in m.subject.lower()]
    # Signing in with the new password makes it known again.
    browser.post("/accounts/logout/")
    strangers_use_up_the_shared_budget()
    assert sign_in(browser, "alice", NEW).status_code == 302


def test_the_trusted_browsers_of_an_account_share_a_bounded_budget(member, password, monkeypatch):
    per_device = ratelimits.LIMITS["signin_device"].count
    together = ratelimits.LIMITS["signin_trusted"].count
    kept = kept_device_cookies("alice", password, count=together // per_device + 2)
    checked = passwords_checked(monkeypatch, member)
    strangers_use_up_the_shared_budget()
    for cookie in kept:
        guesses_with(cookie)
    per_name = ratelimits.LIMITS["signin_account"].count
    assert len(checked) == per_name + together  # 10 + 30 a window, whatever the browsers
    # With her address's 10 (tests/test_lock_names.py): 200 an hour per account in all.
    assert 3600 // ratelimits.SIGN_IN_WINDOW * (2 * per_name + together) == 200


def test_an_administrator_changing_her_own_password_in_the_admin_keeps_her_browsers_trust(
    administrator, password
):
    kept = kept_device_cookies("boss", password, count=1)
    boss = Client()
    assert sign_in(boss, "boss", password).status_code == 302
    response = boss.post(
        f"/admin/accounts/user/{administrator.pk}/password/",
        {"password1": NEW, "password2": NEW, "usable_password": "true"},
    )
    assert response.status_code == 302
    strangers_use_up_the_shared_budget("boss")
    assert guesses_with(kept[0], "boss") == [429] * 11
    boss.post("/accounts/logout/")
    response = sign_in(boss, "boss", NEW, ip="192.0.6.1")
    assert response.status_code == 302
    assert boss.session["_auth_user_id"] == str(administrator.pk)


def passwords_checked(monkeypatch, member) -> list[str]:
    """The guesses whose password is checked from now on, in order."""
    checked = []
    original = type(member).check_password
    monkeypatch.setattr(
        type(member), "check_password", lambda user, raw: checked.append(raw) or original(user, raw)
    )
    return checked
