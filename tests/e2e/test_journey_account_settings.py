"""A member finds every account setting on one page, signs out a device they
don't recognise, confirms their password after the window closed, and leaves."""

import time

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import Page, expect

from accounts.flows.reauthentication import SESSION_KEY
from accounts.models import User
from tests.e2e.helpers import Journey, go_to_settings, label, sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory


def session_key_of(page: Page) -> str:
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return cookies[settings.SESSION_COOKIE_NAME]


def test_settings_devices_reauthentication_and_leaving(page: Page, open_page, watch):
    UserFactory(username="alice", email="alice@example.com")
    journey = Journey("account-settings")
    thief = open_page()
    thief.goto("/")
    sign_in(thief, "alice", DEFAULT_PASSWORD)
    page.goto("/")
    sign_in(page, "alice", DEFAULT_PASSWORD)

    go_to_settings(page)
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    side_list = page.get_by_role("navigation", name="Settings")
    for section in ("Profile", "Email address", "Password", "Passkeys and two-factor", "Devices"):
        expect(side_list.get_by_role("link", name=section, exact=True)).to_be_visible()
    journey.check(page, "settings")

    side_list.get_by_role("link", name="Devices", exact=True).click()
    expect(page.get_by_role("heading", name="Devices", level=1)).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(3)  # the header and two devices
    expect(page.get_by_text("This device")).to_be_visible()
    journey.check(page, "devices")
    page.get_by_role("button", name="Sign out all other devices").click()
    expect(page.get_by_text("Signed out 1 other device.")).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(2)
    thief.reload()
    thief_nav = thief.get_by_role("navigation", name="Main")
    expect(thief_nav.get_by_role("link", name="Sign in")).to_be_visible()

    # Ten minutes later, a password change asks for the password first.
    session = SessionStore(session_key_of(page))
    session[SESSION_KEY] = int(time.time()) - 3600
    session.save()
    side_list.get_by_role("link", name="Password", exact=True).click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    journey.check(page, "reauthenticate")
    page.get_by_label(label("Password")).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()

    side_list.get_by_role("link", name="Delete account").click()
    expect(page.get_by_role("heading", name="Delete your account")).to_be_visible()
    journey.check(page, "delete")
    page.get_by_label(label("Type your username to confirm")).fill("alice")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account has been deleted. Goodbye.")).to_be_visible()
    assert not User.objects.filter(username="alice").exists()
    watch.assert_clean()


def test_an_administrator_removes_a_members_second_factors(page: Page, watch, inbox):
    from accounts.models import Role
    from tests.mfa import enable_totp

    Role.objects.create_missing()
    UserFactory(username="boss", email="boss@example.com", role=Role.objects.administrator())
    enable_totp(UserFactory(username="alice", email="alice@example.com"))
    journey = Journey("member-factors")
    page.goto("/")
    sign_in(page, "boss", DEFAULT_PASSWORD)
    page.goto("/users/alice/edit/")
    expect(page.get_by_text("Authenticator app, set up")).to_be_visible()
    page.get_by_role("link", name="Remove second factors of alice").click()
    expect(page.get_by_role("heading", name="Remove the second factors of alice?")).to_be_visible()
    journey.check(page, "confirm")
    page.get_by_label(label("Reason")).fill("Lost her phone; checked by video call")
    page.get_by_role("button", name="Remove second factors").click()
    expect(page.get_by_text("Removed the second factors of alice")).to_be_visible()
    expect(page.get_by_text("No second factor")).to_be_visible()
    inbox.next_email("alice@example.com", "An administrator removed your second factors")
    watch.assert_clean()
