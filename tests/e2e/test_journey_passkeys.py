"""A member adds a passkey, signs in with it alone, then after the password, and removes it.

Chromium's virtual authenticator (CDP `WebAuthn`) plays the member's device:
resident keys and user verification, answering at once.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.mfa.models import Passkey
from tests.e2e.helpers import Journey, label, open_account_menu, sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

SECURITY = "/accounts/security/"


@pytest.fixture
def site_url(settings, live_server):
    """Passkeys are bound to SITE_URL's host and origin: here, the live server's."""
    settings.SITE_URL = live_server.url
    return live_server.url


def add_virtual_authenticator(page: Page) -> dict:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    made = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return {"cdp": cdp, "id": made["authenticatorId"]}


def credentials(authenticator: dict) -> list[dict]:
    return authenticator["cdp"].send(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator["id"]}
    )["credentials"]


def sign_out(page: Page) -> None:
    open_account_menu(page)
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have been signed out.")).to_be_visible()


def test_passkey_journey(page: Page, watch, site_url):
    UserFactory(username="pia", email="pia@example.com")
    authenticator = add_virtual_authenticator(page)
    journey = Journey("passkeys")

    page.goto("/")
    sign_in(page, "pia", DEFAULT_PASSWORD)
    expect(page.get_by_text("Welcome back, pia.")).to_be_visible()

    # Add a passkey: the browser makes it on the (virtual) device.
    page.goto(SECURITY)
    expect(page.get_by_role("heading", name="Passkeys and two-factor")).to_be_visible()
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    journey.check(page, "settings-empty")
    page.get_by_role("link", name="Add a passkey").click()
    expect(page.get_by_role("heading", name="Add a passkey")).to_be_visible()
    journey.check(page, "add")
    page.get_by_label(label("Name")).fill("This laptop")
    page.get_by_role("button", name="Create the passkey").click()
    expect(page.get_by_text("Passkey “This laptop” added.")).to_be_visible()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    stored = credentials(authenticator)
    assert len(stored) == 1 and stored[0]["isResidentCredential"]
    assert Passkey.objects.get().name == "This laptop"

    page.goto(SECURITY)
    row = page.get_by_role("row", name=re.compile("This laptop"))
    expect(row).to_contain_text("Never")
    journey.check(page, "settings-one-passkey")
    sign_out(page)

    # Sign in with the passkey alone: no username, no password typed. Chromium offers
    # the passkey among the username field's suggestions (conditional UI); the
    # virtual authenticator picks it at once.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    expect(page.get_by_text("Welcome back, pia.")).to_be_visible()
    assert Passkey.objects.get().last_used_at is not None
    sign_out(page)

    # A browser without conditional UI: the button does it.
    page.add_init_script("PublicKeyCredential.isConditionalMediationAvailable = async () => false")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    expect(page.get_by_label(label("Username or email address"))).to_have_attribute(
        "autocomplete", "username webauthn"
    )
    journey.check(page, "sign-in")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_text("Welcome back, pia.")).to_be_visible()
    sign_out(page)

    # The password alone is not enough now: the passkey is the second step.
    sign_in(page, "pia", DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    expect(page.get_by_text("Welcome back")).to_have_count(0)
    journey.check(page, "second-step")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_text("Welcome back, pia.")).to_be_visible()

    # Remove it.
    page.goto(SECURITY)
    page.get_by_role("link", name="Remove This laptop").click()
    expect(page.get_by_role("heading", name="Remove the passkey “This laptop”?")).to_be_visible()
    journey.check(page, "remove")
    page.get_by_role("button", name="Remove the passkey “This laptop”").click()
    expect(page.get_by_text("Passkey “This laptop” removed.")).to_be_visible()
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    assert not Passkey.objects.exists()
