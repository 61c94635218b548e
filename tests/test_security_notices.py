"""Security notices by email: what happened, when, from which device, what to do."""

import pytest
from django.core import mail
from django.test import Client

from accounts.devices import describe_user_agent, network_of
from accounts.notices import NOTICES, SecurityEvent, send_security_notice
from tests.conftest import links_in, path_of

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)


def browser(user_agent=FIREFOX_WINDOWS, ip="203.0.113.45"):
    return Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)


def sign_in(client, password, username="alice"):
    return client.post("/accounts/login/", {"username": username, "password": password})


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (FIREFOX_WINDOWS, "Firefox on Windows"),
        (CHROME_ANDROID, "Chrome on Android"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (EDGE_WINDOWS, "Edge on Windows"),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
    ],
)
def test_devices_are_named_from_the_user_agent_alone(user_agent, expected):
    assert describe_user_agent(user_agent) == expected


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.45", "203.0.113.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("not an address", ""),
    ],
)
def test_addresses_are_cut_to_their_network(ip, expected):
    assert network_of(ip) == expected


def test_sign_in_from_a_new_device_sends_a_notice(member, password):
    assert sign_in(browser(), password).status_code == 302
    (notice,) = mail.outbox
    assert notice.to == ["alice@example.com"]
    assert notice.subject == "[Offbrand] New sign-in to your account"
    assert "Firefox on Windows, network 203.0.113.0/24" in notice.body
    assert "When: " in notice.body
    paths = [path_of(link) for link in links_in(notice)]
    assert "/accounts/password/reset/" in paths
    assert "/accounts/sessions/" in paths
    assert "Firefox on Windows" in notice.alternatives[0].content


def test_signing_in_again_on_the_same_browser_sends_nothing(member, password):
    client = browser()
    sign_in(client, password)
    client.post("/accounts/logout/")
    mail.outbox.clear()
    sign_in(client, password)
    assert mail.outbox == []


def test_a_thief_signing_in_elsewhere_is_reported_to_the_owner(member, password):
    """The owner's browser knows the account; the thief's does not."""
    sign_in(browser(), password)
    mail.outbox.clear()
    sign_in(browser(CHROME_ANDROID, "198.51.100.23"), password)
    (notice,) = mail.outbox
    assert "Chrome on Android, network 198.51.100.0/24" in notice.body


def test_a_tampered_device_cookie_is_ignored(member, password):
    client = browser()
    client.cookies["offbrand_device"] = "forged"
    sign_in(client, password)
    assert len(mail.outbox) == 1


def test_registering_sends_no_new_device_notice(roles):
    browser().post(
        "/accounts/register/",
        {
            "email": "new@example.com",
            "username": "newcomer",
            "password1": "a good long passphrase",
            "password2": "a good long passphrase",
        },
    )
    assert [m.subject for m in mail.outbox] == ["[Offbrand] Confirm your email address"]


def test_password_change_notice_says_when_and_from_where(member, password):
    client = browser(SAFARI_IPHONE)
    sign_in(client, password)
    mail.outbox.clear()
    new = "another good passphrase"
    client.post(
        "/accounts/password/change/",
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    (notice,) = mail.outbox
    assert notice.subject == "[Offbrand] Your password was changed"
    assert "Safari on iPhone, network 203.0.113.0/24" in notice.body
    assert "reset your password now" in notice.body


def test_email_change_notice_goes_to_the_old_address(member):
    send_security_notice(
        member, SecurityEvent.EMAIL_CHANGED, to="old@example.com", details="The new address is x."
    )
    (notice,) = mail.outbox
    assert notice.to == ["old@example.com"]
    assert "The new address is x." in notice.body
    assert "contact an administrator" in notice.body
    assert "/accounts/password/reset/" not in notice.body  # the reset would go to the thief


def test_every_event_has_a_notice(member):
    for event in SecurityEvent:
        assert send_security_notice(member, event)
    assert [m.subject for m in mail.outbox] == [
        f"[Offbrand] {NOTICES[event].subject}" for event in SecurityEvent
    ]


def test_events_may_be_named_by_string(member):
    send_security_notice(member, event="totp_enabled")
    assert mail.outbox[0].subject == "[Offbrand] An authenticator app was set up"


def test_new_sign_in_notices_are_few_per_hour_per_account(member, password, clock):
    """Found after issue 11: 45 sign-ins from new browsers gave 45 mails.
    (`clock`: the hour's window stands still for the test.)"""
    for n in range(8):
        assert sign_in(browser(ip=f"198.51.100.{n + 1}"), password).status_code == 302
    notices = [m for m in mail.outbox if m.subject == "[Offbrand] New sign-in to your account"]
    assert len(notices) == 3
    assert "not mailed one by one" not in notices[0].body
    # The last one says why no more come, and where to see them all.
    assert "not mailed one by one" in notices[-1].body
    assert "/accounts/sessions/" in notices[-1].body


def test_the_cap_is_per_account(member, password, roles, clock):
    from tests.factories import UserFactory

    UserFactory(username="bob", email="bob@example.com")
    for n in range(4):
        sign_in(browser(ip=f"198.51.100.{n + 1}"), password)
    sign_in(browser(ip="198.51.100.9"), password, username="bob")
    assert [m.to for m in mail.outbox].count(["bob@example.com"]) == 1


@pytest.mark.parametrize(
    "event",
    [
        SecurityEvent.PASSWORD_CHANGED,
        SecurityEvent.EMAIL_CHANGED,
        SecurityEvent.PASSKEY_REMOVED,
        SecurityEvent.TOTP_DISABLED,
        SecurityEvent.FACTORS_REMOVED_BY_ADMIN,
        SecurityEvent.RECOVERY_CODE_USED,
    ],
)
def test_security_critical_notices_are_never_capped(member, password, event, clock):
    """One per event, however many: only the repetitive new-sign-in kind is capped."""
    for n in range(5):  # the sign-in cap is used up first
        sign_in(browser(ip=f"198.51.100.{n + 1}"), password)
    mail.outbox.clear()
    for _ in range(6):
        assert send_security_notice(member, event)
    assert len(mail.outbox) == 6


def test_a_password_change_is_mailed_after_the_sign_in_cap_is_used_up(member, password, clock):
    for n in range(5):
        sign_in(browser(ip=f"198.51.100.{n + 1}"), password)
    client = browser(SAFARI_IPHONE)
    sign_in(client, password)
    mail.outbox.clear()
    new = "another good passphrase"
    client.post(
        "/accounts/password/change/",
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    assert [m.subject for m in mail.outbox] == ["[Offbrand] Your password was changed"]
